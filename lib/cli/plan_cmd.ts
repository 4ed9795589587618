/**
 * `autoexp plan`: compose, expand, render and write the sweep's tree; print the plan as a table
 * (or `--json`) with node-hours and GPU-hours. Submits nothing.
 *
 * @module
 */
import { scriptPathIn } from "../plan/paths.ts";
import { extraSecretNames, maskSecrets } from "../config/secrets.ts";
import { type ConfigValue, isContainer } from "../config/tree.ts";
import type { Command } from "@commander-js/extra-typings";
import { pythonStr } from "../config/python_str.ts";
import { formatSlurmTime } from "../config/schema/sbatch_options.ts";
import type { PlanOutcome } from "../plan/mod.ts";
import { writePlan } from "../render/tree.ts";
import type { Runtime } from "../runtime/mod.ts";
import { addConfigOptions, collect, type ConfigOptions, configOptionsOf } from "./common.ts";
import { stageRuns } from "../submit/release.ts";
import type { SweepPlan } from "../plan/types.ts";
import { renderJson, renderTable } from "./output.ts";

interface Options extends ConfigOptions {
  multirun?: boolean;
  json?: boolean;
  all?: boolean;
  stage?: string[];
}

/** Rows shown before the table is cut (use --all for every run). */
const MAX_ROWS = 50;

/** Registers the command. */
export function registerPlan(program: Command, rt: () => Runtime): void {
  const cmd = program
    .command("plan")
    .description(
      "compose, expand the sweep and write sweep.json and the job scripts (submits nothing)",
    )
    .option("-m, --multirun", "comma lists in -o overrides are sweep axes (lr=1e-3,1e-4)")
    .option("--json", "print the plan as JSON")
    .option("--all", "list every run (the table shows the first 50 otherwise)")
    .option("--stage <name>", "show only this stage's runs (repeatable; a pipeline)", collect)
    .addHelpText(
      "after",
      `
Examples:
  autoexp plan -C examples/scaling
  autoexp plan -C examples/quickstart -m -o backend.args.lr=1e-3,3e-4 -o backend.args.global_batch_size=64,128
  autoexp plan -C examples/scaling --json | jq '.runs[0].argv'
  autoexp plan -C examples/pipeline --stage finetune`,
    );
  addConfigOptions(cmd);
  cmd.action(async (...args: unknown[]) => {
    const r = rt();
    const o = configOptionsOf<Options>(args);
    const outcome = await writePlan(
      {
        configDir: o.configDir,
        configName: o.configName,
        overrides: o.override,
        multirun: o.multirun === true,
        argv: ["plan", ...Deno.args.slice(1)],
      },
      { fs: r.fs, host: r.host, proc: r.proc },
    );
    const only = o.stage?.length ? stageRuns(outcome.plan, o.stage) : undefined;
    const shown = only
      ? {
        ...outcome,
        plan: { ...outcome.plan, runs: outcome.plan.runs.filter((x) => only.has(x.name)) },
      }
      : outcome;
    r.output.out(
      o.json
        // Values whose names look secret are shown masked (lib/config/secrets.ts).
        ? renderJson(
          maskSecrets(shown.plan as unknown as ConfigValue, extraSecretNames(r.host.env)),
        )
        : renderPlanTable(shown, o.all === true) +
          (shown.plan.stages ? renderPipeline(shown.plan, o.all === true) : ""),
    );
    for (const w of outcome.warnings) r.output.err(`autoexp: warning: ${w}\n`);
  });
}

/** The human view of a plan. */
export function renderPlanTable(outcome: PlanOutcome, all: boolean): string {
  const { plan } = outcome;
  const keys = [...new Set(plan.runs.flatMap((r) => Object.keys(r.values)))];
  const staged = plan.stages !== undefined;
  const header = [
    "#",
    "run",
    ...(staged ? ["stage"] : []),
    ...keys,
    "nodes",
    "gpus",
    "time",
    "job",
  ];
  const rows = plan.runs.map((r) => [
    String(r.index),
    r.name,
    ...(staged ? [r.stage ?? ""] : []),
    ...keys.map((k) => (k in r.values ? short(r.values[k]) : "")),
    String(r.nodes),
    String(r.gpus),
    r.minutes ? formatSlurmTime(r.minutes) : "-",
    r.group,
  ]);
  const shown = all || rows.length <= MAX_ROWS ? rows : rows.slice(0, MAX_ROWS);
  let out = renderTable(header, shown);
  if (shown.length < rows.length) {
    out += `... and ${rows.length - shown.length} more runs (--all lists every run)\n`;
  }
  const nodeHours = plan.runs.reduce((s, r) => s + (r.nodes * r.minutes) / 60, 0);
  const gpuHours = plan.runs.reduce((s, r) => s + (r.gpus * r.minutes) / 60, 0);
  const arrays = plan.groups.filter((g) => g.kind === "array");
  const jobs = arrays.length
    ? `${arrays.length} job array${arrays.length === 1 ? "" : "s"} (${
      arrays.reduce((s, g) => s + g.chunks.length, 0)
    } sbatch calls)`
    : `${plan.groups.length} job${plan.groups.length === 1 ? "" : "s"}`;
  out += `\n${plan.runs.length} run${plan.runs.length === 1 ? "" : "s"} in ${jobs}; ` +
    `at most ${fmt(nodeHours)} node-hours, ${fmt(gpuHours)} GPU-hours (time limits)\n`;
  const scriptDirs = [
    ...new Set(plan.groups.flatMap((g) =>
      g.chunks.map((c) => {
        const path = scriptPathIn(plan.sweep.dir, c.script);
        return path.slice(0, path.lastIndexOf("/") + 1);
      })
    )),
  ];
  const more = scriptDirs.length > 1 ? ` and ${scriptDirs.length - 1} more folders` : "";
  out += `sweep:   ${plan.sweep.dir}/sweep.json\nscripts: ${
    scriptDirs[0] ?? `${plan.sweep.dir}/scripts/`
  }${more}\n`;
  for (const [run, d] of Object.entries(outcome.derived).slice(0, 1)) {
    out += `derived (${run}): ${Object.entries(d).map(([k, v]) => `${k}=${v}`).join(", ")}\n`;
  }
  return out;
}

/**
 * A pipeline's graph: its stages by tier (runs per stage, what each needs), then which run
 * feeds which as a tree (a run with several inputs is listed under each; cut at 50 lines
 * unless `all`).
 */
export function renderPipeline(plan: SweepPlan, all: boolean): string {
  const shownRuns = new Set(plan.runs.map((r) => r.name));
  const count = (s: string) => plan.runs.filter((r) => r.stage === s).length;
  const stages = (plan.stages ?? []).filter((s) => count(s.name) > 0);
  const tiers = new Set(stages.map((s) => s.tier)).size;
  let out = `\npipeline: ${stages.length} stage${stages.length === 1 ? "" : "s"} in ${tiers} ` +
    `tier${tiers === 1 ? "" : "s"}; each run starts when its own inputs completed\n`;
  out += renderTable(
    ["tier", "stage", "runs", "needs"],
    stages.map((s) => [String(s.tier), s.name, String(count(s.name)), s.needs.join(", ") || "-"]),
  );
  const children = new Map<string, string[]>();
  for (const r of plan.runs) {
    for (const n of r.needs ?? []) {
      const list = children.get(n) ?? [];
      list.push(r.name);
      children.set(n, list);
    }
  }
  const stageOf = new Map(plan.runs.map((r) => [r.name, r.stage ?? ""]));
  const lines: string[] = [];
  const walk = (name: string, prefix: string, last: boolean, root: boolean) => {
    lines.push(`${root ? "" : `${prefix}${last ? "└─ " : "├─ "}`}${name} (${stageOf.get(name)})`);
    const kids = (children.get(name) ?? []).filter((k) => shownRuns.has(k));
    const next = root ? "" : `${prefix}${last ? "   " : "│  "}`;
    kids.forEach((k, i) => walk(k, next, i === kids.length - 1, false));
  };
  // Roots: shown runs none of whose inputs are shown.
  for (const r of plan.runs) {
    if (!(r.needs ?? []).some((n) => shownRuns.has(n))) walk(r.name, "", true, true);
  }
  const cut = all || lines.length <= MAX_ROWS ? lines : lines.slice(0, MAX_ROWS);
  out += `\n${cut.join("\n")}\n`;
  if (cut.length < lines.length) out += `... and ${lines.length - cut.length} more lines (--all)\n`;
  return out;
}

function short(v: unknown): string {
  const s = isContainer(v) ? JSON.stringify(v) : pythonStr(v);
  return s.length > 24 ? `${s.slice(0, 21)}...` : s;
}

function fmt(n: number): string {
  return n >= 100 ? n.toFixed(0) : n.toFixed(1);
}
