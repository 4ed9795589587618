/**
 * What following a sweep prints, driven message by message with a fixed clock: a checkpoint and
 * its actions on one timestamped line, state words without repeats, -q/-v levels, --json, the
 * sticky status line on a terminal and the summary line every minute elsewhere.
 */
import { assert_, assertEquals, assertMatch } from "../_assert.ts";
import type { SayNote } from "../../lib/monitor/step.ts";
import type { RunView } from "../../lib/monitor/monitor.ts";
import { launchList, type StreamLevel, StreamView } from "../../lib/cli/stream.ts";
import { makeStyle } from "../../lib/cli/style.ts";

function stream(level: StreamLevel, extra: { terminal?: boolean; json?: boolean } = {}) {
  let now = Date.parse("2026-12-03T12:04:31Z");
  const out: string[] = [];
  const view = new StreamView({
    out: (t) => out.push(t),
    now: () => new Date(now),
    style: makeStyle(false),
    level,
    runs: ["lr0.001", "lr0.0003"],
    ...extra,
  });
  return {
    view,
    out,
    text: () => out.join(""),
    lines: () => out.join("").split("\n").filter((l) => l),
    advance: (ms: number) => now += ms,
  };
}

const time = (iso: string) => new Date(iso).toTimeString().slice(0, 8);
const part = (
  run: string,
  group: string,
  index: number,
  of: number,
  text: string,
  failed = false,
): SayNote => ({ kind: "part", run, group, index, of, text, ...(failed ? { failed } : {}) });
const state = (run: string, s: string, detail: string, attempt = 1): SayNote => {
  // As the step says it: the lifecycle's sentence, and SLURM's own reason for a pending job.
  const queued = detail.match(/^pending in the queue \((.*)\)$/)?.[1];
  return {
    kind: "state",
    run,
    state: s,
    attempt,
    job: "66_0",
    detail,
    ...(queued ? { queueReason: queued } : {}),
  };
};

Deno.test("stream: a checkpoint and its actions are one timestamped line, in the actions' order", () => {
  const s = stream("normal");
  // Actions end in any order; a filtered action (empty text) only counts.
  s.view.say("", part("lr0.001", "lr0.001|k40", 3, 4, ""));
  s.view.say("x", part("lr0.001", "lr0.001|k40", 2, 4, "evaluate.sh ok"));
  s.view.say("x", part("lr0.001", "lr0.001|k40", 0, 4, "checkpoint 40 saved"));
  assertEquals(s.out.length, 0, "waits for the event's last action");
  s.view.say("x", part("lr0.001", "lr0.001|k40", 1, 4, "convert_to_hf.sh ok"));
  assertEquals(s.lines(), [
    `${
      time("2026-12-03T12:04:31Z")
    } lr0.001   checkpoint 40 saved · convert_to_hf.sh ok · evaluate.sh ok`,
  ]);
});

Deno.test("stream: a checkpoint whose actions take long is printed as it is; the rest follow alone", () => {
  const s = stream("normal");
  s.view.say("x", part("lr0.001", "g", 0, 2, "checkpoint 10 saved"));
  s.advance(31_000);
  s.view.tick();
  assertMatch(s.text(), /lr0\.001 {3}checkpoint 10 saved\n$/);
  s.view.say("x", part("lr0.001", "g", 1, 2, "evaluate.sh failed: exit 3"));
  assertMatch(s.lines()[1], /lr0\.001 {3}evaluate\.sh failed: exit 3$/);
});

Deno.test("stream: state lines without repeated words; pending only when it waits for more than a slot", () => {
  const s = stream("normal");
  s.view.say("x", state("lr0.001", "pending", "pending in the queue"));
  s.view.say("x", state("lr0.001", "running", "running"));
  s.view.say("x", state("lr0.0003", "failed", "failed with exit code 1"));
  s.view.say("x", state("lr0.0003", "pending", "pending in the queue (Resources)", 2));
  s.view.say("x", state("lr0.0003", "pending", "pending in the queue (Dependency)", 2));
  s.view.say("x", state("lr0.001", "completed", "exited 0"));
  const body = s.lines().map((l) => l.slice(9));
  assertEquals(body, [
    "lr0.001   running · job 66_0",
    "lr0.0003  failed · job 66_0 · exit code 1",
    "lr0.0003  pending · job 66_0 · attempt 2 · waiting: Dependency",
    "lr0.001   completed · job 66_0",
  ]);
});

Deno.test("stream: -q shows how runs end, restarts and failures; -v every part on its own", () => {
  const q = stream("quiet");
  q.view.say("x", state("lr0.001", "running", "running"));
  q.view.say("x", part("lr0.001", "g", 0, 2, "checkpoint 10 saved"));
  q.view.say("x", part("lr0.001", "g", 1, 2, "evaluate.sh failed: exit 3", true));
  q.view.say("x", { kind: "run", run: "lr0.001", text: "restarting: attempt 1 crashed" });
  q.view.say("submitted run lr0.001 as job 7");
  q.view.say("x", state("lr0.001", "completed", "exited 0"));
  assertEquals(q.lines().map((l) => l.slice(9)), [
    "lr0.001   evaluate.sh failed: exit 3",
    "lr0.001   restarting: attempt 1 crashed",
    "lr0.001   completed · job 66_0",
  ]);
  const v = stream("verbose");
  v.view.say("x", state("lr0.001", "pending", "pending in the queue"));
  v.view.say("x", part("lr0.001", "g", 0, 2, "checkpoint 10 saved"));
  v.view.say("x", part("lr0.001", "g", 1, 2, "evaluate.sh ok"));
  assertEquals(v.lines().map((l) => l.slice(9)), [
    "lr0.001   pending · job 66_0",
    "lr0.001   checkpoint 10 saved",
    "lr0.001   evaluate.sh ok",
  ]);
});

Deno.test("stream --json: one object per event line, with what it is about", () => {
  const s = stream("normal", { json: true });
  s.view.say(
    "lr0.001: completed (attempt 1, job 66_0): exited 0",
    state("lr0.001", "completed", "exited 0"),
  );
  s.view.say("", part("lr0.001", "g", 1, 2, "")); // counts only: nothing to print
  s.view.say("submitted run lr0.001 as job 7");
  const objs = s.lines().map((l) => JSON.parse(l));
  assertEquals(objs.length, 2);
  assertEquals([objs[0].kind, objs[0].run, objs[0].state], ["state", "lr0.001", "completed"]);
  assertEquals(objs[1].line, "submitted run lr0.001 as job 7");
  assert_(objs.every((o) => typeof o.time === "string"));
});

const views = (done: number): RunView[] => [
  { run: "a", state: "completed", final: true, attempt: 1, iteration: 40, total: 40 },
  { run: "b", state: "running", final: false, attempt: 1, iteration: done, total: 40 },
  { run: "c", state: "pending", final: false, attempt: 1, iteration: null, total: null },
];

Deno.test("stream on a terminal: a sticky bottom line with counts, progress and ETA", () => {
  const s = stream("normal", { terminal: true });
  s.view.tick(() => views(10));
  s.advance(10_000);
  s.view.tick(() => views(20));
  // 60 of 80 iterations done, 10 per 10 s: 20 more take 20 s.
  assertEquals(
    s.out.at(-1)!,
    "\r\x1b[2K1/3 ended · 1 completed · 1 running · 1 pending · 75% · ~20s left",
  );
  // A message clears the line, prints, and draws it again below.
  s.view.say("x", state("b", "completed", "exited 0"));
  assertEquals(s.out.at(-2)!.startsWith("\r\x1b[2K"), true);
  assertMatch(s.out.at(-1)!, /ended/);
  s.view.close();
  assertEquals(s.out.at(-1), "\r\x1b[2K");
});

Deno.test("stream not on a terminal: a summary line every minute, no escapes", () => {
  const s = stream("normal");
  s.view.tick(() => views(10));
  assertEquals(s.out.length, 0);
  s.advance(61_000);
  s.view.tick(() => views(30));
  assertEquals(s.lines().length, 1);
  assertMatch(s.lines()[0], /1\/3 ended · 1 completed · 1 running · 1 pending · 87%/);
  assert_(!s.text().includes("\x1b"));
});

Deno.test("launchList: Hydra's list of the runs with their swept values", () => {
  const runs = Array.from({ length: 14 }, (_, i) => ({
    index: i,
    name: `r${i}`,
    values: { "trainer.lr": i === 0 ? 0.001 : 1e-5, flag: true },
  }));
  const l = launchList(runs);
  assertEquals(l[0], "#0 : trainer.lr=0.001 flag=True");
  assertEquals(l[1], "#1 : trainer.lr=1e-05 flag=True");
  assertEquals(l.at(-1), "... and 2 more");
});
