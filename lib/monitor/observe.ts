/**
 * What one monitor round sees, read through the runtime ports and decided on by nothing here:
 * the scheduler's answer (on scheduler rounds; no answer is `{ error }`), what each live
 * attempt's log gained, and the end markers the step needs to judge attempts whose jobs ended.
 *
 * @module
 */
import { SchedulerError } from "../errors.ts";
import type { SweepPlan } from "../plan/types.ts";
import type { FileSystem, ProcessRunner } from "../runtime/mod.ts";
import { formatTemplate } from "../monitoring/template.ts";
import { matchLine } from "../monitoring/events.ts";
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
import type { AttemptRecord } from "../store/state.ts";
import {
  type LogCandidate,
  type LogPolling,
  type LogWatcher,
  READ_ALL_BELOW,
} from "./log_watch.ts";
import { commandArgv } from "./action_runner.ts";
import { type CheckpointReading, completeCheckpoints } from "./checkpoint_watch.ts";
import { decideStart, following, startCheckDue, type StartGate } from "./start.ts";
import {
  actionContext,
  type AttemptLog,
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
  /** Runs start conditions' commands. */
  readonly proc?: ProcessRunner;
  /** Tells the user (start conditions, an unreadable checkpoint folder). */
  readonly say?: (line: string) => void;
  /** How often logs are looked at (default: every log every round). */
  readonly polling?: LogPolling;
}

/**
 * What observing keeps between rounds, in memory (a restarted monitor reads the folders and
 * checks the start conditions again, which repeats nothing: fired events are journaled).
 */
export interface ObserveMemory {
  /** When each attempt's checkpoint folder was last read (ms), by attempt key. */
  readonly checkpointReads: Map<string, number>;
  /** Each attempt's start gate, by attempt key (a new attempt checks the conditions again). */
  readonly starts: Map<string, StartGate>;
  /** Attempts whose start conditions are being checked (a command running in the background). */
  readonly checking: Set<string>;
  /** Problems already told, to tell each once. */
  readonly told: Set<string>;
}

/** Empty {@link ObserveMemory}. */
export function observeMemory(): ObserveMemory {
  return { checkpointReads: new Map(), starts: new Map(), checking: new Set(), told: new Set() };
}

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
  memory: ObserveMemory = observeMemory(),
): Promise<Omit<RoundObservations, "actions">> {
  const withScheduler = scheduler !== undefined;
  const reading = silent(scheduler) ? null : scheduler ?? null;
  const all = liveAttempts(state, tracked);
  // Attempts of runs whose start conditions do not hold yet: judged by the scheduler and their
  // end markers, but their logs not read (and so not judged stalled: the step is told).
  const live = [];
  const gated = new Set<string>();
  for (const x of all) {
    if (!x.t.spec.startConditions || await started(x.t, x.a, x.log, deps, memory, now)) {
      live.push(x);
    } else gated.add(x.t.run.name);
  }
  const seen = withScheduler && !silent(scheduler) ? schedulerView(state, all, reading) : null;
  const cands: LogCandidate[] = live.map(({ t, a, log }) => {
    const key = attemptKey(t.run.name, a.attempt);
    const obs = seen?.get(key);
    // A job that ended: its log is read to its end (the last lines say why).
    const flush = obs !== undefined && schedulerFinal(obs);
    const pending = (obs !== undefined ? obs?.state : a.state) === "pending";
    return {
      key,
      log,
      flush,
      pending,
      stallDue: stallDue(t, a, log, now),
      outputPaths: outputPathsOf(t, a, log, now),
    };
  });
  const logs = await deps.logs.readRound(
    cands,
    now,
    deps.polling ?? { pollMs: 0, readAllBelow: READ_ALL_BELOW },
  );
  const readings = new Map(logs.map((r) => [attemptKey(r.run, r.attempt), r]));
  const checkpoints: CheckpointReading[] = [];
  for (const { t, a, log } of live) {
    const watch = t.spec.checkpointWatch;
    if (!watch) continue;
    const key = attemptKey(t.run.name, a.attempt);
    // The round an attempt ends in reads the folder too: its last checkpoint came before.
    const ended = (seen?.has(key) === true && schedulerFinal(seen.get(key)!)) ||
      logSaysEnded(t, readings.get(key)?.lines ?? []);
    const last = memory.checkpointReads.get(key);
    if (!ended && last !== undefined && now - last < watch.intervalSeconds * 1000) continue;
    memory.checkpointReads.set(key, now);
    const c = await readCheckpointFolder(deps, t, a, log, now);
    if (typeof c === "string") tell(deps, memory, `${t.run.name}: checkpoint_watch: ${c}`);
    else checkpoints.push(c);
  }
  const markers = new Map<string, EndMarker | null>();
  for (const { t, a, log } of all) {
    const key = attemptKey(t.run.name, a.attempt);
    if (!seen?.has(key) || !markerWanted(seen.get(key)!, log.kinds)) continue;
    if (reading?.markers.has(key)) markers.set(key, reading.markers.get(key)!);
    else markers.set(key, markerOf(await readMarkers(deps.fs, t.run.runDir), a.jobId!) ?? null);
  }
  return {
    now,
    logs,
    ...(withScheduler ? { scheduler } : {}),
    markers,
    ...(checkpoints.length ? { checkpoints } : {}),
    ...(gated.size ? { gated } : {}),
  };
}

/**
 * Whether the step would judge the attempt stalled if its log said nothing new (its idle time
 * reached the inactivity threshold): then its log is looked at in this round, first.
 */
function stallDue(t: TrackedRun, a: AttemptRecord, log: AttemptLog, now: number): boolean {
  const threshold = (t.spec.inactivityThresholdSeconds ?? 0) * 1000;
  if (threshold <= 0) return false;
  const ref = log.lastActivity ?? (a.stateSince ? Date.parse(a.stateSince) : NaN);
  return !Number.isFinite(ref) || now - ref >= threshold;
}

/** Whether these log lines say the program ended (training done, or it exited). */
function logSaysEnded(t: TrackedRun, lines: readonly string[]): boolean {
  return lines.some((line) =>
    matchLine(t.events, line).some((m) => m.kind === "completed" || m.kind === "exited")
  );
}

function tell(deps: ObserveDeps, memory: ObserveMemory, line: string): void {
  if (memory.told.has(line)) return;
  memory.told.add(line);
  deps.say?.(line);
}

/** A path from a template: relative ones are relative to where the run was planned. */
function pathOf(t: TrackedRun, p: string): string {
  if (p.startsWith("/")) return p;
  const cwd = t.loaded.monitor?.cwd;
  return cwd ? `${cwd.replace(/\/+$/, "")}/${p}` : p;
}

/**
 * Whether the run's log is followed: it has no start conditions, or they held (or their
 * timeout passed). Checks them when due (decided in start.ts) and tells what changed.
 */
async function started(
  t: TrackedRun,
  a: AttemptRecord,
  log: AttemptLog,
  deps: ObserveDeps,
  memory: ObserveMemory,
  now: number,
): Promise<boolean> {
  const spec = t.spec.startConditions;
  if (!spec) return true;
  const key = attemptKey(t.run.name, a.attempt);
  const gate = memory.starts.get(key);
  if (memory.checking.has(key) || !startCheckDue(spec, gate, now)) return following(gate);
  const check = checkStart(t, a, log, deps, memory, now, key);
  // A command may take its whole timeout: it runs beside the rounds (its answer counts from the
  // round after it ends), so one slow condition holds up no other run's log or state.
  if (spec.conditions.some((c) => c.kind === "command")) {
    memory.checking.add(key);
    check.catch((e) => deps.say?.(`${t.run.name}: checking its start conditions: ${e.message}`))
      .finally(() => memory.checking.delete(key));
    return following(gate);
  }
  await check;
  return following(memory.starts.get(key));
}

/** Checks a run's start conditions once and records the gate it leads to. */
async function checkStart(
  t: TrackedRun,
  a: AttemptRecord,
  log: AttemptLog,
  deps: ObserveDeps,
  memory: ObserveMemory,
  now: number,
  key: string,
): Promise<void> {
  const spec = t.spec.startConditions!;
  const ctx = actionContext(t, a, log, now, {});
  let unmet: string | null = null;
  for (const c of spec.conditions) {
    try {
      if (c.kind === "file_exists") {
        const path = pathOf(t, formatTemplate(c.path, ctx));
        if (!(await deps.fs.exists(path))) unmet = `${path} does not exist`;
      } else if (!deps.proc) unmet = "no process runner to check a command";
      else {
        const r = await deps.proc.run(commandArgv(c.command, ctx), {
          cwd: t.loaded.monitor?.cwd,
          timeoutMs: c.timeoutSeconds * 1000,
        });
        if (r.code !== 0) {
          unmet = r.timedOut
            ? `its command timed out after ${c.timeoutSeconds} s`
            : `its command exited ${r.code}`;
        }
      }
    } catch (e) {
      unmet = (e as Error).message;
    }
    if (unmet !== null) break;
  }
  const d = decideStart(spec, memory.starts.get(key), unmet, now, t.run.name);
  memory.starts.set(key, d.gate);
  if (d.say) deps.say?.(d.say);
}

/**
 * Reads a run's checkpoint folder: its directories, the tracker file and the complete files of
 * the candidates; the complete checkpoints are decided in checkpoint_watch.ts. A folder that
 * does not exist yet has none; a problem is returned as its message.
 */
async function readCheckpointFolder(
  deps: ObserveDeps,
  t: TrackedRun,
  a: AttemptRecord,
  log: AttemptLog,
  now: number,
): Promise<CheckpointReading | string> {
  const watch = t.spec.checkpointWatch!;
  try {
    const dir = pathOf(t, formatTemplate(watch.dir, actionContext(t, a, log, now, {})))
      .replace(/\/+$/, "");
    const names = await deps.fs.listDirs(dir);
    let tracker: string | null = null;
    if (watch.trackerFile !== null && names.length) {
      const p = `${dir}/${watch.trackerFile}`;
      if (await deps.fs.exists(p)) tracker = await deps.fs.readTextFile(p);
    }
    const marked = new Set<string>();
    if (watch.completeFile !== null) {
      // Only the names the pattern takes (complete ones listed by the tracker alone otherwise).
      for (
        const c of completeCheckpoints(
          { ...watch, trackerFile: null, completeFile: null },
          names,
          null,
          marked,
        )
      ) {
        if (await deps.fs.exists(`${dir}/${c.name}/${watch.completeFile}`)) marked.add(c.name);
      }
    }
    return {
      run: t.run.name,
      attempt: a.attempt,
      dir,
      complete: completeCheckpoints(watch, names, tracker, marked),
    };
  } catch (e) {
    return `cannot read the checkpoint folder: ${(e as Error).message}`;
  }
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
