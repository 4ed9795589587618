/**
 * Shared by the monitor's end-to-end fault tests (monitor_local_test.ts, monitor_slurm_test.ts):
 * run the real CLI (`deno run -A main.ts ...`) with a deadline, in the background or to its end,
 * read a sweep's journal (`<sweep>/.autoexp/journal.jsonl`) into attempts per run, wait for a
 * journal condition, and clean up (cancel what a failed test left running, remove the outputs).
 *
 * Every sweep of a test lives under its own AUTOEXP_OUTPUT_DIR; local-scheduler jobs under its
 * own AUTOEXP_LOCAL_DIR. The scenarios both schedulers share are at the end, parameterised by
 * the scheduler and by how the run is sized (SLURM's time limits are minutes; the local
 * scheduler scales them with AUTOEXP_LOCAL_TIME_SCALE).
 */
import { parseJournal } from "../../lib/store/store.ts";
import { assert_, assertEquals, assertMatch } from "../_assert.ts";
import { ROOT, type RunResult, slurmHere, slurmWanted } from "../_helpers.ts";

/** The fault-scenario configs (tests/testdata/monitor/*.yaml). */
export const CONFIG_DIR = `${ROOT}/tests/testdata/monitor`;

/** Which scheduler a test drives. */
export type Kind = "local" | "slurm";

/** Whether the SLURM tests must run (CI), and whether a controller answers here. */
export { slurmHere, slurmWanted };

/** One test's world: its output directory, the environment of every CLI call, live children. */
export interface Ctx {
  readonly kind: Kind;
  readonly out: string;
  readonly env: Record<string, string>;
  readonly children: Set<Background>;
}

/** A CLI process running in the background. */
export interface Background {
  readonly child: Deno.ChildProcess;
  /** Resolves when it ended (killed or not). */
  readonly result: Promise<RunResult>;
  /** SIGKILL (no-op once ended). */
  kill(): void;
}

/** A new context with a fresh output directory (and local-scheduler root). */
export async function newCtx(kind: Kind, env: Record<string, string> = {}): Promise<Ctx> {
  const out = await Deno.makeTempDir({ prefix: `autoexp-monitor-${kind}-` });
  return {
    kind,
    out,
    env: {
      AUTOEXP_OUTPUT_DIR: out,
      AUTOEXP_LOCAL_DIR: `${out}/local-scheduler`,
      // The user's history index and config layer: the test's own, not the user's.
      XDG_DATA_HOME: `${out}/xdg-data`,
      XDG_CONFIG_HOME: `${out}/xdg-config`,
      ...env,
    },
    children: new Set(),
  };
}

/** The sweep directory of a project name under the context's outputs. */
export function sweepOf(ctx: Ctx, project = "faults"): string {
  return `${ctx.out}/${project}`;
}

function command(ctx: Ctx, args: string[], extraEnv: Record<string, string>): Deno.Command {
  const env: Record<string, string> = {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: Deno.env.get("HOME") ?? "/tmp",
    NO_COLOR: "1",
    ...(Deno.env.get("DENO_DIR") ? { DENO_DIR: Deno.env.get("DENO_DIR")! } : {}),
    ...ctx.env,
    ...extraEnv,
  };
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", `${ROOT}/main.ts`, ...args],
    cwd: ROOT,
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
}

/** Starts `autoexp ARGS` in the background. */
export function spawnCli(
  ctx: Ctx,
  args: string[],
  extraEnv: Record<string, string> = {},
): Background {
  const child = command(ctx, args, extraEnv).spawn();
  let ended = false;
  const bg: Background = {
    child,
    result: child.output().then((o) => {
      ended = true;
      ctx.children.delete(bg);
      return {
        code: o.code,
        stdout: new TextDecoder().decode(o.stdout),
        stderr: new TextDecoder().decode(o.stderr),
      };
    }),
    kill() {
      if (ended) return;
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
    },
  };
  ctx.children.add(bg);
  return bg;
}

/** Waits for a background CLI call; kills it and fails after `timeoutMs`. */
export async function finishWithin(
  bg: Background,
  timeoutMs: number,
  what: string,
): Promise<RunResult> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timedOut = false;
  const deadline = new Promise<void>((res) => {
    timer = setTimeout(() => {
      timedOut = true;
      bg.kill();
      res();
    }, timeoutMs);
  });
  await Promise.race([bg.result, deadline]);
  const r = await bg.result;
  clearTimeout(timer);
  if (timedOut) {
    throw new Error(
      `${what} did not end within ${
        timeoutMs / 1000
      } s (killed)\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`,
    );
  }
  return r;
}

/** Runs `autoexp ARGS` to its end; fails the test when it takes longer than `timeoutMs`. */
export function cli(
  ctx: Ctx,
  args: string[],
  timeoutMs = 120_000,
  extraEnv: Record<string, string> = {},
): Promise<RunResult> {
  return finishWithin(spawnCli(ctx, args, extraEnv), timeoutMs, `autoexp ${args.join(" ")}`);
}

/** The argv of `autoexp submit` of a fault-scenario config with overrides. */
export function submitArgs(
  ctx: Ctx,
  configName: string,
  overrides: string[],
  opts: { monitor?: boolean } = {},
): string[] {
  return [
    "submit",
    "-C",
    CONFIG_DIR,
    "--config-name",
    configName,
    "--scheduler",
    ctx.kind,
    ...overrides.flatMap((o) => ["-o", o]),
    ...(opts.monitor === false ? ["--no-monitor"] : []),
  ];
}

/** stdout and stderr of a result, for assertion messages. */
export function shown(r: RunResult): string {
  return `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

// ---------------------------------------------------------------- the journal

/** One journal line (lib/store/state.ts StoreEvent), loosely typed. */
export interface Ev {
  readonly type: string;
  readonly seq: number;
  readonly at: string;
  // deno-lint-ignore no-explicit-any
  readonly [key: string]: any;
}

/** The events of a sweep's journal (empty when there is none yet). */
export async function readJournal(sweep: string): Promise<Ev[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(`${sweep}/.autoexp/journal.jsonl`);
  } catch {
    return [];
  }
  // Format 2 lines refer to earlier ones (lib/store/journal_codec.ts); a compacted journal's
  // earlier events are in the snapshot, which these tests do not reach (compaction starts at
  // megabytes).
  return parseJournal(text) as unknown as Ev[];
}

/** The journal, one event per line, trimmed for assertion messages. */
export function dump(events: readonly Ev[]): string {
  return events.map((e) => {
    const { type, seq, at: _at, spec: _spec, context: _ctx, ...rest } = e;
    const s = JSON.stringify(rest);
    return `${seq} ${type} ${s.length > 300 ? `${s.slice(0, 300)}...` : s}`;
  }).join("\n");
}

/** One attempt of a run as the journal tells it. */
export interface AttemptView {
  readonly run: string;
  readonly attempt: number;
  readonly intent: number;
  /** The time limit it was submitted with (minutes), when the monitor changed it. */
  readonly time?: number;
  readonly why: string;
  jobId?: string;
  /** Every verdict state, in order. */
  readonly verdicts: string[];
  /** The final verdict's state, if any. */
  final?: string;
  exitCode?: number;
  /** The restart decision on it (null: declined), undefined while undecided. */
  restart?: { mode: string; timeMinutes?: number; why: string } | null;
  restartReason?: string;
  cancelRequested?: string;
  /** Every observed scheduler state, in order. */
  readonly observed: string[];
}

/** The attempts of every run, from `submit_intent`, `submitted`, `verdict`, ... events. */
export function attemptsByRun(events: readonly Ev[]): Map<string, AttemptView[]> {
  const runs = new Map<string, AttemptView[]>();
  const byIntent = new Map<number, AttemptView[]>();
  const find = (run: string, attempt: number) => runs.get(run)?.find((a) => a.attempt === attempt);
  for (const e of events) {
    switch (e.type) {
      case "submit_intent":
        for (const r of e.runs) {
          const a: AttemptView = {
            run: r.name,
            attempt: r.attempt,
            intent: e.seq,
            why: r.why,
            verdicts: [],
            observed: [],
            ...(r.time !== undefined ? { time: r.time } : {}),
          };
          runs.set(r.name, [...(runs.get(r.name) ?? []), a]);
          byIntent.set(e.seq, [...(byIntent.get(e.seq) ?? []), a]);
        }
        break;
      case "submitted":
        for (const a of byIntent.get(e.intent) ?? []) a.jobId = e.jobId;
        break;
      case "observed": {
        const a = find(e.run, e.attempt);
        a?.observed.push(e.state);
        break;
      }
      case "verdict": {
        const a = find(e.run, e.attempt);
        if (!a) break;
        a.verdicts.push(e.state);
        if (e.final) a.final = e.state;
        if (e.exitCode !== undefined) a.exitCode = e.exitCode;
        break;
      }
      case "restart_decided": {
        const a = find(e.run, e.attempt);
        if (!a || a.restart !== undefined) break;
        a.restart = e.restart;
        a.restartReason = e.reason;
        break;
      }
      case "cancel_requested": {
        const a = find(e.run, e.attempt);
        if (a) a.cancelRequested ??= e.why;
        break;
      }
    }
  }
  for (const list of runs.values()) list.sort((x, y) => x.attempt - y.attempt);
  return runs;
}

/** The attempts of one run. */
export function attemptsOf(events: readonly Ev[], run: string): AttemptView[] {
  return attemptsByRun(events).get(run) ?? [];
}

/** Waits until `probe` returns a value (not undefined/false); fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs: number,
  describe: () => Promise<string> = () => Promise.resolve(""),
  intervalMs = 250,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) {
      throw new Error(
        `timed out after ${timeoutMs / 1000} s waiting for ${what}\n${await describe()}`,
      );
    }
    await new Promise((res) => setTimeout(res, intervalMs));
  }
}

/** Waits until the journal shows attempt `attempt` of `run` with verdict `state`. */
export function waitForVerdict(
  sweep: string,
  run: string,
  attempt: number,
  state: string,
  timeoutMs: number,
): Promise<AttemptView> {
  return waitFor(
    `${run} attempt ${attempt} to be ${state}`,
    async () => {
      const a = attemptsOf(await readJournal(sweep), run).find((x) => x.attempt === attempt);
      return a && a.verdicts.includes(state) ? a : undefined;
    },
    timeoutMs,
    async () => dump(await readJournal(sweep)),
  );
}

/** The lines of a file (empty when it does not exist). */
export async function linesOf(path: string): Promise<string[]> {
  try {
    return (await Deno.readTextFile(path)).split("\n").filter((l) => l.trim() !== "");
  } catch {
    return [];
  }
}

/** How often each value occurs. */
export function counts(values: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

/** Text of an attempt's log: `<run dir>/logs/<job id>.log`. */
export async function attemptLog(runDir: string, jobId: string | undefined): Promise<string> {
  assert_(jobId !== undefined, `no job id for a log in ${runDir}`);
  return await Deno.readTextFile(`${runDir}/logs/${jobId}.log`);
}

/** Runs a command and returns its stdout; throws with its stderr when it fails. */
export async function sh(cmd: string, args: string[], timeoutMs = 60_000): Promise<string> {
  const child = new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped", stdin: "null" })
    .spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
  }, timeoutMs);
  const o = await child.output();
  clearTimeout(timer);
  const stdout = new TextDecoder().decode(o.stdout);
  if (!o.success) {
    throw new Error(
      `${cmd} ${args.join(" ")} exited ${o.code}: ${new TextDecoder().decode(o.stderr)}${stdout}`,
    );
  }
  return stdout;
}

/** A seeded pseudo-random generator (mulberry32) in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Ends a test's world: kills its background CLI calls, cancels every job its sweeps submitted
 * (scancel on SLURM, `autoexp cancel --all` on the local scheduler) when the test failed, and
 * removes the outputs (kept after a failure when AUTOEXP_KEEP_OUTPUTS=1).
 */
export async function cleanup(ctx: Ctx, failed: boolean): Promise<void> {
  for (const bg of [...ctx.children]) bg.kill();
  await Promise.all([...ctx.children].map((bg) => bg.result.catch(() => {})));
  if (failed) {
    const sweeps: string[] = [];
    for await (const e of Deno.readDir(ctx.out)) {
      if (e.isDirectory && e.name !== "local-scheduler") sweeps.push(`${ctx.out}/${e.name}`);
    }
    for (const sweep of sweeps) {
      if (ctx.kind === "slurm") {
        const ids = (await readJournal(sweep)).filter((e) => e.type === "submitted").map((e) =>
          String(e.jobId)
        );
        if (ids.length) await sh("scancel", ids).catch((e) => console.error(String(e)));
      } else {
        await cli(ctx, ["cancel", "--all", "--state", sweep], 60_000).catch((e) =>
          console.error(String(e))
        );
      }
    }
    if (Deno.env.get("AUTOEXP_KEEP_OUTPUTS") === "1") {
      console.error(`kept the outputs of the failed test in ${ctx.out}`);
      return;
    }
  }
  await Deno.remove(ctx.out, { recursive: true }).catch(() => {});
}

/**
 * Runs `body` in a fresh context and always cleans up; on failure the jobs are cancelled (and
 * the outputs kept when AUTOEXP_KEEP_OUTPUTS=1).
 */
export async function withCtx(
  kind: Kind,
  env: Record<string, string>,
  body: (ctx: Ctx) => Promise<void>,
): Promise<void> {
  const ctx = await newCtx(kind, env);
  let failed = true;
  try {
    await body(ctx);
    failed = false;
  } finally {
    await cleanup(ctx, failed);
  }
}

// ---------------------------------------------------------------- scenarios of both schedulers

/** The run of the fault configs, and its directory. */
export const RUN = "faults";
export function runDirOf(sweep: string, run = RUN): string {
  return `${sweep}/runs/${run}`;
}

/** Journal events of a type. */
export function ofType(events: readonly Ev[], type: string): Ev[] {
  return events.filter((e) => e.type === type);
}

/** `autoexp status --json` rows by run. */
export async function statusRows(
  ctx: Ctx,
  sweep: string,
): Promise<Record<string, { state: string; attempts: number; exit_code: number | null }>> {
  const st = await cli(ctx, ["status", "--state", sweep, "--json"], 60_000);
  assertEquals(st.code, 0, shown(st));
  const rows = JSON.parse(st.stdout).runs as {
    run: string;
    state: string;
    attempts: number;
    exit_code: number | null;
  }[];
  return Object.fromEntries(rows.map((r) => [r.run, r]));
}

/**
 * A crash on every attempt: the crash policy (max_retries 2) restarts it twice, then gives up:
 * three failed attempts, exit 1, and a monitor started again adds none.
 */
export async function crashUntilBudget(ctx: Ctx): Promise<void> {
  const sweep = sweepOf(ctx);
  const r = await cli(
    ctx,
    submitArgs(ctx, "autoexp", ["slurm.env.FAULT_CRASH_AT=5", "slurm.env.FAULT_TIMES=99"]),
    180_000,
  );
  let events = await readJournal(sweep);
  assertEquals(r.code, 1, `${shown(r)}\n${dump(events)}`);
  assertMatch(r.stderr, /1 of 1 runs did not complete/);
  const att = attemptsOf(events, RUN);
  assertEquals(
    att.map((a) => [a.attempt, a.final, a.exitCode]),
    [[1, "failed", 1], [2, "failed", 1], [3, "failed", 1]],
    dump(events),
  );
  assertEquals(att.map((a) => a.restart === null ? null : a.restart?.mode), [
    "crash",
    "crash",
    null,
  ]);
  assertMatch(att[2].restartReason ?? "", /budget exhausted \(2 of 2 used\)/);
  for (const a of att) {
    assertMatch(await attemptLog(runDirOf(sweep), a.jobId), /injected crash at iteration 5/);
  }
  const row = (await statusRows(ctx, sweep))[RUN];
  assertEquals([row.state, row.attempts, row.exit_code], ["failed", 3, 1]);
  // The budget survives the monitor: following the sweep again starts no 4th attempt.
  const again = await cli(ctx, ["monitor", "--state", sweep], 60_000);
  events = await readJournal(sweep);
  assertEquals(again.code, 1, `${shown(again)}\n${dump(events)}`);
  assertEquals(ofType(events, "submit_intent").length, 3, dump(events));
}

/** A crash once after the first checkpoint: attempt 2 resumes from iteration 10 and completes. */
export async function crashOnceResumes(ctx: Ctx): Promise<void> {
  const sweep = sweepOf(ctx);
  const r = await cli(ctx, submitArgs(ctx, "autoexp", ["slurm.env.FAULT_CRASH_AT=15"]), 180_000);
  const events = await readJournal(sweep);
  assertEquals(r.code, 0, `${shown(r)}\n${dump(events)}`);
  const att = attemptsOf(events, RUN);
  assertEquals(
    att.map((a) => [a.attempt, a.final, a.exitCode]),
    [[1, "failed", 1], [2, "completed", 0]],
    dump(events),
  );
  assertEquals(att[0].restart?.mode, "crash");
  const log2 = await attemptLog(runDirOf(sweep), att[1].jobId);
  assertMatch(log2, /successfully loaded checkpoint from \S+ .*at iteration 10\b/);
  assertMatch(log2, /after training is done/);
  const row = (await statusRows(ctx, sweep))[RUN];
  assertEquals([row.state, row.attempts, row.exit_code], ["completed", 2, 0]);
}

/**
 * A one-minute limit the run outgrows: attempt 1 ends in timeout, the timeout policy submits
 * attempt 2 with 3 minutes, which resumes from its checkpoint and completes. `size` holds the
 * overrides that make the run need more than the limit (but less than 3 minutes); `env` the
 * local scheduler's time scale. Returns the attempts for scheduler-specific checks.
 */
export async function timeoutRestartsLonger(
  ctx: Ctx,
  size: string[],
  timeoutMs: number,
): Promise<AttemptView[]> {
  const sweep = sweepOf(ctx);
  const r = await cli(ctx, submitArgs(ctx, "timeout", size), timeoutMs);
  const events = await readJournal(sweep);
  assertEquals(r.code, 0, `${shown(r)}\n${dump(events)}`);
  const att = attemptsOf(events, RUN);
  assertEquals(
    att.map((a) => [a.attempt, a.final, a.time]),
    [[1, "timeout", undefined], [2, "completed", 3]],
    dump(events),
  );
  assertEquals(att[0].restart?.mode, "timeout");
  assertEquals(att[0].restart?.timeMinutes, 3);
  const log2 = await attemptLog(runDirOf(sweep), att[1].jobId);
  assertMatch(log2, /successfully loaded checkpoint from \S+ .*at iteration [1-9]\d*\b/);
  assertMatch(log2, /after training is done/);
  return att;
}

/**
 * The trainer hangs at iteration 5 (once): with a 6 s inactivity threshold the attempt is
 * called stalled, cancelled by the monitor and restarted by the stall policy; attempt 2
 * completes.
 */
export async function hangIsCancelledAndRestarted(ctx: Ctx): Promise<void> {
  const sweep = sweepOf(ctx);
  const r = await cli(ctx, submitArgs(ctx, "hang", []), 180_000);
  const events = await readJournal(sweep);
  assertEquals(r.code, 0, `${shown(r)}\n${dump(events)}`);
  const att = attemptsOf(events, RUN);
  assertEquals(att.length, 2, dump(events));
  assert_(att[0].verdicts.includes("stalled"), `attempt 1 verdicts ${att[0].verdicts}`);
  const stalledAt = att[0].verdicts.indexOf("stalled");
  assertEquals(att[0].verdicts.slice(stalledAt), ["stalled", "cancelled"], dump(events));
  assertEquals(att[0].final, "cancelled");
  assertMatch(att[0].cancelRequested ?? "", /^stalled: /);
  assertEquals(att[0].restart?.mode, "stall");
  assertEquals(att[1].final, "completed");
  const log1 = await attemptLog(runDirOf(sweep), att[0].jobId);
  assertMatch(log1, /iteration\s+4\//);
  assert_(!/iteration\s+5\//.test(log1), "attempt 1 hung at iteration 5");
}

/**
 * A run depending (afterok) on a job that failed is blocked: the monitor says so and exits 1
 * instead of waiting for ever. The blocked job is cancelled afterwards.
 */
export async function blockedDependency(ctx: Ctx): Promise<void> {
  const up = await cli(
    ctx,
    submitArgs(ctx, "autoexp", [
      "project.name=upstream",
      "slurm.env.FAULT_CRASH_AT=2",
      "slurm.env.FAULT_TIMES=99",
      "restart_policies=[]",
    ]),
    120_000,
  );
  const upEvents = await readJournal(sweepOf(ctx, "upstream"));
  assertEquals(up.code, 1, `${shown(up)}\n${dump(upEvents)}`);
  const upAtt = attemptsOf(upEvents, "upstream");
  assertEquals(upAtt.map((a) => a.final), ["failed"], dump(upEvents));
  const sweep = sweepOf(ctx, "blocked");
  const t0 = Date.now();
  const r = await cli(ctx, submitArgs(ctx, "blocked", []), 120_000, {
    AUTOEXP_TEST_UPSTREAM_JOB: upAtt[0].jobId!,
  });
  const events = await readJournal(sweep);
  try {
    assertEquals(r.code, 1, `${shown(r)}\n${dump(events)}`);
    const att = attemptsOf(events, "blocked");
    assertEquals(att.map((a) => [a.attempt, a.final]), [[1, "blocked"]], dump(events));
    assertEquals(att[0].restart, null);
    assertMatch(r.stdout, /blocked/);
    assert_(Date.now() - t0 < 90_000, `took ${(Date.now() - t0) / 1000} s to report blocked`);
  } finally {
    // Nothing will ever start it: cancel it (as a user would).
    const c = await cli(ctx, ["cancel", "--all", "--state", sweep], 60_000);
    assertEquals(c.code, 0, shown(c));
  }
}

/** What the checkpoint + cooldown config must have left when its sweep is done. */
export async function assertCheckpointActionsOnce(
  sweep: string,
  parentAttempts: number,
): Promise<void> {
  const events = await readJournal(sweep);
  const d = dump(events);
  const conv = (await linesOf(`${runDirOf(sweep)}/conversions.txt`)).map((l) => l.split(" ")[0]);
  assertEquals(counts(conv), { "10": 1, "20": 1 }, `conversions.txt: ${conv}\n${d}`);
  const derived = ofType(events, "derived");
  assertEquals(derived.map((e) => e.run), [`${RUN}_cooldown_20`], d);
  const cooldown = `${RUN}_cooldown_20`;
  const byRun = attemptsByRun(events);
  assertEquals([...byRun.keys()].sort(), [RUN, cooldown], d);
  // Each (run, attempt) is submitted once.
  const pairs = ofType(events, "submit_intent").flatMap((e) =>
    e.runs.map((r: { name: string; attempt: number }) => `${r.name}#${r.attempt}`)
  );
  assertEquals(Object.values(counts(pairs)).filter((n) => n > 1).length, 0, d);
  assertEquals(byRun.get(RUN)!.length, parentAttempts, d);
  assertEquals(byRun.get(RUN)!.at(-1)!.final, "completed", d);
  const cd = byRun.get(cooldown)!;
  assertEquals(cd.map((a) => a.final), ["completed"], d);
  // The cooldown loaded the parent's iteration-20 checkpoint and trained on to 25.
  const cdDir = `${sweep}/derived/${cooldown}/runs/${cooldown}`;
  const log = await attemptLog(cdDir, cd[0].jobId);
  assertMatch(
    log,
    new RegExp(
      `successfully loaded checkpoint from ${runDirOf(sweep)}/checkpoints .*at iteration 20\\b`,
    ),
  );
  assertMatch(log, /iteration\s+25\/\s*25/);
  assertEquals(
    (await linesOf(`${cdDir}/conversions.txt`)).length,
    0,
    "the cooldown is not monitored",
  );
  // Every queued action ended, once.
  const done = counts(ofType(events, "action_done").map((e) => e.id));
  for (const q of ofType(events, "action_queued")) {
    assertEquals(done[q.id], 1, `action ${q.id} ended ${done[q.id] ?? 0} times\n${d}`);
  }
  assertEquals(
    Object.keys(done).length,
    ofType(events, "action_queued").length,
    `action_done ids that were never queued\n${d}`,
  );
}

/** A checkpoint line starts its conversion once and (at iteration 20) one cooldown run. */
export async function checkpointConversionAndCooldownOnce(ctx: Ctx): Promise<void> {
  const sweep = sweepOf(ctx);
  const r = await cli(ctx, submitArgs(ctx, "cooldown", []), 180_000);
  assertEquals(r.code, 0, `${shown(r)}\n${dump(await readJournal(sweep))}`);
  assertMatch(r.stdout, /faults_cooldown_20\s+completed\s+1/);
  await assertCheckpointActionsOnce(sweep, 1);
}

/**
 * The checkpoint + cooldown config with a crash once, followed by monitors that are SIGKILLed
 * after a random 0.3-3 s until one ends by itself: nothing is duplicated, nothing is lost.
 */
export async function monitorKilledAtRandom(ctx: Ctx, budgetMs: number): Promise<void> {
  const seed = Number(Deno.env.get("AUTOEXP_TEST_SEED") ?? Math.floor(Math.random() * 2 ** 31));
  console.log(
    `monitor kill test (${ctx.kind}): seed ${seed} (AUTOEXP_TEST_SEED=${seed} repeats it)`,
  );
  const random = seededRandom(seed);
  const sweep = sweepOf(ctx);
  const sub = await cli(
    ctx,
    submitArgs(ctx, "cooldown", ["slurm.env.FAULT_CRASH_AT=15"], { monitor: false }),
    60_000,
  );
  assertEquals(sub.code, 0, shown(sub));
  const end = Date.now() + budgetMs;
  const kills: number[] = [];
  let last: RunResult | null = null;
  while (Date.now() < end) {
    const bg = spawnCli(ctx, ["monitor", "--state", sweep]);
    const delay = 300 + Math.floor(random() * 2700);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const killed = new Promise<"killed">((res) => {
      timer = setTimeout(() => {
        bg.kill();
        res("killed");
      }, delay);
    });
    const first = await Promise.race([bg.result, killed]);
    clearTimeout(timer);
    const r = await bg.result;
    if (first !== "killed") {
      last = r;
      break;
    }
    kills.push(delay);
  }
  const events = await readJournal(sweep);
  assert_(
    last !== null,
    `no monitor ended by itself within ${
      budgetMs / 1000
    } s (seed ${seed}, ${kills.length} kills)\n${dump(events)}`,
  );
  console.log(`  ${kills.length} monitors killed (after ${kills.join(", ")} ms), then one ended`);
  assertEquals(last.code, 0, `seed ${seed}: ${shown(last)}\n${dump(events)}`);
  await assertCheckpointActionsOnce(sweep, 2);
}

/**
 * A conversion is running (3 s) when the monitor is SIGKILLed: it finishes on its own with all
 * its output (nothing of it went through the dead monitor), and the monitor started again
 * takes its exit code instead of running it a second time.
 */
export async function actionRunningAtKillRunsOnce(ctx: Ctx): Promise<void> {
  const sweep = sweepOf(ctx);
  const sub = await cli(ctx, submitArgs(ctx, "slow_action", [], { monitor: false }), 60_000);
  assertEquals(sub.code, 0, shown(sub));
  const conversions = `${runDirOf(sweep)}/conversions.txt`;
  const first = spawnCli(ctx, ["monitor", "--state", sweep]);
  await waitFor(
    "the conversion to begin",
    async () => (await linesOf(conversions)).includes("10 begin"),
    90_000,
    async () => dump(await readJournal(sweep)),
  );
  first.kill();
  await first.result;
  const r = await cli(ctx, ["monitor", "--state", sweep], 120_000);
  const events = await readJournal(sweep);
  assertEquals(r.code, 0, `${shown(r)}\n${dump(events)}`);
  // The killed monitor's command ends by itself; let it.
  await waitFor(
    "the first conversion to end",
    async () => (await linesOf(conversions)).includes("10 end"),
    10_000,
  );
  await new Promise((res) => setTimeout(res, 3500));
  assertEquals(
    counts(await linesOf(conversions)),
    { "10 begin": 1, "10 end": 1 },
    `conversions.txt:\n${(await linesOf(conversions)).join("\n")}\n${dump(events)}`,
  );
  const actions = `${runDirOf(sweep)}/actions`;
  const logs = [...Deno.readDirSync(actions)].filter((e) => e.name.endsWith(".log"));
  assertEquals(logs.length, 1, logs.map((e) => e.name).join(", "));
  const output = await Deno.readTextFile(`${actions}/${logs[0].name}`);
  assertEquals(output.split("\n").filter((l) => l), ["converted 10", "a warning"]);
  const ended = ofType(events, "action_done");
  assertEquals(ended.map((e) => e.status), ["ok"], dump(events));
}
