/** Monitoring spec: the seeds' YAML examples as written, defaults, and one report of all mistakes. */
import { assertEquals, assertMatch, assertThrows } from "../_assert.ts";
import { ConfigError } from "../../lib/errors.ts";
import { parseYamlFile } from "../../lib/config/yaml.ts";
import { parseMonitorSpec, STATE_CLASSES } from "../../lib/monitoring/spec.ts";
import { FAILURE_MODES } from "../../lib/monitoring/vocabulary.ts";
import type { EventActionSpec, MonitorSpec } from "../../lib/monitoring/spec_types.ts";

/** A monitoring group file as composition leaves it: the defaults list is consumed. */
function group(text: string): Record<string, unknown> {
  const { defaults: _defaults, ...rest } = parseYamlFile(text, "monitoring.yaml").data as Record<
    string,
    unknown
  >;
  return rest;
}

function problems(monitoring: unknown, restart?: unknown): string[] {
  const e = assertThrows(() => parseMonitorSpec(monitoring, restart));
  if (!(e instanceof ConfigError)) throw e;
  return e.problems.map((p) => `${p.path}: ${p.message}${p.hint ? ` (${p.hint})` : ""}`);
}

const DEFAULTS: MonitorSpec = {
  pollIntervalSeconds: 60,
  logPollSeconds: 1,
  inactivityThresholdSeconds: null,
  outputPaths: [],
  builtinEvents: true,
  logEvents: [],
  stateEvents: [],
  restartPolicies: [],
};

const CHECKPOINT_PATTERN = String
  .raw`successfully saved checkpoint from iteration\s+(?P<iteration>\d+) to (?P<path>\S+)`;
const EXTRACT = { checkpoint_iteration: "iteration", checkpoint_path: "path" };

// Seed 001, "Checkpoint Conversion to HuggingFace", verbatim.
const HF_CONVERSION = `
# config/monitoring/megatron_checkpoint_hf_conversion.yaml
defaults:
  - megatron_production
  - _self_

log_events:
  - name: checkpoint_saved
    pattern: 'successfully saved checkpoint from iteration\\s+(?P<iteration>\\d+) to (?P<path>\\S+)'
    pattern_type: regex
    metadata:
      kind: checkpoint
      trigger: hf_conversion
    extract_groups:
      checkpoint_iteration: iteration
      checkpoint_path: path
    actions:
      # Log the checkpoint save
      - class_name: LogAction
        message: "checkpoint saved at iteration {checkpoint_iteration}"

      # Queue HuggingFace conversion
      - class_name: EventAction
        mode: queue
        conditions:
          # Wait for checkpoint file to be fully written
          - class_name: FileExistsCondition
            path: "{checkpoint_path}/latest_checkpointed_iteration.txt"
            blocking: true
            timeout_seconds: 600
        action:
          class_name: RunCommandAction
          command:
            - python
            - scripts/convert_checkpoint_to_hf.py
            - "--megatron-checkpoint"
            - "{checkpoint_path}"
            - "--output-dir"
            - "{output_dir}/hf_checkpoints/iter_{checkpoint_iteration}"
            - "--model-type"
            - "llama"
            - "--iteration"
            - "{checkpoint_iteration}"

      # Optionally, queue evaluation on the HF checkpoint
      - class_name: EventAction
        mode: queue
        conditions:
          - class_name: FileExistsCondition
            path: "{output_dir}/hf_checkpoints/iter_{checkpoint_iteration}/config.json"
            blocking: true
            timeout_seconds: 1800  # Wait up to 30 minutes for conversion
        action:
          class_name: RunCommandAction
          command:
            - python
            - scripts/evaluate_hf_checkpoint.py
            - "--checkpoint-dir"
            - "{output_dir}/hf_checkpoints/iter_{checkpoint_iteration}"
            - "--output-file"
            - "{output_dir}/evaluations/iter_{checkpoint_iteration}_results.json"
`;

function command(argv: string[]): EventActionSpec["action"] {
  return { kind: "command", command: { argv }, timeoutSeconds: 3600, cwd: null, env: {} };
}

Deno.test("parseMonitorSpec: seed 001 megatron_checkpoint_hf_conversion", () => {
  assertEquals(parseMonitorSpec(group(HF_CONVERSION), undefined), {
    ...DEFAULTS,
    logEvents: [{
      spec: {
        name: "checkpoint_saved",
        pattern: CHECKPOINT_PATTERN,
        pattern_type: "regex",
        metadata: { kind: "checkpoint", trigger: "hf_conversion" },
        extract_groups: EXTRACT,
      },
      actions: [
        {
          mode: "inline",
          conditions: [],
          action: { kind: "log", message: "checkpoint saved at iteration {checkpoint_iteration}" },
        },
        {
          mode: "queue",
          conditions: [{
            kind: "file_exists",
            path: "{checkpoint_path}/latest_checkpointed_iteration.txt",
            blocking: true,
            timeoutSeconds: 600,
          }],
          action: command([
            "python",
            "scripts/convert_checkpoint_to_hf.py",
            "--megatron-checkpoint",
            "{checkpoint_path}",
            "--output-dir",
            "{output_dir}/hf_checkpoints/iter_{checkpoint_iteration}",
            "--model-type",
            "llama",
            "--iteration",
            "{checkpoint_iteration}",
          ]),
        },
        {
          mode: "queue",
          conditions: [{
            kind: "file_exists",
            path: "{output_dir}/hf_checkpoints/iter_{checkpoint_iteration}/config.json",
            blocking: true,
            timeoutSeconds: 1800,
          }],
          action: command([
            "python",
            "scripts/evaluate_hf_checkpoint.py",
            "--checkpoint-dir",
            "{output_dir}/hf_checkpoints/iter_{checkpoint_iteration}",
            "--output-file",
            "{output_dir}/evaluations/iter_{checkpoint_iteration}_results.json",
          ]),
        },
      ],
    }],
  });
});

// Seed 001, "Enhanced Configuration: Multi-Stage Evaluation", verbatim.
const MULTI_EVAL = `
# config/monitoring/megatron_multi_eval.yaml
defaults:
  - megatron_production
  - _self_

log_events:
  - name: checkpoint_saved
    pattern: 'successfully saved checkpoint from iteration\\s+(?P<iteration>\\d+) to (?P<path>\\S+)'
    pattern_type: regex
    metadata:
      kind: checkpoint
      trigger: multi_evaluation
    extract_groups:
      checkpoint_iteration: iteration
      checkpoint_path: path
    actions:
      # Stage 1: Quick validation on small dataset
      - class_name: EventAction
        mode: queue
        conditions:
          - class_name: FileExistsCondition
            path: "{checkpoint_path}/latest_checkpointed_iteration.txt"
            blocking: true
        action:
          class_name: RunCommandAction
          command:
            - python
            - scripts/quick_eval.py
            - "--checkpoint"
            - "{checkpoint_path}"
            - "--dataset"
            - "validation_small"
            - "--output"
            - "{output_dir}/evals/quick_iter_{checkpoint_iteration}.json"

      # Stage 2: Full evaluation (conditional on iteration)
      - class_name: EventAction
        mode: queue
        conditions:
          # Only run full eval every 10k iterations
          - class_name: CommandCondition
            command: "python -c \\"import sys; sys.exit(0 if int('{checkpoint_iteration}') % 10000 == 0 else 1)\\""
          - class_name: FileExistsCondition
            path: "{checkpoint_path}/latest_checkpointed_iteration.txt"
            blocking: true
        action:
          class_name: RunAutoexpAction
          script: scripts/run_autoexp.py
          config_path: "{output_dir}/provenance/config_reference.json"
          overrides:
            - backend=evaluation
            - "+checkpoint_path={checkpoint_path}"
            - "+checkpoint_iteration={checkpoint_iteration}"
            - "backend.args.load={checkpoint_path}"
            - monitoring=megatron_basic

      # Stage 3: Benchmark suite (only on final checkpoint)
      - class_name: EventAction
        mode: queue
        conditions:
          - class_name: MetadataCondition
            key: checkpoint_iteration
            equals: "{backend.args.train_iters}"  # Final iteration
        action:
          class_name: RunCommandAction
          command:
            - python
            - scripts/run_benchmark_suite.py
            - "--checkpoint"
            - "{checkpoint_path}"
            - "--benchmarks"
            - "mmlu,hellaswag,arc,truthfulqa"
            - "--output"
            - "{output_dir}/benchmarks/final_results.json"
`;

Deno.test("parseMonitorSpec: seed 001 megatron_multi_eval", () => {
  const ready = {
    kind: "file_exists",
    path: "{checkpoint_path}/latest_checkpointed_iteration.txt",
    blocking: true,
    timeoutSeconds: 600,
  } as const;
  assertEquals(parseMonitorSpec(group(MULTI_EVAL), undefined), {
    ...DEFAULTS,
    logEvents: [{
      spec: {
        name: "checkpoint_saved",
        pattern: CHECKPOINT_PATTERN,
        pattern_type: "regex",
        metadata: { kind: "checkpoint", trigger: "multi_evaluation" },
        extract_groups: EXTRACT,
      },
      actions: [
        {
          mode: "queue",
          conditions: [ready],
          action: command([
            "python",
            "scripts/quick_eval.py",
            "--checkpoint",
            "{checkpoint_path}",
            "--dataset",
            "validation_small",
            "--output",
            "{output_dir}/evals/quick_iter_{checkpoint_iteration}.json",
          ]),
        },
        {
          mode: "queue",
          conditions: [
            {
              kind: "command",
              command: {
                shell:
                  `python -c "import sys; sys.exit(0 if int('{checkpoint_iteration}') % 10000 == 0 else 1)"`,
              },
              timeoutSeconds: 60,
            },
            ready,
          ],
          action: {
            kind: "autoexp",
            name: null,
            overrides: [
              "backend=evaluation",
              "+checkpoint_path={checkpoint_path}",
              "+checkpoint_iteration={checkpoint_iteration}",
              "backend.args.load={checkpoint_path}",
              "monitoring=megatron_basic",
            ],
          },
        },
        {
          mode: "queue",
          conditions: [{
            kind: "metadata",
            key: "checkpoint_iteration",
            op: "equals",
            value: "{backend.args.train_iters}",
          }],
          action: command([
            "python",
            "scripts/run_benchmark_suite.py",
            "--checkpoint",
            "{checkpoint_path}",
            "--benchmarks",
            "mmlu,hellaswag,arc,truthfulqa",
            "--output",
            "{output_dir}/benchmarks/final_results.json",
          ]),
        },
      ],
    }],
  });
});

// Seed 001, "Automatic Resume Logic", verbatim except that `log_path: ${project.log_path_current}`
// is given already resolved, as the config loader hands it over.
const AUTO_RESUME = `
# config/monitoring/megatron_auto_resume.yaml
class_name: SlurmLogMonitor
poll_interval_seconds: 30
inactivity_threshold_seconds: 1800

# Log path uses SLURM job ID for uniqueness
log_path: /scratch/scaling_experiments/logs/current.log

# Additional output paths for inactivity detection
output_paths:
  - "{output_dir}/train.log"
  - "{output_dir}/checkpoints/latest_checkpointed_iteration.txt"

state_events:
  - name: timeout
    state:
      class_name: TimeoutState
    actions:
      # Automatic restart with same experiment directory
      - class_name: EventAction
        conditions:
          - class_name: MaxAttemptsCondition
            max_attempts: 5
        action:
          class_name: RestartAction
          reason: "auto_resume_after_timeout"
          # Backend will automatically resume from latest checkpoint
          # because load path points to stable checkpoint directory

  - name: crash
    state:
      class_name: CrashState
    actions:
      # Restart on non-OOM crashes
      - class_name: EventAction
        conditions:
          - class_name: MetadataCondition
            key: error_type
            not_equals: oom
          - class_name: MaxAttemptsCondition
            max_attempts: 3
        action:
          class_name: RestartAction
          reason: "auto_resume_after_crash"
`;

function restart(reason: string): EventActionSpec["action"] {
  return { kind: "restart", reason, timeMinutes: null, addMinutes: null, resources: {} };
}

Deno.test("parseMonitorSpec: seed 001 megatron_auto_resume", () => {
  assertEquals(parseMonitorSpec(group(AUTO_RESUME), undefined), {
    ...DEFAULTS,
    pollIntervalSeconds: 30,
    inactivityThresholdSeconds: 1800,
    outputPaths: [
      "{output_dir}/train.log",
      "{output_dir}/checkpoints/latest_checkpointed_iteration.txt",
    ],
    stateEvents: [
      {
        name: "timeout",
        modes: ["timeout"],
        actions: [{
          mode: "inline",
          conditions: [{ kind: "max_attempts", maxAttempts: 5 }],
          action: restart("auto_resume_after_timeout"),
        }],
      },
      {
        name: "crash",
        modes: ["crash"],
        actions: [{
          mode: "inline",
          conditions: [
            { kind: "metadata", key: "error_type", op: "not_equals", value: "oom" },
            { kind: "max_attempts", maxAttempts: 3 },
          ],
          action: restart("auto_resume_after_crash"),
        }],
      },
    ],
  });
});

// Seed 000, sections 5 and 6. The seed writes the pattern in double quotes, where `\.` is not a
// valid YAML escape (PyYAML rejects it too), so it is single-quoted here. The seed defines the
// action on the command line (`--action convert_checkpoint='python tools/convert.py
// {checkpoint_path}'`); in config it goes under `monitoring.actions`.
const SEED_000 = `
restart_policies:
  - mode: stall
    implementation:
      class_name: AlwaysRestartPolicy
      max_retries: 2
  - mode: timeout
    implementation:
      class_name: AdjustTimeLimitPolicy
      minutes: 30
  - mode: crash
    implementation:
      class_name: NoRestartPolicy
      message: "manual intervention required"

monitoring:
  class_name: SlurmLogMonitor
  log_signals:
    - name: checkpoint_ready
      pattern: 'Checkpoint saved: (?P<path>.+\\.pt)'
      pattern_type: regex
      action: convert_checkpoint
      metadata:
        kind: checkpoint
  actions:
    convert_checkpoint: python tools/convert.py {checkpoint_path}
`;

const SEED_000_POLICIES = [
  { mode: "stall", className: "AlwaysRestartPolicy", maxRetries: 2 },
  { mode: "timeout", className: "AdjustTimeLimitPolicy", minutes: 30 },
  { mode: "crash", className: "NoRestartPolicy", message: "manual intervention required" },
] as const;

Deno.test("parseMonitorSpec: seed 000 log_signals with a named action, restart_policies", () => {
  const root = group(SEED_000);
  assertEquals(parseMonitorSpec(root.monitoring, root.restart_policies), {
    ...DEFAULTS,
    logEvents: [{
      spec: {
        name: "checkpoint_ready",
        pattern: String.raw`Checkpoint saved: (?P<path>.+\.pt)`,
        pattern_type: "regex",
        metadata: { kind: "checkpoint" },
      },
      actions: [{
        mode: "queue",
        conditions: [],
        action: {
          kind: "command",
          command: { shell: "python tools/convert.py {checkpoint_path}" },
          timeoutSeconds: 3600,
          cwd: null,
          env: {},
        },
      }],
    }],
    restartPolicies: SEED_000_POLICIES,
  });
});

Deno.test("parseMonitorSpec: defaults, aliases and monitoring.restart_policies", () => {
  assertEquals(parseMonitorSpec(undefined, undefined), DEFAULTS);
  assertEquals(parseMonitorSpec(null, null), DEFAULTS);
  const root = group(SEED_000);
  assertEquals(
    parseMonitorSpec({
      check_interval_seconds: 15,
      log_poll_seconds: 0.5,
      inactivity_threshold_seconds: 0,
      builtin_events: false,
      log_path_template: "{output_dir}/logs/{name}.out",
      restart_policies: root.restart_policies,
    }, undefined),
    {
      ...DEFAULTS,
      pollIntervalSeconds: 15,
      logPollSeconds: 0.5,
      builtinEvents: false,
      restartPolicies: SEED_000_POLICIES,
    },
  );
});

Deno.test("parseMonitorSpec: actions, conditions and state shorthands", () => {
  const spec = parseMonitorSpec({
    actions: {
      archive: ["tar", "czf", "{checkpoint_path}.tgz", "{checkpoint_path}"],
      notify: { class_name: "LogAction", message: "saved {checkpoint_path}" },
    },
    log_signals: [
      { name: "a", pattern: "saved (?P<checkpoint_path>\\S+)", action: "archive" },
      { name: "b", pattern: "done", pattern_type: "substring", action: "notify" },
    ],
    state_events: [
      {
        name: "ended",
        state: { modes: ["oom", "node_fail", "oom"] },
        actions: [
          { class_name: "CancelAction" },
          {
            class_name: "RestartAction",
            time_limit: "1-00:00:00",
            resources: { mem: "128G", nodes: 2 },
          },
          { class_name: "RestartAction", add_minutes: 30 },
          {
            class_name: "EventAction",
            mode: "queue",
            conditions: [
              { class_name: "FileExistsCondition", path: "{output_dir}/x" },
              {
                class_name: "FileExistsCondition",
                path: "/y",
                blocking: true,
                timeout_seconds: null,
              },
              { class_name: "CommandCondition", command: ["test", "-d", "{output_dir}"] },
              { class_name: "MetadataCondition", key: "iteration", greater_equal: 1000 },
              { class_name: "MetadataCondition", key: "split", in: ["test", 3] },
            ],
            action: {
              class_name: "RunAutoexpAction",
              name: "{run}_cooldown",
              overrides: [],
            },
          },
          {
            class_name: "RunCommandAction",
            command: "echo {run}",
            timeout_seconds: 10,
            cwd: "{output_dir}",
            env: { A: "{run}", B: 1 },
          },
        ],
      },
      { name: "t", state: "timeout", actions: [] },
      {
        name: "s",
        state: "StalledState",
        actions: [],
      },
    ],
  }, undefined);
  assertEquals(spec.logEvents.map((e) => e.actions[0].action.kind), ["command", "log"]);
  assertEquals(spec.logEvents[0].actions[0].mode, "queue");
  assertEquals(spec.stateEvents.map((e) => e.modes), [["oom", "node_fail"], ["timeout"], [
    "stall",
  ]]);
  assertEquals(spec.stateEvents[0].actions.map((a) => a.action), [
    { kind: "cancel", reason: null },
    {
      kind: "restart",
      reason: null,
      timeMinutes: 1440,
      addMinutes: null,
      resources: { mem: "128G", nodes: 2 },
    },
    { kind: "restart", reason: null, timeMinutes: null, addMinutes: 30, resources: {} },
    { kind: "autoexp", name: "{run}_cooldown", overrides: [] },
    {
      kind: "command",
      command: { shell: "echo {run}" },
      timeoutSeconds: 10,
      cwd: "{output_dir}",
      env: { A: "{run}", B: "1" },
    },
  ]);
  assertEquals(spec.stateEvents[0].actions[3].conditions, [
    { kind: "file_exists", path: "{output_dir}/x", blocking: false, timeoutSeconds: null },
    { kind: "file_exists", path: "/y", blocking: true, timeoutSeconds: null },
    { kind: "command", command: { argv: ["test", "-d", "{output_dir}"] }, timeoutSeconds: 60 },
    { kind: "metadata", key: "iteration", op: "ge", value: "1000" },
    { kind: "metadata", key: "split", op: "in", value: ["test", "3"] },
  ]);
});

Deno.test("parseMonitorSpec: every mistake in one ConfigError, with paths and suggestions", () => {
  const config = group(`
poll_interval_second: 30
actions:
  convert_checkpoint: python convert.py {path}
log_signals:
  - name: ckpt
    pattern: 'saved (?P<path>\\S+)'
    action: convert_checkpont
log_events:
  - name: saved
    pattren: 'saved (?P<path>\\S+)'
    actions:
      - class_name: RunComandAction
        command: [echo, hi]
      - class_name: EventAction
        conditions:
          - class_name: FileExistsCondition
            path: "{path}/done"
            blocking: true
            timeout_seconds: ten
          - class_name: MaxAttemptsCondition
            max_attempts: 0
          - class_name: MetadataCondition
            key: iteration
            equals: 5
            not_equals: 6
        action:
          class_name: LogAction
          message: "saved {path"
state_events:
  - name: late
    state:
      class_name: TimeoutStat
    actions:
      - class_name: RestartAction
        time_limit: soon
`);
  const ev = "monitoring.log_events[0]";
  assertEquals(problems(config), [
    'monitoring.poll_interval_second: unknown key "poll_interval_second"; did you mean one of "poll_interval_seconds", "check_interval_seconds"?',
    'monitoring.log_signals[0].action: no action named "convert_checkpont"; did you mean "convert_checkpoint"?; defined under actions: convert_checkpoint',
    `${ev}.pattren: event "saved": unknown key "pattren" (did you mean "pattern"?)`,
    `${ev}.pattern: event "saved": "pattern" must be a non-empty string`,
    `${ev}.actions[0].class_name: unknown action class "RunComandAction"; did you mean "RunCommandAction"?`,
    `${ev}.actions[1].action.message: malformed template "saved {path" at position 6: an unclosed "{"; write "{{" for a literal brace (placeholders are {name} or {dotted.name}; write "{{" and "}}" for literal braces)`,
    `${ev}.actions[1].conditions[0].timeout_seconds: expected a number of seconds > 0, got "ten"`,
    `${ev}.actions[1].conditions[1].max_attempts: expected an integer >= 1, got 0`,
    `${ev}.actions[1].conditions[2]: gives 2 comparisons (equals, not_equals); give exactly one`,
    'monitoring.state_events[0].state.class_name: unknown state class "TimeoutStat"; did you mean "TimeoutState"?; one of the classes TimeoutState, CrashState, StallState, StalledState, OOMState, OutOfMemoryState, NodeFailState, NodeFailureState, PreemptedState, CancelledState, SuccessState, CompletedState, BlockedState, NCCLState, NcclState',
    'monitoring.state_events[0].actions[0].time_limit: expected minutes (an integer >= 1) or a SLURM time such as "2:00:00" or "1-00:00:00", got "soon"',
  ]);
});

const INVALID: [string, unknown, unknown, string[]][] = [
  ["not a mapping", ["x"], undefined, ["monitoring: expected a mapping, got a list"]],
  [
    "an unknown monitor class and bad scalars",
    {
      class_name: "SlurmMonitor",
      log_poll_seconds: -1,
      builtin_events: "yes",
      output_paths: "x",
    },
    undefined,
    [
      'monitoring.class_name: unknown monitor class "SlurmMonitor"; did you mean one of "SlurmLogMonitor", "LogMonitor", "Monitor"?; autoexp has one monitor and accepts SlurmLogMonitor, LogMonitor, Monitor (or no class_name)',
      "monitoring.log_poll_seconds: expected a number of seconds > 0, got -1",
      'monitoring.output_paths: expected a list of strings, got "x"',
      'monitoring.builtin_events: expected true or false, got "yes"',
    ],
  ],
  [
    "restart policies in both places, both validated",
    { restart_policies: [{ mode: "stal", implementation: { class_name: "NoRestartPolicy" } }] },
    [],
    [
      "monitoring.restart_policies: restart policies are also given at restart_policies; keep one of the two lists",
      'monitoring.restart_policies[0].mode: unknown mode "stal"; did you mean "stall"?; one of stall, timeout, crash, nccl, success, oom, node_fail, preempted, cancelled, blocked',
    ],
  ],
  [
    "the poll interval and its alias",
    { poll_interval_seconds: 10, check_interval_seconds: 10 },
    undefined,
    [
      "monitoring.check_interval_seconds: is another name for poll_interval_seconds, which is also given; keep one",
    ],
  ],
  [
    "conditions among actions, a nested EventAction, bad commands",
    {
      log_events: [{
        name: "x",
        pattern: "x",
        actions: [
          { class_name: "MaxAttemptsCondition", max_attempts: 1 },
          {
            class_name: "EventAction",
            mode: "later",
            action: { class_name: "EventAction" },
            conditions: [{ class_name: "LogAction", message: "m" }],
          },
          { class_name: "RunCommandAction", command: [] },
          { class_name: "RunCommandAction", command: ["echo", 5], env: { A: true } },
          { class_name: "RunAutoexpAction" },
          { class_name: "RestartAction", time_limit: 60, add_minutes: 5, resources: { memm: 1 } },
        ],
      }],
    },
    undefined,
    [
      'monitoring.log_events[0].actions[0].class_name: "MaxAttemptsCondition" is a condition, not an action; one of LogAction, RunCommandAction, RunAutoexpAction, RestartAction, CancelAction',
      "monitoring.log_events[0].actions[1].action.class_name: an EventAction cannot be nested; give the action itself; one of LogAction, RunCommandAction, RunAutoexpAction, RestartAction, CancelAction",
      'monitoring.log_events[0].actions[1].conditions[0].class_name: "LogAction" is an action, not a condition; one of FileExistsCondition, CommandCondition, MetadataCondition, MaxAttemptsCondition',
      'monitoring.log_events[0].actions[1].mode: expected "inline" (run now, in order) or "queue" (run in the background), got "later"',
      "monitoring.log_events[0].actions[2].command: the argument list is empty; give the program and its arguments",
      "monitoring.log_events[0].actions[3].command[1]: expected a string, got 5; quote it",
      "monitoring.log_events[0].actions[3].env.A: expected a string, got true; quote it",
      "monitoring.log_events[0].actions[4].overrides: missing; a list of overrides such as backend.args.lr=1e-5 (may be empty)",
      "monitoring.log_events[0].actions[5].add_minutes: time_limit sets the time limit and add_minutes extends it; give one of them",
      'monitoring.log_events[0].actions[5].resources.memm: unknown sbatch option "memm"; did you mean "mem"?',
    ],
  ],
  [
    "bad state events and a name used in both event lists",
    {
      log_signals: [{ name: "dup", pattern: "a" }],
      log_events: [{ name: "dup", pattern: "b" }],
      state_events: [
        { name: "a", state: "timout", actions: [] },
        { name: "a", state: { class_name: "CrashState", modes: ["crash"] }, actions: [] },
        { name: "b", state: { modes: [] } },
      ],
    },
    undefined,
    [
      'monitoring.log_events[0].name: the event name "dup" is also used at monitoring.log_signals[0]',
      'monitoring.state_events[0].state: unknown state "timout"; did you mean "timeout"?; one of stall, timeout, crash, nccl, success, oom, node_fail, preempted, cancelled, blocked',
      'monitoring.state_events[1].name: "a" is already the name of monitoring.state_events[0]',
      "monitoring.state_events[1].state: give either class_name or modes",
      "monitoring.state_events[2].state.modes: expected a non-empty list of modes (stall, timeout, crash, nccl, success, oom, node_fail, preempted, cancelled, blocked), got an empty list",
      "monitoring.state_events[2].actions: missing; a list of actions",
    ],
  ],
  [
    "a log signal naming an action when none are defined",
    { log_signals: [{ name: "x", pattern: "x", action: "convert" }] },
    undefined,
    [
      'monitoring.log_signals[0].action: no action named "convert"; define it under monitoring.actions (name: command)',
    ],
  ],
];

for (const [name, monitoring, restart, expected] of INVALID) {
  Deno.test(`parseMonitorSpec rejects: ${name}`, () => {
    assertEquals(problems(monitoring, restart), expected);
  });
}

Deno.test("parseMonitorSpec: custom key paths", () => {
  const e = assertThrows(() =>
    parseMonitorSpec({ log_poll_seconds: 0 }, [{ mode: "x" }], {
      monitoringPath: "runs.a.monitoring",
      restartPath: "runs.a.restart_policies",
    })
  );
  assertMatch(e.message, /runs\.a\.monitoring\.log_poll_seconds: expected a number/);
  assertMatch(e.message, /runs\.a\.restart_policies\[0\]\.mode: unknown mode "x"/);
});

Deno.test("every failure mode has a state class name for state_events", () => {
  assertEquals(new Set(Object.values(STATE_CLASSES)), new Set(FAILURE_MODES));
});
