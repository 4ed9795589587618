/**
 * Colour and width on the terminal: one tone per state (completed green, waiting yellow,
 * failures red, cancelled dim), the error prefix, and cells cut to a width with `…`. Colour only
 * when the host allows it (standard output a terminal, no NO_COLOR); Node's `styleText` does the
 * escapes (`validateStream: false`: the host already decided).
 *
 * @module
 */
import { stripVTControlCharacters, styleText } from "node:util";

/** How a state reads at a glance. */
export type Tone = "good" | "wait" | "active" | "bad" | "quiet";

const TONES: Record<string, Tone> = {
  completed: "good",
  pending: "wait",
  waiting: "wait",
  submitting: "wait",
  requeued: "wait",
  restarting: "wait",
  unknown: "wait",
  suspended: "wait",
  "not submitted": "quiet",
  running: "active",
  failed: "bad",
  timeout: "bad",
  out_of_memory: "bad",
  node_fail: "bad",
  nccl_failed: "bad",
  preempted: "bad",
  stalled: "bad",
  blocked: "bad",
  lost: "bad",
  submit_failed: "bad",
  cancelled: "quiet",
};

/** The tone of a state word (a restart decided after a failure reads as waiting). */
export function toneOf(state: string): Tone {
  return TONES[state] ?? "active";
}

type Format = Parameters<typeof styleText>[0];
const PAINT: Record<Tone, Format | null> = {
  good: "green",
  wait: "yellow",
  active: "cyan",
  bad: "red",
  quiet: "dim",
};

/** Paints text, or leaves it plain when colour is off. */
export interface Style {
  readonly color: boolean;
  /** A state word in its tone. */
  state(word: string, text?: string): string;
  /** `autoexp:` error prefixes and carets. */
  error(text: string): string;
  warn(text: string): string;
  dim(text: string): string;
  bold(text: string): string;
}

/** A style that paints when `color` is true. */
export function makeStyle(color: boolean): Style {
  const paint = (f: Format | null, s: string) =>
    color && f && s ? styleText(f, s, { validateStream: false }) : s;
  return {
    color,
    state: (word, text = word) => paint(PAINT[toneOf(word)], text),
    error: (s) => paint(["red", "bold"], s),
    warn: (s) => paint("yellow", s),
    dim: (s) => paint("dim", s),
    bold: (s) => paint("bold", s),
  };
}

/** Printable ASCII only: one column per character (the common case, measured fast). */
const PLAIN = /^[\x20-\x7e]*$/;

/** The width a text takes on the terminal (escapes removed). */
export function visibleWidth(text: string): number {
  return PLAIN.test(text) ? text.length : [...stripVTControlCharacters(text)].length;
}

/** Cuts plain text to `width` characters, ending with `…` when cut. */
export function truncate(text: string, width: number): string {
  if (text.length <= width) return text;
  const chars = [...text];
  if (chars.length <= width) return text;
  if (width <= 1) return "…".slice(0, width);
  return chars.slice(0, width - 1).join("") + "…";
}

/** An error message for a terminal: the `autoexp:` prefix and carets under source lines red. */
export function paintError(text: string): string {
  const red = (s: string) => styleText(["red", "bold"], s, { validateStream: false });
  return text
    .replace(/^(\n?)autoexp:/, (_m, nl: string) => `${nl}${red("autoexp:")}`)
    .replace(/^(\s*\|\s*)(\^+)$/gm, (_m, pad: string, caret: string) => `${pad}${red(caret)}`);
}
