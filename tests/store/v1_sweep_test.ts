/**
 * A sweep planned, submitted and monitored by autoexp before journal format 2 (issue 16): the
 * fixture tests/testdata/v1_sweep was written by that version's own code (two runs, checkpoint
 * 10 fired in each, its log and command actions done; its journal in format 1, its snapshot the
 * bare state). The monitor of this version follows it on: the new checkpoint fires once, the
 * old one not again (its watch file is gone, so the logs are read from the start).
 */
import { assert_, assertEquals } from "../_assert.ts";
import { Monitor } from "../../lib/monitor/monitor.ts";
import { loadPlan } from "../../lib/monitor/load_plan.ts";
import { DenoFileSystem } from "../../lib/runtime/fs.ts";
import { denoTailSource } from "../../lib/runtime/tail_source.ts";
import { actionTallies } from "../../lib/store/state.ts";
import { SweepStore } from "../../lib/store/store.ts";
import { FakeScheduler } from "../_fake_scheduler.ts";

const FIXTURE = new URL("../testdata/v1_sweep", import.meta.url).pathname;
const fs = new DenoFileSystem();

async function copyFixture(out: string): Promise<string> {
  const dir = `${out}/faults`;
  await new Deno.Command("cp", { args: ["-r", FIXTURE, dir] }).output();
  for await (const path of walk(dir)) {
    const text = await Deno.readTextFile(path);
    if (text.includes("@OUT@")) await Deno.writeTextFile(path, text.replaceAll("@OUT@", out));
  }
  return dir;
}

async function* walk(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    if (e.isDirectory) yield* walk(`${dir}/${e.name}`);
    else if (e.isFile && !e.name.endsWith(".idx")) yield `${dir}/${e.name}`;
  }
}

const CKPT = (it: number, dir: string) =>
  `  [2026-11-22 10:00:00.000000] successfully saved checkpoint from iteration ${
    String(it).padStart(7)
  } to ${dir} [ t 1/1, gtp_remat 1/1, p 1/1 ]\n`;

Deno.test("a sweep journaled by the previous autoexp (format 1) is monitored on", async () => {
  const out = await Deno.makeTempDir({ prefix: "autoexp-v1-" });
  try {
    const dir = await copyFixture(out);
    const host = {
      env: { AUTOEXP_OUTPUT_DIR: out },
      hostname: () => "h",
      cwd: () => out,
      now: () => new Date(),
      color: false,
      pid: Deno.pid,
      selfCommand: () => ["/usr/bin/autoexp"],
    };
    const store = await SweepStore.open(fs, host, dir);
    const release = await store.lock("test");
    assertEquals(store.warnings, []);
    const runs = Object.keys(store.state.runs).sort();
    assertEquals(runs, ["faults_ti30", "faults_ti31"]);
    for (const run of runs) {
      assertEquals(actionTallies(store.state).get(run)?.ok, 2, `${run}: checkpoint 10's actions`);
    }
    const loaded = await loadPlan(fs, dir);
    for (const r of loaded.plan.runs) {
      await Deno.writeTextFile(`${r.runDir}/checkpoints/latest_checkpointed_iteration.txt`, "20");
      await Deno.writeTextFile(
        `${dir}/logs/array0/100_${r.index}.log`,
        CKPT(20, `${r.runDir}/checkpoints`),
        { append: true },
      );
    }
    const scheduler = new FakeScheduler();
    scheduler.jobs.set("100", {
      id: "100",
      request: { script: "", cwd: "", jobName: "", comment: store.state.intents["1"].comment },
      state: "running",
      tasks: new Map([[0, { state: "running" }], [1, { state: "running" }]]),
    });
    const ran: string[] = [];
    const monitor = new Monitor(
      {
        fs,
        scheduler,
        proc: {
          run: (argv) => {
            ran.push(argv.join(" "));
            return Promise.resolve({ code: 0, stdout: "", stderr: "", timedOut: false });
          },
        },
        tails: denoTailSource(),
        now: () => Date.now(),
        sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
        say: () => {},
      },
      store,
      loaded,
      { conditionPollMs: 10 },
    );
    for (let k = 0; k < 20 && ran.length < 2; k++) {
      await monitor.round();
      await new Promise((r) => setTimeout(r, 20));
    }
    await monitor.round();
    assertEquals(ran.length, 2, `checkpoint 20 of each run, once:\n${ran.join("\n")}`);
    assert_(ran.every((c) => c.includes('echo "20 $AUTOEXP_ATTEMPT"')), ran.join("\n"));
    await release();
    const again = await SweepStore.open(fs, host, dir, { readOnly: true });
    assertEquals(again.state, store.state);
    for (const run of runs) assertEquals(actionTallies(again.state).get(run)?.ok, 4);
    const journal = await Deno.readTextFile(`${dir}/.autoexp/journal.jsonl`);
    assert_(journal.startsWith('{"type":"submit_intent"'), "format 1 lines kept");
    assert_(journal.includes('"e":['), "format 2 lines appended");
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
