/**
 * Benchmark of `autoexp results` (issue 15's figure): 1,000 runs with 100 MB of Megatron logs
 * (about 100 KB, 330 iteration lines, each), read cold (no cache), again (nothing new: the
 * cache's offsets), and after 100 logs grew by 10 lines (only the new bytes are read).
 *
 *   deno run -A bench/results_bench.ts
 */
import { readSweepResults, renderResults, resultsCacheOf } from "../lib/cli/results_cmd.ts";
import { writePlan } from "../lib/render/tree.ts";
import { DenoFileSystem } from "../lib/runtime/fs.ts";
import type { Runtime } from "../lib/runtime/mod.ts";
import { denoTailSource } from "../lib/runtime/tail_source.ts";
import { SweepStore } from "../lib/store/store.ts";
import { submitSweep } from "../lib/submit/mod.ts";
import { FakeScheduler } from "../tests/_fake_scheduler.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const fs = new DenoFileSystem();
const N = 1000;
const LOG_BYTES = 100_000;

const iterLine = (i: number) =>
  ` [2026-11-22 10:00:00.000000] iteration ${String(i).padStart(8)}/  100000 | consumed samples: ${
    String(i * 8).padStart(12)
  } | elapsed time per iteration (ms): 100.0 | throughput per GPU (TFLOP/s/GPU): 187.3 | learning rate: 1.000000E-04 | global batch size:     8 | lm loss: ${
    (10 / (1 + i / 100)).toExponential(6).toUpperCase().replace(/E([+-])(\d)$/, "E$10$2")
  } | loss scale: 1.0 | grad norm: 1.234 | number of skipped iterations:   0 | number of nan iterations:   0 |\n`;

const out = await Deno.makeTempDir({ prefix: "autoexp-bench-results-" });
const host = {
  env: { AUTOEXP_OUTPUT_DIR: out },
  hostname: () => "bench",
  cwd: () => out,
  now: () => new Date(),
  color: false,
  pid: () => Deno.pid,
  selfCommand: () => ["/usr/bin/autoexp"],
} as never;
const outcome = await writePlan(
  {
    configDir: `${ROOT}/tests/testdata/monitor`,
    overrides: ["slurm.array=true", `backend.args.train_iters=range(1,${N + 1})`],
    multirun: true,
  },
  { fs, host },
);
const plan = outcome.plan;
const scheduler = new FakeScheduler();
const store = await SweepStore.open(fs, host, plan.sweep.dir);
await submitSweep(plan, store, scheduler, { fs });
const arrayId = [...scheduler.jobs.keys()][0];
const group = plan.groups[0].id;
const logs = plan.runs.map((r) => `${plan.sweep.dir}/logs/${group}/${arrayId}_${r.index}.log`);
await fs.mkdirp(`${plan.sweep.dir}/logs/${group}`);
const lines: string[] = [];
let size = 0;
for (let i = 1; size < LOG_BYTES; i++) {
  lines.push(iterLine(i));
  size += lines[lines.length - 1].length;
}
const body = lines.join("");
for (const l of logs) await Deno.writeTextFile(l, body);
let total = 0;
for (const l of logs) total += (await Deno.stat(l)).size;

const r: Runtime = {
  fs,
  host,
  proc: { run: () => Promise.reject(new Error("no processes")) } as never,
  output: { out: () => {}, err: () => {} },
};
const loc = { plan };
async function timed(label: string): Promise<void> {
  const t0 = performance.now();
  const res = await readSweepResults(r, loc, { live: false, source: denoTailSource() });
  const text = renderResults(res, { live: false });
  const ms = performance.now() - t0;
  console.log(
    `${label}: ${(ms / 1000).toFixed(2)} s (${res.table.rows.length} rows, ${
      text.split("\n").length
    } lines of table)`,
  );
}
console.log(`${N} runs, ${(total / 1e6).toFixed(1)} MB of logs (${lines.length} lines each)`);
await timed("cold (every log read)");
await timed("again (nothing new)");
for (const l of logs.slice(0, 100)) {
  await Deno.writeTextFile(l, lines.slice(0, 10).join(""), { append: true });
}
await timed("after 100 logs grew");
await fs.remove(resultsCacheOf(SweepStore.dirOf(plan.sweep.dir)));
await Deno.remove(out, { recursive: true });
