/**
 * Files that travel inside the program: the built-in config presets and script templates.
 *
 * @module
 */
import { EMBEDDED_FILES } from "./embedded.gen.ts";

/** A built-in config file (the config loader's `ConfigFile` of layer `builtin`). */
export interface BuiltinFile {
  /** Relative to `config/`, e.g. `slurm/lumi.yaml`. */
  readonly relPath: string;
  readonly text: string;
  /** What to show users: `<builtin>/slurm/lumi.yaml`. */
  readonly origin: string;
  readonly layer: "builtin";
}

/** Display prefix for built-in files in messages and `--sources`. */
export const BUILTIN_PREFIX = "<builtin>";

/** The built-in presets as a config layer (paths relative to `config/`). */
export function builtinConfigFiles(): BuiltinFile[] {
  const out: BuiltinFile[] = [];
  for (const [path, text] of Object.entries(EMBEDDED_FILES)) {
    if (!path.startsWith("config/")) continue;
    const relPath = path.slice("config/".length);
    out.push({ relPath, text, origin: `${BUILTIN_PREFIX}/${relPath}`, layer: "builtin" });
  }
  return out;
}

/** A built-in template's text by name (`sbatch.sh`), or undefined. */
export function builtinTemplate(name: string): string | undefined {
  return EMBEDDED_FILES[`templates/${name}`];
}
