/**
 * `autoexp cancel [RUN ...] [--all]`: cancels the active attempts of runs of one sweep. Only
 * jobs this sweep's store recorded are touched, never other jobs of the user.
 *
 * @module
 */
import type { Command, CommandUnknownOpts } from "@commander-js/extra-typings";
import { UsageError } from "../errors.ts";
import type { Runtime } from "../runtime/mod.ts";
import { ACTIVE_ATTEMPT_STATES, latestAttempt } from "../store/state.ts";
import { LockedError, SweepStore } from "../store/store.ts";
import { reconcile } from "../submit/mod.ts";
import { addSweepLocationOptions, locateSweep, type SweepLocation } from "./locate.ts";
import { makeScheduler } from "./scheduler_wiring.ts";
import { didYouMean } from "../config/suggest.ts";
import { USER_CANCEL } from "../monitor/decide.ts";

/** Registers the command. */
export function registerCancel(program: Command, rt: () => Runtime): void {
  const cmd = program
    .command("cancel")
    .description("cancel runs of a sweep (only jobs autoexp submitted for it)")
    .argument("[runs...]", "run names to cancel")
    .option("--all", "cancel every active run of the sweep");
  addSweepLocationOptions(cmd as unknown as CommandUnknownOpts);
  cmd.action(async (runs, opts) => {
    const r = rt();
    if (!runs.length && !opts.all) throw new UsageError("name the runs to cancel, or use --all");
    const loc = await locateSweep(opts as SweepLocation, r);
    const store = await SweepStore.open(r.fs, r.host, loc.plan.sweep.dir);
    const known = new Set(loc.plan.runs.map((x) => x.name));
    for (const name of runs) {
      if (!known.has(name)) {
        const hint = didYouMean(name, known);
        throw new UsageError(
          `no run "${name}" in sweep ${loc.plan.sweep.dir}${hint ? `; ${hint}` : ""}`,
        );
      }
    }
    const targets = Object.values(store.state.runs).filter((run) =>
      (opts.all || runs.includes(run.name)) &&
      ACTIVE_ATTEMPT_STATES.has(latestAttempt(run)?.state ?? "")
    );
    const ids = targets.map((run) => latestAttempt(run)!.jobId).filter((x): x is string => !!x);
    if (!ids.length) {
      r.output.out("nothing to cancel: no pending or running attempt among those runs\n");
      return;
    }
    const kind = loc.kind ?? "slurm";
    const scheduler = await makeScheduler(kind, r);
    await scheduler.cancel(ids);
    r.output.out(
      `cancelled ${ids.length} job${ids.length === 1 ? "" : "s"}: ${ids.join(", ")}\n`,
    );
    try {
      const release = await store.lock("autoexp cancel");
      try {
        // Recorded, so a monitor started later neither restarts these runs nor starts derived
        // runs from log lines it reads only now.
        await store.appendMany(targets.flatMap((run) => {
          const a = latestAttempt(run)!;
          return a.cancelRequested ? [] : [{
            type: "cancel_requested" as const,
            run: run.name,
            attempt: a.attempt,
            why: USER_CANCEL,
          }];
        }));
        await reconcile(loc.plan, store, scheduler, r.fs);
        await store.snapshot();
      } finally {
        await release();
      }
    } catch (e) {
      if (!(e instanceof LockedError)) throw e;
      // A monitor drives the sweep; it will see the cancellation itself.
    }
  });
}
