/**
 * A small, fast, stable, non-cryptographic hash for fingerprints and ids (FNV-1a, two 32-bit
 * lanes -> 16 hex digits). Stable across runs and platforms.
 *
 * @module
 */
import { WholeFloat } from "../config/tree.ts";

/** 16 hex digits identifying `text`. */
export function stableHash(text: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) ^ (h2 >>> 15);
  }
  return (h1 >>> 0).toString(16).padStart(8, "0") + (h2 >>> 0).toString(16).padStart(8, "0");
}

/** JSON with sorted object keys, so equal data hashes equally. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  // A whole float is a number, written as JSON writes it (`1.0`).
  if (v && typeof v === "object" && !(v instanceof WholeFloat)) {
    const keys = Object.keys(v as Record<string, unknown>).sort();
    return `{${
      keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
        .join(",")
    }}`;
  }
  return JSON.stringify(v) ?? "null";
}
