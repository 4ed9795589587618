/**
 * Benchmark: expand a 10,000-point sweep (grid x zip x -m axis, with a filter) and name every
 * point, as `plan` does once per sweep.
 *
 *   deno bench -A bench/sweep_bench.ts
 */
import { expandSweep, parseSweepSpec } from "../lib/sweep/expand.ts";
import { assignRunNames } from "../lib/sweep/naming.ts";

const range = (n: number, f = (i: number) => i) => Array.from({ length: n }, (_, i) => f(i));

const raw = {
  name_template: "{model_size}_lr{lr}_wd{weight_decay}_s{seed}_{index:05d}",
  axes: {
    model_size: ["50M", "100M", "200M", "400M", "800M"],
    "backend.args.lr": range(10, (i) => 10 ** -(i / 3 + 2)),
    "backend.args.weight_decay": [0, 0.01, 0.1, 0.2, 0.3],
  },
  zip: { "backend.args.warmup": range(5, (i) => i * 100), "backend.args.decay": range(5) },
  filter: "not (model_size == '800M' and lr > 0.005) and (weight_decay < 0.3 or seed < 4)",
};
const multirun = [{ key: "seed", values: range(10) }];
const spec = parseSweepSpec(raw);
const count = expandSweep(spec, multirun).length;
if (count < 10_000) throw new Error(`expected at least 10,000 points, got ${count}`);

Deno.bench(`parse + expand ${count} points (from 12,500, filtered)`, () => {
  expandSweep(parseSweepSpec(raw), multirun);
});

Deno.bench(`parse + expand + name ${count} points`, () => {
  const s = parseSweepSpec(raw);
  assignRunNames(expandSweep(s, multirun), s?.nameTemplate, { project: "bench" });
});

Deno.bench(`parse + expand + default names ${count} points`, () => {
  assignRunNames(expandSweep(parseSweepSpec(raw), multirun), undefined, { project: "bench" });
});
