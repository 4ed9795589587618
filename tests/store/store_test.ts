/** The sweep store: journal replay, torn lines, snapshots, the lock. */
import { assert_, assertEquals, assertRejects } from "../_assert.ts";
import { makeTree, removeTree } from "../_helpers.ts";
import { DenoFileSystem } from "../../lib/runtime/fs.ts";
import type { Host } from "../../lib/runtime/host.ts";
import { LockedError, SweepStore } from "../../lib/store/store.ts";

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

Deno.test("SweepStore snapshot + journal give the same state as the journal alone", async () => {
  const dir = await makeTree({});
  const fs = new DenoFileSystem();
  try {
    const s1 = await SweepStore.open(fs, host(), dir);
    await s1.append(intent);
    await s1.snapshot();
    await s1.append({ type: "submitted", intent: 1, jobId: "77" });
    const s2 = await SweepStore.open(fs, host(), dir);
    assertEquals(s2.state.runs.b.attempts[0].jobId, "77_1");
    await Deno.remove(`${dir}/.autoexp/snapshot.json`);
    const s3 = await SweepStore.open(fs, host(), dir);
    assertEquals(s3.state, s2.state);
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
