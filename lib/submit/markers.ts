/**
 * Reading the attempt markers jobs write (`runs/<run>/attempts/<job id>.<restart>.json`): the
 * one record of an attempt that exists on every cluster, with or without SLURM accounting.
 *
 * @module
 */
import type { FileSystem } from "../runtime/mod.ts";

/** What run-entry records (see docs/sweep-json.md). */
export interface Marker {
  readonly run: string;
  readonly job_id: string;
  readonly array_job_id: string | null;
  readonly array_task_id: string | null;
  readonly restart_count: number;
  readonly host: string;
  readonly started_at: string;
  readonly ended_at?: string;
  readonly exit_code?: number;
  readonly signal?: string | null;
  readonly state: "running" | "completed" | "failed";
  readonly forwarded_signals?: readonly string[];
  /** The comment tag of the submission that started the job (from AUTOEXP_TAG). */
  readonly tag?: string | null;
  /** The fingerprint of the entry the job ran (what its config planned). */
  readonly fingerprint?: string;
}

/** Every marker of a run directory, oldest first (unreadable files are skipped). */
export async function readMarkers(fs: FileSystem, runDir: string): Promise<Marker[]> {
  let entries;
  try {
    entries = await fs.listFiles(`${runDir}/attempts`);
  } catch {
    return [];
  }
  const out: Marker[] = [];
  for (const e of entries) {
    if (!e.relPath.endsWith(".json") || e.relPath.startsWith(".")) continue;
    try {
      const m = JSON.parse(await fs.readTextFile(e.absPath));
      // Only markers of run-entry's shape count (hand-made or torn files are skipped).
      if (m && typeof m.job_id === "string" && typeof m.started_at === "string") out.push(m);
    } catch { /* being replaced right now, or torn: skip */ }
  }
  return out.sort((a, b) => a.started_at.localeCompare(b.started_at));
}

/** The newest marker of a job (`123`) or array task (`123_4`), if the job wrote one. */
export function markerOf(markers: readonly Marker[], jobId: string): Marker | undefined {
  const [array, task] = jobId.includes("_") ? jobId.split("_") : [undefined, undefined];
  let found: Marker | undefined;
  for (const m of markers) {
    const match = array !== undefined
      ? m.array_job_id === array && m.array_task_id === task
      : m.job_id === jobId;
    if (match && (!found || m.restart_count >= found.restart_count)) found = m;
  }
  return found;
}
