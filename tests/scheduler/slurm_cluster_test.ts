/**
 * SlurmScheduler against the REAL single-node SLURM cluster (tools/slurm_cluster.sh, see
 * shared/docs/slurm-test-cluster.md). Skipped only when AUTOEXP_SLURM_TESTS is not set AND
 * `sinfo` is not installed; CI sets AUTOEXP_SLURM_TESTS=1, and then a missing or stopped
 * cluster FAILS these tests. Works with and without accounting (`start` / `start --accounting`).
 *
 * Each test writes its job scripts and outputs in a temporary directory, tags its jobs with a
 * comment unique to this run, stays under ~30 s, and scancels what it submitted.
 */
import { assert_, assertEquals, assertMatch, assertRejects } from "../_assert.ts";
import { SchedulerError } from "../../lib/errors.ts";
import { DenoProcessRunner } from "../../lib/runtime/process.ts";
import { SlurmScheduler } from "../../lib/scheduler/slurm.ts";
import { FINAL_STATES, type JobObservation, type QueryResult } from "../../lib/scheduler/types.ts";

const runner = new DenoProcessRunner();
const wanted = (Deno.env.get("AUTOEXP_SLURM_TESTS") ?? "") !== "";
const sinfoInstalled = (await runner.run(["sinfo", "--version"])).code !== 127;
const ignore = Deno.env.get("AUTOEXP_SLURM_TESTS") === "0" || (!wanted && !sinfoInstalled);

/** A unique comment prefix for this test run, so concurrent runs never see each other's jobs. */
const RUN_TAG = `autoexp:clustertest-${crypto.randomUUID().slice(0, 8)}`;

function scheduler(): SlurmScheduler {
  return new SlurmScheduler({
    runner,
    commandTimeoutMs: 30_000,
    retry: { maxAttempts: 2, initialDelayMs: 500 },
    onRetry: (msg) => console.error(`slurm_cluster_test: ${msg}`),
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Fails with instructions when the cluster does not answer. */
async function requireCluster(): Promise<void> {
  const ping = await runner.run(["scontrol", "ping"], { timeoutMs: 15_000 });
  if (ping.code !== 0 || !/UP/.test(ping.stdout)) {
    throw new Error(
      "the SLURM test cluster is not answering (`scontrol ping`: " +
        `${JSON.stringify((ping.stdout + ping.stderr).trim())}). Start it with ` +
        "`bash tools/slurm_cluster.sh start` (or unset AUTOEXP_SLURM_TESTS and uninstall " +
        "slurm-client to skip these tests).",
    );
  }
}

/** A temporary directory with job scripts; removed (and its jobs cancelled) by `close`. */
class Workspace {
  readonly submitted: string[] = [];
  private constructor(readonly dir: string, readonly sched: SlurmScheduler) {}

  static async open(): Promise<Workspace> {
    await requireCluster();
    return new Workspace(await Deno.makeTempDir({ prefix: "autoexp-slurm-" }), scheduler());
  }

  async script(name: string, body: string): Promise<string> {
    const path = `${this.dir}/${name}.sh`;
    await Deno.writeTextFile(
      path,
      `#!/bin/bash\n#SBATCH --output=${this.dir}/%x-%j.out\n#SBATCH --time=5\n${body}\n`,
    );
    return path;
  }

  async submit(
    name: string,
    body: string,
    more: { array?: string; dependency?: string; extraArgs?: string[] } = {},
  ): Promise<string> {
    const { jobId } = await this.sched.submit({
      script: await this.script(name, body),
      cwd: this.dir,
      jobName: `ae-test-${name}`,
      comment: `${RUN_TAG}:${name}`,
      ...more,
    });
    this.submitted.push(jobId);
    return jobId;
  }

  async close(): Promise<void> {
    try {
      if (this.submitted.length > 0) await this.sched.cancel(this.submitted);
    } finally {
      await Deno.remove(this.dir, { recursive: true }).catch(() => {});
    }
  }
}

/** Queries `ids` every 0.5 s until `done` holds, or fails after `timeoutMs` with the last answer. */
async function waitFor(
  sched: SlurmScheduler,
  ids: string[],
  done: (jobs: readonly JobObservation[]) => boolean,
  timeoutMs: number,
  seen: QueryResult[] = [],
): Promise<readonly JobObservation[]> {
  const t0 = Date.now();
  for (;;) {
    const res = await sched.query({ ids });
    seen.push(res);
    if (done(res.jobs)) return res.jobs;
    if (Date.now() - t0 > timeoutMs) {
      throw new Error(
        `jobs ${ids.join(",")} did not reach the expected state within ${timeoutMs} ms; last: ` +
          JSON.stringify(res.jobs.map((o) => [o.id, o.rawState, o.reason])),
      );
    }
    await sleep(500);
  }
}

function one(jobs: readonly JobObservation[], id: string): JobObservation | undefined {
  return jobs.find((o) => o.id === id);
}

Deno.test({
  name: "cluster: a job, a failing job (exit 7) and a throttled array run to their final states",
  ignore,
  async fn() {
    const ws = await Workspace.open();
    try {
      const ok = await ws.submit("ok", "sleep 1");
      const bad = await ws.submit("exit7", "sleep 1; exit 7");
      const arr = await ws.submit("array", "sleep 2", { array: "0-3%2" });
      assertMatch(ok, /^\d+$/);
      const rounds: QueryResult[] = [];
      const jobs = await waitFor(
        ws.sched,
        [ok, bad, arr],
        (jobs) => {
          const tasks = jobs.filter((o) => o.arrayJobId === arr && o.arrayTaskId !== undefined);
          return FINAL_STATES.has(one(jobs, ok)?.state ?? "unknown") &&
            FINAL_STATES.has(one(jobs, bad)?.state ?? "unknown") &&
            tasks.length === 4 && tasks.every((o) => FINAL_STATES.has(o.state));
        },
        25_000,
        rounds,
      );
      // one squeue per round, sacct only when squeue lacked something
      for (const r of rounds) {
        assertEquals(r.commands.filter((c) => c === "squeue").length, 1);
        assert_(r.commands.filter((c) => c === "sacct").length <= 1);
      }
      // right after submission the throttled tasks are one pending record
      const pending = rounds.flatMap((r) => r.jobs).find((o) =>
        o.arrayJobId === arr && o.pendingTasks !== undefined
      );
      assert_(pending, "the array's waiting tasks were never seen as one pending record");
      assertEquals(pending.state, "pending");
      assert_(pending.pendingTasks!.every((t) => t >= 0 && t <= 3));

      const okJob = one(jobs, ok)!;
      assertEquals([okJob.state, okJob.rawState, okJob.exitCode], ["completed", "COMPLETED", 0]);
      assertEquals(okJob.comment, `${RUN_TAG}:ok`);
      assertEquals(okJob.name, "ae-test-ok");
      assert_(okJob.start && okJob.end && okJob.nodeList, JSON.stringify(okJob));
      const badJob = one(jobs, bad)!;
      assertEquals([badJob.state, badJob.rawState, badJob.exitCode, badJob.signal], [
        "failed",
        "FAILED",
        7,
        0,
      ]);
      assertEquals(badJob.reason, "NonZeroExitCode");
      const tasks = jobs.filter((o) => o.arrayJobId === arr).sort((a, b) =>
        (a.arrayTaskId ?? 0) - (b.arrayTaskId ?? 0)
      );
      assertEquals(
        tasks.map((o) => [o.id, o.state]),
        [0, 1, 2, 3].map((t) => [`${arr}_${t}`, "completed"]),
      );
      assertEquals(tasks[3].jobId, arr); // the last task reuses the array's job id
    } finally {
      await ws.close();
    }
  },
});

Deno.test({
  name: "cluster: a pending job (begin in an hour) is cancelled",
  ignore,
  async fn() {
    const ws = await Workspace.open();
    try {
      const id = await ws.submit("later", "true", { extraArgs: ["--begin=now+1hour"] });
      const [before] = await waitFor(ws.sched, [id], (j) => j.length === 1, 10_000);
      assertEquals([before.state, before.reason], ["pending", "BeginTime"]);
      assertEquals(before.start, undefined);
      await ws.sched.cancel([id]);
      const after = await waitFor(ws.sched, [id], (j) => j[0]?.state === "cancelled", 10_000);
      assertEquals(after.length, 1);
      assertMatch(after[0].rawState, /^CANCELLED/);
      // cancelling again (already finished) is fine
      await ws.sched.cancel([id]);
    } finally {
      await ws.close();
    }
  },
});

Deno.test({
  name: "cluster: a job depending on a failed job stays pending, DependencyNeverSatisfied",
  ignore,
  async fn() {
    const ws = await Workspace.open();
    try {
      const parent = await ws.submit("parent", "exit 3");
      await waitFor(ws.sched, [parent], (j) => j[0]?.state === "failed", 15_000);
      const child = await ws.submit("child", "true", { dependency: `afterok:${parent}` });
      const [dep] = await waitFor(
        ws.sched,
        [child],
        (j) => j[0]?.reason === "DependencyNeverSatisfied",
        15_000,
      );
      assertEquals([dep.state, dep.rawState], ["pending", "PENDING"]);
    } finally {
      await ws.close();
    }
  },
});

Deno.test({
  name: "cluster: an sbatch error (invalid partition) is permanent and quotes sbatch",
  ignore,
  async fn() {
    const ws = await Workspace.open();
    try {
      const t0 = Date.now();
      const err = await assertRejects(() =>
        ws.submit("badpart", "true", { extraArgs: ["--partition=autoexp-no-such-partition"] })
      );
      assert_(err instanceof SchedulerError, String(err));
      assertEquals(err.details.transient, false);
      assertEquals(err.details.exitCode, 1);
      assertMatch(err.message, /invalid partition specified: autoexp-no-such-partition/);
      assertMatch(err.details.stderr ?? "", /Invalid partition name specified/);
      assert_(Date.now() - t0 < 5_000, "a permanent error must not be retried");
    } finally {
      await ws.close();
    }
  },
});

Deno.test({
  name: "cluster: limits() reads MaxArraySize 10001; accounting as configured",
  ignore,
  async fn() {
    await requireCluster();
    const sched = scheduler();
    const limits = await sched.limits();
    assertEquals(limits.maxArraySize, 10001);
    const config = (await runner.run(["scontrol", "show", "config"])).stdout;
    const storageNone = /AccountingStorageType\s*=\s*accounting_storage\/none/.test(config);
    assertEquals(limits.accounting, !storageNone);
    // an id nobody has: squeue does not know it; sacct is asked (or known to be unavailable)
    const res = await sched.query({ ids: ["60000000"] });
    assertEquals(res.jobs, []);
    if (limits.accounting) {
      assertEquals([res.commands, res.accountingUnavailable], [["squeue", "sacct"], undefined]);
    } else {
      assertEquals([res.commands, res.accountingUnavailable], [["squeue"], true]);
    }
  },
});

Deno.test({
  name: "cluster: jobs are found by comment prefix alone; hold, update, release",
  ignore,
  async fn() {
    const ws = await Workspace.open();
    try {
      const tag = `${RUN_TAG}:prefix`;
      const a = await ws.submit("prefix-a", "true", { extraArgs: ["--hold"] });
      const b = await ws.submit("prefix-b", "true", { array: "0-2", extraArgs: ["--hold"] });
      const res = await ws.sched.query({ commentPrefix: tag });
      assertEquals(res.commands, ["squeue"]);
      assertEquals(res.jobs.map((o) => [o.jobId, o.state]).sort(), [[a, "pending"], [
        b,
        "pending",
      ]]);
      assertEquals(res.jobs.find((o) => o.jobId === b)?.pendingTasks, [0, 1, 2]);
      assert_(res.jobs.every((o) => o.comment?.startsWith(tag)));

      await ws.sched.hold([a]); // already held: fine
      await ws.sched.update(a, { TimeLimit: "3" });
      await ws.sched.release([a, b]);
      const done = await waitFor(
        ws.sched,
        [a, b],
        (j) => j.length === 4 && j.every((o) => o.state === "completed"),
        15_000,
      );
      assertEquals(done.length, 4);
    } finally {
      await ws.close();
    }
  },
});
