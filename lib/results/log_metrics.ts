/**
 * Metrics of one attempt's log, folded line by line into a small serialisable state, so a log
 * read once is never read again (`autoexp results` keeps the state with the byte offset it
 * reached). What it owns:
 * - the values the monitor's patterns extract: Megatron's iteration, lm loss, learning rate,
 *   throughput and TFLOP/s, validation and test loss and perplexity (the built-in events of
 *   `lib/monitoring/events.ts`), and the numeric named groups of the run's own log events;
 * - for each value its last, smallest and largest (the best is chosen later, by the metric's goal);
 * - the loss curve over iterations, downsampled as it grows (at most {@link CURVE_POINTS} points
 *   kept, evenly spread: a million-iteration log costs no more than a short one);
 * - the lines that say what went wrong: the block from the last error line (a traceback, an
 *   out-of-memory, NCCL or SLURM cancel line) on, and the last lines that are not progress.
 *
 * Pure: the caller reads the bytes.
 *
 * @module
 */
import {
  type CompiledEvent,
  compileEvents,
  type EventKind,
  type LogEventSpec,
  matchLine,
  MEGATRON_EVENTS,
} from "../monitoring/events.ts";

/** Points of a curve kept per attempt (the curve is thinned evenly beyond this). */
export const CURVE_POINTS = 1000;
/** Lines kept of an error block, and of the last lines that are not progress. */
const ERROR_LINES = 30;
const TAIL_LINES = 10;

/** A downsampled series of `[x, y]` points: every `stride`-th point seen is kept. */
export interface Curve {
  stride: number;
  /** Points seen (to know which one the stride keeps next). */
  seen: number;
  points: [number, number][];
  /** The newest point when the stride did not keep it. */
  end: [number, number] | null;
}

/** Everything kept of one log (JSON-serialisable). */
export interface LogMetrics {
  readonly version: 1;
  /** Column -> last value, smallest and largest. */
  last: Record<string, number>;
  min: Record<string, number>;
  max: Record<string, number>;
  /** Training loss over iterations; validation loss over iterations. */
  loss: Curve;
  valLoss: Curve;
  /** The first and last iteration logged (a resumed attempt starts after its checkpoint). */
  firstIteration: number | null;
  /** The lines from the last error line on (at most 30). */
  error: string[];
  /** The last lines that are neither progress nor blank (at most 10). */
  tail: string[];
  lines: number;
}

/** An empty state. */
export function emptyLogMetrics(): LogMetrics {
  return {
    version: 1,
    last: {},
    min: {},
    max: {},
    loss: { stride: 1, seen: 0, points: [], end: null },
    valLoss: { stride: 1, seen: 0, points: [], end: null },
    firstIteration: null,
    error: [],
    tail: [],
    lines: 0,
  };
}

/** Kinds of events whose line starts an error block. */
const ERROR_KINDS: ReadonlySet<EventKind> = new Set<EventKind>([
  "crashed",
  "oom",
  "nccl",
  "timeout",
  "preempted",
  "node_fail",
  "cancelled",
  "nan",
]);

/** Built-in groups of the Megatron iteration line -> column. */
const ITERATION_COLUMNS: Readonly<Record<string, string>> = {
  iteration: "iteration",
  lm_loss: "loss",
  lr: "lr",
  tflops: "tflops",
  ms_per_iter: "ms_per_iter",
  grad_norm: "grad_norm",
};

/** The columns log metrics can have, in the order tables show them. */
export const LOG_COLUMNS: readonly string[] = [
  "iteration",
  "loss",
  "val_loss",
  "val_ppl",
  "test_loss",
  "test_ppl",
  "lr",
  "tflops",
  "ms_per_iter",
  "grad_norm",
];

/** The compiled patterns a run's log is read with. */
export interface LogReader {
  readonly builtin: readonly CompiledEvent[];
  /** The run's own events whose named groups become `<event>.<group>` columns. */
  readonly user: readonly CompiledEvent[];
  /** Events whose line starts an error block (built-in and the run's own). */
  readonly errors: readonly CompiledEvent[];
  /** Events whose lines are progress (not shown as "last lines"). */
  readonly progress: readonly CompiledEvent[];
}

let builtinCache: CompiledEvent[] | undefined;

/**
 * The patterns for a run: the built-in Megatron/PyTorch/SLURM events (unless the run's
 * monitoring turned them off) and the run's own log events (already validated when planned).
 */
export function logReaderFor(
  userSpecs: readonly LogEventSpec[],
  builtinEvents = true,
): LogReader {
  builtinCache ??= compileEvents(MEGATRON_EVENTS, { keyPath: "builtin" });
  const builtin = builtinEvents ? builtinCache : [];
  let user: CompiledEvent[] = [];
  try {
    user = compileEvents(userSpecs.map((s) => ({ ...s, action: undefined, actions: undefined })));
  } catch { /* checked when planned; a spec that does not compile now adds no columns */ }
  const all = [...builtin, ...user];
  return {
    builtin: builtin.filter((e) =>
      e.name === "megatron_iteration" || e.name === "megatron_validation"
    ),
    user: user.filter((e) => e.regex !== null),
    errors: all.filter((e) => e.kind !== null && ERROR_KINDS.has(e.kind)),
    progress: all.filter((e) =>
      e.kind === "progress" || e.kind === "checkpoint" || e.kind === "checkpoint_start" ||
      e.kind === "resumed" || e.kind === "noise"
    ),
  };
}

function num(text: string | undefined): number | null {
  if (text === undefined) return null;
  const v = Number(text);
  return Number.isFinite(v) ? v : null;
}

function record(m: LogMetrics, column: string, v: number): void {
  m.last[column] = v;
  if (!(column in m.min) || v < m.min[column]) m.min[column] = v;
  if (!(column in m.max) || v > m.max[column]) m.max[column] = v;
}

/** Adds a point; keeps at most {@link CURVE_POINTS}, halving them (every other) when full. */
export function addPoint(c: Curve, x: number, y: number): void {
  if (c.seen++ % c.stride !== 0) {
    c.end = [x, y]; // not kept by the stride, but the newest point always ends the curve
    return;
  }
  c.end = null;
  c.points.push([x, y]);
  if (c.points.length > CURVE_POINTS) {
    c.points = c.points.filter((_, i) => i % 2 === 0);
    c.stride *= 2;
  }
}

/** A curve's points, its newest point included. */
export function curvePoints(c: Curve): [number, number][] {
  return c.end ? [...c.points, c.end] : c.points;
}

const SEPARATOR = /^[\s\-=*_#]*$/;

/**
 * Folds lines of a log into `m` (changed in place, and returned).
 *
 * @example
 * const m = feedLog(emptyLogMetrics(), logReaderFor([]), [" iteration 10/ 40 | lm loss: 5.0E+00 |"]);
 * m.last.loss // 5
 */
export function feedLog(m: LogMetrics, reader: LogReader, lines: readonly string[]): LogMetrics {
  for (const line of lines) {
    m.lines++;
    let isProgress = false;
    if (line.includes("iteration")) {
      for (const hit of matchLine(reader.builtin, line)) {
        isProgress = true;
        const g = hit.groups;
        const it = num(g.iteration);
        if (hit.event === "megatron_iteration") {
          for (const [group, column] of Object.entries(ITERATION_COLUMNS)) {
            const v = num(g[group]);
            if (v !== null) record(m, column, v);
          }
          const loss = num(g.lm_loss);
          if (it !== null) {
            m.firstIteration ??= it;
            if (loss !== null) addPoint(m.loss, it, loss);
          }
        } else {
          const prefix = g.split === "test" ? "test" : "val";
          const loss = num(g.lm_loss);
          const ppl = num(g.lm_ppl);
          if (loss !== null) record(m, `${prefix}_loss`, loss);
          if (ppl !== null) record(m, `${prefix}_ppl`, ppl);
          if (prefix === "val" && it !== null && loss !== null) addPoint(m.valLoss, it, loss);
        }
      }
    }
    for (const hit of matchLine(reader.user, line)) {
      for (const [group, text] of Object.entries(hit.groups)) {
        const v = num(text);
        if (v !== null) record(m, `${hit.event}.${group}`, v);
      }
    }
    if (isProgress) continue; // an iteration or validation line is neither an error nor news
    if (reader.errors.length && matchLine(reader.errors, line).length) {
      m.error = [line];
      continue;
    }
    if (SEPARATOR.test(line)) continue;
    if (reader.progress.length && matchLine(reader.progress, line).length) continue;
    if (m.error.length && m.error.length < ERROR_LINES) m.error.push(line);
    m.tail.push(line);
    if (m.tail.length > TAIL_LINES) m.tail.shift();
  }
  return m;
}

const ERRORISH = /error|exception|killed|fail|cancelled|out of memory|abort|timed? ?out|nan/i;

/**
 * The line that says what went wrong: in the error block, its last line that reads like an
 * error (a traceback's exception, not its `File ...` lines), else the block's first line; with
 * no error block, the last such line of the tail, else the tail's last line.
 */
export function errorLineOf(m: Pick<LogMetrics, "error" | "tail">): string | null {
  const pick = (lines: readonly string[]) => {
    for (let i = lines.length - 1; i >= 0; i--) {
      if (ERRORISH.test(lines[i]) && !/^\s*File "/.test(lines[i])) return lines[i].trim();
    }
    return null;
  };
  if (m.error.length) return pick(m.error.slice(1)) ?? m.error[0].trim();
  return pick(m.tail) ?? (m.tail.length ? m.tail[m.tail.length - 1].trim() : null);
}
