/**
 * Benchmark: compose + resolve a realistic config (about 200 keys, 20 interpolations) from a
 * root config and six groups, as every `plan` does once per sweep point.
 *
 *   deno bench -A bench/compose_bench.ts
 */
import { composeConfig } from "../lib/config/compose.ts";
import { type ConfigFile, ConfigFiles } from "../lib/config/files.ts";
import { parseOverride } from "../lib/config/overrides.ts";
import { resolveTree } from "../lib/config/resolve.ts";
import { standardResolvers } from "../lib/config/resolvers.ts";
import { validateConfig } from "../lib/config/schema/mod.ts";
import { allPaths, type ConfigMap } from "../lib/config/tree.ts";
import { stringify } from "yaml";

function group(name: string, n: number, extra: Record<string, unknown> = {}): string {
  const body: Record<string, unknown> = { ...extra };
  for (let i = 0; body && Object.keys(body).length < n; i++) {
    body[`${name}_opt_${i}`] = i % 3 ? i * 1.5 : `v${i}`;
  }
  return stringify(body);
}

const files: ConfigFile[] = [
  {
    relPath: "autoexp.yaml",
    text: `defaults:
  - project: bench
  - slurm: cluster
  - backend: megatron
  - monitoring: basic
  - restart: default
  - container: none
  - _self_
experiment:
  tokens: 100_000_000_000
  seq: 4096
`,
  },
  {
    relPath: "project/bench.yaml",
    text: "name: bench\nbase_output_dir: /scratch/bench\nresume: true\n",
  },
  { relPath: "slurm/base.yaml", text: "sbatch:\n  time: '01:00:00'\n  nodes: 1\nenv: {}\n" },
  {
    relPath: "slurm/cluster.yaml",
    text: `defaults: [base, _self_]
sbatch:
  partition: standard-g
  account: \${oc.env:SLURM_ACCOUNT,project_1}
  nodes: 16
  gpus_per_node: 8
  time: "48:00:00"
env:
  NCCL_SOCKET_IFNAME: hsn
  OUT: \${project.base_output_dir}/\${project.name}
`,
  },
  {
    relPath: "backend/megatron.yaml",
    text: group("arg", 120, {
      args: {
        seq_length: "${experiment.seq}",
        global_batch_size: 1024,
        micro_batch_size: 2,
        lr: 3e-4,
        min_lr: "${eval:'${.lr} / 10'}",
        train_iters:
          "${eval:'ceil(${experiment.tokens} / (${.seq_length} * ${.global_batch_size}))'}",
        lr_decay_iters: "${.train_iters}",
        lr_warmup_iters: "${eval:'${.train_iters} // 100'}",
        save: "${project.base_output_dir}/${project.name}/checkpoints",
        load: "${.save}",
        tensorboard_dir: "${project.base_output_dir}/${project.name}/tb",
        data_path: "${oc.env:DATA,/data/tokens}",
        wandb_exp_name: "${project.name}_lr${.lr}_gbs${.global_batch_size}",
      },
    }),
  },
  {
    relPath: "monitoring/basic.yaml",
    text: group("mon", 30, {
      log_path: "${project.base_output_dir}/${project.name}/logs/train.log",
      inactivity_threshold_seconds: 1800,
      checkpoint_dir: "${backend.args.save}",
    }),
  },
  { relPath: "restart/default.yaml", text: group("rst", 15, { max_retries: 3 }) },
  { relPath: "container/none.yaml", text: "runtime: null\n" },
].map((f) => ({ ...f, origin: `/bench/${f.relPath}`, layer: "user" as const }));

const configFiles = new ConfigFiles([files]);
const resolvers = standardResolvers({
  env: { SLURM_ACCOUNT: "p1" },
  now: new Date(0),
  platform: "base",
});
const overrides = ["backend.args.lr=1e-3", "slurm.sbatch.nodes=8"].map(parseOverride);

// Report the shape once so the note can quote it.
{
  const c = composeConfig({ files: configFiles, configName: "autoexp", overrides, resolvers });
  const paths = allPaths(c.config).length;
  const interps = JSON.stringify(c.config).split("${").length - 1;
  const { problems } = resolveTree(c.config, { resolvers });
  console.log(
    `config shape: ${paths} key paths, ${interps} interpolations, ${problems.length} problems`,
  );
}

Deno.bench("compose + resolve (≈200 keys, 20 interpolations)", () => {
  const c = composeConfig({ files: configFiles, configName: "autoexp", overrides, resolvers });
  const r = resolveTree(c.config, { resolvers, origin: (p) => c.origins.get(p) });
  if (r.problems.length) throw new Error(r.problems[0].message);
});

Deno.bench("compose + resolve + validate", () => {
  const c = composeConfig({ files: configFiles, configName: "autoexp", overrides, resolvers });
  const r = resolveTree(c.config, { resolvers, origin: (p) => c.origins.get(p) });
  validateConfig(r.value as ConfigMap, (p) => c.origins.get(p));
});

Deno.bench("1,000 compositions in one process", { n: 1 }, () => {
  for (let i = 0; i < 1000; i++) {
    const c = composeConfig({ files: configFiles, configName: "autoexp", overrides, resolvers });
    resolveTree(c.config, { resolvers });
  }
});
