/**
 * The journal's lines (format 2): what {@link StoreEvent}s look like on disk, and back.
 *
 * A long sweep journals a few events per action (issue 16: 400,000 actions); format 1 wrote each
 * event as one line with the whole action spec and placeholder context. Format 2 writes one line
 * per batch (the events one step decided, journaled with one fsync), and inside it refers to
 * what the journal said before instead of repeating it:
 *
 * - `{"seq":F,"to":L,"at":T,"e":[...],"specs":{ref: spec}}`: events F..L (consecutive), all at T.
 * - `action_queued`: `spec` is a ref (`specs` of the line that first used it holds the spec);
 *   `ctx` holds only the placeholder values that differ from the run's previous action's
 *   (`drop`: names it no longer has); `i` instead of `id` when the id is the run's last fired
 *   key and position (`<run>|<key>|<i>`); `attempt` and `source` left out when they are the
 *   last fired event's.
 *   The run is left out when it is the last fired event's; the values of the run's last fired
 *   key count as given.
 * - `action_started` / `action_done`: `a` (the seq of the action's `action_queued`) instead of
 *   `id`; an `action_done` right after its `action_started` stands for both (`s`); a `detail`
 *   naming the run's directory once is `rel` (the text before and after it).
 * - `fired`: `kd` (the identity values that changed since the run's last fired key of the same
 *   event; then `event` is that key's) instead of `key`; `metadata` only when it is not the
 *   identity; the line that fired it cut to its first 60 characters.
 *
 * Decoding needs what was decoded before ({@link JournalCodec}, kept in the snapshot when the
 * journal is compacted). Lines of format 1 (one event with `type`) are read as they are, so a
 * sweep journaled by an earlier autoexp is monitored on. The first line of a compacted journal
 * is `{"compacted":S}`: events up to S are in the snapshot.
 *
 * @module
 */
import type { EventActionSpec } from "../monitoring/spec_types.ts";
import type { StoreEvent } from "./state.ts";

/** What decoding the journal so far knows (the references later lines make). */
export interface CodecState {
  /** Action specs by ref. */
  specs: Record<string, EventActionSpec>;
  /** Per run: the placeholder values of its last queued action. */
  ctx: Record<string, Record<string, string>>;
  /** Per run: its last fired event (key, event, attempt). */
  fired: Record<string, { key: string; event: string; attempt: number }>;
  /** Open actions: id by the seq of their `action_queued`. */
  open: Record<string, string>;
  /** The run of the last fired event (an `action_queued` of the same run leaves it out). */
  last?: string;
}

/** The reading and writing side of the journal's references; one per store. */
export class JournalCodec {
  readonly state: CodecState;
  /** Inverse of `state.open`. */
  readonly #handle = new Map<string, number>();
  /** Refs by the spec's JSON. */
  readonly #refOf = new Map<string, string>();

  constructor(state?: CodecState) {
    this.state = state ?? { specs: {}, ctx: {}, fired: {}, open: {} };
    for (const [n, id] of Object.entries(this.state.open)) this.#handle.set(id, Number(n));
    for (const [ref, spec] of Object.entries(this.state.specs)) {
      this.#refOf.set(JSON.stringify(spec), ref);
    }
  }

  /** Encodes events (numbered, applied in order) as journal lines, and notes them. */
  encode(events: readonly StoreEvent[]): string[] {
    const lines: string[] = [];
    let batch: Record<string, unknown>[] = [];
    let specs: Record<string, EventActionSpec> = {};
    let first = 0, last = 0, at = "";
    /** The id of the action the batch's last entry started, if it is an action_started. */
    let startedLast: string | null = null;
    const flush = () => {
      if (!batch.length) return;
      const line: Record<string, unknown> = { seq: first, to: last, at, e: batch };
      if (Object.keys(specs).length) line.specs = specs;
      lines.push(JSON.stringify(line));
      batch = [];
      specs = {};
      startedLast = null;
    };
    for (const ev of events) {
      if (batch.length && (ev.at !== at || ev.seq !== last + 1)) flush();
      if (!batch.length) {
        first = ev.seq;
        at = ev.at;
      }
      last = ev.seq;
      const rec = this.#encodeOne(ev, specs);
      if (ev.type === "action_done" && startedLast === ev.id && rec.a !== undefined) {
        // An action that ended in the step that started it: one entry (`s`: started just before).
        batch.pop();
        rec.s = 1;
      }
      batch.push(rec);
      startedLast = ev.type === "action_started" ? ev.id : null;
      this.note(ev);
    }
    flush();
    return lines;
  }

  #encodeOne(ev: StoreEvent, specs: Record<string, EventActionSpec>): Record<string, unknown> {
    const { seq: _seq, at: _at, ...rest } = ev;
    switch (ev.type) {
      case "action_queued": {
        const out: Record<string, unknown> = { type: ev.type };
        if (this.state.last !== ev.run) out.run = ev.run;
        const f = this.state.fired[ev.run];
        const cut = ev.id.lastIndexOf("|");
        const pos = ev.id.slice(cut + 1);
        if (f && /^\d+$/.test(pos) && ev.id === `${ev.run}|${f.key}|${pos}`) out.i = Number(pos);
        else out.id = ev.id;
        if (!f || f.attempt !== ev.attempt) out.attempt = ev.attempt;
        if (!f || f.event !== ev.source) out.source = ev.source;
        out.spec = this.#ref(ev.spec, specs);
        const before = this.#ctxBase(ev.run);
        const ctx: Record<string, string> = {};
        for (const [k, v] of Object.entries(ev.context)) if (before[k] !== v) ctx[k] = v;
        const drop = Object.keys(before).filter((k) => !(k in ev.context));
        if (Object.keys(ctx).length) out.ctx = ctx;
        if (drop.length) out.drop = drop;
        return out;
      }
      case "action_started":
      case "action_done": {
        const n = this.#handle.get(ev.id);
        if (n === undefined) return rest;
        const { id: _id, ...more } = rest as { id: string; detail?: string };
        const dir = this.#runDir(ev.id);
        if (ev.type === "action_done" && dir) {
          const parts = ev.detail.split(dir);
          if (parts.length === 2) {
            delete more.detail;
            return { ...more, rel: parts, a: n };
          }
        }
        return { ...more, a: n };
      }
      case "fired": {
        const prev = this.state.fired[ev.run];
        const entries = keyEntries(ev.key, ev.event);
        const prevEntries = prev && prev.event === ev.event ? keyEntries(prev.key, ev.event) : null;
        const out: Record<string, unknown> = { type: ev.type, run: ev.run };
        if (!prev || prev.attempt !== ev.attempt) out.attempt = ev.attempt;
        if (entries && prevEntries && sameNames(entries, prevEntries)) {
          const kd: Record<string, string> = {};
          entries.forEach(([k, v], i) => {
            if (prevEntries[i][1] !== v) kd[k] = v;
          });
          out.kd = kd; // the event is the last one's
        } else {
          out.event = ev.event;
          out.key = ev.key;
        }
        if (!entries || !sameRecord(ev.metadata, Object.fromEntries(entries))) {
          out.metadata = ev.metadata;
        }
        // Where it came from (a log line, `checkpoint_watch: ...`): its start is enough.
        if (ev.line) {
          out.line = ev.line.length > LINE_CHARS ? `${ev.line.slice(0, LINE_CHARS)}...` : ev.line;
        }
        return out;
      }
      default:
        return rest;
    }
  }

  #ref(spec: EventActionSpec, specs: Record<string, EventActionSpec>): string {
    const json = JSON.stringify(spec);
    let ref = this.#refOf.get(json);
    if (ref === undefined) {
      ref = shortHash(json);
      while (this.state.specs[ref]) ref = shortHash(`${ref}${json}`);
      this.#refOf.set(json, ref);
      this.state.specs[ref] = spec;
      specs[ref] = spec;
    }
    return ref;
  }

  /**
   * Decodes one journal line (format 1 or 2) into events and notes them. Lines whose events all
   * come at or before `after` are skipped without decoding (they are in the snapshot).
   */
  decode(line: string, after = 0): StoreEvent[] {
    const raw = JSON.parse(line);
    if (typeof raw !== "object" || raw === null) throw new Error("not an object");
    if ("compacted" in raw) return [];
    if ("type" in raw) {
      const ev = raw as StoreEvent;
      if (ev.seq > after) this.note(ev);
      return ev.seq > after ? [ev] : [];
    }
    if (typeof raw.to === "number" && raw.to <= after) return [];
    if (raw.specs) {
      for (const [ref, spec] of Object.entries(raw.specs as Record<string, EventActionSpec>)) {
        this.state.specs[ref] = spec;
        this.#refOf.set(JSON.stringify(spec), ref);
      }
    }
    const out: StoreEvent[] = [];
    let seq = raw.seq - 1;
    for (const rec of raw.e as Record<string, unknown>[]) {
      seq++;
      if (rec.s !== undefined) {
        const id = this.state.open[String(rec.a)];
        const st = { type: "action_started", id, seq: seq++, at: raw.at } as StoreEvent;
        out.push(st);
        this.note(st);
      }
      const ev = this.#decodeOne(rec, seq, raw.at);
      out.push(ev);
      this.note(ev);
    }
    return out;
  }

  #decodeOne(rec: Record<string, unknown>, seq: number, at: string): StoreEvent {
    const { s: _s, a, ...rest } = rec;
    switch (rec.type) {
      case "action_queued": {
        const run = (rec.run as string | undefined) ?? this.state.last!;
        const f = this.state.fired[run];
        const id = typeof rec.i === "number" ? `${run}|${f?.key}|${rec.i}` : rec.id as string;
        const before = this.#ctxBase(run);
        const context: Record<string, string> = {
          ...before,
          ...((rec.ctx as Record<string, string> | undefined) ?? {}),
        };
        for (const k of (rec.drop as string[] | undefined) ?? []) delete context[k];
        const spec = typeof rec.spec === "string"
          ? this.state.specs[rec.spec]
          : rec.spec as EventActionSpec;
        return {
          type: "action_queued",
          id,
          run,
          attempt: (rec.attempt as number | undefined) ?? f?.attempt ?? 0,
          source: (rec.source as string | undefined) ?? f?.event ?? "",
          spec,
          context,
          seq,
          at,
        };
      }
      case "action_started":
      case "action_done": {
        const id = a !== undefined ? this.state.open[String(a)] : rec.id as string;
        const { rel, ...more } = rest;
        if (Array.isArray(rel)) more.detail = rel.join(this.#runDir(id) ?? "");
        return { ...more, id, seq, at } as StoreEvent;
      }
      case "fired": {
        const run = rec.run as string;
        const prev = this.state.fired[run];
        const event = (rec.event as string | undefined) ?? prev.event;
        let key = rec.key as string | undefined;
        if (key === undefined) {
          const entries = keyEntries(prev.key, event)!.map((
            [k, v],
          ): [string, string] => [k, (rec.kd as Record<string, string>)[k] ?? v]);
          key = JSON.stringify([event, entries]);
        }
        const metadata = (rec.metadata as Record<string, string> | undefined) ??
          Object.fromEntries(keyEntries(key, event) ?? []);
        return {
          type: "fired",
          run,
          attempt: (rec.attempt as number | undefined) ?? prev?.attempt ?? 0,
          key,
          event,
          metadata,
          line: (rec.line as string | undefined) ?? "",
          seq,
          at,
        };
      }
      default:
        return { ...rest, seq, at } as StoreEvent;
    }
  }

  /**
   * What an `action_queued`'s `ctx` is relative to: the run's last action's values with the
   * identity values of its last fired event over them.
   */
  #ctxBase(run: string): Record<string, string> {
    const before = this.state.ctx[run] ?? {};
    const f = this.state.fired[run];
    const entries = f ? keyEntries(f.key, f.event) : null;
    return entries ? { ...before, ...Object.fromEntries(entries) } : before;
  }

  /** The run directory of an action's run (its output paths are under it), if known. */
  #runDir(id: string): string | undefined {
    const dir = this.state.ctx[id.slice(0, id.indexOf("|"))]?.run_dir;
    return dir && dir.length > 1 ? dir : undefined;
  }

  /** Notes an event (written or read) for the references of later lines. */
  note(ev: StoreEvent): void {
    switch (ev.type) {
      case "action_queued":
        this.state.ctx[ev.run] = ev.context;
        this.state.open[String(ev.seq)] = ev.id;
        this.#handle.set(ev.id, ev.seq);
        break;
      case "action_done": {
        const n = this.#handle.get(ev.id);
        if (n !== undefined) {
          delete this.state.open[String(n)];
          this.#handle.delete(ev.id);
        }
        break;
      }
      case "fired":
        this.state.fired[ev.run] = { key: ev.key, event: ev.event, attempt: ev.attempt };
        this.state.last = ev.run;
        break;
    }
  }
}

/** How much of a fired event's line the journal keeps. */
const LINE_CHARS = 60;

/** The identity entries of a dedupe key (`[event, [[k, v], ...]]`), or null for another shape. */
function keyEntries(key: string, event: string): [string, string][] | null {
  try {
    const k = JSON.parse(key);
    if (!Array.isArray(k) || k.length !== 2 || k[0] !== event || !Array.isArray(k[1])) return null;
    for (const e of k[1]) {
      if (!Array.isArray(e) || e.length !== 2 || typeof e[0] !== "string") return null;
      if (typeof e[1] !== "string") return null;
    }
    // Only keys that encode back to themselves.
    if (JSON.stringify([event, k[1]]) !== key) return null;
    return k[1];
  } catch {
    return null;
  }
}

function sameNames(a: [string, string][], b: [string, string][]): boolean {
  return a.length === b.length && a.every(([k], i) => b[i][0] === k);
}

function sameRecord(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>) {
  const ka = Object.keys(a), kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => a[k] === b[k]);
}

/** 12 hex digits of FNV-1a (64 bit) of a text. */
function shortHash(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < text.length; i++) {
    h ^= BigInt(text.charCodeAt(i));
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, "0").slice(0, 12);
}
