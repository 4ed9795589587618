/**
 * Output helpers for commands: JSON, YAML and aligned plain-text tables that fit the terminal.
 * Colour only when the host allows it (a terminal, no NO_COLOR; see style.ts).
 *
 * @module
 */
import { truncate, visibleWidth } from "./style.ts";

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

/** A column of {@link fitTable}. */
export interface Column {
  readonly header: string;
  /** Lower keeps its place longer when the table is too wide (0: never dropped). */
  readonly priority: number;
  /**
   * May be cut with `…` down to `min` characters when the table is still too wide; a
   * `lastResort` column only once every other column is dropped or cut.
   */
  readonly shrink?: { readonly min: number; readonly lastResort?: boolean };
}

/**
 * Renders rows as an aligned table no wider than `width` (null: any width): columns are dropped
 * from the highest priority number down, then shrinkable ones cut with `…`. `paint` colours a
 * cell after its width is decided (the padding stays plain). Returns the table and which
 * columns were left out.
 */
export function fitTable(
  columns: readonly Column[],
  rows: readonly (readonly string[])[],
  width: number | null,
  paint?: (column: number, row: number, text: string) => string,
): { text: string; dropped: string[] } {
  const natural = columns.map((c, i) =>
    Math.max(visibleWidth(c.header), ...rows.map((r) => visibleWidth(r[i] ?? "")))
  );
  // Columns with nothing to say (every cell empty or "-") are left out.
  let keep = columns.map((_, i) => rows.some((r) => !["", "-"].includes(r[i] ?? "")));
  const total = (w: number[]) => w.reduce((sum, x, i) => sum + (keep[i] ? x + 2 : 0), 0) - 2;
  const widths = [...natural];
  const dropped: string[] = [];
  if (width !== null) {
    const order = columns.map((_, i) => i).filter((i) => columns[i].priority > 0)
      .sort((a, b) => columns[b].priority - columns[a].priority);
    for (const i of order) {
      if (total(widths) <= width) break;
      if (!keep[i]) continue;
      // Cutting shrinkable columns may be enough before dropping this one.
      const room = columns.reduce(
        (sum, c, j) =>
          sum +
          (keep[j] && c.shrink && !c.shrink.lastResort ? Math.max(0, widths[j] - c.shrink.min) : 0),
        0,
      );
      if (total(widths) - room <= width) break;
      keep = keep.map((k, j) => (j === i ? false : k));
      dropped.push(columns[i].header);
    }
    // A column dropped early may fit again once a wider one went.
    for (const i of [...order].reverse()) {
      if (keep[i] || !dropped.includes(columns[i].header)) continue;
      keep = keep.map((k, j) => (j === i ? true : k));
      if (total(widths) <= width) dropped.splice(dropped.indexOf(columns[i].header), 1);
      else keep = keep.map((k, j) => (j === i ? false : k));
    }
    // Cut the widest shrinkable column a character at a time until it fits (last-resort
    // columns once the others are at their minimum).
    for (const late of [false, true]) {
      for (let over = total(widths) - width; over > 0; over--) {
        let best = -1;
        columns.forEach((c, j) => {
          const can = keep[j] && c.shrink && !!c.shrink.lastResort === late &&
            widths[j] > c.shrink.min;
          if (can && (best < 0 || widths[j] > widths[best])) best = j;
        });
        if (best < 0) break;
        widths[best]--;
      }
    }
  }
  const shown = columns.map((_, i) => i).filter((i) => keep[i]);
  const line = (cells: readonly string[], row: number) =>
    shown.map((i, k) => {
      const cut = truncate(cells[i] ?? "", widths[i]);
      const painted = paint && row >= 0 ? paint(i, row, cut) : cut;
      const pad = k === shown.length - 1 ? 0 : widths[i] - visibleWidth(cut);
      return painted + " ".repeat(Math.max(0, pad));
    }).join("  ").trimEnd();
  const text = [
    line(columns.map((c) => c.header), -1),
    ...rows.map((r, n) => line(r, n)),
  ].join("\n") + "\n";
  return { text, dropped };
}

/** A duration in one short unit: `45s`, `12m`, `3h`, `2d`. */
export function shortDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.round(s / 60)}m`;
  if (s < 86400) return `${Math.round(s / 360) / 10}h`.replace(".0h", "h");
  return `${Math.round(s / 8640) / 10}d`.replace(".0d", "d");
}
