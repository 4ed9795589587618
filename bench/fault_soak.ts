/**
 * Fault soak on the SLURM test cluster (tools/slurm_cluster.sh): one sweep of runs with
 * checkpoint conversions, followed by a monitor that is SIGKILLed and started again many times,
 * while slurmctld goes down and jobs are requeued under it. At the end every run must have
 * completed, every action been done exactly once, every checkpoint converted once, and no two
 * jobs of one run have run at the same time (from sacct's start and end times).
 *
 *   deno run -A bench/fault_soak.ts [--runs 4] [--kills 30] [--outages 3] [--requeues 5]
 *
 * Prints the figures and exits 1 when a check fails. Needs the cluster up and root (the
 * controller is restarted).
 *
 * @module
 */
import { parseJournal } from "../lib/store/store.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

function flag(name: string, fallback: number): number {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Number(Deno.args[i + 1]) : fallback;
}
const RUNS = flag("runs", 4);
const KILLS = flag("kills", 30);
const OUTAGES = flag("outages", 3);
const REQUEUES = flag("requeues", 5);

const out = await Deno.makeTempDir({ prefix: "autoexp-soak-" });
const sweep = `${out}/faults`;
const env = { AUTOEXP_OUTPUT_DIR: out, NO_COLOR: "1" };
const t0 = Date.now();
const log = (s: string) => console.log(`[${((Date.now() - t0) / 1000).toFixed(0)}s] ${s}`);
const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

function autoexp(args: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", `${ROOT}/main.ts`, ...args],
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function sh(cmd: string, args: string[]): Promise<string> {
  const o = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  return new TextDecoder().decode(o.stdout) + new TextDecoder().decode(o.stderr);
}

// deno-lint-ignore no-explicit-any
type Ev = Record<string, any>;
async function journal(): Promise<Ev[]> {
  const text = await Deno.readTextFile(`${sweep}/.autoexp/journal.jsonl`).catch(() => "");
  return parseJournal(text) as Ev[];
}

// The sweep: RUNS runs of the example trainer, 150 iterations of 1 s, a checkpoint (and its
// conversion) every 10, --requeue so `scontrol requeue` restarts a job under its id.
const points = Array.from({ length: RUNS }, (_, i) => i + 1).join(",");
const submit = autoexp([
  "submit",
  "-C",
  `${ROOT}/tests/testdata/monitor`,
  "--scheduler",
  "slurm",
  "--no-monitor",
  "--yes",
  "-m",
  "-o",
  `+n=${points}`,
  "-o",
  "sweep.metadata_keys=[n]",
  "-o",
  "slurm.sbatch.requeue=true",
  "-o",
  "backend.args.train_iters=150",
  "-o",
  "backend.args.iter_seconds=1",
]);
const sub = await submit.output();
if (sub.code !== 0) {
  console.error(new TextDecoder().decode(sub.stdout) + new TextDecoder().decode(sub.stderr));
  Deno.exit(1);
}
log(`submitted ${RUNS} runs into ${sweep}`);

let monitor = autoexp(["monitor", "--state", sweep]);
let kills = 0;
let outages = 0;
let requeues = 0;
const random = (a: number, b: number) => a + Math.random() * (b - a);

// Faults, each on its own schedule, until their counts are reached.
const killer = (async () => {
  while (kills < KILLS) {
    await sleep(random(2000, 7000));
    try {
      monitor.kill("SIGKILL");
    } catch { /* it had ended */ }
    await monitor.output();
    kills++;
    monitor = autoexp(["monitor", "--state", sweep]);
  }
})();
const outager = (async () => {
  while (outages < OUTAGES) {
    await sleep(random(20_000, 40_000));
    log(`slurmctld down for 20 s (outage ${outages + 1})`);
    await sh("bash", [
      `${ROOT}/tools/slurm_cluster.sh`,
      "restart-controller",
      "--down-seconds",
      "20",
    ]);
    outages++;
  }
})();
const requeuer = (async () => {
  while (requeues < REQUEUES) {
    await sleep(random(10_000, 25_000));
    const running = (await sh("squeue", ["-h", "-t", "RUNNING", "-o", "%i %k"]))
      .split("\n").filter((l) => l.includes("autoexp:")).map((l) => l.split(" ")[0]);
    if (!running.length) continue;
    const id = running[Math.floor(Math.random() * running.length)];
    const r = await sh("scontrol", ["requeue", id]);
    if (!r.trim()) {
      requeues++;
      log(`requeued job ${id} (${requeues})`);
    }
  }
})();
await Promise.all([killer, outager, requeuer]);
log(`faults done: ${kills} monitor SIGKILLs, ${outages} outages, ${requeues} requeues`);

// The last monitor follows the sweep to its end.
const last = await monitor.output();
const ended = Date.now();
const events = await journal();
const failures: string[] = [];
if (last.code !== 0) failures.push(`the last monitor exited ${last.code}`);

// Every run completed.
const attempts = new Map<string, { jobId?: string; final?: string }[]>();
const byIntent = new Map<number, { jobId?: string; final?: string }[]>();
for (const e of events) {
  if (e.type === "submit_intent") {
    for (const r of e.runs) {
      const a = { final: undefined };
      attempts.set(r.name, [...(attempts.get(r.name) ?? []), a]);
      byIntent.set(e.seq, [...(byIntent.get(e.seq) ?? []), a]);
    }
  } else if (e.type === "submitted") {
    for (const a of byIntent.get(e.intent) ?? []) (a as { jobId?: string }).jobId = e.jobId;
  } else if (e.type === "verdict" && e.final) {
    const list = attempts.get(e.run) ?? [];
    const a = list[e.attempt - 1];
    if (a) a.final = e.state;
  }
}
for (const [run, list] of attempts) {
  if (list.at(-1)?.final !== "completed") {
    failures.push(`${run}: last attempt ${list.at(-1)?.final ?? "not final"}`);
  }
}

// Every queued action done exactly once.
const queued = new Set(events.filter((e) => e.type === "action_queued").map((e) => e.id));
const done = new Map<string, number>();
for (const e of events.filter((e) => e.type === "action_done")) {
  done.set(e.id, (done.get(e.id) ?? 0) + 1);
}
for (const id of queued) {
  if (done.get(id) !== 1) failures.push(`action ${id} done ${done.get(id) ?? 0} times`);
}

// Every checkpoint converted once (the conversion appends "<iteration> <attempt>").
let conversions = 0;
for (const run of attempts.keys()) {
  const lines = (await Deno.readTextFile(`${sweep}/runs/${run}/conversions.txt`).catch(() => ""))
    .split("\n").filter(Boolean);
  conversions += lines.length;
  const its = lines.map((l) => l.split(" ")[0]);
  const dup = its.filter((x, i) => its.indexOf(x) !== i);
  if (dup.length) failures.push(`${run}: checkpoint(s) ${dup.join(", ")} converted twice`);
}

// No two jobs of one run at the same time (sacct keeps every run of a requeued job).
let overlaps = 0;
for (const [run, list] of attempts) {
  const ids = list.map((a) => a.jobId).filter((x): x is string => !!x);
  if (ids.length < 2) continue;
  const rows = (await sh("sacct", [
    "-X",
    "-n",
    "-P",
    "--duplicates",
    "-j",
    ids.join(","),
    "-o",
    "JobID,Start,End",
  ]))
    .split("\n").filter(Boolean).map((l) => l.split("|"));
  const spans = rows.map(([id, s, e]) => ({
    id,
    s: Date.parse(s),
    e: e === "Unknown" ? Date.now() : Date.parse(e),
  })).filter((x) => Number.isFinite(x.s));
  for (const a of spans) {
    for (const b of spans) {
      if (a.id < b.id && a.s < b.e && b.s < a.e) {
        overlaps++;
        failures.push(`${run}: jobs ${a.id} and ${b.id} ran at the same time`);
      }
    }
  }
}

const nAttempts = [...attempts.values()].reduce((n, l) => n + l.length, 0);
console.log(JSON.stringify(
  {
    runs: attempts.size,
    completed: [...attempts.values()].filter((l) => l.at(-1)?.final === "completed").length,
    attempts: nAttempts,
    monitor_sigkills: kills,
    controller_outages: outages,
    requeues,
    actions: queued.size,
    actions_done_once: [...queued].filter((id) => done.get(id) === 1).length,
    conversions,
    overlapping_jobs: overlaps,
    minutes: Math.round((ended - t0) / 600) / 100,
    failures,
  },
  null,
  2,
));
if (failures.length) Deno.exit(1);
await Deno.remove(out, { recursive: true });
