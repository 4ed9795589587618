/**
 * Writes a planned sweep's tree: `scripts/` (rendered job scripts), `sweep.json` and its
 * run index, `monitor.json`, `provenance/` (the composed config, resolved and not, how it
 * was planned, the git state), and the run and log directories SLURM writes into.
 *
 * @module
 */
import { resolveTree } from "../config/resolve.ts";
import { extraSecretNames, maskSecrets } from "../config/secrets.ts";
import { withEnvRefsUnresolved } from "../plan/env_refs.ts";
import { scriptPathIn } from "../plan/paths.ts";
import { renderYaml } from "../config/yaml.ts";
import { ConfigError } from "../errors.ts";
import { MONITOR_FILE } from "../monitoring/monitor_file.ts";
import { computePlan, type PlanDeps, type PlanOutcome, type PlanRequest } from "../plan/mod.ts";
import { RUN_INDEX_FILE, sweepJsonChunks } from "../plan/sweep_file.ts";
import type { RunPlan, SweepPlan } from "../plan/types.ts";
import type { ProcessRunner } from "../runtime/mod.ts";
import { VERSION } from "../version.ts";
import { RenderError, renderScripts } from "./script.ts";

/** Plans and writes the sweep's tree. Returns the plan. */
export async function writePlan(req: PlanRequest, deps: PlanDeps): Promise<PlanOutcome> {
  const outcome = await computePlan(req, deps);
  await writePlanTree(outcome, req, deps);
  return outcome;
}

/** Writes a computed plan's tree (what {@link writePlan} does after computing). */
export async function writePlanTree(
  outcome: PlanOutcome,
  req: PlanRequest,
  deps: PlanDeps,
): Promise<void> {
  const { plan } = outcome;
  const dir = plan.sweep.dir;
  const fs = deps.fs;
  // Before anything is written: a run directory outside the sweep (run_layout: flat) that
  // another sweep uses is refused, never shared silently.
  await claimRunDirs(plan, fs);
  await fs.mkdirp(`${dir}/scripts`);
  await fs.mkdirp(`${dir}/provenance`);
  await fs.mkdirp(`${dir}/runs`);
  // Directories SLURM writes logs into must exist before submission (SLURM silently drops
  // output otherwise): an array's shared log folder, or a single job's run log folder. Array
  // runs get their run directory from run-entry when they start.
  const dirs = new Set<string>();
  for (const g of plan.groups) {
    if (g.kind === "array") dirs.add(`${dir}/logs/${g.id}`);
    else {for (const i of g.indices) {
        dirs.add(dirOf(plan.runs.find((r) => r.index === i)!.logPath));
      }}
    for (const c of g.chunks) dirs.add(dirOf(scriptPathIn(dir, c.script)));
  }
  await inBatches([...dirs], 64, (d) => fs.mkdirp(d));

  let scripts: Map<string, string>;
  try {
    scripts = renderScripts(plan);
  } catch (e) {
    // The run plan checks what it can; anything rendering still refuses is the config's doing.
    if (e instanceof RenderError) throw new ConfigError({ path: "slurm", message: e.message });
    throw e;
  }
  const existing = (await fs.listFiles(`${dir}/scripts`)).map((e) => e.relPath);
  for (const old of existing) {
    if (!scripts.has(`scripts/${old}`)) await fs.remove(`${dir}/scripts/${old}`);
  }
  // Scripts are re-rendered by every plan: atomic, but not worth an fsync each.
  await inBatches(
    [...scripts],
    64,
    ([rel, text]) => fs.writeTextFile(scriptPathIn(dir, rel), text, false),
  );

  // Each run is written once, in sweep.json; the run index says where each one's line is (jobs
  // read their own line through it). Written after sweep.json: a job that reads a stale index
  // finds another run at the place and falls back to reading sweep.json whole.
  const sweepJson = sweepJsonChunks(plan);
  await fs.writeChunks(`${dir}/sweep.json`, sweepJson.chunks);
  await fs.writeFile(`${dir}/${RUN_INDEX_FILE}`, sweepJson.index());
  // An earlier version's entry files: run-entry prefers the run index, but they are stale now.
  await fs.remove(`${dir}/sweep.entries.jsonl`);
  await fs.remove(`${dir}/sweep.entries.idx`);
  await fs.writeTextFile(`${dir}/${MONITOR_FILE}`, JSON.stringify(outcome.monitor));

  // A Hydra application's runs get the `.hydra/` folder Hydra would write (config.yaml,
  // overrides.yaml, hydra.yaml), for the analysis scripts that read it; secrets masked.
  const extraNames = extraSecretNames(deps.host.env);
  const hydraRuns = [...(outcome.hydraFiles ?? new Map())];
  const runsByName = new Map(hydraRuns.length ? plan.runs.map((r) => [r.name, r]) : []);
  await inBatches(hydraRuns, 64, async ([name, files]) => {
    const run = runsByName.get(name);
    if (!run) return;
    const at = `${run.runDir}/.hydra`;
    await fs.mkdirp(at);
    await fs.writeTextFile(`${at}/config.yaml`, renderYaml(maskSecrets(files.config, extraNames)));
    await fs.writeTextFile(`${at}/overrides.yaml`, renderYaml([...files.overrides]));
    await fs.writeTextFile(`${at}/hydra.yaml`, renderYaml(files.hydra));
  });

  const prep = outcome.prepared;
  const resolvedBase =
    resolveTree(prep.base.config, { resolvers: prep.resolvers, allowMissing: true }).value;
  // People read provenance: values whose names look secret are masked (lib/config/secrets.ts).
  const extra = extraSecretNames(deps.host.env);
  await fs.writeTextFile(
    `${dir}/provenance/config.yaml`,
    renderYaml(maskSecrets(prep.base.config, extra)),
  );
  await fs.writeTextFile(
    `${dir}/provenance/config.resolved.yaml`,
    renderYaml(
      maskSecrets(withEnvRefsUnresolved(resolvedBase, prep.base.config, deps.host.env), extra),
    ),
  );
  await fs.writeTextFile(
    `${dir}/provenance/autoexp.json`,
    JSON.stringify(
      {
        autoexp_version: VERSION,
        planned_at: deps.host.now().toISOString(),
        cwd: deps.host.cwd(),
        argv: maskSecrets([...req.argv ?? []], extra),
        config_dir: req.configDir ?? null,
        config_name: req.configName ?? "autoexp",
        overrides: maskSecrets([...req.overrides ?? []], extra),
        multirun: req.multirun === true,
        platform: { name: outcome.platform.platform, why: outcome.platform.matched },
        choices: prep.base.choices,
        sources: prep.base.sources,
        git: await gitState(deps.proc, deps.host.cwd()),
      },
      null,
      2,
    ) + "\n",
  );
}

/** The file in a run directory outside its sweep that names the sweep it belongs to. */
export const RUN_OWNER_FILE = ".autoexp-run.json";

/**
 * Run directories outside the sweep directory (`project.run_layout: flat`, `<base>/<run>`) are
 * shared ground: two sweeps with one `base_output_dir` could pick the same run name. Each such
 * directory gets an owner file naming its sweep; one owned by another sweep is an error that
 * lists them (exit 2, nothing written). A directory without an owner file (a run the seed tool
 * started) is taken over: that is how its checkpoints are resumed.
 */
async function claimRunDirs(plan: SweepPlan, fs: PlanDeps["fs"]): Promise<void> {
  // Artifacts (a pipeline's runs) are shared on purpose: their directory is their identity.
  const outside = plan.runs.filter((r) =>
    !r.artifact && !r.runDir.startsWith(`${plan.sweep.dir}/`)
  );
  if (!outside.length) return;
  const owners: (RunOwner | null)[] = [];
  await inBatches(outside.map((r, i) => [r, i] as const), 64, async ([r, i]) => {
    owners[i] = await readOwner(fs, `${r.runDir}/${RUN_OWNER_FILE}`);
  });
  // A directory without an owner file is taken over (one the seed tool made), unless it is a
  // sweep's own directory (another project's `<base>/<project>`).
  const sweepDirs: { run: RunPlan; owner: RunOwner }[] = [];
  await inBatches(outside.map((r, i) => [r, i] as const), 64, async ([r, i]) => {
    if (owners[i] || !(await fs.exists(`${r.runDir}/sweep.json`))) return;
    sweepDirs.push({ run: r, owner: { sweep_id: "", sweep_dir: r.runDir, run: "" } });
  });
  const foreign = [
    ...sweepDirs,
    ...outside.flatMap((r, i) => {
      const o = owners[i];
      return o && o.sweep_id !== plan.sweep.id ? [{ run: r, owner: o }] : [];
    }),
  ];
  if (foreign.length) {
    const shown = foreign.slice(0, 5).map((f) =>
      f.owner.sweep_id === ""
        ? `"${f.run.name}" (${f.run.runDir}) is the directory of another sweep`
        : `"${f.run.name}" (${f.run.runDir}) belongs to the sweep in ${f.owner.sweep_dir}`
    );
    throw new ConfigError({
      path: "project.run_layout",
      message: `${foreign.length} run director${foreign.length === 1 ? "y is" : "ies are"} ` +
        `already used by another sweep: ${shown.join("; ")}${
          foreign.length > 5 ? `; and ${foreign.length - 5} more` : ""
        }`,
      hint: "run names must be unique across the sweeps of one base_output_dir with " +
        "run_layout: flat: rename the runs (sweep.name_template) or use another " +
        `base_output_dir; if that sweep is gone, remove ${RUN_OWNER_FILE} from the directories`,
    });
  }
  const missing = outside.filter((_, i) => !owners[i] || owners[i]!.run !== outside[i].name);
  await inBatches(missing, 64, async (r) => {
    await fs.mkdirp(r.runDir);
    const owner: RunOwner = { sweep_id: plan.sweep.id, sweep_dir: plan.sweep.dir, run: r.name };
    await fs.writeTextFile(`${r.runDir}/${RUN_OWNER_FILE}`, JSON.stringify(owner) + "\n");
  });
}

interface RunOwner {
  readonly sweep_id: string;
  readonly sweep_dir: string;
  readonly run: string;
}

async function readOwner(fs: PlanDeps["fs"], path: string): Promise<RunOwner | null> {
  if (!(await fs.exists(path))) return null;
  let data: unknown;
  try {
    data = JSON.parse(await fs.readTextFile(path));
  } catch (e) {
    throw new ConfigError({
      path: "project.run_layout",
      message: `${path} (which sweep owns this run directory) is unreadable: ` +
        `${(e as Error).message}; remove it if no other sweep uses the directory`,
    });
  }
  const o = data as Partial<RunOwner>;
  if (typeof o?.sweep_id !== "string" || typeof o.sweep_dir !== "string") {
    throw new ConfigError({
      path: "project.run_layout",
      message: `${path} does not name a sweep; remove it if no other sweep uses the directory`,
    });
  }
  return { sweep_id: o.sweep_id, sweep_dir: o.sweep_dir, run: String(o.run ?? "") };
}

function dirOf(path: string): string {
  return path.slice(0, path.lastIndexOf("/")) || "/";
}

async function inBatches<T>(
  items: T[],
  size: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

/** Git state of a directory, for provenance (null when it is not a repository). */
async function gitState(proc: ProcessRunner | undefined, cwd: string) {
  if (!proc) return null;
  const head = await proc.run(["git", "rev-parse", "HEAD"], { cwd, timeoutMs: 5000 }).catch(() =>
    null
  );
  if (!head || head.code !== 0) return null;
  const status = await proc.run(["git", "status", "--porcelain"], { cwd, timeoutMs: 5000 }).catch(
    () => null,
  );
  return {
    commit: head.stdout.trim(),
    dirty: status ? status.stdout.trim().length > 0 : null,
    changed_files: status ? status.stdout.split("\n").filter(Boolean).length : null,
  };
}
