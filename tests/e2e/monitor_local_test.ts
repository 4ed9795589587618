/**
 * End to end: the monitor's fault scenarios on the embedded local scheduler, through the real
 * CLI (`autoexp submit` / `autoexp monitor`) with the Megatron-like example trainer and its fault
 * knobs (tests/testdata/monitor/*.yaml). The SLURM twins are in monitor_slurm_test.ts; node
 * failures and a stopped slurmctld exist only there. Time limits are scaled down with
 * AUTOEXP_LOCAL_TIME_SCALE, so a one-minute limit lasts 6 s.
 */
import { assert_, assertEquals, assertMatch } from "../_assert.ts";
import {
  actionRunningAtKillRunsOnce,
  attemptLog,
  attemptsOf,
  blockedDependency,
  checkpointConversionAndCooldownOnce,
  cli,
  crashOnceResumes,
  crashUntilBudget,
  type Ctx,
  dump,
  hangIsCancelledAndRestarted,
  monitorKilledAtRandom,
  readJournal,
  RUN,
  runDirOf,
  shown,
  submitArgs,
  sweepOf,
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

// ---------------------------------------------------------------- issue 17: restarts

/** The sbatch-like command line the local scheduler recorded for a job. */
async function localArgv(ctx: Ctx, jobId: string | undefined): Promise<string[]> {
  const spec = JSON.parse(
    await Deno.readTextFile(`${ctx.out}/local-scheduler/jobs/${jobId}/spec.json`),
  );
  return spec.argv;
}

Deno.test("monitor local: a run that aborts on an NCCL watchdog timeout is restarted on other nodes by the nccl policy", () =>
  withCtx("local", {}, async (ctx) => {
    const sweep = sweepOf(ctx);
    const r = await cli(ctx, submitArgs(ctx, "nccl", []), 180_000);
    const events = await readJournal(sweep);
    assertEquals(r.code, 0, `${shown(r)}\n${dump(events)}`);
    const att = attemptsOf(events, RUN);
    assertEquals(
      att.map((a) => [a.attempt, a.final, a.exitCode]),
      [[1, "nccl_failed", 134], [2, "completed", 0]],
      dump(events),
    );
    assertEquals(att[0].restart?.mode, "nccl");
    // The local scheduler names its host as the job's node; the restart excludes it.
    const host = Deno.hostname();
    assertMatch(att[0].restartReason ?? "", new RegExp(`excluding ${host}`));
    assert_((await localArgv(ctx, att[1].jobId)).includes(`--exclude=${host}`));
    assert_(!(await localArgv(ctx, att[0].jobId)).some((a) => a.startsWith("--exclude")));
    assertMatch(await attemptLog(runDirOf(sweep), att[0].jobId), /Watchdog caught collective/);
    const log2 = await attemptLog(runDirOf(sweep), att[1].jobId);
    assertMatch(log2, /successfully loaded checkpoint from \S+ .*at iteration 10\b/);
  }));

Deno.test("monitor local: restarts that make no progress stop the run before its budget is spent", () =>
  withCtx("local", {}, async (ctx) => {
    const sweep = sweepOf(ctx);
    const r = await cli(ctx, submitArgs(ctx, "no_progress", []), 180_000);
    const events = await readJournal(sweep);
    assertEquals(r.code, 1, `${shown(r)}\n${dump(events)}`);
    const att = attemptsOf(events, RUN);
    assertEquals(
      att.map((a) => [a.attempt, a.final, a.restart === null ? null : a.restart?.mode]),
      [[1, "failed", "crash"], [2, "failed", "crash"], [3, "failed", null]],
      dump(events),
    );
    assertMatch(
      att[2].restartReason ?? "",
      /^no progress: the last 2 restarts advanced neither the newest checkpoint nor the iteration \(still at checkpoint 10, iteration 14;/,
    );
    assertMatch(r.stdout + r.stderr, /not restarted: no progress/);
    const st = await cli(ctx, ["status", "--state", sweep, "--json"], 60_000);
    const row = JSON.parse(st.stdout).runs.find((x: { run: string }) => x.run === RUN);
    assertEquals([row.state, row.attempts], ["failed", 3]);
    assertMatch(row.reason, /not restarted: no progress/);
  }));

Deno.test("monitor local: an out-of-memory restart runs the run re-planned with the policy's overrides", () =>
  withCtx("local", {}, async (ctx) => {
    const sweep = sweepOf(ctx);
    const r = await cli(ctx, submitArgs(ctx, "oom_overrides", []), 180_000);
    const events = await readJournal(sweep);
    assertEquals(r.code, 0, `${shown(r)}\n${dump(events)}`);
    const att = attemptsOf(events, RUN);
    assertEquals(
      att.map((a) => [a.attempt, a.final]),
      [[1, "out_of_memory"], [2, "completed"]],
      dump(events),
    );
    const decided = events.find((e) => e.type === "restart_decided" && e.attempt === 1);
    assertEquals(
      (decided?.restart as { overrides?: string[] } | undefined)?.overrides,
      ["backend.args.global_batch_size=4"],
    );
    const log1 = await attemptLog(runDirOf(sweep), att[0].jobId);
    const log2 = await attemptLog(runDirOf(sweep), att[1].jobId);
    assertMatch(log1, /global batch size:\s+8 \|/);
    assertMatch(log2, /global batch size:\s+4 \|/);
    assert_(!/global batch size:\s+8 \|/.test(log2), "attempt 2 ran with the override");
    assertMatch(log2, /successfully loaded checkpoint from \S+ .*at iteration 10\b/);
  }));
