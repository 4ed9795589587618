/**
 * Pipelines: the root `stages` key (pretrain -> finetune -> evaluate). Each stage has its own
 * sweep and overrides; a stage that `needs` others gets one point per combination of their runs
 * (the product, or zipped with its own points, optionally filtered) times its own sweep. This
 * module parses and orders the stages (tiers), joins a stage's points with its inputs, and gives
 * each run its artifact identity. Pure; the planner (`mod.ts`) resolves and builds the runs.
 *
 * ```yaml
 * stages:
 *   pretrain:
 *     sweep: { axes: { backend.args.lr: [1.0e-3, 3.0e-4] } }
 *   finetune:
 *     needs: pretrain                 # or a list: the product of their runs
 *     join: product                   # or zip: upstream run i with own point i
 *     filter: "dataset != 'b' or pretrain.lr < 1e-3"   # over own and <stage>.<key> values
 *     sweep: { axes: { dataset: [a, b] } }
 *     overrides:                      # config values of this stage's runs (dotted or nested)
 *       backend.args.load: ${autoexp.upstream.pretrain.run_dir}/checkpoints
 * ```
 *
 * @module
 */
import {
  type CompiledExpression,
  compileExpression,
  ExpressionError,
} from "../config/eval_expr.ts";
import { describeValue } from "../config/describe.ts";
import { closestMatches } from "../config/suggest.ts";
import { type ConfigMap, type ConfigValue, isMap, WholeFloat } from "../config/tree.ts";
import { ConfigError, type ConfigProblem } from "../errors.ts";
import { type OriginOf, parseSweepSpec, type SweepPoint, type SweepSpec } from "../sweep/expand.ts";
import { canonicalJson, stableHash } from "./hash.ts";

/** The keys a stage may have, with their type and meaning (docs/config-reference.md). */
export const STAGE_DOCS = {
  needs: [
    "string or list of string",
    "the stages whose runs this one's points are made from: one point per combination of their " +
    "runs (the first need varying slowest) and the stage's own sweep; each run starts when its " +
    "own inputs completed",
  ],
  join: [
    "`product` or `zip`",
    "`product` (default): every input run with every point of the stage's own sweep; `zip`: " +
    "input run i with point i (the counts must be equal)",
  ],
  filter: [
    "string",
    "expression dropping joined points: names are the stage's own swept keys (or their last " +
    "part) and `<stage>.<key>` of an input's swept values (`<stage>.name` its run name), e.g. " +
    "`dataset != 'math' or pretrain.lr < 1e-3`",
  ],
  sweep: [
    "mapping",
    "the stage's own sweep, as the `sweep` group (`axes`, `zip`, `points`, `filter`, " +
    "`base_values`, `name_template`); the name template may use `{upstream}`, the input run's " +
    "name (default `{project}_<stage>...`, or `{upstream}_<stage>...` with needs)",
  ],
  overrides: [
    "mapping",
    "config values of this stage's runs (dotted keys or nested mappings; a group name with an " +
    "option, `backend: evaluation`, chooses it), resolved in each run's config: " +
    "`${autoexp.upstream.<stage>.run_dir}`, `.run_name`, `.artifact` and " +
    "`.config.<any key>` reach an input run (of any stage upstream)",
  ],
  files: [
    "list of mapping",
    "files written into each run directory before its command starts: `{path, yaml: " +
    "<mapping>}` (rendered as YAML) or `{path, text: <string>}`, both resolved in the run's " +
    "config (`${...}` works)",
  ],
} as const;

/** The keys a stage may have. */
export const STAGE_KEYS = Object.keys(STAGE_DOCS) as (keyof typeof STAGE_DOCS)[];

/** How a stage's own points meet its inputs' runs. */
export type JoinKind = "product" | "zip";

/** A file a stage writes into each run directory before the run starts. */
export interface StageFile {
  /** Path relative to the run directory. */
  readonly path: string;
  /** `yaml`: `content` (resolved per run) rendered as YAML; `text`: a string. */
  readonly format: "yaml" | "text";
  /** Unresolved; resolved in each run's config (`autoexp.files`). */
  readonly content: ConfigValue;
}

/** One parsed stage. */
export interface StageSpec {
  readonly name: string;
  /** The stages whose runs this one's points are joined with (in the order written). */
  readonly needs: readonly string[];
  readonly join: JoinKind;
  readonly filter?: { readonly path: string; readonly expression: CompiledExpression };
  readonly sweep: SweepSpec | null;
  /** Config values for this stage's runs, by dotted key, unresolved (resolved per run). */
  readonly overrides: Readonly<Record<string, ConfigValue>>;
  readonly files: readonly StageFile[];
  /** 0 for stages without needs; else one more than the highest tier it needs. */
  readonly tier: number;
}

/** A planned run of an upstream stage, as its dependents see it. */
export interface UpstreamRun {
  readonly name: string;
  readonly stage: string;
  readonly index: number;
  /** Artifact identity (see {@link artifactId}). */
  readonly id: string;
  readonly runDir: string;
  /** Its own swept values (dotted key -> value). */
  readonly values: Readonly<Record<string, ConfigValue>>;
  /** `autoexp.upstream` of its dependents: its own entry and those of its own inputs. */
  readonly upstream: ConfigMap;
}

const STAGE_NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;

/**
 * Parses the `stages` key: `resolved` (the base config's resolved value, for sweeps, needs and
 * join) and `raw` (unresolved, for overrides and files, which are resolved per run). Returns the
 * stages in dependency order (tier by tier, in the order written within a tier), or null when
 * the config has none.
 *
 * @throws {ConfigError} listing every problem: unknown keys, unknown or cyclic needs, a bad join
 *   or filter, a sweep that is not one.
 */
export function parseStages(
  raw: ConfigValue | undefined,
  resolved: ConfigValue | undefined,
  origin?: OriginOf,
): StageSpec[] | null {
  if (raw === undefined || raw === null) return null;
  const problems: ConfigProblem[] = [];
  const at = (path: string, message: string, hint?: string) =>
    problems.push({ path, message, ...(hint ? { hint } : {}), ...(origin?.(path) ?? {}) });
  if (!isMap(raw) || !isMap(resolved)) {
    at("stages", `expected a mapping of stage names to stages, got ${describeValue(raw)}`);
    throw new ConfigError(problems);
  }
  const names = Object.keys(raw);
  if (!names.length) at("stages", "no stages: declare at least one, or remove the key");
  const parsed = new Map<string, Omit<StageSpec, "tier">>();
  for (const name of names) {
    const path = `stages.${name}`;
    if (!STAGE_NAME.test(name)) {
      at(path, `"${name}" is not a stage name: letters, digits, _ and -, starting with a letter`);
      continue;
    }
    const r = raw[name], v = resolved[name];
    if (!isMap(r) || !isMap(v)) {
      if (r === null || (isMap(r) && !Object.keys(r).length)) {
        parsed.set(name, {
          name,
          needs: [],
          join: "product",
          sweep: null,
          overrides: {},
          files: [],
        });
      } else at(path, `expected a mapping (needs, sweep, overrides, ...), got ${describeValue(r)}`);
      continue;
    }
    for (const k of Object.keys(r)) {
      if (!(STAGE_KEYS as readonly string[]).includes(k)) {
        const best = closestMatches(k, STAGE_KEYS as string[]);
        at(
          `${path}.${k}`,
          `unknown key "${k}" in a stage`,
          best.length ? `did you mean "${best[0]}"?` : `a stage has ${STAGE_KEYS.join(", ")}`,
        );
      }
    }
    const needs = v.needs === undefined || v.needs === null
      ? []
      : typeof v.needs === "string"
      ? [v.needs]
      : Array.isArray(v.needs) && v.needs.every((n) => typeof n === "string")
      ? v.needs as string[]
      : null;
    if (needs === null) {
      at(`${path}.needs`, `expected a stage name or a list of them, got ${describeValue(v.needs)}`);
    }
    for (const n of needs ?? []) {
      if (!(n in raw)) {
        const best = closestMatches(n, names.filter((x) => x !== name));
        at(
          `${path}.needs`,
          `unknown stage "${n}"`,
          best.length ? `did you mean "${best[0]}"?` : `stages: ${names.join(", ")}`,
        );
      } else if (n === name) at(`${path}.needs`, `a stage cannot need itself`);
    }
    const join = v.join === undefined || v.join === null ? "product" : v.join;
    if (join !== "product" && join !== "zip") {
      at(`${path}.join`, `expected product or zip, got ${describeValue(v.join)}`);
    }
    if ((v.join !== undefined || v.filter !== undefined) && !(needs ?? []).length) {
      at(`${path}.${v.join !== undefined ? "join" : "filter"}`, "only a stage with needs joins");
    }
    let filter: StageSpec["filter"];
    if (v.filter !== undefined && v.filter !== null) {
      if (typeof v.filter !== "string") {
        at(`${path}.filter`, `expected an expression, got ${describeValue(v.filter)}`);
      } else {
        try {
          filter = { path: `${path}.filter`, expression: compileExpression(v.filter) };
        } catch (e) {
          if (!(e instanceof ExpressionError)) throw e;
          at(`${path}.filter`, `${e.reason} at column ${e.position + 1}`);
        }
      }
    }
    let sweep: SweepSpec | null = null;
    try {
      sweep = parseSweepSpec(v.sweep ?? null, (p) => origin?.(`${path}.${p}`));
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      for (const pr of e.problems) problems.push({ ...pr, path: `${path}.${pr.path}` });
    }
    const overrides: Record<string, ConfigValue> = {};
    if (r.overrides !== undefined && r.overrides !== null) {
      if (!isMap(r.overrides)) {
        at(
          `${path}.overrides`,
          `expected a mapping of config keys to values, got ${describeValue(r.overrides)}`,
        );
      } else flatten(r.overrides, "", overrides);
    }
    const files: StageFile[] = [];
    if (r.files !== undefined && r.files !== null) {
      if (!Array.isArray(r.files)) {
        at(
          `${path}.files`,
          `expected a list of {path, yaml} or {path, text}, got ${describeValue(r.files)}`,
        );
      } else {
        r.files.forEach((f, i) => {
          const fp = `${path}.files[${i}]`;
          const kind = isMap(f) ? ("yaml" in f ? "yaml" : "text" in f ? "text" : null) : null;
          const rel = isMap(f) ? f.path : undefined;
          if (!isMap(f) || kind === null || typeof rel !== "string" || !rel) {
            at(fp, `expected {path: <file>, yaml: <mapping>} or {path: <file>, text: <string>}`);
          } else if (rel.startsWith("/") || rel.split("/").includes("..")) {
            at(`${fp}.path`, `"${rel}" must be a path inside the run directory`);
          } else files.push({ path: rel, format: kind, content: f[kind] ?? null });
        });
      }
    }
    parsed.set(name, {
      name,
      needs: needs ?? [],
      join: join === "zip" ? "zip" : "product",
      ...(filter ? { filter } : {}),
      sweep,
      overrides,
      files,
    });
  }
  if (problems.length) throw new ConfigError(problems);
  // Tiers; a cycle leaves stages without one.
  const tier = new Map<string, number>();
  for (let changed = true; changed;) {
    changed = false;
    for (const s of parsed.values()) {
      if (tier.has(s.name)) continue;
      if (s.needs.every((n) => tier.has(n))) {
        tier.set(s.name, s.needs.length ? Math.max(...s.needs.map((n) => tier.get(n)!)) + 1 : 0);
        changed = true;
      }
    }
  }
  const cyclic = [...parsed.keys()].filter((n) => !tier.has(n));
  if (cyclic.length) {
    throw new ConfigError({
      path: "stages",
      message: `the stages ${cyclic.join(", ")} need each other in a cycle`,
      hint: "a stage can only need stages that do not need it, directly or through others",
    });
  }
  return [...parsed.values()]
    .map((s) => ({ ...s, tier: tier.get(s.name)! }))
    .sort((a, b) => a.tier - b.tier || names.indexOf(a.name) - names.indexOf(b.name));
}

/** Nested mappings as dotted keys (`{backend: {args: {lr: 1}}}` -> `backend.args.lr`). */
function flatten(m: ConfigMap, prefix: string, out: Record<string, ConfigValue>): void {
  for (const [k, v] of Object.entries(m)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (isMap(v) && Object.keys(v).length) flatten(v, key, out);
    else out[key] = v;
  }
}

/** One point of a stage before it is numbered: its own values and the runs it reads. */
export interface JoinedPoint {
  readonly values: Readonly<Record<string, ConfigValue>>;
  readonly inputs: readonly UpstreamRun[];
}

/**
 * A stage's points: every combination of its inputs' runs (the first need varying slowest)
 * times its own points (`product`), or combination i with own point i (`zip`, the counts must
 * be equal), then its `filter`.
 *
 * @throws {ConfigError} for a zip of unequal lengths or a filter that names an unknown value.
 */
export function joinPoints(
  stage: StageSpec,
  own: readonly SweepPoint[],
  inputs: readonly (readonly UpstreamRun[])[],
): JoinedPoint[] {
  let combos: UpstreamRun[][] = [[]];
  for (const runs of inputs) combos = combos.flatMap((c) => runs.map((r) => [...c, r]));
  const out: JoinedPoint[] = [];
  if (!stage.needs.length) return own.map((p) => ({ values: p.values, inputs: [] }));
  if (stage.join === "zip") {
    if (combos.length !== own.length) {
      throw new ConfigError({
        path: `stages.${stage.name}.join`,
        message: `zip pairs each input run with one point of the stage's own sweep, but there ` +
          `are ${combos.length} input run${combos.length === 1 ? "" : "s"} ` +
          `(${stage.needs.join(" x ")}) and ${own.length} point${own.length === 1 ? "" : "s"}`,
        hint: "make the counts equal, or use join: product",
      });
    }
    combos.forEach((c, i) => out.push({ values: own[i].values, inputs: c }));
  } else {
    for (const c of combos) for (const p of own) out.push({ values: p.values, inputs: c });
  }
  const filter = stage.filter;
  if (!filter) return out;
  return out.filter((p) => {
    const vars: Record<string, unknown> = {};
    for (const name of filter.expression.names) {
      const found = lookupName(name, p);
      if (found === undefined) {
        throw new ConfigError({
          path: filter.path,
          message: `unknown name "${name}" in the filter`,
          hint: `names are the stage's own swept keys and <stage>.<key> of its inputs (` +
            `${
              [
                ...Object.keys(p.values),
                ...p.inputs.flatMap((r) => Object.keys(r.values).map((k) => `${r.stage}.${k}`)),
              ].join(", ") || "none"
            })`,
        });
      }
      vars[name] = found;
    }
    try {
      return truthy(filter.expression.evaluate(vars));
    } catch (e) {
      if (!(e instanceof ExpressionError)) throw e;
      throw new ConfigError({ path: filter.path, message: `the filter failed: ${e.reason}` });
    }
  });
}

/** A filter name: an own key (or its last part), or `<stage>.<key>` of an input (same rule). */
function lookupName(name: string, p: JoinedPoint): ConfigValue | undefined {
  const inValues = (values: Readonly<Record<string, ConfigValue>>, n: string) => {
    if (n in values) return values[n];
    const ends = Object.keys(values).filter((k) => k.endsWith(`.${n}`));
    return ends.length === 1 ? values[ends[0]] : undefined;
  };
  const own = inValues(p.values, name);
  if (own !== undefined) return own;
  const dot = name.indexOf(".");
  if (dot < 0) return undefined;
  const run = p.inputs.find((r) => r.stage === name.slice(0, dot));
  if (!run) return undefined;
  const rest = name.slice(dot + 1);
  return rest === "name" ? run.name : inValues(run.values, rest);
}

function truthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false) return false;
  if (typeof v === "number") return v !== 0;
  if (v instanceof WholeFloat) return v.value !== 0;
  if (typeof v === "string") return v.length > 0;
  return true;
}

/**
 * A run's artifact identity: a hash of what it computes. That is its stage, its own swept
 * values, the stage's overrides, the config every run of the pipeline shares (`shared`: the
 * composed config without its scheduling parts, see {@link sharedConfigHash}) and its inputs'
 * identities. Its directory is named after it, so the same run planned by another pipeline of
 * the same `base_output_dir` is the same directory, trained once.
 */
export function artifactId(
  stage: StageSpec,
  values: Readonly<Record<string, ConfigValue>>,
  shared: string,
  inputs: readonly UpstreamRun[],
): string {
  return stableHash(canonicalJson({
    stage: stage.name,
    values,
    overrides: stage.overrides,
    shared,
    inputs: inputs.map((r) => r.id),
  })).slice(0, 10);
}

/**
 * The hash of the config a pipeline's runs share, without what does not change what a run
 * computes: the project's name and bookkeeping, the scheduling (`slurm.sbatch`, `slurm.array`),
 * monitoring and restart policies, and the stages themselves (each run hashes its own stage).
 */
export function sharedConfigHash(config: ConfigMap): string {
  const { project, slurm, monitoring: _m, restart: _r, stages: _s, ...rest } = config;
  const proj = isMap(project) ? { ...project } : project;
  if (isMap(proj)) delete proj.name;
  const sl = isMap(slurm) ? { ...slurm } : slurm;
  if (isMap(sl)) {
    delete sl.sbatch;
    delete sl.array;
  }
  return stableHash(canonicalJson({ ...rest, project: proj, slurm: sl }));
}

/** The directory of a stage's run: `<base>/artifacts/<stage>/<run>-<identity>`. */
export function artifactDir(baseDir: string, stage: string, run: string, id: string): string {
  return `${baseDir.replace(/\/+$/, "")}/artifacts/${stage}/${run}-${id}`;
}

/**
 * The default name template of a stage: `{project}_<stage>` plus the readable part of the
 * sweep's default (`_lr{lr}`), or `{upstream}_<stage>...` for a stage with needs.
 */
export function stageNameTemplate(stage: StageSpec, sweepDefault: string): string {
  const tail = sweepDefault.replace(/^\{project(?:_name)?\}/, "");
  return `${stage.needs.length ? "{upstream}" : "{project}"}_${stage.name}${tail}`;
}

/**
 * A resolved config made safe to embed in another run's config: `${` in its strings is escaped,
 * so resolving the dependent's config keeps them as they are.
 */
export function escapeInterpolations(v: ConfigValue): ConfigValue {
  if (typeof v === "string") return v.includes("${") ? v.replaceAll("${", "\\${") : v;
  if (Array.isArray(v)) return v.map(escapeInterpolations);
  if (isMap(v)) {
    const out: ConfigMap = {};
    for (const [k, x] of Object.entries(v)) out[k] = escapeInterpolations(x);
    return out;
  }
  return v;
}
