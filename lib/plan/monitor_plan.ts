/**
 * Planning the monitor: each run's `monitoring` group and `restart_policies` are validated into
 * a {@link MonitorSpec} (once per distinct spec), every `{placeholder}` in its actions is checked
 * against what will be known when the event fires, and the config values that `{dotted.key}`
 * placeholders name are taken from the run's resolved config. The result is `monitor.json`.
 *
 * @module
 */
import { pythonStr } from "../config/python_str.ts";
import type { ConfigProblem } from "../errors.ts";
import { ConfigError } from "../errors.ts";
import { closestMatches } from "../config/suggest.ts";
import { type ConfigMap, getPath, isContainer, isMap, splitKey } from "../config/tree.ts";
import { checkpointAliases, type LogEventSpec, MEGATRON_EVENTS } from "../monitoring/events.ts";
import type { MonitorFile } from "../monitoring/monitor_file.ts";
import { parseMonitorSpec, restartPoliciesPath } from "../monitoring/spec.ts";
import { parseOverride } from "../config/overrides.ts";
import {
  type ActionSpec,
  type CommandSpec,
  type ConditionSpec,
  CONTEXT_KEYS,
  type EventActionSpec,
  type MonitorSpec,
  STATE_KEYS,
} from "../monitoring/spec_types.ts";
import { placeholders } from "../monitoring/template.ts";
import { stableHash } from "./hash.ts";

interface SpecEntry {
  readonly hash: string;
  readonly spec: MonitorSpec;
  /** Placeholders that name config keys (`backend.args.train_iters`). */
  readonly configKeys: readonly string[];
  /** Problems of this spec (reported for every run that uses it). */
  readonly problems: readonly ConfigProblem[];
}

/** A template with where it was written. */
interface Located {
  readonly template: string;
  readonly path: string;
  /** Names known only to this template's event (pattern groups, extract keys, metadata). */
  readonly own: ReadonlySet<string>;
}

/** Collects the monitor specs of a plan's runs. */
export class MonitorPlanner {
  readonly #byObject = new WeakMap<object, SpecEntry>();
  readonly #byText = new Map<string, SpecEntry>();
  readonly #specs: Record<string, MonitorSpec> = {};
  readonly #runs: Record<string, { spec: string; vars: Record<string, string> }> = {};

  /**
   * Adds a run; problems of its spec are appended to `problems`, with the file and line of the
   * nearest key that was written in a file (`origin`).
   */
  add(
    name: string,
    config: ConfigMap,
    problems: ConfigProblem[],
    origin: (path: string) => { file?: string; line?: number; column?: number } | undefined = () =>
      undefined,
  ): void {
    const monitoring = config.monitoring ?? null;
    const policies = config.restart_policies ?? null;
    const restart = config.restart ?? null;
    const entry = this.#entry(monitoring, policies, restart, config);
    if (entry.problems.length) {
      problems.push(
        ...entry.problems.map((p) => p.file ? p : { ...p, ...nearestOrigin(p.path, origin) }),
      );
      return;
    }
    const overrideProblems = restartOverrideProblems(
      entry.spec,
      monitoring,
      policies,
      restart,
      config,
    );
    if (overrideProblems.length) {
      problems.push(...overrideProblems.map((p) => ({ ...p, ...nearestOrigin(p.path, origin) })));
      return;
    }
    const vars: Record<string, string> = {};
    for (const key of entry.configKeys) {
      const v = getPath(config, splitKey(key));
      if (v === undefined || isContainer(v)) {
        problems.push({
          path: "monitoring",
          message: `placeholder {${key}} names ${
            v === undefined ? "no value" : "a mapping or list"
          } in this run's config`,
        });
        continue;
      }
      vars[key] = pythonStr(v);
    }
    this.#specs[entry.hash] = entry.spec;
    this.#runs[name] = { spec: entry.hash, vars };
  }

  /** The `monitor.json` content. */
  file(cwd: string): MonitorFile {
    return { format: "autoexp.monitor", version: 1, cwd, specs: this.#specs, runs: this.#runs };
  }

  #entry(monitoring: unknown, policies: unknown, restart: unknown, config: ConfigMap): SpecEntry {
    const objKey = isMap(monitoring) && policies === null && restart === null ? monitoring : null;
    const hit = objKey ? this.#byObject.get(objKey) : undefined;
    if (hit) return hit;
    const text = JSON.stringify([monitoring, policies, restart]);
    let entry = this.#byText.get(text);
    if (!entry) {
      entry = buildEntry(monitoring, policies, restart, config, text);
      this.#byText.set(text, entry);
    }
    if (objKey) this.#byObject.set(objKey, entry);
    return entry;
  }
}

function buildEntry(
  monitoring: unknown,
  policies: unknown,
  restart: unknown,
  config: ConfigMap,
  text: string,
): SpecEntry {
  let spec: MonitorSpec;
  try {
    spec = parseMonitorSpec(monitoring, policies, {}, restart);
  } catch (e) {
    if (e instanceof ConfigError) {
      return {
        hash: "",
        spec: null as unknown as MonitorSpec,
        configKeys: [],
        problems: e.problems,
      };
    }
    throw e;
  }
  const problems: ConfigProblem[] = [];
  const configKeys = new Set<string>();
  const common = new Set<string>([...CONTEXT_KEYS, ...STATE_KEYS, ...metadataNames(spec)]);
  // What a checkpoint found in the watched folder gives its event's actions.
  if (spec.checkpointWatch) {
    for (const n of ["checkpoint_iteration", "checkpoint_path", "checkpoint_dir"]) common.add(n);
  }
  for (const loc of templatesOf(spec)) {
    let names: string[];
    try {
      names = placeholders(loc.template);
    } catch (e) {
      problems.push({ path: loc.path, message: (e as Error).message });
      continue;
    }
    for (const n of names) {
      if (common.has(n) || loc.own.has(n)) continue;
      const v = getPath(config, splitKey(n));
      if (n.includes(".") && v !== undefined) {
        configKeys.add(n);
        continue;
      }
      const known = [...common, ...loc.own];
      const near = closestMatches(n, known);
      problems.push({
        path: loc.path,
        message: `unknown placeholder {${n}} in ${JSON.stringify(loc.template)}`,
        hint: near.length
          ? `did you mean {${near[0]}}?`
          : `known: ${
            [...new Set(known)].sort().join(", ")
          }, or a config key like {backend.args.lr}`,
      });
    }
  }
  return { hash: stableHash(text).slice(0, 12), spec, configKeys: [...configKeys], problems };
}

/**
 * Names every action may use besides its own event's: the metadata and extracted values of
 * events the monitor keeps per attempt (not progress lines, not noise), built-in and configured.
 */
function metadataNames(spec: MonitorSpec): string[] {
  const out: string[] = [];
  const specs = [
    ...spec.logEvents.map((e) => e.spec),
    ...(spec.builtinEvents ? MEGATRON_EVENTS : []),
  ];
  for (const e of specs) {
    const kind = e.kind ?? (typeof e.metadata?.kind === "string" ? e.metadata.kind : null);
    if (kind === "progress" || kind === "noise" || e.noise === true || e.progress === false) {
      continue;
    }
    out.push(
      ...Object.keys(e.metadata ?? {}),
      ...Object.keys(e.extract_groups ?? checkpointAliases(e)),
    );
  }
  return out;
}

function ownNames(e: {
  pattern: string;
  extra_patterns?: readonly string[];
  metadata?: Readonly<Record<string, unknown>>;
  extract_groups?: Readonly<Record<string, string>>;
}): string[] {
  const out: string[] = [];
  for (const src of [e.pattern, ...(e.extra_patterns ?? [])]) {
    for (const m of src.matchAll(/\(\?P?<([A-Za-z_]\w*)>/g)) out.push(m[1]);
  }
  out.push(
    ...Object.keys(e.metadata ?? {}),
    ...Object.keys(e.extract_groups ?? checkpointAliases(e as LogEventSpec)),
  );
  return out;
}

/** The derived runs a spec's actions can start (`AutoexpAction`), with their key paths. */
export function derivedRunActions(
  spec: MonitorSpec,
): { path: string; overrides: readonly string[] }[] {
  const out: { path: string; overrides: readonly string[] }[] = [];
  const add = (ea: EventActionSpec, at: string) => {
    if (ea.action.kind === "autoexp") {
      out.push({ path: `${at}.action.overrides`, overrides: ea.action.overrides });
    }
  };
  spec.logEvents.forEach((e, i) =>
    e.actions.forEach((a, j) => add(a, `monitoring.log_events[${i}].actions[${j}]`))
  );
  spec.stateEvents.forEach((e, i) =>
    e.actions.forEach((a, j) => add(a, `monitoring.state_events[${i}].actions[${j}]`))
  );
  return out;
}

/** Every template of a spec with its key path. */
function templatesOf(spec: MonitorSpec): Located[] {
  const out: Located[] = [];
  const none = new Set<string>();
  spec.outputPaths.forEach((t, i) =>
    out.push({ template: t, path: `monitoring.output_paths[${i}]`, own: none })
  );
  if (spec.checkpointWatch) {
    out.push({
      template: spec.checkpointWatch.dir,
      path: "monitoring.checkpoint_watch.dir",
      own: none,
    });
  }
  spec.startConditions?.conditions.forEach((c, i) =>
    conditionTemplates(
      c,
      `monitoring.start_conditions[${i}]`,
      (template, path) => out.push({ template, path, own: none }),
    )
  );
  spec.logEvents.forEach((e, i) => {
    const own = new Set(ownNames(e.spec));
    e.actions.forEach((a, j) =>
      out.push(...actionTemplates(a, `monitoring.log_events[${i}].actions[${j}]`, own))
    );
  });
  spec.stateEvents.forEach((e, i) =>
    e.actions.forEach((a, j) =>
      out.push(...actionTemplates(a, `monitoring.state_events[${i}].actions[${j}]`, none))
    )
  );
  return out;
}

function actionTemplates(ea: EventActionSpec, at: string, own: ReadonlySet<string>): Located[] {
  const out: Located[] = [];
  const add = (template: string, path: string) => out.push({ template, path, own });
  ea.conditions.forEach((c, i) => conditionTemplates(c, `${at}.conditions[${i}]`, add));
  const a: ActionSpec = ea.action;
  const ap = `${at}.action`;
  switch (a.kind) {
    case "log":
      add(a.message, `${ap}.message`);
      break;
    case "command":
      commandTemplates(a.command, `${ap}.command`, add);
      if (a.cwd) add(a.cwd, `${ap}.cwd`);
      for (const [k, v] of Object.entries(a.env)) add(v, `${ap}.env.${k}`);
      break;
    case "autoexp":
      if (a.name) add(a.name, `${ap}.name`);
      a.overrides.forEach((o, i) => add(o, `${ap}.overrides[${i}]`));
      break;
    case "restart":
    case "cancel":
      break;
  }
  return out;
}

function conditionTemplates(
  c: ConditionSpec,
  at: string,
  add: (t: string, path: string) => void,
): void {
  switch (c.kind) {
    case "file_exists":
      add(c.path, `${at}.path`);
      break;
    case "command":
      commandTemplates(c.command, `${at}.command`, add);
      break;
    case "metadata":
      if (Array.isArray(c.value)) {
        (c.value as readonly string[]).forEach((v, i) => add(v, `${at}.value[${i}]`));
      } else add(c.value as string, `${at}.value`);
      break;
    case "max_attempts":
      break;
  }
}

function commandTemplates(c: CommandSpec, at: string, add: (t: string, path: string) => void) {
  if ("argv" in c) c.argv.forEach((w, i) => add(w, `${at}[${i}]`));
  else add(c.shell, at);
}

/**
 * The restart policies' `overrides` that name a key this run's config does not have (`+key=`
 * adds one and is not checked): caught when planning, not at the restart weeks later.
 */
function restartOverrideProblems(
  spec: MonitorSpec,
  monitoring: unknown,
  policies: unknown,
  restart: unknown,
  config: ConfigMap,
): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const at = restartPoliciesPath(monitoring, policies, restart);
  spec.restartPolicies.forEach((policy, i) => {
    const list = "overrides" in policy ? policy.overrides ?? [] : [];
    list.forEach((text, j) => {
      const o = parseOverride(text);
      if (o.kind === "add") return;
      const path = splitKey(o.key);
      if (getPath(config, path) !== undefined) return;
      // The deepest part that exists, and what it has, for the suggestion.
      let k = path.length - 1;
      while (k > 0 && getPath(config, path.slice(0, k)) === undefined) k--;
      const parent = getPath(config, path.slice(0, k));
      const best = isMap(parent) ? closestMatches(String(path[k]), Object.keys(parent)) : [];
      out.push({
        path: `${at}[${i}].implementation.overrides[${j}]`,
        message: `"${text}": this run's config has no key ${o.key}` +
          (best.length ? `; did you mean ${best.map((b) => `"${b}"`).join(", ")}?` : "") +
          ` (to add a key, write +${text})`,
      });
    });
  });
  return out;
}

/** The origin of a key path or of its closest written parent (`.action` wrappers skipped). */
export function nearestOrigin(
  path: string,
  origin: (path: string) => { file?: string; line?: number; column?: number } | undefined,
): { file?: string; line?: number; column?: number } {
  let p = path.replace(/\.action(?=\.|$)/g, "");
  for (;;) {
    const o = origin(p);
    if (o?.file) return o;
    const cut = Math.max(p.lastIndexOf("."), p.lastIndexOf("["));
    if (cut <= 0) return {};
    p = p.slice(0, cut);
  }
}
