/**
 * File watching for the monitor: a wake-up call when something under the given directories
 * changes. Best effort: on cluster file systems (Lustre, GPFS) writes made on compute nodes are
 * not reported, so the monitor polls sizes and times as well; a directory that cannot be
 * watched (missing, too many watches) is simply not watched.
 *
 * @module
 */

/** Calls `onChange` (at most every 20 ms) for changes under `paths`; returns a stop function. */
export function watchPaths(paths: readonly string[], onChange: () => void): () => void {
  const watchers: Deno.FsWatcher[] = [];
  let last = 0;
  for (const path of paths) {
    let w: Deno.FsWatcher;
    try {
      w = Deno.watchFs(path, { recursive: true });
    } catch {
      continue;
    }
    watchers.push(w);
    (async () => {
      try {
        for await (const _ of w) {
          const now = Date.now();
          if (now - last < 20) continue;
          last = now;
          onChange();
        }
      } catch { /* closed, or the directory went away */ }
    })();
  }
  return () => {
    for (const w of watchers) {
      try {
        w.close();
      } catch { /* already closed */ }
    }
  };
}
