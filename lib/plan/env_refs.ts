/**
 * Values taken from the user's environment reach jobs by name, never by value: a job
 * environment entry written as `${oc.env:HF_TOKEN}` (in `slurm.env`, `slurm.environment`,
 * `backend.env` or `container.env`) is planned as the shell reference `"${HF_TOKEN}"`, which the
 * job reads from the environment sbatch hands it (`--export=ALL`). So no file autoexp writes
 * (sweep.json, the entries, job scripts, provenance) holds a token. Pure.
 *
 * @module
 */
import type { EnvConfig, ValidConfig } from "../config/schema/mod.ts";
import { cloneTree, type ConfigMap, getPath, isMap } from "../config/tree.ts";

/** The environment sections of a job, by key path. */
export const ENV_SECTIONS = [
  ["slurm", "env"],
  ["slurm", "environment"],
  ["backend", "env"],
  ["container", "env"],
] as const;

/** `${oc.env:NAME}` or `${oc.env:NAME,default}` as a whole value. */
const FROM_ENV = /^\$\{\s*oc\.env\s*:\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:,[^{}]*)?\}$/;

/** Entries to pass by name: section path -> entry -> the variable it reads. */
export type EnvRefs = ReadonlyMap<string, ReadonlyMap<string, string>>;

/**
 * The job environment entries of a composed (unresolved) config that read a variable set in
 * `env` (an unset one resolves to its default, a config value, which is written as usual).
 */
export function envRefsOf(raw: ConfigMap, env: Readonly<Record<string, string>>): EnvRefs {
  const out = new Map<string, Map<string, string>>();
  const found: string[] = [];
  for (const path of ENV_SECTIONS) {
    const section = getPath(raw, [...path]);
    if (!isMap(section)) continue;
    for (const [key, value] of Object.entries(section)) {
      const m = typeof value === "string" ? value.match(FROM_ENV) : null;
      if (!m || env[m[1]] === undefined) continue;
      const refs = out.get(path.join(".")) ?? new Map<string, string>();
      refs.set(key, m[1]);
      out.set(path.join("."), refs);
      found.push(`${path.join(".")}.${key}=${m[1]}`);
    }
  }
  // The same refs are the same object (points share them, and so their patched groups).
  const key = found.join("\n");
  let interned = internedRefs.get(key);
  if (!interned) internedRefs.set(key, interned = out);
  return interned;
}

const internedRefs = new Map<string, EnvRefs>();

/** Patched groups by group object and refs, so runs that shared a group still share one. */
const patched = new WeakMap<object, WeakMap<EnvRefs, object>>();

/** `config` with the entries of `refs` replaced by shell references to their variables. */
export function passEnvByName(config: ValidConfig, refs: EnvRefs): ValidConfig {
  if (!refs.size) return config;
  const out: Record<string, unknown> = { ...config };
  for (const group of ["slurm", "backend", "container"] as const) {
    const g = config[group];
    if (!g) continue;
    let byRefs = patched.get(g);
    if (!byRefs) patched.set(g, byRefs = new WeakMap());
    let next = byRefs.get(refs);
    if (!next) {
      const copy: Record<string, unknown> = { ...g };
      for (const [path, entries] of refs) {
        const [owner, key] = path.split(".");
        const section = copy[key] as EnvConfig | null | undefined;
        if (owner !== group || !section) continue;
        const env: EnvConfig = { ...section };
        for (const [name, variable] of entries) {
          if (name in env) env[name] = { value: shellRef(variable), shell: true };
        }
        copy[key] = env;
      }
      byRefs.set(refs, next = copy);
    }
    out[group] = next;
  }
  return out as ValidConfig;
}

/**
 * `resolved` (a copy) with the job environment entries that read the user's environment shown
 * as written (`${oc.env:HF_TOKEN}`), for files people read (provenance).
 */
export function withEnvRefsUnresolved(
  resolved: ConfigMap,
  raw: ConfigMap,
  env: Readonly<Record<string, string>>,
): ConfigMap {
  const refs = envRefsOf(raw, env);
  if (!refs.size) return resolved;
  const out = cloneTree(resolved);
  for (const [path, entries] of refs) {
    const section = getPath(out, path.split("."));
    const written = getPath(raw, path.split("."));
    if (!isMap(section) || !isMap(written)) continue;
    for (const name of entries.keys()) section[name] = written[name];
  }
  return out;
}

/** The shell expression a job reads a variable passed by name with: `"${HF_TOKEN}"`. */
export function shellRef(variable: string): string {
  return `"\${${variable}}"`;
}

/** The variable a shell environment value passes by name ({@link shellRef}), if it is one. */
export function refVariable(value: string): string | undefined {
  return value.match(/^"\$\{([A-Za-z_][A-Za-z0-9_]*)\}"$/)?.[1];
}
