/**
 * Tests of the shipped Megatron argument table: it is what `tools/gen_megatron_args.ts`
 * produces from the shared Megatron-LM dump, its compact encoding round-trips, and the indexes
 * resolve dests, flags and flag spellings of keys.
 */
import assert from "node:assert/strict";
import {
  DEFAULT_INPUT,
  generateArgsTable,
  normaliseArgs,
  OUTPUT,
} from "../../../tools/gen_megatron_args.ts";
import {
  MEGATRON_ARGS,
  MEGATRON_SOURCE,
  megatronArgByDest,
  megatronArgByFlag,
  resolveMegatronKey,
} from "../../../lib/plan/megatron/args.ts";
import { decodeMegatronArg, encodeMegatronArg } from "../../../lib/plan/megatron/table_format.ts";
import { ROOT } from "../../_helpers.ts";

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

const haveDump = await exists(DEFAULT_INPUT);
if (!haveDump) {
  console.warn(
    `SKIPPED: ${DEFAULT_INPUT} is absent, so args_table.json cannot be compared with a fresh ` +
      "generation (CI has the file)",
  );
}

Deno.test({
  name: "args_table.json is what tools/gen_megatron_args.ts generates from args.json",
  ignore: !haveDump,
  fn: async () => {
    const shipped = await Deno.readTextFile(`${ROOT}/${OUTPUT}`);
    assert.equal(
      shipped,
      await generateArgsTable(DEFAULT_INPUT),
      "stale table: run `deno run -A tools/gen_megatron_args.ts`",
    );
  },
});

Deno.test({
  name: "the loaded table equals the normalised dump, argument by argument",
  ignore: !haveDump,
  fn: async () => {
    const dump = JSON.parse(await Deno.readTextFile(DEFAULT_INPUT));
    assert.deepEqual(MEGATRON_ARGS, normaliseArgs(dump));
    assert.equal(MEGATRON_SOURCE.commit, dump.source.commit);
    assert.equal(MEGATRON_SOURCE.count, dump.arguments.length);
  },
});

Deno.test("encodeMegatronArg and decodeMegatronArg are inverses for every argument", () => {
  for (const a of MEGATRON_ARGS) {
    assert.deepEqual(decodeMegatronArg(a.dest, encodeMegatronArg(a)), a, a.dest);
  }
});

Deno.test("megatronArgByDest and megatronArgByFlag find arguments", () => {
  const cases: [string, string, string][] = [
    // [dest, flag, action]
    ["lr_decay_iters", "--lr-decay-iters", "store"],
    ["add_bias_linear", "--disable-bias-linear", "store_false"],
    ["no_load_optim", "--no-load-optim", "store_true"],
    ["fp8", "--fp8-format", "store"],
    ["save_interval", "--persistent-save-interval", "store"],
    ["rl_partial_rollouts", "--no-rl-partial-rollouts", "custom"],
    ["yarn_correction_range_round_to_int", "--no-yarn-correction-range-round-to-int", "custom"],
  ];
  for (const [dest, flag, action] of cases) {
    assert.equal(megatronArgByDest(dest)?.action, action, dest);
    assert.equal(megatronArgByFlag(flag)?.dest, dest, flag);
  }
  assert.equal(megatronArgByDest("lr_decay_iter"), undefined);
});

Deno.test("resolveMegatronKey accepts dests and flag spellings", () => {
  const cases: [string, string | undefined, string | undefined][] = [
    // [key, dest, switchFlag]
    ["seq_length", "seq_length", undefined],
    ["seq-length", "seq_length", undefined],
    ["--seq-length", "seq_length", undefined],
    ["add_bias_linear", "add_bias_linear", undefined],
    ["disable_bias_linear", "add_bias_linear", "--disable-bias-linear"],
    ["fp8_format", "fp8", undefined],
    ["persistent_save_interval", "save_interval", undefined],
    ["apply_layernorm_1p", "layernorm_zero_centered_gamma", "--apply-layernorm-1p"],
    ["no_rl_partial_rollouts", "rl_partial_rollouts", "--no-rl-partial-rollouts"],
    // A dest wins over another argument's flag spelling (`--ckpt-fully-parallel-save` has dest
    // ckpt_fully_parallel_save_deprecated).
    ["ckpt_fully_parallel_save", "ckpt_fully_parallel_save", undefined],
    ["lr_decay_iter", undefined, undefined],
  ];
  for (const [key, dest, flag] of cases) {
    const r = resolveMegatronKey(key);
    assert.equal(r?.arg.dest, dest, key);
    assert.equal(r?.switchFlag, flag, key);
  }
});

Deno.test("table types are normalised", () => {
  const cases: [string, string, unknown][] = [
    // [dest, type, nargs]
    ["train_iters", "int", null],
    ["lr", "float", null],
    ["save", "str", null],
    ["data_path", "str", "*"], // no type= in argparse: a string
    ["attention_backend", "str", null], // enum: member names, listed as choices
    ["moe_layer_freq", "other", null],
    ["onnx_safe", "bool", null],
    ["fp16", "bool", null],
    ["rampup_batch_size", "int", 3],
    ["cp_comm_type", "str", "+"],
  ];
  for (const [dest, type, nargs] of cases) {
    const a = megatronArgByDest(dest);
    assert.equal(a?.type, type, dest);
    assert.equal(a?.nargs, nargs, dest);
  }
});
