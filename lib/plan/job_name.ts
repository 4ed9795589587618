/**
 * Job name templates (`slurm.sbatch.job_name` / `slurm.sbatch_overrides.job_name`), in the form
 * seed 001 writes them: `{name}_$(date +%Y%m%d_%H%M%S)`. Placeholders are filled per job when it
 * is submitted (sbatch gets the name as one argument; no shell ever runs it). Pure: the
 * submission time is passed in.
 *
 * @module
 */
import { strftime } from "../config/resolvers.ts";
import type { ConfigProblem } from "../errors.ts";
import { runIdentity } from "./paths.ts";

/** The `{placeholders}` of a job name, with what they stand for. */
export const JOB_NAME_PLACEHOLDERS: Readonly<Record<string, string>> = {
  name: "the run name (an array: `<sweep>.<group>`)",
  index: "the run's sweep index (an array: its first)",
  project: "project.name",
  project_name: "project.name (the seed's spelling)",
  attempt: "the attempt number (an array: the submission number); without it autoexp appends -a<N>",
  timestamp: "the submission time, %Y%m%d_%H%M%S",
};

/** What a job name is filled from. */
export interface JobNameContext {
  readonly name: string;
  readonly index: number;
  readonly project: string;
  /** Unknown when rendering a script (sbatch is given the filled name on its command line). */
  readonly attempt?: string;
  /** The submission time; unknown when rendering a script. */
  readonly now?: Date;
}

const TOKEN =
  /\{\{|\}\}|\{([^{}]*)\}|\$\(\s*date(?:\s+(?:'\+([^']*)'|"\+([^"]*)"|\+([^\s)]*)))?\s*\)|\$\{[^}]*\}?|\$/g;

/** True when the template names the attempt itself (autoexp then adds no `-a<N>`). */
export function namesAttempt(template: string): boolean {
  return /\{\s*attempt\s*\}/.test(template.replaceAll("{{", "").replaceAll("}}", ""));
}

/**
 * Checks a job name template for the planner (key path `path`): an unknown placeholder is a
 * problem; shell syntax other than `$(date +FORMAT)` gets a warning, as it reaches SLURM as
 * written (sbatch gets the name as one argument, no shell expands it).
 */
export function checkJobName(
  template: string,
  path: string,
): { problems: ConfigProblem[]; warnings: string[] } {
  const problems: ConfigProblem[] = [];
  const warnings: string[] = [];
  if (/[\r\n]/.test(template)) {
    problems.push({ path, message: `${JSON.stringify(template)} contains a line break` });
    return { problems, warnings };
  }
  for (const m of template.matchAll(TOKEN)) {
    if (m[0].startsWith("$") && !m[0].startsWith("$(")) {
      const rest = template.slice(m.index! + 1);
      if (!/^[{A-Za-z_]/.test(rest) || warnings.length) continue;
      const jobId = /^\{?SLURM_(ARRAY_)?JOB_ID\b/.test(rest);
      warnings.push(
        `${path}: "$${rest.slice(0, 24)}" reaches SLURM as written (job names are not run by ` +
          `a shell)${
            jobId
              ? "; a job's id is not known before it is submitted: `autoexp status` shows it, " +
                "and each attempt's job name is unique (-a<N>)"
              : ""
          }; placeholders: ${
            Object.keys(JOB_NAME_PLACEHOLDERS).map((k) => `{${k}}`).join(", ")
          }, and $(date +FORMAT) for the submission time`,
      );
      continue;
    }
    if (m[1] !== undefined && !(m[1].trim() in JOB_NAME_PLACEHOLDERS)) {
      problems.push({
        path,
        message: `unknown placeholder ${m[0]} in ${JSON.stringify(template)}; known: ${
          Object.keys(JOB_NAME_PLACEHOLDERS).map((k) => `{${k}}`).join(", ")
        } (write {{ and }} for literal braces)`,
      });
    }
  }
  return { problems, warnings };
}

/**
 * Fills a job name template (checked by {@link checkJobName}). Values not known yet (the
 * attempt and the time, when rendering a script) are left as written.
 *
 * @example
 * ```ts
 * fillJobName("{name}_$(date +%Y%m%d)", { name: "50M", index: 0, project: "p", now });
 * // "50M_20261203"
 * ```
 */
export function fillJobName(template: string, ctx: JobNameContext): string {
  return template.replace(TOKEN, (all, key?: string, q1?: string, q2?: string, bare?: string) => {
    if (all === "{{") return "{";
    if (all === "}}") return "}";
    if (all.startsWith("$") && !all.startsWith("$(")) return all;
    if (key === undefined) {
      // $(date [+FORMAT]): the submission time (without a format: %Y%m%d_%H%M%S, as a job
      // name has no spaces)
      if (!ctx.now) return all;
      return strftime(ctx.now, q1 ?? q2 ?? bare ?? "%Y%m%d_%H%M%S");
    }
    const own = runIdentity(key.trim(), ctx);
    if (own !== undefined) return own;
    switch (key.trim()) {
      case "attempt":
        return ctx.attempt ?? all;
      case "timestamp":
        return ctx.now ? strftime(ctx.now, "%Y%m%d_%H%M%S") : all;
    }
    return all;
  });
}
