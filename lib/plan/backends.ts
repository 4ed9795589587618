/**
 * Backends turn a point's resolved config into the program a job runs. `command`: any argv
 * with `args` appended in a chosen style (or a `kwformat` such as `--{k}={v}`). `megatron`: Megatron-LM's training script with
 * `backend.args` expanded (convenience arguments), checked against Megatron's real argument
 * table and rendered as flags.
 *
 * @module
 */
import type { ConfigProblem } from "../errors.ts";
import { pythonStr } from "../config/python_str.ts";
import { type ConfigMap, type ConfigValue, isMap, withPlainNumbers } from "../config/tree.ts";
import type { BackendConfig } from "../config/schema/mod.ts";
import { splitShellWords } from "../shell.ts";
import {
  expandConvenienceArgs,
  renderMegatronFlags,
  validateMegatronArgs,
} from "./megatron/mod.ts";

/** A backend's output: the program argv (before launchers) and what it derived. */
export interface BackendProgram {
  readonly program: string[];
  /** Values the backend computed (e.g. Megatron `train_iters` from `train_tokens`). */
  readonly derived: Record<string, number>;
  readonly problems: ConfigProblem[];
  readonly warnings: string[];
}

/**
 * Renders `args` for the command backend. Booleans are bare flags (`--flag`) when true and
 * omitted when false; null is omitted; lists become several values (`--k a b`) or, in
 * `key=value` style (Hydra apps), `k=[a,b]`.
 */
export function renderCommandArgs(args: ConfigMap, style: string, dashKeys: boolean): string[] {
  const out: string[] = [];
  for (const [rawKey, v] of Object.entries(args)) {
    if (v === null || v === false) continue;
    const key = dashKeys ? rawKey.replaceAll("_", "-") : rawKey;
    if (style === "key=value") {
      out.push(`${key}=${hydraValue(v)}`);
      continue;
    }
    if (v === true) {
      out.push(`--${key}`);
      continue;
    }
    const values = Array.isArray(v) ? v.map(scalar) : [scalar(v)];
    if (style === "--key=value") out.push(`--${key}=${values.join(",")}`);
    else out.push(`--${key}`, ...values);
  }
  return out;
}

/**
 * Renders `args` with a format, as seed 002's `kwformat`: each argument's `{k}` and `{v}` filled
 * in (values as Python's `str()` writes them: `True`, `0.001`, `[1, 2]`), null omitted. A format
 * with spaces gives several words per argument (`--{k} {v}`: two).
 *
 * @example renderKwformat({ lr: 0.001, out: "/o" }, "--{k}={v}", false) // ["--lr=0.001", "--out=/o"]
 */
export function renderKwformat(args: ConfigMap, format: string, dashKeys: boolean): string[] {
  const words = format.trim().split(/\s+/);
  const out: string[] = [];
  for (const [rawKey, v] of Object.entries(args)) {
    if (v === null) continue;
    const k = dashKeys ? rawKey.replaceAll("_", "-") : rawKey;
    const value = pythonStr(v);
    for (const w of words) out.push(w.replace(/\{([kv])\}/g, (_, x) => (x === "k" ? k : value)));
  }
  return out;
}

/** What is wrong with a `kwformat` (null: nothing). */
export function kwformatProblem(format: string): string | null {
  const other = format.match(/\{(?![kv]\})[^}]*\}/);
  if (other) {
    return `"${format}" has ${other[0]}: only {k} (the key) and {v} (the value) are filled in`;
  }
  if (!/\{[kv]\}/.test(format)) {
    return `"${format}" names neither {k} nor {v}: every argument would be the same text; ` +
      "e.g. --{k}={v}";
  }
  return null;
}

function scalar(v: ConfigValue): string {
  return isMap(v) || Array.isArray(v) ? JSON.stringify(v) : pythonStr(v);
}

/** A value in Hydra's override syntax; text that Hydra would read otherwise is quoted. */
export function hydraValue(v: ConfigValue): string {
  if (Array.isArray(v)) return `[${v.map(hydraValue).join(",")}]`;
  if (isMap(v)) return `{${Object.entries(v).map(([k, x]) => `${k}:${hydraValue(x)}`).join(",")}}`;
  if (v === null) return "null";
  if (typeof v === "boolean") return v ? "true" : "false";
  // Quoted: text with characters Hydra's grammar reads (a comma is a sweep), and text it would
  // take for a number, boolean or null (a swept "001" stays text).
  if (
    typeof v === "string" &&
    (/[,[\]{}()'"=\\]|^\s|\s$|^$/.test(v) ||
      /^(?:true|false|null|[+-]?(?:inf|nan)|[+-]?[\d_]*\.?[\d_]*(?:[eE][+-]?\d+)?)$/i.test(v))
  ) {
    return `'${v.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
  }
  return pythonStr(v);
}

/** Builds the program of a point from its resolved `backend` group. */
export function buildBackendProgram(backend: BackendConfig): BackendProgram {
  const problems: ConfigProblem[] = [];
  const warnings: string[] = [];
  const args = backend.args ?? {};
  if (backend.name === "megatron") {
    // Megatron's arguments are typed by its argument table, which also decides how a value is
    // written (`--lr` is a float whatever the YAML says): its code reads plain numbers.
    const expanded = expandConvenienceArgs(withPlainNumbers(args), "backend.args");
    problems.push(...expanded.problems);
    // A failed expansion makes validation repeat the same mistake ("training length missing").
    const checked = expanded.problems.length
      ? { problems: [], warnings: [] }
      : validateMegatronArgs(expanded.args, "backend.args");
    problems.push(...checked.problems);
    warnings.push(...checked.warnings.map((w) => `${w.path}: ${w.message}`));
    const python = backend.python ?? "python";
    const root = (backend.megatron_path ?? "").replace(/\/+$/, "");
    const script = backend.script ?? "pretrain_gpt.py";
    const scriptPath = script.startsWith("/") || !root ? script : `${root}/${script}`;
    const extra = (backend.extra_args ?? []).map((x) => pythonStr(x));
    return {
      program: problems.length
        ? []
        : [python, scriptPath, ...renderMegatronFlags(expanded.args), ...extra],
      derived: expanded.derived,
      problems,
      warnings,
    };
  }
  let command: string[] = [];
  if (Array.isArray(backend.command)) command = backend.command.map((x) => pythonStr(x));
  else if (typeof backend.command === "string") {
    try {
      command = splitShellWords(backend.command);
    } catch (e) {
      problems.push({ path: "backend.command", message: (e as Error).message });
    }
  }
  if (command.length === 0) {
    problems.push({
      path: "backend.command",
      message: "the command backend needs a command (an argv list, e.g. [python, train.py])",
    });
  }
  const style = backend.arg_style ?? "--key value";
  const kwformat = backend.kwformat ?? null;
  const kwProblem = kwformat === null ? null : kwformatProblem(kwformat);
  if (kwProblem) problems.push({ path: "backend.kwformat", message: kwProblem });
  return {
    program: [
      ...command,
      ...(kwformat !== null
        ? renderKwformat(args, kwformat, backend.dash_keys === true)
        : renderCommandArgs(args, style, backend.dash_keys === true)),
      // Appended verbatim, as the reference says (and as the megatron backend does).
      ...(backend.extra_args ?? []).map((x) => pythonStr(x)),
    ],
    derived: {},
    problems,
    warnings,
  };
}
