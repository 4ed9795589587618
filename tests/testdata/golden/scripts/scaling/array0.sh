#!/bin/bash
#SBATCH --job-name=scaling_study.array0
#SBATCH --output=/scratch/test/scaling_study/logs/array0/%A_%a.log
#SBATCH --open-mode=append
#SBATCH --comment=autoexp:387fc8c1e5:array0
#SBATCH --array=0-26%9
#SBATCH --time=04:00:00
#SBATCH --nodes=1
#SBATCH --ntasks-per-node=1
#SBATCH --no-requeue
# Rendered by autoexp 0.1.0 for sweep "scaling_study": array group array0 (27 runs).
# Task id + 0 = sweep index; `autoexp plan` prints which run each index is.

exec /opt/autoexp/bin/autoexp run-entry --sweep /scratch/test/scaling_study/sweep.json --index "$((SLURM_ARRAY_TASK_ID + 0))"
