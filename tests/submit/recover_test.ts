/** Rebuilding lost attempts from markers (lib/submit/recover.ts). */
import { assertEquals } from "../_assert.ts";
import { recoverEvents } from "../../lib/submit/recover.ts";
import type { Marker } from "../../lib/submit/markers.ts";
import type { RunPlan } from "../../lib/plan/types.ts";
import { emptyState, EventSink } from "../../lib/store/state.ts";

const run = (name: string, index: number) =>
  ({ name, index, fingerprint: `fp-${name}` }) as unknown as RunPlan;

function marker(over: Partial<Marker>): Marker {
  return {
    run: "a",
    job_id: "100",
    array_job_id: null,
    array_task_id: null,
    restart_count: 0,
    host: "n1",
    started_at: "2026-12-01T10:00:00.000Z",
    ended_at: "2026-12-01T11:00:00.000Z",
    exit_code: 0,
    state: "completed",
    tag: "autoexp:sid:a:st.1",
    ...over,
  };
}

Deno.test("recoverEvents: a completed run the journal lost is recovered once, from its newest marker", () => {
  const state = emptyState();
  const markers = new Map([["a", [
    marker({ job_id: "90", exit_code: 1, state: "failed", started_at: "2026-12-01T09:00:00Z" }),
    marker({}),
  ]]]);
  const r = recoverEvents([run("a", 0)], state, markers, "autoexp:sid:", new Set());
  assertEquals(r.events.map((e) => e.type === "recovered" && [e.jobId, e.state, e.attempt]), [
    ["100", "completed", 1],
  ]);
  // Without a fingerprint in the marker, the run's; with one, what the job ran.
  assertEquals(r.events[0].type === "recovered" && r.events[0].fingerprint, "fp-a");
  const ran = recoverEvents(
    [run("a", 0)],
    emptyState(),
    new Map([["a", [marker({ fingerprint: "fp-old" })]]]),
    "autoexp:sid:",
    new Set(),
  );
  assertEquals(ran.events[0].type === "recovered" && ran.events[0].fingerprint, "fp-old");
  const sink = new EventSink(state, "2026-12-02T00:00:00Z");
  for (const e of r.events) sink.emit(e);
  assertEquals(state.runs.a.attempts[0].verdict, "completed");
  // Recovered now: a second look recovers nothing.
  assertEquals(recoverEvents([run("a", 0)], state, markers, "autoexp:sid:", new Set()).events, []);
});

Deno.test("recoverEvents: other sweeps' markers, failures, dead jobs and older markers are left", () => {
  const cases: [Marker, Set<string>][] = [
    [marker({ tag: "autoexp:other:a:st.1" }), new Set()],
    [marker({ state: "failed", exit_code: 1 }), new Set()],
    [marker({ state: "completed", exit_code: 3 }), new Set()],
    [marker({ state: "running", exit_code: undefined }), new Set()], // its job is gone
  ];
  for (const [m, live] of cases) {
    const r = recoverEvents(
      [run("a", 0)],
      emptyState(),
      new Map([["a", [m]]]),
      "autoexp:sid:",
      live,
    );
    assertEquals(r.events, [], JSON.stringify(m));
  }
  // A running job the scheduler still has is adopted (so it is not submitted twice).
  const m = marker({ state: "running", array_job_id: "7", array_task_id: "3", job_id: "10" });
  const r = recoverEvents(
    [run("a", 0)],
    emptyState(),
    new Map([["a", [m]]]),
    "autoexp:sid:",
    new Set(["7_3"]),
  );
  assertEquals(
    r.events.map((e) => e.type === "recovered" && [e.jobId, e.arrayJobId, e.taskId, e.state]),
    [
      ["7_3", "7", 3, "running"],
    ],
  );
});
