/** Attempt lifecycle: every state, the precedence rules, missing jobs, stalls with noise. */
import { assert_, assertEquals } from "../_assert.ts";
import type { JobObservation, JobState } from "../../lib/scheduler/types.ts";
import type { EventKind, EventMatch } from "../../lib/monitoring/events.ts";
import {
  type AttemptState,
  classifyAttempt,
  type ClassifyInput,
  type EndMarker,
  type FailureMode,
  failureMode,
  noteActivity,
} from "../../lib/monitor/lifecycle.ts";

const T0 = Date.parse("2025-01-01T00:00:00Z");
const MIN = 60_000;

function obs(
  state: JobState,
  rawState: string,
  extra: Partial<JobObservation> = {},
): JobObservation {
  return {
    id: "123",
    jobId: "123",
    name: "run",
    state,
    rawState,
    reason: "None",
    source: "sacct",
    ...extra,
  };
}

const ok: EndMarker = { state: "completed", exit_code: 0, signal: null };
const crash = (code: number, endedAt?: number): EndMarker => ({
  state: "failed",
  exit_code: code,
  signal: null,
  ...(endedAt !== undefined ? { ended_at: new Date(endedAt).toISOString() } : {}),
});

function input(over: Partial<ClassifyInput>): ClassifyInput {
  return {
    observation: null,
    marker: null,
    logKinds: [],
    lastActivityAt: null,
    now: T0 + 60 * MIN,
    inactivityThresholdMs: 30 * MIN,
    missingRounds: 0,
    ...over,
  };
}

interface Case {
  name: string;
  in: Partial<ClassifyInput>;
  state: AttemptState;
  final: boolean;
  exitCode?: number;
  reason?: RegExp;
}

const CASES: Case[] = [
  // queued
  {
    name: "pending",
    in: { observation: obs("pending", "PENDING") },
    state: "pending",
    final: false,
  },
  {
    name: "requeued is pending",
    in: { observation: obs("requeued", "REQUEUED"), marker: crash(143) },
    state: "pending",
    final: false,
    reason: /requeued/,
  },
  {
    name: "pending on DependencyNeverSatisfied is blocked",
    in: { observation: obs("pending", "PENDING", { reason: "DependencyNeverSatisfied" }) },
    state: "blocked",
    final: true,
  },
  {
    name: "local DependencyNeverSatisfied (cancelled) is blocked",
    in: {
      observation: obs("cancelled", "CANCELLED", {
        reason: "DependencyNeverSatisfied",
        source: "local",
      }),
    },
    state: "blocked",
    final: true,
  },
  // running and stalls
  {
    name: "running with recent progress",
    in: { observation: obs("running", "RUNNING"), lastActivityAt: T0 + 50 * MIN },
    state: "running",
    final: false,
  },
  {
    name: "running without progress for the threshold is stalled",
    in: { observation: obs("running", "RUNNING"), lastActivityAt: T0 + 20 * MIN },
    state: "stalled",
    final: false,
    reason: /no progress .* 2400s \(threshold 1800s\)/,
  },
  {
    name: "no output since start: stall measured from the observation's start",
    in: { observation: obs("running", "RUNNING", { start: "2025-01-01T00:10:00Z" }) },
    state: "stalled",
    final: false,
    reason: /since it started/,
  },
  {
    name: "threshold 0 never stalls",
    in: {
      observation: obs("running", "RUNNING"),
      lastActivityAt: T0,
      inactivityThresholdMs: 0,
    },
    state: "running",
    final: false,
  },
  {
    name: "COMPLETING counts as running",
    in: { observation: obs("running", "COMPLETING"), lastActivityAt: T0 + 59 * MIN },
    state: "running",
    final: false,
  },
  {
    name: "suspended is pending, not stalled",
    in: { observation: obs("suspended", "SUSPENDED"), lastActivityAt: T0 },
    state: "pending",
    final: false,
  },
  // marker vs RUNNING
  {
    name: "marker says failed, SLURM RUNNING, within grace: trust SLURM",
    in: {
      observation: obs("running", "RUNNING"),
      marker: crash(1, T0 + 59 * MIN),
      lastActivityAt: T0 + 59 * MIN,
    },
    state: "running",
    final: false,
  },
  {
    name: "marker says failed, SLURM RUNNING, past grace: trust the marker",
    in: {
      observation: obs("running", "RUNNING"),
      marker: crash(1, T0 + 50 * MIN),
      lastActivityAt: T0 + 59 * MIN,
    },
    state: "failed",
    final: true,
    exitCode: 1,
  },
  {
    name: "marker without ended_at never overrules RUNNING",
    in: {
      observation: obs("running", "RUNNING"),
      marker: crash(1),
      lastActivityAt: T0 + 59 * MIN,
    },
    state: "running",
    final: false,
  },
  // terminal scheduler states
  {
    name: "COMPLETED + marker exit 0 is completed",
    in: { observation: obs("completed", "COMPLETED", { exitCode: 0 }), marker: ok },
    state: "completed",
    final: true,
    exitCode: 0,
  },
  {
    name: "COMPLETED without marker is completed",
    in: { observation: obs("completed", "COMPLETED", { exitCode: 0 }) },
    state: "completed",
    final: true,
  },
  {
    name: "COMPLETED after a forwarded USR1 without a completed line is a timeout",
    in: {
      observation: obs("completed", "COMPLETED", { exitCode: 0 }),
      marker: { ...ok, forwarded_signals: ["SIGUSR1"] },
      logKinds: ["exited", "checkpoint"],
    },
    state: "timeout",
    final: true,
  },
  {
    name: "forwarded signal but training completed: completed",
    in: {
      observation: obs("completed", "COMPLETED", { exitCode: 0 }),
      marker: { ...ok, forwarded_signals: ["SIGUSR1"] },
      logKinds: ["completed"],
    },
    state: "completed",
    final: true,
  },
  {
    name: "FAILED with exit code is failed",
    in: { observation: obs("failed", "FAILED", { exitCode: 2 }), logKinds: ["crashed"] },
    state: "failed",
    final: true,
    exitCode: 2,
    reason: /exit code 2/,
  },
  {
    name: "FAILED: marker exit code wins over the batch script's",
    in: { observation: obs("failed", "FAILED", { exitCode: 1 }), marker: crash(7) },
    state: "failed",
    final: true,
    exitCode: 7,
  },
  {
    name: "SLURM TIMEOUT beats a crash line and a failed marker",
    in: {
      observation: obs("timeout", "TIMEOUT", { exitCode: 0 }),
      marker: crash(143),
      logKinds: ["crashed", "timeout"],
    },
    state: "timeout",
    final: true,
  },
  {
    name: "SLURM OUT_OF_MEMORY",
    in: { observation: obs("out_of_memory", "OUT_OF_MEMORY", { exitCode: 0 }) },
    state: "out_of_memory",
    final: true,
  },
  {
    name: "oom log event with non-zero exit is out_of_memory",
    in: {
      observation: obs("failed", "FAILED", { exitCode: 1 }),
      marker: crash(1),
      logKinds: ["oom", "crashed"],
    },
    state: "out_of_memory",
    final: true,
    exitCode: 1,
  },
  {
    name: "nccl log event with non-zero exit is nccl_failed",
    in: {
      observation: obs("failed", "FAILED", { exitCode: 6 }),
      marker: crash(134),
      logKinds: ["nccl", "crashed"],
    },
    state: "nccl_failed",
    final: true,
    exitCode: 134,
  },
  {
    name: "oom log event with exit 0 is completed (recovered)",
    in: { observation: obs("completed", "COMPLETED", { exitCode: 0 }), logKinds: ["oom"] },
    state: "completed",
    final: true,
  },
  {
    name: "NODE_FAIL",
    in: { observation: obs("node_fail", "NODE_FAIL"), logKinds: ["crashed"] },
    state: "node_fail",
    final: true,
  },
  {
    name: "PREEMPTED",
    in: { observation: obs("preempted", "PREEMPTED") },
    state: "preempted",
    final: true,
  },
  {
    name: "CANCELLED by a user",
    in: { observation: obs("cancelled", "CANCELLED by 1000") },
    state: "cancelled",
    final: true,
    reason: /uid 1000/,
  },
  {
    name: "CANCELLED with DUE TO TIME LIMIT line is a timeout",
    in: { observation: obs("cancelled", "CANCELLED"), logKinds: ["timeout"] },
    state: "timeout",
    final: true,
  },
  {
    name: "CANCELLED with DUE TO PREEMPTION line is preempted",
    in: { observation: obs("cancelled", "CANCELLED"), logKinds: ["preempted"] },
    state: "preempted",
    final: true,
  },
  {
    name: "CANCELLED with a node failure line is node_fail",
    in: { observation: obs("cancelled", "CANCELLED"), logKinds: ["node_fail"] },
    state: "node_fail",
    final: true,
  },
  // missing from the scheduler
  {
    name: "missing without marker is unknown, never failed or timeout",
    in: { missingRounds: 5, logKinds: ["timeout", "crashed"] },
    state: "unknown",
    final: false,
    reason: /neither squeue nor sacct.*not trusted/,
  },
  {
    name: "missing with a running marker is unknown",
    in: { missingRounds: 2, marker: { state: "running" } },
    state: "unknown",
    final: false,
    reason: /still running/,
  },
  {
    name: "missing with a completed marker is completed",
    in: { missingRounds: 1, marker: ok },
    state: "completed",
    final: true,
    exitCode: 0,
  },
  {
    name: "missing with a failed marker is failed",
    in: { missingRounds: 1, marker: crash(3), logKinds: ["crashed"] },
    state: "failed",
    final: true,
    exitCode: 3,
  },
  {
    name: "missing, failed marker and a time-limit line: timeout",
    in: { missingRounds: 1, marker: { ...crash(143), signal: "SIGTERM" }, logKinds: ["timeout"] },
    state: "timeout",
    final: true,
  },
  {
    name: "missing, failed marker and an oom line: out_of_memory",
    in: { missingRounds: 1, marker: crash(1), logKinds: ["oom"] },
    state: "out_of_memory",
    final: true,
  },
  {
    name: "scheduler state unknown without marker is unknown",
    in: { observation: obs("unknown", "WEIRD") },
    state: "unknown",
    final: false,
  },
];

for (const c of CASES) {
  Deno.test(`classifyAttempt: ${c.name}`, () => {
    const v = classifyAttempt(input(c.in));
    assertEquals(
      { state: v.state, final: v.final },
      { state: c.state, final: c.final },
      `${c.name}: ${v.reason}\n${v.evidence.join("\n")}`,
    );
    if (c.exitCode !== undefined) assertEquals(v.exitCode, c.exitCode);
    if (c.reason) assert_(c.reason.test(v.reason), `reason ${JSON.stringify(v.reason)}`);
    assert_(v.evidence.length > 0);
  });
}

Deno.test("classifyAttempt: every state is reachable from the table", () => {
  const all: AttemptState[] = [
    "pending",
    "running",
    "completed",
    "failed",
    "timeout",
    "out_of_memory",
    "node_fail",
    "preempted",
    "cancelled",
    "stalled",
    "blocked",
    "unknown",
    "nccl_failed",
  ];
  assertEquals(all.filter((s) => !CASES.some((c) => c.state === s)), []);
});

Deno.test("classifyAttempt: evidence names the scheduler, the marker and the log", () => {
  const v = classifyAttempt(input({
    observation: obs("failed", "FAILED", { exitCode: 1 }),
    marker: crash(1),
    logKinds: ["oom", "oom", "crashed"],
  }));
  assertEquals(v.evidence, [
    "scheduler (sacct): FAILED, exit 1",
    "marker: failed, exit 1",
    "log events: crashed, oom",
  ]);
});

function match(progress: boolean): EventMatch {
  return {
    event: progress ? "iteration" : "srun_error",
    kind: (progress ? "progress" : "noise") as EventKind,
    line: "",
    launcher: null,
    rank: null,
    groups: {},
    metadata: {},
    identity: {},
    progress,
    action: null,
    actions: [],
  };
}

Deno.test("noteActivity: noise lines do not reset the stall clock", () => {
  let last: number | null = T0;
  // 40 minutes of periodic `srun: error:` spam only.
  for (let m = 1; m <= 40; m++) last = noteActivity(last, T0 + m * MIN, [[match(false)]]);
  assertEquals(last, T0);
  const v = classifyAttempt(input({
    observation: obs("running", "RUNNING"),
    lastActivityAt: last,
    now: T0 + 40 * MIN,
  }));
  assertEquals(v.state, "stalled");
  // An ordinary line (no match) or a progress line counts.
  assertEquals(noteActivity(T0, T0 + MIN, [[match(false)], []]), T0 + MIN);
  assertEquals(noteActivity(T0, T0 + MIN, [[match(true)]]), T0 + MIN);
  assertEquals(noteActivity(null, T0 + MIN, []), null);
});

Deno.test("failureMode maps states to the seed's policy modes", () => {
  const table: [AttemptState, FailureMode | null][] = [
    ["stalled", "stall"],
    ["timeout", "timeout"],
    ["failed", "crash"],
    ["completed", "success"],
    ["out_of_memory", "oom"],
    ["nccl_failed", "nccl"],
    ["node_fail", "node_fail"],
    ["preempted", "preempted"],
    ["cancelled", "cancelled"],
    ["blocked", "blocked"],
    ["pending", null],
    ["running", null],
    ["unknown", null],
  ];
  for (const [s, m] of table) assertEquals(failureMode(s), m, s);
});

Deno.test("classifyAttempt: a job with --requeue that was preempted or lost its node is waited for", () => {
  const base = { marker: null, logKinds: [], lastActivityAt: null, requeues: true };
  const cases: [JobState, number, boolean, AttemptState, boolean][] = [
    // state, minutes since the state changed, --requeue, expected state, final
    ["preempted", 1, true, "pending", false],
    ["node_fail", 2, true, "pending", false],
    ["preempted", 4, true, "preempted", true],
    ["preempted", 1, false, "preempted", true],
    ["failed", 1, true, "failed", true],
  ];
  for (const [state, since, requeues, want, final] of cases) {
    const v = classifyAttempt({
      ...base,
      requeues,
      observation: obs(state, state.toUpperCase(), { exitCode: state === "failed" ? 1 : 0 }),
      now: T0 + since * MIN,
      stateSince: T0,
    });
    assertEquals([v.state, v.final], [want, final], `${state} after ${since} min, ${requeues}`);
  }
});

Deno.test("classifyAttempt: a lost attempt is a node failure, whatever was seen before", () => {
  const v = classifyAttempt({
    observation: null,
    marker: null,
    logKinds: [],
    lastActivityAt: null,
    now: T0,
    lost: "job 123 has not been seen for 20 minutes",
  });
  assertEquals([v.state, v.final], ["node_fail", true]);
  assertEquals(v.reason, "lost: job 123 has not been seen for 20 minutes");
});

Deno.test("classifyAttempt: a failure after an NCCL event is nccl_failed (mode nccl); OOM and SLURM causes come first", () => {
  const failed = { state: "failed" as const, exit_code: 134 };
  const base = { observation: null, lastActivityAt: null, now: 0, missingRounds: 1 };
  const of = (kinds: EventKind[], marker: EndMarker = failed) =>
    classifyAttempt({ ...base, marker, logKinds: kinds });
  const v = of(["nccl", "crashed"]);
  assertEquals([v.state, v.final, v.exitCode], ["nccl_failed", true, 134]);
  assertEquals(failureMode(v.state), "nccl");
  assertEquals(of(["oom", "nccl"]).state, "out_of_memory", "an OOM brings NCCL errors with it");
  assertEquals(of(["node_fail", "nccl"]).state, "node_fail");
  assertEquals(of(["timeout", "nccl"]).state, "timeout");
  assertEquals(of(["crashed"]).state, "failed", "a crash without NCCL lines is a crash");
  // One rank's traceback first, its peers' NCCL errors after: the crash is the cause.
  assertEquals(of(["progress", "crashed", "nccl"]).state, "failed", "a crash that broke the ring");
  assertEquals(of(["progress", "nccl", "crashed"]).state, "nccl_failed");
  // An NCCL warning in a run that then completed changes nothing.
  assertEquals(of(["nccl"], { state: "completed", exit_code: 0 }).state, "completed");
});
