/**
 * End to end: `autoexp results` after the demo (examples/demo) on the embedded local scheduler.
 * What a user sees: six rows (three runs, three cooldowns) with their final loss and, for the
 * trained runs, the evaluation's score; `--failed` names the crash of demo_lr0.0003's first
 * attempt by its error line; CSV, Markdown and JSON agree; a second call reads no log again.
 */
import { assert_, assertEquals, assertMatch } from "../_assert.ts";
import { ROOT } from "../_helpers.ts";
import { cli, type Ctx, shown, withCtx } from "./_monitor_helpers.ts";

const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
});

const RUNS = ["demo_lr0.001", "demo_lr0.0003", "demo_lr0.0001"];
const ALL = [...RUNS, ...RUNS.map((r) => `${r}_cooldown_20`)];

async function demoThenResults(ctx: Ctx): Promise<void> {
  const sub = await cli(
    ctx,
    ["submit", "-C", `${ROOT}/examples/demo`, "--scheduler", "local", "--report"],
    240_000,
  );
  assertEquals(sub.code, 0, shown(sub));
  const sweep = `${ctx.out}/demo`;
  // --report kept the page current while following: at the end it shows every run, cooldowns too.
  const kept = await Deno.readTextFile(`${sweep}/report.html`);
  for (const run of ALL) assert_(kept.includes(run), `${run} in the page written while following`);

  // The table: six runs, final loss and the evaluation's score.
  const table = await cli(ctx, ["results", "--state", sweep]);
  assertEquals(table.code, 0, shown(table));
  const lines = table.stdout.split("\n");
  const header = lines[0].split(/\s{2,}/);
  for (
    const col of ["run", "backend.args.lr", "state", "attempts", "gpu_hours", "loss", "eval.mmlu"]
  ) {
    assert_(header.includes(col), `column ${col} in\n${table.stdout}`);
  }
  for (const run of ALL) {
    assert_(lines.some((l) => l.startsWith(`${run} `)), `a row for ${run}\n${table.stdout}`);
  }
  assertMatch(table.stdout, /6 runs \(sweep /);

  const json = await cli(ctx, ["results", "--state", sweep, "--json"]);
  const data = JSON.parse(json.stdout);
  assertEquals(data.runs.length, 6);
  const byRun = Object.fromEntries(data.runs.map((r: { run: string }) => [r.run, r]));
  // Every run, cooldowns too, has its final loss and its evaluation's score.
  for (const run of ALL) {
    assert_(typeof byRun[run].metrics.loss === "number", JSON.stringify(byRun[run]));
    assert_(typeof byRun[run].metrics["eval.mmlu"] === "number", JSON.stringify(byRun[run]));
  }
  for (const run of RUNS) {
    assertEquals(byRun[run].state, "completed");
    assertEquals(byRun[run].metrics.iteration, 40);
    assert_(typeof byRun[run].metrics.loss === "number", JSON.stringify(byRun[run]));
    assert_(typeof byRun[run].metrics["eval.mmlu"] === "number", JSON.stringify(byRun[run]));
  }
  assertEquals(byRun["demo_lr0.0003"].attempts, 2);
  assertEquals(byRun["demo_lr0.0003_cooldown_20"].parent, "demo_lr0.0003");
  assertEquals(byRun["demo_lr0.0003_cooldown_20"].metrics.iteration, 30);
  // The learning rate the trainer logged is the swept one.
  assertEquals(byRun["demo_lr0.0001"].metrics.lr, 1e-4);

  // Sorted by loss: lr 3e-4 is the demo trainer's best.
  const csv = await cli(ctx, [
    "results",
    "--state",
    sweep,
    "--csv",
    "--sort",
    "loss",
    "--columns",
    "run,loss,eval.mmlu",
  ]);
  assertEquals(csv.code, 0, shown(csv));
  const rows = csv.stdout.trim().split("\n");
  assertEquals(rows[0], "run,loss,eval.mmlu,partial");
  assertEquals(rows.length, 7);
  assertMatch(rows[1], /^demo_lr0\.0003,/);
  const md = await cli(ctx, ["results", "--state", sweep, "--md"]);
  assertMatch(md.stdout, /^\| run \| backend\.args\.lr \|/);

  // A typo in a column is a usage error with a suggestion.
  const typo = await cli(ctx, ["results", "--state", sweep, "--sort", "los"]);
  assertEquals(typo.code, 2);
  assertMatch(typo.stderr, /no column "los".*did you mean/s);

  // --failed: the crash of attempt 1, by its error line, not the last progress line.
  const failed = await cli(ctx, ["results", "--state", sweep, "--failed"]);
  assertEquals(failed.code, 0, shown(failed));
  assertMatch(
    failed.stdout,
    /demo_lr0\.0003\s+1\s+\S+\s+crash\s+1\s+\S+\s+RuntimeError: injected crash at iteration 25/,
  );
  assertMatch(failed.stdout, /slurm\.env\.FAULT_CRASH_AT=25/);
  const fjson = JSON.parse(
    (await cli(ctx, ["results", "--state", sweep, "--failed", "--json"])).stdout,
  );
  assertEquals(fjson.failures.length, 1);
  assertEquals(fjson.failures[0].lines[0], "Traceback (most recent call last):");
  const fcsv = await cli(ctx, ["results", "--state", sweep, "--failed", "--csv"]);
  assertMatch(fcsv.stdout.split("\n")[0], /^run,attempt,job,class,exit_code,time,error,/);

  // The second call read the logs from where the first stopped: same rows.
  const again = await cli(ctx, ["results", "--state", sweep, "--json"]);
  assertEquals(JSON.parse(again.stdout).runs, data.runs);

  // The report: one self-contained page, checked in a real browser.
  const rep = await cli(ctx, ["report", "--state", sweep]);
  assertEquals(rep.code, 0, shown(rep));
  const html = await Deno.readTextFile(`${sweep}/report.html`);
  assert_(
    !/<script[^>]+src=|<link[^>]+href=|https?:\/\/[^"' ]+\.(js|css)/.test(html),
    "nothing fetched",
  );
  if (!CHROMIUM) {
    console.warn("report: no chromium (apt-get install -y chromium): the browser part is skipped");
    return;
  }
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const errors: string[] = [];
    page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
    page.on("pageerror", (e) => errors.push(String(e)));
    const requests: string[] = [];
    page.on("request", (req) => !req.url().startsWith("file:") && requests.push(req.url()));
    await page.goto(`file://${sweep}/report.html`);
    interface Chart {
      root: { querySelector(s: string): { textContent: string | null } | null };
      data: (number | null)[][];
      series: { label: string }[];
    }
    const charts = await page.evaluate(() =>
      (globalThis as unknown as { autoexpCharts: Chart[] }).autoexpCharts.map((u) => ({
        title: u.root.querySelector(".u-title")?.textContent ?? "",
        drawn: u.data.slice(1).map((d) => d.filter((v) => v !== null).length),
        labels: u.series.slice(1).map((x) => x.label),
      }))
    );
    assertEquals(errors, [], "no console errors");
    assertEquals(requests, [], "no network");
    assertEquals(await page.locator("#results tbody tr").count(), 6, "one row per run");
    const loss = charts.find((c: { title: string }) => c.title === "lm loss");
    assert_(loss, JSON.stringify(charts));
    // Seven curves: six runs, the crashed one with two attempts; every one drew points.
    assertEquals(loss.drawn.length, 7, JSON.stringify(loss));
    assert_(loss.drawn.every((n: number) => n > 1), JSON.stringify(loss));
    assert_(
      loss.labels.some((l: string) => /demo_lr0\.0003 #1 \(crash\)/.test(l)),
      loss.labels.join("; "),
    );
    assert_(loss.labels.some((l: string) => /demo_lr0\.0003 #2/.test(l)), loss.labels.join("; "));
    const scatter = charts.find((c: { title: string }) =>
      c.title === "final loss vs backend.args.lr"
    );
    assertEquals(scatter?.drawn, [6], JSON.stringify(charts));
    assertEquals(await page.locator("#timeline .tl span").count(), 7, "an attempt bar each");
    assertMatch(await page.locator("#failures").innerText(), /injected crash at iteration 25/);
    // Sorting by a column reorders the rows.
    await page.locator("#results th", { hasText: /^loss$/ }).click();
    assertMatch(await page.locator("#results tbody tr").first().innerText(), /^demo_lr0\.0003\s/);
    if (Deno.env.get("UPDATE_SCREENSHOT") === "1") {
      await page.locator("#results th", { hasText: /^run$/ }).click();
      await page.screenshot({ path: `${ROOT}/docs/img/report-demo.png`, fullPage: true });
    }
  } finally {
    await browser.close();
  }
}

Deno.test("results (local): the demo's six runs, their metrics, the crash with --failed, the report in a browser", () =>
  withCtx("local", {}, demoThenResults));
