/**
 * The monitor's re-planning of a run for a restart with a policy's overrides (seed 003's changed
 * call): it applies the overrides to the run as planned, and refuses when the config on disk
 * changed since, which would otherwise train the restart with the change.
 */
import { assert_, assertEquals, assertRejects } from "../_assert.ts";
import { makeTree, removeTree } from "../_helpers.ts";
import { deriveRun, replanRun } from "../../lib/cli/monitor_cmd.ts";
import type { LoadedPlan } from "../../lib/monitor/monitor.ts";
import type { RunPlan } from "../../lib/plan/types.ts";
import { ConfigError } from "../../lib/errors.ts";
import { computePlan } from "../../lib/plan/mod.ts";
import { DenoFileSystem } from "../../lib/runtime/fs.ts";
import type { Runtime } from "../../lib/runtime/mod.ts";

const ROOT_CONFIG = `defaults:
  - project: default
  - slurm: base
  - backend: command
  - _self_
project: { name: study, base_output_dir: OUT }
backend:
  command: [python, train.py]
  args: { lr: 0.001, micro_batch_size: 8 }
`;

Deno.test("replanRun: the run as planned with the overrides; a config changed on disk is refused", async () => {
  const dir = await makeTree({});
  try {
    await Deno.writeTextFile(`${dir}/autoexp.yaml`, ROOT_CONFIG.replace("OUT", `${dir}/out`));
    const fs = new DenoFileSystem();
    const host = {
      env: {},
      hostname: () => "h",
      cwd: () => dir,
      now: () => new Date("2026-12-01T00:00:00Z"),
      color: false,
      pid: 1,
      selfCommand: () => ["autoexp"],
    };
    const rt = { fs, host, proc: undefined } as unknown as Runtime;
    const outcome = await computePlan({ configDir: dir }, { fs, host });
    const loaded = { plan: outcome.plan, monitor: outcome.monitor };
    const run = outcome.plan.runs[0];
    const req = { loaded, run, overrides: ["backend.args.micro_batch_size=2"] };
    const again = await replanRun(req, rt);
    assertEquals(again.argv.slice(-4), ["--lr", "0.001", "--micro_batch_size", "2"]);
    // Someone edits the config for the next sweep while this one runs.
    await Deno.writeTextFile(
      `${dir}/autoexp.yaml`,
      ROOT_CONFIG.replace("OUT", `${dir}/out`).replace("lr: 0.001", "lr: 0.1"),
    );
    await assertRejects(() => replanRun(req, rt), (e) => {
      assert_(e instanceof ConfigError);
      assert_(/changed on disk since it was planned/.test(e.message), e.message);
    });
  } finally {
    await removeTree(dir);
  }
});

Deno.test("replanRun and deriveRun: a pipeline stage's run is refused, saying what to do", async () => {
  const run = { name: "pt_a_ft-code", stage: "finetune" } as unknown as RunPlan;
  const rt = {} as Runtime;
  for (
    const call of [
      () => replanRun({ loaded: {} as LoadedPlan, run, overrides: ["x=1"] }, rt),
      () => deriveRun({ parent: {} as LoadedPlan, run, name: "c", overrides: [], dir: "/d" }, rt),
    ]
  ) {
    await assertRejects(call, (e) => {
      assert_(e instanceof ConfigError);
      assert_(/stage finetune\) is not supported/.test(e.message), e.message);
      assert_(/restart policy without overrides/.test(e.message), e.message);
    });
  }
});
