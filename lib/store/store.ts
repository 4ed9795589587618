/**
 * The sweep's store on disk (`<sweep>/.autoexp/`): an append-only journal (`journal.jsonl`,
 * each event fsync'd before it counts), an atomically replaced snapshot (`snapshot.json`, a
 * cache of the journal's fold), and a lock (`lock`) so only one autoexp process drives a sweep.
 * A crash at any moment loses nothing: the journal is replayed on open; a partial last line
 * (a crash while writing it) is ignored.
 *
 * @module
 */
import { OutcomeError } from "../errors.ts";
import type { FileSystem, Host } from "../runtime/mod.ts";
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
        `since ${owner.since}); use autoexp status to look at it, or stop that process first`,
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

  /** Opens (creating if needed) the store of a sweep directory and replays its journal. */
  static async open(fs: FileSystem, host: Host, sweepDir: string): Promise<SweepStore> {
    const dir = SweepStore.dirOf(sweepDir);
    await fs.mkdirp(dir);
    let id: string | undefined;
    try {
      id = JSON.parse(await fs.readTextFile(`${dir}/store.json`)).id;
    } catch { /* a new store */ }
    if (!id) {
      const fresh = crypto.randomUUID().replaceAll("-", "").slice(0, 8);
      await fs.createExclusive(
        `${dir}/store.json`,
        JSON.stringify({ id: fresh, created: host.now().toISOString() }) + "\n",
      );
      id = JSON.parse(await fs.readTextFile(`${dir}/store.json`)).id as string;
    }
    const warnings: string[] = [];
    let state = emptyState();
    try {
      const snap = JSON.parse(await fs.readTextFile(`${dir}/snapshot.json`));
      if (snap?.version === 1) state = snap;
    } catch { /* no snapshot yet, or unreadable: the journal has everything */ }
    const journal = `${dir}/journal.jsonl`;
    let text = "";
    try {
      text = await fs.readTextFile(journal);
    } catch { /* empty */ }
    const lines = text.split("\n");
    const last = lines.pop() ?? "";
    if (last !== "") {
      // A crash in the middle of an append: terminate the line so later appends stay valid.
      warnings.push(`ignored an incomplete last line in ${journal} (a crash while writing it)`);
      await fs.appendLine(journal, "", true);
    }
    for (const line of lines) {
      if (!line.trim()) continue;
      let ev: StoreEvent;
      try {
        ev = JSON.parse(line);
      } catch {
        warnings.push(`ignored an unreadable line in ${journal}: ${line.slice(0, 80)}`);
        continue;
      }
      state = applyEvent(state, ev);
    }
    return new SweepStore(fs, host, dir, id, state, warnings);
  }

  /** Appends an event durably (fsync), then applies it. */
  async append(ev: NewEvent): Promise<StoreEvent> {
    const full = {
      ...ev,
      seq: this.state.seq + 1,
      at: this.host.now().toISOString(),
    } as StoreEvent;
    await this.fs.appendLine(`${this.dir}/journal.jsonl`, JSON.stringify(full), true);
    this.state = applyEvent(this.state, full);
    return full;
  }

  /** Replaces the snapshot atomically (a cache; the journal stays the truth). */
  async snapshot(): Promise<void> {
    await this.fs.writeTextFile(`${this.dir}/snapshot.json`, JSON.stringify(this.state));
  }

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
    for (let tries = 0; tries < 3; tries++) {
      if (await this.fs.createExclusive(path, JSON.stringify(me))) {
        return async () => {
          const cur = await this.readLock(path);
          if (cur && cur.pid === me.pid && cur.host === me.host) await this.fs.remove(path);
        };
      }
      const owner = await this.readLock(path);
      if (owner && owner.pid === me.pid && owner.host === me.host) return async () => {};
      const stale = !owner || (owner.host === me.host && !(await this.alive(owner.pid)));
      if (!stale) throw new LockedError(owner!, path);
      await this.fs.remove(path);
    }
    throw new Error(`could not take the lock ${path}`);
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
