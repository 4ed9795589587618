/**
 * `autoexp report`'s page: one self-contained HTML file (uPlot's script and style inlined,
 * nothing fetched when viewed) with the sweep's summary, a sortable results table, the loss
 * curves of every run's attempts over iterations (a crash ends one attempt's line, the resumed
 * attempt starts its own from its checkpoint), the final loss against each swept parameter, a
 * timeline of attempts with their failure classes and restarts, actions and derived runs, and
 * the failed attempts. Pure: the data and uPlot's text in, the page out.
 *
 * @module
 */
import type { ConfigValue } from "../config/tree.ts";
import { curvePoints } from "./log_metrics.ts";
import { defaultColumns, formatNumber } from "./render.ts";
import type { FailureRow, ResultsTable, RunInput } from "./rows.ts";

/** What the page shows. */
export interface ReportInput {
  readonly sweep: { readonly name: string; readonly dir: string };
  readonly generatedAt: string;
  readonly runs: readonly RunInput[];
  readonly table: ResultsTable;
  readonly failures: readonly FailureRow[];
  /** Actions per run: counts by status. */
  readonly actions: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

/** uPlot's script and style, inlined. */
export interface ReportAssets {
  readonly uplotJs: string;
  readonly uplotCss: string;
  readonly uplotVersion: string;
}

/** One curve: a run's attempt. */
interface Series {
  readonly run: string;
  readonly attempt: number;
  readonly state: string;
  readonly label: string;
  readonly points: readonly (readonly [number, number])[];
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON safe inside a `<script>` element. */
function scriptJson(data: unknown): string {
  return JSON.stringify(data).replace(/</g, "\\u003c").replace(/\u2028|\u2029/g, " ");
}

function cell(v: ConfigValue | undefined): string {
  if (v === undefined || v === null || v === "") return "";
  if (typeof v === "number") return formatNumber(v);
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}

function lossSeries(runs: readonly RunInput[], params: readonly string[]): Series[] {
  const out: Series[] = [];
  for (const run of runs) {
    const swept = params.filter((k) => k in run.values).map((k) =>
      `${k.split(".").pop()}=${cell(run.values[k])}`
    ).join(" ");
    for (const a of run.attempts) {
      const points = a.log ? curvePoints(a.log.loss) : [];
      if (!points.length) continue;
      const end = a.final && a.state !== "completed" ? ` (${a.failureClass ?? a.state})` : "";
      out.push({
        run: run.name,
        attempt: a.attempt,
        state: a.state,
        label: `${run.name}${run.attempts.length > 1 ? ` #${a.attempt}${end}` : ""}${
          swept ? ` [${swept}]` : ""
        }`,
        points,
      });
    }
  }
  return out;
}

/**
 * The report page.
 *
 * @example renderReport(input, { uplotJs, uplotCss, uplotVersion: "1.6.32" }) // "<!doctype html>..."
 */
export function renderReport(input: ReportInput, assets: ReportAssets): string {
  const t = input.table;
  const columns = defaultColumns(t);
  const states = new Map<string, number>();
  for (const r of t.rows) states.set(r.state, (states.get(r.state) ?? 0) + 1);
  const attempts = t.rows.reduce((s, r) => s + r.attempts, 0);
  const gpuHours = t.rows.reduce((s, r) => s + r.gpu_hours, 0);
  const series = lossSeries(input.runs, t.params);
  // Final loss against each swept parameter with numeric values (one point per run).
  const scatter = t.params.map((p) => ({
    param: p,
    points: t.rows
      .filter((r) => typeof r.params[p] === "number" && typeof r.metrics.loss === "number")
      .map((r) => [r.params[p] as number, r.metrics.loss as number, r.run] as const),
  })).filter((s) => s.points.length);
  const timeline = input.runs.flatMap((run) =>
    run.attempts.map((a) => ({
      run: run.name,
      attempt: a.attempt,
      state: a.state,
      cls: a.failureClass ?? a.state,
      start: a.startedAt,
      end: a.endedAt,
      restart: a.restart,
    }))
  );
  const data = {
    series,
    scatter,
    timeline,
    now: input.generatedAt,
  };
  const head = columns.map((c, i) =>
    `<th data-col="${i}" title="sort by ${esc(c)}">${esc(c === "parent" ? "from" : c)}</th>`
  ).join("");
  const body = t.rows.map((r) => {
    const cells = columns.map((c) => {
      const v = c === "run"
        ? r.run
        : c === "parent"
        ? r.parent
        : c === "state"
        ? r.state
        : c === "attempts"
        ? r.attempts
        : c === "gpu_hours"
        ? Number(r.gpu_hours.toFixed(2))
        : (r.metrics[c] ?? r.params[c]);
      const raw = typeof v === "number" ? ` data-v="${v}"` : "";
      return `<td${raw}>${esc(cell(v))}${c === "run" && r.partial ? " *" : ""}</td>`;
    }).join("");
    return `<tr class="state-${esc(r.state)}">${cells}</tr>`;
  }).join("\n");
  const failures = input.failures.map((f) =>
    `<tr><td>${esc(f.run)}</td><td>${f.attempt}</td><td>${esc(f.job ?? "")}</td><td>${
      esc(f.class)
    }</td><td>${f.exit_code ?? ""}</td><td>${esc(f.time ?? "")}</td><td><code>${
      esc(f.error ?? "")
    }</code><details><summary>log lines</summary><pre>${
      esc(f.lines.join("\n"))
    }</pre></details></td><td>${esc(f.restart ?? "")}</td><td><code>${
      esc(f.overrides.join(" "))
    }</code></td></tr>`
  ).join("\n");
  const actionRows = input.runs.map((run) => {
    const counts = input.actions[run.name] ?? {};
    const derived = input.runs.filter((x) => x.parent === run.name).map((x) => x.name);
    const text = Object.entries(counts).map(([k, n]) => `${n} ${k}`).join(", ");
    if (!text && !derived.length && !run.parent) return "";
    return `<tr><td>${esc(run.name)}</td><td>${esc(text || "-")}</td><td>${
      esc(derived.join(", ") || "-")
    }</td><td>${esc(run.parent ?? "")}</td></tr>`;
  }).filter(Boolean).join("\n");
  const summary = [...states].map(([s, n]) => `${n} ${s}`).join(", ");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>autoexp report: ${esc(input.sweep.name)}</title>
<style>${assets.uplotCss}</style>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top}
th{background:#f4f4f4;cursor:pointer;white-space:nowrap}td[data-v]{text-align:right;font-variant-numeric:tabular-nums}
tr.state-completed td:first-child{border-left:4px solid #2a9d4b}tr.state-running td:first-child{border-left:4px solid #3b7dd8}
.charts{display:flex;flex-wrap:wrap;gap:1em}.muted{color:#777}
.tl{position:relative;height:20px;margin:2px 0;background:#fafafa}.tl span{position:absolute;top:2px;height:16px;border-radius:3px;font-size:11px;color:#fff;overflow:hidden;white-space:nowrap;padding:0 3px}
.tl-row{display:flex;align-items:center;gap:.5em}.tl-name{width:16em;font-size:12px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}.tl-bar{flex:1}
pre{white-space:pre-wrap;margin:.3em 0;font-size:12px}
</style></head><body>
<h1>Sweep ${esc(input.sweep.name)}</h1>
<p id="summary">${t.rows.length} runs: ${esc(summary)}; ${attempts} attempts; ${
    gpuHours.toFixed(2)
  } GPU-hours; ${input.failures.length} failed attempt(s).<br><span class="muted">${
    esc(input.sweep.dir)
  } &middot; generated ${esc(input.generatedAt)} by autoexp (uPlot ${esc(assets.uplotVersion)})${
    t.rows.some((r) => r.partial) ? " &middot; * not ended yet" : ""
  }</span></p>
<h2>Results</h2>
<table id="results"><thead><tr>${head}</tr></thead><tbody>
${body}
</tbody></table>
<h2>Loss over iterations</h2>
<p class="muted">One line per attempt; a crashed attempt's line ends where it crashed, the restart's line starts at the checkpoint it resumed from.</p>
<div id="loss" class="charts"></div>
<h2>Final loss against each swept parameter</h2>
<div id="scatter" class="charts"></div>
<h2>Attempts over time</h2>
<div id="timeline"></div>
<h2>Actions and derived runs</h2>
<table id="actions"><thead><tr><th>run</th><th>actions</th><th>derived runs</th><th>from</th></tr></thead><tbody>
${actionRows}
</tbody></table>
<h2>Failed attempts</h2>
${
    input.failures.length
      ? `<table id="failures"><thead><tr><th>run</th><th>attempt</th><th>job</th><th>class</th><th>exit</th><th>time</th><th>error</th><th>then</th><th>overrides</th></tr></thead><tbody>
${failures}
</tbody></table>`
      : `<p id="failures">none</p>`
  }
<script>${assets.uplotJs}</script>
<script id="data" type="application/json">${scriptJson(data)}</script>
<script>${PAGE_SCRIPT}</script>
</body></html>
`;
}

/** The page's own script: charts, the timeline, table sorting. Plain ES2017, no imports. */
const PAGE_SCRIPT = String.raw`
(function () {
  var D = JSON.parse(document.getElementById("data").textContent);
  var COLORS = ["#1f77b4","#d62728","#2ca02c","#ff7f0e","#9467bd","#8c564b","#e377c2","#17becf","#bcbd22","#7f7f7f"];
  var runColor = {}, n = 0;
  function colorOf(run) { if (!(run in runColor)) runColor[run] = COLORS[n++ % COLORS.length]; return runColor[run]; }
  window.autoexpCharts = [];
  var W = Math.min(900, document.body.clientWidth - 40);
  // Loss curves: every attempt a series over the union of their iterations.
  if (D.series.length) {
    var xs = {}; D.series.forEach(function (s) { s.points.forEach(function (p) { xs[p[0]] = 1; }); });
    var x = Object.keys(xs).map(Number).sort(function (a, b) { return a - b; });
    var idx = {}; x.forEach(function (v, i) { idx[v] = i; });
    var data = [x], series = [{ label: "iteration" }];
    D.series.forEach(function (s) {
      var y = new Array(x.length).fill(null);
      s.points.forEach(function (p) { y[idx[p[0]]] = p[1]; });
      data.push(y);
      var failed = s.state !== "completed" && s.state !== "running";
      series.push({ label: s.label, stroke: colorOf(s.run), width: 2, spanGaps: true, dash: failed ? [6, 4] : undefined, points: { show: x.length < 200 } });
    });
    window.autoexpCharts.push(new uPlot({ title: "lm loss", width: W, height: 380, series: series, scales: { x: { time: false } }, axes: [{ label: "iteration" }, { label: "loss" }] }, data, document.getElementById("loss")));
  } else document.getElementById("loss").textContent = "no loss logged yet";
  // Final loss against each numeric swept parameter.
  D.scatter.forEach(function (s) {
    var pts = s.points.slice().sort(function (a, b) { return a[0] - b[0]; });
    var logx = pts.every(function (p) { return p[0] > 0; }) && pts[pts.length - 1][0] / pts[0][0] >= 10;
    var el = document.createElement("div"); document.getElementById("scatter").appendChild(el);
    window.autoexpCharts.push(new uPlot({ title: "final loss vs " + s.param, width: Math.min(440, W), height: 300,
      scales: { x: { time: false, distr: logx ? 3 : 1 } },
      series: [{ label: s.param }, { label: "loss", stroke: "#1f77b4", paths: function () { return null; }, points: { show: true, size: 9, fill: "#1f77b4" } }],
      axes: [{ label: s.param }, { label: "final loss" }] },
      [pts.map(function (p) { return p[0]; }), pts.map(function (p) { return p[1]; })], el));
  });
  if (!D.scatter.length) document.getElementById("scatter").textContent = "no numeric swept parameter with a final loss";
  // Timeline: one row per run, a bar per attempt, coloured by how it ended.
  var CLS = { completed: "#2a9d4b", success: "#2a9d4b", running: "#3b7dd8", pending: "#aaa", crash: "#d62728", oom: "#9467bd", timeout: "#ff7f0e", stall: "#8c564b", nccl: "#e377c2", cancelled: "#7f7f7f", node_fail: "#17becf", preempted: "#bcbd22" };
  var rows = {}, t0 = Infinity, t1 = -Infinity, now = Date.parse(D.now);
  D.timeline.forEach(function (a) {
    if (!a.start) return;
    a.s = Date.parse(a.start); a.e = a.end ? Date.parse(a.end) : now;
    t0 = Math.min(t0, a.s); t1 = Math.max(t1, a.e);
    (rows[a.run] = rows[a.run] || []).push(a);
  });
  var tl = document.getElementById("timeline"), span = Math.max(1, t1 - t0);
  Object.keys(rows).forEach(function (run) {
    var row = document.createElement("div"); row.className = "tl-row";
    row.innerHTML = '<div class="tl-name"></div><div class="tl tl-bar"></div>';
    row.firstChild.textContent = run; row.firstChild.title = run;
    rows[run].forEach(function (a) {
      var b = document.createElement("span");
      b.style.left = (100 * (a.s - t0) / span) + "%";
      b.style.width = Math.max(0.5, 100 * (a.e - a.s) / span) + "%";
      b.style.background = CLS[a.cls] || CLS[a.state] || "#555";
      b.textContent = "#" + a.attempt + " " + a.cls;
      b.title = run + " attempt " + a.attempt + ": " + a.state + (a.restart ? " - " + a.restart : "");
      row.lastChild.appendChild(b);
    });
    tl.appendChild(row);
  });
  if (!Object.keys(rows).length) tl.textContent = "no attempt has started yet";
  else { var p = document.createElement("p"); p.className = "muted"; p.textContent = new Date(t0).toISOString() + " to " + new Date(t1).toISOString(); tl.appendChild(p); }
  // Sortable table: click a header; numbers by value, text naturally.
  var table = document.getElementById("results");
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
    th.addEventListener("click", function () {
      var asc = th.getAttribute("data-dir") !== "asc";
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) { h.removeAttribute("data-dir"); });
      th.setAttribute("data-dir", asc ? "asc" : "desc");
      var body = table.tBodies[0], trs = Array.prototype.slice.call(body.rows);
      trs.sort(function (a, b) {
        var x = a.cells[i], y = b.cells[i], xv = x.getAttribute("data-v"), yv = y.getAttribute("data-v");
        if (x.textContent === "" || y.textContent === "") return x.textContent === y.textContent ? 0 : x.textContent === "" ? 1 : -1;
        var c = xv !== null && yv !== null ? Number(xv) - Number(yv) : x.textContent.localeCompare(y.textContent, undefined, { numeric: true });
        return asc ? c : -c;
      });
      trs.forEach(function (tr) { body.appendChild(tr); });
    });
  });
})();
`;
