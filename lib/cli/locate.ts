/**
 * Finding a sweep for the commands that act on one (`cancel`, `status`, `monitor`, `logs`):
 * `--state DIR` (the sweep directory or its `.autoexp`), the config (`-C`/`-o`, composed as
 * `plan` would), or the current directory when it holds a `sweep.json`.
 *
 * @module
 */
import { UsageError } from "../errors.ts";
import { computePlan } from "../plan/mod.ts";
import { parseSweepJson } from "../plan/sweep_file.ts";
import type { SweepPlan } from "../plan/types.ts";
import type { Runtime } from "../runtime/mod.ts";
import type { CommandUnknownOpts } from "@commander-js/extra-typings";

/** Adds `--state`, `-C`, `--config-name` and `-o`: the ways to point at a sweep. */
export function addSweepLocationOptions(cmd: CommandUnknownOpts): void {
  cmd
    .option(
      "--state <dir>",
      "the sweep directory (default: found from -C/-o, or the current directory)",
    )
    .option("-C, --config-dir <dir>", "config directory, to find the sweep")
    .option("--config-name <name>", "root config name", "autoexp")
    .option(
      "-o, --override <override>",
      "override (repeatable), to find the sweep",
      (v: string, p: string[] = []) => [...p, v],
    );
}

/** How the user pointed at the sweep. */
export interface SweepLocation {
  state?: string;
  configDir?: string;
  configName?: string;
  override?: string[];
}

/** The sweep's plan (as written by `autoexp plan`) and which scheduler its store used. */
export async function locateSweep(
  opts: SweepLocation,
  r: Runtime,
): Promise<{ plan: SweepPlan; kind?: "slurm" | "local" }> {
  let dir: string | undefined;
  if (opts.state) dir = opts.state.replace(/\/\.autoexp\/?$/, "").replace(/\/+$/, "");
  else if (opts.configDir || opts.override?.length) {
    dir = (await computePlan(
      { configDir: opts.configDir, configName: opts.configName, overrides: opts.override },
      { fs: r.fs, host: r.host },
    )).plan.sweep.dir;
  } else if (await r.fs.exists(`${r.host.cwd()}/sweep.json`)) dir = r.host.cwd();
  if (!dir) {
    throw new UsageError("which sweep? give --state <sweep dir>, or the -C/-o you planned it with");
  }
  const file = `${dir}/sweep.json`;
  if (!(await r.fs.exists(file))) {
    throw new UsageError(
      `no sweep at ${dir} (${file} is missing; run autoexp plan or submit first)`,
    );
  }
  let plan: SweepPlan;
  try {
    plan = parseSweepJson(await r.fs.readTextFile(file), file);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  let kind: "slurm" | "local" | undefined;
  try {
    const meta = JSON.parse(await r.fs.readTextFile(`${dir}/.autoexp/scheduler.json`));
    if (meta.kind === "slurm" || meta.kind === "local") kind = meta.kind;
  } catch { /* not submitted yet */ }
  return { plan, kind };
}
