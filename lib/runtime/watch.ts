/**
 * File watching for the monitor: a wake-up call when something under the given directories
 * changes. Best effort: on cluster file systems (Lustre, GPFS) writes made on compute nodes are
 * not reported, so the monitor polls sizes and times as well; a directory that cannot be
 * watched (missing, too many watches) is simply not watched.
 *
 * @module
 */

/**
 * Calls `onChange` (at most every 20 ms) with the paths that changed under `paths`; returns a
 * stop function.
 */
export function watchPaths(
  paths: readonly string[],
  onChange: (changed: readonly string[]) => void,
): () => void {
  const watchers: Deno.FsWatcher[] = [];
  let changed = new Set<string>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let last = 0;
  const report = () => {
    timer = undefined;
    last = Date.now();
    const c = [...changed];
    changed = new Set();
    onChange(c);
  };
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
        for await (const e of w) {
          for (const p of e.paths) changed.add(p);
          // Told at once, then at most every 20 ms (what came meanwhile together).
          if (timer === undefined) timer = setTimeout(report, Math.max(0, last + 20 - Date.now()));
        }
      } catch { /* closed, or the directory went away */ }
    })();
  }
  return () => {
    clearTimeout(timer);
    for (const w of watchers) {
      try {
        w.close();
      } catch { /* already closed */ }
    }
  };
}
