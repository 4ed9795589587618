/**
 * The ad-hoc monitor's pure parts (lib/monitor/adhoc.ts): seed 000's command line
 * (`--log train=outputs/logs/train.out --action convert_checkpoint=...`) into what the one
 * monitor follows, the events that adopt the job, the refusals (nothing resubmits a job autoexp
 * did not submit), and the log-only attempt that ends when its log says so. Also the start
 * gate (lib/monitor/start.ts) and the dry-run description (lib/monitor/describe.ts).
 */
import { assert_, assertEquals, assertThrows } from "../_assert.ts";
import {
  adhocPlan,
  adoptEvents,
  LOG_ONLY_JOB,
  logOnlyScheduler,
  parseAdhoc,
} from "../../lib/monitor/adhoc.ts";
import { describeFollow } from "../../lib/monitor/describe.ts";
import { decideStart, following, startCheckDue } from "../../lib/monitor/start.ts";
import { attemptLogPath, type MonitorState, stepMonitor } from "../../lib/monitor/step.ts";
import { trackRun } from "../../lib/monitor/track.ts";
import { parseMonitorSpec } from "../../lib/monitoring/spec.ts";
import type { StartConditionsSpec } from "../../lib/monitoring/spec_types.ts";
import { ConfigError, UsageError } from "../../lib/errors.ts";
import { emptyState, EventSink, latestAttempt } from "../../lib/store/state.ts";
import type { SchedulerReading } from "../../lib/submit/mod.ts";

const T0 = Date.parse("2026-12-01T10:00:00Z");

/** Seed 000's monitoring snippet ("Trigger Post-processing from Log Signals"), as data. */
const SEED_000 = {
  monitoring: {
    class_name: "SlurmLogMonitor",
    log_signals: [{
      name: "checkpoint_ready",
      pattern: String.raw`Checkpoint saved: (?P<path>.+\.pt)`,
      pattern_type: "regex",
      action: "convert_checkpoint",
      metadata: { kind: "checkpoint" },
    }],
  },
};
const SEED_ACTION = "convert_checkpoint=python tools/convert.py {checkpoint_path}";

function errorOf(fn: () => unknown): Error {
  return assertThrows(fn);
}

Deno.test("parseAdhoc: seed 000's command line: its signal runs the --action command", () => {
  const req = parseAdhoc({
    logs: ["train=outputs/logs/train.out"],
    actions: [SEED_ACTION],
    config: SEED_000,
    configPath: "monitoring.yaml",
    cwd: "/work",
  });
  assertEquals(req.jobId, null);
  assertEquals(req.logs, [{ name: "train", path: "/work/outputs/logs/train.out" }]);
  const ev = req.spec.logEvents.find((e) => e.spec.name === "checkpoint_ready")!;
  assertEquals(ev.actions.map((a) => [a.mode, a.action]), [[
    "queue",
    {
      kind: "command",
      command: { shell: "python tools/convert.py {checkpoint_path}" },
      timeoutSeconds: 3600,
      cwd: null,
      env: {},
    },
  ]]);
  assert_(req.dir.startsWith("/work/autoexp-monitor/logs-"), req.dir);
});

Deno.test("parseAdhoc: --action NAME attaches to the built-in event NAME; a job id names the state dir", () => {
  const req = parseAdhoc({
    jobId: "123456",
    logs: ["train=logs/slurm-%j.out"],
    actions: ["megatron_checkpoint_saved=echo {checkpoint_iteration}"],
    config: null,
    cwd: "/work",
  });
  assertEquals(req.dir, "/work/autoexp-monitor/job-123456");
  assertEquals(req.logs[0].path, "/work/logs/slurm-{job_id}.out");
  const ev = req.spec.logEvents.find((e) => e.spec.name === "megatron_checkpoint_saved")!;
  assertEquals(ev.spec.kind, "checkpoint");
  assertEquals(ev.actions.length, 1);
  // The plan's run reads the job's own log.
  const loaded = adhocPlan(req);
  assertEquals(loaded.plan.runs[0].logPath, "/work/logs/slurm-{job_id}.out");
  assertEquals(loaded.plan.runs[0].runDir, "/work/autoexp-monitor/job-123456/runs/train");
});

Deno.test("parseAdhoc: malformed command lines are usage errors that say the form", () => {
  const base = { logs: ["train=t.out"], actions: [] as string[], config: null, cwd: "/w" };
  const cases: [Partial<typeof base> & { jobId?: string }, string][] = [
    [{ jobId: "abc" }, '"abc" is not a SLURM job id'],
    [{ logs: [] }, "which log? give the job's log file: --log NAME=PATH"],
    [{ logs: ["a=x", "a=y"] }, "--log a=... is given twice"],
    [{ logs: ["train=slurm-%j.out"] }, "names the job id (%j or {job_id}) but no job id is given"],
    [{ actions: ["convert"] }, "expected NAME=COMMAND"],
    [
      { actions: ["megatron_checkpont_saved=x"] },
      '(did you mean one of "megatron_checkpoint_saved"',
    ],
  ];
  for (const [over, text] of cases) {
    const e = errorOf(() => parseAdhoc({ ...base, ...over }));
    assert_(e instanceof UsageError, `${e.name}: ${e.message}`);
    assert_(e.message.includes(text), `${JSON.stringify(over)}: ${e.message}`);
  }
});

Deno.test("parseAdhoc: nothing that would resubmit the job is accepted, each said with where", () => {
  const e = errorOf(() =>
    parseAdhoc({
      jobId: "5",
      logs: ["train=t.out"],
      actions: [],
      config: {
        restart_policies: [{
          mode: "timeout",
          implementation: { class_name: "AlwaysRestartPolicy", max_retries: 2 },
        }],
        state_events: [{
          name: "timeout",
          state: { class_name: "TimeoutState" },
          actions: [{ class_name: "RestartAction" }],
        }],
        log_events: [{
          name: "ckpt",
          pattern: "saved (?P<iteration>\\d+)",
          actions: [{ class_name: "RunAutoexpAction", overrides: [] }],
        }],
      },
      configPath: "mon.yaml",
      cwd: "/w",
    })
  );
  assert_(e instanceof ConfigError, e.message);
  const text = e.message;
  assert_(text.includes('state event "timeout": RestartAction resubmits'), text);
  assert_(text.includes('log event "ckpt": RunAutoexpAction derives a run'), text);
  assert_(text.includes("monitoring.restart_policies: restart policies resubmit"), text);
  assert_(text.includes("mon.yaml"), text);
});

Deno.test("parseAdhoc: config problems name the file and key, unknown placeholders too", () => {
  const problem = (config: unknown, action: string) => {
    const e = errorOf(() =>
      parseAdhoc({
        logs: ["train=t.out"],
        actions: [action],
        config,
        configPath: "mon.yaml",
        cwd: "/w",
      })
    );
    assert_(e instanceof ConfigError, e.message);
    return e.message;
  };
  const key = problem({ ...SEED_000.monitoring, log_signal: [] }, SEED_ACTION);
  assert_(key.includes('mon.yaml: monitoring.log_signal: unknown key "log_signal"'), key);
  const placeholder = problem(SEED_000, "convert_checkpoint=python convert.py {checkpoint_pth}");
  assert_(placeholder.includes("unknown placeholder {checkpoint_pth}"), placeholder);
  assert_(placeholder.includes("did you mean {checkpoint_path}?"), placeholder);
});

Deno.test("adoptEvents: the job becomes attempt 1 once; another job in the same directory is refused", () => {
  const req = parseAdhoc({
    jobId: "77",
    logs: ["train=t.out"],
    actions: [],
    config: null,
    cwd: "/w",
  });
  const state = emptyState();
  const sink = new EventSink(state, new Date(T0).toISOString());
  for (const ev of adoptEvents(state, req, new Date(T0).toISOString())) sink.emit(ev);
  const a = latestAttempt(state.runs.train)!;
  assertEquals([a.attempt, a.jobId, a.state], [1, "77", "running"]);
  assert_(a.why.includes("not submitted by autoexp"), a.why);
  assertEquals(adoptEvents(state, req, new Date(T0).toISOString()), [], "resumed: nothing new");
  // An array task: asked for by its array, its log where --log says.
  const task = parseAdhoc({
    jobId: "80_3",
    logs: ["train=t-%j.out"],
    actions: [],
    config: null,
    cwd: "/w",
  });
  const ts = emptyState();
  new EventSink(ts, "t").emit(adoptEvents(ts, task, "t")[0]);
  const ta = latestAttempt(ts.runs.train)!;
  assertEquals([ta.jobId, ta.arrayJobId, ta.taskId], ["80_3", "80", 3]);
  const tp = adhocPlan(task);
  assertEquals(attemptLogPath(tp.plan, tp.plan.runs[0], ta), "/w/t-80_3.out");
  const other = { ...req, jobId: "78" };
  const e = errorOf(() => adoptEvents(state, other, new Date(T0).toISOString()));
  assert_(
    e instanceof UsageError && e.message.includes("follows job 77 as train, not job 78"),
    e.message,
  );
});

/** A log-only ad-hoc monitor's state and one scheduler round of the no-job scheduler. */
function logOnlyWorld(actions: string[]) {
  const req = parseAdhoc({ logs: ["train=t.out"], actions, config: null, cwd: "/w" });
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
  for (const ev of adoptEvents(state.store, req, new Date(T0).toISOString())) sink.emit(ev);
  const scheduler = logOnlyScheduler();
  const round = async (lines: string[]) => {
    const q = await scheduler.query({ ids: [LOG_ONLY_JOB] });
    const reading: SchedulerReading = {
      jobs: q.jobs,
      intentJobs: new Map(),
      markers: new Map(),
      asOf: state.store.seq,
    };
    return stepMonitor(state, {
      now: T0,
      logs: [{ run: "train", attempt: 1, lines, grew: lines.length > 0, outputsGrew: false }],
      scheduler: reading,
      markers: new Map(),
      actions: [],
    }, { tracked, main: loaded.plan, maxConcurrentActions: 8 });
  };
  return { state, round };
}

Deno.test("step: a log followed without a job runs until the log says training is done", async () => {
  const w = logOnlyWorld(["megatron_checkpoint_saved=echo {checkpoint_iteration}"]);
  await w.round([" [2026-12-01 10:00:00] iteration       10/     100 | lm loss: 1.0E+00 |"]);
  assertEquals(latestAttempt(w.state.store.runs.train)!.verdict, "running");
  // A traceback alone does not end it (it may be caught).
  await w.round(["Traceback (most recent call last):"]);
  assertEquals(latestAttempt(w.state.store.runs.train)!.verdictFinal, false);
  const r = await w.round([
    "successfully saved checkpoint from iteration     100 to /ckpt [ t 1/1 ]",
    "[after training is done] datetime: 2026-12-01 10:05:00",
  ]);
  const a = latestAttempt(w.state.store.runs.train)!;
  assertEquals([a.verdict, a.verdictFinal], ["completed", true]);
  assertEquals(
    r.events.filter((e) => e.type === "action_queued").length,
    1,
    "the checkpoint's action is queued in the round the log ends",
  );
  assertEquals(r.effects.filter((e) => e.kind === "submit"), [], "nothing is submitted");
});

Deno.test("logOnlyScheduler: answers running for what it is asked and refuses to act", async () => {
  const s = logOnlyScheduler();
  assertEquals((await s.query({ ids: ["log-only"] })).jobs.map((j) => j.state), ["running"]);
  let refused = "";
  await s.cancel(["log-only"]).catch((e) => refused = e.message);
  assert_(refused.includes("no job to cancel"), refused);
});

const START: StartConditionsSpec = {
  conditions: [{ kind: "file_exists", path: "/x", blocking: false, timeoutSeconds: null }],
  pollSeconds: 10,
  timeoutSeconds: 60,
};

Deno.test("decideStart: waits (said once), follows when the conditions hold or after the timeout", () => {
  const first = decideStart(START, undefined, "/x does not exist", T0, "train");
  assertEquals(first.gate.state, "waiting");
  assert_(
    first.say?.includes("train: waiting for its start conditions (/x does not exist"),
    first.say,
  );
  assertEquals(following(first.gate), false);
  assertEquals(startCheckDue(START, first.gate, T0 + 5_000), false);
  assertEquals(startCheckDue(START, first.gate, T0 + 10_000), true);
  const again = decideStart(START, first.gate, "/x does not exist", T0 + 10_000, "train");
  assertEquals([again.gate.state, again.say], ["waiting", undefined]);
  const met = decideStart(START, again.gate, null, T0 + 20_000, "train");
  assertEquals([met.gate.state, following(met.gate)], ["met", true]);
  assert_(met.say?.includes("start conditions hold"), met.say);
  const late = decideStart(START, again.gate, "/x does not exist", T0 + 60_000, "train");
  assertEquals([late.gate.state, following(late.gate)], ["gave_up", true]);
  assert_(
    late.say?.includes("did not hold within 60 s (/x does not exist); following its log anyway"),
  );
  // Met at the first check: nothing to say.
  assertEquals(decideStart(START, undefined, null, T0, "train").say, undefined);
  assertEquals(startCheckDue(START, met.gate, T0 + 100_000), false, "not checked again");
});

Deno.test("parseMonitorSpec: start_conditions in the short and the seed's class form; errors", () => {
  const spec = parseMonitorSpec({
    start_conditions: [
      { file_exists: "{output_dir}/started" },
      { command: "squeue -j {job_id} -h -t R | grep -q .", timeout_seconds: 5 },
      { class_name: "FileExistsCondition", path: "/data/ready" },
    ],
    start_poll_seconds: 3,
  }, null);
  assertEquals(spec.startConditions?.conditions.map((c) => c.kind), [
    "file_exists",
    "command",
    "file_exists",
  ]);
  assertEquals([spec.startConditions?.pollSeconds, spec.startConditions?.timeoutSeconds], [
    3,
    null,
  ]);
  let text = "";
  try {
    parseMonitorSpec({
      start_conditions: [
        { file_exist: "/x" },
        { file_exists: "/x", command: "true" },
        { class_name: "MaxAttemptsCondition", max_attempts: 2 },
      ],
    }, null);
  } catch (e) {
    text = (e as Error).message;
  }
  assert_(
    text.includes(
      'start_conditions[0].file_exist: unknown key "file_exist"; did you mean "file_exists"?',
    ),
    text,
  );
  assert_(
    text.includes("start_conditions[1]: give one of file_exists and command per entry"),
    text,
  );
  assert_(text.includes("a start condition is FileExistsCondition or CommandCondition"), text);
  let lone = "";
  try {
    parseMonitorSpec({ start_timeout_seconds: 5 }, null);
  } catch (e) {
    lone = (e as Error).message;
  }
  assert_(
    lone.includes("monitoring.start_timeout_seconds: is given without start_conditions"),
    lone,
  );
});

Deno.test("describeFollow: the jobs, logs, patterns and actions an ad-hoc monitor would follow", () => {
  const req = parseAdhoc({
    jobId: "9",
    logs: ["train=t.out"],
    actions: [SEED_ACTION],
    config: SEED_000,
    cwd: "/w",
  });
  const loaded = adhocPlan(req);
  const state = emptyState();
  const sink = new EventSink(state, new Date(T0).toISOString());
  for (const ev of adoptEvents(state, req, new Date(T0).toISOString())) sink.emit(ev);
  const tracked = new Map([[loaded.plan.runs[0].name, trackRun(loaded.plan.runs[0], loaded)]]);
  const d = describeFollow("adhoc", req.dir, "slurm", tracked, state);
  assertEquals(d.resubmits, false);
  assertEquals(d.runs, [{
    run: "train",
    job_id: "9",
    attempt: 1,
    state: "running",
    log: "/w/t.out",
    followed: true,
    monitoring: "adhoc",
  }]);
  const m = d.monitoring.adhoc as {
    events: { name: string; source: string; actions: unknown[] }[];
  };
  const signal = m.events.find((e) => e.name === "checkpoint_ready")!;
  assertEquals([signal.source, signal.actions.length], ["config", 1]);
  assert_(m.events.some((e) => e.name === "megatron_checkpoint_saved" && e.source === "built-in"));
  assertEquals(JSON.parse(JSON.stringify(d)), d, "plain JSON");
});
