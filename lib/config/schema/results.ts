/**
 * Schema of the `results` key: what `autoexp results` and `autoexp report` read besides the
 * monitor's journal. Metrics come from the log (the built-in Megatron values and the named
 * groups of the run's own log events) and from files the run writes, declared here by glob and
 * key path.
 *
 * @module
 */
import * as z from "zod/mini";

/** Formats of metric files. */
export const METRIC_FILE_FORMATS = ["json", "jsonl", "csv"] as const;

/** Which way a metric improves. */
export const METRIC_GOALS = ["min", "max"] as const;

/** One `results.files` entry: a file (or several, by glob) whose values become columns. */
export const metricFileSchema = z.strictObject({
  name: z.optional(
    z.nullable(
      z.string().check(
        z.regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, "must be a column prefix such as `eval`"),
      ),
    ),
  ),
  glob: z.string().check(z.minLength(1, "must not be empty")),
  key: z.optional(z.nullable(z.string())),
  format: z.optional(z.nullable(z.enum(METRIC_FILE_FORMATS))),
});

/** The `results` key. */
export const resultsSchema = z.strictObject({
  files: z.optional(z.nullable(z.array(metricFileSchema))),
  log_metrics: z.optional(z.boolean()),
  best: z.optional(z.nullable(z.record(z.string(), z.enum(METRIC_GOALS)))),
  sort: z.optional(z.nullable(z.string())),
  report: z.optional(z.boolean()),
});

/** Field descriptions for the generated configuration reference. */
export const resultsDocs: Record<string, string> = {
  files:
    "metric files a run writes, each `{name, glob, key, format}`: `glob` relative to the run directory (`*`, `?`, `**`; e.g. `evaluations/iter_*.json`; when it matches several files the last in natural order counts, `iter_40` after `iter_9`), `key` a dotted key path inside the file (default the whole file), `format` `json`, `jsonl` (the last line) or `csv` (the last row; default from the file's extension); nested values are flattened to dotted columns `<name>.<key>` (`eval.mmlu`)",
  log_metrics:
    "read the log's metrics: Megatron's iteration, lm loss, learning rate, throughput, TFLOP/s, validation and test loss and perplexity, and the numeric named groups of the run's own log events (default true)",
  best:
    "`column: min | max`: log columns that also get their best value over the run's attempts (`<column>.best`, e.g. `my_event.acc: max`); `loss`, `val_loss`, `val_ppl`, `test_loss`, `test_ppl` are `min` without saying",
  sort: "the column `autoexp results` sorts by when no `--sort` is given (default the run order)",
  report:
    "keep `<sweep dir>/report.html` current while `submit` or `monitor` follow the sweep: written when following starts, every minute while something changed, and at the end (as `--report` does; default false)",
};
