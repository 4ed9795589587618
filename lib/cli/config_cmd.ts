/**
 * `autoexp config`: print the composed config (unresolved by default, `--resolve` for values),
 * as YAML or `--json`, or `--sources` to show which file each group came from.
 *
 * @module
 */
import type { Command } from "@commander-js/extra-typings";
import { composeConfig } from "../config/compose.ts";
import { loadConfigFiles } from "../config/load.ts";
import { loadConfig } from "../plan/load_config.ts";
import { parseOverride } from "../config/overrides.ts";
import { standardResolvers } from "../config/resolvers.ts";
import { renderYaml } from "../config/yaml.ts";
import { extraSecretNames, maskSecrets } from "../config/secrets.ts";
import { type ConfigValue, isMap } from "../config/tree.ts";
import { detectHostPlatform } from "../platform/mod.ts";
import type { Runtime } from "../runtime/mod.ts";
import { renderJson, renderTable } from "./output.ts";
import { addConfigOptions, type ConfigOptions, configOptionsOf } from "./common.ts";

interface Options extends ConfigOptions {
  resolve?: boolean;
  json?: boolean;
  schema: boolean;
  sources?: boolean;
}

/** Registers the command. */
export function registerConfig(program: Command, rt: () => Runtime): void {
  const cmd = program
    .command("config")
    .description("print the composed config (YAML by default)")
    .option("--resolve", "resolve interpolations (${...}) and print the values")
    .option("--json", "print JSON instead of YAML")
    .option("--no-schema", "skip schema validation (compose any YAML tree, for inspection)")
    .option("--sources", "show which file each config group came from")
    .addHelpText(
      "after",
      `
Examples:
  autoexp config -C examples/quickstart --resolve
  autoexp config -C examples/quickstart -o slurm=lumi -o project.name=trial --sources
  autoexp config -o +backend.args.lr=3e-4 --json`,
    );
  addConfigOptions(cmd);
  cmd.action(async (...args: unknown[]) => {
    await runConfig(configOptionsOf<Options>(args), rt());
  });
}

async function runConfig(opts: Options, rt: Runtime): Promise<void> {
  const deps = { fs: rt.fs, host: rt.host };
  const request = {
    configDir: opts.configDir,
    configName: opts.configName,
    overrides: opts.override,
  };
  let config: unknown;
  let sources;
  let choices;
  if (opts.schema === false && !opts.resolve) {
    // Inspection mode: compose only; nothing is resolved or validated.
    const files = await loadConfigFiles(rt.fs, opts.configDir, rt.host.userConfigDir);
    const platform = await detectHostPlatform(files, rt.host, rt.fs);
    const composition = composeConfig({
      files,
      configName: opts.configName ?? "autoexp",
      overrides: (opts.override ?? []).map(parseOverride),
      resolvers: standardResolvers({
        env: rt.host.env,
        now: rt.host.now(),
        platform: platform.platform,
      }),
    });
    config = composition.config;
    sources = composition.sources;
    choices = composition.choices;
  } else {
    // As OmegaConf prints a resolved config: a value still `???` is shown as such (an
    // interpolation of one is an error); plan and submit require every one.
    const loaded = await loadConfig(
      { ...request, schema: opts.schema !== false, requireAll: false },
      deps,
    );
    config = opts.resolve ? loaded.resolved : loaded.composition.config;
    if (opts.resolve) {
      const unset = missingPaths(loaded.resolved);
      if (unset.length) {
        rt.output.err(
          `autoexp: ${unset.length} value${unset.length === 1 ? " is" : "s are"} unset (???): ${
            unset.slice(0, 10).join(", ")
          }${unset.length > 10 ? ", ..." : ""}; plan and submit need them (-o key=...)\n`,
        );
      }
    }
    sources = loaded.composition.sources;
    choices = loaded.composition.choices;
  }
  if (opts.sources) {
    if (opts.json) {
      rt.output.out(renderJson({ choices, sources }));
      return;
    }
    rt.output.out(renderTable(
      ["group", "option", "layer", "via", "file"],
      sources.map((s) => [s.group || "(root)", s.option || "-", s.layer, s.via, s.file]),
    ));
    return;
  }
  // Values whose names look secret are shown masked (lib/config/secrets.ts).
  const shown = maskSecrets(config as ConfigValue, extraSecretNames(rt.host.env));
  rt.output.out(opts.json ? renderJson(shown) : renderYaml(shown));
}

/** Key paths of values that are still `???`. */
function missingPaths(v: unknown, at = ""): string[] {
  if (v === "???") return [at];
  if (Array.isArray(v)) return v.flatMap((x, i) => missingPaths(x, `${at}[${i}]`));
  if (isMap(v)) {
    return Object.entries(v).flatMap(([k, x]) => missingPaths(x, at ? `${at}.${k}` : k));
  }
  return [];
}
