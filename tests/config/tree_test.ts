/**
 * Tests of the plain-data tree helpers: key paths, reading, writing, deleting, copying and
 * OmegaConf-style merging with the paths it reports.
 */
import assert from "node:assert/strict";
import {
  allPaths,
  cloneTree,
  type ConfigMap,
  type ConfigValue,
  deletePath,
  formatPath,
  getPath,
  hasPath,
  isMap,
  type KeyPath,
  mergeInto,
  setPath,
  splitKey,
  WholeFloat,
  withPlainNumbers,
} from "../../lib/config/tree.ts";

const sample = (): ConfigMap => ({
  slurm: { sbatch: { time: "01:00:00", nodes: 1 }, modules: ["gcc", { name: "cuda" }] },
  nothing: null,
  flag: false,
  zero: 0,
  empty: "",
});

Deno.test("isMap: only plain mappings", () => {
  const cases: [unknown, boolean][] = [
    [{}, true],
    [{ a: 1 }, true],
    [[], false],
    [null, false],
    ["a", false],
    [0, false],
    [undefined, false],
  ];
  for (const [v, expected] of cases) assert.strictEqual(isMap(v), expected, JSON.stringify(v));
});

Deno.test("formatPath and splitKey: dotted keys with list indices", () => {
  const format: [KeyPath, string][] = [
    [[], ""],
    [["a"], "a"],
    [["a", "b"], "a.b"],
    [["a", 0], "a[0]"],
    [["a", 0, "b", 12], "a[0].b[12]"],
    [[0, "a"], "[0].a"],
    [["a", "0"], "a.0"], // a string segment stays a key
  ];
  for (const [path, text] of format) assert.strictEqual(formatPath(path), text, text);

  const split: [string, string[]][] = [
    ["", []],
    ["a", ["a"]],
    ["a.b.c", ["a", "b", "c"]],
    ["a.b[0]", ["a", "b", "0"]],
    ["a.b.0", ["a", "b", "0"]],
    ["a[0][1].c", ["a", "0", "1", "c"]],
    ["list[10]", ["list", "10"]],
    ["with-dash.under_score", ["with-dash", "under_score"]],
    ["odd[x]", ["odd[x]"]], // not an index: kept as text
  ];
  for (const [key, path] of split) assert.deepStrictEqual(splitKey(key), path, key);
});

Deno.test("getPath and hasPath: keys, list indices and falsy values", () => {
  const tree = sample();
  const cases: [(string | number)[], ConfigValue | undefined][] = [
    [[], tree],
    [["slurm", "sbatch", "time"], "01:00:00"],
    [["slurm", "modules", 0], "gcc"],
    [["slurm", "modules", "1", "name"], "cuda"],
    [["nothing"], null],
    [["flag"], false],
    [["zero"], 0],
    [["empty"], ""],
    [["missing"], undefined],
    [["slurm", "modules", 2], undefined],
    [["slurm", "modules", -1], undefined],
    [["slurm", "modules", "x"], undefined],
    [["slurm", "sbatch", "time", "deeper"], undefined],
    [["nothing", "below"], undefined],
    [["toString"], undefined], // inherited properties are not keys
  ];
  for (const [path, expected] of cases) {
    assert.deepStrictEqual(getPath(tree, path), expected, formatPath(path));
    assert.strictEqual(hasPath(tree, path), expected !== undefined, formatPath(path));
  }
});

Deno.test("setPath: writes, creates mappings, refuses to go through scalars", () => {
  const cases: { path: (string | number)[]; ok: boolean; check?: (t: ConfigMap) => void }[] = [
    {
      path: ["slurm", "sbatch", "time"],
      ok: true,
      check: (t) => assert.strictEqual(getPath(t, ["slurm", "sbatch", "time"]), "X"),
    },
    {
      path: ["new", "deep", "key"],
      ok: true,
      check: (t) => assert.deepStrictEqual(t.new, { deep: { key: "X" } }),
    },
    {
      // A null on the way becomes a mapping.
      path: ["nothing", "key"],
      ok: true,
      check: (t) => assert.deepStrictEqual(t.nothing, { key: "X" }),
    },
    {
      path: ["slurm", "modules", 1],
      ok: true,
      check: (t) => assert.deepStrictEqual(getPath(t, ["slurm", "modules"]), ["gcc", "X"]),
    },
    {
      path: ["slurm", "modules", "0"],
      ok: true,
      check: (t) =>
        assert.deepStrictEqual(getPath(t, ["slurm", "modules"]), ["X", { name: "cuda" }]),
    },
    {
      path: ["slurm", "modules", "1", "version"],
      ok: true,
      check: (t) =>
        assert.deepStrictEqual(getPath(t, ["slurm", "modules", 1]), { name: "cuda", version: "X" }),
    },
    { path: ["slurm", "modules", 2], ok: false }, // no appending past the end
    { path: ["slurm", "modules", "x"], ok: false },
    { path: ["slurm", "modules", "x", "y"], ok: false },
    { path: ["flag", "sub"], ok: false },
    { path: ["slurm", "sbatch", "time", "sub"], ok: false },
  ];
  for (const c of cases) {
    const tree = sample();
    const before = JSON.stringify(tree);
    assert.strictEqual(setPath(tree, c.path, "X"), c.ok, formatPath(c.path));
    if (c.ok) c.check!(tree);
    else assert.strictEqual(JSON.stringify(tree), before, `${formatPath(c.path)} wrote something`);
  }
});

Deno.test("deletePath: mapping keys and list items", () => {
  const cases: { path: (string | number)[]; ok: boolean; expected?: unknown }[] = [
    { path: ["slurm", "sbatch", "nodes"], ok: true, expected: { time: "01:00:00" } },
    { path: ["slurm", "modules", 0], ok: true, expected: [{ name: "cuda" }] },
    { path: ["slurm", "modules", "1"], ok: true, expected: ["gcc"] },
    { path: ["nothing"], ok: true },
    { path: ["slurm", "sbatch", "missing"], ok: false },
    { path: ["slurm", "modules", 5], ok: false },
    { path: ["missing", "key"], ok: false },
    { path: ["toString"], ok: false },
  ];
  for (const c of cases) {
    const tree = sample();
    assert.strictEqual(deletePath(tree, c.path), c.ok, formatPath(c.path));
    if (c.ok) {
      assert.strictEqual(hasPath(tree, c.path) && c.expected === undefined, false);
      if (c.expected !== undefined) {
        assert.deepStrictEqual(getPath(tree, c.path.slice(0, -1)), c.expected, formatPath(c.path));
      }
    }
  }
});

Deno.test("cloneTree: a deep copy that shares nothing", () => {
  const tree = sample();
  const copy = cloneTree(tree);
  assert.deepStrictEqual(copy, tree);
  (copy.slurm as ConfigMap).sbatch = "changed";
  ((tree.slurm as ConfigMap).modules as ConfigValue[]).push("more");
  assert.deepStrictEqual((tree.slurm as ConfigMap).sbatch, { time: "01:00:00", nodes: 1 });
  assert.deepStrictEqual((copy.slurm as ConfigMap).modules, ["gcc", { name: "cuda" }]);
  for (const v of [1, "s", null, true]) assert.strictEqual(cloneTree(v), v);
});

Deno.test("mergeInto: mappings merge key by key, anything else replaces", () => {
  const cases: { name: string; base: ConfigMap; over: ConfigMap; expected: ConfigMap }[] = [
    {
      name: "nested mappings merge",
      base: { a: { x: 1, y: 2 }, keep: true },
      over: { a: { y: 3, z: 4 } },
      expected: { a: { x: 1, y: 3, z: 4 }, keep: true },
    },
    {
      name: "lists replace, they do not concatenate",
      base: { l: [1, 2, 3] },
      over: { l: [9] },
      expected: { l: [9] },
    },
    {
      name: "a mapping replaces a scalar or null",
      base: { a: 1, b: null },
      over: { a: { x: 1 }, b: { y: 2 } },
      expected: { a: { x: 1 }, b: { y: 2 } },
    },
    {
      name: "a scalar replaces a mapping",
      base: { a: { x: 1 } },
      over: { a: "flat" },
      expected: { a: "flat" },
    },
    {
      name: "null is a value that replaces",
      base: { a: { x: 1 } },
      over: { a: null },
      expected: { a: null },
    },
    {
      name: "an empty mapping merges as nothing",
      base: { a: { x: 1 } },
      over: { a: {} },
      expected: { a: { x: 1 } },
    },
    {
      name: "new keys keep the order they are written in, after existing ones",
      base: { b: 1 },
      over: { c: 2, a: 3, b: 4 },
      expected: { b: 4, c: 2, a: 3 },
    },
  ];
  for (const c of cases) {
    const result = mergeInto(c.base, c.over);
    assert.strictEqual(result, c.base, c.name);
    assert.deepStrictEqual(c.base, c.expected, c.name);
    assert.deepStrictEqual(Object.keys(c.base), Object.keys(c.expected), c.name);
  }
});

Deno.test("mergeInto: copies what it writes and reports every path it sets", () => {
  const over: ConfigMap = { a: { b: 1, l: [{ x: 1 }] }, s: "v" };
  const base: ConfigMap = { a: { keep: 0 } };
  const seen: string[] = [];
  mergeInto(base, over, (p) => seen.push(formatPath(p)));
  assert.deepStrictEqual(seen, ["a", "a.b", "a.l", "a.l[0]", "a.l[0].x", "s"]);
  ((over.a as ConfigMap).l as ConfigMap[])[0].x = 99;
  assert.deepStrictEqual(getPath(base, ["a", "l", 0, "x"]), 1);

  const prefixed: string[] = [];
  mergeInto({}, { k: { j: 1 } }, (p) => prefixed.push(formatPath(p)), ["root", 0]);
  assert.deepStrictEqual(prefixed, ["root[0].k", "root[0].k.j"]);
});

Deno.test("allPaths: every node, parents before children", () => {
  assert.deepStrictEqual(allPaths({ a: { b: [1, { c: 2 }] }, d: null }).map(formatPath), [
    "a",
    "a.b",
    "a.b[0]",
    "a.b[1]",
    "a.b[1].c",
    "d",
  ]);
  assert.deepStrictEqual(allPaths("scalar"), []);
  assert.deepStrictEqual(allPaths({}), []);
});

Deno.test("WholeFloat: a scalar for isMap, cloneTree and mergeInto; JSON writes it as Python does", () => {
  const one = new WholeFloat(1);
  assert.strictEqual(isMap(one), false);
  const tree: ConfigMap = { a: one, l: [new WholeFloat(-0), 2], m: { x: 1 } };
  const copy = cloneTree(tree);
  assert.strictEqual(copy.a, one); // immutable: shared, not turned into a plain object
  assert.deepStrictEqual(copy, tree);
  const base: ConfigMap = { a: { nested: 1 } };
  mergeInto(base, { a: one });
  assert.strictEqual(base.a, one);
  assert.strictEqual(JSON.stringify(tree), '{"a":1.0,"l":[-0.0,2],"m":{"x":1}}');
  assert.strictEqual(`${one}|${new WholeFloat(1e16)}|${Number(one) + 1}`, "1.0|1e+16|2");
});

Deno.test("withPlainNumbers: numbers for whole floats, the same objects where there are none", () => {
  const plain = { x: 1, y: [2, "a"] };
  const tree: ConfigMap = { p: plain, f: { lr: new WholeFloat(1), n: 3 } };
  const out = withPlainNumbers(tree);
  assert.deepStrictEqual(out, { p: plain, f: { lr: 1, n: 3 } });
  assert.strictEqual(out.p, plain);
  assert.strictEqual(withPlainNumbers(tree), out); // remembered
  assert.strictEqual(withPlainNumbers(plain), plain);
});
