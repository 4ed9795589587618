/**
 * SlurmScheduler with a fake ProcessRunner that replays REAL captured SLURM 22.05 output
 * (tests/testdata/slurm/), asserting on the argv sent: one squeue and at most one sacct per
 * query (per chunk), retries of transient failures only, sbatch's own words in permanent
 * errors, the accounting verdict remembered. Also the retry helper (`retry.ts`).
 */
import { assert_, assertEquals, assertMatch, assertRejects } from "../_assert.ts";
import { ROOT } from "../_helpers.ts";
import { SchedulerError } from "../../lib/errors.ts";
import type { CommandResult, ProcessRunner, RunOptions } from "../../lib/runtime/process.ts";
import {
  DEFAULT_RETRY_POLICY,
  formatDelay,
  retryDelayMs,
  type RetryNotice,
  withRetry,
} from "../../lib/scheduler/retry.ts";
import {
  observationMatches,
  renderSbatchArgv,
  SlurmScheduler,
  type SlurmSchedulerOptions,
} from "../../lib/scheduler/slurm.ts";
import { renderSacctFormat, renderSqueueFormat } from "../../lib/scheduler/slurm_parse.ts";
import type { JobObservation } from "../../lib/scheduler/types.ts";

const DATA = `${ROOT}/tests/testdata/slurm`;

interface CaptureEntry {
  name: string;
  exit_code: number;
  stdout: string;
  stderr: string | null;
}

const INDEX: Map<string, CaptureEntry> = (() => {
  const readme = (JSON.parse(Deno.readTextFileSync(`${DATA}/index.json`)) as {
    captures: CaptureEntry[];
  }).captures;
  const adapter = (JSON.parse(Deno.readTextFileSync(`${DATA}/index_adapter.json`)) as {
    captures: CaptureEntry[];
  }).captures;
  return new Map([...readme, ...adapter].map((e) => [e.name, e]));
})();

/** A captured command's result, exactly as it was recorded (exit code, stdout, stderr). */
function replay(name: string): CommandResult {
  const e = INDEX.get(name);
  assert_(e, `no capture named ${name}`);
  return {
    code: e.exit_code,
    stdout: Deno.readTextFileSync(`${DATA}/${e.stdout}`),
    stderr: e.stderr ? Deno.readTextFileSync(`${DATA}/${e.stderr}`) : "",
    timedOut: false,
  };
}

function result(r: Partial<CommandResult>): CommandResult {
  return { code: 0, stdout: "", stderr: "", timedOut: false, ...r };
}

type Script = Record<string, (argv: readonly string[], n: number) => CommandResult>;

/**
 * Answers each command by argv[0] from `script` (the handler also gets how many times that
 * command ran before); records every call.
 */
class FakeRunner implements ProcessRunner {
  readonly calls: { argv: readonly string[]; opts?: RunOptions }[] = [];
  readonly #counts = new Map<string, number>();
  constructor(readonly script: Script) {}
  run(argv: readonly string[], opts?: RunOptions): Promise<CommandResult> {
    this.calls.push({ argv: [...argv], opts });
    const n = this.#counts.get(argv[0]) ?? 0;
    this.#counts.set(argv[0], n + 1);
    const h = this.script[argv[0]];
    if (!h) return Promise.resolve(result({ code: 127, stderr: `${argv[0]}: command not found` }));
    return Promise.resolve(h(argv, n));
  }
  argvs(cmd?: string): string[][] {
    return this.calls.filter((c) => !cmd || c.argv[0] === cmd).map((c) => [...c.argv]);
  }
}

function make(script: Script, opts: Partial<SlurmSchedulerOptions> = {}) {
  const runner = new FakeRunner(script);
  const sleeps: number[] = [];
  const notices: string[] = [];
  const sched = new SlurmScheduler({
    runner,
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
    onRetry: (msg) => notices.push(msg),
    ...opts,
  });
  return { sched, runner, sleeps, notices };
}

const SQUEUE_HEAD = ["squeue", "--noheader", "--states=all", `--Format=${renderSqueueFormat()}`];
const SACCT_HEAD = [
  "sacct",
  "--noheader",
  "--parsable2",
  "--allocations",
  "--starttime=now-30days",
  `--format=${renderSacctFormat()}`,
];

/** One squeue line in autoexp's format. */
function squeueLine(id: string, state: string, comment = "c", name = "job"): string {
  return `${id}|${id}|${id}|N/A|${name}|${state}|None|N/A|N/A|UNLIMITED||0|0|${comment}|`;
}

/** One sacct line in autoexp's format. */
function sacctLine(id: string, state: string, exit = "0:0"): string {
  return `${id}|${id}|job|${state}|${exit}|None|2026-11-22T21:00:00|2026-11-22T21:01:00|vm|c`;
}

const REQ = {
  script: "/runs/s1/job.sh",
  cwd: "/runs/s1",
  jobName: "lr0.1",
  comment: "autoexp:s1:lr0.1",
};

// ---------------------------------------------------------------------------------------------
// submit

Deno.test("submit sends sbatch --parsable with name, comment, array, dependency, time, extras", async () => {
  const { sched, runner } = make({ sbatch: () => replay("sbatch_parsable_array") });
  const res = await sched.submit({
    ...REQ,
    array: "0-3%2",
    dependency: "afterok:7",
    time: "120",
    extraArgs: ["--qos=high", "--signal=B:USR1@90"],
  });
  const want = [
    "sbatch",
    "--parsable",
    "--job-name=lr0.1",
    "--comment=autoexp:s1:lr0.1",
    "--array=0-3%2",
    "--dependency=afterok:7",
    "--time=120",
    "--qos=high",
    "--signal=B:USR1@90",
    "/runs/s1/job.sh",
  ];
  assertEquals(res, { jobId: "18", argv: want });
  assertEquals(runner.argvs(), [want]);
  assertEquals(runner.calls[0].opts?.cwd, "/runs/s1");
  assertEquals(runner.calls[0].opts?.timeoutMs, 60_000);
  assertEquals(runner.calls[0].opts?.env, undefined); // the job inherits the caller's environment
  assertEquals(renderSbatchArgv(REQ), [
    "sbatch",
    "--parsable",
    "--job-name=lr0.1",
    "--comment=autoexp:s1:lr0.1",
    "/runs/s1/job.sh",
  ]);
});

Deno.test("submit retries a transient failure with backoff, then succeeds", async () => {
  const { sched, runner, sleeps, notices } = make({
    sbatch: (_a, n) => n < 2 ? replay("sbatch_controller_down") : replay("sbatch_parsable"),
  });
  const res = await sched.submit(REQ);
  assertEquals(res.jobId, "10");
  assertEquals(runner.argvs("sbatch").length, 3);
  assertEquals(sleeps, [2000, 4000]);
  assertEquals(notices, [
    "slurmctld did not answer, retrying in 2 s (attempt 2/5)",
    "slurmctld did not answer, retrying in 4 s (attempt 3/5)",
  ]);
});

Deno.test("submit: a permanent error is not retried and carries sbatch's own message", async () => {
  const { sched, runner, sleeps } = make({ sbatch: () => replay("sbatch_invalid_partition") });
  const err = await assertRejects(() =>
    sched.submit({ ...REQ, extraArgs: ["--partition=nosuch"] })
  );
  assert_(err instanceof SchedulerError);
  assertMatch(err.message, /Submitting job "lr0\.1" failed/);
  assertMatch(err.message, /sbatch: error: invalid partition specified: nosuch/);
  assertMatch(err.message, /Invalid partition name specified/);
  assertEquals(err.details.transient, false);
  assertEquals(err.details.exitCode, 1);
  assertEquals(err.details.argv?.at(-2), "--partition=nosuch");
  assertMatch(err.details.stderr ?? "", /invalid partition specified: nosuch/);
  assertEquals(runner.calls.length, 1);
  assertEquals(sleeps, []);
});

Deno.test("submit: other permanent sbatch errors fail at once", async () => {
  for (
    const name of [
      "sbatch_unrecognized_option",
      "sbatch_no_shebang",
      "sbatch_missing_script",
      "sbatch_invalid_array",
      "sbatch_invalid_time",
    ]
  ) {
    const { sched, runner } = make({ sbatch: () => replay(name) });
    const err = await assertRejects(() => sched.submit(REQ));
    assert_(err instanceof SchedulerError, name);
    assertEquals(err.details.transient, false, name);
    assert_(err.message.includes(replay(name).stderr.trim().split("\n")[0]), name);
    assertEquals(runner.calls.length, 1, name);
  }
});

Deno.test("submit gives up after the bounded number of attempts", async () => {
  const { sched, runner, sleeps } = make(
    { sbatch: () => replay("sbatch_controller_down") },
    { retry: { maxAttempts: 3 } },
  );
  const err = await assertRejects(() => sched.submit(REQ));
  assert_(err instanceof SchedulerError);
  assertEquals(err.details.transient, true);
  assertMatch(err.message, /Unable to contact slurm controller/);
  assertMatch(err.message, /gave up after 3 attempts/);
  assertEquals(runner.calls.length, 3);
  assertEquals(sleeps, [2000, 4000]);
});

Deno.test("submit: sbatch is retried on submit limits and timeouts of our own", async () => {
  const limit = "sbatch: error: AssocMaxSubmitJobLimit\n" +
    "sbatch: error: Batch job submission failed: Job violates accounting/QOS policy " +
    "(job submit limit, user's size and/or time limits)\n";
  const { sched, notices } = make({
    sbatch: (_a, n) =>
      n === 0
        ? result({ code: 1, stderr: limit })
        : n === 1
        ? result({ code: 137, timedOut: true })
        : result({ stdout: "42\n" }),
    squeue: () => result({ stdout: "" }),
  });
  assertEquals((await sched.submit(REQ)).jobId, "42");
  assertEquals(notices[0], "the job submit limit is reached, retrying in 2 s (attempt 2/5)");
  assertMatch(notices[1], /did not finish within 60 s/);
});

Deno.test("submit: after a lost answer it looks for the job before submitting again", async () => {
  const lost =
    "sbatch: error: Batch job submission failed: Socket timed out on send/recv operation";
  const found = make({
    sbatch: () => result({ code: 1, stderr: lost }),
    squeue: () =>
      result({ stdout: squeueLine("77", "PENDING", "autoexp:s1:lr0.1", "lr0.1") + "\n" }),
  });
  assertEquals((await found.sched.submit(REQ)).jobId, "77");
  assertEquals(found.runner.argvs().map((a) => a[0]), ["sbatch", "squeue"]);
  assertEquals(found.runner.argvs("squeue")[0], [...SQUEUE_HEAD, "--me", "--name=lr0.1"]);

  const notFound = make({
    sbatch: (_a, n) => n === 0 ? result({ code: 1, stderr: lost }) : result({ stdout: "78\n" }),
    squeue: () =>
      result({ stdout: squeueLine("77", "PENDING", "autoexp:s1:other", "lr0.1") + "\n" }),
  });
  assertEquals((await notFound.sched.submit(REQ)).jobId, "78");
  assertEquals(notFound.runner.argvs().map((a) => a[0]), ["sbatch", "squeue", "sbatch"]);
});

Deno.test("submit: a missing sbatch is a permanent error that says so", async () => {
  const { sched } = make({});
  const err = await assertRejects(() => sched.submit(REQ));
  assert_(err instanceof SchedulerError);
  assertEquals([err.details.exitCode, err.details.transient], [127, false]);
  assertMatch(err.message, /`sbatch` was not found/);
});

// ---------------------------------------------------------------------------------------------
// query

Deno.test("query: one squeue for all ids; no sacct when squeue knows them all", async () => {
  const { sched, runner } = make({ squeue: () => replay("squeue_O_mixed") });
  const res = await sched.query({ ids: ["17", "18", "19", "20"] });
  assertEquals(runner.argvs(), [[...SQUEUE_HEAD, "--jobs=17,18,19,20"]]);
  assertEquals(runner.calls[0].opts?.env, { SLURM_BITSTR_LEN: "0" });
  assertEquals(res.commands, ["squeue"]);
  assertEquals(res.accountingUnavailable, undefined);
  const exit7 = res.jobs.find((o) => o.id === "17");
  assertEquals([exit7?.state, exit7?.exitCode], ["failed", 7]);
  // squeue answers with everything it printed (here the whole capture)
  assertEquals(res.jobs.length, 13);
});

Deno.test("query: at most one sacct, only for the ids squeue no longer knows", async () => {
  const { sched, runner } = make({
    squeue: () => replay("squeue_O_after_actions"),
    sacct: () => replay("sacct_X_mixed"),
  });
  const res = await sched.query({ ids: ["19", "28", "35", "38", "999999"] });
  assertEquals(runner.argvs(), [
    [...SQUEUE_HEAD, "--jobs=19,28,35,38,999999"],
    [...SACCT_HEAD, "--jobs=35,38,999999"],
  ]);
  assertEquals(res.commands, ["squeue", "sacct"]);
  const fromSacct = res.jobs.filter((o) => o.source === "sacct").map((o) => o.id);
  assert_(fromSacct.includes("35") && fromSacct.includes("38_[4-5%2]"), fromSacct.join(","));
  assertEquals(res.jobs.find((o) => o.id === "35")?.comment, "autoexp:acct:exit7|pipe");
});

Deno.test("query: history false never calls sacct", async () => {
  const { sched, runner } = make({ squeue: () => result({ stdout: "" }) });
  const res = await sched.query({ ids: ["5", "6"], history: false });
  assertEquals(runner.argvs().map((a) => a[0]), ["squeue"]);
  assertEquals(res, { jobs: [], commands: ["squeue"] });
});

Deno.test("query: nothing asked, nothing run", async () => {
  const { sched, runner } = make({});
  assertEquals(await sched.query({}), { jobs: [], commands: [] });
  assertEquals(await sched.query({ ids: [] }), { jobs: [], commands: [] });
  assertEquals(runner.calls.length, 0);
});

Deno.test("query: squeue's 'Invalid job id specified' (one unknown id) means not in the queue", async () => {
  const { sched, runner } = make({
    squeue: () => replay("squeue_unknown_job"),
    sacct: () => replay("sacct_unknown_job"),
  });
  const res = await sched.query({ ids: ["999999"] });
  assertEquals(res, { jobs: [], commands: ["squeue", "sacct"] });
  assertEquals(runner.argvs("sacct"), [[...SACCT_HEAD, "--jobs=999999"]]);
});

Deno.test("query: ids are chunked (1000 ids -> 2 squeue + 2 sacct calls of 500)", async () => {
  const ids = Array.from({ length: 1000 }, (_, i) => String(1000 + i));
  const { sched, runner } = make({
    squeue: () => result({ stdout: "" }),
    sacct: (argv) => {
      const asked = argv.at(-1)!.replace("--jobs=", "").split(",");
      return result({ stdout: asked.map((id) => sacctLine(id, "COMPLETED")).join("\n") + "\n" });
    },
  });
  const res = await sched.query({ ids });
  const squeues = runner.argvs("squeue");
  const saccts = runner.argvs("sacct");
  assertEquals(squeues.length, 2);
  assertEquals(saccts.length, 2);
  assertEquals(squeues[0].at(-1), `--jobs=${ids.slice(0, 500).join(",")}`);
  assertEquals(squeues[1].at(-1), `--jobs=${ids.slice(500).join(",")}`);
  assertEquals(saccts[1].at(-1), `--jobs=${ids.slice(500).join(",")}`);
  assertEquals(res.jobs.length, 1000);
  assertEquals(res.commands, ["squeue", "squeue", "sacct", "sacct"]);

  const one = make({ squeue: () => result({ stdout: "" }) }, { chunkSize: 1000 });
  await one.sched.query({ ids, history: false });
  assertEquals(one.runner.argvs("squeue").length, 1);
  const three = make({ squeue: () => result({ stdout: "" }) });
  await three.sched.query({ ids: [...ids, "1"], history: false });
  assertEquals(three.runner.argvs("squeue").length, 3);
});

Deno.test("query: accounting disabled is remembered; sacct is not asked again", async () => {
  const { sched, runner } = make({
    squeue: () => result({ stdout: "" }),
    sacct: () => replay("sacct_accounting_disabled"),
  });
  const first = await sched.query({ ids: ["10"] });
  assertEquals(first, { jobs: [], commands: ["squeue", "sacct"], accountingUnavailable: true });
  const second = await sched.query({ ids: ["10", "11"] });
  assertEquals(second, { jobs: [], commands: ["squeue"], accountingUnavailable: true });
  assertEquals(runner.argvs("sacct").length, 1);
  assertEquals(sched.accountingUnavailable, true);
});

Deno.test("query: a missing sacct (exit 127) is remembered too", async () => {
  const { sched, runner } = make({ squeue: () => result({ stdout: "" }) }); // no sacct: 127
  assertEquals((await sched.query({ ids: ["10"] })).accountingUnavailable, true);
  assertEquals((await sched.query({ ids: ["10"] })).accountingUnavailable, true);
  assertEquals(runner.argvs("sacct").length, 1);
});

Deno.test("query: slurmdbd down makes accounting unavailable for that round only", async () => {
  const down = "sacct: error: Problem talking to the database: Connection refused";
  const { sched, runner, sleeps } = make({
    squeue: () => result({ stdout: "" }),
    sacct: (_a, n) =>
      n < 2
        ? result({ code: 1, stderr: down })
        : result({ stdout: sacctLine("31", "FAILED", "7:0") }),
  }, { retry: { maxAttempts: 2 } });
  const first = await sched.query({ ids: ["31"] });
  assertEquals(first, {
    jobs: [],
    commands: ["squeue", "sacct", "sacct"],
    accountingUnavailable: true,
  });
  assertEquals(sleeps, [2000]);
  const second = await sched.query({ ids: ["31"] });
  assertEquals(runner.argvs("sacct").length, 3);
  assertEquals(second.accountingUnavailable, undefined);
  assertEquals(second.jobs.map((o) => [o.id, o.state, o.exitCode]), [["31", "failed", 7]]);
});

Deno.test("query: squeue is retried when slurmctld does not answer", async () => {
  const { sched, notices } = make({
    squeue: (_a, n) => n === 0 ? replay("squeue_controller_down") : replay("squeue_O_timeout"),
  });
  const res = await sched.query({ ids: ["12"] });
  assertEquals(res.commands, ["squeue", "squeue"]);
  assertEquals(res.jobs.map((o) => [o.id, o.state]), [["12", "timeout"]]);
  assertEquals(notices, ["slurmctld did not answer, retrying in 2 s (attempt 2/5)"]);
});

Deno.test("query: an array id returns its tasks, the pending ones as one record", async () => {
  const { sched, runner } = make({ squeue: () => replay("squeue_O_after_actions") });
  const res = await sched.query({ ids: ["29"] });
  assertEquals(runner.argvs("sacct"), []);
  const arr = res.jobs.filter((o) => o.arrayJobId === "29");
  assertEquals(arr.map((o) => o.id), ["29_[2-9%2]", "29_0", "29_1"]);
  assertEquals(arr[0].pendingTasks, [2, 3, 4, 5, 6, 7, 8, 9]);
  // a task id is found inside the pending record, so sacct is not needed for it either
  await sched.query({ ids: ["29_5"] });
  assertEquals(runner.argvs("sacct"), []);
});

Deno.test("query: commentPrefix asks squeue for all of the user's jobs and filters", async () => {
  const { sched, runner } = make({
    squeue: () => replay("squeue_O_me"),
    sacct: () => result({ stdout: "" }),
  });
  const res = await sched.query({ commentPrefix: "autoexp:cap:", ids: ["5", "424242"] });
  assertEquals(runner.argvs(), [
    [...SQUEUE_HEAD, "--me"],
    [...SACCT_HEAD, "--jobs=424242"],
  ]);
  const ids = res.jobs.map((o) => o.id);
  assert_(ids.includes("5"), "an id asked for is kept whatever its comment");
  assert_(!ids.includes("1"), "jobs of other comments are dropped");
  assert_(!ids.some((id) => id.startsWith("10_")), "autoexp:probe:... is not autoexp:cap:...");
  assert_(
    res.jobs.filter((o) => o.id !== "5").every((o) => o.comment?.startsWith("autoexp:cap:")),
  );
  // array tasks 20_0-20_5, the held sparse array (one pending record), jobs 12, 15-19 and 22
  assertEquals(res.jobs.filter((o) => o.comment?.startsWith("autoexp:cap:")).length, 14);
});

Deno.test("query: output squeue cannot be read is a permanent error naming the command", async () => {
  const { sched } = make({ squeue: () => result({ stdout: "garbage\n" }) });
  const err = await assertRejects(() => sched.query({ ids: ["1"] }));
  assert_(err instanceof SchedulerError);
  assertEquals(err.details.transient, false);
  assertMatch(err.message, /could not read the output of `squeue/);
});

Deno.test("observationMatches: job, array, task, task inside a pending record", () => {
  const base: JobObservation = {
    id: "18_[2-3%2]",
    jobId: "18",
    arrayJobId: "18",
    pendingTasks: [2, 3],
    name: "a",
    state: "pending",
    rawState: "PENDING",
    reason: "JobArrayTaskLimit",
    source: "squeue",
  };
  const task: JobObservation = {
    ...base,
    id: "18_1",
    jobId: "20",
    arrayTaskId: 1,
    pendingTasks: undefined,
  };
  const cases: [JobObservation, string, boolean][] = [
    [base, "18", true],
    [base, "18_2", true],
    [base, "18_4", false],
    [task, "18", true],
    [task, "18_1", true],
    [task, "20", true],
    [task, "18_0", false],
    [task, "19", false],
  ];
  for (const [o, id, want] of cases) assertEquals(observationMatches(o, id), want, `${o.id} ${id}`);
});

// ---------------------------------------------------------------------------------------------
// cancel, requeue, hold, release, update

Deno.test("cancel: scancel with the ids, chunked; 'already gone' is success", async () => {
  const { sched, runner } = make({ scancel: () => replay("scancel_running_multi") }, {
    chunkSize: 2,
  });
  await sched.cancel(["19", "999999", "16", "19"]);
  assertEquals(runner.argvs(), [["scancel", "19", "999999"], ["scancel", "16"]]);
  const gone = make({
    scancel: () =>
      result({
        code: 1,
        stderr:
          "scancel: error: Kill job error on job id 5: Job/step already completing or completed\n" +
          replay("scancel_unknown_job_verbose").stderr,
      }),
  });
  await gone.sched.cancel(["5", "999999"]);
  assertEquals(gone.sleeps, []);
});

Deno.test("cancel: slurmctld down (exit 8) is retried, then reported", async () => {
  const { sched, runner } = make(
    { scancel: () => replay("scancel_controller_down") },
    { retry: { maxAttempts: 2 } },
  );
  const err = await assertRejects(() => sched.cancel(["52"]));
  assert_(err instanceof SchedulerError);
  assertEquals([err.details.exitCode, err.details.transient], [8, true]);
  assertMatch(err.message, /Cancelling job 52 failed/);
  assertEquals(runner.calls.length, 2);
});

Deno.test("requeue, hold, release: scontrol with a comma-separated list", async () => {
  const { sched, runner } = make({ scontrol: () => result({}) });
  await sched.requeue(["26"]);
  await sched.hold(["18", "22"]);
  await sched.release(["15", "22"]);
  assertEquals(runner.argvs(), [
    ["scontrol", "requeue", "26"],
    ["scontrol", "hold", "18,22"],
    ["scontrol", "release", "15,22"],
  ]);
});

Deno.test("requeue/hold/release/update: SLURM's refusal is a permanent error with its words", async () => {
  const cases: [string, (s: SlurmScheduler) => Promise<void>, RegExp][] = [
    ["scontrol_requeue_pending", (s) => s.requeue(["15"]), /Job is pending execution/],
    ["scontrol_requeue_unknown", (s) => s.requeue(["999999"]), /Invalid job id specified/],
    ["scontrol_hold_finished", (s) => s.hold(["17"]), /Job has already finished/],
    ["scontrol_release_unknown", (s) => s.release(["999999"]), /Invalid job id specified/],
    ["scontrol_update_finished", (s) => s.update("17", { TimeLimit: "5" }), /already finished/],
    ["scontrol_update_badkey", (s) => s.update("18", { NoSuchKey: "5" }), /not supported/],
  ];
  for (const [name, act, re] of cases) {
    const { sched, runner } = make({ scontrol: () => replay(name) });
    const err = await assertRejects(() => act(sched));
    assert_(err instanceof SchedulerError, name);
    assertEquals(err.details.transient, false, name);
    assertMatch(err.message, re);
    assertEquals(runner.calls.length, 1, name);
  }
});

Deno.test("update: scontrol update JobId=.. K=V; a bad key is refused before running", async () => {
  const { sched, runner } = make({ scontrol: () => replay("scontrol_update_timelimit") });
  await sched.update("18", { TimeLimit: "5", Comment: "autoexp:s1:x" });
  assertEquals(runner.argvs(), [[
    "scontrol",
    "update",
    "JobId=18",
    "TimeLimit=5",
    "Comment=autoexp:s1:x",
  ]]);
  await assertRejects(() => sched.update("18", { "Time Limit": "5" }), (e) => {
    assert_(e instanceof SchedulerError);
    assertMatch(e.message, /"Time Limit" is not a SLURM job field name/);
  });
  await assertRejects(() => sched.update("18", {}));
  assertEquals(runner.calls.length, 1);
});

// ---------------------------------------------------------------------------------------------
// limits

Deno.test("limits: MaxArraySize from scontrol show config; no sacct when storage is none", async () => {
  const { sched, runner } = make({ scontrol: () => replay("scontrol_show_config") });
  assertEquals(await sched.limits(), { maxArraySize: 10001, accounting: false });
  assertEquals(runner.argvs(), [["scontrol", "show", "config"]]);
  assertEquals(sched.accountingUnavailable, true);
});

Deno.test("limits: with slurmdbd, a sacct probe and (given a user) sacctmgr", async () => {
  const { sched, runner } = make({
    scontrol: () => replay("scontrol_show_config_acct"),
    sacct: () => replay("sacct_probe"),
    sacctmgr: () => result({ stdout: "local|default|alice||50|\nlocal|gpu|alice||80|\n" }),
  }, { user: "alice" });
  assertEquals(await sched.limits(), { maxArraySize: 10001, accounting: true, maxSubmitJobs: 50 });
  assertEquals(runner.argvs().slice(1), [
    [
      "sacct",
      "--noheader",
      "--parsable2",
      "--allocations",
      "--format=JobIDRaw",
      "--starttime=now",
      "--endtime=now",
    ],
    [
      "sacctmgr",
      "--noheader",
      "--parsable2",
      "show",
      "assoc",
      "where",
      "user=alice",
      "format=Cluster,Account,User,Partition,MaxSubmit,GrpSubmit",
    ],
  ]);
  const none = make({
    scontrol: () => replay("scontrol_show_config_acct"),
    sacct: () => replay("sacct_probe"),
    sacctmgr: () => replay("sacctmgr_show_assoc"),
  }, { user: "root" });
  assertEquals(await none.sched.limits(), { maxArraySize: 10001, accounting: true });
});

Deno.test("limits: sacct disabled although configured; MaxArraySize missing -> 1001", async () => {
  const { sched } = make({
    scontrol: () => result({ stdout: "AccountingStorageType   = accounting_storage/slurmdbd\n" }),
    sacct: () => replay("sacct_accounting_disabled"),
  });
  assertEquals(await sched.limits(), { maxArraySize: 1001, accounting: false });
  assertEquals(sched.accountingUnavailable, true);
});

// ---------------------------------------------------------------------------------------------
// retry.ts

Deno.test("retryDelayMs doubles from 2 s and is capped", () => {
  assertEquals([1, 2, 3, 4, 5, 6, 7].map((a) => retryDelayMs(DEFAULT_RETRY_POLICY, a)), [
    2000,
    4000,
    8000,
    16000,
    30000,
    30000,
    30000,
  ]);
  assertEquals(
    retryDelayMs({ maxAttempts: 3, initialDelayMs: 500, factor: 3, maxDelayMs: 60_000 }, 3),
    4500,
  );
  assertEquals([formatDelay(4000), formatDelay(1500), formatDelay(120_000)], [
    "4 s",
    "1.5 s",
    "2 min",
  ]);
});

Deno.test("withRetry retries transient SchedulerErrors only", async () => {
  const sleeps: number[] = [];
  const notices: RetryNotice[] = [];
  const sleep = (ms: number) => {
    sleeps.push(ms);
    return Promise.resolve();
  };
  let n = 0;
  const value = await withRetry(() => {
    n++;
    if (n < 3) throw new SchedulerError("boom", { transient: true });
    return Promise.resolve("ok");
  }, {
    sleep,
    onRetry: (_m, info) => notices.push(info),
    describe: () => "slurmctld did not answer",
  });
  assertEquals([value, n, sleeps], ["ok", 3, [2000, 4000]]);
  assertEquals(notices.map((x) => [x.attempt, x.nextAttempt, x.maxAttempts, x.delayMs]), [
    [1, 2, 5, 2000],
    [2, 3, 5, 4000],
  ]);
  assertEquals(notices[1].message, "slurmctld did not answer, retrying in 4 s (attempt 3/5)");

  let calls = 0;
  await assertRejects(() =>
    withRetry(() => {
      calls++;
      throw new SchedulerError("bad partition", { transient: false });
    }, { sleep })
  );
  await assertRejects(() =>
    withRetry(() => {
      calls++;
      throw new TypeError("a bug");
    }, { sleep })
  );
  assertEquals(calls, 2);

  const last = await assertRejects(() =>
    withRetry(() => Promise.reject(new SchedulerError("down", { transient: true, exitCode: 1 })), {
      sleep,
      policy: { maxAttempts: 2 },
    })
  );
  assert_(last instanceof SchedulerError);
  assertEquals([last.details.exitCode, last.details.transient], [1, true]);
  assertMatch(last.message, /^down\n\(gave up after 2 attempts\)$/);
  assert_(last.cause instanceof SchedulerError);
});

// ---------------------------------------------------------------- one squeue per user

import { FileQueueCache } from "../../lib/runtime/queue_cache.ts";
import { DenoFileSystem } from "../../lib/runtime/fs.ts";

Deno.test("shared queue: ten schedulers of one user asking at once cost one squeue", async () => {
  const dir = await Deno.makeTempDir();
  try {
    let now = 1_000_000;
    const runner = new FakeRunner({
      squeue: () => replay("squeue_O_me"),
      sbatch: () => result({ stdout: "77\n" }),
    });
    const slow: ProcessRunner = {
      // squeue takes a moment, so the others find the lock taken and wait for its answer.
      run: async (argv, opts) => {
        await new Promise((res) => setTimeout(res, 30));
        return runner.run(argv, opts);
      },
    };
    const cache = new FileQueueCache({ dir, files: new DenoFileSystem(), now: () => now });
    const scheds = Array.from(
      { length: 10 },
      () =>
        new SlurmScheduler({
          runner: slow,
          queueCache: cache,
          now: () => now,
          queueMaxAgeMs: 2000,
        }),
    );
    const ask = () => Promise.all(scheds.map((s, i) => s.query({ ids: [i % 2 ? "1" : "4_2"] })));
    const first = await ask();
    assertEquals(runner.argvs("squeue").length, 1);
    assertEquals(runner.argvs("squeue")[0].slice(-1), ["--me"]);
    // Each got its own jobs out of the one answer.
    assertEquals(first[0].jobs.length, 1);
    assert_(observationMatches(first[0].jobs[0], "4_2"));
    assertEquals(first[1].jobs.map((j) => j.jobId), ["1"]);
    now += 1000; // within the interval: the same answer again
    await ask();
    assertEquals(runner.argvs("squeue").length, 1);
    now += 1500; // older than 2 s: one new squeue for all ten
    await ask();
    assertEquals(runner.argvs("squeue").length, 2);
    // A scheduler that submitted does not take an answer from before its job existed.
    await scheds[0].submit({ script: "/x.sh", cwd: dir, jobName: "j", comment: "c" });
    await scheds[0].query({ ids: ["1"] });
    assertEquals(runner.argvs("squeue").length, 3);
    await scheds[1].query({ ids: ["1"] }); // the others share that newer answer
    assertEquals(runner.argvs("squeue").length, 3);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("shared queue: a lock left by a dead process is taken over; a failed squeue is not shared", async () => {
  const dir = await Deno.makeTempDir();
  try {
    let now = 5_000_000;
    await Deno.writeTextFile(`${dir}/squeue.lock`, "0");
    await Deno.utime(`${dir}/squeue.lock`, 0, 0); // long ago
    let fail = true;
    const runner = new FakeRunner({
      squeue: () =>
        fail
          ? result({ code: 1, stderr: "slurm_load_jobs error: Unexpected message received" })
          : replay("squeue_O_me"),
    });
    const cache = new FileQueueCache({ dir, files: new DenoFileSystem(), now: () => now });
    const sched = new SlurmScheduler({
      runner,
      queueCache: cache,
      now: () => now,
      sleep: () => Promise.resolve(),
      retry: { maxAttempts: 1 },
    });
    await assertRejects(
      () => sched.query({ ids: ["1"] }),
      (e) => assert_(e instanceof SchedulerError),
    );
    fail = false;
    now += 10;
    const r = await sched.query({ ids: ["1"] });
    assertEquals(r.jobs.map((j) => j.jobId), ["1"]);
    assertEquals(runner.argvs("squeue").length, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("shared queue: a lock whose owner died on this host is taken over at once; a held one is waited out", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const files = new DenoFileSystem();
    let now = 9_000_000;
    const sleeps: number[] = [];
    const cache = (alive: boolean, waitMs = 10_000) =>
      new FileQueueCache({
        dir,
        files,
        now: () => now,
        sleep: (ms) => {
          sleeps.push(ms);
          now += ms;
          return Promise.resolve();
        },
        owner: { host: "login1", pid: 1 },
        alive: () => Promise.resolve(alive),
        waitMs,
      });
    const lock = JSON.stringify({ host: "login1", pid: 4242, at: now });
    await Deno.writeTextFile(`${dir}/squeue.lock`, lock);
    // Its owner (Ctrl-C'd status) is gone: no waiting.
    assertEquals(
      await cache(false).read(() => Promise.resolve("a"), { maxAgeMs: 2000, after: 0 }),
      "a",
    );
    assertEquals(sleeps.length, 0);
    // A live owner that never answers: after waitMs this process asks itself.
    await Deno.writeTextFile(`${dir}/squeue.lock`, lock);
    now += 5000;
    const own = await cache(true, 1000).read(() => Promise.resolve("b"), {
      maxAgeMs: 2000,
      after: 0,
    });
    assertEquals(own, "b");
    assert_(sleeps.length >= 20 && sleeps.length <= 22, `waited ${sleeps.length} times`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("shared queue: with submissions open (found by their tag), squeue is asked, not the shared answer", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const now = 1_000_000;
    const runner = new FakeRunner({ squeue: () => replay("squeue_O_me") });
    const cache = new FileQueueCache({ dir, files: new DenoFileSystem(), now: () => now });
    const sched = new SlurmScheduler({ runner, queueCache: cache, now: () => now });
    await sched.query({ ids: ["1"] });
    await sched.query({ ids: ["1"] });
    assertEquals(runner.argvs("squeue").length, 1, "shared");
    await sched.query({ ids: ["1"], commentPrefix: "autoexp:probe:" });
    assertEquals(runner.argvs("squeue").length, 2, "asked itself");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
