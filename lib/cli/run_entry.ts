/**
 * `autoexp run-entry --sweep FILE --index N`: the dispatcher inside every job. It reads entry N
 * (a few small reads through the run index), creates the run's directories, records a start
 * marker, runs the entry's argv without a shell with its environment, forwards signals, records
 * the end marker (exit code, signal) atomically, and exits with the child's code.
 *
 * Kept free of the config and CLI libraries: it starts once per job on compute nodes.
 *
 * @module
 */
import {
  entryOfRunJson,
  entrySpan,
  parseRunIndexHeader,
  RUN_INDEX_FILE,
  type RunEntry,
  type RunIndexHeader,
  runSpan,
} from "../plan/sweep_file.ts";
import { DenoFileSystem } from "../runtime/fs.ts";
import { fileSystemProblem } from "../errors.ts";

const FORWARDED: Deno.Signal[] = ["SIGUSR1", "SIGUSR2", "SIGTERM", "SIGINT", "SIGHUP", "SIGCONT"];
const SIGNAL_NUMBERS: Record<string, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGUSR2: 12,
  SIGTERM: 15,
  SIGCONT: 18,
};

/** Attempt marker written by run-entry (see docs/sweep-json.md). */
export interface AttemptMarker {
  schema: 1;
  run: string;
  index: number;
  job_id: string;
  array_job_id: string | null;
  array_task_id: string | null;
  restart_count: number;
  host: string;
  pid: number;
  started_at: string;
  ended_at?: string;
  exit_code?: number;
  signal?: string | null;
  forwarded_signals?: string[];
  state: "running" | "completed" | "failed";
  log_path: string;
  fingerprint: string;
  /** The comment tag of the submission that started this job (AUTOEXP_TAG). */
  tag: string | null;
}

function fail(message: string, code = 2): never {
  console.error(`autoexp run-entry: ${message}`);
  Deno.exit(code);
}

function parseArgs(args: string[]): { sweep: string; index: number; dryRun: boolean } {
  let sweep = "";
  let index = NaN;
  let dryRun = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--sweep") sweep = args[++i] ?? "";
    else if (a.startsWith("--sweep=")) sweep = a.slice(8);
    else if (a === "--index") index = Number(args[++i]);
    else if (a.startsWith("--index=")) index = Number(a.slice(8));
    else if (a === "--dry-run") dryRun = true;
    else if (a === "-h" || a === "--help") {
      console.log(
        "Usage: autoexp run-entry --sweep FILE --index N [--dry-run]\n\n" +
          "Runs entry N of a planned sweep (what every job script calls). --dry-run prints the\n" +
          "command and environment instead of running it.",
      );
      Deno.exit(0);
    } else fail(`unknown argument "${a}" (usage: autoexp run-entry --sweep FILE --index N)`);
  }
  if (!sweep) fail("missing --sweep FILE");
  if (!Number.isInteger(index) || index < 0) fail("--index must be a non-negative integer");
  return { sweep, index, dryRun };
}

/**
 * Reads entry `index` of the sweep whose `sweep.json` is `sweepFile`: from the entries frozen at
 * submission (`$AUTOEXP_ENTRIES`), else its line of `sweep.json` through the run index, else
 * (sweeps planned by earlier versions) from `sweep.entries.jsonl`, else from `sweep.json` whole.
 */
export async function readEntry(sweepFile: string, index: number): Promise<RunEntry> {
  const dir = sweepFile.replace(/\/[^/]*$/, "") || ".";
  // The entries frozen when this job was submitted (a later plan may have changed sweep.json).
  const frozen = Deno.env.get("AUTOEXP_ENTRIES");
  if (frozen) return await readEntryFile(frozen, sweepFile, index);
  return await readIndexedRun(`${dir}/${RUN_INDEX_FILE}`, sweepFile, index) ??
    await readEntryFile(`${dir}/sweep.entries.jsonl`, sweepFile, index);
}

/** `len` bytes of an open file from `pos` (fewer at its end). */
async function readAt(file: Deno.FsFile, pos: number, len: number): Promise<Uint8Array> {
  await file.seek(pos, Deno.SeekMode.Start);
  const buf = new Uint8Array(len);
  let off = 0;
  while (off < len) {
    const n = await file.read(buf.subarray(off));
    if (n === null) break;
    off += n;
  }
  return buf.subarray(0, off);
}

/**
 * The entry through the run index (`sweep.runs.idx`); null when there is none, or when it does
 * not match `sweep.json` (a plan rewriting both just now): the caller then reads the sweep whole.
 */
async function readIndexedRun(
  idxPath: string,
  sweepFile: string,
  index: number,
): Promise<RunEntry | null> {
  let idx: Deno.FsFile;
  try {
    idx = await Deno.open(idxPath, { read: true });
  } catch {
    return null;
  }
  let span;
  let header: RunIndexHeader;
  try {
    let head = await readAt(idx, 0, 4096);
    let parsed = parseRunIndexHeader(head);
    if (parsed && "need" in parsed) {
      parsed = parseRunIndexHeader(head = await readAt(idx, 0, parsed.need));
    }
    if (!parsed || "need" in parsed) return null;
    header = parsed.header;
    if (index >= header.count) fail(`sweep ${sweepFile} has no entry ${index}`);
    span = runSpan(await readAt(idx, parsed.recordsAt + index * 16, 16));
    if (!span) fail(`sweep ${sweepFile} has no entry ${index}`);
  } finally {
    idx.close();
  }
  const file = await Deno.open(sweepFile, { read: true });
  try {
    const text = new TextDecoder().decode(await readAt(file, span.start, span.end - span.start));
    const entry = entryOfRunJson(text, header);
    return entry.index === index ? entry : null;
  } catch {
    return null;
  } finally {
    file.close();
  }
}

/** Entry `index` from an entries file (`*.jsonl` and its `.idx`), else from the sweep whole. */
async function readEntryFile(
  jsonlPath: string,
  sweepFile: string,
  index: number,
): Promise<RunEntry> {
  let idx: Uint8Array;
  try {
    idx = await Deno.readFile(jsonlPath.replace(/\.jsonl$/, ".idx"));
  } catch {
    // Hand-made sweeps (or a run index that did not match): the full sweep.json.
    const plan = JSON.parse(await Deno.readTextFile(sweepFile));
    const run = plan.runs?.find((r: { index: number }) => r.index === index);
    if (!run) fail(`sweep ${sweepFile} has no entry ${index}`);
    return {
      ...run,
      sweep_id: plan.sweep.id,
      sweep_dir: plan.sweep.dir,
      kind: plan.groups.find((g: { id: string }) => g.id === run.group)?.kind ?? "single",
    };
  }
  const span = entrySpan(idx, index);
  if (!span || span.end <= span.start + 1) fail(`sweep ${sweepFile} has no entry ${index}`);
  const file = await Deno.open(jsonlPath, { read: true });
  try {
    const buf = await readAt(file, span.start, span.end - span.start);
    const entry = JSON.parse(new TextDecoder().decode(buf));
    if (entry?.index !== index) {
      throw new Error(
        `entry file ${jsonlPath} is inconsistent (asked for entry ${index}, found ${entry?.index})`,
      );
    }
    return entry;
  } finally {
    file.close();
  }
}

/** Replaces `${env:VAR}` in argv tokens with the job's environment. */
export function expandEnvRefs(token: string, env: Record<string, string>): string {
  return token.replace(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => env[name] ?? "");
}

/**
 * Expands `${env:VAR}` in argv. A container passthrough pair `--env VAR=${env:VAR}` whose value
 * has a comma, quote or backslash (which `apptainer --env` splits or mangles) is passed as
 * APPTAINERENV_VAR / SINGULARITYENV_VAR in the environment instead.
 */
export function containerEnvSafe(argv: readonly string[], env: Record<string, string>): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const next = argv[i + 1];
    const m = argv[i] === "--env" && next
      ? next.match(/^([A-Za-z_][A-Za-z0-9_]*)=\$\{env:\1\}$/)
      : null;
    if (m) {
      const value = env[m[1]] ?? "";
      if (/[,"\\]/.test(value)) {
        env[`APPTAINERENV_${m[1]}`] = value;
        env[`SINGULARITYENV_${m[1]}`] = value;
        i++;
        continue;
      }
    }
    out.push(expandEnvRefs(argv[i], env));
  }
  return out;
}

const files = new DenoFileSystem();

/** Markers are written atomically and synced (temp file + fsync + rename). */
function writeJsonAtomic(path: string, data: unknown): Promise<void> {
  return files.writeTextFile(path, JSON.stringify(data, null, 2) + "\n");
}

/**
 * Seed 001's job environment: `EXPERIMENT_NAME` (the stable run name), `OUTPUT_DIR` (the run
 * directory) and `CHECKPOINT_DIR` (`<run dir>/checkpoints`), next to autoexp's `AUTOEXP_*`.
 */
export function seedEnv(entry: Pick<RunEntry, "name" | "runDir">): Record<string, string> {
  return {
    EXPERIMENT_NAME: entry.name,
    OUTPUT_DIR: entry.runDir,
    CHECKPOINT_DIR: `${entry.runDir}/checkpoints`,
  };
}

/**
 * Points `project.log_path_current` at this attempt's log (replacing the link an earlier attempt
 * made). A failure is said and does not stop the job: the link is a convenience.
 */
async function linkNewestLog(link: string, logPath: string): Promise<void> {
  const tmp = `${link}.${Deno.pid}.tmp`;
  try {
    await Deno.mkdir(link.slice(0, link.lastIndexOf("/")) || "/", { recursive: true });
    await Deno.remove(tmp).catch(() => {});
    await Deno.symlink(logPath, tmp);
    await Deno.rename(tmp, link);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    console.error(
      `autoexp run-entry: cannot point project.log_path_current ${link} at ${logPath}: ${
        (e as Error).message
      }`,
    );
  }
}

/** Runs the dispatcher; returns the exit code. */
export async function runEntry(args: string[]): Promise<number> {
  const { sweep, index, dryRun } = parseArgs(args);
  let entry: RunEntry;
  try {
    entry = await readEntry(sweep, index);
  } catch (e) {
    fail(`cannot read entry ${index} of ${sweep}: ${(e as Error).message}`);
  }
  const penv = Deno.env.toObject();
  const jobId = penv.SLURM_JOB_ID ?? `local-${Deno.pid}`;
  const restart = Number(penv.SLURM_RESTART_COUNT ?? "0") || 0;
  const childEnv: Record<string, string> = {
    ...penv,
    // Seed 001's job environment: the stable run name and directories (the config's own
    // environment, below, wins over these).
    ...seedEnv(entry),
    ...entry.env,
    AUTOEXP_RUN: entry.name,
    AUTOEXP_RUN_DIR: entry.runDir,
    AUTOEXP_SWEEP_DIR: entry.sweep_dir,
    AUTOEXP_INDEX: String(entry.index),
    AUTOEXP_JOB_ID: jobId,
    AUTOEXP_ATTEMPT_LOG: entry.logPath.replace("{job_id}", jobId),
  };
  const argv = containerEnvSafe(entry.argv, childEnv);
  if (dryRun) {
    console.log(
      JSON.stringify({ run: entry.name, argv, env: entry.env, workdir: entry.workdir }, null, 2),
    );
    return 0;
  }
  const logs = `${entry.runDir}/logs`;
  const attempts = `${entry.runDir}/attempts`;
  await Deno.mkdir(logs, { recursive: true });
  await Deno.mkdir(attempts, { recursive: true });
  await Deno.mkdir(entry.workdir, { recursive: true });
  // A stage's generated files (rendered at plan time from the run's config), before it starts.
  for (const f of entry.files ?? []) {
    const path = `${entry.runDir}/${f.path}`;
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(path, f.text);
  }
  const logPath = entry.logPath.replace("{job_id}", jobId);
  const logDir = logPath.slice(0, logPath.lastIndexOf("/"));
  if (logDir && logDir !== logs) await Deno.mkdir(logDir, { recursive: true }).catch(() => {});
  if (entry.kind === "array" && penv.SLURM_ARRAY_JOB_ID && penv.SLURM_ARRAY_TASK_ID) {
    const target =
      `${entry.sweep_dir}/logs/${entry.group}/${penv.SLURM_ARRAY_JOB_ID}_${penv.SLURM_ARRAY_TASK_ID}.log`;
    try {
      await Deno.symlink(target, logPath);
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) {
        console.error(`autoexp run-entry: cannot link ${logPath}: ${e}`);
      }
    }
  }
  if (entry.logLink) await linkNewestLog(entry.logLink, logPath);
  const marker: AttemptMarker = {
    schema: 1,
    run: entry.name,
    index: entry.index,
    job_id: jobId,
    array_job_id: penv.SLURM_ARRAY_JOB_ID ?? null,
    array_task_id: penv.SLURM_ARRAY_TASK_ID ?? null,
    restart_count: restart,
    host: Deno.hostname(),
    pid: Deno.pid,
    started_at: new Date().toISOString(),
    state: "running",
    log_path: logPath,
    fingerprint: entry.fingerprint,
    tag: penv.AUTOEXP_TAG ?? null,
    forwarded_signals: [],
  };
  const markerPath = `${attempts}/${jobId}.${restart}.json`;
  try {
    await writeJsonAtomic(markerPath, marker);
  } catch (e) {
    // Nothing runs unrecorded: without its marker the monitor could not tell this run's end.
    console.error(
      `autoexp run-entry: ${
        fileSystemProblem(e) ?? `cannot write ${markerPath}: ${(e as Error).message}`
      }; the command was not started`,
    );
    return 1;
  }
  console.error(
    `autoexp run-entry: run "${entry.name}" (index ${entry.index}), job ${jobId}, on ${marker.host}`,
  );

  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(argv[0], {
      args: argv.slice(1),
      cwd: entry.workdir,
      env: childEnv,
      clearEnv: true,
      stdin: "null",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn();
  } catch (e) {
    const code = e instanceof Deno.errors.NotFound ? 127 : 126;
    console.error(
      `autoexp run-entry: cannot start ${JSON.stringify(argv[0])}: ${(e as Error).message}`,
    );
    await writeJsonAtomic(markerPath, {
      ...marker,
      state: "failed",
      exit_code: code,
      signal: null,
      ended_at: new Date().toISOString(),
    });
    return code;
  }
  const handlers: [Deno.Signal, () => void][] = [];
  for (const sig of FORWARDED) {
    const h = () => {
      marker.forwarded_signals!.push(sig);
      try {
        child.kill(sig);
      } catch { /* child already gone */ }
    };
    try {
      Deno.addSignalListener(sig, h);
      handlers.push([sig, h]);
    } catch { /* signal not supported here */ }
  }
  const status = await child.status;
  for (const [sig, h] of handlers) Deno.removeSignalListener(sig, h);
  const code = status.signal ? 128 + (SIGNAL_NUMBERS[status.signal] ?? 0) : status.code;
  try {
    await writeJsonAtomic(markerPath, {
      ...marker,
      state: code === 0 ? "completed" : "failed",
      exit_code: code,
      signal: status.signal ?? null,
      ended_at: new Date().toISOString(),
    });
  } catch (e) {
    // The command's own exit code still ends the job: the scheduler records it.
    console.error(
      `autoexp run-entry: ${
        fileSystemProblem(e) ?? `cannot write ${markerPath}: ${(e as Error).message}`
      }; the command ended with exit code ${code}`,
    );
  }
  return code;
}
