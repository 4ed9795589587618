/**
 * One sweep point's resolved config -> its {@link RunPlan}: argv (launcher, container, backend),
 * environment, SLURM resources, paths and a fingerprint. Pure.
 *
 * @module
 */
import type { ConfigProblem } from "../errors.ts";
import { pythonStr } from "../config/python_str.ts";
import { parseSlurmTime, SBATCH_OPTIONS } from "../config/schema/sbatch_options.ts";
import { type ConfigValue, WholeFloat } from "../config/tree.ts";
import type { EnvConfig, SlurmConfig, ValidConfig } from "../config/schema/mod.ts";
import { type ComputeConfig, computeToSbatch } from "../config/schema/compute.ts";
import { closestMatches } from "../config/suggest.ts";
import { buildBackendProgram } from "./backends.ts";
import { stableHash } from "./hash.ts";
import { shellQuote } from "../shell.ts";
import {
  applyLauncher,
  containerPrefix,
  envRef,
  launcherEnv,
  launcherSettings,
  passEnvIntoLauncher,
  slurmLauncherPrefix,
} from "./launch.ts";
import { checkJobName } from "./job_name.ts";
import { fillRunPath, runLogPaths, type RunPathContext } from "./paths.ts";
import type { Resources, RunPlan, ScriptSettings } from "./types.ts";

/** Inputs besides the config. */
export interface RunPlanInput {
  readonly index: number;
  readonly name: string;
  readonly values: Readonly<Record<string, ConfigValue>>;
  readonly sweepDir: string;
  /** The run directory (default `<sweepDir>/runs/<name>`; see `runDirFor`). */
  readonly runDir?: string;
  /** Where relative paths in path templates are taken from (default the sweep directory). */
  readonly cwd?: string;
  /** The resolved `monitoring.log_path` and `log_path_template` (seed spellings of the log path). */
  readonly monitoringLog?: { readonly log_path?: unknown; readonly log_path_template?: unknown };
  /** The run's overrides of the user's own keys, for `backend.hydra_app` (Hydra syntax). */
  readonly taskOverrides?: readonly string[];
}

/** The result: a plan, or the problems that prevent one. */
export interface RunPlanResult {
  readonly plan?: RunPlan;
  readonly problems: ConfigProblem[];
  readonly warnings: string[];
  readonly derived: Record<string, number>;
}

/** Directives autoexp writes itself, by long and short flag. */
const OWNED_DIRECTIVES = new Map([
  ["output", "--output"],
  ["o", "--output"],
  ["error", "--error"],
  ["e", "--error"],
  ["array", "--array"],
  ["a", "--array"],
  ["comment", "--comment"],
  ["parsable", "--parsable"],
]);

/** sbatch options autoexp sets itself (a config value for them is an error). */
export const OWNED_OPTIONS = ["output", "error", "array", "comment", "parsable"];

function envString(v: ConfigValue): string {
  if (typeof v === "boolean") return v ? "true" : "false";
  return pythonStr(v);
}

/** The environment mappings in the order they apply (a later one wins), by key path. */
function envSources(config: ValidConfig): [string, EnvConfig | null | undefined][] {
  return [
    ["slurm.environment", config.slurm?.environment],
    ["slurm.env", config.slurm?.env],
    ["backend.env", config.backend?.env],
    ["container.env", config.container?.env],
  ];
}

/** Splits `slurm.env`/`environment` + `backend.env` + `container.env` into plain and shell. */
export function collectEnv(
  config: ValidConfig,
): { plain: Record<string, string>; shell: Record<string, string> } {
  const plain: Record<string, string> = {};
  const shell: Record<string, string> = {};
  for (const [, src] of envSources(config)) {
    for (const [k, v] of Object.entries(src ?? {})) {
      delete plain[k];
      delete shell[k];
      if (v === null) continue;
      if (typeof v === "object" && !(v instanceof WholeFloat)) {
        if (v.shell === true) shell[k] = v.value;
        else plain[k] = v.value;
      } else plain[k] = envString(v);
    }
  }
  return { plain, shell };
}

/** The key path that set environment variable `name` last (as {@link collectEnv} merges). */
function envSource(config: ValidConfig, name: string): string {
  const set = envSources(config).filter(([, src]) => src && name in src);
  return `${set.at(-1)?.[0] ?? "slurm.env"}.${name}`;
}

/** `slurm.sbatch` + `slurm.sbatch_overrides` without nulls, in table order. */
export function collectResources(
  slurm: SlurmConfig,
  problems: ConfigProblem[],
  compute?: ComputeConfig,
): Resources {
  const merged: Record<string, string | number | boolean> = {};
  const fromCompute = compute ? computeToSbatch(compute) : [];
  for (const { key, from } of fromCompute) {
    if (!(key in SBATCH_OPTIONS)) {
      const best = closestMatches(key, Object.keys(SBATCH_OPTIONS));
      problems.push({
        path: `compute.${from}`,
        message: `"${key}" is not an sbatch option${
          best.length ? `; did you mean "${best[0]}"?` : ""
        }`,
      });
    }
  }
  const computed = fromCompute.filter((c) => c.key in SBATCH_OPTIONS).map((c) => ({
    [c.key]: c.value,
  }));
  for (const src of [slurm.sbatch, slurm.sbatch_overrides, ...computed]) {
    for (const [k, v] of Object.entries(src ?? {})) {
      if (OWNED_OPTIONS.includes(k)) {
        problems.push({
          path: `slurm.sbatch.${k}`,
          message: `"${k}" is set by autoexp and cannot be configured`,
        });
        continue;
      }
      if (v === null || v === undefined) delete merged[k];
      else if (typeof v === "string" && /[\r\n]/.test(v)) {
        problems.push({
          path: `slurm.sbatch.${k}`,
          message: `${JSON.stringify(v)} contains a line break; an sbatch option is one ` +
            `#SBATCH line, so remove the line break`,
        });
      } else merged[k] = v;
    }
  }
  // sbatch takes one of --mem, --mem-per-cpu, --mem-per-gpu: a compute preset's choice replaces
  // the slurm preset's; two set in slurm.sbatch are refused here, not by sbatch at submit.
  const MEMORY = ["mem", "mem_per_cpu", "mem_per_gpu"];
  const computedMemory = fromCompute.find((c) => MEMORY.includes(c.key))?.key;
  if (computedMemory) { for (const k of MEMORY) if (k !== computedMemory) delete merged[k]; }
  const memory = MEMORY.filter((k) => k in merged);
  if (memory.length > 1) {
    problems.push({
      path: `slurm.sbatch.${memory[1]}`,
      message: `sbatch takes one of --mem, --mem-per-cpu and --mem-per-gpu, but ${
        memory.join(" and ")
      } are set: keep one`,
    });
  }
  const ordered: Record<string, string | number | boolean> = {};
  for (const k of Object.keys(SBATCH_OPTIONS)) if (k in merged) ordered[k] = merged[k];
  return ordered;
}

/**
 * The shell expression that finds the first node of the job, exported as `MASTER_ADDR` by job
 * scripts whose launcher needs a rendezvous address and whose config does not set one.
 */
export const MASTER_ADDR_EXPRESSION =
  '$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)';

/** GPUs per node from `gpus_per_node` (`4`, `h100:4`), `gres` (`gpu:4`) or total `gpus`. */
export function gpuCounts(r: Resources): { perNode: number; total: number } {
  const nodes = Number(r.nodes ?? 1) || 1;
  const count = (v: unknown) => {
    if (v === undefined || v === null || v === false) return 0;
    const m = String(v).match(/(\d+)\s*$/);
    return m ? Number(m[1]) : 0;
  };
  let perNode = count(r.gpus_per_node);
  if (!perNode && r.gres) {
    const m = String(r.gres).match(/gpu(?::[^:,]+)?:(\d+)/);
    if (m) perNode = Number(m[1]);
  }
  if (!perNode && r.gpus) {
    return { perNode: Math.ceil(count(r.gpus) / nodes), total: count(r.gpus) };
  }
  return { perNode, total: perNode * nodes };
}

/** Resource flags of `#SBATCH` lines autoexp counts with (nodes, GPUs, time), by sbatch key. */
const COUNTED_FLAGS = new Map([
  ["nodes", "nodes"],
  ["N", "nodes"],
  ["gpus-per-node", "gpus_per_node"],
  ["gpus", "gpus"],
  ["G", "gpus"],
  ["gres", "gres"],
  ["time", "time"],
  ["t", "time"],
]);

/**
 * The resources the plan counts with: `slurm.sbatch` plus what `sbatch_extra_directives` request
 * (seed 001's LUMI preset asks for its GPUs as `#SBATCH --gpus-per-node=8`), and, when the job
 * names no GPUs at all, `slurm.srun.gpus_per_node`. A value given twice differently is a problem
 * naming both places: which one SLURM uses depends on the order of lines, not on the config.
 */
function countedResources(
  resources: Resources,
  slurm: SlurmConfig,
  problems: ConfigProblem[],
): Resources {
  const out: Record<string, unknown> = { ...resources };
  const from = new Map<string, string>();
  for (const [k, v] of Object.entries(resources)) {
    if (v !== undefined && v !== null) from.set(k, `slurm.sbatch.${k}`);
  }
  // Two values are the same when SLURM reads them the same (`60` and `01:00:00`).
  const same = (key: string, a: unknown, b: string) => {
    if (key !== "time") return String(a) === b;
    try {
      return parseSlurmTime(a as string | number) === parseSlurmTime(b);
    } catch {
      return String(a) === b;
    }
  };
  (slurm.sbatch_extra_directives ?? []).forEach((d, i) => {
    // Every option of the line (`#SBATCH -N 2 --gpus-per-node=8`).
    const words = d.replace(/^#SBATCH\s+/, "").split(/\s+/).filter((w) => w);
    for (let w = 0; w < words.length; w++) {
      const m = words[w].match(/^(?:--([A-Za-z][\w-]*)(?:=(.*))?|-([A-Za-z])(.*))$/);
      if (!m) continue;
      const key = COUNTED_FLAGS.get(m[1] ?? m[3]);
      let value = m[1] !== undefined ? m[2] : (m[4] || undefined);
      if (value === undefined && words[w + 1] !== undefined && !words[w + 1].startsWith("-")) {
        value = words[++w];
      }
      if (!key || value === undefined) continue;
      // A node range (`2-4`) counts with its largest number of nodes.
      if (key === "nodes") value = value.replace(/^\d+-(\d+)$/, "$1");
      const path = `slurm.sbatch_extra_directives[${i}]`;
      const before = from.get(key);
      if (before && !same(key, out[key], value)) {
        problems.push({
          path,
          message: `"${d}" requests ${key} = ${value}, but ${before} = ${
            JSON.stringify(out[key])
          }: set it in one place`,
        });
        continue;
      }
      out[key] = value;
      from.set(key, path);
    }
  });
  const srunGpus = slurm.srun?.gpus_per_node;
  if (srunGpus !== undefined && srunGpus !== null && srunGpus !== false) {
    if (gpuCounts(out as Resources).perNode === 0) out.gpus_per_node = srunGpus;
    else if (out.gpus_per_node !== undefined && String(out.gpus_per_node) !== String(srunGpus)) {
      problems.push({
        path: "slurm.srun.gpus_per_node",
        message: `srun asks for ${srunGpus} GPUs per node, but ${from.get("gpus_per_node")} = ${
          JSON.stringify(out.gpus_per_node)
        }: set it in one place`,
      });
    }
  }
  return out as Resources;
}

const NONE = {};
const NO_SLURM: SlurmConfig = {};

/** What a run gets from `slurm` alone: cached per resolved `slurm` object (sweep points share it). */
interface SlurmPart {
  readonly resources: Resources;
  readonly nodes: number;
  readonly gpus: { perNode: number; total: number };
  readonly minutes: number;
  readonly prefix: string[];
  readonly extraDirectives: string[];
  readonly modules: string[];
  readonly setup: string[];
  readonly problems: ConfigProblem[];
}
const slurmParts = new WeakMap<SlurmConfig, WeakMap<object, SlurmPart>>();

function slurmPart(slurm: SlurmConfig, compute: ComputeConfig | undefined): SlurmPart {
  let byCompute = slurmParts.get(slurm);
  if (!byCompute) slurmParts.set(slurm, byCompute = new WeakMap());
  const hit = byCompute.get(compute ?? NONE);
  if (hit) return hit;
  const problems: ConfigProblem[] = [];
  const resources = collectResources(slurm, problems, compute);
  let minutes = 0;
  try {
    minutes = resources.time === undefined ? 0 : parseSlurmTime(resources.time as string | number);
  } catch {
    problems.push({
      path: "slurm.sbatch.time",
      message: `invalid time limit ${JSON.stringify(resources.time)}`,
    });
  }
  const extraDirectives = slurm.sbatch_extra_directives ?? [];
  extraDirectives.forEach((d, i) => {
    const path = `slurm.sbatch_extra_directives[${i}]`;
    if (/[\r\n]/.test(d) || !/^#SBATCH\s+\S/.test(d)) {
      problems.push({
        path,
        message: `${
          JSON.stringify(d)
        } is not one directive line: write it as "#SBATCH --option=value"`,
      });
      return;
    }
    const flag = d.match(/^#SBATCH\s+--?([A-Za-z][\w-]*)/)?.[1];
    const owned = flag && OWNED_DIRECTIVES.get(flag);
    if (owned) {
      problems.push({
        path,
        message:
          `"${d}" sets ${owned}, which autoexp sets itself (it finds its jobs and logs by them)`,
      });
    }
  });
  const counted = countedResources(resources, slurm, problems);
  if (counted.time !== resources.time) {
    try {
      minutes = parseSlurmTime(counted.time as string | number);
    } catch {
      problems.push({
        path: "slurm.sbatch_extra_directives",
        message: `invalid time limit ${JSON.stringify(counted.time)}`,
      });
    }
  }
  const part: SlurmPart = {
    resources,
    nodes: Number(counted.nodes ?? 1) || 1,
    gpus: gpuCounts(counted),
    minutes,
    prefix: slurmLauncherPrefix(slurm, problems),
    extraDirectives,
    modules: slurm.modules ?? [],
    setup: slurm.setup ?? [],
    problems,
  };
  byCompute.set(compute ?? NONE, part);
  return part;
}

/** A run's environment: plain values, shell expressions, and problems with them. */
interface EnvPart {
  readonly plain: Record<string, string>;
  readonly shell: Record<string, string>;
  readonly problems: ConfigProblem[];
}

/** The environment, cached per (slurm, backend.env, container) objects. */
const envParts = new WeakMap<object, WeakMap<object, WeakMap<object, EnvPart>>>();

function envPart(
  config: ValidConfig,
  slurm: object,
  backendEnv: object,
  container: object,
): EnvPart {
  let a = envParts.get(slurm);
  if (!a) envParts.set(slurm, a = new WeakMap());
  let b = a.get(backendEnv);
  if (!b) a.set(backendEnv, b = new WeakMap());
  let env = b.get(container);
  if (!env) {
    const { plain, shell } = collectEnv(config);
    const problems: ConfigProblem[] = [];
    for (const [k, v] of Object.entries(shell)) {
      if (/[\r\n]/.test(v)) {
        problems.push({
          path: envSource(config, k),
          message: `the shell expression of ${k} contains a line break; it is exported by one ` +
            `line of the job script, so write it on one line`,
        });
      }
    }
    b.set(container, env = { plain, shell, problems });
  }
  return env;
}

const MASTER_ADDR_REF = envRef("MASTER_ADDR");
const PER_NODE_REF = /\$\{env:SLURM_(NODEID|PROCID|LOCALID)\}/;

/** A word for `bash -c`: literal parts single-quoted, `${env:X}` as "${X}". */
export function shellWordWithEnv(word: string): string {
  const parts = word.split(/(\$\{env:[A-Za-z_][A-Za-z0-9_]*\})/);
  return parts
    .filter((p) => p !== "")
    .map((p) => {
      const m = p.match(/^\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}$/);
      return m ? `"\${${m[1]}}"` : shellQuote(p);
    })
    .join("") || "''";
}
const withMaster = new WeakMap<EnvPart, EnvPart>();

/** The same environment plus the first node's address (cached, so runs keep sharing it). */
function withMasterAddr(env: EnvPart): EnvPart {
  let out = withMaster.get(env);
  if (!out) {
    out = { ...env, shell: { ...env.shell, MASTER_ADDR: MASTER_ADDR_EXPRESSION } };
    withMaster.set(env, out);
  }
  return out;
}

/** Hash of what a run's environment and script settings add to its fingerprint (cached). */
const settingsHashes = new WeakMap<EnvPart, WeakMap<SlurmPart, string>>();

function settingsHash(env: EnvPart, sp: SlurmPart, script: ScriptSettings): string {
  let m = settingsHashes.get(env);
  if (!m) settingsHashes.set(env, m = new WeakMap());
  let h = m.get(sp);
  if (h === undefined) m.set(sp, h = stableHash(JSON.stringify({ env: env.plain, script })));
  return h;
}

/** Builds the plan of one point from its resolved config. */
export function buildRunPlan(config: ValidConfig, input: RunPlanInput): RunPlanResult {
  const slurm = config.slurm ?? NO_SLURM;
  const backend = config.backend ?? { name: "command" };
  const container = config.container;
  const sp = slurmPart(slurm, config.compute);
  const problems: ConfigProblem[] = [...sp.problems];
  const { resources, nodes, gpus, minutes } = sp;
  const cached = envPart(config, slurm, backend.env ?? NONE, container ?? NONE);
  problems.push(...cached.problems);
  let env = cached;
  const built = buildBackendProgram(backend);
  // A Hydra application composes its own config: it gets what this run changes in it.
  const prog = backend.hydra_app === true
    ? {
      ...built,
      program: [
        ...built.program,
        ...(input.taskOverrides ?? []),
        `hydra.run.dir=${input.runDir ?? `${input.sweepDir}/runs/${input.name}`}`,
      ],
    }
    : built;
  problems.push(...prog.problems);
  const warnings = [...prog.warnings];
  const launched = applyLauncher(prog.program, backend.launcher, {
    nodes,
    gpusPerNode: gpus.perNode,
  });
  // What the launcher sets for the program (seed 004: accelerate's process count and GPU ids);
  // the config's own value of a variable wins, and a different one is said.
  const fromLauncher = launcherEnv(backend.launcher, { nodes, gpusPerNode: gpus.perNode });
  if (Object.keys(fromLauncher).length) {
    for (const [k, v] of Object.entries(fromLauncher)) {
      const own = env.plain[k] ?? env.shell[k];
      if (own !== undefined && own !== v) {
        warnings.push(
          `the job's environment sets ${k}=${own}, the ${
            launcherSettings(backend.launcher).type
          } launcher would set ${v}: the environment's value is used`,
        );
      }
    }
    env = { ...env, plain: { ...fromLauncher, ...env.plain } };
  }
  // A multi-node rendezvous needs the first node's address; nothing else in a job sets it.
  if (
    !("MASTER_ADDR" in env.plain) && !("MASTER_ADDR" in env.shell) &&
    launched.some((t) => t.includes(MASTER_ADDR_REF))
  ) {
    env = withMasterAddr(cached);
  }
  const prefix = sp.prefix;
  const launcherType = launcherSettings(backend.launcher).type;
  if (nodes > 1 && (launcherType === "torchrun" || launcherType === "accelerate")) {
    if (prefix[0] !== "srun") {
      warnings.push(
        `slurm.launcher_cmd: the job has ${nodes} nodes but the command starts once, on the ` +
          `first node; set slurm.launcher_cmd: srun (with slurm.srun.ntasks_per_node: 1 for ` +
          `torchrun and accelerate) to start it on every node`,
      );
    }
  }
  const envNames = [...Object.keys(env.plain), ...Object.keys(env.shell)];
  // Per-node values (`${env:SLURM_NODEID}` for accelerate's machine rank) must be read on each
  // node: under srun the command goes through `bash -c` there instead of run-entry's expansion.
  const perNode = prefix[0] === "srun" && launched.some((t) => PER_NODE_REF.test(t));
  const passthrough = slurm.launcher_env_passthrough === true;
  const inContainer = containerPrefix(container, envNames, problems, passthrough);
  let launcher = prefix;
  if (passthrough) {
    const passed = passEnvIntoLauncher(prefix, envNames);
    launcher = passed.words;
    if (!passed.found && inContainer.length === 0) {
      warnings.push(
        `slurm.launcher_env_passthrough: no container runs the job (slurm.launcher_cmd starts ` +
          `no apptainer/singularity exec and the container group is none), so there is ` +
          `nothing to pass --env to; the job's variables reach its command directly`,
      );
    }
  }
  const argv = [
    ...launcher,
    ...inContainer,
    ...(perNode ? ["bash", "-c", `exec ${launched.map(shellWordWithEnv).join(" ")}`] : launched),
  ];
  const runDir = input.runDir ?? `${input.sweepDir}/runs/${input.name}`;
  const workdir = backend.workdir || runDir;
  const pathCtx: RunPathContext = {
    name: input.name,
    index: input.index,
    project: config.project?.name ?? "",
    runDir,
    sweepDir: input.sweepDir,
    cwd: input.cwd ?? input.sweepDir,
  };
  const text = (v: unknown) => typeof v === "string" ? v : undefined;
  const logs = runLogPaths({
    templates: [
      ["slurm.log_path", slurm.log_path],
      ["project.log_path", config.project?.log_path],
      ["monitoring.log_path_template", text(input.monitoringLog?.log_path_template)],
      ["monitoring.log_path", text(input.monitoringLog?.log_path)],
    ],
    logDir: slurm.log_dir,
    current: config.project?.log_path_current,
  }, pathCtx);
  problems.push(...logs.problems);
  if (typeof resources.job_name === "string") {
    const key = slurm.sbatch_overrides?.job_name != null ? "sbatch_overrides" : "sbatch";
    const checked = checkJobName(resources.job_name, `slurm.${key}.job_name`);
    problems.push(...checked.problems);
    warnings.push(...checked.warnings);
  }
  let scriptDir: string | undefined;
  if (slurm.script_dir) {
    const r = fillRunPath(slurm.script_dir, pathCtx, "slurm.script_dir");
    if (r.problem) problems.push(r.problem);
    else scriptDir = r.value;
  }
  const script: ScriptSettings = {
    resources,
    extraDirectives: sp.extraDirectives,
    modules: sp.modules,
    setup: sp.setup,
    shellEnv: env.shell,
  };
  if (problems.length) return { problems, warnings, derived: prog.derived };
  const plan: RunPlan = {
    index: input.index,
    name: input.name,
    values: input.values,
    runDir,
    logPath: logs.paths!.logPath,
    ...(logs.paths!.logLink === undefined ? {} : { logLink: logs.paths!.logLink }),
    ...(scriptDir === undefined ? {} : { scriptDir }),
    argv,
    env: env.plain,
    workdir,
    script,
    nodes,
    gpus: gpus.total,
    minutes,
    group: "",
    backend: backend.name,
    // The part shared by runs with the same environment and script settings is hashed once.
    fingerprint: stableHash(
      `${settingsHash(env, sp, script)}\u0000${workdir}\u0000${argv.join("\u0000")}`,
    ),
    ...(config.results ? { results: config.results } : {}),
  };
  return { plan, problems, warnings, derived: prog.derived };
}
