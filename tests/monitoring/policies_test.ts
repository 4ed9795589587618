/** Restart policies: seed 000's `restart_policies`, validation messages, budgets, time limits. */
import { assertEquals, assertMatch, assertThrows } from "../_assert.ts";
import { ConfigError } from "../../lib/errors.ts";
import {
  decideRestart,
  parseRestartPolicies,
  type RestartPolicy,
} from "../../lib/monitoring/policies.ts";
import type { FailureMode } from "../../lib/monitor/lifecycle.ts";

// Seed 000, section 5, as parsed YAML.
const SEED_000 = [
  { mode: "stall", implementation: { class_name: "AlwaysRestartPolicy", max_retries: 2 } },
  { mode: "timeout", implementation: { class_name: "AdjustTimeLimitPolicy", minutes: 30 } },
  {
    mode: "crash",
    implementation: { class_name: "NoRestartPolicy", message: "manual intervention required" },
  },
];

Deno.test("parseRestartPolicies: seed 000's list", () => {
  assertEquals(parseRestartPolicies(SEED_000), [
    { mode: "stall", className: "AlwaysRestartPolicy", maxRetries: 2 },
    { mode: "timeout", className: "AdjustTimeLimitPolicy", minutes: 30 },
    { mode: "crash", className: "NoRestartPolicy", message: "manual intervention required" },
  ]);
  assertEquals(parseRestartPolicies(undefined), []);
  assertEquals(parseRestartPolicies(null), []);
  assertEquals(
    parseRestartPolicies([{
      mode: "oom",
      implementation: {
        class_name: "AdjustTimeLimitPolicy",
        minutes: 10,
        max_retries: 1,
        max_minutes: 60,
      },
    }]),
    [{
      mode: "oom",
      className: "AdjustTimeLimitPolicy",
      minutes: 10,
      maxRetries: 1,
      maxMinutes: 60,
    }],
  );
});

Deno.test("parseRestartPolicies: a mode's state word names the mode (one word in status and config)", () => {
  const p = parseRestartPolicies([
    { mode: "out_of_memory", implementation: { class_name: "NoRestartPolicy" } },
    { mode: "failed", implementation: { class_name: "AlwaysRestartPolicy", max_retries: 1 } },
    { mode: "stalled", implementation: { class_name: "AlwaysRestartPolicy", max_retries: 1 } },
    { mode: "nccl_failed", implementation: { class_name: "AlwaysRestartPolicy", max_retries: 1 } },
  ]);
  assertEquals(p.map((x) => x.mode), ["oom", "crash", "stall", "nccl"]);
  // The same mode twice, once by each word, is one mode given twice.
  assertMatch(
    problems([
      { mode: "oom", implementation: { class_name: "NoRestartPolicy" } },
      { mode: "out_of_memory", implementation: { class_name: "NoRestartPolicy" } },
    ])[0],
    /"oom" already has a policy/,
  );
});

function problems(value: unknown): string[] {
  const e = assertThrows(() => parseRestartPolicies(value));
  if (!(e instanceof ConfigError)) throw e;
  return e.problems.map((p) => `${p.path}: ${p.message}`);
}

const INVALID: [string, unknown, string[]][] = [
  [
    "misspelt class name",
    [SEED_000[0], { mode: "crash", implementation: { class_name: "AlwaysRestart" } }],
    [
      'restart_policies[1].implementation.class_name: unknown policy "AlwaysRestart"; did you mean "AlwaysRestartPolicy"?',
    ],
  ],
  [
    "misspelt mode",
    [{ mode: "timout", implementation: { class_name: "NoRestartPolicy" } }],
    [
      'restart_policies[0].mode: unknown mode "timout"; did you mean "timeout"?; one of stall, timeout, crash, nccl, success, oom, node_fail, preempted, cancelled, blocked',
    ],
  ],
  [
    "misspelt keys",
    [{
      mode: "stall",
      implmentation: {},
    }, {
      mode: "crash",
      implementation: { class_name: "AlwaysRestartPolicy", max_retry: 2 },
    }],
    [
      'restart_policies[0].implmentation: unknown key "implmentation"; did you mean "implementation"?',
      "restart_policies[0].implementation: missing; a mapping with class_name",
      'restart_policies[1].implementation.max_retry: unknown key "max_retry"; did you mean "max_retries"?',
      "restart_policies[1].implementation.max_retries: missing; an integer >= 0",
    ],
  ],
  [
    "bad numbers and a duplicate mode",
    [
      { mode: "timeout", implementation: { class_name: "AdjustTimeLimitPolicy", minutes: 0 } },
      {
        mode: "timeout",
        implementation: { class_name: "AlwaysRestartPolicy", max_retries: "2" },
      },
    ],
    [
      "restart_policies[0].implementation.minutes: expected an integer >= 1, got 0",
      'restart_policies[1].mode: "timeout" already has a policy at restart_policies[0]',
      'restart_policies[1].implementation.max_retries: expected an integer >= 0, got "2"',
    ],
  ],
  [
    "not a list",
    { mode: "stall" },
    ["restart_policies: expected a list of policies, got object"],
  ],
  [
    "missing class_name and wrong message type",
    [
      { mode: "crash", implementation: {} },
      { mode: "oom", implementation: { class_name: "NoRestartPolicy", message: 3 } },
    ],
    [
      "restart_policies[0].implementation.class_name: missing; one of AlwaysRestartPolicy, AdjustTimeLimitPolicy, NoRestartPolicy",
      "restart_policies[1].implementation.message: expected a string, got number",
    ],
  ],
];

for (const [name, value, expected] of INVALID) {
  Deno.test(`parseRestartPolicies rejects: ${name}`, () => {
    assertEquals(problems(value), expected);
  });
}

Deno.test("parseRestartPolicies: the error message lists every problem with its path", () => {
  const e = assertThrows(() =>
    parseRestartPolicies([{ mode: "stal", implementation: { class_name: "NoRestart" } }])
  );
  assertMatch(e.message, /restart_policies\[0\]\.mode: unknown mode "stal"; did you mean "stall"/);
  assertMatch(e.message, /class_name: unknown policy "NoRestart"; did you mean "NoRestartPolicy"/);
});

const POLICIES: RestartPolicy[] = [
  ...parseRestartPolicies(SEED_000),
  ...parseRestartPolicies([
    {
      mode: "preempted",
      implementation: {
        class_name: "AdjustTimeLimitPolicy",
        minutes: 30,
        max_retries: 1,
        max_minutes: 100,
      },
    },
  ]),
];

interface Decision {
  name: string;
  mode: FailureMode | null;
  restartsForMode: number;
  time?: number;
  restart: boolean;
  newTime?: number;
  reason: RegExp;
}

const DECISIONS: Decision[] = [
  {
    name: "stall, first restart",
    mode: "stall",
    restartsForMode: 0,
    restart: true,
    reason: /1 of 2/,
  },
  {
    name: "stall, second restart",
    mode: "stall",
    restartsForMode: 1,
    restart: true,
    reason: /2 of 2/,
  },
  {
    name: "stall, budget exhausted",
    mode: "stall",
    restartsForMode: 2,
    restart: false,
    reason: /budget exhausted \(2 of 2 used\)/,
  },
  {
    name: "timeout adds 30 minutes, no budget",
    mode: "timeout",
    restartsForMode: 7,
    time: 60,
    restart: true,
    newTime: 90,
    reason: /60 -> 90 min/,
  },
  {
    name: "preempted adjusts up to the cap",
    mode: "preempted",
    restartsForMode: 0,
    time: 90,
    restart: true,
    newTime: 100,
    reason: /capped at max_minutes 100/,
  },
  {
    name: "preempted budget exhausted",
    mode: "preempted",
    restartsForMode: 1,
    time: 90,
    restart: false,
    reason: /budget exhausted \(1 of 1 used\)/,
  },
  {
    name: "crash: NoRestartPolicy's message",
    mode: "crash",
    restartsForMode: 0,
    restart: false,
    reason: /manual intervention required/,
  },
  {
    name: "no policy for oom: no restart",
    mode: "oom",
    restartsForMode: 0,
    restart: false,
    reason: /no restart policy for "oom"/,
  },
  {
    name: "not ended: no restart",
    mode: null,
    restartsForMode: 0,
    restart: false,
    reason: /not ended/,
  },
];

for (const d of DECISIONS) {
  Deno.test(`decideRestart: ${d.name}`, () => {
    const r = decideRestart(POLICIES, d.mode, {
      attemptsSoFar: d.restartsForMode + 1,
      restartsForMode: d.restartsForMode,
      currentTimeMinutes: d.time ?? 60,
    });
    assertEquals(r.restart, d.restart, r.reason);
    assertEquals(r.newTimeMinutes, d.newTime);
    assertMatch(r.reason, d.reason);
  });
}

Deno.test("decideRestart: NoRestartPolicy without a message", () => {
  const p = parseRestartPolicies([{
    mode: "cancelled",
    implementation: { class_name: "NoRestartPolicy" },
  }]);
  const r = decideRestart(p, "cancelled", {
    attemptsSoFar: 1,
    restartsForMode: 0,
    currentTimeMinutes: 60,
  });
  assertEquals(r, {
    restart: false,
    reason: "attempt 1 was cancelled; the policy is never to restart",
  });
});

Deno.test("parseRestartPolicies: backoff_base, max_backoff_seconds and exclude_failed_nodes", () => {
  assertEquals(
    parseRestartPolicies([{
      mode: "nccl",
      implementation: {
        class_name: "AlwaysRestartPolicy",
        max_retries: 3,
        backoff_base: 2,
        max_backoff_seconds: 600,
        exclude_failed_nodes: true,
      },
    }, {
      mode: "timeout",
      implementation: { class_name: "AdjustTimeLimitPolicy", minutes: 30, backoff_base: 1.5 },
    }]),
    [
      {
        mode: "nccl",
        className: "AlwaysRestartPolicy",
        maxRetries: 3,
        backoffBase: 2,
        maxBackoffSeconds: 600,
        excludeFailedNodes: true,
      },
      { mode: "timeout", className: "AdjustTimeLimitPolicy", minutes: 30, backoffBase: 1.5 },
    ],
  );
  assertEquals(
    problems([{
      mode: "communication",
      implementation: {
        class_name: "AlwaysRestartPolicy",
        max_retries: 1,
        backoff_base: 0.5,
        exclude_failed_nodes: "yes",
      },
    }, {
      mode: "crash",
      implementation: { class_name: "AlwaysRestartPolicy", max_retries: 1, max_backoff_seconds: 9 },
    }, {
      mode: "oom",
      implementation: { class_name: "NoRestartPolicy", backoff_base: 2 },
    }]),
    [
      'restart_policies[0].mode: unknown mode "communication"; did you mean "nccl"?; one of stall, timeout, crash, nccl, success, oom, node_fail, preempted, cancelled, blocked',
      "restart_policies[0].implementation.backoff_base: expected a number >= 1 (seconds: restart n waits backoff_base ** n), got 0.5",
      'restart_policies[0].implementation.exclude_failed_nodes: expected true or false, got "yes"',
      "restart_policies[1].implementation.max_backoff_seconds: caps the wait of backoff_base, which is not set",
      'restart_policies[2].implementation.backoff_base: unknown key "backoff_base"; expected class_name, message',
    ],
  );
});

Deno.test("parseRestartPolicies: overrides are backend.* key=value strings", () => {
  assertEquals(
    parseRestartPolicies([{
      mode: "oom",
      implementation: {
        class_name: "AlwaysRestartPolicy",
        max_retries: 1,
        overrides: [
          "backend.args.micro_batch_size=2",
          "+backend.env.PYTORCH_ALLOC_CONF=expandable_segments:True",
        ],
      },
    }]),
    [{
      mode: "oom",
      className: "AlwaysRestartPolicy",
      maxRetries: 1,
      overrides: [
        "backend.args.micro_batch_size=2",
        "+backend.env.PYTORCH_ALLOC_CONF=expandable_segments:True",
      ],
    }],
  );
  assertEquals(
    problems([{
      mode: "oom",
      implementation: {
        class_name: "AlwaysRestartPolicy",
        max_retries: 1,
        overrides: ["slurm.sbatch.mem=200G", "backend.args.lr=1e-4,1e-5", "~backend.args.lr", 3],
      },
    }, {
      mode: "crash",
      implementation: { class_name: "AlwaysRestartPolicy", max_retries: 1, overrides: "x=1" },
    }]),
    [
      'restart_policies[0].implementation.overrides[0]: "slurm.sbatch.mem=200G": a restart may override backend.* keys (the run\'s command and environment); its time limit and resources have their own options',
      'restart_policies[0].implementation.overrides[1]: "backend.args.lr=1e-4,1e-5" is a sweep; a restart sets one value',
      'restart_policies[0].implementation.overrides[2]: "~backend.args.lr": a restart sets values (key=value or +key=value)',
      'restart_policies[0].implementation.overrides[3]: expected a "key=value" string, got number',
      'restart_policies[1].implementation.overrides: expected a list of "key=value" strings, got "x=1"',
    ],
  );
});
