import assert from "node:assert/strict";
import { WholeFloat } from "../../lib/config/whole_float.ts";
import {
  type ArgNode,
  type CallNode,
  type Interp,
  InterpolationSyntaxError,
  parseArgument,
  parsePrimitive,
  parseTemplate,
  type Piece,
  type RefNode,
  type Template,
} from "../../lib/config/interpolation.ts";

// Builders for the expected syntax trees.
const ref = (...key: Piece[]): RefNode => ({ kind: "ref", key });
const call = (name: string, ...args: ArgNode[]): CallNode => ({ kind: "call", name, args });
const v = (value: string | number | boolean | null): ArgNode => ({ kind: "value", value });
const arg = (node: Interp): ArgNode => ({ kind: "interp", node });
const concat = (...parts: Piece[]): ArgNode => ({ kind: "concat", parts });
const list = (...items: ArgNode[]): ArgNode => ({ kind: "list", items });
const dict = (...entries: [string, ArgNode][]): ArgNode => ({ kind: "dict", entries });
const whole = (node: Interp): Template => ({ parts: [node], whole: node });
const text = (...parts: Piece[]): Template => ({ parts, whole: null });

interface ParseCase {
  readonly name: string;
  readonly input: string;
  readonly expected: Template | null;
}

const PARSE_CASES: readonly ParseCase[] = [
  { name: "plain text is not parsed", input: "plain $ text {}", expected: null },
  { name: "absolute reference", input: "${a.b}", expected: whole(ref("a.b")) },
  { name: "relative reference keeps its dots", input: "${..x}", expected: whole(ref("..x")) },
  { name: "bracket index", input: "${a[0].b}", expected: whole(ref("a[0].b")) },
  { name: "whitespace inside a reference", input: "${ a.b }", expected: whole(ref("a.b")) },
  {
    name: "nested interpolation in a key",
    input: "${a.${k}}",
    expected: whole(ref("a.", ref("k"))),
  },
  {
    name: "string interpolation",
    input: "run_${lr}_${bs}",
    expected: text("run_", ref("lr"), "_", ref("bs")),
  },
  {
    name: "resolver call with unquoted arguments",
    input: "${oc.env:HOME,/tmp}",
    expected: whole(call("oc.env", v("HOME"), v("/tmp"))),
  },
  {
    name: "resolver call without arguments",
    input: "${oc.timestring:}",
    expected: whole(call("oc.timestring")),
  },
  {
    name: "whitespace around resolver name and arguments",
    input: "${ oc.select : a , 5 }",
    expected: whole(call("oc.select", v("a"), v(5))),
  },
  {
    name: "typed primitive arguments",
    input: "${f:1,-2.5,1e-3,true,NULL,abc,a b}",
    expected: whole(call("f", v(1), v(-2.5), v(0.001), v(true), v(null), v("abc"), v("a b"))),
  },
  {
    name: "quoted arguments are strings",
    input: `\${f:'a,b',"1",''}`,
    expected: whole(call("f", v("a,b"), v("1"), v(""))),
  },
  {
    name: "escaped quotes in quoted arguments",
    input: `\${f:'it\\'s',"say \\"hi\\""}`,
    expected: whole(call("f", v("it's"), v('say "hi"'))),
  },
  {
    name: "lists and dicts as arguments",
    input: "${f:[1, [2]], {a: 1, 'b c': [x]}}",
    expected: whole(
      call("f", list(v(1), list(v(2))), dict(["a", v(1)], ["b c", list(v("x"))])),
    ),
  },
  {
    name: "interpolation as an argument",
    input: "${oc.env:${name},${d}}",
    expected: whole(call("oc.env", arg(ref("name")), arg(ref("d")))),
  },
  {
    name: "unquoted argument mixing text and interpolations",
    input: "${f:x${a}y}",
    expected: whole(call("f", concat("x", ref("a"), "y"))),
  },
  {
    name: "quoted argument with an interpolation",
    input: "${f:'v=${a}'}",
    expected: whole(call("f", concat("v=", ref("a")))),
  },
  {
    name: "parentheses keep commas inside one unquoted argument",
    input: "${eval:max(${a}, 2)}",
    expected: whole(call("eval", concat("max(", ref("a"), ", 2)"))),
  },
  {
    name: "quoted eval expression",
    input: "${eval:'ceil(${a} / (${b} * ${c}))'}",
    expected: whole(
      call("eval", concat("ceil(", ref("a"), " / (", ref("b"), " * ", ref("c"), "))")),
    ),
  },
  { name: "escaped interpolation is text", input: "\\${x}", expected: text("${x}") },
  {
    name: "escaped backslash then interpolation",
    input: "\\\\${x}",
    expected: text("\\", ref("x")),
  },
  {
    name: "odd backslash run escapes, keeping half the backslashes",
    input: "\\\\\\${x}",
    expected: text("\\${x}"),
  },
  {
    name: "backslashes not before an interpolation are kept",
    input: "a\\b\\\\c${x}",
    expected: text("a\\b\\\\c", ref("x")),
  },
  { name: "double dollar is a literal interpolation", input: "$${x}", expected: text("${x}") },
  {
    name: "double dollar inside a quoted argument",
    input: "${f:'$${x}'}",
    expected: whole(call("f", v("${x}"))),
  },
  {
    name: "escapes in unquoted arguments make strings",
    input: "${f:a\\,b,1\\ ,\\(x\\),a\\\\b,a\\b}",
    expected: whole(call("f", v("a,b"), v("1 "), v("(x)"), v("a\\b"), v("a\\b"))),
  },
  {
    name: "lone backslash before an interpolation in an unquoted argument",
    input: "${f:a\\${x}}",
    expected: whole(call("f", concat("a\\", ref("x")))),
  },
  {
    name: "backslashes ending a quoted argument are unescaped",
    input: "${f:'a\\\\'}",
    expected: whole(call("f", v("a\\"))),
  },
  { name: "stray closing brace is text", input: "${x}}", expected: text(ref("x"), "}") },
];

Deno.test("parseTemplate builds the syntax tree", async (t) => {
  for (const c of PARSE_CASES) {
    await t.step(c.name, () => {
      assert.deepStrictEqual(parseTemplate(c.input), c.expected);
    });
  }
});

interface SyntaxErrorCase {
  readonly name: string;
  readonly input: string;
  /** A substring of the message. */
  readonly message: string;
  /** 1-based column the error points at. */
  readonly column: number;
}

const SYNTAX_ERROR_CASES: readonly SyntaxErrorCase[] = [
  { name: "unterminated reference", input: "${a", message: "unterminated", column: 1 },
  {
    name: "unterminated nested reference points at the outer one",
    input: "x ${a.${b}",
    message: "unterminated interpolation",
    column: 3,
  },
  { name: "empty interpolation", input: "${}", message: "empty interpolation", column: 1 },
  { name: "blank interpolation", input: "${ }", message: "empty interpolation", column: 1 },
  {
    name: "unterminated quoted argument points at the quote",
    input: "x ${f:'abc}",
    message: "unterminated quoted string",
    column: 7,
  },
  {
    name: "unterminated list points at the bracket",
    input: "${f:[1, 2}",
    message: "unterminated list",
    column: 5,
  },
  {
    name: "quote inside an unquoted argument",
    input: "${f:a'b}",
    message: `unexpected "'"`,
    column: 6,
  },
  {
    name: "closing bracket inside an unquoted argument",
    input: "${f:a]}",
    message: `unexpected "]"`,
    column: 6,
  },
  {
    name: "dict entry without a colon",
    input: "${f:{a 1}}",
    message: `expected ":" after dict key "a 1"`,
    column: 9,
  },
  {
    name: "text after a quoted argument",
    input: "${f:'q' x}",
    message: `unexpected "x"`,
    column: 9,
  },
  {
    name: "text after a list argument",
    input: "${f:[1, 2] x}",
    message: `unexpected "x"`,
    column: 12,
  },
  {
    name: "unterminated resolver call points at its start",
    input: "ab${f:x",
    message: "unterminated interpolation",
    column: 3,
  },
  {
    name: "unterminated resolver call after a dict argument",
    input: "${f:{a: 1}",
    message: "unterminated interpolation",
    column: 1,
  },
];

Deno.test("parseTemplate reports syntax errors with a column", async (t) => {
  for (const c of SYNTAX_ERROR_CASES) {
    await t.step(c.name, () => {
      assert.throws(
        () => parseTemplate(c.input),
        (e: unknown) => {
          assert.ok(e instanceof InterpolationSyntaxError, String(e));
          assert.ok(e.message.includes(c.message), e.message);
          assert.strictEqual(e.offset + 1, c.column, e.message);
          assert.ok(e.message.includes(`at column ${c.column} in "${c.input}"`), e.message);
          return true;
        },
      );
    });
  }
});

Deno.test("parseTemplate caches parses of the same string", () => {
  assert.strictEqual(parseTemplate("a_${b}"), parseTemplate("a_${b}"));
});

Deno.test("parseArgument parses one element, as oc.decode does", async (t) => {
  const cases: [string, string, ArgNode][] = [
    ["list with a quoted string", "[1, 'a']", list(v(1), v("a"))],
    ["nested dict and list", "{a: [1]}", dict(["a", list(v(1))])],
    ["case-insensitive bool", "tRuE", v(true)],
    ["surrounding whitespace", "  7 ", v(7)],
    ["interpolation", "${x}", arg(ref("x"))],
  ];
  for (const [name, input, expected] of cases) {
    await t.step(name, () => assert.deepStrictEqual(parseArgument(input), expected));
  }
  const errors: [string, string, string, number][] = [
    ["empty string", "", "nothing to decode", 1],
    ["blank string", "  ", "nothing to decode", 3],
    ["two elements", "1,2", `unexpected ","`, 2],
    ["unterminated quote", "'x", "unterminated quoted string", 1],
  ];
  for (const [name, input, message, column] of errors) {
    await t.step(`${name} is an error`, () => {
      assert.throws(
        () => parseArgument(input),
        (e: unknown) =>
          e instanceof InterpolationSyntaxError && e.message.includes(message) &&
          e.offset + 1 === column,
      );
    });
  }
});

Deno.test("parsePrimitive types unquoted text as OmegaConf's grammar does", () => {
  const cases: [string, string | number | WholeFloat | boolean | null][] = [
    ["42", 42],
    ["-7", -7],
    ["+3", 3],
    ["1_000", 1000],
    ["1.5", 1.5],
    [".5", 0.5],
    // A float with an integral value stays a float (prints "5.0", as OmegaConf's str()).
    ["5.", new WholeFloat(5)],
    ["2.0", new WholeFloat(2)],
    ["-0.0", new WholeFloat(-0)],
    ["1e-5", 1e-5],
    ["1E3", new WholeFloat(1000)],
    ["inf", Infinity],
    ["-INF", -Infinity],
    ["true", true],
    ["False", false],
    ["null", null],
    ["NuLl", null],
    ["007", "007"],
    ["0x10", "0x10"],
    ["1_", "1_"],
    ["abc", "abc"],
    [" padded ", "padded"],
  ];
  for (const [input, expected] of cases) {
    assert.deepStrictEqual(parsePrimitive(input), expected, input);
  }
  assert.ok(Number.isNaN(parsePrimitive("nan")));
});
