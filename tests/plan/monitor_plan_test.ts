import { assert_, assertEquals } from "../_assert.ts";

const assertStringIncludes = (text: string, part: string) =>
  assert_(text.includes(part), `expected ${JSON.stringify(part)} in:\n${text}`);
import { makeTree, removeTree, runAutoexp } from "../_helpers.ts";

const CONFIG = (message: string, extra = "") => `
defaults:
  - project: default
  - slurm: base
  - backend: command
  - container: none
  - _self_
project: { name: mon, base_output_dir: ./out }
backend:
  command: [bash, train.sh]
  args: { train_iters: 100 }
monitoring:
  log_events:
    - name: ckpt
      pattern: 'saved checkpoint (?P<iteration>\\d+)'
      extract_groups: { checkpoint_iteration: iteration }
      actions:
        - class_name: LogAction
          message: "${message}"
${extra}
`;

Deno.test("plan: a misspelt placeholder in an action is a config error naming it and the fix", async () => {
  const dir = await makeTree({ "cfg/autoexp.yaml": CONFIG("saved {chekpoint_iteration}") });
  try {
    const r = await runAutoexp(["plan", "-C", `${dir}/cfg`], { cwd: dir });
    assertEquals(r.code, 2, r.stderr);
    assertStringIncludes(r.stderr, "monitoring.log_events[0].actions[0].action.message");
    assertStringIncludes(r.stderr, "unknown placeholder {chekpoint_iteration}");
    assertStringIncludes(r.stderr, "did you mean {checkpoint_iteration}?");
  } finally {
    await removeTree(dir);
  }
});

Deno.test("plan: config placeholders are taken per run into monitor.json", async () => {
  const dir = await makeTree({
    "cfg/autoexp.yaml": CONFIG("at {checkpoint_iteration} of {backend.args.train_iters}"),
  });
  try {
    const r = await runAutoexp(
      ["plan", "-C", `${dir}/cfg`, "-m", "-o", "backend.args.train_iters=100,200"],
      { cwd: dir },
    );
    assertEquals(r.code, 0, r.stderr);
    const file = JSON.parse(await Deno.readTextFile(`${dir}/out/mon/monitor.json`));
    const vars = Object.values(file.runs).map((x) => (x as { vars: Record<string, string> }).vars);
    assertEquals(vars.map((v) => v["backend.args.train_iters"]).sort(), ["100", "200"]);
    assertEquals(Object.keys(file.specs).length, 1, "one spec shared by both runs");
  } finally {
    await removeTree(dir);
  }
});

Deno.test("plan: a bad monitoring section reports every problem at once", async () => {
  const dir = await makeTree({
    "cfg/autoexp.yaml": CONFIG(
      "ok",
      `restart_policies:
  - mode: crsh
    implementation: { class_name: AlwaysRestartPolicy, max_retries: -1 }`,
    ),
  });
  try {
    const r = await runAutoexp(["plan", "-C", `${dir}/cfg`], { cwd: dir });
    assertEquals(r.code, 2, r.stderr);
    assertStringIncludes(r.stderr, "restart_policies[0].mode");
    assertStringIncludes(r.stderr, "restart_policies[0].implementation.max_retries");
  } finally {
    await removeTree(dir);
  }
});

Deno.test("plan: a placeholder only a progress line has is not known to a checkpoint action", async () => {
  const dir = await makeTree({ "cfg/autoexp.yaml": CONFIG("loss {lm_loss}") });
  try {
    const r = await runAutoexp(["plan", "-C", `${dir}/cfg`], { cwd: dir });
    assertEquals(r.code, 2, r.stderr);
    assertStringIncludes(r.stderr, "unknown placeholder {lm_loss}");
  } finally {
    await removeTree(dir);
  }
});

// ---------------------------------------------------------------- issue 17: the restart group

/** A root config choosing `restart: mine` (a user's restart/mine.yaml). */
const WITH_RESTART = `
defaults:
  - project: default
  - slurm: base
  - backend: command
  - container: none
  - restart: mine
  - _self_
project: { name: mon, base_output_dir: ./out }
backend:
  command: [bash, train.sh]
`;

// Seed 000's snippet, in a user's restart/mine.yaml without `# @package _global_`.
const SEED_000_POLICIES = `
  - mode: stall
    implementation:
      class_name: AlwaysRestartPolicy
      max_retries: 2
  - mode: timeout
    implementation:
      class_name: AdjustTimeLimitPolicy
      minutes: 30
  - mode: crash
    implementation:
      class_name: NoRestartPolicy
      message: "manual intervention required"
`;

async function planWith(restartFile: string, extra: string[] = []) {
  const dir = await makeTree({
    "cfg/autoexp.yaml": WITH_RESTART,
    "cfg/restart/mine.yaml": restartFile,
  });
  const r = await runAutoexp(["plan", "-C", `${dir}/cfg`, ...extra], { cwd: dir });
  const specs = r.code === 0
    ? Object.values(JSON.parse(await Deno.readTextFile(`${dir}/out/mon/monitor.json`)).specs)
    : [];
  await removeTree(dir);
  return { ...r, specs: specs as { restartPolicies: { mode: string }[] }[] };
}

Deno.test("plan: a user's restart/<name>.yaml is read under restart (restart_policies: or policies:)", async () => {
  for (const key of ["restart_policies", "policies"]) {
    const r = await planWith(`${key}:${SEED_000_POLICIES}max_restarts_without_progress: 5\n`);
    assertEquals(r.code, 0, r.stderr);
    assertEquals(r.specs.length, 1);
    assertEquals(r.specs[0].restartPolicies.map((p) => p.mode), ["stall", "timeout", "crash"], key);
    assertEquals(
      (r.specs[0] as { maxRestartsWithoutProgress?: number }).maxRestartsWithoutProgress,
      5,
    );
  }
});

Deno.test("plan: an unknown key under restart is an error with a suggestion; two lists are an error naming both", async () => {
  const typo = await planWith(`restart_polices:${SEED_000_POLICIES}`);
  assertEquals(typo.code, 2, typo.stderr);
  assertStringIncludes(typo.stderr, "restart.restart_polices");
  assertStringIncludes(typo.stderr, 'did you mean "restart_policies"');
  assertStringIncludes(typo.stderr, "restart/mine.yaml");
  const both = await planWith(`policies:${SEED_000_POLICIES}`, ["-o", "+restart_policies=[]"]);
  assertEquals(both.code, 2, both.stderr);
  assertStringIncludes(
    both.stderr,
    "restart.policies: restart policies are also given at restart_policies",
  );
  const bad = await planWith(`max_restarts_without_progress: -1\npolicies:${SEED_000_POLICIES}`);
  assertEquals(bad.code, 2, bad.stderr);
  assertStringIncludes(
    bad.stderr,
    "restart.max_restarts_without_progress: expected an integer >= 0",
  );
});

Deno.test("plan: requeue=on and requeue=off are restart=requeue_on and restart=requeue_off", async () => {
  // The built-in root config (its defaults list has `requeue: null`, as seed 003's has).
  const dir = await makeTree({ "cfg/backend/x.yaml": 'name: command\ncommand: ["true"]\n' });
  try {
    const read = async (o: string) => {
      const r = await runAutoexp([
        "plan",
        "-C",
        `${dir}/cfg`,
        "-o",
        o,
        "-o",
        "project.name=mon",
        "-o",
        "project.base_output_dir=./out",
        "--json",
      ], { cwd: dir });
      assertEquals(r.code, 0, r.stderr);
      const monitor = JSON.parse(await Deno.readTextFile(`${dir}/out/mon/monitor.json`));
      const plan = JSON.parse(r.stdout);
      return [Object.values(monitor.specs), plan.runs[0].script.resources.requeue];
    };
    const on = await read("requeue=on");
    assertEquals(on, await read("restart=requeue_on"));
    assertEquals(on[1], true);
    const off = await read("requeue=off");
    assertEquals(off, await read("restart=requeue_off"));
    assertEquals(off[1], false);
  } finally {
    await removeTree(dir);
  }
});

Deno.test("plan: a restart policy's override of a key the run does not have is caught when planning", async () => {
  const policy = (o: string) =>
    `policies:
  - mode: oom
    implementation:
      class_name: AlwaysRestartPolicy
      max_retries: 1
      overrides: ["${o}"]
`;
  const ok = await planWith(policy("backend.command=[bash,small.sh]"));
  assertEquals(ok.code, 0, ok.stderr);
  const typo = await planWith(policy("backend.comand=[bash,small.sh]"));
  assertEquals(typo.code, 2, typo.stderr);
  assertStringIncludes(typo.stderr, "restart.policies[0].implementation.overrides[0]");
  assertStringIncludes(typo.stderr, "this run's config has no key backend.comand");
  assertStringIncludes(typo.stderr, 'did you mean "command"');
  assertStringIncludes(typo.stderr, "restart/mine.yaml");
  const added = await planWith(policy("+backend.args.micro_batch_size=2"));
  assertEquals(added.code, 0, added.stderr);
});
