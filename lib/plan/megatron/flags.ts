/**
 * Megatron arguments -> argv tokens for Megatron's argparse. The tokens are executed without a
 * shell, so nothing is quoted.
 *
 * @module
 */

import type { ConfigMap, ConfigValue } from "../../config/tree.ts";
import { type MegatronArg, resolveMegatronKey } from "./args.ts";
import { formatFloat, formatInt, readNumber } from "./_values.ts";

/**
 * Renders `args` (validated with `validateMegatronArgs`) as argv tokens, in the args' key order:
 * - a value: `--flag value`; a list: `--flag a b c` (each item its own token; a scalar given to
 *   a list argument is a one-item list);
 * - `store_true` switches: true -> `--flag`, false -> nothing; `store_false` switches (dest
 *   `add_bias_linear`, flag `--disable-bias-linear`): false -> `--flag`, true -> nothing;
 *   `--x`/`--no-x` pairs: true -> `--x`, false -> `--no-x`; a flag-spelled switch key
 *   (`disable_bias_linear: true`): true -> that flag, false -> nothing;
 * - a `type=bool` value argument (`--onnx-safe`): true -> `--onnx-safe True`, false -> nothing
 *   (Python's `bool("False")` is true, so false cannot be passed);
 * - null -> nothing;
 * - integers without decimals or exponent (`1000000000`), floats in their shortest form
 *   (`0.0003`, `3e-7`; negatives in exponent form written out, as argparse would take
 *   `-3e-7` for an option), strings as they are.
 *
 * Throws a plain `Error` for a key or value that validation would have reported: that is a
 * bug in the caller.
 *
 * @example
 * renderMegatronFlags({ seq_length: 4096, lr: 3e-4, add_bias_linear: false, bf16: true })
 * // ["--seq-length", "4096", "--lr", "0.0003", "--disable-bias-linear", "--bf16"]
 */
export function renderMegatronFlags(args: ConfigMap): string[] {
  const out: string[] = [];
  for (const key in args) {
    const value = args[key];
    if (value === null) continue;
    // A sweep renders the same (key, value) pairs thousands of times: a scalar's tokens are
    // kept (and shared by the runs' argv, which also saves memory).
    if (typeof value !== "number" && typeof value !== "string" && typeof value !== "boolean") {
      renderFlag(key, value, out);
      continue;
    }
    let byValue = rendered.get(key);
    if (!byValue) rendered.set(key, byValue = new Map());
    let tokens = byValue.get(value);
    if (!tokens) {
      tokens = renderFlag(key, value, []);
      if (byValue.size < 4096) byValue.set(value, tokens);
    }
    for (const t of tokens) out.push(t);
  }
  return out;
}

/** Tokens of (key, scalar value) pairs already rendered: a pure function of the pair. */
const rendered = new Map<string, Map<string | number | boolean, readonly string[]>>();

/** Appends the tokens of one argument to `out` (and returns it). */
function renderFlag(key: string, value: ConfigValue, out: string[]): string[] {
  const resolved = resolveMegatronKey(key);
  if (!resolved) throw new Error(`renderMegatronFlags: unknown Megatron argument "${key}"`);
  const { arg, switchFlag } = resolved;
  const fail = () =>
    new Error(`renderMegatronFlags: invalid value ${JSON.stringify(value)} for "${key}"`);
  if (switchFlag !== undefined) {
    if (typeof value !== "boolean") throw fail();
    if (value) out.push(switchFlag);
    return out;
  }
  switch (arg.action) {
    case "store_true":
      if (typeof value !== "boolean") throw fail();
      if (value) out.push(arg.flags[0]);
      break;
    case "store_false":
      if (typeof value !== "boolean") throw fail();
      if (!value) out.push(arg.flags[0]);
      break;
    case "custom":
      if (typeof value !== "boolean") throw fail();
      out.push(value ? arg.flags[0] : arg.flags[1]);
      break;
    case "store": {
      if (arg.type === "bool") {
        if (typeof value !== "boolean") throw fail();
        if (value) out.push(arg.flags[0], "True");
        break;
      }
      const items = arg.nargs === null ? [value] : Array.isArray(value) ? value : [value];
      if (arg.nargs === null && Array.isArray(value)) throw fail();
      out.push(arg.flags[0], ...items.map((v) => formatValue(arg, v, fail)));
    }
  }
  return out;
}

function formatValue(arg: MegatronArg, v: ConfigValue, fail: () => Error): string {
  if (typeof v === "number") {
    if (arg.type === "int") {
      if (!Number.isInteger(v)) throw fail();
      return formatInt(v);
    }
    return arg.type === "float" ? formatFloat(v) : Number.isInteger(v) ? formatInt(v) : String(v);
  }
  if (typeof v === "string") {
    // A negative float in exponent notation would read as an option: write it out.
    if (arg.type === "float" && /^\s*-.*e/i.test(v)) {
      const n = readNumber(v);
      if (n !== undefined) return formatFloat(n);
    }
    return v;
  }
  throw fail();
}
