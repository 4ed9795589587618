/**
 * Benchmark: planning a 10,000-point sweep (three axes, a realistic Megatron config, LUMI preset,
 * apptainer) in one process, with and without writing the tree. The CLI figure (wall time and
 * peak memory of `autoexp plan`) is measured by bench/plan_cli.sh.
 *
 *   deno bench -A bench/plan_bench.ts
 */
import { computePlan } from "../lib/plan/mod.ts";
import { writePlan } from "../lib/render/tree.ts";
import { DenoFileSystem } from "../lib/runtime/fs.ts";
import type { Host } from "../lib/runtime/host.ts";

const CONFIG = new URL("./plan_10k", import.meta.url).pathname;
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

Deno.bench("computePlan: 10,000 points", { n: 5, warmup: 1 }, async () => {
  const o = await computePlan({ configDir: CONFIG }, deps);
  if (o.plan.runs.length !== 10_000) {
    throw new Error(`expected 10000 runs, got ${o.plan.runs.length}`);
  }
});

Deno.bench("writePlan: 10,000 points, tree written", { n: 5, warmup: 1 }, async () => {
  await writePlan({ configDir: CONFIG }, deps);
});

globalThis.addEventListener("unload", () => Deno.removeSync(out, { recursive: true }));
