/**
 * `autoexp submit`: plan, choose the scheduler, reconcile with what already runs, submit what
 * is not pending, running or done, then follow the sweep until every run is final (unless
 * `--no-monitor`).
 *
 * @module
 */
import type { Command } from "@commander-js/extra-typings";
import { computePlan, sweepDirFor } from "../plan/mod.ts";
import { writePlanTree } from "../render/tree.ts";
import { parseSweepJson } from "../plan/sweep_file.ts";
import type { RunPlan, SweepPlan } from "../plan/types.ts";
import { type ConfirmAbove, overLimits, submissionSize } from "../plan/guard.ts";
import { UsageError } from "../errors.ts";
import type { Runtime } from "../runtime/mod.ts";
import { chooseScheduler } from "../scheduler/select.ts";
import { SweepStore } from "../store/store.ts";
import { decideRuns, reconcile, refuseBusyArtifacts, submitSweep } from "../submit/mod.ts";
import { addConfigOptions, collect, type ConfigOptions, configOptionsOf } from "./common.ts";
import { missingInputs, stageRuns } from "../submit/release.ts";
import { followSweep } from "./monitor_cmd.ts";
import { launchList, streamFor, type StreamView } from "./stream.ts";
import type { SayNote } from "../monitor/step.ts";
import { makeScheduler } from "./scheduler_wiring.ts";
import { historyOf } from "./history_cmd.ts";

interface Options extends ConfigOptions {
  multirun?: boolean;
  scheduler?: string;
  dryRun?: boolean;
  monitor: boolean;
  newAttempt?: boolean;
  yes?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  json?: boolean;
  report?: boolean;
  stage?: string[];
  withNeeds?: boolean;
}

/** Registers the command. */
export function registerSubmit(program: Command, rt: () => Runtime): void {
  const cmd = program
    .command("submit")
    .description("plan, submit what is not pending, running or done, and follow the sweep")
    .option("-m, --multirun", "comma lists in -o overrides are sweep axes")
    .option(
      "--scheduler <kind>",
      "auto (SLURM if its controller answers, else local), slurm or local",
    )
    .option("--dry-run", "print the sbatch calls instead of making them")
    .option(
      "--no-monitor",
      "return after submitting; restarts and actions then need autoexp monitor",
    )
    .option(
      "--new-attempt",
      "start new attempts for runs whose config changed since their last one",
    )
    .option("-y, --yes", "submit without asking, also above slurm.confirm_above")
    .option("-q, --quiet", "while following: only how runs end, restarts and failures")
    .option("-v, --verbose", "while following: every state change and each action's outcome")
    .option("--json", "one JSON object per event line, and the final table as JSON")
    .option("--report", "keep <sweep dir>/report.html current while following (autoexp report)")
    .option("--stage <name>", "submit only this stage's runs (repeatable)", collect)
    .option(
      "--with-needs",
      "with --stage: also submit the inputs that are not complete (else it refuses)",
    )
    .addHelpText(
      "after",
      `
Examples:
  autoexp submit -C examples/quickstart --scheduler local
  autoexp submit -C examples/scaling --dry-run
  autoexp submit -C examples/scaling --no-monitor
  autoexp submit -C examples/demo trainer.lr=1e-2,1e-3 --multirun -q
  autoexp submit -C examples/pipeline --stage evaluate`,
    );
  addConfigOptions(cmd);
  cmd.action(async (...args: unknown[]) => {
    await runSubmit(configOptionsOf<Options>(args), rt());
  });
}

async function runSubmit(o: Options, r: Runtime): Promise<void> {
  let view: StreamView | null = null;
  const say = (line: string, note?: SayNote) =>
    view ? view.say(line, note) : r.output.out(`${line}\n`);
  const request = {
    configDir: o.configDir,
    configName: o.configName,
    overrides: o.override,
    multirun: o.multirun === true,
    argv: ["submit", ...Deno.args.slice(1)],
  };
  const deps = { fs: r.fs, host: r.host, proc: r.proc };
  // The plan of the previous submission, read before it is replaced, to show what changed.
  const previous = await readPreviousPlan(request, r);
  // Computed first, written only once the submission is decided (a refused submit changes nothing).
  const planned = await computePlan(request, deps);
  if (!o.dryRun) view = streamFor(r, planned.plan.runs.map((x) => x.name), o);
  const wanted = o.scheduler ?? configuredScheduler(planned.prepared.base.config) ?? "auto";
  const choice = await chooseScheduler(wanted, {
    proc: r.proc,
    host: r.host,
  });
  say(`scheduler: ${choice.kind} (${choice.why})`);
  const scheduler = await makeScheduler(choice.kind, r);
  let plan = planned.plan;
  const limits = await scheduler.limits();
  if (
    plan.groups.some((g) =>
      g.kind === "array" &&
      g.chunks.some((c) => Math.max(...c.indices) - c.offset >= limits.maxArraySize)
    )
  ) {
    // The cluster's MaxArraySize is smaller than the plan assumed: split again.
    plan = (await computePlan({ ...request, maxArraySize: limits.maxArraySize }, deps)).plan;
  }
  const store = await SweepStore.open(r.fs, r.host, plan.sweep.dir);
  for (const w of store.warnings) r.output.err(`autoexp: warning: ${w}\n`);
  for (const w of planned.warnings) r.output.err(`autoexp: warning: ${w}\n`);
  const only = o.stage?.length ? stageRuns(plan, o.stage) : undefined;
  if (o.dryRun) {
    const dry = await submitSweep(plan, store, scheduler, {
      ...(only ? { only: withInputs(plan, only, store, o) } : {}),
      dryRun: true,
      newAttempt: o.newAttempt,
      previous,
      say,
    });
    if (!dry.calls.length) {
      say(`nothing to submit: ${dry.skipped.length} run(s) already pending, running or done`);
    }
    return;
  }
  const release = await store.lock("autoexp submit");
  try {
    // Which scheduler this sweep's jobs live in, for later commands (status, cancel, monitor).
    await r.fs.writeTextFile(
      `${SweepStore.dirOf(plan.sweep.dir)}/scheduler.json`,
      JSON.stringify({ kind: choice.kind }) + "\n",
    );
    refuseBusyArtifacts((await reconcile(plan, store, scheduler, r.fs, say)).busy);
    const selected = only ? { only: withInputs(plan, only, store, o) } : {};
    // Refuses (changed config, or a size nobody confirmed) before anything is written.
    const decided = decideRuns(plan, store, { newAttempt: o.newAttempt, previous, ...selected });
    await confirmSize(plan, decided.submit.map((s) => s.run), planned.confirmAbove, o, r);
    await writePlanTree({ ...planned, plan }, request, deps);
    const report = await submitSweep(plan, store, scheduler, {
      newAttempt: o.newAttempt,
      previous,
      say,
      fs: r.fs,
      history: historyOf(r),
      ...selected,
    });
    if (!report.submitted.length) {
      say(`nothing to submit: ${report.skipped.length} run(s) already pending, running or done`);
    } else if (!o.quiet && !o.json) {
      for (const l of launchList(decided.submit.map((c) => c.run))) say(l);
    }
    if (!o.monitor) {
      say(
        `not following the sweep (--no-monitor): restarts, log events and actions need ` +
          `autoexp monitor --state ${plan.sweep.dir} (safe to start and stop at any time)`,
      );
      return;
    }
    await followSweep(plan, store, scheduler, r, {
      local: choice.kind === "local",
      json: o.json === true,
      report: o.report === true,
      ...(view ? { view } : {}),
    });
  } finally {
    await release();
  }
}

/**
 * `--stage`: the selected runs, plus their incomplete inputs with `--with-needs`; without it, a
 * selection whose inputs are neither complete nor selected is refused, naming them.
 */
function withInputs(
  plan: SweepPlan,
  only: ReadonlySet<string>,
  store: SweepStore,
  o: Options,
): ReadonlySet<string> {
  const missing = missingInputs(plan, only, store.state);
  if (!missing.length) return only;
  if (o.withNeeds) return new Set([...only, ...missing.map((m) => m.run)]);
  const shown = missing.slice(0, 8).map((m) => `  ${m.run} (${m.stage}), needed by ${m.needed}`);
  throw new UsageError(
    `not submitted: ${missing.length} input run${missing.length === 1 ? " is" : "s are"} ` +
      `not complete:
${shown.join("\n")}${
        missing.length > 8 ? `\n  ... and ${missing.length - 8} more` : ""
      }\nSubmit their stage${
        new Set(missing.map((m) => m.stage)).size === 1 ? "" : "s"
      } first (--stage ${[...new Set(missing.map((m) => m.stage))].join(" --stage ")}), or ` +
      "add --with-needs to submit them too (each run starts when its own inputs completed).",
  );
}

/** The sweep.json currently on disk for this config, if any (before re-planning replaces it). */
async function readPreviousPlan(
  request: Parameters<typeof computePlan>[0],
  r: Runtime,
): Promise<SweepPlan | undefined> {
  try {
    const dir = await sweepDirFor(request, { fs: r.fs, host: r.host });
    const file = `${dir}/sweep.json`;
    if (!(await r.fs.exists(file))) return undefined;
    return parseSweepJson(await r.fs.readTextFile(file), file);
  } catch {
    return undefined;
  }
}

/** `slurm.scheduler` of the composed config, when it is a plain value. */
function configuredScheduler(config: Record<string, unknown>): string | undefined {
  const slurm = config.slurm as Record<string, unknown> | undefined;
  const v = slurm?.scheduler;
  return typeof v === "string" && !v.includes("${") ? v : undefined;
}

/**
 * Asks before a submission above `slurm.confirm_above` (on a terminal), or refuses it (exit 2)
 * where nobody can answer, unless `--yes`.
 */
async function confirmSize(
  plan: SweepPlan,
  runs: readonly RunPlan[],
  limits: ConfirmAbove,
  o: Options,
  r: Runtime,
): Promise<void> {
  const size = submissionSize(plan, runs);
  const over = overLimits(size, limits);
  if (!over.length || o.yes) return;
  const what =
    `${size.runs} runs in ${size.jobs} sbatch call${size.jobs === 1 ? "" : "s"}, up to ` +
    `${Math.round(size.node_hours)} node-hours and ${Math.round(size.gpu_hours)} GPU-hours ` +
    `at their time limits`;
  const answer = await r.output.ask?.(
    `autoexp: this submits ${what}; above slurm.confirm_above: ${over.join(", ")}.\n` +
      `Submit? [y/N] `,
  );
  if (answer !== null && answer !== undefined && /^y(es)?$/i.test(answer.trim())) return;
  throw new UsageError(
    `not submitted: ${what}, above slurm.confirm_above (${over.join(", ")}). ` +
      (answer === null || answer === undefined
        ? "Nobody can confirm here (no terminal): check the sweep with `autoexp plan`, then " +
          "submit again with --yes, or raise slurm.confirm_above."
        : "Check the sweep with `autoexp plan`; --yes submits without asking."),
  );
}
