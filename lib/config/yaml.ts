/**
 * YAML text to config data, keeping where each key was written. Syntax errors become a
 * {@link ConfigError} naming the file, line, column and showing the offending line.
 *
 * Scalars are typed as OmegaConf's PyYAML loader types them (YAML 1.1): see
 * {@link OMEGACONF_SCALARS}.
 *
 * @module
 */
import {
  Document,
  isMap as isYamlMap,
  isScalar,
  isSeq,
  LineCounter,
  parse,
  parseDocument,
  Parser,
  Scalar,
  visit,
} from "yaml";
import type { Node as YamlNode } from "yaml";
import { ConfigError, type ConfigProblem } from "../errors.ts";
import type { ConfigValue } from "./tree.ts";
import { floatValue, WholeFloat } from "./whole_float.ts";

/**
 * Plain scalars are typed as OmegaConf's loader types them: PyYAML's YAML 1.1 rules (its
 * `SafeLoader` resolvers) without timestamps, plus OmegaConf's own float rule (`1e10`, `1e-5`
 * without a dot). A float with an integral value (`1.0`, `300.0`, `1e10`, `-0.0`) is a
 * {@link WholeFloat}, so it prints as Python prints it. So `on`/`off`/`yes`/`no` are booleans, `010` is octal (8), `0b101` is 5,
 * `1_000` is 1000, `0x1f` is 31, and `0o17`, `08` and `y`/`n` stay strings.
 *
 * One deliberate difference: a sexagesimal number (`1:30`, `2:00:00`, which YAML 1.1 reads as
 * 90 and 7200) is an error asking for quotes or a plain number. It is almost always a time
 * written for SLURM, and 7200 minutes is not two hours.
 */
export const OMEGACONF_SCALARS = [
  {
    tag: "tag:yaml.org,2002:null",
    default: true,
    test: /^(?:~|null|Null|NULL|)$/,
    resolve: () => null,
  },
  {
    tag: "tag:yaml.org,2002:bool",
    default: true,
    test: /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$/,
    resolve: (s: string) => /^(?:yes|true|on)$/i.test(s),
  },
  {
    tag: "tag:yaml.org,2002:float",
    default: true,
    test: new RegExp(
      "^(?:[-+]?[0-9][0-9_]*\\.[0-9_]*(?:[eE][-+]?[0-9]+)?" +
        "|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+" +
        "|\\.[0-9_]+(?:[eE][-+][0-9]+)?" +
        "|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\\.[0-9_]*" +
        "|[-+]?\\.(?:inf|Inf|INF)|\\.(?:nan|NaN|NAN))$",
    ),
    resolve: (s: string, onError: (message: string) => void) => {
      const v = s.replaceAll("_", "").toLowerCase();
      if (v.includes(":")) {
        onError(sexagesimal(s));
        return s;
      }
      if (/^[-+]?\.inf$/.test(v)) return v.startsWith("-") ? -Infinity : Infinity;
      if (v === ".nan") return NaN;
      return floatValue(Number(v)); // `1.0` stays a float: a WholeFloat
    },
  },
  {
    tag: "tag:yaml.org,2002:int",
    default: true,
    test: new RegExp(
      "^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+" +
        "|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$",
    ),
    resolve: (s: string, onError: (message: string) => void) => {
      let v = s.replaceAll("_", "");
      let sign = 1;
      if (v[0] === "-" || v[0] === "+") {
        if (v[0] === "-") sign = -1;
        v = v.slice(1);
      }
      if (v.includes(":")) {
        onError(sexagesimal(s));
        return s;
      }
      let n: number;
      if (v === "0") n = 0;
      else if (v.startsWith("0b")) n = parseInt(v.slice(2), 2);
      else if (v.startsWith("0x")) n = parseInt(v.slice(2), 16);
      else if (v.startsWith("0")) n = parseInt(v, 8);
      else n = Number(v);
      if (!Number.isSafeInteger(n)) {
        onError(
          `${s} is beyond the integers autoexp holds exactly (2^53); write it in quotes as text`,
        );
        return s;
      }
      return sign * n;
    },
  },
  {
    // PyYAML types a bare `=` as a "value" that no loader constructs: OmegaConf fails on it.
    tag: "tag:yaml.org,2002:value",
    default: true,
    test: /^=$/,
    resolve: (s: string, onError: (message: string) => void) => {
      onError('a bare "=" cannot be read by OmegaConf (PyYAML); write "=" in quotes');
      return s;
    },
  },
];

/**
 * The usual cause of "nested mappings are not allowed in compact mappings" and "implicit keys
 * need to be on a single line": a line indented deeper than the key above it, which already has
 * a value (`name: x` then `   base: y`). Points at that line instead of the value above it.
 */
function deeperAfterValue(
  text: string,
  line: number,
): { line: number; column: number; message: string } | null {
  const lines = text.split("\n");
  const above = lines[line - 1] ?? "";
  const m = above.match(/^(\s*)(?:- )?([^\s#:][^:#]*):\s+(\S.*)$/);
  if (!m) return null;
  for (let n = line; n < lines.length; n++) {
    const l = lines[n];
    if (!l.trim() || l.trim().startsWith("#")) continue;
    const indent = l.length - l.trimStart().length;
    if (indent <= m[1].length) return null;
    return {
      line: n + 1,
      column: indent + 1,
      message: `line ${n + 1} is indented more than "${m[2].trim()}" above it, which already ` +
        `has a value (${m[3].trim()}); indent it as the keys beside it`,
    };
  }
  return null;
}

function sexagesimal(s: string): string {
  return `${s} is a base-60 number in YAML 1.1 (OmegaConf reads it as ${
    s.split(":").reduce((acc, part) => acc * 60 + Number(part.replaceAll("_", "")), 0)
  }); write "${s}" in quotes for a time or text, or the number itself`;
}

/** A source position, 1-based. */
export interface Position {
  readonly line: number;
  readonly column: number;
}

/** A parsed YAML file. */
export interface YamlFile {
  readonly data: ConfigValue;
  /** Key path (`a.b[0]`) -> where its value starts in the file. */
  readonly positions: ReadonlyMap<string, Position>;
  /** The `# @package <pkg>` header of Hydra, if the file has one. */
  readonly packageHeader?: string;
}

/**
 * Parses one YAML document. An empty file is an empty mapping.
 *
 * @throws {ConfigError} for syntax errors, duplicate keys and multi-document files.
 */
export function parseYamlFile(text: string, file: string): YamlFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter,
    merge: true,
    uniqueKeys: true,
    prettyErrors: false,
    strict: true,
    schema: "failsafe",
    customTags: OMEGACONF_SCALARS,
  });
  const problems: ConfigProblem[] = [];
  const seenLines = new Set<number>();
  for (const err of doc.errors) {
    const pos = lineCounter.linePos(
      openingOf(text, err.pos[0], err.code, err.message) ?? err.pos[0],
    );
    // One problem per line: the parser often reports one mistake several ways.
    if (seenLines.has(pos.line)) continue;
    seenLines.add(pos.line);
    const indent = deeperAfterValue(text, pos.line);
    if (indent) {
      problems.push({
        path: "",
        file,
        line: indent.line,
        column: indent.column,
        message: `invalid YAML: ${indent.message}`,
        hint: sourceExcerpt(text, indent.line, indent.column),
      });
      continue;
    }
    // A position in a line's leading spaces means the line's first item.
    const src = text.split("\n")[pos.line - 1] ?? "";
    const lead = src.length - src.replace(/^ +/, "").length;
    const column = pos.col <= lead && src.trim() ? lead + 1 : pos.col;
    problems.push({
      path: "",
      file,
      line: pos.line,
      column,
      message: `invalid YAML: ${
        err.code === "DUPLICATE_KEY"
          ? duplicateKey(text, err.pos[0])
          : err.code === "MULTIPLE_DOCS"
          ? 'a config file holds one YAML document; remove the "---" separator'
          : firstLine(err.message)
      }`,
      hint: sourceExcerpt(text, pos.line, column),
    });
  }
  // A key typed null (`null:`, `~:`, an empty key): OmegaConf refuses it; JavaScript would make
  // it the text "" or "null" without a word.
  visit(doc, {
    Pair(_k, pair) {
      const key = pair.key;
      // A key typed float (`1.0:`) is text in JavaScript: written as Python's str() gives it.
      if (isScalar(key) && key.value instanceof WholeFloat) key.value = String(key.value);
      if (isScalar(key) && key.value === null) {
        const pos = lineCounter.linePos(key.range?.[0] ?? 0);
        problems.push({
          path: "",
          file,
          line: pos.line,
          column: pos.col,
          message: `invalid YAML: a key that is null (${
            JSON.stringify(key.source ?? "")
          }) is not allowed (OmegaConf refuses it); quote it if it is text`,
          hint: sourceExcerpt(text, pos.line, pos.col),
        });
      }
    },
  });
  if (problems.length) throw new ConfigError(problems);
  let data: ConfigValue;
  try {
    data = (doc.toJS({ maxAliasCount: 10_000 }) ?? {}) as ConfigValue;
  } catch (e) {
    const message = `invalid YAML: ${(e as Error).message}`;
    // An unknown alias (`*name`): point at its first use.
    const alias = message.match(/Unresolved alias[^:]*: (\S+)/)?.[1];
    const at = alias ? text.search(new RegExp(`\\*${RegExp.escape(alias)}(?![\\w-])`)) : -1;
    if (at < 0) throw new ConfigError({ path: "", file, message });
    const pos = lineCounter.linePos(at);
    throw new ConfigError({
      path: "",
      file,
      line: pos.line,
      column: pos.col,
      message,
      hint: sourceExcerpt(text, pos.line, pos.col),
    });
  }
  const positions = new Map<string, Position>();
  if (doc.contents) collectPositions(doc.contents as YamlNode, "", positions, lineCounter);
  return { data, positions, packageHeader: packageHeader(text) };
}

/**
 * Hydra's `# @package <pkg>` header: searched in the comment lines at the top of the file (a
 * description comment may come first), as Hydra does.
 */
function packageHeader(text: string): string | undefined {
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim();
    if (t === "") continue;
    if (!t.startsWith("#")) return undefined;
    const m = t.match(/^#\s*@package\s+(\S+)/);
    if (m) return m[1];
  }
  return undefined;
}

/**
 * For an unclosed quoted string or flow collection the parser reports where the file ended;
 * the user needs to see where the quote or bracket was opened. Returns that offset, if found.
 */
function openingOf(text: string, pos: number, code: string, message: string): number | undefined {
  const want = code === "MISSING_CHAR" && /quote/.test(message)
    ? "quote"
    : /end with a [\]}]/.test(message)
    ? "flow"
    : undefined;
  if (!want) return undefined;
  let best: number | undefined;
  const walk = (node: unknown): void => {
    if (!node || typeof node !== "object") return;
    if (Array.isArray(node)) return node.forEach(walk);
    const tok = node as { type?: string; offset?: number; source?: string; end?: unknown };
    if (typeof tok.offset === "number" && tok.offset <= pos && (best ?? -1) < tok.offset) {
      const quoted = tok.type === "single-quoted-scalar" || tok.type === "double-quoted-scalar";
      const closed = Array.isArray(tok.end) &&
        tok.end.some((e) => /^flow-(seq|map)-end$/.test((e as { type?: string }).type ?? ""));
      if (
        (want === "quote" && quoted && tok.offset + (tok.source?.length ?? 0) >= pos) ||
        (want === "flow" && tok.type === "flow-collection" && !closed)
      ) best = tok.offset;
    }
    for (const v of Object.values(node)) walk(v);
  };
  try {
    for (const tok of new Parser().parse(text)) walk(tok);
  } catch {
    return undefined;
  }
  return best;
}

/**
 * Renders data as YAML for output (block style, keys in insertion order). Strings that a YAML
 * 1.1 reader (PyYAML, hence OmegaConf and Hydra) would take for something else, such as
 * `"01:00:00"` (sexagesimal), `"yes"` or `"on"`, are quoted, so the text reads back the same
 * under YAML 1.1 and 1.2.
 */
export function renderYaml(data: unknown): string {
  const doc = new Document(data, { aliasDuplicateObjects: false, customTags: [WHOLE_FLOAT_OUT] });
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === "string" && node.value !== "" && notStringInYaml11(node.value)) {
        node.type = Scalar.QUOTE_DOUBLE;
      }
    },
  });
  return doc.toString({ lineWidth: 0 });
}

/** Writes a {@link WholeFloat} as Python does (`1.0`, `-0.0`), a float for any YAML reader. */
const WHOLE_FLOAT_OUT = {
  tag: "tag:yaml.org,2002:float",
  default: true,
  identify: (v: unknown) => v instanceof WholeFloat,
  resolve: (s: string) => floatValue(Number(s)),
  // PyYAML's representer: `repr()`, with ".0" before an exponent (`1.0e+16`).
  stringify: (item: { value: unknown }) => String(item.value).replace(/^([^.e]*)e/, "$1.0e"),
};

function notStringInYaml11(s: string): boolean {
  try {
    return typeof parse(s, { version: "1.1" }) !== "string" ||
      OMEGACONF_SCALARS.some((t) => t.test.test(s));
  } catch {
    return false;
  }
}

function duplicateKey(text: string, pos: number): string {
  const key = text.slice(pos).match(/^[^:\n]*/)?.[0].trim();
  return key ? `duplicate key "${key}" (a key may appear only once in a mapping)` : "duplicate key";
}

function firstLine(msg: string): string {
  return msg.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
}

/** The offending line with a caret under the column. */
export function sourceExcerpt(text: string, line: number, column: number): string {
  const src = text.split(/\r?\n/)[line - 1] ?? "";
  // Keep tabs in the padding so the caret lines up under tab-indented text.
  const pad = src.slice(0, Math.max(0, column - 1)).replace(/[^\t]/g, " ").padEnd(column - 1);
  return `${line} | ${src}\n${" ".repeat(String(line).length)} | ${pad}^`;
}

function collectPositions(
  node: YamlNode,
  prefix: string,
  out: Map<string, Position>,
  lc: LineCounter,
): void {
  if (isYamlMap(node)) {
    for (const pair of node.items) {
      // `<<: *base` merge keys are not keys of the data.
      if (isScalar(pair.key) && typeof pair.key.value === "symbol") continue;
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      const path = prefix ? `${prefix}.${key}` : key;
      const anchor = (pair.value as YamlNode | null)?.range?.[0] ??
        (pair.key as YamlNode | null)?.range?.[0];
      if (anchor !== undefined) {
        const p = lc.linePos(anchor);
        out.set(path, { line: p.line, column: p.col });
      }
      if (pair.value) collectPositions(pair.value as YamlNode, path, out, lc);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => {
      const path = `${prefix}[${i}]`;
      const r = (item as YamlNode | null)?.range;
      if (r) {
        const p = lc.linePos(r[0]);
        out.set(path, { line: p.line, column: p.col });
      }
      if (item) collectPositions(item as YamlNode, path, out, lc);
    });
  }
}
