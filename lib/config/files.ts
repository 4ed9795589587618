/**
 * The set of config files a composition sees: the built-in presets shipped inside the program,
 * overlaid file by file by the user's config directory. Pure data; loading a directory from
 * disk is done by the caller (see `lib/cli/`).
 *
 * @module
 */
import { parseYamlFile, type YamlFile } from "./yaml.ts";

/**
 * Where a config file came from: the built-in presets, the user-wide directory
 * (`$XDG_CONFIG_HOME/autoexp`, lib/config/load.ts), or the user's `-C` directory.
 */
export type ConfigLayer = "builtin" | "user-wide" | "user";

/**
 * The user-wide directory's `defaults.yaml`: values over the built-in presets and sbatch values
 * per partition (applied by composeConfig), not a root config.
 */
export const USER_DEFAULTS = "defaults.yaml";

/** One config file. `relPath` uses `/` and includes the `.yaml` extension. */
export interface ConfigFile {
  readonly relPath: string;
  readonly text: string;
  /** What to show users: an absolute path, or `<builtin>/slurm/lumi.yaml`. */
  readonly origin: string;
  readonly layer: ConfigLayer;
}

const YAML_EXT = /\.ya?ml$/;

/** Folders of the config tree that hold data, not config groups (`platform/rules.yaml`). */
export const DATA_DIRS: readonly string[] = ["platform"];

/** An overlay of config layers; later layers replace earlier files with the same path. */
export class ConfigFiles {
  private readonly byPath = new Map<string, ConfigFile>();
  private readonly parsed = new Map<ConfigFile, YamlFile>();
  private groupCache?: Map<string, string[]>;
  private readonly data = new Map<string, ConfigFile[]>();

  constructor(layers: readonly (readonly ConfigFile[])[]) {
    for (const layer of layers) {
      for (const f of layer) {
        if (!YAML_EXT.test(f.relPath)) continue;
        if (
          DATA_DIRS.some((d) => f.relPath.startsWith(`${d}/`)) ||
          (f.layer === "user-wide" && f.relPath === USER_DEFAULTS)
        ) {
          this.data.set(f.relPath, [...(this.data.get(f.relPath) ?? []), f]);
          continue;
        }
        this.byPath.set(stripExt(f.relPath), f);
      }
    }
  }

  /** A data file from every layer that has it (e.g. `platform/rules.yaml`), builtin first. */
  dataFiles(relPath: string): ConfigFile[] {
    return this.data.get(relPath) ?? [];
  }

  /** The file for a config path without extension (`slurm/lumi`), if any. */
  get(path: string): ConfigFile | undefined {
    return this.byPath.get(path);
  }

  /** The parsed YAML of a file, cached (compositions repeat over the same files). */
  parse(file: ConfigFile): YamlFile {
    let p = this.parsed.get(file);
    if (!p) {
      p = parseYamlFile(file.text, file.origin);
      this.parsed.set(file, p);
    }
    return p;
  }

  /** Every config path (without extension). */
  paths(): string[] {
    return [...this.byPath.keys()];
  }

  /** Root configs: files at the top level. */
  rootConfigs(): string[] {
    return this.paths().filter((p) => !p.includes("/")).sort();
  }

  /** Map of group path -> option names (options may contain `/` for nested folders). */
  groups(): Map<string, string[]> {
    if (this.groupCache) return this.groupCache;
    const groups = new Map<string, string[]>();
    for (const p of this.byPath.keys()) {
      const parts = p.split("/");
      for (let i = 1; i < parts.length; i++) {
        const g = parts.slice(0, i).join("/");
        const opt = parts.slice(i).join("/");
        const list = groups.get(g) ?? [];
        list.push(opt);
        groups.set(g, list);
      }
    }
    for (const list of groups.values()) list.sort();
    this.groupCache = groups;
    return groups;
  }

  /** True when `group` is a folder holding config files. */
  isGroup(group: string): boolean {
    return this.groups().has(group);
  }

  /** The options of a group, sorted. */
  options(group: string): string[] {
    return this.groups().get(group) ?? [];
  }
}

function stripExt(p: string): string {
  return p.replace(YAML_EXT, "");
}
