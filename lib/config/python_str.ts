/**
 * Python-compatible string conversion, used where OmegaConf would call `str()` on a value:
 * string interpolation (`lr${lr}`) and run names. Matching it keeps names and paths identical
 * to what users' existing Hydra/OmegaConf setups produced (`1e-05`, `0.001`, `True`, `None`).
 *
 * @module
 */

/** `repr(float)` as Python prints it: shortest round-trip digits, exponent outside [1e-4, 1e16). */
export function pythonFloatRepr(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const abs = Math.abs(x);
  if (abs >= 1e-4 && abs < 1e16) {
    const s = String(x); // plain notation in this range, as in Python
    return s.includes(".") ? s : `${s}.0`;
  }
  // Scientific: JS gives e.g. "1e-7" / "1.5e+21"; Python gives "1e-07" / "1.5e+21".
  const [mant, exp] = x.toExponential().split("e");
  const sign = exp[0] === "-" ? "-" : "+";
  const digits = exp.replace(/^[+-]/, "");
  return `${mant}e${sign}${digits.padStart(2, "0")}`;
}

/**
 * `str(value)` as Python would print the value OmegaConf holds. Whole numbers that came from
 * YAML integers print without a decimal point; JSON-like containers print Python-style.
 */
export function pythonStr(v: unknown): string {
  if (v === null || v === undefined) return "None";
  if (typeof v === "boolean") return v ? "True" : "False";
  if (typeof v === "number") {
    return Number.isInteger(v) && Math.abs(v) < 1e16 ? String(v) : pythonFloatRepr(v);
  }
  if (typeof v === "string") return v;
  return pythonRepr(v);
}

function pythonRepr(v: unknown): string {
  if (typeof v === "string") return `'${v.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
  if (Array.isArray(v)) return `[${v.map(pythonRepr).join(", ")}]`;
  if (typeof v === "object" && v !== null) {
    return `{${
      Object.entries(v).map(([k, x]) => `${pythonRepr(k)}: ${pythonRepr(x)}`).join(", ")
    }}`;
  }
  return pythonStr(v);
}
