/**
 * Benchmark of the monitor (issue figures):
 *
 * 1. One round over 1,000 tracked runs (one job array, every task running, every log gaining an
 *    iteration line per round): scheduler calls per round, CPU time of the round outside the
 *    scheduler (the scheduler here answers from memory), wall time, and memory.
 * 2. Delay from a checkpoint line written to a log on the local disk to its RunCommandAction
 *    starting, with file watching (a workstation) and with polling only (cluster file systems).
 *
 *   deno run -A bench/monitor_round.ts
 */
import process from "node:process";
import { Monitor, type MonitorDeps } from "../lib/monitor/monitor.ts";
import { writePlan } from "../lib/render/tree.ts";
import { DenoFileSystem } from "../lib/runtime/fs.ts";
import type { CommandResult, ProcessRunner } from "../lib/runtime/mod.ts";
import { denoTailSource } from "../lib/runtime/tail_source.ts";
import { watchPaths } from "../lib/runtime/watch.ts";
import type { Scheduler } from "../lib/scheduler/types.ts";
import { FakeScheduler } from "../tests/_fake_scheduler.ts";
import { SweepStore } from "../lib/store/store.ts";
import { submitSweep } from "../lib/submit/mod.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const fs = new DenoFileSystem();

/** The tests' in-memory scheduler, every task set running; queries are counted from its calls. */
function memoryScheduler(): FakeScheduler & { queries: () => number; arrays: () => string[] } {
  const fake = new FakeScheduler();
  return Object.assign(fake, {
    queries: () => fake.calls.filter((c) => c === "query").length,
    arrays: () => [...fake.jobs.keys()],
  });
}

function running(fake: FakeScheduler): void {
  for (const id of fake.jobs.keys()) fake.set(id, "running");
}

function host(out: string) {
  return {
    env: { AUTOEXP_OUTPUT_DIR: out },
    hostname: () => "bench",
    cwd: () => out,
    now: () => new Date(),
    color: false,
    pid: () => Deno.pid,
    selfCommand: () => ["/usr/bin/autoexp"],
  };
}

/** Records when each command was started. */
class TimedProc implements ProcessRunner {
  readonly started: number[] = [];
  run(): Promise<CommandResult> {
    this.started.push(performance.now());
    return Promise.resolve({ code: 0, stdout: "", stderr: "", timedOut: false });
  }
}

async function setup(n: number, extra: string[] = []) {
  const out = await Deno.makeTempDir({ prefix: "autoexp-bench-monitor-" });
  const h = host(out) as never;
  const overrides = [
    "slurm.array=true",
    ...(n > 1 ? [`backend.args.train_iters=range(1,${n + 1})`] : []),
    ...extra,
  ];
  const outcome = await writePlan(
    { configDir: `${ROOT}/tests/testdata/monitor`, overrides, multirun: n > 1 },
    { fs, host: h },
  );
  const scheduler = memoryScheduler();
  const store = await SweepStore.open(fs, h, outcome.plan.sweep.dir);
  await submitSweep(outcome.plan, store, scheduler, { fs });
  running(scheduler);
  return { out, outcome, scheduler, store };
}

function deps(
  scheduler: Scheduler,
  proc: ProcessRunner,
  watch: MonitorDeps["watch"],
): MonitorDeps {
  return {
    fs,
    scheduler,
    proc,
    tails: denoTailSource(),
    now: () => Date.now(),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    watch,
    say: () => {},
  };
}

const iterLine = (i: number) =>
  ` [2026-11-22 10:00:00.000000] iteration ${String(i).padStart(8)}/      30 | consumed samples: ${
    String(i * 8).padStart(12)
  } | elapsed time per iteration (ms): 100.0 | learning rate: 1.000000E-04 | global batch size:     8 | lm loss: 5.000000E+00 | loss scale: 1.0 | grad norm: 1.234 | number of skipped iterations:   0 | number of nan iterations:   0 |\n`;

async function roundBench(): Promise<void> {
  const N = 1000;
  const { out, outcome, scheduler, store } = await setup(N);
  const plan = outcome.plan;
  const group = plan.groups[0].id;
  const arrayId = scheduler.arrays()[0];
  const logs = plan.runs.map((r) => `${plan.sweep.dir}/logs/${group}/${arrayId}_${r.index}.log`);
  await fs.mkdirp(`${plan.sweep.dir}/logs/${group}`);
  for (const l of logs) await Deno.writeTextFile(l, iterLine(1));
  const monitor = new Monitor(deps(scheduler, new TimedProc(), undefined), store, {
    plan,
    monitor: outcome.monitor,
  });
  await monitor.round(); // first round: verdicts for 1,000 attempts are journaled
  await monitor.round();
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  let it = 2;
  for (const growing of [0, 100, N]) {
    const cpu: number[] = [], wall: number[] = [], calls: number[] = [];
    for (let k = 0; k < 15; k++, it++) {
      for (const l of logs.slice(0, growing)) {
        await Deno.writeTextFile(l, iterLine(it), { append: true });
      }
      const q0 = scheduler.queries();
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await monitor.round();
      wall.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
      calls.push(scheduler.queries() - q0);
    }
    console.log(
      `round over ${N} running runs, ${growing} logs grew: scheduler queries ${
        Math.max(...calls)
      }, CPU median ${med(cpu).toFixed(1)} ms (max ${Math.max(...cpu).toFixed(1)}), ` +
        `wall median ${med(wall).toFixed(1)} ms`,
    );
  }
  const mem = Deno.memoryUsage();
  console.log(
    `memory after ${it} rounds: rss ${(mem.rss / 2 ** 20).toFixed(0)} MB, heap used ${
      (mem.heapUsed / 2 ** 20).toFixed(0)
    } MB`,
  );
  await Deno.remove(out, { recursive: true });
}

async function latencyBench(watch: boolean): Promise<void> {
  const { out, outcome, scheduler, store } = await setup(1, [
    "monitoring.log_poll_seconds=1",
  ]);
  const plan = outcome.plan;
  const run = plan.runs[0];
  const arrayId = scheduler.arrays()[0];
  const log = `${plan.sweep.dir}/logs/${plan.groups[0].id}/${arrayId}_0.log`;
  await fs.mkdirp(`${plan.sweep.dir}/logs/${plan.groups[0].id}`);
  await Deno.writeTextFile(log, iterLine(1));
  const ckpt = `${run.runDir}/checkpoints`;
  await fs.mkdirp(ckpt);
  await Deno.writeTextFile(`${ckpt}/latest_checkpointed_iteration.txt`, "0");
  const proc = new TimedProc();
  const monitor = new Monitor(
    deps(scheduler, proc, watch ? watchPaths : undefined),
    store,
    { plan, monitor: outcome.monitor },
    { minIntervalMs: 60_000, maxIntervalMs: 60_000 },
  );
  const running = monitor.run();
  await new Promise((r) => setTimeout(r, 500));
  const delays: number[] = [];
  for (let i = 1; i <= 15; i++) {
    const before = proc.started.length;
    const t0 = performance.now();
    await Deno.writeTextFile(
      log,
      `  [2026-11-22 10:00:00.000000] successfully saved checkpoint from iteration ${
        String(i * 10).padStart(7)
      } to ${ckpt} [ t 1/1, gtp_remat 1/1, p 1/1 ]\n`,
      { append: true },
    );
    while (proc.started.length === before) await new Promise((r) => setTimeout(r, 2));
    delays.push(proc.started[before] - t0);
    await new Promise((r) => setTimeout(r, 100 + Math.random() * 400));
  }
  delays.sort((a, b) => a - b);
  console.log(
    `log line -> action start (${watch ? "file watching + polling" : "polling only, 1 s"}): ` +
      `median ${delays[7].toFixed(0)} ms, max ${delays[14].toFixed(0)} ms over 15 lines`,
  );
  // Stop: the run is never done; end the process after the report.
  void running;
  await Deno.remove(out, { recursive: true }).catch(() => {});
}

await roundBench();
await latencyBench(true);
await latencyBench(false);
Deno.exit(0);
