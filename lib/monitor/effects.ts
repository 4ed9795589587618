/**
 * Performing what a monitor step decided, after its events are journaled: messages, cancels,
 * submissions, and actions (in the background, through {@link runAction}; their outcomes are
 * kept for the next step). Each effect is idempotent by the id the journal holds for it.
 *
 * @module
 */
import { SchedulerError } from "../errors.ts";
import type { FileSystem, ProcessProbe, ProcessRunner } from "../runtime/mod.ts";
import type { Scheduler } from "../scheduler/types.ts";
import type { SweepStore } from "../store/store.ts";
import { submitChosen } from "../submit/mod.ts";
import { type DeriveRequest, runAction } from "./action_runner.ts";
import type { LoadedPlan } from "./load_plan.ts";
import type { ActionOutcome, MonitorState, StepResult, TrackedRun } from "./step.ts";
import { trackRun } from "./track.ts";

/** The ports effects act through. */
export interface EffectDeps {
  readonly fs: FileSystem;
  readonly scheduler: Scheduler;
  readonly proc: ProcessRunner;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly derive?: (req: DeriveRequest) => Promise<LoadedPlan>;
  readonly probe?: ProcessProbe;
  readonly say: (line: string) => void;
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
          this.deps.say(e.line);
          break;
        case "cancel":
          try {
            await this.deps.scheduler.cancel([e.jobId]);
          } catch (err) {
            this.state.cancelsSent.delete(e.key); // asked again next round
            this.deps.say(`${e.run}: cancelling job ${e.jobId} failed: ${(err as Error).message}`);
          }
          break;
        case "submit":
          try {
            await submitChosen(e.plan.plan, this.store, this.deps.scheduler, e.chosen, {
              fs: this.deps.fs,
              say: this.deps.say,
            });
          } catch (err) {
            if (!(err instanceof SchedulerError)) throw err;
            this.deps.say(`submitting ${e.chosen.length} new attempt(s) failed: ${err.message}`);
          }
          break;
        case "run_action":
          this.#startAction(e.id, e.resumed);
          break;
      }
    }
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
