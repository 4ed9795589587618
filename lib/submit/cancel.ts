/**
 * What `autoexp cancel` cancels, decided from the journal and one scheduler answer. Pure.
 *
 * Only jobs this sweep recorded (or that carry the comment tag of one of its open submissions)
 * are touched. A job that already ended is reported as such, not cancelled again. A submission
 * whose `sbatch` is still running has no job id yet: it is returned as in flight, so the
 * command can wait for it instead of missing the job it is about to create.
 *
 * @module
 */
import { type JobObservation, LIVE_STATES } from "../scheduler/types.ts";
import { ACTIVE_ATTEMPT_STATES, latestAttempt, type StoreState } from "../store/state.ts";
import { indexJobs, ownJob } from "./mod.ts";

/** The decision of one cancel round. */
export interface CancelPlan {
  /** Job ids (`123`, array tasks `123_4`) to cancel now. */
  readonly cancel: readonly string[];
  /** Runs whose job already ended: nothing to cancel. */
  readonly ended: readonly string[];
  /** Open submission intents (by seq) of chosen runs whose job is not known yet. */
  readonly inFlight: readonly number[];
  /** The chosen runs' active attempts, to record as cancelled by the user. */
  readonly attempts: readonly { readonly run: string; readonly attempt: number }[];
}

/**
 * The jobs to cancel among the runs `chosen` accepts: each one's latest attempt while it is
 * active, judged by what the scheduler answered (`jobs`, with the sweep's tagged jobs).
 */
export function planCancel(
  state: StoreState,
  chosen: (run: string) => boolean,
  jobs: readonly JobObservation[],
): CancelPlan {
  const find = indexJobs(jobs);
  const cancel = new Set<string>();
  const ended: string[] = [];
  const inFlight = new Set<number>();
  const attempts: { run: string; attempt: number }[] = [];
  for (const rec of Object.values(state.runs)) {
    const a = latestAttempt(rec);
    if (!chosen(rec.name) || !a || !ACTIVE_ATTEMPT_STATES.has(a.state)) continue;
    attempts.push({ run: rec.name, attempt: a.attempt });
    let id = a.jobId;
    // A job id SLURM reused for someone else's job is never cancelled as ours.
    let seen = id ? ownJob(state, a, find(id, a.arrayJobId, a.taskId)) : undefined;
    if (id && !seen && find(id, a.arrayJobId, a.taskId)) continue;
    if (!id) {
      // Submitting: its job is found by the intent's comment tag, or it is still in flight.
      const intent = state.intents[String(a.intent)];
      const job = intent && jobs.find((j) => j.comment === intent.comment);
      if (!intent || !job) {
        inFlight.add(a.intent);
        continue;
      }
      const base = job.arrayJobId ?? job.jobId;
      const task = intent.array !== undefined ? rec.index - (intent.offset ?? 0) : undefined;
      id = task === undefined ? base : `${base}_${task}`;
      seen = find(id, task === undefined ? undefined : base, task);
    }
    // Not seen at all (squeue forgot it, accounting off): asking costs nothing.
    if (seen && !LIVE_STATES.has(seen.state)) ended.push(rec.name);
    else cancel.add(id);
  }
  return { cancel: [...cancel], ended, inFlight: [...inFlight], attempts };
}
