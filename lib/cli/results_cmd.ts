/**
 * `autoexp results`: one row per run (derived runs too) with its swept values, state, attempts,
 * GPU-hours and metrics, as a table, CSV, JSON or Markdown; `--failed`: one row per failed
 * attempt with its error line. Reads only: the sweep's store, the runs' markers, logs and metric
 * files. Logs are read incrementally: what was read of each log is kept in
 * `.autoexp/results/logs.json` (byte offset and the folded metrics), so a second call reads only
 * what the logs gained since (a read-only sweep directory just means reading again).
 *
 * The rows themselves are pure functions of what is read here (`lib/results/`).
 *
 * @module
 */
import type { Command, CommandUnknownOpts } from "@commander-js/extra-typings";
import { UsageError } from "../errors.ts";
import { didYouMean } from "../config/suggest.ts";
import type { LogEventSpec } from "../monitoring/events.ts";
import type { MonitorFile } from "../monitoring/monitor_file.ts";
import type { RunPlan, SweepPlan } from "../plan/types.ts";
import type { Runtime } from "../runtime/mod.ts";
import type { TailSource } from "../runtime/tail_source.ts";
import type { AttemptRecord } from "../store/state.ts";
import { SweepStore } from "../store/store.ts";
import { markerOf, readMarkers } from "../submit/markers.ts";
import { readMonitorFile } from "../monitor/load_plan.ts";
import { attemptLogPath } from "../monitor/step.ts";
import { type AttemptState, failureMode } from "../monitor/lifecycle.ts";
import { newTailState, pollTail, type TailState } from "../monitor/tail.ts";
import {
  emptyLogMetrics,
  feedLog,
  type LogMetrics,
  type LogReader,
  logReaderFor,
} from "../results/log_metrics.ts";
import {
  formatOf,
  globBase,
  type MetricValue,
  parseMetricFile,
  pickMetricFile,
} from "../results/file_metrics.ts";
import {
  type AttemptInput,
  buildFailures,
  buildResults,
  type FailureRow,
  type ResultsTable,
  type RunInput,
} from "../results/rows.ts";
import {
  defaultColumns,
  failureCells,
  knownColumns,
  renderFailuresCsv,
  renderFailuresMarkdown,
  renderResultsCsv,
  renderResultsMarkdown,
  sortColumn,
  sortRows,
  tableCells,
} from "../results/render.ts";
import { addSweepLocationOptions, locateSweep, type SweepLocation } from "./locate.ts";
import { renderJson, renderTable } from "./output.ts";
import { runsOf, statusRows } from "./status_cmd.ts";

/** What was read of one log: where the tail stands and the metrics folded so far. */
interface LogCacheEntry {
  readonly tail: TailState;
  readonly reader: string;
  readonly metrics: LogMetrics;
}

interface LogCache {
  readonly format: "autoexp.results-cache";
  readonly version: 1;
  logs: Record<string, LogCacheEntry>;
}

/** The cache file of a sweep's store directory. */
export function resultsCacheOf(storeDir: string): string {
  return `${storeDir}/results/logs.json`;
}

async function readCache(r: Runtime, path: string): Promise<LogCache> {
  try {
    const c = JSON.parse(await r.fs.readTextFile(path));
    if (c?.format === "autoexp.results-cache" && c.version === 1) return c;
  } catch { /* none yet, or torn: read the logs again */ }
  return { format: "autoexp.results-cache", version: 1, logs: {} };
}

/** Everything `results` and `report` show of a sweep. */
export interface SweepResults {
  readonly plan: SweepPlan;
  readonly inputs: readonly RunInput[];
  readonly table: ResultsTable;
  readonly failures: readonly FailureRow[];
  /** Problems reading metric files (`run: file: why`), said once on stderr. */
  readonly problems: readonly string[];
  readonly now: Date;
}

/** Reads one log to its end (what it gained since `entry`), folding its lines into metrics. */
async function readLog(
  source: TailSource,
  path: string,
  reader: LogReader,
  readerKey: string,
  entry: LogCacheEntry | undefined,
  ended: boolean,
): Promise<LogCacheEntry> {
  let tail = entry && entry.reader === readerKey ? entry.tail : newTailState(path);
  let metrics = entry && entry.reader === readerKey ? entry.metrics : emptyLogMetrics();
  for (;;) {
    const polled = await pollTail(source, tail, { flush: ended });
    if (polled.truncated || polled.replaced) metrics = emptyLogMetrics();
    tail = polled.state;
    if (polled.lines.length) feedLog(metrics, reader, polled.lines);
    if (!polled.lines.length || polled.behind === 0) break;
  }
  return { tail, reader: readerKey, metrics };
}

/** The run's own log events (from its monitoring spec), and whether built-ins are on. */
function eventsOf(
  monitor: MonitorFile | null,
  run: string,
): { specs: LogEventSpec[]; builtin: boolean } {
  const ref = monitor?.runs[run];
  const spec = ref ? monitor!.specs[ref.spec] : undefined;
  if (!spec) return { specs: [], builtin: true };
  return { specs: spec.logEvents.map((e) => e.spec), builtin: spec.builtinEvents };
}

async function readFiles(
  r: Runtime,
  run: RunPlan,
  problems: string[],
): Promise<Record<string, MetricValue>> {
  const out: Record<string, MetricValue> = {};
  const listed = new Map<string, string[]>();
  for (const decl of run.results?.files ?? []) {
    const absolute = decl.glob.startsWith("/");
    const root = absolute ? "" : run.runDir;
    const base = globBase(decl.glob);
    const dir = absolute ? base || "/" : (base ? `${root}/${base}` : root);
    let rel = listed.get(dir);
    if (!rel) {
      try {
        rel = (await r.fs.listFiles(dir)).map((e) => base ? `${base}/${e.relPath}` : e.relPath);
      } catch {
        rel = [];
      }
      listed.set(dir, rel);
    }
    const picked = pickMetricFile(decl, rel);
    if (!picked) continue;
    const path = absolute ? picked : `${root}/${picked}`;
    try {
      Object.assign(
        out,
        parseMetricFile(await r.fs.readTextFile(path), formatOf(decl, path), decl),
      );
    } catch (e) {
      problems.push(`${run.name}: ${path}: ${(e as Error).message}`);
    }
  }
  return out;
}

/**
 * Reads a sweep's results: the journal's runs and attempts (`statusRows` for their states),
 * markers for start and end times, logs (incrementally) and metric files.
 */
export async function readSweepResults(
  r: Runtime,
  loc: { plan: SweepPlan; kind?: "slurm" | "local" },
  opts: { live: boolean; source: TailSource },
): Promise<SweepResults> {
  const store = await SweepStore.open(r.fs, r.host, loc.plan.sweep.dir, { readOnly: true });
  const status = await statusRows(r, loc, opts.live, store, { progress: false });
  const stateOf = new Map(status.map((s) => [s.run, s]));
  const cachePath = resultsCacheOf(store.dir);
  const cache = await readCache(r, cachePath);
  const nextCache: LogCache = { ...cache, logs: {} };
  const monitors = new Map<string, MonitorFile | null>();
  const readers = new Map<string, LogReader>();
  const problems: string[] = [];
  const inputs: RunInput[] = [];
  const now = r.host.now();
  for (const { run, plan } of await runsOf(r, loc.plan, store)) {
    const rec = store.state.runs[run.name];
    if (!monitors.has(plan.sweep.dir)) {
      monitors.set(plan.sweep.dir, await readMonitorFile(r.fs, plan.sweep.dir).catch(() => null));
    }
    const events = eventsOf(monitors.get(plan.sweep.dir)!, run.name);
    const readerKey = JSON.stringify(events);
    let reader = readers.get(readerKey);
    if (!reader) readers.set(readerKey, reader = logReaderFor(events.specs, events.builtin));
    const markers = rec?.attempts.length ? await readMarkers(r.fs, run.runDir) : [];
    const attempts: AttemptInput[] = [];
    for (const a of rec?.attempts ?? []) {
      const logPath = attemptLogPath(plan, run, a);
      const marker = a.jobId ? markerOf(markers, a.jobId) : undefined;
      const final = a.verdictFinal === true;
      let log: LogMetrics | null = null;
      if (logPath) {
        const entry = await readLog(
          opts.source,
          logPath,
          reader,
          readerKey,
          cache.logs[logPath],
          final,
        );
        nextCache.logs[logPath] = entry;
        log = entry.tail.size ? entry.metrics : null;
      }
      attempts.push({
        attempt: a.attempt,
        jobId: a.jobId ?? null,
        state: a.verdict ?? a.state,
        final,
        failureClass: failureMode((a.verdict ?? a.state) as AttemptState) ?? null,
        exitCode: a.exitCode ?? marker?.exit_code ?? null,
        reason: reasonOf(a),
        startedAt: marker?.started_at ?? null,
        endedAt: marker?.ended_at ?? a.endedAt ?? null,
        restart: a.restart
          ? a.restart.why
          : a.restartDeclined
          ? `not restarted: ${a.restartDeclined}`
          : null,
        logPath,
        log,
      });
    }
    inputs.push({
      name: run.name,
      index: run.index,
      parent: rec?.parent ?? null,
      values: run.values,
      overrides: rec?.parent ? plan.sweep.overrides : [],
      gpus: run.gpus,
      results: run.results,
      state: stateOf.get(run.name)?.state ?? "not submitted",
      final: stateOf.get(run.name)?.final ?? false,
      attempts,
      files: await readFiles(r, run, problems),
    });
  }
  // The cache only saves work; a sweep directory we cannot write to is read in full each time.
  try {
    await r.fs.mkdirp(`${store.dir}/results`);
    await r.fs.writeTextFile(cachePath, JSON.stringify(nextCache), false);
  } catch { /* read-only: fine */ }
  return {
    plan: loc.plan,
    inputs,
    table: buildResults(inputs, now.getTime()),
    failures: buildFailures(inputs),
    problems,
    now,
  };
}

function reasonOf(a: AttemptRecord): string | null {
  const reason = a.verdictReason ?? a.reason ?? null;
  return reason && reason !== "None" ? reason : null;
}

/** Checks `--columns` and `--sort` against the table's columns (a typo is a usage error). */
function checkColumns(table: ResultsTable, names: readonly string[], flag: string): void {
  const known = knownColumns(table);
  for (const n of names) {
    if (!known.includes(n)) {
      const hint = didYouMean(n, known);
      throw new UsageError(
        `${flag}: no column "${n}"${hint ? `; ${hint}` : ""} (columns: ${known.join(", ")})`,
      );
    }
  }
}

/** Options of `autoexp results`. */
interface ResultsOptions extends SweepLocation {
  failed?: boolean;
  sort?: string;
  columns?: string;
  csv?: boolean;
  json?: boolean;
  md?: boolean;
  live: boolean;
}

/** The text `autoexp results` prints. */
export function renderResults(res: SweepResults, o: ResultsOptions): string {
  const formats = [o.csv, o.json, o.md].filter(Boolean).length;
  if (formats > 1) throw new UsageError("give one of --csv, --json, --md");
  if (o.failed) {
    const f = res.failures;
    if (o.csv) return renderFailuresCsv(f);
    if (o.json) return renderJson({ sweep: res.plan.sweep.dir, failures: f });
    if (o.md) return renderFailuresMarkdown(f);
    if (!f.length) return `no failed attempts (sweep ${res.plan.sweep.dir})\n`;
    const { header, cells } = failureCells(f);
    return `${
      renderTable(header, cells)
    }\n${f.length} failed attempt(s) (sweep ${res.plan.sweep.dir}); ` +
      `their log lines: --json or --csv, or autoexp logs RUN --attempt N\n`;
  }
  const table = res.table;
  const columns = o.columns
    ? o.columns.split(",").map((c) => c.trim()).filter(Boolean)
    : defaultColumns(table);
  checkColumns(table, columns, "--columns");
  const sort = o.sort ?? res.inputs.find((x) => x.results?.sort)?.results?.sort ?? undefined;
  if (sort) checkColumns(table, [sortColumn(sort)], "--sort");
  const rows = sortRows(table.rows, sort);
  if (o.csv) return renderResultsCsv(rows, columns);
  if (o.md) return renderResultsMarkdown(rows, columns);
  if (o.json) {
    return renderJson({
      sweep: res.plan.sweep.dir,
      params: table.params,
      metrics: table.metrics,
      runs: rows,
    });
  }
  const { header, cells } = tableCells(rows, columns);
  const partial = rows.filter((x) => x.partial).length;
  const note = partial ? `; * ${partial} not ended yet: their values may still change` : "";
  return `${
    renderTable(header, cells)
  }\n${rows.length} runs (sweep ${res.plan.sweep.dir})${note}\n`;
}

/** Registers `results`. */
export function registerResults(program: Command, rt: () => Runtime): void {
  const cmd = program
    .command("results")
    .description(
      "one row per run: swept values, state, attempts, GPU-hours, metrics from logs and files",
    )
    .option("--failed", "one row per failed attempt: failure class, exit code, error line")
    .option("--sort <column>", "sort by a column (-column or column:desc: descending)")
    .option("--columns <list>", "comma-separated columns to show, in this order")
    .option("--csv", "print CSV")
    .option("--json", "print JSON")
    .option("--md", "print a Markdown table")
    .option("--no-live", "do not ask the scheduler; use what the sweep's store recorded")
    .addHelpText(
      "after",
      `
Examples:
  autoexp results --state outputs/demo --sort loss
  autoexp results --columns run,backend.args.lr,loss,eval.mmlu --md
  autoexp results --failed --csv > failed_experiments.csv`,
    );
  addSweepLocationOptions(cmd as unknown as CommandUnknownOpts);
  cmd.action(async (opts) => {
    const r = rt();
    const o = opts as ResultsOptions;
    const loc = await locateSweep(o, r);
    const { denoTailSource } = await import("../runtime/tail_source.ts");
    const res = await readSweepResults(r, loc, {
      live: o.live !== false,
      source: denoTailSource(),
    });
    for (const p of res.problems) r.output.err(`autoexp: warning: ${p}\n`);
    r.output.out(renderResults(res, o));
  });
}
