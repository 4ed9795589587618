/**
 * Writes a planned sweep's tree: `scripts/` (rendered job scripts), `sweep.json` and the
 * run-entry index, `monitor.json`, `provenance/` (the composed config, resolved and not, how it
 * was planned, the git state), and the run and log directories SLURM writes into.
 *
 * @module
 */
import { resolveTree } from "../config/resolve.ts";
import { extraSecretNames, maskSecrets } from "../config/secrets.ts";
import { withEnvRefsUnresolved } from "../plan/env_refs.ts";
import { renderYaml } from "../config/yaml.ts";
import { ConfigError } from "../errors.ts";
import { MONITOR_FILE } from "../monitoring/monitor_file.ts";
import { computePlan, type PlanDeps, type PlanOutcome, type PlanRequest } from "../plan/mod.ts";
import { entryIndexChunks, runJsonLines, sweepJsonChunks } from "../plan/sweep_file.ts";
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
        dirs.add(`${plan.runs.find((r) => r.index === i)!.runDir}/logs`);
      }}
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
    ([rel, text]) => fs.writeTextFile(`${dir}/${rel}`, text, false),
  );

  const lines = runJsonLines(plan);
  const entries = entryIndexChunks(plan, lines);
  await fs.writeChunks(`${dir}/sweep.entries.jsonl`, entries.lines);
  await fs.writeFile(`${dir}/sweep.entries.idx`, entries.idx());
  await fs.writeChunks(`${dir}/sweep.json`, sweepJsonChunks(plan, lines));
  await fs.writeTextFile(`${dir}/${MONITOR_FILE}`, JSON.stringify(outcome.monitor));

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
