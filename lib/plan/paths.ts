/**
 * Where a run's files go: its run directory (autoexp's `<sweep>/runs/<run>`, or the seed tool's
 * flat `<base_output_dir>/<run>`), its per-attempt log (`project.log_path`, `slurm.log_path`,
 * `monitoring.log_path_template`, `slurm.log_dir`) and the stable link to its newest log
 * (`project.log_path_current`). The seed's path templates use `{name}`-style placeholders and
 * SLURM's `%j`; this module fills them. Pure.
 *
 * @module
 */
import type { ConfigProblem } from "../errors.ts";
import type { RUN_LAYOUTS } from "../config/schema/project.ts";

/** How run directories are laid out under `project.base_output_dir`. */
export type RunLayout = typeof RUN_LAYOUTS[number];

/**
 * A run's directory: `<sweep dir>/runs/<run>` (layout `sweep`), or `<base>/<run>` (layout `flat`,
 * the seed tool's `<base_output_dir>/<run>/checkpoints`), where `base` is the absolute
 * `project.base_output_dir`.
 */
export function runDirFor(
  layout: RunLayout,
  dirs: { readonly sweepDir: string; readonly baseDir: string },
  run: string,
): string {
  return layout === "flat"
    ? `${dirs.baseDir.replace(/\/+$/, "")}/${run}`
    : `${dirs.sweepDir}/runs/${run}`;
}

/** The values a run's path template may name. */
export interface RunPathContext {
  /** The stable run name. */
  readonly name: string;
  readonly index: number;
  /** `project.name`. */
  readonly project: string;
  /** The run directory. */
  readonly runDir: string;
  readonly sweepDir: string;
  /** Where relative paths are taken from (where autoexp runs, as for base_output_dir). */
  readonly cwd: string;
}

/** The `{placeholders}` a run path template knows, with what they stand for. */
export const RUN_PATH_PLACEHOLDERS: Readonly<Record<string, string>> = {
  name: "the run name",
  index: "the run's sweep index",
  project: "project.name",
  project_name: "project.name (the seed's spelling)",
  output_dir: "the run directory",
  run_dir: "the run directory",
  sweep_dir: "the sweep directory",
};

/** The placeholders that name a run (`{name}`, `{index}`, `{project}`), in paths and job names. */
export function runIdentity(
  key: string,
  ctx: { readonly name: string; readonly index: number; readonly project: string },
): string | undefined {
  switch (key) {
    case "name":
      return ctx.name;
    case "index":
      return String(ctx.index);
    case "project":
    case "project_name":
      return ctx.project;
  }
  return undefined;
}

function placeholderValue(key: string, ctx: RunPathContext): string | undefined {
  const own = runIdentity(key, ctx);
  if (own !== undefined) return own;
  switch (key) {
    case "output_dir":
    case "run_dir":
      return ctx.runDir;
    case "sweep_dir":
      return ctx.sweepDir;
  }
  return undefined;
}

/**
 * Fills `{name}`-style placeholders (see {@link RUN_PATH_PLACEHOLDERS}; `{{` and `}}` are
 * literal braces, as in the seed's Python `str.format`). `keep` lists placeholders left as they
 * are (`job_id` for log paths). Relative results are taken from `ctx.cwd`.
 *
 * @example
 * ```ts
 * fillRunPath("/out/{name}/logs", ctx, "slurm.log_dir"); // { value: "/out/lr0.1/logs" }
 * ```
 */
export function fillRunPath(
  template: string,
  ctx: RunPathContext,
  path: string,
  keep: readonly string[] = [],
): { value?: string; problem?: ConfigProblem } {
  let unknown: string | undefined;
  const filled = template.replace(/\{\{|\}\}|\{([^{}]*)\}/g, (all, key: string | undefined) => {
    if (all === "{{") return "{";
    if (all === "}}") return "}";
    const k = key!.trim();
    if (keep.includes(k)) return `{${k}}`;
    const v = placeholderValue(k, ctx);
    if (v === undefined) unknown ??= all;
    return v ?? all;
  });
  if (unknown !== undefined) {
    const known = [...Object.keys(RUN_PATH_PLACEHOLDERS), ...keep].map((k) => `{${k}}`);
    return {
      problem: {
        path,
        message: `unknown placeholder ${unknown} in ${JSON.stringify(template)}; known: ${
          known.join(", ")
        }`,
      },
    };
  }
  if (/[\r\n]/.test(filled)) {
    return {
      problem: {
        path,
        message: `${JSON.stringify(filled)} contains a line break; write the path on one line`,
      },
    };
  }
  if (filled.trim() === "") return { problem: { path, message: "the path is empty" } };
  const abs = filled.startsWith("/") ? filled : `${ctx.cwd}/${filled.replace(/^\.\//, "")}`;
  return { value: abs.replace(/\/+$/, "") };
}

/**
 * A per-attempt log path template in SLURM's filename-pattern syntax (the seed's `log_path`:
 * "path template as used in slurm") -> autoexp's form with `{job_id}`: `%j` (and `{job_id}`)
 * is the attempt's job id, `%%` a percent sign. Other SLURM patterns (`%A`, `%a`, `%x`, `%u`,
 * `%N`, ...) are refused: autoexp must know each attempt's log file before the job runs, and
 * every attempt needs a log of its own (so `%j` is required).
 *
 * @example
 * ```ts
 * slurmLogPattern("/o/lr0.1/logs/slurm-%j.out", "project.log_path");
 * // { value: "/o/lr0.1/logs/slurm-{job_id}.out" }
 * ```
 */
export function slurmLogPattern(
  filled: string,
  path: string,
): { value?: string; problem?: ConfigProblem } {
  let bad: string | undefined;
  const value = filled.replace(/%%|%j|%./g, (m) => {
    if (m === "%%") return "%";
    if (m === "%j") return "{job_id}";
    bad ??= m;
    return m;
  });
  if (bad !== undefined) {
    return {
      problem: {
        path,
        message: `${JSON.stringify(filled)} uses the SLURM pattern ${bad}; autoexp knows the ` +
          `log file of every attempt by its job id, so only %j (the job id) and %% are allowed`,
      },
    };
  }
  if (/%$/.test(value)) {
    return { problem: { path, message: `${JSON.stringify(filled)} ends in a lone %` } };
  }
  if (value.includes("{job_id}") && value.lastIndexOf("/") > value.indexOf("{job_id}")) {
    return {
      problem: {
        path,
        message: `${JSON.stringify(filled)} has %j in a folder name: SLURM does not create ` +
          `folders, so the job's output would be lost; put %j in the file name only, e.g. ` +
          `${
            JSON.stringify(filled.replace(/\/[^/]*%j[^/]*\//, "/").replace(/(\.[^./]*)?$/, "-%j$1"))
          }`,
      },
    };
  }
  if (!value.includes("{job_id}")) {
    return {
      problem: {
        path,
        message: `${JSON.stringify(filled)} is one file for every attempt of the run; add %j ` +
          `(the job id), e.g. ${JSON.stringify(`${filled.replace(/\.[^./]*$/, "")}-%j.log`)}, ` +
          `so each attempt has its own log (autoexp follows each attempt's log from its start); ` +
          `for one stable path to the newest log, set project.log_path_current`,
      },
    };
  }
  return { value };
}

/** The log settings of a run as configured (resolved values; null/undefined when unset). */
export interface LogSettings {
  /** Key path -> value of the keys that set a per-attempt log path template, in precedence order. */
  readonly templates: readonly (readonly [string, string | null | undefined])[];
  /** `slurm.log_dir`: the folder of the run's logs (`<dir>/<job id>.log`). */
  readonly logDir?: string | null;
  /** `project.log_path_current`: a link to the newest attempt's log. */
  readonly current?: string | null;
}

/** Where a run's logs go. */
export interface RunLogPaths {
  /** The per-attempt log path, `{job_id}` standing for the job id. */
  readonly logPath: string;
  /** The stable link to the newest attempt's log, if configured. */
  readonly logLink?: string;
}

/**
 * A run's log paths from its settings: the first template key set (a value equal to
 * `log_path_current` names the newest log, not a template, as in the seed's
 * `log_path: ${project.log_path_current}`), else `slurm.log_dir/<job id>.log`, else
 * `<run dir>/logs/<job id>.log`. Keys that name different templates are an error.
 */
export function runLogPaths(
  settings: LogSettings,
  ctx: RunPathContext,
): { paths?: RunLogPaths; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  let logLink: string | undefined;
  if (settings.current) {
    const r = fillRunPath(settings.current, ctx, "project.log_path_current");
    if (r.problem) problems.push(r.problem);
    else if (r.value!.includes("%")) {
      problems.push({
        path: "project.log_path_current",
        message: `${JSON.stringify(r.value)} is a fixed path (a link to the newest log); ` +
          `it cannot hold SLURM patterns such as %j`,
      });
    } else logLink = r.value;
  }
  const chosen: { key: string; value: string }[] = [];
  for (const [key, raw] of settings.templates) {
    if (raw === null || raw === undefined || raw === "") continue;
    if (settings.current && raw === settings.current) continue;
    const filled = fillRunPath(raw, ctx, key, ["job_id"]);
    if (filled.problem) {
      problems.push(filled.problem);
      continue;
    }
    const pattern = slurmLogPattern(filled.value!, key);
    if (pattern.problem) problems.push(pattern.problem);
    else chosen.push({ key, value: pattern.value! });
  }
  const distinct = [...new Set(chosen.map((c) => c.value))];
  if (distinct.length > 1) {
    problems.push({
      path: chosen[1].key,
      message: `names the log ${JSON.stringify(chosen[1].value)}, but ${chosen[0].key} names ` +
        `${JSON.stringify(chosen[0].value)}; a run has one log per attempt: keep one of them`,
    });
  }
  let logPath = chosen[0]?.value;
  if (logPath === undefined && settings.logDir) {
    const dir = fillRunPath(settings.logDir, ctx, "slurm.log_dir");
    if (dir.problem) problems.push(dir.problem);
    else logPath = `${dir.value}/{job_id}.log`;
  }
  logPath ??= `${ctx.runDir}/logs/{job_id}.log`;
  if (problems.length) return { problems };
  return { paths: logLink === undefined ? { logPath } : { logPath, logLink }, problems };
}

/** A job script's path: chunk paths are relative to the sweep directory unless absolute. */
export function scriptPathIn(sweepDir: string, script: string): string {
  return script.startsWith("/") ? script : `${sweepDir}/${script}`;
}

/** The log path of an attempt (array tasks write to the group's log folder). */
export function attemptLogPath(
  plan: { readonly sweep: { readonly dir: string }; readonly groups: readonly unknown[] },
  run: { readonly group: string; readonly logPath: string },
  a: { readonly jobId?: string; readonly arrayJobId?: string; readonly taskId?: number },
): string | null {
  if (!a.jobId) return null;
  // Array tasks of a group autoexp submitted; an adopted task (adhoc.ts) logs where --log says.
  if (a.arrayJobId !== undefined && a.taskId !== undefined && plan.groups.length) {
    return `${plan.sweep.dir}/logs/${run.group}/${a.arrayJobId}_${a.taskId}.log`;
  }
  return run.logPath.replace("{job_id}", a.jobId);
}
