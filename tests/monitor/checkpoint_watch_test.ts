/**
 * The checkpoint folder as an event source (lib/monitor/checkpoint_watch.ts and its use in the
 * pure step): which directories are complete, and that a complete checkpoint fires the watched
 * event's actions once per iteration, whether the folder or the log line shows it first.
 */
import { assert_, assertEquals, assertThrows } from "../_assert.ts";
import {
  completeCheckpoints,
  firedIterations,
  watchMatches,
} from "../../lib/monitor/checkpoint_watch.ts";
import { adhocPlan, parseAdhoc } from "../../lib/monitor/adhoc.ts";
import { type MonitorState, stepMonitor, type StepResult } from "../../lib/monitor/step.ts";
import { trackRun } from "../../lib/monitor/track.ts";
import { checkpointDirRegex, parseMonitorSpec } from "../../lib/monitoring/spec.ts";
import { ConfigError } from "../../lib/errors.ts";
import { emptyState, EventSink } from "../../lib/store/state.ts";
import type { CheckpointWatchSpec } from "../../lib/monitoring/spec_types.ts";

const T0 = Date.parse("2026-12-01T10:00:00Z");

/** Seed 001's checkpoint event (megatron_checkpoint_hf_conversion.yaml), with one command. */
const SEED_EVENT = {
  name: "checkpoint_saved",
  pattern: String
    .raw`successfully saved checkpoint from iteration\s+(?P<iteration>\d+) to (?P<path>\S+)`,
  pattern_type: "regex",
  metadata: { kind: "checkpoint", trigger: "hf_conversion" },
  extract_groups: { checkpoint_iteration: "iteration", checkpoint_path: "path" },
  actions: [{
    class_name: "EventAction",
    mode: "queue",
    action: {
      class_name: "RunCommandAction",
      command: [
        "python",
        "scripts/convert_checkpoint_to_hf.py",
        "--megatron-checkpoint",
        "{checkpoint_path}",
        "--iteration",
        "{checkpoint_iteration}",
      ],
    },
  }],
};

function watchSpec(over: Partial<CheckpointWatchSpec> = {}): CheckpointWatchSpec {
  return {
    dir: "/ckpt",
    pattern: "iter_{iteration:07d}",
    trackerFile: "latest_checkpointed_iteration.txt",
    completeFile: null,
    event: "checkpoint_saved",
    intervalSeconds: 30,
    ...over,
  };
}

Deno.test("checkpointDirRegex: one {iteration}, padded or not; anything else is refused", () => {
  assertEquals(checkpointDirRegex("iter_{iteration:07d}").exec("iter_0000500")?.[1], "0000500");
  assertEquals(checkpointDirRegex("checkpoint-{iteration}").exec("checkpoint-12")?.[1], "12");
  assertEquals(checkpointDirRegex("iter_{iteration:07d}").exec("iter_0000500.tmp"), null);
  assertEquals(checkpointDirRegex("step{iteration}.ckpt").exec("stepX.ckpt"), null);
  assertThrows(
    () => checkpointDirRegex("iter_{step}"),
    (e) => assert_(e.message.includes("one {iteration}"), e.message),
  );
  assertThrows(
    () => checkpointDirRegex("{iteration}_{iteration}"),
    (e) => assert_(e.message.includes("one {iteration}"), e.message),
  );
  assertThrows(
    () => checkpointDirRegex("a/{iteration}"),
    (e) => assert_(e.message.includes('no "/"'), e.message),
  );
});

Deno.test("completeCheckpoints: the tracker's number decides; missing or 'release' tracker: none", () => {
  const names = ["iter_0000100", "iter_0000200", "iter_0000300", "tmp", "iter_x"];
  assertEquals(
    completeCheckpoints(watchSpec(), names, "200\n", new Set()).map((c) => c.iteration),
    [100, 200],
  );
  assertEquals(completeCheckpoints(watchSpec(), names, null, new Set()), []);
  assertEquals(completeCheckpoints(watchSpec(), names, "release", new Set()), []);
});

Deno.test("completeCheckpoints: a complete file inside the directory, alone or with the tracker", () => {
  const names = ["checkpoint-10", "checkpoint-20", "checkpoint-30"];
  const spec = watchSpec({
    pattern: "checkpoint-{iteration}",
    trackerFile: null,
    completeFile: "config.json",
  });
  const marked = new Set(["checkpoint-10", "checkpoint-30"]);
  assertEquals(
    completeCheckpoints(spec, names, null, marked).map((c) => c.name),
    ["checkpoint-10", "checkpoint-30"],
  );
  // Both given: both must hold.
  const both = watchSpec({ pattern: "checkpoint-{iteration}", completeFile: "config.json" });
  assertEquals(completeCheckpoints(both, names, "20", marked).map((c) => c.iteration), [10]);
});

Deno.test("firedIterations: iterations of the event from journaled keys, log-style or folder-style", () => {
  const keys = [
    JSON.stringify(["checkpoint_saved", [["checkpoint_iteration", "100"], [
      "checkpoint_path",
      "/a",
    ]]]),
    JSON.stringify(["checkpoint_saved", [["iteration", "200"], ["path", "/a"]]]),
    JSON.stringify(["other", [["checkpoint_iteration", "300"]]]),
    "not json checkpoint_saved",
  ];
  assertEquals([...firedIterations(keys, "checkpoint_saved")].sort(), [100, 200]);
});

/** A followed run of a spec (seed 001's event plus a watch), attempt 1 running as job 7. */
function world(watch: Record<string, unknown> = { dir: "/ckpt" }, events = [SEED_EVENT]) {
  const req = parseAdhoc({
    jobId: "7",
    logs: ["train=/logs/train.out"],
    actions: [],
    config: { log_events: events, checkpoint_watch: watch },
    cwd: "/w",
  });
  const loaded = adhocPlan(req);
  const t = trackRun(loaded.plan.runs[0], loaded);
  const tracked = new Map([[t.run.name, t]]);
  const state: MonitorState = {
    store: emptyState(),
    logs: new Map(),
    cancelsSent: new Set(),
    running: new Set(),
    schedulerDown: false,
  };
  const sink = new EventSink(state.store, new Date(T0).toISOString());
  sink.emit({
    type: "recovered",
    run: "train",
    index: 0,
    attempt: 1,
    fingerprint: "adhoc",
    jobId: "7",
    state: "running",
    startedAt: new Date(T0).toISOString(),
    why: "test",
  });
  const step = (obs: {
    lines?: string[];
    complete?: number[];
  }): StepResult =>
    stepMonitor(state, {
      now: T0,
      logs: obs.lines
        ? [{ run: "train", attempt: 1, lines: obs.lines, grew: true, outputsGrew: false }]
        : [],
      markers: new Map(),
      actions: [],
      ...(obs.complete
        ? {
          checkpoints: [{
            run: "train",
            attempt: 1,
            dir: "/ckpt",
            complete: obs.complete.map((iteration) => ({
              iteration,
              name: `iter_${String(iteration).padStart(7, "0")}`,
            })),
          }],
        }
        : {}),
    }, { tracked, main: loaded.plan, maxConcurrentActions: 8 });
  return { state, step, t };
}

const queued = (r: StepResult) =>
  r.events.flatMap((e) => e.type === "action_queued" ? [e.context.checkpoint_iteration] : []);

Deno.test("step: a complete checkpoint in the folder queues the event's actions with its values", () => {
  const w = world();
  const r = w.step({ complete: [500] });
  assertEquals(queued(r), ["500"]);
  const act = Object.values(w.state.store.actions!)[0];
  assertEquals(act.context.checkpoint_path, "/ckpt");
  assertEquals(act.context.checkpoint_dir, "/ckpt/iter_0000500");
  assertEquals(act.context.trigger, "hf_conversion");
  assertEquals(act.source, "checkpoint_saved");
  assert_(r.effects.some((e) => e.kind === "run_action"), "the command goes to the runner");
});

Deno.test("step: a checkpoint seen in the folder and then in the log (or the reverse) fires once", () => {
  const w = world();
  assertEquals(queued(w.step({ complete: [100] })), ["100"]);
  // The log names the folder as --save was given (here with a trailing slash): another key.
  const line = "successfully saved checkpoint from iteration     100 to /ckpt/ [ t 1/1 ]";
  assertEquals(queued(w.step({ lines: [line] })), []);
  // The log first: the folder's later reading of the same iteration adds nothing.
  const line2 = "successfully saved checkpoint from iteration     200 to /ckpt/ [ t 1/1 ]";
  assertEquals(queued(w.step({ lines: [line2] })), ["200"]);
  const act = Object.values(w.state.store.actions!).find((a) =>
    a.context.checkpoint_iteration === "200"
  )!;
  assertEquals(act.context.checkpoint_dir, "/ckpt/iter_0000200", "the log line gets it too");
  assertEquals(queued(w.step({ complete: [100, 200, 300] })), ["300"]);
  // And a folder read again repeats nothing.
  assertEquals(queued(w.step({ complete: [100, 200, 300] })), []);
});

Deno.test("step: without a watch, the same iteration at another path still fires (unchanged)", () => {
  const w = world(null as unknown as Record<string, unknown>);
  const at = (p: string) => `successfully saved checkpoint from iteration 100 to ${p}`;
  assertEquals(queued(w.step({ lines: [at("/a")] })), ["100"]);
  assertEquals(queued(w.step({ lines: [at("/b")] })), ["100"]);
});

Deno.test("watchMatches: an event with its own extract_groups names gets the values it knows", () => {
  const w = world({ dir: "/ckpt", event: "saved" }, [
    {
      name: "saved",
      pattern: String.raw`saved (?P<it>\d+)`,
      metadata: { kind: "checkpoint" },
      extract_groups: { checkpoint_iteration: "it" },
      actions: [{ class_name: "LogAction", message: "converted {checkpoint_iteration}" }],
    } as unknown as typeof SEED_EVENT,
  ]);
  const ms = watchMatches(w.t, {
    run: "train",
    attempt: 1,
    dir: "/ckpt",
    complete: [{ iteration: 7, name: "iter_0000007" }],
  }, []);
  assertEquals(ms.map((m) => m.identity), [{ checkpoint_iteration: "7" }]);
});

Deno.test("parseMonitorSpec: checkpoint_watch defaults, and errors naming the key", () => {
  const spec = parseMonitorSpec({
    log_events: [SEED_EVENT],
    checkpoint_watch: { dir: "{output_dir}/ckpt" },
  }, null);
  assertEquals(spec.checkpointWatch, {
    dir: "{output_dir}/ckpt",
    pattern: "iter_{iteration:07d}",
    trackerFile: "latest_checkpointed_iteration.txt",
    completeFile: null,
    event: "checkpoint_saved",
    intervalSeconds: 30,
  });
  const problems = (m: unknown) => {
    try {
      parseMonitorSpec(m, null);
    } catch (e) {
      if (e instanceof ConfigError) return e.problems.map((p) => `${p.path}: ${p.message}`);
      throw e;
    }
    return [];
  };
  const bad = problems({
    log_events: [SEED_EVENT],
    checkpoint_watch: { dir: "/c", patern: "x", event: "checkpoint_save", tracker_file: null },
  });
  assert_(
    bad.some((p) =>
      p.includes('checkpoint_watch.patern: unknown key "patern"; did you mean "pattern"')
    ),
    bad.join("\n"),
  );
  assert_(
    bad.some((p) =>
      p.includes(
        'checkpoint_watch.event: no log event named "checkpoint_save"; did you mean "checkpoint_saved"',
      )
    ),
    bad.join("\n"),
  );
  assert_(
    bad.some((p) =>
      p.includes("checkpoint_watch.tracker_file: is null and complete_file is not given")
    ),
    bad.join("\n"),
  );
  const none = problems({ checkpoint_watch: { dir: "/c" } });
  assert_(
    none.some((p) =>
      p.startsWith(
        "monitoring.checkpoint_watch.event: missing, and no log event of kind checkpoint",
      )
    ),
    none.join("\n"),
  );
  const pattern = problems({
    log_events: [SEED_EVENT],
    checkpoint_watch: { dir: "/c", pattern: "iter_{step}" },
  });
  assert_(
    pattern.some((p) => p.startsWith("monitoring.checkpoint_watch.pattern:")),
    pattern.join("\n"),
  );
});
