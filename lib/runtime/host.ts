/**
 * The process's view of its host: environment, host name, working directory, clock. Injected
 * everywhere so tests can pin them.
 *
 * @module
 */
import { userDir } from "./xdg.ts";

/** Facts about the host and the current process. */
export interface Host {
  /** Environment variables (a snapshot). */
  readonly env: Readonly<Record<string, string>>;
  hostname(): string;
  cwd(): string;
  now(): Date;
  /** True when standard output is a terminal and colour is allowed (NO_COLOR honoured). */
  readonly color: boolean;
  /** True when standard error is a terminal and colour is allowed (NO_COLOR honoured). */
  readonly errorColor?: boolean;
  /** True when standard output is a terminal (lines may be redrawn in place). */
  readonly terminal?: boolean;
  /** The terminal's width in columns, or null when standard output is not a terminal. */
  columns?(): number | null;
  /**
   * How a job starts this same autoexp: the compiled binary's own path, or
   * `deno run -A <main module>` when running from a checkout or the bundle.
   */
  selfCommand(): string[];
  /** This process's id. */
  readonly pid: number;
  /**
   * The user-wide config directory (`$XDG_CONFIG_HOME/autoexp`, default `~/.config/autoexp`),
   * read as a config layer between the built-in presets and `-C`; null or absent: none
   * (`AUTOEXP_USER_CONFIG=0`).
   */
  readonly userConfigDir?: string | null;
}

/** What this running autoexp is: how it was started, on which runtime and target. */
export interface ProgramInfo {
  /**
   * `single-file`: the self-extracting file (tools/build_single_file.ts); `compiled`: a
   * `deno compile` binary; `deno-run`: `deno run` of main.ts (a checkout) or of the bundle.
   */
  readonly form: "single-file" | "compiled" | "deno-run";
  /** The file users run: the single file or binary, else the main module. */
  readonly path: string;
  /** The Deno runtime's version. */
  readonly deno: string;
  /** The target triple the runtime was built for (`x86_64-unknown-linux-gnu`). */
  readonly target: string;
  /** How a job starts this same autoexp. */
  readonly command: readonly string[];
}

let program: ProgramInfo | undefined;

/**
 * This process's {@link ProgramInfo}. The single file's start-up script passes its own path in
 * `AUTOEXP_SELF`; it is taken out of the environment here, so a process this one starts does not
 * mistake itself for the single file.
 */
export function programInfo(): ProgramInfo {
  if (program) return program;
  const self = Deno.env.get("AUTOEXP_SELF");
  if (self !== undefined) Deno.env.delete("AUTOEXP_SELF");
  const exe = Deno.execPath();
  const runtime = { deno: Deno.version.deno, target: Deno.build.target };
  if (self) {
    program = { form: "single-file", path: self, command: [self], ...runtime };
  } else if (!/(^|\/)deno(\.exe)?$/.test(exe)) {
    program = { form: "compiled", path: exe, command: [exe], ...runtime };
  } else {
    const main = Deno.mainModule.startsWith("file://")
      ? decodeURIComponent(new URL(Deno.mainModule).pathname)
      : Deno.mainModule;
    program = {
      form: "deno-run",
      path: main,
      command: [exe, "run", "-A", "--quiet", main],
      ...runtime,
    };
  }
  return program;
}

/** The real host. */
export function denoHost(): Host {
  const self = programInfo();
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
    errorColor: !("NO_COLOR" in env) && Deno.stderr.isTerminal(),
    terminal: Deno.stdout.isTerminal(),
    columns: () => {
      if (!Deno.stdout.isTerminal()) return null;
      try {
        return Deno.consoleSize().columns || null;
      } catch {
        return null;
      }
    },
    pid: Deno.pid,
    selfCommand: () => [...self.command],
    userConfigDir: env.AUTOEXP_USER_CONFIG === "0" ? null : userDir(env, "config"),
  };
}
