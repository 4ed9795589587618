/**
 * Schema of the `project` group: what the sweep is called and where its outputs live.
 *
 * @module
 */
import * as z from "zod/mini";

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
  log_path_current: z.optional(z.nullable(z.string())),
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
  log_path_current: "seed-tool compatibility: a log path template",
  resume: "resume runs from their checkpoints when resubmitted (default true)",
  tags: "labels copied into sweep.json",
};
