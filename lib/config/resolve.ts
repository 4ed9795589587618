/**
 * Resolves interpolations in a config tree with OmegaConf's semantics: absolute and relative
 * references, list indices, string interpolation (Python `str()` formatting), type preservation
 * for whole-value references, nested interpolations, resolver calls, `???` required values and
 * cycle detection. Pure: resolvers are passed in.
 *
 * @module
 */
import type { ConfigProblem } from "../errors.ts";
import { didYouMean } from "./suggest.ts";
import {
  type ArgNode,
  type Interp,
  InterpolationSyntaxError,
  parseArgument,
  parseTemplate,
  type Piece,
} from "./interpolation.ts";
import { pythonStr } from "./python_str.ts";
import {
  cloneTree,
  type ConfigMap,
  type ConfigValue,
  formatPath,
  isContainer,
  isMap,
} from "./tree.ts";

/** What a resolver function gets besides its arguments. */
export interface ResolverContext {
  /** Path of the node whose value contains the call. */
  readonly nodePath: readonly (string | number)[];
  /** Looks up a key (absolute, or relative with leading dots) and resolves it; undefined if absent. */
  select(key: string): ConfigValue | undefined;
  /** True when the key exists but holds the `???` marker. */
  isMissing(key: string): boolean;
  /** Parses and resolves a string as one grammar element (for `oc.decode`). */
  decode(text: string): ConfigValue;
}

/** A resolver: resolved arguments in, a value out. Throw an Error to report a problem. */
export type Resolver = (args: ConfigValue[], ctx: ResolverContext) => ConfigValue;

/** The required-value marker. */
export const MISSING_VALUE = "???";

/**
 * An error while resolving one node, remembering where it started. `related` lists other nodes
 * the same problem accounts for (the members of a cycle), so it is reported once.
 */
export class ResolutionError extends Error {
  override name = "ResolutionError";
  constructor(
    message: string,
    readonly originPath: string,
    readonly related: readonly string[] = [],
  ) {
    super(message);
  }
}

/** Where values came from, for error messages. */
export type OriginLookup = (
  path: string,
) => { file?: string; line?: number; column?: number } | undefined;

/** Options of {@link resolveTree}. */
export interface ResolveOptions {
  readonly resolvers: Readonly<Record<string, Resolver>>;
  readonly origin?: OriginLookup;
  /** Leave `???` in place instead of reporting it (for inspection output). */
  readonly allowMissing?: boolean;
}

/**
 * The result of resolving: a tree (the input is not changed; subtrees without interpolations are
 * shared with it, so treat both as read-only) and every problem found.
 */
export interface ResolveResult {
  readonly value: ConfigMap;
  readonly problems: ConfigProblem[];
}

/**
 * Resolves every interpolation in `root`. Problems are collected, one per failing node (a node
 * that fails only because a node it references failed is not reported twice).
 *
 * @example
 * resolveTree({ a: 1, b: "${a}", c: "x_${a}" }, { resolvers: {} }).value
 * // { a: 1, b: 1, c: "x_1" }
 */
export function resolveTree(root: ConfigMap, options: ResolveOptions): ResolveResult {
  const r = new TreeResolver(root, options);
  return r.run();
}

/** Resolves a single string against a tree, as if it were the value at `nodePath`. */
export function resolveString(
  root: ConfigMap,
  text: string,
  options: ResolveOptions,
  nodePath: (string | number)[] = [],
): ConfigValue {
  return new TreeResolver(root, options).resolveValueAt(text, nodePath);
}

type Seg = string | number;

/**
 * Splits a reference key as OmegaConf's grammar does: segments separated by dots or written in
 * brackets (`a.b`, `a[0].b`, `a[b]`). Leading dots (relative references) are removed before.
 */
const splitCache = new Map<string, string[]>();

function splitRefKey(key: string, nodePath: readonly Seg[]): string[] {
  if (key === "") return [];
  const hit = splitCache.get(key);
  if (hit) return hit;
  if (!/^(?:[^.[\]]+|\[[^.[\]]+\])(?:\.[^.[\]]+|\[[^.[\]]+\])*$/.test(key)) {
    throw new ResolutionError(
      `malformed interpolation key "${key}" (write keys as a.b, a[0] or a.0)`,
      formatPath(nodePath),
    );
  }
  const segs = [...key.matchAll(/\[([^\]]+)\]|([^.[\]]+)/g)].map((m) => m[1] ?? m[2]);
  if (splitCache.size > 10_000) splitCache.clear();
  splitCache.set(key, segs);
  return segs;
}

/**
 * Containers known to hold no `${` and no `???` anywhere below them (config trees are treated as
 * immutable once they are resolved: mutate before resolving, or copy). Resolution returns them
 * untouched without walking them; sweeps resolve thousands of points that share such subtrees.
 */
const staticNodes = new WeakSet<object>();
const dynamicNodes = new WeakSet<object>();

/** A scalar that resolution leaves as it is (not an interpolation, not `???`). */
function isPlainLeaf(v: ConfigValue): boolean {
  if (typeof v === "string") return v !== MISSING_VALUE && !v.includes("${");
  return !isContainer(v);
}

function isStatic(node: ConfigValue): boolean {
  if (typeof node === "string") return node !== MISSING_VALUE && !node.includes("${");
  if (!isContainer(node)) return true;
  if (staticNodes.has(node)) return true;
  if (dynamicNodes.has(node)) return false;
  let ok = true;
  if (Array.isArray(node)) {
    for (const v of node) {
      if (!isStatic(v)) {
        ok = false;
        break;
      }
    }
  } else {
    for (const k in node) {
      if (!isStatic(node[k])) {
        ok = false;
        break;
      }
    }
  }
  (ok ? staticNodes : dynamicNodes).add(node);
  return ok;
}

class TreeResolver {
  private readonly done = new Map<string, ConfigValue>();
  private readonly active: string[] = [];
  private readonly activeSet = new Set<string>();

  constructor(private readonly root: ConfigMap, private readonly opts: ResolveOptions) {}

  run(): ResolveResult {
    const problems: ConfigProblem[] = [];
    const reported = new Set<string>();
    const visit = (node: ConfigValue, path: Seg[]): ConfigValue => {
      // Copy on write: a container whose children all stay the same is returned as is, so a
      // resolved tree shares every subtree without interpolations with its input.
      if (isContainer(node) && isStatic(node)) return node;
      if (Array.isArray(node)) {
        let out: ConfigValue[] | undefined;
        for (let i = 0; i < node.length; i++) {
          const c = node[i];
          const v = isPlainLeaf(c) ? c : visit(c, [...path, i]);
          if (v !== node[i] && !out) out = node.slice(0, i);
          if (out) out.push(v);
        }
        return out ?? node;
      }
      if (isMap(node)) {
        let out: ConfigMap | undefined;
        for (const k in node) {
          const c = node[k];
          const v = isPlainLeaf(c) ? c : visit(c, [...path, k]);
          if (v !== node[k] && !out) {
            out = {};
            for (const k2 in node) {
              if (k2 === k) break;
              out[k2] = node[k2];
            }
          }
          if (out) out[k] = v;
        }
        return out ?? node;
      }
      if (typeof node !== "string") return node;
      if (node === MISSING_VALUE) {
        if (this.opts.allowMissing || reported.has(formatPath(path))) return node;
        problems.push(
          this.problem(
            formatPath(path),
            `missing required value (set it with -o ${formatPath(path)}=...)`,
          ),
        );
        reported.add(formatPath(path));
        return node;
      }
      if (!node.includes("${")) return node;
      try {
        return this.resolveAt(path);
      } catch (e) {
        if (!(e instanceof ResolutionError)) throw e;
        if (!reported.has(e.originPath)) {
          reported.add(e.originPath);
          problems.push(this.problem(e.originPath, e.message));
        }
        for (const p of e.related) reported.add(p);
        return node;
      }
    };
    const value = visit(this.root, []) as ConfigMap;
    return { value, problems };
  }

  private problem(path: string, message: string): ConfigProblem {
    const o = this.opts.origin?.(path);
    return { path, message, file: o?.file, line: o?.line, column: o?.column };
  }

  /** The resolved value of the node at `path` (containers resolved deeply). */
  resolveAt(path: Seg[]): ConfigValue {
    const key = formatPath(path);
    const hit = this.done.get(key);
    if (hit !== undefined) return hit;
    const raw = this.rawAt(path);
    if (raw === undefined) throw new ResolutionError(`key "${key}" does not exist`, key);
    let value: ConfigValue;
    if (Array.isArray(raw)) value = raw.map((_, i) => this.resolveAt([...path, i]));
    else if (isMap(raw)) {
      const out: ConfigMap = {};
      for (const k in raw) out[k] = this.resolveAt([...path, k]);
      value = out;
    } else if (typeof raw === "string" && raw.includes("${")) {
      if (this.activeSet.has(key)) {
        const members = this.active.slice(this.active.indexOf(key));
        const cycle = [...members, key].join(" -> ");
        throw new ResolutionError(`interpolation cycle: ${cycle}`, key, members);
      }
      this.active.push(key);
      this.activeSet.add(key);
      try {
        value = this.resolveValueAt(raw, path);
      } finally {
        this.active.pop();
        this.activeSet.delete(key);
      }
    } else if (raw === MISSING_VALUE) {
      throw new ResolutionError(`missing required value (set it with -o ${key}=...)`, key);
    } else value = raw;
    this.done.set(key, value);
    return value;
  }

  private rawAt(path: readonly Seg[]): ConfigValue | undefined {
    let cur: ConfigValue = this.root;
    for (const seg of path) {
      if (Array.isArray(cur)) {
        const i = typeof seg === "number" ? seg : Number(seg);
        if (!Number.isInteger(i) || i < 0 || i >= cur.length) return undefined;
        cur = cur[i];
      } else if (isMap(cur)) {
        if (!Object.hasOwn(cur, String(seg))) return undefined;
        cur = cur[String(seg)];
      } else return undefined;
    }
    return cur;
  }

  /** Resolves a string as the value of the node at `nodePath`. */
  resolveValueAt(text: string, nodePath: Seg[]): ConfigValue {
    const where = formatPath(nodePath);
    let t;
    try {
      t = parseTemplate(text);
    } catch (e) {
      if (e instanceof InterpolationSyntaxError) throw new ResolutionError(e.message, where);
      throw e;
    }
    if (!t) return text;
    if (t.whole) return this.evalInterp(t.whole, nodePath);
    return this.concat(t.parts, nodePath);
  }

  private concat(parts: readonly Piece[], nodePath: Seg[]): string {
    let out = "";
    for (const p of parts) {
      out += typeof p === "string" ? p : pythonStr(this.evalInterp(p, nodePath));
    }
    return out;
  }

  private evalInterp(node: Interp, nodePath: Seg[]): ConfigValue {
    if (node.kind === "ref") {
      const key = node.key.map((p) =>
        typeof p === "string" ? p : pythonStr(this.evalInterp(p, nodePath))
      ).join("");
      return cloneTree(this.lookup(key, nodePath, true) as ConfigValue);
    }
    const fn = this.opts.resolvers[node.name];
    const where = formatPath(nodePath);
    if (!fn) {
      const hint = didYouMean(node.name, Object.keys(this.opts.resolvers));
      throw new ResolutionError(
        `unknown resolver "${node.name}"${hint ? `; ${hint}` : ""} (known: ${
          Object.keys(this.opts.resolvers).sort().join(", ")
        })`,
        where,
      );
    }
    const args = node.args.map((a) => this.evalArg(a, nodePath));
    try {
      return fn(args, this.context(nodePath));
    } catch (e) {
      if (e instanceof ResolutionError) throw e;
      throw new ResolutionError(`\${${node.name}:...} failed: ${(e as Error).message}`, where);
    }
  }

  private evalArg(a: ArgNode, nodePath: Seg[]): ConfigValue {
    switch (a.kind) {
      case "value":
        return a.value;
      case "interp":
        return this.evalInterp(a.node, nodePath);
      case "concat":
        return this.concat(a.parts, nodePath);
      case "list":
        return a.items.map((x) => this.evalArg(x, nodePath));
      case "dict": {
        const out: ConfigMap = {};
        for (const [k, v] of a.entries) out[k] = this.evalArg(v, nodePath);
        return out;
      }
    }
  }

  /** Turns a reference key into an absolute path, relative to the container of `nodePath`. */
  private targetPath(key: string, nodePath: readonly Seg[]): Seg[] {
    const m = key.match(/^\.+/);
    if (!m) return splitRefKey(key, nodePath);
    const dots = m[0].length;
    const base = nodePath.slice(0, Math.max(0, nodePath.length - dots));
    if (nodePath.length - dots < 0) {
      throw new ResolutionError(
        `relative reference "${key}" goes above the root`,
        formatPath(nodePath),
      );
    }
    return [...base, ...splitRefKey(key.slice(dots), nodePath)];
  }

  /**
   * Resolves a reference. With `strict`, an absent key is an error naming the closest keys;
   * otherwise undefined is returned.
   */
  private lookup(key: string, nodePath: readonly Seg[], strict: boolean): ConfigValue | undefined {
    const target = this.targetPath(key, nodePath);
    // Walk the raw tree; when an intermediate node is itself an interpolation, continue inside
    // its resolved value.
    const cur: Seg[] = [];
    for (let i = 0; i < target.length; i++) {
      const raw = this.rawAt(cur);
      if (typeof raw === "string" && raw.includes("${")) {
        const resolved = this.resolveAt(cur);
        return this.descend(resolved, target.slice(i), key, nodePath, strict);
      }
      // A list index written as text (`a.0`, `a[0]`) becomes a number, so that a node has one
      // path (and one cache and cycle-detection key) however it is referenced.
      const seg = Array.isArray(raw) && /^\d+$/.test(String(target[i]))
        ? Number(target[i])
        : target[i];
      const next = [...cur, seg];
      if (this.rawAt(next) === undefined) {
        if (!strict) return undefined;
        const parent = this.rawAt(cur);
        const siblings = isMap(parent) ? Object.keys(parent) : [];
        // `${{VAR}}`: Python's str.format escape of `${VAR}` (seed 001's job_name), not a key.
        const hint = key.startsWith("{")
          ? `"\${{" is not an interpolation; for a literal "\${" write "\\\${" (or "$\${")`
          : didYouMean(String(seg), siblings);
        throw new ResolutionError(
          `interpolation "\${${key}}" refers to "${formatPath(next)}", which does not exist${
            hint ? `; ${hint}` : ""
          }`,
          formatPath(nodePath),
        );
      }
      cur.push(seg);
    }
    if (cur.length < nodePath.length && cur.every((seg, i) => seg === nodePath[i])) {
      throw new ResolutionError(
        `interpolation "\${${key}}" refers to ${
          cur.length ? `"${formatPath(cur)}"` : "the root"
        }, which contains this node (an interpolation cycle)`,
        formatPath(nodePath),
      );
    }
    try {
      return this.resolveAt(cur);
    } catch (e) {
      // Without allowMissing the `???` node itself is the problem (reported once, at it);
      // with it, the reference is.
      if (
        this.opts.allowMissing && e instanceof ResolutionError &&
        e.originPath === formatPath(cur) && this.rawAt(cur) === MISSING_VALUE
      ) {
        throw new ResolutionError(
          `interpolation "\${${key}}" refers to "${
            formatPath(cur)
          }", which is a missing required value (???)`,
          formatPath(nodePath),
        );
      }
      throw e;
    }
  }

  private descend(
    v: ConfigValue,
    rest: Seg[],
    key: string,
    nodePath: readonly Seg[],
    strict: boolean,
  ): ConfigValue | undefined {
    let cur: ConfigValue | undefined = v;
    for (const seg of rest) {
      if (Array.isArray(cur)) cur = cur[Number(seg)];
      else if (isMap(cur) && Object.hasOwn(cur, String(seg))) cur = cur[String(seg)];
      else cur = undefined;
      if (cur === undefined) {
        if (!strict) return undefined;
        throw new ResolutionError(
          `interpolation "\${${key}}" refers to a key that does not exist`,
          formatPath(nodePath),
        );
      }
    }
    return cur;
  }

  private context(nodePath: Seg[]): ResolverContext {
    return {
      nodePath,
      select: (key) => this.lookup(key, nodePath, false),
      isMissing: (key) => {
        try {
          return this.rawAt(this.targetPath(key, nodePath)) === MISSING_VALUE;
        } catch {
          return false;
        }
      },
      decode: (text) => {
        // OmegaConf's singleElement rule: a primitive with spaces around it ("  x ", " 5 ")
        // is the text as it is, spaces kept; a number or word alone is typed.
        const trimmed = text.trim();
        if (
          trimmed !== text && trimmed !== "" && !/^['"[{]/.test(trimmed) &&
          !trimmed.includes("${")
        ) {
          return text;
        }
        let node: ArgNode;
        try {
          node = parseArgument(text);
        } catch (e) {
          throw new Error(`cannot decode "${text}": ${(e as Error).message}`);
        }
        return this.evalArg(node, nodePath);
      },
    };
  }
}
