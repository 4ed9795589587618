/**
 * Grouping runs into jobs: runs whose scripts would be identical (same resources, directives,
 * modules, setup and shell environment) share one job array; arrays whose indices exceed
 * MaxArraySize are split into chunks with an index offset. Without arrays every run is its own
 * job. Pure.
 *
 * @module
 */
import { ConfigError } from "../errors.ts";
import type { ArrayChunk, JobGroup, RunPlan } from "./types.ts";

/** Grouping options. */
export interface GroupOptions {
  readonly array: boolean;
  /** `%N` in `--array`: at most N tasks of a chunk run at once. */
  readonly throttle: number | null;
  /** The cluster's MaxArraySize: array task ids must stay below it. */
  readonly maxArraySize: number;
}

/** Compresses sorted integers into SLURM's range syntax: `[0,1,2,5,7,8]` -> `0-2,5,7-8`. */
export function compressRanges(sorted: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(j === i ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}

/** Splits sorted indices into chunks whose task ids (index - offset) stay below `max`. */
export function chunkIndices(
  sorted: readonly number[],
  max: number,
): { offset: number; indices: number[] }[] {
  const out: { offset: number; indices: number[] }[] = [];
  for (const idx of sorted) {
    const last = out[out.length - 1];
    if (last && idx - last.offset < max) last.indices.push(idx);
    else out.push({ offset: idx, indices: [idx] });
  }
  return out;
}

/** The `--array` value of a chunk: task ids relative to its offset, plus the throttle. */
export function arraySpec(
  indices: readonly number[],
  offset: number,
  throttle: number | null,
): string {
  const ids = compressRanges(indices.map((i) => i - offset));
  return throttle ? `${ids}%${throttle}` : ids;
}

/** Assigns every run to a group; returns the runs with `group` set and the groups. */
export function groupRuns(
  runs: readonly RunPlan[],
  opts: GroupOptions,
): { runs: RunPlan[]; groups: JobGroup[] } {
  if (!opts.array) {
    const groups: JobGroup[] = runs.map((r) => ({
      id: r.name,
      kind: "single",
      indices: [r.index],
      chunks: [{
        offset: r.index,
        array: "",
        script: `${r.scriptDir ?? "scripts"}/${r.name}.sh`,
        indices: [r.index],
      }],
      script: r.script,
    }));
    return { runs: runs.map((r) => ({ ...r, group: r.name })), groups };
  }
  const byKey = new Map<string, { id: string; runs: RunPlan[] }>();
  for (const r of runs) {
    const key = JSON.stringify(r.script);
    let g = byKey.get(key);
    if (!g) {
      g = { id: `array${byKey.size}`, runs: [] };
      byKey.set(key, g);
    }
    g.runs.push(r);
  }
  const groups: JobGroup[] = [];
  const assigned = new Map<number, string>();
  for (const { id, runs: members } of byKey.values()) {
    const indices = members.map((r) => r.index).sort((a, b) => a - b);
    const parts = chunkIndices(indices, opts.maxArraySize);
    const dirs = [...new Set(members.map((r) => r.scriptDir ?? "scripts"))];
    if (dirs.length > 1) {
      throw new ConfigError({
        path: "slurm.script_dir",
        message: `the runs of job array ${id} would keep their one script in ${dirs.length} ` +
          `folders (${dirs.slice(0, 2).join(", ")}, ...): an array has one script for all ` +
          `its runs, so leave {name} and {index} out of slurm.script_dir, or set slurm.array: false`,
      });
    }
    const chunks: ArrayChunk[] = parts.map((c, k) => ({
      offset: c.offset,
      array: arraySpec(c.indices, c.offset, opts.throttle),
      script: parts.length === 1 ? `${dirs[0]}/${id}.sh` : `${dirs[0]}/${id}_part${k}.sh`,
      indices: c.indices,
    }));
    groups.push({ id, kind: "array", indices, chunks, script: members[0].script });
    for (const r of members) assigned.set(r.index, id);
  }
  return { runs: runs.map((r) => ({ ...r, group: assigned.get(r.index)! })), groups };
}
