/** Tests of `expandConvenienceArgs`: train_tokens, lr_decay_fraction, WSD lengths, sample mode. */
import assert from "node:assert/strict";
import { expandConvenienceArgs } from "../../../lib/plan/megatron/expand.ts";
import type { ConfigMap } from "../../../lib/config/tree.ts";

const base = { seq_length: 4096, global_batch_size: 1024 };

interface Case {
  readonly name: string;
  readonly args: ConfigMap;
  readonly out?: ConfigMap;
  readonly derived?: Record<string, number>;
  /** [path, message pattern] of each problem, in order. */
  readonly problems?: readonly [string, RegExp][];
}

const cases: Case[] = [
  {
    name: "train_tokens becomes train_iters = ceil(tokens / (seq * gbs)) in its place",
    args: { seq_length: 4096, train_tokens: 100e9, global_batch_size: 1024 },
    out: { seq_length: 4096, train_iters: 23842, global_batch_size: 1024 },
    derived: { train_iters: 23842 },
  },
  {
    name: "train_tokens divides exactly",
    args: { ...base, train_tokens: 4096 * 1024 * 10 },
    derived: { train_iters: 10 },
  },
  {
    name: "train_tokens takes integer-looking strings and encoder_seq_length",
    args: { encoder_seq_length: "2048", global_batch_size: "8", train_tokens: "1e6" },
    out: { encoder_seq_length: "2048", global_batch_size: "8", train_iters: 62 },
    derived: { train_iters: 62 },
  },
  {
    name: "train_tokens without seq_length names the missing key",
    args: { global_batch_size: 1024, train_tokens: 1e9 },
    out: { global_batch_size: 1024 },
    derived: {},
    problems: [["backend.args.train_tokens", /needs seq_length, which is missing/]],
  },
  {
    name: "train_tokens without global_batch_size names the missing key",
    args: { seq_length: 4096, train_tokens: 1e9 },
    problems: [["backend.args.train_tokens", /needs global_batch_size, which is missing/]],
  },
  {
    name: "train_tokens with train_iters is a conflict",
    args: { ...base, train_iters: 10, train_tokens: 1e9 },
    out: { ...base, train_iters: 10 },
    problems: [["backend.args.train_tokens", /train_tokens and train_iters both set/]],
  },
  {
    name: "train_tokens with train_samples is a conflict",
    args: { ...base, train_samples: 10, train_tokens: 1e9 },
    problems: [["backend.args.train_tokens", /train_tokens and train_samples both set/]],
  },
  {
    name: "train_tokens must be a positive number",
    args: { ...base, train_tokens: "lots" },
    problems: [["backend.args.train_tokens", /expected a positive number of tokens, got "lots"/]],
  },
  {
    name: "train_tokens in sample mode (a sample-based schedule key) derives train_samples",
    args: { seq_length: 4096, train_tokens: 100e9, lr_decay_samples: 1000 },
    out: { seq_length: 4096, train_samples: 24414063, lr_decay_samples: 1000 },
    derived: { train_samples: 24414063 },
  },
  {
    name: "lr_decay_fraction in iteration mode rounds fraction * train_iters",
    args: { train_iters: 1000, lr_decay_fraction: 0.8333 },
    out: { train_iters: 1000, lr_decay_iters: 833 },
    derived: { lr_decay_iters: 833 },
  },
  {
    name: "lr_decay_fraction uses the train_iters derived from train_tokens",
    args: { ...base, train_tokens: 100e9, lr_decay_fraction: 0.5 },
    derived: { train_iters: 23842, lr_decay_iters: 11921 },
  },
  {
    name: "lr_decay_fraction in sample mode gives lr_decay_samples",
    args: { train_samples: 1000, lr_decay_fraction: 0.9 },
    out: { train_samples: 1000, lr_decay_samples: 900 },
    derived: { lr_decay_samples: 900 },
  },
  {
    name: "WSD without a WSD length: lr_wsd_decay_iters defaults to the derived decay length",
    args: { train_iters: 1000, lr_decay_style: "WSD", lr_decay_fraction: 1 },
    out: {
      train_iters: 1000,
      lr_decay_style: "WSD",
      lr_decay_iters: 1000,
      lr_wsd_decay_iters: 1000,
    },
    derived: { lr_decay_iters: 1000, lr_wsd_decay_iters: 1000 },
  },
  {
    name: "WSD in sample mode: lr_wsd_decay_samples defaults the same way",
    args: { train_samples: 2000, lr_decay_style: "WSD", lr_decay_fraction: 0.5 },
    derived: { lr_decay_samples: 1000, lr_wsd_decay_samples: 1000 },
  },
  {
    name: "WSD with an explicit WSD length keeps it",
    args: {
      train_iters: 1000,
      lr_decay_style: "WSD",
      lr_wsd_decay_iters: 100,
      lr_decay_fraction: 1,
    },
    derived: { lr_decay_iters: 1000 },
  },
  {
    name: "lr_wsd_decay_fraction sets only the WSD length",
    args: {
      train_iters: 1000,
      lr_decay_style: "WSD",
      lr_decay_fraction: 1,
      lr_wsd_decay_fraction: 0.2,
    },
    out: {
      train_iters: 1000,
      lr_decay_style: "WSD",
      lr_decay_iters: 1000,
      lr_wsd_decay_iters: 200,
    },
    derived: { lr_decay_iters: 1000, lr_wsd_decay_iters: 200 },
  },
  {
    name: "other decay styles get no WSD length",
    args: { train_iters: 1000, lr_decay_style: "cosine", lr_decay_fraction: 1 },
    derived: { lr_decay_iters: 1000 },
  },
  {
    name: "lr_warmup_fraction is a real Megatron argument and is left alone",
    args: { train_iters: 1000, lr_warmup_fraction: 0.01 },
    out: { train_iters: 1000, lr_warmup_fraction: 0.01 },
    derived: {},
  },
  {
    name: "lr_decay_fraction out of (0, 1]",
    args: { train_iters: 1000, lr_decay_fraction: 1.5 },
    problems: [["backend.args.lr_decay_fraction", /expected a fraction in \(0, 1\], got 1.5/]],
  },
  {
    name: "lr_decay_fraction with lr_decay_iters is a conflict",
    args: { train_iters: 1000, lr_decay_iters: 10, lr_decay_fraction: 0.5 },
    problems: [["backend.args.lr_decay_fraction", /lr_decay_iters both set the decay length/]],
  },
  {
    name: "lr_wsd_decay_fraction with lr_wsd_decay_iters is a conflict",
    args: { train_iters: 1000, lr_wsd_decay_iters: 10, lr_wsd_decay_fraction: 0.5 },
    problems: [["backend.args.lr_wsd_decay_fraction", /both set the WSD decay length/]],
  },
  {
    name: "lr_decay_fraction without a training length",
    args: { lr_decay_fraction: 0.5 },
    problems: [["backend.args.lr_decay_fraction", /needs the training length/]],
  },
  {
    name: "lr_decay_fraction that rounds to zero",
    args: { train_iters: 10, lr_decay_fraction: 0.01 },
    problems: [["backend.args.lr_decay_fraction", /rounds to 0/]],
  },
  {
    name: "lr_decay_fraction with both training lengths cannot pick a mode",
    args: { train_iters: 10, train_samples: 10, lr_decay_fraction: 0.5 },
    problems: [["backend.args.lr_decay_fraction", /cannot tell iteration from sample mode/]],
  },
  {
    name: "null convenience keys are dropped, and a null derived key does not erase the value",
    args: { ...base, train_tokens: 4096 * 1024, lr_decay_fraction: null, train_iters: null },
    out: { ...base, train_iters: 1 },
    derived: { train_iters: 1 },
  },
];

for (const c of cases) {
  Deno.test(`expandConvenienceArgs: ${c.name}`, () => {
    const input = structuredClone(c.args);
    const r = expandConvenienceArgs(input);
    assert.deepEqual(input, c.args, "the input is not modified");
    if (c.out) {
      assert.deepEqual(r.args, c.out);
      assert.deepEqual(Object.keys(r.args), Object.keys(c.out), "key order");
    }
    if (c.derived) assert.deepEqual(r.derived, c.derived);
    const expected = c.problems ?? [];
    assert.equal(r.problems.length, expected.length, JSON.stringify(r.problems));
    expected.forEach(([path, re], i) => {
      assert.equal(r.problems[i].path, path);
      assert.match(r.problems[i].message, re);
    });
    for (const k of ["train_tokens", "lr_decay_fraction", "lr_wsd_decay_fraction"]) {
      assert.ok(!(k in r.args), `${k} is removed`);
    }
  });
}

Deno.test("expandConvenienceArgs: the path prefix is configurable", () => {
  const r = expandConvenienceArgs({ train_tokens: 1 }, "x.y");
  assert.equal(r.problems[0].path, "x.y.train_tokens");
});
