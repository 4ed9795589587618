import assert from "node:assert/strict";
import {
  compileExpression,
  evaluateExpression,
  type EvalValue,
  ExpressionError,
} from "../../lib/config/eval_expr.ts";
import { WholeFloat } from "../../lib/config/whole_float.ts";

/** A Python float with an integral value, as the evaluator returns it. */
const f = (n: number) => new WholeFloat(n);

type Vars = Readonly<Record<string, unknown>>;

interface ValueCase {
  readonly expr: string;
  readonly expected: EvalValue;
  readonly vars?: Vars;
}

interface ErrorCase {
  readonly expr: string;
  /** A substring the message must contain. */
  readonly message: string;
  /** Expected 1-based column. */
  readonly column?: number;
  readonly vars?: Vars;
}

function checkValues(cases: readonly ValueCase[]): void {
  for (const { expr, expected, vars } of cases) {
    // deepStrictEqual: a whole float (`2.0`) is a WholeFloat, not the int 2.
    assert.deepStrictEqual(evaluateExpression(expr, vars), expected, expr);
  }
}

function checkErrors(cases: readonly ErrorCase[]): void {
  for (const { expr, message, column, vars } of cases) {
    assert.throws(
      () => evaluateExpression(expr, vars),
      (error: unknown) => {
        assert.ok(error instanceof ExpressionError, `${expr}: not an ExpressionError: ${error}`);
        assert.strictEqual(error.expression, expr);
        assert.ok(
          error.message.includes(message),
          `${expr}: expected message containing ${JSON.stringify(message)}, got ${
            JSON.stringify(error.message)
          }`,
        );
        if (column !== undefined) {
          assert.strictEqual(error.position + 1, column, `${expr}: column`);
          assert.ok(error.message.includes(`at column ${column}`), error.message);
        }
        return true;
      },
      expr,
    );
  }
}

Deno.test("evaluateExpression: literals", () => {
  checkValues([
    { expr: "42", expected: 42 },
    { expr: "1_000_000", expected: 1_000_000 },
    { expr: "1.5", expected: 1.5 },
    { expr: ".5", expected: 0.5 },
    { expr: "2.", expected: f(2) },
    { expr: "1e-3", expected: 0.001 },
    { expr: "2.5E3", expected: f(2500) },
    { expr: "'single'", expected: "single" },
    { expr: '"double"', expected: "double" },
    { expr: String.raw`'it\'s'`, expected: "it's" },
    { expr: String.raw`"say \"hi\""`, expected: 'say "hi"' },
    { expr: String.raw`'back\\slash'`, expected: "back\\slash" },
    { expr: String.raw`'a\nb'`, expected: "a\nb" },
    { expr: String.raw`'keep\d'`, expected: "keep\\d" },
    { expr: "True", expected: true },
    { expr: "true", expected: true },
    { expr: "False", expected: false },
    { expr: "false", expected: false },
    { expr: "None", expected: null },
    { expr: "null", expected: null },
    { expr: "  \t 7 \n", expected: 7 },
  ]);
});

Deno.test("evaluateExpression: operator precedence", () => {
  checkValues([
    { expr: "1 + 2 * 3", expected: 7 },
    { expr: "(1 + 2) * 3", expected: 9 },
    { expr: "10 - 4 - 3", expected: 3 },
    { expr: "100 / 10 / 5", expected: f(2) },
    { expr: "2 ** 3 ** 2", expected: 512 },
    { expr: "(2 ** 3) ** 2", expected: 64 },
    { expr: "-2 ** 2", expected: -4 },
    { expr: "(-2) ** 2", expected: 4 },
    { expr: "2 ** -1", expected: 0.5 },
    { expr: "- - 3", expected: 3 },
    { expr: "+-+3", expected: -3 },
    { expr: "2 * 3 % 4", expected: 2 },
    { expr: "1 + 2 == 3", expected: true },
    { expr: "not 1 == 2", expected: true },
    { expr: "not 0 and 0", expected: 0 },
    { expr: "1 or 0 and 0", expected: 1 },
    { expr: "1 if 0 or 1 else 2", expected: 1 },
    { expr: "1 if 0 else 2 if 0 else 3", expected: 3 },
    { expr: "2 + 3 if False else 4 * 5", expected: 20 },
  ]);
});

Deno.test("evaluateExpression: Python division, floor division and modulo", () => {
  checkValues([
    { expr: "7 / 2", expected: 3.5 },
    { expr: "6 / 3", expected: f(2) },
    { expr: "7 // 2", expected: 3 },
    { expr: "-7 // 2", expected: -4 },
    { expr: "7 // -2", expected: -4 },
    { expr: "-7 // -2", expected: 3 },
    { expr: "7.5 // 2", expected: f(3) },
    { expr: "1 // 0.1", expected: f(9) },
    { expr: "7 % 3", expected: 1 },
    { expr: "-7 % 3", expected: 2 },
    { expr: "7 % -3", expected: -2 },
    { expr: "-7 % -3", expected: -1 },
    { expr: "5.5 % 2", expected: 1.5 },
    { expr: "-5.5 % 2", expected: 0.5 },
    { expr: "6 % 3", expected: 0 },
  ]);
});

Deno.test("evaluateExpression: arithmetic on booleans and strings", () => {
  checkValues([
    { expr: "True + True", expected: 2 },
    { expr: "-True", expected: -1 },
    { expr: "'abc' + 'def'", expected: "abcdef" },
    { expr: "prefix + '_' + size", vars: { prefix: "run", size: "50M" }, expected: "run_50M" },
    { expr: "1e308 * 10 > 0", expected: true },
  ]);
});

Deno.test("evaluateExpression: chained comparisons", () => {
  checkValues([
    { expr: "1 < 2 < 3", expected: true },
    { expr: "1 < 3 < 2", expected: false },
    { expr: "3 > 2 > 1", expected: true },
    { expr: "1 <= 1 < 2", expected: true },
    { expr: "1 == 1 == 1", expected: true },
    { expr: "1 != 2 != 1", expected: true },
    { expr: "2 >= 2 >= 3", expected: false },
    // Short-circuits: the unknown name after a false link is never looked up.
    { expr: "2 < 1 < missing", expected: false },
  ]);
});

Deno.test("evaluateExpression: equality and string comparisons", () => {
  const vars = { model_size: "50M", nodes: 4 };
  checkValues([
    { expr: "model_size == '50M'", vars, expected: true },
    { expr: 'model_size == "1B"', vars, expected: false },
    { expr: "model_size != '1B'", vars, expected: true },
    { expr: "'a' < 'b'", expected: true },
    { expr: "'abc' < 'abd'", expected: true },
    { expr: "'B' < 'a'", expected: true },
    { expr: "'b' >= 'b'", expected: true },
    { expr: "nodes == '4'", vars, expected: false },
    { expr: "1 == 1.0", expected: true },
    { expr: "True == 1", expected: true },
    { expr: "None == None", expected: true },
    { expr: "None == 0", expected: false },
    { expr: "None != False", expected: true },
  ]);
});

Deno.test("evaluateExpression: conditional expression", () => {
  checkValues([
    { expr: "'big' if n > 10 else 'small'", vars: { n: 11 }, expected: "big" },
    { expr: "'big' if n > 10 else 'small'", vars: { n: 3 }, expected: "small" },
    { expr: "x if x > 0 else None", vars: { x: -1 }, expected: null },
    // Only the chosen branch is evaluated.
    { expr: "1 if True else 1 / 0", expected: 1 },
    { expr: "missing if False else 2", expected: 2 },
  ]);
});

Deno.test("evaluateExpression: and/or short-circuit and return operands", () => {
  checkValues([
    { expr: "0 or 'default'", expected: "default" },
    { expr: "'' or 0", expected: 0 },
    { expr: "3 or missing", expected: 3 },
    { expr: "0 and missing", expected: 0 },
    { expr: "1 and 'x'", expected: "x" },
    { expr: "None and 1", expected: null },
    { expr: "1 and 2 and 3", expected: 3 },
    { expr: "0 or '' or None", expected: null },
    { expr: "not ''", expected: true },
    { expr: "not 'x'", expected: false },
    { expr: "not None", expected: true },
    { expr: "not not 2", expected: true },
  ]);
  // The operand that is reached is evaluated in full.
  checkErrors([{ expr: "False or 1 / 0 == 1", message: "division by zero", column: 12 }]);
});

Deno.test("evaluateExpression: dotted names are looked up by their full key", () => {
  const vars = {
    "backend.args.lr": 3e-4,
    "backend.args.warmup": 100,
    model_size: "50M",
    "layers.0.width": 512,
    enabled: true,
    nothing: null,
  };
  checkValues([
    { expr: "backend.args.lr", vars, expected: 3e-4 },
    { expr: "backend.args.lr * 10 < 0.01", vars, expected: true },
    { expr: "backend.args.warmup // 3", vars, expected: 33 },
    { expr: "model_size", vars, expected: "50M" },
    { expr: "layers.0.width * 2", vars, expected: 1024 },
    { expr: "enabled and nothing == None", vars, expected: true },
  ]);
});

Deno.test("evaluateExpression: built-in functions", () => {
  checkValues([
    { expr: "int(3.9)", expected: 3 },
    { expr: "int(-3.9)", expected: -3 },
    { expr: "int(True)", expected: 1 },
    { expr: "int('42')", expected: 42 },
    { expr: "int(' -7 ')", expected: -7 },
    { expr: "int('1_000')", expected: 1000 },
    { expr: "float(3)", expected: f(3) },
    { expr: "float('2.5')", expected: 2.5 },
    { expr: "float(' 1e-3 ')", expected: 0.001 },
    { expr: "float('-inf') < 0", expected: true },
    { expr: "ceil(1.2)", expected: 2 },
    { expr: "ceil(-1.2)", expected: -1 },
    { expr: "ceil(3)", expected: 3 },
    { expr: "floor(1.8)", expected: 1 },
    { expr: "floor(-1.2)", expected: -2 },
    { expr: "round(2.5)", expected: 2 },
    { expr: "round(3.5)", expected: 4 },
    { expr: "round(-2.5)", expected: -2 },
    { expr: "round(0.5)", expected: 0 },
    { expr: "round(2.4999)", expected: 2 },
    { expr: "round(2.675, 2)", expected: 2.67 },
    { expr: "round(0.125, 2)", expected: 0.12 },
    { expr: "round(0.375, 2)", expected: 0.38 },
    { expr: "round(1234.5678, 1)", expected: 1234.6 },
    { expr: "round(1250, -2)", expected: 1200 },
    { expr: "round(1350, -2)", expected: 1400 },
    { expr: "round(-0.125, 2)", expected: -0.12 },
    { expr: "round(7, 3)", expected: 7 },
    { expr: "round(2.5, None)", expected: 2 },
    { expr: "min(3, 1, 2)", expected: 1 },
    { expr: "max(3, 1, 2)", expected: 3 },
    { expr: "min(2, 1.5)", expected: 1.5 },
    { expr: "max('a', 'b')", expected: "b" },
    { expr: "max(1, True)", expected: 1 },
    { expr: "abs(-3)", expected: 3 },
    { expr: "abs(2.5)", expected: 2.5 },
    { expr: "bool(0)", expected: false },
    { expr: "bool('x')", expected: true },
    { expr: "bool(None)", expected: false },
    { expr: "max(1, min(5, 3),)", expected: 3 },
    { expr: "min (4, 2)", expected: 2 },
  ]);
});

Deno.test("evaluateExpression: realistic config and sweep expressions", () => {
  checkValues([
    { expr: "ceil(100e9 / (2048 * 512))", expected: 95368 },
    {
      expr: "ceil(tokens / (seq_len * global_batch))",
      vars: { tokens: 100e9, seq_len: 2048, global_batch: 512 },
      expected: 95368,
    },
    { expr: "int(0.01 * train_steps)", vars: { train_steps: 95368 }, expected: 953 },
    {
      expr: "nodes * gpus_per_node // tp // pp",
      vars: { nodes: 16, gpus_per_node: 8, tp: 2, pp: 4 },
      expected: 16,
    },
    {
      expr: "max(1, global_batch // (micro_batch * dp))",
      vars: { global_batch: 512, micro_batch: 4, dp: 256 },
      expected: 1,
    },
    {
      expr: "lr * (global_batch / 256) ** 0.5",
      vars: { lr: 3e-4, global_batch: 1024 },
      expected: 6e-4,
    },
    {
      expr: "not (model_size == '1B' and lr > 1e-3)",
      vars: { model_size: "1B", lr: 3e-3 },
      expected: false,
    },
    {
      expr: "model_size != '7B' or nodes >= 8",
      vars: { model_size: "7B", nodes: 4 },
      expected: false,
    },
    { expr: "round(3e-4 * 1e4, 3)", expected: f(3) },
  ]);
});

Deno.test("evaluateExpression: integral results have no negative zero", () => {
  for (const expr of ["ceil(-0.5)", "int(-0.5)", "round(-0.4)", "0 // -3", "-0 // 1"]) {
    assert.ok(Object.is(evaluateExpression(expr), 0), expr);
  }
});

Deno.test("evaluateExpression: rejects unsafe and unsupported constructs", () => {
  checkErrors([
    { expr: "__import__('os')", message: 'unknown function "__import__"', column: 1 },
    { expr: "__import__('os')", message: "allowed functions: abs, bool, ceil, float, floor" },
    { expr: "eval('1')", message: 'unknown function "eval"', column: 1 },
    { expr: "str(1)", message: 'unknown function "str"', column: 1 },
    { expr: "a.b()", message: 'calling "a.b" is not supported', column: 1 },
    { expr: "math.ceil(1.5)", message: 'use "ceil(...)"', column: 1 },
    { expr: "x[0]", message: "indexing and list literals are not supported", column: 2 },
    { expr: "[1, 2]", message: "indexing and list literals are not supported", column: 1 },
    { expr: "lambda: 1", message: "lambda expressions are not supported", column: 1 },
    { expr: "(lambda x: x)(1)", message: "lambda expressions are not supported", column: 2 },
    { expr: "'abc'.upper()", message: "attribute access is not supported", column: 6 },
    { expr: "(1).real", message: "attribute access is not supported", column: 4 },
    { expr: "x.__class__", message: 'unknown name "x.__class__"', column: 1 },
    { expr: "constructor", message: 'unknown name "constructor"', column: 1 },
    { expr: "toString", message: 'unknown name "toString"', column: 1 },
    { expr: "__proto__", message: 'unknown name "__proto__"', column: 1 },
    { expr: "x is None", message: '"is" is not supported; use "==" or "!="', column: 3 },
    { expr: "1 in x", message: "membership tests", column: 3 },
    { expr: "[x for x in y]", message: "indexing and list literals", column: 1 },
    { expr: "import os", message: 'keyword "import" is not supported', column: 1 },
    { expr: "x = 1", message: '"=" is not an operator; use "=="', column: 3 },
    { expr: "round(x, ndigits=2)", message: "keyword arguments are not supported", column: 17 },
    { expr: "a && b", message: 'use "and"', column: 3 },
    { expr: "a || b", message: 'use "or"', column: 3 },
    { expr: "!a", message: 'use "not"', column: 1 },
    { expr: "1 << 2", message: "bitwise operators are not supported", column: 3 },
    { expr: "2 ^ 3", message: 'use "**"', column: 3 },
    { expr: "{1: 2}", message: "dict and set literals are not supported", column: 1 },
    { expr: "1 @ 2", message: 'unexpected character "@"', column: 3 },
    { expr: "`ls`", message: 'unexpected character "`"', column: 1 },
    { expr: "(abs)(1)", message: 'unexpected "("', column: 6 },
  ]);
});

Deno.test("evaluateExpression: reports syntax errors with their column", () => {
  checkErrors([
    { expr: "2 +* 3", message: 'cannot evaluate "2 +* 3": unexpected "*" at column 4', column: 4 },
    { expr: "", message: "empty expression", column: 1 },
    { expr: "   ", message: "empty expression", column: 1 },
    { expr: "1 2", message: "unexpected number 2", column: 3 },
    { expr: "1 + 2 x", message: 'unexpected name "x"', column: 7 },
    { expr: "1 +", message: "unexpected end of expression", column: 4 },
    { expr: "(1 + 2", message: 'unclosed "("', column: 1 },
    { expr: "((1 + 2)", message: 'unclosed "("', column: 1 },
    { expr: "1 + 2)", message: 'unmatched ")"', column: 6 },
    { expr: "())", message: 'unmatched ")"', column: 2 },
    { expr: "(1 2)", message: 'unexpected number 2 at column 4; expected ")"', column: 4 },
    { expr: "min(1, 2", message: 'unclosed "(" of min()', column: 4 },
    { expr: "min(1,", message: 'unclosed "(" of min()', column: 4 },
    { expr: "min(1 2)", message: 'expected "," or ")"', column: 7 },
    { expr: "min(,)", message: 'unexpected ","', column: 5 },
    { expr: "1 if 2", message: 'expected "else"', column: 7 },
    { expr: "1 if 2 then 3", message: 'unexpected name "then"', column: 8 },
    { expr: "and 1", message: 'unexpected "and"', column: 1 },
    { expr: "1 + not 2", message: 'unexpected "not"', column: 5 },
    { expr: "'abc", message: "unterminated string starting with '", column: 1 },
    { expr: String.raw`"abc\"`, message: 'unterminated string starting with "', column: 1 },
    { expr: "1e400", message: "number 1e400 is out of range", column: 1 },
    { expr: "2x", message: 'unexpected name "x"', column: 2 },
  ]);
});

Deno.test("evaluateExpression: checks function arity when compiling", () => {
  checkErrors([
    { expr: "min(1)", message: "min() takes at least 2 arguments (1 given)", column: 1 },
    { expr: "max()", message: "max() takes at least 2 arguments (0 given)", column: 1 },
    { expr: "abs(1, 2)", message: "abs() takes exactly 1 argument (2 given)", column: 1 },
    { expr: "round()", message: "round() takes 1 to 2 arguments (0 given)", column: 1 },
    { expr: "1 + int()", message: "int() takes exactly 1 argument (0 given)", column: 5 },
  ]);
});

Deno.test("evaluateExpression: reports evaluation errors", () => {
  checkErrors([
    { expr: "1 / 0", message: "division by zero", column: 3 },
    { expr: "1 // 0", message: "division by zero", column: 3 },
    { expr: "1 % 0", message: "modulo by zero", column: 3 },
    { expr: "1 / (x - 2)", vars: { x: 2 }, message: "division by zero", column: 3 },
    { expr: "0 ** -1", message: "zero cannot be raised to a negative power", column: 3 },
    { expr: "(-8) ** (1 / 3)", message: "cannot be raised to a fractional power", column: 6 },
    { expr: "10 ** 400", message: "result of 10 ** 400 is not a finite number", column: 4 },
    { expr: "2 ** 2 ** 2 ** 2 ** 2", message: "is not a finite number", column: 3 },
    { expr: "'a' + 1", message: 'unsupported operand types for "+": string and number' },
    { expr: "1 - '1'", message: 'unsupported operand types for "-": number and string' },
    { expr: "'ab' * 2", message: 'unsupported operand types for "*": string and number' },
    { expr: "None + 1", message: 'unsupported operand types for "+": None and number' },
    { expr: "-'a'", message: 'bad operand type for unary "-": string', column: 1 },
    { expr: "'a' < 1", message: '"<" is not supported between string and number', column: 5 },
    { expr: "None >= 0", message: '">=" is not supported between None and number', column: 6 },
    { expr: "int('3.5')", message: 'invalid literal for int(): "3.5" (use "int(float(x))"' },
    { expr: "int('abc')", message: 'invalid literal for int(): "abc"', column: 1 },
    { expr: "int(None)", message: "int() argument must be a number, not None" },
    { expr: "int(float('inf'))", message: "int() cannot convert Infinity to an integer" },
    { expr: "float('x1')", message: 'could not convert string to float: "x1"' },
    { expr: "ceil('1')", message: "ceil() argument must be a number, not string" },
    { expr: "floor(None)", message: "floor() argument must be a number, not None" },
    { expr: "abs('1')", message: "abs() argument must be a number, not string" },
    { expr: "round(1.5, 0.5)", message: "round() ndigits must be an integer" },
    { expr: "round(1.7e308, -308)", message: "round() result is too large" },
    { expr: "max(1, 'a')", message: "max() cannot compare string and number", column: 1 },
  ]);
});

Deno.test("evaluateExpression: unknown names suggest the closest known names", () => {
  const vars = {
    "backend.args.lr": 1,
    "backend.args.warmup": 2,
    model_size: "50M",
    nodes: 4,
  };
  checkErrors([
    {
      expr: "1 + model_sise",
      vars,
      message: 'unknown name "model_sise" at column 5; did you mean "model_size"?',
      column: 5,
    },
    { expr: "lr * 2", vars, message: 'did you mean "backend.args.lr"?', column: 1 },
    { expr: "backend.arg.lr", vars, message: 'did you mean "backend.args.lr"?' },
    { expr: "node", vars, message: 'did you mean "nodes"?' },
    {
      expr: "completely_unrelated",
      vars,
      message: 'known names: "backend.args.lr", "backend.args.warmup", "model_size", "nodes"',
    },
    { expr: "x", message: 'unknown name "x" at column 1; no variables are defined here' },
  ]);
});

Deno.test("evaluateExpression: rejects variable values that are not scalars", () => {
  checkErrors([
    { expr: "x + 1", vars: { x: [1] }, message: 'variable "x" is a list', column: 1 },
    { expr: "x", vars: { x: { a: 1 } }, message: 'variable "x" is a mapping' },
    { expr: "x", vars: { x: undefined }, message: 'variable "x" is undefined' },
    { expr: "x", vars: { x: 1n }, message: 'variable "x" is a bigint' },
    { expr: "x", vars: { x: () => 1 }, message: 'variable "x" is a function' },
  ]);
  // Values the expression does not use are never inspected.
  assert.strictEqual(evaluateExpression("y", { x: [1], y: 2 }), 2);
});

Deno.test("evaluateExpression: guards against pathological input", () => {
  const long = "1+".repeat(5_000) + "1";
  checkErrors([
    { expr: long, message: `expression is ${long.length} characters long; the limit is 10000` },
    { expr: "(".repeat(300) + "1" + ")".repeat(300), message: "nested more than 200 levels" },
    { expr: "-".repeat(300) + "1", message: "nested more than 200 levels" },
    { expr: "not ".repeat(300) + "1", message: "nested more than 200 levels" },
    { expr: "abs(".repeat(150) + "1" + ")".repeat(150), message: "nested more than 200 levels" },
    { expr: "1 if 0 else ".repeat(250) + "2", message: "nested more than 200 levels" },
  ]);
  // Long flat chains and the deepest accepted nesting evaluate without deep recursion.
  checkValues([
    { expr: "1+".repeat(4_999) + "1", expected: 5_000 },
    { expr: "(".repeat(199) + "1" + ")".repeat(199), expected: 1 },
    { expr: "abs(".repeat(99) + "-1" + ")".repeat(99), expected: 1 },
    { expr: "not ".repeat(198) + "1", expected: true },
  ]);
  // A long expression is shortened in the message but kept whole on the error.
  assert.throws(() => evaluateExpression(long), (error: unknown) => {
    assert.ok(error instanceof ExpressionError);
    assert.ok(error.message.length < 300, "message is truncated");
    assert.strictEqual(error.expression, long);
    return true;
  });
});

Deno.test("compileExpression: lists the names used and evaluates many times", () => {
  const compiled = compileExpression(
    "ceil(tokens / (seq_len * batch)) if enabled and tokens > 0 else tokens + seq_len",
  );
  assert.strictEqual(
    compiled.source,
    "ceil(tokens / (seq_len * batch)) if enabled and tokens > 0 else tokens + seq_len",
  );
  assert.deepStrictEqual(compiled.names, ["tokens", "seq_len", "batch", "enabled"]);
  const rows: readonly { vars: Vars; expected: EvalValue }[] = [
    { vars: { tokens: 100e9, seq_len: 2048, batch: 512, enabled: true }, expected: 95368 },
    { vars: { tokens: 0, seq_len: 2048, batch: 512, enabled: true }, expected: 2048 },
    { vars: { tokens: 10, seq_len: 2, batch: 1, enabled: false }, expected: 12 },
  ];
  for (const { vars, expected } of rows) assert.strictEqual(compiled.evaluate(vars), expected);

  const table: readonly { expr: string; names: readonly string[] }[] = [
    { expr: "1 + 2", names: [] },
    { expr: "a.b.c + a.b.c * d", names: ["a.b.c", "d"] },
    { expr: "min(x, y) if z else w", names: ["x", "y", "z", "w"] },
    { expr: "'a' == name", names: ["name"] },
  ];
  for (const { expr, names } of table) {
    assert.deepStrictEqual(compileExpression(expr).names, names, expr);
  }
});

Deno.test("compileExpression: reports syntax errors before any evaluation", () => {
  assert.throws(() => compileExpression("2 +* 3"), ExpressionError);
  // Unknown names are only an error when evaluated, so compiling succeeds.
  const compiled = compileExpression("missing + 1");
  assert.throws(() => compiled.evaluate({}), /unknown name "missing"/);
  assert.strictEqual(compiled.evaluate({ missing: 1 }), 2);
});

Deno.test("evaluateExpression: ints and floats as in Python (6/2 is 3.0, 2*3 is 6)", () => {
  checkValues([
    { expr: "6 / 2", expected: f(3) },
    { expr: "2 * 1.0", expected: f(2) },
    { expr: "2 * 3", expected: 6 },
    { expr: "-0.0", expected: f(-0) },
    { expr: "-0", expected: 0 },
    { expr: "7 // 2", expected: 3 },
    { expr: "7.0 % 2", expected: f(1) },
    { expr: "2 ** -1", expected: 0.5 },
    { expr: "1 ** -1", expected: f(1) },
    { expr: "2 ** 3", expected: 8 },
    { expr: "int(3.0)", expected: 3 },
    { expr: "abs(-2.0)", expected: f(2) },
    { expr: "round(2.5)", expected: 2 },
    { expr: "round(2.0, 1)", expected: f(2) },
    { expr: "max(1, 2.0)", expected: f(2) },
    { expr: "x * 2", vars: { x: f(1) }, expected: f(2) },
    { expr: "x == 1", vars: { x: f(1) }, expected: true },
    { expr: "x or 5", vars: { x: f(0) }, expected: 5 },
  ]);
});
