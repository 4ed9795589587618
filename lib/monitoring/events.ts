/**
 * Log events: named patterns matched against log lines, as configured under `log_signals`
 * (`{name, pattern, pattern_type, action?, metadata?}`) or `log_events`
 * (`{name, pattern, pattern_type, metadata, extract_groups, actions}`), plus the built-in
 * Megatron / PyTorch / SLURM patterns ({@link MEGATRON_EVENTS}) as the same data.
 *
 * What it owns:
 * - Compiling specs ({@link compileEvents}): Python `re` syntax is translated to JavaScript
 *   (`(?P<name>...)` -> `(?<name>...)`, `(?P=name)` -> `\k<name>`, `\A`/`\Z`, leading `(?i)`
 *   style flags), and every bad spec is reported in one `ConfigError` naming the event.
 * - Matching one line ({@link matchLine}): `re.search` semantics, first match per event. The
 *   launcher prefixes `[default3]:` (torchrun `--tee`) and `[rank3]:` (PyTorch C++ logs) are
 *   stripped first and reported as `launcher` / `rank`, so patterns (including `^`-anchored
 *   ones) are written against the line as the program printed it.
 * - Firing once per distinct match ({@link dedupeKey}): the key is the event name plus the
 *   extracted values, so e.g. a checkpoint event fires once per checkpoint iteration.
 * - Which matches count as activity for stall detection ({@link countsAsActivity}): events with
 *   `noise: true` / `progress: false` (periodic `srun: error:` spam) do not.
 *
 * Extracted values stay strings (`"500"`), as the seed's `{checkpoint_iteration}` templates use
 * them.
 *
 * @module
 */

import { ConfigError, type ConfigProblem } from "../errors.ts";
import { closestMatches } from "../config/suggest.ts";

import { EVENT_KINDS, type EventKind } from "./vocabulary.ts";

export { EVENT_KINDS, type EventKind };

/** One configured event, as written in YAML (`log_signals` or `log_events` entries). */
export interface LogEventSpec {
  readonly name: string;
  readonly pattern: string;
  /** `regex` (Python `re` syntax, the default) or `substring` (plain, case-sensitive). */
  readonly pattern_type?: "regex" | "substring";
  /** What the event means; defaults to `metadata.kind` when that is a known kind. */
  readonly kind?: EventKind;
  /** Static metadata copied into every match. */
  readonly metadata?: Readonly<Record<string, unknown>>;
  /** Metadata key -> named group of the pattern whose text it takes. */
  readonly extract_groups?: Readonly<Record<string, string>>;
  /** Further regexes tried on a matching line only, whose named groups are added (built-ins). */
  readonly extra_patterns?: readonly string[];
  /** Seed 000 style: the name of one action to queue. Carried through, not interpreted here. */
  readonly action?: string;
  /** Seed 001 style: action configs. Carried through, not interpreted here. */
  readonly actions?: readonly unknown[];
  /** True: periodic chatter; a match does not count as progress. Same as `progress: false`. */
  readonly noise?: boolean;
  /** False: a match does not count as progress for stall detection (default true). */
  readonly progress?: boolean;
  readonly description?: string;
}

/** A compiled event, ready for {@link matchLine}. */
export interface CompiledEvent {
  readonly name: string;
  readonly kind: EventKind | null;
  /** The JavaScript regex, or null for a substring pattern. */
  readonly regex: RegExp | null;
  readonly substring: string | null;
  /** A literal every match of `regex` contains: a cheap `includes` test before the regex. */
  readonly literal: string | null;
  readonly extra: readonly RegExp[];
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly extractGroups: Readonly<Record<string, string>>;
  /** Whether `extract_groups` was given: then only those values identify a match. */
  readonly identityFromExtract: boolean;
  readonly progress: boolean;
  readonly action: string | null;
  readonly actions: readonly unknown[];
}

/** One event matched on one line. */
export interface EventMatch {
  readonly event: string;
  readonly kind: EventKind | null;
  /** The line as given (prefix included). */
  readonly line: string;
  /** Launcher prefix role+rank (`default3`) and C++ log rank (`3`), when present. */
  readonly launcher: string | null;
  readonly rank: string | null;
  /** Every named group that took part in the match (pattern and extra patterns). */
  readonly groups: Readonly<Record<string, string>>;
  /** The event's static metadata, then the `extract_groups` values (those win). */
  readonly metadata: Readonly<Record<string, unknown>>;
  /**
   * What makes this match distinct, for {@link dedupeKey}: the `extract_groups` values when the
   * event declares `extract_groups` (an empty mapping: fire once), else all named groups.
   */
  readonly identity: Readonly<Record<string, string>>;
  readonly progress: boolean;
  readonly action: string | null;
  readonly actions: readonly unknown[];
}

const SPEC_KEYS = [
  "name",
  "pattern",
  "pattern_type",
  "kind",
  "metadata",
  "extract_groups",
  "extra_patterns",
  "action",
  "actions",
  "noise",
  "progress",
  "description",
];

/**
 * Translates a Python `re` pattern to a JavaScript one: `(?P<n>` -> `(?<n>`, `(?P=n)` ->
 * `\k<n>`, `\A` -> `^`, `\Z` -> `$`, a leading `(?ims)` -> flags, and a `]` first in a class
 * (literal in Python) escaped. Throws an `Error` saying what is unsupported.
 *
 * @example pythonRegexToJs("(?P<it>\\d+) (?P=it)") // { source: "(?<it>\\d+) \\k<it>", flags: "", groups: ["it"] }
 */
export function pythonRegexToJs(
  pattern: string,
): { source: string; flags: string; groups: string[] } {
  let i = 0;
  let flags = "";
  const lead = /^\(\?([aiLmsux]+)\)/.exec(pattern);
  if (lead) {
    for (const f of lead[1]) {
      if (f === "i" || f === "m" || f === "s") flags += flags.includes(f) ? "" : f;
      else if (f === "x" || f === "L") {
        throw new Error(`the inline flag "(?${f})" is not supported`);
      } // a (ASCII) and u (Unicode) change nothing that matters for log lines
    }
    i = lead[0].length;
  }
  const groups: string[] = [];
  let out = "";
  let inClass = false;
  while (i < pattern.length) {
    const c = pattern[i];
    if (c === "\\") {
      const n = pattern[i + 1];
      if (n === undefined) throw new Error("the pattern ends with a lone backslash");
      if (!inClass && n === "A") out += "^";
      else if (!inClass && n === "Z") out += "$";
      else out += c + n;
      i += 2;
      continue;
    }
    if (inClass) {
      if (c === "]") inClass = false;
      out += c;
      i++;
      continue;
    }
    if (c === "[") {
      inClass = true;
      out += c;
      i++;
      if (pattern[i] === "^") out += pattern[i++];
      if (pattern[i] === "]") {
        out += "\\]";
        i++;
      }
      continue;
    }
    if (
      pattern.startsWith("(?P<", i) ||
      (pattern.startsWith("(?<", i) && /^[A-Za-z_]/.test(pattern[i + 3] ?? ""))
    ) {
      const start = pattern.indexOf("<", i) + 1;
      const close = pattern.indexOf(">", start);
      const name = close < 0 ? "" : pattern.slice(start, close);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
        throw new Error(`bad group name "${close < 0 ? pattern.slice(start) : name}"`);
      }
      groups.push(name);
      out += `(?<${name}>`;
      i = close + 1;
      continue;
    }
    if (pattern.startsWith("(?P=", i)) {
      const close = pattern.indexOf(")", i);
      const name = close < 0 ? "" : pattern.slice(i + 4, close);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
        throw new Error(`bad group reference "(?P=${name}"`);
      }
      out += `\\k<${name}>`;
      i = close + 1;
      continue;
    }
    out += c;
    i++;
  }
  if (inClass) throw new Error('a character class "[" is not closed');
  return { source: out, flags, groups };
}

/**
 * Compiles event specs (raw config values: `log_signals` or `log_events` lists). Every problem
 * (missing name, bad regex, unknown `extract_groups` group, unknown key, duplicate name) is
 * collected and thrown as one `ConfigError` whose paths start with `keyPath`.
 *
 * @example
 * const events = compileEvents([{ name: "ckpt", pattern: "saved (?P<it>\\d+)", extract_groups: { iteration: "it" } }]);
 * matchLine(events, "saved 500")[0].metadata // { iteration: "500" }
 */
export function compileEvents(
  specs: readonly unknown[],
  where: { keyPath?: string; file?: string } = {},
): CompiledEvent[] {
  const keyPath = where.keyPath ?? "log_events";
  const problems: ConfigProblem[] = [];
  const out: CompiledEvent[] = [];
  const names = new Set<string>();
  specs.forEach((raw, index) => {
    const at = `${keyPath}[${index}]`;
    const bad = (key: string, message: string, hint?: string) =>
      problems.push({ path: key ? `${at}.${key}` : at, message, file: where.file, hint });
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      bad("", `expected a mapping with "name" and "pattern", got ${JSON.stringify(raw)}`);
      return;
    }
    const spec = raw as Record<string, unknown>;
    const label = typeof spec.name === "string" && spec.name
      ? `event "${spec.name}"`
      : `event #${index}`;
    for (const key of Object.keys(spec)) {
      if (!SPEC_KEYS.includes(key)) {
        const near = closestMatches(key, SPEC_KEYS);
        bad(
          key,
          `${label}: unknown key "${key}"`,
          near.length ? `did you mean "${near[0]}"?` : `allowed keys: ${SPEC_KEYS.join(", ")}`,
        );
      }
    }
    const n0 = problems.length;
    if (typeof spec.name !== "string" || !spec.name) {
      bad("name", `${label}: "name" must be a non-empty string`);
    } else if (names.has(spec.name)) bad("name", `${label}: the name is used by an earlier event`);
    else names.add(spec.name);
    if (typeof spec.pattern !== "string" || !spec.pattern) {
      bad("pattern", `${label}: "pattern" must be a non-empty string`);
    }
    const type = spec.pattern_type ?? "regex";
    if (type !== "regex" && type !== "substring") {
      bad(
        "pattern_type",
        `${label}: pattern_type ${JSON.stringify(type)} is not one of "regex", "substring"`,
      );
    }
    let kind: EventKind | null = null;
    if (spec.kind !== undefined) {
      if (EVENT_KINDS.includes(spec.kind as EventKind)) kind = spec.kind as EventKind;
      else {
        const near = closestMatches(String(spec.kind), EVENT_KINDS);
        bad(
          "kind",
          `${label}: kind ${JSON.stringify(spec.kind)} is not a known event kind`,
          near.length ? `did you mean "${near[0]}"?` : `known kinds: ${EVENT_KINDS.join(", ")}`,
        );
      }
    }
    const metadata = spec.metadata ?? {};
    if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) {
      bad("metadata", `${label}: "metadata" must be a mapping`);
    } else if (
      kind === null && EVENT_KINDS.includes((metadata as Record<string, unknown>).kind as EventKind)
    ) {
      kind = (metadata as Record<string, unknown>).kind as EventKind;
    }
    const extractGroups = spec.extract_groups ?? {};
    const extractOk = typeof extractGroups === "object" && extractGroups !== null &&
      !Array.isArray(extractGroups) &&
      Object.values(extractGroups).every((v) => typeof v === "string");
    if (!extractOk) {
      bad("extract_groups", `${label}: "extract_groups" must map metadata keys to group names`);
    }
    for (const key of ["noise", "progress"] as const) {
      if (spec[key] !== undefined && typeof spec[key] !== "boolean") {
        bad(key, `${label}: "${key}" must be true or false`);
      }
    }
    if (spec.noise === true && spec.progress === true) {
      bad(
        "progress",
        `${label}: "noise: true" and "progress: true" contradict each other; keep one`,
      );
    }
    if (spec.action !== undefined && typeof spec.action !== "string") {
      bad("action", `${label}: "action" must be the name of an action`);
    }
    if (spec.actions !== undefined && !Array.isArray(spec.actions)) {
      bad("actions", `${label}: "actions" must be a list`);
    }
    const extraRaw = spec.extra_patterns ?? [];
    if (!Array.isArray(extraRaw) || !extraRaw.every((p) => typeof p === "string")) {
      bad("extra_patterns", `${label}: "extra_patterns" must be a list of regexes`);
    }
    if (problems.length > n0) return;

    const pattern = spec.pattern as string;
    let regex: RegExp | null = null;
    let literal: string | null = null;
    let groups: string[] = [];
    const extra: RegExp[] = [];
    if (type === "regex") {
      try {
        const js = pythonRegexToJs(pattern);
        regex = new RegExp(js.source, js.flags);
        groups = js.groups;
        literal = js.flags.includes("i") ? null : requiredLiteral(js.source);
      } catch (e) {
        bad(
          "pattern",
          `${label}: the pattern ${JSON.stringify(pattern)} is not a valid regex: ${reason(e)}`,
          'patterns use Python `re` syntax; for a plain text match set pattern_type: "substring"',
        );
      }
      (extraRaw as string[]).forEach((p, k) => {
        try {
          const js = pythonRegexToJs(p);
          extra.push(new RegExp(js.source, js.flags));
          groups.push(...js.groups);
        } catch (e) {
          bad(
            `extra_patterns[${k}]`,
            `${label}: the pattern ${JSON.stringify(p)} is not a valid regex: ${reason(e)}`,
          );
        }
      });
    } else if ((extraRaw as string[]).length) {
      bad("extra_patterns", `${label}: "extra_patterns" needs pattern_type "regex"`);
    }
    for (const [key, group] of Object.entries(extractGroups as Record<string, string>)) {
      if (type === "substring") {
        bad(
          `extract_groups.${key}`,
          `${label}: a substring pattern has no groups to extract; use pattern_type "regex"`,
        );
      } else if (regex && !groups.includes(group)) {
        const near = closestMatches(group, groups);
        bad(
          `extract_groups.${key}`,
          `${label}: extract_groups.${key} names the group "${group}", which the pattern does not define`,
          near.length
            ? `did you mean "${near[0]}"?`
            : groups.length
            ? `the pattern's named groups: ${groups.join(", ")}`
            : "define it in the pattern as (?P<" + group + ">...)",
        );
      }
    }
    if (problems.length > n0) return;
    out.push({
      name: spec.name as string,
      kind,
      regex,
      substring: type === "substring" ? pattern : null,
      literal,
      extra,
      metadata: metadata as Record<string, unknown>,
      extractGroups: extractGroups as Record<string, string>,
      identityFromExtract: spec.extract_groups !== undefined,
      progress: spec.progress === false || spec.noise === true ? false : kind !== "noise",
      action: (spec.action as string | undefined) ?? null,
      actions: (spec.actions as unknown[] | undefined) ?? [],
    });
  });
  if (problems.length) throw new ConfigError(problems);
  return out;
}

// `[rank3]:` alone is the C++ prefix, not a launcher role named "rank".
/**
 * The longest run of plain characters that every match of a JavaScript regex `source` must
 * contain, or null when none is certain (a top-level `|`, or no literal outside groups). Used
 * only as a prefilter, so it errs towards null.
 *
 * @example requiredLiteral("saving checkpoint at iteration\\s+(?<it>\\d+)") // "saving checkpoint at iteration"
 */
export function requiredLiteral(source: string): string | null {
  let best = "";
  let run = "";
  let depth = 0;
  const end = () => {
    if (run.length > best.length) best = run;
    run = "";
  };
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (depth > 0 || c === "[") {
      // Skip groups and classes, minding escapes and classes inside groups.
      end();
      if (c === "\\") i++;
      else if (c === "[") {
        for (i++; i < source.length && source[i] !== "]"; i++) if (source[i] === "\\") i++;
      } else if (c === "(") depth++;
      else if (c === ")") depth--;
      continue;
    }
    if (c === "|") return null;
    if (c === "(") {
      end();
      depth++;
      continue;
    }
    let ch: string | null = null;
    if (c === "\\") {
      const n = source[++i] ?? "";
      if (/[A-Za-z0-9]/.test(n)) {
        // A class (\d, \s), an assertion (\b), a backreference or a code (\k<n>, \x41, \u0041).
        end();
        if (n === "k") i = source.indexOf(">", i);
        else if (n === "x") i += 2;
        else if (n === "u") i += 4;
        else if (n === "c") i += 1;
        if (i < 0) return null;
        continue;
      }
      ch = n;
    } else if (!"^$.*+?{}".includes(c)) ch = c;
    const q = source[i + 1];
    if (ch === null) {
      end();
    } else if (q === "?" || q === "*" || q === "{") {
      end(); // optional or counted: not certain
    } else if (q === "+") {
      run += ch;
      end();
    } else run += ch;
  }
  end();
  return best.length >= 3 ? best : null;
}

const PREFIX = /^(?:\[(?!rank\d+\])([A-Za-z_]+\d+)\]:)?(?:\[rank(\d+)\]:)?/;

/**
 * Splits the launcher prefixes off a line: `[default3]:` (torchrun `--tee`) and `[rank3]:`
 * (PyTorch C++ logs), in that order, each optional.
 *
 * @example splitLogPrefix("[default3]:[rank3]:[E822 ...] x") // { body: "[E822 ...] x", launcher: "default3", rank: "3" }
 */
export function splitLogPrefix(
  line: string,
): { body: string; launcher: string | null; rank: string | null } {
  if (line.charCodeAt(0) !== 0x5b /* [ */) return { body: line, launcher: null, rank: null };
  const m = PREFIX.exec(line)!;
  return { body: line.slice(m[0].length), launcher: m[1] ?? null, rank: m[2] ?? null };
}

/**
 * Placeholder names a checkpoint event without `extract_groups` also answers to: seed 000's
 * signals name their groups `path` / `iteration` while their actions use `{checkpoint_path}` /
 * `{checkpoint_iteration}`. Maps each alias to the group it reads (empty for other events).
 */
export function checkpointAliases(spec: LogEventSpec): Record<string, string> {
  const kind = spec.kind ?? spec.metadata?.kind;
  if (kind !== "checkpoint" || spec.extract_groups !== undefined) return {};
  const groups = new Set([...spec.pattern.matchAll(/\(\?P?<([A-Za-z_]\w*)>/g)].map((m) => m[1]));
  const out: Record<string, string> = {};
  if (groups.has("path")) out.checkpoint_path = "path";
  if (groups.has("iteration")) out.checkpoint_iteration = "iteration";
  return out;
}

/**
 * Every event of `events` that matches `line` (first match each, `re.search` semantics), in
 * the order of `events`. Patterns see the line without its launcher prefix.
 */
export function matchLine(events: readonly CompiledEvent[], line: string): EventMatch[] {
  const out: EventMatch[] = [];
  const split = splitLogPrefix(line);
  const body = split.body;
  for (const ev of events) {
    const groups: Record<string, string> = {};
    if (ev.regex) {
      if (ev.literal !== null && !body.includes(ev.literal)) continue;
      const m = ev.regex.exec(body);
      if (!m) continue;
      if (m.groups) addDefined(groups, m.groups);
      for (const re of ev.extra) {
        const x = re.exec(body);
        if (x?.groups) addDefined(groups, x.groups);
      }
    } else if (!body.includes(ev.substring!)) continue;
    const extracted: Record<string, string> = {};
    for (const key in ev.extractGroups) {
      const value = groups[ev.extractGroups[key]];
      if (value !== undefined) extracted[key] = value;
    }
    out.push({
      event: ev.name,
      kind: ev.kind,
      line,
      launcher: split.launcher,
      rank: split.rank,
      groups,
      metadata: { ...ev.metadata, ...extracted },
      identity: ev.identityFromExtract ? extracted : groups,
      progress: ev.progress,
      action: ev.action,
      actions: ev.actions,
    });
  }
  return out;
}

/**
 * The key under which a match fires once: the event name plus its {@link EventMatch.identity}
 * sorted by key (the `extract_groups` values, or all named groups when the event declares no
 * `extract_groups`), optionally within a `scope` such as the job id. An event with
 * `extract_groups: {}` or without groups therefore fires once per scope.
 *
 * @example dedupeKey(m) // '["checkpoint_saved",[["checkpoint_iteration","500"],["checkpoint_path","/ckpt"]]]'
 */
export function dedupeKey(match: EventMatch, scope?: string): string {
  const values = match.identity;
  const entries = Object.keys(values).sort().map((k) => [k, values[k]]);
  return JSON.stringify(
    scope === undefined ? [match.event, entries] : [scope, match.event, entries],
  );
}

/**
 * Whether a line with these matches counts as activity for stall detection: any line does,
 * unless one of its matches is noise (`noise: true`, `progress: false`, kind `noise`).
 */
export function countsAsActivity(matches: readonly EventMatch[]): boolean {
  return matches.every((m) => m.progress);
}

/** Copies the groups that took part in a match into `into`, keeping values already there. */
function addDefined(
  into: Record<string, string>,
  groups: Record<string, string | undefined>,
): void {
  for (const k in groups) {
    const v = groups[k];
    if (v !== undefined && into[k] === undefined) into[k] = v;
  }
}

function reason(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  // V8: "Invalid regular expression: /x(/: Unterminated group" -> "Unterminated group"
  return msg.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, "");
}

/**
 * Built-in patterns for Megatron-LM logs and the PyTorch, torchrun and SLURM lines met in them
 * (see the Megatron log format notes). Written in the same Python syntax as user config, so
 * any of them can be copied into a `log_events` list and changed.
 */
export const MEGATRON_EVENTS: readonly LogEventSpec[] = [
  {
    name: "megatron_iteration",
    kind: "progress",
    pattern: String
      .raw`(?:^|\]:)\s*(?:\[(?P<ts>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)?)\]\s+)?iteration\s+(?P<iteration>\d+)/\s*(?P<train_iters>\d+)\s*\|`,
    extra_patterns: [
      String.raw`\|\s*lm loss:\s*(?P<lm_loss>[0-9.]+E[+-]\d+|INF)\s*\|`,
      String.raw`elapsed time per iteration \(ms\):\s*(?P<ms_per_iter>[0-9.]+)`,
      String.raw`learning rate:\s*(?P<lr>[0-9.]+E[+-]\d+|[0-9.]+)`,
      String.raw`throughput per GPU \(TFLOP/s/GPU\):\s*(?P<tflops>[0-9.]+)`,
      String.raw`grad norm:\s*(?P<grad_norm>[0-9.]+|nan|inf)`,
      String.raw`number of skipped iterations:\s*(?P<skipped_iters>\d+)`,
      String.raw`number of nan iterations:\s*(?P<nan_iters>\d+)`,
    ],
    extract_groups: { iteration: "iteration", train_iters: "train_iters" },
  },
  {
    name: "megatron_validation",
    kind: "progress",
    pattern: String
      .raw`validation(?P<suffix>-\S+)? loss at iteration (?P<iteration>\d+)(?: on (?P<split>validation|test) set)? \|`,
    extra_patterns: [
      String.raw`lm loss value: (?P<lm_loss>[0-9.]+E[+-]\d+|INF|NAN)`,
      String.raw`lm loss PPL: (?P<lm_ppl>[0-9.]+E[+-]\d+|INF|NAN)`,
    ],
    extract_groups: { iteration: "iteration", split: "split", suffix: "suffix" },
  },
  {
    name: "megatron_checkpoint_saving",
    kind: "checkpoint_start",
    pattern: String
      .raw`saving checkpoint at iteration\s+(?P<iteration>\d+) to (?P<path>\S+) in (?P<format>\S+) format`,
    extract_groups: { checkpoint_iteration: "iteration", checkpoint_path: "path" },
  },
  {
    name: "megatron_checkpoint_async_scheduled",
    kind: "checkpoint_start",
    pattern: String
      .raw`scheduled an async checkpoint save at iteration\s+(?P<iteration>\d+) to (?P<path>\S+)`,
    extract_groups: { checkpoint_iteration: "iteration", checkpoint_path: "path" },
  },
  {
    name: "megatron_checkpoint_saved",
    kind: "checkpoint",
    pattern: String
      .raw`successfully saved checkpoint from iteration\s+(?P<iteration>\d+) to (?P<path>\S+)`,
    extract_groups: { checkpoint_iteration: "iteration", checkpoint_path: "path" },
  },
  {
    name: "megatron_checkpoint_loaded",
    kind: "resumed",
    pattern: String
      .raw`successfully loaded checkpoint from (?P<path>\S+) \[.*?\] at iteration (?P<iteration>\d+)`,
    extract_groups: { checkpoint_iteration: "iteration", checkpoint_path: "path" },
  },
  {
    name: "megatron_nan_detected",
    kind: "nan",
    pattern: String
      .raw`found (?P<what>NaN|Inf) in local (?P<where>grad norm for bucket #\d+|forward loss calculation)`,
  },
  {
    name: "megatron_rerun_exit",
    kind: "crashed",
    pattern: "Exiting now. The job can be resumed from a previous checkpoint",
    pattern_type: "substring",
    metadata: { error_type: "result_validation", exit_code: 17 },
  },
  {
    name: "megatron_rerun_save_and_exit",
    kind: "crashed",
    pattern: "Saving a checkpoint and exiting now. Please resume the job from the checkpoint",
    pattern_type: "substring",
    metadata: { error_type: "result_validation", exit_code: 16 },
  },
  {
    name: "megatron_training_done",
    kind: "completed",
    pattern: String
      .raw`\[after training is done\] datetime: (?P<ts>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d+)?)`,
    extract_groups: {},
  },
  {
    name: "megatron_exiting",
    kind: "exited",
    pattern: String
      .raw`\[exiting program (?P<exit_reason>after receiving SIGTERM\.|after (?P<minutes>[0-9.]+) minutes|at iteration (?P<iteration>\d+))\] datetime:`,
    extract_groups: { exit_reason: "exit_reason" },
  },
  {
    name: "megatron_orderly_shutdown",
    kind: "exited",
    pattern: "Termination requested. Performing orderly shutdown.",
    pattern_type: "substring",
  },
  {
    name: "cuda_oom",
    kind: "oom",
    pattern: String
      .raw`(?:torch\.(?:cuda\.)?)?OutOfMemoryError: CUDA out of memory\.(?: Tried to allocate (?P<requested>[0-9.]+ [KMG]iB)\. GPU (?P<gpu>\d+))?`,
    metadata: { error_type: "oom" },
    extract_groups: {},
  },
  {
    name: "cuda_error_oom",
    kind: "oom",
    pattern: "CUDA error: out of memory",
    pattern_type: "substring",
    metadata: { error_type: "oom" },
  },
  {
    name: "host_oom_kill",
    kind: "oom",
    pattern: String.raw`Detected (?P<count>\d+) oom[-_]kill events?`,
    metadata: { error_type: "host_oom" },
    extract_groups: {},
  },
  {
    name: "nccl_watchdog_timeout",
    kind: "nccl",
    pattern: String
      .raw`\[Rank (?P<rank>\d+)\] Watchdog caught collective operation timeout: WorkNCCL\(SeqNum=(?P<seq>\d+), OpType=(?P<op>\w+).*?Timeout\(ms\)=(?P<timeout_ms>\d+)\) ran for (?P<ran_ms>\d+) milliseconds`,
    metadata: { error_type: "nccl_timeout" },
    extract_groups: {},
  },
  {
    name: "nccl_failure",
    kind: "nccl",
    // The follow-up of a watchdog timeout; `NCCL error in: ...ProcessGroupNCCL.cpp` (a failed
    // collective: `RuntimeError` or `DistBackendError`); an error-level (`[E...]`, `[F...]`)
    // glog line of ProcessGroupNCCL (but the watchdog timeout line itself, which has its own
    // event). Its info and warning lines (`[I...]`, `[W...]`) are not failures.
    pattern: String
      .raw`Some NCCL operations have failed or timed out|DistBackendError|\bNCCL error\b|\[[EF](?:\d{3,4} [0-9:.]+ (?:\d+ )?| )ProcessGroupNCCL\.cpp:\d+\](?!.*Watchdog caught collective operation timeout)`,
    metadata: { error_type: "nccl" },
  },
  {
    name: "slurm_time_limit",
    kind: "timeout",
    pattern: String
      .raw`\*\*\* (?P<scope>JOB|STEP) (?P<jobid>\d+(?:_\d+)?)(?:\.(?P<step>\w+))? ON (?P<node>\S+) CANCELLED AT (?P<when>\S+) DUE TO TIME LIMIT`,
    extract_groups: { jobid: "jobid" },
  },
  {
    name: "slurm_preempted",
    kind: "preempted",
    pattern: String
      .raw`\*\*\* (?P<scope>JOB|STEP) (?P<jobid>\d+(?:_\d+)?)(?:\.(?P<step>\w+))? ON (?P<node>\S+) CANCELLED AT (?P<when>\S+) DUE TO PREEMPTION`,
    extract_groups: { jobid: "jobid" },
  },
  {
    name: "slurm_node_fail",
    kind: "node_fail",
    pattern: String
      .raw`\*\*\* (?P<scope>JOB|STEP) (?P<jobid>\d+(?:_\d+)?)(?:\.(?P<step>\w+))? ON (?P<node>\S+) CANCELLED AT (?P<when>\S+) DUE TO NODE FAILURE`,
    extract_groups: { jobid: "jobid" },
  },
  {
    name: "slurm_cancelled",
    kind: "cancelled",
    pattern: String
      .raw`\*\*\* (?P<scope>JOB|STEP) (?P<jobid>\d+(?:_\d+)?)(?:\.(?P<step>\w+))? ON (?P<node>\S+) CANCELLED AT (?P<when>\S+)(?! DUE TO (?:TIME LIMIT|PREEMPTION|NODE FAILURE))(?: DUE TO (?P<reason>[^*]+?))?(?: \*\*\*|$)`,
    extract_groups: { jobid: "jobid" },
  },
  {
    name: "python_traceback",
    kind: "crashed",
    pattern: String.raw`^Traceback \(most recent call last\):`,
    metadata: { error_type: "exception" },
  },
  {
    name: "torchrun_child_failed",
    kind: "crashed",
    pattern: String
      .raw`ChildFailedError|failed \(exitcode: (?P<exit_code>-?\d+)\) local_rank: (?P<local_rank>\d+)`,
    metadata: { error_type: "child_failed" },
    extract_groups: {},
  },
  {
    name: "srun_error",
    kind: "noise",
    pattern: String.raw`^srun: (?:error: |Job step aborted)`,
    noise: true,
  },
];
