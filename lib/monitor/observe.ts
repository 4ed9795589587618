/**
 * What one monitor round sees, read through the runtime ports and decided on by nothing here:
 * the scheduler's answer (on scheduler rounds; no answer is `{ error }`), what each live
 * attempt's log gained, and the end markers the step needs to judge attempts whose jobs ended.
 *
 * @module
 */
import { SchedulerError } from "../errors.ts";
import type { SweepPlan } from "../plan/types.ts";
import type { FileSystem } from "../runtime/mod.ts";
import type { Scheduler } from "../scheduler/types.ts";
import { markerOf, readMarkers } from "../submit/markers.ts";
import {
  attemptKey,
  indexJobs,
  ownJob,
  readScheduler,
  type SchedulerReading,
} from "../submit/mod.ts";
import type { EndMarker, ObservedJob } from "./lifecycle.ts";
import type { LogWatcher } from "./log_watch.ts";
import {
  followedPlan,
  liveAttempts,
  markerWanted,
  type MonitorState,
  observationOf,
  outputPathsOf,
  type RoundObservations,
  schedulerFinal,
  silent,
  type TrackedRun,
} from "./step.ts";

/** The ports a round reads through. */
export interface ObserveDeps {
  readonly fs: FileSystem;
  readonly scheduler: Scheduler;
  readonly logs: LogWatcher;
}

/** Logs read at once (each a stat, a read when it grew). */
const LOG_BATCH = 64;

/** The scheduler's answer for one round: a reading, null (nothing to ask), or `{ error }`. */
export type SchedulerAnswer = NonNullable<RoundObservations["scheduler"]> | null;

/** Asks the scheduler about every followed attempt; no answer is `{ error }`. */
export async function askScheduler(
  state: MonitorState,
  tracked: ReadonlyMap<string, TrackedRun>,
  main: SweepPlan,
  deps: Pick<ObserveDeps, "fs" | "scheduler">,
): Promise<SchedulerAnswer> {
  try {
    return await readScheduler(followedPlan(main, tracked), state.store, deps.scheduler, deps.fs);
  } catch (e) {
    if (!(e instanceof SchedulerError)) throw e;
    return { error: e.message };
  }
}

/**
 * Everything one round saw except the actions that ended (the loop keeps those): the
 * scheduler's answer when this round has one (`undefined`: a log-only round), the logs of the
 * live attempts, and the end markers the step needs.
 */
export async function observeRound(
  state: MonitorState,
  tracked: ReadonlyMap<string, TrackedRun>,
  deps: ObserveDeps,
  scheduler: SchedulerAnswer | undefined,
  now: number,
): Promise<Omit<RoundObservations, "actions">> {
  const withScheduler = scheduler !== undefined;
  const reading = silent(scheduler) ? null : scheduler ?? null;
  const live = liveAttempts(state, tracked);
  const seen = withScheduler && !silent(scheduler) ? schedulerView(state, live, reading) : null;
  const logs = [];
  for (let i = 0; i < live.length; i += LOG_BATCH) {
    logs.push(
      ...await Promise.all(
        live.slice(i, i + LOG_BATCH).map(({ t, a, log }) => {
          const key = attemptKey(t.run.name, a.attempt);
          // A job that ended: its log is read to its end (the last lines say why).
          const flush = seen?.has(key) === true && schedulerFinal(seen.get(key)!);
          return deps.logs.read(key, log, { flush, outputPaths: outputPathsOf(t, a, log, now) });
        }),
      ),
    );
  }
  const markers = new Map<string, EndMarker | null>();
  for (const { t, a, log } of live) {
    const key = attemptKey(t.run.name, a.attempt);
    if (!seen?.has(key) || !markerWanted(seen.get(key)!, log.kinds)) continue;
    if (reading?.markers.has(key)) markers.set(key, reading.markers.get(key)!);
    else markers.set(key, markerOf(await readMarkers(deps.fs, t.run.runDir), a.jobId!) ?? null);
  }
  return { now, logs, ...(withScheduler ? { scheduler } : {}), markers };
}

/**
 * What the scheduler says of each live attempt, before the step judges it: its row, else
 * nothing when an end marker of its own says it ended, else what the journal last recorded.
 */
function schedulerView(
  state: MonitorState,
  live: ReturnType<typeof liveAttempts>,
  reading: SchedulerReading | null,
): Map<string, ObservedJob | null> {
  const find = reading ? indexJobs(reading.jobs) : null;
  const out = new Map<string, ObservedJob | null>();
  for (const { t, a } of live) {
    const key = attemptKey(t.run.name, a.attempt);
    const row = ownJob(state.store, a, find?.(a.jobId!, a.arrayJobId, a.taskId));
    out.set(key, row ?? (reading?.markers.has(key) ? null : observationOf(a, null, key)));
  }
  return out;
}
