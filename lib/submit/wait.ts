/**
 * Following a submitted sweep until every run's latest attempt is final: one batched scheduler
 * query per round, an interval that backs off while nothing changes (2, 4, 8 ... 30 s) and
 * snaps back on a change. Reports each state change. (The full monitor, with log events,
 * actions and restarts, builds on this loop.)
 *
 * @module
 */
import type { SweepPlan } from "../plan/types.ts";
import type { FileSystem } from "../runtime/mod.ts";
import type { Scheduler } from "../scheduler/types.ts";
import { isFinalAttemptState, latestAttempt } from "../store/state.ts";
import type { SweepStore } from "../store/store.ts";
import { reconcile } from "./mod.ts";

/** Options of {@link waitForSweep}. */
export interface WaitOptions {
  readonly sleep: (ms: number) => Promise<void>;
  readonly say?: (line: string) => void;
  /** Shortest and longest interval between rounds. */
  readonly minIntervalMs?: number;
  readonly maxIntervalMs?: number;
  /** Stop after this long (default: never). */
  readonly timeoutMs?: number;
  readonly now?: () => number;
}

/** Waits until every run of the plan is final; returns the number of rounds. */
export async function waitForSweep(
  plan: SweepPlan,
  store: SweepStore,
  scheduler: Scheduler,
  fs: FileSystem,
  opts: WaitOptions,
): Promise<number> {
  const say = opts.say ?? (() => {});
  const min = opts.minIntervalMs ?? 2000;
  const max = opts.maxIntervalMs ?? 30_000;
  const now = opts.now ?? Date.now;
  const started = now();
  let interval = min;
  let rounds = 0;
  for (;;) {
    const before = snapshotStates(store);
    await reconcile(plan, store, scheduler, fs, say);
    rounds++;
    const after = snapshotStates(store);
    let changed = false;
    for (const [run, s] of after) {
      if (before.get(run) !== s) {
        changed = true;
        say(`${run}: ${s}`);
      }
    }
    await store.snapshot();
    const open = plan.runs.filter((r) => {
      const a = latestAttempt(store.state.runs[r.name]);
      return a !== undefined && !isFinalAttemptState(a.state);
    });
    if (!open.length) return rounds;
    if (opts.timeoutMs !== undefined && now() - started > opts.timeoutMs) return rounds;
    interval = changed ? min : Math.min(max, interval * 2);
    await opts.sleep(interval);
  }
}

function snapshotStates(store: SweepStore): Map<string, string> {
  const out = new Map<string, string>();
  for (const r of Object.values(store.state.runs)) {
    const a = latestAttempt(r);
    if (a) {
      out.set(
        r.name,
        `${a.state}${
          a.exitCode !== undefined && a.state !== "completed" ? ` (exit ${a.exitCode})` : ""
        } [attempt ${a.attempt}, job ${a.jobId ?? "?"}]`,
      );
    }
  }
  return out;
}
