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
import type { FileSystem, ProcessProbe, ProcessRunner } from "../runtime/mod.ts";
import type { Scheduler } from "../scheduler/types.ts";
import { latestAttempt } from "../store/state.ts";
import { attemptKey } from "../submit/mod.ts";
import type { SweepStore } from "../store/store.ts";
import type { DeriveRequest } from "./action_runner.ts";
import { EffectRunner, type ReplanRequest } from "./effects.ts";
import type { RunPlan } from "../plan/types.ts";
import type { LoadedPlan } from "./load_plan.ts";
import { type LogPolling, LogWatcher, READ_ALL_BELOW } from "./log_watch.ts";
import { askScheduler, observeMemory, observeRound, type SchedulerAnswer } from "./observe.ts";
import {
  allDone,
  type MonitorState,
  progressParts,
  type SayNote,
  stepMonitor,
  type StepResult,
  type TrackedRun,
} from "./step.ts";
import type { TailSource } from "../runtime/tail_source.ts";
import type { HistoryIndex } from "../runtime/history.ts";
import { historyRecordsOf } from "./history.ts";
import { trackRuns } from "./track.ts";

export type { DeriveRequest } from "./action_runner.ts";
export type { ReplanRequest } from "./effects.ts";
export type { LoadedPlan } from "./load_plan.ts";

/** The world the monitor acts on. */
export interface MonitorDeps {
  readonly fs: FileSystem;
  readonly scheduler: Scheduler;
  readonly proc: ProcessRunner;
  readonly tails: TailSource;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /**
   * Calls `onChange` when something under `paths` changes (with the changed files' paths when
   * the file system says which); returns a stop function.
   */
  readonly watch?: (
    paths: readonly string[],
    onChange: (changed?: readonly string[]) => void,
  ) => () => void;
  /** Plans and writes a derived run (RunAutoexpAction). */
  readonly derive?: (req: DeriveRequest) => Promise<LoadedPlan>;
  /** Re-plans a run with a restart policy's overrides. */
  readonly replan?: (req: ReplanRequest) => Promise<RunPlan>;
  /** Loads the plan of a derived run written earlier. */
  readonly loadPlan?: (dir: string) => Promise<LoadedPlan>;
  /** Whether an action command an earlier monitor started still runs. */
  readonly probe?: ProcessProbe;
  /** A message for the user; `note` says what it is about (lib/cli/stream.ts arranges them). */
  readonly say: (line: string, note?: SayNote) => void;
  /** The user's history index: submissions, starts and final verdicts are recorded there. */
  readonly history?: HistoryIndex | null;
}

/** Options of {@link Monitor.run}. */
export interface MonitorOptions {
  /** One log round, one scheduler round and the actions they start, then return. */
  readonly once?: boolean;
  /** Shortest scheduler interval (ms); default 2000. */
  readonly minIntervalMs?: number;
  /** Longest scheduler interval (ms); default: the smallest `poll_interval_seconds`. */
  readonly maxIntervalMs?: number;
  /** Log round interval (ms); default: the smallest `log_poll_seconds`, at most 1 s. */
  readonly logIntervalMs?: number;
  /**
   * With more live logs than this, a round reads only those that may have changed and, in
   * turn, the others (each at least every `log_poll_seconds`, or 1 ms per followed run when
   * longer); default 1,000 (log_watch.ts {@link READ_ALL_BELOW}).
   */
  readonly readAllLogsBelow?: number;
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

/** A followed run as a live view shows it: its latest attempt's state and progress. */
export interface RunView {
  readonly run: string;
  /** The monitor's verdict on the latest attempt, else its last known state. */
  readonly state: string;
  /** Nothing more will happen to it (a final verdict and no restart due). */
  readonly final: boolean;
  readonly attempt: number;
  /** The last `iteration N/M` its log showed in this attempt. */
  readonly iteration: number | null;
  readonly total: number | null;
}

/** The monitor of one sweep (see the module documentation). */
export class Monitor {
  readonly #tracked = new Map<string, TrackedRun>();
  readonly #state: MonitorState;
  readonly #logs: LogWatcher;
  readonly #effects: EffectRunner;
  #wake: (() => void) | null = null;
  /** The scheduler query in flight (it runs beside the log rounds, never blocking them). */
  #query: Promise<void> | null = null;
  /** Its answer, once it came, for the next round. */
  #answer: { readonly value?: SchedulerAnswer; readonly error?: unknown } | null = null;
  #schedulerSoon = false;
  #rounds = 0;
  #opened = false;
  readonly #observed = observeMemory();
  #polling: LogPolling | undefined;

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
    this.#effects = new EffectRunner(
      deps,
      store,
      this.#state,
      this.#tracked,
      main.plan.sweep.dir,
      () => this.#wake?.(),
      opts.conditionPollMs,
    );
  }

  /** Each followed run's state and progress now (for a live view; reads memory only). */
  view(): RunView[] {
    const out: RunView[] = [];
    for (const name of this.#tracked.keys()) {
      const a = latestAttempt(this.store.state.runs[name]);
      const p = a ? this.#state.logs.get(attemptKey(name, a.attempt))?.progress : null;
      const parts = progressParts(p);
      out.push({
        run: name,
        state: a ? a.verdict ?? a.state : "not submitted",
        final: !!a?.verdictFinal && !a.restart,
        attempt: a?.attempt ?? 0,
        iteration: parts?.iteration ?? null,
        total: parts?.total ?? null,
      });
    }
    return out;
  }

  /** Loads the runs, derived plans and persisted watches (done by {@link run}). */
  async open(): Promise<void> {
    if (this.#opened) return;
    const tracked = await trackRuns(this.main, this.store.state, this.deps.loadPlan, this.deps.say);
    for (const [name, t] of tracked) this.#tracked.set(name, t);
    const logs = await this.#logs.load(this.store.dir, (run) => this.#tracked.has(run));
    for (const [k, v] of logs) this.#state.logs.set(k, v);
    this.#opened = true;
  }

  /**
   * One log and scheduler tick, starting due actions without waiting for them (what every
   * scheduler tick of the loop does; public for benchmarks). Returns whether anything changed.
   */
  async round(): Promise<boolean> {
    await this.open();
    const r = await this.#tick(true, true);
    this.#rounds++;
    await this.#persist(false);
    return r.changed;
  }

  /** Follows the sweep until every submitted run is done (or one round with `once`). */
  async run(): Promise<MonitorSummary> {
    await this.open();
    const stopWatch = this.deps.watch?.(
      [`${this.main.plan.sweep.dir}/runs`, `${this.main.plan.sweep.dir}/logs`],
      (changed) => {
        if (changed) this.#logs.noteChanged(changed);
        this.#wake?.();
      },
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
    const readAllBelow = this.opts.readAllLogsBelow ?? READ_ALL_BELOW;
    // About 0.1 ms per run per round (the logs and the step): up to `readAllBelow` runs, the
    // rounds come less often as runs are added; beyond, every second.
    const logEvery = this.opts.logIntervalMs ??
      Math.max(
        Math.min(...specs.map((s) => s.logPollSeconds * 1000), 1000),
        Math.min(this.#tracked.size, readAllBelow),
      );
    // About 0.02 ms per log looked at: with thousands of runs, each round looks at its share
    // (every log within max(interval, 1 ms per run)), and at once at those the file watcher
    // reports where the file system reports writes (log_watch.ts chooseLogs).
    this.#polling = {
      pollMs: Math.max(logEvery, this.#tracked.size),
      readAllBelow,
    };
    let interval = min;
    let nextSched = 0;
    for (;;) {
      if (this.#schedulerSoon) {
        this.#schedulerSoon = false;
        nextSched = Math.min(nextSched, this.deps.now());
        interval = min;
      }
      const due = this.deps.now() >= nextSched;
      const r = await this.#tick(due, this.opts.once === true);
      if (due) {
        this.#rounds++;
        await this.#persist(false);
        if (this.opts.once) {
          // The actions this round started finish (each within its own time limit), and what
          // they lead to (the next action of an inline chain) too.
          do {
            await this.#effects.settle();
            await this.#tick(false);
          } while (this.#effects.busy);
          return this.#summary(allDone(this.#state, this.#tracked));
        }
        if (allDone(this.#state, this.#tracked)) return this.#summary(true);
        interval = r.changed ? min : Math.min(max, interval * 2);
        nextSched = this.deps.now() + interval;
        // A restart waiting for its backoff is submitted by the round at its time.
        if (r.wakeAt !== undefined) nextSched = Math.min(nextSched, Math.max(r.wakeAt, 0));
      }
      await this.#nap(Math.max(10, Math.min(logEvery, nextSched - this.deps.now())));
    }
  }

  /** Sleeps up to `ms`, waking early when the file watcher reports a change or an action ends. */
  async #nap(ms: number): Promise<void> {
    if (this.#effects.hasOutcomes) return;
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

  /**
   * Observes, steps, journals (durable before anything it decided is done), performs. A
   * scheduler tick asks the scheduler in the background: its answer is used now when it comes
   * within {@link QUERY_WAIT_MS} (or always with `wait`), else by the round after it came, so a
   * controller that does not answer (each squeue blocking, retried for a minute) never holds up
   * log events and actions.
   */
  async #tick(withScheduler: boolean, wait = false): Promise<StepResult> {
    const asking = withScheduler && !this.#query;
    if (asking) {
      const deps = { fs: this.deps.fs, scheduler: this.deps.scheduler };
      this.#query = askScheduler(this.#state, this.#tracked, this.main.plan, deps).then(
        (value) => void (this.#answer = { value }),
        (error) => void (this.#answer = { error }),
      ).finally(() => {
        this.#query = null;
        this.#wake?.();
      });
    }
    // Only the tick that asked waits for the answer (briefly); log ticks never do.
    if (this.#query && (wait || asking)) {
      await (wait ? this.#query : settleWithin(this.#query, QUERY_WAIT_MS));
    }
    const answer = this.#answer;
    this.#answer = null;
    if (answer && "error" in answer) throw answer.error;
    const seen = await observeRound(
      this.#state,
      this.#tracked,
      {
        fs: this.deps.fs,
        scheduler: this.deps.scheduler,
        logs: this.#logs,
        proc: this.deps.proc,
        say: this.deps.say,
        polling: this.#polling ?? {
          pollMs: Math.max(1000, this.#tracked.size),
          readAllBelow: this.opts.readAllLogsBelow ?? READ_ALL_BELOW,
        },
      },
      answer?.value,
      this.deps.now(),
      this.#observed,
    );
    const result = stepMonitor(this.#state, { ...seen, actions: this.#effects.takeOutcomes() }, {
      tracked: this.#tracked,
      main: this.main.plan,
      maxConcurrentActions: this.opts.maxConcurrentActions ?? 8,
      markerGraceMs: this.opts.markerGraceMs,
      requeueGraceMs: this.opts.requeueGraceMs,
      lostAfterMs: this.opts.lostAfterMs,
    });
    await this.store.journal(result.events);
    if (result.events.length) this.#logs.touch();
    if (this.deps.history && result.events.length) {
      await this.deps.history.append(
        historyRecordsOf(result.events, this.store.state, this.#tracked),
      );
    }
    if (result.schedulerSoon) this.#schedulerSoon = true;
    await this.#effects.perform(result);
    return result;
  }
}

/** How long a round waits for the scheduler before it goes on with the logs alone. */
const QUERY_WAIT_MS = 2000;

/** Waits for `p`, at most `ms` (a real timer: the query is real I/O). */
async function settleWithin(p: Promise<void>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([p, new Promise<void>((res) => timer = setTimeout(res, ms))]);
  clearTimeout(timer);
}
