/**
 * The guard against an accidental huge submission: what a submission asks for (runs, sbatch
 * calls, node-hours and GPU-hours at the time limits) against the limits above which `submit`
 * asks first (`slurm.confirm_above`). Pure.
 *
 * @module
 */
import type { SlurmConfig } from "../config/schema/mod.ts";
import type { RunPlan, SweepPlan } from "./types.ts";

/** The limits above which `submit` asks for confirmation (null: no limit), as the schema has them. */
export type ConfirmAbove = {
  readonly [K in keyof NonNullable<SlurmConfig["confirm_above"]>]-?: number | null;
};

/** The defaults: a large sweep for one person, well below what the guard was made for. */
export const DEFAULT_CONFIRM_ABOVE: ConfirmAbove = {
  runs: 1000,
  jobs: 200,
  node_hours: 1000,
  gpu_hours: 8000,
};

/** What a submission asks for, at most (every run to its time limit). */
export interface SubmissionSize {
  readonly runs: number;
  /** sbatch calls: one per array part or single job. */
  readonly jobs: number;
  readonly node_hours: number;
  readonly gpu_hours: number;
}

/**
 * The size of submitting `runs` of `plan`: one sbatch call per array part (chunk) holding one
 * of them, or per single job. (Restarts later submit their runs one by one.)
 */
export function submissionSize(plan: SweepPlan, runs: readonly RunPlan[]): SubmissionSize {
  let nodeHours = 0;
  let gpuHours = 0;
  const indices = new Set<number>();
  for (const r of runs) {
    nodeHours += r.nodes * r.minutes / 60;
    gpuHours += r.gpus * r.minutes / 60;
    indices.add(r.index);
  }
  let jobs = 0;
  for (const g of plan.groups) {
    for (const c of g.chunks) if (c.indices.some((i) => indices.has(i))) jobs++;
  }
  return { runs: runs.length, jobs, node_hours: nodeHours, gpu_hours: gpuHours };
}

/** Each limit the size goes over, in words (`50000 runs (limit 1000)`); empty when none. */
export function overLimits(size: SubmissionSize, limits: ConfirmAbove): string[] {
  const words: Record<keyof ConfirmAbove, string> = {
    runs: "runs",
    jobs: "sbatch calls",
    node_hours: "node-hours",
    gpu_hours: "GPU-hours",
  };
  const out: string[] = [];
  for (const k of Object.keys(words) as (keyof ConfirmAbove)[]) {
    const limit = limits[k];
    if (limit !== null && size[k] > limit) {
      out.push(`${Math.round(size[k]).toLocaleString("en-US")} ${words[k]} (limit ${limit})`);
    }
  }
  return out;
}
