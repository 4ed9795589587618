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
import type { SweepStore } from "../lib/store/store.ts";
import { FakeScheduler } from "../tests/_fake_scheduler.ts";

const fs = new DenoFileSystem();

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
