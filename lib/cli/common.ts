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

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Adds `-C/--config-dir`, `--config-name` and repeatable `-o/--override`. */
export function addConfigOptions(cmd: CommandUnknownOpts): void {
  cmd
    .option("-C, --config-dir <dir>", "your config directory (overlays the built-in presets)")
    .option("--config-name <name>", "root config file name without .yaml", "autoexp")
    .option(
      "-o, --override <override>",
      "override (repeatable): key=value, +key=value, ++key=value, ~key, group=option",
      collect,
    );
}
