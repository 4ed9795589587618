/**
 * Tests of command prefixes: launchers (`applyLauncher`), the SLURM launcher with srun options
 * (`slurmLauncherPrefix`) and container runtimes (`containerPrefix`).
 */
import { assertEquals, assertMatch } from "../_assert.ts";
import type { ConfigProblem } from "../../lib/errors.ts";
import type { ConfigMap } from "../../lib/config/tree.ts";
import {
  applyLauncher,
  containerPrefix,
  envRef,
  launcherSettings,
  slurmLauncherPrefix,
} from "../../lib/plan/launch.ts";
import type { LauncherConfig } from "../../lib/config/schema/mod.ts";

const program = ["python", "train.py", "--lr", "0.1"];

interface LauncherCase {
  readonly name: string;
  readonly launcher: LauncherConfig | undefined;
  readonly nodes?: number;
  readonly gpus?: number;
  readonly want: string[];
}

const launcherCases: LauncherCase[] = [
  { name: "no launcher runs the program as it is", launcher: undefined, want: program },
  { name: "none runs the program as it is", launcher: "none", want: program },
  {
    name: "python uses the configured interpreter and drops the program's",
    launcher: { type: "python", python: "/venv/bin/python3", extra_args: "-u -X dev" },
    want: ["/venv/bin/python3", "-u", "-X", "dev", "train.py", "--lr", "0.1"],
  },
  {
    name: "torchrun on one node is standalone with one process per GPU",
    launcher: "torchrun",
    gpus: 4,
    want: [
      "torchrun",
      "--nnodes=1",
      "--nproc-per-node=4",
      "--standalone",
      "train.py",
      "--lr",
      "0.1",
    ],
  },
  {
    name: "torchrun without GPUs still starts one process",
    launcher: "torchrun",
    gpus: 0,
    want: [
      "torchrun",
      "--nnodes=1",
      "--nproc-per-node=1",
      "--standalone",
      "train.py",
      "--lr",
      "0.1",
    ],
  },
  {
    name: "torchrun on two nodes rendezvous at the first node",
    launcher: "torchrun",
    nodes: 2,
    gpus: 8,
    want: [
      "torchrun",
      "--nnodes=2",
      "--nproc-per-node=8",
      "--rdzv-backend=c10d",
      "--rdzv-endpoint=${env:MASTER_ADDR}:29500",
      "--rdzv-id=${env:SLURM_JOB_ID}",
      "train.py",
      "--lr",
      "0.1",
    ],
  },
  {
    name: "torchrun options override the derived values",
    launcher: {
      type: "torchrun",
      nnodes: 2,
      nproc_per_node: 2,
      master_port: 12345,
      rdzv_backend: "static",
      rdzv_id: "fixed",
      extra_args: ["--max-restarts=3"],
    },
    want: [
      "torchrun",
      "--nnodes=2",
      "--nproc-per-node=2",
      "--rdzv-backend=static",
      "--rdzv-endpoint=${env:MASTER_ADDR}:12345",
      "--rdzv-id=fixed",
      "--max-restarts=3",
      "train.py",
      "--lr",
      "0.1",
    ],
  },
  {
    name: "torchrun with rdzv: true uses a rendezvous even on one node",
    launcher: { type: "torchrun", rdzv: true, rdzv_endpoint: "node0:29400" },
    gpus: 2,
    want: [
      "torchrun",
      "--nnodes=1",
      "--nproc-per-node=2",
      "--rdzv-backend=c10d",
      "--rdzv-endpoint=node0:29400",
      "--rdzv-id=${env:SLURM_JOB_ID}",
      "train.py",
      "--lr",
      "0.1",
    ],
  },
  {
    name: "accelerate on one node: processes = GPUs",
    launcher: { type: "accelerate", mixed_precision: "bf16", gpu_ids: [0, 1] },
    gpus: 2,
    want: [
      "accelerate",
      "launch",
      "--num_processes",
      "2",
      "--num_machines",
      "1",
      "--mixed_precision",
      "bf16",
      "--gpu_ids",
      "0,1",
      "train.py",
      "--lr",
      "0.1",
    ],
  },
  {
    name: "accelerate on two nodes names the main process and the machine rank",
    launcher: { type: "accelerate", config_file: "/cfg/acc.yaml" },
    nodes: 2,
    gpus: 4,
    want: [
      "accelerate",
      "launch",
      "--config_file",
      "/cfg/acc.yaml",
      "--num_processes",
      "8",
      "--num_machines",
      "2",
      "--machine_rank",
      "${env:SLURM_NODEID}",
      "--main_process_ip",
      "${env:MASTER_ADDR}",
      "--main_process_port",
      "29500",
      "train.py",
      "--lr",
      "0.1",
    ],
  },
  {
    name: "srun keeps the whole program",
    launcher: { type: "srun", extra_args: "--mpi=pmix" },
    want: ["srun", "--mpi=pmix", ...program],
  },
];

for (const c of launcherCases) {
  Deno.test(`applyLauncher: ${c.name}`, () => {
    const got = applyLauncher(program, c.launcher, {
      nodes: c.nodes ?? 1,
      gpusPerNode: c.gpus ?? 0,
    });
    assertEquals(got, c.want);
  });
}

Deno.test("applyLauncher: a program without python is passed to torchrun whole", () => {
  const got = applyLauncher(["./train.sh", "a"], "torchrun", { nodes: 1, gpusPerNode: 1 });
  assertEquals(got.slice(-2), ["./train.sh", "a"]);
});

Deno.test("launcherSettings: a name or a mapping", () => {
  assertEquals(launcherSettings(undefined), { type: "none", opts: {} });
  assertEquals(launcherSettings("torchrun"), { type: "torchrun", opts: {} });
  assertEquals(launcherSettings({ type: "python", python: "py" }).type, "python");
});

Deno.test("envRef: the token run-entry expands", () => {
  assertEquals(envRef("MASTER_ADDR"), "${env:MASTER_ADDR}");
});

Deno.test("slurmLauncherPrefix: none, a string, a list, srun with options", () => {
  assertEquals(slurmLauncherPrefix({}, []), []);
  assertEquals(slurmLauncherPrefix({ launcher_cmd: null }, []), []);
  assertEquals(
    slurmLauncherPrefix({ launcher_cmd: `srun --label --cpu-bind="mask_cpu:0x1"` }, []),
    [
      "srun",
      "--label",
      "--cpu-bind=mask_cpu:0x1",
    ],
  );
  const slurm: ConfigMap = {
    launcher_cmd: "srun",
    srun: { ntasks_per_node: 1, cpu_bind: "none", kill_on_bad_exit: true, overlap: false, x: null },
  };
  assertEquals(slurmLauncherPrefix(slurm, []), [
    "srun",
    "--ntasks-per-node=1",
    "--cpu-bind=none",
    "--kill-on-bad-exit",
  ]);
  // srun options apply only to srun.
  assertEquals(slurmLauncherPrefix({ launcher_cmd: ["mpirun", "-np", 4], srun: { a: 1 } }, []), [
    "mpirun",
    "-np",
    "4",
  ]);
});

Deno.test("slurmLauncherPrefix: an unterminated quote is a problem", () => {
  const problems: ConfigProblem[] = [];
  assertEquals(slurmLauncherPrefix({ launcher_cmd: "srun 'oops" }, problems), []);
  assertEquals(problems.map((p) => p.path), ["slurm.launcher_cmd"]);
});

Deno.test("containerPrefix: none, apptainer with binds, --nv and env passthrough", () => {
  assertEquals(containerPrefix(undefined, [], []), []);
  assertEquals(containerPrefix({ runtime: null }, [], []), []);
  assertEquals(containerPrefix({ runtime: "none", image: "x.sif" }, [], []), []);
  const got = containerPrefix(
    {
      runtime: "apptainer",
      image: "/img/train.sif",
      binds: ["/scratch:/scratch", "/data:/data:ro"],
      gpu: true,
      env_passthrough: true,
      extra_args: "--writable-tmpfs",
    },
    ["NCCL_DEBUG", "HF_HOME"],
    [],
  );
  assertEquals(got, [
    "apptainer",
    "exec",
    "--nv",
    "--bind",
    "/scratch:/scratch",
    "--bind",
    "/data:/data:ro",
    "--env",
    "NCCL_DEBUG=${env:NCCL_DEBUG}",
    "--env",
    "HF_HOME=${env:HF_HOME}",
    "--writable-tmpfs",
    "/img/train.sif",
  ]);
});

Deno.test("containerPrefix: singularity with --rocm, --cleanenv and a custom command", () => {
  const got = containerPrefix(
    {
      runtime: "singularity",
      command: "/usr/bin/singularity",
      image: "docker://rocm/pytorch",
      gpu: "rocm",
      cleanenv: true,
      binds: "/a:/a",
    },
    ["X"],
    [],
  );
  assertEquals(got, [
    "/usr/bin/singularity",
    "exec",
    "--rocm",
    "--cleanenv",
    "--bind",
    "/a:/a",
    "docker://rocm/pytorch",
  ]);
});

Deno.test("containerPrefix: slurm.launcher_env_passthrough unless the container refuses", () => {
  const c = { runtime: "apptainer", image: "i.sif" } as const;
  assertEquals(containerPrefix(c, ["A"], [], true), [
    "apptainer",
    "exec",
    "--env",
    "A=${env:A}",
    "i.sif",
  ]);
  assertEquals(containerPrefix({ ...c, env_passthrough: false }, ["A"], [], true), [
    "apptainer",
    "exec",
    "i.sif",
  ]);
});

Deno.test("containerPrefix: a missing image is a problem", () => {
  // An unknown runtime is the schema's (tests/config/schema_test.ts).
  const problems: ConfigProblem[] = [];
  assertEquals(containerPrefix({ runtime: "apptainer", image: "" }, [], problems), []);
  assertEquals(containerPrefix({ runtime: "singularity" }, [], problems), []);
  assertEquals(problems.map((p) => p.path), ["container.image", "container.image"]);
  assertMatch(problems[0].message, /a container image is required/);
});
