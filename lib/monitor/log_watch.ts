/**
 * Reading the logs of live attempts for the monitor, and keeping what it learnt across monitor
 * restarts. Each attempt's log is tailed from its byte offset ({@link LogTail}); a log that did
 * not change costs one `stat`. The spec's `output_paths` are stat'ed for growth. What a round
 * read is a {@link LogReading} for the step, which matches the lines.
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

/** The log reader of one monitor. */
export class LogWatcher {
  readonly #tails = new Map<string, LogTail>();
  readonly #outputs = new Map<string, Record<string, { size: number; mtimeMs: number }>>();
  #dirty = false;

  constructor(private readonly fs: FileSystem, private readonly source: TailSource) {}

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
    // One stat when nothing changed (most logs, most rounds); the tail opens only on growth.
    const known = tail.state;
    if (!opts.flush && known.fileId !== null && !opts.outputPaths.length) {
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
