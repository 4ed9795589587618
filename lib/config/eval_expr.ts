/**
 * A safe evaluator for small Python-like arithmetic expressions, used by the `${eval:'...'}`
 * config resolver and by sweep filters.
 *
 * It never executes code: a hand-written tokenizer and recursive-descent parser build a small
 * tree, and a tree walker evaluates it. There is no `eval`, no `Function`, no attribute access
 * and no indexing; the only callable names are the built-in functions listed below, and
 * variables are looked up by their full dotted name as own keys of the caller's record.
 *
 * Language (Python syntax and semantics, on JS numbers):
 * - literals: `42`, `1_000`, `1.5`, `.5`, `2.`, `1e-3`, `'text'`, `"text"` (backslash escapes
 *   the quote, the backslash, and `\n` `\t` `\r`), `True`/`true`, `False`/`false`,
 *   `None`/`null`;
 * - names: `model_size`, `backend.args.lr` (no spaces around the dots), looked up as
 *   `vars["backend.args.lr"]`;
 * - operators, lowest precedence first: `x if c else y`, `or`, `and`, `not`,
 *   comparisons `== != < <= > >=` (chained: `a < b < c`), `+ -`, `* / // %`, unary `+ -`,
 *   `**` (right-associative; `-2**2 == -4`), parentheses;
 * - functions: `int float bool abs ceil floor round min max`.
 *
 * Semantics follow Python where they can: `/` is true division, `//` floors, `%` takes the
 * sign of the divisor, `and`/`or` short-circuit and return an operand, booleans count as 0/1
 * in arithmetic, truthiness is Python's (`0`, `''`, `None`, `False` are false), `round` rounds
 * half to even on the exact binary value. Ints and floats are told apart as in Python: a float
 * literal (`2.0`, `1e3`), `/`, `float()` and any operation with a float operand give a float,
 * which is a {@link WholeFloat} when its value is integral (`6 / 2` is `3.0`, `2 * 1.0` is
 * `2.0`, `2 * 3` is `6`), so it prints as Python prints it. Integers are exact only up to 2**53. Unknown names are reported when evaluated (short-circuited branches
 * are not looked up); use {@link CompiledExpression.names} to validate up front.
 *
 * @module
 */
import { floatValue, isPythonFloat, WholeFloat } from "./whole_float.ts";

/**
 * A value an expression can take, and that a variable may hold. A float with an integral value
 * is a {@link WholeFloat}; other numbers are floats when not integral, else ints.
 */
export type EvalValue = number | WholeFloat | string | boolean | null;

/** Longest expression accepted, in UTF-16 code units. */
const MAX_LENGTH = 10_000;
/** Deepest nesting of parentheses, unary operators, `**` exponents and `if`/`else` chains. */
const MAX_DEPTH = 200;
/** Longest expression quoted verbatim in an error message. */
const MAX_QUOTED = 120;

/**
 * A malformed expression, or one that failed while evaluating (unknown name, type mismatch,
 * division by zero, ...).
 *
 * The message reads `cannot evaluate "<expression>": <reason> at column <n>[; <hint>]`.
 */
export class ExpressionError extends Error {
  /** The full expression that failed. */
  readonly expression: string;
  /** Zero-based offset into {@link expression} where the problem is (column - 1). */
  readonly position: number;
  /** Why it failed, without the expression or column (e.g. `division by zero`). */
  readonly reason: string;

  /**
   * @param expression the full expression text
   * @param position zero-based offset of the problem in `expression`
   * @param reason why it failed, e.g. `unexpected "*"`
   * @param hint what to do about it, appended after the column
   */
  constructor(
    expression: string,
    position: number,
    reason: string,
    hint?: string,
    options?: ErrorOptions,
  ) {
    const quoted = expression.length > MAX_QUOTED
      ? `${expression.slice(0, MAX_QUOTED)}...`
      : expression;
    super(
      `cannot evaluate "${quoted}": ${reason} at column ${position + 1}${hint ? `; ${hint}` : ""}`,
      options,
    );
    this.name = "ExpressionError";
    this.expression = expression;
    this.position = position;
    this.reason = reason;
  }
}

/** An expression parsed once, to be evaluated many times (e.g. a sweep filter over points). */
export interface CompiledExpression {
  /** The expression text as given. */
  readonly source: string;
  /** The variable names the expression uses, in order of first use, without duplicates. */
  readonly names: readonly string[];
  /**
   * Evaluates the expression.
   *
   * @param vars values by full dotted name; each used value must be a number, string,
   *   boolean or null
   * @throws {ExpressionError} on an unknown name, an unsupported value, a type mismatch,
   *   division by zero or a `**` overflow
   */
  evaluate(vars?: Readonly<Record<string, unknown>>): EvalValue;
}

/**
 * Parses an expression once so it can be evaluated many times.
 *
 * @example
 * ```ts
 * const steps = compileExpression("ceil(tokens / (seq_len * batch_size))");
 * steps.names; // ["tokens", "seq_len", "batch_size"]
 * steps.evaluate({ tokens: 100e9, seq_len: 2048, batch_size: 512 }); // 95368
 * ```
 *
 * @throws {ExpressionError} if the expression is malformed, too long (over 10,000 characters),
 *   nested too deeply (over 200 levels), or uses a construct that is not supported (attribute
 *   access, indexing, lambda, calls to anything but the built-in functions, ...)
 */
export function compileExpression(source: string): CompiledExpression {
  const parser = new Parser(source);
  const root = parser.parse();
  const names = Object.freeze([...parser.names]);
  return Object.freeze({
    source,
    names,
    evaluate(vars: Readonly<Record<string, unknown>> = {}): EvalValue {
      return evaluateNode(root, { source, vars });
    },
  });
}

/**
 * Parses and evaluates an expression in one go.
 *
 * @example
 * ```ts
 * evaluateExpression("-7 // 2"); // -4
 * evaluateExpression("model_size == '50M' and lr < 1e-3", { model_size: "50M", lr: 3e-4 }); // true
 * evaluateExpression("x if x > 0 else None", { x: -1 }); // null
 * ```
 *
 * @throws {ExpressionError} see {@link compileExpression} and
 *   {@link CompiledExpression.evaluate}
 */
export function evaluateExpression(
  source: string,
  vars: Readonly<Record<string, unknown>> = {},
): EvalValue {
  return compileExpression(source).evaluate(vars);
}

// ---------------------------------------------------------------------------------------------
// Tokens

type Token =
  | { kind: "number"; value: number | WholeFloat; text: string; pos: number }
  | { kind: "string"; value: string; text: string; pos: number }
  | { kind: "name"; value: string; pos: number }
  | { kind: "keyword"; value: string; pos: number }
  | { kind: "op"; value: string; pos: number }
  | { kind: "end"; pos: number };

const KEYWORDS = new Set("and or not if else True False true false None null".split(" "));

/** Python keywords that are recognised only to reject them with a useful message. */
const REJECTED_KEYWORDS = new Map<string, string>([
  ["lambda", "lambda expressions are not supported"],
  ["is", '"is" is not supported; use "==" or "!="'],
  ["in", 'membership tests ("in") are not supported'],
  ...(
    "as assert async await break class continue def del elif except finally for from global " +
    "import nonlocal pass raise return try while with yield"
  ).split(" ").map((word): [string, string] => [word, `keyword "${word}" is not supported`]),
]);

/**
 * Every symbol the lexer knows: an operator (reason `undefined`) or a symbol that is rejected
 * with the reason given to the user. Longest first, so `**` wins over `*` and `<<` over `<`.
 */
const SYMBOLS: readonly (readonly [string, string | undefined])[] = [
  ["**", undefined],
  ["//", undefined],
  ["==", undefined],
  ["!=", undefined],
  ["<=", undefined],
  [">=", undefined],
  ["&&", '"&&" is not an operator; use "and"'],
  ["||", '"||" is not an operator; use "or"'],
  ["<<", "bitwise operators are not supported"],
  [">>", "bitwise operators are not supported"],
  ["+", undefined],
  ["-", undefined],
  ["*", undefined],
  ["/", undefined],
  ["%", undefined],
  ["<", undefined],
  [">", undefined],
  ["(", undefined],
  [")", undefined],
  [",", undefined],
  ["&", "bitwise operators are not supported"],
  ["|", "bitwise operators are not supported"],
  ["^", 'bitwise operators are not supported; use "**" for powers'],
  ["~", "bitwise operators are not supported"],
  ["!", '"!" is not an operator; use "not"'],
  ["=", '"=" is not an operator; use "==" to compare (keyword arguments are not supported)'],
  ["[", "indexing and list literals are not supported"],
  ["]", "indexing and list literals are not supported"],
  ["{", "dict and set literals are not supported"],
  ["}", "dict and set literals are not supported"],
  [".", "attribute access is not supported"],
  [":", 'unexpected ":"'],
];

const DIGITS = String.raw`\d(?:_?\d)*`;
const NUMBER_RE = new RegExp(
  String.raw`(?:${DIGITS}(?:\.(?:${DIGITS})?)?|\.${DIGITS})(?:[eE][+-]?${DIGITS})?`,
  "y",
);
const NAME_RE = /[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*/y;
const SPACE_RE = /\s*/y;

/** Pulls tokens from the source one at a time, so errors surface in source order. */
class Lexer {
  #offset = 0;
  #peeked: Token | undefined;

  constructor(readonly source: string) {}

  peek(): Token {
    this.#peeked ??= this.#scan();
    return this.#peeked;
  }

  next(): Token {
    const token = this.peek();
    this.#peeked = undefined;
    return token;
  }

  fail(pos: number, reason: string, hint?: string): ExpressionError {
    return new ExpressionError(this.source, pos, reason, hint);
  }

  #scan(): Token {
    const src = this.source;
    SPACE_RE.lastIndex = this.#offset;
    SPACE_RE.test(src);
    const pos = SPACE_RE.lastIndex;
    if (pos >= src.length) {
      this.#offset = pos;
      return { kind: "end", pos };
    }
    const ch = src[pos];

    if (/[0-9]/.test(ch) || (ch === "." && /[0-9]/.test(src[pos + 1] ?? ""))) {
      NUMBER_RE.lastIndex = pos;
      NUMBER_RE.test(src);
      const text = src.slice(pos, NUMBER_RE.lastIndex);
      const value = Number(text.replaceAll("_", ""));
      if (!Number.isFinite(value)) throw this.fail(pos, `number ${text} is out of range`);
      this.#offset = NUMBER_RE.lastIndex;
      // `2.0`, `2.`, `1e3` are float literals, `2` and `1_000` ints.
      return { kind: "number", value: /[.eE]/.test(text) ? floatValue(value) : value, text, pos };
    }

    if (ch === "'" || ch === '"') return this.#scanString(pos, ch);

    if (/[A-Za-z_]/.test(ch)) {
      NAME_RE.lastIndex = pos;
      NAME_RE.test(src);
      const word = src.slice(pos, NAME_RE.lastIndex);
      this.#offset = NAME_RE.lastIndex;
      if (KEYWORDS.has(word)) return { kind: "keyword", value: word, pos };
      const rejected = REJECTED_KEYWORDS.get(word);
      if (rejected !== undefined) throw this.fail(pos, rejected);
      return { kind: "name", value: word, pos };
    }

    for (const [symbol, rejection] of SYMBOLS) {
      if (!src.startsWith(symbol, pos)) continue;
      if (rejection !== undefined) throw this.fail(pos, rejection);
      this.#offset = pos + symbol.length;
      return { kind: "op", value: symbol, pos };
    }
    const char = String.fromCodePoint(src.codePointAt(pos)!);
    throw this.fail(pos, `unexpected character ${JSON.stringify(char)}`);
  }

  #scanString(pos: number, quote: string): Token {
    const src = this.source;
    let value = "";
    let i = pos + 1;
    while (i < src.length && src[i] !== quote) {
      if (src[i] === "\\" && i + 1 < src.length) {
        const escaped = src[i + 1];
        value += ESCAPES.get(escaped) ?? `\\${escaped}`;
        i += 2;
      } else {
        value += src[i];
        i += 1;
      }
    }
    if (i >= src.length) throw this.fail(pos, `unterminated string starting with ${quote}`);
    this.#offset = i + 1;
    return { kind: "string", value, text: src.slice(pos, i + 1), pos };
  }
}

/** Backslash escapes; any other escape keeps its backslash, as in Python. */
const ESCAPES: ReadonlyMap<string, string> = new Map([
  ["\\", "\\"],
  ["'", "'"],
  ['"', '"'],
  ["n", "\n"],
  ["t", "\t"],
  ["r", "\r"],
]);

function describeToken(token: Token): string {
  switch (token.kind) {
    case "end":
      return "end of expression";
    case "op":
    case "keyword":
      return `"${token.value}"`;
    case "name":
      return `name "${token.value}"`;
    case "number":
      return `number ${token.text}`;
    case "string":
      return `string ${token.text}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Syntax tree. Left-associative chains are kept flat so tree depth stays bounded by nesting.

type ArithmeticOp = "+" | "-" | "*" | "/" | "//" | "%";
type CompareOp = "==" | "!=" | "<" | "<=" | ">" | ">=";

type Node =
  | { kind: "literal"; value: EvalValue }
  | { kind: "name"; name: string; pos: number }
  | { kind: "unary"; op: "-" | "+" | "not"; operand: Node; pos: number }
  | { kind: "arithmetic"; first: Node; rest: { op: ArithmeticOp; operand: Node; pos: number }[] }
  | { kind: "power"; base: Node; exponent: Node; pos: number }
  | { kind: "compare"; first: Node; rest: { op: CompareOp; operand: Node; pos: number }[] }
  | { kind: "logical"; op: "and" | "or"; operands: Node[] }
  | { kind: "conditional"; test: Node; then: Node; otherwise: Node }
  | { kind: "call"; fn: BuiltinFunction; args: Node[]; pos: number };

const COMPARE_OPS = new Set<string>(["==", "!=", "<", "<=", ">", ">="]);

/** Recursive-descent parser following Python's grammar for expressions. */
class Parser {
  readonly names = new Set<string>();
  #lexer: Lexer;
  #depth = 0;

  constructor(readonly source: string) {
    this.#lexer = new Lexer(source);
  }

  parse(): Node {
    if (this.source.length > MAX_LENGTH) {
      throw this.#fail(
        MAX_LENGTH,
        `expression is ${this.source.length} characters long; the limit is ${MAX_LENGTH}`,
      );
    }
    if (this.#lexer.peek().kind === "end") throw this.#fail(0, "empty expression");
    const node = this.#expression();
    const extra = this.#lexer.peek();
    if (extra.kind !== "end") throw this.#unexpected(extra);
    return node;
  }

  #fail(pos: number, reason: string, hint?: string): ExpressionError {
    return new ExpressionError(this.source, pos, reason, hint);
  }

  #unexpected(token: Token, expected?: string): ExpressionError {
    if (token.kind === "op" && token.value === ")" && expected === undefined) {
      return this.#fail(token.pos, 'unmatched ")"');
    }
    return this.#fail(
      token.pos,
      `unexpected ${describeToken(token)}`,
      expected && `expected ${expected}`,
    );
  }

  #isOp(value: string): boolean {
    const token = this.#lexer.peek();
    return token.kind === "op" && token.value === value;
  }

  #isKeyword(value: string): boolean {
    const token = this.#lexer.peek();
    return token.kind === "keyword" && token.value === value;
  }

  /** Runs `parse` one nesting level deeper, refusing to go past {@link MAX_DEPTH}. */
  #nested<T>(pos: number, parse: () => T): T {
    if (++this.#depth > MAX_DEPTH) {
      throw this.#fail(pos, `expression is nested more than ${MAX_DEPTH} levels deep`);
    }
    try {
      return parse();
    } finally {
      this.#depth--;
    }
  }

  /** expression := or_test ["if" or_test "else" expression] */
  #expression(): Node {
    return this.#nested(this.#lexer.peek().pos, () => {
      const body = this.#or();
      if (!this.#isKeyword("if")) return body;
      this.#lexer.next();
      const test = this.#or();
      if (!this.#isKeyword("else")) throw this.#unexpected(this.#lexer.peek(), '"else"');
      this.#lexer.next();
      const otherwise = this.#expression();
      return { kind: "conditional", test, then: body, otherwise };
    });
  }

  #or(): Node {
    return this.#logical("or", () => this.#and());
  }

  #and(): Node {
    return this.#logical("and", () => this.#not());
  }

  #logical(op: "and" | "or", operand: () => Node): Node {
    const operands = [operand()];
    while (this.#isKeyword(op)) {
      this.#lexer.next();
      operands.push(operand());
    }
    return operands.length === 1 ? operands[0] : { kind: "logical", op, operands };
  }

  /** not_test := "not" not_test | comparison */
  #not(): Node {
    if (!this.#isKeyword("not")) return this.#comparison();
    const { pos } = this.#lexer.next();
    const operand = this.#nested(pos, () => this.#not());
    return { kind: "unary", op: "not", operand, pos };
  }

  #comparison(): Node {
    const first = this.#arithmetic();
    const rest: { op: CompareOp; operand: Node; pos: number }[] = [];
    for (
      let t = this.#lexer.peek();
      t.kind === "op" && COMPARE_OPS.has(t.value);
      t = this.#lexer.peek()
    ) {
      this.#lexer.next();
      rest.push({ op: t.value as CompareOp, operand: this.#arithmetic(), pos: t.pos });
    }
    return rest.length === 0 ? first : { kind: "compare", first, rest };
  }

  #arithmetic(): Node {
    return this.#chain(["+", "-"], () => this.#term());
  }

  #term(): Node {
    return this.#chain(["*", "/", "//", "%"], () => this.#factor());
  }

  #chain(ops: readonly ArithmeticOp[], operand: () => Node): Node {
    const first = operand();
    const rest: { op: ArithmeticOp; operand: Node; pos: number }[] = [];
    for (
      let t = this.#lexer.peek();
      t.kind === "op" && (ops as readonly string[]).includes(t.value);
      t = this.#lexer.peek()
    ) {
      this.#lexer.next();
      rest.push({ op: t.value as ArithmeticOp, operand: operand(), pos: t.pos });
    }
    return rest.length === 0 ? first : { kind: "arithmetic", first, rest };
  }

  /** factor := ("+" | "-") factor | power */
  #factor(): Node {
    const token = this.#lexer.peek();
    if (token.kind !== "op" || (token.value !== "-" && token.value !== "+")) return this.#power();
    this.#lexer.next();
    const operand = this.#nested(token.pos, () => this.#factor());
    return { kind: "unary", op: token.value, operand, pos: token.pos };
  }

  /** power := atom ["**" factor] */
  #power(): Node {
    const base = this.#atom();
    if (!this.#isOp("**")) return base;
    const { pos } = this.#lexer.next();
    const exponent = this.#nested(pos, () => this.#factor());
    return { kind: "power", base, exponent, pos };
  }

  #atom(): Node {
    const token = this.#lexer.next();
    switch (token.kind) {
      case "number":
      case "string":
        return { kind: "literal", value: token.value };
      case "keyword":
        if (token.value === "True" || token.value === "true") {
          return { kind: "literal", value: true };
        }
        if (token.value === "False" || token.value === "false") {
          return { kind: "literal", value: false };
        }
        if (token.value === "None" || token.value === "null") {
          return { kind: "literal", value: null };
        }
        throw this.#unexpected(token);
      case "name":
        if (this.#isOp("(")) return this.#call(token.value, token.pos);
        this.names.add(token.value);
        return { kind: "name", name: token.value, pos: token.pos };
      case "op":
        if (token.value === "(") {
          const inner = this.#expression();
          const close = this.#lexer.peek();
          if (close.kind === "end") throw this.#fail(token.pos, 'unclosed "("', 'add a ")"');
          if (close.kind !== "op" || close.value !== ")") throw this.#unexpected(close, '")"');
          this.#lexer.next();
          return inner;
        }
        throw this.#unexpected(token);
      case "end":
        throw this.#unexpected(token);
    }
  }

  #call(name: string, pos: number): Node {
    const fn = BUILTINS.get(name);
    if (fn === undefined) throw this.#unknownFunction(name, pos);
    const open = this.#lexer.next();
    const args: Node[] = [];
    this.#nested(open.pos, () => {
      while (!this.#isOp(")")) {
        if (this.#lexer.peek().kind === "end") {
          throw this.#fail(open.pos, `unclosed "(" of ${name}()`, 'add a ")"');
        }
        args.push(this.#expression());
        const after = this.#lexer.peek();
        if (after.kind === "op" && after.value === ",") this.#lexer.next();
        else if (after.kind === "end") {
          throw this.#fail(open.pos, `unclosed "(" of ${name}()`, 'add a ")"');
        } else if (!this.#isOp(")")) throw this.#unexpected(after, '"," or ")"');
      }
    });
    this.#lexer.next();
    if (args.length < fn.minArgs || args.length > fn.maxArgs) {
      throw this.#fail(pos, `${name}() ${describeArity(fn)} (${args.length} given)`);
    }
    return { kind: "call", fn, args, pos };
  }

  #unknownFunction(name: string, pos: number): ExpressionError {
    const allowed = `allowed functions: ${[...BUILTINS.keys()].sort().join(", ")}`;
    const last = name.slice(name.lastIndexOf(".") + 1);
    if (name.includes(".")) {
      const hint = BUILTINS.has(last) ? `use "${last}(...)"` : allowed;
      return this.#fail(pos, `calling "${name}" is not supported (no attribute access)`, hint);
    }
    return this.#fail(pos, `unknown function "${name}"`, allowed);
  }
}

// ---------------------------------------------------------------------------------------------
// Evaluation

interface Context {
  readonly source: string;
  readonly vars: Readonly<Record<string, unknown>>;
}

function fail(ctx: Context, pos: number, reason: string, hint?: string): ExpressionError {
  return new ExpressionError(ctx.source, pos, reason, hint);
}

function evaluateNode(node: Node, ctx: Context): EvalValue {
  switch (node.kind) {
    case "literal":
      return node.value;
    case "name":
      return lookup(node.name, node.pos, ctx);
    case "unary": {
      const value = evaluateNode(node.operand, ctx);
      if (node.op === "not") return !isTruthy(value);
      if (!isNumeric(value)) {
        throw fail(ctx, node.pos, `bad operand type for unary "${node.op}": ${typeName(value)}`);
      }
      return numberOf(node.op === "-" ? -Number(value) : Number(value), isPythonFloat(value));
    }
    case "arithmetic": {
      let acc = evaluateNode(node.first, ctx);
      for (const { op, operand, pos } of node.rest) {
        acc = arithmetic(op, acc, evaluateNode(operand, ctx), pos, ctx);
      }
      return acc;
    }
    case "power":
      return power(evaluateNode(node.base, ctx), evaluateNode(node.exponent, ctx), node.pos, ctx);
    case "compare": {
      let left = evaluateNode(node.first, ctx);
      for (const { op, operand, pos } of node.rest) {
        const right = evaluateNode(operand, ctx);
        if (!compare(op, left, right, pos, ctx)) return false;
        left = right;
      }
      return true;
    }
    case "logical": {
      let value: EvalValue = null;
      for (const operand of node.operands) {
        value = evaluateNode(operand, ctx);
        if (isTruthy(value) === (node.op === "or")) return value;
      }
      return value;
    }
    case "conditional":
      return isTruthy(evaluateNode(node.test, ctx))
        ? evaluateNode(node.then, ctx)
        : evaluateNode(node.otherwise, ctx);
    case "call": {
      const args = node.args.map((arg) => evaluateNode(arg, ctx));
      return node.fn.apply(args, (reason) => fail(ctx, node.pos, reason));
    }
  }
}

function lookup(name: string, pos: number, ctx: Context): EvalValue {
  // Own keys only: a name such as `constructor` must not reach Object.prototype.
  if (!Object.hasOwn(ctx.vars, name)) {
    throw fail(ctx, pos, `unknown name "${name}"`, suggestNames(name, Object.keys(ctx.vars)));
  }
  const value = ctx.vars[name];
  if (
    value === null || typeof value === "number" || typeof value === "string" ||
    typeof value === "boolean" || value instanceof WholeFloat
  ) {
    return value;
  }
  throw fail(
    ctx,
    pos,
    `variable "${name}" is ${describeForeign(value)}`,
    "only numbers, strings, booleans and null can be used in expressions",
  );
}

function describeForeign(value: unknown): string {
  if (value === undefined) return "undefined";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return `a ${typeof value}`;
}

function isNumeric(value: EvalValue): value is number | WholeFloat | boolean {
  return typeof value === "number" || typeof value === "boolean" || value instanceof WholeFloat;
}

/**
 * A numeric result: a float (a {@link WholeFloat} when integral) when `float`, else an int
 * (adding 0 turns -0 into 0: ints have no negative zero).
 */
function numberOf(n: number, float: boolean): number | WholeFloat {
  return float ? floatValue(n) : n + 0;
}

/** Python truthiness: `0`, `''`, `None` and `False` are false; NaN is true. */
function isTruthy(value: EvalValue): boolean {
  if (typeof value === "number") return value !== 0;
  if (value instanceof WholeFloat) return value.value !== 0;
  if (typeof value === "string") return value.length > 0;
  return value === true;
}

function typeName(value: EvalValue): string {
  return value === null ? "None" : value instanceof WholeFloat ? "number" : typeof value;
}

function arithmetic(
  op: ArithmeticOp,
  left: EvalValue,
  right: EvalValue,
  pos: number,
  ctx: Context,
): EvalValue {
  if (op === "+" && typeof left === "string" && typeof right === "string") return left + right;
  if (!isNumeric(left) || !isNumeric(right)) {
    throw fail(
      ctx,
      pos,
      `unsupported operand types for "${op}": ${typeName(left)} and ${typeName(right)}`,
    );
  }
  const a = Number(left);
  const b = Number(right);
  const float = isPythonFloat(left) || isPythonFloat(right);
  switch (op) {
    case "+":
      return numberOf(a + b, float);
    case "-":
      return numberOf(a - b, float);
    case "*":
      return numberOf(a * b, float);
    case "/":
      if (b === 0) throw fail(ctx, pos, "division by zero");
      return floatValue(a / b);
    case "//":
      if (b === 0) throw fail(ctx, pos, "division by zero");
      return numberOf(pythonFloorDiv(a, b), float);
    case "%":
      if (b === 0) throw fail(ctx, pos, "modulo by zero");
      return numberOf(pythonMod(a, b), float);
  }
}

/** Python's float `%`: the result has the sign of the divisor. */
function pythonMod(a: number, b: number): number {
  const mod = a % b; // fmod
  if (mod === 0) return 0;
  return (b < 0) !== (mod < 0) ? mod + b : mod;
}

/** Python's float `//` (CPython `float_floor_div`), exact where `Math.floor(a / b)` is not. */
function pythonFloorDiv(a: number, b: number): number {
  const mod = a % b;
  let div = (a - mod) / b;
  if (mod !== 0 && (b < 0) !== (mod < 0)) div -= 1;
  if (div === 0) return 0;
  let floor = Math.floor(div);
  if (div - floor > 0.5) floor += 1;
  return floor;
}

function power(
  base: EvalValue,
  exponent: EvalValue,
  pos: number,
  ctx: Context,
): number | WholeFloat {
  if (!isNumeric(base) || !isNumeric(exponent)) {
    throw fail(
      ctx,
      pos,
      `unsupported operand types for "**": ${typeName(base)} and ${typeName(exponent)}`,
    );
  }
  const a = Number(base);
  const b = Number(exponent);
  if (a === 0 && b < 0) throw fail(ctx, pos, "zero cannot be raised to a negative power");
  if (a < 0 && Number.isFinite(b) && !Number.isInteger(b)) {
    throw fail(ctx, pos, "a negative number cannot be raised to a fractional power");
  }
  const result = a ** b;
  if (!Number.isFinite(result)) {
    const show = (n: number) => (n < 0 ? `(${n})` : `${n}`);
    throw fail(ctx, pos, `result of ${show(a)} ** ${show(b)} is not a finite number`);
  }
  // An int to a negative int power is a float in Python (`2 ** -1`, `1 ** -1` is 1.0).
  return numberOf(result, isPythonFloat(base) || isPythonFloat(exponent) || b < 0);
}

function compare(
  op: CompareOp,
  left: EvalValue,
  right: EvalValue,
  pos: number,
  ctx: Context,
): boolean {
  if (op === "==") return equals(left, right);
  if (op === "!=") return !equals(left, right);
  const pair = orderable(left, right);
  if (pair === undefined) {
    throw fail(
      ctx,
      pos,
      `"${op}" is not supported between ${typeName(left)} and ${typeName(right)}`,
    );
  }
  const [a, b] = pair;
  switch (op) {
    case "<":
      return a < b;
    case "<=":
      return a <= b;
    case ">":
      return a > b;
    case ">=":
      return a >= b;
  }
}

/** Python `==`: numbers and booleans compare by value; otherwise same type and value. */
function equals(left: EvalValue, right: EvalValue): boolean {
  if (isNumeric(left) && isNumeric(right)) return Number(left) === Number(right);
  return left === right;
}

/**
 * Two values Python can order (two numbers/booleans, or two strings), as a pair of the same
 * JS type; `undefined` for anything else.
 */
function orderable(
  left: EvalValue,
  right: EvalValue,
): [number, number] | [string, string] | undefined {
  if (isNumeric(left) && isNumeric(right)) return [Number(left), Number(right)];
  if (typeof left === "string" && typeof right === "string") return [left, right];
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Built-in functions

type Fail = (reason: string) => ExpressionError;

interface BuiltinFunction {
  readonly minArgs: number;
  readonly maxArgs: number;
  apply(args: EvalValue[], fail: Fail): EvalValue;
}

function describeArity({ minArgs, maxArgs }: BuiltinFunction): string {
  const plural = (n: number) => `${n} argument${n === 1 ? "" : "s"}`;
  if (minArgs === maxArgs) return `takes exactly ${plural(minArgs)}`;
  if (maxArgs === Infinity) return `takes at least ${plural(minArgs)}`;
  return `takes ${minArgs} to ${plural(maxArgs)}`;
}

function numberArg(name: string, value: EvalValue, fail: Fail): number {
  if (!isNumeric(value)) throw fail(`${name}() argument must be a number, not ${typeName(value)}`);
  return Number(value);
}

function finiteArg(name: string, value: EvalValue, fail: Fail): number {
  const n = numberArg(name, value, fail);
  if (!Number.isFinite(n)) throw fail(`${name}() cannot convert ${n} to an integer`);
  return n;
}

const INT_TEXT_RE = new RegExp(String.raw`^[+-]?${DIGITS}$`);
const FLOAT_TEXT_RE = new RegExp(
  String.raw`^[+-]?(?:${DIGITS}(?:\.(?:${DIGITS})?)?|\.${DIGITS})(?:[eE][+-]?${DIGITS})?$`,
);
const FLOAT_SPECIAL_RE = /^([+-]?)(inf|infinity|nan)$/i;

/** Adding 0 turns -0 into 0: integral results have no negative zero, as Python ints. */
const integral = (n: number): number => n + 0;

const BUILTINS: ReadonlyMap<string, BuiltinFunction> = new Map<string, BuiltinFunction>([
  ["int", {
    minArgs: 1,
    maxArgs: 1,
    apply([value], fail) {
      if (typeof value === "string") {
        const text = value.trim();
        if (!INT_TEXT_RE.test(text)) {
          const hint = FLOAT_TEXT_RE.test(text) ? ' (use "int(float(x))" for decimals)' : "";
          throw fail(`invalid literal for int(): ${JSON.stringify(value)}${hint}`);
        }
        return integral(Number(text.replaceAll("_", "")));
      }
      return integral(Math.trunc(finiteArg("int", value, fail)));
    },
  }],
  ["float", {
    minArgs: 1,
    maxArgs: 1,
    apply([value], fail) {
      if (typeof value !== "string") return floatValue(numberArg("float", value, fail));
      const text = value.trim();
      if (FLOAT_TEXT_RE.test(text)) return floatValue(Number(text.replaceAll("_", "")));
      const special = FLOAT_SPECIAL_RE.exec(text);
      if (special === null) {
        throw fail(`could not convert string to float: ${JSON.stringify(value)}`);
      }
      if (special[2].toLowerCase() === "nan") return NaN;
      return special[1] === "-" ? -Infinity : Infinity;
    },
  }],
  ["bool", { minArgs: 1, maxArgs: 1, apply: ([value]) => isTruthy(value) }],
  ["abs", {
    minArgs: 1,
    maxArgs: 1,
    apply: ([value], fail) =>
      numberOf(Math.abs(numberArg("abs", value, fail)), isPythonFloat(value)),
  }],
  ["ceil", {
    minArgs: 1,
    maxArgs: 1,
    apply: ([value], fail) => integral(Math.ceil(finiteArg("ceil", value, fail))),
  }],
  ["floor", {
    minArgs: 1,
    maxArgs: 1,
    apply: ([value], fail) => integral(Math.floor(finiteArg("floor", value, fail))),
  }],
  ["round", {
    minArgs: 1,
    maxArgs: 2,
    apply([value, ndigits = null], fail) {
      if (ndigits === null) return integral(roundHalfEven(finiteArg("round", value, fail)));
      const x = numberArg("round", value, fail);
      const digits = Number(ndigits);
      if (!isNumeric(ndigits) || !Number.isInteger(digits)) {
        throw fail(`round() ndigits must be an integer, not ${JSON.stringify(ndigits)}`);
      }
      const result = roundToDigits(x, digits);
      if (!Number.isFinite(result) && Number.isFinite(x)) {
        throw fail("round() result is too large to represent");
      }
      // round(float, n) is a float, round(int, n) an int.
      return numberOf(result, isPythonFloat(value));
    },
  }],
  ["min", { minArgs: 2, maxArgs: Infinity, apply: (args, fail) => extreme("min", args, fail) }],
  ["max", { minArgs: 2, maxArgs: Infinity, apply: (args, fail) => extreme("max", args, fail) }],
]);

/** Python's `min`/`max` over two or more mutually comparable values; ties keep the first. */
function extreme(name: "min" | "max", args: EvalValue[], fail: Fail): EvalValue {
  let best = args[0];
  for (const item of args.slice(1)) {
    const pair = orderable(item, best);
    if (pair === undefined) {
      throw fail(`${name}() cannot compare ${typeName(item)} and ${typeName(best)}`);
    }
    const [a, b] = pair;
    if (name === "max" ? a > b : a < b) best = item;
  }
  return best;
}

/** Rounds to the nearest integer, ties to even (Python's `round(x)`). */
function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor; // exact for doubles
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * Python's `round(x, ndigits)`: rounds the exact binary value of `x` to `ndigits` decimal
 * places, ties to even, so `round(2.675, 2) == 2.67` and `round(0.125, 2) == 0.12`.
 */
function roundToDigits(x: number, ndigits: number): number {
  if (!Number.isFinite(x) || x === 0 || ndigits > 323) return x;
  if (ndigits < -308) return 0 * x;
  const { mantissa, exponent } = decompose(x);
  let numerator = mantissa < 0n ? -mantissa : mantissa;
  let denominator = 1n;
  if (exponent > 0) numerator <<= BigInt(exponent);
  else denominator <<= BigInt(-exponent);
  if (ndigits >= 0) numerator *= 10n ** BigInt(ndigits);
  else denominator *= 10n ** BigInt(-ndigits);
  let quotient = numerator / denominator;
  const twiceRemainder = (numerator % denominator) * 2n;
  if (twiceRemainder > denominator || (twiceRemainder === denominator && quotient % 2n === 1n)) {
    quotient += 1n;
  }
  const magnitude = Number(`${quotient}e${-ndigits}`);
  return mantissa < 0n ? -magnitude : magnitude;
}

/** Splits a finite double into `mantissa * 2 ** exponent` exactly. */
function decompose(x: number): { mantissa: bigint; exponent: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const high = view.getUint32(0);
  const low = view.getUint32(4);
  const biased = (high >>> 20) & 0x7ff;
  let mantissa = (BigInt(high & 0xfffff) << 32n) | BigInt(low);
  let exponent = -1074;
  if (biased !== 0) {
    mantissa |= 1n << 52n;
    exponent = biased - 1075;
  }
  return { mantissa: high >>> 31 ? -mantissa : mantissa, exponent };
}

// ---------------------------------------------------------------------------------------------
// Suggestions

/** Lists the known names closest to an unknown one, for the error hint. */
function suggestNames(name: string, known: readonly string[]): string {
  if (known.length === 0) return "no variables are defined here";
  const lastSegment = (s: string) => s.slice(s.lastIndexOf(".") + 1);
  const threshold = Math.max(2, Math.floor(name.length / 3));
  const close = known
    .map((candidate) => ({
      candidate,
      distance: lastSegment(candidate) === lastSegment(name)
        ? 0
        : editDistance(name.toLowerCase(), candidate.toLowerCase()),
    }))
    .filter(({ distance }) => distance <= threshold)
    .sort((a, b) => a.distance - b.distance || a.candidate.localeCompare(b.candidate))
    .slice(0, 3)
    .map(({ candidate }) => `"${candidate}"`);
  if (close.length > 0) return `did you mean ${close.join(" or ")}?`;
  const sorted = [...known].sort();
  const shown = sorted.slice(0, 5).map((k) => `"${k}"`).join(", ");
  return `known names: ${shown}${sorted.length > 5 ? `, ... (${sorted.length - 5} more)` : ""}`;
}

/** Levenshtein distance. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j] + 1,
        current[j - 1] + 1,
        previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length];
}
