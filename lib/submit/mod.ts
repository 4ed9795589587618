/**
 * The submit use case: reconcile the sweep's store with the scheduler (finding jobs submitted
 * just before a crash by their comment tag), decide which runs need a new attempt (never
 * submitted, or ended without completing), refuse runs whose config changed unless asked, and
 * submit one sbatch call per array chunk or single job, recording each call in the journal
 * before and after it is made.
 *
 * @module
 */
import type { SayNote } from "../monitoring/say.ts";
import { scriptPathIn } from "../plan/paths.ts";
import { namesAttempt } from "../plan/job_name.ts";
import { SchedulerError, UsageError } from "../errors.ts";
import { arraySpec } from "../plan/groups.ts";
import { entryIndexChunks } from "../plan/sweep_file.ts";
import type { RunPlan, SweepPlan } from "../plan/types.ts";
import { commentTag, jobNameOf } from "../render/script.ts";
import { renderSbatchArgv } from "../scheduler/slurm.ts";
import type { FileSystem } from "../runtime/mod.ts";
import type { HistoryIndex, HistoryRecord } from "../runtime/history.ts";
import { attemptLogPath } from "../plan/paths.ts";
import {
  type JobObservation,
  LIVE_STATES,
  type Scheduler,
  type SubmitRequest,
} from "../scheduler/types.ts";
import {
  ACTIVE_ATTEMPT_STATES,
  type AttemptRecord,
  EventSink,
  isFinalAttemptState,
  latestAttempt,
  type StoreState,
} from "../store/state.ts";
import type { SweepStore } from "../store/store.ts";
import { type Marker, markerOf, readMarkers } from "./markers.ts";
import { type BusyArtifact, markerJobId, recoverEvents, runsToCheck } from "./recover.ts";
import { artifactComplete } from "./release.ts";

/** Options of {@link submitSweep}. */
export interface SubmitOptions {
  /** Print the sbatch calls instead of making them; nothing is recorded. */
  readonly dryRun?: boolean;
  /** Submit a new attempt for runs whose config changed since their last attempt. */
  readonly newAttempt?: boolean;
  /** The plan the previous submission was made from, to show what changed. */
  readonly previous?: SweepPlan;
  /**
   * Files, to freeze the entries this submission's jobs will run: a later plan of the same
   * sweep then cannot change what already queued jobs run. Without it jobs read the current
   * sweep.json (tests with a fake scheduler).
   */
  readonly fs?: FileSystem;
  /** Progress lines for the user. */
  readonly say?: (line: string, note?: SayNote) => void;
  /** The clock (job names with the submission time); default the system's. */
  readonly now?: () => number;
  /** Submit only these runs (`--stage`); default every run of the plan. */
  readonly only?: ReadonlySet<string>;
  /** The user's history index: each submitted attempt is recorded there too. */
  readonly history?: HistoryIndex | null;
}

/** One planned sbatch call. */
export interface PlannedCall {
  readonly key: string;
  readonly request: SubmitRequest;
  readonly runs: readonly RunPlan[];
  readonly offset?: number;
  /** The script's own `--export` setting, which the call's `--export` must keep. */
  readonly export?: string;
  /**
   * For a part of a split array with a `%N` throttle: the array it is part of. Each part then
   * waits for the part before it (`afterany`), so the throttle holds for the whole sweep, not
   * per part.
   */
  readonly chainedIn?: string;
  /** The configured job name (`slurm.sbatch.job_name`) for an attempt at a time. */
  readonly jobNameAt?: (attempt: string, now: Date) => string;
  /** The configured job name names `{attempt}` (autoexp then appends nothing). */
  readonly namesAttempt?: boolean;
  /** The script's own `--dependency`, which a chained part's dependency must keep. */
  readonly dependency?: string;
}

/** What submit did. */
export interface SubmitReport {
  readonly calls: readonly PlannedCall[];
  readonly submitted: readonly { key: string; jobId: string; runs: number }[];
  readonly skipped: readonly { run: string; why: string }[];
}

/** The comment tag of one sbatch call: sweep, group or run, store id and intent number. */
export function tagOf(plan: SweepPlan, key: string, storeId: string, seq: number): string {
  return commentTag(plan.sweep.id, key, `${storeId}.${seq}`);
}

/** The comment prefix of every job of a sweep. */
export function sweepTag(plan: SweepPlan): string {
  return `autoexp:${plan.sweep.id}:`;
}

/**
 * What one scheduler round saw, read but not yet judged: the query's jobs, the job ids that
 * runs' markers recorded for open submission intents (a job the queue forgot), and the markers
 * of attempts the query did not return. Made by {@link readScheduler}, judged by
 * {@link reconcileEvents}.
 */
export interface SchedulerReading {
  readonly jobs: readonly JobObservation[];
  /** Intent seq -> the job id a run's marker recorded with that intent's comment tag. */
  readonly intentJobs: ReadonlyMap<number, string>;
  /** Attempt key -> its end marker (null: none), for attempts missing from `jobs`. */
  readonly markers: ReadonlyMap<string, Marker | null>;
  /**
   * The journal position (`seq`) the query was made at. Intents and attempts journaled after
   * it were not asked about: their absence from `jobs` says nothing (a slow query, read later).
   */
  readonly asOf: number;
}

/** The attempts the scheduler is asked about, with their runs. */
function activeAttempts(state: StoreState) {
  return Object.values(state.runs).flatMap((r) =>
    r.attempts.filter((a) => watched(a) && a.jobId).map((a) => ({ run: r, a }))
  );
}

/**
 * One batched query about every attempt that may still run and every open submission intent
 * (by the sweep's comment tag), plus the markers of what the query does not know. Null when
 * there is nothing to ask.
 *
 * @throws {SchedulerError} when the scheduler does not answer.
 */
export async function readScheduler(
  plan: SweepPlan,
  state: StoreState,
  scheduler: Scheduler,
  fs: FileSystem,
): Promise<SchedulerReading | null> {
  const asOf = state.seq;
  const open = Object.values(state.intents).filter((i) => i.status === "open");
  const active = activeAttempts(state);
  if (!open.length && !active.length) return null;
  const ids = [...new Set(active.map(({ a }) => a.arrayJobId ?? a.jobId!))];
  const result = await scheduler.query({
    ids,
    commentPrefix: open.length ? sweepTag(plan) : undefined,
  });
  const byRun = new Map(plan.runs.map((r) => [r.name, r]));
  // Each run directory's markers are read at most once per round.
  const read = new Map<string, Promise<Marker[]>>();
  const markersIn = (runDir: string) => {
    let m = read.get(runDir);
    if (!m) read.set(runDir, m = readMarkers(fs, runDir));
    return m;
  };
  const intentJobs = new Map<number, string>();
  for (const intent of open) {
    if (result.jobs.some((j) => j.comment === intent.comment)) continue;
    const ranAs = await jobOfIntentFromMarkers(byRun, intent.runs, intent.comment, markersIn);
    if (ranAs) intentJobs.set(intent.seq, ranAs);
  }
  const markers = new Map<string, Marker | null>();
  // The attempts of intents found by their markers get these job ids: their markers count.
  for (const [seq, jobId] of intentJobs) {
    const intent = state.intents[String(seq)];
    for (const name of intent.runs) {
      const a = state.runs[name]?.attempts.find((x) => x.intent === seq);
      const planRun = byRun.get(name);
      if (!a || !planRun) continue;
      const id = intent.array !== undefined
        ? `${jobId}_${state.runs[name].index - (intent.offset ?? 0)}`
        : jobId;
      markers.set(
        attemptKey(name, a.attempt),
        markerOf(await markersIn(planRun.runDir), id) ?? null,
      );
    }
  }
  const find = indexJobs(result.jobs);
  const missing = [];
  for (const { run, a } of active) {
    if (ownJob(state, a, find(a.jobId!, a.arrayJobId, a.taskId))) continue;
    const planRun = byRun.get(run.name);
    if (planRun) missing.push({ run, a, runDir: planRun.runDir });
  }
  // Many jobs missing from the queue (it forgot them, or all ended): one listing of each
  // folder of run directories says which exist; those are read 64 at a time.
  if (missing.length > 1) {
    const absent = await absentDirs(fs, missing.map((m) => m.runDir));
    for (const dir of absent) read.set(dir, Promise.resolve([]));
    const todo = [...new Set(missing.map((m) => m.runDir))].filter((d) => !absent.has(d));
    for (let i = 0; i < todo.length; i += 64) {
      await Promise.all(todo.slice(i, i + 64).map(markersIn));
    }
  }
  // Attempts of intents found now count too: their job ids come with the `submitted` event.
  for (const { run, a, runDir } of missing) {
    markers.set(
      attemptKey(run.name, a.attempt),
      markerOf(await markersIn(runDir), a.jobId!) ?? null,
    );
  }
  return { jobs: result.jobs, intentJobs, markers, asOf };
}

/** Of these directories, those that do not exist, by one listing of each parent folder. */
async function absentDirs(fs: FileSystem, dirs: readonly string[]): Promise<Set<string>> {
  const byParent = new Map<string, string[]>();
  for (const d of new Set(dirs)) {
    const cut = d.replace(/\/+$/, "").lastIndexOf("/");
    if (cut <= 0) continue;
    const parent = d.slice(0, cut);
    const list = byParent.get(parent);
    if (list) list.push(d);
    else byParent.set(parent, [d]);
  }
  const out = new Set<string>();
  for (const [parent, ds] of byParent) {
    const names = await fs.listNames(parent).catch(() => undefined);
    if (names === undefined) continue; // unreadable: each is read on its own
    const has = new Set(names ?? []);
    for (const d of ds) if (!has.has(d.slice(parent.length + 1).replace(/\/+$/, ""))) out.add(d);
  }
  return out;
}

/**
 * Judges a scheduler reading (pure): open intents whose job was found are `submitted` (else
 * `abandoned`), each watched attempt's new state is `observed` (from the queue, else from its
 * marker, else `unknown`, and `lost` after `lostAfterMs` unseen). Events go through `sink`
 * (applied at once). Returns the observation of every watched attempt by key (null: missing
 * from the scheduler) and lines to tell the user.
 */
export function reconcileEvents(
  plan: SweepPlan,
  sink: EventSink,
  state: StoreState,
  reading: SchedulerReading,
  now: number,
  opts: { readonly lostAfterMs?: number } = {},
): { seen: Map<string, JobObservation | null>; said: string[] } {
  const lostAfterMs = opts.lostAfterMs ?? LOST_AFTER_MS;
  const seen = new Map<string, JobObservation | null>();
  const said: string[] = [];
  for (const intent of Object.values(state.intents).filter((i) => i.status === "open")) {
    // Journaled after the query was made: not asked about, judged by the next reading.
    if (intent.seq > reading.asOf) continue;
    const job = reading.jobs.find((j) => j.comment === intent.comment);
    if (job) {
      sink.emit({
        type: "submitted",
        intent: intent.seq,
        jobId: job.arrayJobId ?? job.jobId,
        found: "tag",
      });
      said.push(
        `found job ${job.arrayJobId ?? job.jobId} of an interrupted submission (${intent.key})`,
      );
      continue;
    }
    // The queue forgot it (or never had it): a job of this intent that ran left its tag in
    // its marker. Only when none did is the intent abandoned (and its runs submitted again).
    const ranAs = reading.intentJobs.get(intent.seq);
    if (ranAs) {
      sink.emit({ type: "submitted", intent: intent.seq, jobId: ranAs, found: "tag" });
      said.push(`found job ${ranAs} of an interrupted submission (${intent.key}) from its markers`);
    } else {
      sink.emit({
        type: "abandoned",
        intent: intent.seq,
        why:
          "no job carries its comment tag and no run wrote a marker with it: the sbatch call did not happen or failed",
      });
    }
  }
  const planned = new Set(plan.runs.map((r) => r.name));
  const find = indexJobs(reading.jobs);
  for (const { run, a } of activeAttempts(state)) {
    if (a.intent > reading.asOf) continue;
    const key = attemptKey(run.name, a.attempt);
    const obs = ownJob(state, a, find(a.jobId!, a.arrayJobId, a.taskId));
    seen.set(key, obs ?? null);
    if (obs) {
      // The node list too (a restart may exclude the nodes a failed attempt ran on).
      const nodes = obs.nodeList && obs.nodeList !== a.nodes ? obs.nodeList : undefined;
      if (obs.state !== a.state || obs.rawState !== a.rawState || nodes) {
        sink.emit({
          type: "observed",
          run: run.name,
          attempt: a.attempt,
          state: obs.state,
          rawState: obs.rawState,
          reason: obs.reason,
          exitCode: obs.exitCode,
          ...(nodes ? { nodes } : {}),
        });
      }
      continue;
    }
    // Not in the queue or accounting (squeue forgets after MinJobAge): the job's markers.
    if (!planned.has(run.name)) continue;
    const m = reading.markers.get(key);
    if (m && m.state !== "running") {
      sink.emit({
        type: "observed",
        run: run.name,
        attempt: a.attempt,
        state: m.state === "completed" ? "completed" : "failed",
        rawState: `marker: ${m.state}`,
        reason: "from the job's own marker",
        exitCode: m.exit_code,
      });
      continue;
    }
    // Nowhere to be seen and no end marker (a killed node, or slurmctld lost it). It is
    // `unknown` first - never failed, it may still run - and `lost` (final) only after a grace
    // period longer than SLURM's MinJobAge, so a later submit can start a new attempt.
    if (a.state !== "unknown") {
      sink.emit({
        type: "observed",
        run: run.name,
        attempt: a.attempt,
        state: "unknown",
        rawState: "not found",
        reason: `job ${a.jobId} is neither in the queue nor in accounting, and has no end marker`,
      });
    } else if (a.stateSince && now - Date.parse(a.stateSince) > lostAfterMs) {
      const minutes = Math.round(lostAfterMs / 60000);
      sink.emit({
        type: "observed",
        run: run.name,
        attempt: a.attempt,
        state: "lost",
        rawState: "not found",
        reason: `job ${a.jobId} has not been seen for ${minutes} minutes and left no end marker`,
      });
      said.push(`${run.name}: job ${a.jobId} is lost (not seen for ${minutes} min, no end marker)`);
    }
  }
  return { seen, said };
}

/**
 * Reconciles the store with the scheduler ({@link readScheduler}, then
 * {@link reconcileEvents}), journaling what changed. Returns each watched attempt's observation
 * by {@link attemptKey} (null: missing from the scheduler), and the shared artifacts other
 * sweeps' live jobs are making (see {@link refuseBusyArtifacts}).
 */
export async function reconcile(
  plan: SweepPlan,
  store: SweepStore,
  scheduler: Scheduler,
  fs: FileSystem,
  say: (line: string, note?: SayNote) => void = () => {},
  now: () => number = Date.now,
  lostAfterMs = LOST_AFTER_MS,
): Promise<{ seen: Map<string, JobObservation | null>; busy: BusyArtifact[] }> {
  const reading = await readScheduler(plan, store.state, scheduler, fs);
  let seen = new Map<string, JobObservation | null>();
  if (reading) {
    const sink = new EventSink(store.state, new Date(now()).toISOString());
    const r = reconcileEvents(plan, sink, store.state, reading, now(), { lostAfterMs });
    await store.journal(sink.take());
    for (const line of r.said) say(line);
    seen = r.seen;
  }
  const busy = await recoverFromMarkers(plan, store, scheduler, fs, say, now);
  return { seen, busy };
}

/**
 * Refuses a submission that would start a second job writing a shared artifact directory
 * another sweep's live job is writing (`busy`, as {@link reconcile} found them).
 *
 * @throws {UsageError} naming the runs and jobs.
 */
export function refuseBusyArtifacts(busy: readonly BusyArtifact[]): void {
  if (!busy.length) return;
  throw new UsageError(
    `${busy.length} pipeline run${busy.length === 1 ? " is" : "s are"} being made right now by ` +
      `another sweep's job${busy.length === 1 ? "" : "s"} (shared artifact directories): ${
        busy.slice(0, 5).map((b) => `${b.run} (job ${b.jobId})`).join(", ")
      }${busy.length > 5 ? ", ..." : ""}; submit again once ${
        busy.length === 1 ? "it has" : "they have"
      } ended (a completed artifact is then used here, not trained again)`,
  );
}

/**
 * Journals the attempts a damaged journal lost that the runs' markers prove (see
 * lib/submit/recover.ts): a completed run is not submitted again, a running job not twice.
 */
export async function recoverFromMarkers(
  plan: SweepPlan,
  store: SweepStore,
  scheduler: Scheduler,
  fs: FileSystem,
  say: (line: string, note?: SayNote) => void = () => {},
  now: () => number = Date.now,
): Promise<BusyArtifact[]> {
  const check = runsToCheck(plan, store.state);
  const markers = new Map<string, Marker[]>();
  for (let i = 0; i < check.length; i += 64) {
    const batch = check.slice(i, i + 64);
    const read = await Promise.all(batch.map((r) => readMarkers(fs, r.runDir)));
    batch.forEach((r, k) => read[k].length && markers.set(r.name, read[k]));
  }
  if (!markers.size) return [];
  const tag = sweepTag(plan);
  // Our own running jobs, and those of other sweeps making a shared artifact.
  const artifacts = new Set(check.filter((r) => r.artifact).map((r) => r.name));
  const running = [...markers].flatMap(([name, ms]) =>
    ms.filter((m) => m.state === "running" && (m.tag?.startsWith(tag) || artifacts.has(name)))
  ).map(markerJobId);
  const live = new Set<string>();
  if (running.length) {
    const q = await scheduler.query({ ids: running, history: false });
    for (const j of q.jobs) {
      if (LIVE_STATES.has(j.state)) live.add(j.id);
    }
  }
  const r = recoverEvents(check, store.state, markers, tag, live);
  if (r.events.length) {
    const sink = new EventSink(store.state, new Date(now()).toISOString());
    for (const e of r.events) sink.emit(e);
    await store.journal(sink.take());
    for (const line of r.said) say(line);
  }
  return r.busy;
}

/**
 * Attempts to ask the scheduler about: those that may still run, and those whose state is
 * final for SLURM but not yet for the monitor (a preempted job with --requeue may come back).
 */
function watched(a: { state: string; verdict?: string; verdictFinal?: boolean }): boolean {
  return ACTIVE_ATTEMPT_STATES.has(a.state) || (a.verdict !== undefined && !a.verdictFinal);
}

/**
 * `job` if it is the attempt's own: a job id SLURM reused (after its state was reset) belongs
 * to another job when its comment is another autoexp tag than the one the attempt was
 * submitted with. Any other comment leaves the id to decide: none (an accounting that does
 * not store comments), or one a site's submit plugin rewrote (which must not make every job
 * look foreign, lost and submitted twice).
 */
export function ownJob(
  state: StoreState,
  a: AttemptRecord,
  job: JobObservation | undefined,
): JobObservation | undefined {
  const tag = state.intents[String(a.intent)]?.comment;
  if (!job || !job.comment || !tag || job.comment === tag) return job;
  return job.comment.startsWith("autoexp:") ? undefined : job;
}

/** The key of an attempt in the map {@link reconcile} returns. */
export function attemptKey(run: string, attempt: number): string {
  return `${run}#${attempt}`;
}

/** How long a job may be missing everywhere before it counts as lost (SLURM MinJobAge is 300 s). */
export const LOST_AFTER_MS = 20 * 60_000;

/** A refused setting's error, naming the value the run asked for (`partition = "gpu-x"`). */
function rejectedSetting(e: SchedulerError, run: RunPlan | undefined): SchedulerError {
  const key = e.details.rejectedKey!;
  const option = e.details.rejectedOption;
  const value = option ? run?.script.resources[option] : undefined;
  if (value === undefined) return e;
  return new SchedulerError(
    `${key} = ${JSON.stringify(value)} was refused by the scheduler.\n${e.message}`,
    e.details,
    { cause: e },
  );
}

/** The job id (an array's id for array tasks) a run's marker recorded for a comment tag. */
async function jobOfIntentFromMarkers(
  byName: ReadonlyMap<string, RunPlan>,
  runs: readonly string[],
  tag: string,
  markersIn: (runDir: string) => Promise<Marker[]>,
): Promise<string | undefined> {
  for (const name of runs) {
    const run = byName.get(name);
    if (!run) continue;
    for (const m of await markersIn(run.runDir)) {
      if (m.tag === tag) return m.array_job_id ?? m.job_id;
    }
  }
  return undefined;
}

/** Finds the observation of a job or array task in a query result. */
export function findObservation(
  jobs: readonly JobObservation[],
  jobId: string,
  arrayJobId?: string,
  taskId?: number,
): JobObservation | undefined {
  return indexJobs(jobs)(jobId, arrayJobId, taskId);
}

const indexes = new WeakMap<readonly JobObservation[], ReturnType<typeof buildIndex>>();

/** A lookup over a query result, built once per result (rounds over thousands of tasks). */
export function indexJobs(
  jobs: readonly JobObservation[],
): (jobId: string, arrayJobId?: string, taskId?: number) => JobObservation | undefined {
  let index = indexes.get(jobs);
  if (!index) indexes.set(jobs, index = buildIndex(jobs));
  const { tasks, byId, arrays } = index;
  return (jobId, arrayJobId, taskId) => {
    if (arrayJobId !== undefined && taskId !== undefined) {
      const task = tasks.get(`${arrayJobId}_${taskId}`);
      if (task) return task;
      for (const rec of arrays.get(arrayJobId) ?? []) {
        if (rec.pendingTasks?.includes(taskId)) {
          return {
            ...rec,
            id: `${arrayJobId}_${taskId}`,
            arrayTaskId: taskId,
            pendingTasks: undefined,
          };
        }
      }
      // A whole-array record without task ids (an array cancelled while its tasks waited shows
      // as `123 CANCELLED`): its state is every unexpanded task's state.
      const whole = byId.get(arrayJobId);
      if (whole && whole.arrayTaskId === undefined && !whole.pendingTasks) {
        return { ...whole, id: `${arrayJobId}_${taskId}`, arrayJobId, arrayTaskId: taskId };
      }
      return undefined;
    }
    return byId.get(jobId);
  };
}

function buildIndex(jobs: readonly JobObservation[]) {
  const tasks = new Map<string, JobObservation>();
  const byId = new Map<string, JobObservation>();
  const arrays = new Map<string, JobObservation[]>();
  for (const j of jobs) {
    if (j.arrayJobId !== undefined && j.arrayTaskId !== undefined) {
      const k = `${j.arrayJobId}_${j.arrayTaskId}`;
      if (!tasks.has(k)) tasks.set(k, j);
    }
    if (j.arrayJobId !== undefined && j.pendingTasks) {
      const list = arrays.get(j.arrayJobId) ?? [];
      list.push(j);
      arrays.set(j.arrayJobId, list);
    }
    if (!byId.has(j.jobId)) byId.set(j.jobId, j);
    if (!byId.has(j.id)) byId.set(j.id, j);
  }
  return { tasks, byId, arrays };
}

/** A run whose config changed since its last attempt, with what changed. */
export interface ChangedRun {
  readonly run: string;
  readonly diff: string[];
}

/** Decides which runs get a new attempt; throws a UsageError listing changed runs. */
export function decideRuns(
  plan: SweepPlan,
  store: SweepStore,
  opts: SubmitOptions,
): {
  submit: { run: RunPlan; attempt: number; why: string }[];
  skipped: { run: string; why: string }[];
  /** Pipeline runs whose inputs are not complete yet: the monitor submits them later. */
  hold: { run: RunPlan; needs: readonly string[] }[];
} {
  const submit: { run: RunPlan; attempt: number; why: string }[] = [];
  const skipped: { run: string; why: string }[] = [];
  const hold: { run: RunPlan; needs: readonly string[] }[] = [];
  // Runs chosen now count as not complete: their dependents wait for them.
  const complete = (name: string) => artifactComplete(store.state.runs[name]);
  const changed: ChangedRun[] = [];
  const before = new Map((opts.previous?.runs ?? []).map((r) => [r.name, r]));
  const explain = (run: RunPlan, fingerprint: string): string[] => {
    const old = before.get(run.name);
    if (!old || old.fingerprint !== fingerprint) {
      return [
        `its planned job differs from the one its last attempt ran (fingerprint ${fingerprint} -> ${run.fingerprint})`,
      ];
    }
    return describeChange(old, run);
  };
  for (const run of plan.runs) {
    if (opts.only && !opts.only.has(run.name)) continue;
    const rec = store.state.runs[run.name];
    const last = latestAttempt(rec);
    if (!last && run.needs?.length) {
      if (run.needs.every(complete)) {
        submit.push({ run, attempt: 1, why: `inputs complete: ${run.needs.join(", ")}` });
      } else if (rec?.awaits && !rec.blocked) {
        skipped.push({ run: run.name, why: `waits for ${run.needs.join(", ")}` });
      } else hold.push({ run, needs: run.needs });
      continue;
    }
    if (!last) {
      submit.push({ run, attempt: 1, why: "initial" });
      continue;
    }
    // An attempt whose submission failed never ran: its fingerprint does not count.
    const differs = last.state !== "submit_failed" && last.fingerprint !== run.fingerprint;
    if (ACTIVE_ATTEMPT_STATES.has(last.state)) {
      if (differs && !opts.newAttempt) {
        changed.push({
          run: run.name,
          diff: [`attempt ${last.attempt} is ${last.state}`, ...explain(run, last.fingerprint)],
        });
      }
      skipped.push({
        run: run.name,
        why: `attempt ${last.attempt} is ${last.state} (job ${last.jobId ?? "?"})`,
      });
      continue;
    }
    if (differs && !opts.newAttempt) {
      changed.push({
        run: run.name,
        diff: explain(run, last.fingerprint),
      });
      continue;
    }
    // A pipeline run's artifact is complete whatever the plan says now (its identity is the same).
    if (run.artifact && artifactComplete(rec)) {
      skipped.push({ run: run.name, why: `artifact complete (attempt ${last.attempt})` });
      continue;
    }
    if (last.state === "completed" && !differs) {
      skipped.push({ run: run.name, why: `completed (attempt ${last.attempt})` });
      continue;
    }
    if (isFinalAttemptState(last.state) || differs) {
      submit.push({
        run,
        attempt: (rec?.attempts.length ?? 0) + 1,
        why: differs ? "config changed (--new-attempt)" : `resubmit after ${last.state}`,
      });
    }
  }
  if (changed.length) {
    const shown = changed.slice(0, 10).map((c) =>
      `  ${c.run}:\n${c.diff.map((d) => `      ${d}`).join("\n")}`
    ).join("\n");
    throw new UsageError(
      `the config of ${changed.length} run${changed.length === 1 ? "" : "s"} changed since ${
        changed.length === 1 ? "its" : "their"
      } last attempt:\n${shown}${
        changed.length > 10 ? `\n  ... and ${changed.length - 10} more` : ""
      }\n` +
        "Compare with the previous plan (sweep.json, provenance/); to start a new attempt with the new " +
        "config, run submit again with --new-attempt (active runs are never replaced).",
    );
  }
  // Runs the journal knows that the plan no longer has, while it has new ones: most likely the
  // same runs renamed (a name template or a value written differently, `1.0` vs `1`, also after
  // an upgrade of autoexp), and submitting would train them again from scratch under new names.
  if (!opts.newAttempt && !opts.only) {
    const planned = new Set(plan.runs.map((r) => r.name));
    const gone = Object.values(store.state.runs).filter((rec) =>
      !planned.has(rec.name) && rec.attempts.length && !rec.parent && !rec.planDir
    ).map((rec) => rec.name);
    const fresh = submit.filter((c) => c.attempt === 1 && !store.state.runs[c.run.name]);
    if (gone.length && fresh.length) {
      const list = (xs: string[]) =>
        xs.slice(0, 5).join(", ") + (xs.length > 5 ? `, ... (${xs.length} in all)` : "");
      throw new UsageError(
        `this sweep's journal has runs the new plan does not (${list(gone)}), and the plan has ` +
          `new ones (${list(fresh.map((c) => c.run.name))}): if they are the same runs renamed ` +
          "(a changed name template, or a value printed differently), submitting would train " +
          "them again from the start. Keep the old names (sweep.name_template), plan into " +
          "another output directory, or pass --new-attempt to submit the new runs anyway.",
      );
    }
  }
  return { submit, skipped, hold };
}

/** What changed between two plans of the same run, as short lines (argv, env, resources). */
export function describeChange(old: RunPlan, now: RunPlan): string[] {
  const out: string[] = [];
  const a = old.argv, b = now.argv;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  let j = 0;
  while (j < a.length - i && j < b.length - i && a[a.length - 1 - j] === b[b.length - 1 - j]) j++;
  if (i < a.length - j || i < b.length - j) {
    const ctx = i > 0 ? `${a[i - 1]} ` : "";
    const clip = (t: string[]) => (t.length > 6 ? [...t.slice(0, 6), "..."] : t).join(" ");
    out.push(
      `command: ${ctx}${clip(a.slice(i, a.length - j))} -> ${ctx}${clip(b.slice(i, b.length - j))}`,
    );
  }
  for (const k of new Set([...Object.keys(old.env), ...Object.keys(now.env)])) {
    if (old.env[k] !== now.env[k]) {
      out.push(`env ${k}: ${old.env[k] ?? "(unset)"} -> ${now.env[k] ?? "(unset)"}`);
    }
  }
  const ro = old.script?.resources ?? {}, rn = now.script?.resources ?? {};
  for (const k of new Set([...Object.keys(ro), ...Object.keys(rn)])) {
    if (ro[k] !== rn[k]) out.push(`sbatch ${k}: ${ro[k] ?? "(unset)"} -> ${rn[k] ?? "(unset)"}`);
  }
  if (!out.length && old.workdir !== now.workdir) {
    out.push(`workdir: ${old.workdir} -> ${now.workdir}`);
  }
  return out.length
    ? out
    : ["the job script settings changed (modules, setup or shell environment)"];
}

/**
 * A job name unique per attempt (seed 001: stable run names, unique job names): the run's name
 * and attempt (`lr0.1-a2`) for one run, the array's name and the submission number for several.
 * Checkpoint and run directories keep the stable name.
 */
function attemptJobName(
  call: PlannedCall,
  chosen: ReadonlyMap<string, { attempt: number }>,
  seq: string,
  now: Date,
): string {
  const one = call.runs.length === 1 ? chosen.get(call.runs[0].name) : undefined;
  const attempt = one ? String(one.attempt) : seq;
  // A configured job name (seed 001's `{name}_$(date +%Y%m%d_%H%M%S)`) is filled now; unless
  // it names `{attempt}` itself, the attempt is appended so every attempt's name is unique.
  const name = call.jobNameAt ? call.jobNameAt(attempt, now) : call.request.jobName;
  if (call.namesAttempt) return name;
  return `${name}-${one ? `a${one.attempt}` : `s${seq}`}`;
}

/** Builds the sbatch calls for the runs to submit: one per array chunk or single job. */
export function planCalls(
  plan: SweepPlan,
  chosen: readonly { run: RunPlan }[],
  seq: () => number,
): PlannedCall[] {
  const wanted = new Set(chosen.map((c) => c.run.index));
  const byIndex = new Map(plan.runs.map((r) => [r.index, r]));
  const calls: PlannedCall[] = [];
  for (const g of plan.groups) {
    for (const chunk of g.chunks) {
      const indices = chunk.indices.filter((i) => wanted.has(i));
      if (!indices.length) continue;
      const runs = indices.map((i) => byIndex.get(i)!);
      const key = g.kind === "array" ? g.id : runs[0].name;
      const request: SubmitRequest = {
        script: scriptPathIn(plan.sweep.dir, chunk.script),
        cwd: plan.sweep.dir,
        jobName: g.kind === "array" ? jobNameOf(plan, g) : jobNameOf(plan, g, runs[0]),
        comment: commentTag(plan.sweep.id, key, seq()),
        array: g.kind === "array"
          ? arraySpec(indices, chunk.offset, plan.sweep.throttle)
          : undefined,
      };
      const exp = g.script.resources.export;
      const dep = g.script.resources.dependency;
      // A dependency of the user's with `?` (any of) cannot be combined with ours (all of).
      const chained = g.kind === "array" && g.chunks.length > 1 && plan.sweep.throttle !== null &&
        !String(dep ?? "").includes("?");
      const template = g.script.resources.job_name;
      const run = g.kind === "array" ? undefined : runs[0];
      calls.push({
        key,
        request,
        runs,
        ...(template === undefined ? {} : {
          jobNameAt: (attempt: string, now: Date) => jobNameOf(plan, g, run, { attempt, now }),
          namesAttempt: namesAttempt(String(template)),
        }),
        offset: g.kind === "array" ? chunk.offset : undefined,
        export: exp === undefined ? undefined : String(exp),
        ...(chained ? { chainedIn: g.id } : {}),
        ...(dep === undefined ? {} : { dependency: String(dep) }),
      });
    }
  }
  return calls;
}

/** A run to submit a new attempt of, and how. */
export interface ChosenRun {
  readonly run: RunPlan;
  readonly attempt: number;
  readonly why: string;
  /** Time limit override in minutes (a restart after a timeout). */
  readonly time?: number;
  /** Further sbatch options (`--mem=...`). */
  readonly extraArgs?: readonly string[];
  /** Reuse this frozen entries file (a restart runs exactly what the attempt before ran). */
  readonly entries?: string;
  /**
   * Overrides to re-plan the run with before submitting (a restart policy's `overrides`); the
   * caller replaces `run` with the re-planned one (see lib/monitor/effects.ts).
   */
  readonly overrides?: readonly string[];
}

/**
 * Submits what is not pending, running or done. Every call is journaled before it is made
 * (an intent with its comment tag) and after (the job id, or the failure).
 *
 * @throws {SchedulerError} from the first call that fails for good; earlier calls stay
 * submitted and recorded, the failed one is recorded as not submitted.
 */
export async function submitSweep(
  plan: SweepPlan,
  store: SweepStore,
  scheduler: Scheduler,
  opts: SubmitOptions = {},
): Promise<SubmitReport> {
  const { submit, skipped, hold } = decideRuns(plan, store, opts);
  if (hold.length && !opts.dryRun) {
    // Before the inputs are submitted: a crash in between must not leave dependents unknown to
    // the journal (the monitor would end "done" without them). It releases each when its own
    // inputs completed.
    await store.appendMany(
      hold.map((h) => ({
        type: "awaiting" as const,
        run: h.run.name,
        index: h.run.index,
        needs: [...h.needs],
      })),
    );
  }
  const report = await submitChosen(plan, store, scheduler, submit, opts);
  if (hold.length) {
    const byStage = new Map<string, number>();
    for (const h of hold) byStage.set(h.run.stage ?? "", (byStage.get(h.run.stage ?? "") ?? 0) + 1);
    (opts.say ?? (() => {}))(
      `${hold.length} run${hold.length === 1 ? " waits" : "s wait"} for ${
        hold.length === 1 ? "its" : "their"
      } inputs (${[...byStage].map(([s, n]) => `${s}: ${n}`).join(", ")}); ` +
        "each is submitted when its own inputs completed",
    );
  }
  return {
    ...report,
    skipped: [...skipped, ...hold.map((h) => ({ run: h.run.name, why: "waits for its inputs" }))],
  };
}

/**
 * Submits new attempts of the chosen runs: one sbatch call per array chunk or single job and
 * per distinct override (time limit, extra options, frozen entries).
 */
export async function submitChosen(
  plan: SweepPlan,
  store: SweepStore,
  scheduler: Scheduler,
  chosen: readonly ChosenRun[],
  opts: SubmitOptions = {},
): Promise<SubmitReport> {
  const say = opts.say ?? (() => {});
  const batches = new Map<string, ChosenRun[]>();
  for (const c of chosen) {
    const key = JSON.stringify([c.time ?? null, c.extraArgs ?? [], c.entries ?? null]);
    const list = batches.get(key);
    if (list) list.push(c);
    else batches.set(key, [c]);
  }
  const calls: PlannedCall[] = [];
  const submitted: { key: string; jobId: string; runs: number }[] = [];
  for (const batch of batches.values()) {
    const r = await submitBatch(plan, store, scheduler, batch, opts, say);
    calls.push(...r.calls);
    submitted.push(...r.submitted);
  }
  return { calls, submitted, skipped: [] };
}

async function submitBatch(
  plan: SweepPlan,
  store: SweepStore,
  scheduler: Scheduler,
  submit: readonly ChosenRun[],
  opts: SubmitOptions,
  say: (line: string, note?: SayNote) => void,
): Promise<{ calls: PlannedCall[]; submitted: { key: string; jobId: string; runs: number }[] }> {
  const first = submit[0];
  let next = store.state.seq + 1;
  const calls = planCalls(plan, submit, () => next).map((c) => ({
    ...c,
    request: {
      ...c.request,
      ...(first?.time !== undefined ? { time: String(first.time) } : {}),
      ...(first?.extraArgs?.length
        ? { extraArgs: [...(c.request.extraArgs ?? []), ...first.extraArgs] }
        : {}),
    },
  }));
  const byName = new Map(submit.map((s) => [s.run.name, s]));
  const now = opts.now ?? Date.now;
  const submitted: { key: string; jobId: string; runs: number }[] = [];
  if (opts.dryRun) {
    // As submitted, but for the intent number each call gets when it is journaled.
    const chains = new Set<string>();
    for (const c of calls) {
      const tag = commentTag(plan.sweep.id, c.key, `${store.id || "<store>"}.<n>`);
      const chained = c.chainedIn !== undefined && chains.has(c.chainedIn);
      if (c.chainedIn !== undefined) chains.add(c.chainedIn);
      say(
        renderSbatchArgv({
          ...c.request,
          ...(chained
            ? {
              dependency: [c.dependency, "afterany:<the part before>"].filter(Boolean).join(","),
            }
            : {}),
          jobName: attemptJobName(c, byName, "<n>", new Date(now())),
          comment: tag,
          extraArgs: [
            ...(c.request.extraArgs ?? []),
            `--export=ALL,AUTOEXP_ENTRIES=<frozen entries>,AUTOEXP_TAG=${tag}`,
          ],
        }).join(" "),
      );
    }
    return { calls, submitted };
  }
  // Freeze the entries these jobs run (run-entry reads them through AUTOEXP_ENTRIES).
  let entries: string | undefined = first?.entries;
  if (!entries && opts.fs && calls.length) {
    const snap = `${store.dir}/plans/${store.state.seq + 1}`;
    await opts.fs.mkdirp(snap);
    // From the plan in memory, not the files on disk (another plan may be rewriting them).
    const frozen = entryIndexChunks(plan);
    await opts.fs.writeChunks(`${snap}/sweep.entries.jsonl`, frozen.lines);
    await opts.fs.writeFile(`${snap}/sweep.entries.idx`, frozen.idx());
    if (!snap.includes(",")) entries = `${snap}/sweep.entries.jsonl`;
  }
  /** The last part submitted of each chained array (see PlannedCall.chainedIn). */
  const lastPart = new Map<string, string>();
  for (const call of calls) {
    // Each intent gets its own sequence number, and so its own comment tag.
    next = store.state.seq + 1;
    const after = call.chainedIn === undefined ? undefined : lastPart.get(call.chainedIn);
    const request = {
      ...call.request,
      ...(after === undefined ? {} : {
        dependency: [call.dependency, `afterany:${after}`].filter(Boolean).join(","),
      }),
      jobName: attemptJobName(call, byName, String(next), new Date(now())),
      comment: tagOf(plan, call.key, store.id, next),
      extraArgs: entries
        ? [
          ...(call.request.extraArgs ?? []),
          `--export=${call.export ?? "ALL"},AUTOEXP_ENTRIES=${entries},AUTOEXP_TAG=${
            tagOf(plan, call.key, store.id, next)
          }`,
        ]
        : call.request.extraArgs,
    };
    const intent = await store.append({
      type: "submit_intent",
      key: call.key,
      comment: request.comment,
      array: request.array,
      offset: call.offset,
      runs: call.runs.map((r) => {
        const s = byName.get(r.name)!;
        return {
          name: r.name,
          index: r.index,
          attempt: s.attempt,
          fingerprint: r.fingerprint,
          why: s.why,
          ...(s.time !== undefined ? { time: s.time } : {}),
        };
      }),
      ...(entries ? { entries } : {}),
    });
    let res;
    try {
      res = await scheduler.submit(request);
    } catch (e) {
      if (e instanceof SchedulerError && e.details.maybeSubmitted) {
        // The job may exist: leave the intent open; the next submit settles it by its tag.
        await store.snapshot();
        throw new SchedulerError(
          `${e.message}\nThe job may have been created anyway; run the same submit again later: ` +
            "it finds the job by its tag instead of submitting it twice.",
          e.details,
          { cause: e },
        );
      }
      await store.append({
        type: "submit_failed",
        intent: intent.seq,
        error: (e as Error).message,
      });
      await store.snapshot();
      if (e instanceof SchedulerError && e.details.rejectedKey) {
        throw rejectedSetting(e, byName.get(call.runs[0]?.name)?.run);
      }
      if (e instanceof SchedulerError) throw e;
      throw new SchedulerError(`submitting ${call.key} failed: ${(e as Error).message}`, {}, {
        cause: e,
      });
    }
    if (call.chainedIn !== undefined) lastPart.set(call.chainedIn, res.jobId);
    const done = await store.append({ type: "submitted", intent: intent.seq, jobId: res.jobId });
    submitted.push({ key: call.key, jobId: res.jobId, runs: call.runs.length });
    if (opts.history) {
      await opts.history.append(submittedRecords(plan, store.state, call.runs, byName, done.at));
    }
    const line = `submitted ${
      call.runs.length === 1 ? `run ${call.runs[0].name}` : `${call.runs.length} runs (${call.key})`
    } as job ${res.jobId}`;
    const one = call.runs.length === 1 ? call.runs[0].name : null;
    say(line, one ? { kind: "run", run: one, text: `submitted · job ${res.jobId}` } : undefined);
  }
  await store.snapshot();
  return { calls, submitted };
}

/** The history index's lines of one sbatch call's attempts (lib/runtime/history.ts). */
export function submittedRecords(
  plan: SweepPlan,
  state: StoreState,
  runs: readonly RunPlan[],
  chosen: ReadonlyMap<string, { readonly attempt: number }>,
  at: string,
): HistoryRecord[] {
  const out: HistoryRecord[] = [];
  for (const run of runs) {
    const n = chosen.get(run.name)?.attempt;
    const a = state.runs[run.name]?.attempts.find((x) => x.attempt === n);
    if (!a?.jobId) continue;
    const log = attemptLogPath(plan, run, a);
    out.push({
      at,
      event: "submitted",
      job: a.jobId,
      sweep: plan.sweep.dir,
      run: run.name,
      ...(run.stage ? { stage: run.stage } : {}),
      attempt: a.attempt,
      state: "pending",
      run_dir: run.runDir,
      ...(log ? { log } : {}),
    });
  }
  return out;
}
