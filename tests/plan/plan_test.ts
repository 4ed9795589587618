/**
 * Tests of the plan use case (`computePlan`, `writePlan`) and the pure helpers around it:
 * the seeds' scaling study, point values applied to the config, the run context, how jobs start
 * autoexp, required values, fingerprints, the written tree and the run-entry index.
 */
import { assert_, assertEquals, assertMatch, assertRejects } from "../_assert.ts";
import { makeTree, removeTree, ROOT } from "../_helpers.ts";
import type { ConfigMap } from "../../lib/config/tree.ts";
import { ConfigError } from "../../lib/errors.ts";
import {
  applyPointValues,
  computePlan,
  type PlanRequest,
  replaceWord,
  runContext,
  selfCommand,
} from "../../lib/plan/mod.ts";
import { writePlan } from "../../lib/render/tree.ts";
import {
  entryOfRunJson,
  parseRunIndexHeader,
  parseSweepJson,
  runSpan,
} from "../../lib/plan/sweep_file.ts";
import { DenoFileSystem } from "../../lib/runtime/fs.ts";
import type { Host } from "../../lib/runtime/mod.ts";

const PLAN_DATA = `${ROOT}/tests/testdata/plan`;
const SCALING = `${ROOT}/examples/scaling`;

function fakeHost(env: Record<string, string> = {}, self = ["/usr/local/bin/autoexp"]): Host {
  return {
    env,
    hostname: () => "login01",
    cwd: () => "/home/me",
    now: () => new Date("2026-01-01T00:00:00Z"),
    color: false,
    pid: 4242,
    selfCommand: () => self,
  };
}

function plan(req: PlanRequest, env: Record<string, string> = {}) {
  return computePlan(req, { fs: new DenoFileSystem(), host: fakeHost(env) });
}

const SCALING_NAMES = ["50M", "100M", "200M"].flatMap((m) =>
  ["0.1", "0.01", "0.001"].flatMap((lr) =>
    ["128", "256", "512"].map((gbs) => `${m}_lr${lr}_gbsz${gbs}`)
  )
);

Deno.test("computePlan: the seeds' scaling study is 27 runs in one array 0-26%9", async () => {
  const { plan: p, derived, warnings } = await plan({ configDir: SCALING }, {
    AUTOEXP_OUTPUT_DIR: "/scratch/me",
  });
  assertEquals(p.runs.length, 27);
  assertEquals(p.runs.map((r) => r.name), SCALING_NAMES);
  assertEquals(p.runs.map((r) => r.index), [...Array(27).keys()]);
  assertEquals(p.runs[0].name, "50M_lr0.1_gbsz128");
  assertEquals(p.runs[26].name, "200M_lr0.001_gbsz512");
  assertEquals(p.sweep.nameTemplate, "{model_size}_lr{learning_rate}_gbsz{global_batch_size}");
  assertEquals(p.sweep.dir, "/scratch/me/scaling_study");
  assertEquals(p.sweep.throttle, 9);
  assertEquals(p.groups.length, 1);
  assertEquals(p.groups[0].kind, "array");
  assertEquals(p.groups[0].chunks.map((c) => [c.offset, c.array, c.script]), [
    [0, "0-26%9", "scripts/array0.sh"],
  ]);
  assert_(p.runs.every((r) => r.group === "array0"));
  assertEquals(warnings, []);
  // Each point's values reach the Megatron flags.
  const run = p.runs[13]; // 100M, lr 0.01, gbs 256
  assertEquals(run.values, { model_size: "100M", learning_rate: 0.01, global_batch_size: 256 });
  const flag = (name: string) => run.argv[run.argv.indexOf(name) + 1];
  assertEquals(flag("--num-layers"), "12");
  assertEquals(flag("--hidden-size"), "768");
  assertEquals(flag("--lr"), "0.01");
  assertEquals(flag("--min-lr"), "0.001");
  assertEquals(flag("--global-batch-size"), "256");
  assertEquals(flag("--save-interval"), "1000", "base_values reach every point");
  assertEquals(flag("--save"), "/scratch/me/scaling_study/runs/100M_lr0.01_gbsz256/checkpoints");
  // train_iters from the token budget: ceil(1e9 / (1024 * 256)).
  assertEquals(derived["100M_lr0.01_gbsz256"].train_iters, 3815);
  assertEquals(flag("--train-iters"), "3815");
  // Every run is different, so every fingerprint is.
  assertEquals(new Set(p.runs.map((r) => r.fingerprint)).size, 27);
});

Deno.test("computePlan: the same inputs give the same plan; a changed value changes one fingerprint", async () => {
  const a = await plan({ configDir: `${PLAN_DATA}/array` });
  const b = await plan({ configDir: `${PLAN_DATA}/array` });
  assertEquals(a.plan, b.plan);
  const c = await plan({
    configDir: `${PLAN_DATA}/array`,
    overrides: ["backend.command=[python3,eval2.py]"],
  });
  assertEquals(c.plan.runs.map((r) => r.name), a.plan.runs.map((r) => r.name));
  for (let i = 0; i < 10; i++) {
    assert_(c.plan.runs[i].fingerprint !== a.plan.runs[i].fingerprint, `run ${i}`);
  }
  assertEquals(a.plan.sweep.id, c.plan.sweep.id, "the sweep id depends on the directory only");
});

Deno.test("computePlan: slurm.max_array_size splits arrays; the request's value wins", async () => {
  const small = await plan({ configDir: `${PLAN_DATA}/array` });
  assertEquals(small.plan.groups[0].chunks.map((c) => c.offset), [0, 4, 8]);
  const exact = await plan({ configDir: `${PLAN_DATA}/array`, maxArraySize: 5 });
  assertEquals(exact.plan.groups[0].chunks.map((c) => [c.offset, c.array]), [
    [0, "0-4%3"],
    [5, "0-4%3"],
  ]);
});

Deno.test("computePlan: a relative base_output_dir is under the working directory", async () => {
  const { plan: p } = await plan({
    configDir: `${PLAN_DATA}/single`,
    overrides: ["project.base_output_dir=./out"],
  });
  assertEquals(p.sweep.dir, "/home/me/out/single_job");
  assertEquals(p.runs[0].runDir, "/home/me/out/single_job/runs/single_job");
});

Deno.test("computePlan: a problem shared by every run is reported once", async () => {
  await assertRejects(
    () => plan({ configDir: `${PLAN_DATA}/array`, overrides: ["backend.arg_style=-k"] }),
    (e) => {
      assert_(e instanceof ConfigError);
      assertEquals(e.problems.length, 1, e.message);
      assertEquals(e.problems[0].path, "backend.arg_style");
      assertMatch(e.problems[0].message, /^"-k" is not allowed/);
    },
  );
  await assertRejects(
    () => plan({ configDir: `${PLAN_DATA}/single`, overrides: ["+slurm.sbatch.output=x.log"] }),
    (e) => {
      assert_(e instanceof ConfigError);
      assertMatch(e.message, /slurm\.sbatch\.output: unknown key "output"/);
    },
  );
});

Deno.test("computePlan: problems of some runs name those runs, all in one report", async () => {
  await assertRejects(
    () =>
      plan({
        configDir: `${ROOT}/examples/quickstart`,
        overrides: [
          "slurm.sbatch.time=10,bogus",
          "+backend.args.seed=1,2,3",
          "+backend.args.x=1,{}",
        ],
        multirun: true,
      }, { AUTOEXP_OUTPUT_DIR: "/scratch/me" }),
    (e) => {
      assert_(e instanceof ConfigError);
      assertEquals(e.problems.map((p) => p.path), ["slurm.sbatch.time"]);
      assertMatch(
        e.problems[0].message,
        /^runs 6 "quickstart_time-bogus_seed1_\d+", 7 "[^"]+" and 4 more: /,
      );
    },
  );
});

Deno.test("computePlan: a `???` left by an environment default is a missing value", async () => {
  await assertRejects(
    () =>
      plan({ configDir: `${ROOT}/examples/quickstart`, overrides: ["slurm=lumi"] }, {
        AUTOEXP_OUTPUT_DIR: "/scratch/me",
      }),
    (e) => {
      assert_(e instanceof ConfigError);
      assertEquals(e.problems.map((p) => p.path), ["slurm.sbatch.account"]);
      assertMatch(
        e.message,
        /missing required value: set it with -o slurm\.sbatch\.account=\.\.\. or export SLURM_ACCOUNT or LUMI_PROJECT/,
      );
    },
  );
  const ok = await plan({ configDir: `${ROOT}/examples/quickstart`, overrides: ["slurm=lumi"] }, {
    AUTOEXP_OUTPUT_DIR: "/scratch/me",
    LUMI_PROJECT: "project_4650001",
  });
  assertEquals(ok.plan.groups[0].script.resources.account, "project_4650001");
});

Deno.test("computePlan: -m over a group option composes each point with its option", async () => {
  const { plan: p } = await plan(
    {
      configDir: `${ROOT}/examples/quickstart`,
      overrides: ["slurm=base,leonardo"],
      multirun: true,
    },
    { AUTOEXP_OUTPUT_DIR: "/scratch/me", SLURM_ACCOUNT: "acc1" },
  );
  assertEquals(p.runs.map((r) => [r.name, r.values]), [
    ["quickstart_slurm-base", { slurm: "base" }],
    ["quickstart_slurm-leonardo", { slurm: "leonardo" }],
  ]);
  assertEquals(p.runs.map((r) => r.gpus), [0, 4]);
  assertEquals(p.runs[1].env, { NCCL_IB_SL: "1" });
  assertEquals(p.groups[1].script.resources.partition, "boost_usr_prod");
  // The root config still wins over the group option (its time limit).
  assertEquals(p.groups[1].script.resources.time, "00:30:00");
});

Deno.test("applyPointValues: scalars and lists replace, mappings merge, the input is untouched", () => {
  const config: ConfigMap = {
    backend: { args: { lr: 1, layers: [1, 2] }, name: "command" },
    slurm: { sbatch: { time: "01:00:00", nodes: 1 } },
  };
  const before = structuredClone(config);
  const out = applyPointValues(config, {
    "backend.args.lr": 0.5,
    "backend.args.layers": [3],
    slurm: { sbatch: { nodes: 2 } },
    "new.key": "x",
  });
  assertEquals(out, {
    backend: { args: { lr: 0.5, layers: [3] }, name: "command" },
    slurm: { sbatch: { time: "01:00:00", nodes: 2 } },
    new: { key: "x" },
  });
  assertEquals(config, before);
});

Deno.test("runContext: the reserved autoexp key of a point", () => {
  assertEquals(runContext("/s/sweep", "run_a", 3), {
    run_name: "run_a",
    run_dir: "/s/sweep/runs/run_a",
    sweep_dir: "/s/sweep",
    index: 3,
  });
});

Deno.test("selfCommand: slurm.autoexp_command, then $AUTOEXP_COMMAND, then this program", () => {
  const host = fakeHost({ AUTOEXP_COMMAND: "/env/autoexp --flag" }, ["/self/autoexp"]);
  assertEquals(selfCommand({ slurm: { autoexp_command: ["/a b/autoexp"] } }, host), [
    "/a b/autoexp",
  ]);
  assertEquals(selfCommand({ slurm: { autoexp_command: " deno run -A x.ts " } }, host), [
    "deno",
    "run",
    "-A",
    "x.ts",
  ]);
  assertEquals(selfCommand({ slurm: { autoexp_command: null } }, host), [
    "/env/autoexp",
    "--flag",
  ]);
  assertEquals(selfCommand({}, fakeHost({}, ["/self/autoexp"])), ["/self/autoexp"]);
});

Deno.test("writePlan: the sweep tree, sweep.json and its run index (each run written once)", async () => {
  const out = await Deno.makeTempDir({ prefix: "autoexp-plan-" });
  try {
    const { plan: p } = await writePlan(
      { configDir: `${PLAN_DATA}/array`, overrides: [`project.base_output_dir=${out}`] },
      { fs: new DenoFileSystem(), host: fakeHost() },
    );
    const dir = `${out}/seeds`;
    assertEquals(p.sweep.dir, dir);
    const names = (d: string) => [...Deno.readDirSync(d)].map((e) => e.name).sort();
    assertEquals(names(dir), [
      "logs",
      "monitor.json",
      "provenance",
      "runs",
      "scripts",
      "sweep.json",
      "sweep.runs.idx",
    ]);
    assertEquals(names(`${dir}/scripts`), [
      "array0_part0.sh",
      "array0_part1.sh",
      "array0_part2.sh",
    ]);
    assertEquals(names(`${dir}/logs`), ["array0"], "SLURM needs the array's log folder");
    assertEquals(names(`${dir}/provenance`), [
      "autoexp.json",
      "config.resolved.yaml",
      "config.yaml",
    ]);
    const prov = JSON.parse(await Deno.readTextFile(`${dir}/provenance/autoexp.json`));
    assertEquals(prov.config_dir, `${PLAN_DATA}/array`);
    assertEquals(prov.overrides, [`project.base_output_dir=${out}`]);
    assertEquals(prov.planned_at, "2026-01-01T00:00:00.000Z");

    const onDisk = parseSweepJson(await Deno.readTextFile(`${dir}/sweep.json`), "sweep.json");
    assertEquals(onDisk.sweep, p.sweep);
    assertEquals(onDisk.groups, p.groups);
    assertEquals(
      onDisk.runs.map((r) => [r.index, r.name, r.fingerprint, r.argv]),
      p.runs.map((r) => [r.index, r.name, r.fingerprint, r.argv]),
    );

    // Entry N is its run's line of sweep.json, found through the run index.
    const idx = await Deno.readFile(`${dir}/sweep.runs.idx`);
    const json = await Deno.readFile(`${dir}/sweep.json`);
    const head = parseRunIndexHeader(idx);
    assert_(head && !("need" in head));
    assertEquals(head.header.count, 10);
    assertEquals(head.header.arrays, ["array0"]);
    for (const run of p.runs) {
      const at = head.recordsAt + run.index * 16;
      const span = runSpan(idx.subarray(at, at + 16))!;
      const entry = entryOfRunJson(
        new TextDecoder().decode(json.subarray(span.start, span.end)),
        head.header,
      );
      assertEquals(entry.index, run.index);
      assertEquals(entry.name, run.name);
      assertEquals(entry.argv, run.argv);
      assertEquals(entry.kind, "array");
      assertEquals(entry.group, "array0");
      assertEquals(entry.sweep_dir, dir);
      assertEquals(entry.sweep_id, p.sweep.id);
      assertEquals(entry.fingerprint, run.fingerprint);
    }
    assertEquals(idx.length, head.recordsAt + 10 * 16);
  } finally {
    await removeTree(out);
  }
});

Deno.test("computePlan: a derived run's overrides are composed at plan time, placeholders left open", async () => {
  const dir = `${PLAN_DATA}/derived`;
  const ok = await plan({ configDir: dir });
  assertEquals(ok.plan.runs.length, 1);
  await assertRejects(
    () =>
      plan({ configDir: dir, overrides: ["eval_backend=evaluaton", "eval_key=backend.argz.step"] }),
    (e) => {
      assert_(e instanceof ConfigError);
      assertEquals(e.problems.map((p) => p.path), [
        "monitoring.log_events[0].actions[0].action.overrides",
        "monitoring.log_events[0].actions[1].action.overrides",
      ]);
      assertMatch(e.problems[0].message, /no option "evaluaton" in group "backend"/);
      assertMatch(
        e.problems[1].message,
        /backend\.argz\.step=\{it\}: no key "argz" in backend/,
      );
      assertMatch(e.problems[0].file ?? "", /derived\/autoexp\.yaml$/);
    },
  );
});

Deno.test("computePlan: a key the schema declares is set with key=value although no file wrote it", async () => {
  // As Hydra sets a structured config's field: no ++ needed for sweep.name_template.
  const out = await plan({
    configDir: `${PLAN_DATA}/single`,
    overrides: ['sweep.name_template="trial_{index}"', "slurm.sbatch.qos=high"],
  });
  assertEquals(out.plan.runs.map((r) => r.name), ["trial_0"]);
  assertEquals(out.plan.runs[0].script.resources.qos, "high");
  // A free-form mapping's entries are not declared: a typo there is still an error.
  await assertRejects(
    () => plan({ configDir: `${PLAN_DATA}/single`, overrides: ["slurm.sbatch.qoss=high"] }),
    (e) => {
      assert_(e instanceof ConfigError);
      assertMatch(e.message, /-o slurm\.sbatch\.qoss=high: no key "qoss" in slurm\.sbatch/);
    },
  );
});

Deno.test("computePlan: -o compute.mem_gb changes a compute preset; -o slurm.sbatch.mem under one is said to lose", async () => {
  const out = await plan({
    configDir: `${PLAN_DATA}/single`,
    overrides: ["+compute=killarney/l40s_1x", "compute.mem_gb=32", "slurm.sbatch.cpus_per_task=2"],
  });
  const res = out.plan.runs[0].script.resources;
  assertEquals([res.partition, res.mem, res.cpus_per_task], ["gpubase_l40s_b2", "32G", 8]);
  assertEquals(
    out.warnings.filter((w) => /compute\.cpus_per_task/.test(w)).length,
    1,
    out.warnings.join("\n"),
  );
  await assertRejects(
    () =>
      plan({ configDir: `${PLAN_DATA}/single`, overrides: ["+compute=a100_1x", "compute.mem=8"] }),
    (e) => {
      assert_(e instanceof ConfigError);
      assertMatch(e.message, /-o compute\.mem=8: no key "mem" in compute/);
    },
  );
});

Deno.test("computePlan: requeue=on overridden by a restart= choice is said, not dropped", async () => {
  const both = await plan({ overrides: ["requeue=on", "restart=resilient"] });
  assert_(
    both.warnings.some((w) => /requeue=on is overridden by restart=resilient/.test(w)),
    both.warnings.join("\n"),
  );
  const alone = await plan({ overrides: ["requeue=on"] });
  assertEquals(alone.warnings.filter((w) => /requeue=/.test(w)), []);
});

Deno.test("computePlan: ${hydra:...} maps Hydra's run values onto autoexp's (output_dir, job name and num, choices)", async () => {
  const out = await plan({
    configDir: `${PLAN_DATA}/single`,
    multirun: true,
    overrides: [
      "+backend.args.out=${hydra:runtime.output_dir}",
      "+backend.args.job=${hydra:job.name}-${hydra:job.num}-${hydra:runtime.choices.slurm}",
      "+seed=1,2",
      "+backend.args.seed=${seed}",
    ],
  });
  const argv = (i: number) => out.plan.runs[i].argv.join(" ");
  assertMatch(argv(1), new RegExp(`--out ${out.plan.runs[1].runDir}( |$)`));
  assertMatch(argv(1), new RegExp(`--job ${out.plan.runs[1].name}-1-base( |$)`));
  await assertRejects(
    () =>
      plan({ configDir: `${PLAN_DATA}/single`, overrides: ["+backend.args.x=${hydra:job.nam}"] }),
    (e) => {
      assert_(e instanceof ConfigError);
      assertMatch(e.message, /\$\{hydra:job\.nam\} is not known to autoexp; known: .*job\.name/);
    },
  );
});

Deno.test("computePlan: whole floats stay floats in run names, paths, arguments, env and sweep.json (issue 11)", async () => {
  const dir = await makeTree({
    "autoexp.yaml": [
      "defaults:",
      "  - project: default",
      "  - slurm: base",
      "  - backend: command",
      "  - _self_",
      "project:",
      "  name: fl",
      "sweep:",
      "  name_template: w_{scale}",
      "backend:",
      "  command: [python3, train.py]",
      "  args:",
      "    lr: 1.0",
      "    out: /ckpt/s${scale}",
      "    steps: ${eval:'${scale} * 3'}",
      "  env:",
      "    SCALE: ${scale}",
      "    RATIO: 300.0",
      "",
    ].join("\n"),
  });
  try {
    const { plan: p } = await plan(
      { configDir: dir, overrides: ["+scale=1.0,2.0"], multirun: true },
      { AUTOEXP_OUTPUT_DIR: "/scratch/me" },
    );
    assertEquals(p.runs.map((r) => r.name), ["w_1.0", "w_2.0"]);
    assertEquals(p.runs[0].runDir, "/scratch/me/fl/runs/w_1.0");
    assertEquals(
      p.runs[0].argv.slice(2),
      ["--lr", "1.0", "--out", "/ckpt/s1.0", "--steps", "3.0"],
    );
    assertEquals(p.runs[1].env, { SCALE: "2.0", RATIO: "300.0" });
    // sweep.json writes the values as Python does and reads them back as floats.
    const text = JSON.stringify(p.runs[0].values);
    assertEquals(text, '{"scale":1.0}');
    assertEquals(
      String(parseSweepJson(JSON.stringify(p), "sweep.json").runs[0].values.scale),
      "1.0",
    );
  } finally {
    await removeTree(dir);
  }
});

Deno.test("computePlan: a hydra_app run's task override keeps a whole float a float (trainer.lr=1.0)", async () => {
  const { plan: p } = await plan(
    {
      configDir: `${ROOT}/examples/hydra_app`,
      overrides: ["trainer.learning_rate=1.0,0.5", "trainer.epochs=3.0"],
      multirun: true,
    },
    { AUTOEXP_OUTPUT_DIR: "/scratch/me" },
  );
  assertEquals(p.runs.map((r) => r.name), ["hydra_app_lr1.0", "hydra_app_lr0.5"]);
  assertEquals(
    p.runs[0].argv.filter((a) => a.startsWith("trainer.")),
    ["trainer.epochs=3.0", "trainer.learning_rate=1.0"],
  );
});

Deno.test("replaceWord: replaces a run name where the pattern /(?<![\\w.-])name(?![\\w.-])/g would", () => {
  const cases: [string, string][] = [
    ["a", '["a","--x=a","a.b","b-a","xa","a_","/p/a/q",":a}"]'],
    ["1B_lr0.1_s2", '"1B_lr0.1_s2" 1B_lr0.1_s23 x1B_lr0.1_s2 1B_lr0.1_s2/x 1B_lr0.1_s21B_lr0.1_s2'],
    ["aa", "aaa aa aaaa (aa)aa"],
    ["n", ""],
    ["n", "n"],
  ];
  for (const [word, text] of cases) {
    const re = new RegExp(`(?<![\\w.-])${RegExp.escape(word)}(?![\\w.-])`, "g");
    assertEquals(replaceWord(text, word, "<run>"), text.replace(re, "<run>"), `${word} in ${text}`);
  }
});
