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
  };
}
