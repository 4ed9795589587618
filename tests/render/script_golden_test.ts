/**
 * Rendered job scripts: golden files for several presets (plain single job, array with throttle
 * and chunks, Apptainer with environment passthrough, Megatron with torchrun on two nodes,
 * Accelerate, the seeds' scaling study, LUMI), `bash -n` and `shellcheck` on every script, and
 * proof that hostile values (spaces, quotes, `$`, backticks, `$(...)`, newlines) never execute
 * and arrive byte-exact in sbatch's view of the directives and in the job's argv and env.
 *
 * Goldens live in tests/testdata/golden/scripts/<case>/; UPDATE_GOLDEN=1 rewrites them.
 * shellcheck must be installed (Debian package `shellcheck`); AUTOEXP_NO_SHELLCHECK=1 skips it
 * explicitly, a missing shellcheck otherwise fails the tests.
 */
import { assert_, assertEquals, assertMatch, assertRejects, assertThrows } from "../_assert.ts";
import { assertGolden, removeTree, ROOT } from "../_helpers.ts";
import { ConfigError } from "../../lib/errors.ts";
import { computePlan, type PlanOutcome } from "../../lib/plan/mod.ts";
import { writePlan } from "../../lib/render/tree.ts";
import type { SweepPlan } from "../../lib/plan/types.ts";
import { directiveValue, RenderError, renderScripts } from "../../lib/render/script.ts";
import { shellJoin, shellQuote } from "../../lib/shell.ts";
import { DenoFileSystem } from "../../lib/runtime/fs.ts";
import type { Host } from "../../lib/runtime/mod.ts";

const PLAN_DATA = `${ROOT}/tests/testdata/plan`;
const AUTOEXP = "/opt/autoexp/bin/autoexp";

/** A host with a pinned environment, clock and self command. */
function fakeHost(env: Record<string, string> = {}, cwd = "/home/test"): Host {
  return {
    env,
    hostname: () => "login01",
    cwd: () => cwd,
    now: () => new Date("2026-01-01T00:00:00Z"),
    color: false,
    pid: 4242,
    selfCommand: () => [AUTOEXP],
  };
}

function plan(
  configDir: string,
  opts: { overrides?: string[]; env?: Record<string, string>; multirun?: boolean } = {},
): Promise<PlanOutcome> {
  return computePlan(
    { configDir, overrides: opts.overrides ?? [], multirun: opts.multirun },
    { fs: new DenoFileSystem(), host: fakeHost(opts.env) },
  );
}

// ---------------------------------------------------------------------------------------------
// bash -n and shellcheck

let shellcheckFound: boolean | undefined;

/** True when shellcheck runs; throws (every time) when it is missing and not skipped. */
async function shellcheckAvailable(): Promise<boolean> {
  if (Deno.env.get("AUTOEXP_NO_SHELLCHECK") === "1") return false;
  if (shellcheckFound === undefined) {
    try {
      const out = await new Deno.Command("shellcheck", { args: ["--version"], stdout: "null" })
        .output();
      shellcheckFound = out.success;
    } catch {
      shellcheckFound = false;
    }
  }
  if (!shellcheckFound) {
    throw new Error(
      "shellcheck is required to test rendered scripts: install it (apt-get install shellcheck) " +
        "or set AUTOEXP_NO_SHELLCHECK=1 to skip this check explicitly",
    );
  }
  return true;
}

/**
 * Asserts that a rendered script parses (`bash -n`) and passes shellcheck. SC1091 ("not
 * following a sourced file") is excluded: `slurm.setup` lines source files that exist only on
 * the cluster.
 */
async function assertCleanShell(
  name: string,
  text: string,
  exclude: readonly string[] = [],
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "autoexp-sh-" });
  try {
    const file = `${dir}/script.sh`;
    await Deno.writeTextFile(file, text);
    const syntax = await new Deno.Command("bash", { args: ["-n", file], stderr: "piped" })
      .output();
    assert_(syntax.success, `${name}: bash -n failed:\n${new TextDecoder().decode(syntax.stderr)}`);
    if (await shellcheckAvailable()) {
      const sc = await new Deno.Command("shellcheck", {
        args: [
          "--shell=bash",
          `--exclude=${["SC1091", ...exclude].join(",")}`,
          "--format=gcc",
          file,
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const report = new TextDecoder().decode(sc.stdout) + new TextDecoder().decode(sc.stderr);
      assert_(sc.success, `${name}: shellcheck found problems:\n${report}\n--- script:\n${text}`);
    }
  } finally {
    await removeTree(dir);
  }
}

// ---------------------------------------------------------------------------------------------
// sbatch's view of the directives

/**
 * The arguments sbatch reads from a script's `#SBATCH` lines: a port of `_opt_batch_script` and
 * `_get_argument` in SLURM's src/sbatch/opt.c. Lines must start with `#SBATCH`; parsing stops at
 * the first line that is not a comment. Within a line, whitespace separates arguments, single
 * or double quotes group, a backslash escapes the next character (also inside quotes), and an
 * unquoted `#` starts a comment.
 */
function sbatchArguments(script: string): string[] {
  const out: string[] = [];
  for (const line of script.split("\n")) {
    if (!line.startsWith("#SBATCH")) {
      if (/^\s*[^\s#]/.test(line)) break;
      continue;
    }
    const s = line.slice("#SBATCH".length);
    let i = 0;
    for (;;) {
      while (i < s.length && /\s/.test(s[i])) i++;
      if (i >= s.length) break;
      let arg = "";
      let quote = "";
      let escaped = false;
      let any = false;
      while (i < s.length && (quote || !/\s/.test(s[i]))) {
        const c = s[i];
        if (escaped) escaped = false;
        else if (c === "\\") {
          escaped = true;
          i++;
          continue;
        } else if (quote) {
          if (c === quote) {
            quote = "";
            i++;
            continue;
          }
        } else if (c === '"' || c === "'") {
          quote = c;
          i++;
          continue;
        } else if (c === "#") break;
        arg += c;
        any = true;
        i++;
      }
      if (quote) throw new Error(`sbatch would fail: unmatched ${quote} in ${line}`);
      if (any) out.push(arg);
      if (i < s.length && s[i] === "#") break;
    }
  }
  return out;
}

/** `--flag=value` arguments of a script as [flag, value] pairs, in order. */
function sbatchOptions(script: string): [string, string][] {
  return sbatchArguments(script).map((a) => {
    const eq = a.indexOf("=");
    return eq < 0 ? [a, ""] : [a.slice(0, eq), a.slice(eq + 1)];
  });
}

function option(script: string, flag: string): string | undefined {
  return sbatchOptions(script).find(([f]) => f === flag)?.[1];
}

Deno.test("sbatchArguments follows sbatch's quoting rules", () => {
  const script = [
    "#!/bin/bash",
    `#SBATCH --job-name="a b \\"c\\" \\\\ #d" --x=1`,
    "#SBATCH --comment='it''s' # a comment",
    "#SBATCH --y=a#b",
    "# a plain comment",
    "",
    "echo hi",
    "#SBATCH --ignored=1",
  ].join("\n");
  assertEquals(sbatchArguments(script), [
    `--job-name=a b "c" \\ #d`,
    "--x=1",
    "--comment=its",
    "--y=a",
  ]);
});

// ---------------------------------------------------------------------------------------------
// Golden files of several presets

interface GoldenCase {
  readonly name: string;
  readonly dir: string;
  readonly overrides?: string[];
  readonly env?: Record<string, string>;
}

const GOLDEN_CASES: GoldenCase[] = [
  { name: "single", dir: `${PLAN_DATA}/single` },
  { name: "array", dir: `${PLAN_DATA}/array` },
  { name: "container", dir: `${PLAN_DATA}/container` },
  { name: "megatron", dir: `${PLAN_DATA}/megatron` },
  { name: "accelerate", dir: `${PLAN_DATA}/accelerate` },
  {
    name: "scaling",
    dir: `${ROOT}/examples/scaling`,
    env: { AUTOEXP_OUTPUT_DIR: "/scratch/test", AUTOEXP_COMMAND: AUTOEXP },
  },
  {
    name: "lumi",
    dir: `${ROOT}/examples/quickstart`,
    overrides: ["slurm=lumi"],
    env: {
      AUTOEXP_OUTPUT_DIR: "/scratch/test",
      AUTOEXP_COMMAND: AUTOEXP,
      SLURM_ACCOUNT: "project_465000001",
    },
  },
];

/** What run-entry gets for each run (the part of the plan not in the script), a run per line. */
function runsSummary(p: SweepPlan): string {
  const runs = p.runs.map((r) => ({
    index: r.index,
    name: r.name,
    group: r.group,
    argv: r.argv,
    env: r.env,
    workdir: r.workdir,
  }));
  // The checkout's location appears in paths built from ${autoexp.config_dir}: keep goldens
  // independent of where the repository is.
  return `[\n${runs.map((r) => `  ${JSON.stringify(r)}`).join(",\n")}\n]\n`.replaceAll(
    ROOT,
    "<repo>",
  );
}

for (const c of GOLDEN_CASES) {
  Deno.test(`golden scripts: ${c.name}`, async () => {
    const { plan: p } = await plan(c.dir, { overrides: c.overrides, env: c.env });
    const scripts = renderScripts(p);
    assert_(scripts.size > 0);
    for (const [rel, text] of scripts) {
      await assertGolden(`scripts/${c.name}/${rel.replace(/^scripts\//, "")}`, text);
      await assertCleanShell(`${c.name}/${rel}`, text);
      // sbatch reads what autoexp meant: the log path and the comment tag round-trip.
      const group = p.groups.find((g) => g.chunks.some((ch) => ch.script === rel))!;
      const chunk = group.chunks.find((ch) => ch.script === rel)!;
      assertEquals(option(text, "--comment"), `autoexp:${p.sweep.id}:${group.id}`);
      if (group.kind === "array") {
        assertEquals(option(text, "--array"), chunk.array);
        assertEquals(option(text, "--output"), `${p.sweep.dir}/logs/${group.id}/%A_%a.log`);
      } else {
        const run = p.runs.find((r) => r.index === chunk.offset)!;
        assertEquals(option(text, "--output"), `${run.runDir}/logs/%j.log`);
        assertEquals(option(text, "--array"), undefined);
      }
    }
    await assertGolden(`scripts/${c.name}/runs.json`, runsSummary(p));
  });
}

Deno.test("single job: resources, modules and setup in the script; argv in the entry", async () => {
  const { plan: p } = await plan(`${PLAN_DATA}/single`);
  assertEquals(p.sweep.dir, "/scratch/test/single_job");
  assertEquals(p.groups.map((g) => [g.id, g.kind]), [["single_job", "single"]]);
  const text = renderScripts(p).get("scripts/single_job.sh")!;
  assertEquals(sbatchOptions(text), [
    ["--job-name", "single_job"],
    ["--output", "/scratch/test/single_job/runs/single_job/logs/%j.log"],
    ["--open-mode", "append"],
    ["--comment", `autoexp:${p.sweep.id}:single_job`],
    ["--account", "proj123"],
    ["--partition", "gpu"],
    ["--time", "00:30:00"],
    ["--nodes", "1"],
    ["--ntasks-per-node", "1"],
    ["--gpus-per-node", "1"],
    ["--mem", "32G"],
    ["--no-requeue", ""],
  ]);
  assertMatch(text, /\nmodule load cuda\/12\.1 python\/3\.11\nsource \/opt\/venv\/bin\/activate\n/);
  assertMatch(
    text,
    /\nexec \/opt\/autoexp\/bin\/autoexp run-entry --sweep \/scratch\/test\/single_job\/sweep\.json --index 0\n$/,
  );
  assertEquals(p.runs[0].argv, [
    "python3",
    "train.py",
    "--lr",
    "0.001",
    "--epochs",
    "3",
    "--run_dir",
    "/scratch/test/single_job/runs/single_job",
  ]);
});

Deno.test("array: throttle, and chunks with offsets when MaxArraySize is small", async () => {
  const { plan: p } = await plan(`${PLAN_DATA}/array`);
  assertEquals(p.runs.map((r) => r.name), Array.from({ length: 10 }, (_, i) => `seed${i}`));
  assertEquals(p.groups.length, 1);
  const scripts = renderScripts(p);
  assertEquals([...scripts.keys()], [
    "scripts/array0_part0.sh",
    "scripts/array0_part1.sh",
    "scripts/array0_part2.sh",
  ]);
  const expected = [["0-3%3", 0], ["0-3%3", 4], ["0-1%3", 8]] as const;
  [...scripts.values()].forEach((text, k) => {
    assertEquals(option(text, "--array"), expected[k][0]);
    assertEquals(option(text, "--job-name"), "seeds.array0");
    assert_(
      text.includes(`--index "$((SLURM_ARRAY_TASK_ID + ${expected[k][1]}))"`),
      `chunk ${k} adds its offset`,
    );
  });
  // A larger MaxArraySize (as submit discovers it) keeps one script.
  const big = await computePlan(
    { configDir: `${PLAN_DATA}/array`, maxArraySize: 1001 },
    { fs: new DenoFileSystem(), host: fakeHost() },
  );
  assertEquals(big.plan.groups[0].chunks.map((ch) => [ch.script, ch.array]), [
    ["scripts/array0.sh", "0-9%3"],
  ]);
});

Deno.test("array: task id + offset reaches run-entry as the sweep index", async () => {
  const dir = await Deno.makeTempDir({ prefix: "autoexp-array-" });
  try {
    const { plan: p } = await plan(`${PLAN_DATA}/array`);
    const fake = `${dir}/fake autoexp`;
    await Deno.writeTextFile(fake, `#!/bin/bash\nprintf '%s\\n' "$@"\n`);
    await Deno.chmod(fake, 0o755);
    const scripts = renderScripts({ ...p, sweep: { ...p.sweep, autoexp: [fake] } });
    const seen: string[] = [];
    for (const ch of p.groups[0].chunks) {
      for (const task of [0, ch.indices.length - 1]) {
        const out = await new Deno.Command("bash", {
          args: ["-c", scripts.get(ch.script)!],
          env: { SLURM_ARRAY_TASK_ID: String(task) },
          stdout: "piped",
        }).output();
        assert_(out.success);
        const args = new TextDecoder().decode(out.stdout).trim().split("\n");
        assertEquals(args.slice(0, 3), ["run-entry", "--sweep", `${p.sweep.dir}/sweep.json`]);
        seen.push(args[4]);
      }
    }
    assertEquals(seen, ["0", "3", "4", "7", "8", "9"]);
  } finally {
    await removeTree(dir);
  }
});

Deno.test("container: apptainer prefix with binds, --nv and --env passthrough", async () => {
  const { plan: p } = await plan(`${PLAN_DATA}/container`);
  const run = p.runs[0];
  assertEquals(run.argv.slice(0, 15), [
    "apptainer",
    "exec",
    "--nv",
    "--bind",
    "/scratch:/scratch",
    "--bind",
    "/data:/data:ro",
    "--env",
    "OMP_NUM_THREADS=${env:OMP_NUM_THREADS}",
    "--env",
    "HF_HOME=${env:HF_HOME}",
    "--env",
    "NCCL_DEBUG=${env:NCCL_DEBUG}",
    "--env",
    "MIOPEN_USER_DB_PATH=${env:MIOPEN_USER_DB_PATH}",
  ]);
  assertEquals(run.argv.slice(15), [
    "/images/train.sif",
    "python3",
    "/workspace/train.py",
    "--data",
    "/data/corpus",
  ]);
  // Plain values go to run-entry (no shell); shell expressions are exported by the script.
  assertEquals(run.env, { OMP_NUM_THREADS: "8", HF_HOME: "/scratch/hf cache", NCCL_DEBUG: "WARN" });
  const text = renderScripts(p).get("scripts/boxed.sh")!;
  assertMatch(
    text,
    /\nMIOPEN_USER_DB_PATH=\/tmp\/\$USER-miopen-cache-\$SLURM_JOB_ID\nexport MIOPEN_USER_DB_PATH\n/,
  );
  assert_(!text.includes("hf cache") && !text.includes("OMP_NUM_THREADS"));
});

Deno.test("megatron on two nodes: srun + torchrun rendezvous at an exported MASTER_ADDR", async () => {
  const { plan: p, warnings } = await plan(`${PLAN_DATA}/megatron`);
  const run = p.runs[0];
  assertEquals(run.nodes, 2);
  assertEquals(run.gpus, 8);
  assertEquals(run.argv.slice(0, 10), [
    "srun",
    "--ntasks-per-node=1",
    "--cpu-bind=none",
    "torchrun",
    "--nnodes=2",
    "--nproc-per-node=4",
    "--rdzv-backend=c10d",
    "--rdzv-endpoint=${env:MASTER_ADDR}:29500",
    "--rdzv-id=${env:SLURM_JOB_ID}",
    "/opt/Megatron-LM/pretrain_gpt.py",
  ]);
  assertEquals(warnings, []);
  assertEquals(run.script.shellEnv, {
    MASTER_ADDR: '$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1)',
  });
  const text = renderScripts(p).get("scripts/gpt_small.sh")!;
  assertEquals(option(text, "--nodes"), "2");
  assertMatch(
    text,
    /\nMASTER_ADDR=\$\(scontrol show hostnames "\$SLURM_JOB_NODELIST" \| head -n 1\)\nexport MASTER_ADDR\n/,
  );
});

Deno.test("megatron on two nodes: a configured MASTER_ADDR is kept; no srun is a warning", async () => {
  const { plan: p, warnings } = await plan(`${PLAN_DATA}/megatron`, {
    overrides: ["slurm.launcher_cmd=null", "+slurm.env.MASTER_ADDR=node0"],
  });
  assertEquals(p.runs[0].argv[0], "torchrun");
  assertEquals(p.runs[0].env.MASTER_ADDR, "node0");
  assertEquals(p.runs[0].script.shellEnv, {});
  assertEquals(warnings.length, 1);
  assertMatch(warnings[0], /the job has 2 nodes but the command starts once.*launcher_cmd: srun/);
});

Deno.test("accelerate: accelerate launch with processes per GPU", async () => {
  const { plan: p } = await plan(`${PLAN_DATA}/accelerate`);
  assertEquals(p.runs[0].argv, [
    "accelerate",
    "launch",
    "--num_processes",
    "2",
    "--num_machines",
    "1",
    "--mixed_precision",
    "bf16",
    "finetune.py",
    "--model-name",
    "gpt2",
    "--learning-rate",
    "2e-05",
    "--output-dir",
    "/scratch/test/finetune/runs/finetune/out",
  ]);
});

// ---------------------------------------------------------------------------------------------
// Hostile values

/** Values that would run `touch <canary>` if any of them reached a shell unquoted. */
function hostileValues(canary: string): Record<string, string> {
  return {
    spaces: "two  words\tand a tab",
    quotes: `it's "quoted" \\ back\\slash`,
    dollar: "$HOME $PATH $1 $@ $$ $? $(touch " + canary + ")",
    backticks: "`touch " + canary + "` and `id`",
    subst: "$(touch " + canary + ") && touch " + canary + " ; touch " + canary,
    glob: "* ?.sh [a-z] ~root !! #not-a-comment",
    redirect: "> " + canary + " < /dev/null | tee " + canary,
    newline: "line one\nline two\n$(touch " + canary + ")\n",
    unicode: "café – ünïcödé ☃",
  };
}

Deno.test("shellQuote: every hostile value reads back byte-exact in bash", async () => {
  const dir = await Deno.makeTempDir({ prefix: "autoexp-quote-" });
  try {
    const canary = `${dir}/canary`;
    const values = [...Object.values(hostileValues(canary)), "", "'", "''", "\\", "-n", "a'b'c"];
    const out = await new Deno.Command("bash", {
      args: ["-c", `printf '%s\\0' ${shellJoin(values)}`],
      stdout: "piped",
    }).output();
    assert_(out.success);
    assertEquals(new TextDecoder().decode(out.stdout).split("\0").slice(0, -1), values);
    assertEquals(await exists(canary), false, "nothing executed");
    assertEquals(shellQuote("plain/path-1.0:x"), "plain/path-1.0:x");
  } finally {
    await removeTree(dir);
  }
});

Deno.test("directiveValue: sbatch reads back every hostile value without a newline", () => {
  for (const [name, v] of Object.entries(hostileValues("/tmp/canary"))) {
    if (name === "newline") continue;
    const line = `#SBATCH --job-name=${directiveValue(v)}`;
    assertEquals(sbatchArguments(line), [`--job-name=${v}`], name);
  }
  assertEquals(directiveValue("gpu:4,a100"), "gpu:4,a100");
});

Deno.test("directiveValue: a line break is refused", () => {
  for (const v of ["a\nb", "a\rb"]) {
    assertThrows(() => directiveValue(v), (e) => {
      assert_(e instanceof RenderError);
      assertMatch(e.message, /cannot contain a newline/);
    });
  }
});

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

async function readNulList(path: string): Promise<string[]> {
  return (await Deno.readTextFile(path)).split("\0").slice(0, -1);
}

Deno.test("hostile values never execute and arrive byte-exact (single job and array)", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "autoexp-hostile-" });
  try {
    const canary = `${tmp}/canary`;
    const h = hostileValues(canary);
    const oneLine = `${h.quotes} ${h.dollar} ${h.backticks} ${h.subst} ${h.glob} ${h.redirect}`;
    // A fake `module` command and a program that records what it receives.
    const bin = `${tmp}/bin`;
    await Deno.mkdir(bin);
    await Deno.writeTextFile(
      `${bin}/module`,
      `#!/bin/bash\nprintf '%s\\0' "$@" > "$MODULE_LOG"\n`,
    );
    const recorder = `${tmp}/bin/record args`;
    await Deno.writeTextFile(
      recorder,
      [
        "#!/bin/bash",
        `printf '%s\\0' "$@" > "$AUTOEXP_RUN_DIR/argv.bin"`,
        `printf '%s\\0' "$EVIL_PLAIN" "$EVIL_NEWLINE" "$EVIL_BACKEND" > "$AUTOEXP_RUN_DIR/env.bin"`,
        "",
      ].join("\n"),
    );
    await Deno.chmod(`${bin}/module`, 0o755);
    await Deno.chmod(recorder, 0o755);
    const modules = [h.subst, h.quotes, h.newline];
    const commandArgs = [h.dollar, h.backticks, h.newline, h.spaces, h.glob];
    const config = {
      defaults: ["_self_"],
      project: { name: "hostile", base_output_dir: `${tmp}/out 'dir' "x" $HOME` },
      slurm: {
        autoexp_command: [Deno.execPath(), "run", "-A", "--quiet", `${ROOT}/main.ts`],
        array: false,
        sbatch: {
          job_name: oneLine,
          account: h.backticks,
          constraint: h.subst,
          qos: h.quotes,
          mail_user: h.glob,
          time: "00:05:00",
        },
        modules,
        env: { EVIL_PLAIN: oneLine, EVIL_NEWLINE: h.newline },
      },
      backend: {
        name: "command",
        command: [recorder, ...commandArgs],
        args: { msg: h.redirect, multi: [h.unicode, h.newline] },
        env: { EVIL_BACKEND: h.subst },
      },
      sweep: { name_template: "run{seed}", axes: { seed: [1, 2] }, metadata_keys: ["seed"] },
      seed: 0,
    };
    const configDir = `${tmp}/config`;
    await Deno.mkdir(configDir);
    await Deno.writeTextFile(`${configDir}/autoexp.yaml`, JSON.stringify(config, null, 2));
    const expectedArgv = [
      ...commandArgs,
      "--msg",
      h.redirect,
      "--multi",
      h.unicode,
      h.newline,
    ];

    for (const array of [false, true]) {
      const outcome = await writePlan(
        { configDir, overrides: array ? ["slurm.array=true"] : [] },
        { fs: new DenoFileSystem(), host: fakeHost({}, tmp) },
      );
      const p = outcome.plan;
      assertEquals(p.runs.map((r) => r.name), ["run1", "run2"]);
      // sweep.json (whose lines the jobs read) holds the values byte-exact.
      const lines = JSON.parse(await Deno.readTextFile(`${p.sweep.dir}/sweep.json`)).runs;
      assertEquals(lines[0].argv, [recorder, ...expectedArgv]);
      assertEquals(lines[0].env, {
        EVIL_PLAIN: oneLine,
        EVIL_NEWLINE: h.newline,
        EVIL_BACKEND: h.subst,
      });

      for (const run of p.runs) {
        const group = p.groups.find((g) => g.id === run.group)!;
        const chunk = group.chunks[0];
        const text = await Deno.readTextFile(`${p.sweep.dir}/${chunk.script}`);
        // SC2016 notes that `$(...)` inside single quotes does not expand: here that is the point.
        await assertCleanShell(`hostile ${chunk.script}`, text, ["SC2016"]);
        // sbatch reads each option back exactly.
        assertEquals(option(text, "--job-name"), oneLine);
        assertEquals(option(text, "--account"), h.backticks);
        assertEquals(option(text, "--constraint"), h.subst);
        assertEquals(option(text, "--qos"), h.quotes);
        assertEquals(option(text, "--mail-user"), h.glob);
        assertEquals(
          option(text, "--output"),
          array ? `${p.sweep.dir}/logs/${group.id}/%A_%a.log` : `${run.runDir}/logs/%j.log`,
        );
        // Run the whole script: module load, then run-entry, then the recorder.
        const moduleLog = `${tmp}/module.${array}.${run.index}.bin`;
        const out = await new Deno.Command("bash", {
          args: [`${p.sweep.dir}/${chunk.script}`],
          cwd: tmp,
          env: {
            PATH: `${bin}:${Deno.env.get("PATH")}`,
            MODULE_LOG: moduleLog,
            ...(array ? { SLURM_ARRAY_TASK_ID: String(run.index - chunk.offset) } : {}),
          },
          clearEnv: true,
          stdout: "piped",
          stderr: "piped",
        }).output();
        const stderr = new TextDecoder().decode(out.stderr);
        assertEquals(out.code, 0, stderr);
        assertEquals(await readNulList(moduleLog), ["load", ...modules]);
        assertEquals(await readNulList(`${run.runDir}/argv.bin`), expectedArgv);
        assertEquals(await readNulList(`${run.runDir}/env.bin`), [oneLine, h.newline, h.subst]);
        const markers = [...Deno.readDirSync(`${run.runDir}/attempts`)];
        assertEquals(markers.length, array ? 2 : 1, "one attempt marker per run of the script");
      }
    }
    assertEquals(await exists(canary), false, "no hostile value was executed");
  } finally {
    await removeTree(tmp);
  }
});

Deno.test("a line break in a directive value is refused with the key path", async () => {
  // Overrides cannot write a line break, so each case is a config file (JSON is YAML).
  const base = {
    defaults: ["_self_"],
    project: { name: "nl", base_output_dir: "/scratch/test" },
    slurm: { autoexp_command: [AUTOEXP], sbatch: { time: "00:05:00" } },
    backend: { name: "command", command: ["true"] },
  };
  const cases: [string, unknown, RegExp][] = [
    ["slurm.sbatch.job_name", { sbatch: { job_name: "a\nb" } }, /contains a line break/],
    ["slurm.sbatch.account", { sbatch: { account: "x\r\ny" } }, /contains a line break/],
    [
      "slurm.sbatch_extra_directives[0]",
      { sbatch_extra_directives: ["#SBATCH --a=1\n#SBATCH --b=2"] },
      /is not one directive line: write it as "#SBATCH --option=value"/,
    ],
    [
      "slurm.sbatch_extra_directives[0]",
      { sbatch_extra_directives: ["--gpu-bind=closest"] },
      /is not one directive line: write it as "#SBATCH --option=value"/,
    ],
    [
      "slurm.env.X",
      { env: { X: { value: "$(a\nb)", shell: true } } },
      /shell expression of X contains a line break/,
    ],
  ];
  const tmp = await Deno.makeTempDir({ prefix: "autoexp-nl-" });
  try {
    for (const [path, slurm, message] of cases) {
      const config = { ...base, slurm: deepMerge(base.slurm, slurm as Record<string, unknown>) };
      await Deno.writeTextFile(`${tmp}/autoexp.yaml`, JSON.stringify(config));
      await assertRejects(() => plan(tmp), (e) => {
        assert_(e instanceof ConfigError, `${path}: ${e}`);
        assertEquals(e.problems.map((p) => p.path), [path]);
        assertMatch(e.message, message);
      });
    }
    const badDir = { ...base, project: { name: "nl", base_output_dir: "/a\nb" } };
    await Deno.writeTextFile(`${tmp}/autoexp.yaml`, JSON.stringify(badDir));
    await assertRejects(() => plan(tmp), (e) => {
      assert_(e instanceof ConfigError);
      assertEquals(e.problems.map((p) => p.path), ["project.base_output_dir"]);
      assertMatch(e.message, /contains a line break/);
    });
  } finally {
    await removeTree(tmp);
  }
});

function deepMerge(
  a: Record<string, unknown>,
  b: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] = prev && typeof prev === "object" && !Array.isArray(prev) && typeof v === "object" &&
        v !== null && !Array.isArray(v)
      ? deepMerge(prev as Record<string, unknown>, v as Record<string, unknown>)
      : v;
  }
  return out;
}
