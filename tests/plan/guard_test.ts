/** The size guard of `submit` (lib/plan/guard.ts). */
import { assertEquals } from "../_assert.ts";
import { DEFAULT_CONFIRM_ABOVE, overLimits, submissionSize } from "../../lib/plan/guard.ts";
import type { RunPlan, SweepPlan } from "../../lib/plan/types.ts";

const run = (index: number, nodes: number, gpus: number, minutes: number) =>
  ({ index, name: `r${index}`, nodes, gpus, minutes, group: "g" }) as unknown as RunPlan;

Deno.test("submissionSize: runs, one sbatch call per array part holding a run, hours at the limits", () => {
  const plan = {
    groups: [{
      kind: "array",
      chunks: [{ indices: [0, 1] }, { indices: [2, 3] }, { indices: [4] }],
    }],
  } as unknown as SweepPlan;
  // Runs 1 and 2 only: two parts; 2 nodes x 8 GPUs x 90 min each.
  const size = submissionSize(plan, [run(1, 2, 16, 90), run(2, 2, 16, 90)]);
  assertEquals(size, { runs: 2, jobs: 2, node_hours: 6, gpu_hours: 48 });
});

Deno.test("overLimits: each limit passed, in words; null is no limit", () => {
  const size = { runs: 50000, jobs: 50, node_hours: 8300, gpu_hours: 0 };
  assertEquals(overLimits(size, DEFAULT_CONFIRM_ABOVE), [
    "50,000 runs (limit 1000)",
    "8,300 node-hours (limit 1000)",
  ]);
  assertEquals(overLimits(size, { runs: null, jobs: null, node_hours: null, gpu_hours: null }), []);
  assertEquals(
    overLimits({ runs: 3, jobs: 1, node_hours: 1, gpu_hours: 0 }, DEFAULT_CONFIRM_ABOVE),
    [],
  );
});
