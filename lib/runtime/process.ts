/**
 * Running programs: the one place autoexp spawns processes (house style: dax's single tiny
 * interface, so fakes are one-liners).
 *
 * @module
 */

/** The outcome of a finished command. */
export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** True when the command was killed because it ran past `timeoutMs`. */
  readonly timedOut: boolean;
}

/** Options of {@link ProcessRunner.run}. */
export interface RunOptions {
  readonly cwd?: string;
  /** Extra environment variables (added to the process environment). */
  readonly env?: Readonly<Record<string, string>>;
  readonly stdin?: string;
  readonly timeoutMs?: number;
}

/** Runs a command to completion and captures its output. */
export interface ProcessRunner {
  run(argv: readonly string[], opts?: RunOptions): Promise<CommandResult>;
}

/** The real runner. A missing executable resolves with code 127 and a message in stderr. */
export class DenoProcessRunner implements ProcessRunner {
  async run(argv: readonly string[], opts: RunOptions = {}): Promise<CommandResult> {
    let child: Deno.ChildProcess;
    try {
      child = new Deno.Command(argv[0], {
        args: argv.slice(1),
        cwd: opts.cwd,
        env: opts.env ? { ...opts.env } : undefined,
        stdin: opts.stdin === undefined ? "null" : "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) {
        return { code: 127, stdout: "", stderr: `${argv[0]}: command not found`, timedOut: false };
      }
      throw e;
    }
    await this.#feed(child, opts);
    let timedOut = false;
    const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => {
      timedOut = true;
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
    }, opts.timeoutMs);
    const out = await child.output();
    if (timer !== undefined) clearTimeout(timer);
    const dec = new TextDecoder();
    return {
      code: out.code,
      stdout: dec.decode(out.stdout),
      stderr: dec.decode(out.stderr),
      timedOut,
    };
  }

  async #feed(child: Deno.ChildProcess, opts: RunOptions): Promise<void> {
    if (opts.stdin === undefined) return;
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(opts.stdin));
    await w.close();
  }
}

/** Facts about other processes of this host. */
export interface ProcessProbe {
  /** The command line of a live process (arguments joined by NUL), or null when there is none. */
  commandLine(pid: number): Promise<string | null>;
}

/** The real probe: Linux's `/proc/<pid>/cmdline`. */
export const denoProcessProbe: ProcessProbe = {
  async commandLine(pid: number): Promise<string | null> {
    if (!(pid > 0)) return null;
    try {
      return await Deno.readTextFile(`/proc/${pid}/cmdline`);
    } catch {
      return null;
    }
  },
};
