#!/usr/bin/env bash
# Submitting a 1,000-point sweep to the SLURM test cluster (tools/slurm_cluster.sh start), and
# one query round over the 1,000 tracked jobs. The jobs are held back with --begin so they do
# not run, and are cancelled at the end.
#   bash bench/submit_cli.sh
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
deno="$root/tools/deno/node_modules/.bin/deno"
work="$(mktemp -d)"
trap 'scancel --name=bench1k.array0-s1 >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
mkdir -p "$work/cfg/sweep"
cat > "$work/cfg/autoexp.yaml" <<YAML
defaults: [{project: default}, {slurm: base}, {backend: command}, {container: none}, {sweep: k}, _self_]
project: {name: bench1k, base_output_dir: $work/out}
slurm:
  array: {enabled: true}
  sbatch: {time: "00:05:00", begin: now+1hour}
backend: {command: [/bin/true]}
YAML
python3 - "$work/cfg/sweep/k.yaml" <<'PY'
import sys
open(sys.argv[1], "w").write("axes:\n  seed: [" + ", ".join(str(i) for i in range(1000)) + "]\n")
PY
start=$(date +%s.%N)
"$deno" run -A "$root/main.ts" submit -C "$work/cfg" --scheduler slurm --no-monitor > "$work/submit.log"
end=$(date +%s.%N)
calls=$(grep -o '"type":"submit_intent"' "$work/out/bench1k/.autoexp/journal.jsonl" | wc -l)
printf 'submit 1,000 points (plan + sbatch): %.2f s wall, %s sbatch call(s)\n' "$(echo "$end - $start" | bc)" "$calls"
cat > "$work/query.ts" <<TS
import { SlurmScheduler } from "$root/lib/scheduler/slurm.ts";
import { DenoProcessRunner } from "$root/lib/runtime/process.ts";
import { SweepStore } from "$root/lib/store/store.ts";
import { DenoFileSystem } from "$root/lib/runtime/fs.ts";
const host = { env: {}, hostname: () => "b", cwd: () => "/", now: () => new Date(), color: false, pid: Deno.pid, selfCommand: () => [] };
const store = await SweepStore.open(new DenoFileSystem(), host, "$work/out/bench1k");
const ids = [...new Set(Object.values(store.state.runs).map((r) => r.attempts[0].arrayJobId ?? r.attempts[0].jobId!))];
const s = new SlurmScheduler({ runner: new DenoProcessRunner() });
const tracked = Object.keys(store.state.runs).length;
const t = performance.now();
const r = await s.query({ ids });
const ms = performance.now() - t;
const tasks = r.jobs.reduce((n, j) => n + (j.pendingTasks?.length ?? 1), 0);
console.log(\`one query round over \${tracked} tracked runs: \${ms.toFixed(0)} ms, commands: \${r.commands.join(", ")}, tasks seen: \${tasks}\`);
TS
cp "$work/query.ts" "$root/bench/.query_tmp.ts"
"$deno" run -A "$root/bench/.query_tmp.ts"; rm -f "$root/bench/.query_tmp.ts"

# `autoexp monitor --once` over the 1,000 tracked runs: scheduler commands counted by shims.
shim="$work/shim"
mkdir -p "$shim"
for c in squeue sacct scontrol; do
  real="$(command -v "$c")"
  printf '#!/bin/sh\necho %s >> "%s/calls"\nexec %s "$@"\n' "$c" "$work" "$real" > "$shim/$c"
  chmod +x "$shim/$c"
done
: > "$work/calls"
PATH="$shim:$PATH" /usr/bin/time -f '%e s wall, %U s user + %S s system CPU, peak RSS %M KB' \
  "$deno" run -A "$root/main.ts" monitor --once --state "$work/out/bench1k" > "$work/monitor.log" 2> "$work/monitor.time" || true
printf 'autoexp monitor --once over 1,000 runs (whole process, start-up included): %s\n' "$(tail -1 "$work/monitor.time")"
printf '  scheduler commands in that round: %s\n' "$(sort "$work/calls" | uniq -c | tr -s ' ' | tr '\n' ',' | sed 's/,$//')"
