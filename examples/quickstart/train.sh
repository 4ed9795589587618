#!/usr/bin/env bash
# A stand-in trainer for the quickstart: reads --lr/--train_iters/--save like a real one would,
# prints one line per iteration, and writes a checkpoint marker. Runs anywhere bash does.
set -euo pipefail
lr=0.001 iters=10 save=./checkpoints
while [ $# -gt 0 ]; do
  case "$1" in
    --lr) lr=$2; shift 2 ;;
    --train_iters) iters=$2; shift 2 ;;
    --save) save=$2; shift 2 ;;
    --*) shift 2 ;;
    *) shift ;;
  esac
done
mkdir -p "$save"
for ((i = 1; i <= iters; i++)); do
  echo "iteration $i/$iters | lr $lr | loss $(awk -v i="$i" -v lr="$lr" 'BEGIN { printf "%.4f", 10 / (1 + i * lr * 100) }')"
  sleep 0.05
done
echo "$iters" > "$save/latest_checkpointed_iteration.txt"
echo "done: $iters iterations, checkpoint in $save"
