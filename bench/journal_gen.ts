/**
 * A long sweep's state, synthesised (issue 16): 1,000 runs, each with 200 checkpoints and the two
 * actions per checkpoint of tests/testdata/monitor (a LogAction and a queued RunCommandAction with
 * a blocking FileExistsCondition): 400,000 actions.
 *
 * The journal is written by the real monitor, not by hand: the sweep is planned and submitted to
 * an in-memory scheduler, every log gains one checkpoint line and the monitor runs until every
 * action it queued has ended (commands through a runner that exits 0 at once). The events that
 * round appended are one checkpoint's block; the block is then repeated for the other 199
 * checkpoints with the iteration number and the event numbers changed. So the journal has
 * whatever format the monitor of this tree writes.
 *
 * Then, each in a fresh process: a monitor restart (open the store, take the lock, load the plan,
 * one round with every job running) with its wall time and peak memory, and `autoexp status`.
 *
 *   deno run -A bench/journal_gen.ts [--runs 1000] [--checkpoints 200] [--keep DIR]
 *
 * (`--restart DIR` and `--status DIR` are the measuring children.)
 *
 * @module
 */
import { parseArgs } from "node:util";
import { Monitor } from "../lib/monitor/monitor.ts";
import { loadPlan } from "../lib/monitor/load_plan.ts";
import { DenoFileSystem } from "../lib/runtime/fs.ts";
import { SweepStore } from "../lib/store/store.ts";
import { deps, host, runningScheduler, runningSweep } from "./_sweep.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const fs = new DenoFileSystem();
const { values: args } = parseArgs({
  options: {
    runs: { type: "string", default: "1000" },
    checkpoints: { type: "string", default: "200" },
    keep: { type: "string" },
    restart: { type: "string" },
    status: { type: "string" },
  },
});

/** The iteration of the recorded checkpoint: a number found nowhere else in the journal. */
const MARK = 987000;
const iterLine = (i: number) =>
  ` [2026-11-22 10:00:00.000000] iteration ${String(i).padStart(8)}/ 2000000 | consumed samples: ${
    i * 8
  } | elapsed time per iteration (ms): 100.0 | lm loss: 5.0E+00 |\n`;
const ckptLine = (i: number, dir: string) =>
  `  [2026-11-22 10:00:00.000000] successfully saved checkpoint from iteration ${
    String(i).padStart(7)
  } to ${dir} [ t 1/1, gtp_remat 1/1, p 1/1 ]\n`;

async function generate(runs: number, checkpoints: number, out: string): Promise<string> {
  const { plan, monitorFile, store, release, scheduler, logs } = await runningSweep(
    out,
    runs,
    iterLine(1),
  );
  for (const r of plan.runs) {
    await fs.mkdirp(`${r.runDir}/checkpoints`);
    await Deno.writeTextFile(`${r.runDir}/checkpoints/latest_checkpointed_iteration.txt`, "0");
  }
  const monitor = new Monitor(deps(scheduler), store, { plan, monitor: monitorFile }, {
    maxConcurrentActions: 100_000,
    conditionPollMs: 10,
  });
  await monitor.round();
  await monitor.round();
  // Ended actions: kept (an earlier autoexp) or only counted (`actionsEnded`).
  const total = () =>
    Object.keys(store.state.actions ?? {}).length +
    Object.values(store.state.runs).reduce((n, r) => {
      const c = (r as { actionsEnded?: { ok: number; skipped: number } }).actionsEnded;
      return n + (c ? c.ok + c.skipped : 0);
    }, 0);
  const open = () =>
    Object.values(store.state.actions ?? {}).filter((a) =>
      a.status === "queued" || a.status === "started"
    ).length;
  /** One checkpoint in every log; the monitor runs until every action it queued ended. */
  const checkpoint = async (iteration: number) => {
    const want = total() + 2 * runs;
    plan.runs.forEach((r, i) =>
      Deno.writeTextFileSync(logs[i], ckptLine(iteration, `${r.runDir}/checkpoints`), {
        append: true,
      })
    );
    for (let k = 0; k < 200 && (total() < want || open()); k++) {
      await monitor.round();
      await new Promise((r) => setTimeout(r, 20));
    }
    if (total() !== want || open()) {
      throw new Error(`expected ${want} ended actions, have ${total()} (${open()} open)`);
    }
  };
  // The first checkpoint, then the one recorded: what every later one journals.
  await checkpoint(MARK - 1000);
  const journal = `${store.dir}/journal.jsonl`;
  const before = (await Deno.stat(journal)).size;
  const seq0 = store.state.seq;
  await checkpoint(MARK);
  const bytes = await Deno.readFile(journal);
  const block = new TextDecoder().decode(bytes.subarray(before));
  const seqN = store.state.seq - seq0;
  await release();
  // The other checkpoints: the same block, another iteration, later event numbers.
  const file = await Deno.open(journal, { append: true });
  const enc = new TextEncoder();
  const mark = new RegExp(String(MARK), "g");
  for (let c = 3; c <= checkpoints; c++) {
    const shift = (c - 2) * seqN;
    const text = block.replace(mark, String(c * 1000)).replace(
      /"(seq|to|a)":(\d+)/g, // event numbers, and (format 2) references to them
      (_, k, n) => `"${k}":${Number(n) + shift}`,
    );
    await file.write(enc.encode(text));
  }
  file.close();
  return plan.sweep.dir;
}

/** A child process: one monitor restart on the sweep; prints JSON figures. */
async function restart(dir: string): Promise<void> {
  const t0 = performance.now();
  const h = host(dir);
  const store = await SweepStore.open(fs, h, dir);
  const release = await store.lock("bench restart");
  const tOpen = performance.now();
  const loaded = await loadPlan(fs, dir);
  const scheduler = runningScheduler(store);
  const monitor = new Monitor(deps(scheduler), store, loaded);
  await monitor.round();
  const tRound = performance.now();
  await release();
  const journal = (await Deno.stat(`${store.dir}/journal.jsonl`)).size;
  const snap = await Deno.stat(`${store.dir}/snapshot.json`).then((s) => s.size, () => 0);
  console.log(JSON.stringify({
    openMs: tOpen - t0,
    totalMs: tRound - t0,
    journalAfter: journal,
    snapshotAfter: snap,
  }));
}

async function child(
  argv: string[],
): Promise<{ out: string; maxRssKb: number; ms: number; error?: string }> {
  const t = performance.now();
  const o = await new Deno.Command("/usr/bin/time", {
    args: ["-f", "%M", Deno.execPath(), ...argv],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const ms = performance.now() - t;
  const err = new TextDecoder().decode(o.stderr).trim().split("\n");
  const error = o.success ? undefined : err.find((l) => /error/i.test(l)) ?? err[0];
  return {
    error,
    out: new TextDecoder().decode(o.stdout),
    maxRssKb: Number(err[err.length - 1]),
    ms,
  };
}

if (args.restart) await restart(args.restart);
else {
  const runs = Number(args.runs), checkpoints = Number(args.checkpoints);
  const out = args.keep ?? await Deno.makeTempDir({ prefix: "autoexp-bench-journal-" });
  const t = performance.now();
  const dir = await generate(runs, checkpoints, out);
  const genS = (performance.now() - t) / 1000;
  const journal = (await Deno.stat(`${dir}/.autoexp/journal.jsonl`)).size;
  const actions = runs * checkpoints * 2;
  console.log(
    `synthetic sweep: ${runs} runs x ${checkpoints} checkpoints x 2 actions = ${actions} actions ` +
      `(generated in ${genS.toFixed(1)} s)`,
  );
  console.log(
    `  journal: ${(journal / 1e6).toFixed(1)} MB, ${
      (journal / actions).toFixed(0)
    } bytes per action ` +
      "(with the fired event and per-round records it brings)",
  );
  for (const k of [1, 2]) {
    const r = await child(["run", "-A", import.meta.filename!, "--restart", dir]);
    if (r.error) {
      console.log(
        `  monitor restart ${k}: FAILED after ${r.ms.toFixed(0)} ms, peak RSS ` +
          `${(r.maxRssKb / 1024).toFixed(0)} MB: ${r.error}`,
      );
      continue;
    }
    const f = JSON.parse(r.out);
    console.log(
      `  monitor restart ${k}: store open ${f.openMs.toFixed(0)} ms, open + first round ` +
        `${f.totalMs.toFixed(0)} ms, process ${r.ms.toFixed(0)} ms, peak RSS ` +
        `${(r.maxRssKb / 1024).toFixed(0)} MB; journal now ${
          (f.journalAfter / 1e6).toFixed(1)
        } MB, ` +
        `snapshot ${(f.snapshotAfter / 1e6).toFixed(1)} MB`,
    );
  }
  const s = await child(["run", "-A", `${ROOT}/main.ts`, "status", "--state", dir]);
  console.log(
    `  autoexp status: ${s.error ? "FAILED " : ""}${s.ms.toFixed(0)} ms, peak RSS ` +
      `${(s.maxRssKb / 1024).toFixed(0)} MB${s.error ? `: ${s.error}` : ""}`,
  );
  if (!args.keep) await Deno.remove(out, { recursive: true });
}
