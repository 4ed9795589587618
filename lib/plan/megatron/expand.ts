/**
 * Convenience arguments of the Megatron backend: keys that are not Megatron's, written in the
 * units people plan in, expanded into the real arguments before validation.
 *
 * - `train_tokens` -> `train_iters = ceil(train_tokens / (seq_length * global_batch_size))`.
 *   In sample mode it becomes `train_samples = ceil(train_tokens / seq_length)` instead. Sample
 *   mode is recognised by a sample-based schedule key (`lr_decay_samples`,
 *   `lr_wsd_decay_samples`, or a non-zero `lr_warmup_samples`), since `train_samples` itself is
 *   what `train_tokens` replaces; giving `train_tokens` together with `train_iters` or
 *   `train_samples` is a problem (two training lengths).
 * - `lr_decay_fraction` (0..1] -> `lr_decay_iters = round(fraction * train_iters)`, or
 *   `lr_decay_samples = round(fraction * train_samples)` in sample mode. With
 *   `lr_decay_style: WSD` and no WSD length given, the WSD decay length
 *   (`lr_wsd_decay_iters` / `lr_wsd_decay_samples`) defaults to the same value.
 * - `lr_wsd_decay_fraction` (0..1] -> only the WSD decay length, as a fraction of the training
 *   length (`train_iters` or `train_samples`).
 *
 * `lr_warmup_fraction` is a real Megatron argument and is left alone. Derived arguments take
 * the place of the convenience key in the key order, so the rendered command reads naturally.
 *
 * @module
 */

import type { ConfigProblem } from "../../errors.ts";
import type { ConfigMap, ConfigValue } from "../../config/tree.ts";
import { resolveMegatronKey } from "./args.ts";
import { readInt, readNumber } from "./_values.ts";

/** The keys this module expands; they never reach Megatron. */
export const CONVENIENCE_KEYS: readonly string[] = [
  "train_tokens",
  "lr_decay_fraction",
  "lr_wsd_decay_fraction",
];

/** The expanded arguments, the values derived, and what went wrong. */
export interface ExpandResult {
  /** The arguments with convenience keys replaced by what they derive (a new map). */
  args: ConfigMap;
  /** Each derived argument and its value, e.g. `{ train_iters: 23842 }`. */
  derived: Record<string, number>;
  problems: ConfigProblem[];
}

type Mode = "iters" | "samples";

/**
 * Expands the convenience arguments (see the module header) and removes them from the result.
 * Pure: `args` is not modified. Values that are missing or malformed produce problems naming
 * the key to fix; nothing is derived from them.
 *
 * @example
 * expandConvenienceArgs({ seq_length: 4096, global_batch_size: 1024, train_tokens: 100e9 })
 * // { args: { seq_length: 4096, global_batch_size: 1024, train_iters: 23842 },
 * //   derived: { train_iters: 23842 }, problems: [] }
 */
export function expandConvenienceArgs(args: ConfigMap, pathPrefix = "backend.args"): ExpandResult {
  const problems: ConfigProblem[] = [];
  const derived: Record<string, number> = {};
  const at = (key: string) => (pathPrefix ? `${pathPrefix}.${key}` : key);
  const problem = (key: string, message: string, hint?: string) =>
    problems.push(hint ? { path: at(key), message, hint } : { path: at(key), message });

  // The user's key for each dest, so `train-iters` or a flag spelling counts as `train_iters`.
  const keyOf = new Map<string, string>();
  for (const k of Object.keys(args)) {
    const r = resolveMegatronKey(k);
    if (r && !r.switchFlag && !keyOf.has(r.arg.dest)) keyOf.set(r.arg.dest, k);
  }
  const get = (dest: string): ConfigValue | undefined => {
    const k = keyOf.get(dest);
    const v = k === undefined ? undefined : args[k];
    return v === null ? undefined : v;
  };
  const isSet = (dest: string) => get(dest) !== undefined;
  const conv = (key: string): ConfigValue | undefined =>
    Object.hasOwn(args, key) && args[key] !== null ? args[key] : undefined;

  // What replaces each convenience key (in order), filled in below.
  const replace = new Map<string, [string, number][]>();
  const emit = (convKey: string, dest: string, value: number) => {
    derived[dest] = value;
    const list = replace.get(convKey) ?? [];
    list.push([dest, value]);
    replace.set(convKey, list);
  };

  let mode: Mode | undefined = isSet("train_iters") && !isSet("train_samples")
    ? "iters"
    : isSet("train_samples") && !isSet("train_iters")
    ? "samples"
    : undefined;
  let total = mode === "iters"
    ? readInt(get("train_iters"))
    : mode === "samples"
    ? readInt(get("train_samples"))
    : undefined;

  // train_tokens
  const tokens = conv("train_tokens");
  if (tokens !== undefined) {
    const t = readNumber(tokens);
    const other = ["train_iters", "train_samples"].filter(isSet);
    if (t === undefined || t <= 0) {
      problem("train_tokens", `expected a positive number of tokens, got ${show(tokens)}`);
    } else if (other.length) {
      problem(
        "train_tokens",
        `train_tokens and ${other.join(" and ")} both set the training length`,
        `remove one of them`,
      );
    } else {
      const sampleMode = isSet("lr_decay_samples") || isSet("lr_wsd_decay_samples") ||
        (readNumber(get("lr_warmup_samples")) ?? 0) !== 0;
      const seqDest = isSet("seq_length") ? "seq_length" : "encoder_seq_length";
      const seq = readInt(get(seqDest));
      const gbs = readInt(get("global_batch_size"));
      if (seq === undefined || seq <= 0) {
        problem(
          "train_tokens",
          isSet(seqDest)
            ? `train_tokens needs a positive integer seq_length, got ${show(get(seqDest))}`
            : "train_tokens needs seq_length, which is missing",
          "set seq_length (tokens per sample)",
        );
      } else if (sampleMode) {
        total = ceilDiv(t, seq);
        mode = "samples";
        emit("train_tokens", "train_samples", total);
      } else if (gbs === undefined || gbs <= 0) {
        problem(
          "train_tokens",
          isSet("global_batch_size")
            ? `train_tokens needs a positive integer global_batch_size, got ${
              show(get("global_batch_size"))
            }`
            : "train_tokens needs global_batch_size, which is missing",
          "set global_batch_size (samples per iteration)",
        );
      } else {
        total = ceilDiv(t, seq * gbs);
        mode = "iters";
        emit("train_tokens", "train_iters", total);
      }
    }
  }

  /** The schedule length `fraction` of the training length, or undefined after a problem. */
  const fractionOf = (key: string, value: ConfigValue): number | undefined => {
    const f = readNumber(value);
    if (f === undefined || f <= 0 || f > 1) {
      problem(key, `expected a fraction in (0, 1], got ${show(value)}`);
      return undefined;
    }
    if (isSet("train_iters") && isSet("train_samples")) {
      problem(
        key,
        `${key} cannot tell iteration from sample mode: train_iters and train_samples are both set`,
        "keep one of them",
      );
      return undefined;
    }
    if (mode === undefined) {
      if (tokens === undefined) {
        problem(
          key,
          `${key} needs the training length, and none is set`,
          "set train_iters, train_samples or train_tokens",
        );
      }
      return undefined; // a train_tokens problem was already reported
    }
    if (total === undefined) return undefined; // a malformed train_iters/samples: validation says
    const n = Math.round(f * total);
    if (n < 1) {
      problem(key, `${key} ${f} of ${total} ${unit(mode)} rounds to 0`, "use a larger fraction");
      return undefined;
    }
    return n;
  };

  // lr_decay_fraction
  const decay = conv("lr_decay_fraction");
  const wsdFraction = conv("lr_wsd_decay_fraction");
  const wsdSet = isSet("lr_wsd_decay_iters") || isSet("lr_wsd_decay_samples");
  if (decay !== undefined) {
    const explicit = ["lr_decay_iters", "lr_decay_samples"].filter(isSet);
    if (explicit.length) {
      problem(
        "lr_decay_fraction",
        `lr_decay_fraction and ${explicit.join(" and ")} both set the decay length`,
        "remove one of them",
      );
    } else {
      const n = fractionOf("lr_decay_fraction", decay);
      if (n !== undefined && mode) {
        emit("lr_decay_fraction", `lr_decay_${mode}`, n);
        if (get("lr_decay_style") === "WSD" && !wsdSet && wsdFraction === undefined) {
          emit("lr_decay_fraction", `lr_wsd_decay_${mode}`, n);
        }
      }
    }
  }

  // lr_wsd_decay_fraction
  if (wsdFraction !== undefined) {
    if (wsdSet) {
      const explicit = ["lr_wsd_decay_iters", "lr_wsd_decay_samples"].filter(isSet);
      problem(
        "lr_wsd_decay_fraction",
        `lr_wsd_decay_fraction and ${explicit.join(" and ")} both set the WSD decay length`,
        "remove one of them",
      );
    } else {
      const n = fractionOf("lr_wsd_decay_fraction", wsdFraction);
      if (n !== undefined && mode) emit("lr_wsd_decay_fraction", `lr_wsd_decay_${mode}`, n);
    }
  }

  const out: ConfigMap = {};
  for (const [k, v] of Object.entries(args)) {
    if (!CONVENIENCE_KEYS.includes(k)) {
      // An explicit null for a derived argument must not wipe out the derived value.
      const dest = resolveMegatronKey(k)?.arg.dest;
      if (v !== null || dest === undefined || !(dest in derived)) out[k] = v;
      continue;
    }
    for (const [dest, value] of replace.get(k) ?? []) out[dest] = value;
  }
  return { args: out, derived, problems };
}

function unit(mode: Mode): string {
  return mode === "iters" ? "iterations" : "samples";
}

/** ceil(a / b) for positive numbers, exact for integers up to 2^53. */
function ceilDiv(a: number, b: number): number {
  if (Number.isSafeInteger(a) && Number.isSafeInteger(b)) {
    const q = BigInt(a) / BigInt(b);
    return Number(BigInt(a) % BigInt(b) === 0n ? q : q + 1n);
  }
  return Math.ceil(a / b);
}

function show(v: ConfigValue | undefined): string {
  return typeof v === "string" ? `"${v}"` : JSON.stringify(v);
}
