/**
 * The config files of a command: the user's config directory (`-C`) read as a layer over the
 * built-in presets. Composing, resolving and validating them is `lib/plan/load_config.ts`
 * (`autoexp config`) and `lib/plan/mod.ts` (a sweep).
 *
 * @module
 */
import { builtinConfigFiles } from "../assets/mod.ts";
import { UsageError } from "../errors.ts";
import type { FileSystem } from "../runtime/mod.ts";
import { type ConfigFile, ConfigFiles } from "./files.ts";

/** Reads every YAML file of a user config directory as a config layer. */
export async function readConfigDir(fs: FileSystem, dir: string): Promise<ConfigFile[]> {
  if (!(await fs.isDirectory(dir))) {
    throw new UsageError(
      `config directory "${dir}" does not exist or is not a directory (check -C/--config-dir)`,
    );
  }
  const abs = await fs.realPath(dir);
  const out: ConfigFile[] = [];
  for (const e of await fs.listFiles(abs)) {
    if (!/\.ya?ml$/.test(e.relPath)) continue;
    out.push({
      relPath: e.relPath,
      text: await fs.readTextFile(e.absPath),
      origin: e.absPath,
      layer: "user",
    });
  }
  return out;
}

/** Builds the overlay of built-in presets and the user's directory. */
export async function loadConfigFiles(fs: FileSystem, configDir?: string): Promise<ConfigFiles> {
  const layers: ConfigFile[][] = [builtinConfigFiles()];
  if (configDir !== undefined) layers.push(await readConfigDir(fs, configDir));
  return new ConfigFiles(layers);
}
