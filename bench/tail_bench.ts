/**
 * Benchmark: 100,000 Megatron iteration lines (about 36 MB, with `[default7]:` prefixes)
 * through the log tail and the built-in event patterns, as the monitor reads a log.
 * Lines per second = 100,000 / the reported time per iteration.
 *
 *   deno bench -A bench/tail_bench.ts
 */
import { LogTail } from "../lib/monitor/tail.ts";
import { type TailSource, tailSourceFromOpen } from "../lib/runtime/tail_source.ts";
import { compileEvents, matchLine, MEGATRON_EVENTS } from "../lib/monitoring/events.ts";

const N = 100_000;
const source: TailSource = tailSourceFromOpen(
  (p) => Deno.open(p),
  (e) => e instanceof Deno.errors.NotFound,
);
const events = compileEvents(MEGATRON_EVENTS);

const iterationLine = (i: number) =>
  `[default7]: [2026-08-22 10:03:12.512345] iteration ${String(i).padStart(8)}/  ${N} | ` +
  `consumed samples: ${String(i * 256).padStart(12)} | elapsed time per iteration (ms): 1523.4 | ` +
  `throughput per GPU (TFLOP/s/GPU): 412.7 | learning rate: 1.500000E-04 | global batch size:   256 | ` +
  `lm loss: 6.912345E+00 | loss scale: 1.0 | grad norm: 1.234 | number of skipped iterations:   0 | ` +
  `number of nan iterations:   0 |`;
const lines = Array.from({ length: N }, (_, i) => iterationLine(i + 1));
// Every 1000th iteration a checkpoint save, as a real log has them.
for (let i = 999; i < N; i += 1000) {
  lines[i] +=
    `\n[default0]:  [2026-08-22 10:15:07.654321] successfully saved checkpoint from iteration ` +
    `${String(i + 1).padStart(7)} to /ckpt/run1 [ t 1/1, gtp_remat 1/1, p 1/1 ]`;
}
const dir = await Deno.makeTempDir({ prefix: "autoexp_tail_bench_" });
const log = `${dir}/train.out`;
await Deno.writeTextFile(log, lines.join("\n") + "\n");
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));

async function tailAll(match: boolean): Promise<number> {
  const tail = new LogTail(source, log);
  let seen = 0;
  let progress = 0;
  for (;;) {
    const r = await tail.poll();
    if (!r.lines.length) break;
    seen += r.lines.length;
    if (match) {
      for (const line of r.lines) progress += matchLine(events, line).length;
    }
  }
  if (seen !== N + N / 1000) throw new Error(`read ${seen} lines`);
  if (match && progress !== seen) throw new Error(`matched ${progress} of ${seen} lines`);
  return seen;
}

Deno.bench(`tail ${N} iteration lines`, async () => {
  await tailAll(false);
});

Deno.bench(`tail + match built-in Megatron patterns on ${N} iteration lines`, async () => {
  await tailAll(true);
});

Deno.bench(`match built-in Megatron patterns on ${N} lines (in memory)`, () => {
  for (const line of lines) matchLine(events, line);
});
