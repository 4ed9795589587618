/**
 * autoexp's own resolution semantics beyond OmegaConf (the OmegaConf-compatible part is pinned
 * by omegaconf_compat_test.ts): `$${...}` deferral, the `eval`, `oc.timestring`, `now` and
 * `platform` resolvers, and how problems are collected and worded.
 */
import assert from "node:assert/strict";
import type { ConfigProblem } from "../../lib/errors.ts";
import { type ResolveOptions, resolveString, resolveTree } from "../../lib/config/resolve.ts";
import { type ResolverEnvironment, standardResolvers } from "../../lib/config/resolvers.ts";
import type { ConfigMap } from "../../lib/config/tree.ts";

/** Tuesday 2 January 2024, 03:04:05.678 local time. */
const NOW = new Date(2024, 0, 2, 3, 4, 5, 678);

function options(world: Partial<ResolverEnvironment> = {}): ResolveOptions {
  return {
    resolvers: standardResolvers({ env: {}, now: NOW, platform: "base", ...world }),
  };
}

function describe(problems: readonly ConfigProblem[]): string {
  return problems.map((p) => `${p.path}: ${p.message}`).join("\n");
}

interface ValueCase {
  readonly name: string;
  readonly config: ConfigMap;
  readonly expected: ConfigMap;
  readonly env?: Record<string, string>;
}

const VALUE_CASES: readonly ValueCase[] = [
  // $${...} deferral
  {
    name: "double dollar keeps an interpolation for a later run",
    config: { y: 1, a: "$${oc.timestring:}", b: "run_$${x}_${y}" },
    expected: { y: 1, a: "${oc.timestring:}", b: "run_${x}_1" },
  },
  {
    name: "double dollar inside a quoted resolver argument",
    config: { a: "${oc.env:UNSET,'$${later}'}" },
    expected: { a: "${later}" },
  },
  {
    name: "double dollar in a referenced value is not resolved by the reference",
    config: { a: "$${x}", b: "${a}", c: "c_${a}" },
    expected: { a: "${x}", b: "${x}", c: "c_${x}" },
  },
  // eval
  {
    name: "eval of a quoted expression with interpolations",
    config: { a: 10, b: 2, c: 3, d: "${eval:'ceil(${a} / (${b} * ${c}))'}" },
    expected: { a: 10, b: 2, c: 3, d: 2 },
  },
  {
    name: "eval of an unquoted call with a comma",
    config: { a: 10, m: "${eval:max(${a}, 2)}", n: "${eval:min(${a}, 2)}" },
    expected: { a: 10, m: 10, n: 2 },
  },
  {
    name: "eval derives train_iters from a token budget",
    config: {
      tokens: 1_000_000_000,
      seq: 2048,
      gbs: 512,
      train_iters: "${eval:'int(${tokens} // (${seq} * ${gbs}))'}",
    },
    expected: { tokens: 1_000_000_000, seq: 2048, gbs: 512, train_iters: 953 },
  },
  {
    name: "eval with Python float formatting, comparisons and if-else",
    config: {
      lr: 1e-5,
      big: "${eval:'${lr} * 2 > 1e-05'}",
      pick: "${eval:'1 if ${lr} < 0.001 else 2'}",
      half: "${eval:'${lr} / 2'}",
    },
    expected: { lr: 1e-5, big: true, pick: 1, half: 5e-6 },
  },
  {
    name: "eval result inside a string",
    config: { a: 3, s: "n=${eval:'${a} ** 2'}_f=${eval:'${a} / 2'}" },
    expected: { a: 3, s: "n=9_f=1.5" },
  },
  // clocks and platform
  {
    name: "oc.timestring with the default format",
    config: { t: "${oc.timestring:}" },
    expected: { t: "20240102_030405" },
  },
  {
    name: "oc.timestring with custom formats",
    config: {
      a: "${oc.timestring:%Y-%m-%d}",
      b: "${oc.timestring:'%H:%M:%S.%f'}",
      c: "${oc.timestring:%a %b %j %y}",
      d: "run_${oc.timestring:%Y%m%d}_x",
      e: "${oc.timestring:100%%}",
    },
    expected: {
      a: "2024-01-02",
      b: "03:04:05.678000",
      c: "Tue Jan 002 24",
      d: "run_20240102_x",
      e: "100%",
    },
  },
  {
    name: "now resolver as in Hydra",
    config: { a: "${now:}", b: "${now:%Y}" },
    expected: { a: "2024-01-02_03-04-05", b: "2024" },
  },
  {
    name: "platform resolver",
    config: { p: "${platform:}", dir: "/scratch/${platform:}/runs" },
    expected: { p: "base", dir: "/scratch/base/runs" },
  },
  {
    name: "one instant for every timestamp in a config",
    config: { a: "${oc.timestring:}", b: { c: "${oc.timestring:}" } },
    expected: { a: "20240102_030405", b: { c: "20240102_030405" } },
  },
  {
    name: "resolvers compose with references and oc.env",
    config: {
      user: "${oc.env:USER,nobody}",
      out: "/runs/${user}/${platform:}_${oc.timestring:%Y}",
    },
    env: { USER: "ada" },
    expected: { user: "ada", out: "/runs/ada/base_2024" },
  },
];

Deno.test("resolveTree: autoexp extensions", async (t) => {
  for (const c of VALUE_CASES) {
    await t.step(c.name, () => {
      const { value, problems } = resolveTree(c.config, options({ env: c.env ?? {} }));
      assert.deepStrictEqual(problems, [], describe(problems));
      assert.deepStrictEqual(value, c.expected);
    });
  }
});

Deno.test("resolveTree: a deferred interpolation resolves in the later run", () => {
  const first = resolveTree({ x: 1, a: "$${x}_$${oc.timestring:%Y}" }, options());
  assert.deepStrictEqual(first.value, { x: 1, a: "${x}_${oc.timestring:%Y}" });
  const later = resolveTree(first.value, options({ now: new Date(2030, 5, 1) }));
  assert.deepStrictEqual(later.value, { x: 1, a: "1_2030" });
});

Deno.test("resolveTree: the platform is detected once and only when used", () => {
  let calls = 0;
  const detect = () => {
    calls++;
    return "lumi";
  };
  resolveTree({ a: 1 }, options({ platform: detect }));
  assert.strictEqual(calls, 0);
  const { value } = resolveTree(
    { a: "${platform:}", b: "${platform:}_x" },
    options({ platform: detect }),
  );
  assert.deepStrictEqual(value, { a: "lumi", b: "lumi_x" });
  assert.strictEqual(calls, 1);
});

Deno.test("resolveTree: does not change its input", () => {
  const config: ConfigMap = { a: 1, b: "${a}", c: { d: "${oc.dict.keys:c}" } };
  const before = structuredClone(config);
  resolveTree(config, options());
  assert.deepStrictEqual(config, before);
});

Deno.test("resolveTree: allowMissing keeps ??? for inspection", () => {
  const { value, problems } = resolveTree(
    { a: "???", b: { c: "???" }, d: 1 },
    { ...options(), allowMissing: true },
  );
  assert.deepStrictEqual(problems, []);
  assert.deepStrictEqual(value, { a: "???", b: { c: "???" }, d: 1 });
});

Deno.test("resolveString resolves text against a tree", () => {
  assert.strictEqual(resolveString({ a: { b: 2 } }, "x${a.b}", options()), "x2");
  assert.strictEqual(resolveString({ x: 1 }, "${..x}", options(), ["a", "b"]), 1);
});

interface ProblemCase {
  readonly name: string;
  readonly config: ConfigMap;
  /** Every problem expected, in report order: its path and substrings of its message. */
  readonly problems: readonly { readonly path: string; readonly mentions: readonly string[] }[];
}

const PROBLEM_CASES: readonly ProblemCase[] = [
  {
    name: "several failing nodes are reported at once, each once",
    config: {
      a: "${nope}",
      b: "${oc.env:UNSET_VAR}",
      c: "???",
      d: "${a}",
      e: "x${a}",
      f: { g: "${a}", h: "${c}" },
      ok: 1,
    },
    problems: [
      { path: "a", mentions: ['"${nope}"', '"nope"', "does not exist"] },
      { path: "b", mentions: ["oc.env", '"UNSET_VAR"', "${oc.env:UNSET_VAR,default}"] },
      { path: "c", mentions: ["missing required value", "-o c="] },
    ],
  },
  {
    name: "a cycle is reported once, naming its members in order",
    config: { a: "${b}", b: "x${c}", c: "${a}", d: "${b}" },
    problems: [{ path: "a", mentions: ["interpolation cycle: a -> b -> c -> a"] }],
  },
  {
    name: "a self reference is a cycle",
    config: { model: { dim: "${model.dim}" } },
    problems: [{ path: "model.dim", mentions: ["cycle: model.dim -> model.dim"] }],
  },
  {
    name: "a reference to an enclosing node is a cycle",
    config: { model: { layers: [{ dim: "${model.layers}" }] } },
    problems: [{
      path: "model.layers[0].dim",
      mentions: ['"${model.layers}"', '"model.layers"', "contains this node"],
    }],
  },
  {
    name: "an unknown resolver suggests the closest one",
    config: { t: "${oc.timestrin:}" },
    problems: [{ path: "t", mentions: ['unknown resolver "oc.timestrin"', '"oc.timestring"'] }],
  },
  {
    name: "an unknown resolver lists the known ones",
    config: { t: "${zzz:1}" },
    problems: [{ path: "t", mentions: ['"zzz"', "known: ", "eval", "oc.env"] }],
  },
  {
    name: "an unknown key names the full key path and suggests a sibling",
    config: { optim: { lr: 1 }, model: { lr: "${optim.lrr}" } },
    problems: [{
      path: "model.lr",
      mentions: ['"${optim.lrr}"', '"optim.lrr"', 'did you mean "lr"?'],
    }],
  },
  {
    name: "a relative reference above the root",
    config: { a: { b: "${...x}" } },
    problems: [{ path: "a.b", mentions: ['"...x"', "above the root"] }],
  },
  {
    name: "a reference to a missing value is reported once, at the missing value",
    config: { data: { path: "???" }, run: { input: "${data.path}" } },
    problems: [
      { path: "data.path", mentions: ["missing required value", "-o data.path="] },
    ],
  },
  {
    name: "a syntax error names the node and the column",
    config: { a: { b: "x_${oc.env:HOME" } },
    problems: [{ path: "a.b", mentions: ["unterminated interpolation at column 3"] }],
  },
  {
    name: "a failing eval names the resolver and the expression",
    config: { n: 2, bad: "${eval:'${n} / 0'}", evil: "${eval:'__import__(1)'}" },
    problems: [
      { path: "bad", mentions: ["${eval:...} failed", "2 / 0", "division by zero"] },
      { path: "evil", mentions: ["${eval:...} failed", "__import__"] },
    ],
  },
  {
    name: "a resolver with too many arguments",
    config: { p: "${platform:x}" },
    problems: [{ path: "p", mentions: ["platform takes 0 arguments, got 1"] }],
  },
  {
    name: "oc.decode of malformed text quotes it",
    config: { l: "${oc.decode:'[1, 2'}" },
    problems: [{ path: "l", mentions: ['cannot decode "[1, 2"', "unterminated list"] }],
  },
];

Deno.test("resolveTree: problems", async (t) => {
  for (const c of PROBLEM_CASES) {
    await t.step(c.name, () => {
      const { problems } = resolveTree(c.config, options());
      assert.deepStrictEqual(
        problems.map((p) => p.path),
        c.problems.map((p) => p.path),
        describe(problems),
      );
      problems.forEach((p, i) => {
        for (const s of c.problems[i].mentions) {
          assert.ok(p.message.includes(s), `${p.path}: message lacks "${s}": ${p.message}`);
        }
      });
    });
  }
});

Deno.test("resolveTree: with allowMissing, a reference to ??? is reported at the reference", () => {
  const { problems } = resolveTree(
    { data: { path: "???" }, run: { input: "${data.path}" } },
    { ...options(), allowMissing: true },
  );
  assert.strictEqual(problems.length, 1, describe(problems));
  assert.strictEqual(problems[0].path, "run.input");
  assert.match(
    problems[0].message,
    /"\$\{data\.path\}" refers to "data\.path", which is a missing/,
  );
});

Deno.test("resolveTree: problems carry the origin of the failing node", () => {
  const { problems } = resolveTree({ a: { b: "${nope}" } }, {
    ...options(),
    origin: (path) => path === "a.b" ? { file: "conf/x.yaml", line: 3, column: 5 } : undefined,
  });
  assert.deepStrictEqual(problems.map((p) => [p.path, p.file, p.line, p.column]), [
    ["a.b", "conf/x.yaml", 3, 5],
  ]);
});
