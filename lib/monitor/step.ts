/**
 * The monitor's decisions as one pure step: `stepMonitor(state, observations, config)` returns
 * the events to journal and the effects to perform. Everything the monitor decides is decided
 * here: fired log events and the actions they queue, verdicts on attempts, stalls, state events,
 * restart policies and their budgets, the requeue grace, cancels, which attempts to submit,
 * which actions start, and what the pure actions (log, restart, cancel) do. No file system, no
 * processes, no clock: what a round saw comes in as {@link RoundObservations}.
 *
 * The state is what the journal replays to ({@link StoreState}) plus what the monitor keeps per
 * live attempt from its log ({@link AttemptLog}). The step advances `state.store` by exactly the
 * events it returns (the journal's own fold, `applyEvent`), so a decision later in the step sees
 * the ones before it, and replaying the journal after the events are written gives the same
 * state. The loop (monitor.ts) writes the events durably before it performs any effect; effects
 * are idempotent by the journaled ids, so a monitor killed anywhere repeats nothing.
 *
 * @module
 */
import type { RunPlan, SweepPlan } from "../plan/types.ts";
import { attemptLogPath } from "../plan/paths.ts";
export { attemptLogPath };
import { sbatchFlags } from "../render/script.ts";
import { LIVE_STATES } from "../scheduler/types.ts";
import type {
  ActionRecord,
  AttemptRecord,
  Reach,
  RestartRequest,
  RunRecord,
  StoreState,
} from "../store/state.ts";
import { attemptsMade, EventSink, latestAttempt } from "../store/state.ts";
import { attemptKey, type ChosenRun, type SchedulerReading } from "../submit/mod.ts";
import type { SayNote } from "../monitoring/say.ts";
export type { SayNote } from "../monitoring/say.ts";
import { reconcileEvents } from "../submit/mod.ts";
import {
  attemptMode,
  metadataHolds,
  openActions,
  policyDecision,
  RESTART_CANCEL_PREFIX,
  retryWithoutExclude,
  runDone,
  STALL_CANCEL_PREFIX,
  stateEventsFor,
  stateEventsRestart,
  USER_CANCEL,
} from "./decide.ts";
import {
  checkpointAliases,
  type CompiledEvent,
  dedupeKey,
  type EventKind,
  type EventMatch,
  matchLine,
} from "../monitoring/events.ts";
import { classifyAttempt, type EndMarker, noteActivity, type ObservedJob } from "./lifecycle.ts";
import type { FailureMode } from "../monitoring/vocabulary.ts";
import type {
  ActionSpec,
  ConditionSpec,
  CONTEXT_KEYS,
  EventActionSpec,
  LogEventConfig,
  MonitorSpec,
  STATE_KEYS,
} from "../monitoring/spec_types.ts";
import { formatTemplate } from "../monitoring/template.ts";
import type { LoadedPlan } from "./load_plan.ts";
import { LOG_ONLY_JOB, logOnlyObservation } from "./adhoc.ts";
import { inputsState } from "../submit/release.ts";
import {
  checkpointFired,
  type CheckpointReading,
  watchedValues,
  watchMatches,
} from "./checkpoint_watch.ts";

/** A run the monitor follows, with everything needed to read its log and act. */
export interface TrackedRun {
  readonly run: RunPlan;
  readonly loaded: LoadedPlan;
  readonly spec: MonitorSpec;
  /** Config values the spec's `{dotted.key}` placeholders name. */
  readonly vars: Readonly<Record<string, string>>;
  readonly events: readonly CompiledEvent[];
  readonly eventConfigs: ReadonlyMap<string, LogEventConfig>;
}

/** What the monitor knows of a live attempt from its log (persisted in `watch.json`). */
export interface AttemptLog {
  readonly run: string;
  readonly attempt: number;
  /** The attempt's log file. */
  readonly path: string;
  kinds: Set<EventKind>;
  /** Metadata of the events seen (checkpoint path, iteration, ...). */
  meta: Record<string, string>;
  /** Last time (ms) the log or an output grew with something that counts as activity. */
  lastActivity: number | null;
  /** The last iteration (`240/1000`). */
  progress: string | null;
  lastEvent: string | null;
  /** Consecutive scheduler rounds the job was missing from the scheduler. */
  missingRounds: number;
  /** The highest iteration and newest saved checkpoint seen (restart-storm detection). */
  reached?: Reach;
}

/** What one round read from one attempt's log. */
export interface LogReading {
  readonly run: string;
  readonly attempt: number;
  /** Complete new lines, oldest first. */
  readonly lines: readonly string[];
  /** The file grew without completing a line (a long line in progress). */
  readonly grew: boolean;
  /** One of the spec's `output_paths` changed. */
  readonly outputsGrew: boolean;
  /** Why the log could not be read, if it could not. */
  readonly error?: string;
}

/** How an action the runner performed ended (or that its I/O conditions hold). */
export type ActionOutcome =
  | { readonly id: string; readonly status: "ok" | "failed" | "skipped"; readonly detail: string }
  /** The I/O conditions hold; the action itself is pure (log, restart, cancel): do it now. */
  | { readonly id: string; readonly status: "ready" }
  /** A derived run was planned (RunAutoexpAction): its plan, to follow it. */
  | {
    readonly id: string;
    readonly status: "derived";
    readonly name: string;
    readonly planDir: string;
    readonly detail: string;
  };

/** What one round saw. */
export interface RoundObservations {
  /** Now (ms). */
  readonly now: number;
  readonly logs: readonly LogReading[];
  /**
   * The scheduler's answer, on scheduler rounds: a reading, `null` when there was nothing to
   * ask, or `{ error }` when it did not answer (no answer is no information).
   */
  readonly scheduler?: SchedulerReading | null | { readonly error: string };
  /** End markers of attempts the loop read them for ({@link markerWanted}), by attempt key. */
  readonly markers: ReadonlyMap<string, EndMarker | null>;
  /** Actions the runner finished (or found ready) since the last step. */
  readonly actions: readonly ActionOutcome[];
  /** Checkpoint folders read this round (`checkpoint_watch`). */
  readonly checkpoints?: readonly CheckpointReading[];
  /** Runs whose start conditions do not hold yet: their logs are not read, so not stalled. */
  readonly gated?: ReadonlySet<string>;
}

/** What the step decides and the loop does not keep on disk. */
export interface MonitorState {
  /** The journal's fold; advanced by the step's events. */
  readonly store: StoreState;
  /** By attempt key; a live attempt's entry is made when it first has a job id. */
  readonly logs: Map<string, AttemptLog>;
  /** Attempts whose cancel was sent by this process (the loop takes out failed ones). */
  readonly cancelsSent: Set<string>;
  /** Ids of the actions the runner is performing now. */
  readonly running: Set<string>;
  /** The scheduler did not answer last time (to say when it does again). */
  schedulerDown: boolean;
}

/** The monitor's configuration: the runs it follows and its limits. */
export interface StepConfig {
  readonly tracked: ReadonlyMap<string, TrackedRun>;
  /** The sweep's own plan (derived runs' plans are in their TrackedRun). */
  readonly main: SweepPlan;
  readonly maxConcurrentActions: number;
  readonly markerGraceMs?: number;
  readonly requeueGraceMs?: number;
  readonly lostAfterMs?: number;
}

/** An attempt's progress text (`240/1000`, or `240`) as numbers; null when there is none. */
export function progressParts(
  p: string | null | undefined,
): { iteration: number; total: number | null } | null {
  const m = p?.match(/^(\d+)(?:\/(\d+))?$/);
  return m ? { iteration: Number(m[1]), total: m[2] !== undefined ? Number(m[2]) : null } : null;
}

/** What the loop must do after journaling the step's events. */
export type Effect =
  | { readonly kind: "say"; readonly line: string; readonly note?: SayNote }
  | { readonly kind: "cancel"; readonly key: string; readonly run: string; readonly jobId: string }
  | { readonly kind: "submit"; readonly plan: LoadedPlan; readonly chosen: readonly ChosenRun[] }
  /**
   * Perform an action's I/O part (its I/O conditions, a command, a derived run). `resumed`: an
   * earlier monitor started it (its command may have finished or still run).
   */
  | { readonly kind: "run_action"; readonly id: string; readonly resumed: boolean };

/** The step's result. */
export interface StepResult {
  /** Numbered and timed; already applied to `state.store`. */
  readonly events: ReturnType<EventSink["take"]>;
  readonly effects: readonly Effect[];
  /** Something changed that the next scheduler round should look at soon. */
  readonly changed: boolean;
  /** An action ended that may change what the scheduler reports: query again soon. */
  readonly schedulerSoon: boolean;
  /** The earliest time (ms) a restart waits for (a policy's backoff): a scheduler round then. */
  readonly wakeAt?: number;
}

/** The attempts' log entries a step reads and writes, created on first use. */
export function attemptLogOf(
  state: MonitorState,
  t: TrackedRun,
  a: AttemptRecord,
): AttemptLog | null {
  const key = attemptKey(t.run.name, a.attempt);
  let w = state.logs.get(key);
  if (w) return w;
  const path = attemptLogPath(t.loaded.plan, t.run, a);
  if (!path) return null;
  w = {
    run: t.run.name,
    attempt: a.attempt,
    path,
    kinds: new Set(),
    meta: {},
    lastActivity: null,
    progress: null,
    lastEvent: null,
    missingRounds: 0,
  };
  state.logs.set(key, w);
  // Entries of earlier attempts of the run are finished.
  for (const [k, old] of state.logs) {
    if (old.run === t.run.name && old.attempt < a.attempt) state.logs.delete(k);
  }
  return w;
}

/** The attempts whose logs a round reads: each tracked run's latest, while it is not final. */
export function liveAttempts(
  state: MonitorState,
  tracked: ReadonlyMap<string, TrackedRun>,
): { t: TrackedRun; a: AttemptRecord; log: AttemptLog }[] {
  const out = [];
  for (const t of tracked.values()) {
    const a = latestAttempt(state.store.runs[t.run.name]);
    if (!a || !a.jobId || a.verdictFinal) continue;
    const log = attemptLogOf(state, t, a);
    if (log) out.push({ t, a, log });
  }
  return out;
}

/**
 * Whether a round must read an attempt's end marker: its job left the scheduler (or is not
 * known to it), or it runs while its log (with this round's lines) says the command ended
 * (squeue lags behind).
 */
export function markerWanted(
  observation: ObservedJob | null,
  kinds: ReadonlySet<EventKind>,
): boolean {
  if (schedulerFinal(observation)) return true;
  return observation?.state === "running" &&
    (kinds.has("completed") || kinds.has("exited") || kinds.has("crashed"));
}

/** True when the scheduler no longer runs the job, or does not know it. */
export function schedulerFinal(o: ObservedJob | null): boolean {
  return o === null || o.state === "unknown" ||
    !LIVE_STATES.has(o.state);
}

/**
 * The observation to judge an attempt by: this round's from the scheduler, or else the last
 * one the journal recorded (attempts the query was not about).
 */
export function observationOf(
  a: AttemptRecord,
  seen: ReadonlyMap<string, ObservedJob | null> | null,
  key: string,
): ObservedJob | null {
  if (a.state === "lost") return null;
  if (seen?.has(key)) return seen.get(key)!;
  if (a.state === "submitting" || a.state === "submit_failed" || a.state === "unknown") return null;
  return {
    state: a.state,
    rawState: a.rawState ?? a.state,
    reason: a.reason ?? "",
    ...(a.exitCode !== undefined ? { exitCode: a.exitCode } : {}),
    source: "journal",
  };
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

/** Placeholder values of a run's attempt, plus `extra` (the event's own values). */
export function actionContext(
  t: TrackedRun,
  a: AttemptRecord,
  log: AttemptLog | undefined,
  now: number,
  extra: Record<string, string>,
): Record<string, string> {
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
    timestamp: stamp(now),
  };
  return { ...t.vars, ...(log?.meta ?? {}), ...own, ...extra };
}

/** The output paths (`output_paths`) of an attempt, placeholders filled; bad templates left out. */
export function outputPathsOf(
  t: TrackedRun,
  a: AttemptRecord,
  log: AttemptLog | undefined,
  now: number,
): string[] {
  const out: string[] = [];
  for (const tmpl of t.spec.outputPaths) {
    try {
      out.push(formatTemplate(tmpl, actionContext(t, a, log, now, {})));
    } catch { /* a placeholder no event provided yet */ }
  }
  return out;
}

/** A short name of an action for messages. */
export function describeAction(a: ActionSpec): string {
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

/** Whether an action needs the runner: a command, a derived run, or an I/O condition. */
export function needsRunner(spec: EventActionSpec): boolean {
  return spec.action.kind === "command" || spec.action.kind === "autoexp" ||
    spec.conditions.some((c) => c.kind === "file_exists" || c.kind === "command");
}

/**
 * The pure conditions of an action (attempt budgets, metadata comparisons): null when they
 * hold, else why not. I/O conditions (files, commands) are the runner's.
 */
export function pureConditionsUnmet(
  conditions: readonly ConditionSpec[],
  run: RunRecord | undefined,
  ctx: Readonly<Record<string, string>>,
): string | null {
  for (const c of conditions) {
    if (c.kind === "max_attempts") {
      const made = attemptsMade(run);
      if (made >= c.maxAttempts) return `${made} attempts made (max_attempts ${c.maxAttempts})`;
    } else if (c.kind === "metadata") {
      const expected = Array.isArray(c.value)
        ? (c.value as readonly string[]).map((v) => formatTemplate(v, ctx))
        : formatTemplate(c.value as string, ctx);
      const actual = ctx[c.key];
      if (!metadataHolds(c.op, actual, expected)) {
        return `${c.key} is ${
          actual === undefined ? "not set" : JSON.stringify(actual)
        }, not ${c.op} ${JSON.stringify(expected)}`;
      }
    }
  }
  return null;
}

/** A run's fired keys as a set, built once per journal list (a run may fire thousands). */
const firedSets = new WeakMap<string[], Set<string>>();
function firedSet(fired: string[]): Set<string> {
  let set = firedSets.get(fired);
  if (!set || set.size !== fired.length) firedSets.set(fired, set = new Set(fired));
  return set;
}

/** The step: see the module documentation. */
export function stepMonitor(
  state: MonitorState,
  obs: RoundObservations,
  config: StepConfig,
): StepResult {
  return new Step(state, obs, config).run();
}

/** One step's work; a class only to share the sink, effects and inputs between its parts. */
class Step {
  readonly sink: EventSink;
  readonly effects: Effect[] = [];
  changed = false;
  schedulerSoon = false;
  wakeAt: number | undefined = undefined;

  constructor(
    readonly state: MonitorState,
    readonly obs: RoundObservations,
    readonly config: StepConfig,
  ) {
    this.sink = new EventSink(state.store, new Date(obs.now).toISOString());
  }

  say(line: string, note?: SayNote): void {
    this.effects.push(note ? { kind: "say", line, note } : { kind: "say", line });
  }

  /** Says a message about a run (`text` without the run's name). */
  sayRun(run: string, text: string, bad = false): void {
    this.say(`${run}: ${text}`, { kind: "run", run, text, ...(bad ? { bad } : {}) });
  }

  /**
   * The note of an action's part of its log event's line (`text` empty: a part that only
   * counts); undefined when the action did not come from a log event.
   */
  partNote(act: ActionRecord, text: string, failed = false): SayNote | undefined {
    const cut = act.id.lastIndexOf("|");
    const cfg = this.config.tracked.get(act.run)?.eventConfigs.get(act.source);
    const index = Number(act.id.slice(cut + 1));
    if (!cfg || act.source.startsWith("state:") || !Number.isInteger(index)) return undefined;
    return {
      kind: "part",
      run: act.run,
      group: act.id.slice(0, cut),
      index,
      of: cfg.actions.length,
      text,
      ...(failed ? { failed } : {}),
    };
  }

  /** Says a log action's message as its part of the event's line. */
  sayPart(act: ActionRecord, text: string): void {
    this.say(
      `${act.run}: ${text}`,
      this.partNote(act, text) ?? { kind: "run", run: act.run, text },
    );
  }

  get store(): StoreState {
    return this.state.store;
  }

  run(): StepResult {
    for (const r of this.obs.logs) this.readLog(r);
    for (const c of this.obs.checkpoints ?? []) this.readCheckpoints(c);
    for (const o of this.obs.actions) this.actionEnded(o);
    const answered = this.obs.scheduler !== undefined && !silent(this.obs.scheduler);
    if (this.obs.scheduler !== undefined) this.schedulerRound(this.obs.scheduler);
    else this.decideEndedAll();
    this.startActions();
    // After the actions: a RestartAction that just decided is submitted in this same round.
    if (answered) this.releaseDependents();
    if (answered) this.chooseSubmissions();
    return {
      events: this.sink.take(),
      effects: this.effects,
      changed: this.changed,
      schedulerSoon: this.schedulerSoon,
      ...(this.wakeAt !== undefined ? { wakeAt: this.wakeAt } : {}),
    };
  }

  // ---------------------------------------------------------------- logs

  readLog(r: LogReading): void {
    const t = this.config.tracked.get(r.run);
    const a = t && this.store.runs[r.run]?.attempts.find((x) => x.attempt === r.attempt);
    if (!t || !a) return;
    const w = attemptLogOf(this.state, t, a);
    if (!w) return;
    if (r.error) {
      this.sayRun(r.run, `cannot read ${w.path}: ${r.error}`, true);
      return;
    }
    const perLine = r.lines.map((line) => t.events.length ? matchLine(t.events, line) : []);
    for (const matches of perLine) for (const m of matches) this.onMatch(t, a, w, m);
    // Lines that are not noise, a line still being written, or an output that grew.
    w.lastActivity = noteActivity(w.lastActivity, this.obs.now, perLine);
    if ((r.grew && !r.lines.length) || r.outputsGrew) w.lastActivity = this.obs.now;
  }

  /** Newly complete checkpoints fire the watched event as its log line would. */
  readCheckpoints(c: CheckpointReading): void {
    const t = this.config.tracked.get(c.run);
    const a = t && this.store.runs[c.run]?.attempts.find((x) => x.attempt === c.attempt);
    const w = t && a ? attemptLogOf(this.state, t, a) : null;
    if (!t || !a || !w) return;
    for (const m of watchMatches(t, c, this.store.runs[c.run]?.fired ?? [])) {
      this.onMatch(t, a, w, m);
    }
  }

  onMatch(t: TrackedRun, a: AttemptRecord, w: AttemptLog, m: EventMatch): void {
    if (m.kind) w.kinds.add(m.kind);
    noteReach(w, m);
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
    const rec = this.store.runs[t.run.name];
    if (rec?.fired && firedSet(rec.fired).has(key)) return;
    // A watched checkpoint fires once, whether its log line or its folder came first.
    if (t.spec.checkpointWatch?.event === m.event && rec?.fired && checkpointFired(rec.fired, m)) {
      return;
    }
    const metadata = stringValues(m.metadata);
    this.sink.emit({
      type: "fired",
      run: t.run.name,
      attempt: a.attempt,
      key,
      event: m.event,
      metadata,
      line: m.line.length > 500 ? `${m.line.slice(0, 500)}...` : m.line,
    });
    const fired = this.store.runs[t.run.name]?.fired;
    if (fired) firedSet(fired).add(key);
    w.lastEvent = m.metadata.checkpoint_iteration !== undefined
      ? `${m.event} ${m.metadata.checkpoint_iteration}`
      : m.event;
    const aliases: Record<string, string> = {};
    for (const [name, group] of Object.entries(checkpointAliases(cfg.spec))) {
      if (m.groups[group] !== undefined) aliases[name] = m.groups[group];
    }
    const context = actionContext(t, a, w, this.obs.now, {
      ...aliases,
      ...m.groups,
      ...watchedValues(t, m),
      ...metadata,
      event: m.event,
    });
    cfg.actions.forEach((spec, i) => {
      this.queue(`${t.run.name}|${key}|${i}`, t.run.name, a.attempt, m.event, spec, context);
    });
  }

  queue(
    id: string,
    run: string,
    attempt: number,
    source: string,
    spec: EventActionSpec,
    context: Record<string, string>,
  ): void {
    if (this.store.actions?.[id]) return;
    this.sink.emit({ type: "action_queued", id, run, attempt, source, spec, context });
  }

  // ---------------------------------------------------------------- scheduler rounds

  schedulerRound(reading: SchedulerReading | null | { readonly error: string }): void {
    let seen: ReadonlyMap<string, ObservedJob | null> | null = null;
    if (silent(reading)) {
      // No answer is no information: keep every state as it was.
      if (!this.state.schedulerDown) {
        this.say(
          `the scheduler did not answer (${reading.error.split("\n")[0]}); ` +
            "keeping the last known states",
        );
      }
      this.state.schedulerDown = true;
      this.decideEndedAll();
      return;
    }
    if (this.state.schedulerDown) this.say("the scheduler answers again");
    this.state.schedulerDown = false;
    // Attempts whose job id is found only now (an interrupted submission) are judged next
    // round, once their log and marker were read like any other's.
    const known = new Set<string>();
    for (const t of this.config.tracked.values()) {
      const a = latestAttempt(this.store.runs[t.run.name]);
      if (a?.jobId) known.add(attemptKey(t.run.name, a.attempt));
    }
    if (reading !== null) {
      const r = reconcileEvents(
        followedPlan(this.config.main, this.config.tracked),
        this.sink,
        this.store,
        reading,
        this.obs.now,
        {
          lostAfterMs: this.config.lostAfterMs,
        },
      );
      for (const line of r.said) this.say(line);
      seen = r.seen;
    }
    // Verdicts first (as one batch: a round in which a thousand jobs started), then stalls.
    const stalls: { t: TrackedRun; a: AttemptRecord; reason: string }[] = [];
    for (const t of this.config.tracked.values()) {
      const rec = this.store.runs[t.run.name];
      const a = latestAttempt(rec);
      if (!rec || !a || !a.jobId || a.verdictFinal) continue;
      if (!known.has(attemptKey(t.run.name, a.attempt))) continue;
      const stalled = this.classify(t, a, seen);
      if (stalled !== null) stalls.push({ t, a, reason: stalled });
    }
    for (const s of stalls) this.onStall(s.t, this.store.runs[s.t.run.name], s.a, s.reason);
    this.decideEndedAll();
    this.sendCancels();
  }

  /** Journals the verdict on a live attempt when it changed; returns the stall reason if stalled. */
  classify(
    t: TrackedRun,
    a: AttemptRecord,
    seen: ReadonlyMap<string, ObservedJob | null> | null,
  ): string | null {
    const w = attemptLogOf(this.state, t, a);
    const key = attemptKey(t.run.name, a.attempt);
    // A log followed without a job: its log says when it ended (adhoc.ts).
    const obs = a.jobId === LOG_ONLY_JOB
      ? logOnlyObservation(w?.kinds ?? [])
      : observationOf(a, seen, key);
    if (w) w.missingRounds = obs === null ? w.missingRounds + 1 : 0;
    // A log not followed yet (start conditions) says nothing about inactivity: idle time counts
    // from when it is followed.
    if (w && this.obs.gated?.has(t.run.name)) w.lastActivity = this.obs.now;
    const verdict = classifyAttempt({
      observation: obs,
      marker: this.obs.markers.get(key) ?? null,
      logKinds: w?.kinds ?? [],
      lastActivityAt: w?.lastActivity ?? null,
      now: this.obs.now,
      inactivityThresholdMs: (t.spec.inactivityThresholdSeconds ?? 0) * 1000,
      missingRounds: w?.missingRounds,
      markerGraceMs: this.config.markerGraceMs,
      lost: a.state === "lost" ? (a.reason ?? "not seen by the scheduler and no end marker") : null,
      requeues: t.run.script.resources.requeue === true,
      stateSince: a.stateSince ? Date.parse(a.stateSince) : null,
      requeueGraceMs: this.config.requeueGraceMs,
    });
    // Once the monitor asked to cancel it, an attempt is not "running" again (the lines its
    // dying processes print are no progress); it waits for its final state.
    if (a.cancelRequested && !verdict.final) return null;
    const stalled = verdict.state === "stalled" ? verdict.reason : null;
    if (verdict.state === a.verdict && verdict.final === (a.verdictFinal ?? false)) return stalled;
    this.sink.emit({
      type: "verdict",
      run: t.run.name,
      attempt: a.attempt,
      state: verdict.state,
      final: verdict.final,
      reason: verdict.reason,
      ...(verdict.exitCode !== undefined ? { exitCode: verdict.exitCode } : {}),
      ...(verdict.final && w?.reached ? { reached: w.reached } : {}),
    });
    this.changed = true;
    this.say(
      `${t.run.name}: ${verdict.state} (attempt ${a.attempt}, job ${a.jobId}): ${verdict.reason}`,
      {
        kind: "state",
        run: t.run.name,
        state: verdict.state,
        attempt: a.attempt,
        ...(a.jobId ? { job: a.jobId } : {}),
        detail: verdict.reason,
        ...(verdict.state === "pending" && a.reason && a.reason !== "None"
          ? { queueReason: a.reason }
          : {}),
      },
    );
    return stalled;
  }

  /** A stalled attempt is cancelled for a restart when a policy or state event restarts stalls. */
  onStall(t: TrackedRun, rec: RunRecord, a: AttemptRecord, reason: string): void {
    if (a.restart || a.cancelRequested) return;
    const events = stateEventsFor(t.spec, "stall");
    if (events.length) {
      // State events decide: their actions run now (a RestartAction cancels and restarts).
      this.queueStateEvents(t, a, "stall", events, reason);
      return;
    }
    const d = policyDecision(t.spec, rec, a, "stall", {
      planMinutes: t.run.minutes,
      exclude: t.run.script.resources.exclude === undefined
        ? undefined
        : String(t.run.script.resources.exclude),
      now: this.obs.now,
      reached: this.state.logs.get(attemptKey(t.run.name, a.attempt))?.reached,
    });
    if (!d.restart) return;
    this.decideRestart(t.run.name, a, d.restart, d.reason);
    this.sink.emit({
      type: "cancel_requested",
      run: t.run.name,
      attempt: a.attempt,
      why: `${STALL_CANCEL_PREFIX}${reason}`,
    });
    this.sayRun(t.run.name, `cancelling the stalled job ${a.jobId} to restart it (${d.reason})`);
  }

  queueStateEvents(
    t: TrackedRun,
    a: AttemptRecord,
    mode: FailureMode,
    events: ReturnType<typeof stateEventsFor>,
    reason: string,
  ): void {
    const values: Record<(typeof STATE_KEYS)[number], string> = {
      state: a.verdict ?? "",
      mode,
      reason,
      exit_code: a.exitCode === undefined ? "" : String(a.exitCode),
    };
    const context = actionContext(
      t,
      a,
      this.state.logs.get(attemptKey(t.run.name, a.attempt)),
      this.obs.now,
      values,
    );
    for (const ev of events) {
      ev.actions.forEach((spec, i) => {
        this.queue(
          `${t.run.name}|state:${a.attempt}:${ev.name}|${i}`,
          t.run.name,
          a.attempt,
          `state:${ev.name}`,
          spec,
          { ...context, event: ev.name },
        );
      });
    }
  }

  /** Decides on every ended attempt not decided yet. */
  decideEndedAll(): void {
    for (const t of this.config.tracked.values()) {
      const rec = this.store.runs[t.run.name];
      const a = latestAttempt(rec);
      if (!rec || !a || !a.jobId) continue;
      if (a.verdictFinal && !a.restart && !a.restartDeclined) this.decideEnded(t, rec, a);
    }
  }

  /** State events, then restart policies, for an ended attempt. */
  decideEnded(t: TrackedRun, rec: RunRecord, a: AttemptRecord): void {
    if (a.cancelRequested === USER_CANCEL) {
      this.decline(t, a, "cancelled by the user");
      return;
    }
    const mode = attemptMode(a);
    if (mode === "action") return; // a RestartAction already decided
    const events = stateEventsFor(t.spec, mode);
    if (events.length) this.queueStateEvents(t, a, mode!, events, a.verdictReason ?? "");
    if (stateEventsRestart(events)) {
      // Their RestartAction decides; when all their actions ended without one, it is declined.
      const open = openActions(this.store.actions, t.run.name).filter((x) =>
        x.attempt === a.attempt && x.source.startsWith("state:")
      );
      if (open.length || this.runningFor(t.run.name)) {
        this.changed = true; // decided when they end: keep polling fast meanwhile
        return;
      }
      this.decline(t, a, "the state events' restart conditions were not met");
      return;
    }
    if (mode === null) {
      this.decline(t, a, a.verdictReason ?? "ended");
      return;
    }
    const d = policyDecision(t.spec, rec, a, mode, {
      planMinutes: t.run.minutes,
      exclude: t.run.script.resources.exclude === undefined
        ? undefined
        : String(t.run.script.resources.exclude),
      now: this.obs.now,
    });
    if (!d.restart) {
      this.decline(t, a, d.reason);
      return;
    }
    this.decideRestart(t.run.name, a, d.restart, d.reason);
    const at = d.restart.notBefore ? ` at ${d.restart.notBefore}` : "";
    this.sayRun(t.run.name, `restarting${at}: ${d.reason}`);
  }

  decline(t: TrackedRun, a: AttemptRecord, reason: string): void {
    this.decideRestart(t.run.name, a, null, reason);
    if (a.verdict !== "completed") this.sayRun(t.run.name, `not restarted: ${reason}`, true);
  }

  /** Journals the decision on an attempt: a restart (with what), or none (null, and why). */
  decideRestart(run: string, a: AttemptRecord, restart: RestartRequest | null, reason: string) {
    this.sink.emit({ type: "restart_decided", run, attempt: a.attempt, restart, reason });
    this.changed = true;
  }

  runningFor(run: string): boolean {
    for (const id of this.state.running) {
      if (this.store.actions?.[id]?.run === run) return true;
    }
    return false;
  }

  /** The cancels the journal asks for, once per attempt and monitor process. */
  sendCancels(): void {
    for (const rec of Object.values(this.store.runs)) {
      const a = latestAttempt(rec);
      if (!a || !a.cancelRequested || a.verdictFinal || !a.jobId) continue;
      const key = attemptKey(rec.name, a.attempt);
      if (this.state.cancelsSent.has(key)) continue;
      this.state.cancelsSent.add(key);
      this.effects.push({ kind: "cancel", key, run: rec.name, jobId: a.jobId });
      this.changed = true;
    }
  }

  /** New attempts for decided restarts and interrupted submissions, first ones for derived runs. */
  chooseSubmissions(): void {
    const byPlan = new Map<LoadedPlan, ChosenRun[]>();
    for (const t of this.config.tracked.values()) {
      const rec = this.store.runs[t.run.name];
      if (!rec) continue;
      const chosen = this.nextAttempt(t, rec);
      if (!chosen) continue;
      const list = byPlan.get(t.loaded) ?? [];
      list.push(chosen);
      byPlan.set(t.loaded, list);
    }
    for (const [plan, chosen] of byPlan) {
      this.effects.push({ kind: "submit", plan, chosen });
      this.changed = true;
    }
  }

  /**
   * Pipelines: a run waiting for its inputs is released (journaled once; its first attempt is
   * then chosen like a restart) when every input's latest attempt completed, and blocked when an
   * input will not complete. Runs are judged in plan order, so a block reaches a whole chain in
   * one round. See release.ts for why the monitor, not a SLURM dependency, holds them.
   */
  releaseDependents(): void {
    for (const t of this.config.tracked.values()) {
      const rec = this.store.runs[t.run.name];
      if (!rec?.awaits || rec.attempts.length || rec.released || rec.blocked) continue;
      const inputs = inputsState(this.store, rec.awaits);
      if (inputs.kind === "waiting") continue;
      if (inputs.kind === "complete") {
        this.sink.emit({ type: "released", run: rec.name, inputs: inputs.jobs });
        this.sayRun(rec.name, `inputs complete (${Object.keys(inputs.jobs).join(", ")}): starting`);
      } else {
        this.sink.emit({ type: "blocked", run: rec.name, reason: inputs.reason });
        this.say(`${rec.name}: blocked (${inputs.reason})`, {
          kind: "state",
          run: rec.name,
          state: "blocked",
          attempt: 0,
          detail: inputs.reason,
        });
      }
      this.changed = true;
    }
  }

  nextAttempt(t: TrackedRun, rec: RunRecord): ChosenRun | null {
    const a = latestAttempt(rec);
    if (!a && rec.planDir) return { run: t.run, attempt: 1, why: `derived from ${rec.parent}` };
    if (!a && rec.released) {
      return { run: t.run, attempt: 1, why: `inputs complete: ${rec.awaits?.join(", ")}` };
    }
    if (!a) return null;
    const intent = this.store.intents[String(a.intent)];
    const entries = intent?.entries ? { entries: intent.entries } : {};
    if (interrupted(this.store, a)) {
      // Its sbatch call was interrupted (the monitor died) and never reached the scheduler.
      const prev = rec.attempts[rec.attempts.length - 2];
      return {
        run: t.run,
        attempt: rec.attempts.length + 1,
        why: a.why,
        ...(a.timeMinutes !== undefined ? { time: a.timeMinutes } : {}),
        ...(prev?.restart?.extraArgs?.length ? { extraArgs: prev.restart.extraArgs } : {}),
        ...entries,
      };
    }
    const again = retryWithoutExclude(rec, this.store.intents);
    if (again) {
      // The refused submission's own entries (frozen or re-planned) are submitted again.
      return {
        run: t.run,
        attempt: rec.attempts.length + 1,
        why: again.why,
        ...(again.timeMinutes !== undefined ? { time: again.timeMinutes } : {}),
        ...(again.extraArgs?.length ? { extraArgs: again.extraArgs } : {}),
        ...(again.overrides?.length && !intent?.entries
          ? { overrides: rec.attempts.flatMap((x) => x.restart?.overrides ?? []) }
          : entries),
      };
    }
    if (a.restart && a.verdictFinal) {
      const notBefore = a.restart.notBefore ? Date.parse(a.restart.notBefore) : NaN;
      if (notBefore > this.obs.now) {
        // A backoff: journaled, so a monitor started again waits for the same time.
        this.wakeAt = Math.min(this.wakeAt ?? Infinity, notBefore);
        return null;
      }
      return {
        run: t.run,
        attempt: rec.attempts.length + 1,
        why: a.restart.why,
        ...(a.restart.timeMinutes !== undefined ? { time: a.restart.timeMinutes } : {}),
        ...(a.restart.extraArgs?.length ? { extraArgs: a.restart.extraArgs } : {}),
        // With overrides the run is re-planned (its entry frozen anew; later restarts reuse it),
        // with every earlier restart's overrides first: they add up, the latest winning.
        ...(a.restart.overrides?.length
          ? { overrides: rec.attempts.flatMap((x) => x.restart?.overrides ?? []) }
          : entries),
      };
    }
    return null;
  }

  // ---------------------------------------------------------------- actions

  /** Starts every action that may start now: pure ones are done here, the rest go to the runner. */
  startActions(): void {
    const actions = this.store.actions;
    if (!actions) return;
    for (const act of Object.values(actions)) {
      if (act.status !== "queued" && act.status !== "started") continue;
      if (this.state.running.size >= this.config.maxConcurrentActions) return;
      if (this.state.running.has(act.id)) continue;
      if (!this.config.tracked.has(act.run)) continue;
      if (act.spec.mode === "inline" && this.waitsForEarlier(act, actions)) continue;
      this.startAction(act);
    }
  }

  /** Inline actions run after the earlier actions of the same event. */
  waitsForEarlier(act: ActionRecord, actions: Readonly<Record<string, ActionRecord>>): boolean {
    const cut = act.id.lastIndexOf("|");
    const chain = act.id.slice(0, cut);
    const index = Number(act.id.slice(cut + 1));
    for (let i = 0; i < index; i++) {
      const before = actions[`${chain}|${i}`];
      if (before && (before.status === "queued" || before.status === "started")) return true;
    }
    return false;
  }

  startAction(act: ActionRecord): void {
    // Started by an earlier monitor that died: its command may have finished or still run.
    const resumed = act.status === "started";
    if (!resumed) this.sink.emit({ type: "action_started", id: act.id });
    let unmet: string | null;
    try {
      unmet = pureConditionsUnmet(act.spec.conditions, this.store.runs[act.run], act.context);
    } catch (e) {
      // A placeholder without a value (an optional group that did not match): the action fails.
      this.finishAction(act, "failed", (e as Error).message);
      return;
    }
    if (unmet !== null) {
      this.finishAction(act, "skipped", unmet);
      return;
    }
    const latest = latestAttempt(this.store.runs[act.run]);
    if (act.spec.action.kind === "autoexp" && latest?.cancelRequested === USER_CANCEL) {
      this.finishAction(
        act,
        "skipped",
        `${act.run} was cancelled (autoexp cancel): no derived run`,
      );
      return;
    }
    if (needsRunner(act.spec)) {
      this.state.running.add(act.id);
      this.effects.push({ kind: "run_action", id: act.id, resumed });
      return;
    }
    this.performPure(act);
  }

  /** Log, restart and cancel actions, once their conditions hold. */
  performPure(act: ActionRecord): void {
    const spec = act.spec.action;
    if (spec.kind === "log") {
      let msg: string;
      try {
        msg = formatTemplate(spec.message, act.context);
      } catch (e) {
        this.finishAction(act, "failed", (e as Error).message);
        return;
      }
      this.sayPart(act, msg);
      this.finishAction(act, "ok", msg);
    } else if (spec.kind === "restart" || spec.kind === "cancel") {
      const [status, detail] = this.restartOrCancel(act, spec);
      this.finishAction(act, status, detail);
    } else {
      this.finishAction(act, "failed", `${spec.kind} actions need the runner`);
    }
  }

  restartOrCancel(
    act: ActionRecord,
    spec: Extract<ActionSpec, { kind: "restart" | "cancel" }>,
  ): ["ok" | "skipped", string] {
    const rec = this.store.runs[act.run];
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
      const t = this.config.tracked.get(act.run)!;
      const current = a.timeMinutes ?? t.run.minutes;
      const time = spec.timeMinutes ??
        (spec.addMinutes !== null ? current + spec.addMinutes : undefined);
      this.decideRestart(act.run, a, {
        why,
        mode: a.verdictFinal ? String(attemptMode(a) ?? "action") : "action",
        ...(time !== undefined ? { timeMinutes: time } : {}),
        ...(Object.keys(spec.resources).length ? { extraArgs: sbatchFlags(spec.resources) } : {}),
      }, why);
    }
    if (!a.verdictFinal && a.jobId) {
      this.sink.emit({
        type: "cancel_requested",
        run: act.run,
        attempt: a.attempt,
        why: spec.kind === "restart" ? `${RESTART_CANCEL_PREFIX}${why}` : why,
      });
      this.sendCancels();
    }
    return [
      "ok",
      spec.kind === "restart" ? `restart requested: ${why}` : `cancel requested: ${why}`,
    ];
  }

  /** An outcome from the runner. */
  actionEnded(o: ActionOutcome): void {
    this.state.running.delete(o.id);
    const act = this.store.actions?.[o.id];
    if (!act || (act.status !== "queued" && act.status !== "started")) return;
    if (o.status === "ready") {
      this.performPure(act);
      return;
    }
    if (o.status === "derived") {
      if (!this.store.runs[o.name]) {
        this.sink.emit({
          type: "derived",
          run: o.name,
          parent: act.run,
          planDir: o.planDir,
          action: act.id,
        });
      }
      this.finishAction(act, "ok", o.detail);
      return;
    }
    this.finishAction(act, o.status, o.detail);
  }

  finishAction(act: ActionRecord, status: "ok" | "failed" | "skipped", detail: string): void {
    this.sink.emit({ type: "action_done", id: act.id, status, detail });
    this.changed = true;
    if (act.spec.action.kind !== "log" && status === "ok") this.schedulerSoon = true;
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
      const line = `${act.run}: ${what}: ${describeAction(act.spec.action)} ${shown}`;
      const part = status === "ok" && act.spec.action.kind === "autoexp"
        ? detail.replace(/ \(plan in .*\)$/, "")
        : `${describeAction(act.spec.action)} ${shown}`;
      const note = this.partNote(act, part, status === "failed");
      this.say(line, note ?? { kind: "run", run: act.run, text: line.slice(act.run.length + 2) });
    } else if (act.spec.action.kind !== "log" || status !== "ok") {
      // A filtered action says nothing, but its part of the event's line counts.
      const note = this.partNote(act, "");
      if (note) this.say("", note);
    }
    // A state event's actions may have been the ones deciding the restart.
    const rec = this.store.runs[act.run];
    const a = rec?.attempts.find((x) => x.attempt === act.attempt);
    const t = this.config.tracked.get(act.run);
    if (t && rec && a && a.verdictFinal && !a.restart && !a.restartDeclined) {
      this.decideEnded(t, rec, a);
    }
  }
}

/**
 * Keeps an attempt's highest iteration and newest saved checkpoint (only `progress` and
 * `checkpoint` events: a resumed checkpoint is where it started, not how far it got).
 */
function noteReach(w: AttemptLog, m: EventMatch): void {
  const num = (v: unknown) => {
    const n = typeof v === "number" ? v : typeof v === "string" ? Number(v) : NaN;
    return Number.isFinite(n) ? n : undefined;
  };
  const key = m.kind === "progress" ? "iteration" : m.kind === "checkpoint" ? "checkpoint" : null;
  if (!key) return;
  const n = num(key === "iteration" ? m.metadata.iteration : m.metadata.checkpoint_iteration);
  if (n === undefined) return;
  const cur = w.reached?.[key];
  if (cur === undefined || n > cur) w.reached = { ...w.reached, [key]: n };
}

/** An attempt whose submission was abandoned: no job ever carried its tag (submit it again). */
function interrupted(store: StoreState, a: AttemptRecord): boolean {
  return a.state === "submit_failed" && store.intents[String(a.intent)]?.status === "abandoned";
}

/** A plan covering every followed run (the sweep's and derived ones), for reconciling. */
export function followedPlan(main: SweepPlan, tracked: ReadonlyMap<string, TrackedRun>): SweepPlan {
  return { ...main, runs: [...tracked.values()].map((t) => t.run) };
}

/** True when the scheduler round had no answer (no answer is no information). */
export function silent(
  reading: SchedulerReading | null | { readonly error: string } | undefined,
): reading is { readonly error: string } {
  return reading !== null && reading !== undefined && "error" in reading;
}

/** Whether every followed run is done (nothing to submit, decide or finish). */
export function allDone(
  state: MonitorState,
  tracked: ReadonlyMap<string, TrackedRun>,
): boolean {
  for (const name of tracked.keys()) {
    const rec = state.store.runs[name];
    if (!rec || !rec.attempts.length) {
      if (rec?.planDir) return false; // a derived run still to submit
      if (rec?.awaits && !rec.blocked) return false; // a pipeline run waiting for its inputs
      continue;
    }
    if (interrupted(state.store, latestAttempt(rec)!)) return false;
    if (retryWithoutExclude(rec, state.store.intents)) return false;
    if (!runDone(rec, state.store.actions)) return false;
  }
  return state.running.size === 0;
}
