/**
 * The checkpoint folder as an event source (`monitoring.checkpoint_watch`, seed 001's cooldown
 * scheduler that polls the checkpoint directory): which checkpoint directories are complete
 * ({@link completeCheckpoints}), and the `checkpoint` event matches they stand for
 * ({@link watchMatches}), fired through the same step code as a log line, so the same actions
 * run. A checkpoint fires once per run and iteration whichever source shows it first
 * ({@link checkpointFired}). Pure: the folder is read by observe.ts.
 *
 * @module
 */
import type { EventMatch } from "../monitoring/events.ts";
import { checkpointDirRegex } from "../monitoring/spec.ts";
import type { CheckpointWatchSpec, LogEventConfig, MonitorSpec } from "../monitoring/spec_types.ts";
import { formatTemplate } from "../monitoring/template.ts";

/** What of a followed run (step.ts TrackedRun) the watch reads. */
export interface WatchedRun {
  readonly spec: MonitorSpec;
  readonly eventConfigs: ReadonlyMap<string, LogEventConfig>;
}

/** What one read of a run's checkpoint folder found. */
export interface CheckpointReading {
  readonly run: string;
  readonly attempt: number;
  /** The folder, placeholders filled. */
  readonly dir: string;
  /** Complete checkpoints, oldest first. */
  readonly complete: readonly CompleteCheckpoint[];
}

/** A complete checkpoint directory. */
export interface CompleteCheckpoint {
  readonly iteration: number;
  /** Its directory name inside the folder (`iter_0000500`). */
  readonly name: string;
}

/**
 * The complete checkpoints among a folder's directory names: those matching the pattern whose
 * iteration the tracker file's number reaches (when a tracker is used; its text, null when
 * missing) and that hold the complete file (when one is named; `marked` lists those that do).
 *
 * @example
 * completeCheckpoints(spec, ["iter_0000100", "iter_0000200", "tmp"], "100\n", new Set())
 * // [{ iteration: 100, name: "iter_0000100" }]   (with the default tracker, no complete_file)
 */
export function completeCheckpoints(
  spec: CheckpointWatchSpec,
  names: readonly string[],
  tracker: string | null,
  marked: ReadonlySet<string>,
): CompleteCheckpoint[] {
  const re = checkpointDirRegex(spec.pattern);
  const latest = tracker !== null && /^\s*\d+\s*$/.test(tracker) ? Number(tracker) : null;
  const out: CompleteCheckpoint[] = [];
  for (const name of names) {
    const m = re.exec(name);
    if (!m) continue;
    const iteration = Number(m[1]);
    if (spec.trackerFile !== null && (latest === null || iteration > latest)) continue;
    if (spec.completeFile !== null && !marked.has(name)) continue;
    out.push({ iteration, name });
  }
  return out.sort((x, y) => x.iteration - y.iteration);
}

/**
 * The iterations of `event` that already fired for a run (its journaled dedupe keys), from a
 * log line or from the folder: the value of `checkpoint_iteration`, else `iteration`.
 */
export function firedIterations(fired: readonly string[], event: string): Set<number> {
  const out = new Set<number>();
  for (const key of fired) {
    if (!key.includes(event)) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(key);
    } catch {
      continue;
    }
    if (!Array.isArray(parsed) || parsed.length !== 2 || parsed[0] !== event) continue;
    const entries = new Map(parsed[1] as [string, string][]);
    const it = entries.get("checkpoint_iteration") ?? entries.get("iteration");
    if (it !== undefined && /^\s*\d+\s*$/.test(it)) out.add(Number(it));
  }
  return out;
}

/** Whether a checkpoint match's iteration already fired for the run (from either source). */
export function checkpointFired(fired: readonly string[], m: EventMatch): boolean {
  const it = m.metadata.checkpoint_iteration ?? m.groups.iteration;
  if (typeof it !== "string" || !/^\s*\d+\s*$/.test(it)) return false;
  return firedIterations(fired, m.event).has(Number(it));
}

/**
 * The `checkpoint` matches of the watched event for the complete checkpoints of a reading that
 * did not fire yet. Their values: `checkpoint_iteration` / `iteration` (the number, unpadded as
 * in Megatron's log line), `checkpoint_path` / `path` (the watched folder, as Megatron's
 * "saved checkpoint ... to <save>" names it) and `checkpoint_dir` (the checkpoint's own
 * directory), besides the event's static metadata.
 */
export function watchMatches(
  t: WatchedRun,
  reading: CheckpointReading,
  fired: readonly string[],
): EventMatch[] {
  const watch = t.spec.checkpointWatch;
  if (!watch) return [];
  const cfg = t.eventConfigs.get(watch.event);
  if (!cfg) return [];
  const done = firedIterations(fired, watch.event);
  const out: EventMatch[] = [];
  for (const c of reading.complete) {
    if (done.has(c.iteration)) continue;
    const values: Record<string, string> = {
      checkpoint_iteration: String(c.iteration),
      checkpoint_path: reading.dir,
      checkpoint_dir: `${reading.dir}/${c.name}`,
      iteration: String(c.iteration),
      path: reading.dir,
    };
    const groups = { iteration: values.iteration, path: values.path };
    const extract = cfg.spec.extract_groups;
    let identity: Record<string, string> = groups;
    if (extract !== undefined) {
      identity = {};
      for (const k of Object.keys(extract)) if (values[k] !== undefined) identity[k] = values[k];
    }
    out.push({
      event: watch.event,
      kind: "checkpoint",
      line: `checkpoint_watch: ${values.checkpoint_dir} is complete`,
      launcher: null,
      rank: null,
      groups,
      metadata: {
        ...(cfg.spec.metadata ?? {}),
        checkpoint_iteration: values.checkpoint_iteration,
        checkpoint_path: values.checkpoint_path,
        checkpoint_dir: values.checkpoint_dir,
      },
      identity,
      progress: true,
      action: null,
      actions: [],
    });
  }
  return out;
}

/**
 * For a log line of the watched event: the `checkpoint_dir` the folder would have given (the
 * path the line names joined with the pattern filled with its iteration), so the event's actions
 * have the same values from either source. Empty for other events or when it cannot be told.
 */
export function watchedValues(t: WatchedRun, m: EventMatch): Record<string, string> {
  const watch = t.spec.checkpointWatch;
  if (!watch || watch.event !== m.event || m.metadata.checkpoint_dir !== undefined) return {};
  const it = m.metadata.checkpoint_iteration ?? m.groups.iteration;
  const path = m.metadata.checkpoint_path ?? m.groups.path;
  if (typeof it !== "string" || !/^\s*\d+\s*$/.test(it) || typeof path !== "string") return {};
  const name = formatTemplate(watch.pattern, { iteration: String(Number(it)) });
  return { checkpoint_dir: `${path.replace(/\/+$/, "")}/${name}` };
}
