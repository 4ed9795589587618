/**
 * End-to-end tests of `autoexp plan`, run as a real subprocess: the table and `--json`, `-m`
 * sweeps in Hydra order, usage and config errors (exit 2, no stack trace), idempotent
 * re-planning, arrays split by resources and points that choose a group option.
 */
import { assert_, assertEquals, assertMatch, assertNotMatch } from "../_assert.ts";
import { makeTree, removeTree, ROOT, runAutoexp } from "../_helpers.ts";

const SCALING = `${ROOT}/examples/scaling`;
const QUICKSTART = `${ROOT}/examples/quickstart`;
const PLAN_DATA = `${ROOT}/tests/testdata/plan`;

function noStackTrace(stderr: string) {
  assertNotMatch(stderr, /\n\s+at .*\.ts:\d+/, "a user error must not print a stack trace");
  assertNotMatch(stderr, /internal error/);
}

/** Runs `autoexp plan ...` with outputs in a fresh temporary directory. */
async function planIn(
  out: string,
  args: string[],
  env: Record<string, string> = {},
) {
  return await runAutoexp(["plan", ...args], {
    env: { AUTOEXP_OUTPUT_DIR: out, AUTOEXP_COMMAND: "/opt/autoexp/bin/autoexp", ...env },
    cwd: out,
  });
}

async function withTemp(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await makeTree({});
  try {
    await fn(dir);
  } finally {
    await removeTree(dir);
  }
}

const SCALING_NAMES = ["50M", "100M", "200M"].flatMap((m) =>
  ["0.1", "0.01", "0.001"].flatMap((lr) =>
    ["128", "256", "512"].map((gbs) => `${m}_lr${lr}_gbsz${gbs}`)
  )
);

Deno.test("plan: the scaling study as a table with resources, groups and totals", async () => {
  await withTemp(async (out) => {
    const r = await planIn(out, ["-C", SCALING]);
    assertEquals(r.code, 0, r.stderr);
    const lines = r.stdout.split("\n");
    assertMatch(
      lines[0],
      /^#\s+run\s+model_size\s+learning_rate\s+global_batch_size\s+nodes\s+gpus\s+time\s+job$/,
    );
    const rows = lines.slice(1, 28).map((l) => l.trim().split(/\s+/));
    assertEquals(rows.map((c) => c[0]), SCALING_NAMES.map((_, i) => String(i)));
    assertEquals(rows.map((c) => c[1]), SCALING_NAMES);
    assertEquals(rows[0], [
      "0",
      "50M_lr0.1_gbsz128",
      "50M",
      "0.1",
      "128",
      "1",
      "0",
      "04:00:00",
      "array0",
    ]);
    assertEquals(rows[26].slice(2), ["200M", "0.001", "512", "1", "0", "04:00:00", "array0"]);
    assertMatch(
      r.stdout,
      /\n27 runs in 1 job array \(1 sbatch calls\); at most 108 node-hours, 0\.0 GPU-hours \(time limits\)\n/,
    );
    assertMatch(r.stdout, new RegExp(`sweep: +${out}/scaling_study/sweep\\.json\\n`));
    assertMatch(r.stdout, /derived \(50M_lr0\.1_gbsz128\): train_iters=7630, lr_decay_iters=6867/);
    const script = await Deno.readTextFile(`${out}/scaling_study/scripts/array0.sh`);
    assertMatch(script, /\n#SBATCH --array=0-26%9\n/);
  });
});

Deno.test("plan: GPU-hours count GPUs per node times nodes", async () => {
  await withTemp(async (out) => {
    const r = await planIn(out, [
      "-C",
      `${PLAN_DATA}/megatron`,
      "-o",
      `project.base_output_dir=${out}`,
    ]);
    assertEquals(r.code, 0, r.stderr);
    // 2 nodes x 4 GPUs for 24 hours.
    assertMatch(r.stdout, /\n1 run in 1 job; at most 48\.0 node-hours, 192 GPU-hours/);
    assertMatch(r.stdout, /0\s+gpt_small\s+2\s+8\s+1-00:00:00\s+gpt_small\n/);
  });
});

Deno.test("plan --json prints the plan of sweep.json", async () => {
  await withTemp(async (out) => {
    const r = await planIn(out, ["-C", SCALING, "--json"]);
    assertEquals(r.code, 0, r.stderr);
    const plan = JSON.parse(r.stdout);
    assertEquals(plan.format, "autoexp.sweep");
    assertEquals(plan.version, 1);
    assertEquals(plan.sweep.name, "scaling_study");
    assertEquals(plan.sweep.dir, `${out}/scaling_study`);
    assertEquals(plan.sweep.autoexp, ["/opt/autoexp/bin/autoexp"]);
    assertEquals(plan.sweep.throttle, 9);
    assertEquals(plan.runs.map((x: { name: string }) => x.name), SCALING_NAMES);
    assertEquals(plan.groups.length, 1);
    assertEquals(plan.groups[0].chunks[0].array, "0-26%9");
    assertEquals(plan.runs[4].values, {
      model_size: "50M",
      learning_rate: 0.01,
      global_batch_size: 256,
    });
    const onDisk = JSON.parse(await Deno.readTextFile(`${out}/scaling_study/sweep.json`));
    assertEquals(
      onDisk.runs.map((x: { fingerprint: string }) => x.fingerprint),
      plan.runs.map((x: { fingerprint: string }) => x.fingerprint),
    );
  });
});

Deno.test("plan -m: comma lists are axes in Hydra order (first varies slowest)", async () => {
  await withTemp(async (out) => {
    // a and b are labels only (they reach no job): said so with sweep.metadata_keys.
    const meta = ["-o", "sweep.metadata_keys=[a,b]"];
    const r = await planIn(out, [
      "-C",
      QUICKSTART,
      "-m",
      "-o",
      "+a=1,2",
      "-o",
      "+b=x,y",
      ...meta,
      "--json",
    ]);
    assertEquals(r.code, 0, r.stderr);
    const plan = JSON.parse(r.stdout);
    assertEquals(
      plan.runs.map((x: { index: number; values: unknown }) => [x.index, x.values]),
      [[0, { a: 1, b: "x" }], [1, { a: 1, b: "y" }], [2, { a: 2, b: "x" }], [3, { a: 2, b: "y" }]],
    );
    assertEquals(plan.runs.map((x: { name: string }) => x.name), [
      "quickstart_a1_b-x",
      "quickstart_a1_b-y",
      "quickstart_a2_b-x",
      "quickstart_a2_b-y",
    ]);
    assertEquals(plan.sweep.multirun, true);
  });
});

Deno.test("plan -m: swept keys that reach no job are refused (exit 2), naming them", async () => {
  await withTemp(async (out) => {
    // Seed 003's sweep, with nothing carrying trainer.* into the command.
    const args = ["-C", QUICKSTART, "-m", "-o", "+trainer.learning_rate=1e-2,1e-3"];
    const r = await planIn(out, [...args, "-o", "+trainer.hidden_dim=64,128"]);
    assertEquals(r.code, 2, r.stderr);
    assertMatch(r.stderr, /4 runs would run the same job/);
    assertMatch(r.stderr, /swept keys trainer\.learning_rate, trainer\.hidden_dim reach neither/);
    assertEquals([...Deno.readDirSync(out)], [], "nothing is written");
    // Passed to the program, the same sweep plans.
    const used = await planIn(out, [...args, "-o", "backend.args.lr=${trainer.learning_rate}"]);
    assertEquals(used.code, 0, used.stderr);
  });
});

Deno.test("plan: a comma list without -m exits 2 with a hint", async () => {
  await withTemp(async (out) => {
    const r = await planIn(out, ["-C", QUICKSTART, "-o", "backend.args.lr=1e-3,3e-4"]);
    assertEquals(r.code, 2);
    assertMatch(r.stderr, /override "backend\.args\.lr=1e-3,3e-4" lists several values; add -m/);
    noStackTrace(r.stderr);
    assertEquals([...Deno.readDirSync(out)], [], "nothing is written");
  });
});

/** Every file under `dir` (relative path -> bytes). */
async function snapshot(dir: string): Promise<Map<string, Uint8Array>> {
  const files = new Map<string, Uint8Array>();
  const walk = async (rel: string) => {
    for await (const e of Deno.readDir(`${dir}/${rel}`)) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) await walk(p);
      else if (e.isFile) files.set(p, await Deno.readFile(`${dir}/${p}`));
    }
  };
  await walk("");
  return files;
}

Deno.test("plan: re-planning is idempotent; a smaller re-plan removes stale scripts", async () => {
  await withTemp(async (out) => {
    const args = ["-C", QUICKSTART, "-m", "-o", "+backend.args.seed=1,2,3"];
    const first = await planIn(out, args);
    assertEquals(first.code, 0, first.stderr);
    const sweep = `${out}/quickstart`;
    // provenance/autoexp.json records when the plan was made; everything else is the plan.
    const keep = (m: Map<string, Uint8Array>) =>
      new Map([...m].filter(([p]) => !p.startsWith("provenance/")));
    const a = keep(await snapshot(sweep));
    assertEquals([...a.keys()].filter((p) => p.startsWith("scripts/")).sort(), [
      "scripts/quickstart_seed1.sh",
      "scripts/quickstart_seed2.sh",
      "scripts/quickstart_seed3.sh",
    ]);
    for (const f of ["sweep.json", "sweep.runs.idx"]) {
      assert_(a.has(f), f);
    }

    const second = await planIn(out, args);
    assertEquals(second.code, 0, second.stderr);
    assertEquals(second.stdout, first.stdout);
    const b = keep(await snapshot(sweep));
    assertEquals([...b.keys()].sort(), [...a.keys()].sort());
    for (const [p, bytes] of a) assertEquals(b.get(p), bytes, `${p} changed on re-plan`);

    const smaller = await planIn(out, ["-C", QUICKSTART, "-m", "-o", "+backend.args.seed=1,2"]);
    assertEquals(smaller.code, 0, smaller.stderr);
    const scripts = [...Deno.readDirSync(`${sweep}/scripts`)].map((e) => e.name).sort();
    assertEquals(scripts, ["quickstart_seed1.sh", "quickstart_seed2.sh"]);
    const plan = JSON.parse(await Deno.readTextFile(`${sweep}/sweep.json`));
    assertEquals(plan.runs.length, 2);
    // The kept runs are the same runs: same index, name and fingerprint.
    const before = JSON.parse(new TextDecoder().decode(a.get("sweep.json")));
    assertEquals(
      plan.runs.map((x: { fingerprint: string }) => x.fingerprint),
      before.runs.slice(0, 2).map((x: { fingerprint: string }) => x.fingerprint),
    );
  });
});

Deno.test("plan: a run name collision exits 2 listing the colliding points", async () => {
  const dir = await makeTree({
    "autoexp.yaml": [
      "defaults: [{slurm: base}, {backend: command}, _self_]",
      "project: {name: collide, base_output_dir: out}",
      "sweep:",
      '  name_template: "lr{lr}"',
      "  axes:",
      "    backend.args.lr: [0.1, 0.01]",
      "    backend.args.seed: [1, 2]",
    ].join("\n"),
  });
  try {
    const r = await planIn(dir, ["-C", dir]);
    assertEquals(r.code, 2);
    assertMatch(
      r.stderr,
      /sweep\.name_template: run name "lr0\.1" is produced by 2 points: #0 \(backend\.args\.lr=0\.1, backend\.args\.seed=1\), #1 \(backend\.args\.lr=0\.1, backend\.args\.seed=2\)/,
    );
    assertMatch(r.stderr, /run name "lr0\.01" is produced by 2 points: #2 .*#3 /);
    assertMatch(r.stderr, /add a placeholder such as \{seed\} or \{index\}/);
    noStackTrace(r.stderr);
  } finally {
    await removeTree(dir);
  }
});

Deno.test("plan: an unknown Megatron argument exits 2 naming backend.args.<key>", async () => {
  await withTemp(async (out) => {
    const r = await planIn(out, [
      "-C",
      `${PLAN_DATA}/megatron`,
      "-o",
      `project.base_output_dir=${out}`,
      "-o",
      "+backend.args.num_layer=4",
    ]);
    assertEquals(r.code, 2);
    assertMatch(r.stderr, /backend\.args\.num_layer: unknown Megatron argument "num_layer"/);
    assertMatch(r.stderr, /did you mean "num_layers"/);
    noStackTrace(r.stderr);
  });
});

Deno.test("plan: points with different resources go to different arrays", async () => {
  await withTemp(async (out) => {
    const r = await planIn(out, [
      "-C",
      QUICKSTART,
      "-o",
      "slurm.array=true",
      "-m",
      "-o",
      "+backend.args.seed=1,2",
      "-o",
      "slurm.sbatch.nodes=1,2",
      "--json",
    ]);
    assertEquals(r.code, 0, r.stderr);
    const plan = JSON.parse(r.stdout);
    assertEquals(plan.runs.map((x: { nodes: number; group: string }) => [x.nodes, x.group]), [
      [1, "array0"],
      [2, "array1"],
      [1, "array0"],
      [2, "array1"],
    ]);
    assertEquals(plan.groups.map((g: { indices: number[] }) => g.indices), [[0, 2], [1, 3]]);
    assertEquals(
      plan.groups.map((g: { chunks: { offset: number; array: string }[] }) => g.chunks),
      [
        [{ offset: 0, array: "0,2", script: "scripts/array0.sh", indices: [0, 2] }],
        [{ offset: 1, array: "0,2", script: "scripts/array1.sh", indices: [1, 3] }],
      ],
    );
    const s1 = await Deno.readTextFile(`${out}/quickstart/scripts/array1.sh`);
    assertMatch(s1, /\n#SBATCH --array=0,2\n/);
    assertMatch(s1, /\n#SBATCH --nodes=2\n/);
    assertMatch(s1, /--index "\$\(\(SLURM_ARRAY_TASK_ID \+ 1\)\)"\n/);
  });
});

Deno.test("plan: points that choose a group option are composed per point", async () => {
  await withTemp(async (out) => {
    const args = ["-C", QUICKSTART, "-m", "-o", "slurm=base,lumi"];
    const r = await planIn(out, [...args, "--json"], { SLURM_ACCOUNT: "project_465000001" });
    assertEquals(r.code, 0, r.stderr);
    const plan = JSON.parse(r.stdout);
    assertEquals(plan.runs.map((x: { name: string }) => x.name), [
      "quickstart_slurm-base",
      "quickstart_slurm-lumi",
    ]);
    const [base, lumi] = plan.runs;
    const resources = (run: { group: string }) =>
      plan.groups.find((g: { id: string }) => g.id === run.group).script.resources;
    assertEquals(resources(base).partition, undefined);
    assertEquals(resources(lumi).partition, "standard-g");
    assertEquals(resources(lumi).account, "project_465000001");
    assertEquals(lumi.gpus, 8);
    assertEquals(lumi.env.NCCL_SOCKET_IFNAME, "hsn0,hsn1,hsn2,hsn3");
    assertEquals(base.env, {});
    const script = await Deno.readTextFile(`${out}/quickstart/scripts/quickstart_slurm-lumi.sh`);
    assertMatch(script, /\n#SBATCH --partition=standard-g\n/);
    assertMatch(script, /\n#SBATCH --hint=nomultithread\n/);
    assertMatch(script, /\nexport MIOPEN_USER_DB_PATH MIOPEN_CUSTOM_CACHE_DIR\n/);

    // Without an account LUMI's preset cannot be planned: the `???` default is reported.
    const missing = await planIn(out, args);
    assertEquals(missing.code, 2);
    assertMatch(
      missing.stderr,
      /slurm\.sbatch\.account: run 1 "quickstart_slurm-lumi": missing required value/,
    );
    noStackTrace(missing.stderr);
  });
});

Deno.test("plan: an output directory that cannot be written is a user error naming it (exit 2)", async () => {
  // /sys refuses new directories even to root; /proc has none to create.
  const cases: [string, RegExp][] = [
    [
      "/sys/autoexp-test",
      /cannot create the directory \/sys\/autoexp-test\/\S+: operation not permitted/,
    ],
    ["/proc/autoexp-test", /cannot create the directory \/proc\/autoexp-test\/\S+: no such file/],
  ];
  for (const [dir, message] of cases) {
    const r = await runAutoexp([
      "plan",
      "-C",
      `${ROOT}/examples/demo`,
      "-o",
      `project.base_output_dir=${dir}`,
    ]);
    assertEquals(r.code, 2, r.stderr);
    assertMatch(r.stderr, message);
    assertNotMatch(r.stderr, /internal error|This is a bug|\bat async\b/);
  }
});

Deno.test({
  name:
    "plan: a full disk is a user error naming the file; nothing half written; the next run works",
  // Mounting a small file system needs root (CI runs as root).
  ignore: Deno.uid() !== 0,
  fn: async () => {
    const mnt = await Deno.makeTempDir({ prefix: "autoexp-full-" });
    const mount = (size: string) =>
      new Deno.Command("mount", { args: ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", mnt] })
        .output();
    const umount = () => new Deno.Command("umount", { args: [mnt] }).output();
    const plan = () =>
      runAutoexp([
        "plan",
        "-C",
        `${ROOT}/examples/scaling`,
        "-o",
        `project.base_output_dir=${mnt}`,
      ]);
    try {
      assertEquals((await mount("32k")).code, 0, "mount a 32 KB tmpfs (less than the plan)");
      const full = await plan();
      assertEquals(full.code, 2, full.stderr);
      assertMatch(full.stderr, /cannot write \/\S+: no space left on the device/);
      assertNotMatch(full.stderr, /internal error|This is a bug/);
      const left = [...walk(mnt)].filter((p) => p.endsWith(".tmp"));
      assertEquals(left, [], "no temporary file left behind");
      await umount();
      assertEquals((await mount("16m")).code, 0);
      const ok = await plan();
      assertEquals(ok.code, 0, ok.stderr);
    } finally {
      await umount();
      await Deno.remove(mnt, { recursive: true });
    }
  },
});

function* walk(dir: string): Generator<string> {
  for (const e of Deno.readDirSync(dir)) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory) yield* walk(p);
    else yield p;
  }
}

Deno.test("plan: overrides on the command line as Hydra takes them (seed 003), next to -o and --multirun", async () => {
  await withTemp(async (out) => {
    const r = await planIn(out, [
      "-C",
      QUICKSTART,
      "+compute=killarney/l40s_1x",
      "backend.args.lr=1e-2,1e-3",
      "--multirun",
      "-o",
      "compute.mem_gb=32",
      "--json",
    ]);
    assertEquals(r.code, 0, r.stderr);
    const plan = JSON.parse(r.stdout);
    assertEquals(plan.runs.map((x: { values: unknown }) => x.values), [
      { "backend.args.lr": 0.01 },
      { "backend.args.lr": 0.001 },
    ]);
    assertEquals(plan.runs[0].script.resources.partition, "gpubase_l40s_b2");
    assertEquals(plan.runs[0].script.resources.mem, "32G");
  });
});
