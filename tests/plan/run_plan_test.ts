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
