/**
 * Schema validation of composed configs: one schema per known group, every problem reported
 * at once with file, key path, line and column, bad value and allowed values or closest key.
 *
 * @module
 */
import type * as z from "zod/mini";
import type { ConfigProblem } from "../../errors.ts";
import { closestMatches } from "../suggest.ts";
import { type ConfigMap, type ConfigValue, formatPath, isMap, withPlainNumbers } from "../tree.ts";
import { projectSchema } from "./project.ts";
import { type envSchema, slurmSchema } from "./slurm.ts";
import { backendSchema, containerSchema, type launcherSchema } from "./backend.ts";
import { sweepSchema } from "./sweep.ts";
import { type ComputeConfig, computeSchema } from "./compute.ts";
import { resultsSchema } from "./results.ts";

/** Group name -> schema: the groups the planner reads. */
export const GROUP_SCHEMAS = {
  project: projectSchema,
  slurm: slurmSchema,
  backend: backendSchema,
  container: containerSchema,
  compute: computeSchema,
  results: resultsSchema,
} as const;

/** A group with a schema. */
export type SchemaGroup = keyof typeof GROUP_SCHEMAS;

/** The groups with a schema, in the order they are validated. */
export const SCHEMA_GROUPS = Object.keys(GROUP_SCHEMAS) as SchemaGroup[];

/** `project` as validated. */
export type ProjectConfig = z.infer<typeof projectSchema>;
/** `slurm` as validated. */
export type SlurmConfig = z.infer<typeof slurmSchema>;
/** `backend` as validated. */
export type BackendConfig = z.infer<typeof backendSchema>;
/** `backend.launcher` as validated. */
export type LauncherConfig = z.infer<typeof launcherSchema>;
/** `container` as validated. */
export type ContainerConfig = z.infer<typeof containerSchema>;
/** `results` as validated. */
export type ResultsConfig = z.infer<typeof resultsSchema>;
/** An environment mapping (`slurm.env`, `backend.env`, `container.env`) as validated. */
export type EnvConfig = z.infer<typeof envSchema>;

/**
 * The groups with a schema, typed as their schemas say, after they passed validation (other
 * groups, such as `monitoring` and `sweep`, are checked by their own parsers).
 *
 * The schemas only check (no defaults, no transforms), so a validated group is its input
 * object under its schema's type: runs that share a group keep sharing one object, which the
 * planner's caches rely on (a test holds the schemas to that).
 */
export interface ValidConfig {
  readonly project?: ProjectConfig;
  readonly slurm?: SlurmConfig;
  readonly backend?: BackendConfig;
  readonly container?: ContainerConfig;
  readonly compute?: ComputeConfig;
  readonly results?: ResultsConfig;
}

/** A validation: every problem, and the typed config when there are none. */
export interface Validation {
  readonly problems: ConfigProblem[];
  readonly config?: ValidConfig;
}

/** Where a key path's value was written (file, line, column), when known. */
export type OriginOf = (
  path: string,
) => { file?: string; line?: number; column?: number } | undefined;

/**
 * Remembers validated groups across the points of a sweep: a group object that passed once
 * is not checked again, and `backend` groups that differ only in `args` (free-form for the
 * schema; the backend checks them) share one check.
 */
export class ValidationCache {
  readonly #passed = new WeakSet<object>();
  readonly #backends = new Map<string, ConfigProblem[]>();

  /** The problems of `value` as group `group` (none when it, or its equal, passed before). */
  check(group: SchemaGroup, value: ConfigMap, origin: OriginOf): ConfigProblem[] {
    if (this.#passed.has(value)) return [];
    let problems: ConfigProblem[] | undefined;
    const key = group === "backend" ? JSON.stringify({ ...value, args: null }) : "";
    if (key) problems = this.#backends.get(key);
    if (!problems) {
      problems = checkGroup(group, value, origin);
      if (key) this.#backends.set(key, problems);
    }
    if (!problems.length) this.#passed.add(value);
    return problems;
  }
}

/**
 * Validates every group that has a schema and returns all problems, and the typed config
 * when there are none. `required` lists groups that must be present.
 */
export function validateConfig(
  config: ConfigMap,
  origin: OriginOf,
  required: readonly SchemaGroup[] = [],
  cache?: ValidationCache,
): Validation {
  const problems: ConfigProblem[] = [];
  for (const g of required) {
    if (config[g] === undefined || config[g] === null) {
      problems.push({
        path: g,
        message: `the "${g}" group is missing`,
        hint: `add "- ${g}: <option>" to the defaults list or select one with -o ${g}=<option>`,
      });
    }
  }
  const typed: Record<string, ConfigValue> = {};
  for (const group of SCHEMA_GROUPS) {
    const value = config[group] === undefined ? undefined : plainGroup(group, config[group]);
    if (value === undefined) continue;
    if (isMap(value) && cache) problems.push(...cache.check(group, value, origin));
    else problems.push(...checkGroup(group, value, origin));
    typed[group] = value;
  }
  // Checked above: each group passed its schema, which does not change values.
  return problems.length ? { problems } : { problems, config: typed as ValidConfig };
}

/**
 * Where a group holds free-form values that autoexp turns into text for the job (program
 * arguments, environment values): there a whole float stays a {@link WholeFloat},
 * so `--lr 1.0` and `LR=1.0` come out as Python's `str()` writes them, and the schemas accept
 * it (their `scalar` unions include it). Everywhere else a group is validated, and typed, with
 * plain numbers: `nodes: 2.0` is the count 2. Paths are relative to the group.
 */
export const FREE_FORM_PATHS: Readonly<Record<SchemaGroup, readonly string[]>> = {
  project: [],
  slurm: ["env", "environment"],
  backend: ["args", "command", "extra_args", "env", "launcher.extra_args"],
  container: ["env", "extra_args", "binds"],
  compute: [],
  results: [],
};

const plainGroups = new WeakMap<object, ConfigValue>();

/**
 * A group's value as validation and the typed config see it: whole floats replaced by their
 * numbers outside {@link FREE_FORM_PATHS}. A group without whole floats (the common case) is
 * returned as it is, and results are remembered per group object, so runs that share a group
 * object share its plain form (the {@link ValidationCache} then still recognises it).
 */
function plainGroup(group: SchemaGroup, value: ConfigValue): ConfigValue {
  if (!isMap(value)) return withPlainNumbers(value);
  const hit = plainGroups.get(value);
  if (hit !== undefined) return hit;
  const out = plainExcept(value, FREE_FORM_PATHS[group], "");
  plainGroups.set(value, out);
  return out;
}

function plainExcept(node: ConfigMap, keep: readonly string[], prefix: string): ConfigMap {
  let out: ConfigMap | undefined;
  for (const k in node) {
    const path = prefix + k;
    const v = node[k];
    const plain = keep.includes(path)
      ? v
      : isMap(v) && keep.some((p) => p.startsWith(`${path}.`))
      ? plainExcept(v, keep, `${path}.`)
      : withPlainNumbers(v);
    if (plain !== v) out ??= { ...node };
    if (out) out[k] = plain;
  }
  return out ?? node;
}

function checkGroup(group: SchemaGroup, value: ConfigValue, origin: OriginOf): ConfigProblem[] {
  const schema: z.ZodMiniType = GROUP_SCHEMAS[group];
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success) return [];
  return result.error.issues.flatMap((issue) =>
    issueToProblems(group, value, issue as unknown as Issue, origin, schema)
  );
}

interface Issue {
  code: string;
  path: PropertyKey[];
  message: string;
  expected?: string;
  values?: unknown[];
  keys?: string[];
  input?: unknown;
  errors?: Issue[][];
  minimum?: number;
  maximum?: number;
  format?: string;
}

function issueToProblems(
  group: string,
  root: ConfigValue,
  issue: Issue,
  origin: OriginOf,
  schema: z.ZodMiniType,
): ConfigProblem[] {
  const rel = issue.path.map((p) => (typeof p === "number" ? p : String(p)));
  const full = [group, ...rel];
  const at = (path: (string | number)[]) => {
    const key = formatPath(path);
    const o = origin(key) ?? origin(formatPath(path.slice(0, -1)));
    return { path: key, file: o?.file, line: o?.line, column: o?.column };
  };
  switch (issue.code) {
    case "unrecognized_keys": {
      const schemaKeys = objectKeysAt(schema, rel);
      return (issue.keys ?? []).map((k) => {
        const best = closestMatches(k, schemaKeys);
        return {
          ...at([...full, k]),
          message: `unknown key "${k}"`,
          hint: best.length
            ? `did you mean ${best.map((b) => `"${b}"`).join(", ")}?`
            : schemaKeys.length
            ? `allowed keys: ${schemaKeys.join(", ")}`
            : undefined,
        };
      });
    }
    case "invalid_type": {
      const expected = issue.expected === "int" ? "an integer" : `a ${issue.expected}`;
      if (issue.input === undefined) {
        return [{ ...at(full), message: `required key is missing (expected ${expected})` }];
      }
      return [{
        ...at(full),
        message: `expected ${expected}, got ${show(issue.input)}`,
        hint: boolHint(issue),
      }];
    }
    case "invalid_value": {
      const allowed = (issue.values ?? []).map((v) => String(v));
      if (issue.input === undefined) {
        return [{
          ...at(full),
          message: `required key is missing (allowed: ${allowed.join(", ")})`,
        }];
      }
      const best = closestMatches(String(issue.input), allowed);
      return [{
        ...at(full),
        message: `${show(issue.input)} is not allowed (allowed: ${allowed.join(", ")})`,
        hint: best.length ? `did you mean "${best[0]}"?` : undefined,
      }];
    }
    case "invalid_union": {
      // A branch of the value's own shape whose error lies inside it (a mapping with a bad key)
      // says what is wrong; else the most specific error (a format over a type mismatch).
      const inside = (issue.errors ?? []).find((b) => b.some((x) => x.path.length > 0));
      if (inside) {
        return inside.flatMap((x) =>
          issueToProblems(group, root, { ...x, path: [...issue.path, ...x.path] }, origin, schema)
        );
      }
      const branches = (issue.errors ?? []).flat();
      const specific = branches.find((b) => b.code !== "invalid_type");
      if (specific) {
        return issueToProblems(
          group,
          root,
          { ...specific, path: [...issue.path, ...specific.path], input: issue.input },
          origin,
          schema,
        );
      }
      const kinds = [...new Set(branches.map((b) => b.expected))].filter(Boolean).join(" or ");
      return [{
        ...at(full),
        message: `expected ${kinds || "another type"}, got ${show(issue.input)}`,
      }];
    }
    default: {
      const msg = issue.message && issue.message !== "Invalid input"
        ? issue.message
        : issue.code.replaceAll("_", " ");
      return [{ ...at(full), message: `${show(issue.input)} ${msg}` }];
    }
  }
}

interface SchemaDef {
  type: string;
  shape?: Record<string, { _zod: { def: SchemaDef } }>;
  innerType?: { _zod: { def: SchemaDef } };
  valueType?: { _zod: { def: SchemaDef } };
  element?: { _zod: { def: SchemaDef } };
  options?: { _zod: { def: SchemaDef } }[];
}

/**
 * Whether the schemas declare a key path by name (`sweep.name_template`, `slurm.sbatch.qos`):
 * every segment a named field of an object schema, not an entry of a free-form mapping
 * (`backend.args.x` is not declared). Composition lets `-o key=value` set such a key although no
 * config file wrote it, as Hydra does for a structured config's field.
 */
export function schemaDeclares(path: readonly string[]): boolean {
  const [group, ...rest] = path;
  const schema = group === "sweep"
    ? sweepSchema
    : (GROUP_SCHEMAS as Record<string, z.ZodMiniType>)[group];
  if (!schema || !rest.length) return false;
  return rest.every((_, i) => objectKeysAt(schema, rest.slice(0, i)).includes(rest[i]));
}

/** The keys an object schema allows at a path (for "allowed keys" hints). */
export function objectKeysAt(schema: z.ZodMiniType, path: readonly (string | number)[]): string[] {
  let def: SchemaDef | undefined = (schema as unknown as { _zod: { def: SchemaDef } })._zod.def;
  const unwrap = (d: SchemaDef | undefined): SchemaDef | undefined => {
    while (d && (d.type === "optional" || d.type === "nullable" || d.type === "default")) {
      d = d.innerType?._zod.def;
    }
    if (d?.type === "union") {
      d = d.options?.map((o) => o._zod.def).find((o) => unwrap(o)?.type === "object");
    }
    return d;
  };
  for (const seg of path) {
    def = unwrap(def);
    if (!def) return [];
    if (def.type === "object") def = def.shape?.[String(seg)]?._zod.def;
    else if (def.type === "record") def = def.valueType?._zod.def;
    else if (def.type === "array") def = def.element?._zod.def;
    else return [];
  }
  def = unwrap(def);
  return def?.type === "object" && def.shape ? Object.keys(def.shape) : [];
}

function show(v: unknown): string {
  if (typeof v === "string") return `"${v}"`;
  if (v === undefined) return "nothing";
  if (isMap(v as ConfigValue)) return "a mapping";
  if (Array.isArray(v)) return "a list";
  return JSON.stringify(v);
}

function boolHint(issue: Issue): string | undefined {
  if (issue.expected !== "boolean" || typeof issue.input !== "string") return undefined;
  if (/^(yes|no|on|off|y|n)$/i.test(issue.input)) {
    return "write true or false: a quoted or command-line yes/no/on/off, and y/n, are text";
  }
  return undefined;
}
