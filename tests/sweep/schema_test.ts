import { assertEquals } from "../_assert.ts";
import { subSweepSchema, sweepDocs, sweepSchema } from "../../lib/config/schema/sweep.ts";

const valid: unknown[] = [
  {
    class_name: "Sweep",
    name_template: "{model_size}_lr{learning_rate}_gbsz{global_batch_size}",
    base_values: { backend: { args: { save_interval: 1000 } } },
    axes: { model_size: ["50M", "100M"], "backend.args.global_batch_size": [128, 256] },
    zip: { "backend.args.lr": [1e-3, 1e-4], "backend.args.min_lr": [1e-4, 1e-5] },
    points: [{ "backend.args.lr": 1e-3, seed: 1 }],
    filter: "not (model_size == '200M')",
  },
  { axes: { backend: { args: { lr: [1, 2] } } }, zip: [{ a: [1], b: [2] }, { c: [3] }] },
  {
    product: [{ axes: { a: [1] } }, { concat: [{}, { points: [{ b: 1 }], filters: ["b > 0"] }] }],
  },
];

const invalid: [unknown, string][] = [
  [{ axs: { a: [1] } }, "axs"],
  [{ axes: { backend: { args: { lr: 0.1 } } } }, "axes.backend"],
  [{ axes: { a: 1 } }, "axes.a"],
  [{ axes: { a: [] } }, "axes.a"],
  [{ zip: [] }, "zip"],
  [{ product: [{ axes: { a: [1] }, name_template: "x" }] }, "product.0.name_template"],
  [{ concat: [{ concat: [{ bogus: 1 }] }] }, "concat.0.concat.0.bogus"],
  [{ filter: 3 }, "filter"],
  [{ class_name: "Sweeper" }, "class_name"],
];

Deno.test("sweepSchema accepts the documented format", () => {
  for (const raw of valid) {
    const result = sweepSchema.safeParse(raw);
    assertEquals(result.success, true, JSON.stringify(result.error?.issues));
  }
  assertEquals(subSweepSchema.safeParse({ axes: { a: [1] } }).success, true);
});

Deno.test("sweepSchema rejects malformed sweeps at the right path", () => {
  for (const [raw, path] of invalid) {
    const result = sweepSchema.safeParse(raw);
    assertEquals(result.success, false, JSON.stringify(raw));
    const paths = (result.error?.issues ?? []).flatMap((i) =>
      i.code === "unrecognized_keys"
        ? i.keys.map((k) => [...i.path, k].join("."))
        : [i.path.join(".")]
    );
    assertEquals(paths.includes(path), true, `${path} not in ${paths.join(", ")}`);
  }
});

Deno.test("sweepDocs documents every top-level key", () => {
  assertEquals(Object.keys(sweepDocs).sort(), Object.keys(sweepSchema.def.shape).sort());
});
