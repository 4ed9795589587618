/**
 * The history index's records (lib/runtime/history.ts) folded into one entry per job attempt,
 * newest first, and the filters of `autoexp history`. Pure.
 *
 * @module
 */
import type { HistoryRecord } from "../runtime/history.ts";

/** One submission as `autoexp history` shows it: a run's attempt and its job. */
export interface HistoryEntry {
  readonly job: string;
  readonly sweep: string;
  readonly run: string;
  readonly stage: string | null;
  readonly attempt: number;
  /** The last state autoexp recorded (`pending` until a monitor saw more). */
  readonly state: string;
  readonly reason: string | null;
  readonly submitted_at: string | null;
  readonly started_at: string | null;
  readonly ended_at: string | null;
  readonly run_dir: string | null;
  readonly log: string | null;
}

/** Which entries `autoexp history` shows; every given criterion must hold. */
export interface HistoryFilter {
  /** States (`completed`, `failed`, ...); `ended` and `active` stand for groups of them. */
  readonly states?: readonly string[];
  readonly stages?: readonly string[];
  /** Sweep directories or parts of them (`pipeline` matches `/out/pipeline`). */
  readonly sweeps?: readonly string[];
  /** Submitted at or after this time (ms since epoch). */
  readonly sinceMs?: number;
}

const ACTIVE = new Set(["pending", "running", "submitted", "stalled", "requeued"]);

/**
 * Folds records into one entry per (sweep, run, attempt, job): later records update the state
 * and times. Newest submission first.
 */
export function foldHistory(records: readonly HistoryRecord[]): HistoryEntry[] {
  const byKey = new Map<string, HistoryEntry>();
  for (const r of records) {
    const key = JSON.stringify([r.sweep, r.run, r.attempt, r.job]);
    const had = byKey.get(key);
    const submitted = r.event === "submitted" ? r.at : had?.submitted_at ?? null;
    // A submission line read after a later one (a rotation, clocks) does not undo its state.
    const keepState = had && r.event === "submitted";
    byKey.set(key, {
      job: r.job,
      sweep: r.sweep,
      run: r.run,
      stage: r.stage ?? had?.stage ?? null,
      attempt: r.attempt,
      state: keepState ? had.state : r.state,
      reason: keepState ? had.reason : r.reason ?? null,
      submitted_at: submitted,
      started_at: r.started_at ?? had?.started_at ?? null,
      ended_at: r.ended_at ?? had?.ended_at ?? null,
      run_dir: r.run_dir ?? had?.run_dir ?? null,
      log: r.log ?? had?.log ?? null,
    });
  }
  const when = (e: HistoryEntry) => e.submitted_at ?? e.started_at ?? e.ended_at ?? "";
  return [...byKey.values()].sort((a, b) =>
    when(b).localeCompare(when(a)) || jobOrder(b.job, a.job) || a.run.localeCompare(b.run)
  );
}

/** Job ids in numeric order (`9` before `10`, `10_2` before `10_10`). */
function jobOrder(a: string, b: string): number {
  const [ja, ta] = a.split("_").map(Number);
  const [jb, tb] = b.split("_").map(Number);
  return (ja - jb) || ((ta ?? -1) - (tb ?? -1)) || a.localeCompare(b);
}

/** The entries a filter keeps. */
export function filterHistory(
  entries: readonly HistoryEntry[],
  f: HistoryFilter,
): HistoryEntry[] {
  const states = f.states?.length ? new Set(f.states) : null;
  return entries.filter((e) =>
    (!states || states.has(e.state) ||
      (states.has("active") && ACTIVE.has(e.state)) ||
      (states.has("ended") && !ACTIVE.has(e.state))) &&
    (!f.stages?.length || f.stages.includes(e.stage ?? "")) &&
    (!f.sweeps?.length || f.sweeps.some((s) => sweepMatches(e.sweep, s))) &&
    (f.sinceMs === undefined || Date.parse(e.submitted_at ?? e.ended_at ?? "") >= f.sinceMs)
  );
}

/** A sweep directory matches itself, and any of its trailing path parts (`demo`, `out/demo`). */
function sweepMatches(dir: string, given: string): boolean {
  const g = given.replace(/\/+$/, "");
  return dir === g || dir.endsWith(`/${g}`);
}

/**
 * `--since`: a duration back from `nowMs` (`30m`, `12h`, `7d`, `2w`) or a date or time
 * (`2025-01-31`, ISO); null when it is neither.
 */
export function parseSince(text: string, nowMs: number): number | null {
  const m = text.trim().match(/^(\d+(?:\.\d+)?)\s*(s|m|min|h|d|w)$/);
  if (m) {
    const unit = { s: 1, m: 60, min: 60, h: 3600, d: 86400, w: 604800 }[m[2]]!;
    return nowMs - Number(m[1]) * unit * 1000;
  }
  const t = Date.parse(text);
  return /^\d{4}-\d{2}-\d{2}/.test(text.trim()) && !Number.isNaN(t) ? t : null;
}

/**
 * The entries of a job id: `123_4` the array task (or a single job of that id), `123` the job or
 * every task of array job 123. Newest attempt first.
 */
export function entriesOfJob(entries: readonly HistoryEntry[], id: string): HistoryEntry[] {
  const exact = entries.filter((e) => e.job === id);
  if (exact.length || id.includes("_")) return exact;
  return entries.filter((e) => e.job.startsWith(`${id}_`));
}

/** `12345` or `12345_7`: what `autoexp logs` takes for a job id rather than a run name. */
export function isJobId(text: string): boolean {
  return /^\d+(_\d+)?$/.test(text);
}
