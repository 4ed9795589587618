/**
 * Composition: a root config's Hydra defaults list, the chosen group options, and `-o`
 * overrides, merged into one unresolved config tree. Pure: files come in as data.
 *
 * Supported defaults-list forms: `- group: option`, `- group: [a, b]`, `- group: null`,
 * `- optional group: option`, `- override group: option` (also `override /group:` inside
 * group files, as Hydra experiment configs use it), `- group@pkg: option`, `- name` (a config
 * of the same folder, e.g. `defaults: [base, _self_]`), `- /abs/group: option`, `- _self_`
 * (implicitly last when absent), `- group: ???` (must be chosen with `-o`), interpolated
 * options such as `${platform:}`, and the `# @package` header (`_global_`, `_group_` or a
 * dotted package). Command-line group overrides: `group=x`, `+group=x` (add), `++group=x` (add
 * or change), `~group` and `~group=x` (remove, the latter only when `x` is chosen).
 *
 * Deliberate differences from Hydra 1.3: `override` entries may appear anywhere in a defaults
 * list (Hydra wants them last); an `optional` group still rejects a missing option chosen on
 * the command line (Hydra may skip it silently); an interpolated option that names no file
 * falls back to the group's `base`; interpolated options see resolvers only, not other groups'
 * choices.
 *
 * @module
 */
import { ConfigError, type ConfigProblem, UsageError } from "../errors.ts";
import { type ConfigFile, type ConfigFiles, type ConfigLayer, USER_DEFAULTS } from "./files.ts";
import { applyUserDefaults, userDefaultsProblems } from "./user_defaults.ts";
import type { YamlFile } from "./yaml.ts";
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
  WholeFloat,
} from "./tree.ts";

/** Where a composed value came from. */
export interface Origin {
  readonly file: string;
  readonly line?: number;
  readonly column?: number;
}

/** One config file that took part in the composition, in merge order. */
export interface ComposedSource {
  /**
   * Group path (`slurm`) whose choice brought the file in, or "" for the root config and the
   * plain configs it lists. A plain config of a group file (`base` in `slurm/lumi.yaml`'s
   * `defaults: [base, _self_]`) reports the group and option of that file (`slurm`, `lumi`).
   */
  readonly group: string;
  /** Option name within the group (`lumi`), or "" for the root config. */
  readonly option: string;
  /** The file's origin (path shown to users) and layer. */
  readonly file: string;
  readonly layer: ConfigLayer;
  /** Dotted package the file was merged under ("" is the root). */
  readonly package: string;
  /** Why this option was chosen. */
  readonly via: "default" | "override" | "command-line" | "fallback" | "root" | "user-defaults";
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
  /**
   * Keys a schema declares (as a Hydra structured config's fields): `key=value` sets such a key
   * even when no config file wrote it, as Hydra does for a dataclass field.
   */
  readonly declared?: (path: readonly string[]) => boolean;
}

type Entry =
  | { kind: "self"; at: string }
  | { kind: "config"; path: string; package?: string; at: string }
  | {
    kind: "group";
    group: string;
    option: string | string[] | null;
    optional: boolean;
    override: boolean;
    package?: string;
    at: string;
    /** Set for groups added from the command line (`+group=x`, `++group=x`). */
    cli?: Override;
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
 *
 * Packages follow Hydra 1.1+: a config lands at its parent's package joined with the entry's
 * `@package`, else the file's `# @package` header, else the entry's (relative) group path;
 * `_global_` anywhere in that result means "from the root".
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
  const cliRemove = new Map<string, Override>();
  const valueOverrides: Override[] = [];
  for (const o of overrides) {
    const group = o.key.replace(/^\//, "");
    if (!files.isGroup(group)) {
      valueOverrides.push(o);
      continue;
    }
    if (o.kind === "delete") cliRemove.set(group, o);
    else if (o.kind === "add") cliAdd.push(o);
    else if (o.kind === "force") {
      // `++group=x`: overrides the group when the defaults list has it, adds it otherwise.
      cliGroup.set(group, o);
      cliAdd.push(o);
    } else cliGroup.set(group, o);
  }

  // Override entries (`override group: x`) can live in files that are only loaded because of
  // other choices, so expand until the set of override entries settles.
  // Options interpolated from group choices (`- server: ${db}_srv`, as Hydra allows) see the
  // choices of the previous pass for groups not yet chosen in this one, so expand again until
  // those settle too.
  let fromOverrideEntries = new Map<string, string | string[] | null>();
  let previousChoices: Record<string, string | string[] | null> = {};
  let state = expand();
  for (let pass = 1; pass < MAX_OVERRIDE_PASSES; pass++) {
    const settled = !state.usedPrevious ||
      JSON.stringify(state.choices) === JSON.stringify(previousChoices);
    if (settled && sameChoices(state.overrideEntries, fromOverrideEntries)) break;
    fromOverrideEntries = state.overrideEntries;
    previousChoices = state.choices;
    state = expand();
  }
  const { loaded, seenGroups } = state;
  problems.push(...state.problems);
  for (const g of state.overrideEntries.keys()) {
    const at = state.overrideEntries.where.get(g)!;
    if (!seenGroups.has(g)) {
      const groups = [...files.groups().keys()];
      const hint = files.isGroup(g) ? "" : didYouMean(g, groups);
      problems.push({
        path: at.at,
        file: at.file.origin,
        ...files.parse(at.file).positions.get(at.at),
        message: `"override ${g}" matches no group in the defaults list${hint ? `; ${hint}` : ""}`,
        hint: files.isGroup(g)
          ? `to add the group, drop "override" from the entry (- /${g}: ...)`
          : undefined,
      });
    }
  }
  for (const [g, o] of cliGroup) {
    if (o.kind !== "force" && !seenGroups.has(g)) {
      problems.push({
        path: "",
        message: `cannot override group "${g}" with -o ${o.text}: it is not in the defaults list`,
        hint: `to add it, use -o +${o.text}`,
      });
    }
  }
  for (const [g, o] of cliRemove) {
    // `~monitoring` where the defaults list has no such group deletes the key of that name
    // (a root config that writes `monitoring:` inline); missing either way is an error then.
    if (!seenGroups.has(g)) valueOverrides.push(o);
  }

  // Merge in order.
  const config: ConfigMap = {};
  const origins = new Map<string, Origin>();
  const sources: ComposedSource[] = [];
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
      if (prefix && !full.startsWith(prefix)) {
        // A mapping created for the package itself: no line of the file wrote it.
        origins.set(full, { file: l.file.origin });
        return;
      }
      const pos = yaml.positions.get(full.slice(prefix.length));
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
  }
  // The user-wide defaults.yaml: over what built-in presets wrote, under everything else.
  const userDefaults = files.dataFiles(USER_DEFAULTS).find((f) => f.layer === "user-wide");
  const builtin = new Set(
    loaded.filter((l) => l.file.layer === "builtin").map((l) => l.file.origin),
  );
  const replaceable = (file: string) => builtin.has(file) || file === userDefaults?.origin;
  let defaultsYaml: YamlFile | null = null;
  if (userDefaults) {
    defaultsYaml = files.parse(userDefaults);
    const bad = userDefaultsProblems(defaultsYaml, userDefaults);
    problems.push(...bad);
    if (bad.length) defaultsYaml = null;
    else {
      applyUserDefaults(config, origins, defaultsYaml, userDefaults, "config", replaceable);
      sources.push({
        group: "",
        option: "defaults",
        file: userDefaults.origin,
        layer: "user-wide",
        package: "",
        via: "user-defaults",
      });
    }
  }
  // Value overrides are checked even when composition failed, so one run reports everything.
  problems.push(
    ...applyValueOverrides(
      config,
      valueOverrides,
      origins,
      [...files.groups().keys()],
      problems.length === 0,
      input.declared,
    ),
  );
  if (defaultsYaml && userDefaults) {
    // Per partition: the partition chosen by the files or by -o.
    applyUserDefaults(config, origins, defaultsYaml, userDefaults, "partitions", replaceable);
  }
  if (problems.length) throw new ConfigError(problems);
  return { config, choices: state.choices, sources, origins };

  // --- expansion of the defaults tree -------------------------------------------------------
  function expand() {
    const state = {
      loaded: [] as Loaded[],
      problems: [] as ConfigProblem[],
      /** Group -> the option an `override` entry chose, and where the last one was written. */
      overrideEntries: new OverrideEntries(),
      seenGroups: new Set<string>(),
      choices: {} as Record<string, string | string[] | null>,
      /** An interpolated option read a choice of the previous pass. */
      usedPrevious: false,
      /** `group@package` keys already selected, with where, to catch duplicates. */
      selected: new Map<string, { at: string; file: string; option: string }>(),
    };
    const stack: string[] = [];
    visit(root!, "", "", "", { rel: "" }, "root", true);
    return state;

    function visit(
      file: ConfigFile,
      group: string,
      option: string,
      parentPkg: string,
      pkg: { explicit?: string; rel: string },
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
      let yaml: YamlFile;
      try {
        yaml = files.parse(file);
      } catch (err) {
        // A YAML syntax error is one more problem to report with the others.
        if (!(err instanceof ConfigError)) throw err;
        state.problems.push(...err.problems);
        return;
      }
      stack.push(file.relPath);
      const entries = parseDefaults(yaml, file, state.problems);
      const header = yaml.packageHeader === "_group_" ? undefined : yaml.packageHeader;
      const ownPkg = finalPackage(parentPkg, pkg.explicit ?? header ?? pkg.rel, pkg.rel);
      const containing = file.relPath.includes("/") ? file.relPath.replace(/\/[^/]*$/, "") : "";
      const self: Loaded = { file, package: ownPkg, group, option, via };
      const list = [...entries];
      // As in Hydra, an implicit `_self_` goes after the file's own entries but before groups
      // added from the command line, so `+experiment=x` can change the root's values.
      if (!list.some((e) => e.kind === "self")) list.push({ kind: "self", at: "" });
      if (isRoot) {
        for (const o of cliAdd) {
          list.push({
            kind: "group",
            group: `/${o.key.replace(/^\//, "")}`,
            option: toOption(o.value),
            optional: false,
            override: false,
            package: o.package,
            at: `-o ${o.text}`,
            cli: o,
          });
        }
      }
      // As in Hydra: `override` entries come last (after them only `_self_` and groups added on
      // the command line), so the list reads as "choose, then change".
      let lastOverride: (Entry & { kind: "group" }) | undefined;
      for (const e of list) {
        if (e.kind === "self") {
          state.loaded.push(self);
          continue;
        }
        const pos = yaml.positions.get(e.at);
        if (e.kind === "group" && e.override) lastOverride = e;
        else if (lastOverride && !(e.kind === "group" && e.cli)) {
          const name = e.kind === "group" ? `${e.group}: ${JSON.stringify(e.option)}` : e.path;
          state.problems.push({
            path: e.at,
            file: file.origin,
            line: pos?.line,
            column: pos?.column,
            message: `override "${lastOverride.group}: ${lastOverride.option}" is defined ` +
              `before "${
                name.replace(/"/g, "")
              }": overrides must be at the end of the defaults list`,
          });
          lastOverride = undefined;
        }
        if (e.kind === "config") {
          const rel = e.path.replace(/^\//, "");
          const target = e.path.startsWith("/") || !containing ? rel : `${containing}/${rel}`;
          const f = files.get(target);
          if (!f) {
            const options = containing ? files.options(containing) : files.rootConfigs();
            const hint = didYouMean(rel, options);
            state.problems.push({
              path: e.at,
              file: file.origin,
              line: pos?.line,
              column: pos?.column,
              message: `defaults entry "${e.path}": no config "${target}.yaml"${
                hint ? `; ${hint}` : ""
              }`,
            });
            continue;
          }
          const relPkg = rel.includes("/") ? rel.replace(/\/[^/]*$/, "").replaceAll("/", ".") : "";
          visit(f, group, option, ownPkg, { explicit: e.package, rel: relPkg }, via, false);
          continue;
        }
        const g = e.group.startsWith("/")
          ? e.group.slice(1)
          : (containing ? `${containing}/${e.group}` : e.group);
        if (e.override) {
          state.overrideEntries.set(g, e.option, { at: e.at, file });
          continue;
        }
        // `++group=x` adds the group only when the defaults list does not already have it.
        if (e.cli?.kind === "force" && state.seenGroups.has(g)) continue;
        state.seenGroups.add(g);
        if (!(g in state.choices)) state.choices[g] = null;
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
        const removal = cliRemove.get(g);
        if (removal) {
          if (removal.value !== undefined && !sameOption(toOption(removal.value), chosen)) {
            state.problems.push({
              path: "",
              message: `cannot remove group "${g}" with -o ${removal.text}: its option is ${
                JSON.stringify(chosen)
              }, not ${JSON.stringify(toOption(removal.value))}`,
              hint: `to remove it whatever its option, use -o ~${g}`,
            });
          }
          continue;
        }
        if (chosen === null) continue;
        const entryFile = e.cli ? undefined : file.origin;
        const key = `${g}@${e.package ?? ""}`;
        const previous = state.selected.get(key);
        if (previous) {
          const first = `${previous.file ? `${previous.file}: ` : ""}${previous.at}`;
          state.problems.push(
            e.cli
              ? {
                path: "",
                message: `cannot add group "${g}" with -o ${e.cli.text}: ` +
                  `it is already in the defaults list (${g}: ${previous.option})`,
                hint: `to change it, use -o ${e.cli.text.replace(/^\+\+?/, "")}`,
              }
              : {
                path: e.at,
                file: file.origin,
                line: pos?.line,
                column: pos?.column,
                message:
                  `group "${g}" appears more than once in the defaults list (first at ${first})`,
                hint: `to change the option chosen earlier, write "- override ${e.group}: ..."`,
              },
          );
          continue;
        }
        state.selected.set(key, {
          at: e.at,
          file: entryFile ?? "",
          option: JSON.stringify(chosen),
        });
        if (chosen === "???") {
          state.problems.push({
            path: e.at,
            file: file.origin,
            line: pos?.line,
            column: pos?.column,
            message: `group "${g}" needs an option ("${e.group}: ???")`,
            hint: `choose one with -o ${g}=<option>; available: ${
              files.options(g).join(", ") || "(none)"
            }`,
          });
          continue;
        }
        const picked: string[] = [];
        for (let opt of Array.isArray(chosen) ? chosen : [chosen]) {
          let optVia: Loaded["via"] = chosenVia;
          const interpolated = opt.includes("${");
          if (interpolated) {
            try {
              const known: ConfigMap = {};
              for (const [k, v] of Object.entries({ ...previousChoices, ...state.choices })) {
                if (v !== null) known[k] = v;
              }
              const refs = [...opt.matchAll(/\$\{([^}:]+)\}/g)].map((m) => m[1].trim());
              if (refs.some((r) => !(r in state.choices) || state.choices[r] === null)) {
                state.usedPrevious = true;
              }
              opt = String(resolveString(known, opt, { resolvers: input.resolvers ?? {} }));
            } catch (err) {
              state.problems.push({
                path: e.at,
                file: file.origin,
                line: pos?.line,
                column: pos?.column,
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
            // `optional` forgives a missing config, not a typo on the command line.
            if (e.optional && chosenVia !== "command-line") continue;
            const cliText = chosenVia === "command-line" ? cli!.text : e.cli?.text;
            state.problems.push(missingOption(files, g, opt, e.at, cliText, file, pos));
            continue;
          }
          picked.push(opt);
          const rel = e.group.replace(/^\//, "").replaceAll("/", ".");
          visit(f, g, opt, ownPkg, { explicit: e.package, rel }, optVia, false);
        }
        state.choices[g] = Array.isArray(chosen) ? picked : picked[0] ?? null;
      }
      stack.pop();
    }
  }
}

/** Where the last `override` entry for each group was written, besides its option. */
class OverrideEntries extends Map<string, string | string[] | null> {
  readonly where = new Map<string, { at: string; file: ConfigFile }>();
  override set(
    group: string,
    option: string | string[] | null,
    where?: { at: string; file: ConfigFile },
  ): this {
    if (where) this.where.set(group, where);
    return super.set(group, option);
  }
}

/**
 * Hydra's final package: `parent` joined with `pkg` (in which `_group_` stands for the entry's
 * group path); everything up to a `_global_` is dropped.
 */
function finalPackage(parent: string, pkg: string, group: string): string {
  const own = pkg.split(".").flatMap((s) => s === "_group_" ? group.split(".") : [s]);
  const parts = [...(parent ? parent.split(".") : []), ...own].filter(Boolean);
  const g = parts.lastIndexOf("_global_");
  return parts.slice(g + 1).join(".");
}

function sameOption(a: string | string[] | null, b: string | string[] | null): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
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
    hint: `available: ${options.join(", ")}` +
      (!cliText && (option === "true" || option === "false")
        ? ` (YAML reads on/off/yes/no as a boolean: write "${group}: 'on'" in quotes)`
        : ""),
  };
}

/** Parses a file's `defaults:` list into entries, reporting malformed ones. */
function parseDefaults(yaml: YamlFile, file: ConfigFile, problems: ConfigProblem[]): Entry[] {
  const data = yaml.data;
  if (!isMap(data) || data.defaults === undefined) return [];
  const list = data.defaults;
  const where = (at: string) => ({ path: at, file: file.origin, ...yaml.positions.get(at) });
  if (!Array.isArray(list)) {
    problems.push({ ...where("defaults"), message: "defaults must be a list" });
    return [];
  }
  const out: Entry[] = [];
  list.forEach((item, i) => {
    const at = `defaults[${i}]`;
    if (typeof item === "string") {
      if (item === "_self_") {
        if (out.some((e) => e.kind === "self")) {
          problems.push({ ...where(at), message: "_self_ appears more than once in defaults" });
        } else out.push({ kind: "self", at });
      } else {
        const [path, pkg] = item.split("@");
        out.push({ kind: "config", path, package: pkg, at });
      }
      return;
    }
    if (isMap(item) && Object.keys(item).length === 1) {
      const [rawKey] = Object.keys(item);
      let value = item[rawKey];
      const m = rawKey.trim().match(
        /^(?:(optional|override)\s+)?(?:(optional|override)\s+)?([^@\s]+)(?:@(\S+))?$/,
      );
      if (!m) {
        problems.push({ ...where(at), message: `malformed defaults entry "${rawKey}"` });
        return;
      }
      const flags = [m[1], m[2]];
      // YAML reads `- model: 7` as a number; the option is still the file `model/7.yaml`
      // (`- lr: 1.0` is the file `lr/1.0.yaml`, as in Hydra).
      if (typeof value === "number" || typeof value === "boolean" || value instanceof WholeFloat) {
        value = String(value);
      }
      if (
        value !== null && typeof value !== "string" &&
        !(Array.isArray(value) && value.every((v) => typeof v === "string"))
      ) {
        problems.push({
          ...where(at),
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
      ...where(at),
      message: `malformed defaults entry ${
        JSON.stringify(item)
      }: expected "group: option", "name" or "_self_"`,
    });
  });
  return out;
}

/**
 * Applies `key=value`, `+key=value`, `++key=value` and `~key` overrides in order and returns
 * the problems. As in Hydra, a mapping value set onto a mapping is merged into it, `+key=...`
 * is refused only where the key holds a value other than null and the new value is not a mapping
 * or list, and `~key` on a key holding null is refused as absent (Hydra selects null and absent
 * alike).
 * `composed` is false when composition already failed: a key that is missing because its whole
 * group failed to load is then not reported again.
 */
function applyValueOverrides(
  config: ConfigMap,
  overrides: readonly Override[],
  origins: Map<string, Origin>,
  groups: readonly string[],
  composed: boolean,
  declared: (path: readonly string[]) => boolean = () => false,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const missing = (path: string[], o: Override) => {
    if (composed || getPath(config, path.slice(0, 1)) !== undefined) {
      problems.push(unknownKey(config, path, o, groups));
    }
  };
  for (const o of overrides) {
    const path = splitKey(o.key);
    if (path.length === 0) {
      problems.push({ path: "", message: `-o ${o.text}: empty key` });
      continue;
    }
    if (o.package !== undefined) {
      const hint = didYouMean(o.key, groups);
      problems.push({
        path: o.key,
        message:
          `-o ${o.text}: "${o.key}@${o.package}" looks like a group override, but there is ` +
          `no config group "${o.key}"${hint ? `; ${hint}` : ""}`,
      });
      continue;
    }
    const current = getPath(config, path);
    const exists = current !== undefined;
    if (o.kind === "delete") {
      if (!exists && groups.includes(o.key.replace(/^\//, ""))) {
        problems.push({
          path: "",
          message: `cannot remove group "${o.key}" (-o ${o.text}): it is not in the defaults ` +
            "list (and no key of that name is set)",
        });
        continue;
      }
      if (!exists) {
        missing(path, o);
        continue;
      }
      if (current === null) {
        problems.push({
          path: o.key,
          message: `-o ${o.text}: "${o.key}" holds null, which counts as absent (as in Hydra): ` +
            `there is nothing to delete`,
          hint: `leave it out, or set it with -o ${o.key}=...`,
        });
        continue;
      }
      if (o.value !== undefined && JSON.stringify(current) !== JSON.stringify(o.value)) {
        problems.push({
          path: o.key,
          message: `-o ${o.text}: current value is ${JSON.stringify(current)}, not ${
            JSON.stringify(o.value)
          }`,
          hint: `to delete it whatever its value, use -o ~${o.key}`,
        });
        continue;
      }
      deletePath(config, path);
      continue;
    }
    if (o.kind === "set" && !exists && !declared(path)) {
      missing(path, o);
      continue;
    }
    if (
      o.kind === "add" && exists && current !== null &&
      !(isMap(o.value ?? null) || Array.isArray(o.value))
    ) {
      problems.push({
        path: o.key,
        message: `-o ${o.text}: key "${o.key}" already exists`,
        hint: `to change it use -o ${o.text.slice(1)} (or ++ to add or replace)`,
      });
      continue;
    }
    // Key paths as origins spell them: list indices as numbers.
    const typed = path.map((
      s,
      i,
    ) => (Array.isArray(getPath(config, path.slice(0, i))) ? Number(s) : s));
    const value = cloneTree(o.value ?? null);
    if (isMap(value) && isMap(current)) {
      mergeInto(current, value, (p) => origins.set(formatPath(p), { file: `-o ${o.text}` }), typed);
    } else if (!setPath(config, path, value)) {
      problems.push({
        path: o.key,
        message: `-o ${o.text}: cannot set "${o.key}": a parent is not a mapping`,
      });
      continue;
    }
    origins.set(formatPath(typed), { file: `-o ${o.text}` });
  }
  return problems;
}

function unknownKey(
  config: ConfigMap,
  path: string[],
  o: Override,
  groups: readonly string[],
): ConfigProblem {
  let i = 0;
  while (i < path.length && getPath(config, path.slice(0, i + 1)) !== undefined) i++;
  const parent = getPath(config, path.slice(0, i));
  const prefix = path.slice(0, i).join(".");
  if (Array.isArray(parent)) {
    return {
      path: o.key,
      message: `-o ${o.text}: index ${path[i]} is out of range: "${prefix}" has ${parent.length} ${
        parent.length === 1 ? "item" : "items"
      }`,
    };
  }
  const siblings = isMap(parent) ? Object.keys(parent) : [];
  const best = closestMatches(path[i], siblings);
  let hint = best.length
    ? `did you mean ${best.map((b) => `"${prefix ? `${prefix}.` : ""}${b}"`).join(", ")}?`
    : `to add a new key, use -o +${o.text.replace(/^[~+]+/, "")}`;
  if (!best.length && i === 0 && o.kind !== "delete") {
    // A mistyped group name (`expriment=x`) is not a key either.
    const group = closestMatches(path[0], groups)[0];
    if (group) hint = `did you mean the config group "${group}" (-o +${group}=...)?`;
  }
  return {
    path: o.key,
    message: `-o ${o.text}: no key "${path[i]}" in ${prefix || "the config's root"}`,
    hint,
  };
}
