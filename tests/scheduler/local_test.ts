/**
 * The embedded local scheduler: pure parsers by table, then real jobs (bash scripts run by
 * detached supervisors) under temporary roots. Time limits use the test-only time scale
 * (0.02: one minute is 1.2 s).
 */
import { assert_, assertEquals, assertMatch, assertRejects, assertThrows } from "../_assert.ts";
import { makeTree, removeTree, ROOT } from "../_helpers.ts";
import {
  classifyDependency,
  compressRanges,
  expandOutputPattern,
  parseArraySpec,
  parseDependency,
  parseSbatchArgs,
  parseSignalSpec,
  parseTimeLimit,
  readDirectiveWords,
} from "../../lib/scheduler/_local_directives.ts";
import { LocalScheduler, type LocalSchedulerOptions } from "../../lib/scheduler/local.ts";
import { denoLocalSystem } from "../../lib/runtime/local_os.ts";
import type { JobObservation } from "../../lib/scheduler/types.ts";
import { SchedulerError } from "../../lib/errors.ts";

const SELF = [Deno.execPath(), "run", "-A", "--quiet", `${ROOT}/main.ts`];

/** Supervisors are detached children: their status promises outlive a test by design. */
function test(name: string, fn: () => Promise<void> | void): void {
  Deno.test({ name, fn, sanitizeOps: false, sanitizeResources: false });
}

// ---------------------------------------------------------------- pure parsers

test("parseArraySpec: ranges, steps, lists and throttle", () => {
  const cases: [string, number[], number | null][] = [
    ["0-4%2", [0, 1, 2, 3, 4], 2],
    ["1,3,5-7", [1, 3, 5, 6, 7], null],
    ["0-9:4", [0, 4, 8], null],
    ["7", [7], null],
    ["3,1,3", [1, 3], null],
  ];
  for (const [spec, tasks, throttle] of cases) {
    assertEquals(parseArraySpec(spec), { tasks, throttle }, spec);
  }
  for (const bad of ["", "a-b", "5-1", "0-10001", "1%x", "1%2%3"]) {
    assertThrows(() => parseArraySpec(bad), (e) => assert_(e instanceof SchedulerError, bad));
  }
});

test("compressRanges: SLURM's range notation", () => {
  assertEquals(compressRanges([0, 1, 2, 5, 7, 8]), "0-2,5,7-8");
  assertEquals(compressRanges([4]), "4");
});

test("parseTimeLimit: every SLURM format, in seconds", () => {
  const cases: [string, number | null][] = [
    ["5", 300],
    ["5:30", 330],
    ["01:00:00", 3600],
    ["1-0", 86400],
    ["1-2:03", 93780],
    ["1-02:03:04", 93784],
    ["0", null],
    ["UNLIMITED", null],
    ["infinite", null],
  ];
  for (const [v, want] of cases) assertEquals(parseTimeLimit(v), want, v);
  let err: unknown;
  try {
    parseTimeLimit("soon");
  } catch (e) {
    err = e;
  }
  assert_(err instanceof SchedulerError);
});

test("parseSignalSpec: [B:]SIG[@secs]", () => {
  assertEquals(parseSignalSpec("B:USR1@120"), { signal: "SIGUSR1", seconds: 120, batchOnly: true });
  assertEquals(parseSignalSpec("SIGTERM"), { signal: "SIGTERM", seconds: 60, batchOnly: false });
  assertEquals(parseSignalSpec("10@5"), { signal: "SIGUSR1", seconds: 5, batchOnly: false });
});

test("parseDependency and classifyDependency: all, any, never", () => {
  const all = parseDependency("afterok:1:2,afterany:3");
  assertEquals(all.mode, "all");
  assertEquals(all.clauses.map((c) => [c.type, c.ids]), [["afterok", ["1", "2"]], [
    "afterany",
    ["3"],
  ]]);
  const t = (entries: [string, ("pending" | "running" | "completed" | "failed")[]][]) =>
    new Map(entries);
  assertEquals(
    classifyDependency(all, t([["1", ["completed"]], ["2", ["completed"]], ["3", ["failed"]]])),
    "satisfied",
  );
  assertEquals(
    classifyDependency(all, t([["1", ["failed"]], ["2", ["running"]], ["3", ["pending"]]])),
    "never",
  );
  assertEquals(
    classifyDependency(all, t([["1", ["completed"]], ["2", ["running"]], ["3", ["failed"]]])),
    "wait",
  );
  const any = parseDependency("afterok:1?afternotok:2");
  assertEquals(classifyDependency(any, t([["1", ["failed"]], ["2", ["failed"]]])), "satisfied");
  assertEquals(classifyDependency(any, t([["1", ["failed"]], ["2", ["completed"]]])), "never");
  assertEquals(
    classifyDependency(parseDependency("after:4"), t([["4", ["running"]]])),
    "satisfied",
  );
  for (const bad of ["singleton", "afterok", "afterok:1+5", "aftercorr:3"]) {
    let err: unknown;
    try {
      parseDependency(bad);
    } catch (e) {
      err = e;
    }
    assert_(err instanceof SchedulerError, bad);
  }
});

test("expandOutputPattern: %j %A %a %x %u %N %% and padding", () => {
  const v = { jobId: 31, arrayJobId: 29, taskId: 3, name: "n", user: "u", host: "node1.x" };
  assertEquals(
    expandOutputPattern("/l/%A_%a.%j.%x.%u.%N.%%.%4a", v),
    "/l/29_3.31.n.u.node1.%.0003",
  );
  assertEquals(expandOutputPattern("%j-%a", { ...v, taskId: null }), "31-4294967294");
  assertEquals(expandOutputPattern("a\\%j", v), "a%j");
});

test("readDirectiveWords and parseSbatchArgs: quoting, forms, stop at the first command", () => {
  const script = [
    "#!/bin/bash",
    '#SBATCH --job-name="a b" # a comment',
    "#SBATCH -t 5 --hold",
    "#SBATCH -o/x/%j.log",
    "",
    "# plain comment",
    "#SBATCH --array=0-3%2",
    "echo hi",
    "#SBATCH --time=99",
  ].join("\n");
  const opts = parseSbatchArgs(readDirectiveWords(script));
  assertEquals(Object.fromEntries(opts), {
    "job-name": "a b",
    time: "5",
    hold: true,
    output: "/x/%j.log",
    array: "0-3%2",
  });
  parseSbatchArgs(["--no-requeue", "--requeue"], opts);
  assertEquals([opts.has("requeue"), opts.has("no-requeue")], [true, false]);
});

// ---------------------------------------------------------------- real jobs

interface Env {
  dir: string;
  root: string;
  sched: LocalScheduler;
  /** Writes a script with `#SBATCH` lines and a body; returns its path. */
  script(name: string, directives: string[], body: string): Promise<string>;
  submit(
    script: string,
    extra?: { array?: string; dependency?: string; time?: string; extraArgs?: string[] },
  ): Promise<string>;
  cleanup(): Promise<void>;
}

async function setup(opts: Partial<LocalSchedulerOptions> = {}): Promise<Env> {
  const dir = await makeTree({ "logs/.keep": "" });
  const root = `${dir}/root`;
  const sched = new LocalScheduler({
    root,
    selfCommand: SELF,
    sys: denoLocalSystem(),
    slots: 4,
    killWaitSec: 1,
    timeScale: 0.02,
    ...opts,
  });
  let n = 0;
  return {
    dir,
    root,
    sched,
    async script(name, directives, body) {
      const path = `${dir}/${name}.sh`;
      await Deno.writeTextFile(
        path,
        ["#!/bin/bash", ...directives.map((d) => `#SBATCH ${d}`), body, ""].join("\n"),
      );
      return path;
    },
    async submit(script, extra = {}) {
      const r = await sched.submit({
        script,
        cwd: dir,
        jobName: `t${++n}`,
        comment: `autoexp:test:${n}`,
        ...extra,
      });
      return r.jobId;
    },
    async cleanup() {
      // Cancel what is left, wait for every supervisor to leave, then remove the tree.
      const all = await sched.query({ commentPrefix: "autoexp:test:" });
      const open = all.jobs.filter((j) => j.state === "pending" || j.state === "running");
      if (open.length) await sched.cancel([...new Set(open.map((j) => j.arrayJobId ?? j.id))]);
      for (let i = 0; i < 100; i++) {
        if (!(await supervisorPids(root)).some(alive)) break;
        await sleep(100);
      }
      for (let i = 0; i < 3; i++) {
        await removeTree(dir);
        if (!(await Deno.stat(dir).then(() => true, () => false))) break;
        await sleep(200); // a supervisor was still writing its last record
      }
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const FINAL = new Set(["completed", "failed", "timeout", "cancelled", "node_fail"]);

/** Polls until `pred` holds for the observations of `ids`; returns them. */
async function waitFor(
  sched: LocalScheduler,
  ids: string[],
  pred: (jobs: readonly JobObservation[]) => boolean,
  timeoutMs = 15_000,
): Promise<readonly JobObservation[]> {
  const t0 = Date.now();
  while (true) {
    const { jobs } = await sched.query({ ids });
    if (pred(jobs)) return jobs;
    if (Date.now() - t0 > timeoutMs) {
      throw new Error(`timed out waiting; last: ${JSON.stringify(jobs, null, 1)}`);
    }
    await sleep(100);
  }
}

const allFinal = (jobs: readonly JobObservation[]) =>
  jobs.length > 0 && jobs.every((j) => FINAL.has(j.state) && !j.pendingTasks);

/** Whether a process exists and is not a zombie. */
function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** Live (non-zombie) members of a process group. */
function groupMembers(pgid: number): number[] {
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(f[2]) === pgid && f[0] !== "Z") out.push(Number(e.name));
    } catch { /* gone */ }
  }
  return out;
}

async function supervisorPids(root: string): Promise<number[]> {
  const pids: number[] = [];
  try {
    for (const e of Deno.readDirSync(`${root}/jobs`)) {
      try {
        const job = JSON.parse(await Deno.readTextFile(`${root}/jobs/${e.name}/job.json`));
        if (job.supervisor) pids.push(job.supervisor.pid);
        if (job.launch?.pid) pids.push(job.launch.pid);
      } catch { /* not written yet */ }
    }
  } catch { /* no jobs */ }
  return pids;
}

async function taskState(root: string, job: string, key = "single") {
  return JSON.parse(await Deno.readTextFile(`${root}/jobs/${job}/tasks/${key}/state.json`));
}

/** Largest number of [start, end] intervals that overlap at one moment. */
function maxOverlap(intervals: [number, number][]): number {
  const events = intervals.flatMap(([s, e]) => [[s, 1], [e, -1]] as [number, number][])
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let cur = 0;
  let max = 0;
  for (const [, d] of events) max = Math.max(max, cur += d);
  return max;
}

test("local: a job runs and completes, output at the %j path", async () => {
  const env = await setup();
  try {
    const s = await env.script(
      "ok",
      [`--output=${env.dir}/logs/%j.log`],
      'echo "hello from $SLURM_JOB_ID"',
    );
    const t0 = Date.now();
    const id = await env.submit(s);
    assert_(Date.now() - t0 < 2000, "submit returns quickly");
    const jobs = await waitFor(env.sched, [id], allFinal);
    assertEquals(jobs.length, 1);
    const j = jobs[0];
    assertEquals([j.id, j.jobId, j.state, j.rawState, j.exitCode, j.source], [
      id,
      id,
      "completed",
      "COMPLETED",
      0,
      "local",
    ]);
    assertEquals(j.comment, "autoexp:test:1");
    assert_(j.start && j.end && j.nodeList);
    assertEquals(await Deno.readTextFile(`${env.dir}/logs/${id}.log`), `hello from ${id}\n`);
  } finally {
    await env.cleanup();
  }
});

test("local: exit code 7 -> failed with exit code 7", async () => {
  const env = await setup();
  try {
    const s = await env.script("fail", [`--output=${env.dir}/logs/%j.log`], "exit 7");
    const id = await env.submit(s);
    const [j] = await waitFor(env.sched, [id], allFinal);
    assertEquals([j.state, j.rawState, j.exitCode, j.reason], [
      "failed",
      "FAILED",
      7,
      "NonZeroExitCode",
    ]);
  } finally {
    await env.cleanup();
  }
});

test("local: the SLURM environment of a job and of array tasks", async () => {
  const env = await setup();
  try {
    const s = await env.script(
      "env",
      [`--output=${env.dir}/logs/%A_%a.log`, "--cpus-per-task=2"],
      "env | grep -E '^(SLURM_|AUTOEXP_SCHEDULER)' | sort",
    );
    const id = await env.submit(s, { array: "3,5" });
    const jobs = await waitFor(env.sched, [id], allFinal);
    assertEquals(jobs.map((j) => j.id), [`${id}_3`, `${id}_5`]);
    const host = Deno.hostname();
    for (const j of jobs) {
      const text = await Deno.readTextFile(`${env.dir}/logs/${id}_${j.arrayTaskId}.log`);
      const vars = Object.fromEntries(text.trim().split("\n").map((l) => l.split(/=(.*)/s)));
      assertEquals(vars.SLURM_JOB_ID, j.jobId);
      assertEquals(vars.SLURM_ARRAY_JOB_ID, id);
      assertEquals(vars.SLURM_ARRAY_TASK_ID, String(j.arrayTaskId));
      assertEquals(vars.SLURM_ARRAY_TASK_COUNT, "2");
      assertEquals(vars.SLURM_JOB_NAME, j.name);
      assertEquals(vars.SLURM_JOB_NODELIST, host);
      assertEquals(vars.SLURM_NNODES, "1");
      assertEquals(vars.SLURM_NODEID, "0");
      assertEquals(vars.SLURM_PROCID, "0");
      assertEquals(vars.SLURM_LOCALID, "0");
      assertEquals(vars.SLURM_SUBMIT_DIR, env.dir);
      assertEquals(vars.SLURM_RESTART_COUNT, "0");
      assertEquals(vars.SLURM_CPUS_PER_TASK, "2");
      assertMatch(vars.SLURM_CPUS_ON_NODE, /^\d+$/);
      assertEquals(vars.AUTOEXP_SCHEDULER, "local");
    }
    // Each task has its own job id; the last one takes the array's id, as in SLURM.
    assertEquals(jobs.map((j) => j.jobId), [String(Number(id) + 1), id]);
  } finally {
    await env.cleanup();
  }
});

test("local: array 0-4%2 never runs more than 2 tasks at once, and all complete", async () => {
  const env = await setup({ slots: 4 });
  try {
    const s = await env.script(
      "arr",
      [`--output=${env.dir}/logs/%A_%a.log`, "--array=0-4%2"],
      `echo "$(date +%s.%N)" > ${env.dir}/start_$SLURM_ARRAY_TASK_ID; sleep 0.6; echo "$(date +%s.%N)" > ${env.dir}/end_$SLURM_ARRAY_TASK_ID`,
    );
    const id = await env.submit(s);
    const first = (await env.sched.query({ ids: [id] })).jobs;
    assert_(first.some((j) => j.pendingTasks), "unstarted tasks fold into one 123_[...] record");
    let sawThrottle = false;
    const jobs = await waitFor(env.sched, [id], (js) => {
      sawThrottle ||= js.some((j) => j.state === "pending" && j.reason === "JobArrayTaskLimit");
      return allFinal(js);
    });
    assertEquals(
      jobs.map((j) => `${j.arrayTaskId}:${j.state}`),
      [0, 1, 2, 3, 4].map((t) => `${t}:completed`),
    );
    assert_(sawThrottle, "pending tasks show JobArrayTaskLimit");
    const fromFiles: [number, number][] = [];
    for (let t = 0; t < 5; t++) {
      fromFiles.push([
        Number(await Deno.readTextFile(`${env.dir}/start_${t}`)),
        Number(await Deno.readTextFile(`${env.dir}/end_${t}`)),
      ]);
    }
    assertEquals(maxOverlap(fromFiles), 2);
    const fromStates = jobs.map((j) =>
      [Date.parse(j.start!), Date.parse(j.end!)] as [number, number]
    );
    assert_(maxOverlap(fromStates) <= 2, JSON.stringify(fromStates));
  } finally {
    await env.cleanup();
  }
});

test("local: the slot limit holds across two submissions", async () => {
  const env = await setup({ slots: 2 });
  try {
    const s = await env.script(
      "slot",
      [`--output=${env.dir}/logs/%A_%a.log`],
      `echo "$(date +%s.%N)" > ${env.dir}/s_$SLURM_JOB_ID; sleep 0.5; echo "$(date +%s.%N)" > ${env.dir}/e_$SLURM_JOB_ID`,
    );
    const a = await env.submit(s, { array: "0-2" });
    const b = await env.submit(s, { array: "0-2" });
    let sawResources = false;
    const jobs = await waitFor(env.sched, [a, b], (js) => {
      sawResources ||= js.some((j) => j.state === "pending" && j.reason === "Resources");
      return allFinal(js);
    });
    assertEquals(jobs.length, 6);
    assert_(jobs.every((j) => j.state === "completed"));
    assert_(sawResources, "pending tasks show Resources while the slots are taken");
    const intervals: [number, number][] = [];
    for (const j of jobs) {
      intervals.push([
        Number(await Deno.readTextFile(`${env.dir}/s_${j.jobId}`)),
        Number(await Deno.readTextFile(`${env.dir}/e_${j.jobId}`)),
      ]);
    }
    assertEquals(maxOverlap(intervals), 2);
  } finally {
    await env.cleanup();
  }
});

test("local: jobs waiting for a slot start in submission order", async () => {
  const env = await setup({ slots: 1 });
  try {
    const s = await env.script("fifo", [`--output=${env.dir}/logs/%j.log`], "sleep 0.6");
    const a = await env.submit(s);
    await waitFor(env.sched, [a], (js) => js[0]?.state === "running");
    const b = await env.submit(s);
    await waitFor(env.sched, [b], (js) => js[0]?.reason === "Resources");
    const c = await env.submit(s);
    const jobs = await waitFor(env.sched, [a, b, c], allFinal);
    const starts = jobs.map((j) => Date.parse(j.start!));
    assert_(starts[0] < starts[1] && starts[1] < starts[2], JSON.stringify(jobs));
  } finally {
    await env.cleanup();
  }
});

test("local: --signal arrives before the time limit, then TIMEOUT", async () => {
  const env = await setup({ timeScale: 0.02 });
  try {
    // 1 minute = 1.2 s; USR1 30 "s" (0.6 s) before the end, to the batch shell only.
    const s = await env.script(
      "limit",
      [`--output=${env.dir}/logs/%j.log`, "--time=1", "--signal=B:USR1@30"],
      `trap 'date +%s.%N > ${env.dir}/usr1' USR1\nwhile true; do sleep 0.05; done`,
    );
    const id = await env.submit(s);
    const [j] = await waitFor(env.sched, [id], allFinal);
    assertEquals([j.state, j.rawState, j.reason], ["timeout", "TIMEOUT", "TimeLimit"]);
    const usr1 = Number(await Deno.readTextFile(`${env.dir}/usr1`)) * 1000;
    const start = Date.parse(j.start!);
    const end = Date.parse(j.end!);
    assert_(
      usr1 - start >= 400 && usr1 < end - 300,
      `USR1 at +${usr1 - start} ms, end +${end - start} ms`,
    );
    assert_(end - start >= 1100 && end - start < 4000, `ran ${end - start} ms`);
  } finally {
    await env.cleanup();
  }
});

test("local: a job that ignores SIGTERM at its time limit is killed after KillWait", async () => {
  const env = await setup({ timeScale: 0.01, killWaitSec: 1 });
  try {
    const s = await env.script(
      "stubborn",
      [`--output=${env.dir}/logs/%j.log`, "--time=1"],
      "trap 'echo term' TERM\nwhile true; do sleep 0.05; done",
    );
    const id = await env.submit(s);
    const [j] = await waitFor(env.sched, [id], allFinal);
    assertEquals([j.state, j.signal], ["timeout", 9]);
    const ran = Date.parse(j.end!) - Date.parse(j.start!);
    assert_(ran >= 1500 && ran < 5000, `ran ${ran} ms (0.6 s limit + 1 s KillWait)`);
    assertMatch(await Deno.readTextFile(`${env.dir}/logs/${id}.log`), /term/);
  } finally {
    await env.cleanup();
  }
});

test("local: cancel a running job -> cancelled, its whole process group gone", async () => {
  const env = await setup();
  try {
    const s = await env.script(
      "cancel",
      [`--output=${env.dir}/logs/%j.log`],
      `sleep 300 &\necho $! > ${env.dir}/child\necho $$ > ${env.dir}/shell\nwait`,
    );
    const id = await env.submit(s);
    await waitFor(env.sched, [id], (js) => js[0]?.state === "running");
    for (let i = 0; i < 50; i++) {
      try {
        await Deno.stat(`${env.dir}/child`);
        break;
      } catch {
        await sleep(100);
      }
    }
    const child = Number(await Deno.readTextFile(`${env.dir}/child`));
    const shell = Number(await Deno.readTextFile(`${env.dir}/shell`));
    assert_(alive(child) && alive(shell));
    const st = await taskState(env.root, id);
    assertEquals(st.pid, shell, "the batch shell leads its own process group");
    assertEquals(groupMembers(shell).sort(), [shell, child].sort());
    await env.sched.cancel([id]);
    const [j] = await waitFor(env.sched, [id], allFinal);
    assertEquals(j.state, "cancelled");
    assertMatch(j.rawState, /^CANCELLED by \d+$/);
    assert_(!alive(child) && !alive(shell), "batch shell and its child are gone");
    assertEquals(groupMembers(shell), []);
  } finally {
    await env.cleanup();
  }
});

test("local: cancel a pending job -> cancelled without running", async () => {
  const env = await setup({ slots: 1 });
  try {
    const busy = await env.script("busy", [`--output=${env.dir}/logs/%j.log`], "sleep 30");
    const later = await env.script(
      "later",
      [`--output=${env.dir}/logs/%j.log`],
      `touch ${env.dir}/ran`,
    );
    const a = await env.submit(busy);
    await waitFor(env.sched, [a], (js) => js[0]?.state === "running");
    const b = await env.submit(later);
    await waitFor(
      env.sched,
      [b],
      (js) => js[0]?.state === "pending" && js[0].reason === "Resources",
    );
    await env.sched.cancel([b]);
    const [jb] = await waitFor(env.sched, [b], allFinal);
    assertEquals([jb.state, jb.start], ["cancelled", undefined]);
    await env.sched.cancel([a]);
    await waitFor(env.sched, [a], allFinal);
    await sleep(300);
    assert_(!(await Deno.stat(`${env.dir}/ran`).then(() => true, () => false)));
  } finally {
    await env.cleanup();
  }
});

test("local: afterok on a failed job -> pending with DependencyNeverSatisfied; afterok on success runs after", async () => {
  const env = await setup();
  try {
    const bad = await env.script("bad", [`--output=${env.dir}/logs/%j.log`], "sleep 0.3; exit 1");
    const good = await env.script("good", [`--output=${env.dir}/logs/%j.log`], "sleep 0.3");
    const a = await env.submit(bad);
    const b = await env.submit(good, { dependency: `afterok:${a}` });
    const [pending] = await waitFor(env.sched, [b], (js) => js[0]?.reason === "Dependency");
    assertEquals(pending.state, "pending");
    await waitFor(env.sched, [a], allFinal);
    const [never] = await waitFor(
      env.sched,
      [b],
      (js) => js[0]?.reason === "DependencyNeverSatisfied",
    );
    assertEquals(never.state, "pending");

    const c = await env.submit(good);
    const d = await env.submit(good, { dependency: `afterok:${c}` });
    const jobs = await waitFor(env.sched, [c, d], allFinal);
    assertEquals(jobs.map((j) => j.state), ["completed", "completed"]);
    assert_(Date.parse(jobs[1].start!) >= Date.parse(jobs[0].end!));
    await assertRejects(
      () => env.submit(good, { dependency: "afterok:99999" }),
      (e) => assertMatch(e.message, /Job dependency problem/),
    );
  } finally {
    await env.cleanup();
  }
});

test("local: a second instance and a separate process see the same jobs", async () => {
  const env = await setup();
  try {
    const done = await env.script("done", [`--output=${env.dir}/logs/%j.log`], "exit 3");
    const run = await env.script("run", [`--output=${env.dir}/logs/%j.log`], "sleep 30");
    const a = await env.submit(done);
    await waitFor(env.sched, [a], allFinal);
    const b = await env.submit(run);
    await waitFor(env.sched, [b], (js) => js[0]?.state === "running");

    const other = new LocalScheduler({ root: env.root, selfCommand: SELF, sys: denoLocalSystem() });
    const seen = (await other.query({ commentPrefix: "autoexp:test:" })).jobs;
    assertEquals(seen.map((j) => [j.id, j.state, j.exitCode]), [[a, "failed", 3], [
      b,
      "running",
      undefined,
    ]]);

    const probe = `${env.dir}/probe.ts`;
    await Deno.writeTextFile(
      probe,
      `import { LocalScheduler } from ${JSON.stringify(`${ROOT}/lib/scheduler/local.ts`)};
import { denoLocalSystem } from ${JSON.stringify(`${ROOT}/lib/runtime/local_os.ts`)};
const s = new LocalScheduler({ root: Deno.args[0], selfCommand: [], sys: denoLocalSystem() });
const r = await s.query({ ids: Deno.args.slice(1) });
console.log(JSON.stringify(r.jobs.map((j) => [j.id, j.state, j.exitCode ?? null])));`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", probe, env.root, a, b],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
    assertEquals(JSON.parse(new TextDecoder().decode(out.stdout)), [[a, "failed", 3], [
      b,
      "running",
      null,
    ]]);
  } finally {
    await env.cleanup();
  }
});

test("local: kill -9 of a supervisor -> node_fail, and the job's processes are killed", async () => {
  const env = await setup();
  try {
    const s = await env.script("orphan", [`--output=${env.dir}/logs/%j.log`], "sleep 60");
    const id = await env.submit(s);
    await waitFor(env.sched, [id], (js) => js[0]?.state === "running");
    const job = JSON.parse(await Deno.readTextFile(`${env.root}/jobs/${id}/job.json`));
    const shell = (await taskState(env.root, id)).pid;
    Deno.kill(job.supervisor.pid, "SIGKILL");
    const [j] = await waitFor(env.sched, [id], allFinal, 5000);
    assertEquals([j.state, j.rawState, j.reason], ["node_fail", "NODE_FAIL", "NodeFail"]);
    for (let i = 0; i < 20 && groupMembers(shell).length; i++) await sleep(100);
    assertEquals(groupMembers(shell), []);
    // Recorded on disk: a fresh instance sees it without checking again.
    assertEquals((await taskState(env.root, id)).state, "NODE_FAIL");
  } finally {
    await env.cleanup();
  }
});

test("local: SIGTERM to a supervisor ends its tasks as node_fail and it exits", async () => {
  const env = await setup({ killWaitSec: 1 });
  try {
    const s = await env.script("shutdown", [`--output=${env.dir}/logs/%j.log`], "sleep 60");
    const id = await env.submit(s, { array: "0-1%1" });
    await waitFor(env.sched, [id], (js) => js.some((j) => j.state === "running"));
    const job = JSON.parse(await Deno.readTextFile(`${env.root}/jobs/${id}/job.json`));
    const shell = (await taskState(env.root, id, "0")).pid;
    Deno.kill(job.supervisor.pid, "SIGTERM");
    const jobs = await waitFor(env.sched, [id], allFinal, 5000);
    assertEquals(jobs.map((j) => j.state), ["node_fail", "node_fail"]);
    for (let i = 0; i < 30 && alive(job.supervisor.pid); i++) await sleep(100);
    assert_(!alive(job.supervisor.pid), "the supervisor exited");
    assertEquals(groupMembers(shell), []);
  } finally {
    await env.cleanup();
  }
});

test("local: concurrent submits, in one process and from several, get distinct ids", async () => {
  const env = await setup();
  try {
    const s = await env.script("held", [`--output=${env.dir}/logs/%j.log`, "--hold"], "true");
    const second = new LocalScheduler({
      root: env.root,
      selfCommand: SELF,
      sys: denoLocalSystem(),
    });
    const submitter = `${env.dir}/submitter.ts`;
    await Deno.writeTextFile(
      submitter,
      `import { LocalScheduler } from ${JSON.stringify(`${ROOT}/lib/scheduler/local.ts`)};
import { denoLocalSystem } from ${JSON.stringify(`${ROOT}/lib/runtime/local_os.ts`)};
const s = new LocalScheduler({
  root: Deno.args[0],
  selfCommand: ${JSON.stringify(SELF)},
  sys: denoLocalSystem(),
});
const ids = await Promise.all([0, 1, 2].map((i) =>
  s.submit({ script: Deno.args[1], cwd: Deno.args[2], jobName: "p" + i, comment: "autoexp:test:p" + i })
));
console.log(JSON.stringify(ids.map((r) => r.jobId)));`,
    );
    const procs = [0, 1].map(() =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--quiet", submitter, env.root, s, env.dir],
        stdout: "piped",
        stderr: "piped",
      }).output()
    );
    const local = await Promise.all([
      ...[0, 1, 2].map(() => env.submit(s)),
      ...[0, 1, 2].map((i) =>
        second.submit({ script: s, cwd: env.dir, jobName: `q${i}`, comment: `autoexp:test:q${i}` })
          .then((r) => r.jobId)
      ),
    ]);
    const remote: string[] = [];
    for (const p of await Promise.all(procs)) {
      assertEquals(p.code, 0, new TextDecoder().decode(p.stderr));
      remote.push(...JSON.parse(new TextDecoder().decode(p.stdout)));
    }
    const ids = [...local, ...remote];
    assertEquals(ids.length, 12);
    assertEquals(new Set(ids).size, 12, ids.join(" "));
    const { jobs } = await env.sched.query({ ids });
    assertEquals(jobs.length, 12);
    assert_(jobs.every((j) => j.state === "pending" && j.reason === "JobHeldUser"));
  } finally {
    await env.cleanup();
  }
});

test("local: hold, TimeLimit update and release of a pending job", async () => {
  const env = await setup({ timeScale: 0.01 });
  try {
    const s = await env.script(
      "hold",
      [`--output=${env.dir}/logs/%j.log`, "--time=100"],
      "sleep 30",
    );
    const id = await env.submit(s, { extraArgs: ["--hold"] });
    await waitFor(env.sched, [id], (js) => js[0]?.reason === "JobHeldUser");
    await env.sched.update(id, { TimeLimit: "1" });
    await env.sched.release([id]);
    const [j] = await waitFor(env.sched, [id], allFinal);
    assertEquals(j.state, "timeout");
    const ran = Date.parse(j.end!) - Date.parse(j.start!);
    assert_(ran < 3000, `the updated 1-minute limit (0.6 s) applied: ran ${ran} ms`);
    await assertRejects(() => env.sched.hold([id]), (e) => assertMatch(e.message, /pending/));
    await assertRejects(
      () => env.sched.cancel(["424242"]),
      (e) => assertMatch(e.message, /Invalid job id/),
    );
  } finally {
    await env.cleanup();
  }
});

test("local: requeue a finished job -> same id, RestartCount+1; --no-requeue refuses", async () => {
  const env = await setup();
  try {
    const s = await env.script(
      "again",
      [`--output=${env.dir}/logs/%j.log`, "--open-mode=append"],
      'echo "restart $SLURM_RESTART_COUNT"',
    );
    const id = await env.submit(s);
    await waitFor(env.sched, [id], allFinal);
    await assertRejects(() => env.sched.requeue(["999999"]));
    await env.sched.requeue([id]);
    const [j] = await waitFor(env.sched, [id], (js) => allFinal(js) && js[0].restarts === 1);
    assertEquals([j.id, j.state], [id, "completed"]);
    assertEquals(await Deno.readTextFile(`${env.dir}/logs/${id}.log`), "restart 0\nrestart 1\n");

    const fixed = await env.script(
      "fixed",
      [`--output=${env.dir}/logs/%j.log`, "--no-requeue"],
      "true",
    );
    const f = await env.submit(fixed);
    await waitFor(env.sched, [f], allFinal);
    await assertRejects(() => env.sched.requeue([f]), (e) => assertMatch(e.message, /disabled/));
  } finally {
    await env.cleanup();
  }
});

test("local: requeue a running job -> killed, runs again with the same id", async () => {
  const env = await setup({ killWaitSec: 1 });
  try {
    const s = await env.script(
      "requeue-running",
      [`--output=${env.dir}/logs/%j.log`, "--open-mode=append", "--requeue"],
      'echo "start $SLURM_RESTART_COUNT"\nif [ "$SLURM_RESTART_COUNT" = 0 ]; then sleep 30; fi',
    );
    const id = await env.submit(s);
    await waitFor(env.sched, [id], (js) => js[0]?.state === "running");
    await assertRejects(() => env.sched.hold([id]), (e) => assertMatch(e.message, /pending/));
    await env.sched.requeue([id]);
    const [j] = await waitFor(env.sched, [id], (js) => allFinal(js) && js[0].restarts === 1);
    assertEquals([j.id, j.state, j.exitCode], [id, "completed", 0]);
    assertEquals(await Deno.readTextFile(`${env.dir}/logs/${id}.log`), "start 0\nstart 1\n");
  } finally {
    await env.cleanup();
  }
});

test("local: a missing output directory fails the job and writes nothing", async () => {
  const env = await setup();
  try {
    const s = await env.script("nodir", [`--output=${env.dir}/missing/%j.log`], "echo hi");
    const id = await env.submit(s);
    const [j] = await waitFor(env.sched, [id], allFinal);
    assertEquals([j.state, j.reason], ["failed", "JobLaunchFailure"]);
    assert_(!(await Deno.stat(`${env.dir}/missing`).then(() => true, () => false)));
    assertMatch((await taskState(env.root, id)).message, /missing/);
  } finally {
    await env.cleanup();
  }
});

test("local: limits", async () => {
  const env = await setup();
  try {
    assertEquals(await env.sched.limits(), { maxArraySize: 10001, accounting: true });
  } finally {
    await env.cleanup();
  }
});

test("local: AUTOEXP_LOCAL_MAX_PARALLEL=1 runs jobs one after another (seed 004's max_parallel)", async () => {
  const real = denoLocalSystem();
  const sys = { ...real, env: () => ({ ...real.env(), AUTOEXP_LOCAL_MAX_PARALLEL: "1" }) };
  const env = await setup({ slots: undefined, sys });
  try {
    const s = await env.script("seq", [`--output=${env.dir}/logs/%j.log`], "sleep 0.4");
    const a = await env.submit(s);
    const b = await env.submit(s);
    const jobs = await waitFor(env.sched, [a, b], allFinal);
    // One after the other, in either order (which supervisor takes the slot first is a race).
    const [first, second] = [...jobs].sort((x, y) => Date.parse(x.start!) - Date.parse(y.start!));
    assert_(Date.parse(second.start!) >= Date.parse(first.end!), JSON.stringify(jobs));
    const bad = { ...real, env: () => ({ ...real.env(), AUTOEXP_LOCAL_MAX_PARALLEL: "four" }) };
    const refused = new LocalScheduler({ root: `${env.dir}/other`, selfCommand: SELF, sys: bad });
    const err = await refused.submit({ script: s, cwd: env.dir, jobName: "x", comment: "x" })
      .then(() => "", (e) => String(e));
    assert_(/AUTOEXP_LOCAL_MAX_PARALLEL must be a positive whole number/.test(err), err);
  } finally {
    await env.cleanup();
  }
});
