/**
 * YAML text to config data, keeping where each key was written. Syntax errors become a
 * {@link ConfigError} naming the file, line, column and showing the offending line.
 *
 * YAML 1.2 (core schema) is used: `2:00:00` stays a string, `010` is ten, and `yes`/`no`/`on`/`off`
 * are strings. OmegaConf's PyYAML loader reads those differently; README documents the choice.
 *
 * @module
 */
import { isMap as isYamlMap, isScalar, isSeq, LineCounter, parseDocument, stringify } from "yaml";
import type { Node as YamlNode } from "yaml";
import { ConfigError, type ConfigProblem } from "../errors.ts";
import type { ConfigValue } from "./tree.ts";

/**
 * YAML 1.1 (PyYAML, hence OmegaConf) reads `2_000_000` as a number; YAML 1.2 core would read
 * a string. Configs written for OmegaConf use underscores in token budgets, so accept them.
 */
const UNDERSCORE_NUMBERS = [
  {
    tag: "tag:yaml.org,2002:int",
    default: true,
    test: /^[-+]?[0-9][0-9_]*[0-9]$/,
    resolve: (s: string) => Number(s.replaceAll("_", "")),
  },
  {
    tag: "tag:yaml.org,2002:float",
    default: true,
    test: /^[-+]?(?:[0-9][0-9_]*)?\.[0-9_]+(?:[eE][-+]?[0-9]+)?$/,
    resolve: (s: string) => Number(s.replaceAll("_", "")),
  },
];

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
    customTags: UNDERSCORE_NUMBERS,
  });
  const problems: ConfigProblem[] = [];
  for (const err of doc.errors) {
    const pos = lineCounter.linePos(err.pos[0]);
    problems.push({
      path: "",
      file,
      line: pos.line,
      column: pos.col,
      message: `invalid YAML: ${firstLine(err.message)}`,
      hint: sourceExcerpt(text, pos.line, pos.col),
    });
  }
  if (problems.length) throw new ConfigError(problems);
  let data: ConfigValue;
  try {
    data = (doc.toJS({ maxAliasCount: 10_000 }) ?? {}) as ConfigValue;
  } catch (e) {
    throw new ConfigError({ path: "", file, message: `invalid YAML: ${(e as Error).message}` });
  }
  const positions = new Map<string, Position>();
  if (doc.contents) collectPositions(doc.contents as YamlNode, "", positions, lineCounter);
  const header = text.match(/^\s*#\s*@package\s+(\S+)/);
  return { data, positions, packageHeader: header?.[1] };
}

/** Renders data as YAML for output (block style, keys in insertion order). */
export function renderYaml(data: unknown): string {
  return stringify(data, { lineWidth: 0, aliasDuplicateObjects: false });
}

function firstLine(msg: string): string {
  return msg.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "");
}

/** The offending line with a caret under the column. */
export function sourceExcerpt(text: string, line: number, column: number): string {
  const src = text.split(/\r?\n/)[line - 1] ?? "";
  return `${line} | ${src}\n${" ".repeat(String(line).length)} | ${
    " ".repeat(Math.max(0, column - 1))
  }^`;
}

function collectPositions(
  node: YamlNode,
  prefix: string,
  out: Map<string, Position>,
  lc: LineCounter,
): void {
  if (isYamlMap(node)) {
    for (const pair of node.items) {
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
