/**
 * End to end: the monitor's fault scenarios on the real single-node SLURM test cluster
 * (tools/slurm_cluster.sh), through the real CLI with the Megatron-like example trainer
 * (tests/testdata/monitor/*.yaml): crashes, a one-minute time limit, a
 * hang, a dependency that can never be satisfied, checkpoint actions and a
 * cooldown run, and a monitor SIGKILLed at random moments. (A node set down and slurmctld
 * stopped disturb every job on the cluster: they are in tests/serial/, run after these.)
 *
 * They run when `sinfo` answers; CI sets AUTOEXP_SLURM_TESTS=1, and then a cluster that does
 * not answer is a failure, not a skip.
 */
import { assert_, assertEquals, assertMatch } from "../_assert.ts";
import {
  attemptLog,
  attemptsOf,
  blockedDependency,
  checkpointConversionAndCooldownOnce,
  cli,
  crashOnceResumes,
  crashUntilBudget,
  dump,
  finishWithin,
  hangIsCancelledAndRestarted,
  monitorKilledAtRandom,
  ofType,
  readJournal,
  RUN,
  runDirOf,
  sh,
  shown,
  slurmHere,
  slurmWanted,
  spawnCli,
  submitArgs,
  sweepOf,
  timeoutRestartsLonger,
  waitFor,
  withCtx,
} from "./_monitor_helpers.ts";

/** `scontrol show job ID` as key=value pairs. */
async function showJob(id: string): Promise<Record<string, string>> {
  const text = await sh("scontrol", ["show", "job", id]);
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/(\w+)=(\S*)/g)) out[m[1]] ??= m[2];
  return out;
}

if (slurmHere) {
  Deno.test("monitor slurm: a crash on every attempt restarts until the budget (3 attempts, exit 1)", () =>
    withCtx("slurm", {}, crashUntilBudget));

  Deno.test("monitor slurm: a crash once restarts from the checkpoint and completes", () =>
    withCtx("slurm", {}, crashOnceResumes));

  Deno.test("monitor slurm: a timeout restarts with a longer time limit and resumes", () =>
    withCtx("slurm", {}, async (ctx) => {
      // 60 iterations of 2 s: more than the one-minute limit (SLURM enforces it within ~30 s
      // after it passed), less than the three minutes of attempt 2.
      const att = await timeoutRestartsLonger(ctx, [
        "backend.args.train_iters=60",
        "backend.args.iter_seconds=2",
      ], 420_000);
      assertEquals((await showJob(att[0].jobId!)).TimeLimit, "00:01:00");
      assertEquals((await showJob(att[1].jobId!)).TimeLimit, "00:03:00");
    }));

  Deno.test("monitor slurm: a hang is cancelled as stalled and restarted", () =>
    withCtx("slurm", {}, hangIsCancelledAndRestarted));

  Deno.test("monitor slurm: a dependency that can never be satisfied is reported blocked", () =>
    withCtx("slurm", {}, blockedDependency));

  Deno.test("monitor slurm: an NCCL restart sbatch refuses for its excluded node runs again without the exclusion", () =>
    withCtx("slurm", {}, async (ctx) => {
      // The test cluster has one node: sbatch refuses --exclude=<it> ("Requested node
      // configuration is not available"), so the run is restarted once more without it.
      const sweep = sweepOf(ctx);
      const r = await cli(ctx, submitArgs(ctx, "nccl", []), 180_000);
      const events = await readJournal(sweep);
      assertEquals(r.code, 0, `${shown(r)}\n${dump(events)}`);
      const failed = ofType(events, "submit_failed");
      assertEquals(failed.length, 1, dump(events));
      assertMatch(String(failed[0].error), /node configuration is not available/);
      const att = attemptsOf(events, RUN).filter((a) => a.jobId);
      assertEquals(att.map((a) => a.final), ["nccl_failed", "completed"], dump(events));
      const whys = ofType(events, "submit_intent").flatMap((e) =>
        (e.runs as { why: string }[]).map((x) => x.why)
      );
      assert_(
        whys.some((w) => w.includes("again without excluding the failed node")),
        dump(events),
      );
    }));

  Deno.test("monitor slurm: a checkpoint line runs its conversion and one cooldown run, once", () =>
    withCtx("slurm", {}, checkpointConversionAndCooldownOnce));

  Deno.test("monitor slurm: a monitor SIGKILLed at random moments duplicates and loses nothing", () =>
    withCtx("slurm", {}, (ctx) => monitorKilledAtRandom(ctx, 240_000)));

  Deno.test("monitor slurm: a monitor SIGKILLed before a restart's sbatch ran makes the restart later", () =>
    withCtx("slurm", {}, async (ctx) => {
      const sweep = sweepOf(ctx);
      // An sbatch that, while the gate file exists, hangs (and says so) instead of submitting.
      const bin = `${ctx.out}/bin`;
      const gate = `${ctx.out}/sbatch.gate`;
      const real = (await sh("bash", ["-c", "command -v sbatch"])).trim();
      await Deno.mkdir(bin, { recursive: true });
      await Deno.writeTextFile(
        `${bin}/sbatch`,
        `#!/bin/bash\nif [ -e ${gate} ]; then echo $$ > ${gate}.pid; exec sleep 600; fi\nexec ${real} "$@"\n`,
      );
      await Deno.chmod(`${bin}/sbatch`, 0o755);
      const env = { PATH: `${bin}:${Deno.env.get("PATH")}` };
      const sub = await cli(
        ctx,
        submitArgs(ctx, "autoexp", ["slurm.env.FAULT_CRASH_AT=5", "backend.args.train_iters=10"], {
          monitor: false,
        }),
        60_000,
        env,
      );
      assertEquals(sub.code, 0, shown(sub));
      await Deno.writeTextFile(gate, "");
      const first = spawnCli(ctx, ["monitor", "--state", sweep], env);
      const pid = await waitFor(
        "the monitor to call sbatch for attempt 2",
        async () => (await Deno.readTextFile(`${gate}.pid`).catch(() => "")).trim() || undefined,
        90_000,
        async () => dump(await readJournal(sweep)),
      );
      // The monitor dies before sbatch submitted anything.
      first.kill();
      await first.result;
      Deno.kill(Number(pid), "SIGKILL");
      await Deno.remove(gate);
      const r = await cli(ctx, ["monitor", "--state", sweep], 120_000, env);
      const events = await readJournal(sweep);
      assertEquals(r.code, 0, `${shown(r)}\n${dump(events)}`);
      const att = attemptsOf(events, RUN).filter((a) => a.jobId !== undefined);
      assertEquals(att.map((a) => a.final), ["failed", "completed"], dump(events));
    }));
  Deno.test("monitor slurm: a job requeued while it runs runs again once, not twice", () =>
    withCtx("slurm", {}, async (ctx) => {
      const sweep = sweepOf(ctx);
      // tests/testdata/monitor/requeue.yaml: 40 iterations of 1 s, a checkpoint every 10;
      // requeued after the first checkpoint.
      const sub = spawnCli(ctx, submitArgs(ctx, "requeue", []));
      const jobId = await waitFor(
        "the job to save its first checkpoint",
        async () => {
          const att = attemptsOf(await readJournal(sweep), RUN);
          const log = await attemptLog(runDirOf(sweep), att[0]?.jobId).catch(() => "");
          return /successfully saved checkpoint from iteration\s+10\b/.test(log) && att[0].jobId;
        },
        120_000,
        async () => dump(await readJournal(sweep)),
      );
      await sh("scontrol", ["requeue", jobId]);
      const r = await finishWithin(sub, 420_000, "submit of a requeued job");
      const events = await readJournal(sweep);
      assertEquals(r.code, 0, `${shown(r)}\n${dump(events)}`);
      const att = attemptsOf(events, RUN);
      // One attempt, one job: SLURM ran it again under its id; the monitor submitted nothing.
      assertEquals(att.map((a) => [a.jobId, a.final]), [[jobId, "completed"]], dump(events));
      const restarts = ofType(events, "restart_decided").filter((e) => e.restart !== null);
      assertEquals(restarts.length, 0, dump(events));
      assertEquals((await showJob(jobId)).Restarts, "1");
      // Both runs of the job wrote their marker; the second resumed from the checkpoint.
      const markers = [...Deno.readDirSync(`${runDirOf(sweep)}/attempts`)].map((e) => e.name);
      assertEquals(markers.sort(), [`${jobId}.0.json`, `${jobId}.1.json`]);
    }));
} else if (slurmWanted) {
  Deno.test("monitor slurm: the SLURM test cluster is running", () => {
    throw new Error(
      "AUTOEXP_SLURM_TESTS=1 but sinfo does not answer: start it with tools/slurm_cluster.sh start",
    );
  });
}
