/**
 * Whole floats: a Python float whose value is integral (`1.0`, `300.0`, `1e10`, `-0.0`).
 * JavaScript holds `1.0` as `1`, so without a mark `w_${x}` would print `w_1` where OmegaConf
 * prints `w_1.0`, and run names, output paths and checkpoint directories would differ by one
 * character from what the user's Python tools made.
 *
 * Config trees (raw, composed, resolved) hold such a value as a {@link WholeFloat}; floats that
 * are not integral (`0.001`, `1e-05`, `inf`, `nan`) stay plain numbers, since JavaScript already
 * tells them from integers. Schema validation sees plain numbers (see `schema/mod.ts`).
 *
 * @module
 */

/**
 * A float with an integral value, kept apart from an int of the same value. Immutable and a
 * scalar everywhere in config trees (never a mapping). It converts to a number with `Number(x)`
 * or `+x`, and to text as Python's `repr(float)` (`String(new WholeFloat(1)) === "1.0"`). In
 * JSON it is a number written as Python writes the float (`{"lr":1.0}`, as `json.dumps` gives),
 * so files autoexp writes (sweep.json) and reads back with {@link parseJsonWithFloats} keep it
 * a float: a run planned again from its recorded values gets the same names and arguments.
 */
export class WholeFloat {
  /** The value (integral, or -0). */
  readonly value: number;

  constructor(value: number) {
    this.value = value;
    Object.freeze(this);
  }

  /** The JSON text of the number as Python writes it (`1.0`, `-0.0`, `1e+16`). */
  toJSON(): unknown {
    return rawJSON(pythonFloatRepr(this.value));
  }

  /** Python's `repr(float)`: `1.0`, `-0.0`, `10000000000.0`, `1e+16`. */
  toString(): string {
    return pythonFloatRepr(this.value);
  }

  valueOf(): number {
    return this.value;
  }
}

/** `JSON.rawJSON` (in V8, not yet in TypeScript's lib): a value JSON.stringify writes verbatim. */
const rawJSON = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

/**
 * `JSON.parse` that reads a number written with a decimal point or an exponent and an integral
 * value (`1.0`, `1e+16`, `-0.0`) as a {@link WholeFloat}, as Python's `json.loads` reads a float.
 * Uses the reviver's view of each number's source text.
 */
export function parseJsonWithFloats<T = unknown>(text: string): T {
  return JSON.parse(
    text,
    (_key, value, context?: { source?: string }) =>
      typeof value === "number" && Number.isInteger(value) &&
        /[.eE]/.test(context?.source ?? "")
        ? new WholeFloat(value)
        : value,
  );
}

/**
 * A number read as a Python float: a {@link WholeFloat} when it is integral (or -0), else the
 * number itself.
 *
 * @example floatValue(1) // WholeFloat(1), prints "1.0"; floatValue(0.5) // 0.5
 */
export function floatValue(n: number): number | WholeFloat {
  return Number.isInteger(n) ? new WholeFloat(n) : n;
}

/** True for a whole float. */
export function isWholeFloat(v: unknown): v is WholeFloat {
  return v instanceof WholeFloat;
}

/** True for a value Python would hold as a float (a whole float or a non-integral number). */
export function isPythonFloat(v: unknown): boolean {
  return v instanceof WholeFloat || (typeof v === "number" && !Number.isInteger(v));
}

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
