/**
 * autoexp's entry point: argv in, exit code out. The only place an error becomes an exit code:
 * user mistakes exit 2 with a message (no stack trace), scheduler failures exit 1, anything
 * unexpected exits 1 asking for a bug report.
 *
 * @module
 */
import {
  ConfigError,
  ExitCode,
  fileSystemProblem,
  HelpShown,
  InterruptedError,
  OutcomeError,
  SchedulerError,
  UsageError,
} from "./lib/errors.ts";
import { denoRuntime, exitProcess, processArgs, type Runtime } from "./lib/runtime/mod.ts";

async function main(): Promise<number> {
  const argv = processArgs();
  let runtime: Runtime | undefined;
  const rt = () => (runtime ??= denoRuntime());
  try {
    if (argv[0] === "run-entry") {
      // The dispatcher inside every job: a small import graph, no config or CLI libraries.
      const { runEntry } = await import("./lib/cli/run_entry.ts");
      return await runEntry(argv.slice(1));
    }
    if (argv[0] === "local-exec") {
      // The detached supervisor of one local-scheduler job: a small import graph too.
      const { runLocalExec } = await import("./lib/cli/local_exec.ts");
      return await runLocalExec(argv.slice(1));
    }
    const { runCli } = await import("./lib/cli/app.ts");
    await runCli(argv, rt);
    return ExitCode.ok;
  } catch (e) {
    const r = rt();
    if (!r.host.errorColor) return reportError(e, r);
    // On a terminal the prefix and a config error's caret are red (style.ts is loaded only then).
    const { paintError } = await import("./lib/cli/style.ts");
    return reportError(e, {
      ...r,
      output: { ...r.output, err: (t) => r.output.err(paintError(t)) },
    });
  }
}

function reportError(e: unknown, rt: Runtime): number {
  if (e instanceof HelpShown) return ExitCode.ok;
  if (e instanceof UsageError) {
    rt.output.err(`autoexp: ${e.message}\n`);
    return ExitCode.usage;
  }
  if (e instanceof ConfigError) {
    rt.output.err(`autoexp: ${e.message}\n`);
    return ExitCode.usage;
  }
  if (e instanceof InterruptedError) {
    rt.output.err(`\nautoexp: ${e.message}\n`);
    return 130;
  }
  if (e instanceof SchedulerError && e.details.rejectedKey) {
    rt.output.err(`autoexp: ${e.message}\n`);
    return ExitCode.usage;
  }
  if (e instanceof SchedulerError || e instanceof OutcomeError) {
    rt.output.err(`autoexp: ${e.message}\n`);
    return ExitCode.failure;
  }
  const fsProblem = fileSystemProblem(e);
  if (fsProblem) {
    rt.output.err(`autoexp: ${fsProblem}\n`);
    return ExitCode.usage;
  }
  const err = e as Error;
  rt.output.err(
    `autoexp: internal error: ${err?.message ?? String(e)}\n` +
      `This is a bug in autoexp. Please report it with the command you ran and this trace:\n${
        err?.stack ?? ""
      }\n`,
  );
  return ExitCode.failure;
}

if (import.meta.main) exitProcess(await main());
