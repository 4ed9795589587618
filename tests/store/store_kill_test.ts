/**
 * Compaction under SIGKILL: a child process appends and compacts in a loop and is killed at
 * random moments (often inside a compaction: it is most of its time); after each kill the store
 * reads back every event the child reported durable, and the state is the fold of exactly the
 * events journaled. Then a new child goes on from there.
 */
import { assert_, assertEquals } from "../_assert.ts";
import { makeTree, removeTree } from "../_helpers.ts";
import { DenoFileSystem } from "../../lib/runtime/fs.ts";
import { applyEvent, emptyState, type StoreEvent } from "../../lib/store/state.ts";
import { SweepStore } from "../../lib/store/store.ts";
import { killEvents } from "./_kill_events.ts";

const host = {
  env: {},
  hostname: () => "h1",
  cwd: () => "/",
  now: () => new Date("2026-01-01T00:00:00Z"),
  color: false,
  pid: 1,
  selfCommand: () => ["autoexp"],
};

Deno.test("SweepStore: SIGKILL during compaction loses no event", async () => {
  const dir = await makeTree({});
  const all = killEvents();
  try {
    for (let kill = 0; kill < 8; kill++) {
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", new URL("./_compact_child.ts", import.meta.url).pathname, dir],
        stdout: "piped",
        stderr: "null",
      }).spawn();
      let durable = 0;
      const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
      // Killed after a random number of durable batches, somewhere in the next batch.
      const batches = 2 + Math.floor(Math.random() * 4);
      let seen = 0;
      let buf = "";
      while (seen < batches) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        const lines = buf.split("\n");
        buf = lines.pop()!;
        for (const l of lines) {
          durable = Number(l);
          seen++;
        }
      }
      await new Promise((r) => setTimeout(r, Math.random() * 30));
      try {
        child.kill("SIGKILL");
      } catch { /* it finished */ }
      await child.status;
      await reader.cancel().catch(() => {});
      const store = await SweepStore.open(new DenoFileSystem(), host as never, dir, {
        readOnly: true,
      });
      assert_(store.state.seq >= durable, `after kill ${kill}: ${store.state.seq} < ${durable}`);
      const want = emptyState();
      all.slice(0, store.state.seq).forEach((e, i) =>
        applyEvent(want, { ...e, seq: i + 1, at: "2026-01-01T00:00:00.000Z" } as StoreEvent)
      );
      assertEquals(
        JSON.parse(JSON.stringify(store.state)),
        JSON.parse(JSON.stringify(want)),
        `state after kill ${kill}`,
      );
      await Deno.remove(`${dir}/.autoexp/lock`).catch(() => {});
    }
  } finally {
    await removeTree(dir);
  }
});
