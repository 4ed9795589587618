/**
 * Composition: a root config's Hydra defaults list, the chosen group options, and `-o`
 * overrides, merged into one unresolved config tree. Pure: files come in as data.
 *
 * Supported defaults-list forms: `- group: option`, `- group: [a, b]`, `- group: null`,
 * `- optional group: option`, `- override group: option` (also `override /group:` inside
 * group files, as Hydra experiment configs use it), `- group@pkg: option`, `- name` (a config
 * of the same folder, e.g. `defaults: [base, _self_]`), `- /abs/group: option`, `- _self_`
 * (implicitly last when absent), interpolated options such as `${platform:}`, and the
 * `# @package` header (`_global_`, `_group_` or a dotted package).
 *
 * @module
 */
import { ConfigError, type ConfigProblem, UsageError } from "../errors.ts";
import type { ConfigFile, ConfigFiles } from "./files.ts";
import type { Override } from "./overrides.ts";
import { type Resolver, resolveString } from "./resolve.ts";
import { closestMatches, didYouMean } from "./suggest.ts";
import {
  cloneTree,
  type ConfigMap,
  type ConfigValue,
  deletePath,
  formatPath,
  getPath,
  isMap,
  mergeInto,
  setPath,
  splitKey,
} from "./tree.ts";

/** Where a composed value came from. */
export interface Origin {
  readonly file: string;
  readonly line?: number;
  readonly column?: number;
}

/** One config file that took part in the composition, in merge order. */
export interface ComposedSource {
  /** Group path (`slurm`), or "" for the root config and plain configs. */
  readonly group: string;
  /** Option name within the group (`lumi`), or the config path for non-group entries. */
  readonly option: string;
  /** The file's origin (path shown to users) and layer. */
  readonly file: string;
  readonly layer: "builtin" | "user";
  /** Dotted package the file was merged under ("" is the root). */
  readonly package: string;
  /** Why this option was chosen. */
  readonly via: "default" | "override" | "command-line" | "fallback" | "root";
}

/** The result of {@link composeConfig}. */
export interface Composition {
  /** The merged, unresolved config. */
  readonly config: ConfigMap;
  /** Final choice per group (null when left out). */
  readonly choices: Readonly<Record<string, string | string[] | null>>;
  readonly sources: readonly ComposedSource[];
  /** Key path -> where its value was written. */
  readonly origins: ReadonlyMap<string, Origin>;
}

/** Inputs of {@link composeConfig}. */
export interface ComposeInput {
  readonly files: ConfigFiles;
  /** Root config name without extension, e.g. `autoexp`. */
  readonly configName: string;
  readonly overrides?: readonly Override[];
  /** Resolvers available to interpolated defaults such as `slurm: ${platform:}`. */
  readonly resolvers?: Readonly<Record<string, Resolver>>;
}

type Entry =
  | { kind: "self" }
  | { kind: "config"; path: string; package?: string; at: string }
  | {
    kind: "group";
    group: string;
    option: string | string[] | null;
    optional: boolean;
    override: boolean;
    package?: string;
    at: string;
  };

interface Loaded {
  file: ConfigFile;
  package: string;
  group: string;
  option: string;
  via: ComposedSource["via"];
}

const MAX_OVERRIDE_PASSES = 5;

/**
 * Composes a config. All problems found (unknown options, missing files, bad overrides) are
 * reported together in one {@link ConfigError}.
 */
export function composeConfig(input: ComposeInput): Composition {
  const { files, configName } = input;
  const overrides = input.overrides ?? [];
  const sweeping = overrides.filter((o) => o.sweep);
  if (sweeping.length) {
    throw new UsageError(
      `override "${
        sweeping[0].text
      }" lists several values; sweeps need -m (e.g. autoexp plan -m -o ${sweeping[0].text})`,
    );
  }
  const root = files.get(configName);
  if (!root) {
    const roots = files.rootConfigs();
    const hint = didYouMean(configName, roots);
    throw new ConfigError({
      path: "",
      message: `no root config "${configName}.yaml"${hint ? `; ${hint}` : ""}`,
      hint: roots.length
        ? `available root configs: ${roots.join(", ")} (choose one with --config-name)`
        : "the config directory has no root config; create one with a defaults: list",
    });
  }

  const problems: ConfigProblem[] = [];
  const cliGroup = new Map<string, Override>();
  const cliAdd: Override[] = [];
  const cliRemove = new Set<string>();
  const valueOverrides: Override[] = [];
  for (const o of overrides) {
    const g = o.key.replaceAll(".", "/");
    const isGroup = files.isGroup(o.key) || (o.key.includes("/") && files.isGroup(g));
    if (!isGroup) {
      valueOverrides.push(o);
      continue;
    }
    const group = o.key.replace(/^\//, "");
    if (o.kind === "delete") cliRemove.add(group);
    else if (o.kind === "add") cliAdd.push(o);
    else cliGroup.set(group, o);
  }

  let fromOverrideEntries = new Map<string, string | string[] | null>();
  let loaded: Loaded[] = [];
  let seenGroups = new Set<string>();
  for (let pass = 0; pass < MAX_OVERRIDE_PASSES; pass++) {
    const state = expand();
    loaded = state.loaded;
    seenGroups = state.seenGroups;
    if (sameChoices(state.overrideEntries, fromOverrideEntries) || state.problems.length) {
      problems.push(...state.problems);
      for (const g of state.overrideEntries.keys()) {
        if (!state.seenGroups.has(g)) {
          problems.push({
            path: "",
            message: `"override ${g}" matches no group in the defaults list`,
          });
        }
      }
      break;
    }
    fromOverrideEntries = state.overrideEntries;
  }
  for (const [g, o] of cliGroup) {
    if (!seenGroups.has(g)) {
      problems.push({
        path: "",
        message: `cannot override group "${g}" with -o ${o.text}: it is not in the defaults list`,
        hint: `to add it, use -o +${o.text}`,
      });
    }
  }
  for (const g of cliRemove) {
    if (!seenGroups.has(g)) {
      problems.push({
        path: "",
        message: `cannot remove group "${g}" (-o ~${g}): it is not in the defaults list`,
      });
    }
  }

  // Merge in order.
  const config: ConfigMap = {};
  const origins = new Map<string, Origin>();
  const sources: ComposedSource[] = [];
  const choices: Record<string, string | string[] | null> = {};
  for (const l of loaded) {
    const yaml = files.parse(l.file);
    if (!isMap(yaml.data)) {
      problems.push({
        path: "",
        file: l.file.origin,
        message: `a config file must be a mapping, got ${describe(yaml.data)}`,
      });
      continue;
    }
    const body: ConfigMap = { ...yaml.data };
    delete body.defaults;
    const pkgPath = l.package ? l.package.split(".") : [];
    let wrapped: ConfigMap = body;
    for (let i = pkgPath.length - 1; i >= 0; i--) wrapped = { [pkgPath[i]]: wrapped };
    const prefix = l.package ? `${l.package}.` : "";
    mergeInto(config, wrapped, (path) => {
      const full = formatPath(path);
      const rel = prefix && full.startsWith(prefix) ? full.slice(prefix.length) : full;
      const pos = yaml.positions.get(rel);
      origins.set(full, { file: l.file.origin, line: pos?.line, column: pos?.column });
    });
    sources.push({
      group: l.group,
      option: l.option,
      file: l.file.origin,
      layer: l.file.layer,
      package: l.package,
      via: l.via,
    });
    if (l.group) {
      const prev = choices[l.group];
      choices[l.group] = prev === undefined
        ? l.option
        : [...(Array.isArray(prev) ? prev : [prev ?? ""]), l.option];
    }
  }
  for (const g of seenGroups) if (!(g in choices)) choices[g] = null;
  if (problems.length) throw new ConfigError(problems);

  applyValueOverrides(config, valueOverrides, origins);
  return { config, choices, sources, origins };

  // --- expansion of the defaults tree -------------------------------------------------------
  function expand() {
    const state = {
      loaded: [] as Loaded[],
      problems: [] as ConfigProblem[],
      overrideEntries: new Map<string, string | string[] | null>(),
      seenGroups: new Set<string>(),
    };
    const stack: string[] = [];
    visit(root!, "", "", "", "root", true);
    return state;

    function visit(
      file: ConfigFile,
      group: string,
      option: string,
      pkg: string,
      via: Loaded["via"],
      isRoot: boolean,
    ) {
      if (stack.includes(file.relPath)) {
        state.problems.push({
          path: "defaults",
          file: file.origin,
          message: `defaults cycle: ${[...stack, file.relPath].join(" -> ")}`,
        });
        return;
      }
      stack.push(file.relPath);
      const yaml = files.parse(file);
      const entries = parseDefaults(yaml.data, file, state.problems);
      const header = yaml.packageHeader;
      let ownPkg = pkg;
      if (header === "_global_") ownPkg = "";
      else if (header && header !== "_group_") ownPkg = header;
      const containing = file.relPath.includes("/") ? file.relPath.replace(/\/[^/]*$/, "") : "";
      const self: Loaded = { file, package: ownPkg, group, option, via };
      const list = [...entries];
      if (isRoot) {
        for (const o of cliAdd) {
          const g = o.key.replace(/^\//, "");
          list.push({
            kind: "group",
            group: `/${g}`,
            option: toOption(o.value),
            optional: false,
            override: false,
            package: o.package,
            at: `-o ${o.text}`,
          });
        }
      }
      if (!list.some((e) => e.kind === "self")) list.push({ kind: "self" });
      for (const e of list) {
        if (e.kind === "self") {
          state.loaded.push(self);
          continue;
        }
        if (e.kind === "config") {
          const target = e.path.startsWith("/")
            ? e.path.slice(1)
            : (containing ? `${containing}/${e.path}` : e.path);
          const f = files.get(target);
          if (!f) {
            const options = containing ? files.options(containing) : files.rootConfigs();
            const hint = didYouMean(e.path.replace(/^\//, ""), options);
            state.problems.push({
              path: e.at,
              file: file.origin,
              message: `defaults entry "${e.path}": no config "${target}.yaml"${
                hint ? `; ${hint}` : ""
              }`,
            });
            continue;
          }
          visit(f, group, option, e.package ? joinPkg(ownPkg, e.package) : ownPkg, via, false);
          continue;
        }
        const g = e.group.startsWith("/")
          ? e.group.slice(1)
          : (containing ? `${containing}/${e.group}` : e.group);
        if (e.override) {
          state.overrideEntries.set(g, e.option);
          continue;
        }
        state.seenGroups.add(g);
        if (cliRemove.has(g)) continue;
        let chosen = e.option;
        let chosenVia: Loaded["via"] = "default";
        const cli = cliGroup.get(g);
        if (cli) {
          chosen = toOption(cli.value);
          chosenVia = "command-line";
        } else if (fromOverrideEntries.has(g)) {
          chosen = fromOverrideEntries.get(g)!;
          chosenVia = "override";
        }
        if (chosen === null) continue;
        const options = Array.isArray(chosen) ? chosen : [chosen];
        for (let opt of options) {
          let optVia: Loaded["via"] = chosenVia;
          const interpolated = opt.includes("${");
          if (interpolated) {
            try {
              opt = String(resolveString({}, opt, { resolvers: input.resolvers ?? {} }));
            } catch (err) {
              state.problems.push({
                path: e.at,
                file: file.origin,
                message: `cannot resolve option "${opt}" of group "${g}": ${
                  (err as Error).message
                }`,
              });
              continue;
            }
          }
          let f = files.get(`${g}/${opt}`);
          if (!f && interpolated && files.get(`${g}/base`)) {
            f = files.get(`${g}/base`);
            opt = "base";
            optVia = "fallback";
          }
          if (!f) {
            if (e.optional) continue;
            const cliText = chosenVia === "command-line"
              ? cli!.text
              : e.at.startsWith("-o ")
              ? e.at.slice(3)
              : undefined;
            state.problems.push(
              missingOption(files, g, opt, e.at, cliText, file, yaml.positions.get(e.at)),
            );
            continue;
          }
          const childPkg = e.package
            ? joinPkg(pkgOfGroup(ownPkg, g, isRoot), e.package, true)
            : g.replaceAll("/", ".");
          visit(f, g, opt, childPkg, optVia, false);
        }
      }
      stack.pop();
    }
  }
}

function pkgOfGroup(_parent: string, group: string, _isRoot: boolean): string {
  return group.replaceAll("/", ".");
}

function joinPkg(base: string, pkg: string, replaceLast = false): string {
  if (pkg === "_global_") return "";
  if (pkg.startsWith("_global_.")) return pkg.slice("_global_.".length);
  if (replaceLast) {
    const parts = base ? base.split(".") : [];
    parts.pop();
    return [...parts, pkg].filter(Boolean).join(".");
  }
  return base ? `${base}.${pkg}` : pkg;
}

function toOption(v: ConfigValue | undefined): string | string[] | null {
  if (v === null || v === undefined) return null;
  if (Array.isArray(v)) return v.map(String);
  return String(v);
}

function sameChoices(a: Map<string, unknown>, b: Map<string, unknown>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (JSON.stringify(b.get(k)) !== JSON.stringify(v)) return false;
  return true;
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return "a list";
  if (v === null) return "an empty document";
  return `${typeof v} ${JSON.stringify(v)}`;
}

function missingOption(
  files: ConfigFiles,
  group: string,
  option: string,
  at: string,
  cliText: string | undefined,
  file: ConfigFile,
  pos: { line: number; column: number } | undefined,
): ConfigProblem {
  if (!files.isGroup(group)) {
    const groups = [...files.groups().keys()];
    const hint = didYouMean(group, groups);
    return {
      path: cliText ? "" : at,
      file: cliText ? undefined : file.origin,
      line: pos?.line,
      column: pos?.column,
      message: `${cliText ? `-o ${cliText}: ` : ""}no config group "${group}"${
        hint ? `; ${hint}` : ""
      }`,
    };
  }
  const options = files.options(group);
  const best = closestMatches(option, options);
  const hint = best.length
    ? `; did you mean ${best.map((b) => `"${group}=${b}"`).join(", ")}?`
    : "";
  return {
    path: cliText ? "" : at,
    file: cliText ? undefined : file.origin,
    line: cliText ? undefined : pos?.line,
    column: cliText ? undefined : pos?.column,
    message: `${cliText ? `-o ${cliText}: ` : ""}no option "${option}" in group "${group}"${hint}`,
    hint: `available: ${options.join(", ")}`,
  };
}

/** Parses a file's `defaults:` list into entries, reporting malformed ones. */
function parseDefaults(data: ConfigValue, file: ConfigFile, problems: ConfigProblem[]): Entry[] {
  if (!isMap(data) || data.defaults === undefined) return [];
  const list = data.defaults;
  if (!Array.isArray(list)) {
    problems.push({ path: "defaults", file: file.origin, message: "defaults must be a list" });
    return [];
  }
  const out: Entry[] = [];
  list.forEach((item, i) => {
    const at = `defaults[${i}]`;
    if (typeof item === "string") {
      if (item === "_self_") out.push({ kind: "self" });
      else {
        const [path, pkg] = item.split("@");
        out.push({ kind: "config", path, package: pkg, at });
      }
      return;
    }
    if (isMap(item) && Object.keys(item).length === 1) {
      const [rawKey] = Object.keys(item);
      const value = item[rawKey];
      const m = rawKey.trim().match(
        /^(?:(optional|override)\s+)?(?:(optional|override)\s+)?([^@\s]+)(?:@(\S+))?$/,
      );
      if (!m) {
        problems.push({
          path: at,
          file: file.origin,
          message: `malformed defaults entry "${rawKey}"`,
        });
        return;
      }
      const flags = [m[1], m[2]];
      if (
        value !== null && typeof value !== "string" &&
        !(Array.isArray(value) && value.every((v) => typeof v === "string"))
      ) {
        problems.push({
          path: at,
          file: file.origin,
          message: `option of "${rawKey}" must be a name, a list of names or null, got ${
            JSON.stringify(value)
          }`,
        });
        return;
      }
      out.push({
        kind: "group",
        group: m[3],
        option: value as string | string[] | null,
        optional: flags.includes("optional"),
        override: flags.includes("override"),
        package: m[4],
        at,
      });
      return;
    }
    problems.push({
      path: at,
      file: file.origin,
      message: `malformed defaults entry ${
        JSON.stringify(item)
      }: expected "group: option", "name" or "_self_"`,
    });
  });
  return out;
}

/** Applies `key=value`, `+key=value`, `++key=value` and `~key` overrides in order. */
function applyValueOverrides(
  config: ConfigMap,
  overrides: readonly Override[],
  origins: Map<string, Origin>,
): void {
  const problems: ConfigProblem[] = [];
  for (const o of overrides) {
    const path = splitKey(o.key);
    if (path.length === 0) {
      problems.push({ path: "", message: `-o ${o.text}: empty key` });
      continue;
    }
    const exists = getPath(config, path) !== undefined;
    const where = { file: `-o ${o.text}` };
    if (o.kind === "delete") {
      if (!exists) {
        problems.push(unknownKey(config, path, o));
        continue;
      }
      if (
        o.value !== undefined && JSON.stringify(getPath(config, path)) !== JSON.stringify(o.value)
      ) {
        problems.push({
          path: o.key,
          message: `-o ${o.text}: current value is ${JSON.stringify(getPath(config, path))}, not ${
            JSON.stringify(o.value)
          }`,
        });
        continue;
      }
      deletePath(config, path);
      continue;
    }
    if (o.kind === "set" && !exists) {
      problems.push(unknownKey(config, path, o));
      continue;
    }
    if (o.kind === "add" && exists) {
      problems.push({
        path: o.key,
        message: `-o ${o.text}: key "${o.key}" already exists`,
        hint: `to change it use -o ${o.text.slice(1)} (or ++ to add or replace)`,
      });
      continue;
    }
    if (!setPath(config, path, cloneTree(o.value ?? null))) {
      problems.push({
        path: o.key,
        message: `-o ${o.text}: cannot set "${o.key}": a parent is not a mapping`,
      });
      continue;
    }
    origins.set(
      formatPath(
        path.map((s, i) => (Array.isArray(getPath(config, path.slice(0, i))) ? Number(s) : s)),
      ),
      where,
    );
  }
  if (problems.length) throw new ConfigError(problems);
}

function unknownKey(config: ConfigMap, path: string[], o: Override): ConfigProblem {
  let i = 0;
  while (i < path.length && getPath(config, path.slice(0, i + 1)) !== undefined) i++;
  const parent = getPath(config, path.slice(0, i));
  const siblings = isMap(parent) ? Object.keys(parent) : [];
  const best = closestMatches(path[i], siblings);
  const prefix = path.slice(0, i).join(".");
  const hint = best.length
    ? `did you mean ${best.map((b) => `"${prefix ? `${prefix}.` : ""}${b}"`).join(", ")}?`
    : `to add a new key, use -o +${o.text.replace(/^[~+]+/, "")}`;
  return {
    path: o.key,
    message: `-o ${o.text}: key "${o.key}" does not exist (no "${path[i]}" in ${
      prefix || "the root"
    })`,
    hint,
  };
}
