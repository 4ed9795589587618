/** Log event patterns: seed-format configs, Python regex translation, built-in Megatron lines. */
import { assert_, assertEquals, assertMatch, assertThrows } from "../_assert.ts";
import { ConfigError } from "../../lib/errors.ts";
import {
  compileEvents,
  countsAsActivity,
  dedupeKey,
  type EventKind,
  matchLine,
  MEGATRON_EVENTS,
  pythonRegexToJs,
  requiredLiteral,
  splitLogPrefix,
} from "../../lib/monitoring/events.ts";

// The `log_signals` entry of seed 000 and the `log_events` entry of seed 001, as parsed YAML.
const SEED_000_LOG_SIGNALS = [{
  name: "checkpoint_ready",
  pattern: String.raw`Checkpoint saved: (?P<path>.+\.pt)`,
  pattern_type: "regex",
  action: "convert_checkpoint",
  metadata: { kind: "checkpoint" },
}];
const SEED_001_LOG_EVENTS = [{
  name: "checkpoint_saved",
  pattern: String
    .raw`successfully saved checkpoint from iteration\s+(?P<iteration>\d+) to (?P<path>\S+)`,
  pattern_type: "regex",
  metadata: { kind: "checkpoint", trigger: "hf_conversion" },
  extract_groups: { checkpoint_iteration: "iteration", checkpoint_path: "path" },
  actions: [
    { class_name: "LogAction", message: "checkpoint saved at iteration {checkpoint_iteration}" },
    {
      class_name: "EventAction",
      mode: "queue",
      action: { class_name: "RunCommandAction", command: ["python", "convert.py"] },
    },
  ],
}];

const SAVED =
  "  [2026-08-22 10:15:07.654321] successfully saved checkpoint from iteration     500 to " +
  "/ckpt/run1 [ t 1/1, gtp_remat 1/1, p 1/1 ]";

Deno.test("compileEvents compiles the seed 000 log_signals format", () => {
  const events = compileEvents(SEED_000_LOG_SIGNALS, { keyPath: "monitoring.log_signals" });
  const [m] = matchLine(events, "Checkpoint saved: /out/ckpt/step_100.pt");
  assertEquals(m.event, "checkpoint_ready");
  assertEquals(m.kind, "checkpoint");
  assertEquals(m.groups, { path: "/out/ckpt/step_100.pt" });
  assertEquals(m.metadata, { kind: "checkpoint" });
  assertEquals(m.action, "convert_checkpoint");
  assertEquals(m.progress, true);
  assertEquals(matchLine(events, "Checkpoint saved: /out/ckpt/step_100.bin"), []);
});

Deno.test("compileEvents maps extract_groups into metadata (seed 001 log_events)", () => {
  const events = compileEvents(SEED_001_LOG_EVENTS);
  const [m] = matchLine(events, SAVED);
  assertEquals(m.groups, { iteration: "500", path: "/ckpt/run1" });
  assertEquals(m.metadata, {
    kind: "checkpoint",
    trigger: "hf_conversion",
    checkpoint_iteration: "500",
    checkpoint_path: "/ckpt/run1",
  });
  assertEquals(m.actions, SEED_001_LOG_EVENTS[0].actions);
  assertEquals(m.kind, "checkpoint");
});

Deno.test("compileEvents supports substring patterns, case-sensitive", () => {
  const events = compileEvents([
    { name: "done", pattern: "after training is done", pattern_type: "substring" },
    { name: "dots", pattern: "a.b (x)", pattern_type: "substring" },
  ]);
  assertEquals(matchLine(events, "[after training is done] datetime: x").map((m) => m.event), [
    "done",
  ]);
  assertEquals(matchLine(events, "AFTER TRAINING IS DONE"), []);
  assertEquals(matchLine(events, "see a.b (x) here").map((m) => m.event), ["dots"]);
  assertEquals(matchLine(events, "see aXb (x) here"), []);
});

Deno.test("dedupeKey fires once per distinct match", () => {
  const events = compileEvents(SEED_001_LOG_EVENTS);
  const lines = [
    SAVED,
    SAVED.replace("10:15:07", "10:15:09"), // another rank / a repeat: same checkpoint
    SAVED.replaceAll("500", "1000"),
    "[default0]:" + SAVED,
  ];
  const fired = new Set<string>();
  const firedIters: string[] = [];
  for (const line of lines) {
    for (const m of matchLine(events, line)) {
      const key = dedupeKey(m, "job 123");
      if (fired.has(key)) continue;
      fired.add(key);
      firedIters.push(m.metadata.checkpoint_iteration as string);
    }
  }
  assertEquals(firedIters, ["500", "1000"]);
  const [m] = matchLine(events, SAVED);
  assertEquals(
    dedupeKey(m),
    '["checkpoint_saved",[["checkpoint_iteration","500"],["checkpoint_path","/ckpt/run1"]]]',
  );
  // Without extract_groups every named group identifies the match; with `extract_groups: {}`
  // the event fires once.
  const [a] = matchLine(compileEvents([{ name: "x", pattern: "(?P<n>\\d+)" }]), "7");
  const [b] = matchLine(
    compileEvents([{ name: "x", pattern: "(?P<n>\\d+)", extract_groups: {} }]),
    "7",
  );
  assertEquals([dedupeKey(a), dedupeKey(b)], ['["x",[["n","7"]]]', '["x",[]]']);
});

Deno.test("pythonRegexToJs translates Python-only syntax", () => {
  const cases: [string, string, string][] = [
    ["(?P<it>\\d+) (?P=it)", "(?<it>\\d+) \\k<it>", ""],
    ["\\Astart end\\Z", "^start end$", ""],
    ["(?i)loss", "loss", "i"],
    ["(?ms)a.b", "a.b", "ms"],
    ["[]a](?P<x>b)", "[\\]a](?<x>b)", ""],
    ["\\(?P<notagroup>", "\\(?P<notagroup>", ""], // escaped paren: not a group
    ["[(?P<x>]", "[(?P<x>]", ""], // inside a class: literal
    ["(?<=a)b(?<!c)", "(?<=a)b(?<!c)", ""],
  ];
  for (const [py, js, flags] of cases) {
    const r = pythonRegexToJs(py);
    assertEquals([r.source, r.flags], [js, flags], py);
  }
  assertEquals(pythonRegexToJs("(?P<a>x)(?P<b>y)").groups, ["a", "b"]);
  const [m] = matchLine(
    compileEvents([{ name: "rep", pattern: "(?P<w>\\w+) (?P=w)" }]),
    "the the end",
  );
  assertEquals(m.groups, { w: "the" });
});

Deno.test("requiredLiteral finds text every match must contain, or null", () => {
  const cases: [string, string | null][] = [
    ["saving checkpoint at iteration\\s+(?<it>\\d+)", "saving checkpoint at iteration"],
    ["a|bcdef", null], // top-level alternation
    ["(?:abc|def)", null],
    ["\\*\\*\\* JOB", "*** JOB"],
    ["colou?r is red", "r is red"], // "u" is optional
    ["abcd+e", "abcd"],
    ["x\\k<name>yz", null], // the group name is not literal text
    ["grad norm:\\s*(?<g>[0-9.]+|nan)", "grad norm:"],
    ["[abc]defgh", "defgh"],
    ["\\x41bcd", "bcd"],
  ];
  for (const [src, lit] of cases) assertEquals(requiredLiteral(src), lit, src);
});

Deno.test("compileEvents rejects an invalid regex with an error naming the event", () => {
  const e = assertThrows(() =>
    compileEvents([
      { name: "ok", pattern: "fine" },
      { name: "broken_ckpt", pattern: "saved (?P<it>\\d+" },
    ], { keyPath: "monitoring.log_events", file: "config/monitoring/megatron.yaml" })
  );
  assert_(e instanceof ConfigError);
  assertEquals(e.problems.length, 1);
  assertEquals(e.problems[0].path, "monitoring.log_events[1].pattern");
  assertEquals(e.problems[0].file, "config/monitoring/megatron.yaml");
  assertMatch(
    e.message,
    /event "broken_ckpt": the pattern "saved \(\?P<it>\\\\d\+" is not a valid regex/,
  );
  assertMatch(e.message, /Unterminated group/);
});

Deno.test("compileEvents reports every problem at once, with suggestions", () => {
  const e = assertThrows(() =>
    compileEvents([
      { name: "a", pattern: "(?P<iteration>\\d+)", extract_groups: { it: "iteraton" } },
      { name: "b", pattern: "x", pattern_type: "glob" },
      { name: "a", pattern: "y" },
      { name: "c", patern: "z" },
      { name: "d", pattern: "q", kind: "chekpoint" },
      { name: "e", pattern: "s", pattern_type: "substring", extract_groups: { k: "g" } },
      { name: "f", pattern: "(?x) a" },
      "not a mapping",
    ])
  ) as ConfigError;
  const paths = e.problems.map((p) => p.path);
  assertEquals(paths, [
    "log_events[0].extract_groups.it",
    "log_events[1].pattern_type",
    "log_events[2].name",
    "log_events[3].patern",
    "log_events[3].pattern",
    "log_events[4].kind",
    "log_events[5].extract_groups.k",
    "log_events[6].pattern",
    "log_events[7]",
  ]);
  assertMatch(e.message, /did you mean "iteration"\?/);
  assertMatch(e.message, /did you mean "pattern"\?/);
  assertMatch(e.message, /did you mean "checkpoint"\?/);
  assertMatch(e.message, /inline flag "\(\?x\)" is not supported/);
});

Deno.test("noise events do not count as activity", () => {
  const events = compileEvents([
    { name: "srun_spam", pattern: "srun: error:", pattern_type: "substring", noise: true },
    { name: "heartbeat", pattern: "heartbeat", pattern_type: "substring", progress: false },
    { name: "iter", pattern: "iteration \\d+" },
  ]);
  assertEquals(
    countsAsActivity(matchLine(events, "srun: error: nid001234: task 0: Terminated")),
    false,
  );
  assertEquals(countsAsActivity(matchLine(events, "heartbeat 12")), false);
  assertEquals(countsAsActivity(matchLine(events, " iteration 12/100 |")), true);
  assertEquals(countsAsActivity(matchLine(events, "anything else")), true);
});

Deno.test("splitLogPrefix strips [default3]: and [rank3]: prefixes", () => {
  assertEquals(splitLogPrefix("[default3]:[rank3]:[E822 14:05:12.345678901 X.cpp:1] m"), {
    body: "[E822 14:05:12.345678901 X.cpp:1] m",
    launcher: "default3",
    rank: "3",
  });
  assertEquals(splitLogPrefix("[rank12]:x"), { body: "x", launcher: null, rank: "12" });
  assertEquals(splitLogPrefix("[after training is done] datetime"), {
    body: "[after training is done] datetime",
    launcher: null,
    rank: null,
  });
});

// ---------------------------------------------------------------------------------------------
// Built-in patterns against the example lines of /work/shared/data/megatron/log_formats.md.
// Lines marked "rendered" are the quoted format string filled in; "not in log_formats.md" marks
// a line known from real SLURM logs.

interface BuiltinCase {
  line: string;
  event: string;
  kind: EventKind;
  groups?: Record<string, string>;
  metadata?: Record<string, unknown>;
}

const BUILTIN_CASES: BuiltinCase[] = [
  {
    // §1 example (bf16, --log-throughput)
    line:
      " [2026-08-22 10:03:12.512345] iteration      100/    5000 | consumed samples:        25600 | elapsed time per iteration (ms): 1523.4 | throughput per GPU (TFLOP/s/GPU): 412.7 | learning rate: 1.500000E-04 | global batch size:   256 | lm loss: 6.912345E+00 | loss scale: 1.0 | grad norm: 1.234 | number of skipped iterations:   0 | number of nan iterations:   0 |",
    event: "megatron_iteration",
    kind: "progress",
    groups: {
      ts: "2026-08-22 10:03:12.512345",
      iteration: "100",
      train_iters: "5000",
      lm_loss: "6.912345E+00",
      ms_per_iter: "1523.4",
      grad_norm: "1.234",
      skipped_iters: "0",
      nan_iters: "0",
    },
    metadata: { iteration: "100", train_iters: "5000" },
  },
  {
    // §1, older Megatron (no timestamp) with a NaN loss, which is omitted from the line
    line:
      " iteration     1235/    5000 | consumed samples:       316160 | elapsed time per iteration (ms): 1498.0 | learning rate: 1.500000E-04 | global batch size:   256 | loss scale: 1.0 | grad norm: nan | number of skipped iterations:   1 | number of nan iterations:   1 |",
    event: "megatron_iteration",
    kind: "progress",
    groups: {
      iteration: "1235",
      train_iters: "5000",
      ms_per_iter: "1498.0",
      grad_norm: "nan",
      skipped_iters: "1",
      nan_iters: "1",
    },
  },
  {
    // §5 example
    line:
      " validation loss at iteration 500 | lm loss value: 3.456789E+00 | lm loss PPL: 3.171234E+01 | ",
    event: "megatron_validation",
    kind: "progress",
    groups: { iteration: "500", lm_loss: "3.456789E+00" },
  },
  {
    // §2 example
    line:
      "[2026-08-22 10:15:00.123456] saving checkpoint at iteration     500 to /ckpt/run1 in torch_dist format",
    event: "megatron_checkpoint_saving",
    kind: "checkpoint_start",
    groups: { iteration: "500", path: "/ckpt/run1", format: "torch_dist" },
    metadata: { checkpoint_iteration: "500", checkpoint_path: "/ckpt/run1" },
  },
  {
    // §2, rendered
    line:
      "  [2026-08-22 10:15:00.123456] scheduled an async checkpoint save at iteration     500 to /ckpt/run1",
    event: "megatron_checkpoint_async_scheduled",
    kind: "checkpoint_start",
    groups: { iteration: "500", path: "/ckpt/run1" },
  },
  {
    // §2 example
    line: SAVED,
    event: "megatron_checkpoint_saved",
    kind: "checkpoint",
    groups: { iteration: "500", path: "/ckpt/run1" },
    metadata: { checkpoint_iteration: "500", checkpoint_path: "/ckpt/run1" },
  },
  {
    // §2, older versions: no timestamp, no gtp_remat
    line: "  successfully saved checkpoint from iteration    2000 to /ckpt/run1 [ t 1/2, p 1/1 ]",
    event: "megatron_checkpoint_saved",
    kind: "checkpoint",
    metadata: { checkpoint_iteration: "2000", checkpoint_path: "/ckpt/run1" },
  },
  {
    // §4, rendered
    line:
      "  successfully loaded checkpoint from /ckpt/run1 [ t 1/1, gtp_remat 1/1, p 1/1 ] at iteration 500",
    event: "megatron_checkpoint_loaded",
    kind: "resumed",
    metadata: { checkpoint_iteration: "500", checkpoint_path: "/ckpt/run1" },
  },
  {
    // §7 (rerun mode disabled)
    line:
      "RuntimeError: Rank 3, node nid001234, device 3, iteration 1235: Unexpected result nan (message='found NaN in local grad norm for bucket #0 in backward pass before data-parallel communication collective')",
    event: "megatron_nan_detected",
    kind: "nan",
    groups: { what: "NaN", where: "grad norm for bucket #0" },
  },
  {
    // §7, through logging (BASIC_FORMAT), exit code 17
    line:
      "ERROR:megatron.core.rerun_state_machine:Exiting now. The job can be resumed from a previous checkpoint",
    event: "megatron_rerun_exit",
    kind: "crashed",
    metadata: { error_type: "result_validation", exit_code: 17 },
  },
  {
    // §7, exit code 16
    line:
      "ERROR:megatron.core.rerun_state_machine:Saving a checkpoint and exiting now. Please resume the job from the checkpoint to rerun the last iteration and establish a diagnostic",
    event: "megatron_rerun_save_and_exit",
    kind: "crashed",
    metadata: { error_type: "result_validation", exit_code: 16 },
  },
  {
    // §6, rendered (note the trailing space)
    line: "[after training is done] datetime: 2026-08-22 18:41:07.120034 ",
    event: "megatron_training_done",
    kind: "completed",
  },
  {
    line: "[exiting program after receiving SIGTERM.] datetime: 2026-08-22 18:41:07.120034 ",
    event: "megatron_exiting",
    kind: "exited",
    metadata: { exit_reason: "after receiving SIGTERM." },
  },
  {
    line:
      "[exiting program after 239.51666666666668 minutes] datetime: 2026-08-22 18:41:07.120034 ",
    event: "megatron_exiting",
    kind: "exited",
    groups: { exit_reason: "after 239.51666666666668 minutes", minutes: "239.51666666666668" },
  },
  {
    line: "[exiting program at iteration 1000] datetime: 2026-08-22 18:41:07.120034 ",
    event: "megatron_exiting",
    kind: "exited",
    groups: { exit_reason: "at iteration 1000", iteration: "1000" },
  },
  {
    line: "Termination requested. Performing orderly shutdown.",
    event: "megatron_orderly_shutdown",
    kind: "exited",
  },
  {
    // §8, recent PyTorch
    line:
      "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 3 has a total capacity of 79.11 GiB of which 1.06 GiB is free. Including non-PyTorch memory, this process has 78.04 GiB memory in use. Of the allocated memory 74.62 GiB is allocated by PyTorch, and 1.87 GiB is reserved by PyTorch but unallocated. If reserved but unallocated memory is large try setting PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True to avoid fragmentation.  See documentation for Memory Management  (https://pytorch.org/docs/stable/notes/cuda.html#environment-variables)",
    event: "cuda_oom",
    kind: "oom",
    groups: { requested: "2.00 GiB", gpu: "3" },
    metadata: { error_type: "oom" },
  },
  {
    // §8, older PyTorch
    line:
      "torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 512.00 MiB. GPU 0 has a total capacity of 79.11 GiB of which 100.06 MiB is free.",
    event: "cuda_oom",
    kind: "oom",
    groups: { requested: "512.00 MiB", gpu: "0" },
  },
  {
    line: "RuntimeError: CUDA error: out of memory",
    event: "cuda_error_oom",
    kind: "oom",
    metadata: { error_type: "oom" },
  },
  {
    // not in log_formats.md: slurmstepd's cgroup OOM report
    line:
      "slurmstepd: error: Detected 1 oom-kill event(s) in StepId=12345.0. Some of your processes may have been killed by the cgroup out-of-memory handler.",
    event: "host_oom_kill",
    kind: "oom",
    metadata: { error_type: "host_oom" },
  },
  {
    // §8
    line:
      "[rank3]:[E822 14:05:12.345678901 ProcessGroupNCCL.cpp:632] [Rank 3] Watchdog caught collective operation timeout: WorkNCCL(SeqNum=48213, OpType=ALLREDUCE, NumelIn=1, NumelOut=1, Timeout(ms)=600000) ran for 600023 milliseconds before timing out.",
    event: "nccl_watchdog_timeout",
    kind: "nccl",
    groups: { rank: "3", seq: "48213", op: "ALLREDUCE", timeout_ms: "600000", ran_ms: "600023" },
  },
  {
    line:
      "[rank3]:[E822 14:05:12.345678901 ProcessGroupNCCL.cpp:1595] [Rank 3] Some NCCL operations have failed or timed out. Due to the asynchronous nature of CUDA kernels, subsequent GPU operations might run on corrupted/incomplete data.",
    event: "nccl_failure",
    kind: "nccl",
  },
  {
    line: "terminate called after throwing an instance of 'c10::DistBackendError'",
    event: "nccl_failure",
    kind: "nccl",
  },
  {
    // a failed collective (PyTorch 2.2+): the exception names NCCL and ProcessGroupNCCL.cpp
    line:
      "torch.distributed.DistBackendError: NCCL error in: ../torch/csrc/distributed/c10d/ProcessGroupNCCL.cpp:1970, unhandled system error (run with NCCL_DEBUG=INFO for details), NCCL version 2.19.3",
    event: "nccl_failure",
    kind: "nccl",
  },
  {
    line:
      "RuntimeError: NCCL error in: /opt/pytorch/torch/csrc/distributed/c10d/NCCLUtils.hpp:219, remote process exited or there was a network error, NCCL version 2.21.5",
    event: "nccl_failure",
    kind: "nccl",
  },
  {
    // an error-level glog line of ProcessGroupNCCL (recent and old header formats)
    line:
      "[rank0]:[E1105 10:21:33.123456789 ProcessGroupNCCL.cpp:1834] [PG ID 0 PG GUID 0(default_pg) Rank 0] Process group watchdog thread terminated with exception: CUDA error: an illegal memory access was encountered",
    event: "nccl_failure",
    kind: "nccl",
  },
  {
    line:
      "[E ProcessGroupNCCL.cpp:916] [Rank 1] NCCL watchdog thread terminated with exception: unhandled cuda error",
    event: "nccl_failure",
    kind: "nccl",
  },
  {
    line:
      "slurmstepd: error: *** JOB 12345 ON nid001234 CANCELLED AT 2026-08-23T04:00:12 DUE TO TIME LIMIT ***",
    event: "slurm_time_limit",
    kind: "timeout",
    groups: { scope: "JOB", jobid: "12345", node: "nid001234", when: "2026-08-23T04:00:12" },
  },
  {
    line:
      "slurmstepd: error: *** STEP 12345.0 ON nid001234 CANCELLED AT 2026-08-23T04:00:12 DUE TO TIME LIMIT ***",
    event: "slurm_time_limit",
    kind: "timeout",
    groups: { scope: "STEP", jobid: "12345", step: "0" },
  },
  {
    line:
      "slurmstepd: error: *** JOB 12345 ON nid001234 CANCELLED AT 2026-08-23T04:00:12 DUE TO PREEMPTION ***",
    event: "slurm_preempted",
    kind: "preempted",
  },
  {
    line:
      "slurmstepd: error: *** JOB 12345 ON nid001234 CANCELLED AT 2026-08-23T04:00:12 DUE TO NODE FAILURE ***",
    event: "slurm_node_fail",
    kind: "node_fail",
  },
  {
    // a user's scancel: no reason
    line: "slurmstepd: error: *** JOB 12345 ON nid001234 CANCELLED AT 2026-08-23T04:00:12 ***",
    event: "slurm_cancelled",
    kind: "cancelled",
    groups: { jobid: "12345" },
  },
  {
    line: "Traceback (most recent call last):",
    event: "python_traceback",
    kind: "crashed",
  },
  {
    line: "torch.distributed.elastic.multiprocessing.errors.ChildFailedError: ",
    event: "torchrun_child_failed",
    kind: "crashed",
  },
  {
    line:
      "E0822 14:05:13.000000 4242 api.py:869] failed (exitcode: -6) local_rank: 3 (pid: 12348) of binary: /usr/bin/python",
    event: "torchrun_child_failed",
    kind: "crashed",
    groups: { exit_code: "-6", local_rank: "3" },
  },
  {
    line: "srun: error: nid001234: task 0: Terminated",
    event: "srun_error",
    kind: "noise",
  },
  {
    line: "srun: Job step aborted: Waiting up to 32 seconds for job step to finish.",
    event: "srun_error",
    kind: "noise",
  },
];

const BUILTINS = compileEvents(MEGATRON_EVENTS, { keyPath: "MEGATRON_EVENTS" });

for (const c of BUILTIN_CASES) {
  for (const prefix of ["", "[default3]:"]) {
    Deno.test(`MEGATRON_EVENTS ${c.event} matches ${prefix ? "with [default3]: " : ""}${c.line.slice(0, 50)}`, () => {
      const matches = matchLine(BUILTINS, prefix + c.line);
      assertEquals(matches.map((m) => m.event), [c.event]);
      const [m] = matches;
      assertEquals(m.kind, c.kind);
      assertEquals(m.launcher, prefix ? "default3" : null);
      for (const [k, v] of Object.entries(c.groups ?? {})) {
        assertEquals(m.groups[k], v, `group ${k}`);
      }
      for (const [k, v] of Object.entries(c.metadata ?? {})) {
        assertEquals(m.metadata[k], v, `metadata ${k}`);
      }
      assertEquals(m.progress, c.kind !== "noise");
    });
  }
}

Deno.test("MEGATRON_EVENTS: every built-in event has a test line and a kind", () => {
  const tested = new Set(BUILTIN_CASES.map((c) => c.event));
  assertEquals(MEGATRON_EVENTS.filter((e) => !tested.has(e.name)).map((e) => e.name), []);
  assertEquals(MEGATRON_EVENTS.filter((e) => !e.kind).map((e) => e.name), []);
});

Deno.test("MEGATRON_EVENTS match nothing on ordinary lines", () => {
  const quiet = [
    // §6 and §2/§4: other lifecycle, timer, memory and load lines
    "[before the start of training step] datetime: 2026-08-22 10:00:01.000001 ",
    "INFO:megatron.core.timers:(min, max) time across ranks (ms):",
    "    save-checkpoint ................................: (7321.55, 7321.61)",
    "[Rank 0] (after save_checkpoint for iteration 500) memory (MB) | allocated: 1.00 | max allocated: 2.00 | reserved: 3.00 | max reserved: 4.00",
    "  [2026-08-22 10:15:07.654321] successfully saved local checkpoint from iteration     500",
    "WARNING: could not find the metadata file /ckpt/run1/latest_checkpointed_iteration.txt",
    // ProcessGroupNCCL's warning and info lines are no failure
    "[rank0]:[W1105 10:00:01.000000000 ProcessGroupNCCL.cpp:4561] [PG ID 0 PG GUID 0 Rank 0] using GPU 0 to perform barrier as devices used by this process are currently unknown.",
    "[I ProcessGroupNCCL.cpp:1157] [Rank 0] ProcessGroupNCCL initialization options: NCCL_ASYNC_ERROR_HANDLING: 1",
    "  train_iters ..................................... 5000",
    "-----------------------------------------------------------------------------------------------",
    "",
  ];
  for (const line of quiet) assertEquals(matchLine(BUILTINS, line).map((m) => m.event), [], line);
});

Deno.test("MEGATRON_EVENTS: the C++ rank prefix is reported and ^-anchored patterns still match", () => {
  const [tb] = matchLine(BUILTINS, "[default5]:[rank13]:Traceback (most recent call last):");
  assertEquals([tb.event, tb.launcher, tb.rank], ["python_traceback", "default5", "13"]);
  assertEquals(matchLine(BUILTINS, "x Traceback (most recent call last):"), []);
});

Deno.test("MEGATRON_EVENTS fire once per checkpoint and once per OOM across ranks", () => {
  const lines = [
    ...[0, 1, 2, 3].map((r) =>
      `[default${r}]:torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU ${r} has`
    ),
    SAVED,
    SAVED,
  ];
  const keys = new Set(lines.flatMap((l) => matchLine(BUILTINS, l).map((m) => dedupeKey(m))));
  assertEquals(keys.size, 2);
});
