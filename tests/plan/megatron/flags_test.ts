/** Tests of `renderMegatronFlags`: every kind of argument and number formatting. */
import assert from "node:assert/strict";
import { renderMegatronFlags } from "../../../lib/plan/megatron/flags.ts";
import type { ConfigMap } from "../../../lib/config/tree.ts";

const cases: [string, ConfigMap, string[]][] = [
  ["int", { seq_length: 4096 }, ["--seq-length", "4096"]],
  ["int string as written", { seq_length: "4096" }, ["--seq-length", "4096"]],
  ["large int without exponent", { train_samples: 1e21 }, [
    "--train-samples",
    "1000000000000000000000",
  ]],
  ["float shortest form", { lr: 0.0003 }, ["--lr", "0.0003"]],
  ["small float in exponent form", { lr: 3e-7 }, ["--lr", "3e-7"]],
  ["float that is an integer", { clip_grad: 1 }, ["--clip-grad", "1"]],
  ["negative float", { adam_beta1: -0.5 }, ["--adam-beta1", "-0.5"]],
  ["negative small float written out", { min_lr: -3e-7 }, ["--min-lr", "-0.0000003"]],
  ["negative exponent string written out", { min_lr: "-1.5e-6" }, ["--min-lr", "-0.0000015"]],
  ["float string kept", { lr: "3e-4" }, ["--lr", "3e-4"]],
  ["string as-is, no quoting", { save: "/a b/$HOME" }, ["--save", "/a b/$HOME"]],
  ["number for a string argument", { tokenizer_model: 7 }, ["--tokenizer-model", "7"]],
  ["store_true true", { bf16: true }, ["--bf16"]],
  ["store_true false", { bf16: false }, []],
  ["store_true under a flag name", { apply_layernorm_1p: true }, ["--apply-layernorm-1p"]],
  ["store_false false (dest)", { add_bias_linear: false }, ["--disable-bias-linear"]],
  ["store_false true (dest)", { add_bias_linear: true }, []],
  ["store_false flag spelling true", { disable_bias_linear: true }, ["--disable-bias-linear"]],
  ["store_false flag spelling false", { disable_bias_linear: false }, []],
  ["switch pair true", { rl_partial_rollouts: true }, ["--rl-partial-rollouts"]],
  ["switch pair false", { rl_partial_rollouts: false }, ["--no-rl-partial-rollouts"]],
  ["shared-dest pair false", { yarn_correction_range_round_to_int: false }, [
    "--no-yarn-correction-range-round-to-int",
  ]],
  ["type=bool value true", { onnx_safe: true }, ["--onnx-safe", "True"]],
  ["type=bool value false", { onnx_safe: false }, []],
  ["null is omitted", { seq_length: null, lr: null }, []],
  ["nargs + list", { cp_comm_type: ["p2p", "a2a"] }, ["--cp-comm-type", "p2p", "a2a"]],
  ["nargs + scalar", { cp_comm_type: "p2p" }, ["--cp-comm-type", "p2p"]],
  ["nargs * empty list", { data_path: [] }, ["--data-path"]],
  ["nargs * mixed", { data_path: [0.3, "/a", "0.7", "/b"] }, [
    "--data-path",
    "0.3",
    "/a",
    "0.7",
    "/b",
  ]],
  ["nargs 3", { rampup_batch_size: [32, 32, 1000000] }, [
    "--rampup-batch-size",
    "32",
    "32",
    "1000000",
  ]],
  ["float list", { moe_aux_loss_coeff: [0.01, 1e-7] }, ["--moe-aux-loss-coeff", "0.01", "1e-7"]],
  ["flag spelling of a value argument uses the first flag", { persistent_save_interval: 5 }, [
    "--save-interval",
    "5",
  ]],
  ["dashed key", { "seq-length": 8 }, ["--seq-length", "8"]],
  ["other types are stringified", { moe_layer_freq: "[1]*3+[0]", window_size: "(128,0)" }, [
    "--moe-layer-freq",
    "[1]*3+[0]",
    "--window-size",
    "(128,0)",
  ]],
];

for (const [name, args, argv] of cases) {
  Deno.test(`renderMegatronFlags: ${name}`, () => {
    assert.deepEqual(renderMegatronFlags(args), argv);
  });
}

Deno.test("renderMegatronFlags: tokens follow the key order", () => {
  assert.deepEqual(
    renderMegatronFlags({ lr: 1e-4, bf16: true, add_bias_linear: false, num_layers: 2 }),
    ["--lr", "0.0001", "--bf16", "--disable-bias-linear", "--num-layers", "2"],
  );
});

Deno.test("renderMegatronFlags: what validation reports is a programmer error", () => {
  const bad: ConfigMap[] = [
    { lr_decay_iter: 1 },
    { bf16: "yes" },
    { num_layers: 2.5 },
    { num_layers: [1] },
    { save: { a: 1 } },
  ];
  for (const args of bad) {
    assert.throws(() => renderMegatronFlags(args), /renderMegatronFlags/, JSON.stringify(args));
  }
});
