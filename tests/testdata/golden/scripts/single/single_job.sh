#!/bin/bash
#SBATCH --job-name=single_job
#SBATCH --output=/scratch/test/single_job/runs/single_job/logs/%j.log
#SBATCH --open-mode=append
#SBATCH --comment=autoexp:5b469c6675:single_job
#SBATCH --account=proj123
#SBATCH --partition=gpu
#SBATCH --time=00:30:00
#SBATCH --nodes=1
#SBATCH --ntasks-per-node=1
#SBATCH --gpus-per-node=1
#SBATCH --mem=32G
#SBATCH --no-requeue
# Rendered by autoexp 0.1.0 for sweep "single_job", run "single_job" (index 0).
# Re-render with `autoexp plan`; edits to this file are overwritten.
module load cuda/12.1 python/3.11
source /opt/venv/bin/activate
exec /opt/autoexp/bin/autoexp run-entry --sweep /scratch/test/single_job/sweep.json --index 0
