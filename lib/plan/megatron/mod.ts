/**
 * The Megatron backend's pure core: Megatron-LM's argument table, convenience-argument
 * expansion, validation against the table and Megatron's cross-argument rules, and argv
 * rendering. Nothing here touches the world.
 *
 * The usual sequence is {@link prepareMegatronArgs} then {@link renderMegatronFlags}.
 *
 * @module
 */

import type { ConfigProblem } from "../../errors.ts";
import type { ConfigMap } from "../../config/tree.ts";
import { expandConvenienceArgs } from "./expand.ts";
import { validateMegatronArgs } from "./validate.ts";

export {
  MEGATRON_ARGS,
  MEGATRON_DESTS,
  MEGATRON_SOURCE,
  megatronArgByDest,
  megatronArgByFlag,
  resolveMegatronKey,
} from "./args.ts";
export type {
  MegatronAction,
  MegatronArg,
  MegatronArgType,
  MegatronNargs,
  MegatronTableSource,
  ResolvedKey,
} from "./args.ts";
export { CONVENIENCE_KEYS, expandConvenienceArgs, type ExpandResult } from "./expand.ts";
export { type MegatronValidation, validateMegatronArgs } from "./validate.ts";
export { renderMegatronFlags } from "./flags.ts";

/** Expanded arguments ready to render, with everything found on the way. */
export interface PreparedMegatronArgs {
  readonly args: ConfigMap;
  readonly derived: Record<string, number>;
  /** Expansion problems first, then validation problems; render only when empty. */
  readonly problems: ConfigProblem[];
  readonly warnings: ConfigProblem[];
}

/** {@link expandConvenienceArgs} then {@link validateMegatronArgs} on the result. */
export function prepareMegatronArgs(
  args: ConfigMap,
  pathPrefix = "backend.args",
): PreparedMegatronArgs {
  const expanded = expandConvenienceArgs(args, pathPrefix);
  const checked = validateMegatronArgs(expanded.args, pathPrefix);
  return {
    args: expanded.args,
    derived: expanded.derived,
    problems: [...expanded.problems, ...checked.problems],
    warnings: checked.warnings,
  };
}
