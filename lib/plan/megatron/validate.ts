/**
 * Checks Megatron arguments (after {@link expandConvenienceArgs}) against Megatron-LM's real
 * argument table and a handful of its cross-argument rules, so that a typo or a contradiction
 * is reported at plan time instead of after the job has waited in the queue.
 *
 * Per key: the key must be a dest or a flag spelling (see {@link resolveMegatronKey}); the
 * value must fit the argument's type, choices and nargs; legacy arguments refused by
 * `validate_args` are problems; deprecated ones are warnings.
 *
 * Across keys (from Megatron's `validate_args` and scheduler; see the shared `rules.md`):
 * training length (`train_iters` xor `train_samples`, and each mode's schedule keys), WSD
 * needing its decay length, `fp16` with `bf16`, `min_lr > lr`, `save` without a positive
 * `save_interval`, `hidden_size` divisible by `num_attention_heads` (unless `kv_channels` is
 * set), `max_position_embeddings >= seq_length`, and the required `seq_length` and
 * `micro_batch_size`. Required-argument rules are skipped with `yaml_cfg` (Megatron then reads
 * its arguments from that file), and `seq_length` also with `use_checkpoint_args`.
 *
 * @module
 */

import type { ConfigProblem } from "../../errors.ts";
import type { ConfigMap, ConfigValue } from "../../config/tree.ts";
import { closestMatches } from "../../config/suggest.ts";
import {
  MEGATRON_DESTS,
  MEGATRON_SOURCE,
  type MegatronArg,
  megatronArgByFlag,
  resolveMegatronKey,
} from "./args.ts";
import { CONVENIENCE_KEYS } from "./expand.ts";
import { FLOAT_RE, readInt, readNumber } from "./_values.ts";

/** Problems stop the plan; warnings are shown and the plan goes on. */
export interface MegatronValidation {
  problems: ConfigProblem[];
  warnings: ConfigProblem[];
}

/** A valid argument as the cross-argument rules see it: in the dest's own terms. */
interface Entry {
  readonly key: string;
  readonly value: ConfigValue;
}

/**
 * Validates `args` (keys as users write them, see {@link resolveMegatronKey}). Null values mean
 * "not set" and are skipped. Key paths in the result are `${pathPrefix}.${key}`.
 *
 * @example
 * validateMegatronArgs({ lr_decay_iter: 1000 }).problems[0]
 * // { path: "backend.args.lr_decay_iter", message: 'unknown Megatron argument "lr_decay_iter"',
 * //   hint: 'did you mean "lr_decay_iters"?' }
 */
export function validateMegatronArgs(
  args: ConfigMap,
  pathPrefix = "backend.args",
): MegatronValidation {
  const problems: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];
  const at = (key: string) => (pathPrefix ? `${pathPrefix}.${key}` : key);
  const push = (list: ConfigProblem[], key: string, message: string, hint?: string) =>
    list.push(hint ? { path: at(key), message, hint } : { path: at(key), message });

  const view = new Map<string, Entry>();
  const seen = new Map<string, string>(); // dest -> first key naming it

  for (const [key, value] of Object.entries(args)) {
    if (CONVENIENCE_KEYS.includes(key)) {
      push(
        problems,
        key,
        `"${key}" is an autoexp convenience argument that was not expanded`,
        "expand the arguments with expandConvenienceArgs before validating them",
      );
      continue;
    }
    const resolved = resolveMegatronKey(key);
    if (!resolved) {
      const best = closestMatches(key, MEGATRON_DESTS, 3);
      push(
        problems,
        key,
        `unknown Megatron argument "${key}"`,
        best.length
          ? `did you mean ${best.map((b) => `"${b}"`).join(", ")}?`
          : `the known arguments are those of ${MEGATRON_SOURCE.repo} at ` +
            `${MEGATRON_SOURCE.commit.slice(0, 12)} (${MEGATRON_SOURCE.date.slice(0, 10)})`,
      );
      continue;
    }
    if (value === null) continue;
    const { arg, switchFlag } = resolved;
    const first = seen.get(arg.dest);
    if (first !== undefined) {
      push(
        problems,
        key,
        `"${key}" and "${first}" both set Megatron's ${arg.dest} (${arg.flags.join(", ")})`,
        "keep one of them",
      );
      continue;
    }
    seen.set(arg.dest, key);

    const errs = checkValue(arg, value, switchFlag !== undefined);
    for (const e of errs) {
      push(problems, e.index === undefined ? key : `${key}[${e.index}]`, e.message, e.hint);
    }
    if (errs.length) continue;

    const effective = switchFlag ? switchValue(arg, switchFlag, value as boolean) : value;
    if (effective === undefined) continue; // `disable_x: false`: nothing is passed
    view.set(arg.dest, { key, value: effective });
    if (!passesSomething(arg, effective)) continue;
    if (arg.rejected !== null) {
      push(
        problems,
        key,
        `"${key}" (${arg.flags[0]}) is a legacy argument that Megatron refuses: ${
          reason(arg.rejected)
        }`,
        replacement(arg.rejected),
      );
    } else if (arg.deprecated) {
      push(warnings, key, `"${key}" (${arg.flags.join(", ")}) is deprecated in Megatron-LM`);
    }
  }

  problems.push(...crossRules(view, at));
  return { problems, warnings };
}

interface ValueError {
  readonly index?: number;
  readonly message: string;
  readonly hint?: string;
}

/** Type, nargs and choices of one value; `asSwitch` for a flag-spelled switch key. */
function checkValue(arg: MegatronArg, value: ConfigValue, asSwitch: boolean): ValueError[] {
  if (asSwitch || arg.action !== "store") {
    if (typeof value === "boolean") return [];
    return [{
      message: `expected true or false, got ${show(value)}`,
      hint: typeof value === "string" && /^(true|false)$/i.test(value)
        ? "write true or false without quotes"
        : undefined,
    }];
  }
  if (arg.nargs === null) {
    if (Array.isArray(value)) {
      return [{ message: `expected a single value (${typeName(arg)}), got a list` }];
    }
    return checkItem(arg, value);
  }
  const items = Array.isArray(value) ? value : [value];
  if (typeof arg.nargs === "number" && items.length !== arg.nargs) {
    return [{
      message: `expected a list of ${arg.nargs} values, got ${
        Array.isArray(value) ? `${items.length}` : "a single value"
      }`,
    }];
  }
  if (arg.nargs === "+" && items.length === 0) {
    return [{ message: "expected at least one value, got an empty list" }];
  }
  return items.flatMap((item, i) =>
    checkItem(arg, item).map((e) => Array.isArray(value) ? { ...e, index: i } : e)
  );
}

function checkItem(arg: MegatronArg, v: ConfigValue): ValueError[] {
  const bad = (): ValueError[] => [{ message: `expected ${typeName(arg)}, got ${show(v)}` }];
  switch (arg.type) {
    case "int":
      if (readInt(v) === undefined) return bad();
      break;
    case "float":
      if (typeof v === "number" ? Number.isNaN(v) || v === -Infinity : !isFloatText(v)) {
        return bad();
      }
      break;
    case "bool":
      if (typeof v !== "boolean") return bad();
      break;
    default: // str, other
      if (typeof v !== "string" && !(typeof v === "number" && Number.isFinite(v))) return bad();
  }
  if (arg.choices) {
    const norm = arg.type === "int" ? readInt(v) : String(v);
    if (!arg.choices.includes(norm as string | number)) {
      const allowed = arg.choices.map(String);
      const best = closestMatches(String(v), allowed, 1);
      return [{
        message: `${show(v)} is not allowed (allowed: ${allowed.join(", ")})`,
        hint: best.length ? `did you mean "${best[0]}"?` : undefined,
      }];
    }
  }
  return [];
}

function isFloatText(v: ConfigValue): boolean {
  return typeof v === "string" && FLOAT_RE.test(v.trim()) && !/^\s*-inf/i.test(v) &&
    !/nan/i.test(v);
}

function typeName(arg: MegatronArg): string {
  switch (arg.type) {
    case "int":
      return "an integer";
    case "float":
      return "a number";
    case "bool":
      return "true or false";
    case "str":
      return "a string";
    default:
      return "a string or a number";
  }
}

/**
 * The dest's value a flag-spelled switch key stands for: `disable_bias_linear: true` is
 * `add_bias_linear: false`; `key: false` passes nothing (undefined).
 */
function switchValue(arg: MegatronArg, flag: string, on: boolean): boolean | undefined {
  if (!on) return undefined;
  if (arg.action === "store_false") return false;
  if (arg.action === "custom") return flag === arg.flags[0];
  return true;
}

/** Whether a valid value puts anything on the command line. */
function passesSomething(arg: MegatronArg, v: ConfigValue): boolean {
  if (arg.action === "store_true") return v === true;
  if (arg.action === "store_false") return v === false;
  if (arg.action === "store" && arg.type === "bool") return v === true;
  return true;
}

/** `assert args.warmup is None (use --lr-warmup-fraction)` -> `assert args.warmup is None`. */
function reason(text: string): string {
  return text.replace(/\s*\(use [^)]*\)\s*$/, "");
}

/** The `(use --flag)` part of a rejection, with flags written as the keys users write. */
function replacement(text: string): string | undefined {
  const m = text.match(/\(use ([^)]*)\)/);
  if (!m) return undefined;
  return `use ${m[1].replace(/--[a-z0-9-]+/g, (f) => megatronArgByFlag(f)?.dest ?? f)} instead`;
}

function show(v: ConfigValue | undefined): string {
  if (typeof v === "string") return `"${v}"`;
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object" && v !== null) return "a mapping";
  return String(v);
}

/** The cross-argument rules (see the module header). */
function crossRules(view: Map<string, Entry>, at: (key: string) => string): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const keyOf = (dest: string) => view.get(dest)?.key ?? dest;
  const add = (dest: string, message: string, hint?: string) =>
    out.push(hint ? { path: at(keyOf(dest)), message, hint } : { path: at(keyOf(dest)), message });
  const has = (dest: string) => view.has(dest);
  const on = (dest: string) => view.get(dest)?.value === true;
  const num = (dest: string) => readNumber(view.get(dest)?.value);
  const nonZero = (dest: string) => (num(dest) ?? 0) !== 0;
  const fromFile = has("yaml_cfg"); // validate_args is skipped; arguments come from the YAML

  // Training length and LR schedule.
  const iters = has("train_iters"), samples = has("train_samples");
  if (iters && samples) {
    add(
      "train_samples",
      "train_iters and train_samples are mutually exclusive",
      "keep train_iters (iteration mode) or train_samples (sample mode)",
    );
  } else if (!iters && !samples && !fromFile) {
    add(
      "train_iters",
      "the training length is missing: Megatron needs train_iters or train_samples",
      "set train_iters, train_samples, or the convenience train_tokens",
    );
  }
  if (iters && !samples) {
    if (has("lr_decay_samples")) {
      add(
        "lr_decay_samples",
        "lr_decay_samples belongs to sample mode, but train_iters is set",
        "use lr_decay_iters (or lr_decay_fraction)",
      );
    }
    if (nonZero("lr_warmup_samples")) {
      add(
        "lr_warmup_samples",
        "lr_warmup_samples belongs to sample mode, but train_iters is set",
        "use lr_warmup_iters or lr_warmup_fraction",
      );
    }
  }
  if (samples && !iters) {
    if (has("lr_decay_iters")) {
      add(
        "lr_decay_iters",
        "lr_decay_iters belongs to iteration mode, but train_samples is set",
        "use lr_decay_samples (or lr_decay_fraction)",
      );
    }
    if (nonZero("lr_warmup_iters")) {
      add(
        "lr_warmup_iters",
        "lr_warmup_iters belongs to iteration mode, but train_samples is set",
        "use lr_warmup_samples or lr_warmup_fraction",
      );
    }
  }
  if (has("lr_warmup_fraction")) {
    const other = ["lr_warmup_iters", "lr_warmup_samples"].find(nonZero);
    if (other) {
      add(
        "lr_warmup_fraction",
        `lr_warmup_fraction cannot be combined with a non-zero ${other}`,
        "keep one of them",
      );
    }
  }
  if (view.get("lr_decay_style")?.value === "WSD") {
    const need = iters && !samples
      ? "lr_wsd_decay_iters"
      : samples && !iters
      ? "lr_wsd_decay_samples"
      : undefined;
    if (need && !has(need)) {
      add(
        need,
        `lr_decay_style "WSD" needs ${need}, which is missing`,
        `set ${need} or the convenience lr_wsd_decay_fraction (or lr_decay_fraction)`,
      );
    }
  }
  const lr = num("lr"), minLr = num("min_lr");
  if (lr !== undefined && minLr !== undefined && minLr > lr) {
    add("min_lr", `min_lr ${minLr} is greater than lr ${lr}`, "lower min_lr or raise lr");
  }

  // Precision.
  if (on("fp16") && on("bf16")) {
    add("bf16", "fp16 and bf16 are mutually exclusive", "keep one of them");
  }

  // Checkpointing.
  const save = view.get("save")?.value;
  if (typeof save === "string" && save !== "") {
    const interval = num("save_interval");
    if (interval === undefined || interval <= 0) {
      add(
        "save_interval",
        has("save_interval")
          ? `save_interval must be > 0 when save is set, got ${interval}`
          : "save is set but save_interval is missing",
        "set save_interval to the number of iterations between checkpoints",
      );
    }
  }

  // Model shape.
  const hidden = num("hidden_size"), heads = num("num_attention_heads");
  if (
    hidden !== undefined && heads !== undefined && heads > 0 && !has("kv_channels") &&
    hidden % heads !== 0
  ) {
    add(
      "num_attention_heads",
      `hidden_size ${hidden} is not divisible by num_attention_heads ${heads}`,
      "pick a head count that divides hidden_size, or set kv_channels",
    );
  }
  if (has("seq_length") && has("encoder_seq_length")) {
    add(
      "encoder_seq_length",
      "seq_length and encoder_seq_length are mutually exclusive",
      "keep seq_length",
    );
  } else if (
    !has("seq_length") && !has("encoder_seq_length") && !fromFile && !on("use_checkpoint_args")
  ) {
    add("seq_length", "seq_length is missing", "set seq_length (tokens per sample)");
  }
  const maxPos = num("max_position_embeddings");
  if (maxPos !== undefined) {
    for (const dest of ["seq_length", "encoder_seq_length", "decoder_seq_length"]) {
      const len = num(dest);
      if (len !== undefined && maxPos < len) {
        add(
          "max_position_embeddings",
          `max_position_embeddings ${maxPos} is less than ${dest} ${len}`,
          `raise max_position_embeddings to at least ${len}`,
        );
      }
    }
  }

  // Batch size.
  const mbs = num("micro_batch_size"), gbs = num("global_batch_size");
  if (!has("micro_batch_size")) {
    if (!fromFile) add("micro_batch_size", "micro_batch_size is missing", "set micro_batch_size");
  } else if (mbs !== undefined && mbs <= 0) {
    add("micro_batch_size", `micro_batch_size must be > 0, got ${mbs}`);
  }
  if (gbs !== undefined && gbs <= 0) {
    add("global_batch_size", `global_batch_size must be > 0, got ${gbs}`);
  } else if (gbs !== undefined && mbs !== undefined && mbs > 0 && gbs % mbs !== 0) {
    add(
      "global_batch_size",
      `global_batch_size ${gbs} is not a multiple of micro_batch_size ${mbs}`,
      "Megatron needs global_batch_size = micro_batch_size * data-parallel size * accumulation steps",
    );
  }
  return out;
}
