/**
 * The real file access of log tailing ({@link TailSource} of `lib/monitor/tail.ts`): opens
 * through symlinks, stats and reads byte ranges of the same opened file.
 *
 * @module
 */
import { type TailSource, tailSourceFromOpen } from "../monitor/tail.ts";

/** Tail source over the real file system. */
export function denoTailSource(): TailSource {
  return tailSourceFromOpen((p) => Deno.open(p), (e) => e instanceof Deno.errors.NotFound);
}
