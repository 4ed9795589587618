/**
 * Incremental log tailing by byte offset: each poll returns the complete lines appended since
 * the last one, so the monitor matches every line exactly once, across polls and restarts.
 *
 * What it owns:
 * - Reading only new bytes, bounded per poll (`maxBytesPerPoll`), so a burst is consumed over
 *   several polls instead of in one huge read.
 * - Splitting on `\n` (a trailing `\r` is dropped) and decoding UTF-8 *per run of complete
 *   lines*, never per chunk: a character split across two writes decodes correctly, and invalid
 *   bytes become U+FFFD instead of throwing.
 * - A partial last line is not consumed: `offset` stays at its start and its bytes are read
 *   again once its newline has arrived. So the serialisable {@link TailState} needs no buffer
 *   and a partial line is never lost or duplicated by a restart. A partial line longer than
 *   `maxLineBytes` is emitted cut (with {@link CUT_MARKER}) and the rest of it, up to the next
 *   newline, is skipped: very long lines do not grow memory.
 * - Noticing when the file under the path changed: `replaced` (another file: its identity
 *   changed, e.g. renamed over or a symlink retargeted) and `truncated` (the same file got
 *   shorter than what was read, or the bytes just before `offset` are no longer the ones read,
 *   i.e. it was rewritten in place, as SLURM does when a job reuses an `--output` path). Both
 *   restart from byte 0.
 * - A missing file is not an error: the poll reports `exists: false` and waits.
 *
 * File access goes through the {@link TailSource} port (`lib/runtime/tail_source.ts`): one opened
 * handle answers both the identity/size and the read, so a rename between the two cannot mix two
 * files.
 *
 * @module
 */
import type { TailSource } from "../runtime/tail_source.ts";

/**
 * Where a tail stands in one log file. Plain data: persist it with `JSON.stringify` and resume
 * with {@link LogTail.fromState}; a resumed tail never re-emits lines it already returned.
 */
export interface TailState {
  readonly path: string;
  /** Bytes consumed: the end of the last complete (or skipped) line. */
  readonly offset: number;
  /** File size seen at the last poll (0 before the file was first seen). */
  readonly size: number;
  readonly mtimeMs: number;
  /** Identity of the file being read; null before it was first seen or when unknown. */
  readonly fileId: string | null;
  /** Hex of the last up to {@link ANCHOR_BYTES} bytes before `offset`, to detect rewrites. */
  readonly anchor: string;
  /** Bytes after `offset` already read and known to be an incomplete last line. */
  readonly pending: number;
  /** True while skipping the rest of an over-long line that was already emitted cut. */
  readonly skipping: boolean;
  /** Lines emitted from the current file so far. */
  readonly lines: number;
}

/** The outcome of one poll. */
export interface TailPoll {
  /** Complete new lines, without `\n` / `\r\n`. */
  readonly lines: string[];
  /** The file has bytes it did not have at the previous poll (activity, for stall detection). */
  readonly grew: boolean;
  /** The same file got shorter or was rewritten in place; reading restarted at 0. */
  readonly truncated: boolean;
  /** A different file is now under the path; reading restarted at 0. */
  readonly replaced: boolean;
  /** False when the path does not exist (yet); nothing else changes then. */
  readonly exists: boolean;
  /** Unread bytes left after this poll (more than one poll's worth, or a partial line). */
  readonly behind: number;
}

/** Limits of a tail. */
export interface TailOptions {
  /** Most bytes read per poll; default 8 MiB. At least 2 x `maxLineBytes`. */
  readonly maxBytesPerPoll?: number;
  /** Lines longer than this are cut; default 64 KiB (bytes for a partial line, UTF-16 units otherwise). */
  readonly maxLineBytes?: number;
}

/** Options of one poll. */
export interface PollOptions {
  /**
   * Also emit a trailing partial line as complete (when the writer is known to be gone, e.g.
   * the job ended with no final newline). Only once the whole file has been read.
   */
  readonly flush?: boolean;
}

/** Appended to a line that was cut because it was longer than `maxLineBytes`. */
export const CUT_MARKER = " [... line cut by autoexp]";
/** How many bytes before `offset` are remembered to detect a file rewritten in place. */
export const ANCHOR_BYTES = 64;
export const DEFAULT_MAX_BYTES_PER_POLL = 8 << 20;
export const DEFAULT_MAX_LINE_BYTES = 64 << 10;

const NL = 0x0a;

/** The state of a tail that has read nothing of `path` yet. */
export function newTailState(path: string): TailState {
  return {
    path,
    offset: 0,
    size: 0,
    mtimeMs: 0,
    fileId: null,
    anchor: "",
    pending: 0,
    skipping: false,
    lines: 0,
  };
}

/**
 * Reads what was appended to `state.path` since `state` and returns the new complete lines with
 * the next state. Pure apart from reading through `source`.
 *
 * @example
 * let state = newTailState("/logs/train_123.out");
 * const r = await pollTail(source, state);
 * state = r.state; // persist JSON.stringify(state) to resume later without repeats
 */
export async function pollTail(
  source: TailSource,
  state: TailState,
  options: TailOptions & PollOptions = {},
): Promise<TailPoll & { state: TailState }> {
  const maxLine = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const maxBytes = Math.max(options.maxBytesPerPoll ?? DEFAULT_MAX_BYTES_PER_POLL, 2 * maxLine);
  const handle = await source.open(state.path);
  if (!handle) {
    return {
      state,
      lines: [],
      grew: false,
      truncated: false,
      replaced: false,
      exists: false,
      behind: 0,
    };
  }
  try {
    const st = await handle.stat();
    let s = state;
    let truncated = false;
    let replaced = false;
    if (state.fileId !== null && st.fileId !== null && st.fileId !== state.fileId) {
      replaced = true;
      s = newTailState(state.path);
    } else if (st.size < state.offset) {
      truncated = true;
      s = newTailState(state.path);
    }
    // Nothing new: same file, same size and mtime, and everything after `offset` already read.
    const unchanged = !truncated && !replaced && st.size === state.size &&
      st.mtimeMs === state.mtimeMs && st.fileId === state.fileId &&
      state.offset + state.pending >= st.size;
    if (unchanged && !(options.flush && st.size > state.offset)) {
      return {
        state,
        lines: [],
        grew: false,
        truncated,
        replaced,
        exists: true,
        behind: st.size - state.offset,
      };
    }

    // Read from a little before `offset` to check the bytes there are still the ones we read.
    let anchorLen = Math.min(s.anchor.length / 2, s.offset);
    // Ask only for what the file has, so an idle poll does not allocate a full buffer.
    const want = (from: number) => Math.min(maxBytes, Math.max(0, st.size - from));
    let buf = await handle.read(s.offset - anchorLen, anchorLen + want(s.offset));
    if (anchorLen > 0 && toHex(buf.subarray(0, anchorLen)) !== s.anchor) {
      truncated = true;
      s = newTailState(state.path);
      anchorLen = 0;
      buf = await handle.read(0, want(0));
    }
    const data = buf.subarray(anchorLen);
    const end = s.offset + data.length;
    const size = Math.max(st.size, end);
    const atEof = end >= size;
    const prevSize = truncated || replaced ? 0 : state.size;
    const cut = splitLines(data, s.skipping, maxLine, options.flush === true && atEof);
    const offset = s.offset + cut.consumed;
    // `buf` starts `anchorLen` bytes before the old offset, so it holds the new anchor.
    const anchorEnd = anchorLen + cut.consumed;
    const anchor = toHex(buf.subarray(Math.max(0, anchorEnd - ANCHOR_BYTES), anchorEnd));
    const next: TailState = {
      path: state.path,
      offset,
      size,
      mtimeMs: st.mtimeMs,
      fileId: st.fileId,
      anchor,
      pending: atEof ? data.length - cut.consumed : 0,
      skipping: cut.skipping,
      lines: s.lines + cut.lines.length,
    };
    return {
      state: next,
      lines: cut.lines,
      grew: size > prevSize,
      truncated,
      replaced,
      exists: true,
      behind: size - offset,
    };
  } finally {
    handle.close();
  }
}

/**
 * A tail over one file that keeps its own state: `poll()` repeatedly; persist `state`.
 *
 * @example
 * const tail = new LogTail(source, "/logs/train_123.out");
 * const { lines } = await tail.poll();
 * await store.save(JSON.stringify(tail.state));
 */
export class LogTail {
  #state: TailState;

  constructor(
    private readonly source: TailSource,
    path: string,
    private readonly options: TailOptions = {},
  ) {
    this.#state = newTailState(path);
  }

  /** A tail resuming from a persisted state (the output of `JSON.parse(JSON.stringify(state))`). */
  static fromState(source: TailSource, state: TailState, options: TailOptions = {}): LogTail {
    const tail = new LogTail(source, state.path, options);
    tail.#state = { ...newTailState(state.path), ...state };
    return tail;
  }

  get state(): TailState {
    return this.#state;
  }

  /** The new complete lines since the previous poll; see {@link pollTail}. */
  async poll(options: PollOptions = {}): Promise<TailPoll> {
    const { state, ...result } = await pollTail(this.source, this.#state, {
      ...this.options,
      ...options,
    });
    this.#state = state;
    return result;
  }

  toJSON(): TailState {
    return this.#state;
  }
}

interface Split {
  lines: string[];
  /** Bytes of `data` consumed (complete lines, skipped bytes, an emitted cut partial line). */
  consumed: number;
  skipping: boolean;
}

const decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });

/**
 * Splits newly read bytes into complete lines. All complete lines are decoded in one go: a
 * newline byte never occurs inside a UTF-8 sequence and the decoder never swallows one into an
 * invalid sequence, so decoding then splitting equals splitting then decoding.
 */
function splitLines(data: Uint8Array, skipping: boolean, maxLine: number, flush: boolean): Split {
  const lines: string[] = [];
  let pos = 0;
  if (skipping) {
    const nl = data.indexOf(NL);
    if (nl < 0) return { lines, consumed: data.length, skipping: true };
    pos = nl + 1;
  }
  const last = data.lastIndexOf(NL);
  if (last >= pos) {
    const parts = decoder.decode(data.subarray(pos, last + 1)).split("\n");
    parts.pop();
    for (let line of parts) {
      if (line.endsWith("\r")) line = line.slice(0, -1);
      lines.push(line.length > maxLine ? cutString(line, maxLine) : line);
    }
    pos = last + 1;
  }
  const rest = data.length - pos;
  if (rest > maxLine) {
    // An over-long partial line: emit its start now, skip the rest up to the next newline.
    lines.push(
      decoder.decode(data.subarray(pos, pos + charBoundary(data, pos, maxLine))) + CUT_MARKER,
    );
    return { lines, consumed: data.length, skipping: true };
  }
  if (flush && rest > 0) {
    let line = decoder.decode(data.subarray(pos));
    if (line.endsWith("\r")) line = line.slice(0, -1);
    lines.push(line);
    return { lines, consumed: data.length, skipping: false };
  }
  return { lines, consumed: pos, skipping: false };
}

/** The largest length <= max such that data[pos + length] does not continue a UTF-8 character. */
function charBoundary(data: Uint8Array, pos: number, max: number): number {
  let n = max;
  for (let k = 0; k < 3 && n > 0 && (data[pos + n] & 0xc0) === 0x80; k++) n--;
  return n;
}

function cutString(line: string, max: number): string {
  let n = max;
  const c = line.charCodeAt(n - 1);
  if (c >= 0xd800 && c <= 0xdbff) n--; // do not split a surrogate pair
  return line.slice(0, n) + CUT_MARKER;
}

function toHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += (b < 16 ? "0" : "") + b.toString(16);
  return s;
}
