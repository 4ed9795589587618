/**
 * What `submit` and `monitor` print while they follow a sweep: timestamped lines, one per
 * meaningful event (a checkpoint and its actions on one line: `12:04:31 lr0.001  checkpoint 40
 * saved · convert_to_hf.sh ok · evaluate.sh ok`), states in their colours, `-q`/`-v` levels,
 * `--json` (one object per line); on a terminal a sticky bottom line with counts by state,
 * progress over all runs and an ETA; elsewhere a summary line every minute.
 *
 * The monitor says each message as a line and a {@link SayNote} (what it is about); this module
 * only arranges them. Its clock and output are given, so tests drive it line by line.
 *
 * @module
 */
import { stripVTControlCharacters } from "node:util";
import type { RunView } from "../monitor/monitor.ts";
import type { SayNote } from "../monitor/step.ts";
import { shortDuration } from "./output.ts";
import { pythonStr } from "../config/python_str.ts";
import type { Host } from "../runtime/host.ts";
import { makeStyle, type Style, truncate, visibleWidth } from "./style.ts";

/** How much the stream shows. */
export type StreamLevel = "quiet" | "normal" | "verbose";

/** Options of a {@link StreamView}. */
export interface StreamOptions {
  readonly out: (text: string) => void;
  readonly now: () => Date;
  readonly style: Style;
  readonly level: StreamLevel;
  /** One JSON object per event instead of text. */
  readonly json?: boolean;
  /** Standard output is a terminal: keep a status line at the bottom. */
  readonly terminal?: boolean;
  /** The terminal's width (the status line is cut to it). */
  readonly columns?: () => number | null;
  /** Run names, to align the text after them. */
  readonly runs?: readonly string[];
  /** How long a checkpoint's line waits for its actions before it is printed as it is (ms). */
  readonly partWaitMs?: number;
  /** Interval of the summary line when not on a terminal (ms). */
  readonly summaryEveryMs?: number;
}

interface Group {
  readonly run: string;
  readonly of: number;
  readonly texts: Map<number, { text: string; failed: boolean }>;
  readonly since: number;
}

/** SLURM's reasons for a pending job that say only that the queue is doing its work. */
const ROUTINE_WAITS: ReadonlySet<string> = new Set(["None", "Resources", "Priority"]);

/** Details that only repeat the state word. */
function detailOf(note: Extract<SayNote, { kind: "state" }>): string {
  const d = (note.detail ?? "").trim();
  if (note.state === "pending" && d.startsWith("pending")) {
    return note.queueReason ? `waiting: ${note.queueReason}` : "";
  }
  if (d === note.state || d === "running" || (note.state === "completed" && d === "exited 0")) {
    return "";
  }
  // "failed with exit code 1" after the word "failed": "exit code 1".
  return d.startsWith(`${note.state} `) ? d.slice(note.state.length + 1).replace(/^with /, "") : d;
}

/** Arranges the monitor's messages for a person or a program (see the module doc). */
export class StreamView {
  readonly #o: StreamOptions;
  readonly #groups = new Map<string, Group>();
  /** Groups printed before all their parts came: later parts print alone. */
  readonly #late = new Set<string>();
  #nameWidth: number;
  #sticky = "";
  #lastSummary = 0;
  /** Samples of (time, iterations done over all runs) for the ETA. */
  #samples: { t: number; done: number }[] = [];

  constructor(opts: StreamOptions) {
    this.#o = opts;
    this.#nameWidth = Math.min(32, Math.max(0, ...(opts.runs ?? []).map((r) => r.length)));
    this.#lastSummary = opts.now().getTime();
  }

  /** A message of the monitor (or of submit). */
  say(line: string, note?: SayNote): void {
    const o = this.#o;
    if (!line && !note) return;
    if (o.json) {
      if (!line) return;
      const fields = note ? { ...note } : {};
      o.out(`${JSON.stringify({ time: o.now().toISOString(), ...fields, line })}\n`);
      return;
    }
    if (!note) {
      if (o.level !== "quiet") this.#print(null, line);
      return;
    }
    switch (note.kind) {
      case "state":
        return this.#state(note);
      case "run":
        if (o.level === "quiet" && !note.bad && !/^restarting/.test(note.text)) return;
        return this.#print(note.run, note.bad ? o.style.error(note.text) : note.text);
      case "part":
        return this.#part(note);
    }
  }

  /**
   * Prints checkpoint lines whose actions took too long, and the status line from `views` (the
   * runs now); call about once a second.
   */
  tick(views?: () => readonly RunView[]): void {
    const now = this.#o.now().getTime();
    for (const [key, g] of this.#groups) {
      if (now - g.since >= (this.#o.partWaitMs ?? 30_000)) this.#flushGroup(key, g);
    }
    if (!views || this.#o.json) return;
    // The runs' view is gathered only when a line shows it (each second on a terminal).
    if (this.#o.terminal) {
      this.#sticky = this.#summary(views(), now);
      this.#redraw();
    } else if (now - this.#lastSummary >= (this.#o.summaryEveryMs ?? 60_000)) {
      this.#lastSummary = now;
      this.#print(null, this.#summary(views(), now));
    }
  }

  /** The opening line: the sweep and its runs' counts now. */
  banner(what: string, views: readonly RunView[]): void {
    if (this.#o.json) return;
    const counts = views.length ? ` (${this.#summary(views, this.#o.now().getTime())})` : "";
    this.#print(null, `${this.#o.style.bold(what)}${counts}`);
  }

  /** Prints what is still waiting and removes the status line. */
  close(): void {
    for (const [key, g] of this.#groups) this.#flushGroup(key, g);
    if (this.#sticky && this.#o.terminal) this.#o.out("\r\x1b[2K");
    this.#sticky = "";
  }

  /** The line a banner or the sticky line shows: counts by state, progress, ETA. */
  #summary(views: readonly RunView[], now: number): string {
    const s = this.#o.style;
    const counts = new Map<string, number>();
    let done = 0;
    let total = 0;
    let finished = 0;
    for (const v of views) {
      const word = v.final ? v.state : v.state === "submitting" ? "pending" : v.state;
      counts.set(word, (counts.get(word) ?? 0) + 1);
      if (v.final) finished++;
      if (v.total) {
        total += v.total;
        done += v.final && v.state === "completed" ? v.total : Math.min(v.iteration ?? 0, v.total);
      }
    }
    const parts = [`${finished}/${views.length} ended`];
    for (const [state, n] of counts) parts.push(s.state(state, `${n} ${state}`));
    if (total) {
      parts.push(`${Math.floor((100 * done) / total)}%`);
      this.#samples.push({ t: now, done });
      this.#samples = this.#samples.filter((x) => now - x.t <= 120_000);
      const first = this.#samples[0];
      const rate = first && now > first.t ? (done - first.done) / ((now - first.t) / 1000) : 0;
      if (rate > 0 && done < total) parts.push(`~${shortDuration((total - done) / rate)} left`);
    }
    return parts.join(" · ");
  }

  #state(note: Extract<SayNote, { kind: "state" }>): void {
    const o = this.#o;
    const active = note.state === "pending" || note.state === "running" ||
      note.state === "submitting";
    if (o.level === "quiet" && active) return;
    // Waiting for resources or priority is what a queue does; other reasons say something.
    if (
      o.level === "normal" && note.state === "pending" && !detailOf(note).startsWith("requeued") &&
      ROUTINE_WAITS.has(note.queueReason ?? "None")
    ) return;
    const bits = [o.style.state(note.state)];
    if (note.job) bits.push(`job ${note.job}`);
    if (note.attempt > 1) bits.push(`attempt ${note.attempt}`);
    const d = detailOf(note);
    if (d) bits.push(d);
    this.#print(note.run, bits.join(" · "));
  }

  #part(note: Extract<SayNote, { kind: "part" }>): void {
    const o = this.#o;
    const key = `${note.group}`;
    if (o.level === "verbose" || this.#late.has(key)) {
      if (note.text) this.#print(note.run, note.failed ? o.style.error(note.text) : note.text);
      return;
    }
    let g = this.#groups.get(key);
    if (!g) {
      g = { run: note.run, of: note.of, texts: new Map(), since: o.now().getTime() };
      this.#groups.set(key, g);
    }
    g.texts.set(note.index, { text: note.text, failed: !!note.failed });
    if (g.texts.size >= g.of) this.#flushGroup(key, g);
  }

  #flushGroup(key: string, g: Group): void {
    this.#groups.delete(key);
    if (g.texts.size < g.of) this.#late.add(key);
    const o = this.#o;
    const parts = [...g.texts].sort(([a], [b]) => a - b).map(([, p]) => p)
      .filter((p) => p.text && (o.level !== "quiet" || p.failed));
    if (!parts.length) return;
    const text = parts.map((p) => (p.failed ? o.style.error(p.text) : p.text)).join(" · ");
    this.#print(g.run, text);
  }

  #print(run: string | null, text: string): void {
    const o = this.#o;
    const time = o.style.dim(o.now().toTimeString().slice(0, 8));
    if (run && run.length > this.#nameWidth && run.length <= 32) this.#nameWidth = run.length;
    const who = run === null ? "" : `${run.padEnd(this.#nameWidth)}  `;
    const clear = this.#sticky && o.terminal ? "\r\x1b[2K" : "";
    o.out(`${clear}${time} ${who}${text}\n`);
    if (clear) this.#redraw();
  }

  #redraw(): void {
    const o = this.#o;
    const width = o.columns?.() ?? null;
    const shown = width && visibleWidth(this.#sticky) > width - 1
      ? truncate(stripVTControlCharacters(this.#sticky), width - 1)
      : this.#sticky;
    o.out(`\r\x1b[2K${o.style.bold(shown)}`);
  }
}

/** The stream options a command line gives (`-q`, `-v`, `--json`). */
export interface StreamFlags {
  readonly quiet?: boolean;
  readonly verbose?: boolean;
  readonly json?: boolean;
}

/** A stream on this process's standard output for a sweep's runs. */
export function streamFor(
  r: { output: { out(text: string): void }; host: Host },
  runs: readonly string[],
  flags: StreamFlags,
): StreamView {
  return new StreamView({
    out: (t) => r.output.out(t),
    now: () => r.host.now(),
    style: makeStyle(r.host.color && !flags.json),
    level: flags.quiet ? "quiet" : flags.verbose ? "verbose" : "normal",
    json: flags.json === true,
    terminal: r.host.terminal === true && !flags.json,
    columns: () => r.host.columns?.() ?? null,
    runs,
  });
}

/** Hydra's launch list of the runs submitted: `#0 : lr=0.001` (at most `max` lines). */
export function launchList(
  runs: readonly { index: number; name: string; values: Readonly<Record<string, unknown>> }[],
  max = 12,
): string[] {
  const lines = runs.slice(0, max).map((x) => {
    const vals = Object.entries(x.values).map(([k, v]) => `${k}=${pythonStr(v)}`).join(" ");
    return `#${x.index} : ${vals || x.name}`;
  });
  if (runs.length > max) lines.push(`... and ${runs.length - max} more`);
  return lines;
}
