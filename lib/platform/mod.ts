/**
 * Detecting the cluster autoexp runs on: the rules (built-in `platform/rules.yaml` plus the
 * user's own file of the same name) applied to facts read from the host.
 *
 * @module
 */
import { ConfigError } from "../errors.ts";
import type { ConfigFiles } from "../config/files.ts";
import type { FileSystem, Host } from "../runtime/mod.ts";
import {
  detectPlatform,
  mergePlatformRules,
  parsePlatformRules,
  pathsToProbe,
  type PlatformDetection,
  type PlatformRule,
  PlatformRulesError,
} from "./detect.ts";

export type { PlatformDetection, PlatformRule } from "./detect.ts";

/** The rules file inside a config layer. */
export const RULES_FILE = "platform/rules.yaml";

/** Reads the platform rules of every layer; user rules first. */
export function loadPlatformRules(files: ConfigFiles): PlatformRule[] {
  const layers = files.dataFiles(RULES_FILE);
  let builtin: PlatformRule[] = [];
  let user: PlatformRule[] = [];
  for (const f of layers) {
    const yaml = files.parse(f);
    let rules: PlatformRule[];
    try {
      rules = parsePlatformRules(yaml.data, f.origin);
    } catch (e) {
      if (e instanceof PlatformRulesError) {
        throw new ConfigError(e.issues.map((i) => {
          const pos = yaml.positions.get(i.path);
          return {
            path: i.path,
            message: i.message,
            file: f.origin,
            line: pos?.line,
            column: pos?.column,
          };
        }));
      }
      throw e;
    }
    if (f.layer === "builtin") builtin = rules;
    else user = [...user, ...rules];
  }
  return mergePlatformRules(builtin, user);
}

/** Detects the platform of this host. */
export async function detectHostPlatform(
  files: ConfigFiles,
  host: Host,
  fs: FileSystem,
): Promise<PlatformDetection> {
  const rules = loadPlatformRules(files);
  const existing = new Set<string>();
  await Promise.all(
    pathsToProbe(rules).map(async (p) => {
      if (await fs.exists(p).catch(() => false)) existing.add(p);
    }),
  );
  return detectPlatform(rules, {
    hostname: host.hostname(),
    env: host.env,
    existingPaths: existing,
  });
}
