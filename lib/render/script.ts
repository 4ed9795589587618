/**
 * Rendering job scripts: a {@link JobGroup} (single job or array chunk) -> the text of an
 * sbatch script, from the templates in `templates/` (`sbatch.sh`, `array.sh`). Directives come
 * from the sbatch option table; every value that is data is quoted. Pure.
 *
 * @module
 */
import { builtinTemplate } from "../assets/mod.ts";
import { SBATCH_OPTIONS } from "../config/schema/sbatch_options.ts";
import type { ArrayChunk, JobGroup, Resources, RunPlan, SweepPlan } from "../plan/types.ts";
import { fillJobName } from "../plan/job_name.ts";
import { shellJoin, shellQuote } from "../shell.ts";

/** Thrown for values that cannot be rendered safely (a newline in a directive). */
export class RenderError extends Error {
  override name = "RenderError";
}

/** Fills `{{name}}` placeholders; an unknown placeholder is an error (templates are ours). */
export function fillTemplate(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_, k: string) => {
    if (!(k in values)) throw new RenderError(`template placeholder {{${k}}} has no value`);
    return values[k];
  });
}

/** Quotes a directive value for sbatch's own parser (double quotes when needed). */
export function directiveValue(v: string): string {
  if (/[\r\n]/.test(v)) {
    throw new RenderError(`a directive value cannot contain a newline: ${JSON.stringify(v)}`);
  }
  if (/^[A-Za-z0-9_@%+=:,./\-[\]]+$/.test(v)) return v;
  return `"${v.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}

/** `#SBATCH` lines for resources, in the table's order. */
export function renderResourceDirectives(resources: Resources): string[] {
  return sbatchFlags(resources, directiveValue).map((w) => `#SBATCH ${w}`);
}

/**
 * The sbatch options of resources as words (`--mem=64G`, `--exclusive`, `--no-requeue`), values
 * passed through `quote` (directives need sbatch's quoting; command-line words do not).
 */
export function sbatchFlags(
  resources: Resources,
  quote: (value: string) => string = (v) => v,
): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(resources)) {
    const opt = SBATCH_OPTIONS[key];
    if (!opt) throw new RenderError(`unknown sbatch option "${key}"`);
    if (opt.type === "flag") {
      if (value === true) out.push(`--${opt.flag}`);
    } else if (opt.type === "bool") {
      if (value === true) out.push(`--${opt.flag}`);
      else if (opt.falseFlag) out.push(`--${opt.falseFlag}`);
    } else out.push(`--${opt.flag}=${quote(String(value))}`);
  }
  return out;
}

/** The comment tag that lets autoexp find its jobs: `autoexp:<sweep id>:<run or group>`. */
export function commentTag(sweepId: string, target: string, attempt?: number | string): string {
  return attempt === undefined
    ? `autoexp:${sweepId}:${target}`
    : `autoexp:${sweepId}:${target}:${attempt}`;
}

function prologue(group: JobGroup): string {
  const s = group.script;
  const lines: string[] = [];
  if (s.modules.length) lines.push(`module load ${shellJoin(s.modules)}`);
  lines.push(...s.setup);
  // `K=expr` then one `export`: `export K=$(cmd)` would hide the command's exit status (SC2155).
  const names = Object.keys(s.shellEnv);
  for (const [k, v] of Object.entries(s.shellEnv)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) {
      throw new RenderError(`invalid environment variable name "${k}"`);
    }
    if (/[\r\n]/.test(v)) {
      throw new RenderError(`shell expression of ${k} cannot contain a newline`);
    }
    lines.push(`${k}=${v}`);
  }
  if (names.length) lines.push(`export ${names.join(" ")}`);
  return lines.join("\n");
}

function extraDirectives(group: JobGroup): string[] {
  return group.script.extraDirectives.map((d) => {
    if (/[\r\n]/.test(d) || !/^#SBATCH\s+\S/.test(d)) {
      throw new RenderError(
        `extra directive must be one "#SBATCH ..." line, got ${JSON.stringify(d)}`,
      );
    }
    return d;
  });
}

/** Renders the script of a single (non-array) run. */
export function renderSingleScript(plan: SweepPlan, run: RunPlan, group: JobGroup): string {
  const directives = [
    `#SBATCH --job-name=${directiveValue(jobNameOf(plan, group, run))}`,
    `#SBATCH --output=${directiveValue(slurmOutputPattern(run.logPath))}`,
    ...openMode(group),
    `#SBATCH --comment=${directiveValue(commentTag(plan.sweep.id, run.name))}`,
    ...renderResourceDirectives(withoutJobName(group.script.resources)),
    ...extraDirectives(group),
  ];
  return fillTemplate(builtinTemplate("sbatch.sh")!, {
    directives: directives.join("\n"),
    version: plan.sweep.autoexpVersion,
    sweep: plan.sweep.name.replaceAll("\n", " "),
    run: run.name,
    index: String(run.index),
    prologue: prologue(group),
    autoexp: shellJoin(plan.sweep.autoexp),
    sweep_file: shellQuote(`${plan.sweep.dir}/sweep.json`),
  });
}

/** Renders the script of one chunk of an array group. */
export function renderArrayScript(plan: SweepPlan, group: JobGroup, chunk: ArrayChunk): string {
  const name = jobNameOf(plan, group);
  const directives = [
    `#SBATCH --job-name=${directiveValue(name)}`,
    `#SBATCH --output=${directiveValue(`${plan.sweep.dir}/logs/${group.id}/%A_%a.log`)}`,
    ...openMode(group),
    `#SBATCH --comment=${directiveValue(commentTag(plan.sweep.id, group.id))}`,
    `#SBATCH --array=${directiveValue(chunk.array)}`,
    ...renderResourceDirectives(withoutJobName(group.script.resources)),
    ...extraDirectives(group),
  ];
  return fillTemplate(builtinTemplate("array.sh")!, {
    directives: directives.join("\n"),
    version: plan.sweep.autoexpVersion,
    sweep: plan.sweep.name.replaceAll("\n", " "),
    group: group.id,
    count: String(chunk.indices.length),
    offset: String(chunk.offset),
    prologue: prologue(group),
    autoexp: shellJoin(plan.sweep.autoexp),
    sweep_file: shellQuote(`${plan.sweep.dir}/sweep.json`),
  });
}

/** A run's per-attempt log path as sbatch's `--output` pattern: `{job_id}` -> `%j`, `%` -> `%%`. */
export function slurmOutputPattern(logPath: string): string {
  return logPath.replaceAll("%", "%%").replaceAll("{job_id}", "%j");
}

/**
 * The job name of a single run or an array: `slurm.sbatch.job_name` with its `{placeholders}`
 * filled (see `plan/job_name.ts`), or the run's name / `<sweep>.<group>`. Values known only at
 * submission (`{attempt}`, the time) stay as written here; `submit` passes sbatch the full name.
 */
export function jobNameOf(
  plan: SweepPlan,
  group: JobGroup,
  run?: RunPlan,
  more: { attempt?: string; now?: Date } = {},
): string {
  const fallback = run ? run.name : `${plan.sweep.name}.${group.id}`;
  const template = group.script.resources.job_name;
  if (template === undefined) return fallback;
  return fillJobName(String(template), {
    name: fallback,
    index: run ? run.index : group.indices[0],
    project: plan.sweep.name,
    ...more,
  });
}

/** Append by default, so a requeued attempt (same job id) does not truncate its log. */
function openMode(group: JobGroup): string[] {
  return group.script.resources.open_mode === undefined ? ["#SBATCH --open-mode=append"] : [];
}

function withoutJobName(r: Resources): Resources {
  const { job_name: _, ...rest } = r;
  return rest;
}

/** Every script of a plan: relative path -> text. */
export function renderScripts(plan: SweepPlan): Map<string, string> {
  const out = new Map<string, string>();
  const byIndex = new Map(plan.runs.map((r) => [r.index, r]));
  for (const g of plan.groups) {
    if (g.kind === "single") {
      const run = byIndex.get(g.indices[0])!;
      out.set(g.chunks[0].script, renderSingleScript(plan, run, g));
    } else {
      for (const c of g.chunks) out.set(c.script, renderArrayScript(plan, g, c));
    }
  }
  return out;
}
