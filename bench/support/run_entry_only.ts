/**
 * Entry point with only the run-entry path, bundled by bench/plan_cli.sh to measure the
 * dispatcher's start-up the way the compiled binary pays it (it loads modules lazily, so a job
 * never evaluates the config or CLI libraries).
 */
import { runEntry } from "../../lib/cli/run_entry.ts";

Deno.exit(await runEntry(Deno.args.slice(1)));
