/**
 * Trims the Megatron-LM argument dump (`args.json`, 840 arguments with provenance) into the
 * table autoexp ships: `lib/plan/megatron/args_table.json`, one argument per line, with only
 * what validation and flag rendering need (see `lib/plan/megatron/table_format.ts`).
 *
 *   deno run -A tools/gen_megatron_args.ts [args.json]           regenerate
 *   deno run -A tools/gen_megatron_args.ts [args.json] --check   fail when the table is stale
 *
 * The default input is ../shared/data/megatron/args.json (shared/ beside the checkout). The output is laid out the way
 * `deno fmt` keeps it (lines of at most 100 columns), so formatting never rewrites it.
 *
 * @module
 */

import {
  type EncodedMegatronArg,
  type EncodedMegatronTable,
  encodeMegatronArg,
  type MegatronAction,
  type MegatronArg,
  type MegatronArgType,
  type MegatronNargs,
} from "../lib/plan/megatron/table_format.ts";
import type { ConfigValue } from "../lib/config/tree.ts";

/** Where the Megatron facts live by default: the project's shared/ folder beside the checkout. */
export const DEFAULT_INPUT = decodeURIComponent(
  new URL("../../shared/data/megatron/args.json", import.meta.url).pathname,
);
/** The generated table, relative to the repository root. */
export const OUTPUT = "lib/plan/megatron/args_table.json";

/** One argument as `args.json` describes it (only the fields read here). */
interface RawArg {
  flags: string[];
  dest: string;
  action: string;
  type: string | null;
  nargs: string | number | null;
  choices: (string | number)[] | null;
  default: ConfigValue;
  deprecated: boolean;
  rejected_by_validate_args?: string;
  action_class?: string;
  defined_by?: { file?: string; line?: number };
}

interface RawDump {
  source: { repo: string; file: string; commit: string; date: string };
  count: number;
  arguments: RawArg[];
}

function normaliseType(raw: RawArg, action: MegatronAction): MegatronArgType {
  if (action !== "store") return "bool";
  const t = raw.type;
  if (t === null) return "str"; // argparse passes the string through
  if (t === "int" || t === "float" || t === "str" || t === "bool") return t;
  // Enum types take a member name on the command line and list the names as choices.
  if (t.startsWith("enum:") && raw.choices) return "str";
  return "other";
}

function normaliseArg(raw: RawArg): MegatronArg {
  let action: MegatronAction;
  if (raw.action === "store" || raw.action === "store_true" || raw.action === "store_false") {
    action = raw.action;
  } else if (
    raw.action === "custom" && raw.action_class === "argparse.BooleanOptionalAction" &&
    raw.flags.length === 2 && raw.flags[1] === `--no-${raw.flags[0].slice(2)}`
  ) {
    action = "custom";
  } else {
    throw new Error(
      `${raw.dest}: action ${JSON.stringify(raw.action)} (${raw.action_class ?? "no class"}) ` +
        "is new to autoexp: teach tools/gen_megatron_args.ts and lib/plan/megatron/flags.ts",
    );
  }
  const nargs: MegatronNargs = raw.nargs === null
    ? null
    : raw.nargs === "+" || raw.nargs === "*"
    ? raw.nargs
    : Number(raw.nargs);
  if (typeof nargs === "number" && !(Number.isInteger(nargs) && nargs > 0)) {
    throw new Error(`${raw.dest}: unsupported nargs ${JSON.stringify(raw.nargs)}`);
  }
  return {
    dest: raw.dest,
    flags: [...raw.flags],
    type: normaliseType(raw, action),
    action,
    nargs,
    choices: raw.choices ? [...raw.choices] : null,
    default: raw.default ?? null,
    deprecated: raw.deprecated === true,
    rejected: raw.rejected_by_validate_args ?? null,
  };
}

/**
 * Two arguments sharing a dest as a `store_true`/`store_false` pair (Megatron's
 * `--yarn-correction-range-round-to-int` / `--no-...`) become one `custom` switch pair. The
 * default is the one of the argument added first, as argparse does.
 */
function mergePair(a: RawArg, b: RawArg): MegatronArg {
  const on = a.action === "store_true" ? a : b;
  const off = a.action === "store_false" ? a : b;
  if (on.action !== "store_true" || off.action !== "store_false") {
    throw new Error(`${a.dest}: two arguments share this dest and are not a switch pair`);
  }
  const first = (a.defined_by?.line ?? 0) <= (b.defined_by?.line ?? 0) ? a : b;
  return {
    dest: a.dest,
    flags: [...on.flags, ...off.flags],
    type: "bool",
    action: "custom",
    nargs: null,
    choices: null,
    default: first.default ?? null,
    deprecated: a.deprecated || b.deprecated,
    rejected: a.rejected_by_validate_args ?? b.rejected_by_validate_args ?? null,
  };
}

/** The normalised arguments of a dump, in its order (one entry per dest). */
export function normaliseArgs(dump: RawDump): MegatronArg[] {
  const byDest = new Map<string, RawArg[]>();
  for (const raw of dump.arguments) {
    const list = byDest.get(raw.dest) ?? [];
    list.push(raw);
    byDest.set(raw.dest, list);
  }
  const out: MegatronArg[] = [];
  for (const [dest, list] of byDest) {
    if (list.length === 1) out.push(normaliseArg(list[0]));
    else if (list.length === 2) out.push(mergePair(list[0], list[1]));
    else throw new Error(`${dest}: ${list.length} arguments share this dest`);
  }
  return out;
}

/** The table file contents as data. */
export function buildArgsTable(dump: RawDump): EncodedMegatronTable {
  const args: Record<string, EncodedMegatronArg> = {};
  for (const a of normaliseArgs(dump)) args[a.dest] = encodeMegatronArg(a);
  return {
    source: {
      repo: dump.source.repo,
      file: dump.source.file,
      commit: dump.source.commit,
      date: dump.source.date,
      count: dump.count,
    },
    generated_by: "tools/gen_megatron_args.ts from the Megatron-LM argument dump (args.json)",
    format: "keyed by dest; fields at their usual value are left out, see " +
      "lib/plan/megatron/table_format.ts",
    args,
  };
}

const WIDTH = 100;

/**
 * JSON text laid out as `deno fmt` (dprint) keeps it: a value stays on one line when that line
 * fits in {@link WIDTH} columns, otherwise its members go one per line.
 */
function layout(value: unknown, indent: number, lead: number, tail: number): string {
  const flat = flatJson(value);
  const isContainer = typeof value === "object" && value !== null;
  const empty = isContainer && Object.keys(value).length === 0;
  if (!isContainer || empty || indent + lead + flat.length + tail <= WIDTH) return flat;
  const pad = " ".repeat(indent + 2);
  if (Array.isArray(value)) {
    const items = value.map((v, i) => pad + layout(v, indent + 2, 0, i < value.length - 1 ? 1 : 0));
    return `[\n${items.join(",\n")}\n${" ".repeat(indent)}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  const lines = entries.map(([k, v], i) => {
    const key = `${JSON.stringify(k)}: `;
    return pad + key + layout(v, indent + 2, key.length, i < entries.length - 1 ? 1 : 0);
  });
  return `{\n${lines.join(",\n")}\n${" ".repeat(indent)}}`;
}

function flatJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(flatJson).join(", ")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value);
    if (entries.length === 0) return "{}";
    return `{ ${entries.map(([k, v]) => `${JSON.stringify(k)}: ${flatJson(v)}`).join(", ")} }`;
  }
  return JSON.stringify(value);
}

/** The table file text: the top level and `args` one member per line, then a newline. */
export function renderArgsTable(table: EncodedMegatronTable): string {
  const top = Object.entries(table).map(([k, v], i, all) => {
    const key = `${JSON.stringify(k)}: `;
    const tail = i < all.length - 1 ? 1 : 0;
    if (k !== "args") return `  ${key}${layout(v, 2, key.length, tail)}`;
    const args = Object.entries(v as Record<string, unknown>).map(([dest, a], j, list) => {
      const dkey = `${JSON.stringify(dest)}: `;
      return `    ${dkey}${layout(a, 4, dkey.length, j < list.length - 1 ? 1 : 0)}`;
    });
    return `  ${key}{\n${args.join(",\n")}\n  }`;
  });
  return `{\n${top.join(",\n")}\n}\n`;
}

/** Reads the dump at `inputPath` and returns the table text. */
export async function generateArgsTable(inputPath: string): Promise<string> {
  const dump = JSON.parse(await Deno.readTextFile(inputPath)) as RawDump;
  return renderArgsTable(buildArgsTable(dump));
}

if (import.meta.main) {
  const check = Deno.args.includes("--check");
  const input = Deno.args.find((a) => !a.startsWith("--")) ?? DEFAULT_INPUT;
  const root = new URL("..", import.meta.url).pathname;
  const target = `${root}${OUTPUT}`;
  const text = await generateArgsTable(input);
  if (check) {
    let current = "";
    try {
      current = await Deno.readTextFile(target);
    } catch { /* missing */ }
    if (current !== text) {
      console.error(`${OUTPUT} is out of date with ${input}: run tools/gen_megatron_args.ts`);
      Deno.exit(1);
    }
  } else {
    await Deno.writeTextFile(target, text);
    const count = Object.keys(buildArgsTable(JSON.parse(await Deno.readTextFile(input))).args)
      .length;
    console.log(
      `wrote ${OUTPUT}: ${count} arguments, ${new TextEncoder().encode(text).length} bytes`,
    );
  }
}
