/**
 * The local scheduler's state on disk, shared by every autoexp process that uses the same
 * root (submitters, supervisors, monitors):
 *
 * ```
 * ROOT/lock                      flock: job id counter and slot table
 * ROOT/next_id                   the next job id
 * ROOT/slots/<n>.json            slot n is taken: which task, which supervisor
 * ROOT/waiting/<id>.json         job <id> waits for a slot (first come, first served)
 * ROOT/jobs/<id>/spec.json       the submission as parsed (never changes)
 * ROOT/jobs/<id>/script.sh       a copy of the script, taken at submission (as sbatch does)
 * ROOT/jobs/<id>/job.json        hold, time limit, supervisor pid: changes under jobs/<id>/lock
 * ROOT/jobs/<id>/supervisor.log  the supervisor's own messages
 * ROOT/jobs/<id>/tasks/<key>/state.json  one task (key `single`, or the array task id)
 * ```
 *
 * Every file is written atomically (temporary file, then rename); every read-modify-write of a
 * job happens under its flock. A task without a state file has not left the queue yet: it is
 * PENDING (this keeps a 10001-task array cheap to submit, like SLURM's `123_[4-9]` record).
 *
 * @module
 */
import {
  classifyDependency,
  type Dependency,
  type SignalSpec,
  type TargetPhase,
} from "./_local_directives.ts";
import type { LocalSystem } from "../runtime/local_sys.ts";

/** The default state directory: `$AUTOEXP_LOCAL_DIR`, else `$HOME/.autoexp/local`. */
export function defaultLocalRoot(env: Readonly<Record<string, string>>): string {
  if (env.AUTOEXP_LOCAL_DIR) return env.AUTOEXP_LOCAL_DIR;
  return `${env.HOME || "/tmp"}/.autoexp/local`;
}

/** The task key of a job that is not an array. */
export const SINGLE = "single";

/** A submission, as parsed (spec.json). */
export interface JobSpec {
  readonly schema: 1;
  /** The job id; for arrays the array job id, the first of the block of ids its tasks use. */
  readonly id: number;
  readonly name: string;
  readonly comment: string;
  /** The copy of the script that runs. */
  readonly script: string;
  readonly submittedScript: string;
  readonly submitDir: string;
  readonly workDir: string;
  /** Output and error patterns (absolute or relative to workDir); error null = with output. */
  readonly output: string;
  readonly error: string | null;
  readonly openMode: "append" | "truncate";
  readonly array: {
    readonly spec: string;
    readonly tasks: number[];
    readonly throttle: number | null;
  } | null;
  readonly dependency: Dependency | null;
  readonly dependencyText: string | null;
  readonly killOnInvalidDep: boolean;
  readonly signal: SignalSpec | null;
  readonly requeueable: boolean;
  /** Multiplies time limits and signal offsets (tests only: AUTOEXP_LOCAL_TIME_SCALE). */
  readonly timeScale: number;
  readonly killWaitSec: number;
  /** The parallelism limit this job obeys (tasks running under the root). */
  readonly slots: number;
  /** The environment the job gets (submitter's, per --export), without SLURM_* variables. */
  readonly env: Record<string, string>;
  readonly cpusPerTask: number | null;
  readonly ntasks: number | null;
  readonly user: string;
  readonly uid: number;
  readonly submitHost: string;
  readonly submitTime: string;
  /** The sbatch-like command line this stands for. */
  readonly argv: readonly string[];
}

/** A supervisor process: enough to tell whether it is still the same live process. */
export interface ProcessRef {
  readonly pid: number;
  readonly startTime: string;
  readonly host: string;
}

/** The changing part of a job (job.json). */
export interface JobRecord {
  readonly schema: 1;
  /** Bumped by every change made by someone other than the supervisor. */
  readonly rev: number;
  readonly held: boolean;
  /** Seconds; null for no limit. */
  readonly timeLimitSec: number | null;
  /** The supervisor that registered itself; null before it starts and after it finished. */
  readonly supervisor: ProcessRef | null;
  /** The last supervisor started for this job and when (for one that never registers). */
  readonly launch: { readonly at: string; readonly pid: number | null; readonly host: string };
}

/** States a local task can be in, spelled as SLURM prints them. */
export type RawState =
  | "PENDING"
  | "RUNNING"
  | "COMPLETED"
  | "FAILED"
  | "TIMEOUT"
  | "CANCELLED"
  | "NODE_FAIL";

/** Final raw states. */
export const FINAL_RAW: ReadonlySet<RawState> = new Set([
  "COMPLETED",
  "FAILED",
  "TIMEOUT",
  "CANCELLED",
  "NODE_FAIL",
]);

/** One task (state.json). */
export interface TaskState {
  readonly schema: 1;
  readonly state: RawState;
  readonly reason?: string;
  /** Overrides the job's hold for this task. */
  readonly held?: boolean;
  /** Overrides the job's time limit for this task (seconds, null = none). */
  readonly timeLimitSec?: number | null;
  readonly restarts: number;
  readonly start?: string;
  readonly end?: string;
  readonly exitCode?: number;
  readonly signal?: number;
  /** The batch shell: pid = process group. */
  readonly pid?: number;
  readonly pidStartTime?: string;
  readonly host?: string;
  readonly slot?: number;
  readonly cancelRequested?: { readonly uid: number; readonly at: string };
  readonly requeueRequested?: boolean;
  readonly cancelledBy?: number;
  /** Why a task failed before running (e.g. its output directory is missing). */
  readonly message?: string;
}

/** A job with all of its task states (tasks without a file are absent from `tasks`). */
export interface JobView {
  readonly spec: JobSpec;
  readonly job: JobRecord;
  readonly tasks: ReadonlyMap<string, TaskState>;
}

/** Who holds a slot (slots/<n>.json). */
export interface SlotOwner {
  readonly job: number;
  readonly key: string;
  readonly supervisor: ProcessRef;
  readonly since: string;
}

/** The keys of a job's tasks, in order. */
export function taskKeys(spec: JobSpec): string[] {
  return spec.array ? spec.array.tasks.map(String) : [SINGLE];
}

/**
 * The numeric job id of a task. An array of N tasks owns the ids A..A+N-1; as in SLURM when
 * tasks start in order, task k takes A+1+k and the last task the array's own id A.
 */
export function taskJobId(spec: JobSpec, key: string): number {
  if (!spec.array) return spec.id;
  const k = spec.array.tasks.indexOf(Number(key));
  return k === spec.array.tasks.length - 1 ? spec.id : spec.id + 1 + k;
}

/** A task's state, or the implicit PENDING of one that has not left the queue. */
export function taskState(view: JobView, key: string): TaskState {
  return view.tasks.get(key) ?? { schema: 1, state: "PENDING", restarts: 0 };
}

/** How a dependency sees a task: not started, running, or ended well or badly. */
export function targetPhase(state: RawState): TargetPhase {
  switch (state) {
    case "PENDING":
      return "pending";
    case "RUNNING":
      return "running";
    case "COMPLETED":
      return "completed";
    default:
      return "failed";
  }
}

/** The phases of a job's tasks (all of them, or one), for dependency evaluation. */
export function targetPhases(view: JobView, key?: string): TargetPhase[] {
  const keys = key === undefined ? taskKeys(view.spec) : [key];
  return keys.map((k) => targetPhase(taskState(view, k).state));
}

/** Reads and writes the state tree under one root. */
export class LocalStore {
  readonly #specs = new Map<number, JobSpec>();

  constructor(readonly sys: LocalSystem, readonly root: string) {}

  jobDir(id: number): string {
    return `${this.root}/jobs/${id}`;
  }

  taskDir(id: number, key: string): string {
    return `${this.jobDir(id)}/tasks/${key}`;
  }

  /** Reserves `count` consecutive job ids under the root lock; returns the first. */
  async allocateIds(count: number): Promise<number> {
    // Private: a job's spec holds the environment it was submitted with (as slurmctld's
    // state, which only root reads).
    await this.sys.mkdirp(`${this.root}/jobs`, 0o700);
    return await this.sys.withLock(`${this.root}/lock`, async () => {
      const text = await this.sys.readText(`${this.root}/next_id`);
      const next = Math.max(1, Number(text?.trim() ?? "1") || 1);
      await this.sys.writeAtomic(`${this.root}/next_id`, `${next + count}\n`);
      await this.sys.mkdirp(this.jobDir(next));
      return next;
    });
  }

  /** Every job id under the root, ascending. */
  async jobIds(): Promise<number[]> {
    return (await this.sys.listDir(`${this.root}/jobs`))
      .filter((n) => /^\d+$/.test(n))
      .map(Number)
      .sort((a, b) => a - b);
  }

  /** The spec of a job, or null when there is none (yet). Specs never change: cached. */
  async readSpec(id: number): Promise<JobSpec | null> {
    const hit = this.#specs.get(id);
    if (hit) return hit;
    const text = await this.sys.readText(`${this.jobDir(id)}/spec.json`);
    if (text === null) return null;
    const spec = JSON.parse(text) as JobSpec;
    this.#specs.set(id, spec);
    return spec;
  }

  async writeSpec(spec: JobSpec): Promise<void> {
    await this.sys.writeAtomic(`${this.jobDir(spec.id)}/spec.json`, JSON.stringify(spec, null, 1));
  }

  async readJob(id: number): Promise<JobRecord | null> {
    const text = await this.sys.readText(`${this.jobDir(id)}/job.json`);
    return text === null ? null : JSON.parse(text) as JobRecord;
  }

  async writeJob(id: number, job: JobRecord): Promise<void> {
    await this.sys.writeAtomic(`${this.jobDir(id)}/job.json`, JSON.stringify(job, null, 1));
  }

  async readTasks(id: number): Promise<Map<string, TaskState>> {
    const out = new Map<string, TaskState>();
    const keys = await this.sys.listDir(`${this.jobDir(id)}/tasks`);
    await Promise.all(keys.map(async (key) => {
      const text = await this.sys.readText(`${this.taskDir(id, key)}/state.json`);
      if (text !== null) out.set(key, JSON.parse(text) as TaskState);
    }));
    return out;
  }

  async readTask(id: number, key: string): Promise<TaskState | null> {
    const text = await this.sys.readText(`${this.taskDir(id, key)}/state.json`);
    return text === null ? null : JSON.parse(text) as TaskState;
  }

  async writeTask(id: number, key: string, state: TaskState): Promise<void> {
    const dir = this.taskDir(id, key);
    await this.sys.mkdirp(dir);
    await this.sys.writeAtomic(`${dir}/state.json`, JSON.stringify(state, null, 1));
  }

  /** A job with its tasks, or null when it has no spec or record yet. */
  async readView(id: number): Promise<JobView | null> {
    const spec = await this.readSpec(id);
    if (!spec) return null;
    const job = await this.readJob(id);
    if (!job) return null;
    return { spec, job, tasks: await this.readTasks(id) };
  }

  /** Runs `fn` under the job's lock. */
  withJobLock<T>(id: number, fn: () => Promise<T>): Promise<T> {
    return this.sys.withLock(`${this.jobDir(id)}/lock`, fn);
  }

  /**
   * Which job (and task) an id names: `12` (a job or array, or the numeric id of an array
   * task), `12_3` (an array task). Null when there is no such job.
   */
  async resolve(id: string): Promise<{ job: number; key?: string } | null> {
    const m = id.trim().match(/^(\d+)(?:_(\d+))?$/);
    if (!m) return null;
    const num = Number(m[1]);
    if (m[2] !== undefined) {
      const spec = await this.readSpec(num);
      if (!spec?.array?.tasks.includes(Number(m[2]))) return null;
      return { job: num, key: m[2] };
    }
    if (await this.readSpec(num)) return { job: num };
    // The numeric id of an array task: it lies in the block of the nearest lower job id.
    const lower = (await this.jobIds()).filter((j) => j < num);
    const owner = lower[lower.length - 1];
    if (owner === undefined) return null;
    const spec = await this.readSpec(owner);
    const tasks = spec?.array?.tasks;
    if (!tasks || num - owner >= tasks.length) return null;
    return { job: owner, key: String(tasks[num - owner - 1]) };
  }

  /**
   * Whether a process is still the one recorded: false when the pid is gone, a zombie, or
   * reused (another start time). A process on another host cannot be checked: true.
   */
  async alive(ref: ProcessRef): Promise<boolean> {
    if (ref.host !== this.sys.hostname()) return true;
    const info = await this.sys.processInfo(ref.pid);
    return info !== null && !info.zombie && info.startTime === ref.startTime;
  }

  /** Seconds a started supervisor may take to register before it counts as failed. */
  static readonly LAUNCH_GRACE_SEC = 30;

  /**
   * Whether the job has lost its supervisor while it still has tasks to run: the registered
   * supervisor died, or the launched one never registered.
   */
  async supervisorLost(view: JobView): Promise<boolean> {
    const open = taskKeys(view.spec).some((k) => !FINAL_RAW.has(taskState(view, k).state));
    if (!open) return false;
    const { supervisor, launch } = view.job;
    if (supervisor) return !(await this.alive(supervisor));
    if (launch.host !== this.sys.hostname()) return false;
    if (launch.pid !== null) {
      const info = await this.sys.processInfo(launch.pid);
      if (info === null || info.zombie) return true;
    }
    const age = this.sys.now().getTime() - Date.parse(launch.at);
    return age > LocalStore.LAUNCH_GRACE_SEC * 1000;
  }

  /**
   * Makes a job whose supervisor died final: its tasks become NODE_FAIL (the "node" died) and
   * what is left of their process groups is killed. Returns the fresh view.
   */
  async failLostJob(id: number): Promise<JobView | null> {
    return await this.withJobLock(id, async () => {
      const view = await this.readView(id);
      if (!view || !(await this.supervisorLost(view))) return view;
      const now = this.sys.now().toISOString();
      for (const key of taskKeys(view.spec)) {
        const st = taskState(view, key);
        if (FINAL_RAW.has(st.state)) continue;
        if (st.state === "RUNNING" && st.pid && st.pidStartTime) {
          const info = await this.sys.processInfo(st.pid);
          if (info && info.startTime === st.pidStartTime) this.sys.kill(-st.pid, "SIGKILL");
        }
        await this.writeTask(id, key, {
          ...st,
          state: "NODE_FAIL",
          reason: "NodeFail",
          end: now,
          message: "the local supervisor of this job died",
          cancelRequested: undefined,
          requeueRequested: undefined,
        });
      }
      const job = { ...view.job, supervisor: null, rev: view.job.rev + 1 };
      await this.writeJob(id, job);
      return { spec: view.spec, job, tasks: await this.readTasks(id) };
    });
  }

  /** A view in which a lost supervisor has been dealt with (see {@link failLostJob}). */
  async readLiveView(id: number): Promise<JobView | null> {
    const view = await this.readView(id);
    if (view && await this.supervisorLost(view)) return await this.failLostJob(id);
    return view;
  }

  /** The owners of slots 0..limit-1 that are taken by a live supervisor. */
  async busySlots(limit: number): Promise<number> {
    let n = 0;
    for (const name of await this.sys.listDir(`${this.root}/slots`)) {
      const m = name.match(/^(\d+)\.json$/);
      if (!m || Number(m[1]) >= limit) continue;
      const text = await this.sys.readText(`${this.root}/slots/${name}`);
      if (text && await this.alive((JSON.parse(text) as SlotOwner).supervisor)) n++;
    }
    return n;
  }

  /**
   * Takes a free slot among 0..limit-1 for `owner` (reclaiming slots of dead supervisors) under
   * the root lock; null when all are taken. First come, first served across jobs, as SLURM's
   * priority order would have it: a job that found no slot is registered as waiting
   * (`ROOT/waiting/<id>.json`), and a later job leaves free slots to earlier waiting ones.
   */
  async acquireSlot(limit: number, owner: SlotOwner): Promise<number | null> {
    await this.sys.mkdirp(`${this.root}/slots`);
    await this.sys.mkdirp(`${this.root}/waiting`);
    return await this.sys.withLock(`${this.root}/lock`, async () => {
      const free: number[] = [];
      for (let n = 0; n < limit; n++) {
        const text = await this.sys.readText(`${this.root}/slots/${n}.json`);
        if (text === null || !(await this.alive((JSON.parse(text) as SlotOwner).supervisor))) {
          free.push(n);
        }
      }
      let earlier = 0;
      for (const name of await this.sys.listDir(`${this.root}/waiting`)) {
        const m = name.match(/^(\d+)\.json$/);
        if (!m || Number(m[1]) >= owner.job) continue;
        const text = await this.sys.readText(`${this.root}/waiting/${name}`);
        if (text && await this.alive(JSON.parse(text) as ProcessRef)) earlier++;
      }
      const waitPath = `${this.root}/waiting/${owner.job}.json`;
      if (free.length <= earlier) {
        await this.sys.writeAtomic(waitPath, JSON.stringify(owner.supervisor));
        return null;
      }
      await this.sys.writeAtomic(`${this.root}/slots/${free[0]}.json`, JSON.stringify(owner));
      await this.sys.remove(waitPath);
      return free[0];
    });
  }

  /** Withdraws a job from the slot queue (it has nothing startable any more). */
  async stopWaiting(job: number): Promise<void> {
    await this.sys.remove(`${this.root}/waiting/${job}.json`);
  }

  /** Gives a slot back, if `owner` still holds it. */
  async releaseSlot(n: number, owner: SlotOwner): Promise<void> {
    await this.sys.withLock(`${this.root}/lock`, async () => {
      const path = `${this.root}/slots/${n}.json`;
      const text = await this.sys.readText(path);
      if (text === null) return;
      const cur = JSON.parse(text) as SlotOwner;
      if (
        cur.job === owner.job && cur.key === owner.key &&
        cur.supervisor.pid === owner.supervisor.pid
      ) await this.sys.remove(path);
    });
  }

  /** Evaluates a dependency against the current state of its target jobs. */
  async evaluateDependency(dep: Dependency): Promise<"satisfied" | "wait" | "never"> {
    const targets = new Map<string, TargetPhase[]>();
    for (const id of new Set(dep.clauses.flatMap((c) => c.ids))) {
      const r = await this.resolve(id);
      const view = r ? await this.readLiveView(r.job) : null;
      // A target that vanished can never be satisfied; one still being submitted is pending.
      targets.set(id, !r ? ["failed"] : view ? targetPhases(view, r.key) : ["pending"]);
    }
    return classifyDependency(dep, targets);
  }
}
