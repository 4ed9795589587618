/**
 * The monitor's loop: follows a sweep until every run is final. Each tick gathers what the
 * world shows (the scheduler's answer on scheduler ticks, the logs of live attempts, end
 * markers, actions that ended), calls the pure step ({@link stepMonitor}, which decides
 * everything), journals the step's events with one fsync, and only then performs its effects:
 * messages, cancels, submissions, actions (through {@link runAction}).
 *
 * Two cadences: log ticks (every `log_poll_seconds`, and at once when the file watcher reports
 * a change or an action ends) and scheduler ticks (2 s, backing off to `poll_interval_seconds`
 * while nothing changes). Because events are durable before effects, and effects are
 * idempotent by their journaled ids (submissions are found again by their tag, actions by
 * their id), a monitor killed at any moment and started again repeats nothing that finished
 * and loses nothing.
 *
 * @module
 */
import { SchedulerError } from "../errors.ts";
import { compileEvents, MEGATRON_EVENTS } from "../monitoring/events.ts";
import { parseMonitorSpec } from "../monitoring/spec.ts";
import type { LogEventConfig, MonitorSpec } from "../monitoring/spec_types.ts";
import type { RunPlan } from "../plan/types.ts";
import type { FileSystem, ProcessProbe, ProcessRunner } from "../runtime/mod.ts";
import type { Scheduler } from "../scheduler/types.ts";
import { latestAttempt } from "../store/state.ts";
import type { SweepStore } from "../store/store.ts";
import { markerOf, readMarkers } from "../submit/markers.ts";
import {
  attemptKey,
  indexJobs,
  readScheduler,
  type SchedulerReading,
  submitChosen,
} from "../submit/mod.ts";
import { type DeriveRequest, runAction } from "./action_runner.ts";
import type { EndMarker, ObservedJob } from "./lifecycle.ts";
import type { LoadedPlan } from "./load_plan.ts";
import { LogWatcher } from "./log_watch.ts";
import {
  type ActionOutcome,
  allDone,
  followedPlan,
  liveAttempts,
  markerWanted,
  type MonitorState,
  observationOf,
  outputPathsOf,
  type RoundObservations,
  schedulerFinal,
  silent,
  stepMonitor,
  type StepResult,
  type TrackedRun,
} from "./step.ts";
import type { TailSource } from "../runtime/tail_source.ts";

export type { DeriveRequest } from "./action_runner.ts";
export type { LoadedPlan } from "./load_plan.ts";
export { watchFileOf, type WatchRecord } from "./log_watch.ts";
export { attemptLogPath } from "./step.ts";

/** The world the monitor acts on. */
export interface MonitorDeps {
  readonly fs: FileSystem;
  readonly scheduler: Scheduler;
  readonly proc: ProcessRunner;
  readonly tails: TailSource;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** Calls `onChange` when something under `paths` changes; returns a stop function. */
  readonly watch?: (paths: readonly string[], onChange: () => void) => () => void;
  /** Plans and writes a derived run (RunAutoexpAction). */
  readonly derive?: (req: DeriveRequest) => Promise<LoadedPlan>;
  /** Loads the plan of a derived run written earlier. */
  readonly loadPlan?: (dir: string) => Promise<LoadedPlan>;
  /** Whether an action command an earlier monitor started still runs. */
  readonly probe?: ProcessProbe;
  readonly say: (line: string) => void;
}

/** Options of {@link Monitor.run}. */
export interface MonitorOptions {
  /** One log round, one scheduler round and the actions they start, then return. */
  readonly once?: boolean;
  /** Shortest scheduler interval (ms); default 2000. */
  readonly minIntervalMs?: number;
  /** Longest scheduler interval (ms); default: the smallest `poll_interval_seconds`. */
  readonly maxIntervalMs?: number;
  /** Log round interval (ms); default: the smallest `log_poll_seconds`. */
  readonly logIntervalMs?: number;
  /** How long a job may be missing everywhere before it is lost (ms). */
  readonly lostAfterMs?: number;
  /** Trust an ended marker over RUNNING after this long (ms). */
  readonly markerGraceMs?: number;
  /** Most actions running at once; default 8. */
  readonly maxConcurrentActions?: number;
  /**
   * How long a preempted or node-failed job with `--requeue` may take to come back before the
   * monitor decides on it (ms); default three minutes (lifecycle.ts REQUEUE_GRACE_MS).
   */
  readonly requeueGraceMs?: number;
  /** Poll interval of blocking file conditions (ms); default 1000. */
  readonly conditionPollMs?: number;
}

/** The outcome of a monitor run. */
export interface MonitorSummary {
  readonly done: boolean;
  /** Runs whose latest attempt did not complete (when done). */
  readonly failed: readonly string[];
  readonly rounds: number;
}

/** The spec of runs planned without a monitor file: the parser's defaults. */
export const DEFAULT_SPEC: MonitorSpec = parseMonitorSpec(null, null);

/** Compiled patterns by the event specs they come from (runs of a sweep share them). */
const compiledCache = new Map<string, ReturnType<typeof compileEvents>>();

/** What the step needs of a run: its plan, spec, placeholder values and compiled events. */
export function trackRun(run: RunPlan, loaded: LoadedPlan): TrackedRun {
  const entry = loaded.monitor?.runs[run.name];
  const spec = (entry && loaded.monitor?.specs[entry.spec]) ?? DEFAULT_SPEC;
  const key = JSON.stringify([spec.builtinEvents, spec.logEvents.map((e) => e.spec)]);
  let events = compiledCache.get(key);
  if (!events) {
    const own = spec.logEvents.map((e) => e.spec);
    const names = new Set(own.map((e) => e.name));
    const builtin = spec.builtinEvents ? MEGATRON_EVENTS.filter((e) => !names.has(e.name)) : [];
    events = compileEvents([...own, ...builtin]);
    compiledCache.set(key, events);
  }
  // The actions are the spec's own: two specs may share patterns but not actions.
  const eventConfigs = new Map<string, LogEventConfig>(
    spec.logEvents.map((e) => [e.spec.name, e]),
  );
  return { run, loaded, spec, vars: entry?.vars ?? {}, events, eventConfigs };
}

/** The monitor of one sweep (see the module documentation). */
export class Monitor {
  readonly #tracked = new Map<string, TrackedRun>();
  readonly #state: MonitorState;
  readonly #logs: LogWatcher;
  /** Outcomes of actions that ended, for the next step. */
  #outcomes: ActionOutcome[] = [];
  /** Actions being performed, by id. */
  readonly #inflight = new Map<string, Promise<void>>();
  #wake: (() => void) | null = null;
  #schedulerSoon = false;
  #rounds = 0;
  #opened = false;

  constructor(
    private readonly deps: MonitorDeps,
    private readonly store: SweepStore,
    private readonly main: LoadedPlan,
    private readonly opts: MonitorOptions = {},
  ) {
    const storeRef = store;
    this.#state = {
      get store() {
        return storeRef.state;
      },
      logs: new Map(),
      cancelsSent: new Set(),
      running: new Set(),
      schedulerDown: false,
    };
    this.#logs = new LogWatcher(deps.fs, deps.tails);
  }

  /** Loads the runs, derived plans and persisted watches (done by {@link run}). */
  async open(): Promise<void> {
    if (this.#opened) return;
    for (const run of this.main.plan.runs) {
      if (this.store.state.runs[run.name]) this.#tracked.set(run.name, trackRun(run, this.main));
    }
    for (const rec of Object.values(this.store.state.runs)) {
      if (rec.planDir && !this.#tracked.has(rec.name)) {
        await this.#loadDerived(rec.name, rec.planDir);
      }
    }
    const logs = await this.#logs.load(this.store.dir, (run) => this.#tracked.has(run));
    for (const [k, v] of logs) this.#state.logs.set(k, v);
    this.#opened = true;
  }

  async #loadDerived(name: string, planDir: string): Promise<void> {
    if (!this.deps.loadPlan) return;
    try {
      const loaded = await this.deps.loadPlan(planDir);
      const run = loaded.plan.runs.find((r) => r.name === name);
      if (run) this.#tracked.set(run.name, trackRun(run, loaded));
    } catch (e) {
      this.deps.say(`${name}: cannot read its plan in ${planDir}: ${(e as Error).message}`);
    }
  }

  /**
   * One log and scheduler tick, starting due actions without waiting for them (what every
   * scheduler tick of the loop does; public for benchmarks). Returns whether anything changed.
   */
  async round(): Promise<boolean> {
    await this.open();
    const r = await this.#tick(true);
    this.#rounds++;
    await this.#persist(false);
    return r.changed;
  }

  /** Follows the sweep until every submitted run is done (or one round with `once`). */
  async run(): Promise<MonitorSummary> {
    await this.open();
    const stopWatch = this.deps.watch?.(
      [`${this.main.plan.sweep.dir}/runs`, `${this.main.plan.sweep.dir}/logs`],
      () => this.#wake?.(),
    );
    let ok = false;
    try {
      const summary = await this.#loop();
      ok = true;
      return summary;
    } finally {
      stopWatch?.();
      // After a failure the state in memory may be ahead of the journal: keep the caches
      // (watch.json's read positions, the snapshot) where the journal is.
      if (ok) await this.#persist(true);
    }
  }

  async #persist(force: boolean): Promise<void> {
    await this.#logs.save(this.store.dir, this.#state.logs, force);
    await this.store.snapshot();
  }

  async #loop(): Promise<MonitorSummary> {
    const specs = [...this.#tracked.values()].map((t) => t.spec);
    const min = this.opts.minIntervalMs ?? 2000;
    const max = this.opts.maxIntervalMs ??
      Math.max(min, Math.min(...specs.map((s) => s.pollIntervalSeconds * 1000), 60_000));
    // About 0.1 ms per live log per round: with thousands of runs, poll less often (file
    // watching still wakes the loop at once where the file system reports writes).
    const logEvery = this.opts.logIntervalMs ??
      Math.max(Math.min(...specs.map((s) => s.logPollSeconds * 1000), 1000), this.#tracked.size);
    let interval = min;
    let nextSched = 0;
    for (;;) {
      if (this.#schedulerSoon) {
        this.#schedulerSoon = false;
        nextSched = Math.min(nextSched, this.deps.now());
        interval = min;
      }
      const due = this.deps.now() >= nextSched;
      const r = await this.#tick(due);
      if (due) {
        this.#rounds++;
        await this.#persist(false);
        if (this.opts.once) {
          // The actions this round started finish (each within its own time limit), and what
          // they lead to (the next action of an inline chain) too.
          for (;;) {
            if (this.#inflight.size) await Promise.all([...this.#inflight.values()]);
            await this.#tick(false);
            if (!this.#inflight.size) break;
          }
          return this.#summary(allDone(this.#state, this.#tracked));
        }
        if (allDone(this.#state, this.#tracked)) return this.#summary(true);
        interval = r.changed ? min : Math.min(max, interval * 2);
        nextSched = this.deps.now() + interval;
      }
      await this.#nap(Math.max(10, Math.min(logEvery, nextSched - this.deps.now())));
    }
  }

  /** Sleeps up to `ms`, waking early when the file watcher reports a change or an action ends. */
  async #nap(ms: number): Promise<void> {
    if (this.#outcomes.length) return;
    const woken = new Promise<void>((resolve) => {
      this.#wake = () => setTimeout(resolve, 20); // let the writer finish its line
    });
    await Promise.race([this.deps.sleep(ms), woken]);
    this.#wake = null;
  }

  #summary(done: boolean): MonitorSummary {
    const failed: string[] = [];
    for (const name of this.#tracked.keys()) {
      const a = latestAttempt(this.store.state.runs[name]);
      if (a && a.verdict !== "completed") failed.push(name);
    }
    return { done, failed, rounds: this.#rounds };
  }

  // ---------------------------------------------------------------- one tick

  /** Gathers observations, steps, journals, performs the effects. */
  async #tick(withScheduler: boolean): Promise<StepResult> {
    const now = this.deps.now();
    let scheduler: RoundObservations["scheduler"];
    if (withScheduler) {
      try {
        scheduler = await readScheduler(
          followedPlan(this.main.plan, this.#tracked),
          this.store.state,
          this.deps.scheduler,
          this.deps.fs,
        );
      } catch (e) {
        if (!(e instanceof SchedulerError)) throw e;
        scheduler = { error: e.message };
      }
    }
    const reading = silent(scheduler) ? null : scheduler ?? null;
    const find = reading ? indexJobs(reading.jobs) : null;
    const live = liveAttempts(this.#state, this.#tracked);
    // What the scheduler says of each live attempt (before judging: to read an ended job's
    // log to its end and its marker).
    const preview = new Map<string, ObservedJob | null>();
    if (withScheduler && !silent(scheduler)) {
      for (const { t, a } of live) {
        const key = attemptKey(t.run.name, a.attempt);
        const seen = find?.(a.jobId!, a.arrayJobId, a.taskId);
        preview.set(key, seen ?? (reading?.markers.has(key) ? null : observationOf(a, null, key)));
      }
    }
    const logs = [];
    for (let i = 0; i < live.length; i += 64) {
      logs.push(
        ...await Promise.all(
          live.slice(i, i + 64).map(({ t, a, log }) => {
            const key = attemptKey(t.run.name, a.attempt);
            const flush = preview.has(key) && schedulerFinal(preview.get(key)!);
            return this.#logs.read(key, log, {
              flush,
              outputPaths: outputPathsOf(t, a, log, now),
            });
          }),
        ),
      );
    }
    const markers = await this.#markers(live, preview, reading);
    const outcomes = this.#outcomes;
    this.#outcomes = [];
    const result = stepMonitor(this.#state, {
      now,
      logs,
      ...(withScheduler ? { scheduler } : {}),
      markers,
      actions: outcomes,
    }, {
      tracked: this.#tracked,
      main: this.main.plan,
      maxConcurrentActions: this.opts.maxConcurrentActions ?? 8,
      markerGraceMs: this.opts.markerGraceMs,
      requeueGraceMs: this.opts.requeueGraceMs,
      lostAfterMs: this.opts.lostAfterMs,
    });
    // Durable before anything it decided is done.
    await this.store.journal(result.events);
    if (result.events.length) this.#logs.touch();
    if (result.schedulerSoon) this.#schedulerSoon = true;
    await this.#perform(result);
    return result;
  }

  /** End markers of the live attempts whose verdict needs one. */
  async #markers(
    live: ReturnType<typeof liveAttempts>,
    preview: ReadonlyMap<string, ObservedJob | null>,
    reading: SchedulerReading | null,
  ): Promise<Map<string, EndMarker | null>> {
    const out = new Map<string, EndMarker | null>();
    for (const { t, a, log } of live) {
      const key = attemptKey(t.run.name, a.attempt);
      if (!preview.has(key) || !markerWanted(preview.get(key)!, log.kinds)) continue;
      if (reading?.markers.has(key)) out.set(key, reading.markers.get(key)!);
      else out.set(key, markerOf(await readMarkers(this.deps.fs, t.run.runDir), a.jobId!) ?? null);
    }
    return out;
  }

  async #perform(result: StepResult): Promise<void> {
    for (const e of result.effects) {
      switch (e.kind) {
        case "say":
          this.deps.say(e.line);
          break;
        case "cancel":
          try {
            await this.deps.scheduler.cancel([e.jobId]);
          } catch (err) {
            this.#state.cancelsSent.delete(e.key); // asked again next round
            this.deps.say(`${e.run}: cancelling job ${e.jobId} failed: ${(err as Error).message}`);
          }
          break;
        case "submit":
          try {
            await submitChosen(e.plan.plan, this.store, this.deps.scheduler, e.chosen, {
              fs: this.deps.fs,
              say: this.deps.say,
            });
          } catch (err) {
            if (!(err instanceof SchedulerError)) throw err;
            this.deps.say(`submitting ${e.chosen.length} new attempt(s) failed: ${err.message}`);
          }
          break;
        case "run_action":
          this.#startAction(e.id, e.resumed);
          break;
      }
    }
  }

  /** Performs an action's I/O in the background; its outcome goes to the next step. */
  #startAction(id: string, resumed: boolean): void {
    const act = this.store.state.actions?.[id];
    const t = act && this.#tracked.get(act.run);
    if (!act || !t) {
      this.#outcomes.push({ id, status: "failed", detail: "its run is not followed" });
      return;
    }
    const p = runAction(
      act,
      t,
      this.main.plan.sweep.dir,
      (run) => this.store.state.runs[run] !== undefined,
      {
        fs: this.deps.fs,
        proc: this.deps.proc,
        probe: this.deps.probe,
        now: this.deps.now,
        sleep: this.deps.sleep,
        derive: this.deps.derive,
        pollMs: this.opts.conditionPollMs,
      },
      resumed,
    ).then((r) => {
      if (r.derived) {
        this.#tracked.set(r.derived.run.name, trackRun(r.derived.run, r.derived.loaded));
      }
      this.#outcomes.push(r.outcome);
    }).catch((e) => {
      this.#outcomes.push({ id, status: "failed", detail: (e as Error).message });
    }).finally(() => {
      this.#inflight.delete(id);
      this.#wake?.();
    });
    this.#inflight.set(id, p);
  }
}
