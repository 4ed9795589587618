/**
 * The process's view of its host: environment, host name, working directory, clock. Injected
 * everywhere so tests can pin them.
 *
 * @module
 */

/** Facts about the host and the current process. */
export interface Host {
  /** Environment variables (a snapshot). */
  readonly env: Readonly<Record<string, string>>;
  hostname(): string;
  cwd(): string;
  now(): Date;
  /** True when standard output is a terminal and colour is allowed (NO_COLOR honoured). */
  readonly color: boolean;
  /**
   * How a job starts this same autoexp: the compiled binary's own path, or
   * `deno run -A <main module>` when running from a checkout or the bundle.
   */
  selfCommand(): string[];
  /** This process's id. */
  readonly pid: number;
}

/** The real host. */
export function denoHost(): Host {
  const env = Deno.env.toObject();
  return {
    env,
    hostname: () => {
      try {
        return Deno.hostname();
      } catch {
        return env.HOSTNAME ?? "localhost";
      }
    },
    cwd: () => Deno.cwd(),
    now: () => new Date(),
    color: !("NO_COLOR" in env) && Deno.stdout.isTerminal(),
    pid: Deno.pid,
    selfCommand: () => {
      const exe = Deno.execPath();
      if (!/(^|\/)deno(\.exe)?$/.test(exe)) return [exe];
      const main = Deno.mainModule.startsWith("file://")
        ? decodeURIComponent(new URL(Deno.mainModule).pathname)
        : Deno.mainModule;
      return [exe, "run", "-A", "--quiet", main];
    },
  };
}
