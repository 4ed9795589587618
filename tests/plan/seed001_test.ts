/**
 * Seed 001's platform and path behaviours (issue 17), planned from the seed's own snippets:
 * platform detection from project variables choosing slurm and container presets, the seed's
 * `megatron_auto_resume` preset verbatim, `project.log_path` / `log_path_current` /
 * `slurm.log_dir` / `script_dir`, job name templates, `backend=evaluation`, and the seed tool's
 * flat run layout.
 */
import { assert_, assertEquals, assertMatch, assertRejects } from "../_assert.ts";
import { makeTree, removeTree } from "../_helpers.ts";
import { FakeScheduler } from "../_fake_scheduler.ts";
import { ConfigError } from "../../lib/errors.ts";
import { computePlan, type PlanRequest } from "../../lib/plan/mod.ts";
import { checkJobName, fillJobName } from "../../lib/plan/job_name.ts";
import { renderScripts } from "../../lib/render/script.ts";
import { RUN_OWNER_FILE, writePlan } from "../../lib/render/tree.ts";
import { DenoFileSystem } from "../../lib/runtime/fs.ts";
import type { Host } from "../../lib/runtime/mod.ts";
import { SweepStore } from "../../lib/store/store.ts";
import { submitSweep } from "../../lib/submit/mod.ts";

const fs = new DenoFileSystem();

function host(env: Record<string, string> = {}, cwd = "/home/me"): Host {
  return {
    env: { SLURM_ACCOUNT: "project_465000123", USER: "me", ...env },
    hostname: () => "login1",
    cwd: () => cwd,
    now: () => new Date(2026, 11, 3, 16, 5, 9),
    color: false,
    pid: 4242,
    selfCommand: () => ["/usr/local/bin/autoexp"],
  };
}

async function withDir(files: Record<string, string>, fn: (dir: string) => Promise<void>) {
  const dir = await makeTree(files);
  try {
    await fn(dir);
  } finally {
    await removeTree(dir);
  }
}

function plan(req: PlanRequest, env: Record<string, string> = {}) {
  return computePlan(req, { fs, host: host(env) });
}

async function problemsOf(p: Promise<unknown>): Promise<string> {
  const e = await assertRejects(() => p);
  assert_(e instanceof ConfigError, `expected a ConfigError, got ${e}`);
  return e.message;
}

// --- platform: the seed's `config/platform_auto.yaml` defaults, with a project and a backend ---

const PLATFORM_AUTO = `# config/platform_auto.yaml (seed 001), plus a project and a backend
defaults:
  - project: default
  - backend: command
  - slurm: \${platform_detect:}
  - container: \${platform_detect:}
  - _self_
project:
  base_output_dir: /scratch/me
container:
  image: /images/train.sif
backend:
  command: [python, train.py]
`;

for (
  const [env, runtime, flag, bind] of [
    [{ LUMI_PROJECT: "project_465000123" }, "apptainer", "--rocm", "/pfs"],
    [{ LEONARDO_PROJECT: "AIFAC_L01_028" }, "singularity", "--nv", "/leonardo"],
    [{ JUWELS_PROJECT: "opengptx" }, "apptainer", "--nv", "/p"],
    [{ AUTOEXP_PLATFORM: "jupiter" }, "apptainer", "--nv", "/p"],
    [{ AUTOEXP_PLATFORM: "marenostrum" }, "singularity", "--nv", "/gpfs"],
  ] as const
) {
  const platform = Object.values(env)[0];
  Deno.test(`seed 001 platform_auto: ${JSON.stringify(env)} picks its slurm and container presets`, () =>
    withDir({ "platform_auto.yaml": PLATFORM_AUTO }, async (dir) => {
      const out = await plan({ configDir: dir, configName: "platform_auto" }, env);
      const detected = out.platform.platform;
      assert_(detected !== "base", `${platform}: detected ${detected}`);
      assertEquals(out.prepared.base.choices.slurm, detected);
      assertEquals(out.prepared.base.choices.container, detected);
      const argv = out.plan.runs[0].argv;
      assertEquals(argv.slice(0, 2), [runtime, "exec"]);
      assert_(argv.includes(flag), `${detected}: ${argv.join(" ")}`);
      assertEquals(argv[argv.indexOf("--bind") + 1], bind);
      assertEquals(argv.slice(-3), ["/images/train.sif", "python", "train.py"]);
    }));
}

Deno.test("seed 001 platform_auto: an unknown cluster gets container/base (Apptainer) and slurm/base", () =>
  withDir({ "platform_auto.yaml": PLATFORM_AUTO }, async (dir) => {
    const out = await plan({ configDir: dir, configName: "platform_auto" });
    assertEquals(out.platform.platform, "base");
    assertEquals(out.prepared.base.choices.container, "base");
    assertEquals(out.plan.runs[0].argv.slice(0, 3), ["apptainer", "exec", "--nv"]);
  }));

// --- the seed's megatron_auto_resume preset, verbatim ---

const AUTO_RESUME = `# config/monitoring/megatron_auto_resume.yaml (seed 001, verbatim)
class_name: SlurmLogMonitor
poll_interval_seconds: 30
inactivity_threshold_seconds: 1800

# Log path uses SLURM job ID for uniqueness
log_path: \${project.log_path_current}

# Additional output paths for inactivity detection
output_paths:
  - "{output_dir}/train.log"
  - "{output_dir}/checkpoints/latest_checkpointed_iteration.txt"

state_events:
  - name: timeout
    state:
      class_name: TimeoutState
    actions:
      # Automatic restart with same experiment directory
      - class_name: EventAction
        conditions:
          - class_name: MaxAttemptsCondition
            max_attempts: 5
        action:
          class_name: RestartAction
          reason: "auto_resume_after_timeout"
          # Backend will automatically resume from latest checkpoint
          # because load path points to stable checkpoint directory

  - name: crash
    state:
      class_name: CrashState
    actions:
      # Restart on non-OOM crashes
      - class_name: EventAction
        conditions:
          - class_name: MetadataCondition
            key: error_type
            not_equals: oom
          - class_name: MaxAttemptsCondition
            max_attempts: 3
        action:
          class_name: RestartAction
          reason: "auto_resume_after_crash"
`;

Deno.test("seed 001 megatron_auto_resume verbatim composes and plans (log_path: ${project.log_path_current})", () =>
  withDir({ "monitoring/megatron_auto_resume.yaml": AUTO_RESUME }, async (dir) => {
    const base = ["monitoring=megatron_auto_resume", "backend=megatron", "slurm=base"];
    const out = await plan({ configDir: dir, overrides: base }, { AUTOEXP_OUTPUT_DIR: "/s" });
    const run = out.plan.runs[0];
    assertEquals(run.logPath, `${run.runDir}/logs/{job_id}.log`);
    assertEquals(run.logLink, undefined);
    // With a current-log path, the monitor's log is that link; each attempt keeps its own log.
    const linked = await plan({
      configDir: dir,
      overrides: [...base, "project.log_path_current='{output_dir}/current.log'"],
    }, { AUTOEXP_OUTPUT_DIR: "/s" });
    assertEquals(linked.plan.runs[0].logLink, "/s/autoexp/runs/autoexp/current.log");
    assertEquals(linked.plan.runs[0].logPath, "/s/autoexp/runs/autoexp/logs/{job_id}.log");
  }));

// --- log and script paths: the seed's config/slurm/base_with_unique_jobname.yaml ---

/** The seed's snippet, with its job name written so that it composes (see the job name tests). */
const UNIQUE_JOBNAME = `class_name: Slurm

# Template paths use stable experiment name
script_dir: \${project.base_output_dir}/{name}/scripts
log_dir: \${project.base_output_dir}/{name}/logs

# Log path includes SLURM job ID for uniqueness
log_path: \${project.log_path_current}

# SBATCH template should include unique job name
sbatch_overrides:
  job_name: "{name}_$(date +%Y%m%d_%H%M%S)"
`;

const SCALING_PROJECT = `class_name: Project
name: scaling_study
base_output_dir: \${oc.env:OUTPUT_DIR}/scaling_experiments

# Monitoring state in stable location (no timestamps in path)
monitoring_state_dir: \${.base_output_dir}/monitoring_state
resume: true
log_path_current: \${.base_output_dir}/{name}/current.log
`;

const SEED_ROOT = `defaults:
  - project: scaling_study
  - slurm: base_with_unique_jobname
  - backend: command
  - container: none
  - _self_
model_size: ???
backend:
  command: [python, train.py, --size, "\${model_size}"]
`;

const seedTree = {
  "autoexp.yaml": SEED_ROOT,
  "project/scaling_study.yaml": SCALING_PROJECT,
  "slurm/base_with_unique_jobname.yaml": UNIQUE_JOBNAME,
};

Deno.test("seed 001 slurm.log_dir, script_dir and project.log_path_current take effect", () =>
  withDir(seedTree, async (dir) => {
    const out = await writePlan(
      { configDir: dir, overrides: ["model_size=50M,100M"], multirun: true },
      { fs, host: host({ OUTPUT_DIR: `${dir}/out` }) },
    );
    const base = `${dir}/out/scaling_experiments`;
    const run = out.plan.runs[0];
    assertEquals(out.plan.runs.length, 2);
    assertEquals(run.logPath, `${base}/${run.name}/logs/{job_id}.log`);
    assertEquals(run.logLink, `${base}/${run.name}/current.log`);
    assertEquals(run.scriptDir, `${base}/${run.name}/scripts`);
    const script = await Deno.readTextFile(`${base}/${run.name}/scripts/${run.name}.sh`);
    assertMatch(script, new RegExp(`^#SBATCH --output=${base}/${run.name}/logs/%j.log$`, "m"));
    // The job name's placeholders: {name} now, the date when it is submitted.
    assert_(script.includes(`#SBATCH --job-name="${run.name}_$(date +%Y%m%d_%H%M%S)"`), script);
    // sbatch writes into the log folder: it exists before submission.
    assert_(await fs.isDirectory(`${base}/${run.name}/logs`), "log folder made");
    // autoexp's own files stay in the sweep directory.
    assert_(await fs.exists(`${base}/scaling_study/sweep.json`));
  }));

Deno.test("seed 001 project.log_path in SLURM's syntax: %j per attempt, %% a percent sign", async () => {
  const out = await plan({
    overrides: [
      "project.base_output_dir=/o",
      "project.log_path='${.base_output_dir}/{name}/logs/slurm-%j_100%%.out'",
    ],
  });
  const run = out.plan.runs[0];
  assertEquals(run.logPath, "/o/autoexp/logs/slurm-{job_id}_100%.out");
  const script = [...renderScripts(out.plan).values()][0];
  assertMatch(script, /^#SBATCH --output=\/o\/autoexp\/logs\/slurm-%j_100%%.out$/m);
});

Deno.test("seed 001 log paths autoexp cannot honour are errors that say why", async () => {
  const base = ["project.base_output_dir=/o"];
  assertMatch(
    await problemsOf(plan({ overrides: [...base, "project.log_path='/o/{name}/slurm.out'"] })),
    /project\.log_path: "\/o\/autoexp\/slurm\.out" is one file for every attempt.*add %j/,
  );
  assertMatch(
    await problemsOf(plan({ overrides: [...base, "project.log_path=/o/%x-%j.out"] })),
    /project\.log_path: .*uses the SLURM pattern %x/,
  );
  assertMatch(
    await problemsOf(plan({ overrides: [...base, "project.log_path=/o/logs/%j/train.out"] })),
    /project\.log_path: .*has %j in a folder name: SLURM does not create folders/,
  );
  assertMatch(
    await problemsOf(plan({ overrides: [...base, "+slurm.log_dir='/o/{run}/logs'"] })),
    /slurm\.log_dir: unknown placeholder \{run\} .*known: \{name\}/,
  );
  assertMatch(
    await problemsOf(plan({
      overrides: [...base, "project.log_path=/o/a-%j.log", "+slurm.log_path=/o/b-%j.log"],
    })),
    /project\.log_path: names the log "\/o\/a-\{job_id\}\.log", but slurm\.log_path names/,
  );
  assertMatch(
    await problemsOf(plan({
      overrides: [
        ...base,
        "+slurm.script_dir='/o/{name}/scripts'",
        "slurm.array=true",
        "+x=1,2",
        "sweep.metadata_keys=[x]",
      ],
      multirun: true,
    })),
    /slurm\.script_dir: the runs of job array array0 would keep their one script in 2 folders/,
  );
});

// --- job names ---

Deno.test("seed 001 job names: {name} and $(date +FORMAT) filled at submission, -a<N> kept", () =>
  withDir(seedTree, async (dir) => {
    const out = await writePlan(
      { configDir: dir, overrides: ["model_size=50M"] },
      { fs, host: host({ OUTPUT_DIR: `${dir}/out` }) },
    );
    const sched = new FakeScheduler();
    const store = await SweepStore.open(fs, host(), out.plan.sweep.dir);
    const at = new Date(2026, 11, 3, 16, 5, 9).getTime();
    await submitSweep(out.plan, store, sched, { now: () => at });
    assertEquals(
      [...sched.jobs.values()].map((j) => j.request.jobName),
      ["scaling_study_20261203_160509-a1"],
    );
  }));

Deno.test("fillJobName and checkJobName: the seed's placeholders; shell syntax is warned about", () => {
  const now = new Date(2026, 11, 3, 16, 5, 9);
  const ctx = { name: "50M_lr0.1", index: 4, project: "scaling", now, attempt: "2" };
  assertEquals(fillJobName("{name}_$(date +%Y%m%d_%H%M%S)", ctx), "50M_lr0.1_20261203_160509");
  assertEquals(fillJobName("{project_name}-{index}-{attempt}", ctx), "scaling-4-2");
  assertEquals(
    fillJobName("{{x}}_{timestamp}_$(date)", ctx),
    "{x}_20261203_160509_20261203_160509",
  );
  const fine = checkJobName("{name}_$(date '+%H%M')_100$", "slurm.sbatch.job_name");
  assertEquals(fine, { problems: [], warnings: [] });
  const jobId = checkJobName("{name}_${SLURM_JOB_ID:-pending}", "slurm.sbatch.job_name");
  assertEquals(jobId.problems, []);
  assertMatch(jobId.warnings[0], /reaches SLURM as written.*a job's id is not known before/);
  const { problems: [unknown] } = checkJobName("{experiment}", "slurm.sbatch_overrides.job_name");
  assertEquals(unknown.path, "slurm.sbatch_overrides.job_name");
  assertMatch(unknown.message, /unknown placeholder \{experiment\}.*known: \{name\}/);
});

Deno.test("seed 001 job name with the job id (escaped from interpolation): a warning says why", async () => {
  const out = await plan({
    overrides: [
      "project.base_output_dir=/o",
      "+slurm.sbatch_overrides={job_name: '{name}_\\${SLURM_JOB_ID:-pending}'}",
    ],
  });
  const warning = out.warnings.find((w) => w.startsWith("slurm.sbatch_overrides.job_name"));
  assertMatch(warning ?? "", /reaches SLURM as written.*a job's id is not known/);
  assertMatch(
    await problemsOf(plan({
      overrides: ["project.base_output_dir=/o", "+slurm.sbatch_overrides={job_name: '{nmae}'}"],
    })),
    /slurm\.sbatch_overrides\.job_name: unknown placeholder \{nmae\}/,
  );
});

Deno.test("seed 001 job_name verbatim (${{SLURM_JOB_ID:-pending}}): the error says how to write it", () =>
  withDir({
    ...seedTree,
    "slurm/base_with_unique_jobname.yaml": UNIQUE_JOBNAME.replace(
      `job_name: "{name}_$(date +%Y%m%d_%H%M%S)"`,
      `job_name: "{name}_\${{SLURM_JOB_ID:-pending}}_$(date +%Y%m%d_%H%M%S)"`,
    ),
  }, async (dir) => {
    assertMatch(
      await problemsOf(
        plan({ configDir: dir, overrides: ["model_size=50M"] }, { OUTPUT_DIR: "/o" }),
      ),
      /slurm\.sbatch_overrides\.job_name: .*"\$\{\{" is not an interpolation; for a literal "\$\{" write "\\\$\{"/,
    );
  }));

// --- backend=evaluation: the overrides of seed 001's multi-eval stage 2 ---

Deno.test("seed 001 backend=evaluation: Megatron --skip-train loading the checkpoint, no --save", async () => {
  const out = await plan({
    overrides: [
      "project.base_output_dir=/o",
      "backend=evaluation",
      "+checkpoint_path=/o/autoexp/runs/r/checkpoints",
      "+checkpoint_iteration=10000",
      "backend.args.load=/o/autoexp/runs/r/checkpoints",
      "monitoring=megatron_basic",
    ],
  });
  const argv = out.plan.runs[0].argv;
  const after = (flag: string) => argv[argv.indexOf(flag) + 1];
  assertEquals(after("--load"), "/o/autoexp/runs/r/checkpoints");
  assertEquals(after("--ckpt-step"), "10000");
  assert_(argv.includes("--skip-train"));
  assert_(!argv.includes("--save"), argv.join(" "));
  assertMatch(
    await problemsOf(plan({ overrides: ["project.base_output_dir=/o", "backend=evaluation"] })),
    /backend\.args\.load: missing required value/,
  );
});

// --- the seed tool's flat layout ---

const FLAT_ROOT = `defaults:
  - project: default
  - slurm: base
  - backend: megatron
  - container: none
  - _self_
project:
  name: scaling_study
  base_output_dir: BASE
  run_layout: flat
sweep:
  name_template: "{model_size}_lr{lr}_gbsz128_stable"
  metadata_keys: [model_size, lr] # labels only here: the layout is under test
  axes:
    model_size: [50M, 100M]
    lr: [0.1]
model_size: ???
lr: ???
`;

Deno.test("seed 001 flat layout: runs in <base>/<run>, checkpoints there, state in the sweep dir", () =>
  withDir({}, async (dir) => {
    await Deno.writeTextFile(`${dir}/autoexp.yaml`, FLAT_ROOT.replace("BASE", `${dir}/out`));
    const out = await writePlan({ configDir: dir }, { fs, host: host() });
    const run = out.plan.runs[0];
    assertEquals(run.name, "50M_lr0.1_gbsz128_stable");
    assertEquals(run.runDir, `${dir}/out/50M_lr0.1_gbsz128_stable`);
    assertEquals(out.plan.sweep.dir, `${dir}/out/scaling_study`);
    const argv = run.argv;
    assertEquals(argv[argv.indexOf("--save") + 1], `${run.runDir}/checkpoints`);
    assertEquals(argv[argv.indexOf("--load") + 1], `${run.runDir}/checkpoints`);
    const owner = JSON.parse(await Deno.readTextFile(`${run.runDir}/${RUN_OWNER_FILE}`));
    assertEquals([owner.sweep_dir, owner.run], [out.plan.sweep.dir, run.name]);
    // Planning again is fine: the directories are this sweep's.
    await writePlan({ configDir: dir }, { fs, host: host() });
  }));

Deno.test("seed 001 flat layout: a run directory of another sweep is refused before anything is written", () =>
  withDir({}, async (dir) => {
    await Deno.writeTextFile(`${dir}/autoexp.yaml`, FLAT_ROOT.replace("BASE", `${dir}/out`));
    await writePlan({ configDir: dir }, { fs, host: host() });
    const msg = await problemsOf(
      writePlan({ configDir: dir, overrides: ["project.name=other_study"] }, { fs, host: host() }),
    );
    assertMatch(
      msg,
      /project\.run_layout: 2 run directories are already used by another sweep: "50M_lr0\.1_gbsz128_stable" .*belongs to the sweep in .*\/out\/scaling_study/,
    );
    assert_(!(await fs.exists(`${dir}/out/other_study`)), "nothing of the refused sweep written");
    // A directory the seed tool made (no owner file) is taken over: that is the migration.
    await Deno.mkdir(`${dir}/seed/100M_lr0.1_gbsz128_stable/checkpoints`, { recursive: true });
    await writePlan({ configDir: dir, overrides: [`project.base_output_dir=${dir}/seed`] }, {
      fs,
      host: host(),
    });
    assert_(await fs.exists(`${dir}/seed/100M_lr0.1_gbsz128_stable/${RUN_OWNER_FILE}`));
    // Another project's sweep directory is not a run directory to take over.
    await Deno.mkdir(`${dir}/proj/50M_lr0.1_gbsz128_stable`, { recursive: true });
    await Deno.writeTextFile(`${dir}/proj/50M_lr0.1_gbsz128_stable/sweep.json`, "{}");
    assertMatch(
      await problemsOf(
        writePlan({ configDir: dir, overrides: [`project.base_output_dir=${dir}/proj`] }, {
          fs,
          host: host(),
        }),
      ),
      /"50M_lr0\.1_gbsz128_stable" \(.*\) is the directory of another sweep/,
    );
  }));

Deno.test("seed 001 flat layout: a run named like the project would be the sweep's own directory", async () => {
  assertMatch(
    await problemsOf(plan({
      overrides: ["project.base_output_dir=/o", "project.run_layout=flat"],
    })),
    /project\.run_layout: with run_layout: flat the run "autoexp" would live in \/o\/autoexp/,
  );
});

Deno.test("seed 001 flat layout: `autoexp config` shows the run directory it will have", async () => {
  const { loadConfig } = await import("../../lib/plan/load_config.ts");
  const flat = await loadConfig(
    { overrides: ["project.base_output_dir=/o", "project.run_layout=flat", "project.name=p"] },
    { fs, host: host() },
  );
  assertEquals((flat.resolved!.autoexp as Record<string, unknown>).run_dir, "/o/p");
  const nested = await loadConfig(
    { overrides: ["project.base_output_dir=/o", "project.name=p"] },
    { fs, host: host() },
  );
  assertEquals((nested.resolved!.autoexp as Record<string, unknown>).run_dir, "/o/p/runs/p");
});
