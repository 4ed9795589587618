/**
 * The error classes autoexp distinguishes. `main.ts` is the only place that turns them into
 * exit codes: user mistakes (`UsageError`, `ConfigError`) exit 2 without a stack trace,
 * scheduler failures exit 1, anything else is an internal error that asks for a report.
 *
 * @module
 */

/** A bad command line: unknown option, missing argument, conflicting flags. Exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** One problem found in the configuration, with everything needed to find and fix it. */
export interface ConfigProblem {
  /** Dotted key path, e.g. `slurm.sbatch.time`; empty for file-level problems. */
  readonly path: string;
  /** What is wrong, written for the user (the value quoted). */
  readonly message: string;
  /** The file the offending value came from, when known. */
  readonly file?: string;
  /** 1-based line and column in `file`, when known. */
  readonly line?: number;
  readonly column?: number;
  /** Extra lines shown under the problem: the offending source line, a suggestion. */
  readonly hint?: string;
}

/**
 * One or more configuration problems, reported together. Exit code 2.
 *
 * The message lists every problem as `file:line:col: key.path: message`, so a user fixes all of
 * them in one go instead of one per run.
 */
export class ConfigError extends Error {
  override name = "ConfigError";
  readonly problems: readonly ConfigProblem[];

  constructor(problems: ConfigProblem | readonly ConfigProblem[], options?: ErrorOptions) {
    const list = Array.isArray(problems) ? problems : [problems as ConfigProblem];
    super(formatProblems(list), options);
    this.problems = list;
  }
}

/** A scheduler command failed. `transient` says whether retrying can help. Exit code 1. */
export class SchedulerError extends Error {
  override name = "SchedulerError";
  constructor(
    message: string,
    readonly details: {
      readonly argv?: readonly string[];
      readonly exitCode?: number;
      readonly stderr?: string;
      readonly transient?: boolean;
      /** The submission may have been made despite the error (a timeout): settle it by tag. */
      readonly maybeSubmitted?: boolean;
    } = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** Formats one problem as a single block: `where: what` plus an indented hint. */
export function formatProblem(p: ConfigProblem): string {
  const where: string[] = [];
  if (p.file) {
    where.push(
      p.line !== undefined
        ? `${p.file}:${p.line}${p.column !== undefined ? `:${p.column}` : ""}`
        : p.file,
    );
  }
  if (p.path) where.push(p.path);
  const head = where.length ? `${where.join(": ")}: ${p.message}` : p.message;
  if (!p.hint) return head;
  return `${head}\n${p.hint.split("\n").map((l) => `    ${l}`).join("\n")}`;
}

function formatProblems(list: readonly ConfigProblem[]): string {
  if (list.length === 1) return formatProblem(list[0]);
  return `${list.length} configuration problems:\n` +
    list.map((p) => `  - ${formatProblem(p).replaceAll("\n", "\n    ")}`).join("\n");
}

/**
 * The command ran but its outcome is a failure the user should see without a stack trace
 * (runs that did not complete). Exit code 1.
 */
export class OutcomeError extends Error {
  override name = "OutcomeError";
}

/** The user interrupted (Ctrl-C) a command that follows something: exit code 130. */
export class InterruptedError extends Error {
  override name = "InterruptedError";
}

/** Thrown after help or the version was printed: exit 0 without further output. */
export class HelpShown extends Error {
  override name = "HelpShown";
}

/** Exit codes of the command-line contract. */
export const ExitCode = { ok: 0, failure: 1, usage: 2 } as const;
