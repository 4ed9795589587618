/**
 * Attempt lifecycle: the normalised state of one attempt ({@link classifyAttempt}) from what the
 * scheduler says, what the job wrote in its end marker, what its log said, and how long ago it
 * last made progress. Pure: no I/O, times are numbers (milliseconds since the epoch).
 *
 * Precedence, strongest first:
 *
 * 1. The scheduler still has the job queued: `pending`, `requeued` and `suspended` are
 *    `pending`, except `DependencyNeverSatisfied`, which is `blocked`. A marker from an earlier
 *    run of a requeued job does not change that.
 * 2. The scheduler says it is running: `running`, or `stalled` when nothing but noise was
 *    written for the inactivity threshold. A marker that says the command already ended is
 *    ignored for a grace period ({@link ClassifyInput.markerGraceMs}; squeue lags, epilogs
 *    run); after it, the marker decides, as if the job had left the queue.
 * 3. A final scheduler state that names a cause wins over the marker and over crash lines:
 *    `TIMEOUT`, `PREEMPTED`, `NODE_FAIL`, `OUT_OF_MEMORY`. `CANCELLED` is refined by the SLURM
 *    line in the log (`DUE TO TIME LIMIT` -> timeout, `DUE TO PREEMPTION` -> preempted, node
 *    failure -> node_fail) or, with reason `DependencyNeverSatisfied`, is `blocked`.
 * 4. `COMPLETED` / `FAILED` only repeat the batch script's exit status, so the marker (the
 *    training command's own exit) decides when there is one: exit 0 is `completed` (or
 *    `timeout` when a forwarded signal made it save and exit early, and the log has no
 *    `completed` line); non-zero is `node_fail` / `preempted` / `timeout` with that SLURM line
 *    in the log, else `out_of_memory` with an `oom` log event, else `nccl_failed` with an `nccl`
 *    log event (a watchdog timeout or NCCL error; an out-of-memory error usually brings NCCL
 *    errors of the other ranks with it, so it comes first), else `failed` with the exit code.
 * 5. Missing from the scheduler (neither squeue nor sacct): the marker decides as in 4. Without
 *    an ended marker the state is `unknown` and not final: never `failed`, never `timeout`.
 *    (The seed tool read a job missing from squeue as a timeout and restarted it: a duplicate
 *    run.) Log lines are listed as hints only.
 *
 * @module
 */

import type { JobObservation, JobState } from "../scheduler/types.ts";
import { countsAsActivity, type EventKind, type EventMatch } from "../monitoring/events.ts";
import { FAILURE_MODES, type FailureMode } from "../monitoring/vocabulary.ts";

export { FAILURE_MODES, type FailureMode };

/** The normalised state of one attempt (product.md, "Monitoring"). */
export type AttemptState =
  | Exclude<JobState, "requeued" | "suspended" | "lost">
  | "stalled"
  | "blocked"
  /** Failed after a communication failure in its log (failure mode `nccl`). */
  | "nccl_failed";

/** The end marker run-entry writes (a structural subset of `lib/submit/markers.ts` Marker). */
export interface EndMarker {
  readonly state: "running" | "completed" | "failed";
  readonly exit_code?: number;
  readonly signal?: string | null;
  /** ISO time the command ended. */
  readonly ended_at?: string;
  /** Signals run-entry forwarded to the command (`SIGUSR1` before the time limit). */
  readonly forwarded_signals?: readonly string[];
  /** SLURM's restart count of the job when it wrote the marker (requeues keep the job id). */
  readonly restart_count?: number;
}

/**
 * What the scheduler said of a job, as far as classifying needs it: a query's
 * {@link JobObservation}, or the last state the journal recorded (`source: "journal"`).
 */
export type ObservedJob =
  & Pick<JobObservation, "state" | "rawState" | "reason" | "exitCode" | "start" | "restarts">
  & { readonly source: JobObservation["source"] | "journal" };

/** Everything {@link classifyAttempt} looks at. */
export interface ClassifyInput {
  /** What squeue/sacct said this round, or null when the job is in neither. */
  readonly observation: ObservedJob | null;
  /** This attempt's end marker, or null when none was found. */
  readonly marker: EndMarker | null;
  /** Kinds of the log events seen in this attempt's log (any order, repeats allowed). */
  readonly logKinds: Iterable<EventKind>;
  /**
   * Last time (ms) the log or an output path grew with a line that counts as activity (see
   * {@link noteActivity}); null when nothing was written yet.
   */
  readonly lastActivityAt: number | null;
  /** When the attempt started running (ms); defaults to the observation's `start`. */
  readonly runningSince?: number | null;
  /** Now (ms). */
  readonly now: number;
  /** No activity for this long while running is `stalled`; 0 or absent: never. */
  readonly inactivityThresholdMs?: number;
  /** Consecutive query rounds the job has been missing from the scheduler. */
  readonly missingRounds?: number;
  /**
   * How long a RUNNING job whose marker says it ended is still trusted as running (ms,
   * counted from the marker's `ended_at`; default {@link DEFAULT_MARKER_GRACE_MS}). A marker
   * without `ended_at` never overrules RUNNING.
   */
  readonly markerGraceMs?: number;
  /**
   * Why the attempt counts as lost (missing from the scheduler, no end marker, past the grace
   * of `reconcile`), or null: a lost attempt is a node failure.
   */
  readonly lost?: string | null;
  /** The job was submitted with `--requeue`: SLURM brings it back after preemption or a node failure. */
  readonly requeues?: boolean;
  /** When the scheduler state last changed (ms), for {@link requeueGraceMs}. */
  readonly stateSince?: number | null;
  /**
   * How long a preempted or node-failed job with `--requeue` may take to come back (same job id)
   * before it counts as ended (default {@link REQUEUE_GRACE_MS}): restarting it meanwhile would
   * run it twice.
   */
  readonly requeueGraceMs?: number;
}

/**
 * Default {@link ClassifyInput.requeueGraceMs}: three minutes, below SLURM's default MinJobAge
 * (300 s), so squeue still shows the job meanwhile.
 */
export const REQUEUE_GRACE_MS = 3 * 60_000;

/** The verdict on one attempt. */
export interface RunVerdict {
  readonly state: AttemptState;
  /** True when the attempt will not change state by itself (restart policies apply). */
  readonly final: boolean;
  /** One line for humans: why this state. */
  readonly reason: string;
  readonly exitCode?: number;
  /** The facts the verdict was built from, one per line. */
  readonly evidence: string[];
}

/** Default {@link ClassifyInput.markerGraceMs}: two minutes. */
export const DEFAULT_MARKER_GRACE_MS = 120_000;

const BLOCKED_REASON = /^DependencyNeverSatisfied$/i;

/**
 * The normalised state of one attempt; see the module documentation for the precedence.
 *
 * @example
 * classifyAttempt({ observation: null, marker: null, logKinds: [], lastActivityAt: null,
 *   now: 0, missingRounds: 3 }).state; // "unknown"
 */
export function classifyAttempt(input: ClassifyInput): RunVerdict {
  if (input.lost) {
    const v = classifyObserved(input);
    return { ...v, state: "node_fail", final: true, reason: `lost: ${input.lost}` };
  }
  const v = classifyObserved(input);
  if (!input.requeues || !v.final || (v.state !== "preempted" && v.state !== "node_fail")) return v;
  const grace = input.requeueGraceMs ?? REQUEUE_GRACE_MS;
  if (input.now - (input.stateSince ?? input.now) >= grace) return v;
  return {
    ...v,
    state: "pending",
    final: false,
    reason: `${v.reason}; the job has --requeue, waiting up to ${
      Math.round(grace / 1000)
    } s for SLURM to requeue it`,
  };
}

/** The verdict from the scheduler, the marker and the log alone (see the module comment). */
function classifyObserved(input: ClassifyInput): RunVerdict {
  const obs = input.observation;
  const kinds = new Set<EventKind>(input.logKinds);
  const evidence: string[] = [];
  const earlier = input.marker && markerOfEarlierRun(input.marker, obs);
  if (earlier) evidence.push(`marker of an earlier run of the job ignored: ${earlier}`);
  const marker = earlier ? null : input.marker;
  if (obs) {
    const reason = obs.reason && obs.reason !== "None" ? `, reason ${obs.reason}` : "";
    const exit = obs.exitCode !== undefined ? `, exit ${obs.exitCode}` : "";
    evidence.push(`scheduler (${obs.source}): ${obs.rawState || obs.state}${reason}${exit}`);
  } else {
    evidence.push(`missing from the scheduler for ${input.missingRounds ?? 1} round(s)`);
  }
  if (marker) evidence.push(`marker: ${describeMarker(marker)}`);
  if (kinds.size) evidence.push(`log events: ${[...kinds].sort().join(", ")}`);

  const verdict = (
    state: AttemptState,
    final: boolean,
    reason: string,
    exitCode?: number,
  ): RunVerdict =>
    exitCode === undefined
      ? { state, final, reason, evidence }
      : { state, final, reason, exitCode, evidence };
  const ended = marker !== null && marker.state !== "running";

  if (!obs || obs.state === "unknown") {
    if (ended) return fromMarker(marker, kinds, obs ? obs.exitCode : undefined, verdict);
    const hints = [...kinds].filter((k) => FINAL_LOG_KINDS.has(k)).sort();
    const where = obs
      ? `the scheduler reports an unknown state "${obs.rawState}"`
      : "the job is in neither squeue nor sacct";
    const hint = hints.length ? ` (log mentions ${hints.join(", ")}; not trusted alone)` : "";
    const why = marker ? "its marker says it is still running" : "it left no end marker";
    return verdict("unknown", false, `${where} and ${why}${hint}`);
  }

  const state: JobState = obs.state;
  const blockedReason = BLOCKED_REASON.test(obs.reason.trim());
  if (state === "pending" || state === "requeued" || state === "suspended") {
    if (blockedReason) {
      return verdict("blocked", true, "pending on a dependency that can never be satisfied");
    }
    const what = state === "pending" ? "pending" : state === "requeued" ? "requeued" : "suspended";
    const reason = obs.reason && obs.reason !== "None" ? ` (${obs.reason})` : "";
    return verdict("pending", false, `${what} in the queue${reason}`);
  }

  if (state === "running") {
    if (ended) {
      const endedAt = marker.ended_at ? Date.parse(marker.ended_at) : NaN;
      const grace = input.markerGraceMs ?? DEFAULT_MARKER_GRACE_MS;
      if (Number.isFinite(endedAt) && input.now - endedAt >= grace) {
        evidence.push(
          `marker ended ${seconds(input.now - endedAt)} ago, past the ${
            seconds(grace)
          } grace: trusting the marker`,
        );
        return fromMarker(marker, kinds, undefined, verdict);
      }
      evidence.push("marker says ended but the scheduler still runs the job: trusting SLURM");
    }
    const threshold = input.inactivityThresholdMs ?? 0;
    const since = input.runningSince ?? (obs.start ? Date.parse(obs.start) : NaN);
    const ref = input.lastActivityAt ?? (Number.isFinite(since) ? since : null);
    if (threshold > 0 && ref !== null) {
      const idle = input.now - ref;
      if (idle >= threshold) {
        evidence.push(`no progress for ${seconds(idle)} (threshold ${seconds(threshold)})`);
        const what = input.lastActivityAt === null ? "since it started" : "in the log or outputs";
        return verdict(
          "stalled",
          false,
          `running but no progress ${what} for ${seconds(idle)} (threshold ${seconds(threshold)})`,
        );
      }
    }
    return verdict("running", false, "running");
  }

  const exit = obs.exitCode ?? marker?.exit_code;
  switch (state) {
    case "timeout":
      return verdict("timeout", true, "cancelled by SLURM at the time limit", exit);
    case "preempted":
      return verdict("preempted", true, "preempted by the scheduler", exit);
    case "node_fail":
      return verdict("node_fail", true, "a node of the job failed", exit);
    case "out_of_memory":
      return verdict("out_of_memory", true, "killed by the scheduler for exceeding memory", exit);
    case "cancelled": {
      if (blockedReason) {
        return verdict("blocked", true, "cancelled: its dependency can never be satisfied");
      }
      if (kinds.has("timeout")) {
        return verdict("timeout", true, "cancelled at the time limit (SLURM log line)", exit);
      }
      if (kinds.has("preempted")) {
        return verdict("preempted", true, "cancelled by preemption (SLURM log line)", exit);
      }
      if (kinds.has("node_fail")) {
        return verdict("node_fail", true, "cancelled after a node failure (SLURM log line)", exit);
      }
      const by = /\bby\s+(\d+)/i.exec(obs.rawState);
      return verdict("cancelled", true, by ? `cancelled by uid ${by[1]}` : "cancelled", exit);
    }
    case "completed":
    case "failed":
      if (ended) return fromMarker(marker, kinds, obs.exitCode, verdict);
      return fromExit(
        state === "completed" ? (exit ?? 0) : (exit !== undefined && exit !== 0 ? exit : null),
        kinds,
        false,
        verdict,
      );
  }
  return verdict("unknown", false, `unhandled scheduler state "${state}"`);
}

/** Log kinds that name how a job ended (listed as hints when the job is missing). */
const FINAL_LOG_KINDS: ReadonlySet<EventKind> = new Set<EventKind>([
  "oom",
  "nccl",
  "timeout",
  "preempted",
  "node_fail",
  "cancelled",
  "completed",
  "exited",
  "crashed",
]);

type Make = (state: AttemptState, final: boolean, reason: string, exitCode?: number) => RunVerdict;

/** How far apart the controller's and the nodes' clocks may be when their times are compared. */
const CLOCK_SKEW_MS = 5_000;

/**
 * Why a marker belongs to an earlier run of the same job id (SLURM requeued it: same id, a new
 * run), or null when it may be this run's. A requeued job runs again before it writes its new
 * marker; the previous run's end must not decide the new one. Told apart by SLURM's restart
 * count against the one the job saw, and by the job's start against the marker's end (the
 * scheduler's start time of a queued job is only a forecast, so not then).
 */
export function markerOfEarlierRun(marker: EndMarker, obs: ObservedJob | null): string | null {
  if (!obs) return null;
  if (
    obs.restarts !== undefined && marker.restart_count !== undefined &&
    marker.restart_count < obs.restarts
  ) {
    return `it was written at restart ${marker.restart_count}, SLURM is at restart ${obs.restarts}`;
  }
  const queued = obs.state === "pending" || obs.state === "requeued" ||
    obs.state === "suspended";
  const start = obs.start ? Date.parse(obs.start) : NaN;
  const ended = marker.ended_at ? Date.parse(marker.ended_at) : NaN;
  if (!queued && marker.state !== "running" && start > ended + CLOCK_SKEW_MS) {
    return `it ended at ${marker.ended_at}, before the job started again at ${obs.start}`;
  }
  return null;
}

/** The verdict of an ended marker, refined by log evidence. */
function fromMarker(
  marker: EndMarker,
  kinds: ReadonlySet<EventKind>,
  schedulerExit: number | undefined,
  make: Make,
): RunVerdict {
  const code = marker.exit_code ?? schedulerExit ?? (marker.state === "completed" ? 0 : null);
  const signalled = (marker.forwarded_signals?.length ?? 0) > 0;
  return fromExit(code, kinds, signalled, make, marker.state === "failed");
}

/**
 * The verdict of an exit status: `code` null means "non-zero, value unknown". `signalled`:
 * a signal was forwarded to the command before it ended.
 */
function fromExit(
  code: number | null,
  kinds: ReadonlySet<EventKind>,
  signalled: boolean,
  make: Make,
  markerFailed = false,
): RunVerdict {
  const exit = code ?? undefined;
  if (code === 0 && !markerFailed) {
    if (signalled && !kinds.has("completed")) {
      return make(
        "timeout",
        true,
        "saved and exited on a forwarded signal before the time limit; training not finished",
        0,
      );
    }
    return make("completed", true, "exited 0", 0);
  }
  if (kinds.has("timeout")) return make("timeout", true, "killed at the time limit", exit);
  if (kinds.has("preempted")) return make("preempted", true, "killed by preemption", exit);
  if (kinds.has("node_fail")) return make("node_fail", true, "failed after a node failure", exit);
  if (kinds.has("oom")) {
    return make("out_of_memory", true, `ran out of memory${code ? ` (exit ${code})` : ""}`, exit);
  }
  // A traceback before the first NCCL line is a crash of one rank whose peers then lost their
  // collective: a crash, not a communication failure (kinds keep the order they were first seen).
  if (kinds.has("nccl") && [...kinds].find((k) => k === "nccl" || k === "crashed") === "nccl") {
    return make(
      "nccl_failed",
      true,
      `failed after a communication (NCCL) failure${code ? ` (exit ${code})` : ""}`,
      exit,
    );
  }
  return make("failed", true, code === null ? "failed" : `failed with exit code ${code}`, exit);
}

/**
 * Maps an attempt state to the failure mode restart policies are keyed by; null while the
 * attempt is pending, running, or its state is unknown (nothing to decide yet).
 */
export function failureMode(state: AttemptState): FailureMode | null {
  switch (state) {
    case "stalled":
      return "stall";
    case "timeout":
      return "timeout";
    case "failed":
      return "crash";
    case "completed":
      return "success";
    case "out_of_memory":
      return "oom";
    case "nccl_failed":
      return "nccl";
    case "node_fail":
    case "preempted":
    case "cancelled":
    case "blocked":
      return state;
    case "pending":
    case "running":
    case "unknown":
      return null;
  }
}

/**
 * Advances the last-activity time for stall detection: returns `at` when any of the new lines
 * counts as activity (a line with no matches does; a line whose matches include noise, e.g.
 * periodic `srun: error:` spam, does not), else `last`. `lines` holds each new line's matches.
 */
export function noteActivity(
  last: number | null,
  at: number,
  lines: readonly (readonly EventMatch[])[],
): number | null {
  return lines.some((m) => countsAsActivity(m)) ? at : last;
}

function describeMarker(m: EndMarker): string {
  const parts: string[] = [m.state];
  if (m.exit_code !== undefined) parts.push(`exit ${m.exit_code}`);
  if (m.signal) parts.push(`signal ${m.signal}`);
  if (m.forwarded_signals?.length) parts.push(`forwarded ${m.forwarded_signals.join(",")}`);
  return parts.join(", ");
}

function seconds(ms: number): string {
  return `${Math.round(ms / 1000)}s`;
}
