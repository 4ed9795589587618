/**
 * What a value is, for messages of the form "expected X, got Y": the one wording every
 * validator uses.
 *
 * @module
 */
import { WholeFloat } from "./whole_float.ts";

/**
 * `nothing`, `null`, `a list` / `an empty list`, `a mapping` / `an empty mapping`, a string
 * quoted (`"abc"`), a number or boolean as YAML writes it (`true`, `0.001`, `1.0`).
 */
export function describeValue(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return v.length === 0 ? "an empty list" : "a list";
  if (v instanceof WholeFloat) return String(v);
  if (typeof v === "object") return Object.keys(v).length === 0 ? "an empty mapping" : "a mapping";
  if (typeof v === "string") return JSON.stringify(v);
  return String(v);
}
