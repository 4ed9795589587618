/**
 * End to end: the example pipeline (examples/pipeline: pretrain 2 runs -> finetune 2x2 ->
 * evaluate 4) on the embedded local scheduler and on the SLURM test cluster. Each finetune starts
 * only after its own pretrain run completed (the jobs' own markers' times), the pretrain run that
 * crashes once delays only its own dependents, `--stage evaluate` is refused until its inputs
 * exist and then submits only the evaluations, and submitting again submits nothing; the user's
 * history lists every job with its stage and state, and `logs <job id>` prints a job's log.
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

const PT = ["pt_lr0.001", "pt_lr0.0003"];
const FT = PT.flatMap((p) => [`${p}_ft-code`, `${p}_ft-math`]);
const EV = FT.map((f) => `${f}_eval`);
const CRASHES = "pt_lr0.0003";

interface Times {
  start: string;
  end: string;
}

/** The first start and the last end of a run's jobs, from run-entry's markers. */
async function timesOf(sweepJson: { runs: { name: string; runDir: string }[] }, run: string) {
  const dir = sweepJson.runs.find((r) => r.name === run)!.runDir;
  const markers = [];
  for (const f of Deno.readDirSync(`${dir}/attempts`)) {
    if (f.name.endsWith(".json")) {
      markers.push(JSON.parse(await Deno.readTextFile(`${dir}/attempts/${f.name}`)));
    }
  }
  const starts = markers.map((m) => m.started_at as string).sort();
  const ends = markers.map((m) => (m.ended_at ?? "") as string).sort();
  return { start: starts[0], end: ends[ends.length - 1] } as Times;
}

async function pipeline(ctx: Ctx): Promise<void> {
  const base = ["-C", `${ROOT}/examples/pipeline`, "--scheduler", ctx.kind];
  const sweep = `${ctx.out}/pipeline`;

  // Evaluations alone are refused while their inputs do not exist, naming them.
  const refused = await cli(ctx, ["submit", ...base, "--stage", "evaluate"], 60_000);
  assertEquals(refused.code, 2, shown(refused));
  assert_(/6 input runs are not complete/.test(refused.stderr), refused.stderr);
  assert_(refused.stderr.includes("--with-needs"), refused.stderr);

  // Pretrain and finetune (the inputs of --stage finetune, with --with-needs).
  const r = await cli(ctx, ["submit", ...base, "--stage", "finetune", "--with-needs"], 240_000);
  let events = await readJournal(sweep);
  assertEquals(r.code, 0, `${shown(r)}\n${dump(events)}`);
  assertEquals(attemptsOf(events, CRASHES).map((a) => a.final), ["failed", "completed"]);
  for (const run of [...PT.filter((x) => x !== CRASHES), ...FT]) {
    assertEquals(attemptsOf(events, run).map((a) => a.final), ["completed"], run);
  }
  for (const run of EV) assertEquals(attemptsOf(events, run), [], `${run} not submitted`);
  const plan = JSON.parse(await Deno.readTextFile(`${sweep}/sweep.json`));

  // Each finetune started after its own pretrain run's last job ended (the crash and restart).
  for (const ft of FT) {
    const pt = PT.find((p) => ft.startsWith(`${p}_`))!;
    const [up, own] = [await timesOf(plan, pt), await timesOf(plan, ft)];
    assert_(own.start >= up.end, `${ft} started ${own.start}, before ${pt} ended ${up.end}`);
  }
  // The crash delays only its own dependents: a finetune is released in the round its own
  // input's completion is seen, so the other pretrain run's finetunes are not held for the crash
  // (when the monitor saw that run complete first, they were released before the crash's).
  const seqOf = (type: string, run: string, state?: string) =>
    events.find((e) => e.type === type && e.run === run && (!state || e.state === state))?.seq ??
      Infinity;
  const crashedDone = seqOf("verdict", CRASHES, "completed");
  const other = PT.find((p) => p !== CRASHES)!;
  const otherDone = seqOf("verdict", other, "completed");
  for (const ft of FT) {
    const own = ft.startsWith(`${CRASHES}_`) ? crashedDone : otherDone;
    assert_(seqOf("released", ft) > own, `${ft} released before its input\n${dump(events)}`);
    // Seen complete in an earlier round (events of one round share their time): released
    // before the crash's completion; seen in the same round, both are released together.
    const atOf = (seq: number) => events.find((e) => e.seq === seq)?.at ?? "";
    if (!ft.startsWith(`${CRASHES}_`) && atOf(otherDone) < atOf(crashedDone)) {
      assert_(seqOf("released", ft) < crashedDone, `${ft} waited for ${CRASHES}\n${dump(events)}`);
    }
  }
  assertEquals(ofType(events, "released").length, FT.length, "each released once");

  // Now the evaluations alone: only they are submitted, each after its finetune.
  const before = ofType(events, "submit_intent").length;
  const ev = await cli(ctx, ["submit", ...base, "--stage", "evaluate"], 240_000);
  events = await readJournal(sweep);
  assertEquals(ev.code, 0, `${shown(ev)}\n${dump(events)}`);
  const intents = ofType(events, "submit_intent").slice(before);
  assertEquals(
    intents.flatMap((e) => e.runs.map((x: { name: string }) => x.name)).sort(),
    [...EV].sort(),
  );
  for (const run of EV) {
    assertEquals(attemptsOf(events, run).map((a) => a.final), ["completed"], run);
    const dir = plan.runs.find((x: { name: string }) => x.name === run).runDir;
    const cfg = await Deno.readTextFile(`${dir}/eval_config.yaml`);
    assert_(cfg.startsWith(`model: ${run.replace(/_eval$/, "")}\n`), cfg);
  }

  // Everything is complete: submitting the whole pipeline again submits nothing.
  const again = await cli(ctx, ["submit", ...base, "--no-monitor"], 60_000);
  assertEquals(again.code, 0, shown(again));
  assert_(again.stdout.includes("nothing to submit"), again.stdout);
  const after = await readJournal(sweep);
  assertEquals(ofType(after, "submit_intent").length, ofType(events, "submit_intent").length);

  // The user's history lists every job of the pipeline (its own index, XDG_DATA_HOME), with
  // its stage and final state, newest first; `logs <job id>` prints a job's log from anywhere.
  const h = await cli(ctx, ["history", "--json"], 30_000);
  assertEquals(h.code, 0, shown(h));
  const jobs: { job: string; run: string; stage: string; attempt: number; state: string }[] =
    JSON.parse(h.stdout).jobs;
  const journaled = ofType(after, "submitted").map((e) => e.jobId as string);
  const attempts = [...PT, ...FT, ...EV].flatMap((run) =>
    attemptsOf(after, run).map((a) => ({ run, attempt: a.attempt, state: a.final }))
  );
  assertEquals(jobs.length, attempts.length, h.stdout);
  for (const a of attempts) {
    const j = jobs.find((x) => x.run === a.run && x.attempt === a.attempt);
    assert_(j, `${a.run} attempt ${a.attempt} missing from history\n${h.stdout}`);
    assertEquals(j.state, a.state, `${a.run} attempt ${a.attempt}`);
    assertEquals(
      j.stage,
      PT.includes(a.run) ? "pretrain" : FT.includes(a.run) ? "finetune" : "evaluate",
    );
    assert_(journaled.some((id) => j.job === id || j.job.startsWith(`${id}_`)), j.job);
  }
  const table = await cli(
    ctx,
    ["history", "--stage", "evaluate", "--in-state", "completed"],
    30_000,
  );
  assertEquals(table.code, 0, shown(table));
  assertEquals(table.stdout.split("\n").filter((l) => / evaluate /.test(l)).length, EV.length);
  const crashed = jobs.find((x) => x.run === CRASHES && x.attempt === 1)!;
  const log = await cli(ctx, ["logs", crashed.job], 30_000);
  assertEquals(log.code, 0, shown(log));
  assert_(/injected crash at iteration/.test(log.stdout), `not the crashed attempt\n${log.stdout}`);
}

function register(kind: Kind): void {
  Deno.test(`pipeline (${kind}): each run starts after its own inputs; --stage; nothing twice`, () =>
    withCtx(kind, {}, pipeline));
}

register("local");
if (slurmHere) register("slurm");
else if (slurmWanted) {
  Deno.test("pipeline (slurm): the SLURM test cluster is running", () => {
    throw new Error("AUTOEXP_SLURM_TESTS=1 but sinfo does not answer");
  });
}
