/**
 * Tests of Hydra's override grammar as `-o` parses it: the prefixes (`+`, `++`, `~`), keys and
 * packages, typed scalars, quoted strings, lists, dicts, interpolations kept as text, escapes,
 * and sweeps (`a,b`, `range()`, `choice()`).
 */
import assert from "node:assert/strict";
import {
  type Override,
  parseOverride,
  parseOverridePrimitive,
  parseOverrideValue,
} from "../../lib/config/overrides.ts";
import { type ConfigValue, WholeFloat } from "../../lib/config/tree.ts";
import { UsageError } from "../../lib/errors.ts";

Deno.test("parseOverride: prefixes choose the kind; keys and packages", () => {
  const cases: [string, Partial<Override>][] = [
    ["a.b=1", { kind: "set", key: "a.b", value: 1 }],
    ["+a.b=1", { kind: "add", key: "a.b", value: 1 }],
    ["++a.b=1", { kind: "force", key: "a.b", value: 1 }],
    ["~a.b", { kind: "delete", key: "a.b", value: undefined }],
    ["~a.b=1", { kind: "delete", key: "a.b", value: 1 }],
    // Nothing after "=" deletes whatever the value is (Hydra), unlike `~a.b=''`.
    ["~a.b=", { kind: "delete", key: "a.b", value: undefined }],
    ["~a.b=''", { kind: "delete", key: "a.b", value: "" }],
    ["slurm=lumi", { kind: "set", key: "slurm", value: "lumi" }],
    ["/slurm=lumi", { kind: "set", key: "/slurm", value: "lumi" }],
    ["compute/killarney/gpu=h100", { kind: "set", key: "compute/killarney/gpu", value: "h100" }],
    ["db@backup=mysql", { kind: "set", key: "db", package: "backup", value: "mysql" }],
    ["+db@_global_.x=mysql", { kind: "add", key: "db", package: "_global_.x", value: "mysql" }],
    ["a.list[0]=x", { kind: "set", key: "a.list[0]", value: "x" }],
    ["a.list.0=x", { kind: "set", key: "a.list.0", value: "x" }],
    ["train-iters=5", { kind: "set", key: "train-iters", value: 5 }],
    // The first "=" ends the key.
    ["env.OPTS=--x=1", { kind: "set", key: "env.OPTS", value: "--x=1" }],
    ["a=", { kind: "set", key: "a", value: "" }],
  ];
  for (const [text, expected] of cases) {
    const o = parseOverride(text);
    assert.strictEqual(o.text, text);
    assert.strictEqual(o.sweep, undefined, text);
    for (const [k, v] of Object.entries(expected)) {
      assert.deepStrictEqual(o[k as keyof Override], v, `${text}: ${k}`);
    }
  }
});

Deno.test("parseOverride: scalars are typed as Hydra types them", () => {
  const cases: [string, ConfigValue][] = [
    // integers
    ["1", 1],
    ["0", 0],
    ["-7", -7],
    ["+5", 5],
    ["1_000_000", 1000000],
    // Hydra's INT has no leading zeros: these are strings.
    ["007", "007"],
    ["0123", "0123"],
    // floats
    ["1.5", 1.5],
    ["-0.25", -0.25],
    [".5", 0.5],
    // A float with an integral value stays a float, as in Hydra (`x=1.0` prints "1.0").
    ["1.", new WholeFloat(1)],
    ["1.0", new WholeFloat(1)],
    ["300.0", new WholeFloat(300)],
    ["-0.0", new WholeFloat(-0)],
    ["1e10", new WholeFloat(1e10)],
    ["1e-3", 0.001],
    ["2.5E3", new WholeFloat(2500)],
    ["1_0.5", 10.5],
    ["inf", Infinity],
    ["-inf", -Infinity],
    ["+INF", Infinity],
    // booleans and null, case-insensitive
    ["true", true],
    ["False", false],
    ["TRUE", true],
    ["null", null],
    ["NULL", null],
    // everything else is a string, YAML 1.1 spellings included
    ["yes", "yes"],
    ["off", "off"],
    ["~", "~"],
    ["lumi", "lumi"],
    ["01:00:00", "01:00:00"],
    ["gpu:4", "gpu:4"],
    ["B:USR1@120", "B:USR1@120"],
    ["/scratch/project/out", "/scratch/project/out"],
    ["1.2.3", "1.2.3"],
    ["e5", "e5"],
    ["0x1F", "0x1F"],
    ["hello world", "hello world"],
    ["  padded  ", "padded"],
    ["-", "-"],
    ["a*b?c|d%", "a*b?c|d%"],
  ];
  for (const [text, expected] of cases) {
    assert.deepStrictEqual(parseOverride(`k=${text}`).value, expected, JSON.stringify(text));
  }
  assert.ok(Number.isNaN(parseOverride("k=nan").value));
  assert.ok(Number.isNaN(parseOverridePrimitive("NaN")));
});

Deno.test("parseOverride: quoted strings, lists, dicts and interpolations", () => {
  const cases: [string, ConfigValue][] = [
    // quoted strings keep their text and type
    ["'a,b'", "a,b"],
    ['"true"', "true"],
    ["'1'", "1"],
    ["''", ""],
    ['""', ""],
    ["'null'", "null"],
    ["' spaced '", " spaced "],
    ["'it\\'s'", "it's"],
    ['"say \\"hi\\""', 'say "hi"'],
    ["'[not, a, list]'", "[not, a, list]"],
    ["'${x}'", "${x}"],
    ["  'x'  ", "x"],
    // lists
    ["[]", []],
    ["[1,2,3]", [1, 2, 3]],
    ["[a, b]", ["a", "b"]],
    ["[ 1 , 'two' , null ]", [1, "two", null]],
    ["[[1,2],[3]]", [[1, 2], [3]]],
    ["[a,'b,c']", ["a", "b,c"]],
    ["[{a: 1}, {b: 2}]", [{ a: 1 }, { b: 2 }]],
    // dicts
    ["{}", {}],
    ["{a:1,b:x}", { a: 1, b: "x" }],
    ["{a: 1, b: [x, y]}", { a: 1, b: ["x", "y"] }],
    ["{a: 1 2, b: two words}", { a: "1 2", b: "two words" }],
    ["{a: {b: {c: true}}}", { a: { b: { c: true } } }],
    ["{'k k': 1, \"q\": 'v'}", { "k k": 1, q: "v" }],
    // interpolations stay text, commas inside them do not split
    ["${a.b}", "${a.b}"],
    ["${oc.env:HOME,/tmp}", "${oc.env:HOME,/tmp}"],
    ["${eval:'${x} * 2'}", "${eval:'${x} * 2'}"],
    ["run_${project.name}_${oc.select:x,${y}}", "run_${project.name}_${oc.select:x,${y}}"],
    ["[${a},${b}]", ["${a}", "${b}"]],
    ["{k: ${a.b}}", { k: "${a.b}" }],
    ["$${escaped}", "$${escaped}"],
  ];
  for (const [text, expected] of cases) {
    const o = parseOverride(`k=${text}`);
    assert.deepStrictEqual(o.value, expected, text);
    assert.strictEqual(o.sweep, undefined, text);
  }
});

Deno.test("parseOverride: backslash escapes in unquoted values (Hydra)", () => {
  const cases: [string, ConfigValue][] = [
    ["a\\,b", "a,b"],
    ["1\\,000", "1,000"], // escaped: a string, not a number
    ["x\\=y", "x=y"],
    ["f\\(x\\)", "f(x)"],
    ["\\[1\\]", "[1]"],
    ["\\{a\\}", "{a}"],
    ["a\\:b", "a:b"],
    ["\\\\server", "\\server"],
    ["trailing\\ ", "trailing "],
    ["\\ leading", " leading"],
    // A backslash before anything else is kept (Windows-style paths).
    ["C:\\path\\to", "C:\\path\\to"],
  ];
  for (const [text, expected] of cases) {
    const o = parseOverride(`k=${text}`);
    assert.deepStrictEqual(o.value, expected, text);
    assert.strictEqual(o.sweep, undefined, text);
  }
});

Deno.test("parseOverride: sweeps list their values in order", () => {
  const cases: [string, ConfigValue[]][] = [
    ["a,b,c", ["a", "b", "c"]],
    ["1,2", [1, 2]],
    ["lumi, juwels", ["lumi", "juwels"]],
    ["0.1,1e-2,null", [0.1, 0.01, null]],
    ["'a,b',c", ["a,b", "c"]],
    ["[1,2],[3]", [[1, 2], [3]]],
    ["${a},${b}", ["${a}", "${b}"]],
    ["range(3)", [0, 1, 2]],
    ["range(1,5)", [1, 2, 3, 4]],
    ["range(1, 10, 3)", [1, 4, 7]],
    ["range(5,1,-2)", [5, 3]],
    // Hydra's range gives floats when any argument is a float.
    ["range(0,1,0.25)", [new WholeFloat(0), 0.25, 0.5, 0.75]],
    ["range(0,0.3,0.1)", [new WholeFloat(0), 0.1, 0.2]],
    ["range(1.0,3)", [new WholeFloat(1), new WholeFloat(2)]],
    ["range(1,4,1.5)", [new WholeFloat(1), 2.5]],
    ["1.0,2.0", [new WholeFloat(1), new WholeFloat(2)]],
    ["choice(a,b)", ["a", "b"]],
    ["choice(1, 'x,y', [2])", [1, "x,y", [2]]],
  ];
  for (const [text, expected] of cases) {
    const o = parseOverride(`k=${text}`);
    assert.deepStrictEqual(o.sweep, expected, text);
    assert.deepStrictEqual(o.value, expected[0], text);
  }
  // An empty range is a sweep of nothing.
  assert.deepStrictEqual(parseOverrideValue("range(3,1)"), { value: null, sweep: [] });
});

Deno.test("parseOverride: malformed overrides are UsageErrors that quote the input", () => {
  const cases: [string, string][] = [
    ["a", 'missing "=value" (use ~a to delete a key)'],
    ["+a", 'missing "=value"'],
    ["=1", "expected key=value"],
    ["a b=1", "expected key=value"],
    ["a:b=1", "expected key=value"],
    ["a=[1,2", 'missing "]"'],
    ["a=[1,[2]", 'missing "]"'],
    ["a={x:1", 'missing "}"'],
    ["a={:1}", "expected a key at column 4"],
    ["a={x 1}", 'expected ":" after "x 1"'],
    ["a={x:1}}", 'unexpected "}" at column 8'],
    // Columns count from the start of the whole override.
    ["a='x", "unterminated quoted string starting at column 3"],
    ['a=[1,"x]', "unterminated quoted string starting at column 6"],
    ["+a='x'y", 'unexpected "y" at column 7'],
    ["a=${x", "unterminated interpolation starting at column 3"],
    ["a=x]", 'unexpected "]" at column 4 (quote the value if it is text)'],
    ["a=x{y}", 'unexpected "{"'],
    ["a=[1]x", 'unexpected "x" at column 6'],
    ["a=choice(1,[2)", 'missing "]"'],
    ["a=range(1,2,3,4)", "range() takes 1 to 3 numbers"],
    ["a=range()", "range() takes 1 to 3 numbers"],
    ["a=range(x)", "range() takes 1 to 3 numbers"],
    ["a=range(1,5,0)", "range() step cannot be 0"],
    ["a=range(0,1e9)", "more than 100000 values"],
  ];
  for (const [text, expected] of cases) {
    assert.throws(
      () => parseOverride(text),
      (e: unknown) => {
        assert.ok(e instanceof UsageError, `${text}: ${e}`);
        assert.ok(e.message.includes(`"${text}"`), `${text}: input not quoted in ${e.message}`);
        assert.ok(e.message.includes(expected), `${text}: "${expected}" not in ${e.message}`);
        return true;
      },
    );
  }
});

Deno.test("parseOverridePrimitive: unquoted text to a typed value", () => {
  const cases: [string, ConfigValue][] = [
    ["42", 42],
    [" 42 ", 42],
    ["4.2", 4.2],
    ["true", true],
    ["Null", null],
    ["42abc", "42abc"],
    ["", ""],
  ];
  for (const [text, expected] of cases) {
    assert.deepStrictEqual(parseOverridePrimitive(text), expected, JSON.stringify(text));
  }
});
