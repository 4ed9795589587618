/**
 * End to end: `autoexp submit` through the real CLI, on the embedded local scheduler and on the
 * real single-node SLURM cluster (tools/slurm_cluster.sh). CI sets AUTOEXP_SLURM_TESTS=1 and
 * then the SLURM variants must run (and fail when the cluster is missing); elsewhere they run
 * when `sinfo` answers.
 */
import { parseJournal } from "../../lib/store/store.ts";
import { assert_, assertEquals, assertMatch, assertNotMatch } from "../_assert.ts";
import { makeTree, removeTree, ROOT, runAutoexp, slurmHere, slurmWanted } from "../_helpers.ts";
const kinds: ("local" | "slurm")[] = [
  "local",
  ...(slurmWanted || slurmHere ? ["slurm" as const] : []),
];

function config(out: string, body: string, extra = ""): Record<string, string> {
  return {
    "autoexp.yaml": `defaults:
  - project: default
  - slurm: base
  - backend: command
  - container: none
  - _self_
project:
  name: e2e
  base_output_dir: ${out}
code: 0
slurm:
  array: {enabled: true, throttle: 2}
  sbatch:
    time: "00:05:00"
    ntasks_per_node: 1
    cpus_per_task: 1
${extra}
backend:
  command: [bash, -c, ${JSON.stringify(body)}, job]
`,
  };
}

async function sweepState(dir: string) {
  // deno-lint-ignore no-explicit-any
  return parseJournal(await Deno.readTextFile(`${dir}/e2e/.autoexp/journal.jsonl`)) as any[];
}

for (const kind of kinds) {
  const env = { AUTOEXP_LOCAL_DIR: "" } as Record<string, string>;

  Deno.test(`e2e ${kind}: an array sweep runs to completion, exit codes propagate, logs and markers exist`, async () => {
    const out = await makeTree({});
    const cfg = await makeTree(
      config(
        out,
        'echo "run $AUTOEXP_RUN on $SLURM_JOB_ID"; exit $CODE',
        "  env:\n    CODE: ${code}",
      ),
    );
    env.AUTOEXP_LOCAL_DIR = `${out}/local-scheduler`;
    try {
      const r = await runAutoexp([
        "submit",
        "-C",
        cfg,
        "-m",
        "-o",
        "code=0,3",
        "--scheduler",
        kind,
      ], { env });
      assertEquals(r.code, 1, `${r.stdout}\n${r.stderr}`);
      assertMatch(r.stdout, new RegExp(`scheduler: ${kind}`));
      assertMatch(r.stderr, /1 of 2 runs did not complete/);
      const summary = r.stdout.slice(r.stdout.lastIndexOf("run "));
      assertMatch(summary, /e2e_code0\s+completed\s+1/);
      assertMatch(summary, /e2e_code3\s+failed\s+1\s+\S+ ago\s+\S+\s+3\s/);
      for (const run of ["e2e_code0", "e2e_code3"]) {
        const logs = [...Deno.readDirSync(`${out}/e2e/runs/${run}/logs`)].map((e) => e.name);
        assertEquals(logs.length, 1, `${run} has one attempt log`);
        const text = await Deno.readTextFile(`${out}/e2e/runs/${run}/logs/${logs[0]}`);
        assertMatch(text, new RegExp(`run ${run} on \\d+`));
        const markers = [...Deno.readDirSync(`${out}/e2e/runs/${run}/attempts`)];
        assertEquals(markers.length, 1);
      }
      // status and logs read the same truth.
      const st = await runAutoexp(["status", "--state", `${out}/e2e`, "--json"], { env });
      assertEquals(st.code, 0, st.stderr);
      const rows = JSON.parse(st.stdout).runs;
      assertEquals(
        rows.map((
          x: { run: string; state: string; exit_code: number },
        ) => [x.run, x.state, x.exit_code]),
        [
          ["e2e_code0", "completed", 0],
          ["e2e_code3", "failed", 3],
        ],
      );
      const lg = await runAutoexp(["logs", "e2e_code3", "--state", `${out}/e2e`], { env });
      assertEquals(lg.code, 0, lg.stderr);
      assertMatch(lg.stdout, /run e2e_code3 on \d+/);
      // Submitting again submits only the failed run again (a new attempt), never the done ones.
      const again = await runAutoexp([
        "submit",
        "-C",
        cfg,
        "-m",
        "-o",
        "code=0,3",
        "--scheduler",
        kind,
        "--no-monitor",
      ], { env });
      assertEquals(again.code, 0, again.stderr);
      assertMatch(again.stdout, /e2e_code3\s+submitted · job \d+/);
      const events = await sweepState(out);
      assertEquals(events.filter((e) => e.type === "submit_intent").length, 2);
    } finally {
      await removeTree(out);
      await removeTree(cfg);
    }
  });

  Deno.test(`e2e ${kind}: planning again does not change what queued jobs run`, async () => {
    const out = await makeTree({});
    const cfg = await makeTree(config(out, 'sleep 1; echo "msg=$MSG"', "  env:\n    MSG: ${code}"));
    env.AUTOEXP_LOCAL_DIR = `${out}/local-scheduler`;
    try {
      const sub = await runAutoexp(
        [
          "submit",
          "-C",
          cfg,
          "-m",
          "-o",
          "code=1,2,3",
          "-o",
          "slurm.array.throttle=1",
          "--scheduler",
          kind,
          "--no-monitor",
        ],
        { env },
      );
      assertEquals(sub.code, 0, sub.stderr);
      // The same sweep planned again with other values while its tasks wait their turn.
      const re = await runAutoexp([
        "plan",
        "-C",
        cfg,
        "-m",
        "-o",
        "code=7,8,9",
        "-o",
        "slurm.array.throttle=1",
      ], { env });
      assertEquals(re.code, 0, re.stderr);
      const follow = await runAutoexp([
        "submit",
        "-C",
        cfg,
        "-m",
        "-o",
        "code=1,2,3",
        "-o",
        "slurm.array.throttle=1",
        "--scheduler",
        kind,
      ], { env });
      assertEquals(follow.code, 0, follow.stdout + follow.stderr);
      for (const c of [1, 2, 3]) {
        const lg = await runAutoexp(["logs", `e2e_code${c}`, "--state", `${out}/e2e`], { env });
        assertMatch(lg.stdout, new RegExp(`msg=${c}`));
      }
    } finally {
      await removeTree(out);
      await removeTree(cfg);
    }
  });

  Deno.test(`e2e ${kind}: submit twice submits once`, async () => {
    const out = await makeTree({});
    const cfg = await makeTree(config(out, "sleep 1"));
    env.AUTOEXP_LOCAL_DIR = `${out}/local-scheduler`;
    try {
      const first = await runAutoexp(["submit", "-C", cfg, "--scheduler", kind, "--no-monitor"], {
        env,
      });
      assertEquals(first.code, 0, first.stderr);
      const second = await runAutoexp(["submit", "-C", cfg, "--scheduler", kind], { env });
      assertEquals(second.code, 0, second.stderr);
      assertMatch(second.stdout, /nothing to submit/);
      assertMatch(second.stdout, /e2e\s+completed\s+1/);
      const events = await sweepState(out);
      assertEquals(events.filter((e) => e.type === "submit_intent").length, 1);
    } finally {
      await removeTree(out);
      await removeTree(cfg);
    }
  });

  Deno.test(`e2e ${kind}: cancel stops a running run`, async () => {
    const out = await makeTree({});
    const cfg = await makeTree(config(out, "sleep 300"));
    env.AUTOEXP_LOCAL_DIR = `${out}/local-scheduler`;
    try {
      const sub = await runAutoexp(["submit", "-C", cfg, "--scheduler", kind, "--no-monitor"], {
        env,
      });
      assertEquals(sub.code, 0, sub.stderr);
      const c = await runAutoexp(["cancel", "--all", "--state", `${out}/e2e`], { env });
      assertEquals(c.code, 0, c.stderr);
      assertMatch(c.stdout, /cancelled 1 job/);
      // The cancel command reconciles afterwards: the journal records the run as cancelled.
      let states: string[] = [];
      for (let i = 0; i < 20 && !states.includes("cancelled"); i++) {
        states = (await sweepState(out)).filter((e) => e.type === "observed").map((e) => e.state);
        if (!states.includes("cancelled")) {
          await new Promise((res) => setTimeout(res, 1000));
          await runAutoexp(["cancel", "--all", "--state", `${out}/e2e`], { env });
        }
      }
      assert_(
        states.includes("cancelled"),
        `observed states: ${states.join(", ")}\n${await Deno.readTextFile(
          `${out}/e2e/.autoexp/journal.jsonl`,
        )}`,
      );
      // Cancelling again cancels nothing and does not claim to.
      const again = await runAutoexp(["cancel", "--all", "--state", `${out}/e2e`], { env });
      assertEquals(again.code, 0, again.stderr);
      assertNotMatch(again.stdout, /cancelled \d+ job/);
      assertMatch(again.stdout, /nothing to cancel|already ended: e2e/);
      // --json says the same as data: no job cancelled.
      const json = await runAutoexp(["cancel", "--all", "--json", "--state", `${out}/e2e`], {
        env,
      });
      assertEquals(json.code, 0, json.stderr);
      const done = JSON.parse(json.stdout);
      assertEquals(done.cancelled, []);
    } finally {
      await removeTree(out);
      await removeTree(cfg);
    }
  });
}

if (kinds.includes("slurm")) {
  Deno.test("e2e slurm: a partition sbatch refuses is a user error naming it, half-recorded nothing", async () => {
    const out = await makeTree({});
    const cfg = await makeTree(config(out, "true", "    partition: no_such_partition"));
    try {
      const r = await runAutoexp(["submit", "-C", cfg, "--scheduler", "slurm"]);
      assertEquals(r.code, 2, r.stdout + r.stderr);
      assertMatch(r.stderr, /slurm\.sbatch\.partition = "no_such_partition" was refused/);
      assertMatch(r.stderr, /invalid partition/i);
      assertMatch(r.stderr, /sinfo -s/);
      const events = await sweepState(out);
      assertEquals(events.filter((e) => e.type === "submitted").length, 0);
      assertEquals(events.filter((e) => e.type === "submit_failed").length, 1);
    } finally {
      await removeTree(out);
      await removeTree(cfg);
    }
  });
  Deno.test("e2e slurm: cancel --all during a submission waits for its job and cancels it", async () => {
    const out = await makeTree({});
    const cfg = await makeTree(config(out, "sleep 300"));
    // An sbatch that waits while the gate file exists: the submission is in flight.
    const gate = `${out}/sbatch.gate`;
    const real = (await new Deno.Command("bash", { args: ["-c", "command -v sbatch"] }).output())
      .stdout;
    await Deno.mkdir(`${out}/bin`);
    await Deno.writeTextFile(
      `${out}/bin/sbatch`,
      `#!/bin/bash\nwhile [ -e ${gate} ]; do sleep 0.2; done\nexec ${
        new TextDecoder().decode(real).trim()
      } "$@"\n`,
    );
    await Deno.chmod(`${out}/bin/sbatch`, 0o755);
    await Deno.writeTextFile(gate, "");
    const env = { PATH: `${out}/bin:${Deno.env.get("PATH")}` };
    try {
      const submit = runAutoexp(["submit", "-C", cfg, "--scheduler", "slurm", "--no-monitor"], {
        env,
      });
      for (let i = 0; i < 100; i++) {
        const journal = await Deno.readTextFile(`${out}/e2e/.autoexp/journal.jsonl`).catch(() =>
          ""
        );
        if (journal.includes('"submit_intent"')) break;
        await new Promise((res) => setTimeout(res, 200));
      }
      const cancel = runAutoexp(["cancel", "--all", "--state", `${out}/e2e`], { env });
      await new Promise((res) => setTimeout(res, 3000));
      await Deno.remove(gate);
      const [sub, c] = await Promise.all([submit, cancel]);
      assertEquals(sub.code, 0, sub.stderr);
      assertEquals(c.code, 0, c.stdout + c.stderr);
      assertMatch(c.stderr, /waiting for 1 submission/);
      const jobId = (await sweepState(out)).find((e) => e.type === "submitted")?.jobId;
      assertMatch(c.stdout, new RegExp(`cancelled 1 job: ${jobId}(_0)?\n`));
      let state = "";
      for (let i = 0; i < 30 && !/CANCELLED/.test(state); i++) {
        await new Promise((res) => setTimeout(res, 500));
        const o = await new Deno.Command("scontrol", { args: ["show", "job", jobId] }).output();
        state = new TextDecoder().decode(o.stdout).match(/JobState=(\S+)/)?.[1] ?? "";
      }
      assertEquals(state, "CANCELLED");
    } finally {
      await Deno.remove(gate).catch(() => {});
      await removeTree(out);
      await removeTree(cfg);
    }
  });
  Deno.test("e2e slurm: a %N throttle holds for the sweep when its array is split in parts", async () => {
    const out = await makeTree({});
    const cfg = await makeTree(config(out, "sleep 20", "  max_array_size: 3"));
    try {
      const r = await runAutoexp([
        "submit",
        "-C",
        cfg,
        "--scheduler",
        "slurm",
        "--no-monitor",
        "-m",
        "-o",
        "+n=1,2,3,4,5,6",
        "-o",
        "sweep.metadata_keys=[n]", // n only numbers the runs
      ]);
      assertEquals(r.code, 0, r.stdout + r.stderr);
      const ids = (await sweepState(out)).filter((e) => e.type === "submitted").map((e) => e.jobId);
      assertEquals(ids.length, 2, "two parts of three tasks");
      const show = async (id: string) => {
        const o = await new Deno.Command("scontrol", { args: ["show", "job", id] }).output();
        return new TextDecoder().decode(o.stdout);
      };
      // The second part waits for the whole first part (at most 2 tasks at once in all).
      // (The controller gives the reason on its next scheduling pass.)
      let shown = "";
      for (let i = 0; i < 20 && !/Reason=Dependency/.test(shown); i++) {
        shown = await show(ids[1]);
        await new Promise((res) => setTimeout(res, 500));
      }
      assertMatch(shown, new RegExp(`Dependency=afterany:${ids[0]}`));
      assertMatch(shown, /JobState=PENDING Reason=Dependency/);
      const c = await runAutoexp(["cancel", "--all", "--state", `${out}/e2e`]);
      assertEquals(c.code, 0, c.stderr);
    } finally {
      await removeTree(out);
      await removeTree(cfg);
    }
  });
} else if (slurmWanted) {
  Deno.test("e2e slurm: the SLURM test cluster is running", () => {
    throw new Error(
      "AUTOEXP_SLURM_TESTS=1 but sinfo does not answer: start it with tools/slurm_cluster.sh start",
    );
  });
}

Deno.test("e2e local: tokens from the environment reach the job and are written to no file", async () => {
  const out = await makeTree({});
  const token = `hf_${crypto.randomUUID().replaceAll("-", "")}`;
  const wandb = `wb_${crypto.randomUUID().replaceAll("-", "")}`;
  const plain = `plain_${crypto.randomUUID().replaceAll("-", "")}`;
  const cfg = await makeTree(config(
    out,
    'for v in "$HF_TOKEN" "$WANDB_API_KEY" "$SETTING"; do printf %s "$v" | sha256sum; done',
    [
      "  env:",
      "    HF_TOKEN: ${oc.env:HF_TOKEN}",
      "    WANDB_API_KEY: ${oc.env:WANDB_API_KEY}",
      "    SETTING: ${oc.env:AUTOEXP_TEST_SETTING}",
    ].join("\n"),
  ));
  const env = {
    AUTOEXP_LOCAL_DIR: `${out}/local-scheduler`,
    HF_TOKEN: token,
    WANDB_API_KEY: wandb,
    AUTOEXP_TEST_SETTING: plain,
  };
  const sha = async (s: string) =>
    [...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(s)))]
      .map((b) => b.toString(16).padStart(2, "0")).join("");
  try {
    const shown = await runAutoexp(["config", "-C", cfg, "--resolve"], { env });
    assertEquals(shown.code, 0, shown.stderr);
    assertMatch(shown.stdout, /HF_TOKEN: "?\*\*\*"?/);
    assertMatch(shown.stdout, /WANDB_API_KEY: "?\*\*\*"?/);
    const plan = await runAutoexp(["plan", "-C", cfg], { env });
    const sub = await runAutoexp(["submit", "-C", cfg, "--scheduler", "local"], { env });
    assertEquals(sub.code, 0, sub.stdout + sub.stderr);
    const status = await runAutoexp(["status", "--state", `${out}/e2e`], { env });
    // The job got every value (its log shows their hashes)...
    const logs = [...Deno.readDirSync(`${out}/e2e/runs/e2e/logs`)];
    const log = await Deno.readTextFile(`${out}/e2e/runs/e2e/logs/${logs[0].name}`);
    for (const v of [token, wandb, plain]) assertMatch(log, new RegExp(await sha(v)));
    // ...and no file of the sweep, nor anything autoexp printed, holds a value.
    const leaks: string[] = [];
    const walk = (dir: string) => {
      for (const e of Deno.readDirSync(dir)) {
        const path = `${dir}/${e.name}`;
        if (e.isDirectory) walk(path);
        else if (e.isFile) {
          const text = Deno.readTextFileSync(path);
          for (const v of [token, wandb, plain]) if (text.includes(v)) leaks.push(`${path}: ${v}`);
        }
      }
    };
    walk(`${out}/e2e`);
    const printed = [shown, plan, sub, status].map((r) => r.stdout + r.stderr).join("\n");
    for (const v of [token, wandb]) if (printed.includes(v)) leaks.push(`printed: ${v}`);
    assertEquals(leaks, []);
    // The state directory is not writable by others; the local scheduler's job specs (which
    // hold the submitting environment, as slurmctld's state does) are private.
    assertEquals(Deno.statSync(`${out}/e2e/.autoexp`).mode! & 0o022, 0);
    assertEquals(Deno.statSync(`${out}/local-scheduler/jobs`).mode! & 0o077, 0);
  } finally {
    await removeTree(out);
    await removeTree(cfg);
  }
});

Deno.test("e2e local: a submission above slurm.confirm_above is asked about, refused unasked", async () => {
  const out = await makeTree({});
  const env = { AUTOEXP_OUTPUT_DIR: out, AUTOEXP_LOCAL_DIR: `${out}/local-scheduler` };
  const args = [
    "submit",
    "-C",
    `${ROOT}/examples/demo`,
    "--scheduler",
    "local",
    "--no-monitor",
    "-o",
    "+slurm.confirm_above={runs: 1}",
  ];
  const intents = async () =>
    (await Deno.readTextFile(`${out}/demo/.autoexp/journal.jsonl`).catch(() => ""))
      .split('"submit_intent"').length - 1;
  try {
    // No terminal: nobody can confirm; nothing is submitted.
    const refused = await runAutoexp(args, { env });
    assertEquals(refused.code, 2, refused.stdout + refused.stderr);
    assertMatch(
      refused.stderr,
      /not submitted: 3 runs .* above slurm\.confirm_above \(3 runs \(limit 1\)\)/,
    );
    assertMatch(refused.stderr, /--yes/);
    assertEquals(await intents(), 0);
    // On a terminal (a pty from util-linux `script`): "n" refuses, "y" submits.
    const onTty = async (answer: string) => {
      const cmd = [Deno.execPath(), "run", "-A", "--quiet", `${ROOT}/main.ts`, ...args]
        .map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(" ");
      const child = new Deno.Command("script", {
        args: ["-qec", cmd, "/dev/null"],
        cwd: ROOT,
        env: { ...env, NO_COLOR: "1" },
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const w = child.stdin.getWriter();
      // Typed once the question is up.
      setTimeout(
        () => w.write(new TextEncoder().encode(`${answer}\n`)).then(() => w.close()),
        6000,
      );
      const o = await child.output();
      return { code: o.code, text: new TextDecoder().decode(o.stdout) };
    };
    const no = await onTty("n");
    assertMatch(no.text, /Submit\? \[y\/N\]/);
    assertEquals(no.code, 2, no.text);
    assertEquals(await intents(), 0);
    const yes = await onTty("y");
    assertEquals(yes.code, 0, yes.text);
    assertEquals(await intents(), 1);
  } finally {
    await removeTree(out);
  }
});

Deno.test("e2e local: a damaged journal is rebuilt from the runs' markers; completed runs are not run again", async () => {
  const out = await makeTree({});
  const cfg = await makeTree(config(out, "echo run $AUTOEXP_RUN; exit 0"));
  const env = { AUTOEXP_LOCAL_DIR: `${out}/local-scheduler` };
  const journalPath = `${out}/e2e/.autoexp/journal.jsonl`;
  const intents = async () =>
    (await Deno.readTextFile(journalPath)).split('"submit_intent"').length - 1;
  const args = ["-C", cfg, "--scheduler", "local", "-m", "-o", "+n=1,2,3,4,5"];
  args.push("-o", "sweep.metadata_keys=[n]"); // n only numbers the runs
  try {
    const first = await runAutoexp(["submit", ...args], { env });
    assertEquals(first.code, 0, first.stdout + first.stderr);
    const full = await Deno.readTextFile(journalPath);
    const submitted = await intents();
    // Cut mid-line at 60%, snapshot gone: monitor and submit again submit nothing.
    await Deno.writeTextFile(journalPath, full.slice(0, Math.floor(full.length * 0.6)));
    await Deno.remove(`${out}/e2e/.autoexp/snapshot.json`).catch(() => {});
    const monitor = await runAutoexp(["monitor", "--once", "--state", `${out}/e2e`], { env });
    assertEquals(monitor.code, 0, monitor.stdout + monitor.stderr);
    const again = await runAutoexp(["submit", ...args, "--no-monitor"], { env });
    assertEquals(again.code, 0, again.stdout + again.stderr);
    assertMatch(again.stdout, /nothing to submit/);
    assert_(await intents() <= submitted, "no new submission");
    // Emptied: every run is recovered from its marker, said so, and nothing is submitted.
    await Deno.writeTextFile(journalPath, "");
    await Deno.remove(`${out}/e2e/.autoexp/snapshot.json`).catch(() => {});
    const rebuilt = await runAutoexp(["submit", ...args, "--no-monitor"], { env });
    assertEquals(rebuilt.code, 0, rebuilt.stdout + rebuilt.stderr);
    assertEquals(
      rebuilt.stdout.match(/recovered job \S+ from its marker \(completed\)/g)?.length,
      5,
    );
    assertMatch(rebuilt.stdout, /nothing to submit: 5 run\(s\)/);
    assertEquals(await intents(), 0);
    const status = await runAutoexp(["status", "--state", `${out}/e2e`, "--json"], { env });
    const rows = JSON.parse(status.stdout) as { state: string }[] | { runs: { state: string }[] };
    const list = Array.isArray(rows) ? rows : rows.runs;
    assertEquals(list.map((r) => r.state), Array(5).fill("completed"));
  } finally {
    await removeTree(out);
    await removeTree(cfg);
  }
});

Deno.test({
  name: "e2e slurm: ten monitors of one user cost one squeue per interval (shared per user)",
  ignore: !(slurmWanted || slurmHere),
  fn: async () => {
    const out = await makeTree({});
    // squeue through a wrapper that counts its calls; the shared answer in a private directory.
    const bin = `${out}/bin`;
    await Deno.mkdir(bin);
    const real = new TextDecoder().decode(
      (await new Deno.Command("bash", { args: ["-c", "command -v squeue"], stdout: "piped" })
        .output())
        .stdout,
    ).trim();
    await Deno.writeTextFile(
      `${bin}/squeue`,
      `#!/bin/sh\necho "$*" >> ${out}/squeue.calls\nexec ${real} "$@"\n`,
    );
    await Deno.chmod(`${bin}/squeue`, 0o755);
    const env = {
      PATH: `${bin}:${Deno.env.get("PATH")}`,
      XDG_RUNTIME_DIR: `${out}/run`,
    };
    const sweeps: string[] = [];
    try {
      for (let i = 0; i < 10; i++) {
        const cfg = await makeTree(config(`${out}/s${i}`, "sleep 120"));
        const sub = await runAutoexp(
          ["submit", "-C", cfg, "--scheduler", "slurm", "--no-monitor", "-o", `project.name=s${i}`],
          { env },
        );
        assertEquals(sub.code, 0, sub.stderr);
        sweeps.push(`${out}/s${i}/s${i}`);
        await removeTree(cfg);
      }
      const calls = async () =>
        (await Deno.readTextFile(`${out}/squeue.calls`).catch(() => "")).split("\n").filter((l) =>
          l
        ).length;
      const round = async (extra: Record<string, string>) => {
        const before = await calls();
        const runs = await Promise.all(
          sweeps.map((s) =>
            runAutoexp(["monitor", "--once", "--state", s], { env: { ...env, ...extra } })
          ),
        );
        for (const r of runs) assert_(r.code === 0 || r.code === 1, r.stderr);
        return (await calls()) - before;
      };
      await new Promise((res) => setTimeout(res, 2500)); // older than the shared answer's 2 s
      const shared = await round({});
      // Ten monitors asking within one interval: one squeue (two if they straddle its end).
      assert_(shared >= 1 && shared <= 2, `squeue calls with sharing: ${shared}`);
      const alone = await round({ AUTOEXP_SHARED_QUEUE: "0" });
      assert_(alone >= 10, `squeue calls without sharing: ${alone}`);
    } finally {
      for (const s of sweeps) await runAutoexp(["cancel", "--all", "--state", s], { env });
      await removeTree(out);
    }
  },
});
