/**
 * End to end (local scheduler): seed 001's migration path. A run the seed tool started keeps its
 * checkpoints at `<base>/<run>/checkpoints`; with `project.run_layout: flat` autoexp runs it in
 * that directory, so the example trainer resumes from the seed tool's checkpoint, while autoexp's
 * own state stays in `<base>/<project>`.
 */
import { assert_, assertEquals } from "../_assert.ts";
import { ROOT } from "../_helpers.ts";
import { attemptsOf, cli, dump, readJournal, shown, withCtx } from "./_monitor_helpers.ts";

Deno.test("seed 001 e2e (local): a run with run_layout flat resumes from <base>/<run>/checkpoints", () =>
  withCtx("local", {}, async (ctx) => {
    // What the seed tool left: a complete checkpoint of iteration 20 of run "seedrun".
    const runDir = `${ctx.out}/seedrun`;
    await Deno.mkdir(`${runDir}/checkpoints/iter_0000020`, { recursive: true });
    await Deno.writeTextFile(`${runDir}/checkpoints/iter_0000020/common.pt`, "weights\n");
    await Deno.writeTextFile(`${runDir}/checkpoints/latest_checkpointed_iteration.txt`, "20");
    const overrides = [
      "sweep=none",
      "+sweep.name_template=seedrun",
      "project.name=demo",
      "project.run_layout=flat",
      "project.log_path_current='{output_dir}/current.log'",
      "monitoring=none",
      "restart=none",
    ];
    const r = await cli(ctx, [
      "submit",
      "-C",
      `${ROOT}/examples/demo`,
      "--scheduler",
      "local",
      ...overrides.flatMap((o) => ["-o", o]),
    ], 120_000);
    const events = await readJournal(`${ctx.out}/demo`);
    assertEquals(r.code, 0, `${shown(r)}\n${dump(events)}`);
    assertEquals(attemptsOf(events, "seedrun").map((a) => a.final), ["completed"], dump(events));
    const log = await Deno.readTextFile(`${runDir}/current.log`);
    assert_(
      log.includes(
        `successfully loaded checkpoint from ${runDir}/checkpoints [ t 1/1, gtp_remat 1/1, p 1/1 ] at iteration 20`,
      ),
      log,
    );
    assert_(!log.includes("starting from scratch"), log);
    assertEquals(
      (await Deno.readTextFile(`${runDir}/checkpoints/latest_checkpointed_iteration.txt`)).trim(),
      "40",
    );
    // autoexp's own state is in the sweep directory, not in the run's.
    assert_(await Deno.stat(`${ctx.out}/demo/sweep.json`).then(() => true, () => false));
    assert_(!(await Deno.stat(`${ctx.out}/demo/runs/seedrun`).then(() => true, () => false)));
  }));
