/**
 * Bounded retry with exponential backoff for transient scheduler failures (field notes, "Load
 * on the scheduler": submissions and queries fail with `Socket timed out`, `Unable to contact
 * slurm controller`, `AssocMaxSubmitJobLimit`, ... and succeed a little later).
 *
 * Only a {@link SchedulerError} marked `transient` is retried; anything else is thrown at once.
 * The sleep function is injected (tests pass one that records the delays), and `onRetry` lets
 * the caller say what is going on: "slurmctld did not answer, retrying in 4 s (attempt 2/5)".
 *
 * Note that a SLURM client command itself already waits about `MessageTimeout` (10 s on the
 * test cluster, ~9 s measured) before it reports that slurmctld is unreachable, so with the
 * default policy an outage is ridden out for about 5 x 9 s of commands plus 2+4+8+16 s of
 * sleeping, a bit over a minute, before the error reaches the user.
 *
 * @module
 */

import { SchedulerError } from "../errors.ts";

/** How often and how patiently to retry. */
export interface RetryPolicy {
  /** Attempts in all, the first one included (>= 1). */
  readonly maxAttempts: number;
  /** Sleep after the first failed attempt, in milliseconds. */
  readonly initialDelayMs: number;
  /** Each further sleep is the previous one times this. */
  readonly factor: number;
  /** No sleep is longer than this. */
  readonly maxDelayMs: number;
}

/** 5 attempts, sleeping 2, 4, 8, 16 s in between (capped at 30 s). */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 5,
  initialDelayMs: 2_000,
  factor: 2,
  maxDelayMs: 30_000,
};

/** What `onRetry` is told before each sleep. */
export interface RetryNotice {
  /** The attempt that just failed (1-based). */
  readonly attempt: number;
  /** The attempt that comes after the sleep. */
  readonly nextAttempt: number;
  readonly maxAttempts: number;
  readonly delayMs: number;
  readonly error: SchedulerError;
  /** Ready to show: "slurmctld did not answer, retrying in 4 s (attempt 2/5)". */
  readonly message: string;
}

/** Options of {@link withRetry}. */
export interface RetryOptions {
  readonly policy?: Partial<RetryPolicy>;
  /** Defaults to a `setTimeout` promise. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Told before each sleep; `message` is `notice.message`, for callers that only print it. */
  readonly onRetry?: (message: string, notice: RetryNotice) => void;
  /** Says why the attempt failed, in a few words (default: the error's first line). */
  readonly describe?: (error: SchedulerError) => string;
}

/** Sleeps `ms` milliseconds. */
export function realSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The sleep after failed attempt `attempt` (1-based): `initialDelayMs * factor^(attempt-1)`,
 * capped at `maxDelayMs`.
 *
 * @example
 * retryDelayMs(DEFAULT_RETRY_POLICY, 2); // 4000
 */
export function retryDelayMs(policy: RetryPolicy, attempt: number): number {
  const d = policy.initialDelayMs * Math.pow(policy.factor, Math.max(0, attempt - 1));
  return Math.min(policy.maxDelayMs, Math.round(d));
}

/** Formats a delay for people: `4 s`, `1.5 s`, `2 min`. */
export function formatDelay(ms: number): string {
  if (ms >= 120_000 && ms % 60_000 === 0) return `${ms / 60_000} min`;
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)} s`;
}

/**
 * Runs `fn` until it succeeds, retrying transient {@link SchedulerError}s with exponential
 * backoff. `fn` gets the attempt number (1-based). When the last attempt fails too, a
 * SchedulerError saying how many attempts were made is thrown, with the last error as `cause`
 * and its details (argv, exit code, stderr, `transient: true`).
 */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  opts: RetryOptions = {},
): Promise<T> {
  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...opts.policy };
  const max = Math.max(1, Math.floor(policy.maxAttempts));
  const sleep = opts.sleep ?? realSleep;
  const describe = opts.describe ?? ((e: SchedulerError) => e.message.split("\n")[0]);
  for (let attempt = 1;; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      if (!(e instanceof SchedulerError) || !e.details.transient) throw e;
      if (attempt >= max) {
        if (max === 1) throw e;
        throw new SchedulerError(
          `${e.message}\n(gave up after ${max} attempts)`,
          e.details,
          { cause: e },
        );
      }
      const delayMs = retryDelayMs(policy, attempt);
      const message = `${describe(e)}, retrying in ${formatDelay(delayMs)} (attempt ${
        attempt + 1
      }/${max})`;
      opts.onRetry?.(message, {
        attempt,
        nextAttempt: attempt + 1,
        maxAttempts: max,
        delayMs,
        error: e,
        message,
      });
      await sleep(delayMs);
    }
  }
}
