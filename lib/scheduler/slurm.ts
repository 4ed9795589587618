/**
 * The SLURM adapter of the {@link Scheduler} port: builds `sbatch`/`squeue`/`sacct`/`scancel`/
 * `scontrol` command lines, runs them through the injected {@link ProcessRunner}, and hands
 * their output to the pure parsers of `slurm_parse.ts`.
 *
 * Load on slurmctld (field notes, "Load on the scheduler"): one {@link SlurmScheduler.query}
 * costs ONE `squeue` (per `chunkSize` ids) and at most ONE `sacct` (per chunk of the ids squeue
 * no longer knows). Transient failures are retried with bounded exponential backoff
 * (`retry.ts`); permanent ones throw a {@link SchedulerError} with the command's own stderr at
 * once.
 *
 * Finding jobs by comment (`commentPrefix`): squeue cannot filter by comment, so the query
 * then asks for all of this user's jobs (`squeue --me --states=all`, still one call, and no
 * more expensive for slurmctld than `--jobs=a,b,c`, which also loads every job) and keeps those
 * whose id was asked for or whose comment starts with the prefix. Only squeue is searched by
 * comment: sacct shows a comment only once the job has ended, and scanning a user's whole
 * accounting history every round would be the kind of load the field notes warn about. A job
 * submitted just before a crash that also finished more than `MinJobAge` ago is found by the
 * marker its own script writes, not here.
 *
 * Accounting: `sacct` is only asked about ids squeue did not return, and only with
 * `history !== false`. When it is missing (exit 127) or says `Slurm accounting storage is
 * disabled`, the adapter remembers that and never calls it again; the result then says
 * `accountingUnavailable: true`. A transient sacct failure (slurmdbd down) that outlasts the
 * retries also gives `accountingUnavailable: true`, for that round only.
 *
 * @module
 */

import { SchedulerError } from "../errors.ts";
import { shellJoin } from "../shell.ts";
import type { CommandResult, ProcessRunner } from "../runtime/process.ts";
import { type RetryNotice, type RetryPolicy, withRetry } from "./retry.ts";
import {
  isAlreadyGoneError,
  isAmbiguousSubmitError,
  isTransientSlurmError,
  parseSacct,
  parseSacctmgrSubmitLimit,
  parseSbatchParsable,
  parseScontrolConfig,
  parseSqueue,
  renderSacctFormat,
  renderSqueueFormat,
  SACCTMGR_ASSOC_FIELDS,
  sbatchRejection,
  SlurmParseError,
  summarizeSlurmError,
} from "./slurm_parse.ts";
import type {
  JobObservation,
  QueryRequest,
  QueryResult,
  Scheduler,
  SchedulerLimits,
  SubmitRequest,
  SubmitResult,
} from "./types.ts";
import { DEFAULT_MAX_ARRAY_SIZE } from "./types.ts";

/** Options of {@link SlurmScheduler}. */
export interface SlurmSchedulerOptions {
  /** Runs every command (the only way this adapter touches the world). */
  readonly runner: ProcessRunner;
  /** Sleep between retries (tests inject a recorder). */
  readonly sleep?: (ms: number) => Promise<void>;
  /**
   * Told before each retry: `message` is ready to print ("slurmctld did not answer, retrying in
   * 4 s (attempt 2/5)"); `notice` has the attempt numbers, the delay and the error.
   */
  readonly onRetry?: (message: string, notice: RetryNotice) => void;
  /**
   * Kill a SLURM command that runs longer than this (default 60 s; a client alone waits ~10-20 s
   * for an unreachable slurmctld before failing).
   */
  readonly commandTimeoutMs?: number;
  /** Ids per squeue/sacct/scancel/scontrol call, to stay below argument limits (default 500). */
  readonly chunkSize?: number;
  /** Retry policy (default: 5 attempts, 2-4-8-16 s). */
  readonly retry?: Partial<RetryPolicy>;
  /** How far back sacct looks (`--starttime=now-<N>days`, default 30). */
  readonly historyDays?: number;
  /** The user name, to read the submit limit from `sacctmgr` in {@link SlurmScheduler.limits}. */
  readonly user?: string;
  /**
   * One `squeue --me` answer shared by every autoexp of this user on this machine (a monitor per
   * sweep, status, cancel): with it, a query reads the user's whole queue through the cache
   * instead of asking squeue for its own ids, so ten monitors cost one squeue per interval.
   */
  readonly queueCache?: QueueCache;
  /** How old a shared answer may be (default 2 s, the monitor's shortest interval). */
  readonly queueMaxAgeMs?: number;
  /** The clock the shared answer's age is measured with (default Date.now). */
  readonly now?: () => number;
}

/**
 * A per-user store of the latest `squeue --me` answer (lib/runtime/queue_cache.ts): `read`
 * returns an answer made no earlier than `after` and at most `maxAgeMs` old, calling `fetch`
 * (in one process at a time) when there is none.
 */
export interface QueueCache {
  read(
    fetch: () => Promise<string>,
    opts: { readonly maxAgeMs: number; readonly after: number },
  ): Promise<string>;
}

/** Commands after which a shared squeue answer from before is stale. */
const CHANGES_QUEUE: ReadonlySet<string> = new Set(["sbatch", "scancel"]);

/** Environment for squeue and sacct: never cut array task expressions at 64 bytes. */
const SLURM_ENV: Readonly<Record<string, string>> = { SLURM_BITSTR_LEN: "0" };

const STDERR_TAIL_CHARS = 2000;

/** The SLURM implementation of the Scheduler port. */
export class SlurmScheduler implements Scheduler {
  readonly kind = "slurm" as const;
  readonly #runner: ProcessRunner;
  readonly #opts: SlurmSchedulerOptions;
  readonly #timeoutMs: number;
  readonly #chunkSize: number;
  /** Set once sacct turned out to be missing or disabled; never asked again. */
  #accountingUnavailable = false;
  /**
   * When this process last changed the queue (submitted, cancelled, requeued): a shared answer
   * from before that does not show the change, so it is not used.
   */
  #changedAt = 0;

  constructor(opts: SlurmSchedulerOptions) {
    this.#runner = opts.runner;
    this.#opts = opts;
    this.#timeoutMs = opts.commandTimeoutMs ?? 60_000;
    this.#chunkSize = Math.max(1, Math.floor(opts.chunkSize ?? 500));
  }

  /** Whether an earlier call found that accounting (sacct) cannot be used. */
  get accountingUnavailable(): boolean {
    return this.#accountingUnavailable;
  }

  /**
   * Submits with `sbatch --parsable --job-name=.. --comment=.. [--array] [--dependency]
   * [--time] ...extraArgs script` in `req.cwd`. Transient failures are retried; if a failure
   * may have hidden a successful submission (`Socket timed out`, our own timeout), the next
   * attempt first looks for a job with the same name and comment (`squeue --me`) and returns
   * it instead of submitting twice.
   */
  async submit(req: SubmitRequest): Promise<SubmitResult> {
    const argv = renderSbatchArgv(req);
    let maybeSubmitted = false;
    const jobId = await this.#retry(async () => {
      if (maybeSubmitted) {
        const found = await this.#findSubmitted(req, []);
        if (found !== undefined) return found;
      }
      const r = await this.#exec(argv, undefined, { cwd: req.cwd });
      if (r.code !== 0 || r.timedOut) {
        const err = commandError(argv, r, this.#timeoutMs, {
          what: `Submitting job "${req.jobName}"`,
          fix: "Fix the sbatch option or the script named above, then submit again.",
        });
        if (r.timedOut || isAmbiguousSubmitError(r.stderr)) maybeSubmitted = true;
        const rejected = r.timedOut ? null : sbatchRejection(r.stderr);
        if (rejected) {
          throw new SchedulerError(`${err.message}\n${rejected.key}: ${rejected.hint}`, {
            ...err.details,
            rejectedKey: rejected.key,
            ...(rejected.option ? { rejectedOption: rejected.option } : {}),
          });
        }
        throw err;
      }
      const parsed = parseSbatchParsable(r.stdout);
      if (!parsed) {
        throw new SchedulerError(
          `Submitting job "${req.jobName}": sbatch succeeded but printed no job id ` +
            `(stdout: ${JSON.stringify(r.stdout.trim())}). Please report this.`,
          { argv, exitCode: r.code, stderr: r.stderr, transient: false },
        );
      }
      return parsed.jobId;
    }).catch((e) => {
      // A job may exist although every try failed: tell the caller not to count it as not submitted.
      if (maybeSubmitted && e instanceof SchedulerError) {
        throw new SchedulerError(e.message, { ...e.details, maybeSubmitted: true }, { cause: e });
      }
      throw e;
    });
    return { jobId, argv };
  }

  /**
   * One batched look-up: squeue for the ids (chunked) or, with `commentPrefix`, for all of this
   * user's jobs filtered locally; then sacct for the ids squeue did not know (unless
   * `history === false` or accounting is unavailable). An array id returns all its tasks; the
   * tasks not started yet come as one observation with `pendingTasks`.
   */
  async query(req: QueryRequest): Promise<QueryResult> {
    const ids = [...new Set(req.ids ?? [])];
    const commands: string[] = [];
    if (ids.length === 0 && req.commentPrefix === undefined) return { jobs: [], commands };

    const live: JobObservation[] = [];
    // With submissions open (intents found only by their tag) a shared answer may predate their
    // sbatch, made by a process that died before journaling it: ask squeue itself then.
    if (this.#opts.queueCache && req.commentPrefix === undefined) {
      // The user's whole queue, shared: one squeue per interval for every autoexp of the user.
      const prefix = req.commentPrefix;
      const all = await this.#sharedQueue(commands);
      live.push(
        ...all.filter((o) =>
          (prefix !== undefined && o.comment !== undefined && o.comment.startsWith(prefix)) ||
          ids.some((id) => observationMatches(o, id))
        ),
      );
    } else if (req.commentPrefix !== undefined) {
      const prefix = req.commentPrefix;
      const all = await this.#squeue(["--me"], commands);
      live.push(
        ...all.filter((o) =>
          (o.comment !== undefined && o.comment.startsWith(prefix)) ||
          ids.some((id) => observationMatches(o, id))
        ),
      );
    } else {
      for (const chunk of chunks(ids, this.#chunkSize)) {
        live.push(...await this.#squeue([`--jobs=${chunk.join(",")}`], commands));
      }
    }

    const missing = ids.filter((id) => !live.some((o) => observationMatches(o, id)));
    if (req.history === false || missing.length === 0) return { jobs: live, commands };
    if (this.#accountingUnavailable) {
      return { jobs: live, commands, accountingUnavailable: true };
    }
    const history: JobObservation[] = [];
    for (const chunk of chunks(missing, this.#chunkSize)) {
      const found = await this.#sacct(chunk, commands);
      if (found === undefined) return { jobs: live, commands, accountingUnavailable: true };
      history.push(...found);
    }
    return { jobs: [...live, ...history], commands };
  }

  /**
   * `scancel` the ids (chunked). A job that is already gone (finished, unknown id) counts as
   * cancelled: SLURM 22.05 is silent about those anyway, other versions print
   * `Invalid job id specified` or `already completing or completed`.
   */
  async cancel(ids: readonly string[]): Promise<void> {
    for (const chunk of chunks([...new Set(ids)], this.#chunkSize)) {
      const argv = ["scancel", ...chunk];
      await this.#retry(async () => {
        const r = await this.#exec(argv);
        if (r.code === 0 && !r.timedOut) return;
        const errors = r.stderr.split("\n").map((l) => l.trim()).filter((l) =>
          l !== "" && /error/i.test(l)
        );
        if (!r.timedOut && errors.length > 0 && errors.every(isAlreadyGoneError)) return;
        throw commandError(argv, r, this.#timeoutMs, {
          what: `Cancelling ${describeIds(chunk)}`,
          fix: "Check the job ids with `squeue --me`.",
        });
      });
    }
  }

  /** `scontrol requeue a,b,c`: back to the queue with the same job id (batch jobs only). */
  requeue(ids: readonly string[]): Promise<void> {
    return this.#scontrolList("requeue", ids);
  }

  /** `scontrol hold a,b,c`. */
  hold(ids: readonly string[]): Promise<void> {
    return this.#scontrolList("hold", ids);
  }

  /** `scontrol release a,b,c`. */
  release(ids: readonly string[]): Promise<void> {
    return this.#scontrolList("release", ids);
  }

  /**
   * `scontrol update JobId=<id> K=V ...`, e.g. `{ TimeLimit: "120" }`.
   *
   * @throws {SchedulerError} for a key that is not a plain word (nothing is run then).
   */
  async update(id: string, fields: Readonly<Record<string, string>>): Promise<void> {
    const entries = Object.entries(fields);
    const bad = entries.filter(([k]) => !/^[A-Za-z][A-Za-z0-9_]*$/.test(k)).map(([k]) => k);
    if (bad.length > 0 || entries.length === 0) {
      throw new SchedulerError(
        entries.length === 0
          ? `Updating job "${id}": no field to change was given.`
          : `Updating job "${id}": ${bad.map((k) => `"${k}"`).join(", ")} is not a SLURM job ` +
            `field name (expected e.g. TimeLimit, Partition, Comment).`,
        { transient: false },
      );
    }
    const argv = ["scontrol", "update", `JobId=${id}`, ...entries.map(([k, v]) => `${k}=${v}`)];
    await this.#retry(async () => {
      const r = await this.#exec(argv);
      if (r.code !== 0 || r.timedOut) {
        throw commandError(argv, r, this.#timeoutMs, {
          what: `Updating job ${id}`,
          fix: "Only pending jobs can be changed freely; see `man scontrol` for the fields.",
        });
      }
    });
  }

  /**
   * `scontrol show config` gives `MaxArraySize` (fallback 1001) and the accounting storage
   * type; if that is not `accounting_storage/none`, a cheap sacct probe says whether sacct
   * answers. With accounting and a `user`, `sacctmgr show assoc` gives the submit limit
   * (optional: any failure there leaves `maxSubmitJobs` undefined).
   */
  async limits(): Promise<SchedulerLimits> {
    const argv = ["scontrol", "show", "config"];
    const text = await this.#retry(async () => {
      const r = await this.#exec(argv);
      if (r.code !== 0 || r.timedOut) {
        throw commandError(argv, r, this.#timeoutMs, {
          what: "Reading the SLURM configuration",
          fix: "Check that SLURM works here: `scontrol ping`.",
        });
      }
      return r.stdout;
    });
    const config = parseScontrolConfig(text);
    const maxArraySize = config.maxArraySize ?? DEFAULT_MAX_ARRAY_SIZE;
    if (config.accountingStorageType?.endsWith("/none")) this.#accountingUnavailable = true;
    const accounting = !this.#accountingUnavailable && await this.#probeAccounting();
    const maxSubmitJobs = accounting && this.#opts.user !== undefined
      ? await this.#submitLimit(this.#opts.user)
      : undefined;
    return {
      maxArraySize,
      accounting,
      ...(maxSubmitJobs !== undefined ? { maxSubmitJobs } : {}),
    };
  }

  // -------------------------------------------------------------------------------------------

  #retry<T>(fn: () => Promise<T>): Promise<T> {
    return withRetry(fn, {
      policy: this.#opts.retry,
      sleep: this.#opts.sleep,
      onRetry: this.#opts.onRetry,
      describe: (e) =>
        e.details.stderr
          ? summarizeSlurmError(e.details.stderr)
          : `\`${e.details.argv?.[0] ?? "the command"}\` did not finish within ${
            Math.round(this.#timeoutMs / 1000)
          } s`,
    });
  }

  async #exec(
    argv: readonly string[],
    commands?: string[],
    extra: { cwd?: string; env?: Readonly<Record<string, string>> } = {},
  ): Promise<CommandResult> {
    commands?.push(argv[0]);
    try {
      return await this.#runner.run(argv, { timeoutMs: this.#timeoutMs, ...extra });
    } finally {
      // A command that may have changed the queue: shared answers from before it are stale.
      if (CHANGES_QUEUE.has(argv[0]) || (argv[0] === "scontrol" && argv[1] !== "show")) {
        this.#changedAt = (this.#opts.now ?? Date.now)();
      }
    }
  }

  /** `squeue --me` through the shared cache (the call, when this process makes it, is retried). */
  async #sharedQueue(commands: string[]): Promise<JobObservation[]> {
    const argv = [
      "squeue",
      "--noheader",
      "--states=all",
      `--Format=${renderSqueueFormat()}`,
      "--me",
    ];
    const text = await this.#opts.queueCache!.read(
      () =>
        this.#retry(async () => {
          const r = await this.#exec(argv, commands, { env: SLURM_ENV });
          if (r.code !== 0 || r.timedOut) {
            throw commandError(argv, r, this.#timeoutMs, {
              what: "Asking squeue about the jobs",
              fix: "Check that SLURM answers: `squeue --me`.",
            });
          }
          parseSqueue(r.stdout); // an unreadable answer is not shared
          return r.stdout;
        }),
      { maxAgeMs: this.#opts.queueMaxAgeMs ?? 2000, after: this.#changedAt },
    );
    return parseOrThrow(() => parseSqueue(text), argv, {
      code: 0,
      stdout: text,
      stderr: "",
      timedOut: false,
    });
  }

  /** One squeue call with autoexp's format, retried when transient. */
  #squeue(selection: readonly string[], commands: string[]): Promise<JobObservation[]> {
    return this.#retry(() => this.#squeueOnce(selection, commands));
  }

  /** One squeue call, not retried; `Invalid job id specified` means "none of them". */
  async #squeueOnce(selection: readonly string[], commands: string[]): Promise<JobObservation[]> {
    const argv = [
      "squeue",
      "--noheader",
      "--states=all",
      `--Format=${renderSqueueFormat()}`,
      ...selection,
    ];
    const r = await this.#exec(argv, commands, { env: SLURM_ENV });
    if (r.code !== 0 || r.timedOut) {
      // squeue -j with ONE id SLURM no longer knows exits 1 (with several ids it exits 0).
      if (!r.timedOut && /Invalid job id specified/i.test(r.stderr)) return [];
      throw commandError(argv, r, this.#timeoutMs, {
        what: "Asking squeue about the jobs",
        fix: "Check that SLURM answers: `squeue --me`.",
      });
    }
    return parseOrThrow(() => parseSqueue(r.stdout), argv, r);
  }

  /**
   * One sacct call (retried) for `ids`; `undefined` when accounting cannot be used (remembered
   * when that is permanent).
   */
  async #sacct(ids: readonly string[], commands: string[]): Promise<JobObservation[] | undefined> {
    const argv = [
      "sacct",
      "--noheader",
      "--parsable2",
      "--allocations",
      `--starttime=now-${this.#opts.historyDays ?? 30}days`,
      `--format=${renderSacctFormat()}`,
      `--jobs=${ids.join(",")}`,
    ];
    try {
      return await this.#retry(async () => {
        const r = await this.#exec(argv, commands, { env: SLURM_ENV });
        if (r.code !== 0 || r.timedOut) {
          throw commandError(argv, r, this.#timeoutMs, {
            what: "Asking sacct about finished jobs",
            fix: "Run the same sacct command by hand to see what is wrong.",
          });
        }
        return parseOrThrow(() => parseSacct(r.stdout), argv, r);
      });
    } catch (e) {
      if (!(e instanceof SchedulerError)) throw e;
      if (accountingIsMissing(e)) {
        this.#accountingUnavailable = true;
        return undefined;
      }
      if (e.details.transient) return undefined;
      throw e;
    }
  }

  /** Whether sacct answers at all (no retries: this is a capability probe). */
  async #probeAccounting(): Promise<boolean> {
    const argv = [
      "sacct",
      "--noheader",
      "--parsable2",
      "--allocations",
      "--format=JobIDRaw",
      "--starttime=now",
      "--endtime=now",
    ];
    const r = await this.#exec(argv);
    if (r.code === 0 && !r.timedOut) return true;
    const err = commandError(argv, r, this.#timeoutMs, { what: "Probing sacct", fix: "" });
    if (accountingIsMissing(err)) this.#accountingUnavailable = true;
    return false;
  }

  async #submitLimit(user: string): Promise<number | undefined> {
    const argv = [
      "sacctmgr",
      "--noheader",
      "--parsable2",
      "show",
      "assoc",
      `where`,
      `user=${user}`,
      `format=${SACCTMGR_ASSOC_FIELDS.join(",")}`,
    ];
    const r = await this.#exec(argv);
    return r.code === 0 && !r.timedOut ? parseSacctmgrSubmitLimit(r.stdout) : undefined;
  }

  /**
   * A job with exactly this name and comment, submitted by this user (after a lost answer). Not
   * retried on its own: a failure here fails the submit attempt, and the next one looks again.
   */
  async #findSubmitted(req: SubmitRequest, commands: string[]): Promise<string | undefined> {
    // squeue --name takes a comma-separated list: only narrow by name when that is safe
    const byName = req.jobName.includes(",") ? [] : [`--name=${req.jobName}`];
    const jobs = await this.#squeueOnce(["--me", ...byName], commands);
    const hit = jobs.find((o) => o.comment === req.comment && o.name === req.jobName);
    return hit === undefined ? undefined : (hit.arrayJobId ?? hit.jobId);
  }

  async #scontrolList(verb: "requeue" | "hold" | "release", ids: readonly string[]) {
    for (const chunk of chunks([...new Set(ids)], this.#chunkSize)) {
      const argv = ["scontrol", verb, chunk.join(",")];
      await this.#retry(async () => {
        const r = await this.#exec(argv);
        if (r.code !== 0 || r.timedOut) {
          throw commandError(argv, r, this.#timeoutMs, {
            what: `${verb[0].toUpperCase()}${verb.slice(1)} of ${describeIds(chunk)}`,
            fix: verb === "requeue"
              ? "Only running or finished batch jobs can be requeued; check `squeue --me`."
              : "Check the job ids and their states with `squeue --me`.",
          });
        }
      });
    }
  }
}

/**
 * The sbatch command line for `req` (options on the command line override `#SBATCH` lines).
 *
 * @example
 * renderSbatchArgv({ script: "/r/job.sh", cwd: "/r", jobName: "lr0.1", comment: "autoexp:s:lr0.1" });
 * // ["sbatch", "--parsable", "--job-name=lr0.1", "--comment=autoexp:s:lr0.1", "/r/job.sh"]
 */
export function renderSbatchArgv(req: SubmitRequest): string[] {
  return [
    "sbatch",
    "--parsable",
    `--job-name=${req.jobName}`,
    `--comment=${req.comment}`,
    ...(req.array !== undefined ? [`--array=${req.array}`] : []),
    ...(req.dependency !== undefined ? [`--dependency=${req.dependency}`] : []),
    ...(req.time !== undefined ? [`--time=${req.time}`] : []),
    ...(req.extraArgs ?? []),
    req.script,
  ];
}

/**
 * Whether observation `o` answers a request for `id`: the job itself (`123`), any task of array
 * `123`, or task `123_4` (also when it is still inside a pending record `123_[4-9]`).
 */
export function observationMatches(o: JobObservation, id: string): boolean {
  if (o.id === id || o.jobId === id || o.arrayJobId === id) return true;
  const m = /^(\d+)_(\d+)$/.exec(id);
  if (!m || o.arrayJobId !== m[1]) return false;
  const task = Number(m[2]);
  return o.arrayTaskId === task || (o.pendingTasks?.includes(task) ?? false);
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function describeIds(ids: readonly string[]): string {
  if (ids.length === 1) return `job ${ids[0]}`;
  const shown = ids.slice(0, 5).join(", ");
  return `jobs ${shown}${ids.length > 5 ? `, ... (${ids.length} in all)` : ""}`;
}

function tail(text: string): string {
  const t = text.trim();
  return t.length > STDERR_TAIL_CHARS ? `...${t.slice(-STDERR_TAIL_CHARS)}` : t;
}

/** Builds the SchedulerError for a failed command: what, SLURM's own words, what to do. */
function commandError(
  argv: readonly string[],
  r: CommandResult,
  timeoutMs: number,
  text: { what: string; fix: string },
): SchedulerError {
  const cmd = `\`${shellJoin(argv)}\``;
  if (r.timedOut) {
    return new SchedulerError(
      `${text.what} failed: ${cmd} did not finish within ${Math.round(timeoutMs / 1000)} s. ` +
        "SLURM is down or overloaded: try again in a few minutes (`scontrol ping` shows " +
        "whether slurmctld answers).",
      { argv, exitCode: r.code, stderr: tail(r.stderr), transient: true },
    );
  }
  if (r.code === 127) {
    return new SchedulerError(
      `${text.what} failed: \`${argv[0]}\` was not found. Is SLURM installed on this machine ` +
        `and on PATH?`,
      { argv, exitCode: r.code, stderr: tail(r.stderr), transient: false },
    );
  }
  const stderr = tail(r.stderr);
  const transient = isTransientSlurmError(stderr);
  const said = stderr === "" ? "(no error message)" : stderr;
  const fix = !transient
    ? text.fix
    : /Submit\w*Limit|job submit limit/i.test(stderr)
    ? "Wait until some of your jobs have finished, or submit fewer at once."
    : "SLURM is down or overloaded: try again in a few minutes (`scontrol ping` shows whether " +
      "slurmctld answers).";
  return new SchedulerError(
    `${text.what} failed: ${cmd} exited with ${r.code}:\n${said}${fix ? `\n${fix}` : ""}`,
    { argv, exitCode: r.code, stderr, transient },
  );
}

function accountingIsMissing(e: SchedulerError): boolean {
  return e.details.exitCode === 127 ||
    /accounting storage is disabled|command not found|No such file or directory/i.test(
      e.details.stderr ?? "",
    );
}

function parseOrThrow<T>(parse: () => T, argv: readonly string[], r: CommandResult): T {
  try {
    return parse();
  } catch (e) {
    if (!(e instanceof SlurmParseError)) throw e;
    throw new SchedulerError(
      `autoexp could not read the output of \`${shellJoin(argv)}\`: ${e.message}. ` +
        `Please report this with your SLURM version (\`sinfo --version\`).`,
      { argv, exitCode: r.code, stderr: tail(r.stderr), transient: false },
      { cause: e },
    );
  }
}
