/** The sweep store: journal replay, torn lines, snapshots, the lock. */
import { assert_, assertEquals, assertMatch, assertRejects } from "../_assert.ts";
import { makeTree, removeTree } from "../_helpers.ts";
import { DenoFileSystem } from "../../lib/runtime/fs.ts";
import type { Host } from "../../lib/runtime/host.ts";
import { LockedError, parseJournal, SweepStore } from "../../lib/store/store.ts";
import {
  applyEvent,
  emptyState,
  type NewEvent,
  type StoreEvent,
  type StoreState,
} from "../../lib/store/state.ts";

function host(pid = Deno.pid): Host {
  return {
    env: {},
    hostname: () => "h1",
    cwd: () => "/",
    now: () => new Date("2026-01-01T00:00:00Z"),
    color: false,
    pid,
    selfCommand: () => ["autoexp"],
  };
}

const intent = {
  type: "submit_intent" as const,
  key: "array0",
  comment: "autoexp:x:array0:1",
  array: "0-1",
  offset: 0,
  runs: [
    { name: "a", index: 0, attempt: 1, fingerprint: "f0", why: "initial" },
    { name: "b", index: 1, attempt: 1, fingerprint: "f1", why: "initial" },
  ],
};

Deno.test("SweepStore replays its journal: intents, submissions, observations", async () => {
  const dir = await makeTree({});
  const fs = new DenoFileSystem();
  try {
    const s1 = await SweepStore.open(fs, host(), dir);
    const i = await s1.append(intent);
    await s1.append({ type: "submitted", intent: i.seq, jobId: "55" });
    await s1.append({
      type: "observed",
      run: "b",
      attempt: 1,
      state: "failed",
      rawState: "FAILED",
      reason: "None",
      exitCode: 7,
    });
    const s2 = await SweepStore.open(fs, host(), dir);
    assertEquals(s2.state.runs.a.attempts[0].jobId, "55_0");
    assertEquals(s2.state.runs.b.attempts[0].jobId, "55_1");
    assertEquals([s2.state.runs.b.attempts[0].state, s2.state.runs.b.attempts[0].exitCode], [
      "failed",
      7,
    ]);
    assertEquals(s2.state.intents[String(i.seq)].status, "submitted");
    assertEquals(s2.state, s1.state);
  } finally {
    await removeTree(dir);
  }
});

Deno.test("SweepStore ignores a torn last line and keeps appending valid lines", async () => {
  const dir = await makeTree({});
  const fs = new DenoFileSystem();
  try {
    const s1 = await SweepStore.open(fs, host(), dir);
    await s1.append(intent);
    await Deno.writeTextFile(`${dir}/.autoexp/journal.jsonl`, '{"type":"submitted","seq":2,"at', {
      append: true,
    });
    const s2 = await SweepStore.open(fs, host(), dir);
    assertEquals(s2.warnings.length, 1);
    assertEquals(s2.state.seq, 1);
    await s2.append({ type: "submitted", intent: 1, jobId: "9" });
    const s3 = await SweepStore.open(fs, host(), dir);
    assertEquals(s3.state.runs.a.attempts[0].jobId, "9_0");
  } finally {
    await removeTree(dir);
  }
});

/** A long sweep's events in miniature: checkpoints firing two actions each, which end. */
function checkpointEvents(n: number): NewEvent[] {
  const spec = (message: string) => ({
    mode: "inline" as const,
    conditions: [],
    action: { kind: "log" as const, message },
  });
  const out: NewEvent[] = [];
  for (let it = 1; it <= n; it++) {
    for (const run of ["a", "b"]) {
      const key = JSON.stringify(["ckpt", [["checkpoint_iteration", String(it * 10)]]]);
      out.push({
        type: "fired",
        run,
        attempt: 1,
        key,
        event: "ckpt",
        metadata: { checkpoint_iteration: String(it * 10) },
        line: "",
      });
      for (const i of [0, 1]) {
        const id = `${run}|${key}|${i}`;
        out.push({
          type: "action_queued",
          id,
          run,
          attempt: 1,
          source: "ckpt",
          spec: spec(`saved {checkpoint_iteration} (${i})`),
          context: { run, checkpoint_iteration: String(it * 10), timestamp: `t${it}` },
        });
        out.push({ type: "action_started", id });
        // The last checkpoint's second actions stay open; one earlier one fails.
        if (it === n && i === 1) continue;
        const status = it === 2 && i === 0 ? "failed" : "ok";
        out.push({ type: "action_done", id, status, detail: `done ${it}` });
      }
    }
  }
  return out;
}

/** The state the events give, folded in memory. */
function folded(evs: readonly NewEvent[], first: StoreState = emptyState()): StoreState {
  const state = structuredClone(first);
  evs.forEach((e) =>
    applyEvent(state, { ...e, seq: state.seq + 1, at: "2026-01-01T00:00:00.000Z" } as StoreEvent)
  );
  return state;
}

Deno.test("SweepStore: a compacted journal and its snapshot give the state of the whole journal", async () => {
  const dir = await makeTree({});
  const fs = new DenoFileSystem();
  try {
    const evs = [intent, { type: "submitted", intent: 1, jobId: "77" }, ...checkpointEvents(5)];
    const s1 = await SweepStore.open(fs, host(), dir);
    await s1.appendMany(evs.slice(0, 20) as NewEvent[]);
    await s1.snapshot(true);
    const journal = await Deno.readTextFile(`${dir}/.autoexp/journal.jsonl`);
    assertEquals(journal, '{"compacted":20}\n');
    await s1.appendMany(evs.slice(20) as NewEvent[]);
    const s2 = await SweepStore.open(fs, host(), dir);
    assertEquals(s2.state, folded(evs as NewEvent[]));
    assertEquals(s2.state, s1.state);
    // Ended actions are counted; the failed and the open ones are kept.
    assertEquals(s2.state.runs.a.actionsEnded, { ok: 8, skipped: 0 });
    assertEquals(Object.keys(s2.state.actions ?? {}).length, 4);
    // Compacting again, and appending after it.
    await s2.lock("test");
    await s2.snapshot(true);
    await s2.append({
      type: "observed",
      run: "a",
      attempt: 1,
      state: "running",
      rawState: "R",
      reason: "",
    });
    const s3 = await SweepStore.open(fs, host(), dir);
    assertEquals(s3.state, s2.state);
  } finally {
    await removeTree(dir);
  }
});

Deno.test("SweepStore: a compacted journal without its snapshot is an error naming the file", async () => {
  const dir = await makeTree({});
  const fs = new DenoFileSystem();
  try {
    const s1 = await SweepStore.open(fs, host(), dir);
    await s1.appendMany([intent, { type: "submitted", intent: 1, jobId: "77" }]);
    await s1.snapshot(true);
    await Deno.remove(`${dir}/.autoexp/snapshot.json`);
    const e = await assertRejects(() => SweepStore.open(fs, host(), dir));
    assertMatch((e as Error).message, /starts after event 2.*snapshot\.json.*missing/);
  } finally {
    await removeTree(dir);
  }
});

/** A file system that dies (throws, writing nothing more) at its `n`th write or rename. */
class DyingFs extends DenoFileSystem {
  ops = 0;
  constructor(private readonly dieAt: number) {
    super();
  }
  #step(): void {
    if (++this.ops === this.dieAt) throw new Error("killed");
  }
  override writeTextFile(path: string, text: string, durable = true): Promise<void> {
    if (this.ops + 1 === this.dieAt) {
      // Killed midway: the temporary file is there, cut short; nothing renamed.
      this.ops++;
      const dir = path.replace(/\/[^/]*$/, "");
      Deno.writeTextFileSync(`${dir}/.${path.slice(dir.length + 1)}.1.dead.tmp`, text.slice(0, 7));
      return Promise.reject(new Error("killed"));
    }
    this.#step();
    return super.writeTextFile(path, text, durable);
  }
  override appendLine(path: string, line: string, sync = false): Promise<void> {
    this.#step();
    return super.appendLine(path, line, sync);
  }
}

Deno.test("SweepStore: a compaction killed at any step loses nothing", async () => {
  const evs = [intent, { type: "submitted", intent: 1, jobId: "77" }, ...checkpointEvents(4)];
  const want = folded(evs as NewEvent[]);
  for (let dieAt = 1; dieAt <= 4; dieAt++) {
    const dir = await makeTree({});
    try {
      const ok = await SweepStore.open(new DenoFileSystem(), host(), dir);
      await ok.appendMany(evs.slice(0, 10) as NewEvent[]);
      await ok.snapshot(true); // an earlier compaction
      await ok.appendMany(evs.slice(10) as NewEvent[]);
      const fs = new DyingFs(dieAt);
      const s = await SweepStore.open(fs, host(), dir);
      await s.snapshot(true).catch(() => {});
      const after = await SweepStore.open(new DenoFileSystem(), host(), dir);
      assertEquals(after.state, want, `killed at write ${dieAt}`);
      assertEquals(after.warnings, []);
    } finally {
      await removeTree(dir);
    }
  }
});

Deno.test("SweepStore reads a journal of format 1 (an earlier autoexp) and appends to it", async () => {
  const dir = await makeTree({});
  const fs = new DenoFileSystem();
  try {
    const evs = [intent, { type: "submitted", intent: 1, jobId: "77" }, ...checkpointEvents(3)];
    const old = evs.slice(0, 12).map((e, i) =>
      JSON.stringify({ ...e, seq: i + 1, at: "2026-01-01T00:00:00.000Z" })
    );
    await Deno.mkdir(`${dir}/.autoexp`, { recursive: true });
    await Deno.writeTextFile(`${dir}/.autoexp/journal.jsonl`, old.join("\n") + "\n");
    // Its snapshot was a cache the earlier autoexp never read: it is not read either.
    await Deno.writeTextFile(`${dir}/.autoexp/snapshot.json`, JSON.stringify(emptyState()));
    const s1 = await SweepStore.open(fs, host(), dir);
    assertEquals(s1.state, folded(evs.slice(0, 12) as NewEvent[]));
    await s1.appendMany(evs.slice(12) as NewEvent[]);
    const s2 = await SweepStore.open(fs, host(), dir);
    assertEquals(s2.state, folded(evs as NewEvent[]));
  } finally {
    await removeTree(dir);
  }
});

Deno.test("SweepStore lock: held by a live process, taken over from a dead one", async () => {
  const dir = await makeTree({});
  const fs = new DenoFileSystem();
  try {
    const mine = await SweepStore.open(fs, host(), dir);
    const release = await mine.lock("autoexp monitor");
    // Another process (pid 1 is alive) cannot take it.
    const other = await SweepStore.open(fs, host(424242), dir);
    await Deno.writeTextFile(
      `${dir}/.autoexp/lock`,
      JSON.stringify({ pid: 1, host: "h1", since: "x", command: "monitor" }),
    );
    await assertRejects(() => other.lock("submit"), (e) => assert_(e instanceof LockedError));
    // A lock left by a dead pid is taken over.
    await Deno.writeTextFile(
      `${dir}/.autoexp/lock`,
      JSON.stringify({ pid: 999999, host: "h1", since: "x", command: "monitor" }),
    );
    const rel2 = await other.lock("submit");
    assertEquals(JSON.parse(await Deno.readTextFile(`${dir}/.autoexp/lock`)).pid, 424242);
    await rel2();
    assertEquals(await fs.exists(`${dir}/.autoexp/lock`), false);
    await release();
  } finally {
    await removeTree(dir);
  }
});

Deno.test("parseJournal: the events read back are the events written, in fewer bytes", async () => {
  const dir = await makeTree({});
  const fs = new DenoFileSystem();
  try {
    const evs = [
      intent,
      { type: "submitted", intent: 1, jobId: "77" },
      ...checkpointEvents(6).map((e) =>
        e.type === "action_done" ? { ...e, detail: `exit 0 (output: /r/${e.id[0]}/x.log)` } : e
      ).map((e) =>
        e.type === "action_queued" ? { ...e, context: { ...e.context, run_dir: `/r/${e.run}` } } : e
      ),
    ] as NewEvent[];
    const s = await SweepStore.open(fs, host(), dir);
    const written: StoreEvent[] = [];
    for (let i = 0; i < evs.length; i += 7) {
      written.push(...await s.appendMany(evs.slice(i, i + 7)));
    }
    const text = await Deno.readTextFile(`${dir}/.autoexp/journal.jsonl`);
    assertEquals(parseJournal(text), written);
    const v1 = written.map((e) => JSON.stringify(e)).join("\n").length;
    assert_(text.length < v1 / 2, `${text.length} bytes, format 1: ${v1}`);
  } finally {
    await removeTree(dir);
  }
});

Deno.test("SweepStore: after a write that failed (a full disk), nothing more is appended", async () => {
  const dir = await makeTree({});
  try {
    const real = new DenoFileSystem();
    let full = false;
    const fs = Object.assign(Object.create(real), {
      appendLine: (p: string, line: string, sync?: boolean) =>
        full
          ? Promise.reject(new Error("No space left on device (os error 28)"))
          : real.appendLine(p, line, sync),
    }) as DenoFileSystem;
    const store = await SweepStore.open(fs, host(), dir);
    await store.append(intent);
    full = true;
    await assertRejects(() => store.append({ type: "submitted", intent: 1, jobId: "1" }));
    full = false; // the disk has room again, but this process's codec may refer to that line
    await assertRejects(
      () => store.append({ type: "submitted", intent: 1, jobId: "1" }),
      (e) => assertMatch(e.message, /an earlier write to .* failed \(No space left/),
    );
    // A new process reads what is on disk and goes on.
    const again = await SweepStore.open(real, host(), dir);
    await again.append({ type: "submitted", intent: 1, jobId: "1" });
    assertEquals(again.state.intents["1"].status, "submitted");
  } finally {
    await removeTree(dir);
  }
});
