/**
 * The on-disk form of a plan: `sweep.json` (versioned; one run per line so it diffs well) and
 * the run-entry index (`sweep.entries.jsonl` + `sweep.entries.idx`) that lets a job read its own
 * entry with two small reads instead of parsing the whole sweep. Format: docs/sweep-json.md.
 *
 * @module
 */
import { parseJsonWithFloats } from "../config/whole_float.ts";
import type { RunPlan, SweepPlan } from "./types.ts";

/** The current `sweep.json` version. */
export const SWEEP_FORMAT_VERSION = 1;

/**
 * What a job needs to run its entry (one line of `sweep.entries.jsonl`): the run as it is in
 * `sweep.json` (without its script settings) plus where its sweep is.
 */
export type RunEntry = Omit<RunPlan, "script"> & {
  readonly sweep_id: string;
  readonly sweep_dir: string;
  readonly kind: "array" | "single";
};

/** Each run serialised once (without script settings), shared by sweep.json and the entries. */
export function runJsonLines(plan: SweepPlan): string[] {
  return plan.runs.map((r) => JSON.stringify({ ...r, script: undefined }));
}

/** `sweep.json` in pieces (one per run), for writing large sweeps without one big string. */
export function* sweepJsonChunks(plan: SweepPlan, lines = runJsonLines(plan)): Generator<string> {
  const head = JSON.stringify(
    {
      format: plan.format,
      version: plan.version,
      sweep: plan.sweep,
      ...(plan.stages ? { stages: plan.stages } : {}),
    },
    null,
    2,
  );
  yield `${head.slice(0, -2)},\n  "groups": [\n`;
  yield plan.groups.map((g) => `    ${JSON.stringify(g)}`).join(",\n");
  yield `\n  ],\n  "runs": [\n`;
  // A run's script settings are those of its group (listed above), so they are not repeated.
  for (let i = 0; i < plan.runs.length; i++) {
    yield `${i ? ",\n" : ""}    ${lines[i]}`;
  }
  yield "\n  ]\n}\n";
}

/**
 * Parses and checks `sweep.json`.
 *
 * @throws {Error} naming the file and what is wrong (unknown version, missing fields).
 */
export function parseSweepJson(text: string, file: string): SweepPlan {
  let data: SweepPlan;
  try {
    // Whole floats in the runs' values (`1.0`) read back as floats, so a run planned again
    // (a restart with overrides, a derived run) gets the values it was planned with.
    data = parseJsonWithFloats(text);
  } catch (e) {
    throw new Error(
      `${file} is not valid JSON (${(e as Error).message}); re-create it with autoexp plan`,
    );
  }
  if (data?.format !== "autoexp.sweep") throw new Error(`${file} is not an autoexp sweep file`);
  if (data.version !== SWEEP_FORMAT_VERSION) {
    throw new Error(
      `${file} has format version ${data.version}; this autoexp reads version ${SWEEP_FORMAT_VERSION}`,
    );
  }
  if (!Array.isArray(data.runs) || !Array.isArray(data.groups) || !data.sweep) {
    throw new Error(`${file} is missing runs, groups or sweep`);
  }
  const byGroup = new Map(data.groups.map((g) => [g.id, g.script]));
  return {
    ...data,
    runs: data.runs.map((r) => ({ ...r, script: r.script ?? byGroup.get(r.group)! })),
  };
}

/**
 * The entry index in pieces: `lines` yields the JSONL lines as bytes; `idx()` (call it after
 * consuming `lines`) returns the offset table.
 */
export function entryIndexChunks(
  plan: SweepPlan,
  runLines = runJsonLines(plan),
): { lines: Iterable<Uint8Array>; idx: () => Uint8Array } {
  const enc = new TextEncoder();
  const max = plan.runs.reduce((m, r) => Math.max(m, r.index), -1);
  const byIndex = new Map(plan.runs.map((r, i) => [r.index, i]));
  const kinds = new Map(plan.groups.map((g) => [g.id, g.kind]));
  const head = (kind: string) =>
    `{"sweep_id":${JSON.stringify(plan.sweep.id)},"sweep_dir":${
      JSON.stringify(plan.sweep.dir)
    },"kind":"${kind}",`;
  const idx = new Uint8Array((max + 2) * 8);
  const view = new DataView(idx.buffer);
  let total = 0;
  let done = false;
  function* lines() {
    for (let i = 0; i <= max; i++) {
      view.setBigUint64(i * 8, BigInt(total), true);
      const k = byIndex.get(i);
      const text = k === undefined
        ? ""
        : `${head(kinds.get(plan.runs[k].group) ?? "single")}${runLines[k].slice(1)}`;
      const line = enc.encode(`${text}\n`);
      total += line.length;
      yield line;
    }
    view.setBigUint64((max + 1) * 8, BigInt(total), true);
    done = true;
  }
  return {
    lines: lines(),
    idx: () => {
      if (!done) throw new Error("entryIndexChunks: read every line before the index");
      return idx;
    },
  };
}

/** Reads entry `index` from the byte ranges given by the index table. */
export function entrySpan(idx: Uint8Array, index: number): { start: number; end: number } | null {
  if (index < 0 || (index + 2) * 8 > idx.length) return null;
  const view = new DataView(idx.buffer, idx.byteOffset, idx.byteLength);
  return {
    start: Number(view.getBigUint64(index * 8, true)),
    end: Number(view.getBigUint64((index + 1) * 8, true)),
  };
}
