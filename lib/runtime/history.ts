/**
 * The per-user history index: one JSON line per submission autoexp made (and per state worth
 * keeping: an attempt started running, its final state), across every sweep and stage, in
 * `<data dir>/history.jsonl` (lib/runtime/xdg.ts; `AUTOEXP_HISTORY=0` turns it off). It lives
 * outside the sweeps, so it survives deleted output directories; `autoexp history` and
 * `autoexp logs <job id>` read it.
 *
 * Concurrency: every write is one `O_APPEND` write of whole lines (a process never writes part
 * of a line another one interleaves with), so concurrent autoexp processes need no lock to
 * append. Growth is bounded: above `maxBytes` the file is renamed to `history.1.jsonl` (the one
 * before is dropped) under a lock file, so two processes never rotate at once; a process that
 * appends while the rename happens writes into the renamed file, which is still read. A damaged
 * line (a torn write, a hand edit) is skipped and counted, never fatal.
 *
 * @module
 */
import { userDir } from "./xdg.ts";

/** One line of the index. Each line stands alone (a rotation may drop the lines before it). */
export interface HistoryRecord {
  /** When the line was written (ISO). */
  readonly at: string;
  /** What it records: the job was submitted, the attempt started running, or it ended. */
  readonly event: "submitted" | "started" | "ended";
  /** The job id as the scheduler knows it: `123`, or `123_4` for an array task. */
  readonly job: string;
  /** The sweep directory. */
  readonly sweep: string;
  readonly run: string;
  /** In a pipeline: the run's stage. */
  readonly stage?: string;
  readonly attempt: number;
  /** `pending` when submitted, `running`, then the monitor's final verdict (`completed`, ...). */
  readonly state: string;
  readonly reason?: string;
  /** The run's directory and this attempt's log. */
  readonly run_dir?: string;
  readonly log?: string;
  readonly started_at?: string;
  readonly ended_at?: string;
}

/** What the index needs of the file system (lib/runtime/fs.ts provides it). */
export interface HistoryFiles {
  readTextFile(path: string): Promise<string>;
  /** One write of the text (O_APPEND), the file created when missing. */
  appendLine(path: string, line: string): Promise<void>;
  createExclusive(path: string, text: string): Promise<boolean>;
  stat(path: string): Promise<{ mtimeMs: number; size: number } | null>;
  rename(from: string, to: string): Promise<boolean>;
  remove(path: string): Promise<void>;
  mkdirp(path: string, mode?: number): Promise<void>;
}

/** The history port: submissions and the monitor write through it, the CLI reads. */
export interface HistoryIndex {
  /** Where it is kept (for messages). */
  readonly file: string;
  /** Appends records; never throws (a failure is warned about once, and autoexp goes on). */
  append(records: readonly HistoryRecord[]): Promise<void>;
  /** Every record, oldest first, and how many damaged lines were skipped. */
  read(): Promise<{ records: HistoryRecord[]; damaged: number }>;
}

/** Options of {@link FileHistoryIndex}. */
export interface FileHistoryOptions {
  readonly dir: string;
  readonly files: HistoryFiles;
  /** Rotate above this size (default 8 MB: some 20,000 attempts, as many again in `.1`). */
  readonly maxBytes?: number;
  /** A rotation lock older than this is stale and taken over (default 60 s). */
  readonly staleLockMs?: number;
  readonly now?: () => number;
  /** Where the one warning of a failed write goes. */
  readonly warn?: (text: string) => void;
}

/** The history index in `<dir>/history.jsonl` (and the rotated `history.1.jsonl`). */
export class FileHistoryIndex implements HistoryIndex {
  readonly #o: FileHistoryOptions;
  #warned = false;

  constructor(opts: FileHistoryOptions) {
    this.#o = opts;
  }

  get file(): string {
    return `${this.#o.dir}/history.jsonl`;
  }

  get #rotated(): string {
    return `${this.#o.dir}/history.1.jsonl`;
  }

  async append(records: readonly HistoryRecord[]): Promise<void> {
    if (!records.length) return;
    try {
      await this.#o.files.mkdirp(this.#o.dir, 0o700);
      // One write of whole lines: appends of other processes never land inside a line.
      await this.#o.files.appendLine(this.file, records.map((r) => JSON.stringify(r)).join("\n"));
      const size = (await this.#o.files.stat(this.file))?.size ?? 0;
      if (size > (this.#o.maxBytes ?? 8 << 20)) await this.#rotate();
    } catch (e) {
      if (this.#warned) return;
      this.#warned = true;
      this.#o.warn?.(
        `cannot write the history index ${this.file} (${(e as Error).message}); ` +
          "autoexp history will miss these jobs",
      );
    }
  }

  async read(): Promise<{ records: HistoryRecord[]; damaged: number }> {
    const records: HistoryRecord[] = [];
    let damaged = 0;
    for (const path of [this.#rotated, this.file]) {
      let text: string;
      try {
        text = await this.#o.files.readTextFile(path);
      } catch {
        continue; // missing: nothing recorded there yet
      }
      for (const line of text.split("\n")) {
        if (!line.trim()) continue;
        const r = parseRecord(line);
        if (r) records.push(r);
        else damaged++;
      }
    }
    return { records, damaged };
  }

  /** Renames the full file to `.1` under a lock, so only one process rotates it. */
  async #rotate(): Promise<void> {
    const lock = `${this.#o.dir}/history.lock`;
    const now = this.#o.now ?? Date.now;
    if (!(await this.#o.files.createExclusive(lock, `${now()}\n`))) {
      const st = await this.#o.files.stat(lock);
      if (!st || now() - st.mtimeMs < (this.#o.staleLockMs ?? 60_000)) return; // another rotates
      await this.#o.files.remove(lock);
      if (!(await this.#o.files.createExclusive(lock, `${now()}\n`))) return;
    }
    try {
      // Another process may have rotated between our append and the lock.
      const size = (await this.#o.files.stat(this.file))?.size ?? 0;
      if (size > (this.#o.maxBytes ?? 8 << 20)) {
        await this.#o.files.rename(this.file, this.#rotated);
      }
    } finally {
      await this.#o.files.remove(lock);
    }
  }
}

/** A line as a record, or null when it is damaged or not one. */
export function parseRecord(line: string): HistoryRecord | null {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return null;
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) return null;
  const r = v as Record<string, unknown>;
  const ok = typeof r.at === "string" && typeof r.job === "string" &&
    typeof r.sweep === "string" && typeof r.run === "string" &&
    typeof r.attempt === "number" && typeof r.state === "string" &&
    (r.event === "submitted" || r.event === "started" || r.event === "ended");
  return ok ? v as HistoryRecord : null;
}

/**
 * The user's history index: in the XDG data directory (lib/runtime/xdg.ts), or null when
 * `AUTOEXP_HISTORY=0` or no directory is known (neither `XDG_DATA_HOME` nor `HOME` set).
 */
export function userHistory(
  env: Readonly<Record<string, string | undefined>>,
  files: HistoryFiles,
  warn?: (text: string) => void,
): HistoryIndex | null {
  if (env.AUTOEXP_HISTORY === "0" || env.AUTOEXP_HISTORY === "off") return null;
  const dir = userDir(env, "data");
  return dir ? new FileHistoryIndex({ dir, files, warn }) : null;
}
