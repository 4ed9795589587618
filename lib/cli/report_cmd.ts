/**
 * `autoexp report`: writes one self-contained HTML page about a sweep (`<sweep>/report.html`,
 * or `--out FILE`): what `autoexp results` reads, as a summary, a sortable table, loss curves,
 * the final loss against the swept parameters, a timeline of attempts, actions and derived runs
 * and the failed attempts (lib/results/report.ts). uPlot is inlined, so the page needs no
 * network to be viewed.
 *
 * @module
 */
import type { Command, CommandUnknownOpts } from "@commander-js/extra-typings";
import type { SweepPlan } from "../plan/types.ts";
import type { Runtime } from "../runtime/mod.ts";
import { actionTallies } from "../store/state.ts";
import { SweepStore } from "../store/store.ts";
import { addSweepLocationOptions, locateSweep, type SweepLocation } from "./locate.ts";
import { readSweepResults } from "./results_cmd.ts";

/** Writes the report of the sweep at `loc`; returns its path. */
export async function writeReport(
  r: Runtime,
  loc: { plan: SweepPlan; kind?: "slurm" | "local" },
  opts: { out?: string; live: boolean; quiet?: boolean },
): Promise<string> {
  const { denoTailSource } = await import("../runtime/tail_source.ts");
  const { renderReport } = await import("../results/report.ts");
  const { UPLOT_CSS, UPLOT_JS, UPLOT_VERSION } = await import("../assets/uplot.gen.ts");
  const res = await readSweepResults(r, loc, { live: opts.live, source: denoTailSource() });
  if (!opts.quiet) { for (const p of res.problems) r.output.err(`autoexp: warning: ${p}\n`); }
  const store = await SweepStore.open(r.fs, r.host, loc.plan.sweep.dir, { readOnly: true });
  const actions: Record<string, Record<string, number>> = {};
  for (const [run, t] of actionTallies(store.state)) {
    const c: Record<string, number> = actions[run] = {};
    if (t.ok) c.ok = t.ok;
    if (t.failed) c.failed = t.failed;
    if (t.skipped) c.skipped = t.skipped;
    for (const a of Object.values(store.state.actions ?? {})) {
      if (a.run === run && (a.status === "queued" || a.status === "started")) {
        c[a.status] = (c[a.status] ?? 0) + 1;
      }
    }
  }
  const html = renderReport(
    {
      sweep: { name: loc.plan.sweep.name, dir: loc.plan.sweep.dir },
      generatedAt: res.now.toISOString(),
      runs: res.inputs,
      table: res.table,
      failures: res.failures,
      actions,
    },
    { uplotJs: UPLOT_JS, uplotCss: UPLOT_CSS, uplotVersion: UPLOT_VERSION },
  );
  const out = opts.out ?? `${loc.plan.sweep.dir}/report.html`;
  await r.fs.writeTextFile(out, html, false);
  return out;
}

/** Registers `report`. */
export function registerReport(program: Command, rt: () => Runtime): void {
  const cmd = program
    .command("report")
    .description(
      "write one self-contained HTML page about a sweep: results, loss curves, attempts, failures",
    )
    .option("--out <file>", "where to write it (default <sweep dir>/report.html)")
    .option("--no-live", "do not ask the scheduler; use what the sweep's store recorded")
    .addHelpText(
      "after",
      `
Examples:
  autoexp report --state outputs/demo          writes outputs/demo/report.html
  autoexp report --out ~/report.html          to copy to a laptop`,
    );
  addSweepLocationOptions(cmd as unknown as CommandUnknownOpts);
  cmd.action(async (opts) => {
    const r = rt();
    const o = opts as SweepLocation & { out?: string; live: boolean };
    const loc = await locateSweep(o, r);
    const path = await writeReport(r, loc, { out: o.out, live: o.live !== false });
    r.output.out(`wrote ${path}\n`);
  });
}
