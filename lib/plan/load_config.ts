/**
 * `autoexp config`'s use case: the user's config directory over the built-in presets, the
 * detected platform, composed, resolved and (optionally) validated. Reports all problems at once
 * as one {@link ConfigError}.
 *
 * @module
 */
import { composeConfig, type Composition } from "../config/compose.ts";
import type { ConfigFiles } from "../config/files.ts";
import { loadConfigFiles } from "../config/load.ts";
import { type Override, parseOverride } from "../config/overrides.ts";
import { MISSING_VALUE, type Resolver, resolveTree } from "../config/resolve.ts";
import { standardResolvers } from "../config/resolvers.ts";
import { type ConfigMap, getPath, isMap, splitKey } from "../config/tree.ts";
import { ConfigError, type ConfigProblem } from "../errors.ts";
import { detectHostPlatform, type PlatformDetection } from "../platform/mod.ts";
import type { FileSystem, Host } from "../runtime/mod.ts";

/** What to load. */
export interface LoadRequest {
  /** The user's config directory (`-C`); undefined means built-in presets only. */
  readonly configDir?: string;
  readonly configName?: string;
  /** Raw `-o` texts. */
  readonly overrides?: readonly string[];
  /** Validate against the group schemas (default true). */
  readonly schema?: boolean;
  /** Require every `???` value to be set (default true). */
  readonly requireAll?: boolean;
}

/** A loaded config. */
export interface LoadedConfig {
  readonly files: ConfigFiles;
  readonly composition: Composition;
  /** The resolved config; undefined when `resolve` was not asked and schema is off. */
  readonly resolved?: ConfigMap;
  readonly platform: PlatformDetection;
  readonly overrides: readonly Override[];
  readonly resolvers: Readonly<Record<string, Resolver>>;
}

/**
 * Adds the reserved `autoexp` key (`run_name`, `run_dir`, `sweep_dir`, `index`) as it is for a
 * single, unswept run; `autoexp plan` sets it per sweep point.
 */
export function addRunContext(
  config: ConfigMap,
  configDir: string | null = null,
  choices: Readonly<Record<string, string | string[] | null>> = {},
): void {
  if (config.autoexp !== undefined) return;
  const project = config.project;
  const flat = isMap(project) && project.run_layout === "flat";
  config.autoexp = {
    config_dir: configDir,
    run_name: "${project.name}",
    sweep_dir: "${project.base_output_dir}/${project.name}",
    run_dir: flat
      ? "${project.base_output_dir}/${project.name}"
      : "${project.base_output_dir}/${project.name}/runs/${project.name}",
    index: 0,
    choices: { ...choices } as ConfigMap,
  };
}

/**
 * Loads, composes, resolves and (optionally) validates a config.
 *
 * @throws {ConfigError} with every problem found; {@link UsageError} for a bad `-o` or `-C`.
 */
export async function loadConfig(
  req: LoadRequest,
  deps: { readonly fs: FileSystem; readonly host: Host },
): Promise<LoadedConfig> {
  const files = await loadConfigFiles(deps.fs, req.configDir, deps.host.userConfigDir);
  const platform = await detectHostPlatform(files, deps.host, deps.fs);
  const overrides = (req.overrides ?? []).map(parseOverride);
  const resolvers = standardResolvers({
    env: deps.host.env,
    now: deps.host.now(),
    platform: platform.platform,
  });
  const declared = req.schema === false
    ? undefined
    : (await import("../config/schema/mod.ts")).schemaDeclares;
  const composition = composeConfig({
    files,
    configName: req.configName ?? "autoexp",
    overrides,
    resolvers,
    declared,
  });
  const origin = (p: string) => composition.origins.get(p);
  // The run context points at `project`: a plain YAML tree composed with --no-schema (one
  // without a project section) is shown as it is, without it.
  if (req.schema !== false || isMap(composition.config.project)) {
    addRunContext(
      composition.config,
      req.configDir === undefined
        ? null
        : await deps.fs.realPath(req.configDir).catch(() => req.configDir!),
      composition.choices,
    );
  }
  const { value, problems } = resolveTree(composition.config, {
    resolvers,
    origin,
    allowMissing: req.requireAll === false,
  });
  const all: ConfigProblem[] = [...problems];
  if (req.schema !== false) {
    const { validateConfig } = await import("../config/schema/mod.ts");
    const failed = new Set(problems.map((p) => p.path));
    const isMissing = (p: string) => getPath(value, splitKey(p)) === MISSING_VALUE;
    all.push(
      ...validateConfig(value, origin, ["project"]).problems.filter((p) =>
        !failed.has(p.path) && !isMissing(p.path)
      ),
    );
  }
  if (all.length) throw new ConfigError(all);
  return { files, composition, resolved: value, platform, overrides, resolvers };
}
