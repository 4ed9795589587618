/**
 * Start conditions (`monitoring.start_conditions`): whether the monitor follows a run's log yet.
 * Pure: the conditions are checked by observe.ts (a file exists, a command exits 0) and their
 * outcome comes in as "what did not hold" (null: all held); here is decided when to check
 * again, when to give up waiting, and what to tell the user.
 *
 * @module
 */
import type { StartConditionsSpec } from "../monitoring/spec_types.ts";

/** Where one run stands (kept in memory: a restarted monitor checks again, which is harmless). */
export interface StartGate {
  /** When the monitor first checked (ms). */
  readonly since: number;
  /** When it last checked (ms). */
  readonly lastCheck: number;
  /** `met`: the conditions held; `gave_up`: the timeout passed; both follow the log. */
  readonly state: "waiting" | "met" | "gave_up";
}

/** Whether the run's log is followed. */
export function following(gate: StartGate | undefined): boolean {
  return gate !== undefined && gate.state !== "waiting";
}

/** Whether the conditions are to be checked now. */
export function startCheckDue(
  spec: StartConditionsSpec,
  gate: StartGate | undefined,
  now: number,
): boolean {
  if (!gate) return true;
  return gate.state === "waiting" && now - gate.lastCheck >= spec.pollSeconds * 1000;
}

/**
 * The gate after a check whose unmet condition is `unmet` (null: all held), with a line for the
 * user when something changed (the first wait, the conditions holding, the timeout).
 *
 * @example
 * decideStart(spec, undefined, null, 0, "train").gate.state // "met"
 */
export function decideStart(
  spec: StartConditionsSpec,
  gate: StartGate | undefined,
  unmet: string | null,
  now: number,
  run: string,
): { gate: StartGate; say?: string } {
  const since = gate?.since ?? now;
  if (unmet === null) {
    return {
      gate: { since, lastCheck: now, state: "met" },
      ...(gate ? { say: `${run}: start conditions hold; following its log` } : {}),
    };
  }
  const waited = now - since;
  if (spec.timeoutSeconds !== null && waited >= spec.timeoutSeconds * 1000) {
    return {
      gate: { since, lastCheck: now, state: "gave_up" },
      say: `${run}: start conditions did not hold within ${spec.timeoutSeconds} s ` +
        `(${unmet}); following its log anyway`,
    };
  }
  return {
    gate: { since, lastCheck: now, state: "waiting" },
    ...(gate ? {} : {
      say: `${run}: waiting for its start conditions (${unmet}; checked every ` +
        `${spec.pollSeconds} s${
          spec.timeoutSeconds !== null ? `, up to ${spec.timeoutSeconds} s` : ""
        })`,
    }),
  };
}
