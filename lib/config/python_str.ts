/**
 * Python-compatible string conversion, used where OmegaConf would call `str()` on a value:
 * string interpolation (`lr${lr}`) and run names. Matching it keeps names and paths identical
 * to what users' existing Hydra/OmegaConf setups produced (`1e-05`, `0.001`, `True`, `None`).
 *
 * @module
 */
import { pythonFloatRepr, WholeFloat } from "./whole_float.ts";

export { pythonFloatRepr };

/**
 * `str(value)` as Python would print the value OmegaConf holds. Whole numbers that came from
 * YAML integers print without a decimal point, whole floats ({@link WholeFloat}) with one
 * (`1.0`); JSON-like containers print Python-style.
 */
export function pythonStr(v: unknown): string {
  if (v === null || v === undefined) return "None";
  if (typeof v === "boolean") return v ? "True" : "False";
  if (typeof v === "number") {
    return Number.isInteger(v) && Math.abs(v) < 1e16 ? String(v) : pythonFloatRepr(v);
  }
  if (typeof v === "string") return v;
  if (v instanceof WholeFloat) return pythonFloatRepr(v.value);
  return pythonRepr(v);
}

function pythonRepr(v: unknown): string {
  if (typeof v === "string") return `'${v.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
  if (Array.isArray(v)) return `[${v.map(pythonRepr).join(", ")}]`;
  if (typeof v === "object" && v !== null && !(v instanceof WholeFloat)) {
    return `{${
      Object.entries(v).map(([k, x]) => `${pythonRepr(k)}: ${pythonRepr(x)}`).join(", ")
    }}`;
  }
  return pythonStr(v);
}
