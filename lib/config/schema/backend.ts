/**
 * Schemas of the `backend` and `container` groups: what a job runs and inside what.
 *
 * @module
 */
import * as z from "zod/mini";
import { type ConfigValue, WholeFloat } from "../tree.ts";
import { envSchema } from "./slurm.ts";

/** A whole float (`1.0`) is kept where values become text: see `FREE_FORM_PATHS`. */
const wholeFloat = z.instanceof(WholeFloat);
const scalar = z.union([z.string(), z.number(), wholeFloat, z.boolean(), z.null()]);
const words = z.union([z.string(), z.array(z.union([z.string(), z.number(), wholeFloat]))]);
const count = z.union([z.int().check(z.positive()), z.string()]);
/** Any config value (the backend checks `args` itself). */
const anyValue = z.custom<ConfigValue>(() => true);

/** The backends autoexp knows. */
export const BACKENDS = ["command", "megatron"] as const;
/** How the command backend renders `args`. */
export const ARG_STYLES = ["--key value", "--key=value", "key=value"] as const;
/** The launchers a backend can use. */
export const LAUNCHERS = ["none", "python", "torchrun", "accelerate", "srun"] as const;

const launcherType = z.enum(LAUNCHERS);

/** `backend.launcher`: a name, or a mapping with `type` and the launcher's options. */
export const launcherSchema = z.union([
  z.null(),
  launcherType,
  z.strictObject({
    type: launcherType,
    command: z.optional(z.string()),
    python: z.optional(z.string()),
    extra_args: z.optional(words),
    nproc_per_node: z.optional(count),
    nnodes: z.optional(count),
    master_port: z.optional(count),
    rdzv: z.optional(z.boolean()),
    rdzv_backend: z.optional(z.string()),
    rdzv_endpoint: z.optional(z.string()),
    rdzv_id: z.optional(z.string()),
    num_processes: z.optional(count),
    num_machines: z.optional(count),
    machine_rank: z.optional(z.union([z.int(), z.string()])),
    main_process_ip: z.optional(z.string()),
    main_process_port: z.optional(count),
    mixed_precision: z.optional(z.enum(["no", "fp16", "bf16", "fp8"])),
    gpu_ids: z.optional(z.union([z.string(), z.array(z.int())])),
    config_file: z.optional(z.string()),
  }),
]);

/** The `backend` group. */
export const backendSchema = z.strictObject({
  class_name: z.optional(z.string()),
  name: z.enum(BACKENDS),
  command: z.optional(words),
  args: z.optional(z.nullable(z.record(z.string(), anyValue))),
  arg_style: z.optional(z.enum(ARG_STYLES)),
  kwformat: z.optional(z.nullable(z.string())),
  dash_keys: z.optional(z.boolean()),
  env: z.optional(z.nullable(envSchema)),
  workdir: z.optional(z.nullable(z.string())),
  launcher: z.optional(launcherSchema),
  megatron_path: z.optional(z.nullable(z.string())),
  script: z.optional(z.string()),
  python: z.optional(z.string()),
  extra_args: z.optional(z.array(scalar)),
  hydra_app: z.optional(z.boolean()),
});

/** The `container` group. */
export const containerSchema = z.strictObject({
  class_name: z.optional(z.string()),
  runtime: z.nullable(z.enum(["apptainer", "singularity", "none"])),
  image: z.optional(z.nullable(z.string())),
  command: z.optional(z.string()),
  binds: z.optional(words),
  gpu: z.optional(z.union([z.boolean(), z.enum(["nv", "rocm"])])),
  env_passthrough: z.optional(z.boolean()),
  cleanenv: z.optional(z.boolean()),
  extra_args: z.optional(words),
  env: z.optional(z.nullable(envSchema)),
});

/** Field descriptions for the generated configuration reference. */
export const backendDocs: Record<string, string> = {
  class_name: "accepted for compatibility with the seed tool's configs; ignored",
  name: "`command` (any program) or `megatron` (Megatron-LM with argument checks)",
  command: "command backend: the program as an argv list (or one string split like a shell)",
  args: "arguments: command backend appends them (see arg_style); megatron renders Megatron flags",
  arg_style:
    "how the command backend renders args: `--key value` (default), `--key=value`, `key=value` (Hydra apps)",
  kwformat:
    "command backend: render each of args with this format instead of arg_style (seed 002's " +
    "kwformat): `--{k}={v}` gives `--lr=0.001`; `{k}` is the key, `{v}` the value as Python's " +
    "str() writes it (`True`, `[1, 2]`); null args are left out; a format with spaces gives " +
    "several words (`--{k} {v}`)",
  dash_keys: "command backend: turn underscores in keys into dashes",
  env: "environment variables of the run (added to slurm.env)",
  workdir: "working directory of the command (default: the run directory)",
  launcher:
    "how to start it: none, python, torchrun, accelerate, srun; or {type: torchrun, nproc_per_node: 8, ...}",
  megatron_path: "megatron: the Megatron-LM checkout on the cluster",
  script: "megatron: training script relative to megatron_path (default pretrain_gpt.py)",
  python: "megatron: python interpreter (default python)",
  extra_args: "arguments appended verbatim after the rendered ones",
  hydra_app:
    "the command is a Hydra application: it gets the run's overrides of your own keys (those " +
    "you typed and the swept values, not autoexp's groups) as key=value, and " +
    "`hydra.run.dir=<run dir>`, so it composes the config each run was planned with; each " +
    "run directory gets Hydra's `.hydra/` (config.yaml, overrides.yaml, hydra.yaml)",
};

/** Field descriptions of the container group. */
export const containerDocs: Record<string, string> = {
  class_name: "accepted for compatibility with the seed tool's configs; ignored",
  runtime: "apptainer, singularity, or null/none for no container",
  image: "the image (a .sif path or URI)",
  command: "the runtime's executable (default: the runtime name)",
  binds: "bind mounts, `src[:dst[:opts]]`, each passed as --bind",
  gpu: "true or nv: --nv (NVIDIA); rocm: --rocm (AMD)",
  env_passthrough: "pass every job environment variable as --env VAR=<value at run time>",
  cleanenv: "add --cleanenv (start from an empty environment)",
  extra_args: "more arguments for `exec`",
  env: "environment variables of the run (added to slurm.env)",
};
