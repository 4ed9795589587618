import { assertEquals } from "../_assert.ts";
import { emptyLogMetrics, feedLog, logReaderFor } from "../../lib/results/log_metrics.ts";
import {
  type AttemptInput,
  buildFailures,
  buildResults,
  gpuHours,
  type RunInput,
} from "../../lib/results/rows.ts";
import {
  defaultColumns,
  renderResultsCsv,
  renderResultsMarkdown,
  sortRows,
  tableCells,
} from "../../lib/results/render.ts";

const reader = logReaderFor([]);
const log = (...lines: string[]) => feedLog(emptyLogMetrics(), reader, lines);
const iter = (i: number, loss: string) =>
  ` iteration ${i}/ 40 | learning rate: 1.0E-03 | lm loss: ${loss} | grad norm: 1.0 |`;

function attempt(n: number, over: Partial<AttemptInput> = {}): AttemptInput {
  return {
    attempt: n,
    jobId: `${n}`,
    state: "completed",
    final: true,
    exitCode: 0,
    reason: null,
    startedAt: "2026-01-01T00:00:00Z",
    endedAt: "2026-01-01T00:30:00Z",
    restart: null,
    logPath: `/l/${n}.log`,
    log: null,
    ...over,
  };
}

function run(name: string, over: Partial<RunInput> = {}): RunInput {
  return {
    name,
    index: 0,
    parent: null,
    values: {},
    overrides: [],
    gpus: 4,
    state: "completed",
    final: true,
    attempts: [],
    files: {},
    ...over,
  };
}

const crashed = run("r_lr0.1", {
  values: { "backend.args.lr": 0.1 },
  attempts: [
    attempt(1, {
      state: "failed",
      failureClass: "crash",
      exitCode: 1,
      restart: "attempt 1 crashed; restart 1 of 3",
      log: log(
        iter(10, "5.000000E+00"),
        iter(20, "3.000000E+00"),
        "Traceback (most recent call last):",
        "ValueError: boom",
      ),
    }),
    attempt(2, { log: log(iter(30, "3.500000E+00")) }),
  ],
  files: { "eval.mmlu": 0.5 },
});
const running = run("r_lr0.01", {
  index: 1,
  values: { "backend.args.lr": 0.01 },
  state: "running",
  final: false,
  attempts: [
    attempt(1, { state: "running", final: false, endedAt: null, log: log(iter(10, "4.0E+00")) }),
  ],
});
const derived = run("r_lr0.1_cooldown_20", {
  index: 0,
  parent: "r_lr0.1",
  values: { "backend.args.lr": 0.1 },
  overrides: ["++backend.args.train_iters=30"],
  results: { best: { "eval.mmlu": "max", grad_norm: "min" }, log_metrics: false },
  attempts: [attempt(1)],
  files: { "eval.mmlu": 0.7 },
});

Deno.test("buildResults: one row per run; last value from the newest attempt, best over all", () => {
  const t = buildResults([crashed, running, derived], Date.parse("2026-01-01T01:00:00Z"));
  assertEquals(t.params, ["backend.args.lr"]);
  assertEquals(t.metrics, [
    "iteration",
    "loss",
    "loss.best",
    "lr",
    "grad_norm",
    "eval.mmlu",
  ]);
  const [a, b, c] = t.rows;
  assertEquals(a.metrics.loss, 3.5, "the resumed attempt's last loss");
  assertEquals(a.metrics["loss.best"], 3, "the best over both attempts");
  assertEquals(a.metrics.iteration, 30);
  assertEquals(a.attempts, 2);
  assertEquals(a.gpu_hours, 4, "two attempts of 30 minutes on 4 GPUs");
  assertEquals(a.partial, false);
  assertEquals(b.partial, true);
  assertEquals(b.gpu_hours, 4, "a running attempt counts to now");
  assertEquals(c.parent, "r_lr0.1");
  assertEquals(c.metrics, { "eval.mmlu": 0.7 }, "log_metrics: false; no best without values");
});

Deno.test("buildResults: the column order depends on names, not on which run came first", () => {
  const t1 = buildResults([derived, running, crashed], 0);
  const t2 = buildResults([crashed, running, derived], 0);
  assertEquals(t1.metrics, t2.metrics);
});

Deno.test("gpuHours: unknown start, ended, running", () => {
  assertEquals(gpuHours(attempt(1, { startedAt: null }), 8, 0), 0);
  assertEquals(gpuHours(attempt(1), 8, 0), 4);
  assertEquals(gpuHours(attempt(1), 0, 0), 0);
});

Deno.test("buildFailures: the failed attempt with its class, error line and overrides", () => {
  const f = buildFailures([crashed, running, derived]);
  assertEquals(f.length, 1);
  assertEquals(f[0].run, "r_lr0.1");
  assertEquals(f[0].attempt, 1);
  assertEquals(f[0].class, "crash");
  assertEquals(f[0].state, "failed");
  assertEquals(f[0].exit_code, 1);
  assertEquals(f[0].error, "ValueError: boom");
  assertEquals(f[0].lines, ["Traceback (most recent call last):", "ValueError: boom"]);
  assertEquals(f[0].overrides, ["backend.args.lr=0.1"]);
});

Deno.test("sortRows: by a metric, descending with -, missing values last", () => {
  const t = buildResults([crashed, running, derived], 0);
  assertEquals(sortRows(t.rows, "loss").map((r) => r.run), [
    "r_lr0.1",
    "r_lr0.01",
    "r_lr0.1_cooldown_20",
  ]);
  assertEquals(sortRows(t.rows, "-loss").map((r) => r.run), [
    "r_lr0.01",
    "r_lr0.1",
    "r_lr0.1_cooldown_20",
  ]);
  assertEquals(sortRows(t.rows, "eval.mmlu:desc").map((r) => r.run)[0], "r_lr0.1_cooldown_20");
});

Deno.test("renderers: table marks partial rows, CSV keeps exact values and a partial column", () => {
  const t = buildResults([crashed, running], 0);
  const cols = defaultColumns(t);
  const { header, cells } = tableCells(t.rows, cols);
  assertEquals(header[0], "run");
  assertEquals(header[header.length - 1], "from");
  assertEquals(cells[1][0], "r_lr0.01 *");
  const csv = renderResultsCsv(t.rows, ["run", "loss"]);
  assertEquals(csv, "run,loss,partial\nr_lr0.1,3.5,false\nr_lr0.01,4,true\n");
  const md = renderResultsMarkdown(t.rows, ["run", "loss"]);
  assertEquals(md.split("\n")[1], "| --- | --- |");
});
