/**
 * Pipelines in the monitor: when a run that waits for its inputs (a journaled `awaiting`) may
 * start. The monitor, not SLURM, holds dependents: a SLURM dependency names a job id, and an
 * input restarted under a new id (a timeout, a node failure) would leave its dependents waiting
 * forever or failing. Here a run is released when the latest attempt of each of its inputs
 * completed, whatever job ids they had, and blocked when one of them will not complete. Also
 * what `--stage` selects and which inputs a selection misses. Pure.
 *
 * @module
 */
import { closestMatches } from "../config/suggest.ts";
import { UsageError } from "../errors.ts";
import type { SweepPlan } from "../plan/types.ts";
import type { RunRecord, StoreState } from "../store/state.ts";
import { latestAttempt } from "../store/state.ts";

/** Where a run's inputs stand. */
export type InputsState =
  /** Every input's latest attempt completed: their job ids, by run. */
  | { readonly kind: "complete"; readonly jobs: Record<string, string> }
  /** An input will not complete (failed for good, cancelled, blocked, never submitted). */
  | { readonly kind: "failed"; readonly reason: string }
  /** Some input still runs, waits or restarts. */
  | { readonly kind: "waiting"; readonly on: readonly string[] };

/**
 * True when a run's artifact is complete: its latest attempt was judged completed, for good (no
 * restart due: a `success` policy that trains in chunks is not done), by the monitor or, for
 * another sweep's finished artifact, when recovered (recover.ts). SLURM's COMPLETED alone is not
 * enough: a job that saved and exited on the time-limit signal ends COMPLETED with exit 0,
 * unfinished. The one rule for releasing dependents, skipping a run on submit and `--stage`
 * inputs.
 */
export function artifactComplete(rec: RunRecord | undefined): boolean {
  const a = latestAttempt(rec);
  return !!a && a.verdict === "completed" && !!a.verdictFinal && !a.restart;
}

/**
 * Judges a waiting run's inputs in the journal's state.
 *
 * @example
 * ```ts
 * inputsState(state, ["pt_a"]); // { kind: "waiting", on: ["pt_a"] } while pt_a runs
 * ```
 */
export function inputsState(state: StoreState, needs: readonly string[]): InputsState {
  const jobs: Record<string, string> = {};
  const on: string[] = [];
  for (const name of needs) {
    const rec = state.runs[name];
    if (!rec || (!rec.attempts.length && !rec.awaits && !rec.planDir)) {
      return { kind: "failed", reason: `input ${name} was never submitted` };
    }
    if (rec.blocked) return { kind: "failed", reason: `input ${name} is blocked (${rec.blocked})` };
    if (artifactComplete(rec)) {
      jobs[name] = latestAttempt(rec)!.jobId ?? "";
      continue;
    }
    const a = latestAttempt(rec);
    if (a && a.verdictFinal && a.restartDeclined && !a.restart) {
      return {
        kind: "failed",
        reason: `input ${name} ended ${a.verdict ?? a.state} (attempt ${a.attempt}, job ${
          a.jobId ?? "?"
        }) and is not restarted: ${a.restartDeclined}`,
      };
    }
    if (a && a.state === "submit_failed" && !a.restart) {
      return { kind: "failed", reason: `input ${name} could not be submitted` };
    }
    on.push(name);
  }
  return on.length ? { kind: "waiting", on } : { kind: "complete", jobs };
}

/**
 * The runs `--stage` selects (every run of the named stages), checked against the plan's stages.
 *
 * @throws {UsageError} for a stage the plan does not have (with the closest name), or `--stage`
 *   on a plan without stages.
 */
export function stageRuns(plan: SweepPlan, stages: readonly string[]): Set<string> {
  const known = (plan.stages ?? []).map((s) => s.name);
  for (const s of stages) {
    if (known.includes(s)) continue;
    if (!known.length) {
      throw new UsageError(`--stage ${s}: this sweep has no stages (a config's stages key)`);
    }
    const best = closestMatches(s, known);
    throw new UsageError(
      `--stage ${s}: no such stage${best.length ? `; did you mean "${best[0]}"?` : ""} ` +
        `(stages: ${known.join(", ")})`,
    );
  }
  const wanted = new Set(stages);
  return new Set(plan.runs.filter((r) => r.stage && wanted.has(r.stage)).map((r) => r.name));
}

/**
 * The inputs of the selected runs that are neither selected nor complete, transitively (what
 * `submit --stage` would wait for forever): by run, the inputs it misses.
 */
export function missingInputs(
  plan: SweepPlan,
  selected: ReadonlySet<string>,
  state: StoreState,
): { run: string; stage: string; needed: string }[] {
  const byName = new Map(plan.runs.map((r) => [r.name, r]));
  const out: { run: string; stage: string; needed: string }[] = [];
  const seen = new Set<string>();
  const visit = (name: string, by: string) => {
    if (seen.has(name) || selected.has(name) || artifactComplete(state.runs[name])) return;
    seen.add(name);
    const r = byName.get(name);
    out.push({ run: name, stage: r?.stage ?? "", needed: by });
    for (const n of r?.needs ?? []) visit(n, name);
  };
  for (const name of selected) for (const n of byName.get(name)?.needs ?? []) visit(n, name);
  return out;
}
