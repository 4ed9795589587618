/**
 * The status table as a user reads it: it fits the terminal (columns dropped by priority, run
 * names cut last), states coloured only when colour is on, relative times, the attempt before,
 * the ETA of a running attempt.
 */
import { assert_, assertEquals, assertMatch, assertNotMatch } from "../_assert.ts";
import { stripVTControlCharacters } from "node:util";
import { fitTable, shortDuration } from "../../lib/cli/output.ts";
import { etaSeconds, eventLabel, renderStatus, type StatusRow } from "../../lib/cli/status_cmd.ts";
import { makeStyle, visibleWidth } from "../../lib/cli/style.ts";
import { runDirsPattern } from "../../lib/cli/monitor_cmd.ts";
import type { SweepPlan } from "../../lib/plan/types.ts";

const NOW = new Date("2026-12-03T12:00:00Z");

function row(over: Partial<StatusRow>): StatusRow {
  return {
    run: "demo_lr0.001",
    index: 0,
    state: "completed",
    attempts: 1,
    job: "66_0",
    exit_code: 0,
    reason: "exited 0",
    progress: { iteration: 40, total: 40 },
    since: "2026-12-03T11:48:00Z",
    ended_at: "2026-12-03T11:48:00Z",
    eta_seconds: null,
    previous: null,
    last_event: "megatron_training_done",
    actions: { ok: 13, failed: 0, skipped: 3, open: 0, total: 16 },
    parent: null,
    log: "/x/66_0.log",
    final: true,
    ...over,
  };
}

const PLAN = { sweep: { dir: "/out/demo" } } as unknown as SweepPlan;
const ROWS: StatusRow[] = [
  row({}),
  row({
    run: "demo_lr0.0003",
    state: "running",
    attempts: 2,
    job: "71_1",
    exit_code: null,
    reason: "running",
    progress: { iteration: 30, total: 40 },
    since: "2026-12-03T11:58:00Z",
    ended_at: null,
    eta_seconds: 60,
    previous: { attempt: 1, state: "failed", iteration: 25 },
    final: false,
  }),
  row({
    run: "demo_lr0.0001_cooldown_20_with_a_long_name",
    state: "cancelled",
    exit_code: null,
    reason: "cancelled by the user",
    parent: "demo_lr0.0001",
  }),
];

Deno.test("status table: at 80 columns every line fits; with no limit every column shows", () => {
  const view = { width: 80, style: makeStyle(false), now: NOW };
  const text = renderStatus(ROWS, PLAN, view);
  const table = text.split("\n\n")[0].split("\n");
  for (const line of table) assert_(visibleWidth(line) <= 80, `too wide: ${line}`);
  // Run names are never cut while other columns can go; state and progress always stay.
  for (const r of ROWS) assertMatch(text, new RegExp(r.run));
  assertMatch(table[0], /^run\s+state\s+progress/);
  assertMatch(text, /\n--wide also shows: [a-z ,]+\n$/);
  const wide = renderStatus(ROWS, PLAN, { ...view, width: null });
  assertMatch(wide.split("\n")[0], /run\s+state\s+attempt\s+progress\s+eta\s+since\s+job\s+exit/);
  assertNotMatch(wide, /--wide/);
});

Deno.test("status table: the attempt before, ETA, relative time, no exit code when cancelled", () => {
  const text = renderStatus(ROWS, PLAN, { width: null, style: makeStyle(false), now: NOW });
  const line = (run: string) => text.split("\n").find((l) => l.startsWith(`${run} `)) ?? "";
  assertMatch(line("demo_lr0.0003"), /running\s+2 \(1: crash @25\)\s+30\/40\s+1m\s+2m ago/);
  assertMatch(
    line("demo_lr0.001"),
    /completed\s+1\s+40\/40\s+-\s+12m ago\s+66_0\s+0\s+training done/,
  );
  // A cancelled run shows no exit code (the scheduler's 0 or 15 says nothing).
  assertMatch(
    line("demo_lr0.0001_cooldown_20_with_a_long_name"),
    /cancelled\s+1\s+40\/40\s+-\s+12m ago\s+66_0\s+-\s/,
  );
  assertMatch(text, /3 runs: 1 completed, 1 running, 1 cancelled/);
});

Deno.test("status table: states coloured by tone on a terminal, plain otherwise", () => {
  const plain = renderStatus(ROWS, PLAN, { width: null, style: makeStyle(false), now: NOW });
  const ESC = "\x1b[";
  assert_(!plain.includes(ESC));
  const coloured = renderStatus(ROWS, PLAN, { width: null, style: makeStyle(true), now: NOW });
  assert_(coloured.includes(`${ESC}32mcompleted${ESC}39m`)); // green
  assert_(coloured.includes(`${ESC}36mrunning${ESC}39m`)); // cyan
  assert_(coloured.includes(`${ESC}2mcancelled${ESC}22m`)); // dim
  // Colour does not shift the columns: without escapes the text is the plain table.
  assertEquals(stripVTControlCharacters(coloured), plain);
});

Deno.test("fitTable: drops by priority, adds back what fits, cuts last-resort columns last", () => {
  const cols = [
    { header: "name", priority: 0, shrink: { min: 6, lastResort: true } },
    { header: "a", priority: 1 },
    { header: "wide", priority: 2 },
    { header: "b", priority: 3 },
  ];
  const rows = [["abcdefghij", "1", "x".repeat(30), "2"]];
  const fit = fitTable(cols, rows, 20);
  // "wide" goes (30 columns); "b" came back once it had room.
  assertEquals(fit.dropped, ["wide"]);
  assertEquals(fit.text.split("\n")[1], "abcdefghij  1  2");
  // Every other column goes before a run name is cut.
  assertEquals(fitTable(cols, rows, 12).text.split("\n")[1], "abcdefghij");
  assertEquals(fitTable(cols, rows, 8).text.split("\n")[1], "abcdefg…");
  assertEquals(fitTable(cols, [["n", "-", "", "-"]], null).text, "name\nn\n");
});

Deno.test("status helpers: short durations, ETA from the attempt's own rate, event names", () => {
  assertEquals([45, 720, 5400, 86400 * 2].map(shortDuration), ["45s", "12m", "1.5h", "2d"]);
  const start = Date.parse("2026-12-03T11:50:00Z");
  // Resumed at 20, at 30 of 40 after 10 minutes: 10 more iterations take 10 minutes.
  assertEquals(etaSeconds({ iteration: 30, total: 40 }, start, 20, NOW.getTime()), 600);
  assertEquals(etaSeconds({ iteration: 30, total: null }, start, 0, NOW.getTime()), null);
  assertEquals(etaSeconds({ iteration: 20, total: 40 }, start, 20, NOW.getTime()), null);
  assertEquals(eventLabel("megatron_checkpoint_saved 40"), "checkpoint saved 40");
  assertEquals(eventLabel("my_event"), "my event");
});

Deno.test("status table: a pipeline's stage column after the run; none without stages", () => {
  const staged = ROWS.map((r, i) => ({ ...r, stage: ["pretrain", "finetune", "evaluate"][i] }));
  const wide = renderStatus(staged, PLAN, { width: null, style: makeStyle(false), now: NOW });
  assertMatch(wide.split("\n")[0], /^run\s+stage\s+state\s+attempt/);
  assertMatch(wide, /\ndemo_lr0\.0003\s+finetune\s+running/);
  assertNotMatch(
    renderStatus(ROWS, PLAN, { width: null, style: makeStyle(false), now: NOW }),
    /stage/,
  );
  // Narrow: the stage goes after the columns that say more (eta, actions, ...), before attempt.
  const narrow = renderStatus(staged, PLAN, { width: 40, style: makeStyle(false), now: NOW });
  const dropped = narrow.match(/--wide also shows: (.*)\n/)![1].split(", ");
  assert_(dropped.indexOf("actions") < dropped.indexOf("stage"), narrow);
  assert_(dropped.indexOf("stage") < dropped.indexOf("attempt"), narrow);
});

Deno.test("runDirsPattern: runs/<run>, a flat base, a pipeline's artifacts per stage", () => {
  const plan = (runs: { name: string; runDir: string; stage?: string }[]) =>
    ({ sweep: { dir: "/out/s" }, runs }) as unknown as SweepPlan;
  assertEquals(
    runDirsPattern(
      plan([{ name: "a", runDir: "/out/s/runs/a" }, { name: "b", runDir: "/out/s/runs/b" }]),
    ),
    "/out/s/runs/<run>/",
  );
  assertEquals(
    runDirsPattern(plan([
      { name: "pt", runDir: "/out/artifacts/pretrain/pt-1a2b", stage: "pretrain" },
      { name: "ft", runDir: "/out/artifacts/finetune/ft-3c4d", stage: "finetune" },
    ])),
    "/out/artifacts/<stage>/<run>-<identity>/",
  );
  assertEquals(
    runDirsPattern(
      plan([{ name: "pt", runDir: "/out/artifacts/pretrain/pt-1a2b", stage: "pretrain" }]),
    ),
    "/out/artifacts/pretrain/<run>-<identity>/",
  );
});
