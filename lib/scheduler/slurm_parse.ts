/**
 * Pure parsers of SLURM command output (`sbatch --parsable`, `squeue --Format`, `sacct
 * --parsable2`, `scontrol show config`, `sacctmgr show assoc`) and the classification of SLURM
 * states and error messages. Nothing here runs a command: {@link SlurmScheduler} in `slurm.ts`
 * does that and hands the text over. Every format was checked against real SLURM 22.05 output
 * (`tests/testdata/slurm/`).
 *
 * Formats autoexp asks for:
 * - squeue: `--noheader --states=all --Format=` {@link SQUEUE_FIELDS} each with a `:|` suffix
 *   (`JobID:|` means no padding, no truncation, `|` after the field, so every line ends with
 *   `|`), run with `SLURM_BITSTR_LEN=0` so long array task expressions are not cut at 64 bytes.
 *   `--Format` is used rather than `--format` because only it has `RestartCnt` and `exit_code`.
 * - sacct: `--noheader --parsable2 --allocations --format=` {@link SACCT_FIELDS}.
 *
 * In both, the comment is the LAST field, so a comment may contain the separator `|`. A job
 * name may contain it too: the parser then tries each way of giving the extra `|` to the name
 * or the comment and keeps the one whose fixed columns (state, exit code, restart count) are
 * well formed.
 *
 * Times are returned as SLURM prints them (`2026-11-22T21:28:02`, the cluster's local time, no
 * zone). A pending job's start time (an estimate), the "start" squeue shows for a job cancelled
 * before it got nodes (the cancel time), and an unfinished job's end time (start plus time
 * limit) are dropped.
 *
 * @module
 */

import { FINAL_STATES, type JobObservation, type JobState } from "./types.ts";

/** The squeue `--Format` fields autoexp asks for, in order; the comment must stay last. */
export const SQUEUE_FIELDS = [
  "JobArrayID",
  "JobID",
  "ArrayJobID",
  "ArrayTaskID",
  "Name",
  "State",
  "Reason",
  "StartTime",
  "EndTime",
  "TimeLimit",
  "NodeList",
  "RestartCnt",
  "exit_code",
  "Comment",
] as const;

/** The sacct `--format` fields autoexp asks for, in order; the comment must stay last. */
export const SACCT_FIELDS = [
  "JobIDRaw",
  "JobID",
  "JobName",
  "State",
  "ExitCode",
  "Reason",
  "Start",
  "End",
  "NodeList",
  "Comment",
] as const;

/**
 * How a line of squeue or sacct output is laid out: the field names in order, and whether every
 * field is followed by `|` (squeue `--Format` with `:|` suffixes) or the fields are only
 * separated by it (squeue `--format` with `%i|%A|...`, sacct `--parsable2`).
 */
export interface OutputLayout {
  readonly fields: readonly string[];
  readonly terminated: boolean;
}

/** The layout of autoexp's own squeue command (see {@link renderSqueueFormat}). */
export const SQUEUE_LAYOUT: OutputLayout = { fields: SQUEUE_FIELDS, terminated: true };

/** The layout of autoexp's own sacct command. */
export const SACCT_LAYOUT: OutputLayout = { fields: SACCT_FIELDS, terminated: false };

/**
 * Renders the value of squeue's `--Format` option for `fields`.
 *
 * @example
 * renderSqueueFormat(["JobID", "Comment"]); // "JobID:|,Comment:|"
 */
export function renderSqueueFormat(fields: readonly string[] = SQUEUE_FIELDS): string {
  return fields.map((f) => `${f}:|`).join(",");
}

/** Renders the value of sacct's `--format` option for `fields`. */
export function renderSacctFormat(fields: readonly string[] = SACCT_FIELDS): string {
  return fields.join(",");
}

// ---------------------------------------------------------------------------------------------
// sbatch

/** What `sbatch --parsable` printed. */
export interface SbatchParsable {
  readonly jobId: string;
  /** Only on federated or multi-cluster setups: `123;cluster`. */
  readonly cluster?: string;
}

/**
 * Parses the stdout of `sbatch --parsable`: `123` or `123;cluster`. Lines before it (some
 * site plugins print notices on stdout) are ignored. Returns `undefined` when no line is a job
 * id.
 *
 * @example
 * parseSbatchParsable("123\n"); // { jobId: "123" }
 * parseSbatchParsable("123;lumi\n"); // { jobId: "123", cluster: "lumi" }
 */
export function parseSbatchParsable(stdout: string): SbatchParsable | undefined {
  const lines = stdout.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== "");
  for (let i = lines.length - 1; i >= 0; i--) {
    const m = /^(\d+)(?:;(\S+))?$/.exec(lines[i]);
    if (m) return m[2] === undefined ? { jobId: m[1] } : { jobId: m[1], cluster: m[2] };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// States

const STATE_TABLE: Readonly<Record<string, JobState>> = {
  PENDING: "pending",
  PD: "pending",
  RESV_DEL_HOLD: "pending",
  RD: "pending",
  CONFIGURING: "running",
  CF: "running",
  RUNNING: "running",
  R: "running",
  COMPLETING: "running",
  CG: "running",
  STAGE_OUT: "running",
  SO: "running",
  SIGNALING: "running",
  SI: "running",
  RESIZING: "running",
  RS: "running",
  SUSPENDED: "suspended",
  S: "suspended",
  STOPPED: "suspended",
  ST: "suspended",
  COMPLETED: "completed",
  CD: "completed",
  FAILED: "failed",
  F: "failed",
  DEADLINE: "failed",
  DL: "failed",
  SPECIAL_EXIT: "failed",
  SE: "failed",
  TIMEOUT: "timeout",
  TO: "timeout",
  OUT_OF_MEMORY: "out_of_memory",
  OOM: "out_of_memory",
  NODE_FAIL: "node_fail",
  NF: "node_fail",
  BOOT_FAIL: "node_fail",
  BF: "node_fail",
  PREEMPTED: "preempted",
  PR: "preempted",
  CANCELLED: "cancelled",
  CA: "cancelled",
  REVOKED: "cancelled",
  RV: "cancelled",
  REQUEUED: "requeued",
  RQ: "requeued",
  REQUEUE_FED: "requeued",
  RF: "requeued",
  REQUEUE_HOLD: "requeued",
  RH: "requeued",
};

/**
 * Maps a SLURM state (squeue's `%T`/`State`, sacct's `State`, scontrol's `JobState`, or the
 * compact `%t` codes) to autoexp's normalised {@link JobState}.
 *
 * - `CANCELLED by 0` (sacct names who cancelled) and `CANCELLED+` (sacct's truncation mark)
 *   are `cancelled`.
 * - `COMPLETING`, `CONFIGURING`, `STAGE_OUT` count as `running`: the job holds its nodes and
 *   its final state is not known yet.
 * - `BOOT_FAIL` is `node_fail`; `DEADLINE` and `SPECIAL_EXIT` are `failed`; `REQUEUE_HOLD` and
 *   `REQUEUE_FED` are `requeued`; `REVOKED` (federation) is `cancelled`.
 * - `FAILED` with reason `OutOfMemory` is `out_of_memory`.
 * - The reason never turns a pending job into something else: `PENDING` with
 *   `DependencyNeverSatisfied` (or `JobHeldUser`, `BeginTime`, ...) stays `pending`; deciding
 *   that such a job is blocked is the monitor's policy, which reads
 *   {@link JobObservation.reason}.
 * - Anything unknown is `unknown` (the raw state is kept beside it).
 *
 * @example
 * classifySlurmState("CANCELLED by 0"); // "cancelled"
 * classifySlurmState("PENDING", "DependencyNeverSatisfied"); // "pending"
 */
export function classifySlurmState(raw: string, reason = ""): JobState {
  const base = normaliseStateName(raw);
  const state = STATE_TABLE[base] ?? "unknown";
  if (state === "failed" && /^OutOfMemory$/i.test(reason.trim())) return "out_of_memory";
  return state;
}

function normaliseStateName(raw: string): string {
  return raw.trim().toUpperCase().replace(/\s+BY\s+\d+$/, "").replace(/\+$/, "").trim();
}

// ---------------------------------------------------------------------------------------------
// Array task expressions

/**
 * Expands a SLURM array task expression to the task ids it names: `2-4,7%2` -> `[2, 3, 4, 7]`,
 * `1-49:2%1` -> `[1, 3, ..., 49]`, `[0-3]` -> `[0, 1, 2, 3]`. The throttle (`%N`) is ignored.
 * Returns `undefined` for an expression SLURM cut short (`1,2,...`; it does so past 64 bytes
 * unless `SLURM_BITSTR_LEN=0`) or that does not parse.
 */
export function expandArrayTasks(expr: string): number[] | undefined {
  let e = expr.trim();
  if (e.startsWith("[") && e.endsWith("]")) e = e.slice(1, -1);
  e = e.replace(/%\d+$/, "");
  if (e === "" || e.includes("...")) return undefined;
  const out: number[] = [];
  for (const part of e.split(",")) {
    const m = /^(\d+)(?:-(\d+)(?::(\d+))?)?$/.exec(part);
    if (!m) return undefined;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    const step = m[3] === undefined ? 1 : Number(m[3]);
    if (hi < lo || step < 1) return undefined;
    for (let t = lo; t <= hi; t += step) out.push(t);
  }
  return out;
}

/** Splits `123_[2-4%2]` / `123_7` / `123` into the array job id and the task part. */
function splitArrayId(id: string): { base: string; task?: string } {
  const m = /^(\d+)_(.+)$/.exec(id);
  return m ? { base: m[1], task: m[2] } : { base: id };
}

// ---------------------------------------------------------------------------------------------
// Row splitting

/** Fields that may contain `|`; the reason may contain ", " but never `|`. */
const FREE_TEXT_FIELDS = new Set(["name", "jobname", "comment"]);

const FIELD_SHAPES: Readonly<Record<string, RegExp>> = {
  state: /^[A-Z_]+(?: by \d+)?\+?$/,
  exit_code: /^(?:\d+|N\/A)?$/,
  exitcode: /^(?:\d+:\d+)?$/,
  restartcnt: /^\d*$/,
  jobid: /^\d/,
  jobidraw: /^\d/,
  arrayjobid: /^\d/,
};

/**
 * Splits one line into named cells. When there are more `|` than fields allow, the extra
 * separators belong to free-text fields (name, comment): the comment (last) gets them first,
 * unless that leaves a fixed column malformed.
 */
function splitRow(line: string, layout: OutputLayout): Record<string, string> | undefined {
  let text = line;
  if (layout.terminated) {
    if (!text.endsWith("|")) return undefined;
    text = text.slice(0, -1);
  }
  const cells = text.split("|");
  const fields = layout.fields;
  const extra = cells.length - fields.length;
  if (extra < 0) return undefined;
  const free = fields
    .map((f, i) => (FREE_TEXT_FIELDS.has(f.toLowerCase()) ? i : -1))
    .filter((i) => i >= 0);
  if (extra > 0 && free.length === 0) return undefined;
  let fallback: Record<string, string> | undefined;
  for (const shares of distributions(extra, free.length)) {
    const row: Record<string, string> = {};
    let c = 0;
    fields.forEach((f, i) => {
      const k = free.indexOf(i);
      const take = 1 + (k >= 0 ? shares[k] : 0);
      row[f.toLowerCase()] = cells.slice(c, c + take).join("|");
      c += take;
    });
    fallback ??= row;
    if (wellFormed(row)) return row;
  }
  return fallback;
}

function wellFormed(row: Record<string, string>): boolean {
  for (const [name, shape] of Object.entries(FIELD_SHAPES)) {
    if (name in row && !shape.test(row[name])) return false;
  }
  return true;
}

/** All ways to share `n` extra cells among `slots` fields, the last slot first. */
function* distributions(n: number, slots: number): Generator<number[]> {
  if (slots === 0) {
    if (n === 0) yield [];
    return;
  }
  if (slots === 1) {
    yield [n];
    return;
  }
  for (let first = 0; first <= n; first++) {
    for (const rest of distributions(n - first, slots - 1)) yield [first, ...rest];
  }
}

/** `123.batch`, `123_4.extern`, `123.0`, `123+1.batch` (not `123_[1,2,...]`). */
function isStepId(id: string): boolean {
  return /^\d+(?:[_+](?:\d+|\[[^\]]*\]?))?\.\w+$/.test(id.trim());
}

function textLines(text: string): string[] {
  return text.split("\n").map((l) => l.replace(/\r$/, "")).filter((l) => l.trim() !== "");
}

/** An error in SLURM output that autoexp cannot read; the adapter wraps it with the argv. */
export class SlurmParseError extends Error {
  override name = "SlurmParseError";
}

// ---------------------------------------------------------------------------------------------
// Shared cleaning

const NO_VALUE = new Set(["", "N/A", "NONE", "UNKNOWN", "(NULL)", "NONE ASSIGNED", "INVALID"]);

function value(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const t = v.trim();
  return NO_VALUE.has(t.toUpperCase()) ? undefined : t;
}

function intValue(v: string | undefined): number | undefined {
  const t = value(v);
  return t !== undefined && /^\d+$/.test(t) ? Number(t) : undefined;
}

/** Fields common to squeue and sacct rows, before array handling. */
interface RowFacts {
  id: string;
  jobId: string;
  name: string;
  rawState: string;
  reason: string;
  exitCode?: number;
  signal?: number;
  comment?: string;
  start?: string;
  end?: string;
  nodeList?: string;
  restarts?: number;
  /** The array job id, when the row belongs to an array. */
  arrayJobId?: string;
  /** The task part: `7`, or an expression `2-4%2` for a not expanded record. */
  task?: string;
  /** The job never got nodes (its node list is empty): a start time shown is not a start. */
  neverRan?: boolean;
}

function toObservations(f: RowFacts, source: "squeue" | "sacct"): JobObservation[] {
  const state = classifySlurmState(f.rawState, f.reason);
  const final = FINAL_STATES.has(state);
  const started = state !== "pending" && !f.neverRan;
  const base: Omit<JobObservation, "id" | "jobId"> = {
    name: f.name,
    state,
    rawState: f.rawState,
    reason: f.reason,
    source,
    ...(final && f.exitCode !== undefined ? { exitCode: f.exitCode } : {}),
    ...(final && f.signal !== undefined ? { signal: f.signal } : {}),
    ...(f.comment !== undefined ? { comment: f.comment } : {}),
    ...(started && f.start !== undefined ? { start: f.start } : {}),
    ...(final && f.end !== undefined ? { end: f.end } : {}),
    ...(f.nodeList !== undefined ? { nodeList: f.nodeList } : {}),
    ...(f.restarts !== undefined ? { restarts: f.restarts } : {}),
  };
  if (f.arrayJobId === undefined || f.task === undefined) {
    return [{ id: f.id, jobId: f.jobId, ...base }];
  }
  if (/^\d+$/.test(f.task)) {
    return [{
      id: `${f.arrayJobId}_${f.task}`,
      jobId: f.jobId,
      arrayJobId: f.arrayJobId,
      arrayTaskId: Number(f.task),
      ...base,
    }];
  }
  // A record standing for several tasks that never started (`123_[2-4%2]`).
  const tasks = expandArrayTasks(f.task);
  if (state === "pending" || tasks === undefined) {
    return [{
      id: f.id,
      jobId: f.jobId,
      arrayJobId: f.arrayJobId,
      ...(tasks !== undefined ? { pendingTasks: tasks } : {}),
      ...base,
    }];
  }
  // Not pending any more (the whole array was cancelled while these waited): one observation
  // per task, so each gets its final state. They never had a job id of their own.
  return tasks.map((t) => ({
    id: `${f.arrayJobId}_${t}`,
    jobId: f.jobId,
    arrayJobId: f.arrayJobId,
    arrayTaskId: t,
    ...base,
  }));
}

// ---------------------------------------------------------------------------------------------
// squeue

/**
 * Parses `squeue --noheader --Format=...` (or `--format=%i|%A|...`) output laid out as `layout`
 * (default: autoexp's own {@link SQUEUE_LAYOUT}). Field names are squeue's `--Format` names
 * (`JobArrayID`, `JobID`, `ArrayJobID`, `ArrayTaskID`, `Name`, `State`, `Reason`, `StartTime`,
 * `EndTime`, `NodeList`, `RestartCnt`, `exit_code`, `Comment`; others are ignored).
 *
 * Arrays: a running or finished task is `123_7` with its own job id (the last task reuses the
 * array's id); the tasks that have not started are ONE record `123_[8-9%2]`, returned with
 * `pendingTasks` filled. If such a record is no longer pending (the array was cancelled while
 * they waited) it is returned as one observation per task.
 *
 * `exit_code` is the raw wait status: 1792 -> exit code 7, 15 -> signal 15. Exit codes and end
 * times are only reported for finished jobs. A comment `(null)` is no comment.
 *
 * @throws {SlurmParseError} for a line that does not fit the layout.
 */
export function parseSqueue(text: string, layout: OutputLayout = SQUEUE_LAYOUT): JobObservation[] {
  const out: JobObservation[] = [];
  for (const line of textLines(text)) {
    const row = splitRow(line, layout);
    if (!row) throw new SlurmParseError(`cannot read this squeue line: "${line}"`);
    const shown = row["jobarrayid"] ?? row["jobid"] ?? "";
    const taskField = value(row["arraytaskid"]);
    const split = splitArrayId(shown);
    const arrayJobId = taskField !== undefined
      ? (value(row["arrayjobid"]) ?? split.base)
      : split.task !== undefined
      ? split.base
      : undefined;
    const task = taskField ?? split.task?.replace(/^\[(.*)\]$/, "$1");
    const status = intValue(row["exit_code"]);
    const facts: RowFacts = {
      id: shown,
      jobId: value(row["jobid"]) ?? split.base,
      name: row["name"] ?? "",
      rawState: (row["state"] ?? "").trim(),
      reason: (row["reason"] ?? "").trim(),
      ...(status !== undefined ? { exitCode: (status >> 8) & 0xff, signal: status & 0x7f } : {}),
      comment: value(row["comment"]) === undefined ? undefined : row["comment"],
      start: value(row["starttime"]),
      end: value(row["endtime"]),
      nodeList: value(row["nodelist"]),
      restarts: intValue(row["restartcnt"]),
      neverRan: "nodelist" in row && value(row["nodelist"]) === undefined,
      arrayJobId,
      task,
    };
    out.push(...toObservations(facts, "squeue"));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// sacct

/**
 * Parses `sacct --parsable2 [--noheader] --format=...` output laid out as `layout` (default:
 * autoexp's own {@link SACCT_LAYOUT}; field names as in sacct's `--format`: `JobIDRaw`, `JobID`,
 * `JobName`, `State`, `ExitCode`, `Reason`, `Comment`, `Start`, `End`, `NodeList`).
 *
 * Step lines (`123.batch`, `123.extern`, `123.0`) are skipped; a header line is skipped. When a
 * job id appears twice (`--duplicates`, or an id SLURM handed out again) the last line wins.
 * `ExitCode` `7:0` gives exit code 7, `0:15` signal 15 (only for finished jobs). Pending array
 * tasks come as one record `123_[1-5%1]`, handled as in {@link parseSqueue}. Start `Unknown` /
 * `None` and NodeList `None assigned` mean unknown. Note that sacct shows the comment only once
 * the job has ended (`AccountingStoreFlags=job_comment`).
 *
 * @throws {SlurmParseError} for a line that does not fit the layout.
 */
export function parseSacct(text: string, layout: OutputLayout = SACCT_LAYOUT): JobObservation[] {
  const header = layout.fields.map((f) => f.toLowerCase()).join("|");
  const byId = new Map<string, JobObservation[]>();
  for (const line of textLines(text)) {
    if (line.toLowerCase() === header) continue;
    const row = splitRow(line, layout);
    if (!row) throw new SlurmParseError(`cannot read this sacct line: "${line}"`);
    const shown = (row["jobid"] ?? row["jobidraw"] ?? "").trim();
    const raw = (row["jobidraw"] ?? shown).trim();
    if (isStepId(raw) || isStepId(shown)) continue;
    const split = splitArrayId(shown);
    const ec = /^(\d+):(\d+)$/.exec((row["exitcode"] ?? "").trim());
    const task = split.task?.replace(/^\[(.*)\]$/, "$1");
    const facts: RowFacts = {
      id: shown,
      jobId: raw,
      name: row["jobname"] ?? "",
      rawState: (row["state"] ?? "").trim(),
      reason: (row["reason"] ?? "").trim(),
      ...(ec ? { exitCode: Number(ec[1]), signal: Number(ec[2]) } : {}),
      comment: value(row["comment"]) === undefined ? undefined : row["comment"],
      start: value(row["start"]),
      end: value(row["end"]),
      nodeList: value(row["nodelist"]),
      neverRan: "nodelist" in row && value(row["nodelist"]) === undefined,
      arrayJobId: split.task !== undefined ? split.base : undefined,
      task,
    };
    byId.set(shown, toObservations(facts, "sacct"));
  }
  return [...byId.values()].flat();
}

// ---------------------------------------------------------------------------------------------
// Errors

const TRANSIENT_PATTERNS: readonly RegExp[] = [
  /Socket timed out/i,
  /Unable to contact slurm controller/i,
  /Slurm backup controller in standby mode/i,
  /Resource temporarily unavailable/i,
  /Slurm temporarily unable to accept job/i,
  /temporarily unable/i,
  /Zero Bytes were transmitted or received/i,
  /Communication connection failure/i,
  /Connection (?:refused|reset|timed out)/i,
  /Transport endpoint is not connected/i,
  /Problem talking to the database/i,
  /slurmdbd.*(?:not responding|connection)/i,
  /\bfork\b.*(?:fail|error|Resource|Cannot allocate)/i,
  /Unable to fork/i,
  /Cannot allocate memory/i,
  /Too many open files/i,
  /(?:Assoc|QOS)(?:Grp|Max)Submit\w*Limit/,
  /MaxSubmitJobs?/i,
  /job submit limit/i,
  /Job violates accounting\/QOS policy/i,
];

/** Limits that are about the job itself, not about how many jobs are queued: retrying is useless. */
const PERMANENT_LIMIT_PATTERNS: readonly RegExp[] = [
  /(?:Assoc|QOS)(?:Grp|Max)\w*(?:Wall|Time|Cpu|CPU|Node|Mem|TRES|Gres)\w*Limit/,
  /(?:Assoc|QOS)MinTRES/,
];

const PERMANENT_PATTERNS: readonly RegExp[] = [
  /Invalid account/i,
  /invalid partition/i,
  /Invalid qos/i,
  /unrecognized option/i,
  /invalid option/i,
  /This does not look like a batch script/i,
  /Unable to open file/i,
  /DOS line breaks/i,
  /Invalid job array specification/i,
  /Invalid --\w+ specification/i,
  /Requested node configuration is not available/i,
  /Invalid generic resource/i,
  /Job dependency problem/i,
  /Invalid job id specified/i,
  /accounting storage is disabled/i,
];

/** An sbatch refusal of one of the user's settings: the config key that holds it, how to fix it. */
export interface SbatchRejection {
  /** The config key the refused setting comes from (`slurm.sbatch.partition`). */
  readonly key: string;
  /** The sbatch option (`partition`), to look its value up. */
  readonly option?: string;
  readonly hint: string;
}

const REJECTIONS: readonly (SbatchRejection & { readonly pattern: RegExp })[] = [
  {
    pattern: /invalid partition/i,
    key: "slurm.sbatch.partition",
    option: "partition",
    hint: "`sinfo -s` lists the partitions of this cluster",
  },
  {
    pattern: /Invalid account/i,
    key: "slurm.sbatch.account",
    option: "account",
    hint: "`sacctmgr -n show assoc user=$USER format=account` lists your accounts",
  },
  {
    pattern: /Invalid qos/i,
    key: "slurm.sbatch.qos",
    option: "qos",
    hint: "`sacctmgr -n show assoc user=$USER format=qos` lists the QOS you may use",
  },
  {
    pattern: /Requested time limit is invalid|time limit .*(exceeds|larger)/i,
    key: "slurm.sbatch.time",
    option: "time",
    hint: "`sinfo -o '%P %l'` shows each partition's longest time limit",
  },
  {
    pattern: /Invalid generic resource|Invalid GRES/i,
    key: "slurm.sbatch.gres",
    option: "gres",
    hint: "the GPUs or generic resources asked for do not exist here; `sinfo -o '%P %G'` " +
      "lists them",
  },
  {
    pattern: /Node count specification invalid/i,
    key: "slurm.sbatch.nodes",
    option: "nodes",
    hint: "`sinfo -s` shows how many nodes each partition has",
  },
  {
    pattern: /Requested node configuration is not available|memory specification can not be/i,
    key: "slurm.sbatch",
    hint: "no node offers the nodes, CPUs, memory, GPUs or constraint asked for together; " +
      "`sinfo -o '%P %D %c %m %G %f'` shows what the nodes have",
  },
];

/** The setting sbatch refused, when its stderr says which (a user's mistake, not a fault). */
export function sbatchRejection(stderr: string): SbatchRejection | null {
  const hit = REJECTIONS.find((r) => r.pattern.test(stderr));
  if (!hit) return null;
  const { pattern: _, ...rejection } = hit;
  return rejection;
}

/**
 * Whether a SLURM client's stderr describes a failure that may go away by itself, so retrying
 * with backoff makes sense: the controller or database not answering (`Socket timed out`,
 * `Unable to contact slurm controller`), the controller being busy (`Resource temporarily
 * unavailable`, `Slurm temporarily unable to accept job`), fork / memory failures, and
 * submission limits (`AssocMaxSubmitJobLimit`, `QOSMaxSubmitJobPerUserLimit`, `Job violates
 * accounting/QOS policy (job submit limit, ...)` — queued jobs will finish).
 *
 * Permanent: an invalid account, partition or QOS, an unrecognised option, a bad batch
 * script, an invalid array or time specification, limits about the job's own size or time
 * (`QOSMaxWallDurationPerJobLimit`), and anything not recognised (fail fast, showing SLURM's
 * own words).
 */
export function isTransientSlurmError(stderr: string): boolean {
  if (PERMANENT_LIMIT_PATTERNS.some((re) => re.test(stderr))) return false;
  if (PERMANENT_PATTERNS.some((re) => re.test(stderr))) return false;
  return TRANSIENT_PATTERNS.some((re) => re.test(stderr));
}

/**
 * A few words saying why a SLURM command failed, for retry notices: "slurmctld did not
 * answer", "the job submit limit is reached", ... Falls back to the last stderr line.
 */
export function summarizeSlurmError(stderr: string): string {
  if (
    /Unable to contact slurm controller|Socket timed out|Zero Bytes were transmitted/i.test(stderr)
  ) {
    return "slurmctld did not answer";
  }
  if (/Problem talking to the database|slurmdbd/i.test(stderr)) return "slurmdbd did not answer";
  if (/Submit\w*Limit|job submit limit|MaxSubmitJobs?/i.test(stderr)) {
    return "the job submit limit is reached";
  }
  if (/temporarily unable|Resource temporarily unavailable/i.test(stderr)) {
    return "slurmctld is busy";
  }
  if (/fork|Cannot allocate memory|Too many open files/i.test(stderr)) {
    return "the system could not start the command";
  }
  const lines = stderr.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  return lines.at(-1) ?? "the command failed";
}

/** Whether a failed submission may nevertheless have created the job (the answer was lost). */
export function isAmbiguousSubmitError(stderr: string): boolean {
  return /Socket timed out|Zero Bytes were transmitted or received/i.test(stderr);
}

/** Whether an error printed by `scancel` only says the job is already gone. */
export function isAlreadyGoneError(line: string): boolean {
  return /Invalid job id specified|already completing or completed|Job has already finished|Job\/step already completing/i
    .test(line);
}

// ---------------------------------------------------------------------------------------------
// scontrol show config, sacctmgr

/** What autoexp reads from `scontrol show config`. */
export interface ScontrolConfig {
  /** Every `Key = Value` line, as printed. */
  readonly values: Readonly<Record<string, string>>;
  /** Largest array index plus one (`--array` indices must be below it). */
  readonly maxArraySize?: number;
  /** How many jobs slurmctld keeps in memory at once. */
  readonly maxJobCount?: number;
  /** How long finished jobs stay visible to squeue, in seconds. */
  readonly minJobAgeSeconds?: number;
  /** `accounting_storage/none` means sacct cannot work. */
  readonly accountingStorageType?: string;
  readonly messageTimeoutSeconds?: number;
  readonly version?: string;
}

/**
 * Parses `scontrol show config`: `Key = Value` lines (values may be empty or `(null)`); the
 * banner and status lines are ignored.
 *
 * @example
 * parseScontrolConfig("MaxArraySize            = 10001\n").maxArraySize; // 10001
 */
export function parseScontrolConfig(text: string): ScontrolConfig {
  const values: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^([A-Za-z_][\w[\]]*)\s*=\s?(.*)$/.exec(line.trimEnd());
    if (m && !(m[1] in values)) values[m[1]] = m[2].trim();
  }
  const num = (k: string) => {
    const m = /^(\d+)/.exec(values[k] ?? "");
    return m ? Number(m[1]) : undefined;
  };
  const storage = values["AccountingStorageType"];
  return {
    values,
    ...(num("MaxArraySize") !== undefined ? { maxArraySize: num("MaxArraySize") } : {}),
    ...(num("MaxJobCount") !== undefined ? { maxJobCount: num("MaxJobCount") } : {}),
    ...(num("MinJobAge") !== undefined ? { minJobAgeSeconds: num("MinJobAge") } : {}),
    ...(num("MessageTimeout") !== undefined
      ? { messageTimeoutSeconds: num("MessageTimeout") }
      : {}),
    ...(storage ? { accountingStorageType: storage } : {}),
    ...(values["SLURM_VERSION"] ? { version: values["SLURM_VERSION"] } : {}),
  };
}

/** The sacctmgr fields autoexp asks for to learn the submit limit. */
export const SACCTMGR_ASSOC_FIELDS = [
  "Cluster",
  "Account",
  "User",
  "Partition",
  "MaxSubmit",
  "GrpSubmit",
] as const;

/**
 * Reads the job submit limit from `sacctmgr --noheader --parsable2 show assoc where user=U
 * format=Cluster,Account,User,Partition,MaxSubmit,GrpSubmit`: the smallest `MaxSubmit` or
 * `GrpSubmit` over the user's associations (autoexp does not know which account a job will be
 * charged to, so it takes the strictest), or `undefined` when none is set.
 */
export function parseSacctmgrSubmitLimit(text: string): number | undefined {
  let limit: number | undefined;
  for (const line of textLines(text)) {
    const cells = line.split("|");
    for (const c of cells.slice(4, 6)) {
      if (/^\d+$/.test(c.trim())) {
        const n = Number(c.trim());
        limit = limit === undefined ? n : Math.min(limit, n);
      }
    }
  }
  return limit;
}
