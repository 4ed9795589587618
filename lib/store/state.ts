/**
 * The sweep's state as a pure fold over its journal: runs, their attempts (each a SLURM job or
 * array task), and submission intents. `applyEvent` is the only way state changes, so the
 * journal alone reproduces it after any crash.
 *
 * @module
 */
import { FINAL_STATES, type JobState } from "../scheduler/types.ts";
import type { EventActionSpec } from "../monitoring/spec_types.ts";

/** A run's attempt: one submission of it. */
export interface AttemptRecord {
  readonly attempt: number;
  /** The intent that submitted it. */
  readonly intent: number;
  readonly fingerprint: string;
  readonly submittedAt: string;
  /** The id to query: `123` or, for an array task, `123_4`. Unset while submitting. */
  jobId?: string;
  arrayJobId?: string;
  taskId?: number;
  /** `submitting` until the scheduler answered; then the last observed state. */
  state: JobState | "submitting" | "submit_failed";
  rawState?: string;
  reason?: string;
  exitCode?: number;
  endedAt?: string;
  /** When the attempt entered its current state (for time-based decisions, e.g. `lost`). */
  stateSince?: string;
  /** Why this attempt was made (`initial`, `restart after timeout`, ...). */
  readonly why: string;
  /** The time limit this attempt was submitted with (minutes), when it overrode the script's. */
  readonly timeMinutes?: number;
  /** The monitor's verdict (lifecycle.ts AttemptState) and why; set by `verdict` events. */
  verdict?: string;
  verdictReason?: string;
  /** True when the verdict will not change by itself (restart decisions apply). */
  verdictFinal?: boolean;
  /** The monitor asked the scheduler to cancel this attempt, and why. */
  cancelRequested?: string;
  /** The monitor decided on this ended attempt: restart (with what) or not (why). */
  restart?: RestartRequest;
  restartDeclined?: string;
  /** The nodes the scheduler ran the job on (`NodeList`), once it said. */
  nodes?: string;
  /** How far the attempt got (from its log), recorded with its final verdict. */
  reached?: Reach;
}

/** How far an attempt got: its highest iteration and newest saved checkpoint, when logged. */
export interface Reach {
  readonly iteration?: number;
  readonly checkpoint?: number;
}

/** A decided restart of an attempt: a new attempt with optionally changed resources. */
export interface RestartRequest {
  readonly why: string;
  /** The failure mode whose budget it uses (`stall`, `timeout`, ...), or `action`. */
  readonly mode: string;
  readonly timeMinutes?: number;
  /** Further sbatch options for the new attempt (`--mem=...`, `--exclude=...`). */
  readonly extraArgs?: readonly string[];
  /** Not submitted before this time (ISO; a policy's `backoff_base`). */
  readonly notBefore?: string;
  /** Overrides the run is re-planned with for the new attempt (a policy's `overrides`). */
  readonly overrides?: readonly string[];
}

/** A run and its attempts, oldest first. */
export interface RunRecord {
  readonly name: string;
  readonly index: number;
  attempts: AttemptRecord[];
  /** Dedupe keys of the log events that fired for this run (each fires once, ever). */
  fired?: string[];
  /** For a derived run (cooldown, evaluation): the run and action that made it. */
  parent?: string;
  /** For a derived run: the sweep directory its own plan was written to. */
  planDir?: string;
  /**
   * Actions of log events that ended `ok` or `skipped`: counted here, not kept (a long sweep
   * ends hundreds of thousands). Failed actions and state events' actions stay in `actions`.
   */
  actionsEnded?: { ok: number; skipped: number };
  /** In a pipeline: the runs this one waits for (`awaiting`); it is not submitted before. */
  awaits?: string[];
  /** When the monitor released it (its inputs completed): its first attempt may be submitted. */
  released?: string;
  /** Why it will not start: an input failed for good, or it was cancelled while waiting. */
  blocked?: string;
}

/** An action of the monitor (from a log event or a state event), journaled by id. */
export interface ActionRecord {
  /** Deterministic: the same event never queues the same action twice. */
  readonly id: string;
  readonly run: string;
  readonly attempt: number;
  /** The event that queued it (`checkpoint_saved`, `state:timeout`). */
  readonly source: string;
  readonly spec: EventActionSpec;
  /** Placeholder values, fixed when the event fired. */
  readonly context: Readonly<Record<string, string>>;
  readonly queuedAt: string;
  status: "queued" | "started" | "ok" | "failed" | "skipped";
  detail?: string;
  startedAt?: string;
  endedAt?: string;
}

/** One sbatch call, recorded before it is made. */
export interface IntentRecord {
  readonly seq: number;
  /** Group or run id the script belongs to. */
  readonly key: string;
  readonly comment: string;
  readonly array?: string;
  /** Array offset: task id + offset = sweep index. */
  readonly offset?: number;
  readonly runs: readonly string[];
  status: "open" | "submitted" | "failed" | "abandoned";
  /** What the scheduler said when the submission failed. */
  error?: string;
  jobId?: string;
  /** The frozen entries file its jobs run (restarts of its runs run the same). */
  readonly entries?: string;
}

/** Everything the store knows. */
export interface StoreState {
  readonly version: 1;
  /** Sequence number of the last applied event. */
  seq: number;
  runs: Record<string, RunRecord>;
  intents: Record<string, IntentRecord>;
  /** Monitor actions by id (absent in stores written before the monitor existed). */
  actions?: Record<string, ActionRecord>;
}

/** Journal events. `seq` and `at` are set by the store when appending. */
export type StoreEvent =
  | {
    type: "submit_intent";
    seq: number;
    at: string;
    key: string;
    comment: string;
    array?: string;
    offset?: number;
    runs: {
      name: string;
      index: number;
      attempt: number;
      fingerprint: string;
      why: string;
      time?: number;
    }[];
    /** The frozen entries file the jobs of this call run (`AUTOEXP_ENTRIES`). */
    entries?: string;
  }
  | { type: "submitted"; seq: number; at: string; intent: number; jobId: string; found?: "tag" }
  | { type: "submit_failed"; seq: number; at: string; intent: number; error: string }
  | { type: "abandoned"; seq: number; at: string; intent: number; why: string }
  | {
    type: "observed";
    seq: number;
    at: string;
    run: string;
    attempt: number;
    state: JobState;
    rawState: string;
    reason: string;
    exitCode?: number;
    /** The scheduler's node list of the job, when it gave one. */
    nodes?: string;
  }
  | {
    type: "verdict";
    seq: number;
    at: string;
    run: string;
    attempt: number;
    state: string;
    final: boolean;
    reason: string;
    exitCode?: number;
    /** With a final verdict: how far the attempt got. */
    reached?: Reach;
  }
  | {
    type: "fired";
    seq: number;
    at: string;
    run: string;
    attempt: number;
    key: string;
    event: string;
    metadata: Record<string, string>;
    line: string;
  }
  | {
    type: "action_queued";
    seq: number;
    at: string;
    id: string;
    run: string;
    attempt: number;
    source: string;
    spec: EventActionSpec;
    context: Record<string, string>;
  }
  | { type: "action_started"; seq: number; at: string; id: string }
  | {
    /** An attempt the journal had lost, proven by its job's marker (lib/submit/recover.ts). */
    type: "recovered";
    seq: number;
    at: string;
    run: string;
    index: number;
    attempt: number;
    fingerprint: string;
    jobId: string;
    arrayJobId?: string;
    taskId?: number;
    state: "completed" | "running";
    exitCode?: number;
    startedAt: string;
    why: string;
  }
  | {
    type: "action_done";
    seq: number;
    at: string;
    id: string;
    status: "ok" | "failed" | "skipped";
    detail: string;
  }
  | {
    type: "restart_decided";
    seq: number;
    at: string;
    run: string;
    attempt: number;
    restart: RestartRequest | null;
    reason: string;
  }
  | { type: "cancel_requested"; seq: number; at: string; run: string; attempt: number; why: string }
  | {
    type: "derived";
    seq: number;
    at: string;
    run: string;
    parent: string;
    planDir: string;
    action: string;
  }
  | {
    /** A pipeline run that starts when its inputs complete (submitted later by the monitor). */
    type: "awaiting";
    seq: number;
    at: string;
    run: string;
    index: number;
    needs: string[];
  }
  | {
    /** Its inputs' latest attempts completed (their job ids): submit its first attempt. */
    type: "released";
    seq: number;
    at: string;
    run: string;
    inputs: Record<string, string>;
  }
  | { type: "blocked"; seq: number; at: string; run: string; reason: string };

/** An event before the store numbered and timed it. */
export type NewEvent = StoreEvent extends infer E
  ? E extends StoreEvent ? Omit<E, "seq" | "at"> : never
  : never;

/**
 * Emits events into a state: each is numbered after the state's last, timed, applied at once
 * (so later decisions see it) and collected for the journal (`SweepStore.journal`). The monitor's
 * step decides through one; the events must be journaled before anything they decide is done.
 */
export class EventSink {
  #events: StoreEvent[] = [];

  constructor(private readonly state: StoreState, private readonly at: string) {}

  /** Numbers, applies and collects an event; returns it. */
  emit(ev: NewEvent): StoreEvent {
    const full = { ...ev, seq: this.state.seq + 1, at: this.at } as StoreEvent;
    applyEvent(this.state, full);
    this.#events.push(full);
    return full;
  }

  /** The events emitted since the last call, oldest first. */
  take(): StoreEvent[] {
    const out = this.#events;
    this.#events = [];
    return out;
  }
}

/** The empty state. */
export function emptyState(): StoreState {
  return { version: 1, seq: 0, runs: {}, intents: {} };
}

const FINAL: ReadonlySet<string> = FINAL_STATES;

/** Applies one event (in place) and returns the state. Events with old seq are ignored. */
export function applyEvent(state: StoreState, ev: StoreEvent): StoreState {
  if (ev.seq <= state.seq) return state;
  state.seq = ev.seq;
  switch (ev.type) {
    case "submit_intent": {
      state.intents[String(ev.seq)] = {
        seq: ev.seq,
        key: ev.key,
        comment: ev.comment,
        array: ev.array,
        offset: ev.offset,
        runs: ev.runs.map((r) => r.name),
        status: "open",
        ...(ev.entries ? { entries: ev.entries } : {}),
      };
      for (const r of ev.runs) {
        const run = state.runs[r.name] ??= { name: r.name, index: r.index, attempts: [] };
        run.attempts.push({
          attempt: r.attempt,
          intent: ev.seq,
          fingerprint: r.fingerprint,
          submittedAt: ev.at,
          state: "submitting",
          why: r.why,
          ...(r.time !== undefined ? { timeMinutes: r.time } : {}),
        });
      }
      break;
    }
    case "submitted": {
      const intent = state.intents[String(ev.intent)];
      if (!intent) break;
      intent.status = "submitted";
      intent.jobId = ev.jobId;
      for (const name of intent.runs) {
        const a = state.runs[name]?.attempts.find((x) => x.intent === ev.intent);
        if (!a) continue;
        if (intent.array !== undefined) {
          const taskId = state.runs[name].index - (intent.offset ?? 0);
          a.arrayJobId = ev.jobId;
          a.taskId = taskId;
          a.jobId = `${ev.jobId}_${taskId}`;
        } else a.jobId = ev.jobId;
        a.state = "pending";
      }
      break;
    }
    case "submit_failed":
    case "abandoned": {
      const intent = state.intents[String(ev.intent)];
      if (!intent) break;
      intent.status = ev.type === "submit_failed" ? "failed" : "abandoned";
      if (ev.type === "submit_failed") intent.error = ev.error;
      for (const name of intent.runs) {
        const a = state.runs[name]?.attempts.find((x) => x.intent === ev.intent);
        if (a) a.state = "submit_failed";
      }
      break;
    }
    case "recovered": {
      const run = state.runs[ev.run] ??= { name: ev.run, index: ev.index, attempts: [] };
      run.attempts.push({
        attempt: ev.attempt,
        intent: 0,
        fingerprint: ev.fingerprint,
        submittedAt: ev.startedAt,
        jobId: ev.jobId,
        ...(ev.arrayJobId !== undefined ? { arrayJobId: ev.arrayJobId, taskId: ev.taskId } : {}),
        state: ev.state,
        stateSince: ev.at,
        why: ev.why,
        ...(ev.exitCode !== undefined ? { exitCode: ev.exitCode } : {}),
        ...(ev.state === "completed"
          ? { verdict: "completed", verdictFinal: true, verdictReason: ev.why, endedAt: ev.at }
          : {}),
      });
      break;
    }
    case "observed": {
      const a = state.runs[ev.run]?.attempts.find((x) => x.attempt === ev.attempt);
      if (!a) break;
      if (a.state !== ev.state) a.stateSince = ev.at;
      a.state = ev.state;
      a.rawState = ev.rawState;
      a.reason = ev.reason;
      if (ev.exitCode !== undefined) a.exitCode = ev.exitCode;
      if (ev.nodes !== undefined) a.nodes = ev.nodes;
      if (FINAL.has(ev.state)) a.endedAt ??= ev.at;
      break;
    }
    case "verdict": {
      const a = findAttempt(state, ev.run, ev.attempt);
      if (!a) break;
      a.verdict = ev.state;
      a.verdictReason = ev.reason;
      a.verdictFinal = ev.final;
      if (ev.exitCode !== undefined) a.exitCode = ev.exitCode;
      if (ev.reached !== undefined) a.reached = ev.reached;
      break;
    }
    case "fired": {
      const run = state.runs[ev.run];
      if (!run) break;
      (run.fired ??= []).push(ev.key);
      break;
    }
    case "action_queued": {
      const actions = state.actions ??= {};
      if (actions[ev.id]) break;
      actions[ev.id] = {
        id: ev.id,
        run: ev.run,
        attempt: ev.attempt,
        source: ev.source,
        spec: ev.spec,
        context: ev.context,
        queuedAt: ev.at,
        status: "queued",
      };
      break;
    }
    case "action_started": {
      const act = state.actions?.[ev.id];
      if (act) {
        act.status = "started";
        act.startedAt = ev.at;
      }
      break;
    }
    case "action_done": {
      const act = state.actions?.[ev.id];
      if (!act) break;
      act.status = ev.status;
      act.detail = ev.detail;
      act.endedAt = ev.at;
      const run = state.runs[act.run];
      if (ev.status !== "failed" && !act.source.startsWith("state:") && run) {
        const ended = run.actionsEnded ??= { ok: 0, skipped: 0 };
        ended[ev.status]++;
        delete state.actions![ev.id];
      }
      break;
    }
    case "restart_decided": {
      const a = findAttempt(state, ev.run, ev.attempt);
      if (!a || a.restart || a.restartDeclined) break;
      if (ev.restart) a.restart = ev.restart;
      else a.restartDeclined = ev.reason;
      break;
    }
    case "cancel_requested": {
      const a = findAttempt(state, ev.run, ev.attempt);
      if (a) a.cancelRequested ??= ev.why;
      break;
    }
    case "derived": {
      if (state.runs[ev.run]) break;
      state.runs[ev.run] = {
        name: ev.run,
        index: 0,
        attempts: [],
        parent: ev.parent,
        planDir: ev.planDir,
      };
      break;
    }
    case "awaiting": {
      const run = state.runs[ev.run] ??= { name: ev.run, index: ev.index, attempts: [] };
      if (run.attempts.length || run.released) break;
      run.awaits = [...ev.needs];
      delete run.blocked;
      break;
    }
    case "released": {
      const run = state.runs[ev.run];
      if (run && !run.released && !run.blocked) run.released = ev.at;
      break;
    }
    case "blocked": {
      const run = state.runs[ev.run];
      if (run && !run.released && !run.attempts.length) run.blocked = ev.reason;
      break;
    }
  }
  return state;
}

function findAttempt(state: StoreState, run: string, attempt: number): AttemptRecord | undefined {
  return state.runs[run]?.attempts.find((x) => x.attempt === attempt);
}

/** A run's actions by outcome (`open`: queued or started), including those only counted. */
export interface ActionTally {
  ok: number;
  failed: number;
  skipped: number;
  open: number;
  total: number;
}

/** Every run's {@link ActionTally}, in one pass over the actions kept. */
export function actionTallies(state: StoreState): Map<string, ActionTally> {
  const out = new Map<string, ActionTally>();
  const of = (run: string) => {
    let t = out.get(run);
    if (!t) out.set(run, t = { ok: 0, failed: 0, skipped: 0, open: 0, total: 0 });
    return t;
  };
  for (const rec of Object.values(state.runs)) {
    if (!rec.actionsEnded) continue;
    const t = of(rec.name);
    t.ok += rec.actionsEnded.ok;
    t.skipped += rec.actionsEnded.skipped;
    t.total += rec.actionsEnded.ok + rec.actionsEnded.skipped;
  }
  for (const a of Object.values(state.actions ?? {})) {
    const t = of(a.run);
    if (a.status === "queued" || a.status === "started") t.open++;
    else t[a.status]++;
    t.total++;
  }
  return out;
}

/** Attempt states that may still run (or are not known to have ended). */
export const ACTIVE_ATTEMPT_STATES: ReadonlySet<string> = new Set([
  "submitting",
  "pending",
  "running",
  "requeued",
  "suspended",
  "unknown",
]);

/** Attempts that reached the scheduler (a submission that failed never ran). */
export function attemptsMade(run: RunRecord | undefined): number {
  return run?.attempts.filter((a) => a.state !== "submit_failed").length ?? 0;
}

/** The latest attempt of a run, if any. */
export function latestAttempt(run: RunRecord | undefined): AttemptRecord | undefined {
  return run?.attempts[run.attempts.length - 1];
}

/** True for states after which an attempt will not run again by itself. */
export function isFinalAttemptState(s: AttemptRecord["state"]): boolean {
  return FINAL.has(s) || s === "submit_failed";
}
