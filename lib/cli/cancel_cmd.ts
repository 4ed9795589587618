/**
 * `autoexp cancel [RUN ...] [--all]`: cancels the active attempts of runs of one sweep. Only
 * jobs this sweep's store recorded are touched, never other jobs of the user.
 *
 * @module
 */
import type { Command, CommandUnknownOpts } from "@commander-js/extra-typings";
import { OutcomeError, UsageError } from "../errors.ts";
import type { Runtime } from "../runtime/mod.ts";
import type { Scheduler } from "../scheduler/types.ts";
import { ACTIVE_ATTEMPT_STATES, latestAttempt, type StoreState } from "../store/state.ts";
import { LockedError, SweepStore } from "../store/store.ts";
import { type CancelPlan, planCancel } from "../submit/cancel.ts";
import { reconcile, sweepTag } from "../submit/mod.ts";
import { addSweepLocationOptions, locateSweep, type SweepLocation } from "./locate.ts";
import { makeScheduler } from "./scheduler_wiring.ts";
import { didYouMean } from "../config/suggest.ts";
import { USER_CANCEL } from "../monitor/decide.ts";
import { stageRuns } from "../submit/release.ts";
import { collect } from "./common.ts";

/** Registers the command. */
export function registerCancel(program: Command, rt: () => Runtime): void {
  const cmd = program
    .command("cancel")
    .description("cancel runs of a sweep (only jobs autoexp submitted for it)")
    .argument("[runs...]", "run names to cancel")
    .option("--all", "cancel every active run of the sweep")
    .option(
      "--json",
      "print what was done as JSON: {cancelled: [job ids], ended: [runs], in_flight, blocked: [runs]}",
    )
    .option("--stage <name>", "cancel every run of this stage (repeatable; a pipeline)", collect)
    .addHelpText(
      "after",
      `
Examples:
  autoexp cancel demo_lr0.0003 --state outputs/demo
  autoexp cancel --all
  autoexp cancel --all --json
  autoexp cancel --stage finetune --state outputs/pipeline`,
    );
  addSweepLocationOptions(cmd as unknown as CommandUnknownOpts);
  cmd.action(async (runs, opts) => {
    const r = rt();
    const stages = (opts as { stage?: string[] }).stage ?? [];
    if (!runs.length && !opts.all && !stages.length) {
      throw new UsageError("name the runs to cancel, or use --all or --stage");
    }
    const loc = await locateSweep(opts as SweepLocation, r);
    const ofStages = stages.length ? stageRuns(loc.plan, stages) : new Set<string>();
    const known = new Set(loc.plan.runs.map((x) => x.name));
    for (const name of runs) {
      if (!known.has(name)) {
        const hint = didYouMean(name, known);
        throw new UsageError(
          `no run "${name}" in sweep ${loc.plan.sweep.dir}${hint ? `; ${hint}` : ""}`,
        );
      }
    }
    const chosen = (name: string) => opts.all === true || runs.includes(name) || ofStages.has(name);
    const kind = loc.kind ?? "slurm";
    let store = await SweepStore.open(r.fs, r.host, loc.plan.sweep.dir);
    let scheduler: Scheduler | undefined;
    const cancelled = new Set<string>();
    const ended = new Set<string>();
    let decided: CancelPlan | undefined;
    const deadline = r.host.now().getTime() + IN_FLIGHT_WAIT_MS;
    for (let round = 0;; round++) {
      const query = queryIds(store.state, chosen);
      if (!query.length && !hasOpenIntent(store.state, chosen)) break;
      scheduler ??= await makeScheduler(kind, r);
      const seen = await scheduler.query({ ids: query, commentPrefix: sweepTag(loc.plan) });
      decided = planCancel(store.state, chosen, seen.jobs);
      const now = decided.cancel.filter((id) => !cancelled.has(id));
      if (now.length) await scheduler.cancel(now);
      for (const id of now) cancelled.add(id);
      for (const run of decided.ended) ended.add(run);
      if (!decided.inFlight.length || r.host.now().getTime() > deadline) break;
      if (round === 0) {
        r.output.err(
          `waiting for ${decided.inFlight.length} submission(s) in progress to get their job ids\n`,
        );
      }
      await new Promise((res) => setTimeout(res, 1000));
      store = await SweepStore.open(r.fs, r.host, loc.plan.sweep.dir);
    }
    // Pipeline runs still waiting for their inputs: never submitted, so blocked instead.
    const waiting = Object.values(store.state.runs).filter((rec) =>
      chosen(rec.name) && rec.awaits && !rec.attempts.length && !rec.released && !rec.blocked
    ).map((rec) => rec.name);
    const json = (blocked: readonly string[]) =>
      r.output.out(
        `${
          JSON.stringify({
            sweep: loc.plan.sweep.dir,
            cancelled: [...cancelled],
            ended: [...ended],
            in_flight: decided?.inFlight.length ?? 0,
            blocked,
          })
        }\n`,
      );
    if (!opts.json) {
      if (cancelled.size) {
        const ids = [...cancelled];
        r.output.out(
          `cancelled ${ids.length} job${ids.length === 1 ? "" : "s"}: ${ids.join(", ")}\n`,
        );
      }
      if (ended.size) r.output.out(`already ended: ${[...ended].join(", ")}\n`);
    }
    if (!cancelled.size && !ended.size && !decided?.inFlight.length && !waiting.length) {
      if (opts.json) json([]);
      else r.output.out("nothing to cancel: no pending or running attempt among those runs\n");
      return;
    }
    let recorded = false;
    try {
      const release = await store.lock("autoexp cancel");
      try {
        // Recorded, so a monitor started later neither restarts these runs nor starts derived
        // runs from log lines it reads only now (and cancels a job submitted meanwhile).
        await store.appendMany((decided?.attempts ?? []).flatMap(({ run, attempt }) => {
          const a = store.state.runs[run]?.attempts.find((x) => x.attempt === attempt);
          return !a || a.cancelRequested ? [] : [{
            type: "cancel_requested" as const,
            run,
            attempt,
            why: USER_CANCEL,
          }];
        }));
        await store.appendMany(
          waiting.map((run) => ({ type: "blocked" as const, run, reason: USER_CANCEL })),
        );
        if (waiting.length) {
          if (!opts.json) r.output.out(`not started (waiting for inputs): ${waiting.join(", ")}\n`);
        }
        recorded = true;
        if (scheduler) await reconcile(loc.plan, store, scheduler, r.fs);
        await store.snapshot();
      } finally {
        await release();
      }
    } catch (e) {
      if (!(e instanceof LockedError)) throw e;
      // A monitor drives the sweep: it sees the cancelled jobs end (as cancelled, which no
      // default policy restarts); what it submits later is not known here.
    }
    if (opts.json) json(recorded ? waiting : []);
    if (!recorded && waiting.length) {
      // Waiting runs have no job to cancel: only the journal can stop the monitor releasing them.
      throw new OutcomeError(
        `${waiting.length} run${waiting.length === 1 ? "" : "s"} waiting for ${
          waiting.length === 1 ? "its" : "their"
        } inputs could not be marked cancelled (${waiting.slice(0, 5).join(", ")}${
          waiting.length > 5 ? ", ..." : ""
        }): another autoexp process (a monitor) holds this sweep and would still start them. ` +
          "Stop it (Ctrl-C), run this command again, then start autoexp monitor again",
      );
    }
    if (decided?.inFlight.length) {
      r.output.err(
        `${decided.inFlight.length} submission(s) still had no job id after ` +
          `${IN_FLIGHT_WAIT_MS / 1000} s; ` +
          (recorded
            ? "their runs are marked cancelled, so a monitor cancels their jobs when it sees them " +
              "(or run this command again)\n"
            : "another autoexp process holds this sweep, so nothing could be recorded: run this " +
              "command again once the submission has ended\n"),
      );
    }
  });
}

/** How long `cancel` waits for submissions in progress to get their job ids. */
const IN_FLIGHT_WAIT_MS = 60_000;

/** The ids to ask the scheduler about: the chosen runs' active attempts' jobs. */
function queryIds(state: StoreState, chosen: (run: string) => boolean): string[] {
  const ids = new Set<string>();
  for (const rec of Object.values(state.runs)) {
    const a = latestAttempt(rec);
    if (!chosen(rec.name) || !a?.jobId || !ACTIVE_ATTEMPT_STATES.has(a.state)) continue;
    ids.add(a.arrayJobId ?? a.jobId);
  }
  return [...ids];
}

/** Whether a chosen run waits on a submission whose sbatch has not answered. */
function hasOpenIntent(state: StoreState, chosen: (run: string) => boolean): boolean {
  return Object.values(state.runs).some((rec) =>
    chosen(rec.name) && latestAttempt(rec)?.state === "submitting"
  );
}
