/**
 * The on-disk form of a plan: `sweep.json` (versioned; one run per line so it diffs well) and
 * the run-entry index (`sweep.entries.jsonl` + `sweep.entries.idx`) that lets a job read its own
 * entry with two small reads instead of parsing the whole sweep. Format: docs/sweep-json.md.
 *
 * @module
 */
import type { RunPlan, SweepPlan } from "./types.ts";

/** The current `sweep.json` version. */
export const SWEEP_FORMAT_VERSION = 1;

/** What a job needs to run its entry (one line of `sweep.entries.jsonl`). */
export interface RunEntry {
  readonly index: number;
  readonly name: string;
  readonly sweep_id: string;
  readonly sweep_dir: string;
  readonly run_dir: string;
  readonly log_path: string;
  readonly group: string;
  readonly kind: "array" | "single";
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly workdir: string;
  readonly fingerprint: string;
}

/** Renders `sweep.json`: deterministic for the same plan (re-planning is idempotent). */
export function renderSweepJson(plan: SweepPlan): string {
  const head = JSON.stringify(
    { format: plan.format, version: plan.version, sweep: plan.sweep },
    null,
    2,
  );
  const groups = plan.groups.map((g) => `    ${JSON.stringify(g)}`).join(",\n");
  const runs = plan.runs.map((r) => `    ${JSON.stringify(r)}`).join(",\n");
  return `${head.slice(0, -2)},\n  "groups": [\n${groups}\n  ],\n  "runs": [\n${runs}\n  ]\n}\n`;
}

/**
 * Parses and checks `sweep.json`.
 *
 * @throws {Error} naming the file and what is wrong (unknown version, missing fields).
 */
export function parseSweepJson(text: string, file: string): SweepPlan {
  let data: SweepPlan;
  try {
    data = JSON.parse(text);
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
  return data;
}

/** The entry of one run. */
export function runEntry(plan: SweepPlan, run: RunPlan): RunEntry {
  const group = plan.groups.find((g) => g.id === run.group);
  return {
    index: run.index,
    name: run.name,
    sweep_id: plan.sweep.id,
    sweep_dir: plan.sweep.dir,
    run_dir: run.runDir,
    log_path: run.logPath,
    group: run.group,
    kind: group?.kind ?? "single",
    argv: run.argv,
    env: run.env,
    workdir: run.workdir,
    fingerprint: run.fingerprint,
  };
}

/**
 * Renders the entry index: one JSON line per sweep index, and a table of 8-byte little-endian
 * byte offsets (entry N spans offset[N]..offset[N+1]). Indices without a run get an empty line.
 */
export function renderEntryIndex(plan: SweepPlan): { jsonl: Uint8Array; idx: Uint8Array } {
  const enc = new TextEncoder();
  const max = plan.runs.reduce((m, r) => Math.max(m, r.index), -1);
  const byIndex = new Map(plan.runs.map((r) => [r.index, r]));
  const lines: Uint8Array[] = [];
  let total = 0;
  const idx = new Uint8Array((max + 2) * 8);
  const view = new DataView(idx.buffer);
  for (let i = 0; i <= max; i++) {
    view.setBigUint64(i * 8, BigInt(total), true);
    const run = byIndex.get(i);
    const line = enc.encode(`${run ? JSON.stringify(runEntry(plan, run)) : ""}\n`);
    lines.push(line);
    total += line.length;
  }
  view.setBigUint64((max + 1) * 8, BigInt(total), true);
  const jsonl = new Uint8Array(total);
  let off = 0;
  for (const l of lines) {
    jsonl.set(l, off);
    off += l.length;
  }
  return { jsonl, idx };
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
