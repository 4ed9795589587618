/**
 * Reading the logs of live attempts for the monitor, and keeping what it learnt across monitor
 * restarts. Each attempt's log is tailed from its byte offset ({@link LogTail}); a log that did
 * not change costs one `stat`. The spec's `output_paths` are stat'ed for growth. What a round
 * read is a {@link LogReading} for the step, which matches the lines.
 *
 * Which logs a round looks at ({@link chooseLogs}): with few live logs, all of them. With
 * thousands, a round reads the logs of jobs that ended (to their end), those the file watcher
 * reported changed, those the step would judge stalled now (a run is judged stalled only
 * right after its log was looked at), logs not found yet of jobs that run (one listing of
 * their folder says which exist, so no failed open per missing log), and, in turn, enough of
 * the others that each is looked at within `pollMs` (cluster file systems report no writes
 * made on other nodes: that guarantee is what notices them). Logs of jobs still pending are
 * not looked for.
 *
 * `<sweep>/.autoexp/monitor/watch.json` holds, per attempt, the tail's position and the step's
 * {@link AttemptLog} (event kinds, metadata, last activity, progress): a monitor started again
 * reads no line twice and forgets nothing it had seen. It is a cache: when it is torn or gone,
 * the journal still keeps every event from firing twice.
 *
 * @module
 */
import type { FileSystem } from "../runtime/mod.ts";
import type { EventKind } from "../monitoring/events.ts";
import type { Reach } from "../store/state.ts";
import type { TailSource } from "../runtime/tail_source.ts";
import { LogTail, type TailState } from "./tail.ts";
import type { AttemptLog, LogReading } from "./step.ts";

/** The persisted form of one attempt's watch. */
export interface WatchRecord {
  readonly tail: TailState;
  readonly kinds: EventKind[];
  readonly meta: Record<string, string>;
  readonly lastActivity: number | null;
  readonly outputs: Record<string, { size: number; mtimeMs: number }>;
  readonly progress: string | null;
  readonly lastEvent: string | null;
  /** AttemptLog.reached (absent in watch files written before it existed). */
  readonly reached?: Reach;
}

/** Path of the persisted watches of a sweep's store directory. */
export function watchFileOf(storeDir: string): string {
  return `${storeDir}/monitor/watch.json`;
}

/** One live attempt's log as a round sees it, for {@link chooseLogs}. */
export interface LogCandidate {
  readonly key: string;
  readonly log: AttemptLog;
  /** The job ended (or the scheduler does not know it): read the log to its end. */
  readonly flush: boolean;
  /** The scheduler says the job has not started: its log is not looked for. */
  readonly pending: boolean;
  /** The step would judge the attempt stalled now: its log is looked at first. */
  readonly stallDue: boolean;
  readonly outputPaths: readonly string[];
}

/** How often logs are looked at. */
export interface LogPolling {
  /** Every followed log is looked at at least this often (ms), watched or not. */
  readonly pollMs: number;
  /** With at most this many live logs, every round looks at every log. */
  readonly readAllBelow: number;
}

/** Below this many live logs every round reads every log (~0.02 ms each). */
export const READ_ALL_BELOW = 1000;

/** What {@link chooseLogs} knows of each log from earlier rounds. */
export interface LogsSeen {
  /** Whether the log was found before (its tail knows the file). */
  readonly found: (key: string) => boolean;
  /** When each log was last looked at (ms), least recently looked first. */
  readonly lookedAt: ReadonlyMap<string, number>;
  /** Paths the file watcher reported changed since the last round. */
  readonly changed: ReadonlySet<string>;
}

/**
 * The logs a round reads (pure; rules in the module documentation): `read` now, and `ifExists`
 * when a listing of their folder shows them. `sinceLastMs` is the time since the previous
 * round chose (a round's share of the rotation).
 *
 * @example
 * // 10,000 idle logs, 1 s after the previous round, each looked at within 10 s: ~1,000 read.
 * chooseLogs(cands, seen, now, 1000, { pollMs: 10_000, readAllBelow: 1000 }).read.length;
 */
export function chooseLogs(
  cands: readonly LogCandidate[],
  seen: LogsSeen,
  now: number,
  sinceLastMs: number,
  polling: LogPolling,
): { read: LogCandidate[]; ifExists: LogCandidate[] } {
  if (cands.length <= polling.readAllBelow) return { read: [...cands], ifExists: [] };
  const read: LogCandidate[] = [];
  const ifExists: LogCandidate[] = [];
  const rotating = new Map<string, LogCandidate>();
  for (const c of cands) {
    const changed = seen.changed.has(c.log.path) || c.outputPaths.length > 0;
    if (!seen.found(c.key) && !changed) {
      // Not found yet: looked for in its folder's listing once the job started (or ended).
      if (!c.pending || c.flush) ifExists.push(c);
    } else if (c.flush || c.stallDue || changed) read.push(c);
    else if (!seen.lookedAt.has(c.key)) read.push(c); // never looked at by this process
    else rotating.set(c.key, c);
  }
  const share = Math.ceil(rotating.size * Math.min(1, Math.max(0, sinceLastMs) / polling.pollMs));
  let taken = 0;
  for (const [key, at] of seen.lookedAt) {
    if (taken >= rotating.size) break;
    const c = rotating.get(key);
    if (!c) continue;
    if (taken >= share && now - at < polling.pollMs) break;
    read.push(c);
    taken++;
  }
  return { read, ifExists };
}

/** The log reader of one monitor. */
export class LogWatcher {
  readonly #tails = new Map<string, LogTail>();
  readonly #outputs = new Map<string, Record<string, { size: number; mtimeMs: number }>>();
  /** When each log was last looked at, least recently first (re-inserted on each look). */
  readonly #lookedAt = new Map<string, number>();
  /** Paths the file watcher reported since the last round. */
  #changed = new Set<string>();
  #lastRound: number | null = null;
  #dirty = false;

  constructor(private readonly fs: FileSystem, private readonly source: TailSource) {}

  /** Notes paths the file watcher reported changed (read by the next round). */
  noteChanged(paths: readonly string[]): void {
    for (const p of paths) this.#changed.add(p);
  }

  /**
   * One round's reading of live attempts' logs: those {@link chooseLogs} picks, `batch` at a
   * time. Logs not read this round have no reading (nothing is known to have changed).
   */
  async readRound(
    cands: readonly LogCandidate[],
    now: number,
    polling: LogPolling,
    batch = 64,
  ): Promise<LogReading[]> {
    const since = this.#lastRound === null ? polling.pollMs : now - this.#lastRound;
    this.#lastRound = now;
    const changed = this.#changed;
    this.#changed = new Set();
    const seen: LogsSeen = {
      found: (key) => (this.#tails.get(key)?.state.fileId ?? null) !== null,
      lookedAt: this.#lookedAt,
      changed,
    };
    const { read, ifExists } = chooseLogs(cands, seen, now, since, polling);
    if (ifExists.length) read.push(...await this.#existing(ifExists));
    const out: LogReading[] = [];
    for (let i = 0; i < read.length; i += batch) {
      out.push(
        ...await Promise.all(
          read.slice(i, i + batch).map((c) => {
            this.#lookedAt.delete(c.key);
            this.#lookedAt.set(c.key, now);
            return this.read(c.key, c.log, { flush: c.flush, outputPaths: c.outputPaths });
          }),
        ),
      );
    }
    return out;
  }

  /** The candidates whose log file exists: one listing per folder. */
  async #existing(cands: readonly LogCandidate[]): Promise<LogCandidate[]> {
    const byDir = new Map<string, LogCandidate[]>();
    for (const c of cands) {
      const dir = c.log.path.slice(0, Math.max(0, c.log.path.lastIndexOf("/")));
      const cs = byDir.get(dir);
      if (cs) cs.push(c);
      else byDir.set(dir, [c]);
    }
    const out: LogCandidate[] = [];
    for (const [dir, cs] of byDir) {
      const names = await this.fs.listNames(dir || "/").catch(() => null);
      if (!names) continue;
      const has = new Set(names);
      for (const c of cs) if (has.has(c.log.path.slice(dir.length + 1))) out.push(c);
    }
    return out;
  }

  /**
   * Reads what an attempt's log gained (to its end with `flush`: the job ended, its last lines
   * say why) and whether its output paths changed.
   */
  async read(
    key: string,
    log: AttemptLog,
    opts: { readonly flush: boolean; readonly outputPaths: readonly string[] },
  ): Promise<LogReading> {
    const base = { run: log.run, attempt: log.attempt };
    let tail = this.#tails.get(key);
    if (!tail) {
      this.#tails.set(key, tail = new LogTail(this.source, log.path));
      this.#dirty = true;
    }
    // One stat when nothing changed (most logs, most rounds); the tail opens only on growth
    // (or, for a job that ended, when a partial last line is still to be read).
    const known = tail.state;
    const flushed = !opts.flush || known.offset >= known.size;
    if (flushed && known.fileId !== null && !opts.outputPaths.length) {
      const st = await this.fs.stat(known.path).catch(() => null);
      if (st && st.size === known.size && st.mtimeMs === known.mtimeMs) {
        return { ...base, lines: [], grew: false, outputsGrew: false };
      }
    }
    let poll;
    try {
      poll = await tail.poll({ flush: opts.flush });
    } catch (e) {
      return { ...base, lines: [], grew: false, outputsGrew: false, error: (e as Error).message };
    }
    if (poll.grew || poll.lines.length) this.#dirty = true;
    const outputsGrew = await this.#outputsGrew(key, opts.outputPaths);
    return { ...base, lines: poll.lines, grew: poll.grew, outputsGrew };
  }

  async #outputsGrew(key: string, paths: readonly string[]): Promise<boolean> {
    if (!paths.length) return false;
    const seen = this.#outputs.get(key) ?? {};
    this.#outputs.set(key, seen);
    let grew = false;
    for (const path of paths) {
      const st = await this.fs.stat(path).catch(() => null);
      if (!st) continue;
      const prev = seen[path];
      if (!prev || prev.size !== st.size || prev.mtimeMs !== st.mtimeMs) {
        if (prev) grew = true;
        seen[path] = { size: st.size, mtimeMs: st.mtimeMs };
        this.#dirty = true;
      }
    }
    return grew;
  }

  /**
   * Reads the persisted watches; returns the {@link AttemptLog}s of the attempts `keep` accepts
   * (the runs this monitor follows), with their tails restored.
   */
  async load(storeDir: string, keep: (run: string) => boolean): Promise<Map<string, AttemptLog>> {
    const out = new Map<string, AttemptLog>();
    const path = watchFileOf(storeDir);
    let data: Record<string, WatchRecord> = {};
    try {
      if (await this.fs.exists(path)) data = JSON.parse(await this.fs.readTextFile(path));
    } catch { /* a torn cache: the journal still dedupes events */ }
    for (const [key, w] of Object.entries(data)) {
      const cut = key.lastIndexOf("#");
      const run = key.slice(0, cut);
      if (!keep(run)) continue;
      this.#tails.set(key, LogTail.fromState(this.source, w.tail));
      this.#outputs.set(key, w.outputs ?? {});
      out.set(key, {
        run,
        attempt: Number(key.slice(cut + 1)),
        path: w.tail.path,
        kinds: new Set(w.kinds),
        meta: w.meta ?? {},
        // Lines written while the monitor was away are read first and count as activity then;
        // a log that did not grow meanwhile was idle all along.
        lastActivity: w.lastActivity ?? null,
        progress: w.progress ?? null,
        lastEvent: w.lastEvent ?? null,
        missingRounds: 0,
        ...(w.reached ? { reached: w.reached } : {}),
      });
    }
    return out;
  }

  /** Writes the watches of the attempts in `logs` (when something changed, or with `force`). */
  async save(storeDir: string, logs: ReadonlyMap<string, AttemptLog>, force: boolean) {
    if (!this.#dirty && !force) return;
    for (const key of this.#tails.keys()) {
      if (!logs.has(key)) {
        this.#tails.delete(key);
        this.#outputs.delete(key);
        this.#lookedAt.delete(key);
      }
    }
    const out: Record<string, WatchRecord> = {};
    for (const [key, w] of logs) {
      const tail = this.#tails.get(key);
      if (!tail) continue;
      out[key] = {
        tail: tail.state,
        kinds: [...w.kinds],
        meta: w.meta,
        lastActivity: w.lastActivity,
        outputs: this.#outputs.get(key) ?? {},
        progress: w.progress,
        lastEvent: w.lastEvent,
        ...(w.reached ? { reached: w.reached } : {}),
      };
    }
    await this.fs.mkdirp(`${storeDir}/monitor`);
    await this.fs.writeTextFile(watchFileOf(storeDir), JSON.stringify(out), false);
    this.#dirty = false;
  }

  /** Marks the watches changed (a step changed what it knows of an attempt). */
  touch(): void {
    this.#dirty = true;
  }
}
