/**
 * The rows of `autoexp results` and `autoexp results --failed`, as a pure function of what the
 * journal says of each run (state, attempts, times) and the metrics read from its logs and
 * files. Column order is fixed by name, not by which run was read first, so two calls (or a
 * call while the sweep runs and one after) list the same columns in the same order.
 *
 * @module
 */
import type { ResultsConfig } from "../config/schema/mod.ts";
import type { ConfigValue } from "../config/tree.ts";
import { errorLineOf, LOG_COLUMNS, type LogMetrics } from "./log_metrics.ts";
import { type MetricValue, naturalCompare } from "./file_metrics.ts";

/** One attempt of a run, as the journal and the job's marker tell it. */
export interface AttemptInput {
  readonly attempt: number;
  readonly jobId: string | null;
  /** The monitor's verdict (`completed`, `failed`, `timeout`, ...) or the scheduler state. */
  readonly state: string;
  /** The verdict will not change (the attempt ended). */
  readonly final: boolean;
  /** The failure mode of its verdict (`crash`, `oom`, `timeout`, ...), as restart policies name it. */
  readonly failureClass?: string | null;
  readonly exitCode: number | null;
  readonly reason: string | null;
  /** When the job started and ended (ISO); null when unknown (not started, still running). */
  readonly startedAt: string | null;
  readonly endedAt: string | null;
  /** What the monitor decided after it ended (`restart after crash`), if anything. */
  readonly restart: string | null;
  readonly logPath: string | null;
  /** The metrics of its log; null when it has no log (yet). */
  readonly log: LogMetrics | null;
}

/** One run with what was read of it. */
export interface RunInput {
  readonly name: string;
  readonly index: number;
  /** The run a derived run (cooldown, evaluation) came from. */
  readonly parent: string | null;
  /** Its swept values (dotted key -> value). */
  readonly values: Readonly<Record<string, ConfigValue>>;
  /** A derived run's own overrides (on top of its parent's config). */
  readonly overrides: readonly string[];
  /** GPUs its jobs ask for (for GPU-hours). */
  readonly gpus: number;
  readonly results?: ResultsConfig;
  /** The run's state as `autoexp status` shows it. */
  readonly state: string;
  /** Nothing more will happen to the run (status's `final`); else its row is partial. */
  readonly final: boolean;
  readonly attempts: readonly AttemptInput[];
  /** Columns of its metric files (`eval.mmlu`). */
  readonly files: Readonly<Record<string, MetricValue>>;
}

/** One row of `autoexp results`. */
export interface ResultRow {
  readonly run: string;
  readonly index: number;
  readonly parent: string | null;
  readonly params: Readonly<Record<string, ConfigValue>>;
  readonly state: string;
  /** The run has not ended: its metrics may still change. */
  readonly partial: boolean;
  readonly attempts: number;
  readonly gpu_hours: number;
  readonly metrics: Readonly<Record<string, MetricValue>>;
}

/** All rows, with the swept keys and metric columns in their display order. */
export interface ResultsTable {
  readonly params: readonly string[];
  readonly metrics: readonly string[];
  readonly rows: readonly ResultRow[];
}

/** Columns whose best value is their smallest, without configuration. */
export const DEFAULT_GOALS: Readonly<Record<string, "min" | "max">> = {
  loss: "min",
  val_loss: "min",
  val_ppl: "min",
  test_loss: "min",
  test_ppl: "min",
};

/** Hours times GPUs of an attempt (to `now` while it runs). */
export function gpuHours(a: AttemptInput, gpus: number, now: number): number {
  if (!a.startedAt || gpus <= 0) return 0;
  const start = Date.parse(a.startedAt);
  const end = a.endedAt ? Date.parse(a.endedAt) : (a.final ? start : now);
  if (!Number.isFinite(start) || !Number.isFinite(end) || end < start) return 0;
  return ((end - start) / 3_600_000) * gpus;
}

function logColumns(
  attempts: readonly AttemptInput[],
  goals: Readonly<Record<string, "min" | "max">>,
): Record<string, MetricValue> {
  const out: Record<string, MetricValue> = {};
  const min: Record<string, number> = {};
  const max: Record<string, number> = {};
  for (const a of attempts) {
    if (!a.log) continue;
    // The newest attempt's last value wins; best values are over every attempt.
    Object.assign(out, a.log.last);
    for (const [k, v] of Object.entries(a.log.min)) if (!(k in min) || v < min[k]) min[k] = v;
    for (const [k, v] of Object.entries(a.log.max)) if (!(k in max) || v > max[k]) max[k] = v;
  }
  for (const [k, goal] of Object.entries(goals)) {
    const best = goal === "min" ? min[k] : max[k];
    if (best !== undefined) out[`${k}.best`] = best;
  }
  return out;
}

/** Sort key of a metric column: log columns first in their fixed order, then by name. */
function columnOrder(a: string, b: string): number {
  const rank = (c: string) => {
    const base = c.endsWith(".best") ? c.slice(0, -5) : c;
    const i = LOG_COLUMNS.indexOf(base);
    return i < 0 ? LOG_COLUMNS.length : i;
  };
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  return naturalCompare(a, b);
}

/**
 * The results table: one row per run (derived runs too), its swept values, state, attempts,
 * GPU-hours and metrics (log metrics' last values and, for columns with a goal, `.best`; then
 * the metric files' columns). `now` (ms) counts the GPU-hours of running attempts.
 */
export function buildResults(runs: readonly RunInput[], now: number): ResultsTable {
  const params: string[] = [];
  const columns = new Set<string>();
  const rows: ResultRow[] = [];
  for (const run of runs) {
    for (const k of Object.keys(run.values)) if (!params.includes(k)) params.push(k);
    const useLog = run.results?.log_metrics !== false;
    const goals = { ...DEFAULT_GOALS, ...(run.results?.best ?? {}) };
    const metrics = {
      ...(useLog ? logColumns(run.attempts, goals) : {}),
      ...run.files,
    };
    for (const k of Object.keys(metrics)) columns.add(k);
    rows.push({
      run: run.name,
      index: run.index,
      parent: run.parent,
      params: run.values,
      state: run.state,
      partial: !run.final,
      attempts: run.attempts.length,
      gpu_hours: run.attempts.reduce((s, a) => s + gpuHours(a, run.gpus, now), 0),
      metrics,
    });
  }
  return { params, metrics: [...columns].sort(columnOrder), rows };
}

/** One failed attempt, for `autoexp results --failed`. */
export interface FailureRow {
  readonly run: string;
  readonly attempt: number;
  readonly job: string | null;
  /** The failure class, as restart policies name it (`crash`, `oom`, `timeout`, `stall`, ...). */
  readonly class: string;
  /** The monitor's verdict on the attempt (`failed`, `out_of_memory`, ...). */
  readonly state: string;
  readonly exit_code: number | null;
  /** When it ended (ISO), else when it started. */
  readonly time: string | null;
  /** The line that says what went wrong (a traceback's exception, not the last progress line). */
  readonly error: string | null;
  /** The lines around it: the error block from its first line, or the log's last lines. */
  readonly lines: readonly string[];
  readonly reason: string | null;
  /** What the monitor did next (a restart and why), if anything. */
  readonly restart: string | null;
  /** The run's swept values and own overrides, as `key=value`. */
  readonly overrides: readonly string[];
  readonly log: string | null;
}

/** `key=value` of a swept value, as on a command line. */
export function overrideText(key: string, v: ConfigValue): string {
  return `${key}=${typeof v === "string" ? v : JSON.stringify(v)}`;
}

/** Every attempt that ended other than completed, oldest run and attempt first. */
export function buildFailures(runs: readonly RunInput[]): FailureRow[] {
  const out: FailureRow[] = [];
  for (const run of runs) {
    for (const a of run.attempts) {
      if (!a.final || a.state === "completed") continue;
      const log = a.log ?? { error: [], tail: [] };
      out.push({
        run: run.name,
        attempt: a.attempt,
        job: a.jobId,
        class: a.failureClass ?? a.state,
        state: a.state,
        exit_code: a.exitCode,
        time: a.endedAt ?? a.startedAt,
        error: errorLineOf(log),
        lines: log.error.length ? log.error : log.tail,
        reason: a.reason,
        restart: a.restart,
        overrides: [
          ...Object.entries(run.values).map(([k, v]) => overrideText(k, v)),
          ...run.overrides,
        ],
        log: a.logPath,
      });
    }
  }
  return out;
}
