/**
 * The command line: builds the commander program with every command and runs it. Errors are
 * thrown to `main.ts`, the only place that turns them into exit codes.
 *
 * @module
 */
import { Command, CommanderError } from "@commander-js/extra-typings";
import { HelpShown, UsageError } from "../errors.ts";
import type { Runtime } from "../runtime/mod.ts";
import { VERSION } from "../version.ts";
import { registerConfig } from "./config_cmd.ts";
import { registerPlan } from "./plan_cmd.ts";
import { registerSubmit } from "./submit_cmd.ts";
import { registerCancel } from "./cancel_cmd.ts";
import { registerStatus } from "./status_cmd.ts";
import { registerHistory } from "./history_cmd.ts";
import { registerResults } from "./results_cmd.ts";
import { registerReport } from "./report_cmd.ts";
import { registerMonitor } from "./monitor_cmd.ts";
import { registerPlatform } from "./platform_cmd.ts";
import { registerSelfCheck, renderVersion } from "./self_check_cmd.ts";
import { programInfo } from "../runtime/host.ts";
import { registerCompletion } from "./completion_cmd.ts";

/** Builds the program. `rt` is called lazily so `--help` does no I/O. */
export function buildProgram(rt: () => Runtime): Command {
  const program = new Command()
    .name("autoexp")
    .description(
      "Orchestrate ML experiments on SLURM clusters: compose configs, expand sweeps, render and " +
        "submit sbatch and array scripts, and follow every run until it has ended.",
    )
    .version(VERSION, "-V, --version", "print the version")
    .helpOption("-h, --help", "show help")
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => rt().output.out(s),
      writeErr: (s) => rt().output.err(s),
      outputError: () => {/* main.ts prints errors */},
    })
    .addCommand(
      new Command("run-entry")
        .description("inside a job: run sweep entry N (what job scripts call)")
        .usage("--sweep FILE --index N [--dry-run]")
        .allowUnknownOption()
        .helpOption(false),
      { hidden: true },
    )
    .addHelpText(
      "after",
      `
Exit codes: 0 ok, 1 failure, 2 usage or config error. NO_COLOR is honoured.
Docs: README.md (config tour, recipes, troubleshooting).`,
    );
  registerPlan(program, rt);
  registerSubmit(program, rt);
  registerMonitor(program, rt);
  registerStatus(program, rt);
  registerHistory(program, rt);
  registerResults(program, rt);
  registerReport(program, rt);
  registerCancel(program, rt);
  registerConfig(program, rt);
  registerPlatform(program, rt);
  registerSelfCheck(program, rt);
  registerCompletion(program, rt);
  for (const c of program.commands) {
    c.exitOverride().configureOutput({
      writeOut: (s) => rt().output.out(s),
      writeErr: (s) => rt().output.err(s),
      outputError: () => {},
    }).showSuggestionAfterError(true);
  }
  return program;
}

/** Runs the command line. Resolves when the command finished; throws on errors. */
export async function runCli(argv: readonly string[], rt: () => Runtime): Promise<void> {
  const program = buildProgram(rt);
  if (argv.length === 0) {
    rt().output.out(program.helpInformation());
    return;
  }
  if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-V")) {
    // The version, and which runtime and target this autoexp is.
    rt().output.out(renderVersion(programInfo()));
    return;
  }
  try {
    await program.parseAsync([...argv], { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (
        e.code === "commander.helpDisplayed" || e.code === "commander.version" ||
        e.code === "commander.help"
      ) {
        throw new HelpShown();
      }
      throw new UsageError(`${e.message.replace(/^error: /, "")}\n(see autoexp --help)`);
    }
    throw e;
  }
}
