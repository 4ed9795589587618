import { assert_, assertEquals } from "../_assert.ts";
import {
  attemptMode,
  madeProgress,
  metadataHolds,
  NO_PROGRESS_PREFIX,
  policyDecision,
  restartsWithoutProgress,
  runDone,
  stateEventsFor,
  stateEventsRestart,
} from "../../lib/monitor/decide.ts";
import { DEFAULT_SPEC } from "../../lib/monitor/track.ts";
import type { MonitorSpec } from "../../lib/monitoring/spec_types.ts";
import type { AttemptRecord, RunRecord } from "../../lib/store/state.ts";

const attempt = (over: Partial<AttemptRecord>): AttemptRecord => ({
  attempt: 1,
  intent: 1,
  fingerprint: "f",
  submittedAt: "2026-11-22T10:00:00Z",
  state: "failed",
  why: "initial",
  ...over,
});

Deno.test("metadataHolds compares numbers as numbers and strings as strings", () => {
  assertEquals(metadataHolds("equals", "20000", "20000"), true);
  assertEquals(metadataHolds("equals", "020000", "20000"), true);
  assertEquals(metadataHolds("gt", "9000", "10000"), false, "9000 < 10000 although '9' > '1'");
  assertEquals(metadataHolds("ge", "10000", "10000"), true);
  assertEquals(metadataHolds("lt", "abc", "abd"), true);
  assertEquals(metadataHolds("not_equals", "oom", "oom"), false);
  assertEquals(metadataHolds("in", "500", ["100", "500"]), true);
  assertEquals(metadataHolds("not_in", "500", ["100"]), true);
  // A key the event did not set: only the negative comparisons hold.
  assertEquals(metadataHolds("not_equals", undefined, "oom"), true);
  assertEquals(metadataHolds("equals", undefined, "oom"), false);
});

Deno.test("attemptMode: the monitor's own cancels count as stall or action, others as cancelled", () => {
  const cancelled = { verdict: "cancelled", verdictFinal: true };
  assertEquals(attemptMode(attempt({ ...cancelled, cancelRequested: "stalled: no log" })), "stall");
  assertEquals(attemptMode(attempt({ ...cancelled, cancelRequested: "restart: hang" })), "action");
  assertEquals(attemptMode(attempt(cancelled)), "cancelled");
  assertEquals(attemptMode(attempt({ verdict: "out_of_memory", verdictFinal: true })), "oom");
  assertEquals(attemptMode(attempt({ verdict: "running", verdictFinal: false })), null);
});

Deno.test("policyDecision: budgets per mode, time limit grows from the attempt's own limit", () => {
  const spec: MonitorSpec = {
    ...DEFAULT_SPEC,
    restartPolicies: [
      { mode: "crash", className: "AlwaysRestartPolicy", maxRetries: 1 },
      { mode: "timeout", className: "AdjustTimeLimitPolicy", minutes: 30, maxMinutes: 120 },
    ],
  };
  const a1 = attempt({
    verdict: "failed",
    verdictFinal: true,
    restart: { why: "x", mode: "crash" },
  });
  const a2 = attempt({ attempt: 2, verdict: "failed", verdictFinal: true });
  const run: RunRecord = { name: "r", index: 0, attempts: [a1, a2] };
  assertEquals(
    policyDecision(spec, run, a2, "crash", { planMinutes: 60, now: 0 }).restart,
    null,
    "one crash restart used",
  );
  const t = attempt({ attempt: 2, verdict: "timeout", verdictFinal: true, timeMinutes: 100 });
  const d = policyDecision(spec, { ...run, attempts: [a1, t] }, t, "timeout", {
    planMinutes: 60,
    now: 0,
  });
  assertEquals(d.restart?.timeMinutes, 120, "100 + 30 capped at max_minutes 120");
  assertEquals(d.restart?.mode, "timeout");
});

Deno.test("state events: selected by mode; a RestartAction among them replaces the policies", () => {
  const spec: MonitorSpec = {
    ...DEFAULT_SPEC,
    stateEvents: [
      {
        name: "timeout",
        modes: ["timeout"],
        actions: [{
          mode: "inline",
          conditions: [{ kind: "max_attempts", maxAttempts: 5 }],
          action: {
            kind: "restart",
            reason: null,
            timeMinutes: null,
            addMinutes: null,
            resources: {},
          },
        }],
      },
      {
        name: "note",
        modes: ["crash"],
        actions: [{ mode: "inline", conditions: [], action: { kind: "log", message: "x" } }],
      },
    ],
  };
  assertEquals(stateEventsFor(spec, "timeout").map((e) => e.name), ["timeout"]);
  assertEquals(stateEventsRestart(stateEventsFor(spec, "timeout")), true);
  assertEquals(stateEventsRestart(stateEventsFor(spec, "crash")), false);
  assertEquals(stateEventsFor(spec, "action"), []);
});

Deno.test("runDone: only when the last attempt is decided and its actions ended", () => {
  const decided = attempt({
    verdict: "completed",
    verdictFinal: true,
    restartDeclined: "completed",
  });
  const run: RunRecord = { name: "r", index: 0, attempts: [decided] };
  assertEquals(runDone(run, {}), true);
  const open = {
    x: {
      id: "x",
      run: "r",
      attempt: 1,
      source: "ckpt",
      spec: {
        mode: "queue" as const,
        conditions: [],
        action: { kind: "log" as const, message: "" },
      },
      context: {},
      queuedAt: "",
      status: "queued" as const,
    },
  };
  assertEquals(runDone(run, open), false, "an action still queued");
  const restarting = attempt({
    verdict: "failed",
    verdictFinal: true,
    restart: { why: "r", mode: "crash" },
  });
  assertEquals(runDone({ ...run, attempts: [restarting] }, {}), false, "a restart to submit");
  assertEquals(runDone({ ...run, attempts: [] }, {}), false);
});

// ---------------------------------------------------------------- issue 17: restarts

const NOW = Date.parse("2026-11-22T12:00:00Z");
const ctx = { planMinutes: 60, now: NOW };

/** A run whose attempts ended as given (each a crash unless said), the last not decided yet. */
function runOf(...ends: Partial<AttemptRecord>[]): RunRecord {
  const attempts = ends.map((e, i) =>
    attempt({
      attempt: i + 1,
      verdict: "failed",
      verdictFinal: true,
      ...(i < ends.length - 1 ? { restart: { why: "x", mode: "crash" } } : {}),
      ...e,
    })
  );
  return { name: "r", index: 0, attempts };
}

Deno.test("madeProgress: a newer checkpoint or a higher iteration than every earlier attempt", () => {
  assertEquals(madeProgress([{ iteration: 500, checkpoint: 400 }], { iteration: 500 }), false);
  assertEquals(madeProgress([{ iteration: 500, checkpoint: 400 }], { checkpoint: 400 }), false);
  assertEquals(madeProgress([{ iteration: 500 }, { iteration: 300 }], { iteration: 450 }), false);
  assertEquals(madeProgress([{ iteration: 500, checkpoint: 400 }], { checkpoint: 500 }), true);
  assertEquals(madeProgress([{ iteration: 500 }], { iteration: 501 }), true);
  assertEquals(madeProgress([{ iteration: 500 }], undefined), false, "crashed before any line");
  assertEquals(madeProgress([undefined], { iteration: 10 }), true);
  assertEquals(
    madeProgress([undefined, {}], undefined),
    null,
    "a log without iterations tells nothing",
  );
});

Deno.test("restartsWithoutProgress counts the restarts in a row, ending with the attempt", () => {
  const run = runOf(
    { reached: { iteration: 500, checkpoint: 400 } },
    { reached: { iteration: 650, checkpoint: 600 } }, // progress
    { reached: { iteration: 650, checkpoint: 600 } },
    {},
    { reached: { iteration: 620, checkpoint: 600 } },
  );
  const last = run.attempts[4];
  assertEquals(restartsWithoutProgress(run, last, last.reached), 3);
  assertEquals(restartsWithoutProgress(run, run.attempts[1], run.attempts[1].reached), 0);
  // A preempted attempt neither counts nor breaks the row.
  const pre = runOf(
    { reached: { iteration: 500 } },
    { reached: { iteration: 500 } },
    { verdict: "preempted", reached: { iteration: 500 } },
    { reached: { iteration: 500 } },
  );
  assertEquals(restartsWithoutProgress(pre, pre.attempts[3], pre.attempts[3].reached), 2);
  // No attempt logged an iteration or a checkpoint: never counted.
  const silent = runOf({}, {}, {}, {}, {});
  assertEquals(restartsWithoutProgress(silent, silent.attempts[4], undefined), 0);
});

Deno.test("policyDecision: the run stops after max_restarts_without_progress restarts in a row without progress", () => {
  const spec: MonitorSpec = {
    ...DEFAULT_SPEC,
    maxRestartsWithoutProgress: 3,
    restartPolicies: [{ mode: "crash", className: "AlwaysRestartPolicy", maxRetries: 10 }],
  };
  const stuck = { reached: { iteration: 500, checkpoint: 400 } };
  const two = runOf(stuck, stuck, stuck);
  const d2 = policyDecision(spec, two, two.attempts[2], "crash", ctx);
  assert_(d2.restart !== null, "two restarts without progress: restarted again");
  const three = runOf(stuck, stuck, stuck, stuck);
  const d3 = policyDecision(spec, three, three.attempts[3], "crash", ctx);
  assertEquals(d3.restart, null, "the third restart without progress stops the run");
  assert_(d3.reason.startsWith(NO_PROGRESS_PREFIX), d3.reason);
  assert_(d3.reason.includes("checkpoint 400, iteration 500"), d3.reason);
  assert_(d3.reason.includes("max_restarts_without_progress is 3"), d3.reason);
  // Progress in between restarts the count; 0 turns the check off.
  const moving = runOf(stuck, stuck, { reached: { iteration: 700, checkpoint: 400 } }, {
    reached: { iteration: 700, checkpoint: 400 },
  });
  assert_(policyDecision(spec, moving, moving.attempts[3], "crash", ctx).restart !== null);
  const off = { ...spec, maxRestartsWithoutProgress: 0 };
  assert_(policyDecision(off, three, three.attempts[3], "crash", ctx).restart !== null);
  // The attempt's reach from its log (a stall decided before its final verdict) counts too.
  const live = runOf(stuck, stuck, stuck, {});
  const dl = policyDecision(spec, live, live.attempts[3], "crash", {
    ...ctx,
    reached: { iteration: 900 },
  });
  assert_(dl.restart !== null, "iteration 900 is progress");
});

Deno.test("policyDecision: seed 004's backoff is a not-before time, per failure mode", () => {
  const spec: MonitorSpec = {
    ...DEFAULT_SPEC,
    restartPolicies: [
      { mode: "crash", className: "AlwaysRestartPolicy", maxRetries: 3, backoffBase: 2 },
      {
        mode: "nccl",
        className: "AlwaysRestartPolicy",
        maxRetries: 5,
        backoffBase: 60,
        maxBackoffSeconds: 600,
      },
    ],
  };
  // attempt 1 crashed: restart 1 waits 2 s; after two crash restarts, restart 3 waits 8 s.
  const first = runOf({});
  assertEquals(
    policyDecision(spec, first, first.attempts[0], "crash", ctx).restart?.notBefore,
    "2026-11-22T12:00:02.000Z",
  );
  const third = runOf({}, {}, {});
  const d = policyDecision(spec, third, third.attempts[2], "crash", ctx);
  assertEquals(d.restart?.notBefore, "2026-11-22T12:00:08.000Z");
  assert_(d.reason.includes("after 8 s (backoff)"), d.reason);
  // The nccl budget is its own: its first restart waits 60 s; its second would wait 3600 s,
  // capped at 600.
  const n1 = runOf({}, {}, { verdict: "nccl_failed" });
  assertEquals(
    policyDecision(spec, n1, n1.attempts[2], "nccl", ctx).restart?.notBefore,
    "2026-11-22T12:01:00.000Z",
  );
  const n2: RunRecord = {
    ...n1,
    attempts: [
      ...n1.attempts.slice(0, 2),
      { ...n1.attempts[2], restart: { why: "x", mode: "nccl" } },
      attempt({ attempt: 4, verdict: "nccl_failed", verdictFinal: true }),
    ],
  };
  assertEquals(
    policyDecision(spec, n2, n2.attempts[3], "nccl", ctx).restart?.notBefore,
    "2026-11-22T12:10:00.000Z",
  );
  // Without backoff_base: no not-before time.
  const plain = {
    ...spec,
    restartPolicies: [{ ...spec.restartPolicies[0], backoffBase: undefined }],
  };
  assertEquals(
    policyDecision(plain, first, first.attempts[0], "crash", ctx).restart?.notBefore,
    undefined,
  );
});

Deno.test("policyDecision: exclude_failed_nodes excludes the node a one-node attempt ran on, keeping the run's own exclude", () => {
  const spec: MonitorSpec = {
    ...DEFAULT_SPEC,
    restartPolicies: [{
      mode: "nccl",
      className: "AlwaysRestartPolicy",
      maxRetries: 2,
      excludeFailedNodes: true,
    }],
  };
  const known = runOf({ verdict: "nccl_failed", nodes: "nid001234" });
  const d = policyDecision(spec, known, known.attempts[0], "nccl", { ...ctx, exclude: "bad01" });
  assertEquals(d.restart?.extraArgs, ["--exclude=bad01,nid001234"]);
  assert_(d.reason.includes("excluding nid001234"), d.reason);
  // Several nodes: which one failed is not known; excluding them all would give up healthy
  // nodes (and leave the job pending forever on a small partition).
  const many = runOf({ verdict: "nccl_failed", nodes: "nid[001234-001235]" });
  const m = policyDecision(spec, many, many.attempts[0], "nccl", ctx);
  assert_(m.restart !== null, "restarted anyway");
  assertEquals(m.restart?.extraArgs, undefined);
  assert_(m.reason.includes("which one failed is not known, so none is excluded"), m.reason);
  const unknown = runOf({ verdict: "nccl_failed" });
  const u = policyDecision(spec, unknown, unknown.attempts[0], "nccl", ctx);
  assert_(u.restart !== null, "restarted anyway");
  assertEquals(u.restart?.extraArgs, undefined);
  assert_(u.reason.includes("its nodes are not known, so none is excluded"), u.reason);
});
