/**
 * Local job state -> {@link JobObservation}, as SLURM would report it: normalised state, raw
 * state, reason for pending tasks. Pure.
 *
 * @module
 */
import { compressRanges } from "./_local_directives.ts";
import { type JobView, type RawState, taskJobId, taskKeys, taskState } from "./_local_store.ts";
import type { JobObservation, JobState } from "./types.ts";

const NORMALISED: Readonly<Record<RawState, JobState>> = {
  PENDING: "pending",
  RUNNING: "running",
  COMPLETED: "completed",
  FAILED: "failed",
  TIMEOUT: "timeout",
  CANCELLED: "cancelled",
  NODE_FAIL: "node_fail",
};

const FINAL_REASON: Readonly<Record<RawState, string>> = {
  PENDING: "None",
  RUNNING: "None",
  COMPLETED: "None",
  FAILED: "NonZeroExitCode",
  TIMEOUT: "TimeLimit",
  CANCELLED: "None",
  NODE_FAIL: "NodeFail",
};

/** What a pending task's reason depends on besides the job itself. */
export interface PendingContext {
  /** The job's dependency, evaluated; null when it has none. */
  readonly dependency: "satisfied" | "wait" | "never" | null;
  /** Whether every slot the job may use is taken. */
  readonly slotsFull: boolean;
}

/** Whether a pending task is held (its own hold or release wins over the job's). */
export function isHeld(view: JobView, key: string): boolean {
  return view.tasks.get(key)?.held ?? view.job.held;
}

/** SLURM's reason for a pending task. */
export function pendingReason(view: JobView, key: string, ctx: PendingContext): string {
  if (isHeld(view, key)) return "JobHeldUser";
  if (ctx.dependency === "never") return "DependencyNeverSatisfied";
  if (ctx.dependency === "wait") return "Dependency";
  const throttle = view.spec.array?.throttle;
  if (throttle) {
    let running = 0;
    for (const st of view.tasks.values()) if (st.state === "RUNNING") running++;
    if (running >= throttle) return "JobArrayTaskLimit";
  }
  return ctx.slotsFull ? "Resources" : "None";
}

/**
 * The observations of a job. Array tasks that never left the queue are folded into one
 * `123_[4-9%2]` record with `pendingTasks` (as squeue shows them) unless `expand` is set.
 * `only` restricts the result to one task.
 */
export function observeJob(
  view: JobView,
  ctx: PendingContext,
  opts: { only?: string; expand?: boolean } = {},
): JobObservation[] {
  const { spec } = view;
  const out: JobObservation[] = [];
  const folded: number[] = [];
  const base = {
    name: spec.name,
    comment: spec.comment,
    source: "local" as const,
  };
  for (const key of taskKeys(spec)) {
    if (opts.only !== undefined && key !== opts.only) continue;
    const st = view.tasks.get(key);
    if (!st && spec.array && !opts.expand && opts.only === undefined) {
      folded.push(Number(key));
      continue;
    }
    const s = st ?? taskState(view, key);
    const jobId = String(taskJobId(spec, key));
    const final = s.state !== "PENDING" && s.state !== "RUNNING";
    out.push({
      ...base,
      id: spec.array ? `${spec.id}_${key}` : String(spec.id),
      jobId,
      ...(spec.array ? { arrayJobId: String(spec.id), arrayTaskId: Number(key) } : {}),
      state: NORMALISED[s.state],
      rawState: s.state === "CANCELLED" && s.cancelledBy !== undefined
        ? `CANCELLED by ${s.cancelledBy}`
        : s.state,
      reason: s.state === "PENDING"
        ? pendingReason(view, key, ctx)
        : s.reason ?? FINAL_REASON[s.state],
      ...(final && s.exitCode !== undefined ? { exitCode: s.exitCode } : {}),
      ...(final && s.signal ? { signal: s.signal } : {}),
      ...(s.start && s.state !== "PENDING" ? { start: s.start } : {}),
      ...(s.end && final ? { end: s.end } : {}),
      ...(s.host && s.state !== "PENDING" ? { nodeList: s.host } : {}),
      restarts: s.restarts,
    });
  }
  if (folded.length) {
    const throttle = spec.array!.throttle;
    out.unshift({
      ...base,
      id: `${spec.id}_[${compressRanges(folded)}${throttle ? `%${throttle}` : ""}]`,
      jobId: String(spec.id),
      arrayJobId: String(spec.id),
      pendingTasks: folded,
      state: "pending",
      rawState: "PENDING",
      reason: pendingReason(view, String(folded[0]), ctx),
      restarts: 0,
    });
  }
  return out;
}
