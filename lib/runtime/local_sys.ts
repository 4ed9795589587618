/**
 * The port of the local scheduler to the operating system: files, locks, processes and signals.
 * `lib/scheduler/` may not call `Deno.*` (house style), so the local scheduler and its
 * supervisor receive this interface; the real implementation is `denoLocalSystem()` in
 * `lib/runtime/local_os.ts`.
 *
 * @module
 */

/** A running batch shell started by {@link LocalSystem.spawnJob}. */
export interface JobProcess {
  /** Its pid, which is also its process group and session id. */
  readonly pid: number;
  /** Resolves when the batch shell exits: its code, or the name of the signal that ended it. */
  readonly status: Promise<{ code: number; signal?: string }>;
}

/** Facts about a live process. */
export interface ProcessInfo {
  /** An opaque value that differs when the pid has been reused (start time since boot). */
  readonly startTime: string;
  /** Exited but not yet reaped: counts as dead. */
  readonly zombie: boolean;
}

/** Everything the local scheduler does to the world. */
export interface LocalSystem {
  /** The text of a file, or null when it does not exist. */
  readText(path: string): Promise<string | null>;
  /** Writes a file atomically (temporary file in the same folder, then rename). */
  writeAtomic(path: string, text: string): Promise<void>;
  /** Creates a directory and its parents; `mode` (before the umask) for those it creates. */
  mkdirp(path: string, mode?: number): Promise<void>;
  /** Entry names of a directory; empty when it does not exist. */
  listDir(path: string): Promise<string[]>;
  /** Removes a file; no error when it does not exist. */
  remove(path: string): Promise<void>;
  copyFile(from: string, to: string): Promise<void>;
  isDirectory(path: string): Promise<boolean>;
  /**
   * Opens (creates) a job's output file the way slurmstepd does: truncated or appended.
   * Returns an error message instead of throwing when it cannot (missing directory).
   */
  prepareOutput(path: string, truncate: boolean): Promise<string | null>;
  /**
   * Runs `fn` holding an exclusive advisory lock (flock) on `path`, which is created when
   * missing. The kernel drops the lock when the holder dies, so there are no stale locks.
   */
  withLock<T>(path: string, fn: () => Promise<T>): Promise<T>;
  /**
   * Starts `argv` in a new session (setsid), detached from this process: stdin from
   * /dev/null, stdout and stderr appended to `logPath`. Returns its pid without waiting.
   */
  spawnDetached(
    argv: readonly string[],
    opts: { cwd: string; logPath: string; env?: Readonly<Record<string, string>> },
  ): Promise<number>;
  /**
   * Starts `bash script` as a batch shell in a new session and process group, with stdout and
   * stderr appended to the given (already prepared) files and exactly `env` as environment.
   */
  spawnJob(opts: {
    script: string;
    cwd: string;
    env: Readonly<Record<string, string>>;
    stdout: string;
    stderr: string;
  }): JobProcess;
  /**
   * Sends `signal` (e.g. `SIGTERM`) to a process, or to a process group when `pid` is
   * negative. Returns false when there is no such process.
   */
  kill(pid: number, signal: string): boolean;
  /** Facts about a process, or null when there is none with this pid. */
  processInfo(pid: number): Promise<ProcessInfo | null>;
  /** Calls `handler` when this process receives `signal`. */
  onSignal(signal: string, handler: () => void): void;
  sleep(ms: number): Promise<void>;
  now(): Date;
  pid(): number;
  hostname(): string;
  cpus(): number;
  uid(): number;
  /** The environment of this process. */
  env(): Record<string, string>;
}
