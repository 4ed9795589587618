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
