/** Rebuilding lost attempts from markers (lib/submit/recover.ts). */
import { assertEquals } from "../_assert.ts";
import { recoverEvents } from "../../lib/submit/recover.ts";
import { artifactComplete } from "../../lib/submit/release.ts";
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

Deno.test("recoverEvents: a job that saved and exited on the time limit's signal is not a completed run", () => {
  const m = marker({ forwarded_signals: ["SIGUSR1"] });
  const r = recoverEvents(
    [run("a", 0)],
    emptyState(),
    new Map([["a", [m]]]),
    "autoexp:sid:",
    new Set(),
  );
  assertEquals(r.events, []);
});

Deno.test("recoverEvents: a shared artifact another sweep is making is busy; its unfinished save is not complete", () => {
  const art = { ...run("pt", 0), artifact: "pt-1234" } as RunPlan;
  const other = "autoexp:other:a:st.1";
  // Another sweep's live job writes it now: not ours to start a second job into.
  const making = recoverEvents(
    [art],
    emptyState(),
    new Map([["pt", [marker({ run: "pt", tag: other, state: "running", exit_code: undefined })]]]),
    "autoexp:sid:",
    new Set(["100"]),
  );
  assertEquals(making.busy, [{ run: "pt", jobId: "100", tag: other }]);
  assertEquals(making.events, []);
  // Its job died without an end marker: not busy (and not complete).
  const dead = recoverEvents(
    [art],
    emptyState(),
    new Map([["pt", [marker({ run: "pt", tag: other, state: "running", exit_code: undefined })]]]),
    "autoexp:sid:",
    new Set(),
  );
  assertEquals([dead.busy, dead.events], [[], []]);
  // Finished: complete here too; saved on the time limit's signal: not.
  const done = recoverEvents(
    [art],
    emptyState(),
    new Map([["pt", [marker({ run: "pt", tag: other })]]]),
    "autoexp:sid:",
    new Set(),
  );
  assertEquals(done.events.length, 1);
  const cut = recoverEvents(
    [art],
    emptyState(),
    new Map([["pt", [marker({ run: "pt", tag: other, forwarded_signals: ["SIGUSR1"] })]]]),
    "autoexp:sid:",
    new Set(),
  );
  assertEquals(cut.events, []);
});

Deno.test("artifactComplete: judged completed for good; not SLURM's COMPLETED alone, not with a restart due", () => {
  const st = emptyState();
  const sink = new EventSink(st, "2026-12-02T00:00:00Z");
  sink.emit({
    type: "recovered",
    run: "a",
    index: 0,
    attempt: 1,
    fingerprint: "f",
    jobId: "1",
    state: "completed",
    exitCode: 0,
    startedAt: "2026-12-01T00:00:00Z",
    why: "artifact complete: job 1 of another sweep",
  });
  assertEquals(artifactComplete(st.runs.a), true);
  const a = st.runs.a.attempts[0];
  assertEquals(artifactComplete({ ...st.runs.a, attempts: [{ ...a, verdict: "timeout" }] }), false);
  assertEquals(
    artifactComplete({
      ...st.runs.a,
      attempts: [{ ...a, restart: { why: "success policy: next chunk", mode: "success" } }],
    }),
    false,
  );
  assertEquals(
    artifactComplete({
      ...st.runs.a,
      attempts: [{ ...a, verdict: undefined, verdictFinal: undefined }],
    }),
    false,
  );
  assertEquals(artifactComplete(undefined), false);
});
