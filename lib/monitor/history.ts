/**
 * What a monitor step adds to the user's history index (lib/runtime/history.ts): an attempt
 * that started running, and its final verdict. Pure: events and state in, lines out.
 *
 * @module
 */
import { attemptLogPath } from "../plan/paths.ts";
import type { HistoryRecord } from "../runtime/history.ts";
import type { StoreEvent, StoreState } from "../store/state.ts";
import type { TrackedRun } from "./step.ts";

/**
 * The history lines of a step's journaled events: `started` for an attempt observed running,
 * `ended` for a final verdict. Attempts without a job id (a failed submission) and runs the
 * monitor does not follow are left out.
 */
export function historyRecordsOf(
  events: readonly StoreEvent[],
  state: StoreState,
  tracked: ReadonlyMap<string, TrackedRun>,
): HistoryRecord[] {
  const out: HistoryRecord[] = [];
  for (const ev of events) {
    const running = ev.type === "observed" && ev.state === "running";
    const final = ev.type === "verdict" && ev.final;
    if (!running && !final) continue;
    const t = tracked.get(ev.run);
    const a = state.runs[ev.run]?.attempts.find((x) => x.attempt === ev.attempt);
    if (!t || !a?.jobId) continue;
    const log = attemptLogPath(t.loaded.plan, t.run, a);
    out.push({
      at: ev.at,
      event: running ? "started" : "ended",
      job: a.jobId,
      sweep: t.loaded.plan.sweep.dir,
      run: ev.run,
      ...(t.run.stage ? { stage: t.run.stage } : {}),
      attempt: ev.attempt,
      state: ev.state,
      ...(final && ev.reason ? { reason: ev.reason } : {}),
      run_dir: t.run.runDir,
      ...(log ? { log } : {}),
      ...(running ? { started_at: a.stateSince ?? ev.at } : {}),
      ...(final ? { ended_at: a.endedAt ?? ev.at } : {}),
    });
  }
  return out;
}
