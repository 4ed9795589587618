/**
 * The user-wide `defaults.yaml` (`$XDG_CONFIG_HOME/autoexp/defaults.yaml`): your own defaults,
 * applied over the built-in presets and under your config directory (`-C`) and `-o`:
 *
 * ```yaml
 * config:      # values of the composed config
 *   slurm: { sbatch: { account: proj123 } }
 *   project: { base_output_dir: /scratch/me/autoexp }
 * partitions:  # sbatch values per partition (seed 002's default_slurm_args)
 *   gpu: { time: "24:00:00", cpus_per_task: 8, requeue: true }
 * ```
 *
 * A value is set only where the composed config has no value, or one a built-in preset wrote
 * (origins tell): whatever a file of your `-C` directory, a user-wide preset or `-o` wrote wins.
 * `partitions.<p>` applies to `slurm.sbatch` when `slurm.sbatch.partition` is `<p>` (after `-o`,
 * so `-o slurm.sbatch.partition=gpu` takes the gpu defaults), and wins over `config`. Pure.
 *
 * @module
 */
import type { ConfigProblem } from "../errors.ts";
import type { ConfigFile } from "./files.ts";
import { didYouMean } from "./suggest.ts";
import {
  cloneTree,
  type ConfigMap,
  type ConfigValue,
  formatPath,
  getPath,
  isMap,
  setPath,
} from "./tree.ts";
import type { YamlFile } from "./yaml.ts";

/** Where a composed value came from (as compose.ts records it). */
type Origins = Map<
  string,
  { readonly file: string; readonly line?: number; readonly column?: number }
>;

const SECTIONS = ["config", "partitions"] as const;

/** The problems of a defaults file's shape (unknown sections, a section that is no mapping). */
export function userDefaultsProblems(yaml: YamlFile, file: ConfigFile): ConfigProblem[] {
  if (yaml.data === null || yaml.data === undefined) return [];
  if (!isMap(yaml.data)) {
    return [{
      path: "",
      file: file.origin,
      message: "defaults.yaml must be a mapping (config:, partitions:)",
    }];
  }
  const out: ConfigProblem[] = [];
  for (const [k, v] of Object.entries(yaml.data)) {
    const at = yaml.positions.get(k);
    if (!(SECTIONS as readonly string[]).includes(k)) {
      const hint = didYouMean(k, [...SECTIONS]);
      out.push({
        path: k,
        file: file.origin,
        ...at,
        message: `unknown section "${k}" of defaults.yaml${hint ? `; ${hint}` : ""}`,
        hint: "config: values of the composed config; partitions: sbatch values per partition",
      });
    } else if (v !== null && !isMap(v)) {
      out.push({ path: k, file: file.origin, ...at, message: `"${k}" must be a mapping` });
    } else if (k === "partitions" && v) {
      for (const [p, x] of Object.entries(v)) {
        if (x !== null && !isMap(x)) {
          out.push({
            path: `partitions.${p}`,
            file: file.origin,
            ...yaml.positions.get(`partitions.${p}`),
            message:
              `partitions.${p} must be a mapping of sbatch options (time: ..., cpus_per_task: ...)`,
          });
        }
      }
    }
  }
  return out;
}

/**
 * Applies one section of the defaults to a composed config: `config` (before `-o`), or the
 * `partitions` entry of the config's partition (after). `ownedBy(origin)` says whether a value
 * written there may be replaced (a built-in preset's, or the defaults' own). Returns the key
 * paths it set.
 */
export function applyUserDefaults(
  config: ConfigMap,
  origins: Origins,
  yaml: YamlFile,
  file: ConfigFile,
  section: "config" | "partitions",
  replaceable: (originFile: string) => boolean,
): string[] {
  if (!isMap(yaml.data)) return [];
  let values: ConfigValue | undefined;
  let at: (string | number)[] = [];
  let posPrefix = "config";
  if (section === "config") values = yaml.data.config;
  else {
    const partition = getPath(config, ["slurm", "sbatch", "partition"]);
    const table = yaml.data.partitions;
    if (typeof partition !== "string" || !isMap(table)) return [];
    values = table[partition];
    at = ["slurm", "sbatch"];
    posPrefix = `partitions.${partition}`;
  }
  if (!isMap(values)) return [];
  const set: string[] = [];
  const walk = (v: ConfigMap, path: (string | number)[], rel: string[]) => {
    for (const [k, x] of Object.entries(v)) {
      const p = [...path, k];
      if (isMap(x)) {
        const here = getPath(config, p);
        if (here === undefined || isMap(here)) {
          walk(x, p, [...rel, k]);
          continue;
        }
      }
      // Every enclosing value must be a mapping (or absent) that no one else wrote.
      const key = formatPath(p);
      const origin = origins.get(key);
      if (origin && !replaceable(origin.file)) continue;
      for (let i = 1; i < p.length; i++) {
        const parent = getPath(config, p.slice(0, i));
        if (parent !== undefined && !isMap(parent)) return;
      }
      setPath(config, p, cloneTree(x));
      const pos = yaml.positions.get(`${posPrefix}.${[...rel, k].join(".")}`);
      origins.set(key, { file: file.origin, ...pos });
      set.push(key);
    }
  };
  walk(values, at, []);
  return set;
}
