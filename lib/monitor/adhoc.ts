/**
 * The ad-hoc monitor: following a job autoexp did not submit (or, without a job id, log files
 * alone), as seed 000's command line does (`monitor --log train=outputs/logs/train.out --action
 * convert_checkpoint='python tools/convert.py {checkpoint_path}'`). Pure: it turns the command
 * line (and an optional monitoring file in the seeds' format) into what the one monitor follows
 * (a {@link LoadedPlan} of one run per `--log`, sharing the job), and into the journal events
 * that adopt the job, so the same step, actions, journal and resume logic apply.
 *
 * - Each `--log NAME=PATH` is a run named NAME whose attempt 1 is the given job (or, with no
 *   job id, {@link LOG_ONLY_JOB}: the log alone, ended when it says training is done or the
 *   program exited).
 * - `--action NAME=COMMAND` defines a named action (seed 000's `monitoring.actions`). It runs
 *   for the log signals whose `action:` names it; a NAME that no signal names but that is a log
 *   event (built-in, such as `megatron_checkpoint_saved`, or from the file) gets it attached.
 * - Nothing here resubmits: restart policies, `RestartAction` and `RunAutoexpAction` are refused
 *   (autoexp did not submit the job and has no script to submit again); a command action can
 *   resubmit it if the user wants that.
 *
 * @module
 */
import { ConfigError, type ConfigProblem, UsageError } from "../errors.ts";
import { didYouMean } from "../config/suggest.ts";
import { stableHash } from "../plan/hash.ts";
import type { RunPlan, SweepPlan } from "../plan/types.ts";
import { MEGATRON_EVENTS } from "../monitoring/events.ts";
import type { MonitorFile } from "../monitoring/monitor_file.ts";
import { MonitorPlanner } from "../plan/monitor_plan.ts";
import type { ConfigMap } from "../config/tree.ts";
import type { EventActionSpec, MonitorSpec } from "../monitoring/spec_types.ts";
import type { Scheduler } from "../scheduler/types.ts";
import type { NewEvent, StoreState } from "../store/state.ts";
import { latestAttempt } from "../store/state.ts";
import { VERSION } from "../version.ts";
import type { EventKind } from "../monitoring/events.ts";
import type { LoadedPlan } from "./load_plan.ts";
import type { ObservedJob } from "./lifecycle.ts";

/** The job id an attempt gets when the monitor follows a log without a job. */
export const LOG_ONLY_JOB = "log-only";

/** The spec key of the ad-hoc monitor in its monitor file. */
const SPEC_KEY = "adhoc";

/** One `--log NAME=PATH`. */
export interface AdhocLog {
  readonly name: string;
  /** Absolute; `{job_id}` stands for the job id (written `%j` on the command line too). */
  readonly path: string;
}

/** What the command line asked for, validated. */
export interface AdhocRequest {
  /** The job to follow, or null: the logs alone. */
  readonly jobId: string | null;
  readonly logs: readonly AdhocLog[];
  readonly spec: MonitorSpec;
  /** Absolute directory of the monitor's journal and the actions' output. */
  readonly dir: string;
  /** Where the monitor runs: the working directory of action commands. */
  readonly cwd: string;
}

/** The raw command line of the ad-hoc form. */
export interface AdhocArgs {
  readonly jobId?: string;
  readonly logs: readonly string[];
  readonly actions: readonly string[];
  /** The `--config` file's parsed content (null: none) and its path, for messages. */
  readonly config: unknown;
  readonly configPath?: string;
  /** `--state DIR`, or undefined: derived from the job id or the log paths. */
  readonly state?: string;
  readonly cwd: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const JOB_ID = /^\d+(?:_\d+)?$/;

/**
 * Validates the ad-hoc command line into an {@link AdhocRequest}.
 *
 * @throws {UsageError} for a malformed `--log`, `--action` or job id.
 * @throws {ConfigError} for problems of the monitoring file (every one, with its key path).
 *
 * @example
 * parseAdhoc({ jobId: "123", logs: ["train=train.out"], actions: [], config: null, cwd: "/w" })
 *   .dir // "/w/autoexp-monitor/job-123"
 */
export function parseAdhoc(args: AdhocArgs): AdhocRequest {
  const jobId = args.jobId ?? null;
  if (jobId !== null && !JOB_ID.test(jobId)) {
    throw new UsageError(
      `"${jobId}" is not a SLURM job id (digits, or 123_4 for an array task); ` +
        "give the job to follow, or leave it out to follow the --log files alone",
    );
  }
  if (!args.logs.length) {
    throw new UsageError(
      "which log? give the job's log file: --log NAME=PATH (e.g. --log train=outputs/logs/train.out)",
    );
  }
  const logs = args.logs.map((l) => parseLog(l, args.cwd, jobId));
  const seen = new Set<string>();
  for (const l of logs) {
    if (seen.has(l.name)) {
      throw new UsageError(`--log ${l.name}=... is given twice; give each log its own name`);
    }
    seen.add(l.name);
  }
  const spec = adhocSpec(args, jobId === null);
  const dir = abs(
    args.state ??
      `autoexp-monitor/${
        jobId !== null
          ? `job-${jobId}`
          : `logs-${stableHash(logs.map((l) => `${l.name}=${l.path}`).join("\n")).slice(0, 10)}`
      }`,
    args.cwd,
  ).replace(/\/\.autoexp\/?$/, "").replace(/\/+$/, "");
  return { jobId, logs, spec, dir, cwd: args.cwd };
}

function parseLog(text: string, cwd: string, jobId: string | null): AdhocLog {
  const m = /^([A-Za-z0-9][A-Za-z0-9_.-]*)=(.+)$/.exec(text);
  let name: string, path: string;
  if (m) [name, path] = [m[1], m[2]];
  else {
    path = text;
    name = (path.split("/").pop() ?? "").replace(/\.[^.]*$/, "").replace(/[^A-Za-z0-9_.-]/g, "_")
      .replace(/^[^A-Za-z0-9]+/, "");
  }
  if (!path.trim() || !NAME.test(name)) {
    throw new UsageError(
      `--log ${JSON.stringify(text)}: expected NAME=PATH (a name of letters, digits, _ . -, ` +
        "then the log file), e.g. --log train=outputs/logs/train.out",
    );
  }
  // SLURM's own spelling of the job id in --output paths.
  path = path.replaceAll("%j", "{job_id}");
  if (path.includes("{job_id}") && jobId === null) {
    throw new UsageError(
      `--log ${name}=${text.slice(text.indexOf("=") + 1)}: the path names the job id ` +
        "(%j or {job_id}) but no job id is given",
    );
  }
  return { name, path: abs(path, cwd) };
}

function abs(path: string, cwd: string): string {
  return path.startsWith("/") ? path : `${cwd.replace(/\/+$/, "")}/${path.replace(/^\.\//, "")}`;
}

/**
 * The monitoring spec of the ad-hoc monitor: the `--config` file (a monitoring group, or a file
 * with a top-level `monitoring:` mapping) with the `--action` definitions added, validated by
 * the same parser as a sweep's `monitoring` group, then checked for what would resubmit.
 */
function adhocSpec(args: AdhocArgs, logOnly: boolean): MonitorSpec {
  const where = args.configPath ?? "--config";
  let m: Record<string, unknown> = {};
  const c = args.config;
  if (c !== null && c !== undefined) {
    if (!isRecord(c)) {
      throw new ConfigError({
        path: "",
        file: where,
        message: "expected a mapping: a monitoring group (log_signals, actions, log_events, ...)",
      });
    }
    if (isRecord(c.monitoring)) {
      const others = Object.keys(c).filter((k) => k !== "monitoring");
      if (others.length) {
        throw new ConfigError({
          path: others[0],
          file: where,
          message: `the ad-hoc monitor reads only the monitoring mapping of this file; ` +
            `remove ${others.join(", ")} (restart policies do not apply to a job autoexp ` +
            "did not submit)",
        });
      }
      m = { ...c.monitoring };
    } else m = { ...c };
  }
  if (args.actions.length) m = withActions(m, args.actions);
  // The planner's checks: the spec, and every {placeholder} against what an event gives.
  const planner = new MonitorPlanner();
  const found: ConfigProblem[] = [];
  planner.add("adhoc", { monitoring: m } as ConfigMap, found);
  if (found.length) throw new ConfigError(found.map((p) => p.file ? p : { ...p, file: where }));
  const file = planner.file(args.cwd);
  const spec = file.specs[file.runs.adhoc.spec];
  const problems = resubmitting(spec, logOnly).map((message) => ({
    path: "monitoring",
    file: where,
    message,
  }));
  if (spec.restartPolicies.length) {
    problems.push({
      path: "monitoring.restart_policies",
      file: where,
      message: "restart policies resubmit a run autoexp submitted; it never resubmits a job it " +
        "did not submit (a command action may do that: sbatch your script)",
    });
  }
  if (problems.length) throw new ConfigError(problems);
  return spec;
}

/** Actions that would resubmit or need a sweep autoexp planned: why not, one line each. */
function resubmitting(spec: MonitorSpec, logOnly: boolean): string[] {
  const out: string[] = [];
  const check = (where: string, list: readonly EventActionSpec[]) => {
    for (const a of list) {
      const k = a.action.kind;
      if (k === "restart") {
        out.push(
          `${where}: RestartAction resubmits; autoexp never resubmits a job it did not ` +
            "submit (use a RunCommandAction that submits your script again)",
        );
      } else if (k === "autoexp") {
        out.push(
          `${where}: RunAutoexpAction derives a run from a sweep's config, and this job has ` +
            "none (use a RunCommandAction, e.g. autoexp submit -C ... -o ...)",
        );
      } else if (k === "cancel" && logOnly) {
        out.push(`${where}: CancelAction needs a job; none is given (only log files)`);
      }
    }
  };
  for (const e of spec.logEvents) check(`log event "${e.spec.name}"`, e.actions);
  for (const e of spec.stateEvents) check(`state event "${e.name}"`, e.actions);
  return out;
}

/**
 * Adds each `--action NAME=COMMAND` under `actions`; a NAME no signal's `action:` refers to is
 * attached to the log event of that name (a built-in one is copied into `log_events`).
 */
function withActions(
  m: Record<string, unknown>,
  specs: readonly string[],
): Record<string, unknown> {
  const out = { ...m };
  const named: Record<string, unknown> = isRecord(m.actions) ? { ...m.actions } : {};
  const lists: Record<string, unknown[]> = {};
  for (const list of ["log_signals", "log_events"]) {
    lists[list] = Array.isArray(m[list]) ? [...m[list] as unknown[]] : [];
  }
  const referenced = new Set<string>();
  for (const list of Object.values(lists)) {
    for (const e of list) if (isRecord(e) && typeof e.action === "string") referenced.add(e.action);
  }
  const builtin = m.builtin_events === false ? [] : MEGATRON_EVENTS;
  for (const text of specs) {
    const match = /^([A-Za-z_][A-Za-z0-9_.-]*)=(.*)$/s.exec(text);
    if (!match || !match[2].trim()) {
      throw new UsageError(
        `--action ${JSON.stringify(text)}: expected NAME=COMMAND, e.g. ` +
          `--action convert_checkpoint='python tools/convert.py {checkpoint_path}'`,
      );
    }
    const [, name, command] = match;
    if (referenced.has(name)) {
      named[name] = command;
      continue;
    }
    // Not named by a signal: the event of that name gets it, queued as seed 000's are.
    const attached = {
      class_name: "EventAction",
      mode: "queue",
      action: { class_name: "RunCommandAction", command },
    };
    let found = false;
    for (const list of Object.values(lists)) {
      list.forEach((e, i) => {
        if (!isRecord(e) || e.name !== name) return;
        found = true;
        list[i] = { ...e, actions: [...(Array.isArray(e.actions) ? e.actions : []), attached] };
      });
    }
    const b = builtin.find((e) => e.name === name);
    if (!found && b) {
      lists.log_events.push({ ...b, actions: [attached] });
      found = true;
    }
    if (!found) {
      const candidates = [
        ...referenced,
        ...Object.values(lists).flatMap((l) =>
          l.flatMap((e) => isRecord(e) && typeof e.name === "string" ? [e.name] : [])
        ),
        ...builtin.map((e) => e.name),
      ];
      const s = didYouMean(name, candidates);
      throw new UsageError(
        `--action ${name}=...: no log signal runs an action named "${name}" and no log event ` +
          `has that name${s ? ` (${s})` : ""}; name the event it runs for (built-in: ${
            builtin.filter((e) => e.kind === "checkpoint" || e.kind === "completed").map((e) =>
              e.name
            ).join(", ")
          }, ...; see --dry-run --json) or give --config with log_signals whose action: is ${name}`,
      );
    }
  }
  if (Object.keys(named).length) out.actions = named;
  if (lists.log_signals.length) out.log_signals = lists.log_signals;
  if (lists.log_events.length) out.log_events = lists.log_events;
  return out;
}

/**
 * What the one monitor follows: a plan of one run per log (no script, no resources: nothing to
 * submit), and the monitor file giving each run the ad-hoc spec.
 */
export function adhocPlan(req: AdhocRequest): LoadedPlan {
  const runs: RunPlan[] = req.logs.map((l, index) => ({
    index,
    name: l.name,
    values: {},
    runDir: `${req.dir}/runs/${l.name}`,
    logPath: l.path,
    argv: [],
    env: {},
    workdir: req.cwd,
    script: { resources: {}, extraDirectives: [], modules: [], setup: [], shellEnv: {} },
    nodes: 0,
    gpus: 0,
    minutes: 0,
    group: "adhoc",
    backend: "adhoc",
    fingerprint: "adhoc",
  }));
  const plan: SweepPlan = {
    format: "autoexp.sweep",
    version: 1,
    sweep: {
      name: req.jobId !== null ? `job-${req.jobId}` : "logs",
      id: `adhoc-${stableHash(req.dir).slice(0, 8)}`,
      dir: req.dir,
      configName: "",
      configDir: null,
      overrides: [],
      multirun: false,
      nameTemplate: "",
      autoexp: [],
      autoexpVersion: VERSION,
      throttle: null,
    },
    runs,
    groups: [],
  };
  const monitor: MonitorFile = {
    format: "autoexp.monitor",
    version: 1,
    cwd: req.cwd,
    specs: { [SPEC_KEY]: req.spec },
    runs: Object.fromEntries(runs.map((r) => [r.name, { spec: SPEC_KEY, vars: {} }])),
  };
  return { plan, monitor };
}

/**
 * The journal events that adopt the job for every log the journal does not know yet (attempt 1
 * of each run is the job, marked as not submitted by autoexp).
 *
 * @throws {UsageError} when the state directory follows another job.
 */
export function adoptEvents(state: StoreState, req: AdhocRequest, at: string): NewEvent[] {
  const jobId = req.jobId ?? LOG_ONLY_JOB;
  const out: NewEvent[] = [];
  for (const [index, l] of req.logs.entries()) {
    const a = latestAttempt(state.runs[l.name]);
    if (a) {
      if (a.jobId !== jobId) {
        throw new UsageError(
          `${req.dir} follows ${
            a.jobId === LOG_ONLY_JOB ? "log files without a job" : `job ${a.jobId}`
          } as ${l.name}, not ${
            req.jobId === null ? "log files alone" : `job ${req.jobId}`
          }; give another --state directory`,
        );
      }
      continue;
    }
    // An array task is asked for by its array's id (a pending task has no row of its own).
    const task = /^(\d+)_(\d+)$/.exec(jobId);
    out.push({
      type: "recovered",
      run: l.name,
      index,
      attempt: 1,
      fingerprint: "adhoc",
      jobId,
      ...(task ? { arrayJobId: task[1], taskId: Number(task[2]) } : {}),
      state: "running",
      startedAt: at,
      why: req.jobId !== null
        ? `adopted: job ${req.jobId}, not submitted by autoexp (never resubmitted)`
        : "log only: no job id given",
    });
  }
  return out;
}

/**
 * The scheduler of a log-only monitor: there is no job, so every id asked about is reported as
 * running and nothing can be submitted or cancelled. Whether the "job" ended is decided from
 * its log ({@link logOnlyObservation}).
 */
export function logOnlyScheduler(): Scheduler {
  const refuse = (what: string) => () =>
    Promise.reject(new Error(`no job to ${what}: the monitor follows log files only`));
  return {
    kind: "local",
    submit: refuse("submit"),
    query: (req) =>
      Promise.resolve({
        jobs: (req.ids ?? []).map((id) => ({
          id,
          jobId: id,
          name: id,
          state: "running" as const,
          rawState: "LOG ONLY",
          reason: "None",
          source: "local" as const,
        })),
        commands: [],
      }),
    cancel: refuse("cancel"),
    requeue: refuse("requeue"),
    hold: refuse("hold"),
    release: refuse("release"),
    update: refuse("update"),
    limits: () => Promise.resolve({ maxArraySize: 0, accounting: false }),
  };
}

/**
 * What stands for the scheduler's word on a log-only attempt: running until its log says the
 * training is done (`completed`) or the program exited (`exited`), then ended with exit 0 (the
 * log's kinds refine it: an exit after a signal is a timeout). Crash lines alone do not end it
 * (a traceback may be caught); a process that dies silently is a stall, with an inactivity
 * threshold.
 */
export function logOnlyObservation(kinds: Iterable<EventKind>): ObservedJob {
  const k = new Set(kinds);
  if (k.has("completed") || k.has("exited")) {
    return {
      state: "completed",
      rawState: k.has("completed") ? "LOG: training done" : "LOG: program exited",
      reason: "None",
      exitCode: 0,
      source: "local",
    };
  }
  return { state: "running", rawState: "LOG ONLY", reason: "None", source: "local" };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
