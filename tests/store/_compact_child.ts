/**
 * The child of store_kill_test.ts: appends batches of action events to a store and compacts it
 * after every batch (as a monitor does at megabytes), printing the seq of each batch once it
 * is durable, until it is killed.
 */
import { DenoFileSystem } from "../../lib/runtime/fs.ts";
import { SweepStore } from "../../lib/store/store.ts";
import { killEvents } from "./_kill_events.ts";

const dir = Deno.args[0];
const host = {
  env: {},
  hostname: () => "h1",
  cwd: () => "/",
  now: () => new Date("2026-01-01T00:00:00Z"),
  color: false,
  pid: Deno.pid,
  selfCommand: () => ["autoexp"],
};
const store = await SweepStore.open(new DenoFileSystem(), host, dir);
await store.lock("kill test");
const evs = killEvents();
for (let i = store.state.seq; i < evs.length; i += 50) {
  await store.appendMany(evs.slice(i, i + 50));
  console.log(store.state.seq);
  await store.snapshot(true);
}
