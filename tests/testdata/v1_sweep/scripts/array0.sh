#!/bin/bash
#SBATCH --job-name=faults.array0
#SBATCH --output=@OUT@/faults/logs/array0/%A_%a.log
#SBATCH --open-mode=append
#SBATCH --comment=autoexp:d2c6030c53:array0
#SBATCH --array=0-1
#SBATCH --time=00:05:00
#SBATCH --nodes=1
#SBATCH --ntasks-per-node=1
#SBATCH --no-requeue
# Rendered by autoexp 0.1.0 for sweep "faults": array group array0 (2 runs).
# Task id + 0 = sweep index; `autoexp plan` prints which run each index is.

exec /usr/bin/autoexp run-entry --sweep @OUT@/faults/sweep.json --index "$((SLURM_ARRAY_TASK_ID + 0))"
