import { assert_, assertEquals } from "../_assert.ts";
import {
  addPoint,
  type Curve,
  CURVE_POINTS,
  curvePoints,
  emptyLogMetrics,
  errorLineOf,
  feedLog,
  logReaderFor,
} from "../../lib/results/log_metrics.ts";

const it = (i: number, loss: string, lr = "3.000000E-04") =>
  ` [2026-01-01 10:00:00.000] iteration ${i}/ 40 | consumed samples: ${i * 8} | ` +
  `elapsed time per iteration (ms): 100.0 | throughput per GPU (TFLOP/s/GPU): 42.0 | ` +
  `learning rate: ${lr} | global batch size: 8 | lm loss: ${loss} | loss scale: 1.0 | ` +
  `grad norm: 1.234 | number of skipped iterations: 0 | number of nan iterations: 0 |`;

Deno.test("feedLog: Megatron's iteration line gives iteration, loss, lr, TFLOP/s; last and extremes", () => {
  const m = feedLog(emptyLogMetrics(), logReaderFor([]), [
    it(5, "6.000000E+00"),
    it(10, "4.000000E+00"),
    it(15, "4.500000E+00", "1.000000E-04"),
  ]);
  assertEquals(m.last, {
    iteration: 15,
    loss: 4.5,
    lr: 1e-4,
    tflops: 42,
    ms_per_iter: 100,
    grad_norm: 1.234,
  });
  assertEquals(m.min.loss, 4);
  assertEquals(m.max.loss, 6);
  assertEquals(curvePoints(m.loss), [[5, 6], [10, 4], [15, 4.5]]);
  assertEquals(m.firstIteration, 5);
  assertEquals(m.tail, [], "progress lines are not 'last lines'");
});

Deno.test("feedLog: validation and test loss and perplexity", () => {
  const m = feedLog(emptyLogMetrics(), logReaderFor([]), [
    " validation loss at iteration 20 on validation set | lm loss value: 3.500000E+00 | lm loss PPL: 3.311545E+01 | ",
    " validation loss at iteration 40 on test set | lm loss value: 3.000000E+00 | lm loss PPL: 2.008554E+01 | ",
  ]);
  assertEquals(m.last.val_loss, 3.5);
  assertEquals(m.last.val_ppl, 33.11545);
  assertEquals(m.last.test_loss, 3);
  assertEquals(m.last.test_ppl, 20.08554);
  assertEquals(curvePoints(m.valLoss), [[20, 3.5]]);
});

Deno.test("feedLog: a user event's numeric named groups become <event>.<group> columns", () => {
  const reader = logReaderFor([
    { name: "eval", pattern: String.raw`eval acc=(?P<acc>[0-9.]+) split=(?P<split>\w+)` },
  ]);
  const m = feedLog(emptyLogMetrics(), reader, [
    "eval acc=0.5 split=dev",
    "eval acc=0.7 split=dev",
  ]);
  assertEquals(m.last, { "eval.acc": 0.7 });
  assertEquals(m.max["eval.acc"], 0.7);
});

Deno.test("errorLineOf: a traceback's exception, not its File lines or the last progress line", () => {
  const m = feedLog(emptyLogMetrics(), logReaderFor([]), [
    it(20, "5.000000E+00"),
    "Traceback (most recent call last):",
    '  File "pretrain_gpt.py", line 42, in <module>',
    "RuntimeError: injected crash at iteration 25 (FAULT_CRASH_AT)",
  ]);
  assertEquals(m.error.length, 3);
  assertEquals(errorLineOf(m), "RuntimeError: injected crash at iteration 25 (FAULT_CRASH_AT)");
});

Deno.test("errorLineOf: an out-of-memory line; without an error block the last error-like line", () => {
  const oom = feedLog(emptyLogMetrics(), logReaderFor([]), [
    it(10, "5.000000E+00"),
    "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0",
  ]);
  assertEquals(errorLineOf(oom), oom.error[0]);
  const plain = feedLog(emptyLogMetrics(), logReaderFor([]), [
    "loading data",
    "ValueError: bad shard",
    "cleaning up",
    it(10, "5.000000E+00"),
  ]);
  assertEquals(errorLineOf(plain), "ValueError: bad shard");
  assertEquals(errorLineOf(emptyLogMetrics()), null);
});

Deno.test("addPoint: a long curve keeps at most CURVE_POINTS evenly spread points and its newest", () => {
  const c: Curve = { stride: 1, seen: 0, points: [], end: null };
  const n = 100_000;
  for (let i = 1; i <= n; i++) addPoint(c, i, 1 / i);
  const pts = curvePoints(c);
  assert_(pts.length <= CURVE_POINTS + 1, `${pts.length} points`);
  assert_(pts.length > CURVE_POINTS / 2, `${pts.length} points`);
  assertEquals(pts[0][0], 1);
  assertEquals(pts[pts.length - 1][0], n);
  const gaps = new Set(pts.slice(1, -1).map((p, i) => p[0] - pts[i][0]));
  assertEquals(gaps.size, 1, "evenly spread");
});

Deno.test("feedLog: the state survives JSON (the results cache) and continues", () => {
  const reader = logReaderFor([]);
  const a = feedLog(emptyLogMetrics(), reader, [it(5, "6.000000E+00")]);
  const b = feedLog(JSON.parse(JSON.stringify(a)), reader, [it(10, "4.000000E+00")]);
  const whole = feedLog(emptyLogMetrics(), reader, [it(5, "6.000000E+00"), it(10, "4.000000E+00")]);
  assertEquals(b, whole);
});
