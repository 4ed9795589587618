/**
 * Output helpers for commands: JSON, YAML and aligned plain-text tables. Colour only when the
 * host allows it (a terminal, no NO_COLOR).
 *
 * @module
 */

/** Renders rows as an aligned table with a header; cells are plain strings. */
export function renderTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join("  ").trimEnd();
  return [line(header), ...rows.map(line)].join("\n") + "\n";
}

/** Pretty JSON with a trailing newline. */
export function renderJson(data: unknown): string {
  return JSON.stringify(
    data,
    (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v),
    2,
  ) + "\n";
}
