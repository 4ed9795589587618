#!/bin/bash
#SBATCH --job-name=finetune
#SBATCH --output=/scratch/test/finetune/runs/finetune/logs/%j.log
#SBATCH --open-mode=append
#SBATCH --comment=autoexp:c1af051c63:finetune
#SBATCH --partition=gpu
#SBATCH --time=03:00:00
#SBATCH --nodes=1
#SBATCH --ntasks-per-node=1
#SBATCH --cpus-per-task=16
#SBATCH --gpus-per-node=2
#SBATCH --no-requeue
# Rendered by autoexp 0.1.0 for sweep "finetune", run "finetune" (index 0).
# Re-render with `autoexp plan`; edits to this file are overwritten.

exec /opt/autoexp/bin/autoexp run-entry --sweep /scratch/test/finetune/sweep.json --index 0
