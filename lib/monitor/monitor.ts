/**
 * The monitor: follows a sweep until every run is final, and acts.
 *
 * Two cadences share one store:
 * - log rounds (every `log_poll_seconds`, and at once when the file watcher reports a change):
 *   each live attempt's log is read from its byte offset, lines are matched against the run's
 *   events, a match fires once per distinct value set per run (journaled as `fired`), and its
 *   actions are queued (`action_queued`) before anything runs;
 * - scheduler rounds (2 s, backing off to `poll_interval_seconds` while nothing changes): one
 *   batched query, a verdict per attempt ({@link classifyAttempt}), state events and restart
 *   policies for ended attempts (`restart_decided`), cancels of stalled attempts, new attempts
 *   for decided restarts and first attempts of derived runs.
 *
 * Everything it decides is journaled before it is done, with deterministic ids, so a monitor
 * killed at any point and started again repeats nothing that finished and loses nothing: queued
 * actions resume, submissions are found by their tag, decisions are not made twice.
 *
 * @module
 */
import { SchedulerError } from "../errors.ts";
import type { RunPlan, SweepPlan } from "../plan/types.ts";
import type { FileSystem, ProcessRunner } from "../runtime/mod.ts";
import type { JobObservation, Scheduler } from "../scheduler/types.ts";
import type { ActionRecord, AttemptRecord, NewEvent, RunRecord } from "../store/state.ts";
import { attemptsMade, latestAttempt } from "../store/state.ts";
import type { SweepStore } from "../store/store.ts";
import { markerOf, readMarkers } from "../submit/markers.ts";
import { attemptKey, type ChosenRun, reconcile, submitChosen } from "../submit/mod.ts";
import {
  attemptMode,
  metadataHolds,
  openActions,
  policyDecision,
  RESTART_CANCEL_PREFIX,
  runDone,
  STALL_CANCEL_PREFIX,
  stateEventsFor,
  stateEventsRestart,
  USER_CANCEL,
} from "./decide.ts";
import {
  checkpointAliases,
  type CompiledEvent,
  compileEvents,
  dedupeKey,
  type EventKind,
  type EventMatch,
  matchLine,
  MEGATRON_EVENTS,
} from "../monitoring/events.ts";
import { classifyAttempt, type FailureMode } from "./lifecycle.ts";
import type { MonitorFile } from "../monitoring/monitor_file.ts";
import type {
  ActionSpec,
  CommandSpec,
  ConditionSpec,
  CONTEXT_KEYS,
  LogEventConfig,
  MonitorSpec,
  STATE_KEYS,
} from "../monitoring/spec_types.ts";
import { LogTail, type TailSource, type TailState } from "./tail.ts";
import { sbatchFlags } from "../render/script.ts";
import { parseMonitorSpec } from "../monitoring/spec.ts";
import { formatTemplate } from "../monitoring/template.ts";

/** A plan the monitor follows runs of: the sweep's own, or a derived run's. */
export interface LoadedPlan {
  readonly plan: SweepPlan;
  readonly monitor: MonitorFile | null;
}

/** What a RunAutoexpAction asks for. */
export interface DeriveRequest {
  readonly parent: LoadedPlan;
  readonly run: RunPlan;
  /** The derived run's stable name. */
  readonly name: string;
  readonly overrides: readonly string[];
  /** Where to write its plan (a sweep directory of its own). */
  readonly dir: string;
}

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

/** A run the monitor follows, with everything needed to read its logs and act. */
interface Tracked {
  readonly run: RunPlan;
  readonly loaded: LoadedPlan;
  readonly spec: MonitorSpec;
  readonly vars: Readonly<Record<string, string>>;
  readonly events: readonly CompiledEvent[];
  readonly eventConfigs: ReadonlyMap<string, LogEventConfig>;
}

/** What the monitor keeps per live attempt (persisted in `.autoexp/monitor/watch.json`). */
interface Watch {
  readonly run: string;
  readonly attempt: number;
  tail: LogTail;
  kinds: Set<EventKind>;
  meta: Record<string, string>;
  lastActivity: number | null;
  outputs: Record<string, { size: number; mtimeMs: number }>;
  progress: string | null;
  lastEvent: string | null;
  missingRounds: number;
  /** The log was read to its end after the job ended. */
  flushed: boolean;
}

/** The persisted form of a {@link Watch}. */
export interface WatchRecord {
  readonly tail: TailState;
  readonly kinds: EventKind[];
  readonly meta: Record<string, string>;
  readonly lastActivity: number | null;
  readonly outputs: Record<string, { size: number; mtimeMs: number }>;
  readonly progress: string | null;
  readonly lastEvent: string | null;
}

/** The spec of runs planned without a monitor file: the parser's defaults. */
export const DEFAULT_SPEC: MonitorSpec = parseMonitorSpec(null, null);

/** Path of the persisted watches of a sweep. */
export function watchFileOf(storeDir: string): string {
  return `${storeDir}/monitor/watch.json`;
}

/** The log path of an attempt (array tasks write to the group's log folder). */
export function attemptLogPath(plan: SweepPlan, run: RunPlan, a: AttemptRecord): string | null {
  if (!a.jobId) return null;
  if (a.arrayJobId !== undefined && a.taskId !== undefined) {
    return `${plan.sweep.dir}/logs/${run.group}/${a.arrayJobId}_${a.taskId}.log`;
  }
  return run.logPath.replace("{job_id}", a.jobId);
}

/** Compiled patterns by the event specs they come from (runs of a sweep share them). */
const compiledCache = new Map<string, CompiledEvent[]>();

function compileSpec(
  spec: MonitorSpec,
): { events: CompiledEvent[]; configs: Map<string, LogEventConfig> } {
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
  return { events, configs: new Map(spec.logEvents.map((e) => [e.spec.name, e])) };
}

function stamp(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}_${p(d.getHours())}${
    p(d.getMinutes())
  }${p(d.getSeconds())}`;
}

function stringValues(meta: Readonly<Record<string, unknown>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(meta)) {
    if (v === null || v === undefined) continue;
    out[k] = typeof v === "string" ? v : typeof v === "object" ? JSON.stringify(v) : String(v);
  }
  return out;
}

/** The monitor of one sweep (see the module documentation). */
export class Monitor {
  readonly #tracked = new Map<string, Tracked>();
  readonly #watches = new Map<string, Watch>();
  readonly #fired = new Map<string, Set<string>>();
  readonly #running = new Map<string, Promise<void>>();
  readonly #cancelled = new Set<string>();
  #wake: (() => void) | null = null;
  #schedulerDown = false;
  /** Something was decided outside a scheduler round (an action): run one soon. */
  #roundSoon = false;
  #watchDirty = false;
  #rounds = 0;

  constructor(
    private readonly deps: MonitorDeps,
    private readonly store: SweepStore,
    private readonly main: LoadedPlan,
    private readonly opts: MonitorOptions = {},
  ) {}

  #opened = false;

  /** Loads the runs, derived plans and persisted watches (done by {@link run}). */
  async open(): Promise<void> {
    if (this.#opened) return;
    await this.#load();
    this.#opened = true;
  }

  /**
   * One log round and one scheduler round, starting due actions without waiting for them
   * (what every loop iteration does; public for benchmarks). Returns whether anything changed.
   */
  async round(): Promise<boolean> {
    await this.open();
    await this.#logRound();
    const changed = await this.#schedulerRound();
    this.#rounds++;
    this.#pump();
    await this.#saveWatches(false);
    await this.store.snapshot();
    return changed;
  }

  /** Follows the sweep until every submitted run is done (or one round with `once`). */
  async run(): Promise<MonitorSummary> {
    await this.open();
    const stopWatch = this.deps.watch?.(
      [`${this.main.plan.sweep.dir}/runs`, `${this.main.plan.sweep.dir}/logs`],
      () => this.#wake?.(),
    );
    try {
      return await this.#loop();
    } finally {
      stopWatch?.();
      await this.#saveWatches(true);
      await this.store.snapshot();
    }
  }

  async #loop(): Promise<MonitorSummary> {
    const specs = [...this.#tracked.values()].map((t) => t.spec);
    const min = this.opts.minIntervalMs ?? 2000;
    const max = this.opts.maxIntervalMs ??
      Math.max(min, Math.min(...specs.map((s) => s.pollIntervalSeconds * 1000), 60_000));
    // About 0.1 ms per live log per round: with thousands of runs, poll less often (file
    // watching still wakes the loop at once where the file system reports writes).
    const logEvery = this.opts.logIntervalMs ??
      Math.max(
        Math.min(...specs.map((s) => s.logPollSeconds * 1000), 1000),
        this.#tracked.size * 1,
      );
    let interval = min;
    let nextSched = 0;
    for (;;) {
      await this.#logRound();
      this.#pump();
      if (this.#roundSoon) {
        this.#roundSoon = false;
        nextSched = Math.min(nextSched, this.deps.now());
        interval = min;
      }
      if (this.deps.now() >= nextSched) {
        const changed = await this.#schedulerRound();
        this.#rounds++;
        this.#pump();
        await this.#saveWatches(false);
        await this.store.snapshot();
        if (this.opts.once) {
          // The actions this round started finish (each within its own time limit).
          while (this.#running.size) await Promise.all([...this.#running.values()]);
          await this.#logRound();
          return this.#summary(this.#allDone());
        }
        if (this.#allDone()) return this.#summary(true);
        interval = changed ? min : Math.min(max, interval * 2);
        nextSched = this.deps.now() + interval;
      }
      await this.#nap(Math.max(10, Math.min(logEvery, nextSched - this.deps.now())));
    }
  }

  /** Sleeps up to `ms`, waking early when the file watcher reports a change. */
  async #nap(ms: number): Promise<void> {
    let timer: Promise<void> | null = null;
    const woken = new Promise<void>((resolve) => {
      this.#wake = () => setTimeout(resolve, 20); // let the writer finish its line
    });
    timer = this.deps.sleep(ms);
    await Promise.race([timer, woken]);
    this.#wake = null;
  }

  #summary(done: boolean): MonitorSummary {
    const failed: string[] = [];
    for (const name of this.#tracked.keys()) {
      const rec = this.store.state.runs[name];
      const a = latestAttempt(rec);
      if (a && a.verdict !== "completed") failed.push(name);
    }
    return { done, failed, rounds: this.#rounds };
  }

  /** An attempt whose submission was abandoned: no job ever carried its tag. */
  #interrupted(a: AttemptRecord): boolean {
    return a.state === "submit_failed" &&
      this.store.state.intents[String(a.intent)]?.status === "abandoned";
  }

  #allDone(): boolean {
    for (const name of this.#tracked.keys()) {
      const rec = this.store.state.runs[name];
      if (!rec || !rec.attempts.length) {
        if (rec?.planDir) return false; // a derived run still to submit
        continue;
      }
      if (this.#interrupted(latestAttempt(rec)!)) return false;
      if (!runDone(rec, this.store.state.actions)) return false;
    }
    return this.#running.size === 0;
  }

  // ---------------------------------------------------------------- loading

  async #load(): Promise<void> {
    for (const run of this.main.plan.runs) {
      if (this.store.state.runs[run.name]) this.#track(run, this.main);
    }
    for (const rec of Object.values(this.store.state.runs)) {
      if (rec.planDir && !this.#tracked.has(rec.name)) await this.#loadDerived(rec);
      this.#fired.set(rec.name, new Set(rec.fired ?? []));
    }
    await this.#loadWatches();
  }

  async #loadDerived(rec: RunRecord): Promise<void> {
    if (!this.deps.loadPlan || !rec.planDir) return;
    try {
      const loaded = await this.deps.loadPlan(rec.planDir);
      const run = loaded.plan.runs.find((r) => r.name === rec.name);
      if (run) this.#track(run, loaded);
    } catch (e) {
      this.deps.say(`${rec.name}: cannot read its plan in ${rec.planDir}: ${(e as Error).message}`);
    }
  }

  #track(run: RunPlan, loaded: LoadedPlan): void {
    const entry = loaded.monitor?.runs[run.name];
    const spec = (entry && loaded.monitor?.specs[entry.spec]) ?? DEFAULT_SPEC;
    const compiled = compileSpec(spec);
    this.#tracked.set(run.name, {
      run,
      loaded,
      spec,
      vars: entry?.vars ?? {},
      events: compiled.events,
      eventConfigs: compiled.configs,
    });
  }

  async #loadWatches(): Promise<void> {
    const path = watchFileOf(this.store.dir);
    let data: Record<string, WatchRecord> = {};
    try {
      if (await this.deps.fs.exists(path)) data = JSON.parse(await this.deps.fs.readTextFile(path));
    } catch { /* a torn cache: the journal still dedupes events */ }
    for (const [key, w] of Object.entries(data)) {
      const [run, attempt] = [
        key.slice(0, key.lastIndexOf("#")),
        Number(key.slice(key.lastIndexOf("#") + 1)),
      ];
      if (!this.#tracked.has(run)) continue;
      this.#watches.set(key, {
        run,
        attempt,
        tail: LogTail.fromState(this.deps.tails, w.tail),
        kinds: new Set(w.kinds),
        meta: w.meta ?? {},
        // Lines written while the monitor was away are read first and count as activity then;
        // a log that did not grow meanwhile was idle all along.
        lastActivity: w.lastActivity ?? null,
        outputs: w.outputs ?? {},
        progress: w.progress ?? null,
        lastEvent: w.lastEvent ?? null,
        missingRounds: 0,
        flushed: false,
      });
    }
  }

  async #saveWatches(force: boolean): Promise<void> {
    if (!this.#watchDirty && !force) return;
    const out: Record<string, WatchRecord> = {};
    for (const [key, w] of this.#watches) {
      out[key] = {
        tail: w.tail.state,
        kinds: [...w.kinds],
        meta: w.meta,
        lastActivity: w.lastActivity,
        outputs: w.outputs,
        progress: w.progress,
        lastEvent: w.lastEvent,
      };
    }
    await this.deps.fs.mkdirp(`${this.store.dir}/monitor`);
    await this.deps.fs.writeTextFile(watchFileOf(this.store.dir), JSON.stringify(out), false);
    this.#watchDirty = false;
  }

  // ---------------------------------------------------------------- logs

  /** The watch of a run's latest attempt, created when it has a job id. */
  #watchOf(t: Tracked, a: AttemptRecord): Watch | null {
    const key = attemptKey(t.run.name, a.attempt);
    let w = this.#watches.get(key);
    if (w) return w;
    const path = attemptLogPath(t.loaded.plan, t.run, a);
    if (!path) return null;
    w = {
      run: t.run.name,
      attempt: a.attempt,
      tail: new LogTail(this.deps.tails, path),
      kinds: new Set(),
      meta: {},
      lastActivity: null,
      outputs: {},
      progress: null,
      lastEvent: null,
      missingRounds: 0,
      flushed: false,
    };
    this.#watches.set(key, w);
    // Watches of earlier attempts of the run are finished.
    for (const [k, old] of this.#watches) {
      if (old.run === t.run.name && old.attempt < a.attempt) this.#watches.delete(k);
    }
    this.#watchDirty = true;
    return w;
  }

  async #logRound(): Promise<void> {
    const work: Promise<void>[] = [];
    for (const t of this.#tracked.values()) {
      const a = latestAttempt(this.store.state.runs[t.run.name]);
      if (!a || !a.jobId || a.verdictFinal) continue;
      const w = this.#watchOf(t, a);
      if (w) work.push(this.#readLog(t, a, w, false));
      if (work.length >= 64) await Promise.all(work.splice(0));
    }
    await Promise.all(work);
  }

  /** Reads what the attempt's log and outputs gained; matches lines; fires events. */
  async #readLog(t: Tracked, a: AttemptRecord, w: Watch, flush: boolean): Promise<void> {
    // One stat when nothing changed (most logs, most rounds); the tail opens only on growth.
    const known = w.tail.state;
    if (!flush && known.fileId !== null && !t.spec.outputPaths.length) {
      const st = await this.deps.fs.stat(known.path).catch(() => null);
      if (st && st.size === known.size && st.mtimeMs === known.mtimeMs) return;
    }
    let poll;
    try {
      poll = await w.tail.poll({ flush });
    } catch (e) {
      this.deps.say(`${t.run.name}: cannot read ${w.tail.state.path}: ${(e as Error).message}`);
      return;
    }
    const now = this.deps.now();
    let activity = poll.grew && poll.lines.length === 0;
    for (const line of poll.lines) {
      const matches = t.events.length ? matchLine(t.events, line) : [];
      if (matches.every((m) => m.progress)) activity = true;
      for (const m of matches) await this.#onMatch(t, a, w, m);
    }
    if (poll.grew || poll.lines.length) this.#watchDirty = true;
    if (await this.#outputsGrew(t, a, w)) activity = true;
    if (activity) w.lastActivity = now;
  }

  async #outputsGrew(t: Tracked, a: AttemptRecord, w: Watch): Promise<boolean> {
    let grew = false;
    for (const tmpl of t.spec.outputPaths) {
      let path: string;
      try {
        path = formatTemplate(tmpl, this.#context(t, a, {}));
      } catch {
        continue;
      }
      const st = await this.deps.fs.stat(path).catch(() => null);
      if (!st) continue;
      const mtimeMs = (st as { mtimeMs?: number }).mtimeMs ?? 0;
      const prev = w.outputs[path];
      if (!prev || prev.size !== st.size || prev.mtimeMs !== mtimeMs) {
        if (prev) grew = true;
        w.outputs[path] = { size: st.size, mtimeMs };
        this.#watchDirty = true;
      }
    }
    return grew;
  }

  async #onMatch(t: Tracked, a: AttemptRecord, w: Watch, m: EventMatch): Promise<void> {
    if (m.kind) w.kinds.add(m.kind);
    if (m.kind === "progress") {
      const it = m.metadata.iteration;
      if (it !== undefined) {
        const of = m.metadata.train_iters;
        w.progress = of !== undefined ? `${it}/${of}` : String(it);
      }
    } else if (m.kind !== "noise") {
      Object.assign(w.meta, stringValues(m.metadata));
      const it = m.metadata.checkpoint_iteration ?? m.metadata.iteration;
      w.lastEvent = it !== undefined ? `${m.event} ${it}` : m.event;
    }
    const cfg = t.eventConfigs.get(m.event);
    if (!cfg || !cfg.actions.length) return;
    const key = dedupeKey(m);
    const fired = this.#fired.get(t.run.name) ?? new Set<string>();
    this.#fired.set(t.run.name, fired);
    if (fired.has(key)) return;
    fired.add(key);
    const metadata = stringValues(m.metadata);
    await this.store.append({
      type: "fired",
      run: t.run.name,
      attempt: a.attempt,
      key,
      event: m.event,
      metadata,
      line: m.line.length > 500 ? `${m.line.slice(0, 500)}...` : m.line,
    });
    w.lastEvent = m.metadata.checkpoint_iteration !== undefined
      ? `${m.event} ${m.metadata.checkpoint_iteration}`
      : m.event;
    const aliases: Record<string, string> = {};
    for (const [name, group] of Object.entries(checkpointAliases(cfg.spec))) {
      if (m.groups[group] !== undefined) aliases[name] = m.groups[group];
    }
    const context = this.#context(t, a, {
      ...aliases,
      ...m.groups,
      ...metadata,
      event: m.event,
    });
    for (let i = 0; i < cfg.actions.length; i++) {
      await this.#queue(
        `${t.run.name}|${key}|${i}`,
        t.run.name,
        a.attempt,
        m.event,
        cfg.actions[i],
        context,
      );
    }
  }

  async #queue(
    id: string,
    run: string,
    attempt: number,
    source: string,
    spec: LogEventConfig["actions"][number],
    context: Record<string, string>,
  ): Promise<void> {
    if (this.store.state.actions?.[id]) return;
    await this.store.append({ type: "action_queued", id, run, attempt, source, spec, context });
  }

  /** Placeholder values of a run's attempt (the event's own values are added by the caller). */
  #context(t: Tracked, a: AttemptRecord, extra: Record<string, string>): Record<string, string> {
    const plan = t.loaded.plan;
    // Every name of CONTEXT_KEYS (what the planner accepts) is set here; `event` by the caller.
    const own: Record<Exclude<(typeof CONTEXT_KEYS)[number], "event">, string> = {
      run: t.run.name,
      name: t.run.name,
      run_name: t.run.name,
      run_dir: t.run.runDir,
      output_dir: t.run.runDir,
      sweep_dir: plan.sweep.dir,
      sweep: plan.sweep.name,
      index: String(t.run.index),
      attempt: String(a.attempt),
      job_id: a.jobId ?? "",
      timestamp: stamp(this.deps.now()),
    };
    return {
      ...t.vars,
      ...(this.#watches.get(attemptKey(t.run.name, a.attempt))?.meta ?? {}),
      ...own,
      ...extra,
    };
  }

  // ---------------------------------------------------------------- scheduler rounds

  async #schedulerRound(): Promise<boolean> {
    const merged: SweepPlan = {
      ...this.main.plan,
      runs: [...this.#tracked.values()].map((t) => t.run),
    };
    let seen: Map<string, JobObservation | null>;
    try {
      seen = await reconcile(
        merged,
        this.store,
        this.deps.scheduler,
        this.deps.fs,
        this.deps.say,
        this.deps.now,
        this.opts.lostAfterMs,
      );
      if (this.#schedulerDown) this.deps.say("the scheduler answers again");
      this.#schedulerDown = false;
    } catch (e) {
      if (!(e instanceof SchedulerError)) throw e;
      // No answer is no information: keep every state as it was.
      if (!this.#schedulerDown) {
        this.deps.say(
          `the scheduler did not answer (${
            e.message.split("\n")[0]
          }); keeping the last known states`,
        );
      }
      this.#schedulerDown = true;
      return false;
    }
    let changed = false;
    const verdicts: {
      t: Tracked;
      rec: RunRecord;
      a: AttemptRecord;
      event: Extract<NewEvent, { type: "verdict" }> | null;
      stalled: string | null;
    }[] = [];
    for (const t of [...this.#tracked.values()]) {
      const rec = this.store.state.runs[t.run.name];
      const a = latestAttempt(rec);
      if (!rec || !a || !a.jobId) continue;
      if (!a.verdictFinal) {
        const v = await this.#classify(t, a, seen);
        if (v) verdicts.push({ t, rec, a, ...v });
      }
    }
    // Verdicts are journaled together (one fsync for a round in which a thousand jobs started).
    await this.store.appendMany(verdicts.flatMap((v) => v.event ? [v.event] : []));
    for (const v of verdicts) {
      if (v.event) {
        changed = true;
        this.deps.say(
          `${v.t.run.name}: ${v.event.state} (attempt ${v.a.attempt}, job ${v.a.jobId}): ${v.event.reason}`,
        );
      }
      if (v.stalled !== null) await this.#onStall(v.t, v.rec, v.a, v.stalled);
    }
    for (const t of this.#tracked.values()) {
      const rec = this.store.state.runs[t.run.name];
      const a = latestAttempt(rec);
      if (!rec || !a || !a.jobId) continue;
      if (a.verdictFinal && !a.restart && !a.restartDeclined) {
        await this.#decideEnded(t, rec, a);
        changed = true;
      }
    }
    if (await this.#cancelRequested()) changed = true;
    if (await this.#submitPending()) changed = true;
    return changed;
  }

  /** The verdict on a live attempt; journals it when it changed. Returns whether it did. */
  async #classify(
    t: Tracked,
    a: AttemptRecord,
    seen: Map<string, JobObservation | null>,
  ): Promise<
    { event: Extract<NewEvent, { type: "verdict" }> | null; stalled: string | null } | null
  > {
    const w = this.#watchOf(t, a);
    const key = attemptKey(t.run.name, a.attempt);
    let obs: JobObservation | null = seen.has(key) ? seen.get(key)! : this.#fromStore(a);
    if (a.state === "lost") obs = null;
    const schedulerFinal = obs === null || obs.state === "unknown" ||
      !["pending", "running", "requeued", "suspended"].includes(obs.state);
    if (w) {
      w.missingRounds = obs === null ? w.missingRounds + 1 : 0;
      // Read the log to its end before judging an ended job (its last lines say why).
      if (schedulerFinal) {
        await this.#readLog(t, a, w, true);
        w.flushed = true;
      }
    }
    let marker = null;
    // A running job's marker matters only when its log says the command ended (squeue lags).
    const endedInLog = w !== null &&
      (w.kinds.has("completed") || w.kinds.has("exited") || w.kinds.has("crashed"));
    if (schedulerFinal || (obs?.state === "running" && endedInLog)) {
      const m = markerOf(await readMarkers(this.deps.fs, t.run.runDir), a.jobId!);
      marker = m ?? null;
    }
    const verdict = classifyAttempt({
      observation: obs,
      marker,
      logKinds: w?.kinds ?? [],
      lastActivityAt: w?.lastActivity ?? null,
      now: this.deps.now(),
      inactivityThresholdMs: (t.spec.inactivityThresholdSeconds ?? 0) * 1000,
      missingRounds: w?.missingRounds,
      markerGraceMs: this.opts.markerGraceMs,
      lost: a.state === "lost" ? (a.reason ?? "not seen by the scheduler and no end marker") : null,
      requeues: t.run.script.resources.requeue === true,
      stateSince: a.stateSince ? Date.parse(a.stateSince) : null,
      requeueGraceMs: this.opts.requeueGraceMs,
    });
    // Once the monitor asked to cancel it, an attempt is not "running" again (the lines its
    // dying processes print are no progress); it waits for its final state.
    if (a.cancelRequested && !verdict.final) return null;
    const stalled = verdict.state === "stalled" ? verdict.reason : null;
    if (verdict.state === a.verdict && verdict.final === (a.verdictFinal ?? false)) {
      return stalled === null ? null : { event: null, stalled };
    }
    return {
      event: {
        type: "verdict",
        run: t.run.name,
        attempt: a.attempt,
        state: verdict.state,
        final: verdict.final,
        reason: verdict.reason,
        ...(verdict.exitCode !== undefined ? { exitCode: verdict.exitCode } : {}),
      },
      stalled,
    };
  }

  #fromStore(a: AttemptRecord): JobObservation | null {
    if (a.state === "submitting" || a.state === "submit_failed" || a.state === "lost") return null;
    if (a.state === "unknown") return null;
    return {
      id: a.jobId!,
      jobId: a.arrayJobId ?? a.jobId!,
      ...(a.taskId !== undefined ? { arrayJobId: a.arrayJobId, arrayTaskId: a.taskId } : {}),
      state: a.state,
      rawState: a.rawState ?? a.state,
      reason: a.reason ?? "",
      ...(a.exitCode !== undefined ? { exitCode: a.exitCode } : {}),
      source: "store",
    } as unknown as JobObservation;
  }

  /** A stalled attempt is cancelled for a restart when a policy or state event restarts stalls. */
  async #onStall(t: Tracked, rec: RunRecord, a: AttemptRecord, reason: string): Promise<void> {
    if (a.restart || a.cancelRequested) return;
    const events = stateEventsFor(t.spec, "stall");
    if (events.length) {
      // State events decide: their actions run now (a RestartAction cancels and restarts).
      await this.#queueStateEvents(t, a, "stall", events, reason);
      return;
    }
    const d = policyDecision(t.spec, rec, a, "stall", t.run.minutes);
    if (!d.restart) return;
    await this.store.append({
      type: "restart_decided",
      run: t.run.name,
      attempt: a.attempt,
      restart: d.restart,
      reason: d.reason,
    });
    await this.store.append({
      type: "cancel_requested",
      run: t.run.name,
      attempt: a.attempt,
      why: `${STALL_CANCEL_PREFIX}${reason}`,
    });
    this.deps.say(
      `${t.run.name}: cancelling the stalled job ${a.jobId} to restart it (${d.reason})`,
    );
  }

  async #queueStateEvents(
    t: Tracked,
    a: AttemptRecord,
    mode: FailureMode,
    events: ReturnType<typeof stateEventsFor>,
    reason: string,
  ): Promise<void> {
    const state: Record<(typeof STATE_KEYS)[number], string> = {
      state: a.verdict ?? "",
      mode,
      reason,
      exit_code: a.exitCode === undefined ? "" : String(a.exitCode),
    };
    const context = this.#context(t, a, state);
    for (const ev of events) {
      for (let i = 0; i < ev.actions.length; i++) {
        await this.#queue(
          `${t.run.name}|state:${a.attempt}:${ev.name}|${i}`,
          t.run.name,
          a.attempt,
          `state:${ev.name}`,
          ev.actions[i],
          { ...context, event: ev.name },
        );
      }
    }
  }

  /** Attempts being decided right now (a round and a finished action may both try). */
  readonly #deciding = new Set<string>();

  /** Decides on an ended attempt: state events, then restart policies. */
  async #decideEnded(t: Tracked, rec: RunRecord, a: AttemptRecord): Promise<void> {
    const key = attemptKey(t.run.name, a.attempt);
    if (this.#deciding.has(key)) return;
    this.#deciding.add(key);
    try {
      if (!a.restart && !a.restartDeclined) await this.#decideEndedNow(t, rec, a);
    } finally {
      this.#deciding.delete(key);
    }
  }

  async #decideEndedNow(t: Tracked, rec: RunRecord, a: AttemptRecord): Promise<void> {
    if (a.cancelRequested === USER_CANCEL) {
      await this.#decline(t, a, "cancelled by the user");
      return;
    }
    const mode = attemptMode(a);
    if (mode === "action") return; // a RestartAction already decided
    const events = stateEventsFor(t.spec, mode);
    if (events.length) await this.#queueStateEvents(t, a, mode!, events, a.verdictReason ?? "");
    if (stateEventsRestart(events)) {
      // Their RestartAction decides; when all their actions ended without one, it is declined.
      const open = openActions(this.store.state.actions, t.run.name).filter((x) =>
        x.attempt === a.attempt && x.source.startsWith("state:")
      );
      if (open.length || this.#runningFor(t.run.name)) return;
      await this.#decline(t, a, "the state events' restart conditions were not met");
      return;
    }
    if (mode === null) {
      await this.#decline(t, a, a.verdictReason ?? "ended");
      return;
    }
    const d = policyDecision(t.spec, rec, a, mode, t.run.minutes);
    await this.store.append({
      type: "restart_decided",
      run: t.run.name,
      attempt: a.attempt,
      restart: d.restart,
      reason: d.reason,
    });
    if (d.restart) this.deps.say(`${t.run.name}: restarting: ${d.reason}`);
    else if (a.verdict !== "completed") this.deps.say(`${t.run.name}: not restarted: ${d.reason}`);
  }

  async #decline(t: Tracked, a: AttemptRecord, reason: string): Promise<void> {
    await this.store.append({
      type: "restart_decided",
      run: t.run.name,
      attempt: a.attempt,
      restart: null,
      reason,
    });
    if (a.verdict !== "completed") this.deps.say(`${t.run.name}: not restarted: ${reason}`);
  }

  #runningFor(run: string): boolean {
    for (const id of this.#running.keys()) {
      if (this.store.state.actions?.[id]?.run === run) return true;
    }
    return false;
  }

  /** Sends the cancels the journal asks for (once per attempt and monitor process). */
  async #cancelRequested(): Promise<boolean> {
    let any = false;
    for (const rec of Object.values(this.store.state.runs)) {
      const a = latestAttempt(rec);
      if (!a || !a.cancelRequested || a.verdictFinal || !a.jobId) continue;
      const key = attemptKey(rec.name, a.attempt);
      if (this.#cancelled.has(key)) continue;
      try {
        await this.deps.scheduler.cancel([a.jobId]);
        this.#cancelled.add(key);
        any = true;
      } catch (e) {
        this.deps.say(`${rec.name}: cancelling job ${a.jobId} failed: ${(e as Error).message}`);
      }
    }
    return any;
  }

  /** New attempts for decided restarts, first attempts for derived runs. */
  async #submitPending(): Promise<boolean> {
    const byPlan = new Map<LoadedPlan, ChosenRun[]>();
    for (const t of this.#tracked.values()) {
      const rec = this.store.state.runs[t.run.name];
      if (!rec) continue;
      const a = latestAttempt(rec);
      let chosen: ChosenRun | null = null;
      if (!a && rec.planDir) {
        chosen = { run: t.run, attempt: 1, why: `derived from ${rec.parent}` };
      } else if (a && this.#interrupted(a)) {
        // Its sbatch call was interrupted (the monitor died) and never reached the scheduler.
        const prev = rec.attempts[rec.attempts.length - 2];
        const intent = this.store.state.intents[String(a.intent)];
        chosen = {
          run: t.run,
          attempt: rec.attempts.length + 1,
          why: a.why,
          ...(a.timeMinutes !== undefined ? { time: a.timeMinutes } : {}),
          ...(prev?.restart?.extraArgs?.length ? { extraArgs: prev.restart.extraArgs } : {}),
          ...(intent?.entries ? { entries: intent.entries } : {}),
        };
      } else if (a && a.restart && a.verdictFinal) {
        const intent = this.store.state.intents[String(a.intent)];
        const entries = intent?.entries;
        chosen = {
          run: t.run,
          attempt: rec.attempts.length + 1,
          why: a.restart.why,
          ...(a.restart.timeMinutes !== undefined ? { time: a.restart.timeMinutes } : {}),
          ...(a.restart.extraArgs?.length ? { extraArgs: a.restart.extraArgs } : {}),
          ...(entries ? { entries } : {}),
        };
      }
      if (!chosen) continue;
      const list = byPlan.get(t.loaded) ?? [];
      list.push(chosen);
      byPlan.set(t.loaded, list);
    }
    let any = false;
    for (const [loaded, chosen] of byPlan) {
      try {
        await submitChosen(loaded.plan, this.store, this.deps.scheduler, chosen, {
          fs: this.deps.fs,
          say: this.deps.say,
        });
        any = true;
      } catch (e) {
        if (!(e instanceof SchedulerError)) throw e;
        this.deps.say(`submitting ${chosen.length} new attempt(s) failed: ${e.message}`);
      }
    }
    return any;
  }

  // ---------------------------------------------------------------- actions

  /** Starts every action that may start now. */
  #pump(): void {
    const actions = this.store.state.actions;
    if (!actions) return;
    const limit = this.opts.maxConcurrentActions ?? 8;
    const open = Object.values(actions).filter((x) =>
      x.status === "queued" || x.status === "started"
    );
    for (const act of open) {
      if (this.#running.size >= limit) return;
      if (this.#running.has(act.id)) continue;
      if (!this.#tracked.has(act.run)) continue;
      if (act.spec.mode === "inline" && this.#waitsForEarlier(act, actions)) continue;
      const p = this.#execute(act).catch((e) => {
        this.deps.say(`action ${act.id} failed unexpectedly: ${(e as Error).message}`);
      }).finally(() => {
        this.#running.delete(act.id);
        this.#pump();
        this.#wake?.();
      });
      this.#running.set(act.id, p);
    }
  }

  /** Inline actions run after the earlier actions of the same event. */
  #waitsForEarlier(act: ActionRecord, actions: Record<string, ActionRecord>): boolean {
    const cut = act.id.lastIndexOf("|");
    const chain = act.id.slice(0, cut);
    const index = Number(act.id.slice(cut + 1));
    for (let i = 0; i < index; i++) {
      const before = actions[`${chain}|${i}`];
      if (before && (before.status === "queued" || before.status === "started")) return true;
    }
    return false;
  }

  async #execute(act: ActionRecord): Promise<void> {
    const t = this.#tracked.get(act.run)!;
    // Started by an earlier monitor that died: its command may have finished or still run.
    const resumed = act.status === "started";
    if (!resumed) await this.store.append({ type: "action_started", id: act.id });
    let status: "ok" | "failed" | "skipped";
    let detail: string;
    try {
      const unmet = await this.#conditions(t, act);
      if (unmet) [status, detail] = ["skipped", unmet];
      else [status, detail] = await this.#perform(t, act, act.spec.action, resumed);
    } catch (e) {
      [status, detail] = ["failed", (e as Error).message];
    }
    await this.store.append({ type: "action_done", id: act.id, status, detail });
    if (act.spec.action.kind !== "log" && status === "ok") this.#roundSoon = true;
    const filtered = status === "skipped" &&
      act.spec.conditions.some((c) => c.kind === "metadata" || c.kind === "command") &&
      !/did not appear|attempts made/.test(detail);
    if ((act.spec.action.kind !== "log" || status !== "ok") && !filtered) {
      const it = act.context.checkpoint_iteration ?? act.context.iteration;
      const what = `${act.source}${it !== undefined ? ` ${it}` : ""}`;
      // Successful commands in one short line; their output is in the run's actions/ folder.
      const shown = status === "ok" && act.spec.action.kind === "command"
        ? "ok"
        : `${status}${detail ? `: ${detail}` : ""}`;
      this.deps.say(`${act.run}: ${what}: ${describeAction(act.spec.action)} ${shown}`);
    }
    // A state event's actions may have been the ones deciding the restart.
    const rec = this.store.state.runs[act.run];
    const a = rec?.attempts.find((x) => x.attempt === act.attempt);
    if (rec && a && a.verdictFinal && !a.restart && !a.restartDeclined) {
      await this.#decideEnded(t, rec, a);
    }
  }

  /** Null when every condition holds; else why not. */
  async #conditions(t: Tracked, act: ActionRecord): Promise<string | null> {
    for (const c of act.spec.conditions) {
      const why = await this.#condition(t, act, c);
      if (why) return why;
    }
    return null;
  }

  async #condition(t: Tracked, act: ActionRecord, c: ConditionSpec): Promise<string | null> {
    const ctx = act.context;
    switch (c.kind) {
      case "max_attempts": {
        const made = attemptsMade(this.store.state.runs[act.run]);
        return made < c.maxAttempts
          ? null
          : `${made} attempts made (max_attempts ${c.maxAttempts})`;
      }
      case "metadata": {
        const expected = Array.isArray(c.value)
          ? (c.value as readonly string[]).map((v) => formatTemplate(v, ctx))
          : formatTemplate(c.value as string, ctx);
        const actual = ctx[c.key];
        return metadataHolds(c.op, actual, expected)
          ? null
          : `${c.key} is ${
            actual === undefined ? "not set" : JSON.stringify(actual)
          }, not ${c.op} ${JSON.stringify(expected)}`;
      }
      case "file_exists": {
        const path = formatTemplate(c.path, ctx);
        const deadline = c.timeoutSeconds === null
          ? Infinity
          : Date.parse(act.queuedAt) + c.timeoutSeconds * 1000;
        for (;;) {
          if (await this.deps.fs.exists(path)) return null;
          if (!c.blocking) return `${path} does not exist`;
          if (this.deps.now() >= deadline) {
            return `${path} did not appear within ${c.timeoutSeconds} s`;
          }
          await this.deps.sleep(this.opts.conditionPollMs ?? 1000);
        }
      }
      case "command": {
        const argv = commandArgv(c.command, ctx);
        const r = await this.deps.proc.run(argv, {
          cwd: t.loaded.monitor?.cwd,
          timeoutMs: c.timeoutSeconds * 1000,
          env: this.#actionEnv(t, act),
        });
        if (r.timedOut) return `condition command timed out after ${c.timeoutSeconds} s`;
        return r.code === 0 ? null : `condition command exited ${r.code}`;
      }
    }
  }

  #actionEnv(t: Tracked, act: ActionRecord): Record<string, string> {
    return {
      AUTOEXP_RUN: t.run.name,
      AUTOEXP_RUN_DIR: t.run.runDir,
      AUTOEXP_SWEEP_DIR: t.loaded.plan.sweep.dir,
      AUTOEXP_EVENT: act.source,
      AUTOEXP_ATTEMPT: String(act.attempt),
    };
  }

  async #perform(
    t: Tracked,
    act: ActionRecord,
    spec: ActionSpec,
    resumed = false,
  ): Promise<["ok" | "failed" | "skipped", string]> {
    const ctx = act.context;
    switch (spec.kind) {
      case "log": {
        const msg = formatTemplate(spec.message, ctx);
        this.deps.say(`${act.run}: ${msg}`);
        return ["ok", msg];
      }
      case "command": {
        const argv = commandArgv(spec.command, ctx);
        const env: Record<string, string> = { ...this.#actionEnv(t, act) };
        for (const [k, v] of Object.entries(spec.env)) env[k] = formatTemplate(v, ctx);
        const dir = `${t.run.runDir}/actions`;
        await this.deps.fs.mkdirp(dir);
        const base = `${dir}/${actionFileName(act)}`;
        const out = `${base}.log`;
        const timeoutMs = spec.timeoutSeconds * 1000;
        const verdict = (code: number | null, timedOut: boolean): ["ok" | "failed", string] =>
          timedOut || code === null || code === 124 || code === 137
            ? ["failed", `timed out after ${spec.timeoutSeconds} s (output: ${out})`]
            : code === 0
            ? ["ok", `exit 0 (output: ${out})`]
            : ["failed", `exit ${code} (output: ${out})`];
        if (resumed) {
          const prior = await this.#priorCommand(base, act, timeoutMs);
          if (prior) return verdict(prior.code, prior.timedOut);
        }
        await this.deps.fs.remove(`${base}.exit`).catch(() => {});
        // The shell records its pid and the command's exit code, so a monitor that dies while the
        // command runs is followed by one that waits for it instead of running it again.
        const r = await this.deps.proc.run(
          [
            "/bin/sh",
            "-c",
            ACTION_WRAPPER,
            "autoexp-action",
            base,
            String(spec.timeoutSeconds),
            ...argv,
          ],
          {
            cwd: spec.cwd ? formatTemplate(spec.cwd, ctx) : t.loaded.monitor?.cwd,
            timeoutMs: timeoutMs + 30_000, // a backstop: `timeout` in the wrapper ends it first
            env,
            outputFile: out,
          },
        );
        return verdict(r.code, r.timedOut);
      }
      case "cancel":
      case "restart":
        return await this.#restartOrCancel(t, act, spec);
      case "autoexp":
        return await this.#derive(t, act, spec);
    }
  }

  /**
   * The outcome of a command an earlier monitor started: its recorded exit code, or, while its
   * shell still runs, the code once it ends. Null when it neither ended nor runs (run it again).
   */
  async #priorCommand(
    base: string,
    act: ActionRecord,
    timeoutMs: number,
  ): Promise<{ code: number | null; timedOut: boolean } | null> {
    const fs = this.deps.fs;
    const readExit = async () => {
      const text = await fs.readTextFile(`${base}.exit`).catch(() => null);
      const code = text === null ? NaN : Number(text.trim());
      return Number.isInteger(code) ? code : null;
    };
    const started = Date.parse(act.startedAt ?? act.queuedAt);
    for (;;) {
      const code = await readExit();
      if (code !== null) return { code, timedOut: false };
      const pid = Number((await fs.readTextFile(`${base}.pid`).catch(() => "")).trim());
      const cmdline = pid > 0 ? await fs.readTextFile(`/proc/${pid}/cmdline`).catch(() => "") : "";
      if (!cmdline.includes(base)) {
        // Not running (any more): it ended just now, or it was killed with the monitor.
        const last = await readExit();
        return last === null ? null : { code: last, timedOut: false };
      }
      if (this.deps.now() - started > timeoutMs) return { code: null, timedOut: true };
      await this.deps.sleep(this.opts.conditionPollMs ?? 1000);
    }
  }

  async #restartOrCancel(
    t: Tracked,
    act: ActionRecord,
    spec: Extract<ActionSpec, { kind: "restart" | "cancel" }>,
  ): Promise<["ok" | "failed" | "skipped", string]> {
    const rec = this.store.state.runs[act.run];
    const a = latestAttempt(rec);
    if (!rec || !a || a.attempt !== act.attempt) {
      return ["skipped", `attempt ${act.attempt} is no longer the run's latest`];
    }
    const why = spec.reason ??
      `${spec.kind === "restart" ? "RestartAction" : "CancelAction"} (${act.source})`;
    if (a.cancelRequested === USER_CANCEL) {
      return ["skipped", `${act.run} was cancelled (autoexp cancel)`];
    }
    if (spec.kind === "restart") {
      if (a.restart) return ["skipped", "a restart of this attempt is already decided"];
      const current = a.timeMinutes ?? t.run.minutes;
      const time = spec.timeMinutes ??
        (spec.addMinutes !== null ? current + spec.addMinutes : undefined);
      await this.store.append({
        type: "restart_decided",
        run: act.run,
        attempt: a.attempt,
        restart: {
          why,
          mode: a.verdictFinal ? String(attemptMode(a) ?? "action") : "action",
          ...(time !== undefined ? { timeMinutes: time } : {}),
          ...(Object.keys(spec.resources).length ? { extraArgs: sbatchFlags(spec.resources) } : {}),
        },
        reason: why,
      });
    }
    if (!a.verdictFinal && a.jobId) {
      await this.store.append({
        type: "cancel_requested",
        run: act.run,
        attempt: a.attempt,
        why: spec.kind === "restart" ? `${RESTART_CANCEL_PREFIX}${why}` : why,
      });
      await this.#cancelRequested();
    }
    return [
      "ok",
      spec.kind === "restart" ? `restart requested: ${why}` : `cancel requested: ${why}`,
    ];
  }

  async #derive(
    t: Tracked,
    act: ActionRecord,
    spec: Extract<ActionSpec, { kind: "autoexp" }>,
  ): Promise<["ok" | "failed" | "skipped", string]> {
    const ctx = act.context;
    const suffix = Object.entries(ctx)
      .filter(([k]) => k === "checkpoint_iteration" || k === "iteration")
      .map(([, v]) => v)[0];
    const name = spec.name
      ? formatTemplate(spec.name, ctx)
      : `${t.run.name}_${ctx.event ?? "derived"}${suffix ? `_${suffix}` : ""}`;
    const safe = name.replace(/[^A-Za-z0-9._=+-]+/g, "_");
    if (this.store.state.runs[safe]) return ["ok", `derived run ${safe} exists`];
    if (latestAttempt(this.store.state.runs[act.run])?.cancelRequested === USER_CANCEL) {
      return ["skipped", `${act.run} was cancelled (autoexp cancel): no derived run`];
    }
    if (!this.deps.derive) return ["failed", "derived runs are not available in this monitor"];
    const overrides = spec.overrides.map((o) => formatTemplate(o, ctx));
    const dir = `${this.main.plan.sweep.dir}/derived/${safe}`;
    const loaded = await this.deps.derive({
      parent: t.loaded,
      run: t.run,
      name: safe,
      overrides,
      dir,
    });
    const run = loaded.plan.runs.find((r) => r.name === safe) ?? loaded.plan.runs[0];
    if (!run) return ["failed", "the derived plan has no run"];
    await this.store.append({
      type: "derived",
      run: run.name,
      parent: act.run,
      planDir: dir,
      action: act.id,
    });
    this.#track(run, loaded);
    this.#fired.set(run.name, new Set());
    return ["ok", `derived run ${run.name} (plan in ${dir})`];
  }
}

/** The argv of a command spec, placeholders expanded (shell strings only with safe values). */
function commandArgv(
  command: CommandSpec,
  ctx: Readonly<Record<string, string>>,
): string[] {
  if ("argv" in command) return command.argv.map((w) => formatTemplate(w, ctx));
  return ["/bin/sh", "-c", formatTemplate(command.shell, ctx, { shellSafe: true })];
}

/**
 * Runs an action's command (`$3...`) under coreutils `timeout` (`$2` seconds, then SIGKILL after
 * 10 s: the whole command, not only its first process) after writing the shell's pid to
 * `$1.pid`, and records the command's exit code in `$1.exit` (atomically) when it ends.
 */
const ACTION_WRAPPER = 'b=$1; t=$2; shift 2; echo $$ > "$b.pid"; timeout -k 10 "$t" "$@"; c=$?; ' +
  'echo "$c" > "$b.exit.tmp" && mv "$b.exit.tmp" "$b.exit"; exit "$c"';

/** A short, unique file name for an action's output: event, its values, a hash of the id. */
function actionFileName(act: ActionRecord): string {
  const values = Object.entries(act.context)
    .filter(([k]) => k === "checkpoint_iteration" || k === "iteration")
    .map(([, v]) => v);
  const base = [act.source, ...values].join("_").replace(/[^A-Za-z0-9._-]+/g, "_").slice(0, 80);
  let h = 0x811c9dc5;
  for (let i = 0; i < act.id.length; i++) h = Math.imul(h ^ act.id.charCodeAt(i), 0x01000193);
  return `${base}.${(h >>> 0).toString(16).padStart(8, "0")}`;
}

function describeAction(a: ActionSpec): string {
  switch (a.kind) {
    case "log":
      return "LogAction";
    case "command": {
      // The program that matters: the script after an interpreter, else the command itself.
      const words = "argv" in a.command ? a.command.argv : a.command.shell.split(/\s+/);
      const base = (w: string) => w.replace(/^.*\//, "").replace(/[{}]/g, "");
      const interpreter = /^(?:.*\/)?(?:bash|sh|python[0-9.]*|env)$/.test(words[0] ?? "");
      if (!interpreter || !words[1]) return base(words[0] ?? "") || "command";
      // `bash -c '...'`: the interpreter and its option; `bash script.sh`: the script.
      return words[1].startsWith("-") ? `${base(words[0])} ${words[1]}` : base(words[1]);
    }
    case "autoexp":
      return "RunAutoexpAction";
    case "restart":
      return "RestartAction";
    case "cancel":
      return "CancelAction";
  }
}
