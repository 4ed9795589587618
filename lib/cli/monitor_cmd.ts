/**
 * `autoexp monitor`: (re-)attaches to a submitted sweep and follows it until every run is done,
 * acting on log events, state events and restart policies (lib/monitor/monitor.ts). `submit`
 * runs the same monitor after submitting. Also home of the wiring both share: the monitor's
 * dependencies, derived-run planning and the final table.
 *
 * @module
 */
import type { Command, CommandUnknownOpts } from "@commander-js/extra-typings";
import { ConfigError, InterruptedError, OutcomeError, SchedulerError } from "../errors.ts";
import { type ConfigValue, splitKey } from "../config/tree.ts";
import { parseOverride } from "../config/overrides.ts";
import { loadPlan, readMonitorFile } from "../monitor/load_plan.ts";
import {
  type DeriveRequest,
  type LoadedPlan,
  Monitor,
  type MonitorSummary,
  type ReplanRequest,
} from "../monitor/monitor.ts";
import { computePlan } from "../plan/mod.ts";
import { writePlanTree } from "../render/tree.ts";
import type { RunPlan, SweepPlan } from "../plan/types.ts";
import { refVariable } from "../plan/env_refs.ts";
import type { Runtime } from "../runtime/mod.ts";
import { denoTailSource } from "../runtime/tail_source.ts";
import { denoProcessProbe } from "../runtime/process.ts";
import { watchPaths } from "../runtime/watch.ts";
import type { Scheduler } from "../scheduler/types.ts";
import { SweepStore } from "../store/store.ts";
import { recoverFromMarkers } from "../submit/mod.ts";
import { addSweepLocationOptions, locateSweep, type SweepLocation } from "./locate.ts";
import { renderStatus, statusRows } from "./status_cmd.ts";
import { makeScheduler } from "./scheduler_wiring.ts";

/** Registers the command. */
export function registerMonitor(program: Command, rt: () => Runtime): void {
  const cmd = program
    .command("monitor")
    .description(
      "follow a submitted sweep until every run is done: restarts, log events, actions",
    )
    .option("--once", "one round (read logs, query the scheduler, start due actions), then exit")
    .addHelpText(
      "after",
      `
Safe to stop (Ctrl-C, kill) and start again at any time: it re-attaches from the sweep's
journal, finds jobs by their tag, resumes queued actions and never repeats a finished one.

Examples:
  autoexp monitor --state outputs/demo
  autoexp monitor -C examples/demo --once`,
    );
  addSweepLocationOptions(cmd as unknown as CommandUnknownOpts);
  cmd.action(async (opts) => {
    const r = rt();
    const loc = await locateSweep(opts as SweepLocation, r);
    const kind = loc.kind;
    if (!kind) {
      throw new OutcomeError(
        `nothing was submitted for ${loc.plan.sweep.dir} yet; run autoexp submit first`,
      );
    }
    const store = await SweepStore.open(r.fs, r.host, loc.plan.sweep.dir);
    for (const w of store.warnings) r.output.err(`autoexp: warning: ${w}\n`);
    const release = await store.lock("autoexp monitor");
    try {
      const scheduler = await makeScheduler(kind, r);
      warnUnsetEnvRefs(loc.plan, r);
      // A journal that lost attempts (a cut line, a lost file): their markers prove them, so
      // the monitor does not restart a run that completed.
      await recoverFromMarkers(loc.plan, store, scheduler, r.fs, (l) => r.output.out(`${l}\n`))
        .catch((e) => {
          if (!(e instanceof SchedulerError)) throw e;
          r.output.err(`autoexp: warning: cannot check running jobs now: ${e.message}\n`);
        });
      await followSweep(loc.plan, store, scheduler, r, {
        once: (opts as { once?: boolean }).once === true,
        local: kind === "local",
      });
    } finally {
      await release();
    }
  });
}

/** Options of {@link followSweep}. */
export interface FollowOptions {
  readonly once?: boolean;
  /** Jobs run on this machine: shorter intervals. */
  readonly local?: boolean;
}

/**
 * Runs the monitor over a sweep (the caller holds the store's lock), prints the final table,
 * and throws an OutcomeError when a run did not complete.
 */
export async function followSweep(
  plan: SweepPlan,
  store: SweepStore,
  scheduler: Scheduler,
  r: Runtime,
  o: FollowOptions = {},
): Promise<MonitorSummary> {
  const say = (line: string) => r.output.out(`${line}\n`);
  const main: LoadedPlan = { plan, monitor: await readMonitorFile(r.fs, plan.sweep.dir) };
  const monitor = new Monitor(
    {
      fs: r.fs,
      scheduler,
      proc: r.proc,
      tails: denoTailSource(),
      now: () => r.host.now().getTime(),
      sleep: (ms) => new Promise((res) => setTimeout(res, ms)),
      watch: watchPaths,
      derive: (req) => deriveRun(req, r),
      replan: (req) => replanRun(req, r),
      loadPlan: (dir) => loadPlan(r.fs, dir),
      probe: denoProcessProbe,
      say,
    },
    store,
    main,
    {
      once: o.once,
      minIntervalMs: o.local ? 500 : 2000,
      ...(o.local ? { maxIntervalMs: 5000 } : {}),
    },
  );
  // Ctrl-C stops following, not the jobs.
  let onInterrupt = () => {};
  const interrupted = new Promise<never>((_, reject) => {
    onInterrupt = () =>
      reject(
        new InterruptedError(
          "stopped following; the jobs keep running. Follow again with: " +
            `autoexp monitor --state ${plan.sweep.dir}`,
        ),
      );
  });
  Deno.addSignalListener("SIGINT", onInterrupt);
  let summary: MonitorSummary;
  try {
    summary = await Promise.race([monitor.run(), interrupted]);
  } finally {
    Deno.removeSignalListener("SIGINT", onInterrupt);
  }
  if (!summary.done) return summary;
  const rows = await statusRows(r, { plan }, false, store);
  r.output.out(`\n${renderStatus(rows, plan)}`);
  const first = plan.runs[0];
  const runsIn = first && first.runDir.endsWith(`/${first.name}`)
    ? first.runDir.slice(0, -first.name.length)
    : `${plan.sweep.dir}/runs/`;
  r.output.out(
    `outputs: ${runsIn}<run>/ (logs/, attempts/, actions/ and what the jobs wrote)` +
      `${rows.some((x) => x.parent) ? `; derived runs in ${plan.sweep.dir}/derived/<run>/` : ""}\n`,
  );
  const failedActions = Object.values(store.state.actions ?? {}).filter((a) =>
    a.status === "failed"
  );
  if (failedActions.length && !summary.failed.length) {
    const first = failedActions[0];
    throw new OutcomeError(
      `every run completed, but ${failedActions.length} action(s) failed; the first: ` +
        `${first.run} (${first.source}): ${first.detail ?? "failed"}\n` +
        `see autoexp status --state ${plan.sweep.dir}`,
    );
  }
  if (summary.failed.length) {
    say(
      `see why: autoexp logs ${
        summary.failed[0]
      } --state ${plan.sweep.dir}  (or autoexp status --state ${plan.sweep.dir})`,
    );
    throw new OutcomeError(
      `${summary.failed.length} of ${Object.keys(store.state.runs).length} runs did not complete`,
    );
  }
  return summary;
}

/**
 * Plans a derived run: the parent sweep's config and overrides, the parent run's point values
 * (except those the action overrides), then the action's overrides, as one run in `req.dir`.
 */
export async function deriveRun(req: DeriveRequest, r: Runtime): Promise<LoadedPlan> {
  const parent = req.parent.plan.sweep;
  const cwd = req.parent.monitor?.cwd ?? r.host.cwd();
  const touched = req.overrides.map((o) => parseOverride(o).key);
  // The parent's overrides, except sweep axes and those the action replaces: `monitoring=x`
  // drops the parent's `monitoring.params...` (they would name keys x does not have).
  const own = parent.overrides.filter((o) => {
    const p = parseOverride(o);
    return !p.sweep && !touched.some((t) => p.key === t || p.key.startsWith(`${t}.`));
  });
  const values: Record<string, ConfigValue> = {};
  for (const [k, v] of Object.entries(req.run.values)) {
    const path = splitKey(k).join(".");
    if (touched.some((t) => t === path || path.startsWith(`${t}.`) || t.startsWith(`${path}.`))) {
      continue;
    }
    values[k] = v;
  }
  const request = {
    configDir: parent.configDir ?? undefined,
    configName: parent.configName,
    overrides: [...own, ...req.overrides],
    point: { name: req.name, index: 0, values },
    sweepDir: req.dir,
    sweepId: parent.id,
    argv: ["monitor: derived run", req.name],
  };
  const host = { ...r.host, cwd: () => cwd };
  const deps = { fs: r.fs, host, proc: r.proc };
  const outcome = await computePlan(request, deps);
  await writePlanTree(outcome, request, deps);
  return { plan: outcome.plan, monitor: outcome.monitor };
}

/**
 * Plans a run again with a restart policy's overrides: the sweep's config and overrides, the
 * run's point values (except those the overrides replace), then the overrides; same name,
 * index and sweep directory (so the same run directory and checkpoints). Nothing is written.
 */
export async function replanRun(req: ReplanRequest, r: Runtime): Promise<RunPlan> {
  const parent = req.loaded.plan.sweep;
  const cwd = req.loaded.monitor?.cwd ?? r.host.cwd();
  const touched = req.overrides.map((o) => parseOverride(o).key);
  const own = parent.overrides.filter((o) => {
    const p = parseOverride(o);
    return !p.sweep && !touched.some((t) => p.key === t || p.key.startsWith(`${t}.`));
  });
  const values: Record<string, ConfigValue> = {};
  for (const [k, v] of Object.entries(req.run.values)) {
    const path = splitKey(k).join(".");
    if (touched.some((t) => t === path || path.startsWith(`${t}.`))) continue;
    values[k] = v;
  }
  const request = {
    configDir: parent.configDir ?? undefined,
    configName: parent.configName,
    overrides: [...own, ...req.overrides],
    point: { name: req.run.name, index: req.run.index, values },
    sweepDir: parent.dir,
    sweepId: parent.id,
    argv: ["monitor: restart with overrides", req.run.name],
  };
  const host = { ...r.host, cwd: () => cwd };
  const outcome = await computePlan(request, { fs: r.fs, host, proc: r.proc });
  const run = outcome.plan.runs.find((x) => x.name === req.run.name);
  if (!run) {
    throw new ConfigError({ path: "", message: `the re-planned sweep has no run ${req.run.name}` });
  }
  return run;
}

/**
 * Restarts are submitted from the monitor's environment: a variable the jobs read by name
 * (`HF_TOKEN: ${oc.env:HF_TOKEN}`, see lib/plan/env_refs.ts) that is not set here would reach
 * them empty. Says which.
 */
function warnUnsetEnvRefs(plan: SweepPlan, r: Runtime): void {
  const names = new Set<string>();
  for (const run of plan.runs) {
    for (const v of Object.values(run.script.shellEnv)) {
      const variable = refVariable(v);
      if (variable && r.host.env[variable] === undefined) names.add(variable);
    }
  }
  if (names.size) {
    r.output.err(
      `autoexp: warning: ${[...names].join(", ")} not set here: jobs this monitor submits ` +
        `(restarts, derived runs) would get them empty; export them and start the monitor again\n`,
    );
  }
}
