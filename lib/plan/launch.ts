/**
 * Command prefixes: how a backend's program is started. Launchers (`torchrun`,
 * `accelerate launch`, `python`), the SLURM launcher (`srun` with its options) and container
 * runtimes (`apptainer exec` / `singularity exec` with binds, GPU flag and `--env` passthrough).
 *
 * Argv tokens may contain `${env:VAR}`: `autoexp run-entry` replaces them with the job's
 * environment when it starts the command (argv runs without a shell).
 *
 * @module
 */
import type { ConfigProblem } from "../errors.ts";
import { splitShellWords } from "../shell.ts";
import type { ConfigValue } from "../config/tree.ts";
import { pythonStr } from "../config/python_str.ts";
import type { LAUNCHERS } from "../config/schema/backend.ts";
import type { ContainerConfig, LauncherConfig, SlurmConfig } from "../config/schema/mod.ts";

/** A reference to the job's environment inside an argv token, expanded by run-entry. */
export function envRef(name: string): string {
  return `\${env:${name}}`;
}

/** A launcher's name. */
export type LauncherType = typeof LAUNCHERS[number];

function str(v: ConfigValue | undefined): string | undefined {
  return v === undefined || v === null ? undefined : pythonStr(v);
}

function list(v: ConfigValue | undefined): string[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return v.map((x) => pythonStr(x));
  if (typeof v === "string") return splitShellWords(v);
  return [pythonStr(v)];
}

/** A launcher's options (`launcher: {type: torchrun, nproc_per_node: 4}` without `type`). */
export type LauncherOptions = Partial<Extract<LauncherConfig, { type: LauncherType }>>;

/** Normalises `launcher: torchrun` or `launcher: {type: torchrun, ...}`. */
export function launcherSettings(
  v: LauncherConfig | undefined,
): { type: LauncherType; opts: LauncherOptions } {
  if (v === undefined || v === null) return { type: "none", opts: {} };
  if (typeof v === "string") return { type: v, opts: {} };
  return { type: v.type, opts: v };
}

/** Facts the launchers derive defaults from. */
export interface LaunchContext {
  readonly nodes: number;
  readonly gpusPerNode: number;
}

/**
 * Wraps a program (`script` + its arguments) in the backend's launcher.
 * `program[0]` is the script or executable; a leading `python`/`python3` is dropped for
 * torchrun and accelerate, which take the script path themselves.
 */
export function applyLauncher(
  program: readonly string[],
  launcher: LauncherConfig | undefined,
  ctx: LaunchContext,
): string[] {
  const { type, opts } = launcherSettings(launcher);
  const script = /^python[0-9.]*$/.test(program[0] ?? "") ? program.slice(1) : [...program];
  const extra = list(opts.extra_args);
  switch (type) {
    case "none":
      return [...program];
    case "python":
      return [str(opts.python) ?? "python", ...extra, ...script];
    case "torchrun": {
      const nnodes = str(opts.nnodes) ?? String(ctx.nodes);
      const nproc = str(opts.nproc_per_node) ?? String(Math.max(1, ctx.gpusPerNode));
      const port = str(opts.master_port) ?? "29500";
      const out = [
        str(opts.command) ?? "torchrun",
        `--nnodes=${nnodes}`,
        `--nproc-per-node=${nproc}`,
      ];
      if (Number(nnodes) > 1 || opts.rdzv === true) {
        out.push(
          `--rdzv-backend=${str(opts.rdzv_backend) ?? "c10d"}`,
          `--rdzv-endpoint=${str(opts.rdzv_endpoint) ?? `${envRef("MASTER_ADDR")}:${port}`}`,
          `--rdzv-id=${str(opts.rdzv_id) ?? envRef("SLURM_JOB_ID")}`,
        );
      } else {
        out.push("--standalone");
      }
      return [...out, ...extra, ...script];
    }
    case "accelerate": {
      const { machines, processes } = accelerateCounts(opts, ctx);
      const out = [str(opts.command) ?? "accelerate", "launch"];
      if (opts.config_file) out.push("--config_file", str(opts.config_file)!);
      out.push("--num_processes", processes, "--num_machines", machines);
      if (Number(machines) > 1) {
        out.push(
          "--machine_rank",
          str(opts.machine_rank) ?? envRef("SLURM_NODEID"),
          "--main_process_ip",
          str(opts.main_process_ip) ?? envRef("MASTER_ADDR"),
          "--main_process_port",
          str(opts.main_process_port) ?? "29500",
        );
      }
      if (opts.mixed_precision) out.push("--mixed_precision", str(opts.mixed_precision)!);
      if (opts.gpu_ids !== undefined && opts.gpu_ids !== null) {
        out.push(
          "--gpu_ids",
          Array.isArray(opts.gpu_ids) ? opts.gpu_ids.map(String).join(",") : str(opts.gpu_ids)!,
        );
      }
      return [...out, ...extra, ...script];
    }
    case "srun":
      return ["srun", ...extra, ...program];
  }
}

function accelerateCounts(opts: LauncherOptions, ctx: LaunchContext) {
  const machines = str(opts.num_machines) ?? String(ctx.nodes);
  const gpus = Math.max(1, ctx.gpusPerNode);
  return { machines, processes: str(opts.num_processes) ?? String(gpus * Number(machines)) };
}

/**
 * Variables a launcher sets for the program, as seed 004's accelerate launcher does:
 * `ACCELERATE_NUM_PROCESSES`, and `CUDA_VISIBLE_DEVICES` when `gpu_ids` chooses the GPUs.
 */
export function launcherEnv(
  launcher: LauncherConfig | undefined,
  ctx: LaunchContext,
): Record<string, string> {
  const { type, opts } = launcherSettings(launcher);
  if (type !== "accelerate") return {};
  const out: Record<string, string> = {
    ACCELERATE_NUM_PROCESSES: accelerateCounts(opts, ctx).processes,
  };
  // `all` is accelerate's own default: every GPU SLURM gave the job, so nothing to narrow.
  if (opts.gpu_ids !== undefined && opts.gpu_ids !== null && opts.gpu_ids !== "all") {
    out.CUDA_VISIBLE_DEVICES = Array.isArray(opts.gpu_ids)
      ? opts.gpu_ids.map(String).join(",")
      : str(opts.gpu_ids)!;
  }
  return out;
}

/** `slurm.launcher_cmd` (+ `slurm.srun` options when it is srun) as argv words. */
export function slurmLauncherPrefix(slurm: SlurmConfig, problems: ConfigProblem[]): string[] {
  const cmd = slurm.launcher_cmd;
  if (cmd === undefined || cmd === null || cmd === "") return [];
  let words: string[];
  try {
    words = Array.isArray(cmd) ? cmd.map((w) => pythonStr(w)) : splitShellWords(cmd);
  } catch (e) {
    problems.push({ path: "slurm.launcher_cmd", message: (e as Error).message });
    return [];
  }
  if (words[0] === "srun" && slurm.srun) {
    for (const [k, v] of Object.entries(slurm.srun)) {
      if (v === null || v === false) continue;
      const flag = `--${k.replaceAll("_", "-")}`;
      words.push(v === true ? flag : `${flag}=${pythonStr(v)}`);
    }
  }
  return words;
}

/** A container runtime's run subcommand in a launcher (`apptainer exec`, `singularity run`). */
const CONTAINER_RUN = /^(?:.*\/)?(?:apptainer|singularity)$/;

/**
 * `slurm.launcher_env_passthrough` for a container runtime named in `slurm.launcher_cmd`
 * (`apptainer exec img.sif`, `srun singularity exec ...`): `--env NAME=${env:NAME}` for each job
 * variable right after its `exec`/`run`/`shell` word, where the runtime reads its options.
 * `found` is false when the launcher starts no container runtime.
 */
export function passEnvIntoLauncher(
  words: readonly string[],
  envNames: readonly string[],
): { words: string[]; found: boolean } {
  const at = words.findIndex((w, i) =>
    CONTAINER_RUN.test(w) && ["exec", "run", "shell"].includes(words[i + 1] ?? "")
  );
  if (at < 0) return { words: [...words], found: false };
  const pairs = envNames.flatMap((name) => ["--env", `${name}=${envRef(name)}`]);
  return { words: [...words.slice(0, at + 2), ...pairs, ...words.slice(at + 2)], found: true };
}

/** The container prefix (`apptainer exec --nv --bind a:b --env K=${env:K} image`), or []. */
export function containerPrefix(
  container: ContainerConfig | undefined,
  envNames: readonly string[],
  problems: ConfigProblem[],
  passthrough = false,
): string[] {
  if (
    !container || container.runtime === null || container.runtime === undefined ||
    container.runtime === "none"
  ) {
    return [];
  }
  const runtime = container.runtime;
  if (!container.image) {
    problems.push({
      path: "container.image",
      message: "a container image is required (path to a .sif file or a URI)",
    });
    return [];
  }
  const out = [str(container.command) ?? runtime, "exec"];
  const gpu = container.gpu;
  if (gpu === true || gpu === "nv") out.push("--nv");
  else if (gpu === "rocm") out.push("--rocm");
  if (container.cleanenv === true) out.push("--cleanenv");
  for (const b of list(container.binds)) out.push("--bind", b);
  if (container.env_passthrough === true || (passthrough && container.env_passthrough !== false)) {
    for (const name of envNames) out.push("--env", `${name}=${envRef(name)}`);
  }
  out.push(...list(container.extra_args), container.image);
  return out;
}
