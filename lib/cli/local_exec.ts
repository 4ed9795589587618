/**
 * `autoexp local-exec --root DIR --job ID`: the detached supervisor of one job of the embedded
 * local scheduler (started by `LocalScheduler.submit`, never by users). The real OS layer
 * it runs on is `lib/runtime/local_os.ts`.
 *
 * Kept free of the config and CLI libraries: one supervisor process runs per local job.
 *
 * @module
 */
import { superviseJob } from "../scheduler/_local_supervisor.ts";
import { denoLocalSystem } from "../runtime/local_os.ts";

function usage(): string {
  return "Usage: autoexp local-exec --root DIR --job ID\n\n" +
    "Supervises one job of the embedded local scheduler (started by autoexp itself).";
}
import { defaultLocalRoot } from "../scheduler/_local_store.ts";

/** Runs the supervisor of one local job; returns the exit code. */
export async function runLocalExec(args: string[]): Promise<number> {
  let root = "";
  let job = NaN;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--root") root = args[++i] ?? "";
    else if (a.startsWith("--root=")) root = a.slice(7);
    else if (a === "--job") job = Number(args[++i]);
    else if (a.startsWith("--job=")) job = Number(a.slice(6));
    else if (a === "-h" || a === "--help") {
      console.log(usage());
      return 0;
    } else {
      console.error(`autoexp local-exec: unknown argument "${a}"\n${usage()}`);
      return 2;
    }
  }
  if (!root) root = defaultLocalRoot(Deno.env.toObject());
  if (!Number.isInteger(job) || job < 1) {
    console.error(`autoexp local-exec: --job must be a job id\n${usage()}`);
    return 2;
  }
  const log = (line: string) => console.error(`${new Date().toISOString()} ${line}`);
  return await superviseJob(denoLocalSystem(), root, job, log);
}
