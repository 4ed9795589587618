/**
 * The `${...}` grammar of OmegaConf, parsed into a small syntax tree: references (`${a.b}`,
 * `${.x}`, `${..x}`, `${a.0}`, `${a[0]}`, nested `${a.${k}}`) and resolver calls
 * (`${oc.env:HOME,/tmp}`) whose arguments are primitives, quoted strings, lists, dicts and
 * further interpolations. Parsing is pure and cached per string.
 *
 * Escapes follow OmegaConf 2.2. In plain text and in quoted arguments, a run of n backslashes
 * right before `${` becomes n/2 backslashes (rounded down); an odd run makes the `${` literal
 * (`\${x}` -> `${x}`), an even one leaves it an interpolation (`\\${x}` -> `\` + value).
 * Backslashes elsewhere are kept as written, except in quoted arguments before the closing
 * quote (`'a\\'` -> `a\`, `'it\'s'` -> `it's`). In unquoted arguments `\\`, `\,`, `\:`, `\=`,
 * `\ `, `\(`, `\)`, `\[`, `\]`, `\{`, `\}` stand for the second character; a lone `\` is kept.
 * autoexp also treats `$${` as a literal `${`, so a value such as `$${oc.timestring:}` is kept
 * for a later run to resolve (OmegaConf would print `$` and resolve).
 *
 * @module
 */
import { floatValue, type WholeFloat } from "./whole_float.ts";

/** A reference to another node. `key` holds text and nested interpolations, e.g. `a.${k}`. */
export interface RefNode {
  readonly kind: "ref";
  readonly key: readonly Piece[];
}

/** A resolver call such as `oc.env:HOME,/tmp`. */
export interface CallNode {
  readonly kind: "call";
  readonly name: string;
  readonly args: readonly ArgNode[];
}

/** An interpolation `${...}`. */
export type Interp = RefNode | CallNode;

/** A piece of a string: literal text or an interpolation. */
export type Piece = string | Interp;

/** A resolver argument. */
export type ArgNode =
  | { readonly kind: "value"; readonly value: string | number | WholeFloat | boolean | null }
  | { readonly kind: "interp"; readonly node: Interp }
  | { readonly kind: "concat"; readonly parts: readonly Piece[] }
  | { readonly kind: "list"; readonly items: readonly ArgNode[] }
  | { readonly kind: "dict"; readonly entries: readonly (readonly [string, ArgNode])[] };

/** A parsed string value. `whole` is set when the string is exactly one interpolation. */
export interface Template {
  readonly parts: readonly Piece[];
  readonly whole: Interp | null;
}

/** A syntax error in an interpolation, with the 0-based offset where it was found. */
export class InterpolationSyntaxError extends Error {
  override name = "InterpolationSyntaxError";
  constructor(message: string, readonly source: string, readonly offset: number) {
    super(`${message} at column ${offset + 1} in "${source}"`);
  }
}

const cache = new Map<string, Template | null>();

/** True when the string needs the interpolation machinery (it contains `${`). */
export function hasInterpolation(s: string): boolean {
  return s.includes("${");
}

/**
 * Parses a config string value. Returns `null` for strings without `${` (they are plain text).
 *
 * @throws {InterpolationSyntaxError} for an unterminated or malformed interpolation.
 * @example parseTemplate("run_${lr}") // { parts: ["run_", {kind:"ref", key:["lr"]}], whole: null }
 */
export function parseTemplate(s: string): Template | null {
  if (!s.includes("${")) return null;
  const hit = cache.get(s);
  if (hit !== undefined) return hit;
  const p = new Parser(s);
  const parts = p.text(null);
  const whole = parts.length === 1 && typeof parts[0] !== "string" ? parts[0] : null;
  const t: Template = { parts, whole };
  if (cache.size > 50_000) cache.clear();
  cache.set(s, t);
  return t;
}

/**
 * Parses a string as a single resolver-argument element (what `oc.decode` does): `[1, 2]`,
 * `{a: 1}`, `'quoted'`, `true`, `3.5`, `${x}`.
 */
export function parseArgument(s: string): ArgNode {
  const p = new Parser(s);
  p.skipWs();
  if (p.i >= s.length) p.fail("nothing to decode in an empty string");
  const node = p.element(null);
  p.skipWs();
  if (p.i < s.length) p.fail(`unexpected "${s[p.i]}"`);
  return node;
}

/**
 * Converts unquoted argument text to a typed primitive, as OmegaConf's grammar does; float
 * syntax with an integral value (`2.0`, `1e3`) gives a {@link WholeFloat}.
 */
export function parsePrimitive(text: string): string | number | WholeFloat | boolean | null {
  const t = text.trim();
  const lower = t.toLowerCase();
  if (lower === "null") return null;
  if (lower === "true") return true;
  if (lower === "false") return false;
  if (/^[+-]?(?:0|[1-9](?:_?\d)*)$/.test(t)) return Number(t.replaceAll("_", ""));
  if (
    /^[+-]?(?:(?:\d(?:_?\d)*)?\.\d(?:_?\d)*|\d(?:_?\d)*\.?)(?:[eE][+-]?\d(?:_?\d)*)?$/.test(t) &&
    /[.eE]/.test(t)
  ) {
    return floatValue(Number(t.replaceAll("_", "")));
  }
  if (/^[+-]?inf$/i.test(t)) return t.startsWith("-") ? -Infinity : Infinity;
  if (/^[+-]?nan$/i.test(t)) return NaN;
  return t;
}

const RESOLVER_NAME = /^[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*\s*:/;

/** Characters a backslash escapes in an unquoted resolver argument (OmegaConf's `ESC`). */
const UNQUOTED_ESCAPABLE = "\\()[]{}:=, \t";

/** The number of consecutive backslashes starting at `i`. */
function backslashRun(s: string, i: number): number {
  let j = i;
  while (s[j] === "\\") j++;
  return j - i;
}

class Parser {
  i = 0;
  constructor(readonly s: string) {}

  fail(msg: string, at = this.i): never {
    throw new InterpolationSyntaxError(msg, this.s, at);
  }

  skipWs(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i])) this.i++;
  }

  /** Top-level text (stop === null) or text inside a reference key (stop === "}"). */
  text(stop: "}" | null): Piece[] {
    const { s } = this;
    const parts: Piece[] = [];
    let buf = "";
    while (this.i < s.length) {
      const c = s[this.i];
      if (stop && c === stop) break;
      if (c === "\\") {
        buf += this.backslashes(null);
        continue;
      }
      if (c === "$" && s.startsWith("$${", this.i)) {
        buf += "${";
        this.i += 3;
        continue;
      }
      if (c === "$" && s[this.i + 1] === "{") {
        if (buf) parts.push(buf);
        buf = "";
        parts.push(this.interp());
        continue;
      }
      buf += c;
      this.i++;
    }
    if (buf) parts.push(buf);
    return parts;
  }

  /**
   * At a run of backslashes in text or in a string quoted with `quote`: consumes the run (and a
   * `${` or quote it escapes) and returns the text it stands for. An even run before `${` leaves
   * the `${` to be parsed as an interpolation.
   */
  backslashes(quote: string | null): string {
    const { s } = this;
    const n = backslashRun(s, this.i);
    const end = this.i + n;
    this.i = end;
    const half = "\\".repeat(n >> 1);
    if (s.startsWith("${", end)) {
      if (n % 2 === 0) return half;
      this.i += 2;
      return `${half}\${`;
    }
    if (quote !== null && s[end] === quote) {
      if (n % 2 === 0) return half; // the backslashes end the string
      this.i++;
      return half + quote;
    }
    return s.slice(end - n, end);
  }

  /** At `${`: parses one interpolation and consumes its closing brace. */
  interp(): Interp {
    const start = this.i;
    this.i += 2;
    this.skipWs();
    const rest = this.s.slice(this.i);
    const m = rest.match(RESOLVER_NAME);
    let node: Interp;
    if (m) {
      const name = m[0].slice(0, -1).trim();
      this.i += m[0].length;
      node = { kind: "call", name, args: this.args(start) };
    } else {
      const key = this.text("}");
      if (this.s[this.i] !== "}") this.fail("unterminated interpolation", start);
      node = { kind: "ref", key: trimPieces(key) };
      if (node.key.length === 0) this.fail("empty interpolation", start);
    }
    if (this.s[this.i] !== "}") this.fail("unterminated interpolation", start);
    this.i++;
    return node;
  }

  /** Resolver arguments up to (not including) the closing `}` of the `${` at `start`. */
  args(start: number): ArgNode[] {
    const out: ArgNode[] = [];
    this.skipWs();
    if (this.s[this.i] === "}") return out;
    for (;;) {
      out.push(this.element("}"));
      this.skipWs();
      const c = this.s[this.i];
      if (c === ",") {
        this.i++;
        continue;
      }
      if (c === "}") return out;
      if (this.i >= this.s.length) this.fail("unterminated interpolation", start);
      this.fail(`unexpected "${c}"`);
    }
  }

  /** One argument element; `close` is the bracket that ends the enclosing sequence. */
  element(close: "}" | "]" | null): ArgNode {
    this.skipWs();
    const c = this.s[this.i];
    if (c === "'" || c === '"') return this.quoted(c);
    if (c === "[") return this.list();
    if (c === "{") return this.dict();
    return this.primitive(close);
  }

  quoted(q: string): ArgNode {
    const start = this.i;
    this.i++;
    const parts: Piece[] = [];
    let buf = "";
    const { s } = this;
    while (this.i < s.length && s[this.i] !== q) {
      const c = s[this.i];
      if (c === "\\") {
        buf += this.backslashes(q);
      } else if (c === "$" && s.startsWith("$${", this.i)) {
        buf += "${";
        this.i += 3;
      } else if (c === "$" && s[this.i + 1] === "{") {
        if (buf) parts.push(buf);
        buf = "";
        parts.push(this.interp());
      } else {
        buf += c;
        this.i++;
      }
    }
    if (s[this.i] !== q) this.fail("unterminated quoted string", start);
    this.i++;
    if (buf || parts.length === 0) parts.push(buf);
    if (parts.length === 1 && typeof parts[0] === "string") {
      return { kind: "value", value: parts[0] };
    }
    return { kind: "concat", parts };
  }

  list(): ArgNode {
    const start = this.i;
    this.i++;
    const items: ArgNode[] = [];
    this.skipWs();
    if (this.s[this.i] === "]") {
      this.i++;
      return { kind: "list", items };
    }
    for (;;) {
      items.push(this.element("]"));
      this.skipWs();
      const c = this.s[this.i];
      if (c === ",") this.i++;
      else if (c === "]") {
        this.i++;
        return { kind: "list", items };
      } else {this.fail(
          this.i >= this.s.length ? "unterminated list" : `unexpected "${c}" in list`,
          start,
        );}
    }
  }

  dict(): ArgNode {
    const start = this.i;
    this.i++;
    const entries: [string, ArgNode][] = [];
    this.skipWs();
    if (this.s[this.i] === "}") {
      this.i++;
      return { kind: "dict", entries };
    }
    for (;;) {
      this.skipWs();
      let key: string;
      const c0 = this.s[this.i];
      if (c0 === "'" || c0 === '"') {
        const k = this.quoted(c0);
        if (k.kind !== "value") this.fail("dict keys cannot contain interpolations");
        key = String(k.value);
      } else {
        const m = this.s.slice(this.i).match(/^[^:,{}[\]'"]+/);
        if (!m) this.fail("expected a dict key", this.i);
        key = m[0].trim();
        this.i += m[0].length;
      }
      this.skipWs();
      if (this.s[this.i] !== ":") this.fail(`expected ":" after dict key "${key}"`);
      this.i++;
      entries.push([key, this.element("}")]);
      this.skipWs();
      const c = this.s[this.i];
      if (c === ",") this.i++;
      else if (c === "}") {
        this.i++;
        return { kind: "dict", entries };
      } else {this.fail(
          this.i >= this.s.length ? "unterminated dict" : `unexpected "${c}" in dict`,
          start,
        );}
    }
  }

  /** Unquoted text (possibly with interpolations) up to `,` or the closing bracket. */
  primitive(close: "}" | "]" | null): ArgNode {
    const { s } = this;
    const parts: Piece[] = [];
    let buf = "";
    let kept = 0; // length of `buf` that trailing-whitespace trimming must not touch
    let escaped = false; // an escape makes the value a string, as in OmegaConf
    let depth = 0; // parentheses, so `${eval:max(1, 2)}` keeps working unquoted
    while (this.i < s.length) {
      const c = s[this.i];
      if (depth === 0 && (c === "," || c === close || (close === null && c === "}"))) break;
      if (c === "\\") {
        const next = s[this.i + 1];
        if (next !== undefined && UNQUOTED_ESCAPABLE.includes(next)) {
          buf += next;
          this.i += 2;
          kept = buf.length;
          escaped = true;
        } else {
          buf += c; // a lone backslash is an ordinary character, even before `${`
          this.i++;
        }
        continue;
      }
      if (c === "(") depth++;
      else if (c === ")" && depth > 0) depth--;
      if (c === "$" && s.startsWith("$${", this.i)) {
        buf += "${";
        this.i += 3;
        continue;
      }
      if (c === "$" && s[this.i + 1] === "{") {
        if (buf) parts.push(buf);
        buf = "";
        kept = 0;
        parts.push(this.interp());
        continue;
      }
      if (c === "'" || c === '"' || c === "[" || c === "{" || c === "]") {
        this.fail(`unexpected "${c}" (quote arguments that contain it)`);
      }
      buf += c;
      this.i++;
    }
    // Leading whitespace was skipped by the caller; trailing whitespace is not part of the
    // value unless it was escaped.
    let end = buf.length;
    while (end > kept && /\s/.test(buf[end - 1])) end--;
    buf = buf.slice(0, end);
    if (buf) parts.push(buf);
    if (parts.length === 0) return { kind: "value", value: "" };
    if (parts.length === 1) {
      const only = parts[0];
      if (typeof only === "string") {
        return { kind: "value", value: escaped ? only : parsePrimitive(only) };
      }
      return { kind: "interp", node: only };
    }
    return { kind: "concat", parts };
  }
}

/** Trims whitespace at the outer edges of a piece list, dropping empty text pieces. */
function trimPieces(parts: Piece[]): Piece[] {
  const out = [...parts];
  if (typeof out[0] === "string") out[0] = out[0].trimStart();
  const last = out.length - 1;
  if (typeof out[last] === "string") out[last] = (out[last] as string).trimEnd();
  return out.filter((p) => p !== "");
}
