/**
 * The shape of Megatron-LM's argument table and its compact on-disk encoding
 * (`args_table.json`, written by `tools/gen_megatron_args.ts`).
 *
 * On disk each argument is one line keyed by its dest, and a field is left out when it has its
 * usual value, so the 840 arguments stay small:
 * - `flags` when it is just `--<dest with dashes>`;
 * - `action` when it is `store`; `type` when the action already says it (a switch is `bool`);
 * - `nargs`, `choices`, `rejected` when null, `deprecated` when false;
 * - `default` when it is argparse's implicit one (null; false for `store_true`, true for
 *   `store_false`).
 *
 * This module holds no data and touches nothing; {@link decodeMegatronArg} and
 * {@link encodeMegatronArg} are exact inverses (a test checks it for every argument).
 *
 * @module
 */

import type { ConfigValue } from "../../config/tree.ts";

/** The value type of an argument, normalised from argparse's `type=`. */
export type MegatronArgType = "int" | "float" | "str" | "bool" | "other";

/**
 * How argparse consumes an argument: `store` takes a value, `store_true`/`store_false` are
 * switches, `custom` is a pair of switches (`--x` sets true, `--no-x` sets false; argparse's
 * `BooleanOptionalAction`, or two actions sharing one dest).
 */
export type MegatronAction = "store" | "store_true" | "store_false" | "custom";

/** How many values an argument takes: one (null), one or more (`+`), any (`*`), or exactly N. */
export type MegatronNargs = "+" | "*" | number | null;

/** One Megatron-LM command-line argument. */
export interface MegatronArg {
  /** The attribute name in Megatron's `args` namespace; what users write as the key. */
  readonly dest: string;
  /** The option strings, e.g. `["--disable-bias-linear"]`. For `custom`: `[onFlag, offFlag]`. */
  readonly flags: readonly string[];
  readonly type: MegatronArgType;
  readonly action: MegatronAction;
  readonly nargs: MegatronNargs;
  /** Allowed values (strings, or numbers for integer arguments), or null for any. */
  readonly choices: readonly (string | number)[] | null;
  /** argparse's default when it is a literal, else null. */
  readonly default: ConfigValue;
  /** The help text calls the flag deprecated. */
  readonly deprecated: boolean;
  /** Parses, but `validate_args` refuses it: why, e.g. `assert ... (use --micro-batch-size)`. */
  readonly rejected: string | null;
}

/** Where the table came from. */
export interface MegatronTableSource {
  readonly repo: string;
  readonly file: string;
  readonly commit: string;
  readonly date: string;
  readonly count: number;
}

/** The compact form of one argument as stored in `args_table.json` (dest is the key). */
export interface EncodedMegatronArg {
  flags?: string[];
  action?: Exclude<MegatronAction, "store">;
  type?: MegatronArgType;
  nargs?: "+" | "*" | number;
  choices?: (string | number)[];
  default?: ConfigValue;
  deprecated?: true;
  rejected?: string;
}

/** The whole file. */
export interface EncodedMegatronTable {
  readonly source: MegatronTableSource;
  readonly generated_by: string;
  readonly format: string;
  readonly args: Readonly<Record<string, EncodedMegatronArg>>;
}

/** `--lr-decay-iters` for dest `lr_decay_iters`: the flag a dest gets when nothing renames it. */
export function defaultFlag(dest: string): string {
  return `--${dest.replaceAll("_", "-")}`;
}

function isSwitch(action: MegatronAction): boolean {
  return action !== "store";
}

function implicitDefault(action: MegatronAction): ConfigValue {
  return action === "store_true" ? false : action === "store_false" ? true : null;
}

/** The compact form of `arg` (see the module header for what is left out). */
export function encodeMegatronArg(arg: MegatronArg): EncodedMegatronArg {
  const out: EncodedMegatronArg = {};
  if (!(arg.flags.length === 1 && arg.flags[0] === defaultFlag(arg.dest))) {
    out.flags = [...arg.flags];
  }
  if (arg.action !== "store") out.action = arg.action;
  if (!(isSwitch(arg.action) && arg.type === "bool")) out.type = arg.type;
  if (arg.nargs !== null) out.nargs = arg.nargs;
  if (arg.choices !== null) out.choices = [...arg.choices];
  if (arg.default !== implicitDefault(arg.action)) out.default = arg.default;
  if (arg.deprecated) out.deprecated = true;
  if (arg.rejected !== null) out.rejected = arg.rejected;
  return out;
}

/** The full argument from its dest and compact form. */
export function decodeMegatronArg(dest: string, e: EncodedMegatronArg): MegatronArg {
  const action: MegatronAction = e.action ?? "store";
  return {
    dest,
    flags: e.flags ?? [defaultFlag(dest)],
    type: e.type ?? (isSwitch(action) ? "bool" : "str"),
    action,
    nargs: e.nargs ?? null,
    choices: e.choices ?? null,
    default: e.default !== undefined ? e.default : implicitDefault(action),
    deprecated: e.deprecated ?? false,
    rejected: e.rejected ?? null,
  };
}
