/**
 * The validated monitoring spec of a run: what `parseMonitorSpec` (spec.ts) makes of the
 * `monitoring` group and the top-level `restart_policies` list, in the seeds' formats. Pure data;
 * every string that may hold `{placeholders}` is a {@link Template}, expanded when an event fires.
 *
 * @module
 */
import type { LogEventSpec } from "./events.ts";
import type { FailureMode } from "./vocabulary.ts";
import type { RestartPolicy } from "./policies.ts";

/** A string with Python `str.format` style `{name}` / `{dotted.name}` placeholders (`{{` `}}` escape). */
export type Template = string;

/** A command: argv templates run without a shell, or one shell string run by `/bin/sh -c`. */
export type CommandSpec =
  | { readonly argv: readonly Template[] }
  | { readonly shell: Template };

/** A condition gating an action (seed 001 class names in comments). */
export type ConditionSpec =
  /** `FileExistsCondition`: `path` exists; `blocking` waits for it up to `timeoutSeconds`. */
  | {
    readonly kind: "file_exists";
    readonly path: Template;
    readonly blocking: boolean;
    /** null: wait without limit (blocking only). Default 600 when blocking. */
    readonly timeoutSeconds: number | null;
  }
  /** `CommandCondition`: the command exits 0 (within `timeoutSeconds`, default 60). */
  | { readonly kind: "command"; readonly command: CommandSpec; readonly timeoutSeconds: number }
  /**
   * `MetadataCondition`: compares event metadata (or a context value) `key` with `value`. The
   * comparisons are numeric when both sides parse as numbers, else string comparisons.
   */
  | {
    readonly kind: "metadata";
    readonly key: string;
    readonly op: "equals" | "not_equals" | "gt" | "ge" | "lt" | "le" | "in" | "not_in";
    /** A template, or a list of templates for `in` / `not_in`. */
    readonly value: Template | readonly Template[];
  }
  /** `MaxAttemptsCondition`: the run has made fewer than `maxAttempts` attempts. */
  | { readonly kind: "max_attempts"; readonly maxAttempts: number };

/** An action (seed 001 class names in comments). */
export type ActionSpec =
  /** `LogAction`: a line in the monitor's output and the sweep's event log. */
  | { readonly kind: "log"; readonly message: Template }
  /** `RunCommandAction`: runs a command; output kept in the run directory. */
  | {
    readonly kind: "command";
    readonly command: CommandSpec;
    /** Default 3600. */
    readonly timeoutSeconds: number;
    /** Working directory template; default: where autoexp was run from when planning. */
    readonly cwd: Template | null;
    readonly env: Readonly<Record<string, Template>>;
  }
  /**
   * `RunAutoexpAction`: a derived run (cooldown, evaluation) planned from the original run's
   * unresolved config plus `overrides`, submitted and monitored like any run. `name` is its
   * stable run name (default `{run}_{event}_{<identity values>}`).
   */
  | {
    readonly kind: "autoexp";
    readonly name: Template | null;
    readonly overrides: readonly Template[];
  }
  /**
   * `RestartAction`: a new attempt of the same run (it resumes from its checkpoints). A running
   * attempt is cancelled first. `timeMinutes` / `addMinutes` change the time limit; `resources`
   * are further sbatch options (config keys of the sbatch table, e.g. `mem`, `nodes`).
   */
  | {
    readonly kind: "restart";
    readonly reason: string | null;
    readonly timeMinutes: number | null;
    readonly addMinutes: number | null;
    readonly resources: Readonly<Record<string, string | number | boolean>>;
  }
  /** `CancelAction`: cancels the attempt. */
  | { readonly kind: "cancel"; readonly reason: string | null };

/** `EventAction`: an action with conditions, run inline (in order) or queued (in the background). */
export interface EventActionSpec {
  readonly mode: "inline" | "queue";
  readonly conditions: readonly ConditionSpec[];
  readonly action: ActionSpec;
}

/** A log event with its actions (`log_events` entries, or `log_signals` with a named action). */
export interface LogEventConfig {
  /** What `compileEvents` takes (no `actions`/`action` keys). */
  readonly spec: LogEventSpec;
  readonly actions: readonly EventActionSpec[];
}

/** A state event (`state_events` entries): actions when an attempt ends in (or enters) a state. */
export interface StateEventConfig {
  readonly name: string;
  /** The failure modes the event's `state.class_name` covers (e.g. `TimeoutState` -> timeout). */
  readonly modes: readonly FailureMode[];
  readonly actions: readonly EventActionSpec[];
}

/**
 * `checkpoint_watch`: the checkpoint folder as an event source, for trainers whose logs do not
 * announce saves (seed 001's cooldown scheduler polls it). A newly complete checkpoint directory
 * fires {@link event} as if its log line had been read: the same actions, once per iteration
 * whether the log or the folder showed it first.
 */
export interface CheckpointWatchSpec {
  /** The folder holding the checkpoint directories (Megatron's `--save`), a template. */
  readonly dir: Template;
  /** Directory name with one `{iteration}` placeholder (`iter_{iteration:07d}`). */
  readonly pattern: string;
  /**
   * A file in `dir` holding the newest complete iteration (Megatron's
   * `latest_checkpointed_iteration.txt`): directories up to it are complete. null: not used.
   */
  readonly trackerFile: string | null;
  /** A file inside a checkpoint directory whose presence marks it complete; null: not used. */
  readonly completeFile: string | null;
  /** The log event whose actions a complete checkpoint fires. */
  readonly event: string;
  /** How often the folder is read (seconds). */
  readonly intervalSeconds: number;
}

/**
 * `start_conditions`: what must hold before the monitor follows a run's log (a file exists, a
 * command succeeds), checked every `pollSeconds`; after `timeoutSeconds` the monitor says so and
 * follows the log anyway (null: waits as long as the run lives).
 */
export interface StartConditionsSpec {
  readonly conditions: readonly Extract<ConditionSpec, { kind: "file_exists" | "command" }>[];
  readonly pollSeconds: number;
  readonly timeoutSeconds: number | null;
}

/** The whole monitoring spec of one run. */
export interface MonitorSpec {
  /** Longest interval between scheduler queries (`poll_interval_seconds`, default 60). */
  readonly pollIntervalSeconds: number;
  /** Interval of log/output polling for running attempts (`log_poll_seconds`, default 1). */
  readonly logPollSeconds: number;
  /** No log/output growth for this long while running is a stall; null: never. */
  readonly inactivityThresholdSeconds: number | null;
  /** Extra files whose growth counts as activity (`output_paths`), templates. */
  readonly outputPaths: readonly Template[];
  /** Whether the built-in Megatron/PyTorch/SLURM patterns are matched too (default true). */
  readonly builtinEvents: boolean;
  readonly logEvents: readonly LogEventConfig[];
  readonly stateEvents: readonly StateEventConfig[];
  readonly restartPolicies: readonly RestartPolicy[];
  /**
   * `restart.max_restarts_without_progress`: restarts in a row without progress after which a
   * run is not restarted again (0: off). Absent in monitor files written before it existed.
   */
  readonly maxRestartsWithoutProgress?: number;
  /** Set only when configured (monitor files written before it lack the key). */
  readonly checkpointWatch?: CheckpointWatchSpec;
  /** Set only when configured. */
  readonly startConditions?: StartConditionsSpec;
}

/** Placeholders every action knows (the monitor builds them; the planner checks against them). */
export const CONTEXT_KEYS = [
  "run",
  "name",
  "run_name",
  "run_dir",
  "output_dir",
  "sweep_dir",
  "sweep",
  "index",
  "attempt",
  "job_id",
  "timestamp",
  "event",
] as const;

/** Placeholders the actions of state events know besides {@link CONTEXT_KEYS}. */
export const STATE_KEYS = ["state", "mode", "reason", "exit_code"] as const;
