/**
 * The one typed table of sbatch options autoexp knows: our config key, the sbatch flag, the value
 * type and a short description. It drives schema validation of `slurm.sbatch`, script rendering
 * and the generated configuration reference, so the three cannot disagree.
 *
 * Options not in the table go into `slurm.sbatch_extra_directives` verbatim.
 *
 * @module
 */

/** Value types of sbatch options. */
export type SbatchType = "string" | "int" | "bool" | "time" | "memory" | "flag";

/** One sbatch option. */
export interface SbatchOption {
  /** The `--flag` name without dashes. */
  readonly flag: string;
  readonly type: SbatchType;
  readonly description: string;
  /** For `bool`: the flag rendered when false (e.g. `no-requeue`); omitted means nothing is rendered. */
  readonly falseFlag?: string;
}

/**
 * Config key (snake_case, as users write it in `slurm.sbatch`) -> option.
 * `flag` types render as a bare `--flag` when true and nothing when false.
 */
export const SBATCH_OPTIONS: Readonly<Record<string, SbatchOption>> = {
  job_name: {
    flag: "job-name",
    type: "string",
    description: "job name; autoexp uses the run name when unset (-J)",
  },
  account: { flag: "account", type: "string", description: "charge the job to this account (-A)" },
  partition: { flag: "partition", type: "string", description: "partition to run in (-p)" },
  qos: { flag: "qos", type: "string", description: "quality of service" },
  time: { flag: "time", type: "time", description: "time limit: MM, HH:MM:SS, D-HH:MM:SS (-t)" },
  nodes: { flag: "nodes", type: "int", description: "number of nodes (-N)" },
  ntasks: { flag: "ntasks", type: "int", description: "total number of tasks (-n)" },
  ntasks_per_node: { flag: "ntasks-per-node", type: "int", description: "tasks per node" },
  cpus_per_task: { flag: "cpus-per-task", type: "int", description: "CPUs per task (-c)" },
  gpus: { flag: "gpus", type: "string", description: "total GPUs, optionally typed (a100:4)" },
  gpus_per_node: {
    flag: "gpus-per-node",
    type: "string",
    description: "GPUs per node, optionally typed (h100:4)",
  },
  gpus_per_task: { flag: "gpus-per-task", type: "string", description: "GPUs per task" },
  gres: { flag: "gres", type: "string", description: "generic resources (gpu:4)" },
  mem: { flag: "mem", type: "memory", description: "memory per node (e.g. 64G, 0 for all)" },
  mem_per_cpu: { flag: "mem-per-cpu", type: "memory", description: "memory per CPU" },
  mem_per_gpu: { flag: "mem-per-gpu", type: "memory", description: "memory per GPU" },
  constraint: { flag: "constraint", type: "string", description: "node features required (-C)" },
  exclusive: { flag: "exclusive", type: "flag", description: "do not share nodes with other jobs" },
  reservation: { flag: "reservation", type: "string", description: "run in this reservation" },
  requeue: {
    flag: "requeue",
    type: "bool",
    falseFlag: "no-requeue",
    description: "allow SLURM to requeue the job (preemption, node failure)",
  },
  signal: {
    flag: "signal",
    type: "string",
    description: "signal before the time limit, e.g. B:USR1@120",
  },
  hint: {
    flag: "hint",
    type: "string",
    description: "scheduling hint (nomultithread, compute_bound)",
  },
  mail_type: { flag: "mail-type", type: "string", description: "mail events (END,FAIL)" },
  mail_user: { flag: "mail-user", type: "string", description: "mail address" },
  exclude: { flag: "exclude", type: "string", description: "nodes to avoid (-x)" },
  nodelist: { flag: "nodelist", type: "string", description: "nodes to use (-w)" },
  distribution: {
    flag: "distribution",
    type: "string",
    description: "task distribution (block, cyclic)",
  },
  switches: { flag: "switches", type: "string", description: "max switches, optionally @max-wait" },
  dependency: {
    flag: "dependency",
    type: "string",
    description: "start after other jobs, e.g. afterok:123:124 (-d)",
  },
  begin: {
    flag: "begin",
    type: "string",
    description: "start no earlier than (now+1hour, 2026-01-01T10:00)",
  },
  deadline: {
    flag: "deadline",
    type: "string",
    description: "remove the job if it cannot end before this time",
  },
  nice: { flag: "nice", type: "int", description: "scheduling priority adjustment" },
  licenses: { flag: "licenses", type: "string", description: "licenses required (-L)" },
  cluster: { flag: "clusters", type: "string", description: "cluster to submit to (-M)" },
  wckey: { flag: "wckey", type: "string", description: "workload characterisation key" },
  export: {
    flag: "export",
    type: "string",
    description: "environment export policy (ALL, NONE, VARS)",
  },
  chdir: {
    flag: "chdir",
    type: "string",
    description: "working directory of the batch script (-D)",
  },
  open_mode: {
    flag: "open-mode",
    type: "string",
    description: "log open mode: append or truncate",
  },
  threads_per_core: { flag: "threads-per-core", type: "int", description: "threads per core" },
  sockets_per_node: { flag: "sockets-per-node", type: "int", description: "sockets per node" },
  cores_per_socket: { flag: "cores-per-socket", type: "int", description: "cores per socket" },
  tmp: { flag: "tmp", type: "memory", description: "minimum temporary disk space" },
  network: { flag: "network", type: "string", description: "network options" },
  container: {
    flag: "container",
    type: "string",
    description: "OCI container bundle path (SLURM's own containers)",
  },
};

/** SLURM time formats: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S, or UNLIMITED/INFINITE. */
export const SLURM_TIME =
  /^(?:\d+|\d+:[0-5]?\d|\d+:[0-5]?\d:[0-5]?\d|\d+-\d+|\d+-\d+:[0-5]?\d|\d+-\d+:[0-5]?\d:[0-5]?\d|UNLIMITED|INFINITE)$/i;

/** SLURM memory sizes: a number with an optional K/M/G/T suffix. */
export const SLURM_MEMORY = /^\d+(?:[KMGT]B?)?$/i;

/** Minutes of a SLURM time limit (UNLIMITED -> Infinity). */
export function parseSlurmTime(v: string | number): number {
  if (typeof v === "number") return v;
  const s = v.trim();
  if (/^(UNLIMITED|INFINITE)$/i.test(s)) return Infinity;
  let days = 0;
  let rest = s;
  const dm = s.match(/^(\d+)-(.*)$/);
  if (dm) {
    days = Number(dm[1]);
    rest = dm[2];
  }
  const parts = rest.split(":").map(Number);
  if (parts.some((n) => !Number.isFinite(n))) throw new Error(`invalid SLURM time "${v}"`);
  let minutes: number;
  if (dm) {
    // D-H, D-H:M, D-H:M:S
    const [h = 0, m = 0, sec = 0] = parts;
    minutes = h * 60 + m + sec / 60;
  } else if (parts.length === 1) minutes = parts[0];
  else if (parts.length === 2) minutes = parts[0] + parts[1] / 60;
  else minutes = parts[0] * 60 + parts[1] + parts[2] / 60;
  return days * 1440 + minutes;
}

/** Renders minutes as SLURM's `D-HH:MM:SS` / `HH:MM:SS`. */
export function formatSlurmTime(minutes: number): string {
  if (!Number.isFinite(minutes)) return "UNLIMITED";
  const total = Math.round(minutes * 60);
  const d = Math.floor(total / 86400);
  const h = Math.floor((total % 86400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const hms = `${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}:${
    String(s).padStart(2, "0")
  }`;
  return d ? `${d}-${hms}` : hms;
}
