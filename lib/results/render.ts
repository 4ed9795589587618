/**
 * The results table's columns, sorting and text forms: cells for a terminal table, CSV,
 * Markdown and JSON, for the runs (`autoexp results`) and the failed attempts (`--failed`).
 * Pure.
 *
 * @module
 */
import { stringify as stringifyCsv } from "csv-stringify/sync";
import type { ConfigValue } from "../config/tree.ts";
import { naturalCompare } from "./file_metrics.ts";
import type { FailureRow, ResultRow, ResultsTable } from "./rows.ts";

/** The columns of a results table in their default order. */
export function defaultColumns(t: ResultsTable): string[] {
  return ["run", ...t.params, "state", "attempts", "gpu_hours", ...t.metrics, "parent"];
}

/** Every column name a table knows (for `--columns` and `--sort` checks). */
export function knownColumns(t: ResultsTable): string[] {
  return [...defaultColumns(t), "index", "partial"];
}

/** The raw value of a column of a row (undefined when the row has none). */
export function cellValue(row: ResultRow, column: string): ConfigValue | undefined {
  switch (column) {
    case "run":
      return row.run;
    case "index":
      return row.index;
    case "parent":
      return row.parent;
    case "state":
      return row.state;
    case "partial":
      return row.partial;
    case "attempts":
      return row.attempts;
    case "gpu_hours":
      return row.gpu_hours;
  }
  if (column in row.metrics) return row.metrics[column];
  if (column in row.params) return row.params[column];
  return undefined;
}

/**
 * Rows sorted by a column (`-col` or `col:desc` for descending); rows without a value last,
 * ties in run order. Numbers compare as numbers, text naturally.
 */
export function sortRows(rows: readonly ResultRow[], sort: string | undefined): ResultRow[] {
  const out = [...rows];
  if (!sort) return out;
  const desc = sort.startsWith("-") || sort.endsWith(":desc");
  const column = sort.replace(/^-/, "").replace(/:(desc|asc)$/, "");
  const sign = desc ? -1 : 1;
  return out.sort((a, b) => {
    const x = cellValue(a, column);
    const y = cellValue(b, column);
    const xm = x === undefined || x === null || x === "";
    const ym = y === undefined || y === null || y === "";
    if (xm || ym) return xm === ym ? 0 : xm ? 1 : -1;
    if (typeof x === "number" && typeof y === "number") return sign * (x - y);
    return sign * naturalCompare(String(x), String(y));
  });
}

/** The column a `--sort` value names. */
export function sortColumn(sort: string): string {
  return sort.replace(/^-/, "").replace(/:(desc|asc)$/, "");
}

/** A number for a table cell: integers as they are, others to 4 significant digits. */
export function formatNumber(v: number): string {
  if (Number.isInteger(v)) return String(v);
  const abs = Math.abs(v);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e6)) return v.toExponential(3).replace(/\.?0+e/, "e");
  return String(Number(v.toPrecision(4)));
}

function text(v: ConfigValue | undefined, exact: boolean): string {
  if (v === undefined || v === null) return "";
  if (typeof v === "number") return exact ? String(v) : formatNumber(v);
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

/**
 * Header and cells for a terminal table: numbers shortened, GPU-hours to two decimals, a
 * partial row's run name marked `*` (it has not ended).
 */
export function tableCells(
  rows: readonly ResultRow[],
  columns: readonly string[],
): { header: string[]; cells: string[][] } {
  return {
    header: columns.map((c) => c === "parent" ? "from" : c),
    cells: rows.map((row) =>
      columns.map((c) => {
        const v = cellValue(row, c);
        if (c === "run" && row.partial) return `${row.run} *`;
        if (c === "gpu_hours") return (v as number).toFixed(2);
        const t = text(v, false);
        return t === "" ? "-" : t;
      })
    ),
  };
}

/** CSV of the rows with exact values (a `partial` column says which rows may still change). */
export function renderResultsCsv(rows: readonly ResultRow[], columns: readonly string[]): string {
  const cols = columns.includes("partial") ? columns : [...columns, "partial"];
  return stringifyCsv([
    [...cols],
    ...rows.map((row) => cols.map((c) => text(cellValue(row, c), true))),
  ]);
}

function mdCell(s: string): string {
  return s.replaceAll("|", "\\|").replaceAll("\n", " ");
}

/** A Markdown table (numbers shortened as in the terminal). */
export function renderResultsMarkdown(
  rows: readonly ResultRow[],
  columns: readonly string[],
): string {
  const { header, cells } = tableCells(rows, columns);
  return [
    `| ${header.map(mdCell).join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
    ...cells.map((r) => `| ${r.map(mdCell).join(" | ")} |`),
  ].join("\n") + "\n";
}

/** The columns of `--failed`. */
export const FAILURE_COLUMNS = [
  "run",
  "attempt",
  "job",
  "class",
  "exit_code",
  "time",
  "error",
  "restart",
  "overrides",
] as const;

function failureValue(f: FailureRow, c: string): string {
  switch (c) {
    case "overrides":
      return f.overrides.join(" ");
    case "exit_code":
      return f.exit_code === null ? "" : String(f.exit_code);
    case "attempt":
      return String(f.attempt);
    case "lines":
      return f.lines.join("\n");
    default:
      return String((f as unknown as Record<string, unknown>)[c] ?? "");
  }
}

/** Header and cells of the failures for a terminal table. */
export function failureCells(failures: readonly FailureRow[]): {
  header: string[];
  cells: string[][];
} {
  return {
    header: [...FAILURE_COLUMNS],
    cells: failures.map((f) => FAILURE_COLUMNS.map((c) => failureValue(f, c) || "-")),
  };
}

/** CSV of the failures, the error block's lines in one `lines` cell (quoted, with newlines). */
export function renderFailuresCsv(failures: readonly FailureRow[]): string {
  const cols = [...FAILURE_COLUMNS, "reason", "lines", "log"];
  return stringifyCsv([cols, ...failures.map((f) => cols.map((c) => failureValue(f, c)))]);
}

/** A Markdown table of the failures. */
export function renderFailuresMarkdown(failures: readonly FailureRow[]): string {
  const { header, cells } = failureCells(failures);
  return [
    `| ${header.join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
    ...cells.map((r) => `| ${r.map(mdCell).join(" | ")} |`),
  ].join("\n") + "\n";
}
