/**
 * Restart policies per failure mode, as seed 000 writes them:
 *
 * ```yaml
 * restart_policies:
 *   - mode: stall
 *     implementation: {class_name: AlwaysRestartPolicy, max_retries: 2}
 *   - mode: timeout
 *     implementation: {class_name: AdjustTimeLimitPolicy, minutes: 30}
 *   - mode: crash
 *     implementation: {class_name: NoRestartPolicy, message: "manual intervention required"}
 * ```
 *
 * {@link parseRestartPolicies} validates the parsed YAML (every problem in one `ConfigError`,
 * each naming its key path, with "did you mean" suggestions); {@link decideRestart} applies
 * them. `max_retries` counts restarts for that mode of that run. A mode without a policy is
 * not restarted.
 *
 * The two restarting classes also take (per failure mode):
 * - `backoff_base` (seed 004): the n-th restart for this mode waits `backoff_base ** n`
 *   seconds (2, 4, 8 with base 2), at most `max_backoff_seconds`; the wait is a journaled
 *   not-before time, not a sleep;
 * - `exclude_failed_nodes: true`: the new attempt of a failed one-node attempt is submitted with
 *   `--exclude=<that node>` (for `nccl` and `node_fail`: a bad node or link); a multi-node
 *   attempt does not say which node failed, so none is excluded;
 * - `overrides: ["backend.args.micro_batch_size=2"]` (seed 003's `checkpoint()` returning a
 *   changed call): the new attempt runs the run re-planned with these overrides of `backend.*`
 *   keys (its command and environment; later restarts keep them). The planner checks that the
 *   keys exist in each run's config.
 *
 * Seed 001's `state_events` (state classes plus conditional actions such as
 * `MetadataCondition`) are not read here: they belong with the action engine.
 *
 * @module
 */

import { ConfigError, type ConfigProblem } from "../errors.ts";
import { didYouMean } from "../config/suggest.ts";
import { parseOverride } from "../config/overrides.ts";
import { ENDED, FAILURE_MODES, type FailureMode, modeOf } from "./vocabulary.ts";

/** Options both restarting classes take. */
export interface RestartOptions {
  /** Seed 004: restart n of this mode waits `backoffBase ** n` seconds. */
  readonly backoffBase?: number;
  /** The longest wait (seconds) {@link backoffBase} may give. */
  readonly maxBackoffSeconds?: number;
  /** Submit the new attempt with `--exclude=<nodes of the failed attempt>`. */
  readonly excludeFailedNodes?: boolean;
  /** Overrides (`backend.args.micro_batch_size=2`) the new attempt is re-planned with. */
  readonly overrides?: readonly string[];
}

/** Restart with a budget. */
export interface AlwaysRestartPolicy extends RestartOptions {
  readonly mode: FailureMode;
  readonly className: "AlwaysRestartPolicy";
  readonly maxRetries: number;
}

/** Restart with `minutes` more time each time (up to `maxMinutes`), optionally with a budget. */
export interface AdjustTimeLimitPolicy extends RestartOptions {
  readonly mode: FailureMode;
  readonly className: "AdjustTimeLimitPolicy";
  readonly minutes: number;
  readonly maxRetries?: number;
  readonly maxMinutes?: number;
}

/** Never restart; `message` is shown as the reason. */
export interface NoRestartPolicy {
  readonly mode: FailureMode;
  readonly className: "NoRestartPolicy";
  readonly message?: string;
}

/** One validated restart policy. */
export type RestartPolicy = AlwaysRestartPolicy | AdjustTimeLimitPolicy | NoRestartPolicy;

/** The policy class names and the implementation keys each takes (besides `class_name`). */
const OPTION_KEYS = ["backoff_base", "max_backoff_seconds", "exclude_failed_nodes", "overrides"];
const CLASS_KEYS: Readonly<Record<RestartPolicy["className"], readonly string[]>> = {
  AlwaysRestartPolicy: ["max_retries", ...OPTION_KEYS],
  AdjustTimeLimitPolicy: ["minutes", "max_retries", "max_minutes", ...OPTION_KEYS],
  NoRestartPolicy: ["message"],
};

/**
 * Words users may reach for that name a mode under another name: an error that says which
 * (one name per mode; an alias accepted silently would be a second vocabulary).
 */
const MODE_ALIASES: Readonly<Record<string, FailureMode>> = {
  communication: "nccl",
  comm: "nccl",
  network: "nccl",
  watchdog: "nccl",
  failure: "crash",
  node_failure: "node_fail",
  preemption: "preempted",
};

const ENTRY_KEYS = ["mode", "implementation"];

/**
 * Validates seed 000's `restart_policies` list (null or absent: no policies). Throws one
 * `ConfigError` listing every problem, paths like `restart_policies[1].implementation.minutes`.
 */
export function parseRestartPolicies(value: unknown, path = "restart_policies"): RestartPolicy[] {
  if (value === undefined || value === null) return [];
  const problems: ConfigProblem[] = [];
  const out: RestartPolicy[] = [];
  if (!Array.isArray(value)) {
    throw new ConfigError({ path, message: `expected a list of policies, got ${kind(value)}` });
  }
  const seen = new Map<string, number>();
  value.forEach((entry, i) => {
    const at = `${path}[${i}]`;
    if (!isRecord(entry)) {
      problems.push({ path: at, message: `expected a mapping {mode, implementation}` });
      return;
    }
    unknownKeys(entry, ENTRY_KEYS, at, problems);
    // A mode's state word (`out_of_memory`) names the mode too (vocabulary.ts).
    const mode = typeof entry.mode === "string" ? modeOf(entry.mode) ?? entry.mode : entry.mode;
    let okMode: FailureMode | null = null;
    if (typeof mode !== "string") {
      problems.push({
        path: `${at}.mode`,
        message: mode === undefined
          ? `missing; one of ${FAILURE_MODES.join(", ")}`
          : `expected a string, got ${kind(mode)}`,
      });
    } else if (!(FAILURE_MODES as readonly string[]).includes(mode)) {
      const alias = MODE_ALIASES[mode.toLowerCase()];
      problems.push({
        path: `${at}.mode`,
        message: (alias
          ? `unknown mode "${mode}"; did you mean "${alias}"?`
          : withSuggestion(`unknown mode "${mode}"`, mode, FAILURE_MODES)) +
          `; one of ${FAILURE_MODES.join(", ")}`,
      });
    } else if (seen.has(mode)) {
      problems.push({
        path: `${at}.mode`,
        message: `"${mode}" already has a policy at ${path}[${seen.get(mode)}]`,
      });
    } else {
      seen.set(mode, i);
      okMode = mode as FailureMode;
    }
    const impl = entry.implementation;
    const ip = `${at}.implementation`;
    if (!isRecord(impl)) {
      problems.push({
        path: ip,
        message: impl === undefined
          ? "missing; a mapping with class_name"
          : `expected a mapping with class_name, got ${kind(impl)}`,
      });
      return;
    }
    const cls = impl.class_name;
    const classes = Object.keys(CLASS_KEYS);
    if (typeof cls !== "string" || !(cls in CLASS_KEYS)) {
      problems.push({
        path: `${ip}.class_name`,
        message: typeof cls === "string"
          ? withSuggestion(`unknown policy "${cls}"`, cls, classes)
          : `${cls === undefined ? "missing" : `expected a string, got ${kind(cls)}`}; one of ${
            classes.join(", ")
          }`,
      });
      return;
    }
    const className = cls as RestartPolicy["className"];
    unknownKeys(impl, ["class_name", ...CLASS_KEYS[className]], ip, problems);
    const before = problems.length;
    let policy: RestartPolicy | null = null;
    if (className === "AlwaysRestartPolicy") {
      const maxRetries = count(impl, "max_retries", ip, problems, true);
      const options = restartOptions(impl, ip, problems);
      if (maxRetries !== undefined) policy = { mode: okMode!, className, maxRetries, ...options };
    } else if (className === "AdjustTimeLimitPolicy") {
      const minutes = count(impl, "minutes", ip, problems, true, 1);
      const maxRetries = count(impl, "max_retries", ip, problems, false);
      const maxMinutes = count(impl, "max_minutes", ip, problems, false, 1);
      const options = restartOptions(impl, ip, problems);
      if (minutes !== undefined) {
        policy = {
          mode: okMode!,
          className,
          minutes,
          ...(maxRetries !== undefined ? { maxRetries } : {}),
          ...(maxMinutes !== undefined ? { maxMinutes } : {}),
          ...options,
        };
      }
    } else {
      const message = impl.message;
      if (message !== undefined && message !== null && typeof message !== "string") {
        problems.push({
          path: `${ip}.message`,
          message: `expected a string, got ${kind(message)}`,
        });
      } else {
        policy = typeof message === "string"
          ? { mode: okMode!, className, message }
          : { mode: okMode!, className };
      }
    }
    if (policy && okMode && problems.length === before) out.push(policy);
  });
  if (problems.length) throw new ConfigError(problems);
  return out;
}

/** `backoff_base`, `max_backoff_seconds`, `exclude_failed_nodes` of a restarting policy. */
function restartOptions(
  impl: Record<string, unknown>,
  at: string,
  problems: ConfigProblem[],
): RestartOptions {
  const out: { -readonly [K in keyof RestartOptions]: RestartOptions[K] } = {};
  const base = impl.backoff_base;
  if (base !== undefined && base !== null) {
    if (typeof base !== "number" || !Number.isFinite(base) || base < 1) {
      problems.push({
        path: `${at}.backoff_base`,
        message: `expected a number >= 1 (seconds: restart n waits backoff_base ** n), got ${
          JSON.stringify(base)
        }`,
      });
    } else out.backoffBase = base;
  }
  const cap = count(impl, "max_backoff_seconds", at, problems, false);
  if (cap !== undefined) {
    if (out.backoffBase === undefined && base === undefined) {
      problems.push({
        path: `${at}.max_backoff_seconds`,
        message: "caps the wait of backoff_base, which is not set",
      });
    } else out.maxBackoffSeconds = cap;
  }
  const ex = impl.exclude_failed_nodes;
  if (ex !== undefined && ex !== null) {
    if (typeof ex !== "boolean") {
      problems.push({
        path: `${at}.exclude_failed_nodes`,
        message: `expected true or false, got ${JSON.stringify(ex)}`,
      });
    } else if (ex) out.excludeFailedNodes = true;
  }
  const ov = impl.overrides;
  if (ov !== undefined && ov !== null) {
    const list = restartOverrides(ov, `${at}.overrides`, problems);
    if (list.length) out.overrides = list;
  }
  return out;
}

/**
 * A policy's `overrides`: a list of `key=value` (or `+key=value`) strings whose keys are under
 * `backend.` (what a run executes; its resources have their own options: `minutes`,
 * RestartAction's `resources`). Whether the keys exist is checked per run by the planner.
 */
function restartOverrides(v: unknown, at: string, problems: ConfigProblem[]): string[] {
  if (!Array.isArray(v)) {
    problems.push({ path: at, message: `expected a list of "key=value" strings, got ${kind(v)}` });
    return [];
  }
  const out: string[] = [];
  v.forEach((o, j) => {
    const where = `${at}[${j}]`;
    if (typeof o !== "string") {
      problems.push({ path: where, message: `expected a "key=value" string, got ${kind(o)}` });
      return;
    }
    let parsed;
    try {
      parsed = parseOverride(o);
    } catch (e) {
      problems.push({ path: where, message: (e as Error).message });
      return;
    }
    if ((parsed.kind !== "set" && parsed.kind !== "add") || parsed.value === undefined) {
      problems.push({
        path: where,
        message: `"${o}": a restart sets values (key=value or +key=value)`,
      });
    } else if (parsed.sweep) {
      problems.push({ path: where, message: `"${o}" is a sweep; a restart sets one value` });
    } else if (!parsed.key.startsWith("backend.")) {
      problems.push({
        path: where,
        message: `"${o}": a restart may override backend.* keys (the run's command and ` +
          "environment); its time limit and resources have their own options",
      });
    } else out.push(o);
  });
  return out;
}

/**
 * The wait (seconds) before restart `n` (1-based, counted per failure mode) under seed 004's
 * formula `backoff_base ** n`, capped at `max_backoff_seconds`; 0 without `backoff_base`.
 *
 * @example
 * backoffSeconds({ backoffBase: 2 }, 3); // 8
 */
export function backoffSeconds(options: RestartOptions, n: number): number {
  if (options.backoffBase === undefined) return 0;
  const wait = options.backoffBase ** n;
  return Math.min(wait, options.maxBackoffSeconds ?? Infinity);
}

/** What the run's history says, for {@link decideRestart}. */
export interface RestartHistory {
  /** Attempts made so far for this run (all modes). */
  readonly attemptsSoFar: number;
  /** Restarts already made for this failure mode for this run. */
  readonly restartsForMode: number;
  /** The time limit of the attempt that just ended, in minutes. */
  readonly currentTimeMinutes: number;
}

/** The decision for one ended attempt. */
export interface RestartDecision {
  readonly restart: boolean;
  readonly reason: string;
  /** For {@link AdjustTimeLimitPolicy}: the time limit of the next attempt. */
  readonly newTimeMinutes?: number;
  /** Seconds to wait before the new attempt is submitted (`backoff_base`); absent: none. */
  readonly waitSeconds?: number;
  /** The policy asks to exclude the failed attempt's nodes. */
  readonly excludeFailedNodes?: boolean;
  /** The overrides the new attempt is re-planned with. */
  readonly overrides?: readonly string[];
}

/**
 * Whether to restart a run whose attempt ended in `mode` (null: not ended; never restarted).
 * Budgets are per mode: `max_retries: 2` allows two restarts after that failure mode.
 */
export function decideRestart(
  policies: readonly RestartPolicy[],
  mode: FailureMode | null,
  history: RestartHistory,
): RestartDecision {
  if (mode === null) return { restart: false, reason: "the attempt has not ended" };
  const policy = policies.find((p) => p.mode === mode);
  const after = `attempt ${history.attemptsSoFar} ${ENDED[mode]}`;
  if (!policy) {
    return { restart: false, reason: `${after}; no restart policy for "${mode}"` };
  }
  const used = history.restartsForMode;
  switch (policy.className) {
    case "NoRestartPolicy":
      return {
        restart: false,
        reason: `${after}; ${policy.message ?? "the policy is never to restart"}`,
      };
    case "AlwaysRestartPolicy":
      if (used >= policy.maxRetries) {
        return {
          restart: false,
          reason: `${after}; restart budget exhausted (${used} of ${policy.maxRetries} used)`,
        };
      }
      return withOptions(policy, used + 1, {
        restart: true,
        reason: `${after}; restart ${used + 1} of ${policy.maxRetries}`,
      });
    case "AdjustTimeLimitPolicy": {
      if (policy.maxRetries !== undefined && used >= policy.maxRetries) {
        return {
          restart: false,
          reason: `${after}; restart budget exhausted (${used} of ${policy.maxRetries} used)`,
        };
      }
      const cur = history.currentTimeMinutes;
      let next = cur + policy.minutes;
      let capped = "";
      if (policy.maxMinutes !== undefined && next > policy.maxMinutes) {
        next = Math.max(cur, policy.maxMinutes);
        capped = ` (capped at max_minutes ${policy.maxMinutes})`;
      }
      const budget = policy.maxRetries !== undefined ? ` ${used + 1} of ${policy.maxRetries}` : "";
      return withOptions(policy, used + 1, {
        restart: true,
        reason: `${after}; restart${budget} with time limit ${cur} -> ${next} min${capped}`,
        newTimeMinutes: next,
      });
    }
  }
}

/** Adds the wait and the node exclusion of a restarting policy to its decision. */
function withOptions(options: RestartOptions, n: number, d: RestartDecision): RestartDecision {
  const wait = backoffSeconds(options, n);
  return {
    ...d,
    ...(wait > 0 ? { waitSeconds: wait, reason: `${d.reason}, after ${wait} s (backoff)` } : {}),
    ...(options.excludeFailedNodes ? { excludeFailedNodes: true } : {}),
    ...(options.overrides?.length ? { overrides: options.overrides } : {}),
  };
}

function count(
  impl: Record<string, unknown>,
  key: string,
  at: string,
  problems: ConfigProblem[],
  required: boolean,
  min = 0,
): number | undefined {
  const v = impl[key];
  if (v === undefined || v === null) {
    if (required) problems.push({ path: `${at}.${key}`, message: `missing; an integer >= ${min}` });
    return undefined;
  }
  if (typeof v !== "number" || !Number.isInteger(v) || v < min) {
    problems.push({
      path: `${at}.${key}`,
      message: `expected an integer >= ${min}, got ${JSON.stringify(v)}`,
    });
    return undefined;
  }
  return v;
}

function unknownKeys(
  obj: Record<string, unknown>,
  allowed: readonly string[],
  at: string,
  problems: ConfigProblem[],
): void {
  for (const k of Object.keys(obj)) {
    if (allowed.includes(k)) continue;
    problems.push({
      path: `${at}.${k}`,
      message: withSuggestion(`unknown key "${k}"`, k, allowed) +
        (closest(k, allowed) ? "" : `; expected ${allowed.join(", ")}`),
    });
  }
}

function closest(word: string, candidates: readonly string[]): boolean {
  return didYouMean(word, candidates) !== "";
}

function withSuggestion(message: string, word: string, candidates: readonly string[]): string {
  const s = didYouMean(word, candidates);
  return s ? `${message}; ${s}` : message;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function kind(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  return typeof v === "string" ? `"${v}"` : typeof v;
}
