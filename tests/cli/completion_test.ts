/**
 * The command line's own help and completion: `autoexp completion bash` completes commands,
 * options and directories in a real bash; zsh and fish scripts name every command; internal
 * commands stay out of `--help`; every command's help has an example.
 */
import { assert_, assertEquals, assertMatch, assertNotMatch } from "../_assert.ts";
import { makeTree, removeTree, runAutoexp } from "../_helpers.ts";
import { buildProgram } from "../../lib/cli/app.ts";
import type { Runtime } from "../../lib/runtime/mod.ts";

const program = buildProgram(() => ({}) as Runtime);
const COMMANDS = program.commands.map((c) => c.name()).filter((n) =>
  !["run-entry", "help"].includes(n)
);

/** Runs bash's completion function for a command line typed so far (the last word being typed). */
async function complete(script: string, words: string[], cwd: string): Promise<string[]> {
  const bash = `${script}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")})
COMP_CWORD=${words.length - 1}
_autoexp
printf '%s\\n' "\${COMPREPLY[@]}"`;
  const o = await new Deno.Command("bash", {
    args: ["-c", bash],
    cwd,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  assertEquals(o.code, 0, new TextDecoder().decode(o.stderr));
  return new TextDecoder().decode(o.stdout).split("\n").filter((l) => l);
}

Deno.test("completion bash: commands, a command's options, directories after -C and --state", async () => {
  const r = await runAutoexp(["completion", "bash"]);
  assertEquals(r.code, 0, r.stderr);
  const dir = await makeTree({ "examples/demo/autoexp.yaml": "x: 1\n", "exp.txt": "" });
  try {
    assertEquals(await complete(r.stdout, ["autoexp", "st"], dir), ["status"]);
    assertEquals((await complete(r.stdout, ["autoexp", "re"], dir)).sort(), ["report", "results"]);
    const opts = await complete(r.stdout, ["autoexp", "status", "--w"], dir);
    assertEquals(opts.sort(), ["--watch", "--wide"]);
    assertEquals(await complete(r.stdout, ["autoexp", "submit", "-C", "ex"], dir), ["examples"]);
    assertEquals(await complete(r.stdout, ["autoexp", "status", "--state", "e"], dir), [
      "examples",
    ]);
  } finally {
    await removeTree(dir);
  }
});

Deno.test("completion zsh and fish name every command; an unknown shell is a usage error", async () => {
  const zsh = await runAutoexp(["completion", "zsh"]);
  assertMatch(zsh.stdout, /^#compdef autoexp\n/);
  assertMatch(zsh.stdout, /bashcompinit/);
  const fish = await runAutoexp(["completion", "fish"]);
  for (const c of COMMANDS) {
    assertMatch(zsh.stdout, new RegExp(`\\b${c}\\b`));
    assertMatch(fish.stdout, new RegExp(`__fish_use_subcommand -a ${c} `));
  }
  assertMatch(
    fish.stdout,
    /__fish_seen_subcommand_from status' -l state -s C|-l state .*__fish_complete_directories/,
  );
  const bad = await runAutoexp(["completion", "powershell"]);
  assertEquals(bad.code, 2);
  assertMatch(bad.stderr, /no completion for "powershell"; choose bash, zsh, fish/);
});

Deno.test("help: internal commands hidden, an example in every command's help", async () => {
  const top = await runAutoexp(["--help"]);
  assertNotMatch(top.stdout, /run-entry|local-exec/);
  for (const c of COMMANDS) {
    const h = await runAutoexp([c, "--help"]);
    assertEquals(h.code, 0, `${c}: ${h.stderr}`);
    assert_(/Examples?:\n\s+(autoexp|source)/.test(h.stdout), `no example in autoexp ${c} --help`);
  }
  const submit = await runAutoexp(["submit", "--help"]);
  assertMatch(
    submit.stdout,
    /--no-monitor\s+return after submitting; restarts and actions then\s+need autoexp monitor/,
  );
});
