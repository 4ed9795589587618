#!/usr/bin/env bash
# Stand-in for a Megatron -> Hugging Face checkpoint conversion (the seed's
# scripts/convert_checkpoint_to_hf.py, same options): checks that the Megatron checkpoint of
# --iteration is complete, then writes a Hugging Face style folder (config.json last).
#   convert_to_hf.sh --megatron-checkpoint DIR --iteration N --output-dir DIR [--model-type llama]
set -euo pipefail
ckpt="" iteration="" out="" model_type=llama
while [ $# -gt 0 ]; do
  case "$1" in
    --megatron-checkpoint) ckpt=$2; shift ;;
    --iteration) iteration=$2; shift ;;
    --output-dir) out=$2; shift ;;
    --model-type) model_type=$2; shift ;;
    *) echo "convert_to_hf.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
src=$(printf '%s/iter_%07d' "$ckpt" "$iteration")
[ -f "$src/metadata.json" ] || { echo "convert_to_hf.sh: no complete checkpoint at $src" >&2; exit 1; }
echo "Converting checkpoint from $src"
mkdir -p "$out"
cp "$src/common.pt" "$out/model.safetensors"
printf '{"model_type": "%s", "source": "%s", "iteration": %d}\n' "$model_type" "$src" "$iteration" >"$out/config.json.tmp"
mv "$out/config.json.tmp" "$out/config.json"
echo "Output directory: $out"
