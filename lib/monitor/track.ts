/**
 * A run as the monitor follows it: its plan, its monitoring spec, the values the spec's
 * placeholders name and its compiled log patterns.
 *
 * @module
 */
import { compileEvents, MEGATRON_EVENTS } from "../monitoring/events.ts";
import { parseMonitorSpec } from "../monitoring/spec.ts";
import type { LogEventConfig, MonitorSpec } from "../monitoring/spec_types.ts";
import type { RunPlan } from "../plan/types.ts";
import type { StoreState } from "../store/state.ts";
import type { LoadedPlan } from "./load_plan.ts";
import type { TrackedRun } from "./step.ts";

/** The spec of runs planned without a monitor file: the parser's defaults. */
export const DEFAULT_SPEC: MonitorSpec = parseMonitorSpec(null, null);

/** Compiled patterns by the event specs they come from (runs of a sweep share them). */
const compiledCache = new Map<string, ReturnType<typeof compileEvents>>();

/** What the step needs of a run: its plan, spec, placeholder values and compiled events. */
export function trackRun(run: RunPlan, loaded: LoadedPlan): TrackedRun {
  const entry = loaded.monitor?.runs[run.name];
  const spec = (entry && loaded.monitor?.specs[entry.spec]) ?? DEFAULT_SPEC;
  const key = JSON.stringify([spec.builtinEvents, spec.logEvents.map((e) => e.spec)]);
  let events = compiledCache.get(key);
  if (!events) {
    const own = spec.logEvents.map((e) => e.spec);
    const names = new Set(own.map((e) => e.name));
    const builtin = spec.builtinEvents ? MEGATRON_EVENTS.filter((e) => !names.has(e.name)) : [];
    events = compileEvents([...own, ...builtin]);
    compiledCache.set(key, events);
  }
  // The actions are the spec's own: two specs may share patterns but not actions.
  const eventConfigs = new Map<string, LogEventConfig>(
    spec.logEvents.map((e) => [e.spec.name, e]),
  );
  return { run, loaded, spec, vars: entry?.vars ?? {}, events, eventConfigs };
}

/**
 * The runs a monitor follows: the sweep's runs the journal knows, and the derived runs it
 * recorded (their plans read through `loadPlan`; one that cannot be read is said and skipped).
 */
export async function trackRuns(
  main: LoadedPlan,
  store: StoreState,
  loadPlan: ((dir: string) => Promise<LoadedPlan>) | undefined,
  say: (line: string) => void,
): Promise<Map<string, TrackedRun>> {
  const out = new Map<string, TrackedRun>();
  for (const run of main.plan.runs) {
    if (store.runs[run.name]) out.set(run.name, trackRun(run, main));
  }
  for (const rec of Object.values(store.runs)) {
    if (!rec.planDir || out.has(rec.name) || !loadPlan) continue;
    try {
      const loaded = await loadPlan(rec.planDir);
      const run = loaded.plan.runs.find((r) => r.name === rec.name);
      if (run) out.set(run.name, trackRun(run, loaded));
    } catch (e) {
      say(`${rec.name}: cannot read its plan in ${rec.planDir}: ${(e as Error).message}`);
    }
  }
  return out;
}
