/**
 * Name lookup over a sweep's dotted keys, shared by filters and name templates: a name is a
 * full key (`backend.args.lr`) or a trailing part of one (`args.lr`, `lr`) that only one key
 * ends with. Full keys win over trailing parts of other keys.
 *
 * @module
 */
import { pythonStr } from "../config/python_str.ts";

/** The result of looking a name up: the key it means, or the keys it could mean. */
export type Resolved = { readonly key: string } | { readonly ambiguous: readonly string[] };

/** A lookup table from the names users may write to the full keys they mean. */
export interface KeyIndex {
  /** The full keys, in first-seen order. */
  readonly keys: readonly string[];
  /** The key `name` means, the keys it could mean, or `undefined` when nothing matches. */
  resolve(name: string): Resolved | undefined;
  /** Every name that resolves to exactly one key (full keys first), for suggestions. */
  names(): string[];
}

/**
 * Builds the lookup table for `keys`.
 *
 * @example
 * ```ts
 * const ix = indexKeys(["backend.args.lr", "optimizer.lr", "seed"]);
 * ix.resolve("seed"); // { key: "seed" }
 * ix.resolve("args.lr"); // { key: "backend.args.lr" }
 * ix.resolve("lr"); // { ambiguous: ["backend.args.lr", "optimizer.lr"] }
 * ```
 */
export function indexKeys(keys: Iterable<string>): KeyIndex {
  const full = new Set(keys);
  const suffixes = new Map<string, string[]>();
  for (const key of full) {
    const segments = key.split(".");
    for (let i = 1; i < segments.length; i++) {
      const suffix = segments.slice(i).join(".");
      if (suffix === "") continue;
      const list = suffixes.get(suffix);
      if (list === undefined) suffixes.set(suffix, [key]);
      else if (!list.includes(key)) list.push(key);
    }
  }
  return {
    keys: [...full],
    resolve(name) {
      if (full.has(name)) return { key: name };
      const list = suffixes.get(name);
      if (list === undefined) return undefined;
      return list.length === 1 ? { key: list[0] } : { ambiguous: [...list].sort() };
    },
    names() {
      const out = [...full];
      for (const [suffix, list] of suffixes) {
        if (list.length === 1 && !full.has(suffix)) out.push(suffix);
      }
      return out;
    },
  };
}

/** `"a"`, `"a" or "b"`, `"a", "b" or "c"`: a short list of quoted names for messages. */
export function quoteList(names: readonly string[], render = (s: string) => `"${s}"`): string {
  const q = names.map(render);
  if (q.length <= 1) return q.join("");
  return `${q.slice(0, -1).join(", ")} or ${q[q.length - 1]}`;
}

/**
 * A point's values for messages: `model_size=50M, learning_rate=0.1`, values as Python prints
 * them, long renderings cut short.
 */
export function describeValues(entries: Iterable<readonly [string, unknown]>): string {
  const parts: string[] = [];
  for (const [key, value] of entries) {
    let text = pythonStr(value);
    if (text.length > 40) text = `${text.slice(0, 37)}...`;
    parts.push(`${key}=${text}`);
  }
  return parts.length ? parts.join(", ") : "no values";
}
