/**
 * Metrics from files a run writes (`results.files` in the config): globs matched against a
 * run directory's file names, and JSON, JSONL or CSV text turned into flat `dotted.key -> value`
 * columns, as seed 004 flattens nested results into CSV columns. Pure: the caller lists and
 * reads the files.
 *
 * @module
 */
import { parse as parseCsv } from "csv-parse/sync";
import type { ResultsConfig } from "../config/schema/mod.ts";

/** One `results.files` entry as validated. */
export type MetricFileDecl = NonNullable<ResultsConfig["files"]>[number];

/** A flat metric value. */
export type MetricValue = number | string | boolean;

/** The folder before the glob's first wildcard (`evaluations/iter_*.json` -> `evaluations`). */
export function globBase(glob: string): string {
  const parts = glob.split("/");
  const fixed: string[] = [];
  for (const p of parts.slice(0, -1)) {
    if (/[*?[]/.test(p)) break;
    fixed.push(p);
  }
  return fixed.join("/");
}

/** A glob (`*`, `?`, `**`, `[abc]`) as a regular expression over `/`-separated paths. */
export function globToRegExp(glob: string): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*" && glob[i + 1] === "*") {
      // `**/` matches any number of folders (none too); a trailing `**` anything.
      if (glob[i + 2] === "/") {
        re += "(?:.*/)?";
        i += 2;
      } else {
        re += ".*";
        i += 1;
      }
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const close = glob.indexOf("]", i + 1);
      if (close < 0) re += "\\[";
      else {
        re += `[${glob.slice(i + 1, close).replace(/^!/, "^").replace(/\\/g, "\\\\")}]`;
        i = close;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/** Compares strings with their digit runs as numbers: `iter_9` before `iter_10`. */
export function naturalCompare(a: string, b: string): number {
  const re = /(\d+)|(\D+)/g;
  const pa = a.match(re) ?? [];
  const pb = b.match(re) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === y) continue;
    const nx = /^\d/.test(x) && /^\d/.test(y);
    if (nx && Number(x) !== Number(y)) return Number(x) - Number(y);
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}

/** The file a declaration reads among a run directory's relative paths: the last matching one. */
export function pickMetricFile(decl: MetricFileDecl, relPaths: readonly string[]): string | null {
  const re = globToRegExp(decl.glob.replace(/^\.\//, ""));
  const hits = relPaths.filter((p) => re.test(p)).sort(naturalCompare);
  return hits.length ? hits[hits.length - 1] : null;
}

/** The format of a file: declared, else by extension (`.jsonl`/`.ndjson`, `.csv`, else JSON). */
export function formatOf(decl: MetricFileDecl, path: string): "json" | "jsonl" | "csv" {
  if (decl.format) return decl.format;
  if (/\.(jsonl|ndjson)$/i.test(path)) return "jsonl";
  if (/\.csv$/i.test(path)) return "csv";
  return "json";
}

/**
 * Flattens nested objects to dotted keys (`{a: {b: 1}}` -> `{"a.b": 1}`); lists become
 * `a.0`, `a.1`; `null` is left out.
 */
export function flatten(value: unknown, prefix = "", into: Record<string, MetricValue> = {}) {
  if (value === null || value === undefined) return into;
  if (typeof value === "object") {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      flatten(v, prefix ? `${prefix}.${k}` : k, into);
    }
  } else if (typeof value === "number" || typeof value === "boolean") into[prefix] = value;
  else if (typeof value === "string") {
    const n = Number(value);
    into[prefix] = value.trim() !== "" && Number.isFinite(n) ? n : value;
  }
  return into;
}

function at(value: unknown, keyPath: string | null | undefined): unknown {
  if (!keyPath) return value;
  let v = value;
  for (const k of keyPath.split(".")) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

/**
 * The columns of one metric file: the value at `decl.key` (the whole file without one),
 * flattened, each column named `<name>.<key>` (`<key>` without a name; `<name>` alone for a
 * single value). JSONL: the last line that parses; CSV: the last row, by its header.
 *
 * @throws {Error} when the text is not what its format says (the caller reports it per run).
 * @example
 * parseMetricFile('{"results": {"mmlu": 0.5}}', "json", { name: "eval", glob: "x", key: "results" })
 * // { "eval.mmlu": 0.5 }
 */
export function parseMetricFile(
  text: string,
  format: "json" | "jsonl" | "csv",
  decl: MetricFileDecl,
): Record<string, MetricValue> {
  let data: unknown;
  if (format === "json") data = JSON.parse(text);
  else if (format === "jsonl") {
    const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
    for (let i = lines.length - 1; i >= 0 && data === undefined; i--) {
      try {
        data = JSON.parse(lines[i]);
      } catch { /* a line being written: the one before */ }
    }
  } else {
    const rows = parseCsv(text, {
      columns: true,
      skip_empty_lines: true,
      relax_column_count: true,
    });
    data = rows.length ? rows[rows.length - 1] : undefined;
  }
  const picked = at(data, decl.key);
  const name = decl.name ?? "";
  if (picked === undefined) return {};
  if (typeof picked !== "object" || picked === null) {
    return flatten(picked, name || (decl.key ?? "value"));
  }
  return flatten(picked, name);
}
