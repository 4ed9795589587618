/**
 * End to end, on this machine: the ad-hoc monitor (seed 000's `monitor --log ... --action ...`)
 * over a log a process writes (examples/trainer/megatron_like.sh prints Megatron's lines),
 * killed and started again without repeating an action; the checkpoint folder as the event
 * source for a trainer whose save lines are filtered out of its log (seed 001); following a
 * job of the local scheduler by its id; and `--dry-run --json` of a sweep's monitor, which
 * touches nothing.
 */
import { assert_, assertEquals } from "../_assert.ts";
import { ROOT } from "../_helpers.ts";
import {
  attemptLog,
  attemptsOf,
  cli,
  counts,
  type Ctx,
  dump,
  linesOf,
  ofType,
  readJournal,
  RUN,
  runDirOf,
  shown,
  slurmHere,
  spawnCli,
  submitArgs,
  sweepOf,
  waitFor,
  withCtx,
} from "./_monitor_helpers.ts";

const TRAINER = `${ROOT}/examples/trainer/megatron_like.sh`;

/** Starts the trainer, its output (filtered by `filter`, a shell pipe stage) into `log`. */
function startTrainer(ctx: Ctx, args: string, log: string, filter = "cat"): Deno.ChildProcess {
  const child = new Deno.Command("bash", {
    args: ["-c", `bash ${TRAINER} ${args} 2>&1 | ${filter} > ${log}`],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  ctx.children.add({
    child,
    result: child.status.then(() => ({ code: 0, stdout: "", stderr: "" })),
    kill: () => {
      try {
        child.kill("SIGKILL");
      } catch { /* ended */ }
    },
  });
  return child;
}

Deno.test("monitor adhoc local: a log a process writes runs its action once per checkpoint, also across a monitor SIGKILL", () =>
  withCtx("local", {}, async (ctx) => {
    const log = `${ctx.out}/train.log`;
    const conv = `${ctx.out}/converted.txt`;
    const state = `${ctx.out}/monitor`;
    const trainer = startTrainer(
      ctx,
      `--train-iters 40 --save-interval 10 --iter-seconds 0.2 --save ${ctx.out}/ckpt`,
      log,
    );
    const args = [
      "monitor",
      "--log",
      `train=${log}`,
      "--action",
      `megatron_checkpoint_saved=echo {checkpoint_iteration} >> ${conv}`,
      "--state",
      state,
    ];
    const first = spawnCli(ctx, args);
    await waitFor("the first conversion", async () => (await linesOf(conv)).length > 0, 60_000);
    first.kill();
    await first.result;
    const again = await cli(ctx, args, 90_000);
    await trainer.status;
    assertEquals(again.code, 0, again.stdout + again.stderr);
    assert_(again.stdout.includes("train: completed"), again.stdout);
    assertEquals(counts(await linesOf(conv)), { "10": 1, "20": 1, "30": 1, "40": 1 });
    // The journal: each action done once, the job adopted once.
    const journal = await readJournal(state);
    const done = journal.filter((e) => e.type === "action_done").map((e) => String(e.id));
    assertEquals(done.length, 4);
    assertEquals(new Set(done).size, 4);
    assertEquals(journal.filter((e) => e.type === "recovered").length, 1);
  }));

Deno.test("monitor adhoc local: the checkpoint folder fires the conversion when the log never says it saved", () =>
  withCtx("local", {}, async (ctx) => {
    const log = `${ctx.out}/train.log`;
    const conv = `${ctx.out}/converted.txt`;
    // Seed 001's checkpoint event (its pattern never matches here) and the folder to watch.
    const config = `${ctx.out}/monitoring.yaml`;
    await Deno.writeTextFile(
      config,
      `log_events:
  - name: checkpoint_saved
    pattern: 'successfully saved checkpoint from iteration\\s+(?P<iteration>\\d+) to (?P<path>\\S+)'
    pattern_type: regex
    metadata:
      kind: checkpoint
    extract_groups:
      checkpoint_iteration: iteration
      checkpoint_path: path
    actions:
      - class_name: RunCommandAction
        command: ["sh", "-c", "echo {checkpoint_iteration} {checkpoint_dir} >> ${conv}"]
checkpoint_watch:
  dir: ${ctx.out}/ckpt
  interval_seconds: 1
`,
    );
    const trainer = startTrainer(
      ctx,
      `--train-iters 30 --save-interval 10 --iter-seconds 0.1 --save ${ctx.out}/ckpt`,
      log,
      "grep --line-buffered -v 'saved checkpoint'",
    );
    const r = await cli(ctx, [
      "monitor",
      "--log",
      `train=${log}`,
      "--config",
      config,
      "--state",
      `${ctx.out}/monitor`,
    ], 90_000);
    await trainer.status;
    assertEquals(r.code, 0, r.stdout + r.stderr);
    const text = await Deno.readTextFile(log);
    assert_(!text.includes("saved checkpoint"), "the log says nothing of saves");
    assert_(text.includes("after training is done"), text);
    const lines = (await linesOf(conv)).sort((a, b) => parseInt(a) - parseInt(b));
    assertEquals(
      lines,
      [10, 20, 30].map((i) => `${i} ${ctx.out}/ckpt/iter_${String(i).padStart(7, "0")}`),
    );
  }));

/** A sweep of the fault tests' trainer with a checkpoint_watch; `filter`: its save lines cut. */
async function watchedSweep(ctx: Ctx, filter: boolean) {
  const wrapper = `${ctx.out}/trainer.sh`;
  const cut = filter ? " | grep --line-buffered -v 'saved checkpoint'" : "";
  await Deno.writeTextFile(wrapper, `bash ${TRAINER} "$@" 2>&1${cut}\n`);
  const r = await cli(
    ctx,
    submitArgs(ctx, "autoexp", [
      `backend.command=[bash,${wrapper}]`,
      "+monitoring.checkpoint_watch.dir=${autoexp.run_dir}/checkpoints",
      "+monitoring.checkpoint_watch.interval_seconds=1",
      "+monitoring.checkpoint_watch.event=checkpoint_saved",
    ]),
    120_000,
  );
  const sweep = sweepOf(ctx);
  const events = await readJournal(sweep);
  assertEquals(r.code, 0, `${shown(r)}\n${dump(events)}`);
  const a = attemptsOf(events, RUN);
  assertEquals(a.length, 1, dump(events));
  const log = await attemptLog(runDirOf(sweep), a[0].jobId);
  assertEquals(log.includes("saved checkpoint"), !filter, log);
  assert_(log.includes("after training is done"), log);
  const conv = (await linesOf(`${runDirOf(sweep)}/conversions.txt`)).map((l) => l.split(" ")[0]);
  assertEquals(counts(conv), { "10": 1, "20": 1, "30": 1 }, dump(events));
  return ofType(events, "fired").map((e) => String(e.line));
}

Deno.test("monitor local: a sweep's checkpoint_watch converts each checkpoint once when its log never says it saved", () =>
  withCtx("local", {}, async (ctx) => {
    const fired = await watchedSweep(ctx, true);
    assert_(fired.every((l) => l.startsWith("checkpoint_watch: ")), fired.join("\n"));
  }));

Deno.test("monitor local: a checkpoint both logged and seen in the watched folder converts once", () =>
  withCtx("local", {}, async (ctx) => {
    const fired = await watchedSweep(ctx, false);
    assertEquals(fired.length, 3, fired.join("\n"));
  }));

Deno.test("monitor adhoc local: start conditions hold back the log's actions until a file exists", () =>
  withCtx("local", {}, async (ctx) => {
    const log = `${ctx.out}/train.log`;
    const conv = `${ctx.out}/converted.txt`;
    const ready = `${ctx.out}/READY`;
    const state = `${ctx.out}/monitor`;
    const config = `${ctx.out}/monitoring.yaml`;
    await Deno.writeTextFile(
      config,
      `start_conditions:\n  - file_exists: ${ready}\nstart_poll_seconds: 0.2\n`,
    );
    const trainer = startTrainer(
      ctx,
      `--train-iters 20 --save-interval 10 --iter-seconds 0.05 --save ${ctx.out}/ckpt`,
      log,
    );
    const monitor = spawnCli(ctx, [
      "monitor",
      "--log",
      `train=${log}`,
      "--config",
      config,
      "--action",
      `megatron_checkpoint_saved=echo {checkpoint_iteration} >> ${conv}`,
      "--state",
      state,
    ]);
    await trainer.status;
    await waitFor("the monitor to start", async () => {
      try {
        return (await readJournal(state)).some((e) => e.type === "recovered");
      } catch {
        return false;
      }
    }, 60_000);
    await new Promise((res) => setTimeout(res, 1500));
    assertEquals(await linesOf(conv), [], "nothing runs before the file exists");
    assertEquals((await readJournal(state)).filter((e) => e.type === "fired"), []);
    await Deno.writeTextFile(ready, "");
    const r = await monitor.result;
    assertEquals(r.code, 0, r.stdout + r.stderr);
    assert_(
      r.stdout.includes(`train: waiting for its start conditions (${ready} does not exist`),
      r.stdout,
    );
    assert_(r.stdout.includes("train: start conditions hold; following its log"), r.stdout);
    assertEquals(counts(await linesOf(conv)), { "10": 1, "20": 1 });
  }));

/** A job autoexp submitted elsewhere (a sweep), followed ad hoc by its id on `kind`. */
async function followedById(ctx: Ctx, kind: "local" | "slurm") {
  const sub = await cli(ctx, [
    "submit",
    "-C",
    `${ROOT}/examples/quickstart`,
    "--scheduler",
    kind,
    "--no-monitor",
  ]);
  assertEquals(sub.code, 0, sub.stdout + sub.stderr);
  const sweep = `${ctx.out}/quickstart`;
  const job = (await readJournal(sweep)).find((e) => e.type === "submitted")!.jobId as string;
  const plan = JSON.parse(await Deno.readTextFile(`${sweep}/sweep.json`));
  const run = plan.runs[0];
  const r = await cli(ctx, [
    "monitor",
    job,
    "--log",
    `${run.name}=${run.logPath.replace("{job_id}", "%j")}`,
    "--scheduler",
    kind,
    "--state",
    `${ctx.out}/adhoc`,
  ], 90_000);
  assertEquals(r.code, 0, r.stdout + r.stderr);
  assert_(r.stdout.includes(`following job ${job}`), r.stdout);
  assert_(r.stdout.includes(`${run.name}: completed`), r.stdout);
  // Its own journal; the sweep's own is untouched by it.
  const adopted = (await readJournal(`${ctx.out}/adhoc`)).filter((e) => e.type === "recovered");
  assertEquals(adopted.map((e) => e.jobId), [job]);
}

Deno.test("monitor adhoc local: a job of the local scheduler followed by its id until it completes", () =>
  withCtx("local", {}, (ctx) => followedById(ctx, "local")));

if (slurmHere) {
  Deno.test("monitor adhoc slurm: a SLURM job followed by its id until it completes", () =>
    withCtx("slurm", {}, (ctx) => followedById(ctx, "slurm")));
}

Deno.test("monitor local --dry-run --json: a sweep's runs, logs, patterns and policies; nothing written", () =>
  withCtx("local", {}, async (ctx) => {
    const plan = await cli(ctx, ["plan", "-C", `${ROOT}/examples/quickstart`]);
    assertEquals(plan.code, 0, plan.stderr);
    const sweep = `${ctx.out}/quickstart`;
    const before = await listTree(sweep);
    const r = await cli(ctx, ["monitor", "--state", sweep, "--dry-run", "--json"]);
    assertEquals(r.code, 0, r.stderr);
    const d = JSON.parse(r.stdout);
    assertEquals([d.mode, d.state_dir, d.scheduler, d.resubmits], [
      "sweep",
      sweep,
      "not submitted yet",
      true,
    ]);
    assert_(
      d.runs.length >= 1 && d.runs.every((x: { state: string }) => x.state === "not submitted"),
    );
    const spec = d.monitoring[d.runs[0].monitoring];
    assert_(spec.events.some((e: { name: string }) => e.name === "megatron_checkpoint_saved"));
    assert_(Array.isArray(spec.restart_policies));
    assertEquals(await listTree(sweep), before, "the dry run wrote nothing");
    // The ad-hoc form too, with a job id: nothing written, where it would write said.
    const adhoc = await cli(ctx, [
      "monitor",
      "4242",
      "--log",
      "train=/nowhere/train.out",
      "--action",
      "megatron_checkpoint_saved=echo {checkpoint_iteration}",
      "--state",
      `${ctx.out}/adhoc`,
      "--dry-run",
      "--json",
    ]);
    assertEquals(adhoc.code, 0, adhoc.stderr);
    const a = JSON.parse(adhoc.stdout);
    assertEquals([a.mode, a.resubmits, a.runs[0].job_id, a.runs[0].log], [
      "adhoc",
      false,
      "4242",
      "/nowhere/train.out",
    ]);
    assertEquals(await exists(`${ctx.out}/adhoc`), false);
    // A sweep's directory is not an ad-hoc monitor's.
    const mixed = await cli(ctx, ["monitor", "--log", "train=x", "--state", sweep]);
    assertEquals(mixed.code, 2, mixed.stderr);
    assert_(mixed.stderr.includes("is a sweep autoexp planned"), mixed.stderr);
    assertEquals(await listTree(sweep), before);
    // A user mistake is exit 2 with the form to use.
    const bad = await cli(ctx, ["monitor", "--log", "train=x", "--action", "convert"]);
    assertEquals(bad.code, 2, bad.stderr);
    assert_(bad.stderr.includes("expected NAME=COMMAND"), bad.stderr);
  }));

async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      const p = `${d}/${e.name}`;
      out.push(p);
      if (e.isDirectory) await walk(p);
    }
  };
  await walk(dir);
  return out.sort();
}

async function exists(p: string): Promise<boolean> {
  try {
    await Deno.stat(p);
    return true;
  } catch {
    return false;
  }
}
