/**
 * The on-disk form of a plan: `sweep.json` (versioned; one run per line so it diffs well) and
 * the run index beside it (`sweep.runs.idx`: where each run's line is in `sweep.json`) that lets
 * a job read its own entry with a few small reads instead of parsing the whole sweep. The entries
 * frozen at submission (and sweeps planned by earlier versions) use the entry files,
 * `sweep.entries.jsonl` + `sweep.entries.idx`: each run again, with where its sweep is.
 * Format: docs/sweep-json.md.
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

/** The run index written beside `sweep.json` by `plan`. */
export const RUN_INDEX_FILE = "sweep.runs.idx";

/** The first 8 bytes of {@link RUN_INDEX_FILE}. */
const RUN_INDEX_MAGIC = "AXRIDX1\n";

/**
 * The header of {@link RUN_INDEX_FILE}: what a run's line in `sweep.json` lacks to be an entry.
 * The file is the 8-byte magic `AXRIDX1\n`, the header's length (u64 little-endian), the header
 * (JSON), then per sweep index 0..count-1 the byte range [start, end) of its run's JSON object in
 * `sweep.json` (two u64 little-endian; 0, 0 for an index without a run).
 */
export interface RunIndexHeader {
  readonly format: "autoexp.runs-index";
  readonly version: 1;
  readonly sweep_id: string;
  readonly sweep_dir: string;
  /** Ids of the array groups (a run of any other group is a single job). */
  readonly arrays: readonly string[];
  /** Number of records (the largest sweep index + 1). */
  readonly count: number;
}

/** A run as its line in `sweep.json` (and in the entries) writes it: without script settings. */
function runJson(r: RunPlan): string {
  return JSON.stringify({ ...r, script: undefined });
}

/**
 * `sweep.json` as bytes, in pieces (one per run: a large sweep is never one string), and its run
 * index: `chunks` yields the file; `index()` (call it after consuming `chunks`) returns the bytes
 * of {@link RUN_INDEX_FILE}.
 */
export function sweepJsonChunks(plan: SweepPlan): {
  chunks: Iterable<Uint8Array>;
  index: () => Uint8Array;
} {
  const enc = new TextEncoder();
  const max = plan.runs.reduce((m, r) => Math.max(m, r.index), -1);
  const header = enc.encode(JSON.stringify(
    {
      format: "autoexp.runs-index",
      version: 1,
      sweep_id: plan.sweep.id,
      sweep_dir: plan.sweep.dir,
      arrays: plan.groups.filter((g) => g.kind === "array").map((g) => g.id),
      count: max + 1,
    } satisfies RunIndexHeader,
  ));
  const recordsAt = 16 + header.length;
  const index = new Uint8Array(recordsAt + (max + 1) * 16);
  index.set(enc.encode(RUN_INDEX_MAGIC), 0);
  const view = new DataView(index.buffer);
  view.setBigUint64(8, BigInt(header.length), true);
  index.set(header, 16);
  let done = false;
  function* chunks() {
    let total = 0;
    const put = (text: string) => {
      const bytes = enc.encode(text);
      total += bytes.length;
      return bytes;
    };
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
    yield put(`${head.slice(0, -2)},\n  "groups": [\n`);
    yield put(plan.groups.map((g) => `    ${JSON.stringify(g)}`).join(",\n"));
    yield put(`\n  ],\n  "runs": [\n`);
    // A run's script settings are those of its group (listed above), so they are not repeated.
    for (let i = 0; i < plan.runs.length; i++) {
      const lead = i ? ",\n    " : "    "; // ASCII: as many bytes as characters
      const bytes = put(`${lead}${runJson(plan.runs[i])}`);
      const at = recordsAt + plan.runs[i].index * 16;
      view.setBigUint64(at, BigInt(total - bytes.length + lead.length), true);
      view.setBigUint64(at + 8, BigInt(total), true);
      yield bytes;
    }
    yield put("\n  ]\n}\n");
    done = true;
  }
  return {
    chunks: chunks(),
    index: () => {
      if (!done) throw new Error("sweepJsonChunks: read all of sweep.json before its index");
      return index;
    },
  };
}

/**
 * The header of a {@link RUN_INDEX_FILE} from its first bytes (at least 16 + the header's
 * length), with where the records start; null when the bytes are not a run index.
 */
export function parseRunIndexHeader(
  head: Uint8Array,
): { header: RunIndexHeader; recordsAt: number } | { need: number } | null {
  if (head.length < 16) return head.length === 0 ? null : { need: 16 };
  if (new TextDecoder().decode(head.subarray(0, 8)) !== RUN_INDEX_MAGIC) return null;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const length = Number(view.getBigUint64(8, true));
  if (head.length < 16 + length) return { need: 16 + length };
  const header = JSON.parse(new TextDecoder().decode(head.subarray(16, 16 + length)));
  if (header?.format !== "autoexp.runs-index" || header.version !== 1) return null;
  return { header, recordsAt: 16 + length };
}

/** The byte range of a run in `sweep.json` from its 16-byte record; null for no run. */
export function runSpan(record: Uint8Array): { start: number; end: number } | null {
  if (record.length < 16) return null;
  const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
  const start = Number(view.getBigUint64(0, true));
  const end = Number(view.getBigUint64(8, true));
  return end > start ? { start, end } : null;
}

/** A run's line of `sweep.json` as the entry a job runs. */
export function entryOfRunJson(text: string, header: RunIndexHeader): RunEntry {
  const run = JSON.parse(text);
  return {
    sweep_id: header.sweep_id,
    sweep_dir: header.sweep_dir,
    kind: header.arrays.includes(run.group) ? "array" : "single",
    ...run,
  };
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
        : `${head(kinds.get(plan.runs[k].group) ?? "single")}${runJson(plan.runs[k]).slice(1)}`;
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
