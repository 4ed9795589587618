/**
 * The plan use case: compose the config, expand the sweep, build one run plan per point and
 * group runs into job arrays. Pure but for reading config files and detecting the platform;
 * writing the sweep's tree is `lib/render/tree.ts`. Submits nothing.
 *
 * @module
 */
import { DEFAULT_MAX_ARRAY_SIZE } from "../scheduler/types.ts";
import { type ConfirmAbove, DEFAULT_CONFIRM_ABOVE } from "./guard.ts";
import type { MonitorFile } from "../monitoring/monitor_file.ts";
import type { MonitorSpec } from "../monitoring/spec_types.ts";
import { derivedRunActions, MonitorPlanner, nearestOrigin } from "./monitor_plan.ts";
import { ConfigError, type ConfigProblem, UsageError } from "../errors.ts";
import { composeConfig, type Composition } from "../config/compose.ts";
import type { ConfigFiles } from "../config/files.ts";
import { loadConfigFiles } from "../config/load.ts";
import { type Override, parseOverride } from "../config/overrides.ts";
import { MISSING_VALUE, type Resolver, resolveTree } from "../config/resolve.ts";
import { standardResolvers } from "../config/resolvers.ts";
import type { SlurmConfig } from "../config/schema/mod.ts";
import { computeToSbatch } from "../config/schema/compute.ts";
import { closestMatches } from "../config/suggest.ts";
import {
  cloneTree,
  type ConfigMap,
  type ConfigValue,
  getPath,
  isContainer,
  isMap,
  mergeInto,
  splitKey,
} from "../config/tree.ts";
import { detectHostPlatform, type PlatformDetection } from "../platform/mod.ts";
import type { FileSystem, Host, ProcessRunner } from "../runtime/mod.ts";
import {
  expandSweep,
  type MultirunAxis,
  parseSweepSpec,
  type SweepPoint,
} from "../sweep/expand.ts";
import { assignRunNames, defaultNameTemplate } from "../sweep/naming.ts";
import { renderYaml } from "../config/yaml.ts";
import {
  artifactDir,
  artifactId,
  escapeInterpolations,
  joinPoints,
  parseStages,
  sharedConfigHash,
  stageNameTemplate,
  type StageSpec,
  type UpstreamRun,
} from "./stages.ts";
import { VERSION } from "../version.ts";
import { groupRuns } from "./groups.ts";
import { stableHash } from "./hash.ts";
import { envRefsOf, passEnvByName } from "./env_refs.ts";
import { runDirFor, type RunLayout } from "./paths.ts";
import { hydraValue } from "./backends.ts";
import { buildRunPlan } from "./run_plan.ts";
import type { RunPlan, SweepPlan } from "./types.ts";

/** What to plan. */
export interface PlanRequest {
  readonly configDir?: string;
  readonly configName?: string;
  readonly overrides?: readonly string[];
  /** `-m`: comma lists in overrides are sweep axes. */
  readonly multirun?: boolean;
  /** The cluster's MaxArraySize when known (submit discovers it). */
  readonly maxArraySize?: number;
  /** The command line, recorded in provenance. */
  readonly argv?: readonly string[];
  /**
   * Plan exactly this point instead of expanding the sweep (a derived run: cooldown,
   * evaluation), into `sweepDir` with the parent's `sweepId` so its jobs carry the parent's tag.
   */
  readonly point?: {
    readonly name: string;
    readonly index: number;
    readonly values: Readonly<Record<string, ConfigValue>>;
  };
  readonly sweepDir?: string;
  readonly sweepId?: string;
}

/** The outcome of planning. */
export interface PlanOutcome {
  readonly plan: SweepPlan;
  readonly platform: PlatformDetection;
  readonly warnings: string[];
  /** Values backends derived per run (e.g. Megatron train_iters), by run name. */
  readonly derived: Record<string, Record<string, number>>;
  /** The composition the plan was made from (for provenance). */
  readonly prepared: Prepared;
  /** Every run's monitoring spec (`monitor.json`). */
  readonly monitor: MonitorFile;
  /** `slurm.confirm_above`: when `submit` asks first (defaults filled in). */
  readonly confirmAbove: ConfirmAbove;
  /**
   * Hydra's `.hydra/` files of runs whose backend is a Hydra application (`backend.hydra_app`):
   * the run's config, its overrides and Hydra's run values, by run name.
   */
  readonly hydraFiles?: ReadonlyMap<string, HydraFiles>;
}

/** What Hydra writes to a run's `.hydra/` folder, as data. */
export interface HydraFiles {
  /** The run's resolved config (without autoexp's run context). */
  readonly config: ConfigMap;
  /** The run's overrides (Hydra's `overrides.yaml`). */
  readonly overrides: readonly string[];
  /** Hydra's own values for the run (`hydra.yaml`). */
  readonly hydra: ConfigMap;
}

/** The world planning needs. */
export interface PlanDeps {
  readonly fs: FileSystem;
  readonly host: Host;
  readonly proc?: ProcessRunner;
}

/** The composed inputs of a plan. */
export interface Prepared {
  files: ConfigFiles;
  platform: PlatformDetection;
  resolvers: Record<string, Resolver>;
  overrides: Override[];
  axes: MultirunAxis[];
  base: Composition;
  /** Keys the schemas declare (settable with `key=value` although no file wrote them). */
  declared: (path: readonly string[]) => boolean;
}

async function prepare(req: PlanRequest, deps: PlanDeps): Promise<Prepared> {
  const files = await loadConfigFiles(deps.fs, req.configDir, deps.host.userConfigDir);
  const platform = await detectHostPlatform(files, deps.host, deps.fs);
  const resolvers = standardResolvers({
    env: deps.host.env,
    now: deps.host.now(),
    platform: platform.platform,
  });
  const parsed = (req.overrides ?? []).map(parseOverride);
  const axes: MultirunAxis[] = [];
  const overrides: Override[] = [];
  for (const o of parsed) {
    if (o.sweep) {
      if (!req.multirun) {
        throw new UsageError(
          `override "${o.text}" lists several values; add -m to sweep over them`,
        );
      }
      if (o.kind === "delete") throw new UsageError(`override "${o.text}": ~ cannot sweep`);
      axes.push({ key: o.key, values: o.sweep });
    } else overrides.push(o);
  }
  const { schemaDeclares: declared } = await import("../config/schema/mod.ts");
  const base = composeConfig({
    files,
    configName: req.configName ?? "autoexp",
    overrides,
    resolvers,
    declared,
  });
  return { files, platform, resolvers, overrides, axes, base, declared };
}

/** Applies a point's values to a config: scalars and lists replace, mappings merge. */
export function applyPointValues(
  config: ConfigMap,
  values: Readonly<Record<string, ConfigValue>>,
): ConfigMap {
  // One patch tree, applied in one pass: every mapping on a patched path is copied once,
  // everything else is shared with the input.
  const patch: Patch = new Map();
  for (const [key, value] of Object.entries(values)) {
    const path = splitKeyCached(key);
    let node = patch;
    for (let i = 0; i < path.length - 1; i++) {
      let next = node.get(path[i]);
      if (!(next instanceof Map)) {
        next = new Map();
        node.set(path[i], next);
      }
      node = next;
    }
    node.set(path[path.length - 1], { value });
  }
  return applyPatch(config, patch);
}

type Patch = Map<string, Patch | { value: ConfigValue }>;

const keyCache = new Map<string, string[]>();
function splitKeyCached(key: string): string[] {
  let p = keyCache.get(key);
  if (!p) {
    p = splitKey(key);
    keyCache.set(key, p);
  }
  return p;
}

function applyPatch(node: ConfigMap, patch: Patch): ConfigMap {
  const copy: ConfigMap = { ...node };
  for (const [k, p] of patch) {
    if (p instanceof Map) {
      const child = copy[k];
      copy[k] = applyPatch(isMap(child) ? child : {}, p);
      continue;
    }
    const prev = copy[k];
    if (isMap(prev) && isMap(p.value)) {
      const merged = cloneTree(prev);
      mergeInto(merged, p.value);
      copy[k] = merged;
    } else copy[k] = p.value;
  }
  return copy;
}

/** A stage's run being planned: its stage, inputs, stage values, identity and directory. */
interface StageRun {
  readonly stage: StageSpec;
  readonly inputs: readonly UpstreamRun[];
  /** The stage's overrides (and its sweep's base_values), by dotted key. */
  readonly apply: Readonly<Record<string, ConfigValue>>;
  readonly id: string;
  readonly runDir: string;
}

/** A config fragment as dotted keys to its leaves (base_values of a stage's sweep). */
function flatValues(m: ConfigMap, prefix = "", out: Record<string, ConfigValue> = {}) {
  for (const [k, v] of Object.entries(m)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (isMap(v) && Object.keys(v).length) flatValues(v, key, out);
    else out[key] = v;
  }
  return out;
}

/** The files a stage writes into a run's directory, rendered from the run's resolved config. */
function stageFiles(
  resolved: ConfigMap,
  problems: ConfigProblem[],
): { path: string; text: string }[] {
  const ctx = resolved.autoexp;
  const files = isMap(ctx) && Array.isArray(ctx.files) ? ctx.files : [];
  const out: { path: string; text: string }[] = [];
  for (const f of files) {
    if (!isMap(f)) continue;
    const content = f.content ?? null;
    if (f.format === "text" && typeof content !== "string") {
      problems.push({
        path: `stages.${String(ctx && isMap(ctx) ? ctx.stage : "")}.files`,
        message: `the text of ${String(f.path)} must be a string`,
      });
      continue;
    }
    out.push({
      path: String(f.path),
      text: f.format === "yaml" ? renderYaml(content) : String(content),
    });
  }
  return out;
}

/** The base config (no point values) decides the sweep spec and the sweep's directory. */
function locate(p: Prepared, req: PlanRequest, deps: PlanDeps) {
  const origin = (path: string) => p.base.origins.get(path);
  const baseResolved = resolveTree(p.base.config, {
    resolvers: p.resolvers,
    origin,
    allowMissing: true,
  });
  const rawSweep = baseResolved.value.sweep;
  const spec = parseSweepSpec(rawSweep ?? null, origin);
  const project = isMap(baseResolved.value.project) ? baseResolved.value.project : {};
  const projectName = typeof project.name === "string" ? project.name : "";
  const baseDir = typeof project.base_output_dir === "string" ? project.base_output_dir : "";
  const problems: ConfigProblem[] = [];
  if (!projectName || projectName === MISSING_VALUE) {
    problems.push({ path: "project.name", message: "a project name is required" });
  }
  if (!baseDir || baseDir.includes("${")) {
    problems.push({ path: "project.base_output_dir", message: "an output directory is required" });
  } else if (/[\r\n]/.test(baseDir)) {
    problems.push({
      path: "project.base_output_dir",
      message: `${JSON.stringify(baseDir)} contains a line break; job scripts cannot name ` +
        `such a directory in their #SBATCH --output line`,
    });
  }
  if (problems.length) throw new ConfigError(problems);
  const absBase = baseDir.startsWith("/")
    ? baseDir
    : `${deps.host.cwd()}/${baseDir.replace(/^\.\//, "")}`;
  const sweepDir = `${absBase.replace(/\/+$/, "")}/${projectName}`;
  const configDirAbs = req.configDir === undefined
    ? null
    : req.configDir.startsWith("/")
    ? req.configDir.replace(/\/+$/, "")
    : `${deps.host.cwd()}/${req.configDir.replace(/^\.\//, "").replace(/\/+$/, "")}`;

  const layout: RunLayout = project.run_layout === "flat" ? "flat" : "sweep";
  return { baseResolved, spec, projectName, sweepDir, configDirAbs, layout, baseDir: absBase };
}

/** The sweep directory a request plans into, without planning its points. */
export async function sweepDirFor(req: PlanRequest, deps: PlanDeps): Promise<string> {
  return locate(await prepare(req, deps), req, deps).sweepDir;
}

/**
 * Plans a sweep: pure computation over the composed config (no files written).
 *
 * @throws {ConfigError} listing every problem (per run, with the run's index and name).
 */
export async function computePlan(req: PlanRequest, deps: PlanDeps): Promise<PlanOutcome> {
  const p = await prepare(req, deps);
  const origin = (path: string) => p.base.origins.get(path);
  const located = locate(p, req, deps);
  const { baseResolved, spec, projectName, configDirAbs, layout } = located;
  const sweepDir = req.sweepDir ?? located.sweepDir;
  const runDirOf = (run: string) => runDirFor(layout, { sweepDir, baseDir: located.baseDir }, run);

  // A pipeline (`stages`): each stage's points are made once its inputs are planned (below).
  const stages = req.point
    ? null
    : parseStages(p.base.config.stages, baseResolved.value.stages, origin);
  if (stages && spec?.root.factors.length) {
    throw new ConfigError({
      path: "sweep",
      message: "with stages, each stage has its own sweep; the root sweep cannot sweep too",
      hint: "move the axes into the stage they belong to (stages.<name>.sweep)",
    });
  }
  const points: SweepPoint[] = req.point
    ? [{ index: req.point.index, values: req.point.values }]
    : stages
    ? []
    : expandSweep(spec, p.axes);
  const names = req.point
    ? [req.point.name]
    : stages
    ? []
    : assignRunNames(points, spec?.nameTemplate, { project: projectName });
  if (layout === "flat") {
    // `<base>/<run>` must not be the sweep's own directory `<base>/<project.name>`.
    const clash = names.filter((n) => runDirOf(n) === located.sweepDir);
    if (clash.length) {
      throw new ConfigError({
        path: "project.run_layout",
        message: `with run_layout: flat the run "${clash[0]}" would live in ` +
          `${located.sweepDir}, which is this sweep's own directory (project.name ` +
          `"${projectName}"): give the project another name or the run another name ` +
          `(sweep.name_template)`,
      });
    }
  }
  const baseValues = spec?.baseValues;
  let withBase = p.base.config;
  if (baseValues && isMap(baseValues)) {
    withBase = cloneTree(p.base.config);
    mergeInto(withBase, baseValues);
  }
  if (stages) {
    // Each run gets its own stage's overrides, resolved in its own config.
    const { stages: _stages, ...rest } = withBase;
    withBase = rest;
  }
  const ownPoints = new Map(
    (stages ?? []).map((st) => [st.name, expandSweep(st.sweep, st.needs.length ? [] : p.axes)]),
  );
  // Points that choose a group option (e.g. `slurm: [lumi, leonardo]`) need their own composition.
  const groupKeys = new Set<string>();
  for (const pt of [...points, ...[...ownPoints.values()].flat()]) {
    for (const k of Object.keys(pt.values)) if (p.files.isGroup(k)) groupKeys.add(k);
  }
  for (const st of stages ?? []) {
    for (const [k, v] of Object.entries(st.overrides)) {
      if (typeof v === "string" && p.files.isGroup(k)) groupKeys.add(k);
    }
  }
  const compositions = new Map<string, ConfigMap>();

  const { SCHEMA_GROUPS, ValidationCache, validateConfig } = await import(
    "../config/schema/mod.ts"
  );
  const validation = new ValidationCache();
  /** `slurm` of the first valid run: the sweep's array settings. */
  let sweepSlurm: SlurmConfig | undefined;
  const scripts = new Map<string, RunPlan["script"]>();
  const runs: RunPlan[] = [];
  const warnings = new Set<string>();
  const derived: Record<string, Record<string, number>> = {};
  // Problems by what they say; a mistake shared by many runs is reported once, naming them.
  const runProblems = new Map<string, { problem: ConfigProblem; runs: string[] }>();
  const autoexp = selfCommand(baseResolved.value, deps.host);
  const monitors = new MonitorPlanner();
  const hydraFiles = new Map<string, HydraFiles>();

  /** The resolved config of a stage's run that another stage needs, by run name. */
  const resolvedOf = new Map<string, ConfigMap>();
  const needed = new Set((stages ?? []).flatMap((s) => s.needs));
  const planPoint = (point: SweepPoint, name: string, st?: StageRun): void => {
    let config = withBase;
    let values = st ? { ...st.apply, ...point.values } : point.values;
    const chosen = values;
    if (groupKeys.size) {
      const choice = [...groupKeys].map((g) => `${g}=${String(values[g] ?? "")}`);
      const key = choice.join(" ");
      let composed = compositions.get(key);
      if (!composed) {
        const extra = [...groupKeys].filter((g) => g in values).map((g) =>
          parseOverride(`${g}=${String(values[g])}`)
        );
        composed = composeConfig({
          files: p.files,
          configName: req.configName ?? "autoexp",
          overrides: [...extra, ...p.overrides],
          resolvers: p.resolvers,
          declared: p.declared,
        }).config;
        if (baseValues && isMap(baseValues)) mergeInto(composed, cloneTree(baseValues));
        compositions.set(key, composed);
      }
      config = composed;
      values = Object.fromEntries(Object.entries(values).filter(([k]) => !groupKeys.has(k)));
    }
    const pointConfig = applyPointValues(config, {
      ...values,
      autoexp: {
        // The group choices of this point, for ${hydra:runtime.choices.<group>}.
        ...runContext(sweepDir, name, point.index, st?.runDir ?? runDirOf(name), {
          ...p.base.choices,
          ...Object.fromEntries(
            Object.entries(chosen).filter(([k]) => groupKeys.has(k)).map((
              [k, v],
            ) => [k, String(v)]),
          ),
        }),
        config_dir: configDirAbs,
        ...(st
          ? {
            stage: st.stage.name,
            artifact: st.id,
            upstream: Object.assign({}, ...st.inputs.map((r) => r.upstream)),
            ...(st.stage.files.length
              ? { files: st.stage.files.map((f) => ({ ...f })) as unknown as ConfigValue }
              : {}),
          }
          : {}),
      },
    });
    const resolved = resolveTree(pointConfig, { resolvers: p.resolvers, origin });
    const found: ConfigProblem[] = [...resolved.problems];
    if (!found.length) {
      // `${oc.env:VAR,???}` resolves to the text "???": still a value the user must set.
      for (const group of SCHEMA_GROUPS) {
        collectMissing(resolved.value[group], [group], found);
      }
      for (let k = 0; k < found.length; k++) found[k] = nameEnvVars(found[k], pointConfig);
    }
    const checked = found.length
      ? undefined
      : validateConfig(resolved.value, origin, [], validation);
    if (checked) found.push(...checked.problems);
    if (checked?.config) {
      sweepSlurm ??= checked.config.slurm;
      const refs = envRefsOf(pointConfig, deps.host.env);
      const runConfig = passEnvByName(checked.config, refs);
      const exported = String(runConfig.slurm?.sbatch?.export ?? "ALL");
      if (refs.size && !/^ALL\b/i.test(exported)) {
        const names = [...refs.values()].flatMap((m) => [...m.values()]);
        warnings.add(
          `slurm.sbatch.export=${exported}: ${names.join(", ")} reach the job by name from its ` +
            `exported environment; add them to export, or the job gets them empty`,
        );
      }
      for (const c of computeToSbatch(checked.config.compute ?? {})) {
        for (const table of ["sbatch", "sbatch_overrides"]) {
          // Said when the replaced value was an explicit choice: on the command line, or in
          // sbatch_overrides (a slurm preset's plain sbatch values are meant to be refined).
          const set = origin(`slurm.${table}.${c.key}`)?.file;
          if (set && (set.startsWith("-o ") || table === "sbatch_overrides")) {
            const where = set.startsWith("-o ") ? set : `slurm.${table}.${c.key} (${set})`;
            warnings.add(
              `${where} is replaced by compute.${c.from} (the compute preset's resources win ` +
                `over slurm.${table}): set -o compute.${c.from}=... instead`,
            );
          }
        }
      }
      const taskOverrides = checked.config.backend?.hydra_app === true
        ? hydraTaskOverrides(p.overrides, point.values)
        : undefined;
      if (taskOverrides) {
        const { autoexp: context, ...config } = resolved.value;
        const ctx = isMap(context) ? context : {};
        hydraFiles.set(name, {
          config,
          overrides: taskOverrides,
          hydra: {
            hydra: {
              run: { dir: String(ctx.run_dir ?? "") },
              job: { name, num: point.index, id: point.index },
              runtime: {
                output_dir: String(ctx.run_dir ?? ""),
                choices: isMap(ctx.choices) ? ctx.choices : {},
              },
              overrides: { task: [...taskOverrides] },
            },
          },
        });
      }
      const r = buildRunPlan(runConfig, {
        index: point.index,
        name,
        values: point.values,
        sweepDir,
        runDir: st?.runDir ?? runDirOf(name),
        cwd: deps.host.cwd(),
        monitoringLog: isMap(resolved.value.monitoring) ? resolved.value.monitoring : undefined,
        ...(taskOverrides ? { taskOverrides } : {}),
      });
      found.push(...r.problems);
      for (const w of r.warnings) warnings.add(w);
      if (Object.keys(r.derived).length) derived[name] = r.derived;
      if (r.plan) monitors.add(name, resolved.value, found, origin);
      if (r.plan) {
        // Runs with equal script settings share one object (memory, and grouping by identity).
        const key = JSON.stringify(r.plan.script);
        const shared = scripts.get(key) ?? r.plan.script;
        scripts.set(key, shared);
        let plan: RunPlan = shared === r.plan.script ? r.plan : { ...r.plan, script: shared };
        if (st) {
          const files = stageFiles(resolved.value, found);
          plan = {
            ...plan,
            stage: st.stage.name,
            artifact: st.id,
            needs: st.inputs.map((x) => x.name),
            ...(files.length ? { files } : {}),
          };
          if (needed.has(st.stage.name)) {
            const { autoexp: _ctx, ...own } = resolved.value;
            resolvedOf.set(name, own);
          }
        }
        runs.push(plan);
      }
    }
    for (const pr of found) {
      const key = [pr.path, pr.message, pr.file ?? "", pr.line ?? ""].join("\u0000");
      let entry = runProblems.get(key);
      if (!entry) runProblems.set(key, entry = { problem: pr, runs: [] });
      entry.runs.push(`${point.index} "${name}"`);
    }
  };
  for (let i = 0; i < points.length && runProblems.size <= 200; i++) planPoint(points[i], names[i]);
  if (stages) {
    const sharedHash = sharedConfigHash(withBase);
    const byStage = new Map<string, UpstreamRun[]>();
    let next = 0;
    for (const st of stages) {
      if (runProblems.size > 200) break;
      const joined = joinPoints(st, ownPoints.get(st.name)!, st.needs.map((n) => byStage.get(n)!));
      const stagePoints = joined.map((j, k) => ({ index: next + k, values: j.values }));
      next += joined.length;
      const template = st.sweep?.nameTemplate ??
        stageNameTemplate(st, defaultNameTemplate(ownPoints.get(st.name)!));
      const stageNames = assignRunNames(
        stagePoints.map((pt, k) => ({
          ...pt,
          values: {
            ...pt.values,
            ...(st.needs.length ? { upstream: joined[k].inputs.map((r) => r.name).join("_") } : {}),
          },
        })),
        template,
        { project: projectName },
      );
      const planned: UpstreamRun[] = [];
      for (let k = 0; k < joined.length && runProblems.size <= 200; k++) {
        const { inputs } = joined[k];
        const point = stagePoints[k], name = stageNames[k];
        const apply = {
          ...(st.sweep?.baseValues ? flatValues(st.sweep.baseValues) : {}),
          ...st.overrides,
        };
        const id = artifactId(st, point.values, sharedHash, inputs);
        const runDir = artifactDir(located.baseDir, st.name, name, id);
        const before = runs.length;
        points.push(point);
        planPoint(point, name, { stage: st, inputs, apply, id, runDir });
        if (runs.length === before || !needed.has(st.name)) continue;
        const config = resolvedOf.get(name)!;
        planned.push({
          name,
          stage: st.name,
          index: point.index,
          id,
          runDir,
          values: point.values,
          upstream: {
            ...Object.assign({}, ...inputs.map((r) => r.upstream)),
            [st.name]: {
              run_name: name,
              run_dir: runDir,
              stage: st.name,
              index: point.index,
              artifact: id,
              config: escapeInterpolations(config),
            },
          },
        });
        resolvedOf.delete(name);
      }
      byStage.set(st.name, planned);
    }
  }
  if (runProblems.size) {
    throw new ConfigError(
      [...runProblems.values()].map(({ problem, runs }) => ({
        ...problem,
        message: `${whichRuns(runs, points.length)}${problem.message}`,
      })),
    );
  }

  const monitor = monitors.file(deps.host.cwd());
  checkDerivedRuns(p, req, Object.values(monitor.specs));
  if (!req.point) checkRunsDiffer(runs, monitor, spec?.metadataKeys ?? []);

  const arrayCfg = sweepSlurm?.array;
  const array = arrayCfg === true || (typeof arrayCfg === "object" && arrayCfg.enabled !== false);
  const throttle = typeof arrayCfg === "object" ? arrayCfg.throttle ?? null : null;
  const maxArraySize = req.maxArraySize ?? sweepSlurm?.max_array_size ?? DEFAULT_MAX_ARRAY_SIZE;
  const grouped = groupRuns(runs, { array, throttle, maxArraySize });
  const stageInfo = stages?.map((st) => ({
    name: st.name,
    needs: [...st.needs],
    tier: st.tier,
    runs: runs.filter((r) => r.stage === st.name).length,
  }));
  const plan: SweepPlan = {
    format: "autoexp.sweep",
    version: 1,
    sweep: {
      name: projectName,
      id: req.sweepId ?? stableHash(sweepDir).slice(0, 10),
      dir: sweepDir,
      configName: req.configName ?? "autoexp",
      configDir: req.configDir ?? null,
      overrides: [...(req.overrides ?? [])],
      multirun: req.multirun === true,
      nameTemplate: spec?.nameTemplate ?? "",
      autoexp,
      autoexpVersion: VERSION,
      throttle,
    },
    runs: grouped.runs,
    groups: grouped.groups,
    ...(stageInfo ? { stages: stageInfo } : {}),
  };
  // Seed 003's `requeue=on|off` chooses a restart preset; a restart chosen on the command line
  // wins (as in Hydra): say so instead of dropping the requeue choice silently.
  const requeue = p.base.choices.requeue, restart = p.base.choices.restart;
  if (typeof requeue === "string" && restart !== `requeue_${requeue}`) {
    warnings.add(
      `requeue=${requeue} is overridden by restart=${restart}: requeue=${requeue} means ` +
        `restart=requeue_${requeue}; choose one of them`,
    );
  }
  // A group chosen by the platform that has no preset for it silently used `base`: say so.
  for (const src of p.base.sources) {
    if (src.via === "fallback") {
      warnings.add(
        `no ${src.group} preset for platform "${p.platform.platform}" (${p.platform.matched}); using ${src.group}/base`,
      );
    }
  }
  // A swept key that does not exist where a mapping does is likely a typo (it is added anyway).
  for (const key of new Set(points.flatMap((pt) => Object.keys(pt.values)))) {
    const path = splitKey(key);
    if (path.length < 2 || p.files.isGroup(key)) continue;
    const parent = getPath(withBase, path.slice(0, -1));
    if (isMap(parent) && !(path[path.length - 1] in parent)) {
      warnings.add(
        `swept key "${key}" is not in the config; it is added to ${
          path.slice(0, -1).join(".")
        } (a typo?)`,
      );
    }
  }
  return {
    plan,
    platform: p.platform,
    warnings: [...warnings],
    derived,
    prepared: p,
    monitor,
    confirmAbove: { ...DEFAULT_CONFIRM_ABOVE, ...sweepSlurm?.confirm_above },
    ...(hydraFiles.size ? { hydraFiles } : {}),
  };
}

/**
 * A run planned again with overrides (a derived run, a restart that changes arguments): the
 * sweep's own overrides except sweep axes and those the new ones replace (`monitoring=x` drops
 * the sweep's `monitoring.params...`, which x may not have), the run's point values except
 * those the new overrides touch, then the new overrides.
 */
export function withOverrides(
  sweepOverrides: readonly string[],
  values: Readonly<Record<string, ConfigValue>>,
  overrides: readonly string[],
): { overrides: string[]; values: Record<string, ConfigValue> } {
  const touched = overrides.map((o) => parseOverride(o).key);
  const own = sweepOverrides.filter((o) => {
    const p = parseOverride(o);
    return !p.sweep && !touched.some((t) => p.key === t || p.key.startsWith(`${t}.`));
  });
  const kept: Record<string, ConfigValue> = {};
  for (const [k, v] of Object.entries(values)) {
    const path = splitKey(k).join(".");
    if (touched.some((t) => t === path || path.startsWith(`${t}.`) || t.startsWith(`${path}.`))) {
      continue;
    }
    kept[k] = v;
  }
  return { overrides: [...own, ...overrides], values: kept };
}

/** Keys and groups that are autoexp's, not a Hydra application's (`backend.hydra_app`). */
const AUTOEXP_NAMESPACES = new Set([
  "project",
  "slurm",
  "backend",
  "container",
  "compute",
  "monitoring",
  "restart",
  "requeue",
  "sweep",
  "autoexp",
  "hydra",
]);

/**
 * The overrides a Hydra application gets for one run (`backend.hydra_app`): those the user gave
 * for keys and groups of their own (as typed), then the run's swept values of such keys, in
 * Hydra's override syntax.
 */
export function hydraTaskOverrides(
  overrides: readonly Override[],
  values: Readonly<Record<string, ConfigValue>>,
): string[] {
  const own = (key: string) => !AUTOEXP_NAMESPACES.has(splitKey(key.replace(/^\//, ""))[0]);
  return [
    ...overrides.filter((o) => own(o.key)).map((o) => o.text),
    ...Object.entries(values).filter(([k]) => own(k)).map(([k, v]) => `${k}=${hydraValue(v)}`),
  ];
}

/**
 * Refuses a sweep whose swept values do not reach the jobs: two runs whose commands,
 * environments, resources and monitoring are the same once their own names and directories
 * are set aside would train the same thing twice (seed 003's `trainer.lr=1e-2,1e-3` with nothing
 * carrying `trainer.*` into the command). Keys listed in `sweep.metadata_keys` may differ alone.
 */
function checkRunsDiffer(
  runs: readonly RunPlan[],
  monitor: MonitorFile,
  metadataKeys: readonly string[],
): void {
  const swept = new Set(runs.flatMap((r) => Object.keys(r.values)));
  const problems: ConfigProblem[] = [];
  for (const k of metadataKeys) {
    if (!swept.has(k)) {
      const best = closestMatches(k, [...swept]);
      problems.push({
        path: "sweep.metadata_keys",
        message: `"${k}" is not a swept key${
          best.length ? `; did you mean "${best[0]}"?` : ` (swept: ${[...swept].join(", ")})`
        }`,
      });
    }
  }
  if (problems.length) throw new ConfigError(problems);
  if (runs.length < 2 || swept.size === 0) return;
  const buckets = new Map<string, RunPlan[]>();
  for (const run of runs) {
    const { job_name: _name, ...resources } = run.script.resources;
    const signature = replaceWord(
      JSON.stringify({
        argv: run.argv,
        env: run.env,
        workdir: run.workdir,
        script: { ...run.script, resources },
        monitor: monitor.runs[run.name],
      }).replaceAll(run.runDir, "<run dir>"),
      run.name,
      "<run>",
    );
    const bucket = buckets.get(signature);
    if (bucket) bucket.push(run);
    else buckets.set(signature, [run]);
  }
  for (const same of buckets.values()) {
    if (same.length < 2) continue;
    const keys = [...swept].filter((k) =>
      !metadataKeys.includes(k) &&
      new Set(same.map((r) => JSON.stringify(r.values[k] ?? null))).size > 1
    );
    if (keys.length === 0) continue;
    const names = same.slice(0, 3).map((r) => `"${r.name}"`).join(", ") +
      (same.length > 3 ? ` and ${same.length - 3} more` : "");
    problems.push({
      path: `sweep (${keys.join(", ")})`,
      message: `${same.length} runs would run the same job (${names}): the swept ` +
        `${keys.length === 1 ? "key" : "keys"} ${keys.join(", ")} ${
          keys.length === 1 ? "reaches" : "reach"
        } neither the command, ` +
        `the environment, the resources nor the monitoring`,
      hint:
        `pass the value to the program (e.g. backend.args.x: \${${keys[0]}}), or list the key ` +
        `in sweep.metadata_keys if it is only a label`,
    });
    if (problems.length >= 5) break;
  }
  if (problems.length) throw new ConfigError(problems);
}

/** A name's own character class: a word char, `.` or `-` (what a run name is made of). */
function isNameChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 ||
    c === 46 || c === 45;
}

/**
 * Replaces every occurrence of `word` not touching a word char, `.` or `-` on either side, as
 * `/(?<![\w.-])word(?![\w.-])/g` would (without compiling a pattern per run: 10k runs made
 * that the plan's biggest cost).
 */
export function replaceWord(text: string, word: string, by: string): string {
  if (!word) return text;
  let out = "";
  let from = 0;
  let at = text.indexOf(word);
  while (at >= 0) {
    const end = at + word.length;
    if (
      (at === 0 || !isNameChar(text.charCodeAt(at - 1))) &&
      (end >= text.length || !isNameChar(text.charCodeAt(end)))
    ) {
      out += text.slice(from, at) + by;
      from = end;
      at = text.indexOf(word, end);
    } else at = text.indexOf(word, at + 1);
  }
  return from === 0 ? text : out + text.slice(from);
}

/**
 * A derived run (cooldown, evaluation) is planned when its action fires, weeks into training:
 * what can be checked now is checked now. Its overrides are composed as the monitor will compose
 * them (the sweep's own overrides, except those the action replaces, then the action's), with
 * `{placeholders}` left as text: an unknown group option, a key that does not exist, or a group
 * the defaults list lacks is an error at plan time, naming the action.
 */
function checkDerivedRuns(p: Prepared, req: PlanRequest, specs: readonly MonitorSpec[]): void {
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  for (const spec of specs) {
    for (const { path, overrides } of derivedRunActions(spec)) {
      const key = JSON.stringify([path, overrides]);
      if (seen.has(key)) continue;
      seen.add(key);
      // Placeholders are filled when the action fires; a word stands in for each here. The
      // request is the one the monitor will make (withOverrides, as lib/cli/monitor_cmd.ts).
      const filled = overrides.filter((o) => !/^[^=]*\{/.test(o)).map((o) =>
        o.replace(/\{([A-Za-z_][\w.]*)\}/g, (_, n: string) => `placeholder_${n}`)
      );
      let parsed: Override[];
      try {
        parsed = withOverrides(p.overrides.map((o) => o.text), {}, filled).overrides.map(
          parseOverride,
        );
      } catch (e) {
        problems.push({ path, message: (e as Error).message });
        continue;
      }
      try {
        composeConfig({
          files: p.files,
          configName: req.configName ?? "autoexp",
          overrides: parsed,
          resolvers: p.resolvers,
          declared: p.declared,
        });
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        for (const pr of e.problems) {
          const why = `${pr.path ? `${pr.path}: ` : ""}${pr.message}`
            .replace(/placeholder_([A-Za-z_][\w.]*)/g, "{$1}");
          problems.push({
            ...nearestOrigin(path, (q) => p.base.origins.get(q)),
            path,
            message: `the derived run this action plans (${overrides.join(" ")}) cannot be ` +
              `composed: ${why}`,
          });
        }
      }
    }
  }
  if (problems.length) throw new ConfigError(problems);
}

/** Containers known to hold no `???` (shared across sweep points, so checked once). */
const noMissing = new WeakSet<object>();

/** A missing value whose default reads environment variables says which ones. */
function nameEnvVars(p: ConfigProblem, config: ConfigMap): ConfigProblem {
  if (!p.message.startsWith("missing required value")) return p;
  const raw = getPath(config, splitKey(p.path));
  if (typeof raw !== "string") return p;
  const vars = [...raw.matchAll(/oc\.env:\s*([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]);
  if (!vars.length) return p;
  return {
    ...p,
    message: `missing required value: set it with -o ${p.path}=... or export ${vars.join(" or ")}`,
  };
}

/** Reports every `???` leaf left after resolution (one that came out of an interpolation). */
function collectMissing(node: ConfigValue | undefined, path: string[], out: ConfigProblem[]) {
  if (isContainer(node)) {
    if (noMissing.has(node)) return;
    const before = out.length;
    collectMissingInner(node, path, out);
    if (out.length === before) noMissing.add(node);
    return;
  }
  collectMissingInner(node, path, out);
}

function collectMissingInner(node: ConfigValue | undefined, path: string[], out: ConfigProblem[]) {
  if (node === MISSING_VALUE) {
    const key = path.join(".");
    out.push({
      path: key,
      message: `missing required value (set it with -o ${key}=... or the environment ` +
        `variable its default names)`,
    });
  } else if (Array.isArray(node)) {
    node.forEach((v, i) => collectMissing(v, [...path, String(i)], out));
  } else if (isMap(node)) {
    for (const [k, v] of Object.entries(node)) collectMissing(v, [...path, k], out);
  }
}

/** The prefix naming the runs a problem occurs in (none when it is in every run). */
function whichRuns(runs: readonly string[], total: number): string {
  if (total <= 1 || runs.length === total) return "";
  if (runs.length === 1) return `run ${runs[0]}: `;
  const shown = runs.slice(0, 2).join(", ");
  return runs.length > 2
    ? `runs ${shown} and ${runs.length - 2} more: `
    : `runs ${shown.replace(", ", " and ")}: `;
}

/**
 * The reserved `autoexp` key every point sees: `${autoexp.run_dir}` and friends
 * (`config_dir`, the `-C` directory, is added by the planner).
 */
export function runContext(
  sweepDir: string,
  runName: string,
  index: number,
  runDir = `${sweepDir}/runs/${runName}`,
  choices?: Readonly<Record<string, string | string[] | null>>,
): ConfigMap {
  return {
    run_name: runName,
    run_dir: runDir,
    sweep_dir: sweepDir,
    index,
    ...(choices ? { choices: { ...choices } as ConfigMap } : {}),
  };
}

/** How jobs start autoexp: `slurm.autoexp_command`, `$AUTOEXP_COMMAND`, or this program. */
export function selfCommand(config: ConfigMap, host: Host): string[] {
  const fromConfig = getPath(config, ["slurm", "autoexp_command"]);
  if (Array.isArray(fromConfig) && fromConfig.length) return fromConfig.map(String);
  if (typeof fromConfig === "string" && fromConfig.trim()) return fromConfig.trim().split(/\s+/);
  const env = host.env.AUTOEXP_COMMAND;
  if (env && env.trim()) return env.trim().split(/\s+/);
  return host.selfCommand();
}
