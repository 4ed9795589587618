/**
 * Schema of the `sweep` group: axes, zip groups, explicit points, nested product/concat
 * sub-sweeps, filters, the run-name template and base values. The exact rules (equal zip
 * lengths, keys swept twice, filter syntax and names, template syntax) are checked by
 * `parseSweepSpec` in `lib/sweep/expand.ts`, which reports them with their key paths; this
 * schema checks shape and types.
 *
 * @module
 */
import * as z from "zod/mini";

const value = z.unknown();

/** `key: [values]`, or nested mappings whose leaves are such lists (`backend: {args: {lr: []}}`). */
type ListTree = { [key: string]: unknown[] | ListTree };
const listTree: z.ZodMiniType<ListTree> = z.record(
  z.string().check(z.minLength(1, "must not be empty")),
  z.union([
    z.array(value).check(z.minLength(1, "must list at least one value")),
    z.lazy(() => listTree),
  ]),
);

const filterSchema = z.union([
  z.string().check(z.minLength(1, "must not be empty")),
  z.array(z.string().check(z.minLength(1, "must not be empty"))),
]);

/** The keys a sub-sweep (an entry of `product` or `concat`) shares with the top level. */
const nodeShape = {
  axes: z.optional(z.nullable(listTree)),
  zip: z.optional(
    z.nullable(z.union([listTree, z.array(listTree).check(z.minLength(1, "must not be empty"))])),
  ),
  points: z.optional(
    z.nullable(
      z.array(z.record(z.string(), value)).check(z.minLength(1, "must list at least one point")),
    ),
  ),
  product: z.optional(z.lazy(() => subSweeps)),
  concat: z.optional(z.lazy(() => subSweeps)),
  filter: z.optional(z.nullable(filterSchema)),
  filters: z.optional(z.nullable(filterSchema)),
};

/** A sub-sweep: an entry of `product` or `concat`. */
export const subSweepSchema: z.ZodMiniType<Record<string, unknown>> = z.strictObject(nodeShape);
const subSweeps = z.array(subSweepSchema).check(z.minLength(1, "must not be empty"));

/** The `sweep` group. */
export const sweepSchema = z.strictObject({
  class_name: z.optional(z.nullable(z.literal("Sweep"))),
  name_template: z.optional(z.nullable(z.string().check(z.minLength(1, "must not be empty")))),
  base_values: z.optional(z.nullable(z.record(z.string(), value))),
  metadata_keys: z.optional(z.nullable(z.array(z.string().check(z.minLength(1))))),
  ...nodeShape,
});

/** Field descriptions for the generated configuration reference. */
export const sweepDocs: Record<string, string> = {
  class_name: "accepted for compatibility with the seed tool's configs; ignored",
  name_template: "run name template, e.g. `{model_size}_lr{lr}_{index:03d}`; placeholders are " +
    "point keys (full dotted, or the last part when unambiguous), `{index}` and `{project}`; " +
    "default `{project}_<label><value>...` over the swept keys",
  base_values: "config fragment merged into every point (e.g. `{backend: {args: {...}}}`)",
  metadata_keys: "swept keys that are only labels (in run names, not in the job): runs that " +
    "differ only in them may run the same command; any other swept key that changes nothing " +
    "the job gets is an error",
  axes: "`key: [values]` swept as a Cartesian product, first key slowest; dotted keys " +
    "(`backend.args.lr`) or nested mappings",
  zip: "`key: [values]` lists of equal length that vary together; or a list of such groups",
  points: "explicit points, each a mapping of `key: value`",
  product: "sub-sweeps combined as a Cartesian product",
  concat: "sub-sweeps listed one after the other",
  filter: "expression over a point's keys; points where it is false are dropped, e.g. " +
    "`not (model_size == '200M' and lr == 0.1)`",
  filters: "several filter expressions; a point must pass all of them",
};
