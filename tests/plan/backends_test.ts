/**
 * Tests of the backends: the command backend's argument styles and checks, and the Megatron
 * backend's program (script path, flags, convenience arguments, argument-table checks).
 */
import { assertEquals, assertMatch } from "../_assert.ts";
import type { ConfigMap } from "../../lib/config/tree.ts";
import { buildBackendProgram, renderCommandArgs, renderKwformat } from "../../lib/plan/backends.ts";
import type { BackendConfig } from "../../lib/config/schema/mod.ts";

const args: ConfigMap = {
  lr: 0.001,
  num_layers: 4,
  use_fast: true,
  debug: false,
  skip: null,
  sizes: [1, 2],
  name: "a b",
};

Deno.test("renderCommandArgs: --key value", () => {
  assertEquals(renderCommandArgs(args, "--key value", false), [
    "--lr",
    "0.001",
    "--num_layers",
    "4",
    "--use_fast",
    "--sizes",
    "1",
    "2",
    "--name",
    "a b",
  ]);
});

Deno.test("renderCommandArgs: --key=value with dashed keys", () => {
  assertEquals(renderCommandArgs(args, "--key=value", true), [
    "--lr=0.001",
    "--num-layers=4",
    "--use-fast",
    "--sizes=1,2",
    "--name=a b",
  ]);
});

Deno.test("renderCommandArgs: key=value (Hydra apps) keeps types readable", () => {
  assertEquals(
    renderCommandArgs({ ...args, opt: { beta: 0.9, eps: 1e-8 }, big: 1e20 }, "key=value", false),
    [
      "lr=0.001",
      "num_layers=4",
      "use_fast=true",
      "sizes=[1,2]",
      "name=a b",
      "opt={beta:0.9,eps:1e-08}",
      "big=1e+20",
    ],
  );
});

Deno.test("renderCommandArgs: numbers print as Python would", () => {
  assertEquals(renderCommandArgs({ a: 1e-5, c: 0.1, d: 1e16 }, "--key value", false), [
    "--a",
    "1e-05",
    "--c",
    "0.1",
    "--d",
    "1e+16",
  ]);
});

Deno.test("buildBackendProgram: command as a list or a shell-like string", () => {
  const a = buildBackendProgram({ name: "command", command: ["python3", "t.py"], args: { x: 1 } });
  assertEquals(a.program, ["python3", "t.py", "--x", "1"]);
  assertEquals(a.problems, []);
  const b = buildBackendProgram({ name: "command", command: `bash -c "echo 'hi there'"` });
  assertEquals(b.program, ["bash", "-c", "echo 'hi there'"]);
});

Deno.test("buildBackendProgram: command problems name their keys", () => {
  // Unknown names and styles are the schema's (tests/config/schema_test.ts).
  const cases: [BackendConfig, string, RegExp][] = [
    [{ name: "command" }, "backend.command", /needs a command/],
    [{ name: "command", command: "echo 'x" }, "backend.command", /unterminated '/],
  ];
  for (const [backend, path, message] of cases) {
    const r = buildBackendProgram(backend);
    assertEquals(r.problems.map((p) => p.path).includes(path), true, JSON.stringify(r.problems));
    assertMatch(r.problems.map((p) => p.message).join("\n"), message);
  }
});

const megatronArgs: ConfigMap = {
  num_layers: 2,
  hidden_size: 64,
  num_attention_heads: 2,
  seq_length: 128,
  max_position_embeddings: 128,
  micro_batch_size: 1,
  global_batch_size: 8,
  train_iters: 10,
  lr: 1e-4,
  bf16: true,
  add_bias_linear: false,
  mock_data: true,
  tokenizer_type: "NullTokenizer",
  vocab_size: 128,
};

Deno.test("buildBackendProgram: megatron renders the script and Megatron's flags", () => {
  const r = buildBackendProgram({
    name: "megatron",
    megatron_path: "/opt/Megatron-LM/",
    python: "python3",
    args: megatronArgs,
    extra_args: ["--no-gradient-accumulation-fusion"],
  });
  assertEquals(r.problems, []);
  assertEquals(r.program, [
    "python3",
    "/opt/Megatron-LM/pretrain_gpt.py",
    "--num-layers",
    "2",
    "--hidden-size",
    "64",
    "--num-attention-heads",
    "2",
    "--seq-length",
    "128",
    "--max-position-embeddings",
    "128",
    "--micro-batch-size",
    "1",
    "--global-batch-size",
    "8",
    "--train-iters",
    "10",
    "--lr",
    "0.0001",
    "--bf16",
    "--disable-bias-linear",
    "--mock-data",
    "--tokenizer-type",
    "NullTokenizer",
    "--vocab-size",
    "128",
    "--no-gradient-accumulation-fusion",
  ]);
});

Deno.test("buildBackendProgram: megatron script paths", () => {
  const abs = buildBackendProgram({ name: "megatron", script: "/x/train.py", args: megatronArgs });
  assertEquals(abs.program.slice(0, 2), ["python", "/x/train.py"]);
  const rel = buildBackendProgram({
    name: "megatron",
    script: "pretrain_t5.py",
    args: megatronArgs,
  });
  assertEquals(rel.program.slice(0, 2), ["python", "pretrain_t5.py"]);
});

Deno.test("buildBackendProgram: megatron derives train_iters from a token budget", () => {
  const { train_iters: _, ...rest } = megatronArgs;
  const r = buildBackendProgram({ name: "megatron", args: { ...rest, train_tokens: 10240 } });
  assertEquals(r.problems, []);
  assertEquals(r.derived.train_iters, 10); // 10240 tokens / (128 * 8) per iteration
  const i = r.program.indexOf("--train-iters");
  assertEquals(r.program[i + 1], "10");
  assertEquals(r.program.includes("--train-tokens"), false);
});

Deno.test("buildBackendProgram: an unknown Megatron argument names backend.args.<key>", () => {
  const r = buildBackendProgram({ name: "megatron", args: { ...megatronArgs, num_layer: 3 } });
  assertEquals(r.program, [], "nothing is rendered while there are problems");
  assertEquals(r.problems.map((p) => p.path), ["backend.args.num_layer"]);
  assertMatch(r.problems[0].message, /unknown Megatron argument "num_layer"/);
  assertMatch(r.problems[0].hint ?? "", /did you mean "num_layers"/);
});

Deno.test("buildBackendProgram: the command backend appends extra_args verbatim", () => {
  const r = buildBackendProgram({
    name: "command",
    command: ["sleep"],
    extra_args: ["60"],
  });
  assertEquals(r.program, ["sleep", "60"]);
  const both = buildBackendProgram({
    name: "command",
    command: ["python", "t.py"],
    args: { lr: 0.1 },
    extra_args: ["--flag", 3, true],
  });
  assertEquals(both.program, ["python", "t.py", "--lr", "0.1", "--flag", "3", "True"]);
});

Deno.test("renderKwformat: seed 002's kwformat, one or several words per argument", () => {
  assertEquals(
    renderKwformat(
      { config: "config.yaml", output: "/data/output", lr: 0.001 },
      "--{k}={v}",
      false,
    ),
    ["--config=config.yaml", "--output=/data/output", "--lr=0.001"],
  );
  assertEquals(renderKwformat(args, "--{k} {v}", true), [
    "--lr",
    "0.001",
    "--num-layers",
    "4",
    "--use-fast",
    "True",
    "--debug",
    "False",
    "--sizes",
    "[1, 2]",
    "--name",
    "a b",
  ]);
  assertEquals(renderKwformat({ a: 1, b: "x" }, "{k}:{v}", false), ["a:1", "b:x"]);
});

Deno.test("buildBackendProgram: kwformat wins over arg_style; a bad format is a problem", () => {
  const base = { name: "command", command: ["python", "t.py"], args: { lr: 0.1 } } as BackendConfig;
  assertEquals(
    buildBackendProgram({ ...base, arg_style: "--key value", kwformat: "--{k}={v}" }).program,
    ["python", "t.py", "--lr=0.1"],
  );
  const bad = buildBackendProgram({ ...base, kwformat: "--{key}={v}" });
  assertEquals(bad.problems.map((p) => p.path), ["backend.kwformat"]);
  assertMatch(bad.problems[0].message, /only \{k\} .* and \{v\}/);
  assertMatch(buildBackendProgram({ ...base, kwformat: "--flag" }).problems[0].message, /neither/);
});
