/** The history index's records folded into entries, and `autoexp history`'s filters. */
import { assertEquals } from "../_assert.ts";
import type { HistoryRecord } from "../../lib/runtime/history.ts";
import {
  entriesOfJob,
  filterHistory,
  foldHistory,
  isJobId,
  parseSince,
} from "../../lib/store/history.ts";

const base = { sweep: "/out/pipeline", attempt: 1 } as const;
const RECORDS: HistoryRecord[] = [
  {
    ...base,
    at: "2026-12-03T10:00:00Z",
    event: "submitted",
    job: "7_0",
    run: "pt_a",
    stage: "pretrain",
    state: "pending",
    log: "/l/7_0.log",
  },
  {
    ...base,
    at: "2026-12-03T10:00:00Z",
    event: "submitted",
    job: "7_1",
    run: "pt_b",
    stage: "pretrain",
    state: "pending",
  },
  {
    ...base,
    at: "2026-12-03T10:01:00Z",
    event: "started",
    job: "7_0",
    run: "pt_a",
    stage: "pretrain",
    state: "running",
    started_at: "2026-12-03T10:01:00Z",
  },
  {
    ...base,
    at: "2026-12-03T10:05:00Z",
    event: "ended",
    job: "7_1",
    run: "pt_b",
    stage: "pretrain",
    state: "failed",
    reason: "exit 1",
    ended_at: "2026-12-03T10:05:00Z",
  },
  {
    ...base,
    at: "2026-12-03T10:06:00Z",
    event: "submitted",
    job: "9",
    run: "pt_b",
    stage: "pretrain",
    attempt: 2,
    state: "pending",
  },
  {
    ...base,
    at: "2026-12-03T10:09:00Z",
    event: "ended",
    job: "7_0",
    run: "pt_a",
    stage: "pretrain",
    state: "completed",
    ended_at: "2026-12-03T10:09:00Z",
  },
  {
    ...base,
    at: "2026-12-03T10:10:00Z",
    event: "submitted",
    job: "10",
    run: "ft_a",
    stage: "finetune",
    state: "pending",
    sweep: "/other/demo",
  },
];

Deno.test("foldHistory: one entry per attempt, its latest state and times, newest first", () => {
  const e = foldHistory(RECORDS);
  assertEquals(e.map((x) => [x.job, x.state]), [
    ["10", "pending"],
    ["9", "pending"],
    ["7_1", "failed"],
    ["7_0", "completed"],
  ]);
  const a = e.find((x) => x.job === "7_0")!;
  assertEquals([a.submitted_at, a.started_at, a.ended_at, a.log], [
    "2026-12-03T10:00:00Z",
    "2026-12-03T10:01:00Z",
    "2026-12-03T10:09:00Z",
    "/l/7_0.log",
  ]);
  assertEquals(e.find((x) => x.job === "7_1")!.reason, "exit 1");
  // A submission line read after the end (a rotation) does not undo the end.
  const late = foldHistory([RECORDS[3], RECORDS[1]]);
  assertEquals(late[0].state, "failed");
});

Deno.test("filterHistory: state (and active/ended), stage, sweep by name, since", () => {
  const e = foldHistory(RECORDS);
  const jobs = (f: Parameters<typeof filterHistory>[1]) => filterHistory(e, f).map((x) => x.job);
  assertEquals(jobs({ states: ["failed"] }), ["7_1"]);
  assertEquals(jobs({ states: ["ended"] }), ["7_1", "7_0"]);
  assertEquals(jobs({ states: ["active"] }), ["10", "9"]);
  assertEquals(jobs({ stages: ["finetune"] }), ["10"]);
  assertEquals(jobs({ sweeps: ["pipeline"] }), ["9", "7_1", "7_0"]);
  assertEquals(jobs({ sweeps: ["/other/demo/"] }), ["10"]);
  assertEquals(jobs({ sweeps: ["line"] }), []);
  assertEquals(jobs({ sinceMs: Date.parse("2026-12-03T10:06:00Z") }), ["10", "9"]);
});

Deno.test("parseSince: durations back from now, dates; null otherwise", () => {
  const now = Date.parse("2026-12-03T12:00:00Z");
  assertEquals(parseSince("30m", now), now - 1_800_000);
  assertEquals(parseSince("2h", now), now - 7_200_000);
  assertEquals(parseSince("7d", now), now - 7 * 86_400_000);
  assertEquals(parseSince("1w", now), now - 7 * 86_400_000);
  assertEquals(parseSince("2026-12-01T00:00:00Z", now), Date.parse("2026-12-01T00:00:00Z"));
  assertEquals(parseSince("yesterday", now), null);
  assertEquals(parseSince("12", now), null);
});

Deno.test("entriesOfJob and isJobId: a task, a single job, every task of an array", () => {
  const e = foldHistory(RECORDS);
  assertEquals(entriesOfJob(e, "7_0").map((x) => x.run), ["pt_a"]);
  assertEquals(entriesOfJob(e, "7").map((x) => x.job), ["7_1", "7_0"]);
  assertEquals(entriesOfJob(e, "9").map((x) => x.run), ["pt_b"]);
  assertEquals(entriesOfJob(e, "7_5"), []);
  assertEquals([isJobId("12345"), isJobId("12345_7"), isJobId("pt_a"), isJobId("1_2_3")], [
    true,
    true,
    false,
    false,
  ]);
});
