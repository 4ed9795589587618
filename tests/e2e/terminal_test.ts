/**
 * The real program in a real pseudo-terminal (tmux, at 80 and 160 columns), as a researcher on a
 * login node sees it: states in colour on the terminal and plain when piped, a sticky status line
 * while the demo runs, the status table within 80 columns, the banner's counts equal to status,
 * and a stream of at most one line per run per checkpoint plus its state changes.
 */
import { stripVTControlCharacters } from "node:util";
import { assert_, assertEquals, assertMatch } from "../_assert.ts";
import { commandSucceeds, removeTree, ROOT, runAutoexp } from "../_helpers.ts";

const haveTmux = await commandSucceeds(["tmux", "-V"]);
const ESC = "\x1b[";

/** A tmux server of its own (its socket name), so tests never touch a user's sessions. */
class Tmux {
  readonly socket = `autoexp-test-${Deno.pid}-${Math.random().toString(36).slice(2, 8)}`;

  async run(args: string[]): Promise<string> {
    const o = await new Deno.Command("tmux", {
      args: ["-L", this.socket, ...args],
      stdout: "piped",
      stderr: "piped",
    })
      .output();
    return new TextDecoder().decode(o.stdout);
  }

  /** Starts `argv` in a new window of `width` columns. */
  async start(name: string, width: number, argv: string[], env: Record<string, string>) {
    const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
    const envs = Object.entries(env).map(([k, v]) => `${k}=${quote(v)}`).join(" ");
    // The window stays after the command ends, so its screen can be read.
    const cmd = `env -u NO_COLOR ${envs} ${argv.map(quote).join(" ")}; echo "[exit $?]"; sleep 600`;
    await this.run(["new-session", "-d", "-s", name, "-x", String(width), "-y", "40", cmd]);
  }

  /** The window's screen and scroll-back, with colour escapes. */
  screen(name: string): Promise<string> {
    return this.run(["capture-pane", "-p", "-e", "-J", "-S", "-2000", "-t", name]);
  }

  async waitFor(name: string, re: RegExp, ms = 180_000): Promise<string> {
    const end = Date.now() + ms;
    for (;;) {
      const s = await this.screen(name);
      if (re.test(s)) return s;
      if (Date.now() > end) throw new Error(`timed out waiting for ${re} in:\n${s}`);
      await new Promise((res) => setTimeout(res, 250));
    }
  }

  async stop() {
    await this.run(["kill-server"]);
  }
}

const plain = (s: string) => stripVTControlCharacters(s);
const AUTOEXP = [Deno.execPath(), "run", "-A", "--quiet", `${ROOT}/main.ts`];

Deno.test({
  name:
    "terminal local: the demo in a pty has colour and a sticky line; piped it is plain and short",
  ignore: !haveTmux,
  fn: async () => {
    const out = await Deno.makeTempDir({ prefix: "autoexp-tty-" });
    const tmux = new Tmux();
    try {
      const env = { AUTOEXP_OUTPUT_DIR: `${out}/tty`, PATH: Deno.env.get("PATH") ?? "" };
      await tmux.start("demo", 80, [
        ...AUTOEXP,
        "submit",
        "-C",
        `${ROOT}/examples/demo`,
        "--scheduler",
        "local",
      ], env);
      // While it runs, the bottom line is the status line: counts by state and progress.
      const live = await tmux.waitFor("demo", /\d+\/\d+ ended · .*%/);
      assertMatch(plain(live), /\d+\/\d+ ended · [^\n]*(running|pending)/);
      const done = await tmux.waitFor("demo", /\[exit \d+\]/);
      assertMatch(plain(done), /\[exit 0\]/);
      // States in colour: completed green, running cyan; the error-free run ends cleanly.
      assert_(done.includes(`${ESC}32mcompleted${ESC}39m`), done);
      assert_(done.includes(`${ESC}36mrunning${ESC}39m`), done);
      assert_(done.includes(`${ESC}31mfailed${ESC}39m`), "the crash of attempt 1 shows red");
      // The status line was taken away at the end: the last lines are the table and outputs.
      assertMatch(plain(done), /6 runs: 6 completed[^\n]*\n[\s\S]*outputs: /);
      assert_(!/ended ·[^\n]*\n\s*\[exit/.test(plain(done)), "no status line left behind");

      // The status table fits 80 columns and names every run; at 160 it shows every column.
      await tmux.start("st80", 80, [...AUTOEXP, "status", "--state", `${out}/tty/demo`], env);
      const st80 = plain(await tmux.waitFor("st80", /\[exit 0\]/));
      const table = st80.slice(0, st80.indexOf("\n\n"));
      for (const line of table.split("\n")) assert_(line.length <= 80, `wider than 80: ${line}`);
      for (const run of ["demo_lr0.001", "demo_lr0.0003", "demo_lr0.0001_cooldown_20"]) {
        assertMatch(table, new RegExp(`${run}\\s+completed`));
      }
      await tmux.start("st160", 160, [...AUTOEXP, "status", "--state", `${out}/tty/demo`], env);
      const st160 = plain(await tmux.waitFor("st160", /\[exit 0\]/));
      assertMatch(
        st160,
        /run\s+state\s+attempt\s+progress\s+since\s+job\s+exit\s+last event\s+actions/,
      );
      assert_(!st160.includes("--wide also shows"), st160);

      // Re-attaching prints a banner with the counts status has.
      await tmux.start("again", 100, [...AUTOEXP, "monitor", "--state", `${out}/tty/demo`], env);
      const again = plain(await tmux.waitFor("again", /\[exit \d+\]/));
      assertMatch(again, /following demo \([^)]*\) \(6\/6 ended · 6 completed · 100%\)/);
      assertMatch(again, /6 runs: 6 completed/);

      // A config error on a terminal: the prefix and the caret red; piped: plain.
      const bad = await Deno.makeTempDir({ dir: out });
      await Deno.writeTextFile(`${bad}/autoexp.yaml`, "a:\n  b: 1\n c: 2\n");
      await tmux.start("err", 100, [...AUTOEXP, "config", "-C", bad], env);
      const err = await tmux.waitFor("err", /\[exit \d+\]/);
      assertMatch(plain(err), /\[exit 2\]/);
      assert_(err.includes(`${ESC}1m${ESC}31mautoexp:`), err);
      assert_(err.includes(`|  ${ESC}1m${ESC}31m^`), err);
      const piped2 = await runAutoexp(["config", "-C", bad]);
      assert_(!piped2.stderr.includes("\x1b") && piped2.stderr.startsWith("autoexp: "));

      // Piped: no escapes, and one line per run per checkpoint plus its state changes.
      const piped = await runAutoexp(
        ["submit", "-C", `${ROOT}/examples/demo`, "--scheduler", "local"],
        { env: { AUTOEXP_OUTPUT_DIR: `${out}/pipe` } },
      );
      assertEquals(piped.code, 0, piped.stderr);
      assert_(!piped.stdout.includes("\x1b"), "no escapes in a pipe");
      const lines = piped.stdout.split("\n\n")[0].split("\n");
      for (const l of lines) assertMatch(l, /^\d\d:\d\d:\d\d /, "every line has its time");
      for (const run of ["demo_lr0.001", "demo_lr0.0003", "demo_lr0.0001"]) {
        const mine = lines.filter((l) =>
          new RegExp(`^\\S+ ${run.replaceAll(".", "\\.")}\\s`).test(l)
        );
        const checkpoints = mine.filter((l) => /checkpoint \d+ saved/.test(l));
        assertEquals(checkpoints.length, 4, mine.join("\n")); // 10, 20, 30, 40: one line each
        const states = mine.filter((l) =>
          /\s(running|completed|failed|pending|restarting|submitted)\b/.test(l)
        );
        assertEquals(mine.length, checkpoints.length + states.length, mine.join("\n"));
        // At most: running, failed, restarting, submitted, pending, running, completed.
        assert_(states.length <= 7, mine.join("\n"));
      }
    } finally {
      await tmux.stop();
      await removeTree(out);
    }
  },
});
