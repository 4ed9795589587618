/**
 * Templates of event actions and conditions: Python `str.format` style placeholders, as the
 * seeds write them (`"{output_dir}/hf_checkpoints/iter_{checkpoint_iteration}"`).
 *
 * - `{name}` and `{dotted.name}` (`{backend.args.train_iters}`) are placeholders; names are
 *   identifiers joined by dots.
 * - `{{` and `}}` are literal braces.
 * - Format specs: `{x:0Nd}` zero-pads an integer to N digits, `{x:d}` renders an integer and
 *   `{x:s}` a string; nothing else (no conversions like `!r`, no indexing like `{a[0]}`).
 * - Values render as Python's `str()` would: `null` -> `None`, booleans -> `True` / `False`.
 *
 * {@link placeholders} and {@link checkTemplate} serve plan-time validation;
 * {@link formatTemplate} expands a template when an event fires. Pure.
 *
 * @module
 */
import { pythonStr } from "../config/python_str.ts";

/** A value a template placeholder can take. */
export type TemplateValue = string | number | boolean | null | undefined;

/** A template could not be expanded: a malformed template, a missing or unsafe value. */
export class TemplateError extends Error {
  override name = "TemplateError";
}

/** One piece of a parsed template. */
type Segment =
  | { readonly text: string }
  | { readonly name: string; readonly spec: FormatSpec };

/** A supported format spec: none (`{x}` / `{x:s}`) or an integer with zero padding to `width`. */
type FormatSpec = { readonly int: false } | { readonly int: true; readonly width: number };

const NAME = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$/;
const SHELL_SAFE = /^[A-Za-z0-9_.\/:=+,@%-]*$/;
const MAX_LISTED = 20;

/**
 * The distinct placeholder names of a template, in order of first use.
 *
 * @throws {TemplateError} when the template is malformed (an unclosed `{`, a lone `}`, an
 * empty `{}`, a bad name or an unsupported format spec).
 *
 * @example placeholders("{a}/{{x}}/iter_{it:07d}/{a}") // ["a", "it"]
 */
export function placeholders(t: string): string[] {
  const names: string[] = [];
  for (const seg of parseTemplate(t)) {
    if ("name" in seg && !names.includes(seg.name)) names.push(seg.name);
  }
  return names;
}

/**
 * Expands a template with the values in `ctx`. With `shellSafe`, every substituted value must
 * consist of characters that are inert in any shell quoting (letters, digits and `_.\/:=+,@%-`),
 * so a shell command string cannot be subverted by a value such as `a; rm -rf ~`.
 *
 * @throws {TemplateError} for a malformed template, a placeholder without a value in `ctx`
 * (the message lists the available names), a value a `:d` spec cannot render, or (with
 * `shellSafe`) a value with unsafe characters.
 *
 * @example formatTemplate("{dir}/iter_{it:07d}", { dir: "/ckpt", it: "500" }) // "/ckpt/iter_0000500"
 */
export function formatTemplate(
  t: string,
  ctx: Readonly<Record<string, TemplateValue>>,
  opts: { shellSafe?: boolean } = {},
): string {
  let out = "";
  for (const seg of parseTemplate(t)) {
    if ("text" in seg) {
      out += seg.text;
      continue;
    }
    const value = Object.hasOwn(ctx, seg.name) ? ctx[seg.name] : undefined;
    if (value === undefined) throw missing(t, seg.name, ctx);
    const text = render(t, seg.name, value, seg.spec);
    if (opts.shellSafe && !SHELL_SAFE.test(text)) {
      throw new TemplateError(
        `the value of {${seg.name}} (${JSON.stringify(text)}) contains characters unsafe in a ` +
          `shell string (template ${JSON.stringify(t)}); use a list command (argv) instead of ` +
          `a shell string`,
      );
    }
    out += text;
  }
  return out;
}

/**
 * The placeholder names of `t` that `known` does not accept, in order of first use (for
 * plan-time validation against the names a run's context will have).
 *
 * @throws {TemplateError} when the template is malformed.
 *
 * @example checkTemplate("{output_dir}/{ckpt}", (n) => n === "output_dir") // ["ckpt"]
 */
export function checkTemplate(t: string, known: (name: string) => boolean): string[] {
  return placeholders(t).filter((name) => !known(name));
}

/** Splits a template into literal text and placeholders. */
function parseTemplate(t: string): Segment[] {
  const out: Segment[] = [];
  let text = "";
  let i = 0;
  while (i < t.length) {
    const c = t[i];
    if (c === "}") {
      if (t[i + 1] !== "}") {
        throw malformed(t, i, 'a single "}"; write "}}" for a literal brace');
      }
      text += "}";
      i += 2;
    } else if (c !== "{") {
      text += c;
      i++;
    } else if (t[i + 1] === "{") {
      text += "{";
      i += 2;
    } else {
      const close = t.indexOf("}", i + 1);
      const open = t.indexOf("{", i + 1);
      if (close < 0 || (open >= 0 && open < close)) {
        throw malformed(t, i, 'an unclosed "{"; write "{{" for a literal brace');
      }
      if (text) out.push({ text });
      text = "";
      out.push(parseField(t, i, t.slice(i + 1, close)));
      i = close + 1;
    }
  }
  if (text) out.push({ text });
  return out;
}

/** Parses the inside of `{...}`: a name and an optional format spec. */
function parseField(t: string, at: number, field: string): Segment {
  const colon = field.indexOf(":");
  const name = colon < 0 ? field : field.slice(0, colon);
  if (name === "") {
    throw malformed(t, at, 'an empty placeholder "{}"; name the value, as in "{output_dir}"');
  }
  if (!NAME.test(name)) {
    throw malformed(
      t,
      at,
      `"{${field}}" is not a placeholder name; names are identifiers joined by dots ` +
        `(conversions like "!r" and indexing like "[0]" are not supported)`,
    );
  }
  return { name, spec: colon < 0 ? { int: false } : parseSpec(t, at, field.slice(colon + 1)) };
}

function parseSpec(t: string, at: number, spec: string): FormatSpec {
  if (spec === "" || spec === "s") return { int: false };
  const m = /^(?:0(\d+))?d$/.exec(spec);
  if (m) return { int: true, width: m[1] ? Number(m[1]) : 0 };
  throw malformed(
    t,
    at,
    `the format spec ":${spec}" is not supported; use ":0Nd" (an integer zero-padded to N ` +
      `digits), ":d" or ":s"`,
  );
}

/** Python `str()` of a value, or `format(int(value), "0Nd")` for an integer spec. */
function render(
  t: string,
  name: string,
  value: string | number | boolean | null,
  spec: FormatSpec,
) {
  if (!spec.int) return pythonStr(value);
  const n = typeof value === "boolean"
    ? Number(value)
    : typeof value === "number"
    ? value
    : typeof value === "string" && /^\s*[-+]?\d+\s*$/.test(value)
    ? Number(value)
    : NaN;
  if (!Number.isSafeInteger(n)) {
    throw new TemplateError(
      `the value of {${name}} (${JSON.stringify(value)}) is not an integer, which its format ` +
        `spec in ${JSON.stringify(t)} needs; drop the ":d" spec or give an integer`,
    );
  }
  const digits = String(Math.abs(n)).padStart(spec.width - (n < 0 ? 1 : 0), "0");
  return n < 0 ? `-${digits}` : digits;
}

function missing(
  t: string,
  name: string,
  ctx: Readonly<Record<string, TemplateValue>>,
): TemplateError {
  const names = Object.keys(ctx).filter((k) => ctx[k] !== undefined).sort();
  const listed = names.slice(0, MAX_LISTED).join(", ");
  const more = names.length > MAX_LISTED ? ` (and ${names.length - MAX_LISTED} more)` : "";
  return new TemplateError(
    `no value for the placeholder {${name}} in ${JSON.stringify(t)}; ` +
      (names.length ? `available: ${listed}${more}` : "no values are available"),
  );
}

function malformed(t: string, at: number, what: string): TemplateError {
  return new TemplateError(`malformed template ${JSON.stringify(t)} at position ${at}: ${what}`);
}
