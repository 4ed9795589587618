/**
 * Values whose names look secret (`WANDB_API_KEY`, `HF_TOKEN`, `db_password`, ...) are shown
 * masked wherever autoexp shows or records a config for people to read (`autoexp config`, the
 * sweep's `provenance/`). `AUTOEXP_SECRET_NAMES` (a regular expression) adds names. Pure.
 *
 * @module
 */
import { type ConfigValue, isMap, WholeFloat } from "./tree.ts";

/** What a masked value reads as. */
export const MASKED = "***";

const SECRET_WORDS =
  /(?:^|[_-])(?:api[_-]?key|access[_-]?key|private[_-]?key|secret|token|password|passwd|credentials?)(?:$|[_-])/i;
/** `*_KEY` in upper case: environment variables (`SSH_KEY`), not config keys (`sort_key`). */
const ENV_KEY = /[_-]KEY$/;

/** Whether a key names a secret (`extra`: the user's own pattern, from AUTOEXP_SECRET_NAMES). */
export function secretName(key: string, extra?: RegExp): boolean {
  return SECRET_WORDS.test(key) || ENV_KEY.test(key) || (extra?.test(key) ?? false);
}

/** The user's extra pattern (`AUTOEXP_SECRET_NAMES`), or undefined; a bad one is ignored. */
export function extraSecretNames(env: Readonly<Record<string, string>>): RegExp | undefined {
  const text = env.AUTOEXP_SECRET_NAMES;
  if (!text) return undefined;
  try {
    return new RegExp(text, "i");
  } catch {
    return undefined;
  }
}

/**
 * A copy of `value` with every non-empty scalar under a secret-looking key masked (a
 * `{value, shell}` environment entry too). Interpolations (`${oc.env:HF_TOKEN}`) are kept: they
 * name where the value comes from, not the value.
 */
export function maskSecrets(value: ConfigValue, extra?: RegExp): ConfigValue {
  if (typeof value === "string") return maskOverride(value, extra);
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v, extra));
  if (!isMap(value)) return value;
  const out: Record<string, ConfigValue> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = secretName(k, extra) ? maskValue(v) : maskSecrets(v, extra);
  }
  return out;
}

/** `-o slurm.env.HF_TOKEN=hf_x` as `slurm.env.HF_TOKEN=***` (any other text as it is). */
function maskOverride(text: string, extra?: RegExp): string {
  const m = text.match(/^([+~]{0,2}[A-Za-z_][\w.\-/@]*)=(.+)$/s);
  if (!m || !secretName(m[1].split(".").at(-1)!, extra)) return text;
  return `${m[1]}=${maskValue(m[2])}`;
}

function maskValue(v: ConfigValue): ConfigValue {
  if (typeof v === "string") return v === "" || /^\$\{[^{}]*\}$/.test(v) ? v : MASKED;
  if (typeof v === "number" || v instanceof WholeFloat) return MASKED;
  if (isMap(v) && "value" in v) return { ...v, value: maskValue(v.value ?? "") };
  return v;
}
