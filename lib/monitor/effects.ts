/**
 * Performing what a monitor step decided, after its events are journaled: messages, cancels,
 * submissions, and actions (in the background, through {@link runAction}; their outcomes are
 * kept for the next step). Each effect is idempotent by the id the journal holds for it.
 *
 * @module
 */
import { SchedulerError, UsageError } from "../errors.ts";
import type { RunPlan } from "../plan/types.ts";
import type { FileSystem, ProcessProbe, ProcessRunner } from "../runtime/mod.ts";
import type { HistoryIndex } from "../runtime/history.ts";
import type { Scheduler } from "../scheduler/types.ts";
import type { SweepStore } from "../store/store.ts";
import { type ChosenRun, submitChosen } from "../submit/mod.ts";
import { type DeriveRequest, runAction } from "./action_runner.ts";
import type { LoadedPlan } from "./load_plan.ts";
import type { ActionOutcome, MonitorState, SayNote, StepResult, TrackedRun } from "./step.ts";
import { trackRun } from "./track.ts";

/** A run to plan again with a restart policy's overrides (same sweep, name and index). */
export interface ReplanRequest {
  readonly loaded: LoadedPlan;
  readonly run: RunPlan;
  readonly overrides: readonly string[];
}

/** The ports effects act through. */
export interface EffectDeps {
  readonly fs: FileSystem;
  readonly scheduler: Scheduler;
  readonly proc: ProcessRunner;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly derive?: (req: DeriveRequest) => Promise<LoadedPlan>;
  /** Re-plans a run with a restart's overrides (its command and environment). */
  readonly replan?: (req: ReplanRequest) => Promise<RunPlan>;
  readonly probe?: ProcessProbe;
  readonly say: (line: string, note?: SayNote) => void;
  /** The user's history index (submissions are recorded there). */
  readonly history?: HistoryIndex | null;
}

/** Performs a monitor's effects; actions run in the background. */
export class EffectRunner {
  /** Outcomes of actions that ended, for the next step. */
  #outcomes: ActionOutcome[] = [];
  /** Actions being performed, by id. */
  readonly #inflight = new Map<string, Promise<void>>();

  constructor(
    private readonly deps: EffectDeps,
    private readonly store: SweepStore,
    private readonly state: MonitorState,
    /** The runs followed; a derived run an action plans is added. */
    private readonly tracked: Map<string, TrackedRun>,
    private readonly sweepDir: string,
    /** Called when an action ends (to wake the loop). */
    private readonly onActionEnd: () => void,
    private readonly conditionPollMs?: number,
  ) {}

  /** Whether actions ended since the last {@link takeOutcomes}. */
  get hasOutcomes(): boolean {
    return this.#outcomes.length > 0;
  }

  /** Whether actions are still being performed. */
  get busy(): boolean {
    return this.#inflight.size > 0;
  }

  /** The outcomes of actions that ended since the last call. */
  takeOutcomes(): ActionOutcome[] {
    const out = this.#outcomes;
    this.#outcomes = [];
    return out;
  }

  /** Waits for the actions being performed now. */
  async settle(): Promise<void> {
    await Promise.all([...this.#inflight.values()]);
  }

  /** Performs a step's effects in order (the step's events are already journaled). */
  async perform(result: StepResult): Promise<void> {
    for (const e of result.effects) {
      switch (e.kind) {
        case "say":
          this.deps.say(e.line, e.note);
          break;
        case "cancel":
          try {
            await this.deps.scheduler.cancel([e.jobId]);
          } catch (err) {
            this.state.cancelsSent.delete(e.key); // asked again next round
            const text = `cancelling job ${e.jobId} failed: ${(err as Error).message}`;
            this.deps.say(`${e.run}: ${text}`, { kind: "run", run: e.run, text, bad: true });
          }
          break;
        case "submit": {
          const plain = e.chosen.filter((c) => !c.overrides?.length);
          try {
            if (plain.length) {
              await submitChosen(e.plan.plan, this.store, this.deps.scheduler, plain, {
                fs: this.deps.fs,
                say: this.deps.say,
                now: this.deps.now,
                history: this.deps.history,
              });
            }
            for (const c of e.chosen) {
              if (c.overrides?.length) await this.#submitReplanned(e.plan, c);
            }
          } catch (err) {
            if (!(err instanceof SchedulerError)) throw err;
            this.deps.say(`submitting ${e.chosen.length} new attempt(s) failed: ${err.message}`);
          }
          break;
        }
        case "run_action":
          this.#startAction(e.id, e.resumed);
          break;
      }
    }
  }

  /**
   * Submits a restart whose policy changes the run's own arguments: the run re-planned with the
   * overrides (its argv and environment; its script, group and directories stay), frozen as a
   * new entries file that later restarts reuse. A re-plan that fails is journaled as a failed
   * submission of the attempt (the run ends, with the reason), not retried every round.
   */
  async #submitReplanned(loaded: LoadedPlan, c: ChosenRun): Promise<void> {
    const overrides = c.overrides ?? [];
    let run: RunPlan;
    try {
      if (!this.deps.replan) throw new UsageError("re-planning is not available in this monitor");
      const again = await this.deps.replan({ loaded, run: c.run, overrides });
      // The run keeps its planned fingerprint: the overrides are the monitor's, recorded with
      // the restart, not a change of the config (`submit` must not refuse the sweep for them).
      run = { ...c.run, argv: again.argv, env: again.env };
    } catch (err) {
      // Any failure (a config error, an unreadable config directory) ends this attempt's
      // submission with the reason; thrown, it would stop every monitor start at this decision.
      const error = `re-planning ${c.run.name} with ${overrides.join(" ")} failed: ${
        (err as Error).message
      }`;
      const intent = await this.store.append({
        type: "submit_intent",
        key: c.run.name,
        comment: "",
        runs: [{
          name: c.run.name,
          index: c.run.index,
          attempt: c.attempt,
          fingerprint: c.run.fingerprint,
          why: c.why,
        }],
      });
      await this.store.append({ type: "submit_failed", intent: intent.seq, error });
      await this.store.snapshot();
      this.deps.say(`${c.run.name}: ${error}`, {
        kind: "run",
        run: c.run.name,
        text: error,
        bad: true,
      });
      return;
    }
    const plan = {
      ...loaded.plan,
      runs: loaded.plan.runs.map((r) => r.name === run.name ? run : r),
    };
    const { overrides: _, entries: __, ...rest } = c;
    await submitChosen(plan, this.store, this.deps.scheduler, [{ ...rest, run }], {
      fs: this.deps.fs,
      say: this.deps.say,
      now: this.deps.now,
      history: this.deps.history,
    });
  }

  /** Performs an action's I/O in the background; its outcome goes to the next step. */
  #startAction(id: string, resumed: boolean): void {
    const act = this.store.state.actions?.[id];
    const t = act && this.tracked.get(act.run);
    if (!act || !t) {
      this.#outcomes.push({ id, status: "failed", detail: "its run is not followed" });
      return;
    }
    const p = runAction(
      act,
      t,
      this.sweepDir,
      (run) => this.store.state.runs[run] !== undefined,
      { ...this.deps, pollMs: this.conditionPollMs },
      resumed,
    ).then((r) => {
      if (r.derived) {
        this.tracked.set(r.derived.run.name, trackRun(r.derived.run, r.derived.loaded));
      }
      this.#outcomes.push(r.outcome);
    }).catch((e) => {
      this.#outcomes.push({ id, status: "failed", detail: (e as Error).message });
    }).finally(() => {
      this.#inflight.delete(id);
      this.onActionEnd();
    });
    this.#inflight.set(id, p);
  }
}
