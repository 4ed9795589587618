/**
 * End to end: the monitor's fault scenarios on the embedded local scheduler, through the real
 * CLI (`autoexp submit` / `autoexp monitor`) with the Megatron-like example trainer and its fault
 * knobs (tests/testdata/monitor/*.yaml). The SLURM twins are in monitor_slurm_test.ts; node
 * failures and a stopped slurmctld exist only there. Time limits are scaled down with
 * AUTOEXP_LOCAL_TIME_SCALE, so a one-minute limit lasts 6 s.
 */
import {
  actionRunningAtKillRunsOnce,
  blockedDependency,
  checkpointConversionAndCooldownOnce,
  crashOnceResumes,
  crashUntilBudget,
  hangIsCancelledAndRestarted,
  monitorKilledAtRandom,
  timeoutRestartsLonger,
  withCtx,
} from "./_monitor_helpers.ts";

Deno.test("monitor local: a crash on every attempt restarts until the budget (3 attempts, exit 1)", () =>
  withCtx("local", {}, crashUntilBudget));

Deno.test("monitor local: a crash once restarts from the checkpoint and completes", () =>
  withCtx("local", {}, crashOnceResumes));

Deno.test("monitor local: a timeout restarts with a longer time limit and resumes", () =>
  withCtx("local", { AUTOEXP_LOCAL_TIME_SCALE: "0.1" }, async (ctx) => {
    // Limits: 1 min -> 6 s, then 3 min -> 18 s; the run needs ~11 s. The journal's
    // submit_intent of attempt 2 carries `time: 3`.
    await timeoutRestartsLonger(ctx, [
      "backend.args.train_iters=100",
      "backend.args.iter_seconds=0.1",
    ], 120_000);
  }));

Deno.test("monitor local: a hang is cancelled as stalled and restarted", () =>
  withCtx("local", {}, hangIsCancelledAndRestarted));

Deno.test("monitor local: a dependency that can never be satisfied is reported blocked", () =>
  withCtx("local", {}, blockedDependency));

Deno.test("monitor local: a checkpoint line runs its conversion and one cooldown run, once", () =>
  withCtx("local", {}, checkpointConversionAndCooldownOnce));

Deno.test("monitor local: a monitor SIGKILLed at random moments duplicates and loses nothing", () =>
  withCtx("local", {}, (ctx) => monitorKilledAtRandom(ctx, 180_000)));

Deno.test("monitor local: an action running when the monitor is SIGKILLed finishes with all its output, once", () =>
  withCtx("local", {}, actionRunningAtKillRunsOnce));
