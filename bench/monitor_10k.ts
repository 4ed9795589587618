/**
 * The monitor and status at 10,000 runs (issue 16's figures), each measured in a fresh process:
 *
 * 1. `--round DIR`: one monitor round over 10k running runs when nothing changed (every task
 *    running in an in-memory scheduler, every log idle): CPU per round, median of 15.
 * 2. `--once DIR`: `monitor --once` when every one of the 10k jobs is missing from the queue
 *    (the scheduler knows none of them; no run wrote a marker): open the store, load the plan,
 *    one round and what it starts. The store is restored after each measurement.
 * 3. `autoexp status --state DIR` (the CLI, a process of its own; the sweep was submitted to the
 *    in-memory scheduler, so status does not ask a scheduler).
 *
 * The synthetic sweep: N runs of tests/testdata/monitor as one job array, submitted, every task
 * running, each log one iteration line, two monitor rounds done (verdicts journaled).
 *
 *   deno run -A bench/monitor_10k.ts [--runs 10000] [--reps 3] [--keep DIR] [--dir DIR]
 *
 * `--dir DIR` measures a sweep generated earlier (with `--keep`); pairing two trees: generate
 * once, then run each tree's bench with `--dir` alternately.
 *
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { Monitor } from "../lib/monitor/monitor.ts";
import { loadPlan } from "../lib/monitor/load_plan.ts";
import { DenoFileSystem } from "../lib/runtime/fs.ts";
import { SweepStore } from "../lib/store/store.ts";
import { FakeScheduler } from "../tests/_fake_scheduler.ts";
import { deps, host, runningScheduler, runningSweep } from "./_sweep.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const fs = new DenoFileSystem();
const { values: args } = parseArgs({
  options: {
    runs: { type: "string", default: "10000" },
    reps: { type: "string", default: "3" },
    keep: { type: "string" },
    dir: { type: "string" },
    round: { type: "string" },
    once: { type: "string" },
  },
});

const iterLine = (i: number) =>
  ` [2026-11-22 10:00:00.000000] iteration ${String(i).padStart(8)}/  100000 | consumed samples: ${
    i * 8
  } | elapsed time per iteration (ms): 100.0 | lm loss: 5.0E+00 |\n`;

async function generate(runs: number, out: string): Promise<string> {
  const { plan, monitorFile, store, release, scheduler } = await runningSweep(
    out,
    runs,
    iterLine(1),
  );
  const monitor = new Monitor(deps(scheduler), store, { plan, monitor: monitorFile });
  await monitor.round();
  await monitor.round();
  await release();
  return plan.sweep.dir;
}

/** Child: rounds over a sweep where nothing changes; prints JSON figures. */
async function roundChild(dir: string): Promise<void> {
  const store = await SweepStore.open(fs, host(dir), dir);
  const release = await store.lock("bench round");
  const monitor = new Monitor(deps(runningScheduler(store)), store, await loadPlan(fs, dir));
  await monitor.round();
  await monitor.round();
  const cpu: number[] = [], wall: number[] = [];
  for (let k = 0; k < 15; k++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await monitor.round();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  await release();
  console.log(JSON.stringify({ cpuMs: median(cpu), wallMs: median(wall) }));
}

/** Child: `monitor --once` with every job missing from the queue; prints JSON figures. */
async function onceChild(dir: string): Promise<void> {
  const t0 = performance.now();
  const store = await SweepStore.open(fs, host(dir), dir);
  const release = await store.lock("bench once");
  const monitor = new Monitor(deps(new FakeScheduler()), store, await loadPlan(fs, dir), {
    once: true,
  });
  await monitor.run();
  const ms = performance.now() - t0;
  await release();
  console.log(JSON.stringify({ ms }));
}

function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
}

async function child(argv: string[]): Promise<{ out: string; ms: number }> {
  const t = performance.now();
  const o = await new Deno.Command(Deno.execPath(), {
    args: argv,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const ms = performance.now() - t;
  if (!o.success) throw new Error(new TextDecoder().decode(o.stderr));
  return { out: new TextDecoder().decode(o.stdout), ms };
}

async function copyDir(from: string, to: string): Promise<void> {
  await Deno.remove(to, { recursive: true }).catch(() => {});
  const o = await new Deno.Command("cp", { args: ["-a", from, to] }).output();
  if (!o.success) throw new Error(`cp -a ${from} ${to} failed`);
}

if (args.round) await roundChild(args.round);
else if (args.once) await onceChild(args.once);
else {
  const runs = Number(args.runs), reps = Number(args.reps);
  let dir = args.dir, out: string | undefined;
  if (!dir) {
    out = args.keep ?? await Deno.makeTempDir({ prefix: "autoexp-bench-10k-" });
    const t = performance.now();
    dir = await generate(runs, out);
    console.log(
      `synthetic sweep of ${runs} runs in ${((performance.now() - t) / 1000).toFixed(1)} s`,
    );
  }
  const self = import.meta.filename!;
  const saved = `${dir}/.autoexp.bench-orig`;
  await copyDir(`${dir}/.autoexp`, saved);
  for (let k = 1; k <= reps; k++) {
    const r = JSON.parse((await child(["run", "-A", self, "--round", dir])).out);
    await copyDir(saved, `${dir}/.autoexp`);
    const o = await child(["run", "-A", self, "--once", dir]);
    const once = JSON.parse(o.out);
    await copyDir(saved, `${dir}/.autoexp`);
    const s = await child(["run", "-A", `${ROOT}/main.ts`, "status", "--state", dir]);
    console.log(
      `rep ${k}: round, nothing changed: CPU ${r.cpuMs.toFixed(0)} ms (wall ${
        r.wallMs.toFixed(0)
      } ms); monitor --once, all missing: ${once.ms.toFixed(0)} ms in process, ${
        o.ms.toFixed(0)
      } ms process; status: ${s.ms.toFixed(0)} ms process`,
    );
  }
  await Deno.remove(saved, { recursive: true });
  if (out && !args.keep) await Deno.remove(out, { recursive: true });
}
