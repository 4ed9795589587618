/** readScheduler: the markers of jobs the queue does not know (lib/submit/mod.ts). */
import { assertEquals } from "../_assert.ts";
import { writePlan } from "../../lib/render/tree.ts";
import { DenoFileSystem } from "../../lib/runtime/fs.ts";
import { latestAttempt } from "../../lib/store/state.ts";
import { SweepStore } from "../../lib/store/store.ts";
import { attemptKey, readScheduler, submitSweep } from "../../lib/submit/mod.ts";
import { FakeScheduler } from "../_fake_scheduler.ts";

const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");

Deno.test("readScheduler: jobs missing from the queue: run folders that exist are read, once each; the others are not", async () => {
  const out = await Deno.makeTempDir({ prefix: "autoexp-readsched-" });
  try {
    const real = new DenoFileSystem();
    const host = {
      env: { AUTOEXP_OUTPUT_DIR: out },
      hostname: () => "test",
      cwd: () => out,
      now: () => new Date(),
      color: false,
      pid: () => 1,
      selfCommand: () => ["/usr/bin/autoexp"],
    } as never;
    const { plan } = await writePlan({
      configDir: `${ROOT}/tests/testdata/monitor`,
      overrides: ["slurm.array=true", "backend.args.train_iters=range(1,5)"],
      multirun: true,
    }, { fs: real, host });
    const store = await SweepStore.open(real, host, plan.sweep.dir);
    const fake = new FakeScheduler();
    await submitSweep(plan, store, fake, { fs: real });
    fake.jobs.clear(); // the queue forgot every job
    const run = plan.runs[1];
    const a = latestAttempt(store.state.runs[run.name])!;
    await real.mkdirp(`${run.runDir}/attempts`);
    await Deno.writeTextFile(
      `${run.runDir}/attempts/${a.jobId}.0.json`,
      JSON.stringify({
        run: run.name,
        job_id: a.jobId,
        array_job_id: a.arrayJobId,
        array_task_id: String(a.taskId),
        restart_count: 0,
        host: "n1",
        started_at: "2026-12-01T10:00:00.000Z",
        ended_at: "2026-12-01T11:00:00.000Z",
        exit_code: 0,
        state: "completed",
      }),
    );
    const listed: string[] = [];
    const fs = Object.assign(Object.create(real), {
      listFiles: (dir: string) => {
        listed.push(dir);
        return real.listFiles(dir);
      },
    });
    const r = (await readScheduler(plan, store.state, fake, fs))!;
    const found = plan.runs.map((x) => {
      const m = r.markers.get(attemptKey(x.name, 1));
      return m ? m.state : m;
    });
    assertEquals(found, [null, "completed", null, null]);
    assertEquals(listed, [`${run.runDir}/attempts`]);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
