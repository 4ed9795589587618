/**
 * What a message of the monitor or of a submission is about, so a view can arrange them
 * (lib/cli/stream.ts): the line alone says it all to a log file or a test.
 *
 * @module
 */

/**
 * What a message is about, for a view that arranges them (lib/cli/stream.ts): a run's new state,
 * a part of the one line a fired log event and its actions make (`group` is the event, `of` how
 * many actions it has; a part with empty text only counts), or another message about a run.
 * The message's `line` says it all without a view.
 */
export type SayNote =
  | {
    readonly kind: "state";
    readonly run: string;
    readonly state: string;
    readonly attempt: number;
    readonly job?: string;
    readonly detail?: string;
    /** Why the scheduler keeps a pending attempt waiting (SLURM's reason: `Resources`). */
    readonly queueReason?: string;
  }
  | {
    readonly kind: "part";
    readonly run: string;
    readonly group: string;
    readonly index: number;
    readonly of: number;
    readonly text: string;
    readonly failed?: boolean;
  }
  | { readonly kind: "run"; readonly run: string; readonly text: string; readonly bad?: boolean };
