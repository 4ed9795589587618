/**
 * End to end, on both schedulers: a Hydra application swept with Hydra's own command line (seed
 * 003: positional overrides and --multirun) receives each run's values (examples/hydra_app, whose
 * my_app.py stands in for a @hydra.main script: Hydra itself is not installed here), and each
 * run has the `.hydra/` folder Hydra would write.
 */
import { assertEquals, assertMatch } from "../_assert.ts";
import { ROOT } from "../_helpers.ts";
import { cli, type Ctx, shown, slurmHere, withCtx } from "./_monitor_helpers.ts";

async function sweepReachesTheApp(ctx: Ctx) {
  const r = await cli(ctx, [
    "submit",
    "-C",
    `${ROOT}/examples/hydra_app`,
    "--scheduler",
    ctx.kind,
    "trainer.learning_rate=1e-2,1e-3",
    "trainer.hidden_dim=64,128",
    "--multirun",
  ], 180_000);
  assertEquals(r.code, 0, shown(r));
  const got = [];
  for (const lr of ["0.01", "0.001"]) {
    for (const hd of ["64", "128"]) {
      const dir = `${ctx.out}/hydra_app/runs/hydra_app_lr${lr}_hd${hd}`;
      got.push(JSON.parse(await Deno.readTextFile(`${dir}/result.json`)).trainer);
      // Hydra's .hydra/ folder, for analysis scripts that read it.
      const overrides = await Deno.readTextFile(`${dir}/.hydra/overrides.yaml`);
      assertEquals(overrides, `- trainer.learning_rate=${lr}\n- trainer.hidden_dim=${hd}\n`);
      const config = await Deno.readTextFile(`${dir}/.hydra/config.yaml`);
      assertMatch(config, new RegExp(`trainer:\\n  learning_rate: ${lr}\\n  hidden_dim: ${hd}\\n`));
      assertMatch(
        await Deno.readTextFile(`${dir}/.hydra/hydra.yaml`),
        new RegExp(`output_dir: ${dir}`),
      );
    }
  }
  assertEquals(got, [
    { learning_rate: 0.01, hidden_dim: 64, epochs: 2 },
    { learning_rate: 0.01, hidden_dim: 128, epochs: 2 },
    { learning_rate: 0.001, hidden_dim: 64, epochs: 2 },
    { learning_rate: 0.001, hidden_dim: 128, epochs: 2 },
  ]);
}

Deno.test("hydra app (local): each run of a --multirun sweep gets its own values", () =>
  withCtx("local", {}, sweepReachesTheApp));

if (slurmHere) {
  Deno.test("hydra app (slurm): each run of a --multirun sweep gets its own values", () =>
    withCtx("slurm", {}, sweepReachesTheApp));
}
