/**
 * Validation of the `monitoring` group and the `restart_policies` list into a
 * {@link MonitorSpec}, accepting the seeds' formats as written:
 *
 * - seed 000: `log_signals` entries naming one action (`action: convert_checkpoint`), the
 *   actions defined under `monitoring.actions` (a shell string, an argv list or an action
 *   mapping), and `restart_policies` (see policies.ts);
 * - seed 001: `log_events` and `state_events` with `actions:` lists of `EventAction` wrappers
 *   (`mode`, `conditions`, `action`) or bare actions (`LogAction`, `RunCommandAction`,
 *   `RunAutoexpAction`, `RestartAction`, `CancelAction`), gated by `FileExistsCondition`,
 *   `CommandCondition`, `MetadataCondition` and `MaxAttemptsCondition`.
 *
 * Every problem is collected into one `ConfigError`, each with its key path
 * (`monitoring.log_events[0].actions[1].conditions[0].timeout_seconds`) and, for unknown keys
 * and class names, the closest valid one. Templates (`{checkpoint_path}`) are checked for
 * syntax only; which names exist is the planner's business. Pure: no I/O.
 *
 * Besides the seeds' keys: `checkpoint_watch` (seed 001's cooldown scheduler polled the
 * checkpoint folder; here the folder fires a log event's actions, see
 * lib/monitor/checkpoint_watch.ts) and `start_conditions` (seed 000's "optional start
 * conditions": files or commands that must hold before a run's log is followed).
 *
 * Defaults: `mode` is `inline` in `actions:` lists and `queue` for the named actions of
 * `log_signals` (seed 000 queues them). `class_name` is accepted and ignored (the monitor class
 * is fixed); `log_path` and `log_path_template` are read by the planner (`plan/paths.ts`).
 *
 * @module
 */

import { describeValue } from "../config/describe.ts";
import { pythonStr } from "../config/python_str.ts";
import { ConfigError, type ConfigProblem } from "../errors.ts";
import { didYouMean } from "../config/suggest.ts";
import { parseSlurmTime, SBATCH_OPTIONS, SLURM_TIME } from "../config/schema/sbatch_options.ts";
import { compileEvents, type LogEventSpec } from "./events.ts";
import { FAILURE_MODES, type FailureMode, modeOf } from "./vocabulary.ts";
import { parseRestartPolicies, type RestartPolicy } from "./policies.ts";
import { placeholders } from "./template.ts";
import type {
  ActionSpec,
  CheckpointWatchSpec,
  CommandSpec,
  ConditionSpec,
  EventActionSpec,
  LogEventConfig,
  MonitorSpec,
  StartConditionsSpec,
  StateEventConfig,
} from "./spec_types.ts";

type Problems = ConfigProblem[];
type Obj = Record<string, unknown>;

const MONITOR_KEYS = [
  "class_name",
  "poll_interval_seconds",
  "check_interval_seconds",
  "log_poll_seconds",
  "inactivity_threshold_seconds",
  "log_path",
  "log_path_template",
  "output_paths",
  "builtin_events",
  "log_signals",
  "actions",
  "log_events",
  "state_events",
  "restart_policies",
  // Free-form values a preset's own interpolations use (`${monitoring.params.cooldown.lr}`).
  "params",
  "checkpoint_watch",
  "start_conditions",
  "start_poll_seconds",
  "start_timeout_seconds",
];
const WATCH_KEYS = [
  "dir",
  "pattern",
  "tracker_file",
  "complete_file",
  "event",
  "interval_seconds",
];
const START_KEYS = ["file_exists", "command", "timeout_seconds"];
const MONITOR_CLASSES = ["SlurmLogMonitor", "LogMonitor", "Monitor"];
const EVENT_LISTS = ["log_signals", "log_events"] as const;
const STATE_EVENT_KEYS = ["name", "state", "actions"];
const EVENT_ACTION_KEYS = ["class_name", "mode", "conditions", "action"];

/** `state_events[].state.class_name` -> the failure mode it covers. */
export const STATE_CLASSES: Readonly<Record<string, FailureMode>> = {
  TimeoutState: "timeout",
  CrashState: "crash",
  StallState: "stall",
  StalledState: "stall",
  OOMState: "oom",
  OutOfMemoryState: "oom",
  NodeFailState: "node_fail",
  NodeFailureState: "node_fail",
  PreemptedState: "preempted",
  CancelledState: "cancelled",
  SuccessState: "success",
  CompletedState: "success",
  BlockedState: "blocked",
  NCCLState: "nccl",
  NcclState: "nccl",
};

/** `MetadataCondition` comparison keys -> {@link ConditionSpec} ops. */
const METADATA_OPS = {
  equals: "equals",
  not_equals: "not_equals",
  greater_than: "gt",
  greater_equal: "ge",
  less_than: "lt",
  less_equal: "le",
  in: "in",
  not_in: "not_in",
} as const;

/** A class of the action or condition tables: its keys (besides `class_name`) and parser. */
interface ClassEntry<T> {
  readonly keys: readonly string[];
  readonly parse: (o: Obj, at: string, p: Problems) => T;
}

const ACTIONS: Readonly<Record<string, ClassEntry<ActionSpec>>> = {
  LogAction: {
    keys: ["message"],
    parse: (o, at, p) => ({ kind: "log", message: requiredTemplate(o, "message", at, p) }),
  },
  RunCommandAction: {
    keys: ["command", "timeout_seconds", "cwd", "env"],
    parse: (o, at, p) => ({
      kind: "command",
      command: parseCommand(o.command, `${at}.command`, p),
      timeoutSeconds: seconds(o, "timeout_seconds", at, p) ?? 3600,
      cwd: optionalTemplate(o, "cwd", at, p),
      env: parseEnv(o.env, `${at}.env`, p),
    }),
  },
  RunAutoexpAction: {
    keys: ["name", "overrides", "script", "config_path"],
    parse: (o, at, p) => ({
      kind: "autoexp",
      name: optionalTemplate(o, "name", at, p),
      overrides: parseOverrides(o.overrides, `${at}.overrides`, p),
    }),
  },
  RestartAction: {
    keys: ["reason", "time_limit", "add_minutes", "resources"],
    parse: parseRestartAction,
  },
  CancelAction: {
    keys: ["reason"],
    parse: (o, at, p) => ({ kind: "cancel", reason: optionalString(o, "reason", at, p) }),
  },
};

const CONDITIONS: Readonly<Record<string, ClassEntry<ConditionSpec>>> = {
  FileExistsCondition: {
    keys: ["path", "blocking", "timeout_seconds"],
    parse: (o, at, p) => {
      const blocking = bool(o, "blocking", at, p, false);
      // null: wait without limit; absent: 600 s when blocking.
      const timeout = o.timeout_seconds === null ? null : seconds(o, "timeout_seconds", at, p);
      return {
        kind: "file_exists",
        path: requiredTemplate(o, "path", at, p),
        blocking,
        timeoutSeconds: timeout === undefined ? (blocking ? 600 : null) : timeout,
      };
    },
  },
  CommandCondition: {
    keys: ["command", "timeout_seconds"],
    parse: (o, at, p) => ({
      kind: "command",
      command: parseCommand(o.command, `${at}.command`, p),
      timeoutSeconds: seconds(o, "timeout_seconds", at, p) ?? 60,
    }),
  },
  MetadataCondition: {
    keys: ["key", ...Object.keys(METADATA_OPS)],
    parse: parseMetadataCondition,
  },
  MaxAttemptsCondition: {
    keys: ["max_attempts"],
    parse: (o, at, p) => ({
      kind: "max_attempts",
      maxAttempts: integer(o, "max_attempts", at, p, 1, true) ?? 1,
    }),
  },
};

/**
 * Validates the resolved `monitoring` mapping (undefined or null: the defaults) and the
 * top-level `restart_policies` list into a {@link MonitorSpec}. Restart policies may instead be
 * given as `monitoring.restart_policies`, but not in both places.
 *
 * @throws {ConfigError} listing every problem found, each with its key path.
 *
 * @example
 * parseMonitorSpec({ poll_interval_seconds: 30 }, undefined).pollIntervalSeconds // 30
 */
export function parseMonitorSpec(
  monitoring: unknown,
  restartPolicies: unknown,
  where: { monitoringPath?: string; restartPath?: string } = {},
  restartGroup?: unknown,
): MonitorSpec {
  const mp = where.monitoringPath ?? "monitoring";
  const rp = where.restartPath ?? "restart_policies";
  const p: Problems = [];
  const group = parseRestartGroup(restartGroup, p);
  let m: Obj = {};
  if (isRecord(monitoring)) m = monitoring;
  else if (monitoring !== undefined && monitoring !== null) {
    p.push({ path: mp, message: `expected a mapping, got ${describeValue(monitoring)}` });
  }
  unknownKeys(m, MONITOR_KEYS, mp, p);
  checkMonitorClass(m.class_name, `${mp}.class_name`, p);
  const named = parseNamedActions(m.actions, `${mp}.actions`, p);
  const logEvents = parseLogEvents(m, mp, named, p);
  const watch = parseCheckpointWatch(m.checkpoint_watch, `${mp}.checkpoint_watch`, logEvents, p);
  const start = parseStartConditions(m, mp, p);
  const spec: MonitorSpec = {
    pollIntervalSeconds: pollInterval(m, mp, p),
    logPollSeconds: seconds(m, "log_poll_seconds", mp, p) ?? 1,
    inactivityThresholdSeconds: seconds(m, "inactivity_threshold_seconds", mp, p, true) ?? null,
    outputPaths: templateList(m.output_paths, `${mp}.output_paths`, p, false),
    builtinEvents: bool(m, "builtin_events", mp, p, true),
    logEvents,
    stateEvents: parseStateEvents(m.state_events, `${mp}.state_events`, p),
    restartPolicies: parseRestart(
      [
        { value: restartPolicies, at: rp },
        { value: m.restart_policies, at: `${mp}.restart_policies` },
        ...(group.list ? [group.list] : []),
      ],
      p,
    ),
    // Only when given (monitor files stay as they were; the default applies where it is read).
    ...(group.maxRestartsWithoutProgress !== undefined
      ? { maxRestartsWithoutProgress: group.maxRestartsWithoutProgress }
      : {}),
    ...(watch ? { checkpointWatch: watch } : {}),
    ...(start ? { startConditions: start } : {}),
  };
  if (p.length) throw new ConfigError(p);
  return spec;
}

/** The default directory name of a checkpoint (Megatron's `iter_0000500`). */
export const DEFAULT_CHECKPOINT_PATTERN = "iter_{iteration:07d}";
/** Megatron's tracker file: the newest complete iteration. */
export const DEFAULT_TRACKER_FILE = "latest_checkpointed_iteration.txt";

/**
 * `checkpoint_watch`: validated into a {@link CheckpointWatchSpec}. Its `event` (default: the one
 * log event of kind `checkpoint` that has actions) must name a log event of this spec, whose
 * actions a complete checkpoint fires.
 */
function parseCheckpointWatch(
  v: unknown,
  at: string,
  events: readonly LogEventConfig[],
  p: Problems,
): CheckpointWatchSpec | null {
  if (v === undefined || v === null) return null;
  if (!isRecord(v)) {
    p.push({
      path: at,
      message: `expected a mapping {dir, pattern, tracker_file, complete_file, event, ` +
        `interval_seconds}, got ${describeValue(v)}`,
    });
    return null;
  }
  unknownKeys(v, WATCH_KEYS, at, p);
  const dir = requiredTemplate(v, "dir", at, p);
  const pattern = optionalString(v, "pattern", at, p) ?? DEFAULT_CHECKPOINT_PATTERN;
  try {
    checkpointDirRegex(pattern);
  } catch (e) {
    p.push({ path: `${at}.pattern`, message: (e as Error).message });
  }
  const trackerFile = v.tracker_file === null
    ? null
    : optionalString(v, "tracker_file", at, p) ?? DEFAULT_TRACKER_FILE;
  const completeFile = optionalString(v, "complete_file", at, p);
  for (const [key, f] of [["tracker_file", trackerFile], ["complete_file", completeFile]]) {
    if (f !== null && (!f || f.includes("/") || f === "." || f === "..")) {
      p.push({ path: `${at}.${key}`, message: `expected a file name, got ${JSON.stringify(f)}` });
    }
  }
  if (trackerFile === null && completeFile === null) {
    p.push({
      path: `${at}.tracker_file`,
      message: "is null and complete_file is not given: nothing tells when a checkpoint is " +
        "complete; keep the tracker file or name a file the trainer writes last in each " +
        "checkpoint directory (complete_file)",
    });
  }
  const withActions = events.filter((e) => e.actions.length);
  const named = optionalString(v, "event", at, p);
  let event = "";
  if (named !== null) {
    const names = events.map((e) => e.spec.name);
    if (!names.includes(named)) {
      p.push({
        path: `${at}.event`,
        message: withSuggestion(`no log event named "${named}"`, named, names) +
          (names.length ? `; the log events: ${names.join(", ")}` : "; define it under log_events"),
      });
    } else event = named;
  } else {
    const checkpoints = withActions.filter((e) =>
      (e.spec.kind ?? e.spec.metadata?.kind) === "checkpoint"
    );
    if (checkpoints.length === 1) event = checkpoints[0].spec.name;
    else {
      p.push({
        path: `${at}.event`,
        message: checkpoints.length
          ? `several checkpoint events have actions (${
            checkpoints.map((e) => e.spec.name).join(", ")
          }); name the one a complete checkpoint fires`
          : "missing, and no log event of kind checkpoint has actions; name the log event " +
            "whose actions a complete checkpoint fires, or add one under log_events " +
            "(metadata: {kind: checkpoint}) with its actions",
      });
    }
  }
  return {
    dir,
    pattern,
    trackerFile,
    completeFile,
    event,
    intervalSeconds: seconds(v, "interval_seconds", at, p) ?? 30,
  };
}

/**
 * The regex of a checkpoint directory name pattern: literal text around exactly one
 * `{iteration}` (optionally with a zero-padded width, `{iteration:07d}`), whose digits it
 * captures. Throws an Error saying what is wrong.
 *
 * @example checkpointDirRegex("iter_{iteration:07d}").exec("iter_0000500")?.[1] // "0000500"
 */
export function checkpointDirRegex(pattern: string): RegExp {
  const parts = pattern.split(/\{iteration(?::0?\d*d)?\}/);
  if (parts.length !== 2) {
    throw new Error(
      `expected a directory name with one {iteration} placeholder (such as ` +
        `"${DEFAULT_CHECKPOINT_PATTERN}" or "checkpoint-{iteration}"), got ${
          JSON.stringify(pattern)
        }`,
    );
  }
  if (/[{}\/]/.test(parts.join(""))) {
    throw new Error(
      `only {iteration} may be a placeholder, and no "/" (a name inside dir), in ` +
        JSON.stringify(pattern),
    );
  }
  const esc = (x: string) => x.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`^${esc(parts[0])}(\\d+)${esc(parts[1])}$`);
}

/** `start_conditions` (a list of `{file_exists: PATH}` / `{command: CMD}`) and their timing. */
function parseStartConditions(m: Obj, mp: string, p: Problems): StartConditionsSpec | null {
  const at = `${mp}.start_conditions`;
  const v = m.start_conditions;
  const poll = seconds(m, "start_poll_seconds", mp, p) ?? 10;
  const timeout = seconds(m, "start_timeout_seconds", mp, p, true) ?? null;
  if (v === undefined || v === null) {
    for (const k of ["start_poll_seconds", "start_timeout_seconds"]) {
      if (m[k] !== undefined && m[k] !== null) {
        p.push({ path: `${mp}.${k}`, message: "is given without start_conditions" });
      }
    }
    return null;
  }
  if (!Array.isArray(v)) {
    p.push({
      path: at,
      message: `expected a list of {file_exists: PATH} or {command: CMD}, got ${describeValue(v)}`,
    });
    return null;
  }
  const conditions: StartConditionsSpec["conditions"][number][] = [];
  v.forEach((x, i) => {
    const here = `${at}[${i}]`;
    if (isRecord(x) && typeof x.class_name === "string") {
      // The seed 001 spelling: FileExistsCondition / CommandCondition.
      const c = parseClass(x, here, p, CONDITIONS, "condition", ACTIONS, "an action");
      if (c && (c.kind === "file_exists" || c.kind === "command")) conditions.push(c);
      else if (c) {
        p.push({
          path: `${here}.class_name`,
          message:
            `a start condition is FileExistsCondition or CommandCondition, not ${x.class_name}`,
        });
      }
      return;
    }
    if (!isRecord(x)) {
      p.push({
        path: here,
        message: `expected {file_exists: PATH} or {command: CMD}, got ${describeValue(x)}`,
      });
      return;
    }
    unknownKeys(x, START_KEYS, here, p);
    const has = ["file_exists", "command"].filter((k) => x[k] !== undefined);
    if (has.length !== 1) {
      p.push({
        path: here,
        message: has.length
          ? "give one of file_exists and command per entry (list them as two entries)"
          : "missing; file_exists: PATH or command: CMD",
      });
      return;
    }
    if (has[0] === "file_exists") {
      if (x.timeout_seconds !== undefined) {
        p.push({
          path: `${here}.timeout_seconds`,
          message: "applies to command entries; the wait is start_timeout_seconds",
        });
      }
      conditions.push({
        kind: "file_exists",
        path: requiredTemplate(x, "file_exists", here, p),
        blocking: false,
        timeoutSeconds: null,
      });
    } else {
      conditions.push({
        kind: "command",
        command: parseCommand(x.command, `${here}.command`, p),
        timeoutSeconds: seconds(x, "timeout_seconds", here, p) ?? 60,
      });
    }
  });
  return { conditions, pollSeconds: poll, timeoutSeconds: timeout };
}

function checkMonitorClass(v: unknown, at: string, p: Problems): void {
  if (v === undefined || v === null || MONITOR_CLASSES.includes(v as string)) return;
  p.push({
    path: at,
    message: typeof v === "string"
      ? `${withSuggestion(`unknown monitor class "${v}"`, v, MONITOR_CLASSES)}; autoexp has ` +
        `one monitor and accepts ${MONITOR_CLASSES.join(", ")} (or no class_name)`
      : `expected a string, got ${describeValue(v)}`,
  });
}

function pollInterval(m: Obj, mp: string, p: Problems): number {
  const main = seconds(m, "poll_interval_seconds", mp, p);
  const alias = seconds(m, "check_interval_seconds", mp, p);
  if (m.poll_interval_seconds !== undefined && m.check_interval_seconds !== undefined) {
    p.push({
      path: `${mp}.check_interval_seconds`,
      message: "is another name for poll_interval_seconds, which is also given; keep one",
    });
  }
  return main ?? alias ?? 60;
}

/**
 * `monitoring.actions`: name -> shell string, argv list or action mapping. Null marks a name
 * that is defined but invalid (already reported), so references to it are not reported again.
 */
function parseNamedActions(
  v: unknown,
  at: string,
  p: Problems,
): Map<string, EventActionSpec | null> {
  const out = new Map<string, EventActionSpec | null>();
  if (v === undefined || v === null) return out;
  if (!isRecord(v)) {
    p.push({
      path: at,
      message: `expected a mapping of action name -> command or action, got ${describeValue(v)}`,
    });
    return out;
  }
  for (const [name, x] of Object.entries(v)) {
    const path = `${at}.${name}`;
    const n = p.length;
    let spec: EventActionSpec | null;
    if (typeof x === "string" || Array.isArray(x)) {
      spec = { mode: "queue", conditions: [], action: runCommand(parseCommand(x, path, p)) };
    } else if (isRecord(x)) spec = parseActionEntry(x, path, p, "queue");
    else {
      p.push({
        path,
        message: `expected a shell command string, an argument list or an action mapping, ` +
          `got ${describeValue(x)}`,
      });
      spec = null;
    }
    out.set(name, p.length > n ? null : spec);
  }
  return out;
}

function runCommand(command: CommandSpec): ActionSpec {
  return { kind: "command", command, timeoutSeconds: 3600, cwd: null, env: {} };
}

/** `log_signals` then `log_events`: patterns validated by `compileEvents`, actions here. */
function parseLogEvents(
  m: Obj,
  mp: string,
  named: ReadonlyMap<string, EventActionSpec | null>,
  p: Problems,
): LogEventConfig[] {
  const out: LogEventConfig[] = [];
  const seen = new Map<string, { list: string; at: string }>();
  for (const list of EVENT_LISTS) {
    const raw = m[list];
    const keyPath = `${mp}.${list}`;
    if (raw === undefined || raw === null) continue;
    if (!Array.isArray(raw)) {
      p.push({ path: keyPath, message: `expected a list of events, got ${describeValue(raw)}` });
      continue;
    }
    const specs = raw.map((e) => isRecord(e) ? withoutActions(e) : e);
    try {
      compileEvents(specs, { keyPath });
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      p.push(...e.problems);
    }
    raw.forEach((e, i) => {
      if (!isRecord(e)) return;
      const at = `${keyPath}[${i}]`;
      checkCrossListName(e.name, at, list, seen, p);
      out.push({ spec: specs[i] as LogEventSpec, actions: eventActions(e, at, named, p) });
    });
  }
  return out;
}

function withoutActions(e: Obj): Obj {
  const { action: _action, actions: _actions, ...rest } = e;
  return rest;
}

/** An event name used in both `log_signals` and `log_events` (within one, compileEvents checks). */
function checkCrossListName(
  name: unknown,
  at: string,
  list: string,
  seen: Map<string, { list: string; at: string }>,
  p: Problems,
): void {
  if (typeof name !== "string" || !name) return;
  const first = seen.get(name);
  if (first === undefined) seen.set(name, { list, at });
  else if (first.list !== list) {
    p.push({ path: `${at}.name`, message: `the event name "${name}" is also used at ${first.at}` });
  }
}

/** An event's `action` (a name under `monitoring.actions`) and `actions` (a list). */
function eventActions(
  e: Obj,
  at: string,
  named: ReadonlyMap<string, EventActionSpec | null>,
  p: Problems,
): EventActionSpec[] {
  const out: EventActionSpec[] = [];
  const name = e.action;
  if (typeof name === "string") {
    const found = named.get(name);
    if (found) out.push(found);
    else if (found === undefined) {
      const names = [...named.keys()];
      p.push({
        path: `${at}.action`,
        message: withSuggestion(`no action named "${name}"`, name, names) +
          (names.length
            ? `; defined under actions: ${names.join(", ")}`
            : "; define it under monitoring.actions (name: command)"),
      });
    }
  } else if (name !== undefined && name !== null) {
    p.push({
      path: `${at}.action`,
      message: `expected the name of an action under monitoring.actions, got ${
        describeValue(name)
      }`,
    });
  }
  out.push(...actionList(e.actions, `${at}.actions`, p, false));
  return out;
}

function actionList(v: unknown, at: string, p: Problems, required: boolean): EventActionSpec[] {
  if (v === undefined || v === null) {
    if (required) p.push({ path: at, message: "missing; a list of actions" });
    return [];
  }
  if (!Array.isArray(v)) {
    p.push({ path: at, message: `expected a list of actions, got ${describeValue(v)}` });
    return [];
  }
  return v.flatMap((x, i) => parseActionEntry(x, `${at}[${i}]`, p, "inline") ?? []);
}

/** An `EventAction` wrapper, or a bare action (no conditions, mode `defaultMode`). */
function parseActionEntry(
  x: unknown,
  at: string,
  p: Problems,
  defaultMode: EventActionSpec["mode"],
): EventActionSpec | null {
  if (!isRecord(x) || x.class_name !== "EventAction") {
    const action = parseAction(x, at, p);
    return action && { mode: defaultMode, conditions: [], action };
  }
  unknownKeys(x, EVENT_ACTION_KEYS, at, p);
  if (x.action === undefined) {
    p.push({ path: `${at}.action`, message: "missing; the action mapping to run" });
  }
  const action = x.action === undefined ? null : parseAction(x.action, `${at}.action`, p);
  const conditions = parseConditions(x.conditions, `${at}.conditions`, p);
  const mode = parseMode(x.mode, `${at}.mode`, p) ?? defaultMode;
  return action && { mode, conditions, action };
}

function parseMode(v: unknown, at: string, p: Problems): EventActionSpec["mode"] | undefined {
  if (v === undefined || v === null) return undefined;
  if (v === "inline" || v === "queue") return v;
  p.push({
    path: at,
    message: `expected "inline" (run now, in order) or "queue" (run in the background), ` +
      `got ${describeValue(v)}`,
  });
  return undefined;
}

function parseAction(x: unknown, at: string, p: Problems): ActionSpec | null {
  return parseClass(x, at, p, ACTIONS, "action", CONDITIONS, "a condition");
}

function parseConditions(v: unknown, at: string, p: Problems): ConditionSpec[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    p.push({ path: at, message: `expected a list of conditions, got ${describeValue(v)}` });
    return [];
  }
  return v.flatMap((x, i) =>
    parseClass(x, `${at}[${i}]`, p, CONDITIONS, "condition", ACTIONS, "an action") ?? []
  );
}

/**
 * Dispatches a `{class_name, ...}` mapping to its table entry. `other` is the sibling table,
 * so a condition placed among actions (or the reverse) gets a pointed message.
 */
function parseClass<T>(
  x: unknown,
  at: string,
  p: Problems,
  table: Readonly<Record<string, ClassEntry<T>>>,
  what: string,
  other: Readonly<Record<string, unknown>>,
  otherWhat: string,
): T | null {
  const classes = Object.keys(table);
  if (!isRecord(x)) {
    p.push({
      path: at,
      message: `expected ${article(what)} mapping with class_name, got ${describeValue(x)}`,
    });
    return null;
  }
  const cls = x.class_name;
  if (typeof cls !== "string" || !Object.hasOwn(table, cls)) {
    p.push({ path: `${at}.class_name`, message: badClass(cls, what, classes, other, otherWhat) });
    return null;
  }
  unknownKeys(x, ["class_name", ...table[cls].keys], at, p);
  return table[cls].parse(x, at, p);
}

function badClass(
  cls: unknown,
  what: string,
  classes: readonly string[],
  other: Readonly<Record<string, unknown>>,
  otherWhat: string,
): string {
  const list = `; one of ${classes.join(", ")}`;
  if (cls === undefined) return `missing; the ${what} class${list}`;
  if (typeof cls !== "string") return `expected a string, got ${describeValue(cls)}${list}`;
  if (cls === "EventAction") {
    return `an EventAction cannot be nested; give the ${what} itself${list}`;
  }
  if (Object.hasOwn(other, cls)) return `"${cls}" is ${otherWhat}, not ${article(what)}${list}`;
  const s = didYouMean(cls, classes);
  return `unknown ${what} class "${cls}"` + (s ? `; ${s}` : list);
}

function article(word: string): string {
  return /^[aeiou]/.test(word) ? `an ${word}` : `a ${word}`;
}

function parseRestartAction(o: Obj, at: string, p: Problems): ActionSpec {
  const timeMinutes = timeLimit(o.time_limit, `${at}.time_limit`, p);
  const addMinutes = integer(o, "add_minutes", at, p, 1, false) ?? null;
  if (timeMinutes !== null && addMinutes !== null) {
    p.push({
      path: `${at}.add_minutes`,
      message: "time_limit sets the time limit and add_minutes extends it; give one of them",
    });
  }
  return {
    kind: "restart",
    reason: optionalString(o, "reason", at, p),
    timeMinutes,
    addMinutes,
    resources: parseResources(o.resources, `${at}.resources`, p),
  };
}

/** Minutes from an integer or a SLURM time string (`2:00:00`, `1-00:00:00`), rounded up. */
function timeLimit(v: unknown, at: string, p: Problems): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v === "number" && Number.isInteger(v) && v >= 1) return v;
  if (typeof v === "string" && SLURM_TIME.test(v.trim())) {
    const minutes = Math.ceil(parseSlurmTime(v));
    if (Number.isFinite(minutes) && minutes >= 1) return minutes;
  }
  p.push({
    path: at,
    message: `expected minutes (an integer >= 1) or a SLURM time such as "2:00:00" or ` +
      `"1-00:00:00", got ${describeValue(v)}`,
  });
  return null;
}

/** `RestartAction.resources`: sbatch options by config key, scalar values. */
function parseResources(
  v: unknown,
  at: string,
  p: Problems,
): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  if (v === undefined || v === null) return out;
  if (!isRecord(v)) {
    p.push({ path: at, message: `expected a mapping of sbatch options, got ${describeValue(v)}` });
    return out;
  }
  const options = Object.keys(SBATCH_OPTIONS);
  for (const [k, x] of Object.entries(v)) {
    if (!Object.hasOwn(SBATCH_OPTIONS, k)) {
      const s = didYouMean(k, options);
      p.push({
        path: `${at}.${k}`,
        message: `unknown sbatch option "${k}"` +
          (s ? `; ${s}` : "; use the config keys of slurm.sbatch (e.g. mem, nodes, time)"),
      });
    } else if (typeof x === "string" || typeof x === "number" || typeof x === "boolean") {
      out[k] = x;
    } else {p.push({
        path: `${at}.${k}`,
        message: `expected a single value, got ${describeValue(x)}`,
      });}
  }
  return out;
}

function parseMetadataCondition(o: Obj, at: string, p: Problems): ConditionSpec {
  const key = o.key;
  if (typeof key !== "string" || !key) {
    p.push({
      path: `${at}.key`,
      message: key === undefined
        ? "missing; the metadata key to compare"
        : `expected a non-empty string, got ${describeValue(key)}`,
    });
  }
  const given = Object.keys(METADATA_OPS).filter((k) => o[k] !== undefined) as (
    keyof typeof METADATA_OPS
  )[];
  if (given.length !== 1) {
    p.push({
      path: at,
      message: given.length
        ? `gives ${given.length} comparisons (${given.join(", ")}); give exactly one`
        : `missing a comparison; one of ${Object.keys(METADATA_OPS).join(", ")}`,
    });
  }
  if (given.length === 0) {
    return { kind: "metadata", key: typeof key === "string" ? key : "", op: "equals", value: "" };
  }
  const opKey = given[0];
  const op = METADATA_OPS[opKey];
  const path = `${at}.${opKey}`;
  const value = op === "in" || op === "not_in"
    ? valueList(o[opKey], path, p)
    : scalarTemplate(o[opKey], path, p);
  return { kind: "metadata", key: typeof key === "string" ? key : "", op, value };
}

/** The list of an `in` / `not_in` comparison: strings (templates), numbers or booleans. */
function valueList(v: unknown, at: string, p: Problems): string[] {
  if (Array.isArray(v)) return v.map((x, i) => scalarTemplate(x, `${at}[${i}]`, p));
  p.push({ path: at, message: `expected a list of values, got ${describeValue(v)}` });
  return [];
}

/** A comparison value: a string (template), number or boolean, kept as a string. */
function scalarTemplate(v: unknown, at: string, p: Problems): string {
  if (typeof v === "number" || typeof v === "boolean") return pythonStr(v);
  if (typeof v === "string") return checkedTemplate(v, at, p);
  p.push({ path: at, message: `expected a string or a number, got ${describeValue(v)}` });
  return "";
}

function parseStateEvents(v: unknown, at: string, p: Problems): StateEventConfig[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    p.push({ path: at, message: `expected a list of state events, got ${describeValue(v)}` });
    return [];
  }
  const names = new Map<string, number>();
  return v.flatMap((e, i) => {
    const ep = `${at}[${i}]`;
    if (!isRecord(e)) {
      p.push({
        path: ep,
        message: `expected a mapping {name, state, actions}, got ${describeValue(e)}`,
      });
      return [];
    }
    unknownKeys(e, STATE_EVENT_KEYS, ep, p);
    const name = stateEventName(e.name, `${ep}.name`, names, i, at, p);
    const modes = parseState(e.state, `${ep}.state`, p);
    return [{ name, modes, actions: actionList(e.actions, `${ep}.actions`, p, true) }];
  });
}

function stateEventName(
  v: unknown,
  at: string,
  names: Map<string, number>,
  i: number,
  listPath: string,
  p: Problems,
): string {
  if (typeof v !== "string" || !v) {
    p.push({
      path: at,
      message: v === undefined
        ? "missing; a name"
        : `expected a non-empty string, got ${describeValue(v)}`,
    });
    return "";
  }
  const first = names.get(v);
  if (first !== undefined) {
    p.push({ path: at, message: `"${v}" is already the name of ${listPath}[${first}]` });
  } else names.set(v, i);
  return v;
}

/** `state: {class_name: TimeoutState}`, `state: {modes: [timeout, crash]}` or `state: timeout`. */
function parseState(v: unknown, at: string, p: Problems): FailureMode[] {
  const hint = `one of the classes ${Object.keys(STATE_CLASSES).join(", ")}`;
  if (typeof v === "string") return stateName(v, at, p);
  if (!isRecord(v)) {
    p.push({
      path: at,
      message: `${v === undefined ? "missing" : `expected a mapping, got ${describeValue(v)}`}; ` +
        `{class_name: TimeoutState}, {modes: [timeout, crash]} or a mode name`,
    });
    return [];
  }
  unknownKeys(v, ["class_name", "modes"], at, p);
  if ((v.class_name === undefined) === (v.modes === undefined)) {
    p.push({ path: at, message: "give either class_name or modes" });
    return [];
  }
  if (v.modes !== undefined) return stateModes(v.modes, `${at}.modes`, p);
  const cls = v.class_name;
  if (typeof cls === "string" && Object.hasOwn(STATE_CLASSES, cls)) return [STATE_CLASSES[cls]];
  p.push({
    path: `${at}.class_name`,
    message: typeof cls === "string"
      ? withSuggestion(`unknown state class "${cls}"`, cls, Object.keys(STATE_CLASSES)) +
        `; ${hint}`
      : `expected a string, got ${describeValue(cls)}; ${hint}`,
  });
  return [];
}

/** A mode name (`timeout`) or, leniently, a state class name (`TimeoutState`). */
function stateName(v: string, at: string, p: Problems): FailureMode[] {
  const mode = modeOf(v);
  if (mode) return [mode];
  if (Object.hasOwn(STATE_CLASSES, v)) return [STATE_CLASSES[v]];
  p.push({
    path: at,
    message: withSuggestion(`unknown state "${v}"`, v, [
      ...FAILURE_MODES,
      ...Object.keys(STATE_CLASSES),
    ]) + `; one of ${FAILURE_MODES.join(", ")}`,
  });
  return [];
}

function stateModes(v: unknown, at: string, p: Problems): FailureMode[] {
  if (!Array.isArray(v) || v.length === 0) {
    p.push({
      path: at,
      message: `expected a non-empty list of modes (${FAILURE_MODES.join(", ")}), got ${
        describeValue(v)
      }`,
    });
    return [];
  }
  const out: FailureMode[] = [];
  v.forEach((x, i) => {
    if (typeof x !== "string") {
      p.push({ path: `${at}[${i}]`, message: `expected a mode name, got ${describeValue(x)}` });
      return;
    }
    for (const m of stateName(x, `${at}[${i}]`, p)) if (!out.includes(m)) out.push(m);
  });
  return out;
}

/**
 * The restart policies from the one place that gives them: the top-level `restart_policies`
 * (where the shipped `restart/*.yaml` presets put them, `# @package _global_`),
 * `monitoring.restart_policies`, or the `restart` group's own `restart_policies` or `policies`
 * (a user's `restart/<name>.yaml` without the package header). Two places at once: an error
 * naming both (a list that silently wins over another is a lost configuration).
 */
function parseRestart(
  sources: readonly { readonly value: unknown; readonly at: string }[],
  p: Problems,
): RestartPolicy[] {
  const given = sources.filter((s) => s.value !== undefined && s.value !== null);
  for (const extra of given.slice(1)) {
    p.push({
      path: extra.at,
      message: `restart policies are also given at ${given[0].at}; keep one of the two lists`,
    });
  }
  // Each list is checked (its mistakes reported too); the first one given is used.
  const parsed = given.map((g) => policies(g.value, g.at, p));
  return parsed[0] ?? [];
}

/**
 * The key path the restart policies are read from (see {@link parseRestart}): the top-level
 * `restart_policies`, `monitoring.restart_policies`, or the `restart` group's list.
 */
export function restartPoliciesPath(
  monitoring: unknown,
  top: unknown,
  group: unknown,
): string {
  const given = (v: unknown) => v !== undefined && v !== null;
  if (given(top)) return "restart_policies";
  if (isRecord(monitoring) && given(monitoring.restart_policies)) {
    return "monitoring.restart_policies";
  }
  if (isRecord(group) && given(group.restart_policies)) return "restart.restart_policies";
  if (isRecord(group) && given(group.policies)) return "restart.policies";
  return "restart_policies";
}

/** Keys of the `restart` group's mapping, with what they mean (for the reference). */
export const restartGroupDocs: Readonly<Record<string, string>> = {
  restart_policies:
    "the restart policies (when the file has no `# @package _global_` header; else top level)",
  policies: "the seed tool's name of restart_policies (one of the two)",
  max_restarts_without_progress:
    "after this many restarts in a row whose attempts advanced neither the newest checkpoint " +
    "nor the iteration, the run is not restarted again (default 3; 0: never stop for that)",
};

/** Default of `restart.max_restarts_without_progress`. */
export const DEFAULT_MAX_RESTARTS_WITHOUT_PROGRESS = 3;

/** The `restart` group's mapping: its policy list (and where), and its settings. */
function parseRestartGroup(
  v: unknown,
  p: Problems,
): {
  list: { value: unknown; at: string } | null;
  maxRestartsWithoutProgress?: number;
} {
  const out: { list: { value: unknown; at: string } | null; maxRestartsWithoutProgress?: number } =
    { list: null };
  if (v === undefined || v === null) return out;
  if (!isRecord(v)) {
    p.push({
      path: "restart",
      message: `expected a mapping (${Object.keys(restartGroupDocs).join(", ")}), got ${
        describeValue(v)
      }`,
      hint: "choose a restart preset in the defaults list or with -o restart=<option>",
    });
    return out;
  }
  unknownKeys(v, Object.keys(restartGroupDocs), "restart", p);
  const a = v.restart_policies, b = v.policies;
  if (a !== undefined && a !== null && b !== undefined && b !== null) {
    p.push({
      path: "restart.policies",
      message: "restart policies are also given at restart.restart_policies; keep one of the two",
    });
  }
  if (a !== undefined && a !== null) out.list = { value: a, at: "restart.restart_policies" };
  else if (b !== undefined && b !== null) out.list = { value: b, at: "restart.policies" };
  const n = v.max_restarts_without_progress;
  if (n !== undefined && n !== null) {
    if (typeof n !== "number" || !Number.isInteger(n) || n < 0) {
      p.push({
        path: "restart.max_restarts_without_progress",
        message: `expected an integer >= 0 (0: off), got ${describeValue(n)}`,
      });
    } else out.maxRestartsWithoutProgress = n;
  }
  return out;
}

function policies(v: unknown, at: string, p: Problems): RestartPolicy[] {
  try {
    return parseRestartPolicies(v, at);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    p.push(...e.problems);
    return [];
  }
}

/** A string becomes `{shell}`, a list of strings `{argv}`; both templates. */
function parseCommand(v: unknown, at: string, p: Problems): CommandSpec {
  if (typeof v === "string") {
    if (!v.trim()) p.push({ path: at, message: "the command is empty" });
    return { shell: checkedTemplate(v, at, p) };
  }
  if (Array.isArray(v) && v.length > 0) return { argv: templateList(v, at, p, true) };
  if (Array.isArray(v)) {
    p.push({ path: at, message: "the argument list is empty; give the program and its arguments" });
    return { argv: [] };
  }
  p.push({
    path: at,
    message:
      `${v === undefined ? "missing" : `expected a command, got ${describeValue(v)}`}; a list of ` +
      "arguments (run without a shell) or one shell command string",
  });
  return { argv: [] };
}

function parseEnv(v: unknown, at: string, p: Problems): Record<string, string> {
  const out: Record<string, string> = {};
  if (v === undefined || v === null) return out;
  if (!isRecord(v)) {
    p.push({ path: at, message: `expected a mapping NAME: value, got ${describeValue(v)}` });
    return out;
  }
  for (const [k, x] of Object.entries(v)) {
    if (typeof x === "string") out[k] = checkedTemplate(x, `${at}.${k}`, p);
    else if (typeof x === "number") out[k] = String(x);
    else {p.push({
        path: `${at}.${k}`,
        message: `expected a string, got ${describeValue(x)}; quote it`,
      });}
  }
  return out;
}

function parseOverrides(v: unknown, at: string, p: Problems): string[] {
  if (v === undefined || v === null) {
    p.push({
      path: at,
      message: "missing; a list of overrides such as backend.args.lr=1e-5 (may be empty)",
    });
    return [];
  }
  return templateList(v, at, p, true);
}

/** A list of strings, each a template (null or absent: empty unless `required`). */
function templateList(v: unknown, at: string, p: Problems, required: boolean): string[] {
  if ((v === undefined || v === null) && !required) return [];
  if (!Array.isArray(v)) {
    p.push({
      path: at,
      message: v === undefined
        ? "missing; a list of strings"
        : `expected a list of strings, got ${describeValue(v)}`,
    });
    return [];
  }
  return v.map((x, i) => {
    if (typeof x === "string") return checkedTemplate(x, `${at}[${i}]`, p);
    p.push({
      path: `${at}[${i}]`,
      message: `expected a string, got ${describeValue(x)}; quote it`,
    });
    return "";
  });
}

function requiredTemplate(o: Obj, key: string, at: string, p: Problems): string {
  const v = o[key];
  if (typeof v === "string") return checkedTemplate(v, `${at}.${key}`, p);
  p.push({
    path: `${at}.${key}`,
    message: v === undefined || v === null
      ? "missing; a string"
      : `expected a string, got ${describeValue(v)}`,
  });
  return "";
}

function optionalTemplate(o: Obj, key: string, at: string, p: Problems): string | null {
  const v = optionalString(o, key, at, p);
  return v === null ? null : checkedTemplate(v, `${at}.${key}`, p);
}

function optionalString(o: Obj, key: string, at: string, p: Problems): string | null {
  const v = o[key];
  if (v === undefined || v === null) return null;
  if (typeof v === "string") return v;
  p.push({ path: `${at}.${key}`, message: `expected a string, got ${describeValue(v)}` });
  return null;
}

/** Reports a malformed template (unclosed `{`, lone `}`, bad format spec) at `at`. */
function checkedTemplate(v: string, at: string, p: Problems): string {
  try {
    placeholders(v);
  } catch (e) {
    p.push({
      path: at,
      message: (e as Error).message,
      hint: 'placeholders are {name} or {dotted.name}; write "{{" and "}}" for literal braces',
    });
  }
  return v;
}

/**
 * A number of seconds > 0: undefined when absent (or null, unless `nullable`). With `nullable`,
 * null and 0 mean "off" and give null.
 */
function seconds(
  o: Obj,
  key: string,
  at: string,
  p: Problems,
  nullable = false,
): number | null | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (v === null) return nullable ? null : undefined;
  if (nullable && v === 0) return null;
  if (typeof v === "number" && Number.isFinite(v) && v > 0) return v;
  p.push({
    path: `${at}.${key}`,
    message: `expected a number of seconds > 0${nullable ? " (or null / 0: off)" : ""}, ` +
      `got ${describeValue(v)}`,
  });
  return undefined;
}

function integer(
  o: Obj,
  key: string,
  at: string,
  p: Problems,
  min: number,
  required: boolean,
): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) {
    if (required) p.push({ path: `${at}.${key}`, message: `missing; an integer >= ${min}` });
    return undefined;
  }
  if (typeof v === "number" && Number.isInteger(v) && v >= min) return v;
  p.push({
    path: `${at}.${key}`,
    message: `expected an integer >= ${min}, got ${describeValue(v)}`,
  });
  return undefined;
}

function bool(o: Obj, key: string, at: string, p: Problems, def: boolean): boolean {
  const v = o[key];
  if (v === undefined || v === null) return def;
  if (typeof v === "boolean") return v;
  p.push({ path: `${at}.${key}`, message: `expected true or false, got ${describeValue(v)}` });
  return def;
}

function unknownKeys(o: Obj, allowed: readonly string[], at: string, p: Problems): void {
  for (const k of Object.keys(o)) {
    if (allowed.includes(k)) continue;
    const s = didYouMean(k, allowed);
    p.push({
      path: `${at}.${k}`,
      message: `unknown key "${k}"; ${s || `expected one of ${allowed.join(", ")}`}`,
    });
  }
}

function withSuggestion(message: string, word: string, candidates: readonly string[]): string {
  const s = didYouMean(word, candidates);
  return s ? `${message}; ${s}` : message;
}

function isRecord(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The keys each action class takes (besides `class_name`), for the configuration reference. */
export const ACTION_KEYS: Readonly<Record<string, readonly string[]>> = Object.fromEntries(
  Object.entries(ACTIONS).map(([k, v]) => [k, v.keys]),
);
/** The keys each condition class takes (besides `class_name`). */
export const CONDITION_KEYS: Readonly<Record<string, readonly string[]>> = Object.fromEntries(
  Object.entries(CONDITIONS).map(([k, v]) => [k, v.keys]),
);
/** The accepted `monitoring` keys and state classes. */
export const MONITORING_KEYS: readonly string[] = MONITOR_KEYS;
export const STATE_CLASS_MODES: Readonly<Record<string, FailureMode>> = STATE_CLASSES;

/** Descriptions of the `monitoring` keys (the configuration reference is generated from them). */
export const monitoringDocs: Readonly<Record<string, string>> = {
  class_name: "SlurmLogMonitor (accepted for the seeds' configs; nothing else to choose)",
  poll_interval_seconds:
    "longest interval between scheduler queries (default 60; 2 s after a change)",
  check_interval_seconds: "seed spelling of poll_interval_seconds",
  log_poll_seconds:
    "interval of log and output polling (default 1; file watching wakes it earlier)",
  inactivity_threshold_seconds:
    "no log or output growth for this long while running is a stall (null or 0: off)",
  log_path:
    "the log the monitor reads: `${project.log_path_current}` (the newest log, as the seed writes it) or a per-attempt path as `project.log_path` (which must then agree)",
  log_path_template:
    "the seed's spelling of `project.log_path` (placeholders `{name}`, `{output_dir}`, ..., and %j)",
  output_paths: "files whose growth counts as activity, with {placeholders}",
  builtin_events: "also match the built-in Megatron, PyTorch and SLURM patterns (default true)",
  log_signals: "seed 000: [{name, pattern, pattern_type, action: <name in actions>, metadata}]",
  actions: "seed 000: named actions for log_signals: a shell string, an argv list or an action",
  log_events:
    "seed 001: [{name, pattern, pattern_type, kind, metadata, extract_groups, noise, actions}]",
  state_events: "seed 001: [{name, state: {class_name: TimeoutState|...}, actions}]",
  restart_policies: "the restart policies here instead of at the top level (not both)",
  params: "free-form values the preset's own ${monitoring.params...} interpolations use",
  checkpoint_watch: "seed 001: the checkpoint folder as an event source: {dir, pattern " +
    "(default iter_{iteration:07d}), tracker_file (default latest_checkpointed_iteration.txt; " +
    "null: none), complete_file, event (default: the checkpoint log event with actions), " +
    "interval_seconds (default 30)}; a newly complete checkpoint fires that event's actions, " +
    "once per iteration whether the log or the folder shows it first",
  start_conditions: "seed 000: [{file_exists: PATH} or {command: CMD, timeout_seconds}] that " +
    "must hold before a run's log is followed ({placeholders} allowed)",
  start_poll_seconds: "how often start_conditions are checked (default 10)",
  start_timeout_seconds: "after this long the monitor says the start conditions did not hold " +
    "and follows the log anyway (default: wait while the job lives)",
};

/** What each action class does, and its keys. */
export const actionDocs: Readonly<Record<string, { doc: string; keys: Record<string, string> }>> = {
  LogAction: {
    doc: "a line in the monitor's output (and the journal)",
    keys: { message: "the text, with {placeholders}" },
  },
  RunCommandAction: {
    doc: "runs a command; output in <run dir>/actions/; run once even across monitor restarts",
    keys: {
      command: "argv list (any values) or one shell string (values must be shell-safe)",
      timeout_seconds: "kill it after this long (default 3600)",
      cwd: "working directory (default: where autoexp was run when planning)",
      env: "extra environment variables",
    },
  },
  RunAutoexpAction: {
    doc: "a derived run: the run's config and point values plus overrides, submitted and monitored",
    keys: {
      name: "its stable run name (default {run}_{event}_{iteration})",
      overrides: "Hydra overrides with {placeholders}, e.g. ++backend.args.load={checkpoint_path}",
      script: "accepted for the seeds' configs; ignored",
      config_path: "accepted for the seeds' configs; ignored",
    },
  },
  RestartAction: {
    doc: "a new attempt of the run (a running one is cancelled first)",
    keys: {
      reason: "shown and journaled",
      time_limit: "the new attempt's time limit (minutes or SLURM time)",
      add_minutes: "or: this much more than the last attempt's limit",
      resources: "further sbatch options for the new attempt (sbatch table keys)",
    },
  },
  CancelAction: { doc: "cancels the attempt", keys: { reason: "shown and journaled" } },
};

/** What each condition class checks, and its keys. */
export const conditionDocs: Readonly<
  Record<string, { doc: string; keys: Record<string, string> }>
> = {
  FileExistsCondition: {
    doc: "a file exists (a complete checkpoint, a finished conversion)",
    keys: {
      path: "the file, with {placeholders}",
      blocking: "wait for it (default false: check once)",
      timeout_seconds: "how long to wait when blocking (default 600; null: no limit)",
    },
  },
  CommandCondition: {
    doc: "a command exits 0",
    keys: { command: "shell string or argv list", timeout_seconds: "default 60" },
  },
  MetadataCondition: {
    doc: "compares an event value (numbers as numbers)",
    keys: {
      key: "the value's name (an extract_groups key, metadata key or placeholder)",
      equals: "comparison (one of these keys)",
      not_equals: "comparison",
      greater_than: "comparison",
      greater_equal: "comparison",
      less_than: "comparison",
      less_equal: "comparison",
      in: "comparison with a list",
      not_in: "comparison with a list",
    },
  },
  MaxAttemptsCondition: {
    doc: "the run has made fewer attempts than this",
    keys: { max_attempts: "an integer >= 1" },
  },
};
