/**
 * The per-user shared scheduler answer (the SLURM adapter's QueueCache): the latest
 * `squeue --me` text in `<dir>/squeue.txt` (its first line the time the call started), refreshed
 * by one process at a time under `<dir>/squeue.lock` (created exclusively; a lock older than
 * the longest a squeue call may take is stale and taken over). Every autoexp of a user on one
 * login node (a monitor per sweep, status, cancel) reads it, so the controller sees one squeue
 * per interval from that user, however many sweeps they follow.
 *
 * The directory is private to the user (`$XDG_RUNTIME_DIR/autoexp`, else `/tmp/autoexp-<uid>`,
 * mode 0700), made once by {@link denoQueueCache}, which checks it is the user's own;
 * `AUTOEXP_SHARED_QUEUE=0` turns sharing off.
 *
 * @module
 */

import { denoProcessProbe } from "./process.ts";

/** What the cache needs of the file system (lib/runtime/fs.ts provides it). */
export interface QueueCacheFiles {
  readTextFile(path: string): Promise<string>;
  /** Atomic (temporary file, then rename). */
  writeTextFile(path: string, text: string, durable?: boolean): Promise<void>;
  createExclusive(path: string, text: string): Promise<boolean>;
  stat(path: string): Promise<{ mtimeMs: number } | null>;
  remove(path: string): Promise<void>;
  mkdirp(path: string, mode?: number): Promise<void>;
}

/** Options of {@link FileQueueCache}. */
export interface FileQueueCacheOptions {
  readonly dir: string;
  readonly files: QueueCacheFiles;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** A lock older than this is stale (default 3 min: squeue's retries end before). */
  readonly staleLockMs?: number;
  /**
   * How long to wait for another process's answer before asking squeue itself (default 10 s:
   * an owner stopped by Ctrl-C or a kill must not blind the user's other monitors).
   */
  readonly waitMs?: number;
  /** Who takes the lock, and whether such an owner still lives (a dead owner's lock is taken over). */
  readonly owner?: { readonly host: string; readonly pid: number };
  readonly alive?: (pid: number) => Promise<boolean>;
}

/** The file-based per-user cache of the latest `squeue --me` answer. */
export class FileQueueCache {
  readonly #o: FileQueueCacheOptions;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(opts: FileQueueCacheOptions) {
    this.#o = opts;
    this.#now = opts.now ?? Date.now;
    this.#sleep = opts.sleep ?? ((ms) => new Promise((res) => setTimeout(res, ms)));
  }

  get #file(): string {
    return `${this.#o.dir}/squeue.txt`;
  }

  get #lock(): string {
    return `${this.#o.dir}/squeue.lock`;
  }

  /** A shared answer made no earlier than `after` and at most `maxAgeMs` old, else a new one. */
  async read(
    fetch: () => Promise<string>,
    opts: { readonly maxAgeMs: number; readonly after: number },
  ): Promise<string> {
    const fresh = async () => {
      const c = await this.#cached();
      return c && c.at > opts.after && this.#now() - c.at <= opts.maxAgeMs ? c.text : null;
    };
    const started = this.#now();
    const owner = JSON.stringify({ ...(this.#o.owner ?? {}), at: started });
    for (;;) {
      const hit = await fresh();
      if (hit !== null) return hit;
      if (await this.#o.files.createExclusive(this.#lock, owner)) {
        try {
          // Another process may have refreshed it between our look and our lock.
          const again = await fresh();
          if (again !== null) return again;
          const at = this.#now();
          const text = await fetch();
          await this.#o.files.writeTextFile(this.#file, `${at}\n${text}`, false);
          return text;
        } finally {
          await this.#o.files.remove(this.#lock).catch(() => {});
        }
      }
      // Someone else is asking: their answer comes soon. A lock of a dead owner on this host is
      // taken over at once, any lock after staleLockMs; after waitMs this process asks itself.
      if (await this.#staleLock()) {
        await this.#o.files.remove(this.#lock).catch(() => {});
        continue;
      }
      if (this.#now() - started > (this.#o.waitMs ?? 10_000)) {
        const at = this.#now();
        const text = await fetch();
        await this.#o.files.writeTextFile(this.#file, `${at}\n${text}`, false).catch(() => {});
        return text;
      }
      await this.#sleep(50);
    }
  }

  async #staleLock(): Promise<boolean> {
    const st = await this.#o.files.stat(this.#lock);
    if (!st) return false;
    if (this.#now() - st.mtimeMs > (this.#o.staleLockMs ?? 180_000)) return true;
    try {
      const held = JSON.parse(await this.#o.files.readTextFile(this.#lock));
      const me = this.#o.owner;
      return !!me && !!this.#o.alive && held.host === me.host && typeof held.pid === "number" &&
        !(await this.#o.alive(held.pid));
    } catch {
      return false; // being written, or gone
    }
  }

  async #cached(): Promise<{ at: number; text: string } | null> {
    try {
      const raw = await this.#o.files.readTextFile(this.#file);
      const cut = raw.indexOf("\n");
      const at = Number(raw.slice(0, cut));
      return cut > 0 && Number.isFinite(at) ? { at, text: raw.slice(cut + 1) } : null;
    } catch {
      return null;
    }
  }
}

/** Where a user's shared answer lives (private to the user). */
export function queueCacheDir(env: Readonly<Record<string, string>>, uid: number | null): string {
  return env.XDG_RUNTIME_DIR ? `${env.XDG_RUNTIME_DIR}/autoexp` : `/tmp/autoexp-${uid ?? "user"}`;
}

/**
 * The real cache for this user, or null when sharing is off (`AUTOEXP_SHARED_QUEUE=0`) or the
 * directory is not this user's own (another user could have made `/tmp/autoexp-<uid>` first).
 */
export async function denoQueueCache(
  env: Readonly<Record<string, string>>,
  files: QueueCacheFiles,
): Promise<FileQueueCache | null> {
  if (env.AUTOEXP_SHARED_QUEUE === "0") return null;
  const uid = Deno.uid();
  const dir = queueCacheDir(env, uid);
  try {
    await files.mkdirp(dir, 0o700);
    const st = await Deno.lstat(dir);
    if (!st.isDirectory || st.isSymlink || (uid !== null && st.uid !== uid)) return null;
    if (st.mode !== null && (st.mode & 0o077) !== 0) await Deno.chmod(dir, 0o700);
  } catch {
    return null;
  }
  return new FileQueueCache({
    dir,
    files,
    owner: { host: Deno.hostname(), pid: Deno.pid },
    alive: async (pid) => (await denoProcessProbe.commandLine(pid)) !== null,
  });
}
