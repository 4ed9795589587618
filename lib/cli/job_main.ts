/**
 * The job side's entry point in the single file: `run-entry` and `local-exec` only. The single
 * file carries two bundles, `autoexp.js` (main.ts, the whole program) and `autoexp-job.js` (this
 * module), and its start-up script picks this one for those two commands, so a job on a compute
 * node parses ~30 KB instead of the whole program. Like main.ts, this is where an unexpected error
 * becomes exit code 1 with a request to report it.
 *
 * @module
 */
import { runEntry } from "./run_entry.ts";
import { runLocalExec } from "./local_exec.ts";

/** Runs `run-entry ...` or `local-exec ...`; returns the exit code. */
export async function runJobSide(argv: readonly string[]): Promise<number> {
  // Set by the single file's start-up script for this process only, not for the job's command.
  Deno.env.delete("AUTOEXP_SELF");
  try {
    if (argv[0] === "run-entry") return await runEntry(argv.slice(1));
    if (argv[0] === "local-exec") return await runLocalExec(argv.slice(1));
    console.error(`autoexp: the job entry point runs run-entry or local-exec, not "${argv[0]}"`);
    return 2;
  } catch (e) {
    const err = e as Error;
    console.error(
      `autoexp ${argv[0]}: internal error: ${err?.message ?? String(e)}\n` +
        `This is a bug in autoexp. Please report it with this trace:\n${err?.stack ?? ""}`,
    );
    return 1;
  }
}

if (import.meta.main) Deno.exit(await runJobSide(Deno.args));
