/** An in-memory Scheduler for fast tests of everything above the port. */
import type { SchedulerError } from "../lib/errors.ts";
import type {
  JobObservation,
  JobState,
  QueryRequest,
  QueryResult,
  Scheduler,
  SchedulerLimits,
  SubmitRequest,
  SubmitResult,
} from "../lib/scheduler/types.ts";

/** A job the fake knows. */
export interface FakeJob {
  id: string;
  request: SubmitRequest;
  state: JobState;
  exitCode?: number;
  tasks?: Map<number, { state: JobState; exitCode?: number }>;
}

/** Records every call; tests drive job states by hand. */
export class FakeScheduler implements Scheduler {
  readonly kind = "slurm" as const;
  readonly jobs = new Map<string, FakeJob>();
  readonly calls: string[] = [];
  nextId = 100;
  /** Make the next submit calls fail with these errors, in order. */
  failures: SchedulerError[] = [];
  /** Throw after the job exists (a crash between sbatch and the journal). */
  crashAfterSubmit = false;

  submit(req: SubmitRequest): Promise<SubmitResult> {
    this.calls.push(`submit ${req.comment}`);
    const f = this.failures.shift();
    if (f) return Promise.reject(f);
    const id = String(this.nextId++);
    const job: FakeJob = { id, request: req, state: "pending" };
    if (req.array) {
      job.tasks = new Map();
      for (const part of req.array.replace(/%\d+$/, "").split(",")) {
        const [a, b] = part.split("-").map(Number);
        for (let i = a; i <= (b ?? a); i++) job.tasks.set(i, { state: "pending" });
      }
    }
    this.jobs.set(id, job);
    if (this.crashAfterSubmit) return Promise.reject(new Error("simulated crash after sbatch"));
    return Promise.resolve({ jobId: id, argv: ["sbatch", req.script] });
  }

  /** Sets a job's (or an array task's) state. */
  set(id: string, state: JobState, exitCode?: number): void {
    const [job, task] = id.split("_");
    const j = this.jobs.get(job)!;
    if (task !== undefined) j.tasks!.set(Number(task), { state, exitCode });
    else {
      j.state = state;
      j.exitCode = exitCode;
      if (j.tasks) { for (const t of j.tasks.values()) Object.assign(t, { state, exitCode }); }
    }
  }

  query(req: QueryRequest): Promise<QueryResult> {
    this.calls.push("query");
    const out: JobObservation[] = [];
    for (const j of this.jobs.values()) {
      const wanted = (req.ids ?? []).includes(j.id) ||
        (req.commentPrefix !== undefined && j.request.comment.startsWith(req.commentPrefix));
      if (!wanted) continue;
      const base = {
        name: j.request.jobName,
        reason: "None",
        comment: j.request.comment,
        source: "squeue" as const,
      };
      if (j.tasks) {
        for (const [t, s] of j.tasks) {
          out.push({
            ...base,
            id: `${j.id}_${t}`,
            jobId: `${j.id}${t}`,
            arrayJobId: j.id,
            arrayTaskId: t,
            state: s.state,
            rawState: s.state.toUpperCase(),
            exitCode: s.exitCode,
          });
        }
      } else {
        out.push({
          ...base,
          id: j.id,
          jobId: j.id,
          state: j.state,
          rawState: j.state.toUpperCase(),
          exitCode: j.exitCode,
        });
      }
    }
    return Promise.resolve({ jobs: out, commands: ["squeue"] });
  }

  cancel(ids: readonly string[]): Promise<void> {
    for (const id of ids) this.set(id, "cancelled");
    return Promise.resolve();
  }
  requeue(): Promise<void> {
    return Promise.resolve();
  }
  hold(): Promise<void> {
    return Promise.resolve();
  }
  release(): Promise<void> {
    return Promise.resolve();
  }
  update(): Promise<void> {
    return Promise.resolve();
  }
  limits(): Promise<SchedulerLimits> {
    return Promise.resolve({ maxArraySize: 1001, accounting: true });
  }
}
