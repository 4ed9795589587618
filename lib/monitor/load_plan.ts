/**
 * Reading what the planner wrote for the monitor: a sweep directory's `sweep.json` and
 * `monitor.json` (a derived run's directory has its own).
 *
 * @module
 */
import { MONITOR_FILE, type MonitorFile, parseMonitorFile } from "../monitoring/monitor_file.ts";
import { parseSweepJson } from "../plan/sweep_file.ts";
import type { SweepPlan } from "../plan/types.ts";
import type { FileSystem } from "../runtime/mod.ts";

/** A plan the monitor follows runs of: the sweep's own, or a derived run's. */
export interface LoadedPlan {
  readonly plan: SweepPlan;
  readonly monitor: MonitorFile | null;
}

/** Reads a sweep's monitor file; null when the sweep has none (planned by an older autoexp). */
export async function readMonitorFile(
  fs: FileSystem,
  sweepDir: string,
): Promise<MonitorFile | null> {
  const path = `${sweepDir}/${MONITOR_FILE}`;
  if (!(await fs.exists(path))) return null;
  return parseMonitorFile(await fs.readTextFile(path), path);
}

/** The plan and monitor file of a sweep directory (a derived run's has its own). */
export async function loadPlan(
  fs: FileSystem,
  dir: string,
): Promise<LoadedPlan> {
  const file = `${dir}/sweep.json`;
  return {
    plan: parseSweepJson(await fs.readTextFile(file), file),
    monitor: await readMonitorFile(fs, dir),
  };
}
