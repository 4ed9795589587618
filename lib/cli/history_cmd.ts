/**
 * `autoexp history`: every submission autoexp made for this user, across sweeps and stages,
 * newest first, from the per-user history index (lib/runtime/history.ts); filters by state,
 * stage, sweep and time; `--json`. Also the wiring of the index for the other commands.
 *
 * @module
 */
import type { Command } from "@commander-js/extra-typings";
import { UsageError } from "../errors.ts";
import { type HistoryIndex, userHistory } from "../runtime/history.ts";
import type { Runtime } from "../runtime/mod.ts";
import {
  filterHistory,
  foldHistory,
  type HistoryEntry,
  type HistoryFilter,
  parseSince,
} from "../store/history.ts";
import { collect } from "./common.ts";
import { type Column, fitTable, renderJson } from "./output.ts";
import { makeStyle, type Style } from "./style.ts";

/** The user's history index as the commands use it (warnings on standard error). */
export function historyOf(r: Runtime): HistoryIndex | null {
  return userHistory(r.host.env, r.fs, (t) => r.output.err(`autoexp: warning: ${t}\n`));
}

/** Every entry of the user's history index (damaged lines warned about and skipped). */
export async function readHistory(r: Runtime): Promise<HistoryEntry[]> {
  const index = historyOf(r);
  if (!index) return [];
  const { records, damaged } = await index.read();
  if (damaged) {
    r.output.err(
      `autoexp: warning: skipped ${damaged} damaged line${
        damaged === 1 ? "" : "s"
      } of ${index.file}\n`,
    );
  }
  return foldHistory(records);
}

/** `2025-01-31 14:05` in local time, or `-`. */
function when(iso: string | null): string {
  if (!iso) return "-";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "-";
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${
    p(d.getMinutes())
  }`;
}

/** The history table (newest first). */
export function renderHistory(
  entries: readonly HistoryEntry[],
  width: number | null,
  style: Style = makeStyle(false),
): string {
  const columns: Column[] = [
    { header: "submitted", priority: 3 },
    { header: "job", priority: 0 },
    { header: "run", priority: 0, shrink: { min: 16, lastResort: true } },
    { header: "stage", priority: 4 },
    { header: "attempt", priority: 6 },
    { header: "state", priority: 0 },
    { header: "started", priority: 7 },
    { header: "ended", priority: 5 },
    { header: "sweep", priority: 2, shrink: { min: 12 } },
  ];
  return fitTable(
    columns,
    entries.map((e) => [
      when(e.submitted_at),
      e.job,
      e.run,
      e.stage ?? "-",
      String(e.attempt),
      e.state,
      when(e.started_at),
      when(e.ended_at),
      e.sweep,
    ]),
    width,
    (col, row, text) => (col === 5 ? style.state(entries[row].state, text) : text),
  ).text;
}

interface Options {
  inState?: string[];
  stage?: string[];
  sweep?: string[];
  since?: string;
  limit?: string;
  json?: boolean;
  wide?: boolean;
}

/** Registers `history`. */
export function registerHistory(program: Command, rt: () => Runtime): void {
  program
    .command("history")
    .description(
      "every job autoexp submitted for you, across sweeps and stages, newest first",
    )
    .option(
      "--in-state <state>",
      "only jobs in this state (repeatable): completed, failed, timeout, ...; active or ended",
      collect,
    )
    .option("--stage <name>", "only this pipeline stage's jobs (repeatable)", collect)
    .option(
      "--sweep <dir>",
      "only this sweep's jobs: its directory or its name (repeatable)",
      collect,
    )
    .option("--since <when>", "only jobs submitted since: 30m, 12h, 7d, 2w or a date (2025-01-31)")
    .option("--limit <n>", "at most n jobs (default 50 in the table, all with --json; 0: all)")
    .option("--json", "print JSON")
    .option("--wide", "show every column (by default the table fits the terminal)")
    .addHelpText(
      "after",
      `
Kept in $XDG_DATA_HOME/autoexp/history.jsonl (default ~/.local/share/autoexp/), written by
submit and the monitor, so it outlives deleted output directories; AUTOEXP_HISTORY=0 turns it
off. A job's state is the last one autoexp saw (pending until a monitor followed it).

Examples:
  autoexp history --since 2d
  autoexp history --stage finetune --in-state failed
  autoexp history --sweep outputs/pipeline --json | jq '.jobs[].job'
  autoexp logs 123456_7                     the log of a job the history lists`,
    )
    .action(async (opts) => {
      const r = rt();
      const o = opts as Options;
      const filter: HistoryFilter = {
        ...(o.inState?.length ? { states: o.inState } : {}),
        ...(o.stage?.length ? { stages: o.stage } : {}),
        ...(o.sweep?.length ? { sweeps: o.sweep } : {}),
      };
      if (o.since !== undefined) {
        const since = parseSince(o.since, r.host.now().getTime());
        if (since === null) {
          throw new UsageError(
            `--since "${o.since}": not a duration or a date; give e.g. 30m, 12h, 7d, 2w or 2025-01-31`,
          );
        }
        Object.assign(filter, { sinceMs: since });
      }
      const limit = o.limit === undefined ? (o.json ? 0 : 50) : Number(o.limit);
      if (!Number.isInteger(limit) || limit < 0) {
        throw new UsageError(`--limit "${o.limit}": give a whole number (0: all)`);
      }
      const index = historyOf(r);
      const all = filterHistory(await readHistory(r), filter);
      const shown = limit ? all.slice(0, limit) : all;
      if (o.json) {
        r.output.out(renderJson({ index: index?.file ?? null, jobs: shown }));
        return;
      }
      if (!index) {
        r.output.out(
          "no history is kept (AUTOEXP_HISTORY=0, or neither XDG_DATA_HOME nor HOME is set)\n",
        );
        return;
      }
      if (!shown.length) {
        r.output.out(
          `no jobs${Object.keys(filter).length ? " match" : " recorded yet"} (${index.file})\n`,
        );
        return;
      }
      const style = makeStyle(r.host.color);
      const more = all.length - shown.length;
      r.output.out(
        renderHistory(shown, o.wide ? null : r.host.columns?.() ?? null, style) +
          `${shown.length} job${shown.length === 1 ? "" : "s"}${
            more ? ` (${more} older: --limit 0 shows all)` : ""
          }; the log of one: autoexp logs <job>\n`,
      );
    });
}
