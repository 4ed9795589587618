/**
 * Sweep expansion: the `sweep` config group (and Hydra-style `-m` comma lists) -> the ordered
 * list of sweep points. Pure: no I/O, the same input always gives the same points in the same
 * order, so index N always means the same point.
 *
 * Format (every key optional):
 * ```yaml
 * sweep:
 *   class_name: Sweep        # seed compatibility; ignored
 *   name_template: "{model_size}_lr{learning_rate}"   # see naming.ts
 *   base_values: {...}       # config fragment for every point; carried through for the planner
 *   axes: {model_size: [50M, 100M], backend.args.lr: [1e-3, 1e-4]}   # Cartesian product
 *   zip: {a: [1, 2], b: [3, 4]}     # keys varying together; or a list of such groups
 *   points: [{a: 1, seed: 1}, {a: 2}]   # explicit points
 *   product: [<sub-sweep>, ...]     # Cartesian product of sub-sweeps
 *   concat: [<sub-sweep>, ...]      # union of sub-sweeps, in order
 *   filter: "not (model_size == '100M' and a == 1)"   # or filters: [expr, ...]
 * ```
 * A sub-sweep is a mapping with `axes`, `zip`, `points`, `product`, `concat`, `filter(s)`.
 * Within one mapping the factors combine as a Cartesian product in this order: each axis (in
 * key order), each zip group, the points, each product child, the concat (as one factor). The
 * first factor varies slowest, the last fastest, like `itertools.product` and Hydra's multirun.
 * `-m` axes are appended after the sweep file's factors, in command-line order. A key may be
 * set by only one factor of a product (different concat branches may share keys).
 *
 * Axes and zip groups may be written with dotted keys (`backend.args.lr: [...]`) or nested
 * mappings whose leaves are lists (`backend: {args: {lr: [...]}}`); both give the key
 * `backend.args.lr`. Point values are keyed by dotted key; a value may be a mapping, which the
 * planner merges.
 *
 * Filters are expressions of `lib/config/eval_expr.ts` over a point's values: names are full
 * dotted keys, or any trailing part of one (`lr` for `backend.args.lr`) when only one key ends
 * with it. A key that the sweep sets but a particular point does not (concat branches) reads as
 * `None`. A point is kept when the result is truthy in Python's sense (`0`, `''`, `None`,
 * `False` drop it). Filters of a sub-sweep see that sub-sweep's keys; the top-level filters see
 * every key, including `-m` axes.
 *
 * @module
 */
import { describeValue } from "../config/describe.ts";
import {
  type CompiledExpression,
  compileExpression,
  ExpressionError,
} from "../config/eval_expr.ts";
import { pythonStr } from "../config/python_str.ts";
import { closestMatches } from "../config/suggest.ts";
import {
  cloneTree,
  type ConfigMap,
  type ConfigValue,
  formatPath,
  isContainer,
  isMap,
  type KeyPath,
  WholeFloat,
} from "../config/tree.ts";
import { ConfigError, type ConfigProblem } from "../errors.ts";
import { describeValues, indexKeys, type KeyIndex, quoteList } from "./_keys.ts";
import { parseTemplate } from "./_template.ts";

/** Most points a sweep (or any sub-sweep, counted before its filters) may have. */
export const MAX_SWEEP_POINTS = 1_000_000;

/** A point's values: dotted config key -> value, in factor order. */
export type PointValues = Record<string, ConfigValue>;

/** One point of an expanded sweep. `index` is its stable position (0..N-1). */
export interface SweepPoint {
  readonly index: number;
  readonly values: PointValues;
}

/** A `-m -o key=a,b,c` sweep from the command line. */
export interface MultirunAxis {
  readonly key: string;
  readonly values: readonly ConfigValue[];
}

/** Where a key path's value was written, when known (as the config loader records it). */
export type OriginOf = (
  path: string,
) => { file?: string; line?: number; column?: number } | undefined;

/** One key and its value within a partial point. */
export type SweepEntry = readonly [key: string, value: ConfigValue];
/** A partial point: the entries one factor contributes, in order. */
export type SweepRow = readonly SweepEntry[];

/** A parsed filter expression and the key path it was written at (`sweep.filters[1]`). */
export interface SweepFilter {
  readonly path: string;
  readonly expression: CompiledExpression;
}

/**
 * One factor of a product. `keys` maps every key the factor may set to the key path that sets
 * it (for "set twice" errors).
 */
export type SweepFactor =
  | {
    readonly kind: "values";
    readonly path: string;
    readonly keys: ReadonlyMap<string, string>;
    readonly rows: readonly SweepRow[];
  }
  | {
    readonly kind: "product";
    readonly path: string;
    readonly keys: ReadonlyMap<string, string>;
    readonly node: SweepNode;
  }
  | {
    readonly kind: "concat";
    readonly path: string;
    readonly keys: ReadonlyMap<string, string>;
    readonly nodes: readonly SweepNode[];
  };

/** A (sub-)sweep mapping: the product of its factors, then its filters. */
export interface SweepNode {
  /** Key path of the mapping, e.g. `sweep` or `sweep.concat[1]`. */
  readonly path: string;
  readonly factors: readonly SweepFactor[];
  readonly filters: readonly SweepFilter[];
  /** Every key the node's points may set -> the key path of the factor that sets it. */
  readonly keys: ReadonlyMap<string, string>;
}

/** The parsed, validated `sweep` group. */
export interface SweepSpec {
  /** `name_template`, checked for syntax (placeholder names are checked by naming.ts). */
  readonly nameTemplate?: string;
  /** `base_values`: a config fragment merged into every point by the planner. */
  readonly baseValues?: ConfigMap;
  /** `metadata_keys`: swept keys that are labels only (may leave two runs' jobs the same). */
  readonly metadataKeys?: readonly string[];
  /** The top-level sweep mapping. */
  readonly root: SweepNode;
}

const NODE_KEYS = ["axes", "zip", "points", "product", "concat", "filter", "filters"] as const;
const ROOT_KEYS = [
  "class_name",
  "name_template",
  "base_values",
  "metadata_keys",
  ...NODE_KEYS,
] as const;

/**
 * Parses and validates the `sweep` group. Returns `null` when there is no sweep (absent, `null`,
 * or an empty mapping apart from `class_name`).
 *
 * @param raw the composed `sweep` group
 * @param origin where a key path (`sweep.axes.lr`) was written, for error locations
 * @throws {ConfigError} listing every problem found, each with its key path (`sweep.axes.lr`,
 *   `sweep.zip[1]`, `sweep.concat[0].filter`), file and line when known, and a hint
 *
 * @example
 * ```ts
 * const spec = parseSweepSpec({ axes: { lr: [0.1, 0.01], seed: [1, 2] } });
 * expandSweep(spec).map((p) => p.values);
 * // [{lr: 0.1, seed: 1}, {lr: 0.1, seed: 2}, {lr: 0.01, seed: 1}, {lr: 0.01, seed: 2}]
 * ```
 */
export function parseSweepSpec(raw: unknown, origin?: OriginOf): SweepSpec | null {
  if (raw === undefined || raw === null) return null;
  if (isMap(raw) && Object.keys(raw).every((k) => k === "class_name") && isSweepClass(raw)) {
    return null;
  }
  const parser = new SpecParser(origin);
  const root = parser.node(raw, ["sweep"], true);
  let nameTemplate: string | undefined;
  let baseValues: ConfigMap | undefined;
  let metadataKeys: string[] | undefined;
  if (isMap(raw)) {
    const meta = raw.metadata_keys;
    if (meta !== undefined && meta !== null) {
      if (Array.isArray(meta) && meta.every((k) => typeof k === "string" && k !== "")) {
        metadataKeys = meta as string[];
      } else {
        parser.report(
          ["sweep", "metadata_keys"],
          `expected a list of swept keys, got ${describeValue(meta)}`,
        );
      }
    }
    if (!isSweepClass(raw)) {
      parser.report(
        ["sweep", "class_name"],
        `expected "Sweep", got ${describeValue(raw.class_name)}`,
        "class_name is only read for compatibility; remove it or write Sweep",
      );
    }
    nameTemplate = parser.nameTemplate(raw.name_template, ["sweep", "name_template"]);
    if (raw.base_values !== undefined && raw.base_values !== null) {
      if (isMap(raw.base_values)) baseValues = raw.base_values;
      else {
        parser.report(
          ["sweep", "base_values"],
          `expected a mapping (a config fragment such as {backend: {args: {...}}}), got ${
            describeValue(raw.base_values)
          }`,
        );
      }
    }
  }
  if (parser.problems.length > 0 || root === undefined) throw new ConfigError(parser.problems);
  return {
    ...(nameTemplate !== undefined ? { nameTemplate } : {}),
    ...(baseValues !== undefined ? { baseValues } : {}),
    ...(metadataKeys !== undefined ? { metadataKeys } : {}),
    root,
  };
}

/**
 * Expands a sweep into its points: the product of the sweep's factors and the `-m` axes, with
 * filters applied, numbered 0..N-1. A `null` spec with no `-m` axes gives one point with no
 * values.
 *
 * @throws {ConfigError} when a `-m` axis sets a key the sweep also sets (or is empty), a
 *   top-level filter uses an unknown name or fails on a point, the filters drop every point, or
 *   the sweep has more than {@link MAX_SWEEP_POINTS} points before filtering
 *
 * @example
 * ```ts
 * const spec = parseSweepSpec({ axes: { model_size: ["50M", "100M"] }, filter: "lr < 0.1" });
 * expandSweep(spec, [{ key: "lr", values: [0.1, 0.01] }]).map((p) => p.values);
 * // [{model_size: "50M", lr: 0.01}, {model_size: "100M", lr: 0.01}]
 * ```
 */
export function expandSweep(
  spec: SweepSpec | null,
  multirun: readonly MultirunAxis[] = [],
): SweepPoint[] {
  const root = spec?.root ?? EMPTY_ROOT;
  const problems: ConfigProblem[] = [];
  const keys = new Map(root.keys);
  const extra: SweepFactor[] = [];
  for (const axis of multirun) {
    const shown = `${axis.key}=${axis.values.map((v) => pythonStr(v)).join(",")}`;
    const where = `the command line (-m -o ${shown})`;
    if (!isValidKey(axis.key)) {
      problems.push({ path: axis.key, message: `invalid key "${axis.key}" in -m -o ${shown}` });
      continue;
    }
    if (axis.values.length === 0) {
      problems.push({ path: axis.key, message: `-m -o ${axis.key}= lists no values` });
      continue;
    }
    const previous = keys.get(axis.key);
    if (previous !== undefined) {
      problems.push({
        path: axis.key,
        message: `"${axis.key}" is swept twice: by ${previous} and by ${where}`,
        hint: "sweep each key in one place: drop the -o override or the sweep's entry",
      });
      continue;
    }
    keys.set(axis.key, where);
    extra.push({
      kind: "values",
      path: where,
      keys: new Map([[axis.key, where]]),
      rows: axis.values.map((v) => [[axis.key, v]]),
    });
  }
  const top: SweepNode = { ...root, factors: [...root.factors, ...extra], keys };
  const bound = bindFilters(top, problems);
  if (problems.length > 0) throw new ConfigError(problems);

  const rows = expandNode(top, bound);
  if (rows.length === 0) {
    throw new ConfigError({
      path: root.path,
      message: "the sweep has no points: its filters drop every combination",
      hint: `check ${quoteList(allFilterPaths(top))}`,
    });
  }
  const points: SweepPoint[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const values: PointValues = {};
    for (const [k, v] of rows[i]) {
      values[k] = isContainer(v) ? cloneTree(v) : v;
    }
    points[i] = { index: i, values };
  }
  return points;
}

// ---------------------------------------------------------------------------------------------
// Parsing

const EMPTY_ROOT: SweepNode = { path: "sweep", factors: [], filters: [], keys: new Map() };

function isSweepClass(raw: ConfigMap): boolean {
  return raw.class_name === undefined || raw.class_name === null || raw.class_name === "Sweep";
}

/** A dotted key with no empty segments. */
function isValidKey(key: string): boolean {
  return key !== "" && !key.split(".").includes("");
}

class SpecParser {
  readonly problems: ConfigProblem[] = [];
  readonly #origin: OriginOf | undefined;

  constructor(origin: OriginOf | undefined) {
    this.#origin = origin;
  }

  report(path: KeyPath | string, message: string, hint?: string): void {
    const text = typeof path === "string" ? path : formatPath(path);
    let where = this.#origin?.(text);
    if (where === undefined && typeof path !== "string" && path.length > 1) {
      where = this.#origin?.(formatPath(path.slice(0, -1)));
    }
    const problem: { -readonly [K in keyof ConfigProblem]: ConfigProblem[K] } = {
      path: text,
      message,
    };
    if (where?.file !== undefined) problem.file = where.file;
    if (where?.line !== undefined) problem.line = where.line;
    if (where?.column !== undefined) problem.column = where.column;
    if (hint) problem.hint = hint;
    this.problems.push(problem);
  }

  node(raw: unknown, path: KeyPath, root: boolean): SweepNode | undefined {
    if (!isMap(raw)) {
      this.report(
        path,
        `expected a ${root ? "mapping" : "sub-sweep mapping"} (with ${NODE_KEYS.join(", ")}), got ${
          describeValue(raw)
        }`,
        Array.isArray(raw) && root ? "to list explicit points, write them under `points:`" : "",
      );
      return undefined;
    }
    const allowed: readonly string[] = root ? ROOT_KEYS : NODE_KEYS;
    for (const key of Object.keys(raw)) {
      if (allowed.includes(key)) continue;
      const best = closestMatches(key, allowed);
      this.report(
        [...path, key],
        `unknown key "${key}"`,
        best.length > 0
          ? `did you mean ${quoteList(best)}?`
          : `allowed keys: ${allowed.join(", ")}${
            root ? "" : " (name_template and base_values belong at the top of the sweep)"
          }`,
      );
    }
    const factors: SweepFactor[] = [];
    const at = (k: string): KeyPath => [...path, k];
    if (raw.axes !== undefined) factors.push(...this.#axes(raw.axes, at("axes")));
    if (raw.zip !== undefined) factors.push(...this.#zip(raw.zip, at("zip")));
    if (raw.points !== undefined) {
      const factor = this.#points(raw.points, at("points"));
      if (factor) factors.push(factor);
    }
    if (raw.product !== undefined) {
      for (const [i, child] of this.#children(raw.product, at("product"))) {
        const node = this.node(child, [...path, "product", i], false);
        if (node) factors.push({ kind: "product", path: node.path, keys: node.keys, node });
      }
    }
    if (raw.concat !== undefined) {
      const nodes: SweepNode[] = [];
      const keys = new Map<string, string>();
      for (const [i, child] of this.#children(raw.concat, at("concat"))) {
        const node = this.node(child, [...path, "concat", i], false);
        if (!node) continue;
        nodes.push(node);
        for (const [k, where] of node.keys) if (!keys.has(k)) keys.set(k, where);
      }
      if (nodes.length > 0) {
        factors.push({ kind: "concat", path: formatPath(at("concat")), keys, nodes });
      }
    }
    const filters = [
      ...this.#filters(raw.filter, at("filter")),
      ...this.#filters(raw.filters, at("filters")),
    ];

    const keys = new Map<string, string>();
    for (const factor of factors) {
      for (const [key, where] of factor.keys) {
        const previous = keys.get(key);
        if (previous === undefined) {
          keys.set(key, where);
          continue;
        }
        this.report(
          where,
          `"${key}" is swept twice: by ${previous} and by ${where}`,
          "a key may be set by only one factor of a product: merge the values into one axis, " +
            "or use concat for alternative sub-sweeps",
        );
      }
    }
    const node: SweepNode = { path: formatPath(path), factors, filters, keys };
    // Top-level filters are checked by expandSweep, which also knows the -m keys.
    if (!root) {
      const problems: ConfigProblem[] = [];
      bindFilters(node, problems);
      for (const p of problems) this.report(p.path, p.message, p.hint);
    }
    return node;
  }

  nameTemplate(raw: unknown, path: KeyPath): string | undefined {
    if (raw === undefined || raw === null) return undefined;
    if (typeof raw !== "string" || raw === "") {
      this.report(
        path,
        `expected a template string such as "{model_size}_lr{lr}", got ${describeValue(raw)}`,
      );
      return undefined;
    }
    const parsed = parseTemplate(raw);
    if ("error" in parsed) {
      this.report(
        path,
        `invalid name template: ${parsed.error} at column ${parsed.offset + 1}`,
        caret(raw, parsed.offset),
      );
      return undefined;
    }
    return raw;
  }

  /** Yields [index, child] of a non-empty list of sub-sweeps. */
  #children(raw: unknown, path: KeyPath): [number, unknown][] {
    if (!Array.isArray(raw) || raw.length === 0) {
      this.report(
        path,
        `expected a non-empty list of sub-sweeps (mappings with ${NODE_KEYS.join(", ")}), got ${
          describeValue(raw)
        }`,
      );
      return [];
    }
    return raw.map((child, i) => [i, child]);
  }

  #axes(raw: unknown, path: KeyPath): SweepFactor[] {
    if (raw === null) return [];
    if (!isMap(raw)) {
      this.report(path, `expected a mapping of key: [values], got ${describeValue(raw)}`);
      return [];
    }
    return this.#lists(raw, path).map(([key, values, keyPath]) => {
      const where = formatPath(keyPath);
      return {
        kind: "values",
        path: where,
        keys: new Map([[key, where]]),
        rows: values.map((v): SweepRow => [[key, v]]),
      };
    });
  }

  #zip(raw: unknown, path: KeyPath): SweepFactor[] {
    if (raw === null) return [];
    if (isMap(raw)) return this.#zipGroup(raw, path);
    if (Array.isArray(raw) && raw.length > 0) {
      return raw.flatMap((group, i) => {
        if (isMap(group)) return this.#zipGroup(group, [...path, i]);
        this.report(
          [...path, i],
          `expected a zip group (a mapping of key: [values]), got ${describeValue(group)}`,
        );
        return [];
      });
    }
    this.report(
      path,
      `expected a mapping of key: [values] or a non-empty list of such groups, got ${
        describeValue(raw)
      }`,
    );
    return [];
  }

  #zipGroup(raw: ConfigMap, path: KeyPath): SweepFactor[] {
    const lists = this.#lists(raw, path);
    if (lists.length === 0) {
      if (Object.keys(raw).length === 0) this.report(path, "the zip group is empty");
      return [];
    }
    const lengths = new Set(lists.map(([, values]) => values.length));
    if (lengths.size > 1) {
      this.report(
        path,
        `zipped lists differ in length: ${
          lists.map(([key, values]) => `${key} has ${values.length}`).join(", ")
        }`,
        "zipped keys vary together, so each needs one value per point",
      );
      return [];
    }
    const n = lists[0][1].length;
    const rows: SweepRow[] = [];
    for (let i = 0; i < n; i++) rows.push(lists.map(([key, values]) => [key, values[i]]));
    const keys = new Map(lists.map(([key, , keyPath]) => [key, formatPath(keyPath)]));
    return [{ kind: "values", path: formatPath(path), keys, rows }];
  }

  /**
   * The `key: [values]` lists of an axes or zip mapping; nested mappings whose leaves are lists
   * give dotted keys. Reports non-lists, empty lists, bad keys and keys written twice.
   */
  #lists(
    raw: ConfigMap,
    path: KeyPath,
    prefix = "",
    out: [string, ConfigValue[], KeyPath][] = [],
  ): [string, ConfigValue[], KeyPath][] {
    for (const [k, v] of Object.entries(raw)) {
      const key = prefix ? `${prefix}.${k}` : k;
      const keyPath = [...path, k];
      if (!isValidKey(k)) {
        this.report(keyPath, `invalid key "${key}": keys are dotted names such as backend.args.lr`);
      } else if (Array.isArray(v)) {
        if (v.length === 0) {
          this.report(keyPath, "the list of values is empty", "give at least one value");
        } else if (out.some(([seen]) => seen === key)) {
          this.report(keyPath, `"${key}" is listed twice`);
        } else {
          out.push([key, v, keyPath]);
        }
      } else if (isMap(v) && Object.keys(v).length > 0) {
        this.#lists(v, keyPath, key, out);
      } else {
        const shown = typeof v === "string" ? JSON.stringify(v) : pythonStr(v);
        this.report(
          keyPath,
          `expected a list of values, got ${describeValue(v)}`,
          typeof v === "string" && v.includes(",")
            ? `write a YAML list: ${key}: [${v}]`
            : `write ${key}: [${shown}] for a single value, or set it in base_values`,
        );
      }
    }
    return out;
  }

  #points(raw: unknown, path: KeyPath): SweepFactor | undefined {
    if (raw === null) return undefined;
    if (!Array.isArray(raw) || raw.length === 0) {
      this.report(
        path,
        `expected a non-empty list of points (mappings of key: value), got ${describeValue(raw)}`,
      );
      return undefined;
    }
    const rows: SweepRow[] = [];
    const keys = new Map<string, string>();
    let ok = true;
    raw.forEach((point, i) => {
      if (!isMap(point)) {
        this.report(
          [...path, i],
          `expected a point (a mapping of key: value), got ${describeValue(point)}`,
        );
        ok = false;
        return;
      }
      const row: SweepEntry[] = [];
      for (const [key, value] of Object.entries(point)) {
        if (!isValidKey(key)) {
          this.report(
            [...path, i, key],
            `invalid key "${key}": keys are dotted names such as backend.args.lr`,
          );
          ok = false;
          continue;
        }
        row.push([key, value]);
        if (!keys.has(key)) keys.set(key, formatPath([...path, i, key]));
      }
      rows.push(row);
    });
    return ok ? { kind: "values", path: formatPath(path), keys, rows } : undefined;
  }

  #filters(raw: unknown, path: KeyPath): SweepFilter[] {
    if (raw === undefined || raw === null) return [];
    const sources: [unknown, KeyPath][] = typeof raw === "string"
      ? [[raw, path]]
      : Array.isArray(raw)
      ? raw.map((s, i) => [s, [...path, i]])
      : [];
    if (sources.length === 0 && !Array.isArray(raw)) {
      this.report(
        path,
        `expected a filter expression or a list of them, got ${describeValue(raw)}`,
      );
    }
    const out: SweepFilter[] = [];
    for (const [source, at] of sources) {
      if (typeof source !== "string") {
        this.report(at, `expected a filter expression (a string), got ${describeValue(source)}`);
        continue;
      }
      try {
        out.push({ path: formatPath(at), expression: compileExpression(source) });
      } catch (e) {
        if (!(e instanceof ExpressionError)) throw e;
        this.report(
          at,
          `invalid filter: ${e.reason} at column ${e.position + 1}`,
          caret(source, e.position),
        );
      }
    }
    return out;
  }
}

/** The source line with a caret under `offset`. */
function caret(source: string, offset: number): string {
  return `${source}\n${" ".repeat(Math.max(0, offset))}^`;
}

// ---------------------------------------------------------------------------------------------
// Filters

interface BoundFilter {
  readonly filter: SweepFilter;
  /** [name as written, full key] for every name the expression uses. */
  readonly bindings: readonly (readonly [string, string])[];
}

/** Resolves every filter's names against the node's keys; reports unknown/ambiguous names. */
function bindFilters(node: SweepNode, problems: ConfigProblem[]): BoundFilter[] {
  if (node.filters.length === 0) return [];
  const index = indexKeys(node.keys.keys());
  const out: BoundFilter[] = [];
  for (const filter of node.filters) {
    const bindings: [string, string][] = [];
    for (const name of filter.expression.names) {
      const resolved = index.resolve(name);
      if (resolved !== undefined && "key" in resolved) {
        bindings.push([name, resolved.key]);
      } else if (resolved !== undefined) {
        problems.push({
          path: filter.path,
          message: `"${name}" in the filter is ambiguous: it could be ${
            quoteList(resolved.ambiguous)
          }`,
          hint: "write the full key",
        });
      } else {
        problems.push({
          path: filter.path,
          message: `unknown name "${name}" in the filter`,
          hint: unknownNameHint(name, index),
        });
      }
    }
    out.push({ filter, bindings });
  }
  return out;
}

function unknownNameHint(name: string, index: KeyIndex): string {
  const names = index.names();
  if (names.length === 0) return "this sweep sets no keys, so a filter has nothing to test";
  const best = closestMatches(name, names);
  const known = `the sweep's keys: ${index.keys.join(", ")}`;
  return best.length > 0 ? `did you mean ${quoteList(best)}? (${known})` : known;
}

function lookup(row: SweepRow, key: string): ConfigValue {
  for (const [k, v] of row) if (k === key) return v;
  return null;
}

/** Python truthiness of an expression result. */
function truthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false) return false;
  if (typeof v === "number") return v !== 0;
  if (v instanceof WholeFloat) return v.value !== 0;
  if (typeof v === "string") return v.length > 0;
  return true;
}

function keep(bound: BoundFilter, row: SweepRow): boolean {
  const vars: Record<string, unknown> = {};
  for (const [name, key] of bound.bindings) vars[name] = lookup(row, key);
  try {
    return truthy(bound.filter.expression.evaluate(vars));
  } catch (e) {
    if (!(e instanceof ExpressionError)) throw e;
    throw new ConfigError({
      path: bound.filter.path,
      message: `the filter failed on the point ${describeValues(row)}: ${e.reason} at column ${
        e.position + 1
      }`,
      hint: caret(bound.filter.expression.source, e.position),
    }, { cause: e });
  }
}

function allFilterPaths(node: SweepNode): string[] {
  const out = node.filters.map((f) => f.path);
  for (const f of node.factors) {
    if (f.kind === "product") out.push(...allFilterPaths(f.node));
    if (f.kind === "concat") { for (const n of f.nodes) out.push(...allFilterPaths(n)); }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Expansion

function expandNode(node: SweepNode, bound?: readonly BoundFilter[]): SweepRow[] {
  const lists: (readonly SweepRow[])[] = [];
  let total = 1;
  for (const factor of node.factors) {
    const rows = expandFactor(factor);
    lists.push(rows);
    total *= rows.length;
  }
  checkLimit(node.path, total);
  let rows = cartesian(lists);
  for (const b of bound ?? bindFilters(node, [])) rows = rows.filter((row) => keep(b, row));
  return rows;
}

function expandFactor(factor: SweepFactor): readonly SweepRow[] {
  switch (factor.kind) {
    case "values":
      return factor.rows;
    case "product":
      return expandNode(factor.node);
    case "concat": {
      const out: SweepRow[] = [];
      for (const node of factor.nodes) {
        const rows = expandNode(node);
        checkLimit(factor.path, out.length + rows.length);
        for (const row of rows) out.push(row);
      }
      return out;
    }
  }
}

function checkLimit(path: string, total: number): void {
  if (total <= MAX_SWEEP_POINTS) return;
  throw new ConfigError({
    path,
    message: `the sweep has ${
      total.toLocaleString("en-US")
    } points before filtering; the limit is ${MAX_SWEEP_POINTS.toLocaleString("en-US")}`,
    hint: "split it into several sweeps, or use zip groups or points for keys that do not " +
      "need every combination",
  });
}

/** Cartesian product of the lists, first list outermost (slowest), last fastest. */
function cartesian(lists: readonly (readonly SweepRow[])[]): SweepRow[] {
  let acc: SweepRow[] = [[]];
  for (const list of lists) {
    const next: SweepRow[] = new Array(acc.length * list.length);
    let i = 0;
    for (const a of acc) {
      for (const b of list) next[i++] = a.length === 0 ? b : b.length === 0 ? a : a.concat(b);
    }
    acc = next;
  }
  return acc;
}
