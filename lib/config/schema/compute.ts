/**
 * Schema of the `compute` group: a resource preset in the words of Hydra's submitit launcher
 * (seed 003's `compute=killarney/l40s_1x`, changed with `-o compute.mem_gb=32`). The planner
 * turns it into sbatch options ({@link computeToSbatch}); they take precedence over the slurm
 * preset's `sbatch` values, as the compute choice is the more specific one.
 *
 * @module
 */
import * as z from "zod/mini";

const count = z.int().check(z.nonnegative());
const text = z.union([z.string(), z.number()]);

/** The `compute` group. */
export const computeSchema = z.strictObject({
  nodes: z.optional(z.nullable(count)),
  gpus_per_node: z.optional(z.nullable(text)),
  tasks_per_node: z.optional(z.nullable(count)),
  cpus_per_task: z.optional(z.nullable(count)),
  mem_gb: z.optional(z.nullable(z.number().check(z.nonnegative()))),
  mem_per_gpu: z.optional(z.nullable(text)),
  mem_per_cpu: z.optional(z.nullable(text)),
  cpus_per_gpu: z.optional(z.nullable(count)),
  gpus_per_task: z.optional(z.nullable(text)),
  timeout_min: z.optional(z.nullable(z.int().check(z.positive()))),
  partition: z.optional(z.nullable(z.string())),
  qos: z.optional(z.nullable(z.string())),
  account: z.optional(z.nullable(z.string())),
  constraint: z.optional(z.nullable(z.string())),
  exclude: z.optional(z.nullable(z.string())),
  gres: z.optional(z.nullable(z.string())),
  additional_parameters: z.optional(
    z.nullable(z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]))),
  ),
});

/** `compute` as validated. */
export type ComputeConfig = z.infer<typeof computeSchema>;

/** Field descriptions for the generated configuration reference. */
export const computeDocs: Record<string, string> = {
  nodes: "nodes (`--nodes`)",
  gpus_per_node: "GPUs per node, a count or `type:count` (`--gpus-per-node`)",
  tasks_per_node: "tasks per node (`--ntasks-per-node`)",
  cpus_per_task: "CPUs per task (`--cpus-per-task`)",
  mem_gb: "memory per node in GB (`--mem=<n>G`; 0 is all of the node's memory)",
  mem_per_gpu: "memory per GPU (`--mem-per-gpu`, e.g. `40G`)",
  mem_per_cpu: "memory per CPU (`--mem-per-cpu`)",
  cpus_per_gpu: "CPUs per GPU (`--cpus-per-gpu`)",
  gpus_per_task: "GPUs per task (`--gpus-per-task`)",
  timeout_min: "time limit in minutes (`--time`)",
  partition: "partition (`--partition`)",
  qos: "quality of service (`--qos`)",
  account: "account charged (`--account`)",
  constraint: "node features (`--constraint`)",
  exclude: "nodes not to use (`--exclude`)",
  gres: "generic resources (`--gres`)",
  additional_parameters:
    "more sbatch options by name, as submitit's launcher takes them (`{exclusive: true}`)",
};

/** Compute key -> sbatch option key (the names of `slurm.sbatch`). */
const SBATCH_KEY: Readonly<Record<string, string>> = {
  nodes: "nodes",
  gpus_per_node: "gpus_per_node",
  tasks_per_node: "ntasks_per_node",
  cpus_per_task: "cpus_per_task",
  mem_per_gpu: "mem_per_gpu",
  mem_per_cpu: "mem_per_cpu",
  cpus_per_gpu: "cpus_per_gpu",
  gpus_per_task: "gpus_per_task",
  partition: "partition",
  qos: "qos",
  account: "account",
  constraint: "constraint",
  exclude: "exclude",
  gres: "gres",
};

/**
 * The sbatch options a compute preset sets, each with the compute key it came from (for
 * messages). Null values set nothing.
 */
export function computeToSbatch(
  compute: ComputeConfig,
): { key: string; value: string | number | boolean; from: string }[] {
  const out: { key: string; value: string | number | boolean; from: string }[] = [];
  for (const [k, v] of Object.entries(compute)) {
    if (v === null || v === undefined) continue;
    if (k === "mem_gb") out.push({ key: "mem", value: v === 0 ? 0 : `${v}G`, from: k });
    else if (k === "timeout_min") out.push({ key: "time", value: v as number, from: k });
    else if (k === "additional_parameters") {
      for (const [name, value] of Object.entries(v as Record<string, string | number | boolean>)) {
        out.push({ key: name.replaceAll("-", "_"), value, from: `${k}.${name}` });
      }
    } else out.push({ key: SBATCH_KEY[k], value: v as string | number, from: k });
  }
  return out;
}
