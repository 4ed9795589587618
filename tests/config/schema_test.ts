/** Schema validation: every problem reported with key path, position and allowed values. */
import { assertEquals, assertMatch } from "../_assert.ts";
import { GROUP_SCHEMAS, objectKeysAt, validateConfig } from "../../lib/config/schema/mod.ts";
import { slurmSchema } from "../../lib/config/schema/slurm.ts";
import { formatSlurmTime, parseSlurmTime } from "../../lib/config/schema/sbatch_options.ts";
import { type ConfigMap, WholeFloat } from "../../lib/config/tree.ts";

const origin = (
  p: string,
) => (p.startsWith("slurm") ? { file: "slurm/x.yaml", line: 3, column: 5 } : undefined);
const valid: ConfigMap = { project: { name: "p", base_output_dir: "/out" } };

Deno.test("validateConfig accepts a valid config and names a missing required group", () => {
  assertEquals(validateConfig(valid, origin, ["project"]).problems, []);
  const [p] = validateConfig({}, origin, ["project"]).problems;
  assertEquals(p.path, "project");
  assertMatch(p.message, /the "project" group is missing/);
});

Deno.test("validateConfig reports every problem with path, file and position", () => {
  const problems = validateConfig({
    ...valid,
    slurm: {
      sbatch: { partiton: "x", nodes: -1, time: "2 hours", mem: "lots" },
      array: { throttle: 0 },
    },
  }, origin).problems;
  const byPath = Object.fromEntries(problems.map((p) => [p.path, p]));
  assertEquals(Object.keys(byPath).sort(), [
    "slurm.array.throttle",
    "slurm.sbatch.mem",
    "slurm.sbatch.nodes",
    "slurm.sbatch.partiton",
    "slurm.sbatch.time",
  ]);
  assertEquals(byPath["slurm.sbatch.partiton"].hint, 'did you mean "partition"?');
  assertEquals(byPath["slurm.sbatch.partiton"].file, "slurm/x.yaml");
  assertEquals(byPath["slurm.sbatch.partiton"].line, 3);
  assertMatch(byPath["slurm.sbatch.time"].message, /"2 hours" must be a SLURM time/);
  assertMatch(byPath["slurm.sbatch.mem"].message, /must be a size such as 64G/);
});

Deno.test("validateConfig lists allowed keys when nothing is close", () => {
  const [p] = validateConfig(
    { ...valid, project: { ...valid.project as ConfigMap, zzzzzz: 1 } },
    origin,
  ).problems;
  assertEquals(p.path, "project.zzzzzz");
  assertMatch(p.hint ?? "", /allowed keys: class_name, name, description, base_output_dir/);
});

Deno.test("validateConfig explains a yes/no that reached a boolean as text (quoted or from -o)", () => {
  const [p] = validateConfig({ ...valid, slurm: { launcher_env_passthrough: "yes" } }, origin)
    .problems;
  assertMatch(p.message, /expected a boolean, got "yes"/);
  assertMatch(p.hint ?? "", /write true or false/);
});

Deno.test("validateConfig rejects unsafe project names", () => {
  const [p] = validateConfig({ project: { name: "my run/1", base_output_dir: "/o" } }, origin)
    .problems;
  assertEquals(p.path, "project.name");
  assertMatch(p.message, /letters, digits/);
});

Deno.test("objectKeysAt walks optional, union and record schemas", () => {
  assertEquals(objectKeysAt(slurmSchema, ["array"]), ["enabled", "throttle"]);
  assertEquals(objectKeysAt(slurmSchema, ["sbatch"]).includes("partition"), true);
  assertEquals(objectKeysAt(slurmSchema, ["nope"]), []);
});

Deno.test("parseSlurmTime and formatSlurmTime agree on SLURM's formats", () => {
  const cases: [string | number, number, string][] = [
    ["30", 30, "00:30:00"],
    ["1:30", 1.5, "00:01:30"],
    ["02:00:00", 120, "02:00:00"],
    ["1-00", 1440, "1-00:00:00"],
    ["2-12:30", 3630, "2-12:30:00"],
    ["1-1:1:1", 1501 + 1 / 60, "1-01:01:01"],
    [90, 90, "01:30:00"],
    ["UNLIMITED", Infinity, "UNLIMITED"],
  ];
  for (const [input, minutes, formatted] of cases) {
    assertEquals(parseSlurmTime(input), minutes, `parse ${input}`);
    assertEquals(formatSlurmTime(minutes), formatted, `format ${minutes}`);
  }
});

Deno.test("SLURM times with minutes or seconds over 59 are refused", () => {
  for (const bad of ["99:99:99", "1:60:00", "2-12:75"]) {
    const [p] = validateConfig({ ...valid, slurm: { sbatch: { time: bad } } }, origin).problems;
    assertEquals(p?.path, "slurm.sbatch.time", bad);
  }
  for (const good of ["99:59:59", "120", "2-12:30", "1-00:00:00"]) {
    assertEquals(
      validateConfig({ ...valid, slurm: { sbatch: { time: good } } }, origin).problems,
      [],
      good,
    );
  }
});

Deno.test("validateConfig names a backend, launcher, arg style or runtime it does not know", () => {
  const cases: [ConfigMap, string, RegExp][] = [
    [{ backend: { command: ["ls"] } }, "backend.name", /required key is missing/],
    [
      { backend: { name: "deepspeed", command: ["ls"] } },
      "backend.name",
      /"deepspeed" is not allowed \(allowed: command, megatron\)/,
    ],
    [
      { backend: { name: "command", command: ["ls"], arg_style: "-k v" } },
      "backend.arg_style",
      /"-k v" is not allowed \(allowed: --key value, --key=value, key=value\)/,
    ],
    [
      { backend: { name: "command", command: ["ls"], launcher: { type: "mpirun" } } },
      "backend.launcher.type",
      /"mpirun" is not allowed \(allowed: none, python, torchrun, accelerate, srun\)/,
    ],
    [
      { backend: { name: "command", command: ["ls"], launcher: "mpirun" } },
      "backend.launcher",
      /mpirun/,
    ],
    [
      { container: { runtime: "docker", image: "x" } },
      "container.runtime",
      /"docker" is not allowed \(allowed: apptainer, singularity, none\)/,
    ],
  ];
  for (const [config, path, message] of cases) {
    const { problems, config: typed } = validateConfig(config, origin);
    assertEquals(typed, undefined);
    assertEquals(problems.map((p) => p.path), [path], JSON.stringify(problems));
    assertMatch(problems[0].message, message);
  }
});

Deno.test("validateConfig returns the valid groups typed, as the very objects it was given", () => {
  const slurm = { sbatch: { nodes: 2, time: "1:00:00" }, launcher_cmd: ["srun", "-l"] };
  const backend = { name: "command", command: ["ls"], args: { a: [1, { b: 2 }] } };
  const { problems, config } = validateConfig({ ...valid, slurm, backend, sweep: {} }, origin);
  assertEquals(problems, []);
  // Runs that share a group object keep sharing it (the planner's caches are keyed by it).
  assertEquals(config?.slurm === slurm, true);
  assertEquals(config?.backend === backend, true);
  assertEquals(Object.keys(config ?? {}).sort(), ["backend", "project", "slurm"]);
});

Deno.test("the group schemas only check: parsing returns every value as it was", () => {
  // The typed config is the input itself; a default or transform in a schema would make the
  // planner read something other than what was validated.
  const config: ConfigMap = {
    project: { name: "p", base_output_dir: "/o", tags: ["a"], resume: true },
    results: {
      files: [{ name: "eval", glob: "evaluations/*.json", key: "results", format: "json" }],
      log_metrics: true,
      best: { "eval.mmlu": "max" },
      sort: "loss",
    },
    slurm: {
      sbatch: { nodes: 2, time: 90, mem: "64G", partition: "gpu", exclusive: true },
      sbatch_extra_directives: ["#SBATCH --gpu-bind=closest"],
      env: { A: "1", B: { value: "$(hostname)", shell: true }, C: null },
      launcher_cmd: "srun",
      srun: { cpu_bind: "none" },
      array: { enabled: true, throttle: 4 },
      max_array_size: 1001,
      modules: ["cuda"],
      setup: ["ulimit -c 0"],
    },
    backend: {
      name: "command",
      command: "python train.py",
      args: { lr: 0.1, nested: { x: [1, 2] } },
      arg_style: "key=value",
      launcher: { type: "torchrun", nproc_per_node: 4, rdzv: true },
      extra_args: ["--x", 1, true, null],
      env: { D: "x" },
    },
    container: {
      runtime: "apptainer",
      image: "/i.sif",
      binds: ["/a:/a"],
      gpu: "nv",
      extra_args: "--writable-tmpfs",
    },
    compute: {
      gpus_per_node: "l40s:1",
      mem_gb: 32,
      timeout_min: 90,
      additional_parameters: { exclusive: true },
    },
  };
  for (const [group, schema] of Object.entries(GROUP_SCHEMAS)) {
    const parsed = schema.safeParse(config[group]);
    assertEquals(parsed.success, true, group);
    assertEquals(parsed.data as unknown, config[group], group);
  }
});

Deno.test("validateConfig: whole floats are plain numbers, except in free-form values", () => {
  const { problems, config } = validateConfig({
    slurm: { sbatch: { nodes: new WholeFloat(2) }, env: { RATIO: new WholeFloat(3) } },
    backend: { name: "command", command: ["python3"], args: { lr: new WholeFloat(1) } },
  }, origin);
  assertEquals(problems, []);
  assertEquals(config?.slurm?.sbatch?.nodes, 2);
  assertEquals(String(config?.slurm?.env?.RATIO), "3.0");
  assertEquals(String(config?.backend?.args?.lr), "1.0");
});
