/** submitSweep with a fake scheduler: idempotence, crash recovery by tag, errors, changed config. */
import { assert_, assertEquals, assertMatch, assertRejects } from "../_assert.ts";
import { makeTree, removeTree } from "../_helpers.ts";
import { FakeScheduler } from "../_fake_scheduler.ts";
import { SchedulerError, UsageError } from "../../lib/errors.ts";
import type { RunPlan, SweepPlan } from "../../lib/plan/types.ts";
import { DenoFileSystem } from "../../lib/runtime/fs.ts";
import type { Host } from "../../lib/runtime/host.ts";
import { parseJournal, SweepStore } from "../../lib/store/store.ts";
import { reconcile, submitSweep } from "../../lib/submit/mod.ts";
import type { HistoryRecord } from "../../lib/runtime/history.ts";

const host: Host = {
  env: {},
  hostname: () => "h",
  cwd: () => "/",
  now: () => new Date("2026-01-01T00:00:00Z"),
  color: false,
  pid: Deno.pid,
  selfCommand: () => ["autoexp"],
};
const fs = new DenoFileSystem();
const script = {
  resources: { time: "01:00:00" },
  extraDirectives: [],
  modules: [],
  setup: [],
  shellEnv: {},
};

function makePlan(dir: string, n: number, array: boolean, fp = "f"): SweepPlan {
  const runs: RunPlan[] = Array.from({ length: n }, (_, i) => ({
    index: i,
    name: `r${i}`,
    values: { i },
    runDir: `${dir}/runs/r${i}`,
    logPath: `${dir}/runs/r${i}/logs/{job_id}.log`,
    argv: ["true"],
    env: {},
    workdir: dir,
    script,
    nodes: 1,
    gpus: 0,
    minutes: 60,
    group: array ? "array0" : `r${i}`,
    backend: "command",
    fingerprint: `${fp}${i}`,
  }));
  const groups = array
    ? [{
      id: "array0",
      kind: "array" as const,
      indices: runs.map((r) => r.index),
      chunks: [
        { offset: 0, array: "0-1", script: "scripts/array0_part0.sh", indices: [0, 1] },
        {
          offset: 2,
          array: "0-1",
          script: "scripts/array0_part1.sh",
          indices: [2, 3].filter((i) => i < n),
        },
      ],
      script,
    }]
    : runs.map((r) => ({
      id: r.name,
      kind: "single" as const,
      indices: [r.index],
      chunks: [{ offset: r.index, array: "", script: `scripts/${r.name}.sh`, indices: [r.index] }],
      script,
    }));
  return {
    format: "autoexp.sweep",
    version: 1,
    sweep: {
      name: "s",
      id: "sid",
      dir,
      configName: "autoexp",
      configDir: null,
      overrides: [],
      multirun: false,
      nameTemplate: "",
      autoexp: ["autoexp"],
      autoexpVersion: "0",
      throttle: 2,
    },
    runs,
    groups,
  };
}

async function withStore(fn: (dir: string) => Promise<void>) {
  const dir = await makeTree({});
  try {
    await fn(dir);
  } finally {
    await removeTree(dir);
  }
}

Deno.test("submitSweep: one sbatch per array chunk, and a second submit submits nothing", () =>
  withStore(async (dir) => {
    const plan = makePlan(dir, 4, true);
    const sched = new FakeScheduler();
    const store = await SweepStore.open(fs, host, dir);
    const r1 = await submitSweep(plan, store, sched);
    assertEquals(r1.submitted.map((s) => [s.key, s.runs]), [["array0", 2], ["array0", 2]]);
    assertEquals([...sched.jobs.values()].map((j) => j.request.array), ["0-1%2", "0-1%2"]);
    // The %2 holds for the sweep: the second part waits for the first to end.
    assertEquals([...sched.jobs.values()].map((j) => j.request.dependency), [
      undefined,
      "afterany:100",
    ]);
    assertEquals(store.state.runs.r3.attempts[0].jobId, "101_1");
    const again = await SweepStore.open(fs, host, dir);
    await reconcile(plan, again, sched, fs);
    const r2 = await submitSweep(plan, again, sched);
    assertEquals(r2.calls.length, 0);
    assertEquals(r2.skipped.length, 4);
    assertEquals(sched.jobs.size, 2);
  }));

Deno.test("submitSweep: a crash after sbatch is recovered by the comment tag, not resubmitted", () =>
  withStore(async (dir) => {
    const plan = makePlan(dir, 2, false);
    const sched = new FakeScheduler();
    sched.crashAfterSubmit = true;
    const store = await SweepStore.open(fs, host, dir);
    await assertRejects(() => submitSweep(plan, store, sched));
    // The first intent stayed open in the journal when the "process died".
    const raw = await Deno.readTextFile(`${dir}/.autoexp/journal.jsonl`);
    const truncated = parseJournal(raw).filter((e) => e.type === "submit_intent").slice(0, 1);
    await Deno.writeTextFile(
      `${dir}/.autoexp/journal.jsonl`,
      truncated.map((e) => JSON.stringify(e)).join("\n") + "\n",
    );
    await Deno.remove(`${dir}/.autoexp/snapshot.json`).catch(() => {});
    sched.crashAfterSubmit = false;
    const restarted = await SweepStore.open(fs, host, dir);
    await reconcile(plan, restarted, sched, fs);
    assertEquals(restarted.state.runs.r0.attempts[0].jobId, "100");
    const r = await submitSweep(plan, restarted, sched);
    assertEquals(r.submitted.map((s) => s.key), ["r1"], "only the run never submitted");
    assertEquals(sched.jobs.size, 2);
  }));

Deno.test("submitSweep: an intent whose sbatch never ran is abandoned and submitted again", () =>
  withStore(async (dir) => {
    const plan = makePlan(dir, 1, false);
    const store = await SweepStore.open(fs, host, dir);
    await store.append({
      type: "submit_intent",
      key: "r0",
      comment: "autoexp:sid:r0:1",
      runs: [{ name: "r0", index: 0, attempt: 1, fingerprint: "f0", why: "initial" }],
    });
    const sched = new FakeScheduler();
    await reconcile(plan, store, sched, fs);
    assertEquals(store.state.intents["1"].status, "abandoned");
    const r = await submitSweep(plan, store, sched);
    assertEquals(r.submitted.length, 1);
    assertEquals(store.state.runs.r0.attempts.map((a) => [a.attempt, a.state]), [[
      1,
      "submit_failed",
    ], [2, "pending"]]);
  }));

Deno.test("submitSweep: a permanent sbatch error surfaces and records nothing as submitted", () =>
  withStore(async (dir) => {
    const plan = makePlan(dir, 2, false);
    const sched = new FakeScheduler();
    sched.failures = [
      new SchedulerError("sbatch: error: invalid partition specified: gpuu", { transient: false }),
    ];
    const store = await SweepStore.open(fs, host, dir);
    await assertRejects(
      () => submitSweep(plan, store, sched),
      (e) => assertMatch(e.message, /invalid partition/),
    );
    assertEquals(sched.jobs.size, 0);
    assertEquals(store.state.runs.r0.attempts[0].state, "submit_failed");
    assertEquals(store.state.runs.r1, undefined, "the second call was never made");
    const r = await submitSweep(plan, store, sched);
    assertEquals(r.submitted.length, 2);
  }));

Deno.test("submitSweep: failed runs get a new attempt; changed config is refused unless asked", () =>
  withStore(async (dir) => {
    const plan = makePlan(dir, 2, false);
    const sched = new FakeScheduler();
    const store = await SweepStore.open(fs, host, dir);
    await submitSweep(plan, store, sched);
    sched.set("100", "completed", 0);
    sched.set("101", "failed", 7);
    await reconcile(plan, store, sched, fs);
    const again = await submitSweep(plan, store, sched);
    assertEquals(again.submitted.map((s) => s.key), ["r1"]);
    assertEquals(store.state.runs.r1.attempts[1].why, "resubmit after failed");
    sched.set("102", "completed", 0);
    await reconcile(plan, store, sched, fs);
    const changed = makePlan(dir, 2, false, "g");
    await assertRejects(() => submitSweep(changed, store, sched), (e) => {
      assert_(e instanceof UsageError);
      assertMatch(e.message, /the config of 2 runs changed/);
      assertMatch(e.message, /--new-attempt/);
    });
    const forced = await submitSweep(changed, store, sched, { newAttempt: true });
    assertEquals(forced.submitted.length, 2);
  }));

Deno.test("submitSweep: runs renamed since their last submission are refused, not trained again", () =>
  withStore(async (dir) => {
    const plan = makePlan(dir, 2, false);
    const sched = new FakeScheduler();
    const store = await SweepStore.open(fs, host, dir);
    await submitSweep(plan, store, sched);
    sched.set("100", "completed", 0);
    sched.set("101", "completed", 0);
    await reconcile(plan, store, sched, fs);
    // The same two runs under new names (as `w_1` became `w_1.0` with whole floats).
    const renamed = { ...plan, runs: plan.runs.map((r) => ({ ...r, name: `${r.name}.0` })) };
    await assertRejects(() => submitSweep(renamed, store, sched), (e) => {
      assert_(e instanceof UsageError);
      assertMatch(e.message, /journal has runs the new plan does not \(r0, r1\)/);
      assertMatch(e.message, /new ones \(r0\.0, r1\.0\)/);
    });
    assertEquals(sched.jobs.size, 2, "nothing submitted");
    // One run dropped from the sweep, none added: not a rename, nothing to refuse.
    const fewer = { ...plan, runs: plan.runs.slice(0, 1) };
    assertEquals((await submitSweep(fewer, store, sched)).submitted.length, 0);
    assertEquals(
      (await submitSweep(renamed, store, sched, { newAttempt: true })).submitted.length,
      2,
    );
  }));

Deno.test("submitSweep --dry-run prints the sbatch calls and records nothing", () =>
  withStore(async (dir) => {
    const plan = makePlan(dir, 4, true);
    const lines: string[] = [];
    const store = await SweepStore.open(fs, host, dir);
    const r = await submitSweep(plan, store, new FakeScheduler(), {
      dryRun: true,
      say: (l) => lines.push(l),
    });
    assertEquals(r.calls.length, 2);
    assertMatch(
      lines[0],
      /^sbatch --parsable --job-name=s\.array0-s<n> --comment=autoexp:sid:array0:\w+\.<n> --array=0-1%2 --export=ALL,AUTOEXP_ENTRIES=<frozen entries>,AUTOEXP_TAG=\S+ .*array0_part0\.sh$/,
    );
    assertEquals(store.state.seq, 0);
  }));

Deno.test("submitSweep: a changed config is refused with what changed", () =>
  withStore(async (dir) => {
    const plan = makePlan(dir, 1, false);
    const sched = new FakeScheduler();
    const store = await SweepStore.open(fs, host, dir);
    await submitSweep(plan, store, sched);
    sched.set("100", "completed", 0);
    await reconcile(plan, store, sched, fs);
    const changed = makePlan(dir, 1, false, "g");
    const run = changed.runs[0] as unknown as { argv: string[]; env: Record<string, string> };
    run.argv = ["python", "train.py", "--lr", "0.0003"];
    (plan.runs[0] as unknown as { argv: string[] }).argv = ["python", "train.py", "--lr", "0.001"];
    run.env = { NCCL_DEBUG: "INFO" };
    await assertRejects(() => submitSweep(changed, store, sched, { previous: plan }), (e) => {
      assertMatch(e.message, /r0:\n\s+command: --lr 0\.001 -> --lr 0\.0003/);
      assertMatch(e.message, /env NCCL_DEBUG: \(unset\) -> INFO/);
    });
  }));

Deno.test("reconcile: an interrupted submission whose job the queue forgot is found by the tag in its marker", () =>
  withStore(async (dir) => {
    const plan = makePlan(dir, 1, false);
    const store = await SweepStore.open(fs, host, dir);
    const comment = `autoexp:sid:r0:${store.id}.1`;
    await store.append({
      type: "submit_intent",
      key: "r0",
      comment,
      runs: [{ name: "r0", index: 0, attempt: 1, fingerprint: "f0", why: "initial" }],
    });
    // The job ran and ended long ago: no queue entry, but run-entry left its marker.
    await Deno.mkdir(`${dir}/runs/r0/attempts`, { recursive: true });
    await Deno.writeTextFile(
      `${dir}/runs/r0/attempts/555.0.json`,
      JSON.stringify({
        run: "r0",
        job_id: "555",
        array_job_id: null,
        array_task_id: null,
        restart_count: 0,
        host: "h",
        started_at: "2026-01-01T00:00:00Z",
        ended_at: "2026-01-01T00:01:00Z",
        state: "completed",
        exit_code: 0,
        tag: comment,
      }),
    );
    const sched = new FakeScheduler();
    await reconcile(plan, store, sched, fs);
    assertEquals(store.state.intents["1"].status, "submitted");
    assertEquals(store.state.runs.r0.attempts[0].jobId, "555");
    assertEquals(store.state.runs.r0.attempts[0].state, "completed", "settled from the marker");
    const r = await submitSweep(plan, store, sched);
    assertEquals(r.submitted.length, 0, "never submitted twice");
  }));

Deno.test("SweepStore: a writer that did not see another writer's events refuses to append", () =>
  withStore(async (dir) => {
    const a = await SweepStore.open(fs, host, dir);
    const b = await SweepStore.open(fs, host, dir);
    await a.append({ type: "abandoned", intent: 9, why: "test" });
    await assertRejects(() => b.append({ type: "abandoned", intent: 9, why: "test" }), (e) => {
      assertMatch(e.message, /changed while this process was using it/);
    });
  }));

Deno.test("reconcile: a job missing everywhere is unknown first, lost after the grace period", () =>
  withStore(async (dir) => {
    const plan = makePlan(dir, 1, false);
    const sched = new FakeScheduler();
    const store = await SweepStore.open(fs, host, dir);
    await submitSweep(plan, store, sched);
    sched.jobs.delete("100"); // the controller lost it; no marker was written
    let t = Date.parse("2026-01-01T00:00:00Z");
    await reconcile(plan, store, sched, fs, () => {}, () => t);
    assertEquals(store.state.runs.r0.attempts[0].state, "unknown", "never failed right away");
    t += 5 * 60_000;
    await reconcile(plan, store, sched, fs, () => {}, () => t);
    assertEquals(store.state.runs.r0.attempts[0].state, "unknown");
    t += 30 * 60_000;
    await reconcile(plan, store, sched, fs, () => {}, () => t);
    assertEquals(store.state.runs.r0.attempts[0].state, "lost");
    const again = await submitSweep(plan, store, sched);
    assertEquals(again.submitted.length, 1, "a lost run gets a new attempt");
  }));

Deno.test("submitSweep: each submitted attempt is recorded in the history index", () =>
  withStore(async (dir) => {
    const made = makePlan(dir, 3, true);
    const plan = {
      ...made,
      runs: made.runs.map((r, i) => i === 2 ? { ...r, stage: "finetune" } : r),
    };
    const sched = new FakeScheduler();
    const store = await SweepStore.open(fs, host, dir);
    const lines: HistoryRecord[] = [];
    const history = {
      file: "/h",
      append: (rs: readonly HistoryRecord[]) => Promise.resolve(void lines.push(...rs)),
      read: () => Promise.resolve({ records: lines, damaged: 0 }),
    };
    await submitSweep(plan, store, sched, { history });
    assertEquals(lines.map((l) => [l.event, l.job, l.run, l.stage ?? null, l.attempt, l.state]), [
      ["submitted", "100_0", "r0", null, 1, "pending"],
      ["submitted", "100_1", "r1", null, 1, "pending"],
      ["submitted", "101_0", "r2", "finetune", 1, "pending"],
    ]);
    assertEquals(lines[2].log, `${dir}/logs/array0/101_0.log`);
    assertEquals([lines[0].sweep, lines[0].run_dir], [dir, `${dir}/runs/r0`]);
  }));
