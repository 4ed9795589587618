/**
 * Reading numbers out of config values and writing them back as argv tokens that Python's
 * argparse accepts. Private to the Megatron backend.
 *
 * @module
 */

import type { ConfigValue } from "../../config/tree.ts";

/** What Python's `int()` accepts, restricted to the plain spellings people write. */
export const INT_RE = /^[+-]?\d+$/;
/** What Python's `float()` accepts, restricted to the plain spellings (plus inf and nan). */
export const FLOAT_RE = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity|nan)$/i;

/** The value as an integer (a number, or a string like `"4096"`), else undefined. */
export function readInt(v: ConfigValue | undefined): number | undefined {
  if (typeof v === "number") return Number.isInteger(v) ? v : undefined;
  if (typeof v === "string" && INT_RE.test(v.trim())) return Number(v.trim());
  return undefined;
}

/** The value as a finite number (a number, or a numeric string like `"3e-4"`), else undefined. */
export function readNumber(v: ConfigValue | undefined): number | undefined {
  if (typeof v === "number") return Number.isFinite(v) ? v : undefined;
  if (typeof v === "string" && FLOAT_RE.test(v.trim())) {
    const n = Number(v.trim());
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/**
 * An integer as Python's `int()` reads it: all digits, never exponent notation
 * (`1e+21` would be `String(1e21)`).
 */
export function formatInt(n: number): string {
  return Number.isSafeInteger(n) ? String(n) : BigInt(n).toString();
}

/**
 * A float as the shortest text that reads back to the same double (`0.0003`, `3e-7`, `1e+21`),
 * which Python's `float()` parses. Negative numbers in exponent notation are written out in
 * full (`-0.0000003`): argparse (before Python 3.14) takes `-3e-7` for an option, not a value.
 */
export function formatFloat(n: number): string {
  if (Number.isNaN(n)) return "nan";
  if (!Number.isFinite(n)) return n > 0 ? "inf" : "-inf";
  const s = String(n);
  if (n >= 0 || !/e/i.test(s)) return s;
  return `-${expandExponent(s.slice(1))}`;
}

/** `3e-7` -> `0.0000003`, `1.5e+21` -> `1500000000000000000000` (digits kept exactly). */
function expandExponent(s: string): string {
  const [mant, expText] = s.toLowerCase().split("e");
  const exp = Number(expText);
  const [intPart, frac = ""] = mant.split(".");
  const digits = intPart + frac;
  const point = intPart.length + exp; // position of the decimal point within `digits`
  if (point <= 0) return `0.${"0".repeat(-point)}${digits}`;
  if (point >= digits.length) return digits + "0".repeat(point - digits.length);
  return `${digits.slice(0, point)}.${digits.slice(point)}`;
}
