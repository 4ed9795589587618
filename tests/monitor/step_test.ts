/**
 * Table tests of the monitor's pure step (lib/monitor/step.ts): a state built from journal
 * events, one round's observations, and the events and effects the step returns. No files, no
 * processes, no clock: each rule of the README's monitoring section has a test here.
 */
import { assert_, assertEquals } from "../_assert.ts";
import { trackRun } from "../../lib/monitor/track.ts";
import {
  type ActionOutcome,
  allDone,
  type Effect,
  type LogReading,
  type MonitorState,
  type RoundObservations,
  stepMonitor,
  type StepResult,
  type TrackedRun,
} from "../../lib/monitor/step.ts";
import type { EndMarker } from "../../lib/monitor/lifecycle.ts";
import { parseMonitorSpec } from "../../lib/monitoring/spec.ts";
import type { RunPlan, SweepPlan } from "../../lib/plan/types.ts";
import type { JobObservation, JobState } from "../../lib/scheduler/types.ts";
import {
  applyEvent,
  emptyState,
  EventSink,
  type NewEvent,
  type StoreEvent,
  type StoreState,
} from "../../lib/store/state.ts";
import type { SchedulerReading } from "../../lib/submit/mod.ts";
import type { Marker } from "../../lib/submit/markers.ts";

const T0 = Date.parse("2026-12-01T10:00:00Z");
const MIN = 60_000;

function runPlan(name: string, index: number, requeue: boolean): RunPlan {
  return {
    index,
    name,
    values: {},
    runDir: `/sweep/runs/${name}`,
    logPath: `/sweep/runs/${name}/logs/{job_id}.log`,
    argv: ["train"],
    env: {},
    workdir: "/sweep",
    script: {
      resources: { time: "01:00:00", ...(requeue ? { requeue: true } : {}) },
      extraDirectives: [],
      modules: [],
      setup: [],
      shellEnv: {},
    },
    nodes: 1,
    gpus: 0,
    minutes: 60,
    group: name,
    backend: "command",
    fingerprint: `fp-${name}`,
  };
}

/** One sweep of runs `a`, `b`, ... under a monitoring config and restart policies. */
class World {
  readonly tracked = new Map<string, TrackedRun>();
  readonly state: MonitorState = {
    store: emptyState(),
    logs: new Map(),
    cancelsSent: new Set(),
    running: new Set(),
    schedulerDown: false,
  };
  /** Every event so far (the journal), to check that replaying it gives the state. */
  readonly journal: StoreEvent[] = [];
  now = T0;
  #job = 100;

  constructor(
    monitoring: unknown = {},
    policies: unknown = [],
    opts: {
      runs?: string[];
      requeue?: boolean;
      maxConcurrentActions?: number;
      /** The `restart` group's mapping (`max_restarts_without_progress`). */
      restart?: unknown;
    } = {},
  ) {
    const runs = (opts.runs ?? ["a"]).map((n, i) => runPlan(n, i, opts.requeue === true));
    const plan: SweepPlan = {
      format: "autoexp.sweep",
      version: 1,
      sweep: {
        name: "sweep",
        id: "s1",
        dir: "/sweep",
        configName: "autoexp",
        configDir: null,
        overrides: [],
        multirun: false,
        nameTemplate: "",
        autoexp: ["autoexp"],
        autoexpVersion: "0",
        throttle: null,
      },
      runs,
      groups: [],
    };
    const spec = parseMonitorSpec(monitoring, policies, {}, opts.restart);
    const loaded = {
      plan,
      monitor: {
        format: "autoexp.monitor" as const,
        version: 1 as const,
        cwd: "/",
        specs: { s: spec },
        runs: Object.fromEntries(
          runs.map((r) => [r.name, { spec: "s", vars: { "backend.args.train_iters": "40" } }]),
        ),
      },
    };
    for (const r of runs) this.tracked.set(r.name, trackRun(r, loaded));
    this.maxConcurrentActions = opts.maxConcurrentActions ?? 8;
  }

  readonly maxConcurrentActions: number;

  /** Journal events as if another part of autoexp (submit) had written them. */
  record(...evs: NewEvent[]): void {
    const sink = new EventSink(this.state.store, new Date(this.now).toISOString());
    for (const e of evs) sink.emit(e);
    this.journal.push(...sink.take());
  }

  /** Submits a new attempt of a run; returns its job id. */
  submit(run: string, attempt = this.attempts(run) + 1): string {
    const id = String(this.#job++);
    const index = this.tracked.get(run)!.run.index;
    this.record({
      type: "submit_intent",
      key: run,
      comment: `tag-${id}`,
      runs: [{ name: run, index, attempt, fingerprint: `fp-${run}`, why: "test" }],
      entries: `/sweep/entries-${run}.jsonl`,
    });
    this.record({ type: "submitted", intent: this.state.store.seq, jobId: id });
    return id;
  }

  attempts(run: string): number {
    return this.state.store.runs[run]?.attempts.length ?? 0;
  }

  latest(run: string) {
    const rec = this.state.store.runs[run];
    return rec.attempts[rec.attempts.length - 1];
  }

  step(obs: Partial<RoundObservations> = {}): StepResult {
    const r = stepMonitor(this.state, {
      now: this.now,
      logs: [],
      markers: new Map(),
      actions: [],
      ...obs,
    }, {
      tracked: this.tracked,
      main: [...this.tracked.values()][0].loaded.plan,
      maxConcurrentActions: this.maxConcurrentActions,
    });
    this.journal.push(...r.events);
    return r;
  }

  /** A scheduler round in which the jobs are in these states (others missing). */
  schedulerStep(
    jobs: Record<string, JobState | Partial<JobObservation>>,
    extra: Partial<RoundObservations> & { readonly missingMarkers?: Record<string, EndMarker> } =
      {},
  ): StepResult {
    const list: JobObservation[] = Object.entries(jobs).map(([id, s]) => ({
      id,
      jobId: id,
      name: `job-${id}`,
      state: "running",
      rawState: typeof s === "string" ? s.toUpperCase() : String(s.state).toUpperCase(),
      reason: "None",
      source: "squeue",
      ...(typeof s === "string" ? { state: s } : s),
    }));
    const markers = new Map<string, EndMarker | null>(extra.markers ?? []);
    const missing = new Map<string, Marker | null>();
    for (const [key, m] of Object.entries(extra.missingMarkers ?? {})) {
      missing.set(key, {
        run: key.split("#")[0],
        job_id: "0",
        array_job_id: null,
        array_task_id: null,
        restart_count: 0,
        host: "node1",
        started_at: new Date(T0).toISOString(),
        ...m,
      });
    }
    const reading: SchedulerReading = {
      jobs: list,
      intentJobs: new Map(),
      markers: missing,
      asOf: this.state.store.seq,
    };
    for (const [k, m] of missing) markers.set(k, m);
    return this.step({ ...extra, scheduler: reading, markers });
  }

  log(run: string, ...lines: string[]): LogReading {
    return { run, attempt: this.attempts(run), lines, grew: lines.length > 0, outputsGrew: false };
  }

  /** Replaying the journal from scratch gives the state the step advanced. */
  assertReplays(): void {
    const fresh: StoreState = emptyState();
    for (const e of this.journal) applyEvent(fresh, e);
    assertEquals(fresh, this.state.store);
  }
}

/** The id of the action of a run queued for a checkpoint iteration (`index`: its position). */
function actionId(w: World, run: string, it: number, index: number): string {
  const ids = w.journal.filter((e) =>
    e.type === "action_queued" && e.run === run &&
    e.context.checkpoint_iteration === String(it) && e.id.endsWith(`|${index}`)
  ).map((e) => (e as { id: string }).id);
  assertEquals(ids.length, 1, `one action ${index} of ${run} at ${it}`);
  return ids[0];
}

/** An action as journaled: its queued record and its last status (ended ones are only counted). */
function action(w: World, id: string): { status: string; context: Record<string, string> } {
  const queued = w.journal.find((e) => e.type === "action_queued" && e.id === id);
  assert_(queued?.type === "action_queued", `action ${id} was queued`);
  let status = "queued";
  for (const e of w.journal) {
    if (e.type === "action_started" && e.id === id) status = "started";
    if (e.type === "action_done" && e.id === id) status = e.status;
  }
  return { status, context: queued.context };
}

const ofKind = <K extends Effect["kind"]>(r: StepResult, kind: K) =>
  r.effects.filter((e): e is Extract<Effect, { kind: K }> => e.kind === kind);
const types = (r: StepResult) => r.events.map((e) => e.type);
const said = (r: StepResult) => ofKind(r, "say").map((e) => e.line);

/** A `ckpt <n>` log event (`checkpoint_iteration` = n) with these actions. */
function onCkpt(actions: unknown[]) {
  return {
    log_events: [{
      name: "ckpt",
      pattern: String.raw`ckpt (?P<it>\d+)`,
      extract_groups: { checkpoint_iteration: "it" },
      actions,
    }],
  };
}

const CKPT = {
  log_events: [{
    name: "checkpoint_saved",
    pattern: String.raw`saved checkpoint (?P<iteration>\d+) to (?P<path>\S+)`,
    extract_groups: { checkpoint_iteration: "iteration", checkpoint_path: "path" },
    actions: [
      { class_name: "LogAction", message: "ckpt {checkpoint_iteration} of {run}" },
      {
        class_name: "EventAction",
        action: {
          class_name: "RunCommandAction",
          command: ["convert", "{checkpoint_path}", "{backend.args.train_iters}"],
        },
      },
    ],
  }],
};

Deno.test("step: an event fires once per distinct match, across lines, rounds and attempts", () => {
  const w = new World(CKPT);
  w.submit("a");
  const r1 = w.step({
    logs: [w.log("a", "saved checkpoint 10 to /c/10", "saved checkpoint 10 to /c/10")],
  });
  assertEquals(r1.events.filter((e) => e.type === "fired").length, 1);
  assertEquals(r1.events.filter((e) => e.type === "action_queued").length, 2);
  w.submit("a"); // a second attempt logs the same checkpoint again (it resumed from it)
  const r2 = w.step({ logs: [w.log("a", "saved checkpoint 10 to /c/10")] });
  assertEquals(r2.events.filter((e) => e.type === "fired").length, 0);
  const r3 = w.step({ logs: [w.log("a", "saved checkpoint 20 to /c/20")] });
  assertEquals(r3.events.filter((e) => e.type === "fired").length, 1);
  w.assertReplays();
});

Deno.test("step: placeholders come from the match, the run and config values", () => {
  const w = new World(CKPT);
  w.submit("a");
  const r = w.step({ logs: [w.log("a", "saved checkpoint 30 to /c/30")] });
  const act = action(w, actionId(w, "a", 30, 1));
  assertEquals(act.context.checkpoint_path, "/c/30");
  assertEquals(act.context.run, "a");
  assertEquals(act.context.output_dir, "/sweep/runs/a");
  assertEquals(act.context["backend.args.train_iters"], "40");
  // The log action is done by the step itself; the command goes to the runner.
  assert_(said(r).includes("a: ckpt 30 of a"), said(r).join("\n"));
  assertEquals(action(w, actionId(w, "a", 30, 0)).status, "ok");
  assertEquals(ofKind(r, "run_action").map((e) => e.id), [actionId(w, "a", 30, 1)]);
});

Deno.test("step: inline actions of one event run in order; queued ones do not wait", () => {
  const mk = (mode: string) => (onCkpt([1, 2].map((i) => ({
    class_name: "EventAction",
    mode,
    action: { class_name: "RunCommandAction", command: ["step", String(i)] },
  }))));
  const inline = new World(mk("inline"));
  inline.submit("a");
  const r = inline.step({ logs: [inline.log("a", "ckpt 1")] });
  assertEquals(ofKind(r, "run_action").map((e) => e.id), [actionId(inline, "a", 1, 0)]);
  const done: ActionOutcome = { id: actionId(inline, "a", 1, 0), status: "ok", detail: "exit 0" };
  const r2 = inline.step({ actions: [done] });
  assertEquals(ofKind(r2, "run_action").map((e) => e.id), [actionId(inline, "a", 1, 1)]);
  assert_(r2.schedulerSoon, "a command that succeeded asks for a scheduler round soon");

  const queued = new World(mk("queue"));
  queued.submit("a");
  const q = queued.step({ logs: [queued.log("a", "ckpt 1")] });
  assertEquals(ofKind(q, "run_action").map((e) => e.id), [
    actionId(queued, "a", 1, 0),
    actionId(queued, "a", 1, 1),
  ]);
});

Deno.test("step: no more actions run at once than maxConcurrentActions", () => {
  const w = new World(CKPT, [], { maxConcurrentActions: 2 });
  w.submit("a");
  const lines = [10, 20, 30, 40].map((i) => `saved checkpoint ${i} to /c/${i}`);
  const r = w.step({ logs: [w.log("a", ...lines)] });
  assertEquals(ofKind(r, "run_action").length, 2);
  assertEquals(w.state.running.size, 2);
  const r2 = w.step({ actions: [{ id: actionId(w, "a", 10, 1), status: "ok", detail: "" }] });
  assertEquals(ofKind(r2, "run_action").map((e) => e.id), [actionId(w, "a", 30, 1)]);
});

Deno.test("step: pure conditions are decided by the step (metadata, attempt budget)", () => {
  const w = new World(onCkpt([{
    class_name: "EventAction",
    conditions: [
      { class_name: "MetadataCondition", key: "checkpoint_iteration", equals: 20 },
      { class_name: "MaxAttemptsCondition", max_attempts: 2 },
    ],
    action: { class_name: "RunCommandAction", command: ["cooldown"] },
  }]));
  w.submit("a");
  const r = w.step({ logs: [w.log("a", "ckpt 10", "ckpt 20")] });
  assertEquals(action(w, actionId(w, "a", 10, 0)).status, "skipped");
  assertEquals(ofKind(r, "run_action").map((e) => e.id), [actionId(w, "a", 20, 0)]);
  w.submit("a");
  w.submit("a"); // three attempts made
  w.step({ logs: [w.log("a", "ckpt 20")] }); // the same checkpoint does not fire again
  const r2 = w.step({ logs: [w.log("a", "ckpt 21")] });
  assertEquals(ofKind(r2, "run_action").length, 0);
  assertEquals(action(w, actionId(w, "a", 21, 0)).status, "skipped");
});

Deno.test("step: an action whose I/O conditions the runner found unmet is skipped", () => {
  const w = new World(CKPT);
  w.submit("a");
  w.step({ logs: [w.log("a", "saved checkpoint 10 to /c/10")] });
  const id = actionId(w, "a", 10, 1);
  const r = w.step({
    actions: [{ id, status: "skipped", detail: "/c/10/x did not appear within 60 s" }],
  });
  assertEquals(action(w, id).status, "skipped");
  assert_(said(r).some((l) => l.includes("did not appear")), said(r).join("\n"));
});

const CRASH = [{
  mode: "crash",
  implementation: { class_name: "AlwaysRestartPolicy", max_retries: 2 },
}];

Deno.test("step: a crash is restarted with the same frozen entries until the budget is spent", () => {
  const w = new World({}, CRASH);
  const job = w.submit("a");
  const r = w.schedulerStep({ [job]: "failed" }, {
    markers: new Map([["a#1", { state: "failed", exit_code: 1 }]]),
  });
  assertEquals(w.latest("a").verdict, "failed");
  assertEquals(types(r).filter((t) => t === "restart_decided").length, 1);
  const submits = ofKind(r, "submit");
  assertEquals(submits.length, 1);
  assertEquals(submits[0].chosen.map((c) => [c.run.name, c.attempt, c.entries]), [
    ["a", 2, "/sweep/entries-a.jsonl"],
  ]);
  // attempts 2 and 3 crash too: the third is not restarted
  for (const attempt of [2, 3]) {
    const j = w.submit("a", attempt);
    const rr = w.schedulerStep({ [j]: "failed" }, {
      markers: new Map([[`a#${attempt}`, { state: "failed", exit_code: 1 }]]),
    });
    if (attempt === 3) {
      assertEquals(ofKind(rr, "submit").length, 0);
      assert_(w.latest("a").restartDeclined !== undefined || w.latest("a").restart === undefined);
      assert_(said(rr).some((l) => /a: not restarted/.test(l)), said(rr).join("\n"));
    }
  }
  w.assertReplays();
});

Deno.test("step: a timeout restarts with a longer time limit (AdjustTimeLimitPolicy)", () => {
  const w = new World({}, [{
    mode: "timeout",
    implementation: { class_name: "AdjustTimeLimitPolicy", minutes: 30 },
  }]);
  const job = w.submit("a");
  const r = w.schedulerStep({ [job]: "timeout" });
  assertEquals(w.latest("a").verdict, "timeout");
  assertEquals(ofKind(r, "submit")[0].chosen[0].time, 90);
});

Deno.test("step: an out-of-memory crash follows its own policy, not the crash policy", () => {
  const w = new World({}, [
    ...CRASH,
    { mode: "oom", implementation: { class_name: "NoRestartPolicy", message: "lower the batch" } },
  ]);
  const job = w.submit("a");
  const r = w.schedulerStep({ [job]: "failed" }, {
    logs: [w.log("a", "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB")],
    markers: new Map([["a#1", { state: "failed", exit_code: 1 }]]),
  });
  assertEquals(w.latest("a").verdict, "out_of_memory");
  assertEquals(ofKind(r, "submit").length, 0);
  assert_(said(r).some((l) => l.includes("lower the batch")), said(r).join("\n"));
});

Deno.test("step: a mode without a policy is not restarted; budgets are counted per mode", () => {
  const w = new World({}, [
    { mode: "crash", implementation: { class_name: "AlwaysRestartPolicy", max_retries: 1 } },
    { mode: "timeout", implementation: { class_name: "AlwaysRestartPolicy", max_retries: 1 } },
  ]);
  const crash = (attempt: number) => ({
    markers: new Map([[`a#${attempt}`, { state: "failed" as const, exit_code: 1 }]]),
  });
  // attempt 1 times out: restarted (the timeout budget), attempt 2 crashes: restarted too (the
  // crash budget is its own), attempt 3 crashes again: the crash budget is spent.
  let r = w.schedulerStep({ [w.submit("a")]: "timeout" });
  assertEquals(ofKind(r, "submit")[0]?.chosen[0].attempt, 2);
  r = w.schedulerStep({ [w.submit("a", 2)]: "failed" }, crash(2));
  assertEquals(ofKind(r, "submit")[0]?.chosen[0].attempt, 3);
  r = w.schedulerStep({ [w.submit("a", 3)]: "failed" }, crash(3));
  assertEquals(ofKind(r, "submit").length, 0);
  // A node failure has no policy here: not restarted.
  const n = new World({}, CRASH);
  const nr = n.schedulerStep({ [n.submit("a")]: "node_fail" });
  assertEquals(n.latest("a").verdict, "node_fail");
  assertEquals(ofKind(nr, "submit").length, 0);
  w.assertReplays();
});

Deno.test("step: a CancelAction cancels the running attempt, which is not restarted", () => {
  const w = new World(
    onCkpt([{
      class_name: "EventAction",
      conditions: [{ class_name: "MetadataCondition", key: "checkpoint_iteration", equals: 20 }],
      action: { class_name: "CancelAction", reason: "enough" },
    }]),
    CRASH,
  );
  const job = w.submit("a");
  w.schedulerStep({ [job]: "running" });
  const r1 = w.step({ logs: [w.log("a", "ckpt 10")] });
  assertEquals(ofKind(r1, "cancel").length, 0);
  const r2 = w.step({ logs: [w.log("a", "ckpt 20")] });
  assertEquals(ofKind(r2, "cancel").map((e) => e.jobId), [job]);
  const r3 = w.schedulerStep({ [job]: "cancelled" });
  assertEquals(w.latest("a").verdict, "cancelled");
  assertEquals(ofKind(r3, "submit").length, 0);
  assertEquals(ofKind(r3, "cancel").length, 0);
  w.assertReplays();
});

Deno.test("step: a stalled attempt is cancelled and restarted; noise is no progress", () => {
  const w = new World({ inactivity_threshold_seconds: 600 }, [
    { mode: "stall", implementation: { class_name: "AlwaysRestartPolicy", max_retries: 1 } },
  ]);
  const job = w.submit("a");
  w.step({ logs: [w.log("a", " iteration        5/      40 |")] });
  w.now += 5 * MIN;
  w.schedulerStep({ [job]: "running" });
  assertEquals(w.latest("a").verdict, "running");
  w.now += 6 * MIN; // 11 minutes since the last progress line, with only srun chatter since
  w.step({ logs: [w.log("a", "srun: error: slurm_receive_msgs: Socket timed out on send/recv")] });
  const r = w.schedulerStep({ [job]: "running" });
  assertEquals(w.latest("a").verdict, "stalled");
  assertEquals(ofKind(r, "cancel").map((e) => e.jobId), [job]);
  assert_(w.latest("a").restart !== undefined, "a restart is decided before cancelling");
  // the cancelled job ends: a new attempt
  const r2 = w.schedulerStep({ [job]: "cancelled" });
  assertEquals(ofKind(r2, "submit")[0].chosen[0].attempt, 2);
  // the cancel is sent once
  assertEquals(ofKind(r2, "cancel").length, 0);
});

Deno.test("step: a job whose dependency can never be satisfied is blocked, and ended", () => {
  const w = new World();
  const job = w.submit("a");
  w.schedulerStep({ [job]: { state: "pending", reason: "DependencyNeverSatisfied" } });
  assertEquals(w.latest("a").verdict, "blocked");
  assertEquals(w.latest("a").verdictFinal, true);
  assert_(w.latest("a").restartDeclined !== undefined, "no policy: not restarted");
});

Deno.test("step: a preempted job with --requeue gets three minutes to come back", () => {
  const policies = [
    { mode: "preempted", implementation: { class_name: "AlwaysRestartPolicy", max_retries: 3 } },
  ];
  const w = new World({}, policies, { requeue: true });
  const job = w.submit("a");
  const r = w.schedulerStep({ [job]: "preempted" });
  assertEquals(w.latest("a").verdictFinal, false);
  assertEquals(ofKind(r, "submit").length, 0);
  w.now += 4 * MIN;
  const r2 = w.schedulerStep({ [job]: "preempted" });
  assertEquals(w.latest("a").verdictFinal, true);
  assertEquals(ofKind(r2, "submit").length, 1);
  // without --requeue the policy applies at once
  const n = new World({}, policies);
  const j2 = n.submit("a");
  assertEquals(ofKind(n.schedulerStep({ [j2]: "preempted" }), "submit").length, 1);
});

Deno.test("step: a SLURM requeue under the same job id stays one attempt", () => {
  const w = new World({}, CRASH, { requeue: true });
  const job = w.submit("a");
  for (const s of ["running", "requeued", "pending", "running", "completed"] as JobState[]) {
    const r = w.schedulerStep({ [job]: s }, {
      markers: new Map([["a#1", { state: "completed", exit_code: 0 }]]),
    });
    assertEquals(ofKind(r, "submit").length, 0, s);
  }
  assertEquals(w.attempts("a"), 1);
  assertEquals(w.latest("a").verdict, "completed");
});

Deno.test("step: a requeued job running again is not judged by its earlier run's marker", () => {
  // `scontrol requeue`: the first run saved and exited on the forwarded SIGTERM (its marker says
  // so); SLURM starts the job again under the same id minutes later, and squeue shows it
  // running a moment before the new run writes its marker.
  const saved = (at: number) => ({
    state: "completed" as const,
    exit_code: 0,
    forwarded_signals: ["SIGTERM"],
    ended_at: new Date(at).toISOString(),
    restart_count: 0,
  });
  const iso = (ms: number) => new Date(ms).toISOString();
  const variants: [string, Partial<JobObservation>][] = [
    ["restart count and start time", { restarts: 1 }],
    ["start time alone (sacct has no restart count)", {}],
  ];
  for (const [what, extra] of variants) {
    const w = new World({}, [
      { mode: "timeout", implementation: { class_name: "AlwaysRestartPolicy", max_retries: 3 } },
    ], { requeue: true });
    const job = w.submit("a");
    w.schedulerStep({ [job]: { state: "running", start: iso(T0), restarts: 0 } });
    w.now += 10 * MIN;
    const marker = saved(w.now);
    w.schedulerStep({ [job]: { state: "pending", reason: "BeginTime", restarts: 1 } }, {
      markers: new Map([["a#1", marker]]),
    });
    w.now += 3 * MIN; // past the marker grace
    const r = w.schedulerStep({ [job]: { state: "running", start: iso(w.now), ...extra } }, {
      logs: [w.log("a", "exiting after saving a checkpoint (signal)")],
      markers: new Map([["a#1", marker]]),
    });
    assertEquals(w.latest("a").verdict, "running", what);
    assertEquals(ofKind(r, "submit").length, 0, what);
    assertEquals(w.attempts("a"), 1, what);
    // The new run's own marker, when it ends, decides.
    w.now += 5 * MIN;
    const own = { ...saved(w.now), forwarded_signals: [], restart_count: 1 };
    const end = w.schedulerStep({ [job]: { state: "completed", start: iso(w.now - 5 * MIN) } }, {
      markers: new Map([["a#1", own]]),
    });
    assertEquals(w.latest("a").verdict, "completed", what);
    assertEquals(ofKind(end, "submit").length, 0, what);
  }
});

Deno.test("step: a slow answer says nothing of submissions made after it was asked", () => {
  const w = new World({}, CRASH, { runs: ["a", "b"] });
  const job = w.submit("a");
  const asked = w.state.store.seq; // the query goes out here; b's sbatch runs meanwhile
  w.record({
    type: "submit_intent",
    key: "b",
    comment: "tag-b",
    runs: [{ name: "b", index: 1, attempt: 1, fingerprint: "fp-b", why: "test" }],
  });
  const reading: SchedulerReading = {
    jobs: [{
      id: job,
      jobId: job,
      name: "a",
      state: "running",
      rawState: "RUNNING",
      reason: "None",
      source: "squeue",
    }],
    intentJobs: new Map(),
    markers: new Map(),
    asOf: asked,
  };
  const r = w.step({ scheduler: reading });
  // b's intent is neither abandoned (and b submitted twice) nor its attempt judged missing.
  assertEquals(types(r).filter((t) => t === "abandoned" || t === "submit_intent"), []);
  assertEquals(w.latest("b").state, "submitting");
  assertEquals(w.latest("a").state, "running");
});

Deno.test("step: a job id SLURM reused for another job is not taken for ours (the tag decides)", () => {
  const w = new World({}, CRASH);
  const job = w.submit("a");
  w.schedulerStep({ [job]: { state: "running", comment: `tag-${job}` } });
  assertEquals(w.latest("a").state, "running");
  // After a state reset the id belongs to someone else's job, which fails.
  const r = w.schedulerStep({
    [job]: { state: "failed", exitCode: 1, comment: "autoexp:other:x:s.3" },
  });
  assertEquals(w.latest("a").state, "unknown");
  assertEquals(w.latest("a").verdictFinal ?? false, false);
  assertEquals(ofKind(r, "submit").length, 0);
  // A comment a site's submit plugin rewrote (no autoexp tag at all) leaves the id to decide.
  const v = new World({}, CRASH);
  const own = v.submit("a");
  v.schedulerStep({ [own]: { state: "running", comment: "project=abc123" } });
  assertEquals(v.latest("a").state, "running");
});

Deno.test("step: no answer from the scheduler is no information", () => {
  const w = new World({}, CRASH);
  const job = w.submit("a");
  w.schedulerStep({ [job]: "running" });
  const before = structuredClone(w.state.store);
  const r = w.step({
    scheduler: { error: "slurm_load_jobs error: Unable to contact slurm controller" },
  });
  assertEquals(r.events, []);
  assertEquals(w.state.store, before);
  assert_(said(r)[0].includes("did not answer"), said(r).join("\n"));
  assertEquals(said(w.step({ scheduler: { error: "again" } })), [], "said once");
  const back = w.schedulerStep({ [job]: "running" });
  assert_(said(back).includes("the scheduler answers again"), said(back).join("\n"));
});

Deno.test("step: a job missing everywhere is unknown, never failed; lost after 20 minutes", () => {
  const w = new World({}, [
    { mode: "node_fail", implementation: { class_name: "AlwaysRestartPolicy", max_retries: 1 } },
  ]);
  const job = w.submit("a");
  w.schedulerStep({ [job]: "running" });
  const r = w.schedulerStep({}, { missingMarkers: {} });
  assertEquals(w.latest("a").state, "unknown");
  assertEquals(w.latest("a").verdictFinal ?? false, false);
  assertEquals(ofKind(r, "submit").length, 0);
  w.now += 21 * MIN;
  const r2 = w.schedulerStep({});
  assertEquals(w.latest("a").state, "lost");
  assertEquals(w.latest("a").verdict, "node_fail");
  assertEquals(ofKind(r2, "submit").length, 1);
  w.assertReplays();
});

Deno.test("step: a job gone from the queue is judged by its end marker", () => {
  const w = new World({}, CRASH);
  const job = w.submit("a");
  w.schedulerStep({ [job]: "running" });
  const r = w.schedulerStep({}, {
    missingMarkers: { "a#1": { state: "completed", exit_code: 0 } },
  });
  assertEquals(w.latest("a").verdict, "completed");
  assertEquals(ofKind(r, "submit").length, 0);
});

Deno.test("step: a state event's RestartAction takes the place of the restart policy", () => {
  const w = new World({
    state_events: [{
      name: "on_timeout",
      state: { class_name: "TimeoutState" },
      actions: [{
        class_name: "EventAction",
        conditions: [{ class_name: "MaxAttemptsCondition", max_attempts: 3 }],
        action: { class_name: "RestartAction", reason: "resume after timeout", add_minutes: 15 },
      }],
    }],
  }, [{ mode: "timeout", implementation: { class_name: "NoRestartPolicy" } }]);
  const job = w.submit("a");
  const r = w.schedulerStep({ [job]: "timeout" });
  const a = w.latest("a");
  assertEquals(a.restart?.why, "resume after timeout");
  assertEquals(a.restart?.timeMinutes, 75);
  assertEquals(ofKind(r, "submit")[0].chosen[0].time, 75);
});

Deno.test("step: a RestartAction on a running attempt cancels it first, then restarts", () => {
  const w = new World({
    log_events: [{
      name: "nan",
      pattern: "loss is NaN",
      extract_groups: {},
      actions: [{ class_name: "RestartAction", reason: "NaN loss" }],
    }],
  });
  const job = w.submit("a");
  w.schedulerStep({ [job]: "running" });
  const r = w.step({ logs: [w.log("a", "loss is NaN")] });
  assertEquals(ofKind(r, "cancel").map((e) => e.jobId), [job]);
  assertEquals(w.latest("a").cancelRequested, "restart: NaN loss");
  const r2 = w.schedulerStep({ [job]: "cancelled" });
  assertEquals(ofKind(r2, "submit")[0].chosen[0].attempt, 2);
});

Deno.test("step: a run the user cancelled is neither restarted nor derived from", () => {
  const w = new World({}, [
    { mode: "cancelled", implementation: { class_name: "AlwaysRestartPolicy", max_retries: 3 } },
  ]);
  const job = w.submit("a");
  w.record({
    type: "cancel_requested",
    run: "a",
    attempt: 1,
    why: "cancelled by the user (autoexp cancel)",
  });
  const r = w.schedulerStep({ [job]: "cancelled" });
  assertEquals(ofKind(r, "submit").length, 0);
  assertEquals(w.latest("a").restartDeclined, "cancelled by the user");
});

Deno.test("step: a derived run the runner planned is journaled and submitted once", () => {
  const w = new World(onCkpt([{
    class_name: "RunAutoexpAction",
    name: "{run}_cooldown_{checkpoint_iteration}",
    overrides: ["+x=1"],
  }]));
  w.submit("a");
  const r = w.step({ logs: [w.log("a", "ckpt 20")] });
  const id = actionId(w, "a", 20, 0);
  assertEquals(ofKind(r, "run_action").map((e) => e.id), [id]);
  // the loop follows the new run from the outcome on (as monitor.ts does)
  const a = w.tracked.get("a")!;
  const child = { ...a.run, name: "a_cooldown_20", index: 0 };
  w.tracked.set(child.name, { ...a, run: child });
  const outcome: ActionOutcome = {
    id,
    status: "derived",
    name: "a_cooldown_20",
    planDir: "/sweep/derived/a_cooldown_20",
    detail: "derived run a_cooldown_20",
  };
  const r2 = w.step({ actions: [outcome] });
  assertEquals(types(r2).filter((t) => t === "derived").length, 1);
  const r3 = w.schedulerStep({});
  assertEquals(
    ofKind(r3, "submit").flatMap((e) => e.chosen.map((c) => [c.run.name, c.attempt])),
    [["a_cooldown_20", 1]],
  );
  w.assertReplays();
});

Deno.test("step: the events it returns replay to the state it advanced (a long scenario)", () => {
  const w = new World(CKPT, CRASH, { runs: ["a", "b"] });
  const ja = w.submit("a");
  const jb = w.submit("b");
  w.step({ logs: [w.log("a", "saved checkpoint 10 to /c/10"), w.log("b", "x")] });
  w.schedulerStep({ [ja]: "running", [jb]: "failed" }, {
    markers: new Map([["b#1", { state: "failed", exit_code: 3 }]]),
  });
  w.step({ actions: [{ id: actionId(w, "a", 10, 1), status: "failed", detail: "exit 2" }] });
  w.now += MIN;
  w.schedulerStep({ [ja]: "completed" }, {
    markers: new Map([["a#1", { state: "completed", exit_code: 0 }]]),
  });
  assertEquals(w.latest("a").verdict, "completed");
  assertEquals(action(w, actionId(w, "a", 10, 1)).status, "failed");
  w.assertReplays();
});

Deno.test("step: a condition naming a placeholder without a value fails the action, not the step", () => {
  const w = new World({
    log_events: [{
      name: "ckpt",
      pattern: String.raw`ckpt (?P<it>\d+)(?: tag (?P<tag>\w+))?`,
      extract_groups: { checkpoint_iteration: "it" },
      actions: [{
        class_name: "EventAction",
        conditions: [{
          class_name: "MetadataCondition",
          key: "checkpoint_iteration",
          equals: "{tag}",
        }],
        action: { class_name: "RunCommandAction", command: ["x"] },
      }],
    }],
  });
  w.submit("a");
  const r = w.step({ logs: [w.log("a", "ckpt 10")] });
  assertEquals(action(w, actionId(w, "a", 10, 0)).status, "failed");
  assertEquals(ofKind(r, "run_action").length, 0);
  w.assertReplays();
});

Deno.test("step: no derived run for a run the user cancelled", () => {
  const w = new World(
    onCkpt([{ class_name: "RunAutoexpAction", name: "{run}_cd", overrides: [] }]),
  );
  w.submit("a");
  w.record({
    type: "cancel_requested",
    run: "a",
    attempt: 1,
    why: "cancelled by the user (autoexp cancel)",
  });
  const r = w.step({ logs: [w.log("a", "ckpt 20")] });
  assertEquals(ofKind(r, "run_action").length, 0);
  assertEquals(action(w, actionId(w, "a", 20, 0)).status, "skipped");
});

Deno.test("step: only an action an earlier monitor started is run as resumed", () => {
  const w = new World(CKPT);
  w.submit("a");
  w.step({ logs: [w.log("a", "saved checkpoint 10 to /c/10")] });
  const id = actionId(w, "a", 10, 1);
  assertEquals(action(w, id).status, "started");
  // A new monitor (nothing running in this process) finds it started: resumed.
  w.state.running.clear();
  const again = w.step({});
  assertEquals(ofKind(again, "run_action").map((e) => [e.id, e.resumed]), [[id, true]]);
  const fresh = new World(CKPT);
  fresh.submit("a");
  const r = fresh.step({ logs: [fresh.log("a", "saved checkpoint 10 to /c/10")] });
  assertEquals(ofKind(r, "run_action").map((e) => e.resumed), [false]);
});

Deno.test("step: an attempt whose job is found by its tag is judged a round later", () => {
  const w = new World({}, CRASH);
  w.record({
    type: "submit_intent",
    key: "a",
    comment: "tag-x",
    runs: [{ name: "a", index: 0, attempt: 1, fingerprint: "fp-a", why: "test" }],
  });
  const job: JobObservation = {
    id: "555",
    jobId: "555",
    name: "a",
    state: "failed",
    rawState: "FAILED",
    reason: "None",
    exitCode: 1,
    comment: "tag-x",
    source: "sacct",
  };
  const reading: SchedulerReading = {
    jobs: [job],
    intentJobs: new Map(),
    markers: new Map(),
    asOf: w.state.store.seq,
  };
  const r = w.step({ scheduler: reading });
  assertEquals(w.latest("a").jobId, "555");
  assertEquals(w.latest("a").verdict, undefined, "not judged before its log and marker are read");
  assertEquals(ofKind(r, "submit").length, 0);
  w.step({
    scheduler: reading,
    logs: [w.log("a", "torch.OutOfMemoryError: CUDA out of memory.")],
    markers: new Map([["a#1", { state: "failed", exit_code: 1 }]]),
  });
  assertEquals(w.latest("a").verdict, "out_of_memory");
});

// ---------------------------------------------------------------- issue 17: restarts

const NCCL_WATCHDOG =
  "[rank3]:[E822 14:05:12.345678901 ProcessGroupNCCL.cpp:632] [Rank 3] Watchdog caught collective operation timeout: WorkNCCL(SeqNum=48213, OpType=ALLREDUCE, NumelIn=1, NumelOut=1, Timeout(ms)=600000) ran for 600023 milliseconds before timing out.";

const failedMarker = (attempt: number) =>
  new Map([[`a#${attempt}`, { state: "failed" as const, exit_code: 134 }]]);

Deno.test("step: a run that failed after an NCCL watchdog timeout is restarted by the nccl policy, excluding its nodes", () => {
  const w = new World({}, [
    { mode: "crash", implementation: { class_name: "NoRestartPolicy" } },
    {
      mode: "nccl",
      implementation: {
        class_name: "AlwaysRestartPolicy",
        max_retries: 2,
        exclude_failed_nodes: true,
      },
    },
  ]);
  const job = w.submit("a");
  w.schedulerStep({ [job]: { state: "running", nodeList: "nid001234" } });
  assertEquals(w.latest("a").nodes, "nid001234");
  const r = w.schedulerStep({ [job]: "failed" }, {
    logs: [
      w.log(
        "a",
        NCCL_WATCHDOG,
        "terminate called after throwing an instance of 'c10::DistBackendError'",
      ),
    ],
    markers: failedMarker(1),
  });
  assertEquals(w.latest("a").verdict, "nccl_failed");
  const chosen = ofKind(r, "submit")[0]?.chosen[0];
  assertEquals(chosen?.extraArgs, ["--exclude=nid001234"]);
  assert_(said(r).some((l) => l.includes("excluding nid001234")), said(r).join("\n"));
  // The same exit without the NCCL lines is a crash: its own policy (not restarted).
  const c = new World({}, [
    { mode: "crash", implementation: { class_name: "NoRestartPolicy", message: "a bug" } },
    { mode: "nccl", implementation: { class_name: "AlwaysRestartPolicy", max_retries: 2 } },
  ]);
  const cr = c.schedulerStep({ [c.submit("a")]: "failed" }, {
    logs: [c.log("a", "Traceback (most recent call last):")],
    markers: failedMarker(1),
  });
  assertEquals(c.latest("a").verdict, "failed");
  assertEquals(ofKind(cr, "submit").length, 0);
  w.assertReplays();
});

Deno.test("step: an nccl restart whose nodes the scheduler never named is made without --exclude, and says so", () => {
  const w = new World({}, [{
    mode: "nccl",
    implementation: {
      class_name: "AlwaysRestartPolicy",
      max_retries: 1,
      exclude_failed_nodes: true,
    },
  }]);
  const r = w.schedulerStep({ [w.submit("a")]: "failed" }, {
    logs: [w.log("a", NCCL_WATCHDOG)],
    markers: failedMarker(1),
  });
  assertEquals(ofKind(r, "submit")[0]?.chosen[0].extraArgs, undefined);
  assert_(said(r).some((l) => l.includes("none is excluded")), said(r).join("\n"));
});

Deno.test("step: restarts that make no progress stop the run, with the reason in the journal", () => {
  const w = new World({}, [{
    mode: "crash",
    implementation: { class_name: "AlwaysRestartPolicy", max_retries: 10 },
  }], { restart: { max_restarts_without_progress: 2 } });
  // Attempt 1 gets to iteration 30; attempts 2 and 3 resume and crash at iteration 30 again.
  const lines = [" iteration       20/      40 |", " iteration       30/      40 |"];
  for (const attempt of [1, 2, 3]) {
    const job = w.submit("a", attempt);
    w.step({ logs: [w.log("a", ...lines)] });
    const r = w.schedulerStep({ [job]: "failed" }, { markers: failedMarker(attempt) });
    assertEquals(w.latest("a").reached, { iteration: 30 });
    if (attempt < 3) {
      assertEquals(ofKind(r, "submit")[0]?.chosen[0].attempt, attempt + 1);
    } else {
      assertEquals(ofKind(r, "submit").length, 0, "not restarted a third time");
      const declined = w.latest("a").restartDeclined ?? "";
      assert_(declined.startsWith("no progress: the last 2 restarts"), declined);
      assert_(declined.includes("iteration 30"), declined);
      assert_(
        said(r).some((l) => l.startsWith("a: not restarted: no progress")),
        said(r).join("\n"),
      );
      const ev = r.events.find((e) => e.type === "restart_decided");
      assert_(ev?.type === "restart_decided" && ev.restart === null && ev.reason === declined);
    }
  }
  w.assertReplays();
});

Deno.test("step: a restart with backoff waits for its not-before time, also across a monitor restart", () => {
  const w = new World({}, [{
    mode: "crash",
    implementation: { class_name: "AlwaysRestartPolicy", max_retries: 3, backoff_base: 30 },
  }]);
  const job = w.submit("a");
  const r = w.schedulerStep({ [job]: "failed" }, { markers: failedMarker(1) });
  assertEquals(ofKind(r, "submit").length, 0, "the first restart waits 30 s");
  assertEquals(w.latest("a").restart?.notBefore, new Date(T0 + 30_000).toISOString());
  assertEquals(r.wakeAt, T0 + 30_000);
  assert_(said(r).some((l) => l.includes(`restarting at ${new Date(T0 + 30_000).toISOString()}`)));
  // A new monitor: its state is the journal replayed; it waits for the same time.
  const again = new World({}, [{
    mode: "crash",
    implementation: { class_name: "AlwaysRestartPolicy", max_retries: 3, backoff_base: 30 },
  }]);
  for (const e of w.journal) applyEvent(again.state.store, e);
  again.now = T0 + 20_000;
  const early = again.schedulerStep({});
  assertEquals(ofKind(early, "submit").length, 0);
  assertEquals(early.wakeAt, T0 + 30_000);
  again.now = T0 + 30_000;
  const due = again.schedulerStep({});
  assertEquals(ofKind(due, "submit")[0]?.chosen[0].attempt, 2);
  assertEquals(due.wakeAt, undefined);
});

Deno.test("step: a restart with overrides is submitted for re-planning (no frozen entries); the decision names them", () => {
  const w = new World({}, [{
    mode: "oom",
    implementation: {
      class_name: "AlwaysRestartPolicy",
      max_retries: 1,
      overrides: ["backend.args.micro_batch_size=2"],
    },
  }]);
  const r = w.schedulerStep({ [w.submit("a")]: "failed" }, {
    logs: [w.log("a", "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB")],
    markers: failedMarker(1),
  });
  assertEquals(w.latest("a").restart?.overrides, ["backend.args.micro_batch_size=2"]);
  assert_(
    said(r).some((l) => l.includes("with backend.args.micro_batch_size=2")),
    said(r).join("\n"),
  );
  const chosen = ofKind(r, "submit")[0]?.chosen[0];
  assertEquals(chosen?.overrides, ["backend.args.micro_batch_size=2"]);
  assertEquals(chosen?.entries, undefined, "the re-planned run is frozen anew");
  w.assertReplays();
});

Deno.test("step: overrides of successive restarts add up (the latest winning), not replace each other", () => {
  const policy = (mode: string, overrides: string[]) => ({
    mode,
    implementation: { class_name: "AlwaysRestartPolicy", max_retries: 2, overrides },
  });
  const w = new World({}, [
    policy("oom", ["backend.args.micro_batch_size=2"]),
    policy("crash", ["backend.args.lr=1e-5"]),
  ]);
  const oom = "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB";
  w.schedulerStep({ [w.submit("a")]: "failed" }, {
    logs: [w.log("a", oom)],
    markers: failedMarker(1),
  });
  const second = w.submit("a");
  const r = w.schedulerStep({ [second]: "failed" }, { markers: failedMarker(1) });
  assertEquals(w.latest("a").restart?.overrides, ["backend.args.lr=1e-5"]);
  const chosen = ofKind(r, "submit")[0]?.chosen[0];
  assertEquals(chosen?.overrides, ["backend.args.micro_batch_size=2", "backend.args.lr=1e-5"]);
});

Deno.test("step: a run waiting for its start conditions is not judged stalled; idle time counts once followed", () => {
  const w = new World({ inactivity_threshold_seconds: 600 });
  const job = w.submit("a");
  const gated = new Set(["a"]);
  w.schedulerStep({ [job]: "running" }, { gated });
  w.now += 20 * MIN; // waiting for a file longer than the inactivity threshold
  w.schedulerStep({ [job]: "running" }, { gated });
  assertEquals(w.latest("a").verdict, "running");
  // Followed from now on: ten more quiet minutes make it stalled.
  w.now += 5 * MIN;
  w.schedulerStep({ [job]: "running" });
  assertEquals(w.latest("a").verdict, "running");
  w.now += 6 * MIN;
  w.schedulerStep({ [job]: "running" });
  assertEquals(w.latest("a").verdict, "stalled");
});

Deno.test("step: a restart sbatch refuses for its excluded node is made once more without the exclusion", () => {
  const w = new World({}, [{
    mode: "nccl",
    implementation: {
      class_name: "AlwaysRestartPolicy",
      max_retries: 2,
      exclude_failed_nodes: true,
    },
  }]);
  const job = w.submit("a");
  w.schedulerStep({ [job]: { state: "running", nodeList: "vm" } });
  w.schedulerStep({ [job]: "failed" }, {
    logs: [w.log("a", NCCL_WATCHDOG)],
    markers: failedMarker(1),
  });
  assertEquals(w.latest("a").restart?.extraArgs, ["--exclude=vm"]);
  // The restart's sbatch: a one-node partition has no other node.
  const refuse = () => {
    w.record({
      type: "submit_intent",
      key: "a",
      comment: "tag-x",
      runs: [{ name: "a", index: 0, attempt: w.attempts("a") + 1, fingerprint: "fp-a", why: "r" }],
      entries: "/sweep/entries-a.jsonl",
    });
    w.record({
      type: "submit_failed",
      intent: w.state.store.seq,
      error:
        "sbatch: error: Batch job submission failed: Requested node configuration is not available",
    });
  };
  refuse();
  const r = w.schedulerStep({});
  const chosen = ofKind(r, "submit")[0]?.chosen[0];
  assertEquals(chosen?.attempt, 3);
  assertEquals(chosen?.extraArgs, undefined);
  assert_(chosen?.why.includes("again without excluding the failed node"), chosen?.why);
  // Refused again (for another reason or the same): not a third time.
  w.record({
    type: "submit_intent",
    key: "a",
    comment: "tag-y",
    runs: [{ name: "a", index: 0, attempt: 3, fingerprint: "fp-a", why: chosen!.why }],
    entries: "/sweep/entries-a.jsonl",
  });
  w.record({
    type: "submit_failed",
    intent: w.state.store.seq,
    error:
      "sbatch: error: Batch job submission failed: Requested node configuration is not available",
  });
  assertEquals(ofKind(w.schedulerStep({}), "submit").length, 0);
});

// ---------------------------------------------------------------- pipelines (release.ts)

/** A pipeline: pretrain runs `pa`, `pb`; `fa` needs `pa`, `fb` needs `pb`, `ea` needs `fa`. */
function pipeline(policies: unknown = []): World {
  const w = new World({}, policies, { runs: ["pa", "pb", "fa", "fb", "ea"] });
  w.record(
    { type: "awaiting", run: "fa", index: 2, needs: ["pa"] },
    { type: "awaiting", run: "fb", index: 3, needs: ["pb"] },
    { type: "awaiting", run: "ea", index: 4, needs: ["fa"] },
  );
  return w;
}
const done = (run: string, attempt = 1) =>
  [`${run}#${attempt}`, { state: "completed", exit_code: 0 }] as [string, EndMarker];
const released = (r: StepResult) => r.events.flatMap((e) => e.type === "released" ? [e.run] : []);
const submitted = (r: StepResult) =>
  ofKind(r, "submit").flatMap((e) => e.chosen.map((c) => `${c.run.name}#${c.attempt}`));

Deno.test("step: a waiting run is released once, when its own input completed", () => {
  const w = pipeline();
  const pa = w.submit("pa"), pb = w.submit("pb");
  const r1 = w.schedulerStep({ [pa]: "running", [pb]: "running" });
  assertEquals(released(r1), []);
  const r2 = w.schedulerStep({ [pa]: "completed", [pb]: "running" }, {
    markers: new Map([done("pa")]),
  });
  assertEquals(released(r2), ["fa"], "fa's input completed; fb's still runs");
  assertEquals(submitted(r2), ["fa#1"]);
  assertEquals(w.state.store.runs.fa.released !== undefined, true);
  const fa = w.submit("fa"); // the loop performed the submission
  const r3 = w.schedulerStep({ [pb]: "running", [fa]: "running" });
  assertEquals([released(r3), submitted(r3)], [[], []], "released once, submitted once");
  w.assertReplays();
});

Deno.test("step: an input restarted under a new job id releases its dependent exactly once", () => {
  const w = pipeline(CRASH);
  const first = w.submit("pa");
  const r1 = w.schedulerStep({ [first]: "failed" }, {
    markers: new Map([["pa#1", { state: "failed", exit_code: 1 }]]),
  });
  assertEquals([released(r1), submitted(r1)], [[], ["pa#2"]], "a crash restarts, not releases");
  const second = w.submit("pa", 2);
  assert_(second !== first, "the restart has a new job id");
  const r2 = w.schedulerStep({ [second]: "completed" }, { markers: new Map([done("pa", 2)]) });
  assertEquals(released(r2), ["fa"]);
  const again = w.schedulerStep({ [second]: "completed" }, { markers: new Map([done("pa", 2)]) });
  assertEquals(released(again), []);
  assertEquals(w.state.store.runs.fb.released, undefined, "fb still waits for pb");
  w.assertReplays();
});

Deno.test("step: an input failing for good blocks its dependents, the whole chain, with why", () => {
  const w = pipeline(); // no restart policy: a crash is final
  const pa = w.submit("pa"), pb = w.submit("pb");
  const r = w.schedulerStep({ [pa]: "failed", [pb]: "running" }, {
    markers: new Map([["pa#1", { state: "failed", exit_code: 1 }]]),
  });
  const blocked = r.events.flatMap((e) => e.type === "blocked" ? [[e.run, e.reason]] : []);
  assertEquals(blocked.map(([run]) => run), ["fa", "ea"]);
  assert_(/input pa ended failed \(attempt 1, job \d+\)/.test(blocked[0][1]), blocked[0][1]);
  assert_(blocked[1][1].startsWith("input fa is blocked"), blocked[1][1]);
  assertEquals(submitted(r), []);
  assert_(said(r).some((l) => l.startsWith("fa: blocked (input pa")), said(r).join("\n"));
  // fb still waits for pb: the monitor is not done; once pb fails too, it is.
  assertEquals(allDone(w.state, w.tracked), false);
  const r2 = w.schedulerStep({ [pb]: "failed" }, {
    markers: new Map([["pb#1", { state: "failed", exit_code: 1 }]]),
  });
  assertEquals(r2.events.filter((e) => e.type === "blocked").map((e) => e.run), ["fb"]);
  assertEquals(allDone(w.state, w.tracked), true);
  w.assertReplays();
});

Deno.test("step: a run waiting for an input that was never submitted is blocked, not kept", () => {
  const w = new World({}, [], { runs: ["pa", "fa"] });
  w.record({ type: "awaiting", run: "fa", index: 1, needs: ["pa"] });
  const r = w.schedulerStep({});
  assertEquals(
    r.events.flatMap((e) => e.type === "blocked" ? [e.reason] : []),
    ["input pa was never submitted"],
  );
});
