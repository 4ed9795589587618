/**
 * The monitor loop over a fake scheduler and real files: the log of an attempt is written by
 * the test, the scheduler's answers are set by hand, and the clock is a counter. The real
 * schedulers are exercised by tests/e2e/monitor_*_test.ts.
 */
import { assert_ as assert, assertEquals } from "../_assert.ts";
import { FakeScheduler } from "../_fake_scheduler.ts";
import { ROOT } from "../_helpers.ts";
import { SchedulerError } from "../../lib/errors.ts";
import { Monitor, type MonitorDeps, type MonitorOptions } from "../../lib/monitor/monitor.ts";
import { USER_CANCEL } from "../../lib/monitor/decide.ts";
import { writePlan } from "../../lib/render/tree.ts";
import type { SweepPlan } from "../../lib/plan/types.ts";
import { DenoFileSystem } from "../../lib/runtime/fs.ts";
import type { CommandResult, ProcessRunner, RunOptions } from "../../lib/runtime/mod.ts";
import { denoTailSource } from "../../lib/runtime/tail_source.ts";
import type { StoreEvent } from "../../lib/store/state.ts";
import { parseJournal, SweepStore } from "../../lib/store/store.ts";
import { submitSweep } from "../../lib/submit/mod.ts";
import type { MonitorFile } from "../../lib/monitoring/monitor_file.ts";

const fs = new DenoFileSystem();

function host(out: string, clock: { t: number }) {
  return {
    env: { AUTOEXP_OUTPUT_DIR: out },
    hostname: () => "test",
    cwd: () => out,
    now: () => new Date(clock.t),
    color: false,
    pid: () => 4242,
    selfCommand: () => ["/usr/bin/autoexp"],
  };
}

/** Records commands instead of running them (exit 0). */
class FakeProc implements ProcessRunner {
  readonly ran: { argv: readonly string[]; opts?: RunOptions }[] = [];
  run(argv: readonly string[], opts?: RunOptions): Promise<CommandResult> {
    this.ran.push({ argv, opts });
    return Promise.resolve({ code: 0, stdout: "", stderr: "", timedOut: false });
  }
}

interface World {
  out: string;
  plan: SweepPlan;
  monitorFile: MonitorFile;
  fake: FakeScheduler;
  proc: FakeProc;
  clock: { t: number };
  said: string[];
  log: string;
  store: () => Promise<SweepStore>;
  monitor: (store: SweepStore, over?: Partial<MonitorDeps>) => Monitor;
}

/** Options of the monitors a world makes (the tests of the logs run with both). */
let monitorOptions: MonitorOptions = {};
/** Every round reads every log; a round reads only what may have changed, in turn the rest. */
const POLLINGS: [string, MonitorOptions][] = [["", {}], [" (logs in turn)", {
  readAllLogsBelow: 0,
}]];

async function world(overrides: string[] = [], configName = "autoexp"): Promise<World> {
  const out = await Deno.makeTempDir({ prefix: "autoexp-monitor-" });
  const clock = { t: Date.parse("2026-11-22T10:00:00Z") };
  const h = host(out, clock);
  const outcome = await writePlan(
    { configDir: `${ROOT}/tests/testdata/monitor`, configName, overrides },
    { fs, host: h as never },
  );
  const plan = outcome.plan;
  const fake = new FakeScheduler();
  const proc = new FakeProc();
  const said: string[] = [];
  const store0 = await SweepStore.open(fs, h as never, plan.sweep.dir);
  await submitSweep(plan, store0, fake, { fs });
  const log = `${plan.runs[0].runDir}/logs/100.log`;
  await fs.mkdirp(`${plan.runs[0].runDir}/logs`);
  return {
    out,
    plan,
    monitorFile: outcome.monitor,
    fake,
    proc,
    clock,
    said,
    log,
    store: () => SweepStore.open(fs, h as never, plan.sweep.dir),
    monitor: (store, over = {}) =>
      new Monitor(
        {
          fs,
          scheduler: fake,
          proc,
          tails: denoTailSource(),
          now: () => clock.t,
          sleep: (ms) => {
            clock.t += ms;
            return Promise.resolve();
          },
          say: (l) => said.push(l),
          ...over,
        },
        store,
        { plan, monitor: outcome.monitor },
        { once: true, conditionPollMs: 1000, ...monitorOptions },
      ),
  };
}

async function journal(store: SweepStore): Promise<StoreEvent[]> {
  return parseJournal(await Deno.readTextFile(`${store.dir}/journal.jsonl`));
}

const CKPT = (it: number, dir: string) =>
  `  [2026-11-22 10:00:00.000000] successfully saved checkpoint from iteration ${
    String(it).padStart(7)
  } to ${dir} [ t 1/1, gtp_remat 1/1, p 1/1 ]\n`;

for (const [label, opts] of POLLINGS) {
  Deno.test(`monitor: a checkpoint line fires its actions once, also after a monitor restart that lost its tail state${label}`, async () => {
    monitorOptions = opts;
    const w = await world();
    try {
      const ckpt = `${w.plan.runs[0].runDir}/checkpoints`;
      await fs.mkdirp(ckpt);
      await Deno.writeTextFile(`${ckpt}/latest_checkpointed_iteration.txt`, "10");
      await Deno.writeTextFile(w.log, CKPT(10, ckpt));
      w.fake.set("100", "running");
      let store = await w.store();
      await w.monitor(store).run();
      assertEquals(w.proc.ran.length, 1);
      assertEquals(w.proc.ran[0].argv.at(-1), w.plan.runs[0].runDir);
      assert(w.said.some((l) => l.includes("checkpoint 10 saved")), w.said.join("\n"));

      // A new monitor, as after a crash, with its tail offsets gone: reads the log again.
      await Deno.remove(`${store.dir}/monitor/watch.json`);
      store = await w.store();
      await Deno.writeTextFile(w.log, CKPT(20, ckpt), { append: true });
      await w.monitor(store).run();
      const ev = await journal(store);
      const fired = ev.filter((e) => e.type === "fired").map((e) => (e as { key: string }).key);
      assertEquals(fired.length, 2, "checkpoint 10 and 20, each once");
      assertEquals(w.proc.ran.length, 2, "the conversion of 10 was not run again");
      const done = ev.filter((e) => e.type === "action_done");
      assertEquals(done.length, 4); // LogAction + RunCommandAction per checkpoint
    } finally {
      monitorOptions = {};
      await Deno.remove(w.out, { recursive: true });
    }
  });
}

Deno.test("monitor: a crash restarts under the policy with the frozen entries, until the budget", async () => {
  const w = await world();
  try {
    let store = await w.store();
    for (let attempt = 1; attempt <= 3; attempt++) {
      const id = String(99 + attempt);
      w.fake.set(id, "failed", 1);
      store = await w.store();
      await w.monitor(store).run();
    }
    const runs = store.state.runs[w.plan.runs[0].name];
    assertEquals(runs.attempts.length, 3, "initial + 2 restarts (max_retries 2)");
    assertEquals(runs.attempts.map((a) => a.verdict), ["failed", "failed", "failed"]);
    assert(runs.attempts[2].restartDeclined?.includes("budget exhausted"));
    const intents = (await journal(store)).filter((e) => e.type === "submit_intent") as Extract<
      StoreEvent,
      { type: "submit_intent" }
    >[];
    // Restarts run exactly what the first attempt ran.
    assertEquals(new Set(intents.map((i) => i.entries)).size, 1);
    // A fourth monitor round submits nothing more.
    const before = w.fake.calls.filter((c) => c.startsWith("submit")).length;
    await w.monitor(await w.store()).run();
    assertEquals(w.fake.calls.filter((c) => c.startsWith("submit")).length, before);
  } finally {
    await Deno.remove(w.out, { recursive: true });
  }
});

Deno.test("monitor: an unreachable scheduler changes no state", async () => {
  const w = await world();
  try {
    w.fake.set("100", "running");
    let store = await w.store();
    await w.monitor(store).run();
    assertEquals(store.state.runs[w.plan.runs[0].name].attempts[0].verdict, "running");
    w.fake.query = () =>
      Promise.reject(new SchedulerError("squeue: error: Unable to contact slurm controller", {}));
    store = await w.store();
    const before = (await journal(store)).length;
    await w.monitor(store).run();
    assertEquals((await journal(store)).length, before, "nothing journaled");
    assert(w.said.some((l) => l.includes("keeping the last known states")));
  } finally {
    await Deno.remove(w.out, { recursive: true });
  }
});

Deno.test("monitor: a scheduler that does not answer holds up no log event or action", async () => {
  const w = await world();
  try {
    const ckpt = `${w.plan.runs[0].runDir}/checkpoints`;
    await fs.mkdirp(ckpt);
    await Deno.writeTextFile(`${ckpt}/latest_checkpointed_iteration.txt`, "10");
    w.fake.set("100", "running");
    // squeue hangs (slurmctld down: each call blocks, retried for a minute) until released.
    let release = () => {};
    const gate = new Promise<void>((res) => release = res);
    const query = w.fake.query.bind(w.fake);
    let answered = 0;
    w.fake.query = async (req) => {
      await gate;
      answered++;
      return query(req);
    };
    const store = await w.store();
    const monitor = new Monitor(
      {
        fs,
        scheduler: w.fake,
        proc: w.proc,
        tails: denoTailSource(),
        now: () => w.clock.t,
        sleep: (ms) => {
          w.clock.t += ms;
          return new Promise((res) => setTimeout(res, 5));
        },
        say: (l) => w.said.push(l),
      },
      store,
      { plan: w.plan, monitor: w.monitorFile },
      { conditionPollMs: 10 },
    );
    const done = monitor.run();
    await Deno.writeTextFile(w.log, CKPT(10, ckpt));
    for (let i = 0; i < 400 && w.proc.ran.length === 0; i++) {
      await new Promise((res) => setTimeout(res, 25));
    }
    // The checkpoint's log action and conversion ran while the query still hung.
    assert(w.said.some((l) => l.includes("checkpoint 10 saved")), w.said.join("\n"));
    assertEquals(w.proc.ran.length, 1);
    assertEquals(answered, 0);
    // The controller answers again: the job has completed meanwhile; the monitor ends.
    w.fake.set("100", "completed", 0);
    release();
    const summary = await done;
    assertEquals(summary.done, true);
    assertEquals(store.state.runs[w.plan.runs[0].name].attempts[0].verdict, "completed");
  } finally {
    await Deno.remove(w.out, { recursive: true });
  }
});

for (const [label, opts] of POLLINGS) {
  Deno.test(`monitor: a stalled attempt is cancelled and restarted; noise lines are no progress${label}`, async () => {
    monitorOptions = opts;
    const w = await world([
      "monitoring.inactivity_threshold_seconds=60",
      "restart_policies=[{mode: stall, implementation: {class_name: AlwaysRestartPolicy, max_retries: 1}}]",
    ]);
    try {
      w.fake.set("100", "running");
      await Deno.writeTextFile(w.log, " [x] iteration        1/      30 | lm loss: 1.0E+00 |\n");
      let store = await w.store();
      await w.monitor(store).run();
      // Only `srun: error:` chatter for two minutes.
      for (let i = 0; i < 4; i++) {
        w.clock.t += 30_000;
        await Deno.writeTextFile(w.log, "srun: error: task 0: Exited\n", { append: true });
        store = await w.store();
        await w.monitor(store).run();
      }
      const a1 = store.state.runs[w.plan.runs[0].name].attempts[0];
      assert(a1.cancelRequested?.startsWith("stalled: "), JSON.stringify(a1));
      assertEquals(w.fake.jobs.get("100")!.state, "cancelled");
      store = await w.store();
      await w.monitor(store).run();
      const runs = store.state.runs[w.plan.runs[0].name];
      assertEquals(runs.attempts.length, 2);
      assertEquals(runs.attempts[0].restart?.mode, "stall");
    } finally {
      monitorOptions = {};
      await Deno.remove(w.out, { recursive: true });
    }
  });
}

Deno.test("monitor: a run the user cancelled is neither restarted nor given derived runs", async () => {
  const w = await world();
  try {
    let store = await w.store();
    const release = await store.lock("test");
    await store.append({
      type: "cancel_requested",
      run: w.plan.runs[0].name,
      attempt: 1,
      why: USER_CANCEL,
    });
    await release();
    w.fake.set("100", "failed", 1); // would be a crash with a restart policy
    store = await w.store();
    await w.monitor(store).run();
    const run = store.state.runs[w.plan.runs[0].name];
    assertEquals(run.attempts.length, 1);
    assertEquals(run.attempts[0].restartDeclined, "cancelled by the user");
  } finally {
    await Deno.remove(w.out, { recursive: true });
  }
});

Deno.test("monitor: PENDING -> RUNNING -> requeued by SLURM -> RUNNING -> COMPLETED is one attempt", async () => {
  const w = await world();
  try {
    const seen: string[] = [];
    for (const state of ["pending", "running", "requeued", "running", "completed"] as const) {
      w.fake.set("100", state, state === "completed" ? 0 : undefined);
      const store = await w.store();
      await w.monitor(store).run();
      const a = store.state.runs[w.plan.runs[0].name].attempts[0];
      if (seen.at(-1) !== a.verdict) seen.push(a.verdict!);
    }
    assertEquals(seen, ["pending", "running", "pending", "running", "completed"]);
    const store = await w.store();
    const run = store.state.runs[w.plan.runs[0].name];
    assertEquals(run.attempts.length, 1, "SLURM's requeue is not a new attempt");
    assertEquals(w.fake.calls.filter((c) => c.startsWith("submit")).length, 1);
  } finally {
    await Deno.remove(w.out, { recursive: true });
  }
});

Deno.test("monitor: seed 000's log signal runs its named action with the checkpoint path", async () => {
  const w = await world([], "seed000");
  try {
    w.fake.set("100", "running");
    await Deno.writeTextFile(w.log, "step 100 done\nCheckpoint saved: /ckpt/model_100.pt\n");
    const store = await w.store();
    await w.monitor(store).run();
    assertEquals(w.proc.ran.length, 1, w.said.join("\n"));
    // The named command string runs under /bin/sh -c (after the action wrapper's arguments).
    assertEquals(w.proc.ran[0].argv.slice(-3), [
      "/bin/sh",
      "-c",
      "python tools/convert.py /ckpt/model_100.pt",
    ]);
    // Its crash policy says "manual intervention required".
    w.fake.set("100", "failed", 1);
    const again = await w.store();
    await w.monitor(again).run();
    const a = again.state.runs[w.plan.runs[0].name].attempts[0];
    assert(a.restartDeclined?.includes("manual intervention required"), JSON.stringify(a));
  } finally {
    await Deno.remove(w.out, { recursive: true });
  }
});

Deno.test("monitor: a preempted job with --requeue is waited for, not restarted twice", async () => {
  const policy =
    "restart_policies=[{mode: preempted, implementation: {class_name: AlwaysRestartPolicy, max_retries: 3}}]";
  for (const requeue of [true, false]) {
    const w = await world([`slurm.sbatch.requeue=${requeue}`, policy]);
    try {
      w.fake.set("100", "running");
      await w.monitor(await w.store()).run();
      w.fake.set("100", "preempted");
      let store = await w.store();
      await w.monitor(store).run();
      if (!requeue) {
        // Nothing brings it back: the policy restarts it.
        assertEquals(store.state.runs[w.plan.runs[0].name].attempts.length, 2);
        continue;
      }
      const a = store.state.runs[w.plan.runs[0].name].attempts[0];
      assertEquals([a.verdict, a.verdictFinal], ["pending", false]);
      // SLURM requeues it (same job id), it runs and completes.
      for (const state of ["pending", "running", "completed"] as const) {
        w.fake.set("100", state, state === "completed" ? 0 : undefined);
        store = await w.store();
        await w.monitor(store).run();
      }
      const run = store.state.runs[w.plan.runs[0].name];
      assertEquals(run.attempts.length, 1, JSON.stringify(run.attempts));
      assertEquals(run.attempts[0].verdict, "completed");
    } finally {
      await Deno.remove(w.out, { recursive: true });
    }
  }
});

Deno.test("monitor: a start-condition command that hangs holds up no round (it runs beside them)", async () => {
  const w = await world([
    "+monitoring.start_conditions=[{command: 'sleep 999', timeout_seconds: 999}]",
  ]);
  try {
    let release = () => {};
    w.proc.run = (argv, opts) => {
      w.proc.ran.push({ argv, opts });
      return new Promise((res) => {
        release = () => res({ code: 0, stdout: "", stderr: "", timedOut: false });
      });
    };
    w.fake.set("100", "running");
    const store = await w.store();
    const monitor = w.monitor(store);
    // One round returns although the command has not answered.
    const done = await Promise.race([
      monitor.run().then(() => "returned"),
      new Promise((res) => setTimeout(() => res("blocked"), 5000)),
    ]);
    assertEquals(done, "returned");
    assertEquals(w.proc.ran.filter((r) => r.argv.join(" ").includes("sleep 999")).length, 1);
    release();
  } finally {
    await Deno.remove(w.out, { recursive: true });
  }
});
