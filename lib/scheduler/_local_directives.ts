/**
 * What the local scheduler understands of an sbatch submission, as pure functions: `#SBATCH`
 * directives and command-line options, array specs, time limits, `--signal`, `--dependency`
 * and output file patterns. Errors read like sbatch's own and are {@link SchedulerError}s.
 *
 * @module
 */
import { SchedulerError } from "../errors.ts";

/** Long names of the short sbatch options. */
const SHORT: Readonly<Record<string, string>> = {
  A: "account",
  a: "array",
  B: "extra-node-info",
  b: "begin",
  C: "constraint",
  c: "cpus-per-task",
  D: "chdir",
  d: "dependency",
  e: "error",
  F: "nodefile",
  G: "gpus",
  H: "hold",
  i: "input",
  J: "job-name",
  k: "no-kill",
  L: "licenses",
  M: "clusters",
  m: "distribution",
  N: "nodes",
  n: "ntasks",
  O: "overcommit",
  o: "output",
  p: "partition",
  Q: "quiet",
  q: "qos",
  S: "core-spec",
  s: "oversubscribe",
  t: "time",
  V: "version",
  v: "verbose",
  W: "wait",
  w: "nodelist",
  x: "exclude",
};

/** Options that take no value (so `--hold --time 5` reads right). */
const FLAGS: ReadonlySet<string> = new Set([
  "contiguous",
  "exclusive",
  "get-user-env",
  "hold",
  "ignore-pbs",
  "no-kill",
  "no-requeue",
  "overcommit",
  "oversubscribe",
  "parsable",
  "quiet",
  "reboot",
  "requeue",
  "spread-job",
  "test-only",
  "use-min-nodes",
  "verbose",
  "version",
  "wait",
]);

/** Parsed sbatch options: long name -> value (`true` for flags); later ones win. */
export type SbatchOptions = Map<string, string | true>;

/**
 * Splits one directive line into words like sbatch does: whitespace separates, single and
 * double quotes group (backslash escapes inside double quotes), an unquoted `#` starting a word
 * ends the line.
 */
export function splitDirectiveWords(line: string): string[] {
  const words: string[] = [];
  let cur = "";
  let has = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (/\s/.test(ch)) {
      if (has) words.push(cur);
      cur = "";
      has = false;
    } else if (ch === "#" && !has) {
      break;
    } else if (ch === "'") {
      const end = line.indexOf("'", i + 1);
      const stop = end < 0 ? line.length : end;
      cur += line.slice(i + 1, stop);
      has = true;
      i = stop;
    } else if (ch === '"') {
      has = true;
      for (i++; i < line.length && line[i] !== '"'; i++) {
        if (line[i] === "\\" && i + 1 < line.length) i++;
        cur += line[i];
      }
    } else {
      cur += ch;
      has = true;
    }
  }
  if (has) words.push(cur);
  return words;
}

/**
 * The option words of a script's `#SBATCH` lines. Like sbatch, reading stops at the first line
 * that is neither blank nor a comment.
 */
export function readDirectiveWords(script: string): string[] {
  const words: string[] = [];
  for (const raw of script.split("\n")) {
    const line = raw.trim();
    if (line === "") continue;
    if (!line.startsWith("#")) break;
    const m = line.match(/^#SBATCH\s+(.*)$/);
    if (m) words.push(...splitDirectiveWords(m[1]));
  }
  return words;
}

/** Parses sbatch option words (`--time=5`, `--time 5`, `-t 5`, `-t5`, `--hold`) into `into`. */
export function parseSbatchArgs(
  words: readonly string[],
  into: SbatchOptions = new Map(),
): SbatchOptions {
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    let name: string;
    let value: string | undefined;
    if (w.startsWith("--")) {
      const eq = w.indexOf("=");
      name = eq < 0 ? w.slice(2) : w.slice(2, eq);
      if (eq >= 0) value = w.slice(eq + 1);
    } else if (/^-[A-Za-z]/.test(w)) {
      const long = SHORT[w[1]];
      if (!long) throw new SchedulerError(`sbatch: error: invalid option -- '${w[1]}'`);
      name = long;
      if (w.length > 2) value = w.slice(2).replace(/^=/, "");
    } else {
      throw new SchedulerError(`sbatch: error: unexpected argument ${JSON.stringify(w)}`);
    }
    if (value === undefined && !FLAGS.has(name)) {
      value = words[++i];
      if (value === undefined) {
        throw new SchedulerError(`sbatch: error: option --${name} requires an argument`);
      }
    }
    // The later of --requeue / --no-requeue wins.
    if (name === "requeue") into.delete("no-requeue");
    if (name === "no-requeue") into.delete("requeue");
    into.set(name, value ?? true);
  }
  return into;
}

/** Maximum array index (MaxArraySize 10001). */
export const MAX_ARRAY_INDEX = 10000;

/** Task ids and throttle of an `--array` value (`0-9:2%3`, `1,4,7-9`). */
export function parseArraySpec(spec: string): { tasks: number[]; throttle: number | null } {
  const bad = (why: string) =>
    new SchedulerError(`sbatch: error: invalid --array specification "${spec}": ${why}`);
  const [list, throttleText, ...rest] = spec.split("%");
  if (rest.length) throw bad("more than one %");
  let throttle: number | null = null;
  if (throttleText !== undefined) {
    if (!/^\d+$/.test(throttleText)) throw bad("the throttle after % must be a number");
    throttle = Number(throttleText) || null;
  }
  const seen = new Set<number>();
  for (const part of list.split(",")) {
    const m = part.match(/^(\d+)(?:-(\d+)(?::(\d+))?)?$/);
    if (!m) throw bad(`cannot read "${part}"`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    const step = m[3] === undefined ? 1 : Number(m[3]);
    if (hi < lo || step < 1) throw bad(`empty range "${part}"`);
    if (hi > MAX_ARRAY_INDEX) throw bad(`index ${hi} is above MaxArraySize-1 (${MAX_ARRAY_INDEX})`);
    for (let t = lo; t <= hi; t += step) seen.add(t);
  }
  return { tasks: [...seen].sort((a, b) => a - b), throttle };
}

/** Compresses task ids to SLURM's range notation: `[0,1,2,5]` -> `0-2,5`. */
export function compressRanges(ids: readonly number[]): string {
  const sorted = [...ids].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(j === i ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}

/**
 * A SLURM time limit in seconds, or null for none (`0`, `UNLIMITED`, `INFINITE`). Formats:
 * `M`, `M:S`, `H:M:S`, `D-H`, `D-H:M`, `D-H:M:S`.
 */
export function parseTimeLimit(value: string): number | null {
  const v = value.trim();
  if (/^(unlimited|infinite)$/i.test(v)) return null;
  const bad = () =>
    new SchedulerError(
      `sbatch: error: invalid time limit "${value}" (use minutes, M:S, H:M:S, D-H, D-H:M or D-H:M:S)`,
    );
  let m = v.match(/^(\d+)-(\d+)(?::(\d+)(?::(\d+))?)?$/);
  let secs: number;
  if (m) {
    secs = Number(m[1]) * 86400 + Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60 +
      Number(m[4] ?? 0);
  } else if ((m = v.match(/^(\d+)(?::(\d+)(?::(\d+))?)?$/))) {
    if (m[3] !== undefined) secs = Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]);
    else secs = Number(m[1]) * 60 + Number(m[2] ?? 0);
  } else throw bad();
  return secs === 0 ? null : secs;
}

/** Linux signal numbers by name (without `SIG`). */
export const SIGNALS: Readonly<Record<string, number>> = {
  HUP: 1,
  INT: 2,
  QUIT: 3,
  ILL: 4,
  TRAP: 5,
  ABRT: 6,
  BUS: 7,
  FPE: 8,
  KILL: 9,
  USR1: 10,
  SEGV: 11,
  USR2: 12,
  PIPE: 13,
  ALRM: 14,
  TERM: 15,
  STKFLT: 16,
  CHLD: 17,
  CONT: 18,
  STOP: 19,
  TSTP: 20,
  TTIN: 21,
  TTOU: 22,
  URG: 23,
  XCPU: 24,
  XFSZ: 25,
  VTALRM: 26,
  PROF: 27,
  WINCH: 28,
  IO: 29,
  PWR: 30,
  SYS: 31,
};

/** The number of a signal name (`SIGTERM`, `TERM`) or number text; undefined if unknown. */
export function signalNumber(name: string): number | undefined {
  if (/^\d+$/.test(name)) return Number(name);
  return SIGNALS[name.toUpperCase().replace(/^SIG/, "")];
}

/** The `SIGNAME` of a number, for `kill`. */
export function signalName(num: number): string | undefined {
  const e = Object.entries(SIGNALS).find(([, n]) => n === num);
  return e ? `SIG${e[0]}` : undefined;
}

/** `--signal=[{R|B}:]SIG[@secs]`. */
export interface SignalSpec {
  /** `SIGUSR1`. */
  readonly signal: string;
  /** Seconds before the time limit (default 60). */
  readonly seconds: number;
  /** `B:`: only the batch shell gets it. */
  readonly batchOnly: boolean;
}

/** Parses a `--signal` value. */
export function parseSignalSpec(value: string): SignalSpec {
  const m = value.match(/^(?:([RB]+):)?([A-Za-z0-9]+)(?:@(\d+))?$/);
  const num = m ? signalNumber(m[2]) : undefined;
  const name = num === undefined ? undefined : signalName(num);
  if (!m || !name) throw new SchedulerError(`sbatch: error: invalid --signal "${value}"`);
  return {
    signal: name,
    seconds: m[3] === undefined ? 60 : Number(m[3]),
    batchOnly: /B/.test(m[1] ?? ""),
  };
}

/** The dependency types the local scheduler evaluates. */
export type DependencyType = "after" | "afterany" | "afterok" | "afternotok";

/** One `type:id:id` clause. */
export interface DependencyClause {
  readonly type: DependencyType;
  /** Job ids as written: `12`, `12_3`. */
  readonly ids: readonly string[];
}

/** A parsed `--dependency`: clauses joined by `,` (all) or `?` (any). */
export interface Dependency {
  readonly mode: "all" | "any";
  readonly clauses: readonly DependencyClause[];
}

/** Parses a `--dependency` value (`afterok:12:13,afterany:14`, `afterok:12?afternotok:13`). */
export function parseDependency(value: string): Dependency {
  const bad = (why: string) =>
    new SchedulerError(`sbatch: error: invalid --dependency "${value}": ${why}`);
  if (value.includes(",") && value.includes("?")) throw bad("mixes , and ?");
  const mode = value.includes("?") ? "any" : "all";
  const clauses = value.split(mode === "any" ? "?" : ",").map((c) => {
    const [type, ...ids] = c.split(":");
    if (!["after", "afterany", "afterok", "afternotok"].includes(type)) {
      throw bad(
        `the local scheduler supports after, afterany, afterok and afternotok, not "${type}"`,
      );
    }
    if (!ids.length || ids.some((id) => !/^\d+(_\d+)?$/.test(id))) {
      throw bad(`"${c}" needs job ids (delays like +10 are not supported locally)`);
    }
    return { type: type as DependencyType, ids };
  });
  return { mode, clauses };
}

/** The states a dependency sees of one target job or task. */
export type TargetPhase = "pending" | "running" | "completed" | "failed";

/**
 * Whether a dependency holds: `satisfied`, `wait` or `never` (SLURM's
 * DependencyNeverSatisfied). `targets` maps each clause id to the phases of its tasks.
 */
export function classifyDependency(
  dep: Dependency,
  targets: ReadonlyMap<string, readonly TargetPhase[]>,
): "satisfied" | "wait" | "never" {
  const one = (c: DependencyClause): "satisfied" | "wait" | "never" => {
    const phases = c.ids.flatMap((id) => targets.get(id) ?? ["failed" as const]);
    const done = phases.every((p) => p === "completed" || p === "failed");
    switch (c.type) {
      case "after":
        return phases.every((p) => p !== "pending") ? "satisfied" : "wait";
      case "afterany":
        return done ? "satisfied" : "wait";
      case "afterok":
        if (phases.some((p) => p === "failed")) return "never";
        return done ? "satisfied" : "wait";
      case "afternotok":
        if (phases.some((p) => p === "completed")) return "never";
        return done ? "satisfied" : "wait";
    }
  };
  const results = dep.clauses.map(one);
  if (dep.mode === "all") {
    if (results.includes("never")) return "never";
    return results.every((r) => r === "satisfied") ? "satisfied" : "wait";
  }
  if (results.includes("satisfied")) return "satisfied";
  return results.every((r) => r === "never") ? "never" : "wait";
}

/** Values for the replacement symbols of `--output` / `--error`. */
export interface OutputPatternValues {
  readonly jobId: number;
  readonly arrayJobId: number;
  /** Null for a job that is not an array task (`%a` becomes 4294967294, as in SLURM). */
  readonly taskId: number | null;
  readonly name: string;
  readonly user: string;
  readonly host: string;
}

/**
 * Expands `%%`, `%A`, `%a`, `%j`, `%J`, `%x`, `%u`, `%N`, `%n`, `%s`, `%t`, with an optional
 * zero-padding width (`%4a`). Like SLURM, a pattern containing a backslash is taken literally
 * (without the backslashes).
 */
export function expandOutputPattern(pattern: string, v: OutputPatternValues): string {
  if (pattern.includes("\\")) return pattern.replaceAll("\\", "");
  return pattern.replace(/%(\d*)([%AajJxuNnst])/g, (_, width: string, sym: string) => {
    let s: string;
    switch (sym) {
      case "%":
        return "%";
      case "A":
        s = String(v.arrayJobId);
        break;
      case "a":
        s = v.taskId === null ? "4294967294" : String(v.taskId);
        break;
      case "j":
      case "J":
        s = String(v.jobId);
        break;
      case "x":
        return v.name;
      case "u":
        return v.user;
      case "N":
        return v.host.split(".")[0];
      case "s":
        return "batch";
      default: // n, t
        s = "0";
    }
    return width ? s.padStart(Math.min(Number(width), 10), "0") : s;
  });
}
