/**
 * End to end: the shipped monitoring presets of seed 001 (auto-resume, cooldowns, checkpoint
 * conversion, evaluation triggers) against the example trainer, on the local scheduler and the
 * SLURM test cluster. One run of the demo's config (`sweep=none`), the presets' `params` set
 * to the trainer's small iteration counts and to the example conversion/evaluation scripts.
 */
import { assert_, assertEquals } from "../_assert.ts";
import { ROOT } from "../_helpers.ts";
import {
  attemptsOf,
  cli,
  type Ctx,
  dump,
  type Ev,
  type Kind,
  ofType,
  readJournal,
  shown,
  slurmHere,
  slurmWanted,
  withCtx,
} from "./_monitor_helpers.ts";

const TRAINER = `${ROOT}/examples/trainer`;
const RUN = "demo";

async function submit(
  ctx: Ctx,
  overrides: string[],
  expectCode = 0,
): Promise<{ sweep: string; events: Ev[]; stdout: string }> {
  const r = await cli(
    ctx,
    [
      "submit",
      "-C",
      `${ROOT}/examples/demo`,
      "--scheduler",
      ctx.kind,
      ...["sweep=none", "project.name=demo", ...overrides].flatMap((o) => ["-o", o]),
    ],
    240_000,
  );
  const sweep = `${ctx.out}/demo`;
  const events = await readJournal(sweep);
  assertEquals(r.code, expectCode, `${shown(r)}\n${dump(events)}`);
  return { sweep, events, stdout: r.stdout };
}

async function exists(p: string): Promise<boolean> {
  return await Deno.stat(p).then(() => true, () => false);
}

async function logsOf(dir: string): Promise<string> {
  const names = [...Deno.readDirSync(dir)].map((f) => f.name).sort();
  return (await Promise.all(names.map((n) => Deno.readTextFile(`${dir}/${n}`)))).join("");
}

const SCENARIOS: Record<string, (ctx: Ctx) => Promise<void>> = {
  "megatron_auto_resume restarts a crash (not an OOM) through its state event": async (ctx) => {
    const { sweep, events } = await submit(ctx, [
      "monitoring=megatron_auto_resume",
      "restart=none",
      "slurm.env.FAULT_CRASH_AT=15",
    ]);
    assertEquals(
      attemptsOf(events, RUN).map((a) => a.final),
      ["failed", "completed"],
      dump(events),
    );
    const restart = ofType(events, "restart_decided").find((e) => e.restart);
    assert_(/auto_resume_after_crash/.test(restart?.restart.why ?? ""), dump(events));
    assert_(/at iteration 10\b/.test(await logsOf(`${sweep}/runs/${RUN}/logs`)));
  },
  "megatron_auto_resume does not restart an out-of-memory crash": async (ctx) => {
    const { events, stdout } = await submit(ctx, [
      "monitoring=megatron_auto_resume",
      "restart=none",
      "slurm.env.FAULT_OOM_AT=15",
    ], 1);
    assertEquals(attemptsOf(events, RUN).map((a) => a.final), ["out_of_memory"], dump(events));
    assert_(/demo\s+out_of_memory\s+1\s/.test(stdout), stdout);
  },
  "megatron_cooldown_single starts one cooldown from the given iteration": async (ctx) => {
    const { sweep, events } = await submit(ctx, [
      "monitoring=megatron_cooldown_single",
      "monitoring.params.cooldown.iteration=20",
      "monitoring.params.cooldown.train_iters=30",
    ]);
    const derived = ofType(events, "derived").map((e) => e.run);
    assertEquals(derived, [`${RUN}_cooldown_20`], dump(events));
    assertEquals(attemptsOf(events, derived[0]).map((a) => a.final), ["completed"]);
    const log = await logsOf(`${sweep}/derived/${derived[0]}/runs/${derived[0]}/logs`);
    assert_(
      /successfully loaded checkpoint from \S+\/runs\/demo\/checkpoints .* at iteration 20/.test(
        log,
      ),
      log,
    );
    // It saved into its own timestamped directory next to the original run's.
    const saved = /successfully saved checkpoint from iteration\s+30 to (\S+)/.exec(log)?.[1] ?? "";
    assert_(/\/runs\/demo_cooldown_20_\d{8}_\d{6}$/.test(saved), `saved to ${saved}`);
  },
  "megatron_cooldown_multi: an evaluation and two cooldowns at three iterations": async (ctx) => {
    const { events } = await submit(ctx, [
      "monitoring=megatron_cooldown_multi",
      "monitoring.params.stages.eval_at=10",
      "monitoring.params.stages.mid_at=20",
      "monitoring.params.stages.cooldown_iters_total_mid=25",
      "monitoring.params.stages.late_at=30",
      "monitoring.params.stages.cooldown_iters_total_late=35",
    ]);
    const derived = ofType(events, "derived").map((e) => e.run).sort();
    assertEquals(
      derived,
      [`${RUN}_cooldown_20`, `${RUN}_cooldown_30`, `${RUN}_eval_10`],
      dump(events),
    );
    for (const d of derived) {
      assertEquals(attemptsOf(events, d).map((a) => a.final), ["completed"], dump(events));
    }
  },
  "megatron_checkpoint_hf_conversion converts and evaluates every checkpoint once": async (ctx) => {
    const { sweep, events } = await submit(ctx, [
      "monitoring=megatron_checkpoint_hf_conversion",
      "monitoring.params.convert.interpreter=bash",
      `monitoring.params.convert.script=${TRAINER}/convert_to_hf.sh`,
      "monitoring.params.eval.interpreter=bash",
      `monitoring.params.eval.script=${TRAINER}/evaluate.sh`,
    ]);
    for (const it of [10, 20, 30, 40]) {
      const dir = `${sweep}/runs/${RUN}`;
      assert_(await exists(`${dir}/hf_checkpoints/iter_${it}/config.json`), `conversion ${it}`);
      assert_(await exists(`${dir}/evaluations/iter_${it}_results.json`), `evaluation ${it}`);
    }
    const ok = ofType(events, "action_done").filter((e) => e.status === "ok");
    assertEquals(ok.length, 12, `log + conversion + evaluation per checkpoint\n${dump(events)}`);
  },
  "megatron_checkpoint_eval plans an evaluation run every N iterations": async (ctx) => {
    const { sweep, events } = await submit(ctx, [
      "monitoring=megatron_checkpoint_eval",
      "monitoring.params.eval.every=20",
    ]);
    const derived = ofType(events, "derived").map((e) => e.run).sort();
    assertEquals(derived, [`${RUN}_eval_20`, `${RUN}_eval_40`], dump(events));
    const log = await logsOf(`${sweep}/derived/${RUN}_eval_20/runs/${RUN}_eval_20/logs`);
    assert_(/validation loss at iteration 20 on validation set/.test(log), log);
  },
  "megatron_multi_eval: quick evals, a full eval every N, a benchmark on the final checkpoint":
    async (ctx) => {
      const { sweep, events } = await submit(ctx, [
        "monitoring=megatron_multi_eval",
        "monitoring.params.eval.interpreter=bash",
        `monitoring.params.eval.quick_script=${TRAINER}/evaluate.sh`,
        `monitoring.params.eval.benchmark_script=${TRAINER}/evaluate.sh`,
        "monitoring.params.eval.full_every=20",
      ]);
      const dir = `${sweep}/runs/${RUN}`;
      for (const it of [10, 20, 30, 40]) {
        assert_(await exists(`${dir}/evals/quick_iter_${it}.json`), `quick eval ${it}`);
      }
      assert_(await exists(`${dir}/benchmarks/final_results.json`), "benchmark on iteration 40");
      const derived = ofType(events, "derived").map((e) => e.run).sort();
      assertEquals(derived, [`${RUN}_eval_20`, `${RUN}_eval_40`], dump(events));
    },
};

function register(kind: Kind): void {
  for (const [name, body] of Object.entries(SCENARIOS)) {
    Deno.test(`presets e2e (${kind}): ${name}`, () => withCtx(kind, {}, body));
  }
}

register("local");
if (slurmHere) register("slurm");
else if (slurmWanted) {
  Deno.test("presets e2e (slurm): the SLURM test cluster is running", () => {
    throw new Error("AUTOEXP_SLURM_TESTS=1 but sinfo does not answer");
  });
}
