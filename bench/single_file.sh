#!/usr/bin/env bash
# Start-up figures of the single file (dist/autoexp, built by `tools/dev compile`) against
# /bin/true and against `deno run` of the bundle (dist/autoexp.js):
#   size; first start (unpacking into an empty cache) of --version; warm --version; warm
#   `run-entry` of a sweep entry that runs /bin/true (what every job does).
# Each figure is the median wall time of N runs (default 20; first start: 5).
#   bash bench/single_file.sh [N]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
deno="$root/tools/deno/node_modules/.bin/deno"
file="$root/dist/autoexp"
n="${1:-20}"
[ -x "$file" ] || { echo "build it first: tools/dev compile" >&2; exit 2; }
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

# median_ms N CMD...: the median wall time of N runs of CMD, in ms
median_ms() {
  local runs="$1" i a b
  shift
  for ((i = 0; i < runs; i++)); do
    a=$(date +%s%N)
    "$@" >/dev/null 2>&1
    b=$(date +%s%N)
    echo $(((b - a) / 1000))
  done | sort -n | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f", m / 1000 }'
}

first_start() { # unpack into a new, empty cache each time
  local c="$out/cache-$RANDOM$RANDOM"
  AUTOEXP_CACHE_DIR="$c" "$file" --version
  rm -rf "$c"
}

# A sweep whose one entry runs /bin/true, planned by the single file itself.
cfg="$out/cfg"
mkdir -p "$cfg"
cat >"$cfg/autoexp.yaml" <<YAML
defaults: [{project: default}, {slurm: base}, {backend: command}, {container: none}, _self_]
project: {name: re, base_output_dir: $out/re}
backend: {command: [/bin/true]}
YAML
export AUTOEXP_CACHE_DIR="$out/cache"
"$file" plan -C "$cfg" >/dev/null
sweep="$out/re/re/sweep.json"
[ -f "$sweep" ] || sweep="$(find "$out/re" -name sweep.json | head -n 1)"
cp "$root/dist/autoexp.js" "$out/autoexp.js"
bundle=("$deno" run -A --no-config --no-lock --quiet "$out/autoexp.js")

awk -v f="$(stat -c %s "$file")" -v d="$(stat -c %s "$AUTOEXP_CACHE_DIR"/*/deno)" \
  'BEGIN { printf "size of dist/autoexp: %.1f MB (the Deno runtime unpacked: %.1f MB)\n", f / 1e6, d / 1e6 }'
printf '%-44s %8s\n' "figure (median wall ms)" "ms"
printf '%-44s %8s\n' "/bin/true" "$(median_ms "$n" /bin/true)"
printf '%-44s %8s\n' "single file, first start (unpack) --version" "$(median_ms 5 first_start)"
printf '%-44s %8s\n' "single file, warm --version" "$(median_ms "$n" "$file" --version)"
printf '%-44s %8s\n' "deno run bundle, --version" "$(median_ms "$n" "${bundle[@]}" --version)"
printf '%-44s %8s\n' "single file, warm run-entry (/bin/true)" \
  "$(median_ms "$n" "$file" run-entry --sweep "$sweep" --index 0)"
printf '%-44s %8s\n' "deno run bundle, run-entry (/bin/true)" \
  "$(median_ms "$n" "${bundle[@]}" run-entry --sweep "$sweep" --index 0)"
