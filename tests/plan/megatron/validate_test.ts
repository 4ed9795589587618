/**
 * Tests of `validateMegatronArgs`: unknown keys with suggestions, flag spellings, types,
 * choices, nargs, legacy and deprecated arguments, and each cross-argument rule.
 */
import assert from "node:assert/strict";
import { validateMegatronArgs } from "../../../lib/plan/megatron/validate.ts";
import type { ConfigMap } from "../../../lib/config/tree.ts";

/** A minimal valid iteration-mode config; cases add or override keys. */
const ok: ConfigMap = { seq_length: 4096, micro_batch_size: 1, train_iters: 1000 };

interface Case {
  readonly name: string;
  readonly args: ConfigMap;
  /** [path, message pattern, hint pattern?] of each problem, in order. */
  readonly problems?: readonly (readonly [string, RegExp, RegExp?])[];
  readonly warnings?: readonly (readonly [string, RegExp])[];
}

const p = (key: string) => `backend.args.${key}`;

const cases: Case[] = [
  { name: "a minimal config is valid", args: ok },
  {
    name: "a typical config is valid",
    args: {
      ...ok,
      num_layers: 24,
      hidden_size: 2048,
      num_attention_heads: 16,
      max_position_embeddings: 4096,
      global_batch_size: 512,
      lr: 3e-4,
      min_lr: 3e-5,
      lr_decay_style: "cosine",
      lr_decay_iters: 900,
      lr_warmup_fraction: 0.01,
      bf16: true,
      add_bias_linear: false,
      save: "/ckpt",
      save_interval: 100,
      data_path: ["0.5", "/data/a", "0.5", "/data/b"],
      tokenizer_type: "HuggingFaceTokenizer",
      eval_iters: "10",
      clip_grad: 1,
      fp16: null,
    },
  },
  {
    name: "unknown key: up to three closest dests",
    args: { ...ok, lr_decay_iter: 100 },
    problems: [[
      p("lr_decay_iter"),
      /unknown Megatron argument "lr_decay_iter"/,
      /did you mean "lr_decay_iters"/,
    ]],
  },
  {
    name: "unknown key with nothing close names the Megatron commit",
    args: { ...ok, zzzzzzzz_qqqq: 1 },
    problems: [[p("zzzzzzzz_qqqq"), /unknown Megatron argument/, /Megatron-LM at [0-9a-f]{12}/]],
  },
  {
    name: "flag spellings are accepted",
    args: { ...ok, disable_bias_linear: true, "use-flash-attn": true, fp8_format: "hybrid" },
  },
  {
    name: "the same argument twice (dest and flag spelling)",
    args: { ...ok, add_bias_linear: false, disable_bias_linear: true },
    problems: [[p("disable_bias_linear"), /"disable_bias_linear" and "add_bias_linear" both set/]],
  },
  {
    name: "convenience keys must be expanded first",
    args: { ...ok, train_tokens: 1e9 },
    problems: [[p("train_tokens"), /convenience argument that was not expanded/]],
  },
  {
    name: "int: a float or a word is wrong, an integer string is fine",
    args: { ...ok, num_layers: 2.5, hidden_size: "big", ffn_hidden_size: "8192" },
    problems: [
      [p("num_layers"), /expected an integer, got 2.5/],
      [p("hidden_size"), /expected an integer, got "big"/],
    ],
  },
  {
    name: "float: numbers and numeric strings, not words",
    args: { ...ok, lr: "3e-4", min_lr: "tiny", weight_decay: 0 },
    problems: [[p("min_lr"), /expected a number, got "tiny"/]],
  },
  {
    name: "str: numbers are fine, booleans and lists are not",
    args: { ...ok, tokenizer_model: 7, save: true, load: ["/a"] },
    problems: [
      [p("save"), /expected a string, got true/],
      [p("load"), /expected a single value \(a string\), got a list/],
    ],
  },
  {
    name: "switches take booleans only, with a hint for quoted ones",
    args: { ...ok, bf16: "true", add_bias_linear: 0 },
    problems: [
      [p("bf16"), /expected true or false, got "true"/, /without quotes/],
      [p("add_bias_linear"), /expected true or false, got 0/],
    ],
  },
  {
    name: "choices: the problem lists the allowed values and the closest",
    args: { ...ok, lr_decay_style: "cosin" },
    problems: [[
      p("lr_decay_style"),
      /"cosin" is not allowed \(allowed: constant, linear, cosine, inverse-square-root, WSD\)/,
      /did you mean "cosine"/,
    ]],
  },
  {
    name: "integer choices accept integer strings",
    args: { ...ok, empty_unused_memory_level: "2", timing_log_level: 5 },
    problems: [[p("timing_log_level"), /5 is not allowed \(allowed: 0, 1, 2\)/]],
  },
  {
    name: "nargs +: a list, or a scalar as a one-item list; not empty",
    args: { ...ok, cp_comm_type: "p2p", moe_aux_loss_coeff: [0.01, 0.001], recompute_modules: [] },
    problems: [[p("recompute_modules"), /at least one value/]],
  },
  {
    name: "nargs items are type-checked with their index",
    args: { ...ok, profile_ranks: [0, "x"], moe_router_load_balancing_type: ["aux_loss", "nope"] },
    problems: [
      [p("profile_ranks[1]"), /expected an integer, got "x"/],
      [p("moe_router_load_balancing_type[1]"), /"nope" is not allowed/],
    ],
  },
  {
    name: "nargs *: an empty list is fine",
    args: { ...ok, data_path: [] },
  },
  {
    name: "nargs 3: exactly three values",
    args: { ...ok, rampup_batch_size: [32, 32] },
    problems: [[p("rampup_batch_size"), /expected a list of 3 values, got 2/]],
    warnings: [],
  },
  {
    name: "a list for a single-value argument",
    args: { ...ok, num_layers: [1, 2] },
    problems: [[p("num_layers"), /expected a single value \(an integer\), got a list/]],
  },
  {
    name: "deprecated arguments are warnings, only when they pass something",
    args: {
      ...ok,
      rampup_batch_size: [32, 32, 1000],
      use_rotary_position_embeddings: true,
      add_position_embedding: true,
    },
    warnings: [
      [p("rampup_batch_size"), /--rampup-batch-size\) is deprecated/],
      [p("use_rotary_position_embeddings"), /is deprecated/],
    ],
  },
  {
    name: "legacy arguments refused by validate_args name the replacement",
    args: { ...ok, batch_size: 8, checkpoint_activations: true, model_parallel_size: null },
    problems: [
      [p("batch_size"), /legacy argument that Megatron refuses/, /use micro_batch_size instead/],
      [p("checkpoint_activations"), /legacy/, /use recompute_activations/],
    ],
  },
  {
    name: "a refused switch set to false passes nothing and is fine",
    args: { ...ok, checkpoint_activations: false },
  },
  // Cross-argument rules.
  {
    name: "train_iters and train_samples are mutually exclusive",
    args: { ...ok, train_samples: 100 },
    problems: [[p("train_samples"), /mutually exclusive/]],
  },
  {
    name: "a training length is required",
    args: { seq_length: 4096, micro_batch_size: 1 },
    problems: [[p("train_iters"), /training length is missing/, /train_tokens/]],
  },
  {
    name: "lr_decay_samples with train_iters",
    args: { ...ok, lr_decay_samples: 100 },
    problems: [[p("lr_decay_samples"), /belongs to sample mode, but train_iters is set/]],
  },
  {
    name: "lr_decay_iters with train_samples",
    args: { seq_length: 4096, micro_batch_size: 1, train_samples: 100, lr_decay_iters: 10 },
    problems: [[p("lr_decay_iters"), /belongs to iteration mode, but train_samples is set/]],
  },
  {
    name: "warmup in the other mode, and lr_warmup_fraction with warmup iterations",
    args: { ...ok, lr_warmup_samples: 5, lr_warmup_iters: 10, lr_warmup_fraction: 0.1 },
    problems: [
      [p("lr_warmup_samples"), /belongs to sample mode/],
      [p("lr_warmup_fraction"), /cannot be combined with a non-zero lr_warmup_iters/],
    ],
  },
  {
    name: "fp16 and bf16 together",
    args: { ...ok, fp16: true, bf16: true },
    problems: [[p("bf16"), /fp16 and bf16 are mutually exclusive/]],
  },
  {
    name: "min_lr above lr",
    args: { ...ok, lr: 1e-4, min_lr: "1e-3" },
    problems: [[p("min_lr"), /min_lr 0.001 is greater than lr 0.0001/]],
  },
  {
    name: "save without save_interval",
    args: { ...ok, save: "/ckpt" },
    problems: [[p("save_interval"), /save is set but save_interval is missing/]],
  },
  {
    name: "save with save_interval 0 (through its other flag spelling)",
    args: { ...ok, save: "/ckpt", persistent_save_interval: 0 },
    problems: [[p("persistent_save_interval"), /save_interval must be > 0/]],
  },
  {
    name: "WSD without a WSD decay length (iteration mode)",
    args: { ...ok, lr_decay_style: "WSD" },
    problems: [[p("lr_wsd_decay_iters"), /"WSD" needs lr_wsd_decay_iters, which is missing/]],
  },
  {
    name: "WSD in sample mode needs lr_wsd_decay_samples",
    args: {
      seq_length: 4096,
      micro_batch_size: 1,
      train_samples: 100,
      lr_decay_style: "WSD",
      lr_wsd_decay_iters: 10,
    },
    problems: [[p("lr_wsd_decay_samples"), /needs lr_wsd_decay_samples/]],
  },
  {
    name: "WSD with its decay length is fine",
    args: { ...ok, lr_decay_style: "WSD", lr_wsd_decay_iters: 100 },
  },
  {
    name: "num_attention_heads must divide hidden_size",
    args: { ...ok, hidden_size: 1000, num_attention_heads: 3 },
    problems: [[p("num_attention_heads"), /hidden_size 1000 is not divisible by/]],
  },
  {
    name: "with kv_channels the head count need not divide hidden_size",
    args: { ...ok, hidden_size: 1000, num_attention_heads: 3, kv_channels: 128 },
  },
  {
    name: "max_position_embeddings below seq_length",
    args: { ...ok, max_position_embeddings: 2048 },
    problems: [[p("max_position_embeddings"), /2048 is less than seq_length 4096/]],
  },
  {
    name: "seq_length is required",
    args: { micro_batch_size: 1, train_iters: 10 },
    problems: [[p("seq_length"), /seq_length is missing/]],
  },
  {
    name: "encoder_seq_length stands in for seq_length, but not both",
    args: { ...ok, encoder_seq_length: 4096 },
    problems: [[p("encoder_seq_length"), /mutually exclusive/]],
  },
  {
    name: "micro_batch_size is required and positive",
    args: { seq_length: 4096, train_iters: 10 },
    problems: [[p("micro_batch_size"), /micro_batch_size is missing/]],
  },
  {
    name: "global_batch_size must be a multiple of micro_batch_size",
    args: { ...ok, micro_batch_size: 4, global_batch_size: 6 },
    problems: [[p("global_batch_size"), /6 is not a multiple of micro_batch_size 4/]],
  },
  {
    name: "with yaml_cfg the required-argument rules are skipped",
    args: { yaml_cfg: "/cfg.yaml" },
  },
];

for (const c of cases) {
  Deno.test(`validateMegatronArgs: ${c.name}`, () => {
    const r = validateMegatronArgs(c.args);
    const expected = c.problems ?? [];
    assert.equal(r.problems.length, expected.length, JSON.stringify(r.problems, null, 1));
    expected.forEach(([path, re, hint], i) => {
      assert.equal(r.problems[i].path, path);
      assert.match(r.problems[i].message, re);
      if (hint) assert.match(r.problems[i].hint ?? "", hint);
    });
    if (c.warnings) {
      assert.equal(r.warnings.length, c.warnings.length, JSON.stringify(r.warnings, null, 1));
      c.warnings.forEach(([path, re], i) => {
        assert.equal(r.warnings[i].path, path);
        assert.match(r.warnings[i].message, re);
      });
    }
  });
}

Deno.test("validateMegatronArgs: the path prefix is configurable", () => {
  const r = validateMegatronArgs({ ...ok, lr_decay_iter: 1 }, "points[3].args");
  assert.equal(r.problems[0].path, "points[3].args.lr_decay_iter");
});
