/**
 * `autoexp run-entry`: the dispatcher inside every job. Planned for real, then run as a
 * subprocess the way a job script runs it.
 */
import { assert_, assertEquals, assertMatch } from "../_assert.ts";
import { makeTree, removeTree, ROOT } from "../_helpers.ts";
import { readEntry } from "../../lib/cli/run_entry.ts";
import { writePlan } from "../../lib/render/tree.ts";
import { DenoFileSystem } from "../../lib/runtime/fs.ts";
import type { Host } from "../../lib/runtime/host.ts";

const CHILD = `
set -u
echo "argv:$#:$1|$2"
echo "env:$GREETING|$AUTOEXP_RUN|$AUTOEXP_INDEX|$AUTOEXP_JOB_ID"
case "$MODE" in
  exit7) exit 7 ;;
  usr1) trap 'echo got-usr1 > "$AUTOEXP_RUN_DIR/usr1"; exit 0' USR1; touch "$AUTOEXP_RUN_DIR/ready"; while true; do sleep 0.05; done ;;
  selfkill) kill -TERM $$ ;;
  *) exit 0 ;;
esac
`;

function host(dir: string): Host {
  return {
    env: { AUTOEXP_OUTPUT_DIR: `${dir}/out` },
    hostname: () => "testhost",
    cwd: () => dir,
    now: () => new Date("2026-01-02T03:04:05Z"),
    color: false,
    pid: 4242,
    selfCommand: () => [Deno.execPath(), "run", "-A", `${ROOT}/main.ts`],
  };
}

async function planned(mode: string[], extra: Record<string, string> = {}) {
  const dir = await makeTree({
    "child.sh": CHILD,
    "autoexp.yaml": `defaults:
  - project: default
  - slurm: base
  - backend: command
  - container: none
  - _self_
project:
  name: re
  base_output_dir: \${oc.env:AUTOEXP_OUTPUT_DIR}
mode: ???
slurm:
  env:
    GREETING: "hello 'world' $HOME \`x\`"
    MODE: \${mode}
backend:
  command: [bash, CHILD_PATH, "a b", "\${mode}"]
`,
    ...extra,
  });
  const cfg = (await Deno.readTextFile(`${dir}/autoexp.yaml`)).replace(
    "CHILD_PATH",
    `${dir}/child.sh`,
  );
  await Deno.writeTextFile(`${dir}/autoexp.yaml`, cfg);
  const outcome = await writePlan(
    { configDir: dir, overrides: [`mode=${mode.join(",")}`], multirun: true },
    { fs: new DenoFileSystem(), host: host(dir) },
  );
  return { dir, plan: outcome.plan };
}

function runEntry(
  sweepFile: string,
  index: number,
  env: Record<string, string> = {},
  extra: string[] = [],
) {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--quiet",
      `${ROOT}/main.ts`,
      "run-entry",
      "--sweep",
      sweepFile,
      "--index",
      String(index),
      ...extra,
    ],
    env: { SLURM_JOB_ID: "4242", ...env },
    stdout: "piped",
    stderr: "piped",
  });
}

async function markers(runDir: string) {
  const out = [];
  for await (const e of Deno.readDir(`${runDir}/attempts`)) {
    out.push({
      name: e.name,
      ...JSON.parse(await Deno.readTextFile(`${runDir}/attempts/${e.name}`)),
    });
  }
  return out;
}

Deno.test("run-entry runs the entry's argv with its environment and records markers", async () => {
  const { dir, plan } = await planned(["ok", "exit7", "selfkill"]);
  try {
    const sweep = `${plan.sweep.dir}/sweep.json`;
    const ok = await runEntry(sweep, 0).output();
    const stdout = new TextDecoder().decode(ok.stdout);
    assertEquals(ok.code, 0, new TextDecoder().decode(ok.stderr));
    assertMatch(stdout, /argv:2:a b\|ok/);
    assertEquals(
      stdout.split("\n")[1],
      `env:hello 'world' $HOME \`x\`|${plan.runs[0].name}|0|4242`,
    );
    const [m] = await markers(plan.runs[0].runDir);
    assertEquals(m.name, "4242.0.json");
    assertEquals([m.state, m.exit_code, m.job_id, m.run], [
      "completed",
      0,
      "4242",
      plan.runs[0].name,
    ]);
    assert_(m.started_at <= m.ended_at);
  } finally {
    await removeTree(dir);
  }
});

Deno.test("run-entry propagates exit codes and deaths by signal", async () => {
  const { dir, plan } = await planned(["exit7", "selfkill"]);
  try {
    const sweep = `${plan.sweep.dir}/sweep.json`;
    const failed = await runEntry(sweep, 0, { SLURM_JOB_ID: "77", SLURM_RESTART_COUNT: "2" })
      .output();
    assertEquals(failed.code, 7);
    const [m] = await markers(plan.runs[0].runDir);
    assertEquals([m.name, m.state, m.exit_code, m.restart_count], ["77.2.json", "failed", 7, 2]);
    const killed = await runEntry(sweep, 1).output();
    assertEquals(killed.code, 128 + 15);
    const [k] = await markers(plan.runs[1].runDir);
    assertEquals([k.state, k.exit_code, k.signal], ["failed", 143, "SIGTERM"]);
  } finally {
    await removeTree(dir);
  }
});

Deno.test("run-entry forwards SIGUSR1 to the command so it can save and exit", async () => {
  const { dir, plan } = await planned(["usr1"]);
  try {
    const run = plan.runs[0];
    const child = runEntry(`${plan.sweep.dir}/sweep.json`, 0).spawn();
    for (let i = 0; i < 200; i++) {
      try {
        await Deno.stat(`${run.runDir}/ready`);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 25));
      }
    }
    child.kill("SIGUSR1");
    const status = await child.output();
    assertEquals(status.code, 0);
    assertEquals((await Deno.readTextFile(`${run.runDir}/usr1`)).trim(), "got-usr1");
    const [m] = await markers(run.runDir);
    assertEquals(m.forwarded_signals, ["SIGUSR1"]);
    assertEquals(m.state, "completed");
  } finally {
    await removeTree(dir);
  }
});

Deno.test("run-entry reports a missing entry and a missing command clearly", async () => {
  const { dir, plan } = await planned(["ok"]);
  try {
    const sweep = `${plan.sweep.dir}/sweep.json`;
    const none = await runEntry(sweep, 5).output();
    assertEquals(none.code, 2);
    assertMatch(new TextDecoder().decode(none.stderr), /has no entry 5/);
    const bad = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${ROOT}/main.ts`, "run-entry", "--sweep", sweep],
      stderr: "piped",
    }).output();
    assertEquals(bad.code, 2);
    assertMatch(new TextDecoder().decode(bad.stderr), /--index must be a non-negative integer/);
    // Break the command (same length, so the run index stays valid): the marker says why
    // the attempt failed.
    const runs = await Deno.readTextFile(sweep);
    await Deno.writeTextFile(sweep, runs.replace('"argv":["bash"', '"argv":["bazh"'));
    const missing = await runEntry(sweep, 0).output();
    assertEquals(missing.code, 127);
    const [m] = await markers(plan.runs[0].runDir);
    assertEquals([m.state, m.exit_code], ["failed", 127]);
  } finally {
    await removeTree(dir);
  }
});

Deno.test("run-entry links an array task's log into the run directory", async () => {
  const { dir, plan } = await planned(["ok", "exit7"], {});
  try {
    // Re-plan as an array.
    const cfg = await Deno.readTextFile(`${dir}/autoexp.yaml`);
    await Deno.writeTextFile(
      `${dir}/autoexp.yaml`,
      cfg.replace("slurm:\n", "slurm:\n  array: true\n"),
    );
    const { plan: arr } = await writePlan(
      { configDir: dir, overrides: ["mode=ok,exit7"], multirun: true },
      { fs: new DenoFileSystem(), host: host(dir) },
    );
    assertEquals(arr.groups.map((g) => g.kind), ["array"]);
    const group = arr.groups[0].id;
    await Deno.mkdir(`${arr.sweep.dir}/logs/${group}`, { recursive: true });
    await Deno.writeTextFile(`${arr.sweep.dir}/logs/${group}/900_1.log`, "array output\n");
    const r = await runEntry(`${arr.sweep.dir}/sweep.json`, 1, {
      SLURM_JOB_ID: "901",
      SLURM_ARRAY_JOB_ID: "900",
      SLURM_ARRAY_TASK_ID: "1",
    }).output();
    assertEquals(r.code, 7);
    const link = `${arr.runs[1].runDir}/logs/901.log`;
    assertEquals(await Deno.readLink(link), `${arr.sweep.dir}/logs/${group}/900_1.log`);
    assertEquals(await Deno.readTextFile(link), "array output\n");
    void plan;
  } finally {
    await removeTree(dir);
  }
});

Deno.test({
  name: "run-entry on a full disk: says so, and starts nothing it could not record",
  // Mounting a small file system needs root (CI runs as root).
  ignore: Deno.uid() !== 0,
  fn: async () => {
    const { dir, plan } = await planned(["ok"]);
    const attempts = `${plan.runs[0].runDir}/attempts`;
    await Deno.mkdir(attempts, { recursive: true });
    const mount = await new Deno.Command("mount", {
      args: ["-t", "tmpfs", "-o", "size=8k", "tmpfs", attempts],
    }).output();
    try {
      assertEquals(mount.code, 0, "mount a tiny tmpfs");
      // Fill it.
      await Deno.writeFile(`${attempts}/filler`, new Uint8Array(64 * 1024)).catch(() => {});
      const r = await runEntry(`${plan.sweep.dir}/sweep.json`, 0).output();
      const err = new TextDecoder().decode(r.stderr);
      assertEquals(r.code, 1, err);
      assertMatch(err, /cannot write \S+\/attempts\/4242\.0\.json: no space left/);
      assertMatch(err, /the command was not started/);
      assertEquals(new TextDecoder().decode(r.stdout).includes("argv:"), false);
    } finally {
      await new Deno.Command("umount", { args: [attempts] }).output();
      await removeTree(dir);
    }
  },
});

Deno.test("run-entry: seed 001's EXPERIMENT_NAME, OUTPUT_DIR, CHECKPOINT_DIR and the current-log link", async () => {
  const dir = await makeTree({
    "autoexp.yaml": `defaults:
  - project: default
  - slurm: base
  - backend: command
  - container: none
  - _self_
project:
  name: seedenv
  base_output_dir: \${oc.env:AUTOEXP_OUTPUT_DIR}
  log_path: "{output_dir}/slurm-%j.out"
  log_path_current: "{output_dir}/current.log"
backend:
  command: [bash, -c, 'echo "$EXPERIMENT_NAME|$OUTPUT_DIR|$CHECKPOINT_DIR|$GREETING"']
slurm:
  env:
    GREETING: hi
`,
  });
  try {
    const { plan } = await writePlan({ configDir: dir }, {
      fs: new DenoFileSystem(),
      host: host(dir),
    });
    const run = plan.runs[0];
    const sweep = `${plan.sweep.dir}/sweep.json`;
    // An earlier attempt's link is replaced by the newest attempt's.
    for (const job of ["11", "12"]) {
      const out = await runEntry(sweep, 0, { SLURM_JOB_ID: job, OUTPUT_DIR: "/from/login" })
        .output();
      assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
      assertEquals(
        new TextDecoder().decode(out.stdout).trim(),
        `seedenv|${run.runDir}|${run.runDir}/checkpoints|hi`,
      );
    }
    assertEquals(await Deno.readLink(`${run.runDir}/current.log`), `${run.runDir}/slurm-12.out`);
    const [m] = (await markers(run.runDir)).filter((x) => x.job_id === "12");
    assertEquals(m.log_path, `${run.runDir}/slurm-12.out`);
  } finally {
    await removeTree(dir);
  }
});

Deno.test("run-entry reads a sweep planned before sweep.runs.idx existed (sweep.entries.*), as the run index gives it", async () => {
  // tests/testdata/plan/sweep_before_run_index: tests/testdata/plan/array planned by the version
  // before the run index (commit 5d8958a) into /tmp/autoexp-fixture: sweep.json and the entry
  // files it wrote then. The same config planned now reads back the same entries.
  const fixture = `${ROOT}/tests/testdata/plan/sweep_before_run_index`;
  const out = await Deno.makeTempDir({ prefix: "autoexp-runs-idx-" });
  try {
    const { plan } = await writePlan(
      {
        configDir: `${ROOT}/tests/testdata/plan/array`,
        overrides: [`project.base_output_dir=${out}`],
      },
      { fs: new DenoFileSystem(), host: host(out) },
    );
    const now = `${plan.sweep.dir}/sweep.json`;
    assert_(!(await exists(`${plan.sweep.dir}/sweep.entries.jsonl`)), "each run written once");
    const before = JSON.parse(await Deno.readTextFile(`${fixture}/sweep.json`));
    for (let i = 0; i < 10; i++) {
      const old = await readEntry(`${fixture}/sweep.json`, i);
      const cur = await readEntry(now, i);
      assertEquals(
        old.fingerprint,
        before.runs.find((r: { index: number }) => r.index === i).fingerprint,
      );
      // The fingerprint and the sweep id hash the directory, which differs.
      const { fingerprint: _a, sweep_id: _c, ...oldRest } = old;
      const { fingerprint: _b, sweep_id: _d, ...curRest } = cur;
      assertEquals(
        JSON.parse(JSON.stringify(oldRest).replaceAll("/tmp/autoexp-fixture", out)),
        JSON.parse(JSON.stringify(curRest)),
      );
      assertEquals([cur.kind, cur.group, cur.sweep_id], ["array", "array0", plan.sweep.id]);
      assertEquals(old.sweep_id, before.sweep.id);
    }
    // As a job runs it: the old sweep's entry 3.
    const dry = await runEntry(`${fixture}/sweep.json`, 3, {}, ["--dry-run"]).output();
    assertEquals(dry.code, 0, new TextDecoder().decode(dry.stderr));
    assertEquals(JSON.parse(new TextDecoder().decode(dry.stdout)).argv, [
      "python3",
      "eval.py",
      "--seed=3",
    ]);
  } finally {
    await removeTree(out);
  }
});

Deno.test("run-entry: a run index that does not match sweep.json (re-planned meanwhile) falls back to sweep.json whole", async () => {
  const out = await Deno.makeTempDir({ prefix: "autoexp-runs-idx-" });
  try {
    const { plan } = await writePlan(
      {
        configDir: `${ROOT}/tests/testdata/plan/array`,
        overrides: [`project.base_output_dir=${out}`],
      },
      { fs: new DenoFileSystem(), host: host(out) },
    );
    const file = `${plan.sweep.dir}/sweep.json`;
    // Shift every run line by a few bytes: the index now points into the wrong places.
    const text = await Deno.readTextFile(file);
    await Deno.writeTextFile(file, text.replace('"runs": [\n', '"runs": [\n   '));
    for (const i of [0, 4, 9]) assertEquals((await readEntry(file, i)).index, i);
  } finally {
    await removeTree(out);
  }
});

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
