/**
 * The data a plan consists of: one {@link RunPlan} per sweep point, grouped into
 * {@link JobGroup}s (job arrays or single jobs), and the {@link SweepPlan} around them. This is
 * what `sweep.json` stores (see docs/sweep-json.md) and what submission and the monitor read.
 *
 * @module
 */
import type { ConfigValue } from "../config/tree.ts";
import type { ResultsConfig } from "../config/schema/mod.ts";

/** An environment variable of a job: a literal value, or a shell expression evaluated in the job. */
export interface EnvValue {
  readonly value: string;
  /** True: `value` is a shell expression (`$(scontrol show hostnames ...)`), rendered unquoted. */
  readonly shell?: boolean;
}

/** What a run asks SLURM for: sbatch options by config key (see sbatch_options.ts). */
export type Resources = Readonly<Record<string, string | number | boolean>>;

/** Everything that is rendered into a job script rather than passed to run-entry. */
export interface ScriptSettings {
  readonly resources: Resources;
  readonly extraDirectives: readonly string[];
  readonly modules: readonly string[];
  readonly setup: readonly string[];
  /** Environment variables whose value is a shell expression (exported by the script). */
  readonly shellEnv: Readonly<Record<string, string>>;
}

/** One run: a sweep point with its stable name and the exact command its jobs execute. */
export interface RunPlan {
  readonly index: number;
  /** Stable run name: directory, job name, checkpoints. */
  readonly name: string;
  /** The swept values of this point (dotted key -> value). */
  readonly values: Readonly<Record<string, ConfigValue>>;
  /** Absolute run directory: `<sweep>/runs/<name>`, or `<base>/<name>` (`project.run_layout: flat`). */
  readonly runDir: string;
  /** Per-attempt log path; `{job_id}` is replaced by the attempt's SLURM job id. */
  readonly logPath: string;
  /** `project.log_path_current`: a link run-entry points at the newest attempt's log. */
  readonly logLink?: string;
  /** `slurm.script_dir`: the folder of this run's job script (default `<sweep>/scripts`). */
  readonly scriptDir?: string;
  /** The full command, launcher and container prefix included; run without a shell. */
  readonly argv: readonly string[];
  /** Plain environment variables set by run-entry. */
  readonly env: Readonly<Record<string, string>>;
  /** Working directory of the command (default: the run directory). */
  readonly workdir: string;
  readonly script: ScriptSettings;
  /** Node and GPU counts and the time limit in minutes, for totals. */
  readonly nodes: number;
  readonly gpus: number;
  readonly minutes: number;
  /** Job group id this run is submitted in. */
  readonly group: string;
  /** Backend name (`command`, `megatron`). */
  readonly backend: string;
  /** Hash of everything that determines the job; a change means the run's config changed. */
  readonly fingerprint: string;
  /**
   * The config's `results` key (metric files, log metrics, best goals), when it has one: what
   * `autoexp results` reads. Not in the fingerprint (it changes nothing the job does).
   */
  readonly results?: ResultsConfig;
  /** In a pipeline: the stage this run belongs to. */
  readonly stage?: string;
  /** In a pipeline: the run's artifact identity (its directory is named after it). */
  readonly artifact?: string;
  /** In a pipeline: the runs whose outputs this run reads; it starts when they completed. */
  readonly needs?: readonly string[];
  /** Files written into the run directory before the command starts (a stage's `files`). */
  readonly files?: readonly { readonly path: string; readonly text: string }[];
}

/** A stage of a pipeline, as the plan records it. */
export interface StageInfo {
  readonly name: string;
  readonly needs: readonly string[];
  /** 0 for stages without needs; one more than the highest tier a stage needs. */
  readonly tier: number;
  readonly runs: number;
}

/** A chunk of an array group that fits in MaxArraySize: task id + offset = sweep index. */
export interface ArrayChunk {
  readonly offset: number;
  /** SLURM `--array` value, e.g. `0-99%8` or `0,2,5-7`. */
  readonly array: string;
  /** Script path relative to the sweep directory, or absolute (`slurm.script_dir`). */
  readonly script: string;
  readonly indices: readonly number[];
}

/** Runs submitted together: one job array (possibly split in chunks) or one single job. */
export interface JobGroup {
  readonly id: string;
  readonly kind: "array" | "single";
  readonly indices: readonly number[];
  /** For arrays: the chunks; for single jobs: one chunk without `array`. */
  readonly chunks: readonly ArrayChunk[];
  readonly script: ScriptSettings;
}

/** The whole plan of a sweep. */
export interface SweepPlan {
  readonly format: "autoexp.sweep";
  readonly version: 1;
  readonly sweep: {
    readonly name: string;
    /** Short stable id used in job comments to find this sweep's jobs again. */
    readonly id: string;
    /** Absolute sweep directory. */
    readonly dir: string;
    readonly configName: string;
    readonly configDir: string | null;
    readonly overrides: readonly string[];
    readonly multirun: boolean;
    readonly nameTemplate: string;
    /** How jobs start autoexp (`run-entry`). */
    readonly autoexp: readonly string[];
    readonly autoexpVersion: string;
    readonly throttle: number | null;
  };
  readonly runs: readonly RunPlan[];
  readonly groups: readonly JobGroup[];
  /** A pipeline's stages in dependency order (absent for a plain sweep). */
  readonly stages?: readonly StageInfo[];
}
