/**
 * Schema of the `project` group: what the sweep is called and where its outputs live.
 *
 * @module
 */
import * as z from "zod/mini";

/** How run directories are laid out under `project.base_output_dir` (see `project.run_layout`). */
export const RUN_LAYOUTS = ["sweep", "flat"] as const;

/** Names safe as directory and job names. */
export const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

/** The `project` group. */
export const projectSchema = z.strictObject({
  class_name: z.optional(z.literal("Project")),
  name: z.string().check(
    z.regex(SAFE_NAME, "must start with a letter or digit and use only letters, digits, . _ + -"),
  ),
  description: z.optional(z.nullable(z.string())),
  base_output_dir: z.string().check(z.minLength(1, "must not be empty")),
  state_dir: z.optional(z.nullable(z.string())),
  monitoring_state_dir: z.optional(z.nullable(z.string())),
  // --- issue 17, seed 001: where a run's files go (lib/plan/paths.ts) ---
  log_path: z.optional(z.nullable(z.string())),
  log_path_current: z.optional(z.nullable(z.string())),
  run_layout: z.optional(z.enum(RUN_LAYOUTS)),
  // --- end seed 001 ---
  resume: z.optional(z.boolean()),
  tags: z.optional(z.array(z.string())),
});

/** Field descriptions for the generated configuration reference. */
export const projectDocs: Record<string, string> = {
  class_name: "accepted for compatibility with the seed tool's configs; ignored",
  name: "project (sweep) name; names the output folder `<base_output_dir>/<name>`",
  description: "free text shown in `autoexp status`",
  base_output_dir: "folder under which every sweep of the project writes its tree",
  state_dir: "where the monitor keeps its journal (default `<sweep>/.autoexp`)",
  monitoring_state_dir: "seed-tool spelling of state_dir",
  log_path:
    "each attempt's log file, in SLURM's pattern syntax: `%j` (the job id, required) and `{name}`, `{index}`, `{project}`, `{output_dir}` (the run directory), `{sweep_dir}`; e.g. `${.base_output_dir}/{name}/logs/slurm-%j.out` (default `<run dir>/logs/%j.log`)",
  log_path_current:
    "a fixed path, with the same `{placeholders}`, kept as a link to the newest attempt's log (made when the attempt starts); a `log_path` key whose value is this path means that newest log",
  run_layout:
    "`sweep` (default): a run's directory is `<base_output_dir>/<name>/runs/<run>`; `flat`: `<base_output_dir>/<run>`, the seed tool's layout, so runs it started resume under autoexp (autoexp's own state stays in `<base_output_dir>/<name>`; a run directory another sweep uses is an error)",
  resume: "resume runs from their checkpoints when resubmitted (default true)",
  tags: "labels copied into sweep.json",
};
