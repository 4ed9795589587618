/**
 * The resolvers `${name:args}` available in configs: OmegaConf's `oc.*` family, Hydra's `now`,
 * and autoexp's `oc.timestring`, `platform` and a safe arithmetic `eval`. The world they read
 * (environment, clock, detected platform) is passed in, so resolution stays pure.
 *
 * @module
 */
import { evaluateExpression } from "./eval_expr.ts";
import type { Resolver } from "./resolve.ts";
import { pythonStr } from "./python_str.ts";
import { type ConfigValue, isMap } from "./tree.ts";

/** The outside facts resolvers may read. */
export interface ResolverEnvironment {
  /** Environment variables visible to the config (usually the process environment). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** One instant for the whole composition, so every timestamp in a config agrees. */
  readonly now: Date;
  /** The detected platform name, or a function computing it on first use. */
  readonly platform: string | (() => string);
}

/** Formats a date with the `strftime` subset users put in run names. */
export function strftime(d: Date, fmt: string): string {
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return fmt.replace(/%([YmdHMSfjyebBaA%])/g, (_, c: string) => {
    switch (c) {
      case "Y":
        return String(d.getFullYear());
      case "y":
        return p(d.getFullYear() % 100);
      case "m":
        return p(d.getMonth() + 1);
      case "d":
        return p(d.getDate());
      case "H":
        return p(d.getHours());
      case "M":
        return p(d.getMinutes());
      case "S":
        return p(d.getSeconds());
      case "f":
        return p(d.getMilliseconds() * 1000, 6);
      case "j": {
        const start = new Date(d.getFullYear(), 0, 0);
        return p(Math.floor((d.getTime() - start.getTime()) / 86_400_000), 3);
      }
      case "b":
        return MONTHS[d.getMonth()].slice(0, 3);
      case "B":
        return MONTHS[d.getMonth()];
      case "a":
        return DAYS[d.getDay()].slice(0, 3);
      case "A":
        return DAYS[d.getDay()];
      case "e":
        return String(d.getDate()).padStart(2, " ");
      default:
        return "%";
    }
  });
}
const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];
const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/** The default `oc.timestring` format: `20260822_101500`. */
export const DEFAULT_TIMESTRING = "%Y%m%d_%H%M%S";

function arity(name: string, args: ConfigValue[], min: number, max: number): void {
  if (args.length < min || args.length > max) {
    const want = min === max ? `${min}` : `${min} to ${max}`;
    throw new Error(`${name} takes ${want} argument${max === 1 ? "" : "s"}, got ${args.length}`);
  }
}

function keyArg(name: string, v: ConfigValue): string {
  if (typeof v !== "string") {
    throw new Error(`${name} expects a key string, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Builds the standard resolver table. */
export function standardResolvers(world: ResolverEnvironment): Record<string, Resolver> {
  let platform: string | undefined;
  const resolvers: Record<string, Resolver> = {
    "oc.env": (args) => {
      arity("oc.env", args, 1, 2);
      const name = keyArg("oc.env", args[0]);
      const v = world.env[name];
      if (v !== undefined) return v;
      if (args.length === 2) return args[1] === null ? null : pythonStr(args[1]);
      throw new Error(
        `environment variable "${name}" is not set (give a default: \${oc.env:${name},default})`,
      );
    },
    "oc.select": (args, ctx) => {
      arity("oc.select", args, 1, 2);
      const key = keyArg("oc.select", args[0]);
      const fallback = args.length === 2 ? args[1] : null;
      if (ctx.isMissing(key)) return fallback;
      const v = ctx.select(key);
      return v === undefined ? fallback : v;
    },
    "oc.decode": (args, ctx) => {
      arity("oc.decode", args, 1, 1);
      const v = args[0];
      if (v === null) return null;
      if (typeof v !== "string") {
        throw new Error(`oc.decode expects a string, got ${JSON.stringify(v)}`);
      }
      return ctx.decode(v);
    },
    // Hydra's own resolver, mapped onto autoexp's run context: the run directory is Hydra's
    // output directory, the run name its job name, the sweep index its job number.
    hydra: (args, ctx) => {
      arity("hydra", args, 1, 1);
      const key = keyArg("hydra", args[0]);
      const fixed: Record<string, string> = {
        "runtime.output_dir": "autoexp.run_dir",
        "run.dir": "autoexp.run_dir",
        "sweep.dir": "autoexp.sweep_dir",
        "sweep.subdir": "autoexp.run_name",
        "job.name": "autoexp.run_name",
        "job.num": "autoexp.index",
        "job.id": "autoexp.index",
        "runtime.config_dir": "autoexp.config_dir",
      };
      const choice = key.match(/^runtime\.choices\.(.+)$/)?.[1];
      const at = fixed[key] ?? (choice !== undefined ? `autoexp.choices.${choice}` : undefined);
      if (at === undefined) {
        throw new Error(
          `\${hydra:${key}} is not known to autoexp; known: ${
            [...Object.keys(fixed), "runtime.choices.<group>"].join(", ")
          }`,
        );
      }
      const v = ctx.select(at);
      if (v === undefined) {
        throw new Error(
          choice !== undefined
            ? `\${hydra:${key}}: no group "${choice}" was chosen`
            : `\${hydra:${key}} has no value outside a planned run (autoexp plan gives it one)`,
        );
      }
      return v;
    },
    "oc.dict.keys": (args, ctx) => {
      arity("oc.dict.keys", args, 1, 1);
      const d = typeof args[0] === "string" ? ctx.select(args[0]) : args[0];
      if (!isMap(d)) {
        throw new Error(`oc.dict.keys needs a mapping, got ${JSON.stringify(args[0])}`);
      }
      return Object.keys(d);
    },
    "oc.dict.values": (args, ctx) => {
      arity("oc.dict.values", args, 1, 1);
      const d = typeof args[0] === "string" ? ctx.select(args[0]) : args[0];
      if (!isMap(d)) {
        throw new Error(`oc.dict.values needs a mapping, got ${JSON.stringify(args[0])}`);
      }
      return Object.values(d);
    },
    "oc.timestring": (args) => {
      arity("oc.timestring", args, 0, 1);
      return strftime(world.now, args.length ? String(args[0]) : DEFAULT_TIMESTRING);
    },
    now: (args) => {
      arity("now", args, 0, 1);
      return strftime(world.now, args.length ? String(args[0]) : "%Y-%m-%d_%H-%M-%S");
    },
    platform: (args) => {
      arity("platform", args, 0, 0);
      platform ??= typeof world.platform === "string" ? world.platform : world.platform();
      return platform;
    },
    eval: (args) => {
      if (args.length === 0) {
        throw new Error("eval needs an expression, e.g. ${eval:'ceil(${a} / 2)'}");
      }
      const expr = args.map((a) => typeof a === "string" ? a : pythonStr(a)).join(",");
      return evaluateExpression(expr);
    },
  };
  resolvers["platform_detect"] = resolvers.platform;
  return resolvers;
}
