/**
 * The supervisor of one local job (`autoexp local-exec --root DIR --job ID`): a detached
 * process, in its own session, that plays slurmctld and slurmd for that job. It waits for the
 * dependency, a hold to be released, a free slot and the array throttle; runs each task's
 * script as `bash script` in a new process group with the SLURM environment; enforces the time
 * limit (`--signal` first, then SIGTERM, SIGKILL after KillWait); carries out cancel and
 * requeue requests that other processes leave in the task state; records every transition on
 * disk; and exits when every task is final.
 *
 * It polls: the job record's `rev` tells it when someone else changed the job.
 *
 * @module
 */
import { expandOutputPattern, signalNumber } from "./_local_directives.ts";
import { isHeld } from "./_local_observe.ts";
import {
  FINAL_RAW,
  type JobSpec,
  type JobView,
  LocalStore,
  type ProcessRef,
  type SlotOwner,
  taskJobId,
  taskKeys,
  type TaskState,
  taskState,
} from "./_local_store.ts";
import type { JobProcess, LocalSystem } from "../runtime/local_sys.ts";

/** How often the supervisor looks at the job while tasks run or wait for a slot. */
const TICK_MS = 100;
/** How often it looks while only waiting for a dependency or a release. */
const IDLE_TICK_MS = 300;

type KillReason = "cancel" | "timeout" | "requeue" | "shutdown";

interface Running {
  readonly key: string;
  readonly proc: JobProcess;
  readonly slot: number;
  readonly owner: SlotOwner;
  killing: KillReason | null;
  /** Cancels the pending timers of this task. */
  readonly timers: (() => void)[];
}

/** `setTimeout` for delays past its 24.8-day maximum; returns a function that cancels it. */
function after(ms: number, fn: () => void): () => void {
  const MAX = 2 ** 31 - 1;
  let handle: ReturnType<typeof setTimeout>;
  const arm = (left: number) => {
    handle = setTimeout(() => left > MAX ? arm(left - MAX) : fn(), Math.min(left, MAX));
  };
  arm(Math.max(0, ms));
  return () => clearTimeout(handle);
}

/**
 * The SLURM environment of one task: the job's exported environment plus what slurmd sets.
 */
export function jobEnvironment(
  spec: JobSpec,
  key: string,
  restarts: number,
  host: string,
  cpus: number,
): Record<string, string> {
  const id = String(taskJobId(spec, key));
  const env: Record<string, string> = {
    ...spec.env,
    SLURM_JOB_ID: id,
    SLURM_JOBID: id,
    SLURM_JOB_NAME: spec.name,
    SLURM_JOB_NODELIST: host,
    SLURM_NODELIST: host,
    SLURMD_NODENAME: host,
    SLURM_JOB_NUM_NODES: "1",
    SLURM_NNODES: "1",
    SLURM_NODEID: "0",
    SLURM_PROCID: "0",
    SLURM_LOCALID: "0",
    SLURM_SUBMIT_DIR: spec.submitDir,
    SLURM_SUBMIT_HOST: spec.submitHost,
    SLURM_RESTART_COUNT: String(restarts),
    SLURM_CPUS_ON_NODE: String(cpus),
    SLURM_JOB_CPUS_PER_NODE: String(cpus),
    SLURM_CLUSTER_NAME: "local",
    SLURM_JOB_PARTITION: "local",
    SLURM_JOB_USER: spec.user,
    SLURM_JOB_UID: String(spec.uid),
    AUTOEXP_SCHEDULER: "local",
  };
  if (spec.cpusPerTask) env.SLURM_CPUS_PER_TASK = String(spec.cpusPerTask);
  if (spec.ntasks) env.SLURM_NTASKS = env.SLURM_NPROCS = String(spec.ntasks);
  if (spec.array) {
    const t = spec.array.tasks;
    const steps = new Set(t.slice(1).map((v, i) => v - t[i]));
    Object.assign(env, {
      SLURM_ARRAY_JOB_ID: String(spec.id),
      SLURM_ARRAY_TASK_ID: key,
      SLURM_ARRAY_TASK_COUNT: String(t.length),
      SLURM_ARRAY_TASK_MIN: String(t[0]),
      SLURM_ARRAY_TASK_MAX: String(t[t.length - 1]),
      SLURM_ARRAY_TASK_STEP: String(steps.size === 1 ? [...steps][0] : 1),
    });
  }
  return env;
}

/** Runs the supervisor of job `id` under `root` until every task is final; returns an exit code. */
export async function superviseJob(
  sys: LocalSystem,
  root: string,
  id: number,
  log: (line: string) => void,
): Promise<number> {
  const store = new LocalStore(sys, root);
  const spec = await store.readSpec(id);
  if (!spec) {
    log(`no job ${id} under ${root}`);
    return 1;
  }
  const me: ProcessRef = {
    pid: sys.pid(),
    startTime: (await sys.processInfo(sys.pid()))?.startTime ?? "",
    host: sys.hostname(),
  };
  const registered = await store.withJobLock(id, async () => {
    const job = await store.readJob(id);
    if (!job) return false;
    if (job.supervisor && job.supervisor.pid !== me.pid && await store.alive(job.supervisor)) {
      log(`job ${id} already has supervisor ${job.supervisor.pid}`);
      return false;
    }
    await store.writeJob(id, { ...job, supervisor: me });
    return true;
  });
  if (!registered) return 0;
  log(`supervising job ${id} (${spec.name}) as pid ${me.pid}`);

  const running = new Map<string, Running>();
  /** Set when this supervisor changed a task itself: look at the tasks again. */
  let dirty = true;
  const scale = spec.timeScale;
  let shutdown = false;
  for (const sig of ["SIGTERM", "SIGINT", "SIGHUP"]) {
    sys.onSignal(sig, () => {
      log(`received ${sig}: ending the job's tasks (they become NODE_FAIL)`);
      shutdown = true;
    });
  }

  const resolvePath = (p: string) => p.startsWith("/") ? p : `${spec.workDir}/${p}`;

  const terminate = (r: Running, why: KillReason) => {
    if (r.killing) return;
    r.killing = why;
    log(`task ${r.key}: ${why}: SIGTERM to process group ${r.proc.pid}`);
    sys.kill(-r.proc.pid, "SIGCONT");
    sys.kill(-r.proc.pid, "SIGTERM");
    r.timers.push(after(spec.killWaitSec * 1000, () => {
      if (sys.kill(-r.proc.pid, "SIGKILL")) log(`task ${r.key}: SIGKILL after KillWait`);
    }));
  };

  const finish = async (r: Running, exit: { code: number; signal?: string }) => {
    const status = { code: exit.code, signal: exit.signal ? signalNumber(exit.signal) : undefined };
    for (const cancel of r.timers) cancel();
    // Like slurmd at the end of the batch step: nothing of the job outlives its batch shell.
    sys.kill(-r.proc.pid, "SIGKILL");
    await store.withJobLock(id, async () => {
      const cur = (await store.readTask(id, r.key))!;
      // A cancel wins over a requeue in progress; a timeout already under way stays a timeout.
      const why: KillReason | null = cur.cancelRequested && r.killing !== "timeout"
        ? "cancel"
        : r.killing ?? (cur.requeueRequested ? "requeue" : null);
      const ended = {
        ...cur,
        end: sys.now().toISOString(),
        exitCode: status.signal ? 0 : status.code,
        signal: status.signal,
        reason: undefined,
        cancelRequested: undefined,
        requeueRequested: undefined,
        slot: undefined,
      };
      let next: TaskState;
      if (why === "requeue") {
        next = {
          schema: 1,
          state: "PENDING",
          restarts: cur.restarts + 1,
          held: cur.held,
          timeLimitSec: cur.timeLimitSec,
        };
      } else if (why === "cancel") {
        next = { ...ended, state: "CANCELLED", cancelledBy: cur.cancelRequested?.uid };
      } else if (why === "timeout") next = { ...ended, state: "TIMEOUT", reason: "TimeLimit" };
      else if (why === "shutdown") next = { ...ended, state: "NODE_FAIL", reason: "NodeFail" };
      else {
        const ok = status.code === 0 && !status.signal;
        next = { ...ended, state: ok ? "COMPLETED" : "FAILED" };
      }
      await store.writeTask(id, r.key, next);
      log(
        `task ${r.key}: ${next.state} (exit ${status.code}${
          status.signal ? `, signal ${status.signal}` : ""
        })`,
      );
    });
    await store.releaseSlot(r.slot, r.owner);
    running.delete(r.key);
    dirty = true;
  };

  /** Starts a pending task in `slot`; false when it is no longer startable. */
  const start = async (key: string, slot: number, owner: SlotOwner): Promise<boolean> => {
    const proc = await store.withJobLock(id, async (): Promise<JobProcess | null> => {
      const job = (await store.readJob(id))!;
      const cur = (await store.readTask(id, key)) ?? { schema: 1, state: "PENDING", restarts: 0 };
      if (cur.state !== "PENDING" || (cur.held ?? job.held)) return null;
      const host = sys.hostname();
      const now = sys.now().toISOString();
      const vals = {
        jobId: taskJobId(spec, key),
        arrayJobId: spec.id,
        taskId: spec.array ? Number(key) : null,
        name: spec.name,
        user: spec.user,
        host,
      };
      const out = resolvePath(expandOutputPattern(spec.output, vals));
      const err = spec.error === null ? out : resolvePath(expandOutputPattern(spec.error, vals));
      const truncate = spec.openMode === "truncate" && cur.restarts === 0;
      const problem = await sys.prepareOutput(out, truncate) ??
        (err !== out ? await sys.prepareOutput(err, truncate) : null);
      const limit = cur.timeLimitSec !== undefined ? cur.timeLimitSec : job.timeLimitSec;
      const base: TaskState = {
        schema: 1,
        state: "RUNNING",
        restarts: cur.restarts,
        held: cur.held,
        timeLimitSec: cur.timeLimitSec,
        start: now,
        host,
        slot,
      };
      const failLaunch = async (message: string) => {
        log(`task ${key}: cannot launch: ${message}`);
        await store.writeTask(id, key, {
          ...base,
          state: "FAILED",
          reason: "JobLaunchFailure",
          exitCode: 1,
          end: now,
          message,
          slot: undefined,
        });
      };
      if (problem) {
        await failLaunch(problem);
        return null;
      }
      const cwd = await sys.isDirectory(spec.workDir) ? spec.workDir : "/tmp";
      let proc: JobProcess;
      try {
        proc = sys.spawnJob({
          script: spec.script,
          cwd,
          env: jobEnvironment(spec, key, cur.restarts, host, sys.cpus()),
          stdout: out,
          stderr: err,
        });
      } catch (e) {
        await failLaunch(`cannot start bash: ${(e as Error).message}`);
        return null;
      }
      const info = await sys.processInfo(proc.pid);
      await store.writeTask(id, key, {
        ...base,
        pid: proc.pid,
        pidStartTime: info?.startTime,
        reason: "None",
      });
      log(`task ${key}: started as pid ${proc.pid} in slot ${slot}, output ${out}`);
      const r: Running = { key, proc, slot, owner, killing: null, timers: [] };
      running.set(key, r);
      if (limit !== null) {
        const limitMs = limit * scale * 1000;
        if (spec.signal) {
          const sig = spec.signal;
          r.timers.push(after(limitMs - sig.seconds * scale * 1000, () => {
            if (r.killing) return;
            log(`task ${key}: ${sig.signal} ${sig.seconds}s before the time limit`);
            sys.kill(sig.batchOnly ? proc.pid : -proc.pid, sig.signal);
          }));
        }
        r.timers.push(after(limitMs, () => terminate(r, "timeout")));
      }
      proc.status.then((st) => finish(r, st)).catch((e) => log(`task ${key}: ${e}`));
      return proc;
    });
    if (!proc) await store.releaseSlot(slot, owner);
    return proc !== null;
  };

  let view: JobView = (await store.readView(id))!;
  let seenRev = -1;
  let waitedForSlot = false;
  while (true) {
    const job = (await store.readJob(id))!;
    // Others bump `rev` with every change (cancel, requeue, hold...); our own set `dirty`.
    if (job.rev !== seenRev || dirty) {
      seenRev = job.rev;
      dirty = false;
      view = { spec, job, tasks: await store.readTasks(id) };
    }
    for (const r of running.values()) {
      const st = view.tasks.get(r.key);
      if (shutdown) terminate(r, "shutdown");
      else if (st?.cancelRequested) terminate(r, "cancel");
      else if (st?.requeueRequested) terminate(r, "requeue");
    }
    const pending = taskKeys(spec).filter((k) =>
      !running.has(k) && taskState(view, k).state === "PENDING" && !isHeld(view, k)
    );
    let waitingForSlot = false;
    if (shutdown) {
      if (!running.size) {
        await endPending(store, view, "NODE_FAIL", "NodeFail");
        await unregister(store, id);
        await store.stopWaiting(id);
        return 1;
      }
    } else if (pending.length) {
      const dep = spec.dependency ? await store.evaluateDependency(spec.dependency) : null;
      if (dep === "never" && spec.killOnInvalidDep) {
        await endPending(store, view, "CANCELLED", "DependencyNeverSatisfied");
        dirty = true;
      } else if (dep === null || dep === "satisfied") {
        const throttle = spec.array?.throttle ?? Infinity;
        for (const key of pending) {
          if (running.size >= throttle) break;
          const owner: SlotOwner = {
            job: id,
            key,
            supervisor: me,
            since: sys.now().toISOString(),
          };
          const slot = await store.acquireSlot(spec.slots, owner);
          if (slot === null) {
            waitingForSlot = true;
            break;
          }
          await start(key, slot, owner);
          dirty = true;
        }
      }
    } else if (!running.size) {
      const done = await store.withJobLock(id, async () => {
        const v = (await store.readView(id))!;
        if (taskKeys(spec).some((k) => !FINAL_RAW.has(taskState(v, k).state))) return false;
        await store.writeJob(id, { ...v.job, supervisor: null });
        return true;
      });
      if (done) {
        await store.stopWaiting(id);
        log(`job ${id}: every task is final; supervisor exits`);
        return 0;
      }
    }
    // Leave the slot queue when nothing of this job waits for a slot any more.
    if (waitedForSlot && !waitingForSlot) await store.stopWaiting(id);
    waitedForSlot = waitingForSlot;
    await sys.sleep(running.size || waitingForSlot ? TICK_MS : IDLE_TICK_MS);
  }
}

/** Ends every pending task of a job with `state` (a supervisor that shuts down or gives up). */
async function endPending(
  store: LocalStore,
  view: JobView,
  state: "NODE_FAIL" | "CANCELLED",
  reason: string,
): Promise<void> {
  const id = view.spec.id;
  await store.withJobLock(id, async () => {
    const tasks = await store.readTasks(id);
    const now = store.sys.now().toISOString();
    for (const key of taskKeys(view.spec)) {
      const st = tasks.get(key) ?? { schema: 1, state: "PENDING", restarts: 0 } as TaskState;
      if (st.state !== "PENDING") continue;
      await store.writeTask(id, key, { ...st, state, reason, end: now });
    }
  });
}

async function unregister(store: LocalStore, id: number): Promise<void> {
  await store.withJobLock(id, async () => {
    const job = (await store.readJob(id))!;
    await store.writeJob(id, { ...job, supervisor: null });
  });
}
