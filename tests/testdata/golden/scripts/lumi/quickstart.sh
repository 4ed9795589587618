#!/bin/bash
#SBATCH --job-name=quickstart
#SBATCH --output=/scratch/test/quickstart/runs/quickstart/logs/%j.log
#SBATCH --open-mode=append
#SBATCH --comment=autoexp:16a3175fb2:quickstart
#SBATCH --account=project_465000001
#SBATCH --partition=standard-g
#SBATCH --time=00:30:00
#SBATCH --nodes=1
#SBATCH --ntasks-per-node=8
#SBATCH --cpus-per-task=7
#SBATCH --gpus-per-node=8
#SBATCH --mem=0
#SBATCH --exclusive
#SBATCH --no-requeue
#SBATCH --hint=nomultithread
# Rendered by autoexp 0.1.0 for sweep "quickstart", run "quickstart" (index 0).
# Re-render with `autoexp plan`; edits to this file are overwritten.
MIOPEN_USER_DB_PATH=/tmp/$USER-miopen-cache-$SLURM_JOB_ID
MIOPEN_CUSTOM_CACHE_DIR=$MIOPEN_USER_DB_PATH
export MIOPEN_USER_DB_PATH MIOPEN_CUSTOM_CACHE_DIR
exec /opt/autoexp/bin/autoexp run-entry --sweep /scratch/test/quickstart/sweep.json --index 0
