/**
 * Hydra's override grammar for `-o`: `key=value` (key must exist), `+key=value` (add),
 * `++key=value` (add or replace), `~key` / `~key=value` (delete), `group=option`, and with `-m`
 * sweeps: `a,b,c`, `range(1,5)`, `choice(a,b)`. Values are YAML-like scalars, `[lists]`,
 * `{dicts}`, quoted strings; `${...}` interpolations are kept as text for later resolution.
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import type { ConfigMap, ConfigValue } from "./tree.ts";
import { floatValue, isPythonFloat, type WholeFloat } from "./whole_float.ts";

/** What an override does. */
export type OverrideKind = "set" | "add" | "force" | "delete";

/** One parsed `-o` argument. */
export interface Override {
  readonly kind: OverrideKind;
  /** Dotted key, or a group path such as `slurm` or `backend/megatron`. */
  readonly key: string;
  /** `group@package` target package, when given. */
  readonly package?: string;
  /** The value; absent for `~key`. */
  readonly value?: ConfigValue;
  /** Set when the value is a sweep (`a,b`, `range(...)`, `choice(...)`): the values in order. */
  readonly sweep?: readonly ConfigValue[];
  /** The text the user typed, for messages. */
  readonly text: string;
}

const KEY = /^(~|\+\+|\+)?([A-Za-z0-9_\-./[\]$]+?)(?:@([A-Za-z0-9_.\-]+))?(?:=(.*))?$/s;

/**
 * Parses one override.
 *
 * @throws {UsageError} naming the override and what is wrong with it.
 * @example parseOverride("+trainer.lr=1e-3") // { kind: "add", key: "trainer.lr", value: 0.001, ... }
 */
export function parseOverride(text: string): Override {
  const m = text.match(KEY);
  if (!m) {
    throw new UsageError(
      `invalid override "${text}": expected key=value, +key=value, ++key=value, ~key or group=option`,
    );
  }
  const [, prefix, key, pkg, rawValue] = m;
  const kind: OverrideKind = prefix === "~"
    ? "delete"
    : prefix === "++"
    ? "force"
    : prefix === "+"
    ? "add"
    : "set";
  if (rawValue === undefined) {
    if (kind !== "delete") {
      throw new UsageError(
        `invalid override "${text}": missing "=value" (use ~${key} to delete a key)`,
      );
    }
    return { kind, key, package: pkg, text };
  }
  // Hydra: `~key=` (nothing after "=") deletes whatever the value is, like `~key`.
  if (kind === "delete" && rawValue.trim() === "") return { kind, key, package: pkg, text };
  let parsed: { value: ConfigValue; sweep?: ConfigValue[] };
  try {
    // Columns in messages count from the start of the whole override.
    parsed = parseOverrideValue(rawValue, text.length - rawValue.length);
  } catch (e) {
    throw new UsageError(`invalid override "${text}": ${(e as Error).message}`);
  }
  return { kind, key, package: pkg, value: parsed.value, sweep: parsed.sweep, text };
}

/** Parses the right-hand side of an override. */
export function parseOverrideValue(
  src: string,
  offset = 0,
): { value: ConfigValue; sweep?: ConfigValue[] } {
  const p = new ValueParser(src, offset);
  const fn = src.trim().match(/^(range|choice)\((.*)\)$/s);
  if (fn) {
    const inner = new ValueParser(fn[2], offset + src.indexOf("(") + 1).elements(null);
    if (fn[1] === "choice") return { value: inner[0] ?? null, sweep: inner };
    const nums = inner.map(Number);
    // Hydra's range gives floats when any argument is a float: range(1.0,3) is 1.0, 2.0.
    const floats = inner.some(isPythonFloat);
    if (nums.length < 1 || nums.length > 3 || nums.some((n) => !Number.isFinite(n))) {
      throw new Error(`range() takes 1 to 3 numbers, got "${fn[2]}"`);
    }
    const [start, stop, step] = nums.length === 1
      ? [0, nums[0], 1]
      : [nums[0], nums[1], nums[2] ?? 1];
    if (step === 0) throw new Error("range() step cannot be 0");
    const out: (number | WholeFloat)[] = [];
    for (let x = start; step > 0 ? x < stop : x > stop; x += step) {
      const n = Number(x.toPrecision(12));
      out.push(floats ? floatValue(n) : n);
      if (out.length > 100_000) throw new Error("range() produces more than 100000 values");
    }
    return { value: out[0] ?? null, sweep: out };
  }
  const items = p.elements(null);
  if (items.length === 0) return { value: "" };
  if (items.length === 1) return { value: items[0] };
  return { value: items[0], sweep: items };
}

/**
 * Converts unquoted override text to a typed value (Hydra's rules). Float syntax (`1.0`, `1e3`)
 * gives a float: a {@link WholeFloat} when its value is integral.
 */
export function parseOverridePrimitive(text: string): ConfigValue {
  const t = text.trim();
  const lower = t.toLowerCase();
  if (lower === "null") return null;
  if (lower === "true") return true;
  if (lower === "false") return false;
  // Hydra's INT has no leading zeros: `007` stays the string "007".
  if (/^[+-]?(?:0|[1-9](?:_?\d)*)$/.test(t)) return Number(t.replaceAll("_", ""));
  if (/^[+-]?(?:\d(?:_?\d)*)?\.?\d*(?:[eE][+-]?\d+)?$/.test(t) && /\d/.test(t) && /[.eE]/.test(t)) {
    const n = Number(t.replaceAll("_", ""));
    if (Number.isFinite(n)) return floatValue(n); // `1.0` stays a float
  }
  if (/^[+-]?inf$/i.test(t)) return t.startsWith("-") ? -Infinity : Infinity;
  if (/^nan$/i.test(t)) return NaN;
  return t;
}

class ValueParser {
  i = 0;
  /** `offset`: where `s` starts in the text the user typed, for columns in messages. */
  constructor(readonly s: string, readonly offset = 0) {}

  /** Comma-separated elements up to `close` (or the end). */
  elements(close: "]" | "}" | null): ConfigValue[] {
    const out: ConfigValue[] = [];
    const { s } = this;
    this.ws();
    if (this.i >= s.length || s[this.i] === close) return out;
    for (;;) {
      out.push(this.element(close));
      this.ws();
      if (this.i >= s.length) {
        if (close) throw new Error(`missing "${close}"`);
        return out;
      }
      const c = s[this.i];
      if (c === ",") {
        this.i++;
        continue;
      }
      if (c === close) return out;
      throw new Error(`unexpected "${c}" at column ${this.offset + this.i + 1}`);
    }
  }

  ws(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i])) this.i++;
  }

  element(close: "]" | "}" | null): ConfigValue {
    this.ws();
    const c = this.s[this.i];
    if (c === "[") {
      this.i++;
      const items = this.elements("]");
      this.i++;
      return items;
    }
    if (c === "{") {
      this.i++;
      return this.dict();
    }
    if (c === "'" || c === '"') return this.quoted(c);
    return this.primitive(close);
  }

  dict(): ConfigMap {
    const out: ConfigMap = {};
    const { s } = this;
    this.ws();
    if (s[this.i] === "}") {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      let key: string;
      if (s[this.i] === "'" || s[this.i] === '"') key = String(this.quoted(s[this.i]));
      else {
        const m = s.slice(this.i).match(/^[^:,{}[\]]+/);
        if (!m) throw new Error(`expected a key at column ${this.offset + this.i + 1}`);
        key = m[0].trim();
        this.i += m[0].length;
      }
      this.ws();
      if (s[this.i] !== ":") throw new Error(`expected ":" after "${key}"`);
      this.i++;
      out[key] = this.element("}");
      this.ws();
      if (s[this.i] === ",") {
        this.i++;
        continue;
      }
      if (s[this.i] === "}") {
        this.i++;
        return out;
      }
      throw new Error(
        this.i >= s.length
          ? 'missing "}"'
          : `unexpected "${s[this.i]}" at column ${this.offset + this.i + 1}`,
      );
    }
  }

  quoted(q: string): string {
    const start = this.i;
    this.i++;
    let out = "";
    const { s } = this;
    while (this.i < s.length && s[this.i] !== q) {
      if (s[this.i] === "\\" && (s[this.i + 1] === q || s[this.i + 1] === "\\")) {
        out += s[this.i + 1];
        this.i += 2;
      } else out += s[this.i++];
    }
    if (s[this.i] !== q) {
      throw new Error(`unterminated quoted string starting at column ${this.offset + start + 1}`);
    }
    this.i++;
    return out;
  }

  /**
   * Unquoted text; `${...}` blocks are copied whole (their commas do not split). As in Hydra,
   * a backslash escapes one of `\\()[]{}:=, ` and the tab, and an escaped value stays a string.
   */
  primitive(close: "]" | "}" | null): ConfigValue {
    const { s } = this;
    let buf = "";
    let escaped = false;
    while (this.i < s.length) {
      const c = s[this.i];
      if (c === "\\" && this.i + 1 < s.length && ESCAPABLE.includes(s[this.i + 1])) {
        // Fenced by private-use marks so trimming below does not eat an escaped space.
        buf += ESC_MARK + s[this.i + 1] + ESC_MARK;
        escaped = true;
        this.i += 2;
        continue;
      }
      if (c === "," || c === close) break;
      if (c === "$" && s[this.i + 1] === "{") {
        let depth = 0;
        const start = this.i;
        while (this.i < s.length) {
          if (s[this.i] === "$" && s[this.i + 1] === "{") {
            depth++;
            this.i += 2;
            continue;
          }
          if (s[this.i] === "}") {
            depth--;
            this.i++;
            if (depth === 0) break;
            continue;
          }
          this.i++;
        }
        if (depth !== 0) {
          throw new Error(
            `unterminated interpolation starting at column ${this.offset + start + 1}`,
          );
        }
        buf += s.slice(start, this.i);
        continue;
      }
      if (c === "[" || c === "]" || c === "{" || c === "}") {
        throw new Error(
          `unexpected "${c}" at column ${this.offset + this.i + 1} (quote the value if it is text)`,
        );
      }
      buf += c;
      this.i++;
    }
    if (escaped) return buf.trim().replaceAll(ESC_MARK, "");
    return parseOverridePrimitive(buf);
  }
}

const ESCAPABLE = "\\()[]{}:=, \t";
const ESC_MARK = "\uE000";
