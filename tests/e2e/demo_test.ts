/**
 * End to end: the README's first command, the demo (examples/demo), on the embedded local
 * scheduler and on the real SLURM test cluster. What a newcomer sees must happen: one run crashes
 * and resumes from its checkpoint, every checkpoint is converted and evaluated once, each run
 * gets one cooldown run from its iteration-20 checkpoint, and the final table lists them all.
 */
import { assert_, assertEquals } from "../_assert.ts";
import { ROOT } from "../_helpers.ts";
import {
  attemptsOf,
  cli,
  type Ctx,
  dump,
  type Kind,
  ofType,
  readJournal,
  shown,
  slurmHere,
  slurmWanted,
  withCtx,
} from "./_monitor_helpers.ts";

const RUNS = ["demo_lr0.001", "demo_lr0.0003", "demo_lr0.0001"];

async function demo(ctx: Ctx): Promise<void> {
  const r = await cli(
    ctx,
    ["submit", "-C", `${ROOT}/examples/demo`, "--scheduler", ctx.kind],
    240_000,
  );
  const sweep = `${ctx.out}/demo`;
  const events = await readJournal(sweep);
  assertEquals(r.code, 0, `${shown(r)}\n${dump(events)}`);

  // The crash and its resume.
  const crashed = attemptsOf(events, "demo_lr0.0003");
  assertEquals(crashed.map((a) => a.final), ["failed", "completed"], dump(events));
  // Attempt 1 starts from scratch, so a load in the run's logs is attempt 2 resuming.
  const log2 = await logsOf(`${sweep}/runs/demo_lr0.0003/logs`);
  assert_(
    /successfully loaded checkpoint from \S+ .* at iteration 20/.test(log2),
    `attempt 2 resumed from iteration 20:\n${log2.slice(0, 2000)}`,
  );
  for (const run of ["demo_lr0.001", "demo_lr0.0001"]) {
    assertEquals(attemptsOf(events, run).map((a) => a.final), ["completed"], dump(events));
  }

  // Conversion and evaluation: once per checkpoint of every run.
  const done = ofType(events, "action_done");
  for (const run of RUNS) {
    for (const it of [10, 20, 30, 40]) {
      const hf = `${sweep}/runs/${run}/hf_checkpoints/iter_${it}/config.json`;
      assert_(await exists(hf), `${hf} is missing`);
      const ev = `${sweep}/runs/${run}/evaluations/iter_${it}.json`;
      assert_(await exists(ev), `${ev} is missing`);
    }
    const ids = done.filter((e) => (e.id as string).startsWith(`${run}|`) && e.status === "ok");
    assertEquals(new Set(ids.map((e) => e.id)).size, ids.length, "an action done twice");
  }

  // One cooldown per run, from its own iteration-20 checkpoint, evaluated at its end.
  const derived = ofType(events, "derived");
  assertEquals(derived.map((e) => e.run).sort(), RUNS.map((r) => `${r}_cooldown_20`).sort());
  for (const run of RUNS) {
    const name = `${run}_cooldown_20`;
    assertEquals(attemptsOf(events, name).map((a) => a.final), ["completed"], dump(events));
    const text = await logsOf(`${sweep}/derived/${name}/runs/${name}/logs`);
    assert_(
      text.includes(`successfully loaded checkpoint from ${sweep}/runs/${run}/checkpoints`) &&
        / at iteration 20\b/.test(text),
      `${name} loaded ${run}'s iteration 20:\n${text.slice(0, 1500)}`,
    );
    // Its own monitoring (demo_cooldown): its checkpoint converted and evaluated, no cooldown
    // of a cooldown.
    const queued = ofType(events, "action_queued").filter((e) => e.run === name);
    assert_(
      queued.length > 0 && queued.every((e) => e.spec.action.kind !== "autoexp"),
      `${name} converts and evaluates, and derives no run of its own`,
    );
    const runDir = `${sweep}/derived/${name}/runs/${name}`;
    assert_(await exists(`${runDir}/evaluations/iter_30.json`), `${name} was evaluated`);
  }

  // The final table names every run with its attempts.
  for (const run of [...RUNS, ...RUNS.map((x) => `${x}_cooldown_20`)]) {
    assert_(r.stdout.includes(run), `the table lists ${run}\n${r.stdout}`);
  }
  assert_(/demo_lr0\.0003\s+completed\s+2\s/.test(r.stdout), r.stdout);
}

/** Every log of a run directory's logs/ folder, concatenated. */
async function logsOf(dir: string): Promise<string> {
  const names = [...Deno.readDirSync(dir)].map((f) => f.name).sort();
  return (await Promise.all(names.map((n) => Deno.readTextFile(`${dir}/${n}`)))).join("");
}

async function exists(p: string): Promise<boolean> {
  return await Deno.stat(p).then(() => true, () => false);
}

/** The README's single run: the quickstart, submitted and followed to its end. */
async function quickstart(ctx: Ctx): Promise<void> {
  const r = await cli(
    ctx,
    ["submit", "-C", `${ROOT}/examples/quickstart`, "--scheduler", ctx.kind],
    120_000,
  );
  assertEquals(r.code, 0, shown(r));
  assert_(/quickstart\s+completed\s+1\s/.test(r.stdout), r.stdout);
  const ckpt =
    `${ctx.out}/quickstart/runs/quickstart/checkpoints/latest_checkpointed_iteration.txt`;
  assert_(await exists(ckpt), `${ckpt} written by the job`);
}

function register(kind: Kind): void {
  Deno.test(`demo (${kind}): crash and resume, conversions, evaluations, cooldowns, one table`, () =>
    withCtx(kind, {}, demo));
  Deno.test(`quickstart (${kind}): the single run completes`, () => withCtx(kind, {}, quickstart));
}

register("local");
if (slurmHere) register("slurm");
else if (slurmWanted) {
  Deno.test("demo (slurm): the SLURM test cluster is running", () => {
    throw new Error("AUTOEXP_SLURM_TESTS=1 but sinfo does not answer");
  });
}
