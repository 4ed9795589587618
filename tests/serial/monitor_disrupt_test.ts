/**
 * End to end, run after the parallel tests (they disturb every job on the cluster): the monitor
 * on the real SLURM test cluster when its only node is set down under a running job, and when
 * slurmctld is stopped for 30 s. Not part of the parallel pass (`--ignore=tests/serial`); the
 * `test` and `test:slurm` tasks run this folder on its own afterwards.
 */
import { assert_, assertEquals, assertMatch } from "../_assert.ts";
import { ROOT } from "../_helpers.ts";
import {
  attemptsOf,
  dump,
  finishWithin,
  ofType,
  readJournal,
  RUN,
  sh,
  shown,
  slurmHere,
  slurmWanted,
  spawnCli,
  submitArgs,
  sweepOf,
  waitFor,
  waitForVerdict,
  withCtx,
} from "../e2e/_monitor_helpers.ts";

/** The test cluster's only node. */
async function nodeName(): Promise<string> {
  return (await sh("sinfo", ["-h", "-N", "-o", "%N"])).trim().split("\n")[0];
}

/** `scontrol show job ID` as key=value pairs. */
async function showJob(id: string): Promise<Record<string, string>> {
  const text = await sh("scontrol", ["show", "job", id]);
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/(\w+)=(\S*)/g)) out[m[1]] ??= m[2];
  return out;
}

/** Puts the node back in service and waits until it takes jobs. */
async function resumeNode(node: string): Promise<void> {
  // With ReturnToService=2 it may already be back: then scontrol refuses, harmlessly.
  await sh("scontrol", ["update", `nodename=${node}`, "state=resume"]).catch(() => {});
  await waitFor(
    `node ${node} to take jobs again`,
    async () => {
      const st = (await sh("sinfo", ["-h", "-N", "-n", node, "-o", "%T"]).catch(() => "")).trim();
      return /^(idle|mixed|allocated|completing)/.test(st) ? st : undefined;
    },
    60_000,
  );
}

if (slurmHere) {
  Deno.test("monitor slurm: a node failure restarts the run", () =>
    withCtx("slurm", {}, async (ctx) => {
      const sweep = sweepOf(ctx);
      const node = await nodeName();
      const bg = spawnCli(
        ctx,
        submitArgs(ctx, "node_fail", [
          "backend.args.train_iters=40",
          "backend.args.iter_seconds=1",
        ]),
      );
      try {
        await waitForVerdict(sweep, RUN, 1, "running", 90_000);
        await sh("scontrol", ["update", `nodename=${node}`, "state=down", "reason=autoexp-test"]);
        await waitForVerdict(sweep, RUN, 1, "node_fail", 120_000);
      } finally {
        await resumeNode(node);
      }
      const r = await finishWithin(bg, 240_000, "autoexp submit");
      const events = await readJournal(sweep);
      assertEquals(r.code, 0, `${shown(r)}\n${dump(events)}`);
      const att = attemptsOf(events, RUN);
      assertEquals(
        att.map((a) => [a.attempt, a.final]),
        [[1, "node_fail"], [2, "completed"]],
        dump(events),
      );
      assertEquals(att[0].restart?.mode, "node_fail");
      assertEquals((await showJob(att[0].jobId!)).JobState, "NODE_FAIL");
    }));

  Deno.test("monitor slurm: slurmctld stopped for 30 s causes no false transition", () =>
    withCtx("slurm", {}, async (ctx) => {
      const sweep = sweepOf(ctx);
      const bg = spawnCli(
        ctx,
        submitArgs(ctx, "autoexp", ["backend.args.train_iters=35", "backend.args.iter_seconds=2"]),
      );
      await waitForVerdict(sweep, RUN, 1, "running", 90_000);
      let down = 0;
      let back = 0;
      try {
        down = Date.now();
        const out = await sh(
          "bash",
          [`${ROOT}/tools/slurm_cluster.sh`, "restart-controller", "--down-seconds", "30"],
          180_000,
        );
        back = Date.now();
        assertMatch(out, /slurmctld: back/);
      } finally {
        // Whatever happened, leave a cluster that answers.
        const up = await sh("scontrol", ["ping"]).then((o) => /is UP/.test(o)).catch(() => false);
        if (!up) await sh("bash", [`${ROOT}/tools/slurm_cluster.sh`, "start"], 180_000);
      }
      const r = await finishWithin(bg, 240_000, "autoexp submit");
      const events = await readJournal(sweep);
      assertEquals(r.code, 0, `${shown(r)}\n${dump(events)}`);
      const att = attemptsOf(events, RUN);
      assertEquals(att.map((a) => [a.attempt, a.final]), [[1, "completed"]], dump(events));
      // The log side went on while squeue could not answer: a checkpoint (one every 20 s) had
      // its actions done during the outage.
      const during = ofType(events, "action_done").filter((e) => {
        const at = Date.parse(e.at);
        return at > down + 3000 && at < back - 3000;
      });
      assert_(during.length > 0, `no action done while slurmctld was down\n${dump(events)}`);
      const bad = ["unknown", "lost", "failed", "node_fail", "cancelled", "timeout"];
      for (const s of [...att[0].verdicts, ...att[0].observed]) {
        assert_(!bad.includes(s), `a false transition to ${s}\n${dump(events)}`);
      }
    }));
} else if (slurmWanted) {
  Deno.test("monitor slurm (disruptive): the SLURM test cluster is running", () => {
    throw new Error(
      "AUTOEXP_SLURM_TESTS=1 but sinfo does not answer: start it with tools/slurm_cluster.sh start",
    );
  });
}
