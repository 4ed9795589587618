/**
 * Run naming: a stable, unique, filesystem- and SLURM-safe name for every sweep point, rendered
 * from a template such as `{model_size}_lr{learning_rate}_gbsz{global_batch_size}`.
 *
 * Placeholders (Python `str.format` syntax; `{{` and `}}` are literal braces):
 * - `{backend.args.lr}`: a point value by full dotted key; `{args.lr}` or `{lr}`: by a trailing
 *   part of the key when only one key ends with it; `{backend___args___lr}`: the seed tool's
 *   spelling of a dotted key. A key the sweep sets but a point does not renders as `None`.
 * - `{index}`: the point's index; `{index:04d}` zero-pads (any integer value takes `:d`,
 *   `:Nd` or `:0Nd`; no other format specs).
 * - `{project}` (or the seed's `{project_name}`): the project name. A swept key named exactly
 *   `index`, `project` or `project_name` takes precedence over these.
 *
 * Values print as Python/OmegaConf would (`0.1`, `1e-05`, `True`, `None`). Mapping and list
 * values print as `h` + 10 hex digits of a hash of their canonical JSON (keys sorted), which is
 * stable across runs and versions; name such points by other keys or `{index}` to keep names
 * readable. Rendered names then pass through {@link sanitizeRunName}.
 *
 * @module
 */
import { pythonStr } from "../config/python_str.ts";
import { closestMatches } from "../config/suggest.ts";
import { type ConfigValue, isContainer, WholeFloat } from "../config/tree.ts";
import { ConfigError, type ConfigProblem } from "../errors.ts";
import { describeValues, indexKeys, type KeyIndex, quoteList } from "./_keys.ts";
import { parseTemplate } from "./_template.ts";
import type { PointValues, SweepPoint } from "./expand.ts";

/** Longest run name {@link sanitizeRunName} returns. */
export const MAX_RUN_NAME_LENGTH = 128;

const TEMPLATE_PATH = "sweep.name_template";
/** Names {@link sanitizeRunName} returns unchanged. */
const SAFE_NAME = /^[A-Za-z0-9_+][A-Za-z0-9._+-]{0,127}$/;
const RESERVED = ["index", "project", "project_name"] as const;

/**
 * Renders one run name from a template and a point's values, then sanitizes it.
 *
 * @throws {ConfigError} on a malformed template, an unknown or ambiguous placeholder (with the
 *   available ones and a did-you-mean), or an integer format spec on a non-integer value
 *
 * @example
 * ```ts
 * renderRunName("{model_size}_lr{lr}_{index:03d}", { model_size: "50M", "backend.args.lr": 1e-5 },
 *   { index: 7, project: "scaling" }); // "50M_lr1e-05_007"
 * ```
 */
export function renderRunName(
  template: string,
  values: PointValues,
  context: { index: number; project: string },
): string {
  const render = compileTemplate(template, Object.keys(values));
  return sanitizeRunName(render(values, context.index, context.project));
}

/**
 * Names every point: renders `template` (or {@link defaultNameTemplate} when it is undefined)
 * for each point and sanitizes the result. Names are unique: when two points get the same
 * name, a user template is an error; the default template gets `_{index}` appended instead.
 *
 * @returns one name per point, in the order of `points`
 * @throws {ConfigError} at `sweep.name_template` for template errors (see
 *   {@link renderRunName}), or one problem per colliding name listing the points (index and
 *   values) that produced it and suggesting a placeholder that tells them apart
 */
export function assignRunNames(
  points: readonly SweepPoint[],
  template: string | undefined,
  context: { project: string },
): string[] {
  const keys = keysOf(points);
  let tpl = template ?? defaultNameTemplate(points);
  let names = renderAll(points, tpl, keys, context.project);
  let collisions = findCollisions(names);
  if (collisions.length > 0 && template === undefined) {
    tpl = `${tpl}_{index}`;
    names = renderAll(points, tpl, keys, context.project);
    collisions = findCollisions(names);
  }
  if (collisions.length > 0) throw collisionError(collisions, points, tpl, keys);
  return names;
}

/**
 * The template used when the sweep has no `name_template`: `{project}` for a sweep of one point
 * without values (`{project}_{index}` for several), otherwise `{project}` followed by one
 * `_<label><value>` part per swept key, in first-seen order. Keys are labelled by their last
 * segment; a segment of two or more words joined by `_` or `-` is shortened to its initials
 * (`learning_rate` -> `lr`, `global_batch_size` -> `gbs`, `seed` stays `seed`). Labels that
 * would coincide fall back to the whole segment, then to the shortest distinguishing trailing
 * part of the key. Numeric keys read `lr0.1`; other values get a dash, `ms-50M`. Keys with a
 * mapping or list value in any point are left out and `{index}` is added instead.
 *
 * @example
 * ```ts
 * defaultNameTemplate(expandSweep(parseSweepSpec({
 *   axes: { model_size: ["50M"], "backend.args.learning_rate": [0.1] },
 * })));
 * // "{project}_ms-{model_size}_lr{backend.args.learning_rate}"
 * ```
 */
export function defaultNameTemplate(points: readonly SweepPoint[]): string {
  const keys = keysOf(points);
  const named: string[] = [];
  const numeric = new Map<string, boolean>();
  let needIndex = keys.length === 0 && points.length > 1;
  for (const key of keys) {
    let container = /[{}:]/.test(key);
    let allNumbers = true;
    for (const p of points) {
      if (!Object.hasOwn(p.values, key)) continue;
      const v = p.values[key];
      if (isContainer(v)) container = true;
      if (typeof v !== "number" && !(v instanceof WholeFloat)) allNumbers = false;
    }
    if (container) needIndex = true;
    else {
      named.push(key);
      numeric.set(key, allNumbers);
    }
  }
  const keySet = new Set(keys);
  const head = !keySet.has("project")
    ? ["{project}"]
    : !keySet.has("project_name")
    ? ["{project_name}"]
    : [];
  const labels = labelKeys(named);
  const parts = named.map((key, i) => `${labels[i]}${numeric.get(key) ? "" : "-"}{${key}}`);
  if (needIndex) parts.push("{index}");
  return [...head, ...parts].join("_") || "{index}";
}

/**
 * Makes a name safe as a directory name and a SLURM job name: letters and accents are folded to
 * ASCII where Unicode allows (`é` -> `e`), every run of other characters outside
 * `[A-Za-z0-9._+-]` becomes `_`, repeated `_` collapse, a leading `.` or `-` becomes `_` (no
 * hidden directories, nothing that reads as an option, never `.` or `..`), and an empty result
 * becomes `run`. Names longer than {@link MAX_RUN_NAME_LENGTH} are cut and end in `_` + 8 hex
 * digits of a hash of the whole name, so distinct long names stay distinct. Idempotent.
 *
 * @example
 * ```ts
 * sanitizeRunName("meta-llama/Llama 3 (8B)"); // "meta-llama_Llama_3_8B_"
 * sanitizeRunName("café"); // "cafe"
 * ```
 */
export function sanitizeRunName(name: string): string {
  if (SAFE_NAME.test(name) && !name.includes("__")) return name;
  let s = name.normalize("NFKD").replace(/\p{M}+/gu, "");
  s = s.replace(/[^A-Za-z0-9._+-]+/g, "_").replace(/_{2,}/g, "_");
  if (s.startsWith(".") || s.startsWith("-")) s = `_${s.slice(1)}`.replace(/^_{2,}/, "_");
  if (s === "") return "run";
  if (s.length > MAX_RUN_NAME_LENGTH) {
    const tag = hashHex(s).slice(0, 8);
    s = `${s.slice(0, MAX_RUN_NAME_LENGTH - 9).replace(/_+$/, "")}_${tag}`;
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Templates

type Render = (values: PointValues, index: number, project: string) => string;
type Getter = (values: PointValues, index: number, project: string) => ConfigValue | undefined;

/** Parses a template once and binds its placeholders to `keys`; throws every problem at once. */
function compileTemplate(template: string, keys: readonly string[]): Render {
  const parsed = parseTemplate(template);
  if ("error" in parsed) {
    throw new ConfigError({
      path: TEMPLATE_PATH,
      message: `invalid name template "${template}": ${parsed.error} at column ${
        parsed.offset + 1
      }`,
    });
  }
  const keySet = new Set(keys);
  const index = indexKeys(keys);
  const problems: ConfigProblem[] = [];
  const pieces: (string | ((v: PointValues, i: number, p: string) => string))[] = [];
  for (const part of parsed.parts) {
    if ("text" in part) {
      pieces.push(part.text);
      continue;
    }
    const got = resolveField(part.field, keySet, index);
    if (typeof got !== "function") {
      problems.push({ path: TEMPLATE_PATH, ...got });
      continue;
    }
    const format = formatterFor(part.field, part.spec);
    if (typeof format !== "function") {
      problems.push({ path: TEMPLATE_PATH, ...format });
      continue;
    }
    // Sweeps repeat a handful of values many times: format each scalar once.
    const cache = new Map<ConfigValue | undefined, string>();
    pieces.push((v, i, p) => {
      const value = got(v, i, p);
      if (isContainer(value)) return format(value);
      let text = cache.get(value);
      if (text === undefined) cache.set(value, text = format(value));
      return text;
    });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return (values, i, project) => {
    let out = "";
    for (const piece of pieces) {
      out += typeof piece === "string" ? piece : piece(values, i, project);
    }
    return out;
  };
}

interface Problem {
  readonly message: string;
  readonly hint?: string;
}

function resolveField(field: string, keySet: Set<string>, index: KeyIndex): Getter | Problem {
  const byKey = (key: string): Getter => (v) => Object.hasOwn(v, key) ? v[key] : undefined;
  if (keySet.has(field)) return byKey(field);
  if (field === "index") return (_v, i) => i;
  if (field === "project" || field === "project_name") return (_v, _i, p) => p;
  const name = field.includes("___") ? field.replaceAll("___", ".") : field;
  const resolved = index.resolve(name);
  if (resolved !== undefined && "key" in resolved) return byKey(resolved.key);
  if (resolved !== undefined) {
    return {
      message: `placeholder {${field}} is ambiguous: it could be ${
        quoteList(resolved.ambiguous, (k) => `{${k}}`)
      }`,
      hint: "write the full key",
    };
  }
  const available = [...RESERVED.filter((r) => r !== "project_name"), ...index.names()];
  const best = closestMatches(name, available);
  const shown = available.slice(0, 12).map((a) => `{${a}}`).join(", ") +
    (available.length > 12 ? `, ... (${available.length - 12} more)` : "");
  return {
    message: `unknown placeholder {${field}} in the name template`,
    hint: (best.length > 0 ? `did you mean ${quoteList(best, (b) => `{${b}}`)}? ` : "") +
      `available: ${shown}`,
  };
}

function formatterFor(
  field: string,
  spec: string | undefined,
): ((v: ConfigValue | undefined) => string) | Problem {
  if (spec === undefined || spec === "") return formatValue;
  const m = /^(0?)(\d*)d$/.exec(spec);
  if (!m) {
    return {
      message: `format spec "{${field}:${spec}}" is not supported`,
      hint: "only integer padding is, such as {index:04d}",
    };
  }
  const zero = m[1] === "0";
  const width = m[2] === "" ? 0 : Number(m[2]);
  return (v) => {
    // A float (`1.0` too) is refused, as Python's format(1.0, "04d") refuses it.
    if (typeof v !== "number" || !Number.isInteger(v)) {
      throw new ConfigError({
        path: TEMPLATE_PATH,
        message: `placeholder {${field}:${spec}} needs an integer, got ${formatValue(v)}`,
        hint: `drop ":${spec}" to print the value as it is`,
      });
    }
    const digits = String(Math.abs(v));
    const sign = v < 0 ? "-" : "";
    if (zero) return sign + digits.padStart(width - sign.length, "0");
    return (sign + digits).padStart(width, " ");
  };
}

/** A value as it appears in a name: Python's str() for scalars, a hash for containers. */
function formatValue(v: ConfigValue | undefined): string {
  if (v === undefined) return "None";
  if (isContainer(v)) return `h${hashHex(canonicalJson(v)).slice(0, 10)}`;
  return pythonStr(v);
}

function canonicalJson(v: ConfigValue): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (isContainer(v)) {
    return `{${
      Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`).join(",")
    }}`;
  }
  return JSON.stringify(v);
}

/** cyrb53 (a public-domain 53-bit string hash) as 14 hex digits. */
function hashHex(text: string): string {
  let h1 = 0xdeadbeef, h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16).padStart(14, "0");
}

// ---------------------------------------------------------------------------------------------
// Naming a whole sweep

/** Every key set by any point, in first-seen order. */
function keysOf(points: readonly SweepPoint[]): string[] {
  const seen = new Set<string>();
  for (const p of points) for (const k in p.values) seen.add(k);
  return [...seen];
}

function renderAll(
  points: readonly SweepPoint[],
  template: string,
  keys: readonly string[],
  project: string,
): string[] {
  const render = compileTemplate(template, keys);
  return points.map((p) => sanitizeRunName(render(p.values, p.index, project)));
}

/** Names produced by more than one point: [name, positions in the list]. */
function findCollisions(names: readonly string[]): [string, number[]][] {
  const first = new Map<string, number>();
  let dups: Map<string, number[]> | undefined;
  for (let i = 0; i < names.length; i++) {
    const prev = first.get(names[i]);
    if (prev === undefined) {
      first.set(names[i], i);
      continue;
    }
    dups ??= new Map();
    const list = dups.get(names[i]);
    if (list === undefined) dups.set(names[i], [prev, i]);
    else list.push(i);
  }
  return dups ? [...dups].sort((a, b) => a[1][0] - b[1][0]) : [];
}

const MAX_COLLISIONS_SHOWN = 10;
const MAX_POINTS_SHOWN = 5;

function collisionError(
  collisions: readonly [string, number[]][],
  points: readonly SweepPoint[],
  template: string,
  keys: readonly string[],
): ConfigError {
  const index = indexKeys(keys);
  const problems: ConfigProblem[] = collisions.slice(0, MAX_COLLISIONS_SHOWN).map(
    ([name, at]) => {
      const shown = at.slice(0, MAX_POINTS_SHOWN).map((i) =>
        `#${points[i].index} (${describeValues(Object.entries(points[i].values))})`
      );
      if (at.length > MAX_POINTS_SHOWN) shown.push(`and ${at.length - MAX_POINTS_SHOWN} more`);
      const differing = keys.filter((k) => {
        const first = formatValue(points[at[0]].values[k]);
        return at.some((i) => formatValue(points[i].values[k]) !== first);
      }).map((k) => `{${shortestName(k, index)}}`);
      return {
        path: TEMPLATE_PATH,
        message: `run name "${name}" is produced by ${at.length} points: ${shown.join(", ")}`,
        hint: `the template "${template}" does not tell them apart; add a placeholder such as ${
          differing.length > 0 ? `${quoteList(differing.slice(0, 3), (s) => s)} or ` : ""
        }{index}`,
      };
    },
  );
  if (collisions.length > MAX_COLLISIONS_SHOWN) {
    problems.push({
      path: TEMPLATE_PATH,
      message: `and ${collisions.length - MAX_COLLISIONS_SHOWN} more colliding run names`,
    });
  }
  return new ConfigError(problems);
}

/** The shortest placeholder name that means `key`: its last segment when unambiguous. */
function shortestName(key: string, index: KeyIndex): string {
  const segments = key.split(".");
  for (let i = segments.length - 1; i > 0; i--) {
    const suffix = segments.slice(i).join(".");
    if ((RESERVED as readonly string[]).includes(suffix)) continue;
    const r = index.resolve(suffix);
    if (r !== undefined && "key" in r && r.key === key) return suffix;
  }
  return key;
}

/** Labels for the default template, unique where possible (see defaultNameTemplate). */
function labelKeys(keys: readonly string[]): string[] {
  const last = (k: string) => k.slice(k.lastIndexOf(".") + 1);
  const initials = (segment: string) => {
    const words = segment.split(/[_-]+/).filter((w) => w !== "");
    return words.length >= 2 ? words.map((w) => w[0]).join("") : segment;
  };
  const index = indexKeys(keys);
  const stages: ((k: string) => string)[] = [
    (k) => initials(last(k)),
    last,
    (k) => shortestName(k, index).replaceAll(".", "_"),
    (k) => k.replaceAll(".", "_"),
  ];
  const labels = keys.map(stages[0]);
  for (const stage of stages.slice(1)) {
    const counts = new Map<string, number>();
    for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
    let changed = false;
    keys.forEach((k, i) => {
      if ((counts.get(labels[i]) ?? 0) > 1) {
        labels[i] = stage(k);
        changed = true;
      }
    });
    if (!changed) break;
  }
  return labels;
}
