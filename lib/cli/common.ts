/**
 * Options shared by the commands that compose a config (`config`, `plan`, `submit`).
 *
 * @module
 */
import type { CommandUnknownOpts } from "@commander-js/extra-typings";

/** The parsed shared options. */
export interface ConfigOptions {
  configDir?: string;
  configName?: string;
  override?: string[];
}

/** Commander: a repeatable option's values, in order. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/**
 * The options of a command with {@link addConfigOptions}: positional overrides (Hydra's command
 * line, `compute=a100_1x trainer.lr=1e-3`) come after the `-o` ones.
 */
export function configOptionsOf<T extends ConfigOptions>(args: unknown[]): T {
  const positional = (args.find((a) => Array.isArray(a)) ?? []) as string[];
  const opts = args.find((a) => a !== null && typeof a === "object" && !Array.isArray(a)) as T;
  return positional.length
    ? { ...opts, override: [...(opts.override ?? []), ...positional] }
    : opts;
}

/**
 * Adds `-C/--config-dir`, `--config-name`, repeatable `-o/--override` and positional overrides
 * as Hydra takes them (`autoexp submit compute=a100_1x trainer.lr=1e-2,1e-3 --multirun`).
 */
export function addConfigOptions(cmd: CommandUnknownOpts): void {
  cmd
    .argument(
      "[overrides...]",
      "overrides as Hydra takes them (key=value, group=option, ...), as -o",
    )
    .option("-C, --config-dir <dir>", "your config directory (overlays the built-in presets)")
    .option("--config-name <name>", "root config file name without .yaml", "autoexp")
    .option(
      "-o, --override <override>",
      "override (repeatable): key=value, +key=value, ++key=value, ~key, group=option",
      collect,
    );
}
