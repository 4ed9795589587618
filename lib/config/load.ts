/**
 * The config files of a command: the user's config directory (`-C`) read as a layer over the
 * user-wide directory (`$XDG_CONFIG_HOME/autoexp`, default `~/.config/autoexp`: presets of your
 * own, and `defaults.yaml`), itself a layer over the built-in presets. Composing, resolving and validating them is `lib/plan/load_config.ts`
 * (`autoexp config`) and `lib/plan/mod.ts` (a sweep).
 *
 * @module
 */
import { builtinConfigFiles } from "../assets/mod.ts";
import { UsageError } from "../errors.ts";
import type { FileSystem } from "../runtime/mod.ts";
import { type ConfigFile, ConfigFiles, type ConfigLayer } from "./files.ts";
import { closestMatches } from "./suggest.ts";

/** Reads every YAML file of a user config directory as a config layer. */
export async function readConfigDir(
  fs: FileSystem,
  dir: string,
  layer: ConfigLayer = "user",
): Promise<ConfigFile[]> {
  if (!(await fs.isDirectory(dir))) {
    const near = await nearestDir(fs, dir);
    throw new UsageError(
      `config directory "${dir}" does not exist or is not a directory (check -C/--config-dir)` +
        (near ? `; did you mean "${near}"?` : ""),
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
      layer,
    });
  }
  return out;
}

/**
 * The existing directory a mistyped path most likely meant: each missing part replaced by the
 * closest name beside it (`exampls/demo` -> `examples/demo`); null when a part has none.
 */
export async function nearestDir(fs: FileSystem, dir: string): Promise<string | null> {
  const abs = dir.startsWith("/");
  const parts = dir.split("/").filter((p) => p && p !== ".");
  let at = abs ? "/" : ".";
  const out: string[] = [];
  let changed = false;
  for (const part of parts) {
    const next = at === "/" ? `/${part}` : `${at}/${part}`;
    if (part === ".." || await fs.isDirectory(next)) {
      out.push(part);
      at = next;
      continue;
    }
    const best = closestMatches(part, await fs.listDirs(at))[0];
    if (!best) return null;
    out.push(best);
    at = at === "/" ? `/${best}` : `${at}/${best}`;
    changed = true;
  }
  return changed ? `${abs ? "/" : ""}${out.join("/")}` : null;
}

/**
 * Builds the overlay of built-in presets, the user-wide directory (when given and present: a
 * missing one is no layer) and the user's directory.
 */
export async function loadConfigFiles(
  fs: FileSystem,
  configDir?: string,
  userWideDir?: string | null,
): Promise<ConfigFiles> {
  const layers: ConfigFile[][] = [builtinConfigFiles()];
  if (userWideDir && (await fs.isDirectory(userWideDir))) {
    layers.push(await readConfigDir(fs, userWideDir, "user-wide"));
  }
  if (configDir !== undefined) layers.push(await readConfigDir(fs, configDir));
  return new ConfigFiles(layers);
}
