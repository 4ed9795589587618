/**
 * Cluster detection as a pure function of rules (data, from `config/platform/rules.yaml` and an
 * optional user file) and facts about the current machine (host name, environment, which of the
 * rules' paths exist). Owns the rule format, its validation and the matching; reading the facts
 * is the caller's job (see `pathsToProbe`).
 *
 * Rule file shape:
 * ```yaml
 * rules:
 *   - platform: lumi                # required
 *     description: LUMI (CSC)       # optional
 *     priority: 0                   # optional, higher first, ties keep order
 *     match:                        # optional; ANY matching matcher matches the rule
 *       - env: LMOD_SYSTEM_NAME     # set and non-empty ...
 *         env_pattern: '^lumi$'     # ... and (optional) value matches
 *       - hostname: '^uan\d+$'      # full or short host name matches
 *       - path_exists: /appl/lumi   # path exists
 * ```
 * All regexes are case-insensitive and anchored only as written.
 *
 * @module
 */
import { describeValue } from "../config/describe.ts";

/** What detection looks at; gathered by the caller (see `pathsToProbe`). */
export interface PlatformFacts {
  /** The host name as reported by the OS, possibly fully qualified. */
  hostname: string;
  env: Readonly<Record<string, string>>;
  /** The subset of `pathsToProbe(rules)` that exists. */
  existingPaths: ReadonlySet<string>;
}

/** One test; exactly one of `env`, `hostname`, `path_exists` is set. */
export interface PlatformMatcher {
  /** Environment variable that must be set and non-empty. */
  env?: string;
  /** Regex the value of `env` must match (case-insensitive). */
  env_pattern?: string;
  /** Regex tested against the full and the short host name (case-insensitive). */
  hostname?: string;
  /** Absolute path that must exist. */
  path_exists?: string;
}

/** A rule naming a platform and the evidence for it. */
export interface PlatformRule {
  platform: string;
  description?: string;
  /** Higher is tried first; default 0; ties keep list order. */
  priority?: number;
  /** The rule matches if any matcher matches; an empty list never matches. */
  match: PlatformMatcher[];
  /** The file the rule came from. */
  source?: string;
}

/** A rule that matched, with every matcher of it that matched. */
export interface PlatformCandidate {
  platform: string;
  priority: number;
  source?: string;
  description?: string;
  /** Human descriptions of the matchers that matched, in rule order. */
  matched: string[];
}

/** The outcome of `detectPlatform`, shaped for `autoexp platform [--json]`. */
export interface PlatformDetection {
  /** The detected (or overridden, or fallback) platform name. */
  platform: string;
  /** The winning rule; for an override or the fallback, the first rule of that name, if any. */
  rule: PlatformRule | null;
  /** Why, in one line, e.g. `hostname "uan01" matches /^uan\d+$/i`. */
  matched: string;
  /** How the platform was chosen. */
  via: "override" | "rule" | "fallback";
  /** Every rule that matched, in evaluation order (the winner first unless overridden). */
  candidates: PlatformCandidate[];
}

/** The environment variable that, when set and non-empty, overrides detection. */
export const PLATFORM_OVERRIDE_ENV = "AUTOEXP_PLATFORM";

/** One problem found by `parsePlatformRules`. */
export interface PlatformRuleIssue {
  /** Key path such as `rules[2].match[0].hostname`. */
  path: string;
  message: string;
}

/** Every problem in a rules file; the message lists all of them, one per line. */
export class PlatformRulesError extends Error {
  constructor(readonly source: string, readonly issues: PlatformRuleIssue[]) {
    super(
      `Fix the platform rules in ${source}: ${issues.length} problem${
        issues.length === 1 ? "" : "s"
      }\n` + issues.map((i) => `  ${i.path}: ${i.message}`).join("\n"),
    );
    this.name = "PlatformRulesError";
  }
}

const RULE_KEYS = ["platform", "description", "priority", "match"];
const MATCHER_KEYS = ["env", "env_pattern", "hostname", "path_exists"];
const PLATFORM_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Validates parsed YAML (`{ rules: [...] }`) and returns its rules, each tagged with `source`.
 * An empty document (`null`) yields no rules.
 *
 * @throws {PlatformRulesError} listing every problem with its key path, e.g.
 *   `rules[2].match[0].hostname: invalid regex "(" (Unterminated group)`.
 */
export function parsePlatformRules(data: unknown, source: string): PlatformRule[] {
  const issues: PlatformRuleIssue[] = [];
  const problem = (path: string, message: string) => issues.push({ path, message });
  if (data === null || data === undefined) return [];
  if (!isRecord(data)) {
    throw new PlatformRulesError(source, [{
      path: "(top level)",
      message: `expected a mapping with a \`rules:\` list, got ${describeValue(data)}`,
    }]);
  }
  for (const key of Object.keys(data)) {
    if (key !== "rules") problem(key, `unknown key; allowed: rules`);
  }
  const rawRules = data.rules ?? [];
  if (!Array.isArray(rawRules)) {
    problem("rules", `expected a list of rules, got ${describeValue(rawRules)}`);
    throw new PlatformRulesError(source, issues);
  }

  const rules: PlatformRule[] = [];
  rawRules.forEach((raw, i) => {
    const at = `rules[${i}]`;
    if (!isRecord(raw)) {
      problem(at, `expected a mapping with \`platform\` and \`match\`, got ${describeValue(raw)}`);
      return;
    }
    for (const key of Object.keys(raw)) {
      if (!RULE_KEYS.includes(key)) {
        problem(
          `${at}.${key}`,
          `unknown key${suggest(key, RULE_KEYS)}; allowed: ${RULE_KEYS.join(", ")}`,
        );
      }
    }
    const rule: PlatformRule = { platform: "", match: [], source };
    if (typeof raw.platform !== "string" || !PLATFORM_NAME.test(raw.platform)) {
      problem(
        `${at}.platform`,
        raw.platform === undefined
          ? "missing; give the platform name, e.g. `platform: lumi`"
          : `expected a name of letters, digits, "_", "-", ".", got ${describeValue(raw.platform)}`,
      );
    } else {
      rule.platform = raw.platform;
    }
    if (raw.description !== undefined) {
      if (typeof raw.description === "string") rule.description = raw.description;
      else problem(`${at}.description`, `expected a string, got ${describeValue(raw.description)}`);
    }
    if (raw.priority !== undefined) {
      if (typeof raw.priority === "number" && Number.isFinite(raw.priority)) {
        rule.priority = raw.priority;
      } else {
        problem(`${at}.priority`, `expected a number, got ${describeValue(raw.priority)}`);
      }
    }
    const rawMatch = raw.match ?? [];
    if (!Array.isArray(rawMatch)) {
      problem(`${at}.match`, `expected a list of matchers, got ${describeValue(rawMatch)}`);
    } else {
      rawMatch.forEach((m, j) => {
        const matcher = parseMatcher(m, `${at}.match[${j}]`, problem);
        if (matcher) rule.match.push(matcher);
      });
    }
    rules.push(rule);
  });

  if (issues.length > 0) throw new PlatformRulesError(source, issues);
  return rules;
}

function parseMatcher(
  raw: unknown,
  at: string,
  problem: (path: string, message: string) => void,
): PlatformMatcher | undefined {
  if (!isRecord(raw)) {
    problem(
      at,
      `expected a mapping with one of env, hostname, path_exists, got ${describeValue(raw)}`,
    );
    return undefined;
  }
  let ok = true;
  const fail = (path: string, message: string) => {
    ok = false;
    problem(path, message);
  };
  for (const key of Object.keys(raw)) {
    if (!MATCHER_KEYS.includes(key)) {
      fail(
        `${at}.${key}`,
        `unknown key${suggest(key, MATCHER_KEYS)}; allowed: ${MATCHER_KEYS.join(", ")}`,
      );
    }
  }
  const kinds = ["env", "hostname", "path_exists"].filter((k) => raw[k] !== undefined);
  if (kinds.length !== 1) {
    fail(
      at,
      kinds.length === 0
        ? "give exactly one of env, hostname, path_exists"
        : `give exactly one of env, hostname, path_exists, not ${kinds.join(" and ")}; ` +
          "split it into separate matchers",
    );
  }
  const matcher: PlatformMatcher = {};
  const str = (key: keyof PlatformMatcher): string | undefined => {
    const value = raw[key];
    if (value === undefined) return undefined;
    if (typeof value !== "string" || value === "") {
      fail(`${at}.${key}`, `expected a non-empty string, got ${describeValue(value)}`);
      return undefined;
    }
    return value;
  };
  const regex = (key: "env_pattern" | "hostname"): string | undefined => {
    const value = str(key);
    if (value === undefined) return undefined;
    const error = regexError(value);
    if (error !== undefined) {
      fail(`${at}.${key}`, `invalid regex ${JSON.stringify(value)} (${error})`);
    }
    return value;
  };

  const env = str("env");
  if (env !== undefined) {
    if (ENV_NAME.test(env)) matcher.env = env;
    else fail(`${at}.env`, `expected an environment variable name, got ${JSON.stringify(env)}`);
  }
  const envPattern = regex("env_pattern");
  if (envPattern !== undefined) {
    matcher.env_pattern = envPattern;
    if (raw.env === undefined) fail(`${at}.env_pattern`, "only allowed together with `env`");
  }
  const hostname = regex("hostname");
  if (hostname !== undefined) matcher.hostname = hostname;
  const path = str("path_exists");
  if (path !== undefined) {
    if (path.startsWith("/")) matcher.path_exists = path;
    else fail(`${at}.path_exists`, `expected an absolute path, got ${JSON.stringify(path)}`);
  }
  return ok ? matcher : undefined;
}

/**
 * Combines built-in and user rules: user rules first, and a platform named by any user rule
 * loses all of its built-in rules (the user's definition replaces it entirely).
 *
 * @example
 * ```ts
 * mergePlatformRules(builtin, [{ platform: "lumi", match: [{ hostname: "^mylumi" }] }]);
 * // -> [user lumi rule, ...builtin rules other than lumi]
 * ```
 */
export function mergePlatformRules(builtin: PlatformRule[], user: PlatformRule[]): PlatformRule[] {
  const shadowed = new Set(user.map((r) => r.platform));
  return [...user, ...builtin.filter((r) => !shadowed.has(r.platform))];
}

/** Every distinct `path_exists` path in `rules`, in order, so the caller can stat each once. */
export function pathsToProbe(rules: PlatformRule[]): string[] {
  const paths = new Set<string>();
  for (const rule of rules) {
    for (const m of rule.match) if (m.path_exists !== undefined) paths.add(m.path_exists);
  }
  return [...paths];
}

/**
 * Picks the platform for `facts`: `AUTOEXP_PLATFORM` if set; otherwise the first rule, by
 * descending priority and then list order, with any matching matcher; otherwise `fallback`.
 * Rules are expected to have passed `parsePlatformRules` (an invalid regex throws here).
 *
 * @example
 * ```ts
 * detectPlatform(rules, { hostname: "uan01", env: {}, existingPaths: new Set() });
 * // -> { platform: "lumi", matched: 'hostname "uan01" matches /^uan\\d+$/i', via: "rule", ... }
 * ```
 */
export function detectPlatform(
  rules: PlatformRule[],
  facts: PlatformFacts,
  fallback = "base",
): PlatformDetection {
  const ordered = rules
    .map((rule, index) => ({ rule, index, priority: rule.priority ?? 0 }))
    .sort((a, b) => b.priority - a.priority || a.index - b.index);

  const candidates: PlatformCandidate[] = [];
  let winner: PlatformRule | null = null;
  for (const { rule, priority } of ordered) {
    const matched = rule.match.flatMap((m) => {
      const why = matchOne(m, facts);
      return why === undefined ? [] : [why];
    });
    if (matched.length === 0) continue;
    winner ??= rule;
    candidates.push({
      platform: rule.platform,
      priority,
      ...(rule.source !== undefined ? { source: rule.source } : {}),
      ...(rule.description !== undefined ? { description: rule.description } : {}),
      matched,
    });
  }
  const firstNamed = (name: string) => ordered.find((o) => o.rule.platform === name)?.rule ?? null;

  const override = facts.env[PLATFORM_OVERRIDE_ENV];
  if (override !== undefined && override !== "") {
    return {
      platform: override,
      rule: firstNamed(override),
      matched: `${PLATFORM_OVERRIDE_ENV}=${JSON.stringify(override)} is set (overrides detection)`,
      via: "override",
      candidates,
    };
  }
  if (winner !== null) {
    return {
      platform: winner.platform,
      rule: winner,
      matched: candidates[0].matched[0],
      via: "rule",
      candidates,
    };
  }
  return {
    platform: fallback,
    rule: firstNamed(fallback),
    matched: `no rule matched; using the fallback ${JSON.stringify(fallback)}`,
    via: "fallback",
    candidates,
  };
}

/** Why `m` matches `facts`, or undefined when it does not. */
function matchOne(m: PlatformMatcher, facts: PlatformFacts): string | undefined {
  if (m.env !== undefined) {
    const value = facts.env[m.env];
    if (value === undefined || value === "") return undefined;
    if (m.env_pattern === undefined) return `env ${m.env} is set (${JSON.stringify(value)})`;
    const re = new RegExp(m.env_pattern, "i");
    return re.test(value) ? `env ${m.env}=${JSON.stringify(value)} matches ${re}` : undefined;
  }
  if (m.hostname !== undefined) {
    const full = facts.hostname.trim();
    if (full === "") return undefined;
    const short = full.split(".")[0];
    const re = new RegExp(m.hostname, "i");
    for (const name of full === short ? [full] : [full, short]) {
      if (re.test(name)) return `hostname ${JSON.stringify(name)} matches ${re}`;
    }
    return undefined;
  }
  if (m.path_exists !== undefined) {
    return facts.existingPaths.has(m.path_exists)
      ? `path ${JSON.stringify(m.path_exists)} exists`
      : undefined;
  }
  return undefined;
}

function regexError(source: string): string | undefined {
  try {
    new RegExp(source, "i");
    return undefined;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    // V8: "Invalid regular expression: /(/i: Unterminated group" -> "Unterminated group"
    return message.replace(/^Invalid regular expression: \/.*\/\w*: /s, "");
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `" (did you mean `x`?)"` for a near miss among `allowed`, else "". */
function suggest(key: string, allowed: string[]): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of allowed) {
    const d = editDistance(key.toLowerCase(), candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(best.length / 3))
    ? ` (did you mean \`${best}\`?)`
    : "";
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length];
}
