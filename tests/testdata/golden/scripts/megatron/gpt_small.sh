#!/bin/bash
#SBATCH --job-name=gpt_small
#SBATCH --output=/scratch/test/gpt_small/runs/gpt_small/logs/%j.log
#SBATCH --open-mode=append
#SBATCH --comment=autoexp:1ee55843f1:gpt_small
#SBATCH --partition=gpu
#SBATCH --time=1-00:00:00
#SBATCH --nodes=2
#SBATCH --ntasks-per-node=1
#SBATCH --cpus-per-task=32
#SBATCH --gpus-per-node=4
#SBATCH --exclusive
#SBATCH --no-requeue
# Rendered by autoexp 0.1.0 for sweep "gpt_small", run "gpt_small" (index 0).
# Re-render with `autoexp plan`; edits to this file are overwritten.
MASTER_ADDR=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)
export MASTER_ADDR
exec /opt/autoexp/bin/autoexp run-entry --sweep /scratch/test/gpt_small/sweep.json --index 0
