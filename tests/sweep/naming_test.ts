import { assert_, assertEquals, assertMatch, assertThrows } from "../_assert.ts";
import { ConfigError, type ConfigProblem } from "../../lib/errors.ts";
import {
  expandSweep,
  parseSweepSpec,
  type PointValues,
  type SweepPoint,
} from "../../lib/sweep/expand.ts";
import {
  assignRunNames,
  defaultNameTemplate,
  MAX_RUN_NAME_LENGTH,
  renderRunName,
  sanitizeRunName,
} from "../../lib/sweep/naming.ts";

function problems(fn: () => unknown): readonly ConfigProblem[] {
  let out: readonly ConfigProblem[] = [];
  assertThrows(fn, (e) => {
    assert_(e instanceof ConfigError, `expected a ConfigError, got ${e}`);
    out = e.problems;
  });
  return out;
}

function pointsOf(list: PointValues[]): SweepPoint[] {
  return list.map((values, index) => ({ index, values }));
}

const CTX = { index: 7, project: "scaling" };

Deno.test("assignRunNames names the seed's scaling study exactly, in order", () => {
  const spec = parseSweepSpec({
    name_template: "{model_size}_lr{learning_rate}_gbsz{global_batch_size}",
    axes: {
      model_size: ["50M", "100M", "200M"],
      learning_rate: [0.1, 0.01, 0.001],
      global_batch_size: [128, 256, 512],
    },
  });
  const names = assignRunNames(expandSweep(spec), spec?.nameTemplate, { project: "scaling" });
  const expected: string[] = [];
  for (const m of ["50M", "100M", "200M"]) {
    for (const lr of ["0.1", "0.01", "0.001"]) {
      for (const g of ["128", "256", "512"]) expected.push(`${m}_lr${lr}_gbsz${g}`);
    }
  }
  assertEquals(names, expected);
  assertEquals(names.slice(0, 2), ["50M_lr0.1_gbsz128", "50M_lr0.1_gbsz256"]);
});

Deno.test("renderRunName: placeholders and value formatting table", () => {
  const values: PointValues = {
    model_size: "50M",
    "backend.args.lr": 1e-5,
    "backend.args.min_lr": 0.001,
    "optimizer.beta": 0.95,
    seed: 3,
    flag: true,
    none: null,
    big: 1e16,
  };
  const cases: [string, string][] = [
    ["{model_size}_lr{backend.args.lr}", "50M_lr1e-05"],
    ["{model_size}_lr{lr}", "50M_lr1e-05"],
    ["{args.min_lr}", "0.001"],
    ["{backend___args___lr}", "1e-05"],
    ["{beta}_{optimizer.beta}", "0.95_0.95"],
    ["{project}-{project_name}-{index}", "scaling-scaling-7"],
    ["run{index:04d}", "run0007"],
    ["s{seed:03d}_{index:d}", "s003_7"],
    ["{flag}_{none}_{big}", "True_None_1e+16"],
    ["{{literal}}_{seed}", "_literal_3"],
    ["{model_size} / lr={lr}", "50M_lr_1e-05"],
  ];
  for (const [template, expected] of cases) {
    assertEquals(renderRunName(template, values, CTX), expected, template);
  }
});

Deno.test("renderRunName: swept keys named like the context names take precedence", () => {
  assertEquals(renderRunName("{project}_{index}", { project: "a" }, CTX), "a_7");
});

Deno.test("renderRunName: mapping and list values render as a short stable hash", () => {
  const a = renderRunName("{backend}", { backend: { args: { lr: 1, wd: 2 } } }, CTX);
  const b = renderRunName("{backend}", { backend: { args: { wd: 2, lr: 1 } } }, CTX);
  const c = renderRunName("{backend}", { backend: { args: { wd: 2, lr: 3 } } }, CTX);
  assertMatch(a, /^h[0-9a-f]{10}$/);
  assertEquals(a, b); // key order does not matter
  assert_(a !== c);
  assertMatch(renderRunName("{dims}", { dims: [1, 2] }, CTX), /^h[0-9a-f]{10}$/);
});

Deno.test("renderRunName: template errors table", () => {
  const values = { model_size: "50M", "backend.args.lr": 0.1, "optimizer.lr": 0.2 };
  const cases: [string, RegExp][] = [
    [
      "{model_sise}",
      /unknown placeholder \{model_sise\} in the name template\ndid you mean \{model_size\}\? available: \{index\}, \{project\}, \{model_size\}/,
    ],
    [
      "{lr}",
      /placeholder \{lr\} is ambiguous: it could be \{backend\.args\.lr\} or \{optimizer\.lr\}/,
    ],
    ["{model_size", /invalid name template "\{model_size": unclosed "\{" .* at column 1/],
    ["a}b", /single "\}" .* at column 2/],
    ["{}", /empty placeholder/],
    ["{model_size:>10}", /format spec "\{model_size:>10\}" is not supported/],
    ["{model_size:04d}", /\{model_size:04d\} needs an integer, got 50M/],
  ];
  for (const [template, re] of cases) {
    const got = problems(() => renderRunName(template, values, CTX));
    assertEquals(got.map((p) => p.path), ["sweep.name_template"], template);
    assertMatch(`${got[0].message}\n${got[0].hint ?? ""}`, re);
  }
  // Every unknown placeholder is reported at once.
  assertEquals(problems(() => renderRunName("{a}_{b}", values, CTX)).length, 2);
});

Deno.test("assignRunNames lists every collision with the points that produced it", () => {
  const points = pointsOf([
    { lr: 0.1, seed: 1 },
    { lr: 0.1, seed: 2 },
    { lr: 0.2, seed: 1 },
    { lr: 0.2, seed: 2 },
    { lr: 0.3, seed: 1 },
  ]);
  const got = problems(() => assignRunNames(points, "lr{lr}", { project: "p" }));
  assertEquals(got.map((p) => p.path), ["sweep.name_template", "sweep.name_template"]);
  assertEquals(
    got.map((p) => p.message),
    [
      'run name "lr0.1" is produced by 2 points: #0 (lr=0.1, seed=1), #1 (lr=0.1, seed=2)',
      'run name "lr0.2" is produced by 2 points: #2 (lr=0.2, seed=1), #3 (lr=0.2, seed=2)',
    ],
  );
  assertMatch(
    got[0].hint ?? "",
    /template "lr\{lr\}" does not tell them apart; .*\{seed\} or \{index\}/,
  );
  // Names that only collide after sanitising are caught too.
  const slashed = pointsOf([{ m: "a/b" }, { m: "a b" }]);
  assertMatch(
    problems(() => assignRunNames(slashed, "{m}", { project: "p" }))[0].message,
    /run name "a_b" is produced by 2 points/,
  );
});

Deno.test("assignRunNames uses the default template, adding {index} only when needed", () => {
  const spec = parseSweepSpec({ axes: { "backend.args.lr": [0.1, 0.01], seed: [1, 2] } });
  assertEquals(assignRunNames(expandSweep(spec), undefined, { project: "demo" }), [
    "demo_lr0.1_seed1",
    "demo_lr0.1_seed2",
    "demo_lr0.01_seed1",
    "demo_lr0.01_seed2",
  ]);
  // Duplicate points: the default template falls back to adding the index.
  const dup = pointsOf([{ a: 1 }, { a: 1 }]);
  assertEquals(assignRunNames(dup, undefined, { project: "p" }), ["p_a1_0", "p_a1_1"]);
  assertEquals(assignRunNames(pointsOf([{}]), undefined, { project: "solo" }), ["solo"]);
  // Keys a point does not set render as None.
  const mixed = pointsOf([{ lr: 0.1 }, { wd: 0.5 }]);
  assertEquals(assignRunNames(mixed, undefined, { project: "p" }), [
    "p_lr0.1_wdNone",
    "p_lrNone_wd0.5",
  ]);
});

Deno.test("defaultNameTemplate table", () => {
  const cases: { name: string; points: PointValues[]; expected: string }[] = [
    { name: "no points", points: [], expected: "{project}" },
    { name: "one empty point", points: [{}], expected: "{project}" },
    { name: "several empty points", points: [{}, {}], expected: "{project}_{index}" },
    {
      name: "initials of multi-word keys, dash before non-numbers",
      points: [{
        model_size: "50M",
        "backend.args.learning_rate": 0.1,
        "backend.args.global_batch_size": 128,
        seed: 1,
      }],
      expected:
        "{project}_ms-{model_size}_lr{backend.args.learning_rate}_gbs{backend.args.global_batch_size}_seed{seed}",
    },
    {
      name: "coinciding initials fall back to the whole segment",
      points: [{ learning_rate: 0.1, lr: 0.2 }],
      expected: "{project}_learning_rate{learning_rate}_lr{lr}",
    },
    {
      name: "coinciding segments fall back to the distinguishing trailing part",
      points: [{ "backend.args.lr": 0.1, "optimizer.lr": 0.2 }],
      expected: "{project}_args_lr{backend.args.lr}_optimizer_lr{optimizer.lr}",
    },
    {
      name: "mapping and list values are represented by the index",
      points: [{ backend: { args: { lr: 1 } }, seed: 1 }, { backend: "x", seed: 2, dims: [1] }],
      expected: "{project}_seed{seed}_{index}",
    },
    {
      name: "a swept key named project",
      points: [{ project: "a" }],
      expected: "{project_name}_project-{project}",
    },
  ];
  for (const { name, points, expected } of cases) {
    assertEquals(defaultNameTemplate(pointsOf(points)), expected, name);
  }
});

Deno.test("sanitizeRunName table", () => {
  const cases: [string, string][] = [
    ["50M_lr0.1_gbsz128", "50M_lr0.1_gbsz128"],
    ["meta-llama/Llama 3 (8B)", "meta-llama_Llama_3_8B_"],
    ["a  //  b", "a_b"],
    ["a__b", "a_b"],
    ["café_naïve", "cafe_naive"],
    ["模型_x", "_x"],
    ["🚀run", "_run"],
    ["lr=1e-05,wd=0.1", "lr_1e-05_wd_0.1"],
    ["x+y.z-w", "x+y.z-w"],
    ["", "run"],
    [".", "_"],
    ["..", "_."],
    [".hidden", "_hidden"],
    ["-flag", "_flag"],
    ["\n\t", "_"],
  ];
  for (const [input, expected] of cases) assertEquals(sanitizeRunName(input), expected, input);
});

Deno.test("sanitizeRunName keeps long names distinct and is idempotent", () => {
  const a = sanitizeRunName(`${"x".repeat(200)}_a`);
  const b = sanitizeRunName(`${"x".repeat(200)}_b`);
  assertEquals(a.length, MAX_RUN_NAME_LENGTH);
  assertMatch(a, /^x+_[0-9a-f]{8}$/);
  assert_(a !== b);
  for (const s of [a, "a  b", ".x", "café/ü", "", "..", "-x"]) {
    const once = sanitizeRunName(s);
    assertEquals(sanitizeRunName(once), once, s);
    assertMatch(once, /^[A-Za-z0-9_+][A-Za-z0-9._+-]{0,127}$/);
  }
});

Deno.test("assignRunNames is deterministic", () => {
  const spec = parseSweepSpec({
    axes: { a: [1, 2, 3], b: ["x", "y"] },
    points: [{ cfg: { k: 1 } }, { cfg: { k: 2 } }],
  });
  const first = assignRunNames(expandSweep(spec), undefined, { project: "p" });
  assertEquals(assignRunNames(expandSweep(spec), undefined, { project: "p" }), first);
  assertEquals(new Set(first).size, first.length);
  assertMatch(first[0], /^p_a1_b-x_0$/);
});
