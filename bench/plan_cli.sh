#!/usr/bin/env bash
# Wall time and peak memory of `autoexp plan` for the 10,000-point sweep in bench/plan_10k
# (three axes, a realistic Megatron config on the LUMI preset with apptainer), run N times.
#   bash bench/plan_cli.sh [N]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
deno="$root/tools/deno/node_modules/.bin/deno"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
for i in $(seq "${1:-5}"); do
  AUTOEXP_OUTPUT_DIR="$out" SLURM_ACCOUNT=project_465000000 /usr/bin/time -f "plan 10k: %e s wall, %M KB peak RSS" \
    "$deno" run -A "$root/main.ts" plan -C "$root/bench/plan_10k" 2>&1 >/dev/null | tail -1
done
echo "run-entry overhead (sweep entry running /bin/true vs /bin/true directly):"
cfg="$out/cfg"
mkdir -p "$cfg"
cat > "$cfg/autoexp.yaml" <<YAML
defaults: [{project: default}, {slurm: base}, {backend: command}, {container: none}, _self_]
project: {name: re, base_output_dir: $out/re}
backend: {command: [/bin/true]}
YAML
"$deno" run -A "$root/main.ts" plan -C "$cfg" >/dev/null
"$deno" bundle --quiet --platform deno --minify -o "$out/autoexp.js" "$root/main.ts" >/dev/null 2>&1 || true
"$deno" bundle --quiet --platform deno --minify -o "$out/run_entry.js" "$root/bench/support/run_entry_only.ts" >/dev/null 2>&1 || true
python3 - "$deno" "$out" "$root" <<'PY'
import subprocess, sys, time, statistics
deno, out, root = sys.argv[1:4]
def t(cmd, n=20):
    xs = []
    for _ in range(n):
        s = time.perf_counter(); subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); xs.append(time.perf_counter() - s)
    return statistics.median(xs) * 1000
direct = t(["/bin/true"])
src = t([deno, "run", "-A", f"{root}/main.ts", "run-entry", "--sweep", f"{out}/re/re/sweep.json", "--index", "0"])
print(f"  /bin/true directly: {direct:.1f} ms; via run-entry from source: {src:.1f} ms (overhead {src - direct:.1f} ms)")
for label, js in [("the whole-program bundle", "autoexp.js"), ("the run-entry module graph only (what the compiled binary loads)", "run_entry.js")]:
    try:
        b = t([deno, "run", "-A", f"{out}/{js}", "run-entry", "--sweep", f"{out}/re/re/sweep.json", "--index", "0"])
        print(f"  via run-entry from {label}: {b:.1f} ms (overhead {b - direct:.1f} ms)")
    except Exception as e:
        print(f"  {label}: not measured ({e})")
empty = f"{out}/empty.js"
open(empty, "w").write("")
print(f"  an empty Deno script: {t([deno, 'run', '-A', empty]):.1f} ms")
PY
