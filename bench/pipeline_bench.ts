/**
 * Benchmark: planning a pipeline of 1,000 pretrain runs x 3 finetunes x 1 evaluation (7,000
 * runs; each finetune and evaluation resolves its input's config through
 * `${autoexp.upstream...}`), in one process.
 *
 *   deno bench -A bench/pipeline_bench.ts
 */
import { computePlan } from "../lib/plan/mod.ts";
import { DenoFileSystem } from "../lib/runtime/fs.ts";
import type { Host } from "../lib/runtime/host.ts";

const CONFIG = new URL("./pipeline_7k", import.meta.url).pathname;
const out = await Deno.makeTempDir({ prefix: "autoexp-bench-" });
const host: Host = {
  env: { AUTOEXP_OUTPUT_DIR: out, SLURM_ACCOUNT: "project_465000000" },
  hostname: () => "bench",
  cwd: () => out,
  now: () => new Date(0),
  color: false,
  pid: 4242,
  selfCommand: () => ["/opt/autoexp/bin/autoexp"],
};
const deps = { fs: new DenoFileSystem(), host };

Deno.bench(
  "computePlan: pipeline 1,000 pretrain x 3 finetune x 1 eval",
  { n: 3, warmup: 1 },
  async () => {
    const o = await computePlan({ configDir: CONFIG }, deps);
    if (o.plan.runs.length !== 7_000) {
      throw new Error(
        `expected 7000 runs, got ${o.plan.runs.length}`,
      );
    }
  },
);

globalThis.addEventListener("unload", () => Deno.removeSync(out, { recursive: true }));
