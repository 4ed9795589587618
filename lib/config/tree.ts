/**
 * Plain-data config trees: the helpers every other config module uses to walk, read, write and
 * merge them. A tree is JSON-like data (objects, arrays, strings, numbers, booleans, null), plus
 * {@link WholeFloat} scalars: Python floats with an integral value (`1.0`), which a JavaScript
 * number cannot tell from the int `1`.
 *
 * @module
 */
import { WholeFloat } from "./whole_float.ts";

export { WholeFloat };

/** A config node: a mapping, a list or a scalar. */
export type ConfigValue =
  | ConfigMap
  | ConfigValue[]
  | string
  | number
  | WholeFloat
  | boolean
  | null;
/** A mapping node. */
export interface ConfigMap {
  [key: string]: ConfigValue;
}

/** True for a mapping node (a plain object, not an array, a {@link WholeFloat} or null). */
export function isMap(v: unknown): v is ConfigMap {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof WholeFloat);
}

/** True for a container (a mapping or a list), as opposed to a scalar. */
export function isContainer(v: unknown): v is ConfigMap | ConfigValue[] {
  return typeof v === "object" && v !== null && !(v instanceof WholeFloat);
}

/** A key path as a list of segments: strings for mapping keys, numbers for list indices. */
export type KeyPath = readonly (string | number)[];

/** Renders a key path the way users write it: `a.b[2].c`. */
export function formatPath(path: KeyPath): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else out += out ? `.${seg}` : seg;
  }
  return out;
}

/**
 * Splits a dotted key (`a.b.0`, `a.b[0]`) into segments. Numeric segments stay strings here;
 * {@link getPath} interprets them against lists.
 */
export function splitKey(key: string): string[] {
  if (key === "") return [];
  const out: string[] = [];
  for (const part of key.split(".")) {
    const m = part.match(/^([^[\]]*)((?:\[\d+\])*)$/);
    if (!m) {
      out.push(part);
      continue;
    }
    if (m[1] !== "") out.push(m[1]);
    for (const idx of m[2].matchAll(/\[(\d+)\]/g)) out.push(idx[1]);
  }
  return out;
}

const MISSING: unique symbol = Symbol("missing");

/** Reads the node at `path`, or `undefined` when any segment is absent. */
export function getPath(
  root: ConfigValue,
  path: readonly (string | number)[],
): ConfigValue | undefined {
  let cur: ConfigValue | typeof MISSING = root;
  for (const seg of path) {
    cur = child(cur as ConfigValue, seg);
    if (cur === MISSING) return undefined;
  }
  return cur as ConfigValue;
}

function child(node: ConfigValue, seg: string | number): ConfigValue | typeof MISSING {
  if (Array.isArray(node)) {
    const i = typeof seg === "number" ? seg : /^\d+$/.test(seg) ? Number(seg) : NaN;
    return Number.isInteger(i) && i >= 0 && i < node.length ? node[i] : MISSING;
  }
  if (isMap(node)) {
    const k = String(seg);
    return Object.hasOwn(node, k) ? node[k] : MISSING;
  }
  return MISSING;
}

/** True when `path` names an existing node (a `null` value counts as existing). */
export function hasPath(root: ConfigValue, path: readonly (string | number)[]): boolean {
  return getPath(root, path) !== undefined;
}

/**
 * Writes `value` at `path`, creating intermediate mappings. Returns false when a segment runs
 * into a scalar or an out-of-range list index (nothing is written then).
 */
export function setPath(
  root: ConfigMap,
  path: readonly (string | number)[],
  value: ConfigValue,
): boolean {
  let cur: ConfigValue = root;
  for (let i = 0; i < path.length - 1; i++) {
    const seg = path[i];
    let next = child(cur, seg);
    if (next === MISSING || next === null) {
      if (!isMap(cur)) return false;
      next = {};
      cur[String(seg)] = next;
    }
    if (!isContainer(next)) return false;
    cur = next;
  }
  const last = path[path.length - 1];
  if (Array.isArray(cur)) {
    const idx = typeof last === "number" ? last : Number(last);
    if (!Number.isInteger(idx) || idx < 0 || idx >= cur.length) return false;
    cur[idx] = value;
    return true;
  }
  if (!isMap(cur)) return false;
  cur[String(last)] = value;
  return true;
}

/** Deletes the node at `path`; returns false when it does not exist. */
export function deletePath(root: ConfigMap, path: readonly (string | number)[]): boolean {
  const parent = getPath(root, path.slice(0, -1));
  const last = path[path.length - 1];
  if (Array.isArray(parent)) {
    const idx = Number(last);
    if (!Number.isInteger(idx) || idx < 0 || idx >= parent.length) return false;
    parent.splice(idx, 1);
    return true;
  }
  if (!isMap(parent) || !Object.hasOwn(parent, String(last))) return false;
  delete parent[String(last)];
  return true;
}

/**
 * A deep copy of config data ({@link WholeFloat}s, being immutable, are shared; use this, not
 * `structuredClone`, which turns them into plain objects).
 */
export function cloneTree<T extends ConfigValue>(v: T): T {
  if (Array.isArray(v)) return v.map(cloneTree) as T;
  if (isMap(v)) {
    const out: ConfigMap = {};
    for (const k in v) out[k] = cloneTree(v[k]);
    return out as T;
  }
  return v;
}

/**
 * Merges `over` into `base` in place, as OmegaConf merges configs: mappings merge key by key,
 * anything else (lists, scalars, a mapping over a scalar) replaces. `onSet` is called with the
 * key path of every value written from `over`, so callers can record where values came from.
 */
export function mergeInto(
  base: ConfigMap,
  over: ConfigMap,
  onSet?: (path: (string | number)[]) => void,
  prefix: (string | number)[] = [],
): ConfigMap {
  for (const k in over) {
    const o = over[k];
    const b = base[k];
    const path = onSet ? [...prefix, k] : prefix;
    if (isMap(o) && isMap(b)) {
      if (onSet) onSet(path);
      mergeInto(b, o, onSet, path);
    } else {
      base[k] = cloneTree(o);
      if (onSet) {
        onSet(path);
        if (isContainer(o)) walkLeaves(o, path, onSet);
      }
    }
  }
  return base;
}

function walkLeaves(
  v: ConfigValue,
  prefix: (string | number)[],
  fn: (p: (string | number)[]) => void,
) {
  if (Array.isArray(v)) {
    v.forEach((x, i) => {
      const p = [...prefix, i];
      fn(p);
      walkLeaves(x, p, fn);
    });
  } else if (isMap(v)) {
    for (const k in v) {
      const p = [...prefix, k];
      fn(p);
      walkLeaves(v[k], p, fn);
    }
  }
}

/** Every key path in the tree (mappings and lists walked), depth first, parents before children. */
export function allPaths(v: ConfigValue): (string | number)[][] {
  const out: (string | number)[][] = [];
  walkLeaves(v, [], (p) => out.push(p));
  return out;
}

const plainMemo = new WeakMap<object, ConfigValue>();

/**
 * `v` with every {@link WholeFloat} replaced by its plain number, for code that wants numbers
 * (schema validation, the typed config). Subtrees without whole floats are returned as they are
 * (the same objects), and results are remembered per container, so points of a sweep that
 * share a subtree share its plain form too. Treat input and output as read-only.
 */
export function withPlainNumbers<T extends ConfigValue>(v: T): T {
  if (v instanceof WholeFloat) return v.value as T;
  if (typeof v !== "object" || v === null) return v;
  const hit = plainMemo.get(v);
  if (hit !== undefined) return hit as T;
  let out: ConfigValue = v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const c = withPlainNumbers(v[i]);
      if (c !== v[i] && out === v) out = v.slice(0, i);
      if (out !== v) (out as ConfigValue[]).push(c);
    }
  } else {
    for (const k in v) {
      const c = withPlainNumbers(v[k]);
      if (c !== v[k] && out === v) {
        out = {};
        for (const k2 in v) {
          if (k2 === k) break;
          out[k2] = v[k2];
        }
      }
      if (out !== v) (out as ConfigMap)[k] = c;
    }
  }
  plainMemo.set(v, out);
  return out as T;
}
