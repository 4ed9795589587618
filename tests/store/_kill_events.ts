/** The events store_kill_test.ts's child journals: many runs' checkpoints and actions. */
import type { NewEvent } from "../../lib/store/state.ts";

export function killEvents(): NewEvent[] {
  const runs = Array.from({ length: 40 }, (_, i) => `r${i}`);
  const out: NewEvent[] = [{
    type: "submit_intent",
    key: "array0",
    comment: "autoexp:x:array0:1",
    array: "0-39",
    offset: 0,
    runs: runs.map((name, index) => ({
      name,
      index,
      attempt: 1,
      fingerprint: "f",
      why: "initial",
    })),
  }, { type: "submitted", intent: 1, jobId: "7" }];
  for (let it = 1; it <= 60; it++) {
    for (const run of runs) {
      const key = JSON.stringify(["ckpt", [["checkpoint_iteration", String(it)]]]);
      out.push({
        type: "fired",
        run,
        attempt: 1,
        key,
        event: "ckpt",
        metadata: { checkpoint_iteration: String(it) },
        line: "",
      });
      const id = `${run}|${key}|0`;
      out.push({
        type: "action_queued",
        id,
        run,
        attempt: 1,
        source: "ckpt",
        spec: { mode: "queue", conditions: [], action: { kind: "log", message: "m" } },
        context: { run, run_dir: `/s/runs/${run}`, checkpoint_iteration: String(it) },
      });
      out.push({ type: "action_started", id });
      out.push({ type: "action_done", id, status: "ok", detail: `out /s/runs/${run}/x` });
    }
  }
  return out;
}
