/**
 * The Scheduler port: everything above it (submit, the monitor) talks to SLURM or to the
 * embedded local scheduler through this interface only. States are normalised; the raw state
 * and reason are kept beside them.
 *
 * @module
 */

/** Normalised job states (product.md, "Monitoring"). */
export type JobState =
  | "pending"
  | "running"
  | "completed"
  | "failed"
  | "timeout"
  | "out_of_memory"
  | "node_fail"
  | "preempted"
  | "cancelled"
  | "requeued"
  | "suspended"
  | "unknown"
  /** Gone from the queue and accounting without an end marker for longer than a grace period. */
  | "lost";

/** States in which the scheduler still has the job queued or running. */
export const LIVE_STATES: ReadonlySet<JobState> = new Set([
  "pending",
  "running",
  "requeued",
  "suspended",
]);

/** States after which the job will not run again by itself. */
export const FINAL_STATES: ReadonlySet<JobState> = new Set([
  "completed",
  "failed",
  "timeout",
  "out_of_memory",
  "node_fail",
  "preempted",
  "cancelled",
  "lost",
]);

/** What to submit: one script, possibly as an array. */
export interface SubmitRequest {
  /** Absolute path of the rendered script. */
  readonly script: string;
  /** Directory sbatch runs in (`--chdir` is not forced; this is the submit directory). */
  readonly cwd: string;
  /** `--job-name` (overrides the script's). */
  readonly jobName: string;
  /** `--comment` tag that finds this submission again (overrides the script's). */
  readonly comment: string;
  /** `--array` value (overrides the script's), e.g. `0-9%2` or `3,7`. */
  readonly array?: string;
  /** `--dependency`, e.g. `afterok:123:124`. */
  readonly dependency?: string;
  /** `--time` override (minutes or SLURM time), e.g. after a timeout. */
  readonly time?: string;
  /** Extra sbatch options (`--qos=x`), passed before the script. */
  readonly extraArgs?: readonly string[];
}

/** The outcome of a submission. */
export interface SubmitResult {
  /** The job id (for arrays: the array's job id). */
  readonly jobId: string;
  /** The exact command line used (for logs and `--dry-run`). */
  readonly argv: readonly string[];
}

/** One observed job or array task. */
export interface JobObservation {
  /** The id of this job or task as SLURM shows it: `123`, `123_4`. */
  readonly id: string;
  /** The numeric job id of this job or task (array tasks have their own). */
  readonly jobId: string;
  /** For array tasks: the array's job id and the task id. */
  readonly arrayJobId?: string;
  readonly arrayTaskId?: number;
  /**
   * For a not yet expanded array record (`123_[4-9%2]`): the task ids it stands for. All of
   * them are pending.
   */
  readonly pendingTasks?: readonly number[];
  readonly name: string;
  readonly state: JobState;
  /** The scheduler's own words: `CANCELLED by 0`, `PENDING`, `OUT_OF_MEMORY`. */
  readonly rawState: string;
  /** `DependencyNeverSatisfied`, `Resources`, `BeginTime`, `None`, ... */
  readonly reason: string;
  readonly exitCode?: number;
  /** Signal that ended the job (`ExitCode=0:15` -> 15). */
  readonly signal?: number;
  readonly comment?: string;
  /** ISO times when known. */
  readonly start?: string;
  readonly end?: string;
  readonly nodeList?: string;
  /** SLURM's restart count (requeues keep the job id). */
  readonly restarts?: number;
  /** Where this came from. */
  readonly source: "squeue" | "sacct" | "scontrol" | "local";
}

/** What to look for in one batched query. */
export interface QueryRequest {
  /** Job ids to look up (array ids find all their tasks). */
  readonly ids?: readonly string[];
  /** Also every job whose comment starts with this tag (finds jobs submitted just before a crash). */
  readonly commentPrefix?: string;
  /** Look in accounting (sacct) too for jobs no longer in the queue (default true). */
  readonly history?: boolean;
}

/** The answer of one query round, with the commands it cost. */
export interface QueryResult {
  readonly jobs: readonly JobObservation[];
  /** Commands run for this round (argv[0] of each), for load accounting and tests. */
  readonly commands: readonly string[];
  /** Accounting was asked for but is not available (sacct missing or disabled). */
  readonly accountingUnavailable?: boolean;
}

/** Limits and capabilities discovered from the scheduler. */
export interface SchedulerLimits {
  readonly maxArraySize: number;
  readonly maxSubmitJobs?: number;
  /** Whether sacct answers. */
  readonly accounting: boolean;
}

/** The port. */
export interface Scheduler {
  readonly kind: "slurm" | "local";
  submit(req: SubmitRequest): Promise<SubmitResult>;
  query(req: QueryRequest): Promise<QueryResult>;
  /** Cancels jobs or array tasks by id (`123`, `123_4`). */
  cancel(ids: readonly string[]): Promise<void>;
  /** Puts a job back in the queue (same id); only where the scheduler allows it. */
  requeue(ids: readonly string[]): Promise<void>;
  hold(ids: readonly string[]): Promise<void>;
  release(ids: readonly string[]): Promise<void>;
  /** Changes a pending job (`TimeLimit=120`). */
  update(id: string, fields: Readonly<Record<string, string>>): Promise<void>;
  limits(): Promise<SchedulerLimits>;
}

/** SLURM's default MaxArraySize, used when the cluster's is unknown. */
export const DEFAULT_MAX_ARRAY_SIZE = 1001;
