/**
 * `autoexp status` (one row per run: state, attempts, job id, exit code, progress, last event, actions)
 * and `autoexp logs RUN|JOB` (print or follow an attempt's log, by run name or job id). Both only
 * read: the sweep's store, the scheduler (one batched query for live states), the runs' logs and
 * markers, the user's history index.
 *
 * @module
 */
import type { Command, CommandUnknownOpts } from "@commander-js/extra-typings";
import { UsageError } from "../errors.ts";
import { didYouMean } from "../config/suggest.ts";
import type { RunPlan, SweepPlan } from "../plan/types.ts";
import type { Runtime } from "../runtime/mod.ts";
import type { JobObservation, Scheduler } from "../scheduler/types.ts";
import {
  actionTallies,
  ACTIVE_ATTEMPT_STATES,
  attemptsMade,
  latestAttempt,
} from "../store/state.ts";
import { SweepStore } from "../store/store.ts";
import { markerOf, readMarkers } from "../submit/markers.ts";
import { findObservation } from "../submit/mod.ts";
import { addSweepLocationOptions, locateSweep, type SweepLocation } from "./locate.ts";
import { type Column, fitTable, renderJson, shortDuration } from "./output.ts";
import { makeStyle, type Style } from "./style.ts";
import { modeOf } from "../monitoring/vocabulary.ts";
import { makeScheduler } from "./scheduler_wiring.ts";
import { loadPlan } from "../monitor/load_plan.ts";
import { watchFileOf, type WatchRecord } from "../monitor/log_watch.ts";
import { attemptLogPath, progressParts } from "../monitor/step.ts";
import { stageRuns } from "../submit/release.ts";
import { collect } from "./common.ts";
import { entriesOfJob, isJobId } from "../store/history.ts";
import { historyOf, readHistory } from "./history_cmd.ts";

/** One row of `autoexp status` (and of `status --json`). */
export interface StatusRow {
  run: string;
  index: number;
  /** In a pipeline: the run's stage. */
  stage?: string;
  state: string;
  attempts: number;
  job: string | null;
  /** The exit code of an attempt that ended by itself (none for a cancelled one). */
  exit_code: number | null;
  reason: string | null;
  /** The last `iteration N/M` the log showed. */
  progress: { iteration: number; total: number | null } | null;
  /** Since when the latest attempt is in its state (running: since it started), ISO. */
  since: string | null;
  /** When the latest attempt ended, ISO. */
  ended_at: string | null;
  /** Seconds left at the rate the latest attempt advanced, while it runs. */
  eta_seconds: number | null;
  /** How the attempt before the latest ended, and how far it got. */
  previous: { attempt: number; state: string; iteration: number | null } | null;
  /** The last notable log event the monitor saw (checkpoint, resume, error). */
  last_event: string | null;
  /** Monitor actions of the run by outcome (`open`: queued or running). */
  actions: { ok: number; failed: number; skipped: number; open: number; total: number };
  /** For a derived run (cooldown, evaluation): the run it came from. */
  parent: string | null;
  log: string | null;
  /** Nothing more will happen to the run: a final verdict, no restart due, no action open. */
  final: boolean;
}

/** The last `iteration N/M` of a log's tail, Megatron style (or `iteration N`). */
export function progressOf(tail: string): string | null {
  const re = /iteration\s+(\d+)\s*\/\s*(\d+)/g;
  let last: RegExpExecArray | null = null;
  for (let m = re.exec(tail); m; m = re.exec(tail)) last = m;
  return last ? `${Number(last[1])}/${Number(last[2])}` : null;
}

/** `"240/300"` or `"240"` as numbers. */
/**
 * Seconds left for a running attempt: the iterations still to go at the rate it made since it
 * started (from the checkpoint it resumed, when the attempt before reached one).
 */
export function etaSeconds(
  progress: StatusRow["progress"],
  runningSinceMs: number | null,
  fromIteration: number,
  nowMs: number,
): number | null {
  if (!progress || progress.total === null || runningSinceMs === null) return null;
  const done = progress.iteration - fromIteration;
  const elapsed = (nowMs - runningSinceMs) / 1000;
  if (done <= 0 || elapsed <= 0) return null;
  return Math.max(0, Math.round(((progress.total - progress.iteration) * elapsed) / done));
}

async function tailText(r: Runtime, path: string, bytes = 65536): Promise<string> {
  try {
    return new TextDecoder().decode(await r.fs.readTail(path, bytes));
  } catch {
    return "";
  }
}

/** The runs of a sweep: its plan's (submitted or not) and the derived runs its store made. */
export async function runsOf(
  r: Runtime,
  plan: SweepPlan,
  store: SweepStore,
): Promise<{ run: RunPlan; plan: SweepPlan }[]> {
  const out = plan.runs.map((run) => ({ run, plan }));
  for (const rec of Object.values(store.state.runs)) {
    if (!rec.planDir) continue;
    try {
      const loaded = await loadPlan(r.fs, rec.planDir);
      const run = loaded.plan.runs.find((x) => x.name === rec.name);
      if (run) out.push({ run, plan: loaded.plan });
    } catch { /* its plan is gone: nothing to show but the store's record */ }
  }
  return out;
}

async function readWatches(r: Runtime, storeDir: string): Promise<Record<string, WatchRecord>> {
  try {
    return JSON.parse(await r.fs.readTextFile(watchFileOf(storeDir)));
  } catch {
    return {};
  }
}

/**
 * Builds the status rows; with `live`, active attempts get their state from the scheduler.
 * `progress: false` skips reading logs' tails for the progress column (when the monitor's watch
 * file does not have it), for callers that read the logs themselves. `scheduler` gives the one
 * to ask (`status --watch` makes it once for all its rounds).
 */
export async function statusRows(
  r: Runtime,
  loc: { plan: SweepPlan; kind?: "slurm" | "local" },
  live: boolean,
  opened?: SweepStore,
  opts: { progress?: boolean; scheduler?: () => Promise<Scheduler> } = {},
): Promise<StatusRow[]> {
  const store = opened ??
    await SweepStore.open(r.fs, r.host, loc.plan.sweep.dir, { readOnly: true });
  let jobs: readonly JobObservation[] = [];
  const active = Object.values(store.state.runs).map(latestAttempt).filter((a) =>
    a && ACTIVE_ATTEMPT_STATES.has(a.state) && a.jobId
  );
  if (live && active.length && loc.kind) {
    try {
      const scheduler = await (opts.scheduler?.() ?? makeScheduler(loc.kind, r));
      const ids = [...new Set(active.map((a) => a!.arrayJobId ?? a!.jobId!))];
      jobs = (await scheduler.query({ ids })).jobs;
    } catch (e) {
      r.output.err(
        `autoexp: warning: could not ask the scheduler for live states (${(e as Error).message})\n`,
      );
    }
  }
  const rows: StatusRow[] = [];
  const watches = await readWatches(r, store.dir);
  const tallies = actionTallies(store.state);
  const none = { ok: 0, failed: 0, skipped: 0, open: 0, total: 0 };
  for (const { run, plan } of await runsOf(r, loc.plan, store)) {
    const rec = store.state.runs[run.name];
    const a = latestAttempt(rec);
    let state = a?.verdict ?? a?.state ?? "not submitted";
    let exit = a?.exitCode ?? null;
    let reason = a?.verdictReason ?? a?.reason ?? null;
    if (!a && rec?.blocked) {
      state = "blocked";
      reason = rec.blocked;
    } else if (!a && rec?.awaits) {
      // A pipeline run the monitor submits when its own inputs completed.
      state = "waiting";
      reason = rec.released
        ? "inputs complete: being submitted"
        : `waits for ${rec.awaits.join(", ")}`;
    }
    if (a && !a.verdictFinal && ACTIVE_ATTEMPT_STATES.has(a.state) && a.jobId) {
      const obs = findObservation(jobs, a.jobId, a.arrayJobId, a.taskId);
      if (obs && !(a.verdict === "stalled" && obs.state === "running")) {
        state = obs.state;
        exit = obs.exitCode ?? exit;
        reason = obs.reason;
      }
    }
    if (a?.restart && a.verdictFinal) {
      const at = a.restart.notBefore ? ` at ${a.restart.notBefore}` : "";
      reason = `restarting${at}: ${a.restart.why}`;
    } else if (a?.restartDeclined && a.verdictFinal && a.verdict !== "completed") {
      // Why the monitor let it end (a spent budget, no progress, no policy for its mode).
      reason = `${reason ? `${reason}; ` : ""}not restarted: ${a.restartDeclined}`;
    }
    const log = a ? attemptLogPath(plan, run, a) : null;
    const w = a ? watches[`${run.name}#${a.attempt}`] : undefined;
    const actions = tallies.get(run.name) ?? none;
    const progress = progressParts(
      w?.progress ??
        (log && opts.progress !== false ? progressOf(await tailText(r, log)) : null),
    );
    const prev = rec && rec.attempts.length > 1 ? rec.attempts[rec.attempts.length - 2] : null;
    const running = state === "running" && a?.stateSince ? Date.parse(a.stateSince) : null;
    rows.push({
      run: run.name,
      index: run.index,
      ...(run.stage ? { stage: run.stage } : {}),
      state,
      attempts: attemptsMade(rec),
      job: a?.jobId ?? null,
      exit_code: state === "cancelled" ? null : exit,
      reason: reason && reason !== "None" ? reason : null,
      progress,
      since: a?.stateSince ?? null,
      ended_at: a?.endedAt ?? null,
      eta_seconds: etaSeconds(
        progress,
        running,
        prev?.reached?.checkpoint ?? 0,
        r.host.now().getTime(),
      ),
      previous: prev
        ? {
          attempt: prev.attempt,
          state: prev.verdict ?? prev.state,
          iteration: prev.reached?.iteration ?? null,
        }
        : null,
      last_event: w?.lastEvent ?? null,
      actions: { ...actions },
      parent: rec?.parent ?? null,
      log,
      final: (!!a?.verdictFinal && !a.restart && !actions.open) || (!a && !!rec?.blocked),
    });
  }
  return rows;
}

/** `13 ok, 3 skipped, 1 failed, 2 open` (skipped: a condition did not hold), or `-`. */
export function actionCounts(a: StatusRow["actions"]): string {
  if (!a.total) return "-";
  const parts = [`${a.ok} ok`];
  if (a.skipped) parts.push(`${a.skipped} skipped`);
  if (a.failed) parts.push(`${a.failed} failed`);
  if (a.open) parts.push(`${a.open} open`);
  return parts.join(", ");
}

/** A log event's name as users read it: `megatron_training_done 40` -> `training done 40`. */
export function eventLabel(event: string): string {
  return event.replace(/^(megatron|pytorch|slurm|torch)_/, "").replaceAll("_", " ");
}

/** The attempt column: `2`, or `2 (1: crash @25)` with how the attempt before ended. */
function attemptCell(row: StatusRow): string {
  if (!row.previous) return String(row.attempts);
  const p = row.previous;
  // How it ended, in failure-mode words (crash, oom, timeout): the words policies use.
  const word = modeOf(p.state) ?? p.state;
  return `${row.attempts} (${p.attempt}: ${word}${p.iteration !== null ? ` @${p.iteration}` : ""})`;
}

/** How to render the status table. */
export interface StatusView {
  /** Terminal width to fit (null: no limit, as when piped). */
  readonly width: number | null;
  readonly style: Style;
  readonly now: Date;
}

/** The status table with a closing count per state. */
export function renderStatus(rows: StatusRow[], plan: SweepPlan, view?: StatusView): string {
  const style = view?.style ?? makeStyle(false);
  const nowMs = (view?.now ?? new Date()).getTime();
  const counts = new Map<string, number>();
  for (const row of rows) counts.set(row.state, (counts.get(row.state) ?? 0) + 1);
  const when = (x: StatusRow) => {
    const t = x.ended_at ?? x.since;
    return t ? `${shortDuration((nowMs - Date.parse(t)) / 1000)} ago` : "-";
  };
  const columns: Column[] = [
    { header: "run", priority: 0, shrink: { min: 16, lastResort: true } },
    // A pipeline's stage (empty, so left out, for a sweep without stages): kept after progress,
    // reason and attempt, before the rest (run names often say the stage too).
    { header: "stage", priority: 4 },
    { header: "state", priority: 0 },
    { header: "attempt", priority: 3 },
    { header: "progress", priority: 1 },
    { header: "eta", priority: 5 },
    { header: "since", priority: 7 },
    { header: "job", priority: 8 },
    { header: "exit", priority: 9 },
    { header: "last event", priority: 11, shrink: { min: 10 } },
    { header: "actions", priority: 6 },
    { header: "reason", priority: 2, shrink: { min: 12 } },
    { header: "from", priority: 10, shrink: { min: 8 } },
  ];
  const { text: table, dropped } = fitTable(
    columns,
    rows.map((x) => [
      x.run,
      x.stage ?? "",
      x.state,
      attemptCell(x),
      x.progress
        ? `${x.progress.iteration}${x.progress.total !== null ? `/${x.progress.total}` : ""}`
        : "-",
      x.eta_seconds !== null ? shortDuration(x.eta_seconds) : "-",
      when(x),
      x.job ?? "-",
      x.exit_code === null ? "-" : String(x.exit_code),
      x.last_event ? eventLabel(x.last_event) : "-",
      actionCounts(x.actions),
      x.state === "completed" && x.reason === "exited 0" ? "" : x.reason ?? "",
      x.parent ?? "",
    ]),
    view?.width ?? null,
    (col, row, text) => (col === 2 ? style.state(rows[row].state, text) : text),
  );
  const summary = [...counts].map(([s, n]) => style.state(s, `${n} ${s}`)).join(", ");
  const left = dropped.length ? `${style.dim(`--wide also shows: ${dropped.join(", ")}`)}\n` : "";
  return `${table}\n${rows.length} runs: ${summary} (sweep ${plan.sweep.dir})\n${left}`;
}

/** Registers `status` and `logs`. */
export function registerStatus(program: Command, rt: () => Runtime): void {
  const status = program
    .command("status")
    .description(
      "one row per run: state, attempts, job id, exit code, progress, last event, actions",
    )
    .option("--json", "print JSON")
    .option("--watch [seconds]", "redraw every few seconds (default 5) until every run has ended")
    .option("--wide", "show every column (by default the table fits the terminal)")
    .option("--no-live", "do not ask the scheduler; show what the sweep's store recorded")
    .option("--stage <name>", "only this stage's runs (repeatable; a pipeline)", collect)
    .addHelpText(
      "after",
      `
Examples:
  autoexp status                          the sweep of ./outputs or the one you are in
  autoexp status --state outputs/demo --watch 10
  autoexp status --json | jq '.runs[] | select(.state != "completed") | .run'`,
    );
  addSweepLocationOptions(status as unknown as CommandUnknownOpts);
  status.action(async (opts) => {
    const r = rt();
    const o = opts as SweepLocation & {
      json?: boolean;
      watch?: string | boolean;
      wide?: boolean;
      live: boolean;
      stage?: string[];
    };
    const loc = await locateSweep(o, r);
    const every = o.watch === undefined
      ? 0
      : Math.max(1, Number(o.watch === true ? 5 : o.watch) || 5);
    const style = makeStyle(r.host.color);
    // One scheduler for every refresh of --watch (made when first needed).
    let made: Promise<Scheduler> | undefined;
    const scheduler = () => made ??= makeScheduler(loc.kind ?? "slurm", r);
    const only = o.stage?.length ? stageRuns(loc.plan, o.stage) : null;
    for (;;) {
      const all = await statusRows(r, loc, o.live !== false, undefined, { scheduler });
      const rows = only ? all.filter((x) => only.has(x.run)) : all;
      const now = r.host.now();
      const ended = rows.every((x) => x.final || x.state === "not submitted") &&
        rows.some((x) => x.final);
      let text = o.json
        ? renderJson({
          format: "autoexp.status",
          version: 2,
          sweep: loc.plan.sweep.dir,
          runs: rows,
        })
        : renderStatus(rows, loc.plan, {
          width: o.wide ? null : r.host.columns?.() ?? null,
          style,
          now,
        });
      if (every && !o.json) {
        const head = `every ${every}s · ${now.toTimeString().slice(0, 8)} · ${loc.plan.sweep.dir}` +
          (ended ? " · every run has ended" : " · Ctrl-C to stop");
        text = `${style.bold(head)}\n\n${text}`;
        if (r.host.terminal) text = `\x1b[H\x1b[2J${text}`;
      }
      r.output.out(text);
      if (!every || ended) return;
      await new Promise((res) => setTimeout(res, every * 1000));
    }
  });

  const logs = program
    .command("logs")
    .description(
      "print or follow a run's log (the latest attempt unless --attempt), or a job's by its id",
    )
    .argument("<run-or-job>", "the run's name, or a job id autoexp submitted (12345 or 12345_7)")
    .option("-f, --follow", "keep printing what is appended (Ctrl-C to stop)")
    .option("--attempt <n>", "which attempt (1 is the first)")
    .addHelpText(
      "after",
      `
A job id is looked up in your history index (autoexp history), then in the sweep's journal.

Examples:
  autoexp logs demo_lr0.0003 --state outputs/demo --attempt 1   the crashed attempt
  autoexp logs demo_lr0.001 -f                                  follow the latest attempt
  autoexp logs 123456_7                                         array task 7 of job 123456`,
    );
  addSweepLocationOptions(logs as unknown as CommandUnknownOpts);
  logs.action(async (runName, opts) => {
    const r = rt();
    const o = opts as SweepLocation & { follow?: boolean; attempt?: string };
    if (isJobId(runName)) {
      const job = await findJobLog(r, runName, o);
      if (job) {
        if (o.attempt !== undefined) {
          throw new UsageError(
            `--attempt is for a run's name; job ${runName} is attempt ${job.attempt} of ${job.run}`,
          );
        }
        await printLog(r, job.path, job.runDir, job.jobId, o.follow === true);
        return;
      }
      if (!o.state && !o.configDir && !o.override?.length && !(await inSweep(r))) {
        const index = historyOf(r);
        throw new UsageError(
          `no job ${runName} in your history index${index ? ` (${index.file})` : " (it is off)"}` +
            "; to look in a sweep's journal, give --state <sweep dir> (autoexp history lists " +
            "the jobs autoexp submitted)",
        );
      }
    }
    const loc = await locateSweep(o, r);
    const store = await SweepStore.open(r.fs, r.host, loc.plan.sweep.dir, { readOnly: true });
    const all = await runsOf(r, loc.plan, store);
    const found = all.find((x) => x.run.name === runName);
    if (!found) {
      const hint = didYouMean(runName, all.map((x) => x.run.name));
      throw new UsageError(
        isJobId(runName)
          ? `no job ${runName} in your history index or in sweep ${loc.plan.sweep.dir} ` +
            "(autoexp history lists the jobs autoexp submitted)"
          : `no run "${runName}" in sweep ${loc.plan.sweep.dir}${hint ? `; ${hint}` : ""}`,
      );
    }
    const run = found.run;
    const rec = store.state.runs[run.name];
    if (!rec?.attempts.length) throw new UsageError(`run "${run.name}" has not been submitted yet`);
    const n = o.attempt === undefined ? rec.attempts.length : Number(o.attempt);
    const a = rec.attempts[n - 1];
    if (!a) {
      throw new UsageError(
        `run "${run.name}" has ${rec.attempts.length} attempt(s); --attempt ${o.attempt} does not exist`,
      );
    }
    const path = attemptLogPath(found.plan, run, a);
    if (!path) {
      throw new UsageError(`attempt ${n} of "${run.name}" has no job (its submission failed)`);
    }
    await printLog(r, path, run.runDir, a.jobId ?? "", o.follow === true);
  });
}

/** Whether the current directory is a sweep's (what `locateSweep` falls back to). */
function inSweep(r: Runtime): Promise<boolean> {
  return r.fs.exists(`${r.host.cwd()}/sweep.json`);
}

/** A job's log, found by its id: where it is, and whose attempt it was. */
interface JobLog {
  readonly path: string;
  readonly runDir: string | null;
  readonly jobId: string;
  readonly run: string;
  readonly attempt: number;
}

/**
 * Finds a job autoexp submitted by its id: in the user's history index, else in the journal of
 * the sweep the location options (or the current directory) point at. Null when neither knows
 * it; a usage error when the id names several array tasks or a job without a log.
 */
async function findJobLog(r: Runtime, id: string, o: SweepLocation): Promise<JobLog | null> {
  let found = entriesOfJob(await readHistory(r), id).map((e) => ({
    path: e.log,
    runDir: e.run_dir,
    jobId: e.job,
    run: e.run,
    attempt: e.attempt,
  }));
  if (!found.length) {
    let loc;
    try {
      loc = await locateSweep(o, r);
    } catch (e) {
      if (o.state || o.configDir || o.override?.length) throw e;
      return null; // no sweep here to look in
    }
    const store = await SweepStore.open(r.fs, r.host, loc.plan.sweep.dir, { readOnly: true });
    for (const { run, plan } of await runsOf(r, loc.plan, store)) {
      for (const a of store.state.runs[run.name]?.attempts ?? []) {
        const task = a.arrayJobId !== undefined ? `${a.arrayJobId}_${a.taskId}` : null;
        const hit = a.jobId === id || task === id ||
          (!id.includes("_") && a.arrayJobId === id);
        if (!hit || !a.jobId) continue;
        found.push({
          path: attemptLogPath(plan, run, a),
          runDir: run.runDir,
          jobId: a.jobId,
          run: run.name,
          attempt: a.attempt,
        });
      }
    }
  }
  if (!found.length) return null;
  const jobs = [...new Set(found.map((f) => f.jobId))];
  if (jobs.length > 1) {
    const shown = found.slice(0, 6).map((f) => `  ${f.jobId}  ${f.run} (attempt ${f.attempt})`);
    throw new UsageError(
      `job ${id} is an array of ${jobs.length} tasks; give one:\n${shown.join("\n")}${
        found.length > 6 ? `\n  ... and ${found.length - 6} more` : ""
      }`,
    );
  }
  found = found.filter((f) => f.path);
  if (!found.length) throw new UsageError(`job ${id}: autoexp did not record where its log is`);
  const f = found[0];
  return { ...f, path: f.path! };
}

/** Prints a log (byte-offset tailing), following it until its job's end marker with `follow`. */
async function printLog(
  r: Runtime,
  path: string,
  runDir: string | null,
  jobId: string,
  follow: boolean,
): Promise<void> {
  // Byte-offset tailing: a multi-GB log is never read again from the start.
  const { LogTail } = await import("../monitor/tail.ts");
  const { denoTailSource } = await import("../runtime/tail_source.ts");
  const tail = new LogTail(denoTailSource(), path);
  let idle = 0;
  let seen = false;
  for (;;) {
    const polled = await tail.poll({ flush: !follow });
    seen ||= polled.exists;
    if (polled.lines.length) {
      r.output.out(polled.lines.map((l) => `${l}\n`).join(""));
      idle = 0;
    } else idle++;
    if (polled.behind && polled.lines.length) continue; // more than one poll's worth
    if (!follow) {
      if (!seen) throw new UsageError(`no log yet at ${path} (the job may not have started)`);
      return;
    }
    const m = runDir ? markerOf(await readMarkers(r.fs, runDir), jobId) : null;
    if (m && m.state !== "running" && idle > 4) {
      const last = await tail.poll({ flush: true });
      if (last.lines.length) r.output.out(last.lines.map((l) => `${l}\n`).join(""));
      return;
    }
    await new Promise((res) => setTimeout(res, 500));
  }
}
