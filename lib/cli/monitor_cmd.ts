/**
 * `autoexp monitor`: (re-)attaches to a submitted sweep and follows it until every run is done,
 * acting on log events, state events and restart policies (lib/monitor/monitor.ts). `submit`
 * runs the same monitor after submitting. Also home of the wiring both share: the monitor's
 * dependencies, derived-run planning and the final table.
 *
 * @module
 */
import type { Command, CommandUnknownOpts } from "@commander-js/extra-typings";
import {
  ConfigError,
  InterruptedError,
  OutcomeError,
  SchedulerError,
  UsageError,
} from "../errors.ts";
import { parseYamlFile, renderYaml } from "../config/yaml.ts";
import { adhocPlan, adoptEvents, logOnlyScheduler, parseAdhoc } from "../monitor/adhoc.ts";
import { describeFollow, type FollowDescription } from "../monitor/describe.ts";
import { trackRun, trackRuns } from "../monitor/track.ts";
import { chooseScheduler } from "../scheduler/select.ts";
import { actionTallies, EventSink, latestAttempt } from "../store/state.ts";
import { parseOverride } from "../config/overrides.ts";
import { loadPlan, readMonitorFile } from "../monitor/load_plan.ts";
import {
  type DeriveRequest,
  type LoadedPlan,
  Monitor,
  type MonitorDeps,
  type MonitorSummary,
  type ReplanRequest,
  type RunView,
} from "../monitor/monitor.ts";
import { computePlan, withOverrides } from "../plan/mod.ts";
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
import { writeReport } from "./report_cmd.ts";
import { streamFor, type StreamView } from "./stream.ts";
import { makeStyle } from "./style.ts";
import type { SayNote } from "../monitor/step.ts";
import { makeScheduler } from "./scheduler_wiring.ts";
import { historyOf } from "./history_cmd.ts";

/** The command line of `autoexp monitor`. */
interface MonitorOpts extends SweepLocation {
  once?: boolean;
  log?: string[];
  action?: string[];
  config?: string;
  scheduler?: string;
  dryRun?: boolean;
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  report?: boolean;
}

/** Registers the command. */
export function registerMonitor(program: Command, rt: () => Runtime): void {
  const cmd = program
    .command("monitor")
    .description(
      "follow a submitted sweep until every run is done: restarts, log events, actions; " +
        "or follow a job autoexp did not submit (JOB and --log)",
    )
    .argument(
      "[job]",
      "a SLURM job id autoexp did not submit, to follow through --log (ad-hoc form)",
    )
    .option("--once", "one round (read logs, query the scheduler, start due actions), then exit")
    .option(
      "--log <name=path>",
      "ad-hoc: a log to follow, as NAME=PATH (repeatable; %j stands for the job id)",
      (v: string, p: string[] = []) => [...p, v],
    )
    .option(
      "--action <name=command>",
      "ad-hoc: a shell command for the log signal action NAME, or for the log event NAME " +
        "(repeatable; {placeholders} as in monitoring actions)",
      (v: string, p: string[] = []) => [...p, v],
    )
    .option(
      "--config <file>",
      "ad-hoc: a monitoring YAML file (log_signals, actions, log_events, state_events, ...)",
    )
    .option("--scheduler <kind>", "ad-hoc with a job id: auto (default), slurm or local")
    .option("--dry-run", "print what it would follow and do, touching nothing")
    .option("--json", "one JSON object per event line (with --dry-run: the description)")
    .option("-q, --quiet", "only how runs end, restarts and failures")
    .option("-v, --verbose", "every state change and each action's outcome on its own line")
    .option("--report", "keep <sweep dir>/report.html current while following (see autoexp report)")
    .addHelpText(
      "after",
      `
Safe to stop (Ctrl-C, kill) and start again at any time: it re-attaches from the sweep's
journal, finds jobs by their tag, resumes queued actions and never repeats a finished one.

Ad-hoc form (seed 000): follows a job autoexp did not submit, or log files alone (no JOB),
with the built-in Megatron events or the events of --config, and runs their actions. Its
journal and the actions' output go to --state DIR (default ./autoexp-monitor/job-<JOB>, or
./autoexp-monitor/logs-<hash> without a job): started again with the same arguments, it
resumes and repeats no action. It never resubmits or restarts the job (restart policies,
RestartAction and RunAutoexpAction are refused); to resubmit, give an action whose command
does it (e.g. a state event running sbatch). Without a job it stops when the log says training
is done or the program exited.

Examples:
  autoexp monitor --state outputs/demo
  autoexp monitor -C examples/demo --once
  autoexp monitor --state outputs/demo --dry-run --json
  autoexp monitor 123456 --log train=outputs/logs/train.out \\
    --action megatron_checkpoint_saved='python tools/convert.py {checkpoint_path} {checkpoint_iteration}'
  autoexp monitor --log train=outputs/logs/train.out --config monitoring.yaml \\
    --action convert_checkpoint='python tools/convert.py {checkpoint_path}'`,
    );
  addSweepLocationOptions(cmd as unknown as CommandUnknownOpts);
  cmd.action(async (job, opts) => {
    const r = rt();
    const o = opts as MonitorOpts;
    const adhoc = job !== undefined || (o.log?.length ?? 0) > 0 || o.action?.length ||
      o.config !== undefined;
    if (adhoc) {
      await monitorAdhoc(job, o, r);
      return;
    }
    if (o.scheduler) {
      throw new UsageError(
        "--scheduler is for the ad-hoc form; a sweep's monitor uses the scheduler it was submitted to",
      );
    }
    const loc = await locateSweep(o, r);
    const kind = loc.kind;
    if (o.dryRun) {
      const store = await SweepStore.open(r.fs, r.host, loc.plan.sweep.dir, { readOnly: true });
      const main: LoadedPlan = {
        plan: loc.plan,
        monitor: await readMonitorFile(r.fs, loc.plan.sweep.dir),
      };
      const tracked = await trackRuns(
        main,
        store.state,
        (dir) => loadPlan(r.fs, dir),
        (l) => r.output.err(`autoexp: warning: ${l}\n`),
      );
      // Runs not submitted yet are listed too (submit would start them).
      for (const run of loc.plan.runs) {
        if (!tracked.has(run.name)) tracked.set(run.name, trackRun(run, main));
      }
      printDescription(
        describeFollow(
          "sweep",
          loc.plan.sweep.dir,
          kind ?? "not submitted yet",
          tracked,
          store.state,
        ),
        o.json === true,
        r,
      );
      return;
    }
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
        once: o.once === true,
        local: kind === "local",
        json: o.json === true,
        report: o.report === true,
        view: streamFor(r, loc.plan.runs.map((x) => x.name), o),
      });
    } finally {
      await release();
    }
  });
}

function printDescription(d: FollowDescription, json: boolean, r: Runtime): void {
  r.output.out(json ? `${JSON.stringify(d, null, 2)}\n` : renderYaml(d));
}

/**
 * The ad-hoc form: follows a job autoexp did not submit (or log files alone) with the same
 * monitor, its journal in the ad-hoc state directory (see lib/monitor/adhoc.ts).
 */
async function monitorAdhoc(job: string | undefined, o: MonitorOpts, r: Runtime): Promise<void> {
  if (o.configDir || o.override?.length) {
    throw new UsageError(
      "-C/-o find a sweep autoexp submitted; the ad-hoc form (JOB, --log, --action, --config) " +
        "takes its monitoring from --config",
    );
  }
  let config: unknown = null;
  if (o.config !== undefined) {
    if (!(await r.fs.exists(o.config))) {
      throw new UsageError(`--config ${o.config}: no such file`);
    }
    config = parseYamlFile(await r.fs.readTextFile(o.config), o.config).data;
  }
  const req = parseAdhoc({
    jobId: job,
    logs: o.log ?? [],
    actions: o.action ?? [],
    config,
    configPath: o.config,
    state: o.state,
    cwd: r.host.cwd(),
  });
  if (await r.fs.exists(`${req.dir}/sweep.json`)) {
    throw new UsageError(
      `${req.dir} is a sweep autoexp planned; follow it with autoexp monitor --state ${req.dir}, ` +
        "or give the ad-hoc monitor a directory of its own (--state)",
    );
  }
  const loaded = adhocPlan(req);
  const wanted = o.scheduler ?? "auto";
  if (req.jobId === null && o.scheduler) {
    throw new UsageError("--scheduler needs a job id to follow; without one only logs are read");
  }
  if (o.dryRun) {
    const store = await SweepStore.open(r.fs, r.host, req.dir, { readOnly: true });
    // What the journal would hold once the job is adopted (nothing is written).
    const state = structuredClone(store.state);
    const sink = new EventSink(state, r.host.now().toISOString());
    for (const ev of adoptEvents(state, req, r.host.now().toISOString())) sink.emit(ev);
    const tracked = new Map(loaded.plan.runs.map((run) => [run.name, trackRun(run, loaded)]));
    printDescription(
      describeFollow(
        "adhoc",
        req.dir,
        req.jobId === null ? "none (log files only)" : wanted,
        tracked,
        state,
      ),
      o.json === true,
      r,
    );
    return;
  }
  let scheduler: Scheduler;
  let local = false;
  if (req.jobId === null) scheduler = logOnlyScheduler();
  else {
    const choice = await chooseScheduler(wanted, { proc: r.proc, host: r.host });
    scheduler = await makeScheduler(choice.kind, r);
    local = choice.kind === "local";
  }
  const store = await SweepStore.open(r.fs, r.host, req.dir);
  for (const w of store.warnings) r.output.err(`autoexp: warning: ${w}\n`);
  const release = await store.lock("autoexp monitor");
  const view = streamFor(r, req.logs.map((l) => l.name), o);
  const say = (line: string, note?: SayNote) => view.say(line, note);
  try {
    const adopt = adoptEvents(store.state, req, r.host.now().toISOString());
    if (adopt.length) await store.appendMany(adopt);
    say(
      `following ${req.jobId === null ? "log files (no job)" : `job ${req.jobId}`}: ` +
        `${req.logs.map((l) => `${l.name}=${l.path}`).join(", ")}; journal and action output ` +
        `in ${req.dir}`,
    );
    const monitor = new Monitor(
      monitorDeps(r, scheduler, say),
      store,
      loaded,
      loopOptions(o.once === true, local),
    );
    const ticker = setInterval(() => view.tick(), 1000);
    let summary: MonitorSummary;
    try {
      summary = await untilInterrupted(monitor, `autoexp monitor ${adhocArgv(job, o, req)}`);
    } finally {
      clearInterval(ticker);
      view.close();
    }
    if (!summary.done) return;
    const failed = Object.values(store.state.actions ?? {}).filter((a) => a.status === "failed");
    const tally = [...actionTallies(store.state).values()];
    const count = (k: "ok" | "skipped") => tally.reduce((n, t) => n + t[k], 0);
    for (const l of req.logs) {
      const a = latestAttempt(store.state.runs[l.name]);
      say(
        `${l.name}: ${a?.verdict ?? a?.state ?? "unknown"}${
          a?.verdictReason ? ` (${a.verdictReason})` : ""
        }`,
      );
    }
    say(
      `actions: ${count("ok")} done, ${failed.length} failed, ` +
        `${count("skipped")} skipped; output in ${req.dir}/runs/<log>/actions/`,
    );
    if (failed.length) {
      throw new OutcomeError(
        `${failed.length} action(s) failed; the first: ${failed[0].run} (${failed[0].source}): ` +
          `${failed[0].detail ?? "failed"}`,
      );
    }
    if (summary.failed.length) {
      throw new OutcomeError(
        `${req.jobId === null ? "the program" : `job ${req.jobId}`} did not complete`,
      );
    }
  } finally {
    await release();
  }
}

/** The ad-hoc command line again, for "follow again with" messages. */
function adhocArgv(job: string | undefined, o: MonitorOpts, req: { dir: string }): string {
  const q = (s: string) => /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", "'\\''")}'`;
  return [
    ...(job ? [job] : []),
    ...(o.log ?? []).flatMap((l) => ["--log", q(l)]),
    ...(o.action ?? []).flatMap((a) => ["--action", q(a)]),
    ...(o.config ? ["--config", q(o.config)] : []),
    "--state",
    q(req.dir),
  ].join(" ");
}

/** Runs the monitor; Ctrl-C stops following (not the jobs) with how to follow again. */
async function untilInterrupted(monitor: Monitor, again: string): Promise<MonitorSummary> {
  let onInterrupt = () => {};
  const interrupted = new Promise<never>((_, reject) => {
    onInterrupt = () =>
      reject(
        new InterruptedError(
          `stopped following; the jobs keep running. Follow again with: ${again}`,
        ),
      );
  });
  Deno.addSignalListener("SIGINT", onInterrupt);
  try {
    return await Promise.race([monitor.run(), interrupted]);
  } finally {
    Deno.removeSignalListener("SIGINT", onInterrupt);
  }
}

/** Options of {@link followSweep}. */
export interface FollowOptions {
  readonly once?: boolean;
  /** Jobs run on this machine: shorter intervals. */
  readonly local?: boolean;
  /** Where messages go (default: a stream on standard output at the normal level). */
  readonly view?: StreamView;
  /** Print the closing table as JSON (with `--json`). */
  readonly json?: boolean;
  /** Keep `<sweep>/report.html` current (`--report`, or `results.report: true`). */
  readonly report?: boolean;
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
  const view = o.view ?? streamFor(r, plan.runs.map((x) => x.name), {});
  const say = (line: string, note?: SayNote) => view.say(line, note);
  const main: LoadedPlan = { plan, monitor: await readMonitorFile(r.fs, plan.sweep.dir) };
  const monitor = new Monitor(
    {
      ...monitorDeps(r, scheduler, say),
      history: historyOf(r),
      derive: (req) => deriveRun(req, r),
      replan: (req) => replanRun(req, r),
      loadPlan: (dir) => loadPlan(r.fs, dir),
    },
    store,
    main,
    loopOptions(o.once === true, o.local === true),
  );
  await monitor.open();
  view.banner(`following ${plan.sweep.name} (${plan.sweep.dir})`, monitor.view());
  const report = o.report || plan.runs.some((x) => x.results?.report === true)
    ? reportKeeper(r, plan, view)
    : null;
  report?.refresh();
  const ticker = setInterval(() => {
    const views = () => monitor.view();
    view.tick(views);
    report?.tick(views);
  }, 1000);
  let summary: MonitorSummary;
  try {
    // Ctrl-C stops following, not the jobs.
    summary = await untilInterrupted(monitor, `autoexp monitor --state ${plan.sweep.dir}`);
  } finally {
    clearInterval(ticker);
    view.close();
    await report?.finish();
  }
  if (!summary.done) return summary;
  const rows = await statusRows(r, { plan }, false, store);
  if (o.json) {
    r.output.out(`${JSON.stringify({ sweep: plan.sweep.dir, runs: rows })}\n`);
  } else {
    r.output.out(
      `\n${
        renderStatus(rows, plan, {
          width: r.host.columns?.() ?? null,
          style: makeStyle(r.host.color),
          now: r.host.now(),
        })
      }`,
    );
  }
  if (!o.json) {
    r.output.out(
      `outputs: ${runDirsPattern(plan)} (logs/, attempts/, actions/ and what the jobs wrote)` +
        `${
          rows.some((x) => x.parent) ? `; derived runs in ${plan.sweep.dir}/derived/<run>/` : ""
        }\n`,
    );
  }
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
 * Where a sweep's runs write, as a pattern: `<sweep>/runs/<run>/`, `<base>/<run>/` (layout
 * `flat`), or for a pipeline `<base>/artifacts/<stage>/<run>-<identity>/` (each stage's runs in
 * their own folder, named after their artifact identity).
 */
export function runDirsPattern(plan: SweepPlan): string {
  const parents = new Map<string, string>();
  for (const run of plan.runs) {
    const parent = run.runDir.replace(/\/[^/]*$/, "");
    parents.set(parent, run.stage ?? "");
  }
  const named = plan.runs.every((x) => x.runDir.endsWith(`/${x.name}`));
  const leaf = named ? "<run>" : "<run>-<identity>";
  if (parents.size === 0) return `${plan.sweep.dir}/runs/<run>/`;
  if (parents.size === 1) return `${[...parents.keys()][0]}/${leaf}/`;
  // One folder per stage under a common one: <common>/<stage>/.
  const common = [...parents.keys()][0].replace(/\/[^/]*$/, "");
  if ([...parents].every(([dir, stage]) => stage && dir === `${common}/${stage}`)) {
    return `${common}/<stage>/${leaf}/`;
  }
  return [...parents.keys()].map((d) => `${d}/${leaf}/`).join(", ");
}

/**
 * Rewrites the sweep's report page while it is followed: once a minute when the runs' states or
 * progress changed since the last page, one at a time, and once more at the end. A page that
 * cannot be written is said once, and following goes on.
 */
function reportKeeper(r: Runtime, plan: SweepPlan, view: StreamView) {
  let writing: Promise<void> | null = null;
  let last = "";
  let lastAt = 0;
  let warned = false;
  const refresh = () => {
    if (writing) return;
    lastAt = r.host.now().getTime();
    writing = writeReport(r, { plan }, { live: false, quiet: true }).then(
      () => {},
      (e) => {
        if (!warned) view.say(`cannot write the report page: ${(e as Error).message}`);
        warned = true;
      },
    ).finally(() => writing = null);
  };
  return {
    refresh,
    tick(views: () => readonly RunView[]) {
      const now = r.host.now().getTime();
      if (now - lastAt < 60_000) return;
      const key = JSON.stringify(views());
      if (key === last) return;
      last = key;
      lastAt = now;
      refresh();
    },
    async finish() {
      await writing;
      refresh();
      await writing;
    },
  };
}

/** The ports every monitor of this process acts through (a sweep's adds re-planning). */
function monitorDeps(
  r: Runtime,
  scheduler: Scheduler,
  say: (line: string, note?: SayNote) => void,
): MonitorDeps {
  return {
    fs: r.fs,
    scheduler,
    proc: r.proc,
    tails: denoTailSource(),
    now: () => r.host.now().getTime(),
    sleep: (ms) => new Promise((res) => setTimeout(res, ms)),
    watch: watchPaths,
    probe: denoProcessProbe,
    say,
  };
}

/** Rounds every 2 s on SLURM; faster on the local scheduler, whose jobs are short. */
function loopOptions(once: boolean, local: boolean) {
  return { once, minIntervalMs: local ? 500 : 2000, ...(local ? { maxIntervalMs: 5000 } : {}) };
}

/**
 * Plans a derived run: the parent sweep's config and overrides, the parent run's point values
 * (except those the action overrides), then the action's overrides, as one run in `req.dir`.
 */
export async function deriveRun(req: DeriveRequest, r: Runtime): Promise<LoadedPlan> {
  if (req.run.stage) throw stageReplanUnsupported(req.run, "a derived run (RunAutoexpAction)");
  const parent = req.parent.plan.sweep;
  const cwd = req.parent.monitor?.cwd ?? r.host.cwd();
  const { overrides, values } = withOverrides(parent.overrides, req.run.values, req.overrides);
  const request = {
    configDir: parent.configDir ?? undefined,
    configName: parent.configName,
    overrides,
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
  if (req.run.stage) throw stageReplanUnsupported(req.run, "a restart with `overrides`");
  const parent = req.loaded.plan.sweep;
  const cwd = req.loaded.monitor?.cwd ?? r.host.cwd();
  const { overrides, values } = withOverrides(parent.overrides, req.run.values, req.overrides);
  const request = {
    configDir: parent.configDir ?? undefined,
    configName: parent.configName,
    overrides,
    point: { name: req.run.name, index: req.run.index, values },
    sweepDir: parent.dir,
    sweepId: parent.id,
    argv: ["monitor: restart with overrides", req.run.name],
  };
  const host = { ...r.host, cwd: () => cwd };
  const deps = { fs: r.fs, host, proc: r.proc };
  // The config is read from disk again: if it changed since the run was planned, the restart
  // would train with the change. Planned again without the overrides, it must be the same run.
  const asPlanned = await computePlan({
    ...request,
    overrides: parent.overrides.filter((o) => !parseOverride(o).sweep),
    point: { name: req.run.name, index: req.run.index, values: req.run.values },
  }, deps);
  const before = asPlanned.plan.runs.find((x) => x.name === req.run.name);
  if (before?.fingerprint !== req.run.fingerprint) {
    throw new ConfigError({
      path: "",
      message: `the config of ${req.run.name} changed on disk since it was planned, and a ` +
        `restart with overrides plans it again: it would train with the change; restore the ` +
        `config, or restart the run by hand (autoexp submit --new-attempt)`,
    });
  }
  const outcome = await computePlan(request, deps);
  const run = outcome.plan.runs.find((x) => x.name === req.run.name);
  if (!run) {
    throw new ConfigError({ path: "", message: `the re-planned sweep has no run ${req.run.name}` });
  }
  return run;
}

/**
 * A pipeline stage's run is planned with its stage's overrides and its inputs' values
 * (`autoexp.upstream`), which planning one point alone does not apply: re-planned that way it
 * would run without them (another checkpoint, another learning rate). Refused, with what to do.
 */
function stageReplanUnsupported(run: RunPlan, what: string): ConfigError {
  return new ConfigError({
    path: "",
    message: `${what} of ${run.name} (stage ${run.stage}) is not supported: a pipeline's run ` +
      "is planned with its stage's overrides and inputs, which re-planning one run alone would " +
      "lose; use a restart policy without overrides (the run is restarted as planned), or put " +
      "the change in the stage's overrides and submit again with --new-attempt",
  });
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
