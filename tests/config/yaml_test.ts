/**
 * Tests of YAML reading and writing: YAML 1.2 core-schema values, key positions, Hydra's
 * `# @package` header, syntax errors as `ConfigError`s with file:line:col and a caret excerpt,
 * and output that reads back the same under YAML 1.1 and 1.2.
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import { parseYamlFile, renderYaml, sourceExcerpt } from "../../lib/config/yaml.ts";
import type { ConfigValue } from "../../lib/config/tree.ts";
import { ConfigError, type ConfigProblem } from "../../lib/errors.ts";

Deno.test("parseYamlFile: values follow the YAML 1.2 core schema", () => {
  const cases: [string, ConfigValue][] = [
    ["2:00:00", "2:00:00"], // YAML 1.1 would read sexagesimal 7200
    ["01:00:00", "01:00:00"],
    ["010", 10], // decimal in 1.2, octal in 1.1
    ["0o10", 8],
    ["0x1F", 31],
    ["1e3", 1000],
    ["1.5", 1.5],
    ["-.5", -0.5],
    ["yes", "yes"],
    ["no", "no"],
    ["on", "on"],
    ["True", true],
    ["false", false],
    ["~", null],
    ["null", null],
    ["", null],
    ["2024-01-01", "2024-01-01"], // no timestamps
    ["'010'", "010"],
    ['"a\\tb"', "a\tb"],
    ["${oc.env:HOME,/tmp}", "${oc.env:HOME,/tmp}"],
    ["???", "???"],
    ["[1, two, {three: 3}]", [1, "two", { three: 3 }]],
  ];
  for (const [text, expected] of cases) {
    assert.deepStrictEqual(parseYamlFile(`v: ${text}\n`, "f.yaml").data, { v: expected }, text);
  }
  assert.strictEqual((parseYamlFile("v: .inf\n", "f.yaml").data as { v: number }).v, Infinity);
  assert.ok(Number.isNaN((parseYamlFile("v: .nan\n", "f.yaml").data as { v: number }).v));
});

Deno.test("parseYamlFile: empty and comment-only files are empty mappings", () => {
  for (const text of ["", "\n\n", "# nothing here\n", "---\n"]) {
    assert.deepStrictEqual(parseYamlFile(text, "f.yaml").data, {}, JSON.stringify(text));
  }
});

Deno.test("parseYamlFile: anchors, aliases and merge keys", () => {
  const { data, positions } = parseYamlFile(
    "base: &b {x: 1, y: 2}\nderived:\n  <<: *b\n  y: 3\nsame: *b\n",
    "f.yaml",
  );
  assert.deepStrictEqual(data, {
    base: { x: 1, y: 2 },
    derived: { x: 1, y: 3 },
    same: { x: 1, y: 2 },
  });
  // The merge key itself is not a key of the data.
  assert.deepStrictEqual([...positions.keys()].filter((k) => k.startsWith("derived")), [
    "derived",
    "derived.y",
  ]);
});

Deno.test("parseYamlFile: positions of keys and list items, 1-based", () => {
  const text = [
    "# header comment",
    "sbatch:",
    "  time: '01:00:00'",
    "  nodes: 2",
    "modules:",
    "  - gcc",
    "  - {name: cuda, version: 12}",
    "flow: {a: 1, b: [x, y]}",
    "empty:",
    "",
  ].join("\n");
  const { positions } = parseYamlFile(text, "f.yaml");
  const expected: [string, number, number][] = [
    ["sbatch", 3, 3], // a mapping value starts at its first key
    ["sbatch.time", 3, 9],
    ["sbatch.nodes", 4, 10],
    ["modules", 6, 3],
    ["modules[0]", 6, 5],
    ["modules[1]", 7, 5],
    ["modules[1].name", 7, 12],
    ["modules[1].version", 7, 27],
    ["flow.a", 8, 11],
    ["flow.b[1]", 8, 21],
    ["empty", 9, 7], // an empty value: where it would start
  ];
  for (const [key, line, column] of expected) {
    assert.deepStrictEqual(positions.get(key), { line, column }, key);
  }
});

Deno.test("parseYamlFile: Hydra's # @package header", () => {
  const cases: [string, string | undefined][] = [
    ["# @package _global_\na: 1\n", "_global_"],
    ["#@package foo.bar\na: 1\n", "foo.bar"],
    ["\n\n# @package _group_\n", "_group_"],
    // Hydra reads the whole leading comment block, so a description may come first.
    ["# Experiment: long runs.\n#\n# @package _global_\na: 1\n", "_global_"],
    ["  # @package _global_\na: 1\n", "_global_"],
    // After the first line of content it is just a comment.
    ["a: 1\n# @package _global_\n", undefined],
    ["# a comment\na: 1\n", undefined],
    ["a: 1\n", undefined],
    ["", undefined],
  ];
  for (const [text, header] of cases) {
    assert.strictEqual(parseYamlFile(text, "f.yaml").packageHeader, header, JSON.stringify(text));
  }
});

/** Parses expecting a ConfigError; returns its problems and formatted message. */
function yamlError(text: string): { problems: readonly ConfigProblem[]; message: string } {
  try {
    parseYamlFile(text, "conf/slurm/lumi.yaml");
  } catch (e) {
    assert.ok(e instanceof ConfigError, `not a ConfigError: ${e}`);
    return { problems: e.problems, message: e.message };
  }
  assert.fail(`no error for ${JSON.stringify(text)}`);
}

Deno.test("parseYamlFile: syntax errors name file:line:col and show the line with a caret", () => {
  const cases: { name: string; text: string; line: number; column: number; says: string }[] = [
    {
      name: "tab indentation",
      text: "sbatch:\n  nodes: 1\n\ttime: 2\n",
      line: 3,
      column: 1,
      says: "Tabs are not allowed as indentation",
    },
    {
      // The parser stops at the end of the file; the caret goes to the opening quote.
      name: "unclosed single quote",
      text: "a: 1\nname: 'unclosed\nb: 2\n",
      line: 2,
      column: 7,
      says: "Missing closing 'quote",
    },
    {
      name: "unclosed double quote",
      text: 'a: "x\n',
      line: 1,
      column: 4,
      says: 'Missing closing "quote',
    },
    {
      name: "duplicate key",
      text: "sbatch:\n  time: 1\n  nodes: 1\n  time: 2\n",
      line: 4,
      column: 3,
      says: 'duplicate key "time"',
    },
    {
      name: "duplicate top-level key",
      text: "a: 1\nb: 2\na: 3\n",
      line: 3,
      column: 1,
      says: 'duplicate key "a"',
    },
    {
      name: "unclosed flow sequence",
      text: "modules: [gcc, cuda\nenv: {}\n",
      line: 1,
      column: 10,
      says: "end with a ]",
    },
    {
      name: "unclosed nested flow mapping",
      text: "x: 1\nenv: {A: [1], B: {c: 2}\n",
      line: 2,
      column: 6,
      says: "end with a }",
    },
    {
      name: "bad indentation",
      text: "a:\n  b: 1\n c: 2\n",
      line: 3,
      column: 1,
      says: "All mapping items must start at the same column",
    },
    {
      name: "reserved character",
      text: "key: @bad\n",
      line: 1,
      column: 6,
      says: "reserved character @",
    },
    {
      name: "two documents",
      text: "a: 1\n---\nb: 2\n",
      line: 2,
      column: 1,
      says: 'a config file holds one YAML document; remove the "---" separator',
    },
    {
      name: "unknown alias",
      text: "a: 1\nb: [*nope]\n",
      line: 2,
      column: 5,
      says: "Unresolved alias",
    },
  ];
  for (const c of cases) {
    const { problems, message } = yamlError(c.text);
    const p = problems[0];
    assert.deepStrictEqual(
      [p.file, p.line, p.column, p.path],
      ["conf/slurm/lumi.yaml", c.line, c.column, ""],
      c.name,
    );
    assert.ok(p.message.startsWith("invalid YAML: "), c.name);
    assert.ok(p.message.includes(c.says), `${c.name}: ${p.message}`);
    // The excerpt shows the offending line and a caret under the column.
    const src = c.text.split("\n")[c.line - 1];
    const [lineText, caret] = p.hint!.split("\n");
    assert.strictEqual(lineText, `${c.line} | ${src}`, c.name);
    assert.strictEqual(caret.indexOf("^") - caret.indexOf("|") - 2, c.column - 1, c.name);
    assert.ok(message.includes(`conf/slurm/lumi.yaml:${c.line}:${c.column}: invalid YAML`), c.name);
  }
});

Deno.test("parseYamlFile: every syntax error of a file is reported", () => {
  const { problems, message } = yamlError("a: 1\na: 2\nb: 1\nb: 2\n");
  assert.deepStrictEqual(problems.map((p) => [p.line, p.message]), [
    [2, 'invalid YAML: duplicate key "a" (a key may appear only once in a mapping)'],
    [4, 'invalid YAML: duplicate key "b" (a key may appear only once in a mapping)'],
  ]);
  assert.match(message, /^2 configuration problems:/);
});

Deno.test("sourceExcerpt: the caret sits under the column, tabs kept", () => {
  assert.strictEqual(sourceExcerpt("a: 1\nbb: x\n", 2, 5), "2 | bb: x\n  |     ^");
  assert.strictEqual(sourceExcerpt("\tx: 1\n", 1, 2), "1 | \tx: 1\n  | \t^");
  assert.strictEqual(
    sourceExcerpt("1\n2\n3\n4\n5\n6\n7\n8\n9\nten: y\n", 10, 6),
    "10 | ten: y\n   |      ^",
  );
  // A line past the end shows as empty rather than failing.
  assert.strictEqual(sourceExcerpt("a\n", 5, 1), "5 | \n  | ^");
});

Deno.test("renderYaml: output reads back the same under YAML 1.2 and 1.1", () => {
  const data = {
    sbatch: { time: "01:00:00", nodes: 2, partition: "gpu", signal: "B:USR1@120" },
    words: ["yes", "no", "on", "off", "y", "n", "True", "null", "~", ""],
    numbers_as_text: ["010", "0x1F", "1e3", "12_000", "1:30", "2024-01-01", "0o10"],
    numbers: [10, 1.5, -3, 0],
    flags: { yes: true, off: false },
    none: null,
    interp: "${oc.env:X,1}",
    tricky: ["- a", "a: b", "#c", "multi\nline\n"],
    empty: {},
    list: [],
  };
  const text = renderYaml(data);
  assert.deepStrictEqual(parse(text), data);
  assert.deepStrictEqual(parse(text, { version: "1.1" }), data);
  assert.deepStrictEqual(parseYamlFile(text, "out.yaml").data, data);
  // Plain strings stay plain; only ambiguous ones are quoted.
  assert.ok(text.includes("  partition: gpu\n"), text);
  assert.ok(text.includes('  time: "01:00:00"\n'), text);
  assert.ok(text.includes('"yes": true'), text);
});

Deno.test("renderYaml: block style in insertion order, shared objects not aliased", () => {
  const shared = { a: 1 };
  assert.strictEqual(
    renderYaml({ z: shared, a: shared, l: [1, 2] }),
    "z:\n  a: 1\na:\n  a: 1\nl:\n  - 1\n  - 2\n",
  );
});
