/** buildRunPlan details: per-node values under srun, shell words for bash -c. */
import { assertEquals } from "../_assert.ts";
import { buildRunPlan, shellWordWithEnv } from "../../lib/plan/run_plan.ts";
import { containerEnvSafe } from "../../lib/cli/run_entry.ts";

Deno.test('shellWordWithEnv quotes literal text and turns ${env:X} into "${X}"', () => {
  const cases: [string, string][] = [
    ["plain", "plain"],
    ["it's", `'it'\\''s'`],
    ["${env:SLURM_NODEID}", `"\${SLURM_NODEID}"`],
    ["--rank=${env:SLURM_NODEID}x y", `--rank="\${SLURM_NODEID}"'x y'`],
    ["", "''"],
  ];
  for (const [word, want] of cases) assertEquals(shellWordWithEnv(word), want, word);
});

Deno.test("buildRunPlan: multi-node accelerate under srun reads the machine rank on each node", () => {
  const r = buildRunPlan({
    slurm: {
      sbatch: { nodes: 2, gpus_per_node: 4 },
      launcher_cmd: "srun",
      srun: { ntasks_per_node: 1 },
    },
    backend: { name: "command", command: ["python", "train.py"], launcher: "accelerate" },
  }, { index: 0, name: "r", values: {}, sweepDir: "/s" });
  assertEquals(r.problems, []);
  const argv = r.plan!.argv;
  assertEquals(argv.slice(0, 4), ["srun", "--ntasks-per-node=1", "bash", "-c"]);
  assertEquals(
    argv[4],
    `exec accelerate launch --num_processes 8 --num_machines 2 --machine_rank "\${SLURM_NODEID}" ` +
      `--main_process_ip "\${MASTER_ADDR}" --main_process_port 29500 train.py`,
  );
  // MASTER_ADDR is exported by the job script so every node sees the first node's address.
  assertEquals(Object.keys(r.plan!.script.shellEnv), ["MASTER_ADDR"]);
});

Deno.test("containerEnvSafe moves values apptainer --env would split into APPTAINERENV_*", () => {
  const env: Record<string, string> = { A: "plain", B: "hsn0,hsn1", C: 'say "hi"' };
  const argv = [
    "apptainer",
    "exec",
    "--env",
    "A=${env:A}",
    "--env",
    "B=${env:B}",
    "--env",
    "C=${env:C}",
    "img",
    "x",
  ];
  assertEquals(containerEnvSafe(argv, env), ["apptainer", "exec", "--env", "A=plain", "img", "x"]);
  assertEquals([env.APPTAINERENV_B, env.SINGULARITYENV_B], ["hsn0,hsn1", "hsn0,hsn1"]);
  assertEquals(env.APPTAINERENV_C, 'say "hi"');
  assertEquals(env.APPTAINERENV_A, undefined);
});

Deno.test("buildRunPlan refuses extra directives that set what autoexp owns", () => {
  for (
    const d of [
      "#SBATCH --output=x.log",
      "#SBATCH -o x.log",
      "#SBATCH --comment=mine",
      "#SBATCH --array=0-3",
    ]
  ) {
    const r = buildRunPlan({
      slurm: { sbatch_extra_directives: [d] },
      backend: { name: "command", command: ["true"] },
    }, { index: 0, name: "r", values: {}, sweepDir: "/s" });
    assertEquals(r.problems.length, 1, d);
    assertEquals(r.problems[0].path, "slurm.sbatch_extra_directives[0]");
  }
});

Deno.test("buildRunPlan: launcher_env_passthrough passes the job's variables into a launcher_cmd container", () => {
  // Seed 000: `slurm.launcher_cmd` is a prefix (e.g. `apptainer exec ...`), and
  // `launcher_env_passthrough: true` forwards `slurm.environment` keys via `--env VAR=$VAR`.
  const plan = (launcher_cmd: string, passthrough: boolean) =>
    buildRunPlan({
      slurm: {
        launcher_cmd,
        launcher_env_passthrough: passthrough,
        environment: { HF_HOME: "/scratch/hf", NCCL_DEBUG: "WARN" },
      },
      backend: { name: "command", command: ["python", "train.py"] },
    }, { index: 0, name: "r", values: {}, sweepDir: "/s" });
  const r = plan("srun apptainer exec --nv /img.sif", true);
  assertEquals(r.problems, []);
  assertEquals(r.plan!.argv, [
    "srun",
    "apptainer",
    "exec",
    "--env",
    "HF_HOME=${env:HF_HOME}",
    "--env",
    "NCCL_DEBUG=${env:NCCL_DEBUG}",
    "--nv",
    "/img.sif",
    "python",
    "train.py",
  ]);
  assertEquals(
    plan("srun apptainer exec --nv /img.sif", false).plan!.argv.includes("--env"),
    false,
  );
  // Nothing to pass into: said, not silently ignored.
  const bare = plan("srun", true);
  assertEquals(bare.plan!.argv, ["srun", "python", "train.py"]);
  assertEquals(bare.warnings.some((w) => /launcher_env_passthrough: no container/.test(w)), true);
});

Deno.test("buildRunPlan: GPUs requested in sbatch_extra_directives or srun count (seed 001's LUMI preset)", () => {
  const plan = (slurm: Record<string, unknown>) =>
    buildRunPlan({
      slurm,
      backend: { name: "command", command: ["python", "train.py"], launcher: "torchrun" },
    }, { index: 0, name: "r", values: {}, sweepDir: "/s" });
  // The seed's config/slurm/lumi.yaml, as written there.
  const lumi = {
    sbatch: { partition: "standard-g", time: "2:00:00", nodes: 2 },
    sbatch_extra_directives: [
      "#SBATCH --gpus-per-node=8",
      "#SBATCH --exclusive",
      "#SBATCH --hint=nomultithread",
    ],
    srun: { cpu_bind: "mask_cpu:fe000000000000,fe00000000000000", gpus_per_node: 8 },
  };
  const r = plan(lumi);
  assertEquals(r.problems, []);
  assertEquals(r.plan!.gpus, 16);
  assertEquals(r.plan!.argv.slice(0, 3), ["torchrun", "--nnodes=2", "--nproc-per-node=8"]);
  // The directive line itself is still written as given.
  assertEquals(r.plan!.script.extraDirectives.includes("#SBATCH --gpus-per-node=8"), true);
  // srun's alone, and the short forms -N / -t.
  const short = plan({
    sbatch_extra_directives: ["#SBATCH -N 3", "#SBATCH -t 1:00:00"],
    srun: { gpus_per_node: 4 },
  });
  assertEquals(short.problems, []);
  assertEquals([short.plan!.gpus, short.plan!.minutes], [12, 60]);
  // Several options on one line, a node range, and one time written two ways.
  const line = plan({
    sbatch: { time: 60 },
    sbatch_extra_directives: ["#SBATCH -N 2-4 --gpus-per-node=8", "#SBATCH --time=01:00:00"],
  });
  assertEquals(line.problems, []);
  assertEquals([line.plan!.nodes, line.plan!.gpus, line.plan!.minutes], [4, 32, 60]);
  // Two different answers are refused, naming both places.
  const both = plan({ ...lumi, sbatch: { ...lumi.sbatch, gpus_per_node: 4 } });
  assertEquals(both.problems.map((p) => p.path).sort(), [
    "slurm.sbatch_extra_directives[0]",
    "slurm.srun.gpus_per_node",
  ]);
  const message = both.problems.find((p) => p.path.startsWith("slurm.sbatch_extra"))!.message;
  assertEquals(
    /requests gpus_per_node = 8, but slurm\.sbatch\.gpus_per_node = 4/.test(message),
    true,
  );
});

Deno.test("buildRunPlan: compute keys in submitit's words become sbatch options and win over slurm.sbatch", () => {
  const plan = (compute: Record<string, unknown>) =>
    buildRunPlan({
      slurm: { sbatch: { partition: "batch", gpus_per_node: 4, mem: "200G", time: "01:00:00" } },
      compute,
      backend: { name: "command", command: ["python", "train.py"] },
    } as never, { index: 0, name: "r", values: {}, sweepDir: "/s" });
  // Seed 003: compute=killarney/l40s_1x, then compute.mem_gb=32.
  const r = plan({
    partition: "gpubase_l40s_b2",
    gpus_per_node: "l40s:1",
    tasks_per_node: 1,
    cpus_per_task: 8,
    mem_gb: 32,
    timeout_min: 90,
    additional_parameters: { exclusive: true },
  });
  assertEquals(r.problems, []);
  const res = r.plan!.script.resources;
  assertEquals(
    [res.partition, res.gpus_per_node, res.ntasks_per_node, res.cpus_per_task, res.mem, res.time],
    ["gpubase_l40s_b2", "l40s:1", 1, 8, "32G", 90],
  );
  assertEquals(res.exclusive, true);
  assertEquals([r.plan!.gpus, r.plan!.minutes], [1, 90]);
  // A name sbatch does not know is refused, not dropped.
  const bad = plan({ additional_parameters: { exlusive: true } });
  assertEquals(bad.problems.map((p) => p.path), ["compute.additional_parameters.exlusive"]);
  assertEquals(/did you mean "exclusive"/.test(bad.problems[0].message), true);
});

Deno.test("buildRunPlan: the accelerate launcher sets ACCELERATE_NUM_PROCESSES and CUDA_VISIBLE_DEVICES (seed 004)", () => {
  const plan = (launcher: Record<string, unknown>, env: Record<string, string> = {}) =>
    buildRunPlan({
      slurm: { sbatch: { gpus_per_node: 4 }, env },
      backend: { name: "command", command: ["python", "MAIN_a_single_experiment.py"], launcher },
    } as never, { index: 0, name: "r", values: {}, sweepDir: "/s" });
  // The seed's launch: accelerate launch --num_processes N --gpu_ids 0,1,... --mixed_precision fp16
  const r = plan({
    type: "accelerate",
    gpu_ids: [0, 1],
    num_processes: 2,
    mixed_precision: "fp16",
  });
  assertEquals(r.problems, []);
  assertEquals(r.plan!.env.ACCELERATE_NUM_PROCESSES, "2");
  assertEquals(r.plan!.env.CUDA_VISIBLE_DEVICES, "0,1");
  // Without gpu_ids SLURM chooses the GPUs: CUDA_VISIBLE_DEVICES is left to it.
  const all = plan({ type: "accelerate" });
  assertEquals(all.plan!.env.ACCELERATE_NUM_PROCESSES, "4");
  assertEquals("CUDA_VISIBLE_DEVICES" in all.plan!.env, false);
  // The config's own value wins, and the difference is said.
  const own = plan({ type: "accelerate", gpu_ids: "0,1" }, { CUDA_VISIBLE_DEVICES: "2,3" });
  assertEquals(own.plan!.env.CUDA_VISIBLE_DEVICES, "2,3");
  assertEquals(own.warnings.some((w) => /CUDA_VISIBLE_DEVICES=2,3/.test(w)), true);
  // gpu_ids: all (accelerate's default) narrows nothing.
  assertEquals(
    "CUDA_VISIBLE_DEVICES" in plan({ type: "accelerate", gpu_ids: "all" }).plan!.env,
    false,
  );
  // Other launchers set nothing.
  assertEquals("ACCELERATE_NUM_PROCESSES" in plan({ type: "torchrun" }).plan!.env, false);
});

Deno.test("buildRunPlan: one memory option reaches sbatch: compute's replaces the slurm preset's; two in slurm are refused", () => {
  const plan = (sbatch: Record<string, unknown>, compute?: Record<string, unknown>) =>
    buildRunPlan({
      slurm: { sbatch },
      ...(compute ? { compute } : {}),
      backend: { name: "command", command: ["python", "train.py"] },
    } as never, { index: 0, name: "r", values: {}, sweepDir: "/s" });
  const r = plan({ partition: "a40", mem: "40G" }, { mem_per_gpu: "20G" });
  assertEquals(r.problems, []);
  assertEquals([r.plan!.script.resources.mem, r.plan!.script.resources.mem_per_gpu], [
    undefined,
    "20G",
  ]);
  const both = plan({ mem: "40G", mem_per_cpu: "4G" });
  assertEquals(both.problems.map((p) => p.path), ["slurm.sbatch.mem_per_cpu"]);
  assertEquals(
    /one of --mem, --mem-per-cpu and --mem-per-gpu/.test(both.problems[0].message),
    true,
  );
});
