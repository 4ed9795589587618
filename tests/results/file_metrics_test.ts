import { assertEquals } from "../_assert.ts";
import {
  flatten,
  formatOf,
  globBase,
  globToRegExp,
  naturalCompare,
  parseMetricFile,
  pickMetricFile,
} from "../../lib/results/file_metrics.ts";

Deno.test("globToRegExp and globBase", () => {
  const cases: [string, string, boolean][] = [
    ["evaluations/iter_*.json", "evaluations/iter_40.json", true],
    ["evaluations/iter_*.json", "evaluations/sub/iter_40.json", false],
    ["**/results.json", "results.json", true],
    ["**/results.json", "a/b/results.json", true],
    ["eval_?.csv", "eval_1.csv", true],
    ["eval_[ab].csv", "eval_c.csv", false],
    ["a.json", "aXjson", false],
  ];
  for (const [glob, path, want] of cases) {
    assertEquals(globToRegExp(glob).test(path), want, `${glob} ~ ${path}`);
  }
  assertEquals(globBase("evaluations/iter_*.json"), "evaluations");
  assertEquals(globBase("a/b/*/c.json"), "a/b");
  assertEquals(globBase("*.json"), "");
});

Deno.test("pickMetricFile: the last match in natural order (iter_40 after iter_9)", () => {
  const files = ["evaluations/iter_9.json", "evaluations/iter_40.json", "evaluations/iter_10.json"];
  assertEquals(
    pickMetricFile({ glob: "evaluations/iter_*.json" }, files),
    "evaluations/iter_40.json",
  );
  assertEquals(pickMetricFile({ glob: "none/*.json" }, files), null);
  assertEquals(["b10", "b9", "a"].sort(naturalCompare), ["a", "b9", "b10"]);
});

Deno.test("parseMetricFile: JSON at a key path, flattened to <name>.<key> (seed 004's columns)", () => {
  const text = JSON.stringify({
    checkpoint: "/x",
    results: { mmlu: 0.5, hellaswag: { acc: 0.25, acc_norm: "0.3" }, note: null },
  });
  assertEquals(parseMetricFile(text, "json", { name: "eval", glob: "x", key: "results" }), {
    "eval.mmlu": 0.5,
    "eval.hellaswag.acc": 0.25,
    "eval.hellaswag.acc_norm": 0.3,
  });
  assertEquals(parseMetricFile(text, "json", { glob: "x", key: "results.mmlu" }), {
    "results.mmlu": 0.5,
  });
  assertEquals(parseMetricFile(text, "json", { glob: "x", key: "missing" }), {});
});

Deno.test("parseMetricFile: JSONL's last complete line; CSV's last row by its header", () => {
  const jsonl = '{"step": 1, "acc": 0.1}\n{"step": 2, "acc": 0.2}\n{"step": 3, "ac';
  assertEquals(parseMetricFile(jsonl, "jsonl", { name: "m", glob: "x" }), {
    "m.step": 2,
    "m.acc": 0.2,
  });
  const csv = 'task,score,comment\nmmlu,0.4,"a, b"\nmmlu,0.6,"c\nd"\n';
  assertEquals(parseMetricFile(csv, "csv", { name: "e", glob: "x" }), {
    "e.task": "mmlu",
    "e.score": 0.6,
    "e.comment": "c\nd",
  });
});

Deno.test("formatOf and flatten", () => {
  assertEquals(formatOf({ glob: "x" }, "a/b.jsonl"), "jsonl");
  assertEquals(formatOf({ glob: "x" }, "a/b.CSV"), "csv");
  assertEquals(formatOf({ glob: "x" }, "a/b.txt"), "json");
  assertEquals(formatOf({ glob: "x", format: "csv" }, "a/b.json"), "csv");
  assertEquals(flatten({ a: [1, { b: true }] }), { "a.0": 1, "a.1.b": true });
});
