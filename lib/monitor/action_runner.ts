/**
 * The I/O part of the monitor's actions, behind one function the loop calls for each
 * `run_action` effect of the step: an action's file and command conditions (a blocking file
 * condition waits), its command (under a small shell wrapper that records the command's pid and
 * exit code, so a monitor that dies while it runs is followed by one that waits for it instead
 * of running it again), and the planning of a derived run (RunAutoexpAction). What it finds is
 * an {@link ActionOutcome} for the next step; it journals nothing itself.
 *
 * @module
 */
import type { FileSystem, ProcessProbe, ProcessRunner } from "../runtime/mod.ts";
import type { RunPlan } from "../plan/types.ts";
import type { ActionRecord } from "../store/state.ts";
import type { ActionSpec, CommandSpec, ConditionSpec } from "../monitoring/spec_types.ts";
import { formatTemplate } from "../monitoring/template.ts";
import type { LoadedPlan } from "./load_plan.ts";
import type { ActionOutcome, TrackedRun } from "./step.ts";

/** What a RunAutoexpAction asks for. */
export interface DeriveRequest {
  readonly parent: LoadedPlan;
  readonly run: RunPlan;
  /** The derived run's stable name. */
  readonly name: string;
  readonly overrides: readonly string[];
  /** Where to write its plan (a sweep directory of its own). */
  readonly dir: string;
}

/** The world actions act on. */
export interface ActionRunnerDeps {
  readonly fs: FileSystem;
  readonly proc: ProcessRunner;
  /** Whether a process still runs (an action command started by an earlier monitor). */
  readonly probe?: ProcessProbe;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** Plans and writes a derived run (RunAutoexpAction). */
  readonly derive?: (req: DeriveRequest) => Promise<LoadedPlan>;
  /** Poll interval of blocking file conditions and of waiting for a command (ms). */
  readonly pollMs?: number;
}

/** A derived run's plan, with the outcome (the loop follows the run from then on). */
export interface RunActionResult {
  readonly outcome: ActionOutcome;
  readonly derived?: { readonly run: RunPlan; readonly loaded: LoadedPlan };
}

/**
 * Performs an action's I/O: its file and command conditions in order, then its command or
 * derived run; for log, restart and cancel actions, only the conditions (`ready` when they
 * hold). `mainSweepDir` is where derived runs' plans go; `exists` tells whether a run of that
 * name is already followed.
 */
export async function runAction(
  act: ActionRecord,
  t: TrackedRun,
  mainSweepDir: string,
  exists: (run: string) => boolean,
  deps: ActionRunnerDeps,
  resumed = false,
): Promise<RunActionResult> {
  try {
    for (const c of act.spec.conditions) {
      const why = await condition(t, act, c, deps);
      if (why) return { outcome: { id: act.id, status: "skipped", detail: why } };
    }
    const spec = act.spec.action;
    if (spec.kind === "command") {
      const [status, detail] = await command(t, act, spec, deps, resumed);
      return { outcome: { id: act.id, status, detail } };
    }
    if (spec.kind === "autoexp") return await derive(t, act, spec, mainSweepDir, exists, deps);
    return { outcome: { id: act.id, status: "ready" } };
  } catch (e) {
    return { outcome: { id: act.id, status: "failed", detail: (e as Error).message } };
  }
}

/** An I/O condition: null when it holds, else why not (pure ones were checked by the step). */
async function condition(
  t: TrackedRun,
  act: ActionRecord,
  c: ConditionSpec,
  deps: ActionRunnerDeps,
): Promise<string | null> {
  const ctx = act.context;
  if (c.kind === "file_exists") {
    const path = formatTemplate(c.path, ctx);
    const deadline = c.timeoutSeconds === null
      ? Infinity
      : Date.parse(act.queuedAt) + c.timeoutSeconds * 1000;
    for (;;) {
      if (await deps.fs.exists(path)) return null;
      if (!c.blocking) return `${path} does not exist`;
      if (deps.now() >= deadline) return `${path} did not appear within ${c.timeoutSeconds} s`;
      await deps.sleep(deps.pollMs ?? 1000);
    }
  }
  if (c.kind === "command") {
    const r = await deps.proc.run(commandArgv(c.command, ctx), {
      cwd: t.loaded.monitor?.cwd,
      timeoutMs: c.timeoutSeconds * 1000,
      env: actionEnv(t, act),
    });
    if (r.timedOut) return `condition command timed out after ${c.timeoutSeconds} s`;
    return r.code === 0 ? null : `condition command exited ${r.code}`;
  }
  return null;
}

/** The environment every action command gets besides the monitor's own. */
function actionEnv(t: TrackedRun, act: ActionRecord): Record<string, string> {
  return {
    AUTOEXP_RUN: t.run.name,
    AUTOEXP_RUN_DIR: t.run.runDir,
    AUTOEXP_SWEEP_DIR: t.loaded.plan.sweep.dir,
    AUTOEXP_EVENT: act.source,
    AUTOEXP_ATTEMPT: String(act.attempt),
  };
}

/** The argv of a command spec, placeholders expanded (shell strings only with safe values). */
export function commandArgv(
  command: CommandSpec,
  ctx: Readonly<Record<string, string>>,
): string[] {
  if ("argv" in command) return command.argv.map((w) => formatTemplate(w, ctx));
  return ["/bin/sh", "-c", formatTemplate(command.shell, ctx, { shellSafe: true })];
}

/**
 * Runs an action's command (`$3...`) under coreutils `timeout` (`$2` seconds, then SIGKILL after
 * 10 s: the whole command, not only its first process) after writing the shell's pid to
 * `$1.pid`, and records the command's exit code in `$1.exit` (atomically) when it ends. Its
 * output goes straight to `$1.log`, not through the monitor: a monitor that dies (`kill -9`)
 * takes no pipe with it, so the command runs on, keeps all its output, and the next monitor
 * reads its exit code.
 */
const ACTION_WRAPPER = 'b=$1; t=$2; shift 2; exec >> "$b.log" 2>&1 < /dev/null; ' +
  'echo $$ > "$b.pid"; timeout -k 10 "$t" "$@"; c=$?; ' +
  'echo "$c" > "$b.exit.tmp" && mv "$b.exit.tmp" "$b.exit"; exit "$c"';

/** A short, unique file name for an action's output: event, its values, a hash of the id. */
export function actionFileName(act: ActionRecord): string {
  const values = Object.entries(act.context)
    .filter(([k]) => k === "checkpoint_iteration" || k === "iteration")
    .map(([, v]) => v);
  const base = [act.source, ...values].join("_").replace(/[^A-Za-z0-9._-]+/g, "_").slice(0, 80);
  let h = 0x811c9dc5;
  for (let i = 0; i < act.id.length; i++) h = Math.imul(h ^ act.id.charCodeAt(i), 0x01000193);
  return `${base}.${(h >>> 0).toString(16).padStart(8, "0")}`;
}

async function command(
  t: TrackedRun,
  act: ActionRecord,
  spec: Extract<ActionSpec, { kind: "command" }>,
  deps: ActionRunnerDeps,
  resumed: boolean,
): Promise<["ok" | "failed", string]> {
  const ctx = act.context;
  const argv = commandArgv(spec.command, ctx);
  const env: Record<string, string> = { ...actionEnv(t, act) };
  for (const [k, v] of Object.entries(spec.env)) env[k] = formatTemplate(v, ctx);
  const dir = `${t.run.runDir}/actions`;
  await deps.fs.mkdirp(dir);
  const base = `${dir}/${actionFileName(act)}`;
  const out = `${base}.log`;
  const timeoutMs = spec.timeoutSeconds * 1000;
  const verdict = (code: number | null, timedOut: boolean): ["ok" | "failed", string] =>
    timedOut || code === null || code === 124 || code === 137
      ? ["failed", `timed out after ${spec.timeoutSeconds} s (output: ${out})`]
      : code === 0
      ? ["ok", `exit 0 (output: ${out})`]
      : ["failed", `exit ${code} (output: ${out})`];
  if (resumed) {
    // Started by an earlier monitor that died: its command may have finished or still run.
    const prior = await priorCommand(base, act, timeoutMs, deps);
    if (prior) return verdict(prior.code, prior.timedOut);
  }
  await deps.fs.remove(`${base}.exit`).catch(() => {});
  const r = await deps.proc.run(
    ["/bin/sh", "-c", ACTION_WRAPPER, "autoexp-action", base, String(spec.timeoutSeconds), ...argv],
    {
      cwd: spec.cwd ? formatTemplate(spec.cwd, ctx) : t.loaded.monitor?.cwd,
      timeoutMs: timeoutMs + 30_000, // a backstop: `timeout` in the wrapper ends it first
      env,
    },
  );
  return verdict(r.code, r.timedOut);
}

/**
 * The outcome of a command an earlier monitor started: its recorded exit code, or, while its
 * shell still runs, the code once it ends. Null when it neither ended nor runs (run it again).
 */
async function priorCommand(
  base: string,
  act: ActionRecord,
  timeoutMs: number,
  deps: ActionRunnerDeps,
): Promise<{ code: number | null; timedOut: boolean } | null> {
  const readExit = async () => {
    const text = await deps.fs.readTextFile(`${base}.exit`).catch(() => null);
    const code = text === null ? NaN : Number(text.trim());
    return Number.isInteger(code) ? code : null;
  };
  const started = Date.parse(act.startedAt ?? act.queuedAt);
  for (;;) {
    const code = await readExit();
    if (code !== null) return { code, timedOut: false };
    const pid = Number((await deps.fs.readTextFile(`${base}.pid`).catch(() => "")).trim());
    const cmdline = pid > 0 ? (await deps.probe?.commandLine(pid)) ?? "" : "";
    if (!cmdline.includes(base)) {
      // Not running (any more): it ended just now, or it was killed with the monitor.
      const last = await readExit();
      return last === null ? null : { code: last, timedOut: false };
    }
    if (deps.now() - started > timeoutMs) return { code: null, timedOut: true };
    await deps.sleep(deps.pollMs ?? 1000);
  }
}

async function derive(
  t: TrackedRun,
  act: ActionRecord,
  spec: Extract<ActionSpec, { kind: "autoexp" }>,
  mainSweepDir: string,
  exists: (run: string) => boolean,
  deps: ActionRunnerDeps,
): Promise<RunActionResult> {
  const ctx = act.context;
  const suffix = Object.entries(ctx)
    .filter(([k]) => k === "checkpoint_iteration" || k === "iteration")
    .map(([, v]) => v)[0];
  const name = spec.name
    ? formatTemplate(spec.name, ctx)
    : `${t.run.name}_${ctx.event ?? "derived"}${suffix ? `_${suffix}` : ""}`;
  const safe = name.replace(/[^A-Za-z0-9._=+-]+/g, "_");
  if (exists(safe)) {
    return { outcome: { id: act.id, status: "ok", detail: `derived run ${safe} exists` } };
  }
  if (!deps.derive) {
    return {
      outcome: {
        id: act.id,
        status: "failed",
        detail: "derived runs are not available in this monitor",
      },
    };
  }
  const overrides = spec.overrides.map((o) => formatTemplate(o, ctx));
  const dir = `${mainSweepDir}/derived/${safe}`;
  const loaded = await deps.derive({ parent: t.loaded, run: t.run, name: safe, overrides, dir });
  const run = loaded.plan.runs.find((r) => r.name === safe) ?? loaded.plan.runs[0];
  if (!run) {
    return { outcome: { id: act.id, status: "failed", detail: "the derived plan has no run" } };
  }
  return {
    outcome: {
      id: act.id,
      status: "derived",
      name: run.name,
      planDir: dir,
      detail: `derived run ${run.name} (plan in ${dir})`,
    },
    derived: { run, loaded },
  };
}
