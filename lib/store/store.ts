/**
 * The sweep's store on disk (`<sweep>/.autoexp/`): an append-only journal (`journal.jsonl`,
 * each batch of events fsync'd before it counts; lines in journal_codec.ts's format), a snapshot
 * (`snapshot.json`: the journal's fold up to an event, with what decoding the journal after it
 * needs) and a lock (`lock`) so only one autoexp process drives a sweep.
 *
 * When the journal has grown by {@link COMPACT_BYTES} since the last snapshot, the writer
 * compacts it: the snapshot is written (fsync'd, then renamed over the old one), then the journal
 * is replaced (fsync'd, renamed) by one line `{"compacted":S}`. A crash between the two leaves
 * the new snapshot and the whole journal (events up to S are skipped when read); before the
 * first, the old snapshot and the journal. Either way nothing is lost. Once compacted, the
 * snapshot is part of the truth: a journal that starts after a snapshot that is missing is an
 * error, not a silent loss. A partial last line (a crash while writing it) is ignored.
 *
 * @module
 */
import { OutcomeError } from "../errors.ts";
import type { FileSystem, Host } from "../runtime/mod.ts";
import { type CodecState, JournalCodec } from "./journal_codec.ts";
import {
  applyEvent,
  emptyState,
  type NewEvent,
  type StoreEvent,
  type StoreState,
} from "./state.ts";

/** Who holds the lock. */
export interface LockOwner {
  readonly pid: number;
  readonly host: string;
  readonly since: string;
  readonly command: string;
}

/** Thrown when another live process holds the sweep's lock. */
export class LockedError extends OutcomeError {
  override name = "LockedError";
  constructor(readonly owner: LockOwner, readonly path: string) {
    super(
      `another autoexp process drives this sweep (pid ${owner.pid} on ${owner.host}, ${owner.command}, ` +
        `since ${owner.since}); use autoexp status to look at it, or stop that process first. ` +
        `If that process is gone (e.g. its login node rebooted), remove ${path}`,
    );
  }
}

/** The store of one sweep. */
export class SweepStore {
  private constructor(
    private readonly fs: FileSystem,
    private readonly host: Host,
    readonly dir: string,
    /**
     * A random id made when the store is created. Job comment tags carry it, so the jobs of a
     * deleted earlier copy of the same sweep are never mistaken for this one's.
     */
    readonly id: string,
    public state: StoreState,
    /** Problems found while reading (a torn last line), for the caller to report. */
    readonly warnings: string[],
  ) {}

  /** The store directory of a sweep directory. */
  static dirOf(sweepDir: string): string {
    return `${sweepDir}/.autoexp`;
  }

  /**
   * Opens the store of a sweep directory and replays its journal. A writer must take the
   * {@link lock} before appending: taking it re-reads the journal, so it acts on what other
   * processes wrote before. `readOnly` changes nothing on disk (for `status`, `logs`).
   */
  static async open(
    fs: FileSystem,
    host: Host,
    sweepDir: string,
    opts: { readOnly?: boolean } = {},
  ): Promise<SweepStore> {
    const dir = SweepStore.dirOf(sweepDir);
    // Readable by the project (status), writable by the owner only, whatever the umask.
    if (!opts.readOnly) await fs.mkdirp(dir, 0o755);
    const id = opts.readOnly
      ? (await readStoreId(fs, dir)) ?? ""
      : await ensureStoreId(fs, host, dir);
    const read = await readStore(fs, dir);
    const store = new SweepStore(fs, host, dir, id, read.state, read.warnings);
    store.adopt(read);
    return store;
  }

  private adopt(read: StoreRead): void {
    this.state = read.state;
    this.codec = read.codec;
    this.journalBytes = read.bytes;
    this.compactedBytes = read.compactedBytes;
    this.torn = read.torn;
    this.written = read.state.seq;
    this.snapshotSeq = read.snapshotSeq;
  }

  /** The journal's references (journal_codec.ts) as of the last event written or read. */
  private codec = new JournalCodec();
  /** The journal's size after the last compaction (or when it was read). */
  private compactedBytes = 0;

  /** Bytes of the journal this process has read or written (to notice other writers). */
  private journalBytes = 0;
  /** Seq of the last event in the journal (read or written by this process). */
  private written = 0;
  /** The journal read last ends in a partial line that the next append must terminate. */
  private torn = false;

  /** Re-reads the journal (after taking the lock) and repairs a torn last line. */
  private async reload(): Promise<void> {
    const read = await readStore(this.fs, this.dir);
    for (const w of read.warnings) if (!this.warnings.includes(w)) this.warnings.push(w);
    this.adopt(read);
  }

  /** Appends run one at a time (the monitor appends from concurrent tasks). */
  private queue: Promise<unknown> = Promise.resolve();

  /** Appends an event durably (fsync), then applies it. Concurrent calls are serialised. */
  async append(ev: NewEvent): Promise<StoreEvent> {
    return (await this.appendMany([ev]))[0];
  }

  /**
   * Appends events with one write and one fsync (a round that observed a thousand jobs), then
   * applies them in order. Concurrent calls are serialised.
   */
  appendMany(evs: readonly NewEvent[]): Promise<StoreEvent[]> {
    const next = this.queue.then(() => this.appendNow(evs));
    this.queue = next.catch(() => {});
    return next;
  }

  /**
   * Writes events that an {@link EventSink} over this store's state already numbered and
   * applied, with one write and one fsync. They must follow the last event written.
   */
  journal(evs: readonly StoreEvent[]): Promise<void> {
    const next = this.queue.then(() => this.writeNow(evs));
    this.queue = next.catch(() => {});
    return next;
  }

  private async appendNow(evs: readonly NewEvent[]): Promise<StoreEvent[]> {
    if (!evs.length) return [];
    if (this.state.seq !== this.written) {
      throw new Error(
        `events ${this.written + 1}..${this.state.seq} were applied but not journaled`,
      );
    }
    const at = this.host.now().toISOString();
    const full = evs.map((ev, i) => ({ ...ev, seq: this.state.seq + 1 + i, at }) as StoreEvent);
    await this.writeNow(full);
    return full;
  }

  private async writeNow(full: readonly StoreEvent[]): Promise<void> {
    if (!full.length) return;
    if (full[0].seq !== this.written + 1) {
      throw new Error(`journal out of order: event ${full[0].seq} after ${this.written}`);
    }
    const journal = `${this.dir}/journal.jsonl`;
    const size = (await this.fs.stat(journal))?.size ?? 0;
    if (size !== this.journalBytes) {
      throw new OutcomeError(
        `the sweep's journal ${journal} changed while this process was using it (another autoexp ` +
          "wrote to it); nothing more was recorded. Run the command again: it reads the journal anew.",
      );
    }
    if (this.torn) {
      // Terminate the partial line of a crashed writer so this one stays valid (writers hold
      // the lock; readers never write).
      await this.fs.appendLine(journal, "", true);
      this.journalBytes += 1;
      this.torn = false;
    }
    if (this.failedWrite) {
      throw new OutcomeError(
        `an earlier write to ${journal} failed (${this.failedWrite}); nothing more is recorded by ` +
          "this process. Run the command again once the disk has room: it reads the journal anew.",
      );
    }
    // The codec remembers what it encoded (spec references): a line that did not reach the disk
    // must not be referred to by a later one.
    const text = this.codec.encode(full).join("\n");
    try {
      await this.fs.appendLine(journal, text, true);
    } catch (e) {
      this.failedWrite = (e as Error).message.split("\n")[0];
      throw e;
    }
    this.journalBytes += new TextEncoder().encode(text).length + 1;
    this.written = full[full.length - 1].seq;
    // Applying is a no-op for events a sink already applied (their seq is not newer).
    for (const e of full) this.state = applyEvent(this.state, e);
  }

  /**
   * Compacts the journal into the snapshot when it grew by {@link COMPACT_BYTES} since the last
   * snapshot (or, with `force`, by anything): see the module documentation. Only a writer (the
   * holder of the lock) calls it; it waits for appends in flight.
   */
  snapshot(force = false): Promise<void> {
    const next = this.queue.then(() => this.compactNow(force));
    this.queue = next.catch(() => {});
    return next;
  }

  private async compactNow(force: boolean): Promise<void> {
    if (this.snapshotSeq === this.state.seq) return;
    // Events applied in memory but not in the journal (a step that failed) never reach it.
    if (this.state.seq !== this.written) return;
    const grown = this.journalBytes - this.compactedBytes;
    if (!(force ? grown > 0 : grown >= COMPACT_BYTES)) return;
    const journal = `${this.dir}/journal.jsonl`;
    if (((await this.fs.stat(journal))?.size ?? 0) !== this.journalBytes) return; // not ours
    const seq = this.state.seq;
    const snap: SnapshotFile = {
      format: "autoexp.store",
      version: 2,
      seq,
      state: this.state,
      codec: this.codec.state,
    };
    // 1. The snapshot, durable before the journal forgets anything.
    await this.fs.writeTextFile(`${this.dir}/snapshot.json`, JSON.stringify(snap), true);
    // Its rename too: a power loss must not keep the compacted journal without its snapshot.
    await this.fs.syncDir?.(this.dir);
    this.snapshotSeq = seq;
    if (this.torn) return; // the journal ends in a crashed writer's partial line: keep it
    // 2. The journal, replaced by its header (nothing was appended since: appends queue).
    const header = JSON.stringify({ compacted: seq });
    await this.fs.writeTextFile(journal, `${header}\n`, true);
    await this.fs.syncDir?.(this.dir);
    this.journalBytes = this.compactedBytes = new TextEncoder().encode(header).length + 1;
  }

  /** The journal position of the last snapshot read or written. */
  private snapshotSeq = -1;

  /** Why an append failed; later appends are refused (the codec may refer to that line). */
  private failedWrite: string | null = null;

  /**
   * Takes the sweep's lock. A lock left by a dead process on this host is taken over; one held
   * by a live process (or on another host) raises {@link LockedError}.
   */
  async lock(command: string): Promise<() => Promise<void>> {
    const path = `${this.dir}/lock`;
    const me: LockOwner = {
      pid: this.host.pid,
      host: this.host.hostname(),
      since: this.host.now().toISOString(),
      command,
    };
    for (let tries = 0; tries < 20; tries++) {
      if (await this.fs.createExclusive(path, JSON.stringify(me))) {
        await this.reload();
        return async () => {
          const cur = await this.readLock(path);
          if (cur && cur.pid === me.pid && cur.host === me.host) await this.fs.remove(path);
        };
      }
      const owner = await this.readLock(path);
      if (owner && owner.pid === me.pid && owner.host === me.host) {
        await this.reload();
        return async () => {};
      }
      if (!owner) {
        // Being written right now (created, owner not in it yet), or torn by a crash long ago.
        const st = await this.fs.stat(path);
        if (st && this.host.now().getTime() - st.mtimeMs < 10_000) {
          await new Promise((res) => setTimeout(res, 200));
          continue;
        }
      } else if (owner.host !== me.host || (await this.alive(owner.pid))) {
        throw new LockedError(owner, path);
      }
      // Stale: move it aside, and check that what moved is the lock judged stale (another
      // process may have replaced it in between; then give it back and try again).
      const aside = `${path}.stale.${me.pid}`;
      if (!(await this.fs.rename(path, aside))) continue;
      const moved = await this.readLock(aside);
      if (moved && owner && (moved.pid !== owner.pid || moved.since !== owner.since)) {
        await this.fs.rename(aside, path);
        continue;
      }
      await this.fs.remove(aside);
    }
    throw new OutcomeError(
      `could not take the lock ${path}: it keeps changing (another autoexp is starting on this sweep); try again`,
    );
  }

  /** A process that exists and is not a zombie (a killed process lingers as one briefly). */
  private async alive(pid: number): Promise<boolean> {
    try {
      const stat = await this.fs.readTextFile(`/proc/${pid}/stat`);
      return !/^\d+ \(.*\) [ZX] /s.test(stat);
    } catch {
      return false;
    }
  }

  private async readLock(path: string): Promise<LockOwner | null> {
    try {
      return JSON.parse(await this.fs.readTextFile(path));
    } catch {
      return null;
    }
  }
}

async function readStoreId(fs: FileSystem, dir: string): Promise<string | undefined> {
  try {
    const id = JSON.parse(await fs.readTextFile(`${dir}/store.json`)).id;
    return typeof id === "string" && id ? id : undefined;
  } catch {
    return undefined;
  }
}

/** The store's random id, created with the store (rewritten only if torn before any job). */
async function ensureStoreId(fs: FileSystem, host: Host, dir: string): Promise<string> {
  const existing = await readStoreId(fs, dir);
  if (existing) return existing;
  const fresh = crypto.randomUUID().replaceAll("-", "").slice(0, 8);
  const text = JSON.stringify({ id: fresh, created: host.now().toISOString() }) + "\n";
  if (!(await fs.createExclusive(`${dir}/store.json`, text))) {
    const again = await readStoreId(fs, dir);
    if (again) return again;
    // Torn by a crash while it was created: no job can carry its id unless a journal exists.
    if ((await fs.stat(`${dir}/journal.jsonl`))?.size) {
      throw new OutcomeError(
        `${dir}/store.json is unreadable but the sweep has a journal; restore store.json, or ` +
          "plan into a new sweep directory",
      );
    }
    await fs.writeTextFile(`${dir}/store.json`, text);
  }
  return (await readStoreId(fs, dir)) ?? fresh;
}

/** The journal grows by this much (bytes) before a writer compacts it into the snapshot. */
export const COMPACT_BYTES = 8 * 1024 * 1024;

/** `snapshot.json` (format 2; an earlier autoexp wrote the bare state, a cache it never read). */
interface SnapshotFile {
  readonly format: "autoexp.store";
  readonly version: 2;
  /** The last event folded into `state`. */
  readonly seq: number;
  readonly state: StoreState;
  readonly codec: CodecState;
}

interface StoreRead {
  state: StoreState;
  codec: JournalCodec;
  warnings: string[];
  bytes: number;
  /** The bytes of the journal's compaction header (0: never compacted). */
  compactedBytes: number;
  torn: boolean;
  snapshotSeq: number;
}

async function readSnapshot(fs: FileSystem, dir: string): Promise<SnapshotFile | null> {
  let text: string;
  try {
    text = await fs.readTextFile(`${dir}/snapshot.json`);
  } catch {
    return null;
  }
  try {
    const snap = JSON.parse(text);
    return snap?.format === "autoexp.store" && snap.version === 2 ? snap : null;
  } catch {
    return null;
  }
}

/**
 * Reads the snapshot and replays the journal after it; a partial last line (a crash while
 * appending) is ignored. A compaction by another process between reading the two is noticed
 * (the journal then starts after the snapshot read) and the read is repeated.
 */
async function readStore(fs: FileSystem, dir: string): Promise<StoreRead> {
  for (let tries = 0;; tries++) {
    const snap = await readSnapshot(fs, dir);
    const journal = `${dir}/journal.jsonl`;
    let bytes: Uint8Array = new Uint8Array();
    try {
      bytes = await fs.readFile(journal);
    } catch { /* no journal yet */ }
    const text = new TextDecoder().decode(bytes);
    const head = text.startsWith('{"compacted":')
      ? Number(/^\{"compacted":(\d+)\}/.exec(text)?.[1] ?? NaN)
      : 0;
    const from = snap?.seq ?? 0;
    if (head > from || Number.isNaN(head)) {
      if (tries < 3) continue; // compacted in between: read again
      throw new OutcomeError(
        `the sweep's journal ${journal} starts after event ${head}, which only ${dir}/snapshot.json ` +
          `holds, but that file is ${snap ? `older (event ${from})` : "missing or unreadable"}. ` +
          "Restore snapshot.json (from a backup), or start the sweep again in a new directory",
      );
    }
    return {
      ...replay(text, journal, snap),
      bytes: bytes.length,
      compactedBytes: head ? text.indexOf("\n") + 1 : 0,
      snapshotSeq: snap?.seq ?? -1,
    };
  }
}

function replay(text: string, journal: string, snap: SnapshotFile | null) {
  const warnings: string[] = [];
  let state = snap ? snap.state : emptyState();
  const codec = new JournalCodec(snap?.codec);
  const after = snap?.seq ?? 0;
  const lines = text.split("\n");
  const last = lines.pop() ?? "";
  const torn = last !== "";
  if (torn) {
    warnings.push(`ignored an incomplete last line in ${journal} (a crash while writing it)`);
  }
  for (const line of lines) {
    if (!line.trim()) continue;
    let evs: StoreEvent[];
    try {
      evs = codec.decode(line, after);
    } catch {
      warnings.push(`ignored an unreadable line in ${journal}: ${line.slice(0, 80)}`);
      continue;
    }
    for (const ev of evs) state = applyEvent(state, ev);
  }
  return { state, codec, warnings, torn };
}

/**
 * The events of a journal's text (format 1 or 2) after its last compaction, for tools and tests
 * that look at what was journaled.
 */
export function parseJournal(text: string, codec?: CodecState): StoreEvent[] {
  const c = new JournalCodec(codec && structuredClone(codec));
  const out: StoreEvent[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      out.push(...c.decode(line));
    } catch { /* a line being written */ }
  }
  return out;
}
