/**
 * `autoexp status` (one row per run: state, attempts, job id, exit code, progress, last event, actions)
 * and `autoexp logs RUN` (print or follow an attempt's log). Both only read: the sweep's store,
 * the scheduler (one batched query for live states), the runs' logs and markers.
 *
 * @module
 */
import type { Command, CommandUnknownOpts } from "@commander-js/extra-typings";
import { UsageError } from "../errors.ts";
import { didYouMean } from "../config/suggest.ts";
import type { RunPlan, SweepPlan } from "../plan/types.ts";
import type { Runtime } from "../runtime/mod.ts";
import type { JobObservation } from "../scheduler/types.ts";
import { ACTIVE_ATTEMPT_STATES, attemptsMade, latestAttempt } from "../store/state.ts";
import { SweepStore } from "../store/store.ts";
import { markerOf, readMarkers } from "../submit/markers.ts";
import { findObservation } from "../submit/mod.ts";
import { addSweepLocationOptions, locateSweep, type SweepLocation } from "./locate.ts";
import { renderJson, renderTable } from "./output.ts";
import { makeScheduler } from "./scheduler_wiring.ts";
import { loadPlan } from "../monitor/load_plan.ts";
import { watchFileOf, type WatchRecord } from "../monitor/log_watch.ts";
import { attemptLogPath } from "../monitor/step.ts";

/** One row of `autoexp status`. */
export interface StatusRow {
  run: string;
  index: number;
  state: string;
  attempts: number;
  job: string | null;
  exit_code: number | null;
  reason: string | null;
  progress: string | null;
  /** The last notable log event the monitor saw (checkpoint, resume, error). */
  last_event: string | null;
  /** Monitor actions of the run: finished ok / all. */
  actions: { ok: number; failed: number; total: number };
  /** The run's actions' statuses (for the table). */
  actionList: { status: string }[];
  /** For a derived run (cooldown, evaluation): the run it came from. */
  parent: string | null;
  log: string | null;
}

/** The last `iteration N/M` of a log's tail, Megatron style (or `iteration N`). */
export function progressOf(tail: string): string | null {
  const re = /iteration\s+(\d+)\s*\/\s*(\d+)/g;
  let last: RegExpExecArray | null = null;
  for (let m = re.exec(tail); m; m = re.exec(tail)) last = m;
  return last ? `${Number(last[1])}/${Number(last[2])}` : null;
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
 * file does not have it), for callers that read the logs themselves.
 */
export async function statusRows(
  r: Runtime,
  loc: { plan: SweepPlan; kind?: "slurm" | "local" },
  live: boolean,
  opened?: SweepStore,
  opts: { progress?: boolean } = {},
): Promise<StatusRow[]> {
  const store = opened ??
    await SweepStore.open(r.fs, r.host, loc.plan.sweep.dir, { readOnly: true });
  let jobs: readonly JobObservation[] = [];
  const active = Object.values(store.state.runs).map(latestAttempt).filter((a) =>
    a && ACTIVE_ATTEMPT_STATES.has(a.state) && a.jobId
  );
  if (live && active.length && loc.kind) {
    try {
      const scheduler = await makeScheduler(loc.kind, r);
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
  for (const { run, plan } of await runsOf(r, loc.plan, store)) {
    const rec = store.state.runs[run.name];
    const a = latestAttempt(rec);
    let state = a?.verdict ?? a?.state ?? "not submitted";
    let exit = a?.exitCode ?? null;
    let reason = a?.verdictReason ?? a?.reason ?? null;
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
    const acts = Object.values(store.state.actions ?? {}).filter((x) => x.run === run.name);
    rows.push({
      run: run.name,
      index: run.index,
      state,
      attempts: attemptsMade(rec),
      job: a?.jobId ?? null,
      exit_code: exit,
      reason: reason && reason !== "None" ? reason : null,
      progress: w?.progress ??
        (log && opts.progress !== false ? progressOf(await tailText(r, log)) : null),
      last_event: w?.lastEvent ?? null,
      actions: {
        ok: acts.filter((x) => x.status === "ok").length,
        failed: acts.filter((x) => x.status === "failed").length,
        total: acts.length,
      },
      parent: rec?.parent ?? null,
      actionList: acts.map((x) => ({ status: x.status })),
      log,
    });
  }
  return rows;
}

/** `13 ok, 3 skipped, 1 failed` (skipped: a condition did not hold), or `-`. */
export function actionCounts(actions: readonly { status: string }[]): string {
  if (!actions.length) return "-";
  const n = (s: string) => actions.filter((a) => a.status === s).length;
  const parts = [`${n("ok")} ok`];
  if (n("skipped")) parts.push(`${n("skipped")} skipped`);
  if (n("failed")) parts.push(`${n("failed")} failed`);
  const open = n("queued") + n("started");
  if (open) parts.push(`${open} open`);
  return parts.join(", ");
}

/** The status table with a closing count per state. */
export function renderStatus(rows: StatusRow[], plan: SweepPlan): string {
  const counts = new Map<string, number>();
  for (const row of rows) counts.set(row.state, (counts.get(row.state) ?? 0) + 1);
  const table = renderTable(
    [
      "run",
      "state",
      "attempt",
      "job",
      "exit",
      "progress",
      "last event",
      "actions",
      "reason",
      "from",
    ],
    rows.map((x) => [
      x.run,
      x.state,
      String(x.attempts),
      x.job ?? "-",
      x.exit_code === null ? "-" : String(x.exit_code),
      x.progress ?? "-",
      x.last_event ?? "-",
      actionCounts(x.actionList),
      x.reason ?? "",
      x.parent ?? "",
    ]),
  );
  const summary = [...counts].map(([s, n]) => `${n} ${s}`).join(", ");
  return `${table}\n${rows.length} runs: ${summary} (sweep ${plan.sweep.dir})\n`;
}

/** Registers `status` and `logs`. */
export function registerStatus(program: Command, rt: () => Runtime): void {
  const status = program
    .command("status")
    .description(
      "one row per run: state, attempts, job id, exit code, progress, last event, actions",
    )
    .option("--json", "print JSON")
    .option("--watch [seconds]", "refresh every few seconds (default 5) until Ctrl-C")
    .option("--no-live", "do not ask the scheduler; show what the sweep's store recorded");
  addSweepLocationOptions(status as unknown as CommandUnknownOpts);
  status.action(async (opts) => {
    const r = rt();
    const o = opts as SweepLocation & { json?: boolean; watch?: string | boolean; live: boolean };
    const loc = await locateSweep(o, r);
    const every = o.watch === undefined
      ? 0
      : Math.max(1, Number(o.watch === true ? 5 : o.watch) || 5);
    for (;;) {
      const rows = await statusRows(r, loc, o.live !== false);
      const text = o.json
        ? renderJson({ sweep: loc.plan.sweep.dir, runs: rows })
        : renderStatus(rows, loc.plan);
      if (every && r.host.color) r.output.out("\x1b[H\x1b[2J");
      r.output.out(text);
      if (!every) return;
      await new Promise((res) => setTimeout(res, every * 1000));
    }
  });

  const logs = program
    .command("logs")
    .description("print or follow a run's log (the latest attempt unless --attempt)")
    .argument("<run>", "the run's name")
    .option("-f, --follow", "keep printing what is appended (Ctrl-C to stop)")
    .option("--attempt <n>", "which attempt (1 is the first)");
  addSweepLocationOptions(logs as unknown as CommandUnknownOpts);
  logs.action(async (runName, opts) => {
    const r = rt();
    const o = opts as SweepLocation & { follow?: boolean; attempt?: string };
    const loc = await locateSweep(o, r);
    const store = await SweepStore.open(r.fs, r.host, loc.plan.sweep.dir, { readOnly: true });
    const all = await runsOf(r, loc.plan, store);
    const found = all.find((x) => x.run.name === runName);
    if (!found) {
      const hint = didYouMean(runName, all.map((x) => x.run.name));
      throw new UsageError(
        `no run "${runName}" in sweep ${loc.plan.sweep.dir}${hint ? `; ${hint}` : ""}`,
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
    // Byte-offset tailing: a multi-GB log is never read again from the start.
    const { LogTail } = await import("../monitor/tail.ts");
    const { denoTailSource } = await import("../runtime/tail_source.ts");
    const tail = new LogTail(denoTailSource(), path);
    let idle = 0;
    let seen = false;
    for (;;) {
      const polled = await tail.poll({ flush: !o.follow });
      seen ||= polled.exists;
      if (polled.lines.length) {
        r.output.out(polled.lines.map((l) => `${l}\n`).join(""));
        idle = 0;
      } else idle++;
      if (polled.behind && polled.lines.length) continue; // more than one poll's worth
      if (!o.follow) {
        if (!seen) throw new UsageError(`no log yet at ${path} (the job may not have started)`);
        return;
      }
      const m = markerOf(await readMarkers(r.fs, run.runDir), a.jobId ?? "");
      if (m && m.state !== "running" && idle > 4) {
        const last = await tail.poll({ flush: true });
        if (last.lines.length) r.output.out(last.lines.map((l) => `${l}\n`).join(""));
        return;
      }
      await new Promise((res) => setTimeout(res, 500));
    }
  });
}
