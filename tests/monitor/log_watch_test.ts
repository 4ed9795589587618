/** Which logs a round reads (chooseLogs, a table) and LogWatcher.readRound on real files. */
import { assert_, assertEquals } from "../_assert.ts";
import {
  chooseLogs,
  type LogCandidate,
  type LogsSeen,
  LogWatcher,
} from "../../lib/monitor/log_watch.ts";
import type { AttemptLog } from "../../lib/monitor/step.ts";
import { DenoFileSystem } from "../../lib/runtime/fs.ts";
import { denoTailSource, type TailSource } from "../../lib/runtime/tail_source.ts";

function log(run: string, path = `/logs/${run}.log`): AttemptLog {
  return {
    run,
    attempt: 1,
    path,
    kinds: new Set(),
    meta: {},
    lastActivity: null,
    progress: null,
    lastEvent: null,
    missingRounds: 0,
  };
}

function cand(run: string, over: Partial<LogCandidate> = {}): LogCandidate {
  return {
    key: `${run}#1`,
    log: log(run),
    flush: false,
    pending: false,
    stallDue: false,
    outputPaths: [],
    ...over,
  };
}

function seen(
  looked: [string, number][],
  found: string[] = looked.map(([k]) => k),
  changed: string[] = [],
): LogsSeen {
  const f = new Set(found);
  return { found: (k) => f.has(k), lookedAt: new Map(looked), changed: new Set(changed) };
}

const keys = (cs: readonly LogCandidate[]) => cs.map((c) => c.key).sort();
const POLL = { pollMs: 10_000, readAllBelow: 2 };

Deno.test("chooseLogs: up to readAllBelow live logs, every round reads every log", () => {
  const cs = [cand("a", { pending: true }), cand("b")];
  const r = chooseLogs(cs, seen([["a#1", 0], ["b#1", 0]], []), 5, 0, POLL);
  assertEquals(keys(r.read), ["a#1", "b#1"]);
  assertEquals(r.ifExists, []);
});

Deno.test("chooseLogs: beyond it, what may have changed is read at once, in any turn", () => {
  const now = 100_000;
  const looked: [string, number][] = ["f", "w", "s", "o", "idle"].map((r) => [`${r}#1`, now - 1]);
  const cs = [
    cand("f", { flush: true }), // the job ended: read to its end
    cand("w"), // the file watcher reported it
    cand("s", { stallDue: true }), // judged stalled only after a look
    cand("o", { outputPaths: ["/out"] }),
    cand("idle"),
    cand("new"), // found before, never looked at by this process
  ];
  const s = seen(looked, [...looked.map(([k]) => k), "new#1"], ["/logs/w.log"]);
  const r = chooseLogs(cs, s, now, 0, POLL);
  assertEquals(keys(r.read), ["f#1", "new#1", "o#1", "s#1", "w#1"]);
});

Deno.test("chooseLogs: a log not found yet is looked for when its job runs, not while pending", () => {
  const cs = [cand("run"), cand("wait", { pending: true }), cand("x"), cand("y")];
  const r = chooseLogs(cs, seen([], []), 0, 0, POLL);
  assertEquals(r.read, []);
  assertEquals(keys(r.ifExists), ["run#1", "x#1", "y#1"]);
  // The job ended while pending: its log is read (to its end) if it is there at all.
  const cs2 = [
    cand("wait", { pending: true, flush: true }),
    cand("x", { pending: true }),
    cand("y"),
  ];
  const ended = chooseLogs(cs2, seen([], []), 0, 0, POLL);
  assertEquals(keys(ended.ifExists), ["wait#1", "y#1"]);
});

Deno.test("chooseLogs: idle logs in turn, least recently looked first, each within pollMs", () => {
  const now = 100_000;
  // Looked at 9.9 s, 9 s, 5 s, 1 s and 0.5 s ago (least recently first, as the watcher keeps them).
  const looked: [string, number][] = [
    ["a#1", now - 9_900],
    ["b#1", now - 9_000],
    ["c#1", now - 5_000],
    ["d#1", now - 1_000],
    ["e#1", now - 500],
  ];
  const cs = ["e", "d", "c", "b", "a"].map((r) => cand(r));
  const cases: [number, string[]][] = [
    [0, []], // no time passed: no share
    [2_000, ["a#1"]], // 5 logs x 2 s / 10 s
    [4_000, ["a#1", "b#1"]],
    [10_000, ["a#1", "b#1", "c#1", "d#1", "e#1"]],
    [60_000, ["a#1", "b#1", "c#1", "d#1", "e#1"]],
  ];
  for (const [since, want] of cases) {
    assertEquals(keys(chooseLogs(cs, seen(looked), now, since, POLL).read), want, `${since}`);
  }
  // Overdue ones are read whatever the share: the polling guarantee.
  const late = chooseLogs(cs, seen(looked), now + 1_000, 0, POLL);
  assertEquals(keys(late.read), ["a#1", "b#1"]);
});

/** A tail source counting opens. */
function counting(): TailSource & { opened: string[] } {
  const real = denoTailSource();
  const opened: string[] = [];
  return {
    opened,
    open(p) {
      opened.push(p);
      return real.open(p);
    },
  };
}

Deno.test("LogWatcher.readRound: one listing of a folder, no open of a log not there", async () => {
  const dir = await Deno.makeTempDir({ prefix: "autoexp_logwatch_" });
  try {
    const src = counting();
    const w = new LogWatcher(new DenoFileSystem(), src);
    await Deno.writeTextFile(`${dir}/a.log`, "iteration 1\n");
    const cs = ["a", "b", "c"].map((r) => cand(r, { log: log(r, `${dir}/${r}.log`) }));
    const polling = { pollMs: 10_000, readAllBelow: 0 };
    const r = await w.readRound(cs, 1_000, polling);
    assertEquals(r.map((x) => [x.run, x.lines]), [["a", ["iteration 1"]]]);
    assertEquals(src.opened, [`${dir}/a.log`]);
    // A stall check looks at the log although its turn has not come; a pending job's is not
    // looked for.
    await Deno.writeTextFile(`${dir}/a.log`, "iteration 2\n", { append: true });
    const again = await w.readRound(
      [cand("a", { log: cs[0].log, stallDue: true }), cand("b", { pending: true })],
      1_001,
      polling,
    );
    assertEquals(again.map((x) => [x.run, x.lines]), [["a", ["iteration 2"]]]);
    // Reported by the file watcher: read in the next round.
    await Deno.writeTextFile(`${dir}/a.log`, "iteration 3\n", { append: true });
    w.noteChanged([`${dir}/a.log`]);
    const watched = await w.readRound([cs[0]], 1_002, polling);
    assertEquals(watched.map((x) => x.lines), [["iteration 3"]]);
    assert_((await w.readRound([cs[0]], 1_002, polling)).length === 0, "nothing due");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
