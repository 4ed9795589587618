/**
 * Pipelines at plan time (lib/plan/stages.ts and the planner): stages and their tiers, points
 * joined with their inputs' runs, upstream values and directories by interpolation, artifact
 * identities shared across pipelines, generated files, and the errors a user sees.
 */
import { assert_, assertEquals, assertMatch, assertRejects } from "../_assert.ts";
import { makeTree, removeTree, ROOT } from "../_helpers.ts";
import { ConfigError } from "../../lib/errors.ts";
import { computePlan, type PlanRequest } from "../../lib/plan/mod.ts";
import { joinPoints, parseStages, type UpstreamRun } from "../../lib/plan/stages.ts";
import { DenoFileSystem } from "../../lib/runtime/fs.ts";
import type { Host } from "../../lib/runtime/mod.ts";
import { parseJournal, SweepStore } from "../../lib/store/store.ts";
import { submitSweep } from "../../lib/submit/mod.ts";
import { FakeScheduler } from "../_fake_scheduler.ts";

const PIPELINE = `${ROOT}/examples/pipeline`;

function host(): Host {
  return {
    env: { AUTOEXP_OUTPUT_DIR: "/out" },
    hostname: () => "login01",
    cwd: () => "/home/me",
    now: () => new Date("2026-01-01T00:00:00Z"),
    color: false,
    pid: 4242,
    selfCommand: () => ["/usr/local/bin/autoexp"],
  };
}
const plan = (req: PlanRequest) => computePlan(req, { fs: new DenoFileSystem(), host: host() });
const argAfter = (argv: readonly string[], flag: string) => argv[argv.indexOf(flag) + 1];

Deno.test("computePlan: the example pipeline is 2 pretrain -> 2x2 finetune -> 4 evaluate runs", async () => {
  const { plan: p } = await plan({ configDir: PIPELINE });
  assertEquals(p.stages?.map((s) => [s.name, s.tier, s.runs, s.needs.join()]), [
    ["pretrain", 0, 2, ""],
    ["finetune", 1, 4, "pretrain"],
    ["evaluate", 2, 4, "finetune"],
  ]);
  const by = new Map(p.runs.map((r) => [r.name, r]));
  assertEquals(p.runs.map((r) => r.index), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assertEquals(by.get("pt_lr0.0003_ft-math")?.needs, ["pt_lr0.0003"]);
  assertEquals(by.get("pt_lr0.0003_ft-math_eval")?.needs, ["pt_lr0.0003_ft-math"]);
  // Upstream directories and values by interpolation.
  const pt = by.get("pt_lr0.0003")!, ft = by.get("pt_lr0.0003_ft-math")!;
  assertEquals(argAfter(ft.argv, "--load"), `${pt.runDir}/checkpoints`);
  assertEquals(argAfter(ft.argv, "--lr"), "0.00015", "half its pretrain run's lr");
  assertEquals(argAfter(ft.argv, "--save"), `${ft.runDir}/checkpoints`);
  // Each run's directory is its artifact identity.
  assertMatch(pt.runDir, /^\/out\/artifacts\/pretrain\/pt_lr0\.0003-[0-9a-f]{10}$/);
  // The evaluation's generated file, rendered from its own config.
  const ev = by.get("pt_lr0.0003_ft-math_eval")!;
  assertEquals(ev.files, [{
    path: "eval_config.yaml",
    text: "model: pt_lr0.0003_ft-math\npretrained_from: pt_lr0.0003\ndataset: math\n",
  }]);
});

Deno.test("computePlan: a run's identity follows its parameters and inputs, not the project", async () => {
  const a = (await plan({ configDir: PIPELINE })).plan.runs;
  const other = (await plan({ configDir: PIPELINE, overrides: ["project.name=other"] })).plan;
  assertEquals(other.sweep.dir, "/out/other");
  assertEquals(other.runs.map((r) => r.runDir), a.map((r) => r.runDir), "shared: trained once");
  // Another pretrain value changes the pretrain run and every run downstream of it.
  const iters = (await plan({ configDir: PIPELINE, overrides: ["backend.args.train_iters=50"] }))
    .plan.runs;
  for (let i = 0; i < a.length; i++) assert_(iters[i].runDir !== a[i].runDir, a[i].name);
});

Deno.test("parseStages: tiers in dependency order; needs, keys and cycles are checked", () => {
  const st = parseStages(
    { ev: { needs: "ft" }, ft: { needs: ["pt"] }, pt: {} },
    { ev: { needs: "ft" }, ft: { needs: ["pt"] }, pt: {} },
  )!;
  assertEquals(st.map((s) => [s.name, s.tier]), [["pt", 0], ["ft", 1], ["ev", 2]]);
  const bad = (raw: Record<string, unknown>) => {
    try {
      parseStages(raw as never, raw as never);
    } catch (e) {
      assert_(e instanceof ConfigError);
      return e.problems.map((p) => `${p.path}: ${p.message}${p.hint ? ` (${p.hint})` : ""}`);
    }
    throw new Error("no error");
  };
  assertEquals(bad({ pt: {}, ft: { needs: "pretrian", overides: {} } }), [
    `stages.ft.overides: unknown key "overides" in a stage (did you mean "overrides"?)`,
    `stages.ft.needs: unknown stage "pretrian" (stages: pt, ft)`,
  ]);
  assertMatch(bad({ a: { needs: "b" }, b: { needs: "a" } })[0], /a, b need each other in a cycle/);
  assertMatch(bad({ a: { join: "zip" } })[0], /stages\.a\.join: only a stage with needs joins/);
});

Deno.test("joinPoints: product, zip and a filter over own and upstream values", () => {
  const up = (name: string, lr: number): UpstreamRun => ({
    name,
    stage: "pt",
    index: 0,
    id: name,
    runDir: `/a/${name}`,
    values: { "backend.args.lr": lr },
    upstream: {},
  });
  const inputs = [[up("a", 0.1), up("b", 0.01)]];
  const own = [{ index: 0, values: { ds: "x" } }, { index: 1, values: { ds: "y" } }];
  const [stage] = parseStages({ pt: {}, ft: { needs: "pt" } }, { pt: {}, ft: { needs: "pt" } })!
    .slice(1);
  const show = (ps: ReturnType<typeof joinPoints>) =>
    ps.map((p) => `${p.inputs.map((r) => r.name).join()}:${p.values.ds}`);
  assertEquals(show(joinPoints(stage, own, inputs)), ["a:x", "a:y", "b:x", "b:y"]);
  assertEquals(show(joinPoints({ ...stage, join: "zip" }, own, inputs)), ["a:x", "b:y"]);
  const [filtered] = parseStages(
    { pt: {}, ft: { needs: "pt", filter: "ds == 'x' or pt.lr < 0.05" } },
    { pt: {}, ft: { needs: "pt", filter: "ds == 'x' or pt.lr < 0.05" } },
  )!.slice(1);
  assertEquals(show(joinPoints(filtered, own, inputs)), ["a:x", "b:x", "b:y"]);
  let err = "";
  try {
    joinPoints({ ...stage, join: "zip" }, own.slice(0, 1), inputs);
  } catch (e) {
    err = (e as Error).message;
  }
  assertMatch(err, /2 input runs \(pt\) and 1 point/);
});

Deno.test("computePlan: with stages the root sweep cannot sweep; a stage's problems name it", async () => {
  const dir = await makeTree({
    "autoexp.yaml": `
defaults: [{project: default}, {slurm: base}, {backend: command}, {container: none}, _self_]
project: {name: p, base_output_dir: /out}
backend: {command: [train]}
sweep: {axes: {seed: [1, 2]}}
stages:
  a: {}
`,
  });
  try {
    await assertRejects(() => plan({ configDir: dir }), (e) => {
      assert_(e instanceof ConfigError);
      assertMatch(e.message, /sweep: with stages, each stage has its own sweep/);
    });
  } finally {
    await removeTree(dir);
  }
});

Deno.test("submitSweep: a pipeline's waiting runs are journaled before any input is submitted", async () => {
  const out = await Deno.makeTempDir();
  try {
    const h = { ...host(), env: { AUTOEXP_OUTPUT_DIR: out } };
    const planned = await computePlan({ configDir: PIPELINE }, {
      fs: new DenoFileSystem(),
      host: h,
    });
    const fs = new DenoFileSystem();
    const store = await SweepStore.open(fs, h, planned.plan.sweep.dir);
    await submitSweep(planned.plan, store, new FakeScheduler(), { fs });
    const events = parseJournal(
      await Deno.readTextFile(`${planned.plan.sweep.dir}/.autoexp/journal.jsonl`),
    ) as { type: string; seq: number }[];
    const awaiting = events.filter((e) => e.type === "awaiting");
    const intents = events.filter((e) => e.type === "submit_intent");
    assertEquals(awaiting.length, 8, "4 finetune and 4 evaluate runs wait");
    assert_(intents.length > 0);
    // A crash between them must not leave the dependents unknown to the journal.
    assert_(
      Math.max(...awaiting.map((e) => e.seq)) < Math.min(...intents.map((e) => e.seq)),
      events.map((e) => e.type).join(" "),
    );
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
