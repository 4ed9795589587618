/** historyRecordsOf: the history lines of a monitor step (an attempt started, a final verdict). */
import { assertEquals } from "../_assert.ts";
import { historyRecordsOf } from "../../lib/monitor/history.ts";
import type { TrackedRun } from "../../lib/monitor/step.ts";
import type { StoreEvent, StoreState } from "../../lib/store/state.ts";

const plan = { sweep: { dir: "/out/p" }, groups: [] };
const run = {
  name: "ft",
  stage: "finetune",
  runDir: "/out/artifacts/finetune/ft-1",
  logPath: "/l/{job_id}.log",
  group: "ft",
};
const tracked = new Map([["ft", { run, loaded: { plan } } as unknown as TrackedRun]]);
const state = {
  runs: {
    ft: {
      name: "ft",
      index: 0,
      attempts: [
        { attempt: 1, jobId: "42", state: "completed", stateSince: "T1", endedAt: "T2" },
        { attempt: 2, state: "submit_failed" },
      ],
    },
  },
} as unknown as StoreState;

Deno.test("historyRecordsOf: started and ended lines; other events and job-less attempts none", () => {
  const events = [
    {
      type: "observed",
      seq: 1,
      at: "A",
      run: "ft",
      attempt: 1,
      state: "running",
      rawState: "RUNNING",
      reason: "",
    },
    {
      type: "observed",
      seq: 2,
      at: "B",
      run: "ft",
      attempt: 1,
      state: "pending",
      rawState: "PENDING",
      reason: "",
    },
    {
      type: "verdict",
      seq: 3,
      at: "C",
      run: "ft",
      attempt: 1,
      state: "completed",
      final: true,
      reason: "exited 0",
    },
    {
      type: "verdict",
      seq: 4,
      at: "D",
      run: "ft",
      attempt: 1,
      state: "running",
      final: false,
      reason: "",
    },
    {
      type: "verdict",
      seq: 5,
      at: "E",
      run: "ft",
      attempt: 2,
      state: "failed",
      final: true,
      reason: "x",
    },
    {
      type: "verdict",
      seq: 6,
      at: "F",
      run: "other",
      attempt: 1,
      state: "failed",
      final: true,
      reason: "x",
    },
  ] as StoreEvent[];
  const common = {
    job: "42",
    sweep: "/out/p",
    run: "ft",
    stage: "finetune",
    attempt: 1,
    run_dir: run.runDir,
    log: "/l/42.log",
  };
  assertEquals(historyRecordsOf(events, state, tracked), [
    { at: "A", event: "started", ...common, state: "running", started_at: "T1" },
    { at: "C", event: "ended", ...common, state: "completed", reason: "exited 0", ended_at: "T2" },
  ]);
});
