/**
 * Schema of the `slurm` group: sbatch options (from the one table in `sbatch_options.ts`),
 * extra directives, the job environment, launcher prefix, srun options and array settings.
 *
 * @module
 */
import * as z from "zod/mini";
import { WholeFloat } from "../tree.ts";
import { SBATCH_OPTIONS, type SbatchOption, SLURM_MEMORY, SLURM_TIME } from "./sbatch_options.ts";

function optionSchema(o: SbatchOption) {
  switch (o.type) {
    case "int":
      return z.int().check(z.nonnegative());
    case "bool":
    case "flag":
      return z.boolean();
    case "time":
      return z.union([
        z.string().check(z.regex(SLURM_TIME, "must be a SLURM time: MM, HH:MM:SS or D-HH:MM:SS")),
        z.int().check(z.positive()),
      ]);
    case "memory":
      return z.union([
        z.string().check(z.regex(SLURM_MEMORY, "must be a size such as 64G, 4000M or 0")),
        z.int().check(z.nonnegative()),
      ]);
    default:
      return z.union([z.string(), z.number()]);
  }
}

/** `slurm.sbatch`: only options from the table (others go in `sbatch_extra_directives`). */
export const sbatchSchema = z.strictObject(
  Object.fromEntries(
    Object.entries(SBATCH_OPTIONS).map(([k, o]) => [k, z.optional(z.nullable(optionSchema(o)))]),
  ),
);

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
/** An env value: a whole float (`1.0`) is kept there, see `FREE_FORM_PATHS`. */
const envScalar = z.union([
  z.string(),
  z.number(),
  z.instanceof(WholeFloat),
  z.boolean(),
  z.null(),
]);

/** Environment variables: a string value, or `{value, shell: true}` for a shell expression. */
export const envSchema = z.record(
  z.string().check(
    z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be a valid environment variable name"),
  ),
  z.union([envScalar, z.strictObject({ value: z.string(), shell: z.optional(z.boolean()) })]),
);

/** The `slurm` group. */
export const slurmSchema = z.strictObject({
  class_name: z.optional(z.literal("Slurm")),
  scheduler: z.optional(z.enum(["auto", "slurm", "local"])),
  sbatch: z.optional(sbatchSchema),
  sbatch_overrides: z.optional(sbatchSchema),
  sbatch_extra_directives: z.optional(z.array(z.string())),
  env: z.optional(envSchema),
  environment: z.optional(envSchema),
  launcher_cmd: z.optional(
    z.nullable(z.union([z.string(), z.array(z.union([z.string(), z.number()]))])),
  ),
  launcher_env_passthrough: z.optional(z.boolean()),
  srun: z.optional(z.nullable(z.record(z.string(), scalar))),
  modules: z.optional(z.array(z.string())),
  setup: z.optional(z.array(z.string())),
  array: z.optional(z.union([
    z.boolean(),
    z.strictObject({
      enabled: z.optional(z.boolean()),
      throttle: z.optional(z.nullable(z.int().check(z.positive()))),
    }),
  ])),
  max_array_size: z.optional(z.nullable(z.int().check(z.positive()))),
  confirm_above: z.optional(z.strictObject({
    runs: z.optional(z.nullable(z.number().check(z.nonnegative()))),
    jobs: z.optional(z.nullable(z.number().check(z.nonnegative()))),
    node_hours: z.optional(z.nullable(z.number().check(z.nonnegative()))),
    gpu_hours: z.optional(z.nullable(z.number().check(z.nonnegative()))),
  })),
  autoexp_command: z.optional(z.nullable(z.union([z.string(), z.array(z.string())]))),
  // --- issue 17, seed 001: where scripts and logs go (lib/plan/paths.ts) ---
  script_dir: z.optional(z.nullable(z.string())),
  log_dir: z.optional(z.nullable(z.string())),
  log_path: z.optional(z.nullable(z.string())),
  // --- end seed 001 ---
});

/** Field descriptions for the generated configuration reference. */
export const slurmDocs: Record<string, string> = {
  class_name: "accepted for compatibility with the seed tool's configs; ignored",
  scheduler: "auto (SLURM when a controller answers, else local), slurm or local",
  sbatch: "sbatch options by name; see the sbatch option table",
  sbatch_overrides: "more sbatch options, applied after `sbatch` (seed-tool spelling)",
  sbatch_extra_directives:
    "lines added verbatim to the script header, e.g. `#SBATCH --gpu-bind=closest`",
  env:
    "environment variables exported in the job; `{value: ..., shell: true}` keeps a shell expression",
  environment: "seed-tool spelling of env",
  launcher_cmd:
    "command prefix before the backend command (e.g. `srun`, `apptainer exec ...`; a string or an argv list)",
  launcher_env_passthrough:
    "pass every `env` variable as `--env VAR=$VAR` into the container the job starts: an `apptainer`/`singularity exec` in `launcher_cmd`, or the container group",
  srun: "srun options (cpu_bind, gpus_per_node, ...) for the srun launcher",
  modules: "environment modules loaded before the job runs (`module load ...`)",
  setup: "shell lines run before the job command (trusted, not quoted)",
  array: "true to run the sweep as job arrays; `{throttle: N}` limits concurrent tasks",
  max_array_size: "the cluster's MaxArraySize (larger arrays are split); detected when unset",
  confirm_above:
    "`submit` asks before submitting more than this (`runs` 1000, `jobs` (sbatch calls) 200, `node_hours` 1000, `gpu_hours` 8000 at the time limits; null: no limit); `--yes` answers",
  autoexp_command:
    "how jobs start autoexp for `run-entry` (default: this binary, or `deno run -A main.ts` in a checkout)",
  script_dir:
    "folder of the job scripts (default `<sweep>/scripts`); `{name}` (one folder per run) and the other placeholders of `project.log_path`; `{name}` needs single jobs, not arrays",
  log_dir:
    "folder of a run's logs, `<log_dir>/<job id>.log` (default `<run dir>/logs`); placeholders as in `project.log_path`",
  log_path:
    "each attempt's log file, as `project.log_path` (when both are set they must name the same file)",
};
