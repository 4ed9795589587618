/**
 * Table-driven tests of the pure SLURM parsers, on REAL captured SLURM 22.05 output
 * (tests/testdata/slurm/, see README.md and index.json there; the captures made for the
 * adapter's own formats are listed in index_adapter.json) plus a few documented forms from
 * other situations and versions, marked as such.
 */
import { assert_, assertEquals, assertThrows } from "../_assert.ts";
import { ROOT } from "../_helpers.ts";
import {
  classifySlurmState,
  expandArrayTasks,
  isAlreadyGoneError,
  isTransientSlurmError,
  type OutputLayout,
  parseSacct,
  parseSacctmgrSubmitLimit,
  parseSbatchParsable,
  parseScontrolConfig,
  parseSqueue,
  renderSacctFormat,
  renderSqueueFormat,
  sbatchRejection,
  SlurmParseError,
  summarizeSlurmError,
} from "../../lib/scheduler/slurm_parse.ts";
import type { JobObservation, JobState } from "../../lib/scheduler/types.ts";

const DATA = `${ROOT}/tests/testdata/slurm`;

function cap(name: string): string {
  return Deno.readTextFileSync(`${DATA}/${name}`);
}

/** The formats the README's captures were made with, as index.json records them. */
const README = JSON.parse(Deno.readTextFileSync(`${DATA}/index.json`)) as {
  squeue_format: string;
  squeue_Format: string;
  sacct_format: string;
};
/** `$SQF`: `squeue --format='%i|%A|%F|%K|%j|%T|%r|%M|%l|%D|%k'`, named as `--Format` fields. */
const README_SQF: OutputLayout = {
  fields: README.squeue_Format.split(",").map((f) => f.replace(/:\|$/, "")),
  terminated: false,
};
/** `$SQO`: the same fields with `--Format` and `:|` suffixes. */
const README_SQO: OutputLayout = { fields: README_SQF.fields, terminated: true };
/** `$SAF` (Comment in the middle). */
const README_SAF: OutputLayout = { fields: README.sacct_format.split(","), terminated: false };

/** The fields a test looks at, so tables stay short. */
function brief(o: JobObservation) {
  return {
    id: o.id,
    jobId: o.jobId,
    state: o.state,
    reason: o.reason,
    ...(o.arrayJobId !== undefined ? { arrayJobId: o.arrayJobId } : {}),
    ...(o.arrayTaskId !== undefined ? { arrayTaskId: o.arrayTaskId } : {}),
    ...(o.exitCode !== undefined ? { exitCode: o.exitCode } : {}),
    ...(o.signal !== undefined ? { signal: o.signal } : {}),
  };
}

function byId(list: readonly JobObservation[], id: string): JobObservation {
  const o = list.find((x) => x.id === id);
  assert_(o, `no observation ${id} in ${list.map((x) => x.id).join(", ")}`);
  return o;
}

// ---------------------------------------------------------------------------------------------

Deno.test("parseSbatchParsable reads the job id, with or without a cluster", () => {
  const cases: [string, ReturnType<typeof parseSbatchParsable>][] = [
    [cap("sbatch_parsable.txt"), { jobId: "10" }],
    [cap("sbatch_parsable_array.txt"), { jobId: "18" }],
    [cap("sbatch_after_controller_kill.txt"), { jobId: "57" }],
    ["123;cluster\n", { jobId: "123", cluster: "cluster" }],
    ["a site notice on stdout\n4567\n", { jobId: "4567" }],
    [cap("sbatch_plain.txt"), undefined], // "Submitted batch job 11": not --parsable
    [cap("sbatch_controller_down.txt"), undefined], // empty
  ];
  for (const [stdout, want] of cases) assertEquals(parseSbatchParsable(stdout), want, stdout);
});

Deno.test("classifySlurmState maps every SLURM state, long and compact", () => {
  const cases: [string, string, JobState][] = [
    ["PENDING", "", "pending"],
    ["PENDING", "DependencyNeverSatisfied", "pending"], // the monitor decides "blocked"
    ["PENDING", "JobHeldUser", "pending"],
    ["PENDING", "BeginTime", "pending"],
    ["PD", "", "pending"],
    ["RESV_DEL_HOLD", "", "pending"],
    ["RUNNING", "None", "running"],
    ["R", "", "running"],
    ["COMPLETING", "", "running"],
    ["CONFIGURING", "", "running"],
    ["STAGE_OUT", "", "running"],
    ["SIGNALING", "", "running"],
    ["RESIZING", "", "running"],
    ["SUSPENDED", "", "suspended"],
    ["STOPPED", "", "suspended"],
    ["COMPLETED", "None", "completed"],
    ["CD", "", "completed"],
    ["FAILED", "NonZeroExitCode", "failed"],
    ["FAILED", "OutOfMemory", "out_of_memory"],
    ["DEADLINE", "", "failed"],
    ["SPECIAL_EXIT", "", "failed"],
    ["TIMEOUT", "TimeLimit", "timeout"],
    ["TO", "", "timeout"],
    ["OUT_OF_MEMORY", "", "out_of_memory"],
    ["OOM", "", "out_of_memory"],
    ["NODE_FAIL", "NodeDown", "node_fail"],
    ["BOOT_FAIL", "", "node_fail"],
    ["PREEMPTED", "", "preempted"],
    ["CANCELLED", "", "cancelled"],
    ["CANCELLED by 0", "", "cancelled"], // sacct names the uid
    ["CANCELLED by 12345", "", "cancelled"],
    ["CANCELLED+", "", "cancelled"], // sacct without --parsable2 truncates with "+"
    ["CA", "", "cancelled"],
    ["REVOKED", "", "cancelled"],
    ["REQUEUED", "", "requeued"],
    ["REQUEUE_HOLD", "", "requeued"],
    ["REQUEUE_FED", "", "requeued"],
    [" running ", "", "running"],
    ["SOMETHING_NEW", "", "unknown"],
    ["", "", "unknown"],
  ];
  for (const [raw, reason, want] of cases) {
    assertEquals(classifySlurmState(raw, reason), want, `${raw} / ${reason}`);
  }
});

Deno.test("expandArrayTasks expands ranges, steps and lists, ignores the throttle", () => {
  const cases: [string, number[] | undefined][] = [
    ["2-3%2", [2, 3]],
    ["2-4,7%2", [2, 3, 4, 7]],
    ["[2-4,7%2]", [2, 3, 4, 7]],
    ["1-9:2%1", [1, 3, 5, 7, 9]],
    ["0-3", [0, 1, 2, 3]],
    ["7", [7]],
    ["1-2,4,8", [1, 2, 4, 8]],
    ["1-2,4,8,16,32,64,128,256,512,1000-1001,1003,1005,1010,1020,1...", undefined], // cut short
    ["", undefined],
    ["5-3", undefined],
    ["a-b", undefined],
  ];
  for (const [expr, want] of cases) assertEquals(expandArrayTasks(expr), want, expr);
  assertEquals(expandArrayTasks("0-9999%25")?.length, 10000);
});

// ---------------------------------------------------------------------------------------------
// squeue: the README's captures (--format %i|%A|... and --Format ...:|)

Deno.test("parseSqueue: pending reasons and running jobs (README format)", () => {
  const jobs = parseSqueue(cap("squeue_format_pending_running.txt"), README_SQF);
  assertEquals(jobs.map(brief), [
    { id: "14", jobId: "14", state: "pending", reason: "DependencyNeverSatisfied" },
    { id: "16", jobId: "16", state: "pending", reason: "Dependency" },
    { id: "17", jobId: "17", state: "pending", reason: "BeginTime" },
    { id: "13", jobId: "13", state: "pending", reason: "JobHeldUser" },
    { id: "15", jobId: "15", state: "running", reason: "None" },
  ]);
  assertEquals(jobs[0].comment, "autoexp:test:run1");
  assertEquals(jobs[0].name, "ae-dep-on-failed");
  assertEquals(jobs[0].source, "squeue");
});

Deno.test("parseSqueue: --Format with ':|' suffixes reads like --format", () => {
  const pairs: [string, string][] = [
    ["squeue_Format_pending_running.txt", "squeue_format_pending_running.txt"],
    ["squeue_Format_array_throttled.txt", "squeue_format_array_throttled.txt"],
    ["squeue_Format_array_done.txt", "squeue_format_array_done.txt"],
  ];
  for (const [o, f] of pairs) {
    assertEquals(
      parseSqueue(cap(o), README_SQO).map(brief),
      parseSqueue(cap(f), README_SQF).map(brief),
      o,
    );
  }
});

Deno.test("parseSqueue: arrays, README captures", () => {
  const cases: { file: string; want: ReturnType<typeof brief>[]; pending?: number[] }[] = [
    {
      file: "squeue_format_array_throttled.txt",
      want: [
        {
          id: "18_[2-3%2]",
          jobId: "18",
          state: "pending",
          reason: "JobArrayTaskLimit",
          arrayJobId: "18",
        },
        {
          id: "18_1",
          jobId: "20",
          state: "running",
          reason: "None",
          arrayJobId: "18",
          arrayTaskId: 1,
        },
        {
          id: "18_0",
          jobId: "19",
          state: "running",
          reason: "None",
          arrayJobId: "18",
          arrayTaskId: 0,
        },
      ],
      pending: [2, 3],
    },
    {
      file: "squeue_format_array_held.txt",
      want: [
        {
          id: "21_[2-4,7%2]",
          jobId: "21",
          state: "pending",
          reason: "JobHeldUser",
          arrayJobId: "21",
        },
      ],
      pending: [2, 3, 4, 7],
    },
    {
      file: "squeue_format_array_task_cancelled.txt",
      want: [
        {
          id: "27_[2-4%2]",
          jobId: "27",
          state: "pending",
          reason: "JobHeldUser",
          arrayJobId: "27",
        },
      ],
      pending: [2, 3, 4],
    },
    {
      // the last task (18_3) reuses the array's own job id
      file: "squeue_format_array_done.txt",
      want: [
        {
          id: "18_3",
          jobId: "18",
          state: "completed",
          reason: "None",
          arrayJobId: "18",
          arrayTaskId: 3,
        },
        {
          id: "18_2",
          jobId: "25",
          state: "completed",
          reason: "None",
          arrayJobId: "18",
          arrayTaskId: 2,
        },
        {
          id: "18_1",
          jobId: "20",
          state: "completed",
          reason: "None",
          arrayJobId: "18",
          arrayTaskId: 1,
        },
        {
          id: "18_0",
          jobId: "19",
          state: "completed",
          reason: "None",
          arrayJobId: "18",
          arrayTaskId: 0,
        },
      ],
    },
    {
      file: "squeue_format_array_throttled_expanded.txt",
      want: [
        {
          id: "18_2",
          jobId: "18",
          state: "pending",
          reason: "JobArrayTaskLimit",
          arrayJobId: "18",
          arrayTaskId: 2,
        },
        {
          id: "18_3",
          jobId: "18",
          state: "pending",
          reason: "JobArrayTaskLimit",
          arrayJobId: "18",
          arrayTaskId: 3,
        },
        {
          id: "18_1",
          jobId: "20",
          state: "running",
          reason: "None",
          arrayJobId: "18",
          arrayTaskId: 1,
        },
        {
          id: "18_0",
          jobId: "19",
          state: "running",
          reason: "None",
          arrayJobId: "18",
          arrayTaskId: 0,
        },
      ],
    },
    {
      file: "squeue_format_array_all_cancelled.txt",
      want: [2, 3, 4].map((t) => ({
        id: `27_${t}`,
        jobId: "27",
        state: "cancelled" as const,
        reason: "JobHeldUser",
        arrayJobId: "27",
        arrayTaskId: t,
      })),
    },
    {
      file: "squeue_format_array_pending_acct.txt",
      want: [
        {
          id: "41_[1-5%1]",
          jobId: "41",
          state: "pending",
          reason: "JobArrayTaskLimit",
          arrayJobId: "41",
        },
        { id: "42", jobId: "42", state: "pending", reason: "JobHeldUser" },
        {
          id: "41_0",
          jobId: "43",
          state: "running",
          reason: "None",
          arrayJobId: "41",
          arrayTaskId: 0,
        },
      ],
      pending: [1, 2, 3, 4, 5],
    },
  ];
  for (const c of cases) {
    const jobs = parseSqueue(cap(c.file), README_SQF);
    assertEquals(jobs.map(brief), c.want, c.file);
    if (c.pending) assertEquals(jobs[0].pendingTasks, c.pending, c.file);
  }
});

Deno.test("parseSqueue: final states and odd reasons (README format)", () => {
  const cases: [string, string, JobState, string][] = [
    ["squeue_format_completed.txt", "10", "completed", "None"],
    ["squeue_format_failed.txt", "12", "failed", "NonZeroExitCode"],
    ["squeue_format_cancelled_pending.txt", "13", "cancelled", "JobHeldUser"],
    ["squeue_format_timeout.txt", "9", "timeout", "TimeLimit"],
    ["squeue_format_timeout_acct.txt", "44", "timeout", "TimeLimit"],
    ["squeue_format_node_fail.txt", "40", "node_fail", "NodeDown"],
    ["squeue_format_requeued.txt", "26", "pending", "BeginTime"],
    // a reason with a comma and a space inside
    ["squeue_after_controller_kill.txt", "56", "pending", "ReqNodeNotAvail, UnavailableNodes:vm"],
  ];
  for (const [file, id, state, reason] of cases) {
    const o = byId(parseSqueue(cap(file), README_SQF), id);
    assertEquals([o.state, o.reason], [state, reason], file);
    // the README format has no exit_code column
    assertEquals(o.exitCode, undefined, file);
  }
  const both = parseSqueue(cap("squeue_format_cancelled_running.txt"), README_SQF);
  assertEquals(both.map((o) => [o.id, o.state, o.reason]), [
    ["15", "cancelled", "None"],
    ["16", "pending", "DependencyNeverSatisfied"],
  ]);
});

Deno.test("parseSqueue: empty output (finished job, default states; unknown id)", () => {
  for (const f of ["squeue_format_completed_default_states.txt", "squeue_unknown_job.txt"]) {
    assertEquals(parseSqueue(cap(f), README_SQF), [], f);
  }
  assertEquals(parseSqueue(""), []);
});

// ---------------------------------------------------------------------------------------------
// squeue: autoexp's own format (captures squeue_O_*)

Deno.test("parseSqueue (autoexp format): exit codes from the wait status, starts, restarts", () => {
  const mixed = parseSqueue(cap("squeue_O_mixed.txt"));
  const exit7 = byId(mixed, "17");
  assertEquals(brief(exit7), {
    id: "17",
    jobId: "17",
    state: "failed",
    reason: "NonZeroExitCode",
    exitCode: 7, // exit_code 1792 = 7 << 8
    signal: 0,
  });
  assertEquals([exit7.start, exit7.end, exit7.nodeList], [
    "2026-11-22T21:49:29",
    "2026-11-22T21:49:30",
    "vm",
  ]);
  const begin = byId(mixed, "16"); // pending with an estimated start time: not a start
  assertEquals([begin.state, begin.reason, begin.start, begin.end], [
    "pending",
    "BeginTime",
    undefined,
    undefined,
  ]);
  const dep = byId(mixed, "18");
  assertEquals([dep.state, dep.reason], ["pending", "DependencyNeverSatisfied"]);
  const running = byId(mixed, "19"); // no end time while running
  assertEquals([running.state, running.start, running.end, running.exitCode], [
    "running",
    "2026-11-22T21:49:29",
    undefined,
    undefined,
  ]);

  const after = parseSqueue(cap("squeue_O_after_actions.txt"));
  assertEquals(brief(byId(after, "19")), {
    id: "19",
    jobId: "19",
    state: "cancelled",
    reason: "None",
    exitCode: 0,
    signal: 15, // exit_code 15: killed by SIGTERM
  });
  const cancelledPending = byId(after, "16"); // squeue shows the cancel time as "start"
  assertEquals([cancelledPending.state, cancelledPending.start, cancelledPending.end], [
    "cancelled",
    undefined,
    "2026-11-22T21:49:52",
  ]);
  const requeued = byId(after, "28");
  assertEquals([requeued.state, requeued.reason, requeued.restarts], ["pending", "BeginTime", 1]);
  assertEquals(byId(after, "18").reason, "JobHeldAdmin"); // held by root

  for (const f of ["squeue_O_timeout.txt", "squeue_O_timeout_acct.txt"]) {
    const [t] = parseSqueue(cap(f));
    assertEquals([t.state, t.reason, t.exitCode, t.signal], ["timeout", "TimeLimit", 0, 15], f);
  }
});

Deno.test("parseSqueue (autoexp format): '|' inside the comment and inside the name", () => {
  const mixed = parseSqueue(cap("squeue_O_mixed.txt"));
  const task = byId(mixed, "20_5"); // the last task reuses the array id
  assertEquals([task.jobId, task.arrayJobId, task.arrayTaskId, task.state], [
    "20",
    "20",
    5,
    "running",
  ]);
  assertEquals(task.comment, "autoexp:cap:array|pipe in comment");
  const named = byId(mixed, "22");
  assertEquals([named.name, named.state, named.reason, named.comment], [
    "ae-cap|pipe-name",
    "pending",
    "JobHeldUser",
    "autoexp:cap:pipename",
  ]);
  const comment = parseSqueue(cap("squeue_O_me.txt")).find((o) => o.jobId === "10");
  assertEquals(
    comment?.comment,
    "autoexp:probe:run1|with pipe and a very long comment text that goes beyond twenty chars",
  );
  assertEquals(comment?.name, "ae|probe name"); // both at once
  assertEquals(comment?.state, "cancelled");
});

Deno.test("parseSqueue (autoexp format): long and stepped array expressions", () => {
  const sparse = byId(
    parseSqueue(cap("squeue_O_mixed.txt")),
    "21_[1-2,4,8,16,32,64,128,256,512,1000-1001,1003,1005,1010,1020,1040,1080,1160,1320,1640,2280,3560,6120,9999]",
  );
  assertEquals(sparse.pendingTasks?.length, 25);
  assertEquals(sparse.pendingTasks?.slice(0, 4), [1, 2, 4, 8]);
  assertEquals(sparse.pendingTasks?.at(-1), 9999);
  // without SLURM_BITSTR_LEN=0 squeue cuts the expression at 64 bytes: tasks unknown
  const [cut] = parseSqueue(cap("squeue_O_sparse_bitstr_default.txt"));
  assertEquals([cut.state, cut.arrayJobId, cut.pendingTasks], ["pending", "21", undefined]);
  // a stepped, cancelled, never started array: one observation per task
  const stepped = parseSqueue(cap("squeue_O_me.txt")).filter((o) => o.arrayJobId === "10");
  assertEquals(stepped.map((o) => o.arrayTaskId), [
    1,
    3,
    5,
    7,
    9,
    11,
    13,
    15,
    17,
    19,
    21,
    23,
    25,
    27,
    29,
    31,
    33,
    35,
    37,
    39,
    41,
    43,
    45,
    47,
    49,
  ]);
  const throttled = parseSqueue(cap("squeue_O_after_actions.txt")).find((o) =>
    o.arrayJobId === "29" && o.pendingTasks
  );
  assertEquals(throttled?.pendingTasks, [2, 3, 4, 5, 6, 7, 8, 9]);
});

Deno.test("parseSqueue (autoexp format): an array cancelled while throttled", () => {
  const jobs = parseSqueue(cap("squeue_O_array_cancelled.txt"));
  assertEquals(jobs.map((o) => [o.id, o.jobId, o.state, o.signal ?? null, o.start ?? null]), [
    ["29_4", "29", "cancelled", 0, null],
    ["29_5", "29", "cancelled", 0, null],
    ["29_6", "29", "cancelled", 0, null],
    ["29_7", "29", "cancelled", 0, null],
    ["29_8", "29", "cancelled", 0, null],
    ["29_9", "29", "cancelled", 0, null],
    ["29_3", "33", "cancelled", 15, "2026-11-22T21:50:10"],
    ["29_2", "32", "cancelled", 15, "2026-11-22T21:50:10"],
    ["29_1", "31", "completed", 0, "2026-11-22T21:49:50"],
    ["29_0", "30", "completed", 0, "2026-11-22T21:49:50"],
  ]);
});

Deno.test("parseSqueue: a line that does not fit the layout is an error", () => {
  assertThrows(() => parseSqueue("12|12|FAILED|\n"), (e) => {
    assert_(e instanceof SlurmParseError);
    assert_(e.message.includes("12|12|FAILED|"));
  });
  // the autoexp layout ends every field with "|"
  assertThrows(() => parseSqueue(cap("squeue_format_failed.txt")));
});

// ---------------------------------------------------------------------------------------------
// sacct

Deno.test("parseSacct: final states and exit codes (README format), steps skipped", () => {
  const cases: [string, string, JobState, string, number | undefined, number | undefined][] = [
    ["sacct_completed.txt", "30", "completed", "COMPLETED", 0, 0],
    ["sacct_failed_exit7.txt", "31", "failed", "FAILED", 7, 0],
    ["sacct_with_header.txt", "31", "failed", "FAILED", 7, 0],
    ["sacct_cancelled.txt", "32", "cancelled", "CANCELLED by 0", 0, 0],
    ["sacct_cancelled.txt", "33", "cancelled", "CANCELLED by 0", 0, 0],
    ["sacct_node_fail.txt", "40", "node_fail", "NODE_FAIL", 0, 0],
    ["sacct_timeout.txt", "44", "timeout", "TIMEOUT", 0, 0],
    ["sacct_all_recent.txt", "9", "timeout", "TIMEOUT", 0, 15],
    ["sacct_requeued.txt", "39", "requeued", "REQUEUED", undefined, undefined],
    ["sacct_dependency_never.txt", "37", "pending", "PENDING", undefined, undefined],
  ];
  for (const [file, id, state, raw, exitCode, signal] of cases) {
    const jobs = parseSacct(cap(file), README_SAF);
    assert_(jobs.every((o) => !o.id.includes(".")), `${file}: a step line was kept`);
    const o = byId(jobs, id);
    assertEquals([o.state, o.rawState, o.exitCode, o.signal], [state, raw, exitCode, signal], file);
    assertEquals(o.source, "sacct");
  }
  const dep = byId(parseSacct(cap("sacct_dependency_never.txt"), README_SAF), "37");
  assertEquals([dep.reason, dep.start, dep.nodeList, dep.comment], [
    "DependencyNeverSatisfied",
    undefined, // "Unknown"
    undefined, // "None assigned"
    undefined, // sacct shows the comment only once the job has ended
  ]);
  const held = byId(parseSacct(cap("sacct_cancelled.txt"), README_SAF), "32");
  assertEquals([held.start, held.end, held.comment], [
    undefined, // "None"
    "2026-11-22T21:28:07",
    "autoexp:test:run1",
  ]);
  assertEquals(parseSacct(cap("sacct_unknown_job.txt"), README_SAF), []);
  assertEquals(parseSacct(cap("sacct_accounting_disabled.txt"), README_SAF), []);
});

Deno.test("parseSacct: arrays (README format)", () => {
  const done = parseSacct(cap("sacct_array_done.txt"), README_SAF);
  assertEquals(done.map(brief), [
    {
      id: "34_0",
      jobId: "35",
      state: "completed",
      reason: "None",
      arrayJobId: "34",
      arrayTaskId: 0,
      exitCode: 0,
      signal: 0,
    },
    {
      id: "34_1",
      jobId: "36",
      state: "completed",
      reason: "None",
      arrayJobId: "34",
      arrayTaskId: 1,
      exitCode: 0,
      signal: 0,
    },
    {
      id: "34_2",
      jobId: "38",
      state: "completed",
      reason: "JobArrayTaskLimit",
      arrayJobId: "34",
      arrayTaskId: 2,
      exitCode: 0,
      signal: 0,
    },
    {
      id: "34_3",
      jobId: "34",
      state: "completed",
      reason: "JobArrayTaskLimit",
      arrayJobId: "34",
      arrayTaskId: 3,
      exitCode: 0,
      signal: 0,
    },
  ]);
  assertEquals(
    parseSacct(cap("sacct_array_done_allocations.txt"), README_SAF).map(brief),
    done.map(brief),
  );
  assertEquals(parseSacct(cap("sacct_array_task.txt"), README_SAF).map((o) => o.id), ["34_2"]);
  const pending = parseSacct(cap("sacct_array_pending.txt"), README_SAF);
  assertEquals(pending.map((o) => [o.id, o.jobId, o.state]), [
    ["42", "42", "pending"],
    ["41_0", "43", "running"],
    ["41_[1-5%1]", "41", "pending"],
  ]);
  assertEquals(byId(pending, "41_[1-5%1]").pendingTasks, [1, 2, 3, 4, 5]);
  assertEquals(byId(pending, "41_[1-5%1]").arrayJobId, "41");
  const down = parseSacct(cap("sacct_controller_down.txt"), README_SAF);
  assertEquals(byId(down, "54_[1-3%1]").pendingTasks, [1, 2, 3]);
});

Deno.test("parseSacct (autoexp format): comment last may hold '|'; steps skipped", () => {
  const mixed = parseSacct(cap("sacct_X_mixed.txt"));
  const exit7 = byId(mixed, "35");
  assertEquals([exit7.state, exit7.exitCode, exit7.signal, exit7.comment], [
    "failed",
    7,
    0,
    "autoexp:acct:exit7|pipe",
  ]);
  assertEquals(byId(mixed, "36").reason, "DependencyNeverSatisfied");
  assertEquals(byId(mixed, "38_[4-5%2]").pendingTasks, [4, 5]);
  assertEquals(
    mixed.find((o) => o.jobId === "39")?.pendingTasks?.length,
    25,
  );
  assertEquals(mixed.some((o) => o.id === "999999"), false);
  const steps = parseSacct(cap("sacct_mixed_steps.txt"));
  assertEquals(steps.map((o) => o.id), ["35", "37", "38_0", "38_1", "38_2", "38_3", "38_5"]);
  assertEquals(byId(steps, "38_5").jobId, "38");
  const [cut] = parseSacct(cap("sacct_X_sparse_bitstr_default.txt"));
  assertEquals([cut.jobId, cut.state, cut.pendingTasks], ["39", "pending", undefined]);
});

Deno.test("parseSacct (autoexp format): cancelled, requeued, timeout, duplicates", () => {
  const after = parseSacct(cap("sacct_X_after_actions.txt"));
  assertEquals(byId(after, "34").rawState, "CANCELLED by 0");
  assertEquals(byId(after, "37").state, "cancelled");
  assertEquals(byId(after, "46").state, "requeued");
  // a held array cancelled before any task ran: one observation per task
  const sparse = after.filter((o) => o.arrayJobId === "39");
  assertEquals(sparse.length, 25);
  assert_(sparse.every((o) => o.state === "cancelled" && o.jobId === "39"));
  const [timeout] = parseSacct(cap("sacct_X_timeout.txt"));
  assertEquals([timeout.state, timeout.exitCode, timeout.signal], ["timeout", 0, 0]);
  // --duplicates: the requeued run and the current record; the last one wins
  const dup = parseSacct(cap("sacct_X_requeued_cancelled_duplicates.txt"));
  assertEquals(dup.map((o) => [o.id, o.rawState]), [["46", "CANCELLED by 0"]]);
});

Deno.test("parseSacct: documented forms not captured here (OOM, preemption, truncation)", () => {
  // sacct --parsable2 lines as SLURM prints them for states the test cluster cannot produce.
  const text = [
    "70|70|oom|OUT_OF_MEMORY|0:125|None|2026-01-01T00:00:00|2026-01-01T00:01:00|n1|c",
    "70.batch|70.batch|batch|OUT_OF_MEMORY|0:125||2026-01-01T00:00:00|2026-01-01T00:01:00|n1|",
    "70.extern|70.extern|extern|COMPLETED|0:0||2026-01-01T00:00:00|2026-01-01T00:01:00|n1|",
    "70.0|70.0|python|OUT_OF_MEMORY|0:125||2026-01-01T00:00:00|2026-01-01T00:01:00|n1|",
    "71|71|pre|PREEMPTED|0:0|None|2026-01-01T00:00:00|2026-01-01T00:01:00|n1|c",
    "72|72|nf|NODE_FAIL|1:0|None|2026-01-01T00:00:00|2026-01-01T00:01:00|n[1-2]|c",
    "73|73|tr|CANCELLED+|0:0|None|2026-01-01T00:00:00|2026-01-01T00:01:00|n1|c",
    "74|74|dl|DEADLINE|0:0|None|None|2026-01-01T00:01:00|None assigned|c",
    "75+0|75+0|het|COMPLETED|0:0|None|2026-01-01T00:00:00|2026-01-01T00:01:00|n1|c",
    "75+0.batch|75+0.batch|batch|COMPLETED|0:0||2026-01-01T00:00:00|2026-01-01T00:01:00|n1|",
  ].join("\n");
  assertEquals(parseSacct(text).map((o) => [o.id, o.state, o.exitCode, o.signal]), [
    ["70", "out_of_memory", 0, 125],
    ["71", "preempted", 0, 0],
    ["72", "node_fail", 1, 0],
    ["73", "cancelled", 0, 0],
    ["74", "failed", 0, 0],
    ["75+0", "completed", 0, 0],
  ]);
  assertEquals(byId(parseSacct(text), "72").nodeList, "n[1-2]");
});

// ---------------------------------------------------------------------------------------------
// Errors

Deno.test("isTransientSlurmError: captured and documented stderr", () => {
  const cases: [string, string, boolean][] = [
    ["captured", cap("sbatch_controller_down.stderr.txt"), true],
    ["captured", cap("squeue_controller_down.stderr.txt"), true],
    ["captured", cap("scancel_controller_down.stderr.txt"), true],
    ["captured", cap("sinfo_controller_down.stderr.txt"), true],
    ["captured", cap("scontrol_show_job_controller_down.stderr.txt"), true],
    ["captured", cap("sbatch_invalid_partition.stderr.txt"), false],
    ["captured", cap("sbatch_unrecognized_option.stderr.txt"), false],
    ["captured", cap("sbatch_no_shebang.stderr.txt"), false],
    ["captured", cap("sbatch_missing_script.stderr.txt"), false],
    ["captured", cap("sbatch_invalid_array.stderr.txt"), false],
    ["captured", cap("sbatch_invalid_time.stderr.txt"), false],
    ["captured", cap("sacct_accounting_disabled.stderr.txt"), false],
    ["captured", cap("squeue_unknown_job.stderr.txt"), false],
    ["captured", cap("scontrol_requeue_pending.stderr.txt"), false],
    ["captured", cap("scontrol_update_badkey.stderr.txt"), false],
    [
      "doc",
      "sbatch: error: Batch job submission failed: Socket timed out on send/recv operation",
      true,
    ],
    ["doc", "squeue: error: slurm_receive_msg: Socket timed out on send/recv operation", true],
    ["doc", "sbatch: error: Slurm temporarily unable to accept job, sleeping and retrying", true],
    ["doc", "sbatch: error: Batch job submission failed: Resource temporarily unavailable", true],
    ["doc", "sbatch: error: fork: Resource temporarily unavailable", true],
    ["doc", "sbatch: error: Unable to fork: Cannot allocate memory", true],
    [
      "doc",
      "sbatch: error: Batch job submission failed: Zero Bytes were transmitted or received",
      true,
    ],
    [
      "doc",
      "sbatch: error: AssocMaxSubmitJobLimit\nsbatch: error: Batch job submission failed: Job violates accounting/QOS policy (job submit limit, user's size and/or time limits)",
      true,
    ],
    [
      "doc",
      "sbatch: error: QOSMaxSubmitJobPerUserLimit\nsbatch: error: Batch job submission failed: Job violates accounting/QOS policy (job submit limit, user's size and/or time limits)",
      true,
    ],
    [
      "doc",
      "sbatch: error: Batch job submission failed: Job violates accounting/QOS policy (job submit limit, user's size and/or time limits)",
      true,
    ],
    [
      "doc",
      "sbatch: error: QOSMaxWallDurationPerJobLimit\nsbatch: error: Batch job submission failed: Job violates accounting/QOS policy (job submit limit, user's size and/or time limits)",
      false,
    ],
    ["doc", "sacct: error: Problem talking to the database: Connection refused", true],
    [
      "doc",
      "sbatch: error: Batch job submission failed: Invalid account or account/partition combination specified",
      false,
    ],
    ["doc", "sbatch: error: Batch job submission failed: Invalid qos specification", false],
    [
      "doc",
      "sbatch: error: Batch job submission failed: Requested node configuration is not available",
      false,
    ],
    ["doc", "sbatch: error: Batch script contains DOS line breaks (\\r\\n)", false],
    ["doc", "something nobody has seen before", false],
    ["doc", "", false],
  ];
  for (const [kind, stderr, want] of cases) {
    assertEquals(isTransientSlurmError(stderr), want, `${kind}: ${stderr}`);
  }
});

Deno.test("summarizeSlurmError says why in a few words", () => {
  const cases: [string, string][] = [
    [cap("sbatch_controller_down.stderr.txt"), "slurmctld did not answer"],
    [
      "sbatch: error: Batch job submission failed: Socket timed out on send/recv operation",
      "slurmctld did not answer",
    ],
    ["sbatch: error: AssocMaxSubmitJobLimit", "the job submit limit is reached"],
    [
      "sbatch: error: Batch job submission failed: Resource temporarily unavailable",
      "slurmctld is busy",
    ],
    [
      "sacct: error: Problem talking to the database: Connection refused",
      "slurmdbd did not answer",
    ],
    [
      cap("sbatch_invalid_partition.stderr.txt"),
      "sbatch: error: Batch job submission failed: Invalid partition name specified",
    ],
  ];
  for (const [stderr, want] of cases) assertEquals(summarizeSlurmError(stderr), want, stderr);
});

Deno.test("isAlreadyGoneError recognises scancel's 'already gone' messages", () => {
  const cases: [string, boolean][] = [
    ["scancel: error: Kill job error on job id 999999: Invalid job id specified", true],
    ["scancel: error: Kill job error on job id 12: Job/step already completing or completed", true],
    [cap("scancel_controller_down.stderr.txt").trim(), false],
  ];
  for (const [line, want] of cases) assertEquals(isAlreadyGoneError(line), want, line);
});

// ---------------------------------------------------------------------------------------------
// Configuration

Deno.test("parseScontrolConfig reads the limits autoexp needs", () => {
  const none = parseScontrolConfig(cap("scontrol_show_config.txt"));
  assertEquals(
    [none.maxArraySize, none.maxJobCount, none.minJobAgeSeconds, none.messageTimeoutSeconds],
    [10001, 20000, 600, 10],
  );
  assertEquals(none.accountingStorageType, "accounting_storage/none");
  assertEquals(none.version, "22.05.8");
  assertEquals(none.values["SlurmctldHost[0]"], "vm(127.0.0.1)");
  assertEquals(none.values["PowerPlugin"], "");
  const acct = parseScontrolConfig(cap("scontrol_show_config_acct.txt"));
  assertEquals(acct.accountingStorageType, "accounting_storage/slurmdbd");
  assertEquals(acct.values["AccountingStoreFlags"], "job_comment");
  const empty = parseScontrolConfig("");
  assertEquals([empty.maxArraySize, empty.accountingStorageType], [undefined, undefined]);
});

Deno.test("parseSacctmgrSubmitLimit takes the strictest association limit", () => {
  assertEquals(parseSacctmgrSubmitLimit(cap("sacctmgr_show_assoc.txt")), undefined);
  assertEquals(parseSacctmgrSubmitLimit("c|a|alice||100|\nc|b|alice|gpu|50|200\n"), 50);
  assertEquals(parseSacctmgrSubmitLimit("c|a|alice|||30\n"), 30);
  assertEquals(parseSacctmgrSubmitLimit(""), undefined);
});

Deno.test("the README's %-format and --Format name the same fields", () => {
  const letters: Record<string, string> = {
    i: "JobArrayID",
    A: "JobID",
    F: "ArrayJobID",
    K: "ArrayTaskID",
    j: "Name",
    T: "State",
    r: "Reason",
    M: "TimeUsed",
    l: "TimeLimit",
    D: "NumNodes",
    k: "Comment",
  };
  assertEquals(README.squeue_format.split("|").map((f) => letters[f.slice(1)]), README_SQF.fields);
});

Deno.test("the captures of the adapter's formats were made with exactly these formats", async () => {
  const index = (JSON.parse(await Deno.readTextFile(`${DATA}/index_adapter.json`)) as {
    captures: { name: string; command: string }[];
  }).captures;
  const squeue = index.filter((e) => e.name.startsWith("squeue_O_"));
  const sacct = index.filter((e) =>
    e.name.startsWith("sacct_X_") || e.name === "sacct_mixed_steps"
  );
  assert_(squeue.length > 0 && sacct.length > 0);
  for (const e of squeue) assert_(e.command.includes(`--Format='${renderSqueueFormat()}'`), e.name);
  for (const e of sacct) assert_(e.command.includes(`--format=${renderSacctFormat()}`), e.name);
});

Deno.test("sbatchRejection names the setting sbatch refused, and nothing for faults", () => {
  const cases: [string, string | null][] = [
    [
      "sbatch: error: Batch job submission failed: Invalid partition name specified",
      "slurm.sbatch.partition",
    ],
    [
      "sbatch: error: Batch job submission failed: Invalid account or account/partition combination specified",
      "slurm.sbatch.account",
    ],
    ["sbatch: error: Batch job submission failed: Invalid qos specification", "slurm.sbatch.qos"],
    [
      "sbatch: error: Batch job submission failed: Requested time limit is invalid (missing or exceeds some limit)",
      "slurm.sbatch.time",
    ],
    [
      "sbatch: error: Batch job submission failed: Invalid generic resource (gres) specification",
      "slurm.sbatch.gres",
    ],
    [
      "sbatch: error: Batch job submission failed: Requested node configuration is not available",
      "slurm.sbatch",
    ],
    ["sbatch: error: Batch job submission failed: Socket timed out on send/recv operation", null],
    [
      "sbatch: error: Batch job submission failed: Unable to contact slurm controller (connect failure)",
      null,
    ],
  ];
  for (const [stderr, key] of cases) {
    assertEquals(sbatchRejection(stderr)?.key ?? null, key, stderr);
  }
});

Deno.test("parseSqueue: a reply cut mid-line is unreadable as a whole, never read as fewer jobs", () => {
  const lines = cap("squeue_O_mixed.txt").split("\n").filter(Boolean);
  const last = lines.at(-1)!;
  for (const frac of [0.1, 0.3, 0.5, 0.7, 0.9]) {
    const cut = [...lines.slice(0, -1), last.slice(0, Math.floor(last.length * frac))].join("\n");
    const e = assertThrows(() => parseSqueue(cut));
    assert_(e instanceof SlurmParseError, String(e));
  }
});
