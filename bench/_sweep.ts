/**
 * What the monitor benchmarks share: a host, processes that end at once, the monitor's ports
 * and the in-memory scheduler of a submitted sweep with every job running.
 *
 * @module
 */
import type { MonitorDeps } from "../lib/monitor/monitor.ts";
import { DenoFileSystem } from "../lib/runtime/fs.ts";
import type { CommandResult, ProcessRunner } from "../lib/runtime/mod.ts";
import { denoTailSource } from "../lib/runtime/tail_source.ts";
import { SweepStore } from "../lib/store/store.ts";
import { latestAttempt } from "../lib/store/state.ts";
import { attemptLogPath } from "../lib/plan/paths.ts";
import { writePlan } from "../lib/render/tree.ts";
import { submitSweep } from "../lib/submit/mod.ts";
import { FakeScheduler } from "../tests/_fake_scheduler.ts";

const fs = new DenoFileSystem();
const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

export function host(out: string) {
  return {
    env: { AUTOEXP_OUTPUT_DIR: out },
    hostname: () => "bench",
    cwd: () => out,
    now: () => new Date(),
    color: false,
    pid: Deno.pid,
    selfCommand: () => ["/usr/bin/autoexp"],
  } as never;
}

/** Commands exit 0 at once. */
export class InstantProc implements ProcessRunner {
  run(): Promise<CommandResult> {
    return Promise.resolve({ code: 0, stdout: "", stderr: "", timedOut: false });
  }
}

export function deps(scheduler: FakeScheduler): MonitorDeps {
  return {
    fs,
    scheduler,
    proc: new InstantProc(),
    tails: denoTailSource(),
    now: () => Date.now(),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    say: () => {},
  };
}

/** The in-memory scheduler of a sweep submitted earlier: every job and task running. */
export function runningScheduler(store: SweepStore): FakeScheduler {
  const fake = new FakeScheduler();
  for (const intent of Object.values(store.state.intents)) {
    if (!intent.jobId) continue;
    const tasks = new Map<number, { state: "running" }>();
    for (const name of intent.runs) {
      const a = store.state.runs[name]?.attempts.find((x) => x.intent === intent.seq);
      if (a?.taskId !== undefined) tasks.set(a.taskId, { state: "running" });
    }
    fake.jobs.set(intent.jobId, {
      id: intent.jobId,
      request: { script: "", cwd: "", jobName: "", comment: intent.comment },
      state: "running",
      ...(intent.array !== undefined ? { tasks } : {}),
    });
  }
  return fake;
}

/**
 * A sweep of `runs` points of the monitor test config, planned into `out`, submitted to an
 * in-memory scheduler with every job running, and each run's log created (where the monitor
 * looks for it) with `firstLine`. The store is locked; release it when done.
 */
export async function runningSweep(out: string, runs: number, firstLine: string) {
  const h = host(out);
  const outcome = await writePlan(
    {
      configDir: `${ROOT}/tests/testdata/monitor`,
      overrides: ["slurm.array=true", `backend.args.train_iters=range(100000,${100000 + runs})`],
      multirun: true,
    },
    { fs, host: h },
  );
  const plan = outcome.plan;
  const store = await SweepStore.open(fs, h, plan.sweep.dir);
  const release = await store.lock("bench");
  const scheduler = new FakeScheduler();
  await submitSweep(plan, store, scheduler, { fs });
  for (const id of scheduler.jobs.keys()) scheduler.set(id, "running");
  const logs: string[] = [];
  for (const r of plan.runs) {
    const log = attemptLogPath(plan, r, latestAttempt(store.state.runs[r.name])!)!;
    await fs.mkdirp(log.replace(/\/[^/]*$/, ""));
    await Deno.writeTextFile(log, firstLine);
    logs.push(log);
  }
  return { plan, monitorFile: outcome.monitor, store, release, scheduler, logs };
}
