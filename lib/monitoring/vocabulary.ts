/**
 * The monitor's words, each declared once: the kinds of log events, and the failure modes that
 * restart policies, state events and budgets are keyed by. Types are derived from the arrays, so
 * validation, help text and the type checker cannot drift apart.
 *
 * @module
 */

/**
 * What a matched log line means to the monitor:
 * - `progress`: training is advancing (iteration, validation line);
 * - `checkpoint_start`: a save began (or an async save was scheduled), not yet usable;
 * - `checkpoint`: a save completed (`checkpoint_iteration`, `checkpoint_path`);
 * - `resumed`: a checkpoint was loaded (the attempt resumed from `checkpoint_iteration`);
 * - `oom`; `nccl` (NCCL watchdog timeout, communicator failure); `nan` (NaN/Inf in loss or
 *   gradients);
 * - `timeout` (SLURM cancelled the job at its time limit), `preempted`, `node_fail`;
 * - `cancelled`: cancelled without a reason (usually `scancel`) or one not listed above;
 * - `completed`: the training loop finished; `exited`: a clean early exit (exit signal, duration
 *   or interval), normally after a save; `crashed`;
 * - `noise`: periodic chatter that must not count as progress.
 */
export const EVENT_KINDS = [
  "progress",
  "checkpoint_start",
  "checkpoint",
  "resumed",
  "oom",
  "nccl",
  "nan",
  "timeout",
  "preempted",
  "node_fail",
  "cancelled",
  "completed",
  "exited",
  "crashed",
  "noise",
] as const;

/** One of {@link EVENT_KINDS}. */
export type EventKind = (typeof EVENT_KINDS)[number];

/**
 * Failure modes restart policies are keyed by (seed 000's `restart_policies[].mode`). `nccl` is
 * a run that failed after its log showed a communication failure (an NCCL watchdog timeout, an
 * `NCCL error`, an error of `ProcessGroupNCCL`): often a bad node or link, worth restarting
 * elsewhere, while a `crash` is the program's own.
 */
export const FAILURE_MODES = [
  "stall",
  "timeout",
  "crash",
  "nccl",
  "success",
  "oom",
  "node_fail",
  "preempted",
  "cancelled",
  "blocked",
] as const;

/** One of {@link FAILURE_MODES}. */
export type FailureMode = (typeof FAILURE_MODES)[number];

/**
 * The state word of each failure mode where they differ: `status`, the stream and `--json` say
 * how an attempt *is* (`out_of_memory`, SLURM's word), a failure mode says how it *ended*
 * (`oom`). The config takes either word wherever it takes a mode, so one word can be used
 * throughout.
 */
export const STATE_OF_MODE: Readonly<Partial<Record<FailureMode, string>>> = {
  crash: "failed",
  oom: "out_of_memory",
  stall: "stalled",
  nccl: "nccl_failed",
  success: "completed",
};

/** How an attempt ended, in words (`attempt 2 ran out of memory`). */
export const ENDED: Readonly<Record<FailureMode, string>> = {
  stall: "stalled",
  timeout: "reached its time limit",
  crash: "crashed",
  nccl: "failed in NCCL communication",
  success: "completed",
  oom: "ran out of memory",
  node_fail: "lost its node",
  preempted: "was preempted",
  cancelled: "was cancelled",
  blocked: "was blocked by a dependency",
};

/** A failure mode from a mode word or the state word of a mode (`out_of_memory` -> `oom`). */
export function modeOf(word: string): FailureMode | null {
  if (isOneOf(FAILURE_MODES, word)) return word;
  for (const [mode, state] of Object.entries(STATE_OF_MODE)) {
    if (state === word) return mode as FailureMode;
  }
  return null;
}

/** Whether a string is one of a vocabulary's words (a type guard). */
export function isOneOf<T extends string>(words: readonly T[], s: unknown): s is T {
  return typeof s === "string" && (words as readonly string[]).includes(s);
}
