/**
 * `monitor.json` in a sweep directory: the validated monitoring spec of every run (specs shared
 * between runs are stored once, by hash) and the config values the spec's `{dotted.key}`
 * placeholders name, per run. Written by the planner next to `sweep.json`; read by the monitor
 * (`lib/monitor/load_plan.ts`).
 *
 * @module
 */
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

/** Parses a monitor file's text; throws naming `path` when it is not one of version 1. */
export function parseMonitorFile(text: string, path: string): MonitorFile {
  const data = JSON.parse(text);
  if (data?.format !== "autoexp.monitor" || data.version !== 1) {
    throw new Error(`${path} is not an autoexp monitor file of version 1`);
  }
  return data as MonitorFile;
}
