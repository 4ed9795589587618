/**
 * The monitor's decisions, pure: which failure mode an ended attempt counts as, what the
 * state events and restart policies say about it, whether a condition holds, and when a run is
 * done. The loop (monitor.ts) feeds them the store's records and journals what they return.
 *
 * @module
 */
import type {
  ActionRecord,
  AttemptRecord,
  IntentRecord,
  Reach,
  RestartRequest,
  RunRecord,
} from "../store/state.ts";
import { attemptsMade } from "../store/state.ts";
import { type AttemptState, type FailureMode, failureMode } from "./lifecycle.ts";
import { ENDED } from "../monitoring/vocabulary.ts";
import { decideRestart } from "../monitoring/policies.ts";
import { DEFAULT_MAX_RESTARTS_WITHOUT_PROGRESS } from "../monitoring/spec.ts";
import type { ConditionSpec, MonitorSpec, StateEventConfig } from "../monitoring/spec_types.ts";

/** Why the monitor itself cancelled an attempt, as recorded in `cancelRequested`. */
export const STALL_CANCEL_PREFIX = "stalled: ";
/** Prefix of `cancelRequested` when a RestartAction cancels a running attempt. */
export const RESTART_CANCEL_PREFIX = "restart: ";
/** `cancelRequested` of attempts the user cancelled with `autoexp cancel`. */
export const USER_CANCEL = "cancelled by the user (autoexp cancel)";

/**
 * The failure mode of an attempt with a final verdict: a cancel the monitor made for a stall
 * counts as `stall`, one made for a RestartAction as `action`.
 */
export function attemptMode(a: AttemptRecord): FailureMode | "action" | null {
  const verdict = a.verdict as AttemptState | undefined;
  if (!verdict || !a.verdictFinal) return null;
  if (verdict === "cancelled" && a.cancelRequested) {
    if (a.cancelRequested.startsWith(STALL_CANCEL_PREFIX)) return "stall";
    if (a.cancelRequested.startsWith(RESTART_CANCEL_PREFIX)) return "action";
  }
  return failureMode(verdict);
}

/** The state events that apply to a failure mode, in config order. */
export function stateEventsFor(
  spec: MonitorSpec,
  mode: FailureMode | "action" | null,
): StateEventConfig[] {
  if (mode === null || mode === "action") return [];
  return spec.stateEvents.filter((e) => e.modes.includes(mode));
}

/** Whether any of the state events can restart the run (then they, not the policies, decide). */
export function stateEventsRestart(events: readonly StateEventConfig[]): boolean {
  return events.some((e) => e.actions.some((a) => a.action.kind === "restart"));
}

/** Restarts already made for a failure mode (budgets are per run and mode). */
export function restartsForMode(run: RunRecord, mode: string): number {
  return run.attempts.filter((a) => a.restart?.mode === mode).length;
}

/**
 * Whether an attempt advanced the run: a newer checkpoint or a higher iteration than every
 * attempt before it. Null when nothing tells (no attempt so far logged either): a run whose
 * log shows no iterations is never stopped for want of progress.
 */
export function madeProgress(
  earlier: readonly (Reach | undefined)[],
  reached: Reach | undefined,
): boolean | null {
  let ck: number | undefined, it: number | undefined;
  for (const r of earlier) {
    if (r?.checkpoint !== undefined) ck = Math.max(ck ?? -Infinity, r.checkpoint);
    if (r?.iteration !== undefined) it = Math.max(it ?? -Infinity, r.iteration);
  }
  const c = reached?.checkpoint, i = reached?.iteration;
  if (ck === undefined && it === undefined && c === undefined && i === undefined) return null;
  return (c !== undefined && (ck === undefined || c > ck)) ||
    (i !== undefined && (it === undefined || i > it));
}

/**
 * Restarts in a row, ending with attempt `a` (whose reach is `reached`), whose attempts made no
 * progress ({@link madeProgress}). Attempts that were preempted neither count nor break the
 * row: the scheduler took them away.
 */
export function restartsWithoutProgress(
  run: RunRecord,
  a: AttemptRecord,
  reached: Reach | undefined,
): number {
  const upto = run.attempts.filter((x) => x.attempt < a.attempt && x.state !== "submit_failed");
  const reaches = [...upto.map((x) => x.reached), reached];
  const chain = [...upto, a];
  let n = 0;
  for (let k = chain.length - 1; k >= 1; k--) {
    if (chain[k].verdict === "preempted") continue;
    if (madeProgress(reaches.slice(0, k), reaches[k]) !== false) break;
    n++;
  }
  return n;
}

/** "checkpoint 400, iteration 512" (what a run reached), or "nothing logged". */
export function describeReach(reaches: readonly (Reach | undefined)[]): string {
  let ck: number | undefined, it: number | undefined;
  for (const r of reaches) {
    if (r?.checkpoint !== undefined) ck = Math.max(ck ?? -Infinity, r.checkpoint);
    if (r?.iteration !== undefined) it = Math.max(it ?? -Infinity, r.iteration);
  }
  const parts = [
    ...(ck !== undefined ? [`checkpoint ${ck}`] : []),
    ...(it !== undefined ? [`iteration ${it}`] : []),
  ];
  return parts.length ? parts.join(", ") : "nothing logged";
}

/** Prefix of the reason a run stopped for making no progress (status, journal, tests). */
export const NO_PROGRESS_PREFIX = "no progress: ";

/** What a restart-policy decision needs besides the run and attempt. */
export interface PolicyContext {
  /** The run's planned time limit (used when the attempt did not override it). */
  readonly planMinutes: number;
  /** Now (ms), for a backoff's not-before time. */
  readonly now: number;
  /** How far the attempt got (its log); defaults to what its final verdict recorded. */
  readonly reached?: Reach;
  /** The run's own `--exclude` (sbatch option), kept when a restart excludes failed nodes. */
  readonly exclude?: string;
}

/**
 * The restart-policy decision for an ended attempt: a restart request, or null with the reason.
 * A restart the policy allows is still declined when the run's last
 * `max_restarts_without_progress` restarts made no progress (the reason starts with
 * {@link NO_PROGRESS_PREFIX}): its budget is not burnt on the same failure. Then the policy's
 * backoff becomes the request's not-before time, and `exclude_failed_nodes` the
 * `--exclude` of the nodes the attempt ran on (when the scheduler named them).
 */
export function policyDecision(
  spec: MonitorSpec,
  run: RunRecord,
  a: AttemptRecord,
  mode: FailureMode,
  ctx: PolicyContext,
): { restart: RestartRequest | null; reason: string } {
  const d = decideRestart(spec.restartPolicies, mode, {
    attemptsSoFar: attemptsMade(run),
    restartsForMode: restartsForMode(run, mode),
    currentTimeMinutes: a.timeMinutes ?? ctx.planMinutes,
  });
  if (!d.restart) return { restart: null, reason: d.reason };
  const reached = ctx.reached ?? a.reached;
  const limit = spec.maxRestartsWithoutProgress ?? DEFAULT_MAX_RESTARTS_WITHOUT_PROGRESS;
  const stuck = limit > 0 && mode !== "preempted" ? restartsWithoutProgress(run, a, reached) : 0;
  if (limit > 0 && stuck >= limit) {
    const all = run.attempts.filter((x) => x.attempt < a.attempt).map((x) => x.reached);
    return {
      restart: null,
      reason: `${NO_PROGRESS_PREFIX}the last ${stuck} restarts advanced neither the newest ` +
        `checkpoint nor the iteration (still at ${describeReach([...all, reached])}; ` +
        `restart.max_restarts_without_progress is ${limit}); attempt ${a.attempt} ${ENDED[mode]}`,
    };
  }
  let reason = d.reason;
  let extraArgs: string[] | undefined;
  if (d.excludeFailedNodes) {
    // Only a one-node attempt names the node that failed; excluding every node of a multi-node
    // job would give up healthy nodes (and on a small partition leave it pending forever).
    if (!a.nodes) reason += "; its nodes are not known, so none is excluded";
    else if (/[,\[]/.test(a.nodes)) {
      reason += `; it ran on several nodes (${a.nodes}) and which one failed is not known, so ` +
        "none is excluded";
    } else {
      const exclude = [ctx.exclude, a.nodes].filter((x) => x).join(",");
      extraArgs = [`--exclude=${exclude}`];
      reason += `, excluding ${a.nodes}`;
    }
  }
  if (d.overrides) reason += `, with ${d.overrides.join(" ")}`;
  return {
    restart: {
      why: reason,
      mode,
      ...(d.newTimeMinutes !== undefined ? { timeMinutes: d.newTimeMinutes } : {}),
      ...(extraArgs ? { extraArgs } : {}),
      ...(d.overrides ? { overrides: d.overrides } : {}),
      ...(d.waitSeconds !== undefined
        ? { notBefore: new Date(ctx.now + d.waitSeconds * 1000).toISOString() }
        : {}),
    },
    reason,
  };
}

/** Compares two condition operands: numerically when both are numbers, else as strings. */
function compare(a: string, b: string): number {
  const x = Number(a), y = Number(b);
  if (a.trim() !== "" && b.trim() !== "" && Number.isFinite(x) && Number.isFinite(y)) {
    return x === y ? 0 : x < y ? -1 : 1;
  }
  return a === b ? 0 : a < b ? -1 : 1;
}

/**
 * Evaluates a `MetadataCondition` against expanded operands: `actual` is the context value of
 * the condition's key (undefined when absent: only `not_equals` / `not_in` hold then).
 */
export function metadataHolds(
  op: Extract<ConditionSpec, { kind: "metadata" }>["op"],
  actual: string | undefined,
  expected: string | readonly string[],
): boolean {
  const list = Array.isArray(expected) ? expected as readonly string[] : [expected as string];
  if (actual === undefined) return op === "not_equals" || op === "not_in";
  switch (op) {
    case "equals":
      return compare(actual, list[0]) === 0;
    case "not_equals":
      return compare(actual, list[0]) !== 0;
    case "gt":
      return compare(actual, list[0]) > 0;
    case "ge":
      return compare(actual, list[0]) >= 0;
    case "lt":
      return compare(actual, list[0]) < 0;
    case "le":
      return compare(actual, list[0]) <= 0;
    case "in":
      return list.some((v) => compare(actual, v) === 0);
    case "not_in":
      return !list.some((v) => compare(actual, v) === 0);
  }
}

/** Actions of a run still to finish (queued, or started and not ended). */
export function openActions(
  actions: Readonly<Record<string, ActionRecord>> | undefined,
  run: string,
): ActionRecord[] {
  if (!actions) return [];
  return Object.values(actions).filter((a) =>
    a.run === run && (a.status === "queued" || a.status === "started")
  );
}

/**
 * A run is done when its latest attempt has a final verdict that was decided (no restart
 * pending) and none of its actions is still open. A run without attempts is not done.
 */
/** Marks the attempt made again without the monitor's `--exclude` (tried once). */
export const WITHOUT_EXCLUDE = "again without excluding the failed node";

/**
 * A restart that excluded the failed attempt's node, refused by sbatch because no other node
 * can run the job (a partition of one node, or all others down): the request to make it once
 * more without the exclusion, or null. Pure: the run's attempts and the refused intent.
 */
export function retryWithoutExclude(
  run: RunRecord,
  intents: Readonly<Record<string, IntentRecord>>,
): RestartRequest | null {
  const n = run.attempts.length;
  const a = run.attempts[n - 1];
  const prev = run.attempts[n - 2];
  if (!a || !prev?.restart || a.state !== "submit_failed") return null;
  const intent = intents[String(a.intent)];
  if (intent?.status !== "failed") return null;
  const extra = prev.restart.extraArgs ?? [];
  if (!extra.some((x) => x.startsWith("--exclude="))) return null;
  if (
    !/node configuration is not available|ReqNodeNotAvail|Invalid node name/i.test(
      intent.error ?? "",
    )
  ) {
    return null;
  }
  if (run.attempts.some((x) => x.why?.includes(WITHOUT_EXCLUDE))) return null;
  const rest = extra.filter((x) => !x.startsWith("--exclude="));
  const { extraArgs: _, ...request } = prev.restart;
  return {
    ...request,
    why: `${prev.restart.why}; ${WITHOUT_EXCLUDE} (sbatch: ${intent.error})`,
    ...(rest.length ? { extraArgs: rest } : {}),
  };
}

export function runDone(
  run: RunRecord,
  actions: Readonly<Record<string, ActionRecord>> | undefined,
): boolean {
  const a = run.attempts[run.attempts.length - 1];
  if (!a) return false;
  if (a.state === "submit_failed") return openActions(actions, run.name).length === 0;
  if (!a.verdictFinal || a.restart || !a.restartDeclined) return false;
  return openActions(actions, run.name).length === 0;
}
