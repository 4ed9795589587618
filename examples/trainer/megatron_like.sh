#!/usr/bin/env bash
# A small stand-in for Megatron-LM's pretrain loop, for demos and fault tests: it prints
# Megatron's log lines (iteration, checkpoint save/load, training done, exit on signal), writes
# checkpoints as <save>/iter_NNNNNNN/ with latest_checkpointed_iteration.txt written last,
# resumes from the newest complete checkpoint in --load, and saves and exits cleanly on SIGUSR1
# or SIGTERM. No GPU, no Python: bash and coreutils.
#
# Options (Megatron's names): --train-iters N --save DIR --load DIR --save-interval N
#   --log-interval N --lr X --global-batch-size N --ckpt-step N (load that iteration instead of
#   the newest) --skip-train (evaluate the loaded checkpoint only), plus --iter-seconds S (time
#   per iteration).
# Unknown options are ignored, as a real trainer's argument list is long.
#
# Fault knobs (environment), each fires FAULT_TIMES times (default 1) per checkpoint directory
# (a counter file in --save remembers it), so later attempts run normally:
#   FAULT_CRASH_AT=N   exit 1 with a Python traceback at iteration N
#   FAULT_HANG_AT=N    stop writing and sleep forever at iteration N
#   FAULT_OOM_AT=N     print a CUDA out-of-memory error and exit 1 at iteration N
#   FAULT_NCCL_AT=N    print PyTorch's NCCL watchdog timeout lines and abort (exit 134) at
#                      iteration N, as a rank whose collective timed out does
#   FAULT_EXIT_CODE=C  exit code of FAULT_CRASH_AT (default 1)
#   FAULT_TIMES=K      how many attempts a fault hits (default 1)
set -u

train_iters=100 save="" load="" save_interval=0 log_interval=1 lr=0.0001 gbs=8 iter_seconds=0.1
ckpt_step="" skip_train=0
while [ $# -gt 0 ]; do
  case "$1" in
    --train-iters) train_iters=$2; shift ;;
    --save) save=$2; shift ;;
    --load) load=$2; shift ;;
    --save-interval) save_interval=$2; shift ;;
    --log-interval) log_interval=$2; shift ;;
    --lr) lr=$2; shift ;;
    --global-batch-size) gbs=$2; shift ;;
    --iter-seconds) iter_seconds=$2; shift ;;
    --ckpt-step) ckpt_step=$2; shift ;;
    --skip-train) skip_train=1 ;;
    --*=*) ;;
    --*) if [ $# -gt 1 ] && [ "${2#--}" = "$2" ]; then shift; fi ;;
  esac
  shift
done
[ -n "$load" ] || load=$save

# No command substitution runs while a signal can arrive: bash 5.2 parses "$(...)" when it runs
# it, and a trap firing in the middle of that parse breaks the loop out (it then printed
# "after training is done" for a SIGUSR1). Values are made with printf -v and $EPOCHREALTIME.
now() { # sets ts: local time with microseconds
  local t=$EPOCHREALTIME
  printf -v ts '%(%Y-%m-%d %H:%M:%S)T.%s' "${t%[.,]*}" "${t#*[.,]}"
}
loss_at() { # iteration -> sets loss: 10 / (1 + i / 10) + lr_penalty, as Megatron prints it
  local q=$((100 * 1000000000000000 / (10 + $1) + lr_penalty)) frac
  printf -v frac '%015d' $((q % 1000000000000000))
  printf -v loss '%.6E' "$((q / 1000000000000000)).$frac"
}

stop=0 ts="" loss=""
trap 'stop=1' USR1 TERM

# How often a fault fired is remembered next to the checkpoints.
fault_once() { # name at iteration
  local knob=$1 at=$2 it=$3 count=0
  [ -n "$at" ] && [ "$it" -eq "$at" ] || return 1
  [ -n "$save" ] || return 0
  mkdir -p "$save"
  [ -f "$save/.fault_$knob" ] && read -r count <"$save/.fault_$knob"
  [ "$count" -lt "${FAULT_TIMES:-1}" ] || return 1
  echo $((count + 1)) >"$save/.fault_$knob"
  return 0
}

save_checkpoint() { # iteration
  local it=$1 dir
  [ -n "$save" ] || return 0
  printf -v dir '%s/iter_%07d' "$save" "$it"
  now
  printf '[%s] saving checkpoint at iteration %7d to %s in torch_dist format\n' "$ts" "$it" "$save"
  mkdir -p "$dir"
  printf '{"iteration": %d, "lr": "%s"}\n' "$it" "$lr" >"$dir/metadata.json"
  printf 'weights of iteration %d\n' "$it" >"$dir/common.pt"
  # The tracker file is written last, atomically: a checkpoint without it is incomplete.
  printf '%d' "$it" >"$save/.latest.tmp" && mv "$save/.latest.tmp" "$save/latest_checkpointed_iteration.txt"
  now
  printf '  [%s] successfully saved checkpoint from iteration %7d to %s [ t 1/1, gtp_remat 1/1, p 1/1 ]\n' \
    "$ts" "$it" "$save"
}

# Whether iteration $1 was saved by the regular save interval.
saved_at() { [ "$save_interval" -gt 0 ] && [ $(($1 % save_interval)) -eq 0 ]; }

start=0
if [ -n "$load" ] && { [ -n "$ckpt_step" ] || [ -f "$load/latest_checkpointed_iteration.txt" ]; }; then
  if [ -n "$ckpt_step" ]; then start=$ckpt_step; else
    start=$(tr -d '[:space:]' <"$load/latest_checkpointed_iteration.txt")
  fi
  if [ -d "$(printf '%s/iter_%07d' "$load" "$start")" ]; then
    printf ' loading distributed checkpoint from %s at iteration %d\n' "$load" "$start"
    printf '  successfully loaded checkpoint from %s [ t 1/1, gtp_remat 1/1, p 1/1 ] at iteration %d\n' "$load" "$start"
  else
    start=0
  fi
fi
[ "$start" -gt 0 ] || echo " > no checkpoint found in ${load:-(none)}, starting from scratch"

if [ "$skip_train" -eq 1 ]; then
  lr_penalty=$(awk -v l="$lr" 'BEGIN { d = log(l / 3e-4); if (d < 0) d = -d; printf "%.0f", d / 3 * 1e15 }')
  loss_at "$start"
  echo "--------------------------------------------------------------------------------------------"
  printf ' validation loss at iteration %d on validation set | lm loss value: %s | lm loss PPL: %s | \n' \
    "$start" "$loss" "$(awk -v l="$loss" 'BEGIN { printf "%.6E", exp(l) }')"
  echo "--------------------------------------------------------------------------------------------"
  exit 0
fi

iter_ms=$(awk -v s="$iter_seconds" 'BEGIN { print s * 1000 }')
# The loss is lowest for lr 3e-4 (|ln(lr / 3e-4)| / 3 higher elsewhere), in units of 1e-15, so a
# learning-rate sweep has a best run.
lr_penalty=$(awk -v l="$lr" 'BEGIN { d = log(l / 3e-4); if (d < 0) d = -d; printf "%.0f", d / 3 * 1e15 }')
tflops=$(awk -v s="$iter_seconds" 'BEGIN { printf "%.1f", 4.2 / (s > 0 ? s : 0.1) }')
lr_e=$(awk -v l="$lr" 'BEGIN { printf "%.6E", l }')
it=$start
while [ "$it" -lt "$train_iters" ]; do
  it=$((it + 1))
  sleep "$iter_seconds"
  if fault_once crash "${FAULT_CRASH_AT:-}" "$it"; then
    echo "Traceback (most recent call last):"
    echo '  File "pretrain_gpt.py", line 42, in <module>'
    echo "RuntimeError: injected crash at iteration $it (FAULT_CRASH_AT)"
    exit "${FAULT_EXIT_CODE:-1}"
  fi
  if fault_once oom "${FAULT_OOM_AT:-}" "$it"; then
    echo "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 79.15 GiB"
    exit 1
  fi
  if fault_once nccl "${FAULT_NCCL_AT:-}" "$it"; then
    now
    printf '[rank0]:[E%(%m%d %H:%M:%S)T.%s ProcessGroupNCCL.cpp:632] [Rank 0] Watchdog caught collective operation timeout: WorkNCCL(SeqNum=%d, OpType=ALLREDUCE, NumelIn=1, NumelOut=1, Timeout(ms)=600000) ran for 600023 milliseconds before timing out.\n' \
      "${EPOCHREALTIME%[.,]*}" "${ts##*.}" $((it * 7))
    echo "[rank0]:[E ProcessGroupNCCL.cpp:1595] [Rank 0] Some NCCL operations have failed or timed out. Due to the asynchronous nature of CUDA kernels, subsequent GPU operations might run on corrupted/incomplete data."
    echo "[rank0]:[E ProcessGroupNCCL.cpp:1601] [Rank 0] To avoid data inconsistency, we are taking the entire process down."
    echo "terminate called after throwing an instance of 'c10::DistBackendError'"
    exit 134
  fi
  if fault_once hang "${FAULT_HANG_AT:-}" "$it"; then
    while :; do sleep 1; done
  fi
  if [ $((it % log_interval)) -eq 0 ] || [ "$it" -eq $((start + 1)) ]; then
    loss_at "$it"
    now
    printf ' [%s] iteration %8d/%8d | consumed samples: %12d | elapsed time per iteration (ms): %.1f | throughput per GPU (TFLOP/s/GPU): %s | learning rate: %s | global batch size: %5d | lm loss: %s | loss scale: 1.0 | grad norm: 1.234 | number of skipped iterations:   0 | number of nan iterations:   0 |\n' \
      "$ts" "$it" "$train_iters" $((it * gbs)) "$iter_ms" "$tflops" "$lr_e" "$gbs" "$loss"
  fi
  if saved_at "$it"; then save_checkpoint "$it"; fi
  if [ "$stop" -eq 1 ]; then
    saved_at "$it" || save_checkpoint "$it"
    now
    printf '[exiting program after receiving SIGTERM.] datetime: %s \n' "${ts%.*}"
    exit 0
  fi
done
now
printf '[after training is done] datetime: %s \n' "${ts%.*}"
saved_at "$it" || save_checkpoint "$it"
exit 0
