/**
 * `autoexp monitor --dry-run`: what the monitor would follow and do, as data (printed as JSON
 * with `--json`): the jobs and logs of the runs it follows, the patterns it matches (own and
 * built-in), the actions each event queues, state events, restart policies, the checkpoint watch
 * and start conditions, and the actions a previous monitor left to finish. Pure.
 *
 * @module
 */
import { MEGATRON_EVENTS } from "../monitoring/events.ts";
import type { MonitorSpec } from "../monitoring/spec_types.ts";
import { latestAttempt, type StoreState } from "../store/state.ts";
import { LOG_ONLY_JOB } from "./adhoc.ts";
import { attemptLogPath, type TrackedRun } from "./step.ts";

/** What {@link describeFollow} describes. */
export interface FollowDescription {
  /** `sweep`: a sweep autoexp submitted; `adhoc`: a job or logs it did not submit. */
  readonly mode: "sweep" | "adhoc";
  /** The sweep (or ad-hoc monitor) directory: journal, actions' output. */
  readonly state_dir: string;
  /** `slurm`, `local`, `none` (logs only) or `not submitted yet`. */
  readonly scheduler: string;
  /** Whether it can submit anything: restarts and derived runs (never for `adhoc`). */
  readonly resubmits: boolean;
  readonly runs: readonly {
    readonly run: string;
    readonly job_id: string | null;
    readonly attempt: number | null;
    readonly state: string;
    readonly log: string | null;
    /** Whether the monitor still follows it (its latest attempt is not decided). */
    readonly followed: boolean;
    /** The key of its monitoring spec in `monitoring`. */
    readonly monitoring: string;
  }[];
  readonly monitoring: Readonly<Record<string, unknown>>;
  /** Actions queued or started by an earlier monitor, which this one would finish. */
  readonly pending_actions: readonly {
    readonly id: string;
    readonly run: string;
    readonly source: string;
    readonly status: string;
  }[];
}

/**
 * Describes what a monitor over `tracked` would do given the journal's `state`.
 *
 * @example
 * describeFollow("adhoc", "/w/autoexp-monitor/job-1", "slurm", tracked, state).runs[0].job_id // "1"
 */
export function describeFollow(
  mode: "sweep" | "adhoc",
  dir: string,
  scheduler: string,
  tracked: ReadonlyMap<string, TrackedRun>,
  state: StoreState,
): FollowDescription {
  const specs = new Map<MonitorSpec, string>();
  const runs = [...tracked.values()].map((t) => {
    let key = specs.get(t.spec);
    if (key === undefined) {
      key = t.loaded.monitor?.runs[t.run.name]?.spec ?? "default";
      specs.set(t.spec, key);
    }
    const a = latestAttempt(state.runs[t.run.name]);
    return {
      run: t.run.name,
      job_id: a?.jobId === LOG_ONLY_JOB ? null : a?.jobId ?? null,
      attempt: a?.attempt ?? null,
      state: a?.verdict ?? a?.state ?? "not submitted",
      log: a ? attemptLogPath(t.loaded.plan, t.run, a) : null,
      followed: a !== undefined && !(a.verdictFinal && (a.restart || a.restartDeclined)),
      monitoring: key,
    };
  });
  const monitoring: Record<string, unknown> = {};
  for (const [spec, key] of specs) monitoring[key] = describeSpec(spec, mode === "sweep");
  const pending = Object.values(state.actions ?? {})
    .filter((x) => x.status === "queued" || x.status === "started")
    .map((x) => ({ id: x.id, run: x.run, source: x.source, status: x.status }));
  return {
    mode,
    state_dir: dir,
    scheduler,
    resubmits: mode === "sweep",
    runs,
    monitoring,
    pending_actions: pending,
  };
}

/** One monitoring spec as plain data: intervals, patterns with their actions, policies. */
export function describeSpec(spec: MonitorSpec, resubmits = true): Record<string, unknown> {
  const own = new Set(spec.logEvents.map((e) => e.spec.name));
  const events = [
    ...spec.logEvents.map((e) => {
      const builtin = MEGATRON_EVENTS.some((b) => b.name === e.spec.name);
      return {
        name: e.spec.name,
        kind: e.spec.kind ?? e.spec.metadata?.kind ?? null,
        pattern: e.spec.pattern,
        pattern_type: e.spec.pattern_type ?? "regex",
        source: builtin ? "built-in, with actions added" : "config",
        actions: e.actions,
      };
    }),
    ...(spec.builtinEvents ? MEGATRON_EVENTS : []).filter((e) => !own.has(e.name)).map((e) => ({
      name: e.name,
      kind: e.kind ?? null,
      pattern: e.pattern,
      pattern_type: e.pattern_type ?? "regex",
      source: "built-in",
      actions: [],
    })),
  ];
  return {
    poll_interval_seconds: spec.pollIntervalSeconds,
    log_poll_seconds: spec.logPollSeconds,
    inactivity_threshold_seconds: spec.inactivityThresholdSeconds,
    output_paths: spec.outputPaths,
    events,
    state_events: spec.stateEvents,
    restart_policies: resubmits ? spec.restartPolicies : [],
    checkpoint_watch: spec.checkpointWatch ?? null,
    start_conditions: spec.startConditions ?? null,
  };
}
