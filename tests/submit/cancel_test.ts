/** What `autoexp cancel` cancels (lib/submit/cancel.ts): table tests over a journal's state. */
import { assertEquals } from "../_assert.ts";
import { planCancel } from "../../lib/submit/cancel.ts";
import type { JobObservation, JobState } from "../../lib/scheduler/types.ts";
import { emptyState, EventSink, type NewEvent } from "../../lib/store/state.ts";

function job(id: string, state: JobState, extra: Partial<JobObservation> = {}): JobObservation {
  return {
    id,
    jobId: id,
    name: "j",
    state,
    rawState: state.toUpperCase(),
    reason: "None",
    source: "squeue",
    ...extra,
  };
}

/** Runs a (job 101, running), b (102, ended), c and d (one array, tasks 0 and 1, submitted). */
function state() {
  const s = emptyState();
  const sink = new EventSink(s, "2026-12-01T10:00:00Z");
  const single = (name: string, index: number, seq: number, jobId: string): NewEvent[] => [
    {
      type: "submit_intent",
      key: name,
      comment: `autoexp:x:${name}:${seq}`,
      runs: [{ name, index, attempt: 1, fingerprint: "f", why: "initial" }],
    },
    { type: "submitted", intent: seq, jobId },
  ];
  for (const e of single("a", 0, 1, "101")) sink.emit(e);
  for (const e of single("b", 1, 3, "102")) sink.emit(e);
  sink.emit({
    type: "submit_intent",
    key: "array0",
    comment: "autoexp:x:array0:5",
    array: "0-1",
    offset: 2,
    runs: [
      { name: "c", index: 2, attempt: 1, fingerprint: "f", why: "initial" },
      { name: "d", index: 3, attempt: 1, fingerprint: "f", why: "initial" },
    ],
  });
  return s;
}

Deno.test("planCancel: live jobs are cancelled, ended ones reported, not cancelled again", () => {
  const s = state();
  const p = planCancel(s, (r) => r === "a" || r === "b", [
    job("101", "running"),
    job("102", "cancelled"),
  ]);
  assertEquals(p.cancel, ["101"]);
  assertEquals(p.ended, ["b"]);
  assertEquals(p.inFlight, []);
  assertEquals(p.attempts.map((a) => a.run), ["a", "b"]);
});

Deno.test("planCancel: a submission without a job id waits, then its tasks are found by tag", () => {
  const s = state();
  const chosen = (r: string) => r === "c" || r === "d";
  // sbatch has not answered and the queue shows nothing with its tag: in flight.
  assertEquals(planCancel(s, chosen, []).inFlight, [5]);
  assertEquals(planCancel(s, chosen, []).cancel, []);
  // Its array is in the queue: task 0 (index 2 - offset 2) and task 1.
  const tagged = [
    job("200_0", "running", { jobId: "201", arrayJobId: "200", arrayTaskId: 0 }),
    job("200_1", "pending", {
      jobId: "200",
      arrayJobId: "200",
      arrayTaskId: 1,
      comment: "autoexp:x:array0:5",
    }),
  ].map((j) => ({ ...j, comment: "autoexp:x:array0:5" }));
  const p = planCancel(s, chosen, tagged);
  assertEquals(p.cancel, ["200_0", "200_1"]);
  assertEquals(p.inFlight, []);
});

Deno.test("planCancel: runs not chosen and jobs the scheduler forgot", () => {
  const s = state();
  // a not seen at all (squeue forgot it, no accounting): asked to cancel anyway; b not chosen.
  const p = planCancel(s, (r) => r === "a", []);
  assertEquals(p.cancel, ["101"]);
  assertEquals(p.ended, []);
});
