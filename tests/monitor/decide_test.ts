import { assertEquals } from "../_assert.ts";
import {
  attemptMode,
  metadataHolds,
  policyDecision,
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
  assertEquals(policyDecision(spec, run, a2, "crash", 60).restart, null, "one crash restart used");
  const t = attempt({ attempt: 2, verdict: "timeout", verdictFinal: true, timeMinutes: 100 });
  const d = policyDecision(spec, { ...run, attempts: [a1, t] }, t, "timeout", 60);
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
