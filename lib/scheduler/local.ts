/**
 * The embedded local scheduler (product.md, "The embedded default"): the same rendered sbatch
 * scripts, run with bash as local processes, behind the same {@link Scheduler} port as SLURM.
 *
 * - State lives on disk under a root directory (`$AUTOEXP_LOCAL_DIR`, default
 *   `~/.autoexp/local`; layout in `_local_store.ts`), so any later autoexp process sees the same
 *   jobs, as it would see SLURM's. Job ids come from a counter under a flock.
 * - `submit()` reads the script's `#SBATCH` directives (the request's fields and extra args win,
 *   as sbatch's command line does), writes the job and starts a detached supervisor
 *   (`autoexp local-exec --root DIR --job ID`, in its own session) that runs the tasks
 *   (`_local_supervisor.ts`), then returns at once.
 * - A parallelism limit (`slots`) holds across every job under the root, first come first
 *   served between jobs; arrays also obey their `%N` throttle.
 * - Emulated: job ids and per-task ids, `--output`/`--error` patterns and open mode, `--array`,
 *   `--time` (then SIGTERM and SIGKILL after KillWait: TIMEOUT), `--signal`, `--dependency`
 *   (after, afterany, afterok, afternotok; `,` and `?`), `--hold`, `--chdir`, `--export`,
 *   `--no-requeue`, `--kill-on-invalid-dep`, the SLURM environment variables, cancel, requeue
 *   (same id, RestartCount+1), hold, release and TimeLimit updates, pending reasons.
 * - Not emulated: resources (memory, CPUs, GPUs, nodes are not reserved or enforced: one job
 *   uses one slot), partitions, QOS, priorities, `--begin`, job steps (`srun` inside a job runs
 *   whatever `srun` is on the PATH), accounting beyond the state files (nothing is purged).
 *   A process that leaves the task's process group (setsid, daemons) escapes cancellation.
 * - A supervisor that dies (kill -9, reboot) makes its job's unfinished tasks NODE_FAIL
 *   (normalised `node_fail`, reason `NodeFail`): the closest SLURM analogue, a node that went
 *   down under the job. Whoever notices (any query) records it and kills what is left of the
 *   task's process group. Pids are checked with their start time, so a reused pid is no alive
 *   supervisor; supervisors on another host (a root on a shared file system) are trusted.
 * - Each job has its own supervisor process (a Deno process, tens of MB) for as long as it is
 *   pending or running: fine for arrays and a few dozen single jobs, heavy for hundreds.
 *
 * `timeScale` (or `AUTOEXP_LOCAL_TIME_SCALE`) multiplies time limits and `--signal` offsets;
 * it exists for tests only (0.02 makes one minute 1.2 s).
 *
 * @module
 */
import { SchedulerError } from "../errors.ts";
import {
  parseArraySpec,
  parseDependency,
  parseSbatchArgs,
  parseSignalSpec,
  parseTimeLimit,
  readDirectiveWords,
} from "./_local_directives.ts";
import { observeJob, type PendingContext } from "./_local_observe.ts";
import {
  defaultLocalRoot,
  FINAL_RAW,
  type JobSpec,
  type JobView,
  LocalStore,
  taskKeys,
  type TaskState,
  taskState,
} from "./_local_store.ts";
import type { LocalSystem } from "../runtime/local_sys.ts";
import type {
  JobObservation,
  QueryRequest,
  QueryResult,
  Scheduler,
  SchedulerLimits,
  SubmitRequest,
  SubmitResult,
} from "./types.ts";

export { defaultLocalRoot } from "./_local_store.ts";

/** Options of {@link LocalScheduler}. */
export interface LocalSchedulerOptions {
  /** How to start this autoexp: the binary, or `[deno, "run", "-A", ".../main.ts"]`. */
  readonly selfCommand: readonly string[];
  /** The operating system (the real one: `denoLocalSystem()` of `lib/runtime/local_os.ts`). */
  readonly sys: LocalSystem;
  /** State directory; default `$AUTOEXP_LOCAL_DIR`, else `$HOME/.autoexp/local`. */
  readonly root?: string;
  /**
   * How many tasks may run at once under the root; default `$AUTOEXP_LOCAL_MAX_PARALLEL` (seed
   * 004's `max_parallel`; 1 runs jobs one after another), else max(2, CPUs). A job keeps the
   * limit it was submitted with.
   */
  readonly slots?: number;
  /** Seconds between SIGTERM and SIGKILL (SLURM's KillWait); default 10. */
  readonly killWaitSec?: number;
  /**
   * Multiplies time limits and `--signal` offsets; default `$AUTOEXP_LOCAL_TIME_SCALE` or 1.
   * For tests only.
   */
  readonly timeScale?: number;
}

/** The settings of a scheduler once its system is known. */
interface Context {
  readonly sys: LocalSystem;
  readonly store: LocalStore;
  readonly root: string;
  readonly slots: number;
  readonly killWaitSec: number;
  readonly timeScale: number;
}

/** Variables kept by `--export=NONE` (a login-like minimum). */
const NONE_KEEPS = ["HOME", "PATH", "USER", "LOGNAME", "SHELL", "LANG"];

/** The environment a job gets under `--export` (SLURM_* of the submitter never leak in). */
export function exportedEnv(
  env: Readonly<Record<string, string>>,
  exportOpt: string | undefined,
): Record<string, string> {
  const clean: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (!k.startsWith("SLURM_")) clean[k] = v;
  if (!exportOpt || exportOpt === "ALL") return clean;
  const parts = exportOpt.split(",");
  const out: Record<string, string> = {};
  if (parts[0] === "ALL") Object.assign(out, clean);
  else for (const k of NONE_KEEPS) if (k in clean) out[k] = clean[k];
  for (const p of parts) {
    if (p === "ALL" || p === "NONE" || p === "") continue;
    const eq = p.indexOf("=");
    if (eq > 0) out[p.slice(0, eq)] = p.slice(eq + 1);
    else if (p in clean) out[p] = clean[p];
  }
  return out;
}

/** The local scheduler. See the module documentation. */
export class LocalScheduler implements Scheduler {
  readonly kind = "local" as const;
  readonly #opts: LocalSchedulerOptions;
  #ctx?: Promise<Context>;

  constructor(opts: LocalSchedulerOptions) {
    this.#opts = opts;
  }

  #context(): Promise<Context> {
    return this.#ctx ??= Promise.resolve().then(() => this.#init());
  }

  #init(): Context {
    const sys = this.#opts.sys;
    const env = sys.env();
    const scale = this.#opts.timeScale ?? Number(env.AUTOEXP_LOCAL_TIME_SCALE || "1");
    if (!(scale > 0)) {
      throw new SchedulerError(
        `AUTOEXP_LOCAL_TIME_SCALE must be a positive number, got "${env.AUTOEXP_LOCAL_TIME_SCALE}"`,
      );
    }
    const max = env.AUTOEXP_LOCAL_MAX_PARALLEL;
    if (max !== undefined && max !== "" && !/^[1-9][0-9]*$/.test(max.trim())) {
      throw new SchedulerError(
        `AUTOEXP_LOCAL_MAX_PARALLEL must be a positive whole number (jobs at once), got "${max}"`,
      );
    }
    const root = (this.#opts.root ?? defaultLocalRoot(env)).replace(/\/+$/, "");
    return {
      sys,
      root,
      store: new LocalStore(sys, root),
      slots: Math.max(
        1,
        Math.floor(this.#opts.slots ?? (max?.trim() ? Number(max) : Math.max(2, sys.cpus()))),
      ),
      killWaitSec: this.#opts.killWaitSec ?? 10,
      timeScale: scale,
    };
  }

  /** The state directory in use. */
  async root(): Promise<string> {
    return (await this.#context()).root;
  }

  #supervisorArgv(root: string, id: number): string[] {
    return [...this.#opts.selfCommand, "local-exec", "--root", root, "--job", String(id)];
  }

  async submit(req: SubmitRequest): Promise<SubmitResult> {
    const c = await this.#context();
    const { sys, store } = c;
    const text = await sys.readText(req.script);
    if (text === null) {
      throw new SchedulerError(`sbatch: error: Unable to open file ${req.script}`);
    }
    const opts = parseSbatchArgs(readDirectiveWords(text));
    parseSbatchArgs(req.extraArgs ?? [], opts);
    opts.set("job-name", req.jobName);
    opts.set("comment", req.comment);
    if (req.array !== undefined) opts.set("array", req.array);
    if (req.dependency !== undefined) opts.set("dependency", req.dependency);
    if (req.time !== undefined) opts.set("time", req.time);
    const str = (k: string) => {
      const v = opts.get(k);
      return typeof v === "string" ? v : undefined;
    };
    const array = str("array") !== undefined ? parseArraySpec(str("array")!) : null;
    const timeLimitSec = str("time") !== undefined ? parseTimeLimit(str("time")!) : null;
    const signal = str("signal") !== undefined ? parseSignalSpec(str("signal")!) : null;
    const dependencyText = str("dependency") || null;
    const dependency = dependencyText ? parseDependency(dependencyText) : null;
    for (const id of dependency?.clauses.flatMap((c) => c.ids) ?? []) {
      if (!(await store.resolve(id))) {
        throw new SchedulerError(
          `sbatch: error: Batch job submission failed: Job dependency problem: no local job ${id} under ${c.root}`,
        );
      }
    }
    const openMode = str("open-mode") ?? "truncate";
    if (openMode !== "append" && openMode !== "truncate") {
      throw new SchedulerError(
        `sbatch: error: invalid --open-mode "${openMode}" (append or truncate)`,
      );
    }
    const int = (k: string) => {
      const v = str(k);
      return v !== undefined && /^\d+$/.test(v) ? Number(v) : null;
    };
    const chdir = str("chdir");
    const workDir = chdir ? (chdir.startsWith("/") ? chdir : `${req.cwd}/${chdir}`) : req.cwd;
    const env = sys.env();
    const count = array ? array.tasks.length : 1;

    const id = await store.allocateIds(count);
    const dir = store.jobDir(id);
    const script = `${dir}/script.sh`;
    await sys.copyFile(req.script, script);
    const argv = [
      "sbatch",
      ...[...opts].map(([k, v]) => v === true ? `--${k}` : `--${k}=${v}`),
      req.script,
    ];
    const now = sys.now().toISOString();
    const spec: JobSpec = {
      schema: 1,
      id,
      name: req.jobName,
      comment: req.comment,
      script,
      submittedScript: req.script,
      submitDir: req.cwd,
      workDir,
      output: str("output") ?? (array ? "slurm-%A_%a.out" : "slurm-%j.out"),
      error: str("error") ?? null,
      openMode,
      array: array ? { spec: str("array")!, ...array } : null,
      dependency,
      dependencyText,
      killOnInvalidDep: str("kill-on-invalid-dep") === "yes",
      signal,
      requeueable: !opts.has("no-requeue"),
      timeScale: c.timeScale,
      killWaitSec: c.killWaitSec,
      slots: c.slots,
      env: exportedEnv(env, str("export")),
      cpusPerTask: int("cpus-per-task"),
      ntasks: int("ntasks"),
      user: env.USER ?? env.LOGNAME ?? String(sys.uid()),
      uid: sys.uid(),
      submitHost: sys.hostname(),
      submitTime: now,
      argv,
    };
    await store.writeSpec(spec);
    await store.writeJob(id, {
      schema: 1,
      rev: 0,
      held: opts.has("hold"),
      timeLimitSec,
      supervisor: null,
      launch: { at: now, pid: null, host: sys.hostname() },
    });
    await this.#launch(c, id);
    return { jobId: String(id), argv: this.#supervisorArgv(c.root, id) };
  }

  /** Starts a supervisor for job `id` and records its pid. */
  async #launch(c: Context, id: number): Promise<void> {
    const { sys, store } = c;
    const dir = store.jobDir(id);
    const argv = this.#supervisorArgv(c.root, id);
    let pid: number;
    try {
      pid = await sys.spawnDetached(argv, {
        cwd: dir,
        logPath: `${dir}/supervisor.log`,
      });
    } catch (e) {
      // Mark the launch as long gone, so the job's tasks become NODE_FAIL at once.
      await store.withJobLock(id, async () => {
        const job = (await store.readJob(id))!;
        const at = new Date(0).toISOString();
        await store.writeJob(id, { ...job, launch: { ...job.launch, at, pid: null } });
      });
      await store.failLostJob(id);
      throw new SchedulerError(
        `cannot start the local supervisor of job ${id} (${argv.join(" ")}): ${
          (e as Error).message
        }`,
        { argv },
        { cause: e },
      );
    }
    await store.withJobLock(id, async () => {
      const job = (await store.readJob(id))!;
      await store.writeJob(id, {
        ...job,
        launch: { at: sys.now().toISOString(), pid, host: sys.hostname() },
      });
    });
  }

  async query(req: QueryRequest): Promise<QueryResult> {
    const { store } = await this.#context();
    const wanted = new Map<number, Set<string> | "all">();
    for (const text of req.ids ?? []) {
      const r = await store.resolve(text);
      if (!r) continue;
      const cur = wanted.get(r.job);
      if (r.key === undefined) wanted.set(r.job, "all");
      else if (cur !== "all") wanted.set(r.job, (cur ?? new Set()).add(r.key));
    }
    if (req.commentPrefix !== undefined) {
      for (const id of await store.jobIds()) {
        const spec = await store.readSpec(id);
        if (spec?.comment.startsWith(req.commentPrefix)) wanted.set(id, "all");
      }
    }
    const busy = new Map<number, number>();
    const jobs: JobObservation[] = [];
    for (const [id, sel] of [...wanted].sort((a, b) => a[0] - b[0])) {
      const view = await store.readLiveView(id);
      if (!view) continue;
      const ctx = await pendingContext(store, view, busy);
      if (sel === "all") jobs.push(...observeJob(view, ctx));
      else for (const key of sel) jobs.push(...observeJob(view, ctx, { only: key }));
    }
    return { jobs, commands: ["local"] };
  }

  /**
   * Applies `change` to the tasks an id names, under the job's lock, and bumps the job's
   * revision so its supervisor looks again. `change` returns the new state, or undefined to
   * leave a task alone; `one` tells it whether the id named one task or the whole job.
   * With `requirePending`, fails like scontrol (changing nothing) when none of them is pending.
   */
  async #changeTasks(
    text: string,
    cmd: string,
    change: (st: TaskState, one: boolean, view: JobView) => TaskState | undefined,
    opts: {
      /** Changes to the job record, told whether the id named one task. */
      jobChange?: (view: JobView, one: boolean) => Partial<JobView["job"]>;
      requirePending?: boolean;
    } = {},
  ): Promise<{ changed: TaskState[]; view: JobView }> {
    const { store } = await this.#context();
    const r = await store.resolve(text);
    if (!r) throw new SchedulerError(`${cmd}: error: Invalid job id specified: ${text}`);
    await store.readLiveView(r.job);
    return await store.withJobLock(r.job, async () => {
      const view = (await store.readView(r.job))!;
      const keys = r.key === undefined ? taskKeys(view.spec) : [r.key];
      if (opts.requirePending && !keys.some((k) => taskState(view, k).state === "PENDING")) {
        throw new SchedulerError(`${cmd}: error: Job ${text} is no longer pending execution`);
      }
      const changed: TaskState[] = [];
      for (const key of keys) {
        const next = change(taskState(view, key), r.key !== undefined, view);
        if (!next) continue;
        await store.writeTask(r.job, key, next);
        changed.push(next);
      }
      const job = {
        ...view.job,
        ...(opts.jobChange ? opts.jobChange(view, r.key !== undefined) : {}),
        rev: view.job.rev + 1,
      };
      await store.writeJob(r.job, job);
      return { changed, view: { ...view, job } };
    });
  }

  async cancel(ids: readonly string[]): Promise<void> {
    const { sys } = await this.#context();
    const uid = sys.uid();
    for (const text of ids) {
      await this.#changeTasks(text, "scancel", (st) => {
        const now = sys.now().toISOString();
        if (st.state === "PENDING") {
          return { ...st, state: "CANCELLED", cancelledBy: uid, end: now, reason: "None" };
        }
        if (st.state === "RUNNING" && !st.cancelRequested) {
          return { ...st, cancelRequested: { uid, at: now } };
        }
        return undefined;
      });
    }
  }

  async requeue(ids: readonly string[]): Promise<void> {
    const c = await this.#context();
    for (const text of ids) {
      const r = await c.store.resolve(text);
      const spec = r ? await c.store.readSpec(r.job) : null;
      if (spec && !spec.requeueable) {
        throw new SchedulerError(
          `scontrol: error: Requested operation is presently disabled for job ${text}: it was submitted with --no-requeue`,
        );
      }
      const before = r ? await c.store.readJob(r.job) : null;
      const supAlive = !!before?.supervisor && await c.store.alive(before.supervisor);
      const { changed, view } = await this.#changeTasks(text, "scontrol", (st) => {
        if (st.state === "RUNNING") return { ...st, requeueRequested: true };
        if (!FINAL_RAW.has(st.state)) return undefined;
        return {
          schema: 1,
          state: "PENDING",
          restarts: st.restarts + 1,
          held: st.held,
          timeLimitSec: st.timeLimitSec,
        };
      }, {
        // Without a live supervisor, a new one is about to start: give it the launch grace.
        jobChange: (v) =>
          v.job.supervisor && supAlive ? {} : {
            supervisor: null,
            launch: { at: c.sys.now().toISOString(), pid: null, host: c.sys.hostname() },
          },
      });
      if (!changed.length) {
        throw new SchedulerError(
          `scontrol: error: Job ${text} is pending: only running or finished jobs can be requeued`,
        );
      }
      if (!view.job.supervisor) await this.#launch(c, view.spec.id);
    }
  }

  async hold(ids: readonly string[]): Promise<void> {
    for (const text of ids) await this.#setHeld(text, true);
  }

  async release(ids: readonly string[]): Promise<void> {
    for (const text of ids) await this.#setHeld(text, false);
  }

  /** Holding or releasing one task sets its own flag; the whole job drops per-task flags. */
  async #setHeld(text: string, held: boolean): Promise<void> {
    await this.#changeTasks(text, "scontrol", (st, one) => {
      if (st.state !== "PENDING") return undefined;
      if (one) return { ...st, held };
      return st.held === undefined ? undefined : { ...st, held: undefined };
    }, { jobChange: (_v, one) => one ? {} : { held }, requirePending: held });
  }

  async update(id: string, fields: Readonly<Record<string, string>>): Promise<void> {
    for (const [field, value] of Object.entries(fields)) {
      if (field.toLowerCase() !== "timelimit") {
        throw new SchedulerError(
          `scontrol: error: the local scheduler can update TimeLimit only, not "${field}"`,
        );
      }
      const rel = value.match(/^([+-])(.+)$/);
      const amount = parseTimeLimit(rel ? rel[2] : value);
      const limitOf = (cur: number | null | undefined) => {
        if (!rel) return amount;
        if (cur === null || cur === undefined) return null;
        return Math.max(60, cur + (rel[1] === "+" ? 1 : -1) * (amount ?? 0));
      };
      await this.#changeTasks(id, "scontrol", (st, one, v) => {
        if (st.state !== "PENDING") return undefined;
        if (one) return { ...st, timeLimitSec: limitOf(st.timeLimitSec ?? v.job.timeLimitSec) };
        return st.timeLimitSec === undefined ? undefined : { ...st, timeLimitSec: undefined };
      }, {
        jobChange: (v, one) => one ? {} : { timeLimitSec: limitOf(v.job.timeLimitSec) },
        requirePending: true,
      });
    }
  }

  limits(): Promise<SchedulerLimits> {
    return Promise.resolve({ maxArraySize: 10001, accounting: true });
  }
}

/** What the pending reasons of a job depend on; `busy` caches slot counts per limit. */
async function pendingContext(
  store: LocalStore,
  view: JobView,
  busy: Map<number, number>,
): Promise<PendingContext> {
  const pending = taskKeys(view.spec).some((k) => taskState(view, k).state === "PENDING");
  if (!pending) return { dependency: null, slotsFull: false };
  const limit = view.spec.slots;
  if (!busy.has(limit)) busy.set(limit, await store.busySlots(limit));
  return {
    dependency: view.spec.dependency ? await store.evaluateDependency(view.spec.dependency) : null,
    slotsFull: busy.get(limit)! >= limit,
  };
}
