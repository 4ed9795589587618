import { assert_, assertEquals, assertMatch, assertThrows } from "../_assert.ts";
import { ConfigError, type ConfigProblem } from "../../lib/errors.ts";
import {
  expandSweep,
  MAX_SWEEP_POINTS,
  type MultirunAxis,
  parseSweepSpec,
  type PointValues,
} from "../../lib/sweep/expand.ts";

/** The values of every point of `raw` expanded with `multirun`. */
function values(raw: unknown, multirun: MultirunAxis[] = []): PointValues[] {
  const points = expandSweep(parseSweepSpec(raw), multirun);
  points.forEach((p, i) => assertEquals(p.index, i));
  return points.map((p) => p.values);
}

/** The problems of the ConfigError `fn` throws. */
function problems(fn: () => unknown): readonly ConfigProblem[] {
  let out: readonly ConfigProblem[] = [];
  assertThrows(fn, (e) => {
    assert_(e instanceof ConfigError, `expected a ConfigError, got ${e}`);
    out = e.problems;
  });
  return out;
}

/** Asserts that each [path, message pattern] appears among the problems, in order. */
function assertProblems(
  got: readonly ConfigProblem[],
  expected: readonly [string, RegExp][],
): void {
  assertEquals(
    got.map((p) => p.path),
    expected.map(([path]) => path),
    got.map((p) => `${p.path}: ${p.message}`).join("\n"),
  );
  expected.forEach(([, re], i) => assertMatch(`${got[i].message}\n${got[i].hint ?? ""}`, re));
}

const SCALING = {
  class_name: "Sweep",
  name_template: "{model_size}_lr{learning_rate}_gbsz{global_batch_size}",
  axes: {
    model_size: ["50M", "100M", "200M"],
    learning_rate: [0.1, 0.01, 0.001],
    global_batch_size: [128, 256, 512],
  },
  base_values: { backend: { args: { save_interval: 1000, log_interval: 100 } } },
};

Deno.test("expandSweep gives the seed's scaling study as 27 points, last axis fastest", () => {
  const spec = parseSweepSpec(SCALING);
  assertEquals(spec?.nameTemplate, SCALING.name_template);
  assertEquals(spec?.baseValues, SCALING.base_values);
  const expected: PointValues[] = [];
  for (const model_size of SCALING.axes.model_size) {
    for (const learning_rate of SCALING.axes.learning_rate) {
      for (const global_batch_size of SCALING.axes.global_batch_size) {
        expected.push({ model_size, learning_rate, global_batch_size });
      }
    }
  }
  const got = values(SCALING);
  assertEquals(got, expected);
  assertEquals(got[0], { model_size: "50M", learning_rate: 0.1, global_batch_size: 128 });
  assertEquals(got[1], { model_size: "50M", learning_rate: 0.1, global_batch_size: 256 });
  assertEquals(Object.keys(got[0]), ["model_size", "learning_rate", "global_batch_size"]);
});

Deno.test("parseSweepSpec returns null when there is no sweep", () => {
  for (const raw of [undefined, null, {}, { class_name: "Sweep" }]) {
    assertEquals(parseSweepSpec(raw), null, JSON.stringify(raw));
  }
  assertEquals(expandSweep(null), [{ index: 0, values: {} }]);
  assertEquals(values({ name_template: "fixed" }), [{}]);
});

Deno.test("expandSweep: grammar table", () => {
  const cases: { name: string; raw: unknown; expected: PointValues[] }[] = [
    {
      name: "axes with dotted keys",
      raw: { axes: { "backend.args.lr": [1e-3, 1e-4], seed: [1, 2] } },
      expected: [
        { "backend.args.lr": 1e-3, seed: 1 },
        { "backend.args.lr": 1e-3, seed: 2 },
        { "backend.args.lr": 1e-4, seed: 1 },
        { "backend.args.lr": 1e-4, seed: 2 },
      ],
    },
    {
      name: "axes as nested mappings give dotted keys",
      raw: { axes: { backend: { args: { lr: [1, 2] } }, seed: [7] } },
      expected: [{ "backend.args.lr": 1, seed: 7 }, { "backend.args.lr": 2, seed: 7 }],
    },
    {
      name: "zip mapping varies together",
      raw: { zip: { "backend.args.lr": [1e-3, 1e-4], "backend.args.min_lr": [1e-4, 1e-5] } },
      expected: [
        { "backend.args.lr": 1e-3, "backend.args.min_lr": 1e-4 },
        { "backend.args.lr": 1e-4, "backend.args.min_lr": 1e-5 },
      ],
    },
    {
      name: "a list of zip groups is a product of groups",
      raw: { zip: [{ a: [1, 2], b: [3, 4] }, { c: ["x", "y"], d: [true, false] }] },
      expected: [
        { a: 1, b: 3, c: "x", d: true },
        { a: 1, b: 3, c: "y", d: false },
        { a: 2, b: 4, c: "x", d: true },
        { a: 2, b: 4, c: "y", d: false },
      ],
    },
    {
      name: "explicit points, keys may differ, mapping values kept",
      raw: {
        points: [
          { "backend.args.lr": 1e-3, seed: 1 },
          { "backend.args.lr": 1e-4 },
          { backend: { args: { lr: 0.5 } } },
        ],
      },
      expected: [
        { "backend.args.lr": 1e-3, seed: 1 },
        { "backend.args.lr": 1e-4 },
        { backend: { args: { lr: 0.5 } } },
      ],
    },
    {
      name: "factor order within a mapping: axes, zip, points, product, concat",
      raw: {
        concat: [{ points: [{ e: 1 }] }, { points: [{ e: 2 }] }],
        product: [{ axes: { d: [1] } }],
        points: [{ c: 1 }],
        zip: { b: [1] },
        axes: { a: [1, 2] },
      },
      expected: [
        { a: 1, b: 1, c: 1, d: 1, e: 1 },
        { a: 1, b: 1, c: 1, d: 1, e: 2 },
        { a: 2, b: 1, c: 1, d: 1, e: 1 },
        { a: 2, b: 1, c: 1, d: 1, e: 2 },
      ],
    },
    {
      name: "product of sub-sweeps, first child outermost",
      raw: { product: [{ axes: { a: [1, 2] } }, { zip: { b: [3, 4], c: [5, 6] } }] },
      expected: [
        { a: 1, b: 3, c: 5 },
        { a: 1, b: 4, c: 6 },
        { a: 2, b: 3, c: 5 },
        { a: 2, b: 4, c: 6 },
      ],
    },
    {
      name: "concat of sub-sweeps may share keys; {} is a baseline point",
      raw: {
        concat: [
          {},
          { axes: { lr: [0.1, 0.2] } },
          { points: [{ lr: 0.3, wd: 0.1 }] },
          { concat: [{ points: [{ lr: 9 }] }] },
        ],
      },
      expected: [{}, { lr: 0.1 }, { lr: 0.2 }, { lr: 0.3, wd: 0.1 }, { lr: 9 }],
    },
    {
      name: "concat combined with axes",
      raw: {
        axes: { size: ["s", "m"] },
        concat: [{ points: [{ opt: "adam" }] }, { axes: { opt: ["sgd"], mom: [0.9] } }],
      },
      expected: [
        { size: "s", opt: "adam" },
        { size: "s", opt: "sgd", mom: 0.9 },
        { size: "m", opt: "adam" },
        { size: "m", opt: "sgd", mom: 0.9 },
      ],
    },
  ];
  for (const { name, raw, expected } of cases) assertEquals(values(raw), expected, name);
});

Deno.test("expandSweep: filters table", () => {
  const grid = { model_size: ["50M", "200M"], learning_rate: [0.1, 0.01] };
  const cases: { name: string; raw: unknown; expected: PointValues[] }[] = [
    {
      name: "the seed-style filter drops one combination",
      raw: { axes: grid, filter: "not (model_size == '200M' and learning_rate == 0.1)" },
      expected: [
        { model_size: "50M", learning_rate: 0.1 },
        { model_size: "50M", learning_rate: 0.01 },
        { model_size: "200M", learning_rate: 0.01 },
      ],
    },
    {
      name: "filters: a point must pass every expression",
      raw: { axes: grid, filters: ["model_size == '50M'", "learning_rate < 0.05"] },
      expected: [{ model_size: "50M", learning_rate: 0.01 }],
    },
    {
      name: "last segment and full dotted key both work",
      raw: {
        axes: { "backend.args.lr": [1, 2, 3] },
        filters: ["lr != 2", "backend.args.lr != 3", "args.lr > 0"],
      },
      expected: [{ "backend.args.lr": 1 }],
    },
    {
      name: "a non-boolean result counts by Python truthiness",
      raw: { axes: { seed: [0, 1, 2, 3], tag: ["", "x"] }, filters: ["seed % 2", "tag"] },
      expected: [{ seed: 1, tag: "x" }, { seed: 3, tag: "x" }],
    },
    {
      name: "a key a concat branch does not set reads as None",
      raw: {
        concat: [{ axes: { lr: [0.1, 0.2] } }, { points: [{ wd: 0.1 }] }],
        filter: "lr == None or lr > 0.15",
      },
      expected: [{ lr: 0.2 }, { wd: 0.1 }],
    },
    {
      name: "a sub-sweep's filter applies within it only",
      raw: {
        axes: { a: [1, 2] },
        product: [{ axes: { b: [1, 2, 3] }, filter: "b >= 2" }],
      },
      expected: [{ a: 1, b: 2 }, { a: 1, b: 3 }, { a: 2, b: 2 }, { a: 2, b: 3 }],
    },
  ];
  for (const { name, raw, expected } of cases) assertEquals(values(raw), expected, name);
});

Deno.test("expandSweep appends -m axes after the sweep's factors, in command-line order", () => {
  const multirun = [{ key: "seed", values: [1, 2] }, { key: "backend", values: ["a", "b"] }];
  assertEquals(values({ axes: { lr: [0.1] } }, multirun), [
    { lr: 0.1, seed: 1, backend: "a" },
    { lr: 0.1, seed: 1, backend: "b" },
    { lr: 0.1, seed: 2, backend: "a" },
    { lr: 0.1, seed: 2, backend: "b" },
  ]);
  assertEquals(expandSweep(null, [{ key: "x", values: [1, 2] }]).map((p) => p.values), [
    { x: 1 },
    { x: 2 },
  ]);
  // The top-level filter sees -m keys.
  assertEquals(
    values({ axes: { lr: [0.1, 0.2] }, filter: "lr * seed < 0.3" }, multirun.slice(0, 1)),
    [
      { lr: 0.1, seed: 1 },
      { lr: 0.1, seed: 2 },
      { lr: 0.2, seed: 1 },
    ],
  );
});

Deno.test("expandSweep rejects a -m key the sweep already sets, naming both", () => {
  const got = problems(() =>
    values({ axes: { "backend.args.lr": [1] } }, [{ key: "backend.args.lr", values: [2, 3] }])
  );
  assertProblems(got, [[
    "backend.args.lr",
    /swept twice: by sweep\.axes\.backend\.args\.lr and by the command line \(-m -o backend\.args\.lr=2,3\)/,
  ]]);
  assertProblems(problems(() => expandSweep(null, [{ key: "x", values: [] }])), [
    ["x", /lists no values/],
  ]);
});

Deno.test("parseSweepSpec rejects a key set by two factors, naming both", () => {
  const cases: { raw: unknown; expected: [string, RegExp][] }[] = [
    {
      raw: { axes: { lr: [1, 2] }, points: [{ seed: 1 }, { lr: 3 }] },
      expected: [[
        "sweep.points[1].lr",
        /"lr" is swept twice: by sweep\.axes\.lr and by sweep\.points\[1\]\.lr/,
      ]],
    },
    {
      raw: { axes: { a: [1] }, zip: [{ a: [1], b: [2] }] },
      expected: [["sweep.zip[0].a", /by sweep\.axes\.a and by sweep\.zip\[0\]\.a/]],
    },
    {
      raw: { product: [{ axes: { a: [1] } }, { concat: [{ points: [{ a: 2 }] }] }] },
      expected: [[
        "sweep.product[1].concat[0].points[0].a",
        /by sweep\.product\[0\]\.axes\.a and by sweep\.product\[1\]\.concat\[0\]\.points\[0\]\.a/,
      ]],
    },
    {
      raw: { axes: { "a.b": [1], a: { b: [2] } } },
      expected: [["sweep.axes.a.b", /"a\.b" is listed twice/]],
    },
  ];
  for (const { raw, expected } of cases) {
    assertProblems(problems(() => parseSweepSpec(raw)), expected);
  }
});

Deno.test("parseSweepSpec reports every problem at once, with key paths and hints", () => {
  const got = problems(() =>
    parseSweepSpec({
      axs: { lr: [1] },
      axes: { lr: 0.1, wd: [], "a..b": [1], opt: "adam,sgd" },
      zip: { "backend.args.lr": [1e-3, 1e-4, 1e-5], "backend.args.min_lr": [1e-4, 1e-5] },
      points: [{ seed: 1 }, 3],
      product: [{ axes: { x: [1] }, name_template: "x" }, "nope"],
      concat: [],
      filter: "lr >",
      filters: [3],
      name_template: "{lr",
      base_values: [1],
      class_name: "Sweeper",
    })
  );
  assertProblems(got, [
    ["sweep.axs", /unknown key "axs"\ndid you mean "axes"\?/],
    ["sweep.axes.lr", /expected a list of values, got 0\.1\nwrite lr: \[0\.1\] for a single value/],
    ["sweep.axes.wd", /the list of values is empty/],
    ["sweep.axes.a..b", /invalid key "a\.\.b"/],
    [
      "sweep.axes.opt",
      /expected a list of values, got "adam,sgd"\nwrite a YAML list: opt: \[adam,sgd\]/,
    ],
    [
      "sweep.zip",
      /zipped lists differ in length: backend\.args\.lr has 3, backend\.args\.min_lr has 2/,
    ],
    ["sweep.points[1]", /expected a point \(a mapping of key: value\), got 3/],
    ["sweep.product[0].name_template", /unknown key "name_template"/],
    ["sweep.product[1]", /expected a sub-sweep mapping/],
    ["sweep.concat", /expected a non-empty list of sub-sweeps/],
    ["sweep.filter", /invalid filter: unexpected end of expression at column 5/],
    ["sweep.filters[0]", /expected a filter expression \(a string\), got 3/],
    ["sweep.class_name", /expected "Sweep", got "Sweeper"/],
    ["sweep.name_template", /invalid name template: unclosed "\{"/],
    ["sweep.base_values", /expected a mapping/],
  ]);
});

Deno.test("parseSweepSpec attaches file, line and column from the origin lookup", () => {
  const origins: Record<string, { file: string; line: number; column: number }> = {
    "sweep.zip": { file: "config/sweep/s.yaml", line: 4, column: 3 },
    "sweep.axes": { file: "config/sweep/s.yaml", line: 2, column: 3 },
  };
  const got = problems(() =>
    parseSweepSpec({ axes: { lr: 1 }, zip: { a: [1], b: [] } }, (p) => origins[p])
  );
  assertEquals(got.map((p) => [p.path, p.file, p.line]), [
    ["sweep.axes.lr", "config/sweep/s.yaml", 2], // falls back to the parent key
    ["sweep.zip.b", "config/sweep/s.yaml", 4],
  ]);
  assertMatch(String(new ConfigError(got)), /config\/sweep\/s\.yaml:2:3: sweep\.axes\.lr: /);
});

Deno.test("filters: unknown and ambiguous names are reported with suggestions", () => {
  assertProblems(
    problems(() =>
      parseSweepSpec({ product: [{ axes: { model_size: [1] }, filter: "modelsize > 0" }] })
    ),
    [[
      "sweep.product[0].filter",
      /unknown name "modelsize" in the filter\ndid you mean "model_size"\?/,
    ]],
  );
  // Top-level filters are checked against the -m keys too, when expanding.
  const spec = parseSweepSpec({ axes: { "a.lr": [1], "b.lr": [2] }, filter: "lr > 0 and sed" });
  assertProblems(problems(() => expandSweep(spec, [{ key: "seed", values: [1] }])), [
    ["sweep.filter", /"lr" in the filter is ambiguous: it could be "a\.lr" or "b\.lr"/],
    ["sweep.filter", /unknown name "sed" in the filter\ndid you mean "seed"\?/],
  ]);
});

Deno.test("filters: an evaluation failure names the point; dropping every point is an error", () => {
  assertProblems(
    problems(() => values({ axes: { size: ["50M"] }, filter: "size > 1" })),
    [["sweep.filter", /the filter failed on the point size=50M: .*not supported between/]],
  );
  assertProblems(problems(() => values({ axes: { a: [1, 2] }, filter: "a > 5" })), [
    ["sweep", /no points: its filters drop every combination\ncheck "sweep\.filter"/],
  ]);
});

Deno.test("expandSweep refuses sweeps over the point limit before materialising them", () => {
  const big = Array.from({ length: 1001 }, (_, i) => i);
  assertProblems(problems(() => values({ axes: { a: big, b: big } })), [
    ["sweep", /the sweep has 1,002,001 points before filtering; the limit is 1,000,000/],
  ]);
  assertEquals(MAX_SWEEP_POINTS, 1_000_000);
  // Each sub-sweep is checked before its own filter runs.
  const raw = {
    product: [{ axes: { a: big, b: big }, filter: "a < 2" }, { axes: { c: [1, 2] } }],
  };
  assertProblems(problems(() => values(raw)), [["sweep.product[0]", /1,002,001 points/]]);
});

Deno.test("expandSweep is deterministic and its points do not share mutable values", () => {
  const raw = {
    axes: { a: [1, 2, 3], b: ["x", "y"] },
    points: [{ cfg: { k: [1] } }, { cfg: { k: [2] } }],
    filter: "a != 2",
  };
  const spec = parseSweepSpec(raw);
  const first = expandSweep(spec);
  assertEquals(expandSweep(spec), first);
  assertEquals(expandSweep(parseSweepSpec(structuredClone(raw))), first);
  (first[0].values.cfg as { k: number[] }).k.push(99);
  assertEquals(expandSweep(spec)[0].values.cfg, { k: [1] });
  assertEquals(raw.points[0].cfg.k, [1]);
});

Deno.test("expandSweep expands 10,000 filtered points quickly", () => {
  const range = (n: number) => Array.from({ length: n }, (_, i) => i);
  const spec = parseSweepSpec({
    axes: { "backend.args.lr": range(25), seed: range(20), size: ["a", "b", "c", "d", "e"] },
    zip: { x: range(5), y: range(5) },
    filter: "not (size == 'c' and seed == 3)",
  });
  const start = performance.now();
  const points = expandSweep(spec);
  const ms = performance.now() - start;
  assertEquals(points.length, 12_500 - 125);
  assert_(ms < 500, `took ${ms.toFixed(1)} ms`); // generous for CI; see bench/sweep_bench.ts
});
