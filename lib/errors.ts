/**
 * The error classes autoexp distinguishes. `main.ts` is the only place that turns them into
 * exit codes: user mistakes (`UsageError`, `ConfigError`, a file or disk the user must fix:
 * {@link fileSystemProblem}) exit 2 without a stack trace,
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

/**
 * A scheduler command failed. `transient` says whether retrying can help. Exit code 1, or 2 when
 * the scheduler refused a setting of the user's (`rejectedKey`).
 */
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
      /**
       * The scheduler refused a setting of the user's (an unknown partition): a mistake to fix,
       * exit code 2. The config key it comes from.
       */
      readonly rejectedKey?: string;
      /** The sbatch option of `rejectedKey` (`partition`), to show the value asked for. */
      readonly rejectedOption?: string;
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
  // An override's problem quotes the override, which names the key: say it once.
  if (p.path && !(p.message.startsWith("-o ") && p.message.includes(p.path))) where.push(p.path);
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

/** What the user can do about an OS error, by errno (errors of the user's files and disks). */
const OS_ERRORS: Readonly<Record<number, string>> = {
  1: "operation not permitted: check the owner and permissions, or choose another place",
  2: "no such file or directory",
  13: "permission denied: check the owner and permissions, or choose another place",
  20: "a part of the path is not a directory",
  21: "it is a directory",
  28: "no space left on the device: free some space (or choose another place) and run " +
    "the same command again: it continues where it stopped",
  30: "the file system is read-only: choose a writable place (project.base_output_dir)",
  122: "the disk quota is exceeded: free some space (or choose another place) and run " +
    "the same command again: it continues where it stopped",
};

/** Deno's words for file operations, as the user would say them. */
const OS_OPS: Readonly<Record<string, string>> = {
  mkdir: "create the directory",
  open: "open",
  readdir: "read the directory",
  rename: "rename",
  remove: "remove",
  stat: "look at",
  lstat: "look at",
  realpath: "find",
  copy: "copy",
  chmod: "change the mode of",
  write: "write",
  read: "read",
  symlink: "link",
};

/**
 * A file-system error the user must fix (permissions, a read-only or full disk, a missing
 * directory), as one sentence naming the path and what autoexp was doing; null for anything
 * else. Deno's errors read `Permission denied (os error 13): mkdir '/path'`.
 */
export function fileSystemProblem(e: unknown): string | null {
  if (!(e instanceof Error)) return null;
  const m = e.message.match(/\(os error (\d+)\): (\w+) '([^']*)'(?: -> '([^']*)')?/);
  if (!m) return null;
  const why = OS_ERRORS[Number(m[1])];
  if (!why) return null;
  const op = OS_OPS[m[2]] ?? m[2];
  const target = m[4] ? `${m[3]} to ${m[4]}` : m[3];
  return `cannot ${op} ${target}: ${why}`;
}
