#!/bin/bash
#SBATCH --job-name=boxed
#SBATCH --output=/scratch/test/boxed/runs/boxed/logs/%j.log
#SBATCH --open-mode=append
#SBATCH --comment=autoexp:50284cded4:boxed
#SBATCH --partition=gpu
#SBATCH --time=02:00:00
#SBATCH --nodes=1
#SBATCH --ntasks-per-node=1
#SBATCH --gpus-per-node=4
#SBATCH --no-requeue
# Rendered by autoexp 0.1.0 for sweep "boxed", run "boxed" (index 0).
# Re-render with `autoexp plan`; edits to this file are overwritten.
MIOPEN_USER_DB_PATH=/tmp/$USER-miopen-cache-$SLURM_JOB_ID
export MIOPEN_USER_DB_PATH
exec /opt/autoexp/bin/autoexp run-entry --sweep /scratch/test/boxed/sweep.json --index 0
