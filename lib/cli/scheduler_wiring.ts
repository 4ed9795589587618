/**
 * Builds the real scheduler of a kind for the commands that talk to one (submit, monitor,
 * status, cancel): SLURM through the process runner, or the embedded local scheduler. Loaded
 * lazily, so commands that need no scheduler do not parse either.
 *
 * @module
 */
import type { Runtime } from "../runtime/mod.ts";
import type { Scheduler } from "../scheduler/types.ts";

/** Builds the scheduler of a kind (SLURM through the process runner, or the local one). */
export async function makeScheduler(kind: "slurm" | "local", rt: Runtime): Promise<Scheduler> {
  if (kind === "slurm") {
    const { SlurmScheduler } = await import("../scheduler/slurm.ts");
    const { denoQueueCache } = await import("../runtime/queue_cache.ts");
    // Every autoexp of this user shares one squeue answer per interval (AUTOEXP_SHARED_QUEUE=0: not).
    const queueCache = await denoQueueCache(rt.host.env, rt.fs);
    return new SlurmScheduler({
      runner: rt.proc,
      onRetry: (msg: string) => rt.output.err(`autoexp: ${msg}\n`),
      ...(queueCache ? { queueCache } : {}),
    });
  }
  const { LocalScheduler } = await import("../scheduler/local.ts");
  const { denoLocalSystem } = await import("../runtime/local_os.ts");
  return new LocalScheduler({ selfCommand: rt.host.selfCommand(), sys: denoLocalSystem() });
}
