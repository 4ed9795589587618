/** End-to-end tests of `autoexp config` and the top-level CLI, run as a real subprocess. */
import { assert_, assertEquals, assertMatch, assertNotMatch } from "../_assert.ts";
import { assertGolden, makeTree, removeTree, ROOT, runAutoexp } from "../_helpers.ts";
import { VERSION } from "../../lib/version.ts";

const QUICKSTART = `${ROOT}/examples/quickstart`;

function noStackTrace(stderr: string) {
  assertNotMatch(stderr, /\n\s+at .*\.ts:\d+/, "a user error must not print a stack trace");
}

Deno.test("--version prints the version from deno.json, the runtime and the target", async () => {
  const r = await runAutoexp(["--version"]);
  assertEquals(r.code, 0);
  assertEquals(
    r.stdout,
    `autoexp ${VERSION} (deno run ${ROOT}/main.ts; Deno ${Deno.version.deno}, ${Deno.build.target})\n`,
  );
  const denoJson = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`));
  assertEquals(denoJson.version, VERSION);
});

Deno.test("--help and config --help match their golden files", async () => {
  const top = await runAutoexp(["--help"]);
  assertEquals(top.code, 0);
  await assertGolden("help.txt", top.stdout);
  const cfg = await runAutoexp(["config", "--help"]);
  assertEquals(cfg.code, 0);
  await assertGolden("help_config.txt", cfg.stdout);
  const plat = await runAutoexp(["platform", "--help"]);
  await assertGolden("help_platform.txt", plat.stdout);
  const results = await runAutoexp(["results", "--help"]);
  assertEquals(results.code, 0);
  await assertGolden("help_results.txt", results.stdout);
});

Deno.test("an unknown command exits 2 with a suggestion", async () => {
  const r = await runAutoexp(["confg"]);
  assertEquals(r.code, 2);
  assertMatch(r.stderr, /unknown command 'confg'/);
  assertMatch(r.stderr, /Did you mean config\?/);
  noStackTrace(r.stderr);
});

Deno.test("config --resolve of the quickstart computes derived values", async () => {
  const r = await runAutoexp(["config", "-C", QUICKSTART, "--resolve", "--json"], {
    env: { AUTOEXP_OUTPUT_DIR: "/scratch/me" },
  });
  assertEquals(r.code, 0, r.stderr);
  const cfg = JSON.parse(r.stdout);
  assertEquals(cfg.backend.args.train_iters, 62); // ceil(2e6 / (512 * 64))
  assertEquals(cfg.backend.args.save, "/scratch/me/quickstart/runs/quickstart/checkpoints");
  assertEquals(cfg.backend.args.run_name, "quickstart_lr0.0003_gbs64");
  assertEquals(cfg.slurm.sbatch.time, "00:30:00"); // root config overrides its group (_self_ last)
  assertEquals(cfg.experiment.train_tokens, 2000000);
});

Deno.test("config without --resolve keeps interpolations for inspection", async () => {
  const r = await runAutoexp(["config", "-C", QUICKSTART]);
  assertEquals(r.code, 0, r.stderr);
  assertMatch(r.stdout, /train_iters: \$\{eval:/);
});

Deno.test("overrides change values, add keys and switch groups", async () => {
  const r = await runAutoexp([
    "config",
    "-C",
    QUICKSTART,
    "--resolve",
    "--json",
    "-o",
    "backend.args.global_batch_size=128",
    "-o",
    "+backend.args.seed=7",
    "-o",
    "slurm=lumi",
    "-o",
    "~backend.args.run_name",
  ], { env: { SLURM_ACCOUNT: "project_465000001" } });
  assertEquals(r.code, 0, r.stderr);
  const cfg = JSON.parse(r.stdout);
  assertEquals(cfg.backend.args.train_iters, 31);
  assertEquals(cfg.backend.args.seed, 7);
  assertEquals(cfg.slurm.sbatch.partition, "standard-g");
  assertEquals(cfg.slurm.sbatch.account, "project_465000001");
  assertEquals(cfg.slurm.sbatch.time, "00:30:00");
  assertEquals("run_name" in cfg.backend.args, false);
});

Deno.test("a typo in an override key exits 2 and suggests the key", async () => {
  const r = await runAutoexp(["config", "-C", QUICKSTART, "-o", "backend.args.global_bach_size=1"]);
  assertEquals(r.code, 2);
  assertMatch(r.stderr, /backend\.args\.global_bach_size/);
  assertMatch(r.stderr, /did you mean "backend\.args\.global_batch_size"/);
  noStackTrace(r.stderr);
});

Deno.test("a typo in a group option exits 2 and suggests the option", async () => {
  const r = await runAutoexp(["config", "-o", "slurm=lumii"]);
  assertEquals(r.code, 2);
  assertMatch(r.stderr, /no option "lumii" in group "slurm"; did you mean "slurm=lumi"\?/);
  assertMatch(r.stderr, /available: base, bon_echo/);
});

Deno.test("a comma list without -m is refused with a hint", async () => {
  const r = await runAutoexp(["config", "-C", QUICKSTART, "-o", "backend.args.lr=1e-3,1e-4"]);
  assertEquals(r.code, 2);
  assertMatch(r.stderr, /sweeps need -m/);
});

Deno.test("schema errors are all reported at once with file, line and allowed values", async () => {
  const dir = await makeTree({
    "autoexp.yaml": "defaults:\n  - project: default\n  - slurm: mine\n  - _self_\n",
    "slurm/mine.yaml": [
      "defaults: [base, _self_]",
      "sbatch:",
      "  partiton: gpu",
      "  time: soon",
      "  nodes: two",
      "scheduler: slurmm",
      "",
    ].join("\n"),
  });
  try {
    const r = await runAutoexp(["config", "-C", dir]);
    assertEquals(r.code, 2);
    assertMatch(r.stderr, /4 configuration problems/);
    assertMatch(
      r.stderr,
      /slurm\/mine\.yaml:3:\d+: slurm\.sbatch\.partiton: unknown key "partiton"/,
    );
    assertMatch(r.stderr, /did you mean "partition"\?/);
    assertMatch(r.stderr, /slurm\.sbatch\.time: .*SLURM time/);
    assertMatch(r.stderr, /slurm\.sbatch\.nodes: expected a number, got "two"/);
    assertMatch(
      r.stderr,
      /slurm\.scheduler: "slurmm" is not allowed \(allowed: auto, slurm, local\)/,
    );
    noStackTrace(r.stderr);
    const loose = await runAutoexp(["config", "-C", dir, "--no-schema"]);
    assertEquals(loose.code, 0, loose.stderr);
    assertMatch(loose.stdout, /partiton: gpu/);
  } finally {
    await removeTree(dir);
  }
});

Deno.test("a YAML syntax error shows file, line, column and the offending line", async () => {
  const dir = await makeTree({
    "autoexp.yaml": "defaults:\n  - project: default\n  - _self_\nfoo: [1, 2\nbar: 3\n",
  });
  try {
    const r = await runAutoexp(["config", "-C", dir]);
    assertEquals(r.code, 2);
    assertMatch(r.stderr, new RegExp(`${dir}/autoexp\\.yaml:\\d+:\\d+: invalid YAML`));
    assertMatch(r.stderr, /\d+ \| (foo: \[1, 2|bar: 3)/);
    assertMatch(r.stderr, /\^/);
    noStackTrace(r.stderr);
  } finally {
    await removeTree(dir);
  }
});

Deno.test("a missing required value: config --resolve shows ??? as OmegaConf does and lists it; plan refuses", async () => {
  const r = await runAutoexp(["config", "--resolve", "-o", "container=apptainer"]);
  assertEquals(r.code, 0, r.stderr);
  assertMatch(r.stdout, /image: "\?\?\?"|image: \?\?\?/);
  assertMatch(r.stderr, /1 value is unset \(\?\?\?\): container\.image; plan and submit need them/);
  const plan = await runAutoexp(["plan", "-o", "container=apptainer", "--json"]);
  assertEquals(plan.code, 2);
  assertMatch(
    plan.stderr,
    /container\.image: missing required value \(set it with -o container\.image=\.\.\.\)/,
  );
  const ok = await runAutoexp([
    "config",
    "--resolve",
    "-o",
    "container=apptainer",
    "-o",
    "container.image=/img.sif",
  ]);
  assertEquals(ok.code, 0, ok.stderr);
});

Deno.test("--sources names the layer and file of each group", async () => {
  const r = await runAutoexp(["config", "-C", QUICKSTART, "--sources", "--json"]);
  assertEquals(r.code, 0, r.stderr);
  const { sources, choices } = JSON.parse(r.stdout);
  const backend = sources.find((s: { group: string }) => s.group === "backend");
  assertEquals(backend.layer, "user");
  assertEquals(backend.file, `${QUICKSTART}/backend/train.yaml`);
  const slurm = sources.find((s: { group: string }) => s.group === "slurm");
  assertEquals(slurm.layer, "builtin");
  assertEquals(choices.backend, "train");
});

Deno.test("a user's file overlays the built-in preset of the same name", async () => {
  const dir = await makeTree({
    "slurm/lumi.yaml": "defaults: [base, _self_]\nsbatch:\n  partition: small-g\n",
  });
  try {
    const r = await runAutoexp(["config", "-C", dir, "-o", "slurm=lumi", "--resolve", "--json"]);
    assertEquals(r.code, 0, r.stderr);
    const cfg = JSON.parse(r.stdout);
    assertEquals(cfg.slurm.sbatch.partition, "small-g");
    assertEquals(cfg.slurm.sbatch.account, null, "the user's file replaces the preset whole");
  } finally {
    await removeTree(dir);
  }
});

Deno.test("a missing config directory is a usage error", async () => {
  const r = await runAutoexp(["config", "-C", "/nonexistent/dir"]);
  assertEquals(r.code, 2);
  assertMatch(r.stderr, /config directory "\/nonexistent\/dir" does not exist/);
});

Deno.test("the platform resolver picks the cluster preset", async () => {
  const r = await runAutoexp(["config", "--resolve", "--json"], {
    env: { AUTOEXP_PLATFORM: "leonardo", SLURM_ACCOUNT: "EUHPC_x" },
  });
  assertEquals(r.code, 0, r.stderr);
  assertEquals(JSON.parse(r.stdout).slurm.sbatch.partition, "boost_usr_prod");
  const unknown = await runAutoexp(["config", "--sources", "--json"], {
    env: { AUTOEXP_PLATFORM: "mycluster" },
  });
  assertEquals(unknown.code, 0, unknown.stderr);
  const slurm = JSON.parse(unknown.stdout).sources.find((s: { group: string }) =>
    s.group === "slurm"
  );
  assertEquals([slurm.option, slurm.via], ["base", "fallback"]);
});

Deno.test("autoexp platform reports the platform and the evidence", async () => {
  const r = await runAutoexp(["platform", "--json"], { env: { AUTOEXP_PLATFORM: "juwels" } });
  assertEquals(r.code, 0, r.stderr);
  const d = JSON.parse(r.stdout);
  assertEquals(d.platform, "juwels");
  assertMatch(d.matched, /AUTOEXP_PLATFORM/);
  const host = Deno.hostname();
  const dir = await makeTree({
    "platform/rules.yaml":
      `rules:\n  - platform: mylab\n    description: our lab cluster\n    match:\n      - hostname: '^${host}$'\n`,
  });
  try {
    const mine = await runAutoexp(["platform", "-C", dir]);
    assertEquals(mine.code, 0, mine.stderr);
    assertMatch(mine.stdout, /platform: mylab/);
    assertMatch(mine.stdout, /our lab cluster/);
  } finally {
    await removeTree(dir);
  }
});

Deno.test("the output of config is valid YAML that composes again", async () => {
  const r = await runAutoexp(["config", "-C", QUICKSTART, "--resolve"]);
  assertEquals(r.code, 0, r.stderr);
  const dir = await makeTree({ "again.yaml": r.stdout });
  try {
    const again = await runAutoexp(["config", "-C", dir, "--config-name", "again", "--resolve"]);
    assertEquals(again.code, 0, again.stderr);
    assertEquals(again.stdout, r.stdout);
  } finally {
    await removeTree(dir);
  }
});

Deno.test("NO_COLOR output has no escape codes", async () => {
  const r = await runAutoexp(["config", "-o", "slurm=nope"]);
  assert_(!r.stderr.includes("\x1b["), "no ANSI escapes");
});

Deno.test("self-check: one line per part; an unwritable output directory fails (exit 1)", async () => {
  const ok = await runAutoexp(["self-check", "--output-dir", await Deno.makeTempDir()]);
  assertMatch(ok.stdout, /^autoexp\s+ok\s+\d+\.\d+\.\d+ \(deno run /m);
  assertMatch(ok.stdout, /^job side\s+ok\s+run-entry starts/m);
  assertMatch(ok.stdout, /^output dir\s+ok\s+.* is writable/m);
  for (const name of ["sbatch", "squeue", "sacct"]) {
    assertMatch(ok.stdout, new RegExp(`^${name}\\s`, "m"));
  }
  const bad = await runAutoexp(["self-check", "--output-dir", "/proc/autoexp-not-writable"]);
  assertEquals(bad.code, 1, bad.stdout + bad.stderr);
  assertMatch(bad.stdout, /^output dir\s+fail\s+\/proc\/autoexp-not-writable: /m);
  // (Without a SLURM cluster the controller and squeue fail too.)
  assertMatch(bad.stderr, /self-check: (.*, )?output dir failed/);
});

Deno.test("config --no-schema --resolve shows a plain YAML tree of one's own as OmegaConf reads it", async () => {
  // No project section: nothing of autoexp's run context is added to (or required by) it.
  const dir = await makeTree({
    "config.yaml": "lr: 0.5\nname: w_${lr}\nrequeue: on\nmode: 010\nbudget: 1_000\nexp: 1e-5\n",
  });
  try {
    const r = await runAutoexp([
      "config",
      "-C",
      dir,
      "--config-name",
      "config",
      "--no-schema",
      "--resolve",
    ]);
    assertEquals(r.code, 0, r.stderr);
    assertEquals(
      r.stdout,
      "lr: 0.5\nname: w_0.5\nrequeue: true\nmode: 8\nbudget: 1000\nexp: 0.00001\n",
    );
  } finally {
    await removeTree(dir);
  }
});

Deno.test("config --resolve prints a whole float as Python does (x: 1.0, w_1.0)", async () => {
  const r = await runAutoexp([
    "config",
    "-C",
    QUICKSTART,
    "--resolve",
    "-o",
    "+x=1.0",
    "-o",
    "+name=w_${x}",
    "-o",
    "+half=${eval:'6/2'}",
  ], { env: { AUTOEXP_OUTPUT_DIR: "/scratch/me" } });
  assertEquals(r.code, 0, r.stderr);
  assertMatch(r.stdout, /^x: 1\.0$/m);
  assertMatch(r.stdout, /^name: w_1\.0$/m);
  assertMatch(r.stdout, /^half: 3\.0$/m);
  const json = await runAutoexp(
    ["config", "-C", QUICKSTART, "--resolve", "--json", "-o", "+x=1.0"],
    {
      env: { AUTOEXP_OUTPUT_DIR: "/scratch/me" },
    },
  );
  assertMatch(json.stdout, /"x": 1\.0\b/);
});

Deno.test("config -C with a typo names the directory meant; an override error names its key once", async () => {
  const typo = await runAutoexp(["config", "-C", "exampls/quikstart"], { cwd: ROOT });
  assertEquals(typo.code, 2);
  assertMatch(
    typo.stderr,
    /config directory "exampls\/quikstart" does not exist .*did you mean "examples\/quickstart"\?/,
  );
  const far = await runAutoexp(["config", "-C", "/nonexistent-autoexp/x"]);
  assertEquals(far.code, 2);
  assertNotMatch(far.stderr, /did you mean/);
  const key = await runAutoexp([
    "config",
    "-C",
    `${ROOT}/examples/quickstart`,
    "-o",
    "project.nme=3",
  ]);
  assertEquals(key.code, 2);
  assertEquals(key.stderr.match(/project\.nme/g)?.length, 1, key.stderr);
  assertMatch(
    key.stderr,
    /-o project\.nme=3: no key "nme" in project\n\s+did you mean "project\.name"\?/,
  );
});

Deno.test("config: a line indented under a key that has a value is one problem, caret on that line", async () => {
  const dir = await makeTree({
    "autoexp.yaml": "project:\n  name: x\n   base_output_dir: /tmp\n",
  });
  try {
    const r = await runAutoexp(["config", "-C", dir]);
    assertEquals(r.code, 2);
    assertMatch(r.stderr, /autoexp\.yaml:3:4: invalid YAML: line 3 is indented more than "name"/);
    assertEquals(r.stderr.match(/invalid YAML/g)?.length, 1, r.stderr);
    assert_(r.stderr.includes("3 |    base_output_dir: /tmp\n      |    ^"), r.stderr);
  } finally {
    await removeTree(dir);
  }
});

Deno.test("config --sources shows the user-wide layer ($XDG_CONFIG_HOME/autoexp)", async () => {
  const xdg = await makeTree({
    "autoexp/defaults.yaml": "config:\n  slurm: { sbatch: { account: proj123 } }\n" +
      'partitions:\n  gpu: { time: "24:00:00" }\n',
    "autoexp/compute/mine.yaml": "# @package slurm.sbatch\ngpus_per_node: 2\n",
  });
  try {
    const env = { XDG_CONFIG_HOME: xdg };
    const src = await runAutoexp(["config", "-C", QUICKSTART, "-o", "+compute=mine", "--sources"], {
      env,
    });
    assertEquals(src.code, 0, src.stderr);
    assertMatch(
      src.stdout,
      new RegExp(
        `compute\\s+mine\\s+user-wide\\s+\\S+\\s+${xdg}/autoexp/compute/mine\\.yaml`,
      ),
    );
    assertMatch(
      src.stdout,
      new RegExp(
        `\\(root\\)\\s+defaults\\s+user-wide\\s+user-defaults\\s+${xdg}/autoexp/defaults\\.yaml`,
      ),
    );
    const cfg = await runAutoexp(
      ["config", "-C", QUICKSTART, "-o", "slurm.sbatch.partition=gpu", "--resolve", "--json"],
      { env },
    );
    assertEquals(cfg.code, 0, cfg.stderr);
    const sbatch = JSON.parse(cfg.stdout).slurm.sbatch;
    assertEquals(sbatch.account, "proj123");
    // The quickstart's own time limit wins over the partition's default.
    assertEquals(sbatch.time, "00:30:00");
    const off = await runAutoexp(["config", "-C", QUICKSTART, "--sources"], {
      env: { ...env, AUTOEXP_USER_CONFIG: "0" },
    });
    assertNotMatch(off.stdout, /user-wide/);
  } finally {
    await removeTree(xdg);
  }
});
