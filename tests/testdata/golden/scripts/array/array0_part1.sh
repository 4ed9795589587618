#!/bin/bash
#SBATCH --job-name=seeds.array0
#SBATCH --output=/scratch/test/seeds/logs/array0/%A_%a.log
#SBATCH --open-mode=append
#SBATCH --comment=autoexp:068877302c:array0
#SBATCH --array=0-3%3
#SBATCH --partition=cpu
#SBATCH --time=00:10:00
#SBATCH --nodes=1
#SBATCH --ntasks-per-node=1
#SBATCH --cpus-per-task=4
#SBATCH --no-requeue
# Rendered by autoexp 0.1.0 for sweep "seeds": array group array0 (4 runs).
# Task id + 4 = sweep index; `autoexp plan` prints which run each index is.

exec /opt/autoexp/bin/autoexp run-entry --sweep /scratch/test/seeds/sweep.json --index "$((SLURM_ARRAY_TASK_ID + 4))"
