/**
 * `monitor.json` in a sweep directory: the validated monitoring spec of every run (specs shared
 * between runs are stored once, by hash) and the config values the spec's `{dotted.key}`
 * placeholders name, per run. Written by the planner next to `sweep.json`; read by the monitor.
 *
 * @module
 */
import { parseSweepJson } from "../plan/sweep_file.ts";
import type { SweepPlan } from "../plan/types.ts";
import type { FileSystem } from "../runtime/mod.ts";
import type { MonitorSpec } from "./spec_types.ts";

/** The file's content. */
export interface MonitorFile {
  readonly format: "autoexp.monitor";
  readonly version: 1;
  /** Where autoexp was run from when planning: the default working directory of commands. */
  readonly cwd: string;
  readonly specs: Readonly<Record<string, MonitorSpec>>;
  /** Run name -> its spec's hash and the config values its placeholders use. */
  readonly runs: Readonly<Record<string, { spec: string; vars: Readonly<Record<string, string>> }>>;
}

/** The file name inside a sweep directory. */
export const MONITOR_FILE = "monitor.json";

/** Reads a sweep's monitor file; null when the sweep has none (planned by an older autoexp). */
export async function readMonitorFile(
  fs: FileSystem,
  sweepDir: string,
): Promise<MonitorFile | null> {
  const path = `${sweepDir}/${MONITOR_FILE}`;
  if (!(await fs.exists(path))) return null;
  const data = JSON.parse(await fs.readTextFile(path));
  if (data?.format !== "autoexp.monitor" || data.version !== 1) {
    throw new Error(`${path} is not an autoexp monitor file of version 1`);
  }
  return data as MonitorFile;
}

/** The plan and monitor file of a sweep directory (a derived run's has its own). */
export async function loadPlan(
  fs: FileSystem,
  dir: string,
): Promise<{ plan: SweepPlan; monitor: MonitorFile | null }> {
  const file = `${dir}/sweep.json`;
  return {
    plan: parseSweepJson(await fs.readTextFile(file), file),
    monitor: await readMonitorFile(fs, dir),
  };
}
