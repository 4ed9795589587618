/**
 * When the journal and reality disagree, reality wins. A damaged or emptied journal (a cut
 * line, a lost file) forgets attempts; the jobs themselves left proof in their run directories:
 * run-entry's markers, each with the comment tag of the submission that started it. A run
 * whose newest marker from this sweep proves it completed, or whose job still runs, is
 * journaled again as a `recovered` attempt, so it is never submitted a second time. Pure.
 *
 * @module
 */
import type { RunPlan, SweepPlan } from "../plan/types.ts";
import {
  ACTIVE_ATTEMPT_STATES,
  latestAttempt,
  type NewEvent,
  type StoreState,
} from "../store/state.ts";
import type { Marker } from "./markers.ts";

/** The job id a marker was written by (`123`, an array task `123_4`). */
export function markerJobId(m: Marker): string {
  return m.array_job_id !== null && m.array_task_id !== null
    ? `${m.array_job_id}_${m.array_task_id}`
    : m.job_id;
}

/** The runs whose markers may prove more than the journal knows: none completed in it. */
export function runsToCheck(plan: SweepPlan, state: StoreState): RunPlan[] {
  return plan.runs.filter((r) => {
    const last = latestAttempt(state.runs[r.name]);
    // Live attempts are the scheduler's to judge (reconcile); completed ones need no proof.
    return !last || (last.state !== "completed" && last.verdict !== "completed" &&
      !ACTIVE_ATTEMPT_STATES.has(last.state));
  });
}

/**
 * `recovered` events for runs whose newest marker of this sweep (`tag` starting with
 * `sweepTag`), written by a job the journal does not know and after its latest attempt, says
 * the command completed (exit 0), or says it runs while the scheduler still has the job
 * (`live`). Markers of other sweeps and of attempts the journal knows are left alone.
 */
export function recoverEvents(
  runs: readonly RunPlan[],
  state: StoreState,
  markers: ReadonlyMap<string, readonly Marker[]>,
  sweepTag: string,
  live: ReadonlySet<string>,
): { events: NewEvent[]; said: string[]; busy: BusyArtifact[] } {
  const events: NewEvent[] = [];
  const said: string[] = [];
  const busy: BusyArtifact[] = [];
  for (const run of runs) {
    const rec = state.runs[run.name];
    const known = new Set((rec?.attempts ?? []).map((a) => a.jobId).filter(Boolean));
    const last = latestAttempt(rec);
    // A pipeline run's artifact completed by another sweep (same identity, same directory)
    // is complete here too: it is trained once. Not one that saved and exited on the time
    // limit's signal (COMPLETED with exit 0, but unfinished).
    const foreign = (m: Marker) =>
      !!run.artifact && !rec && m.state === "completed" && (m.exit_code ?? 0) === 0 &&
      !m.forwarded_signals?.length;
    // One another sweep's live job is making right now: not a second job into its directory.
    const making = run.artifact && !rec
      ? (markers.get(run.name) ?? []).find((m) =>
        m.state === "running" && !m.tag?.startsWith(sweepTag) && live.has(markerJobId(m))
      )
      : undefined;
    if (making) {
      busy.push({ run: run.name, jobId: markerJobId(making), tag: making.tag ?? null });
      continue;
    }
    const ours = (markers.get(run.name) ?? [])
      .filter((m) => (m.tag?.startsWith(sweepTag) || foreign(m)) && !known.has(markerJobId(m)))
      .filter((m) => !last || m.started_at > last.submittedAt)
      .sort((a, b) => a.started_at.localeCompare(b.started_at));
    const m = ours.at(-1);
    if (!m) continue;
    const jobId = markerJobId(m);
    // Saved and exited on the time limit's signal: exit 0, but training is not finished.
    const completed = m.state === "completed" && (m.exit_code ?? 0) === 0 &&
      !m.forwarded_signals?.length;
    const running = m.state === "running" && live.has(jobId);
    if (!completed && !running) continue;
    const attempt = (rec?.attempts.length ?? 0) + 1;
    events.push({
      type: "recovered",
      run: run.name,
      index: run.index,
      attempt,
      // What the job ran: a config changed since is still told apart (submit refuses it).
      fingerprint: m.fingerprint ?? run.fingerprint,
      jobId,
      ...(m.array_job_id !== null && m.array_task_id !== null
        ? { arrayJobId: m.array_job_id, taskId: Number(m.array_task_id) }
        : {}),
      state: completed ? "completed" : "running",
      ...(completed ? { exitCode: 0 } : {}),
      startedAt: m.started_at,
      why: m.tag?.startsWith(sweepTag)
        ? `the journal did not know job ${jobId}; its marker (tag ${m.tag}) says it ${
          completed ? "completed" : "runs"
        }`
        : `artifact complete: job ${jobId} of another sweep (tag ${m.tag}) made it`,
    });
    said.push(
      m.tag?.startsWith(sweepTag)
        ? `${run.name}: recovered job ${jobId} from its marker (${
          completed ? "completed" : "still running"
        }); the journal had lost it`
        : `${run.name}: artifact complete in ${run.runDir} (job ${jobId} of another sweep): not submitted`,
    );
  }
  return { events, said, busy };
}

/** A shared artifact another sweep's live job is making (its run directory is in use). */
export interface BusyArtifact {
  readonly run: string;
  readonly jobId: string;
  readonly tag: string | null;
}
