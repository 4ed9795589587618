/**
 * The per-user history index on a real file system: appends of many writers at once never
 * interleave inside a line, a damaged line is skipped and counted, growth is bounded by
 * rotation (the rotated file is still read), a stale rotation lock is taken over, a failed
 * write is warned about once and never thrown.
 */
import { assert_, assertEquals } from "../_assert.ts";
import {
  FileHistoryIndex,
  type HistoryRecord,
  parseRecord,
  userHistory,
} from "../../lib/runtime/history.ts";
import { DenoFileSystem } from "../../lib/runtime/fs.ts";
import { userDir } from "../../lib/runtime/xdg.ts";

const fs = new DenoFileSystem();

function rec(job: string, over: Partial<HistoryRecord> = {}): HistoryRecord {
  return {
    at: "2026-12-03T12:00:00.000Z",
    event: "submitted",
    job,
    sweep: "/out/demo",
    run: `run_${job}`,
    attempt: 1,
    state: "pending",
    ...over,
  };
}

Deno.test("history index: concurrent writers' lines stay whole; damaged lines are skipped", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const writers = Array.from({ length: 8 }, () => new FileHistoryIndex({ dir, files: fs }));
    await Promise.all(
      writers.flatMap((w, i) =>
        Array.from(
          { length: 25 },
          (_, k) => w.append([rec(`${i}_${k}`, { reason: "x".repeat(2000) }), rec(`${i}_${k}b`)]),
        )
      ),
    );
    await Deno.writeTextFile(`${dir}/history.jsonl`, '{"torn": tr\nnot json\n', { append: true });
    const { records, damaged } = await writers[0].read();
    assertEquals(records.length, 8 * 25 * 2);
    assertEquals(damaged, 2);
    assertEquals(new Set(records.map((r) => r.job)).size, 400);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("history index: rotates above its size and still reads the rotated file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const h = new FileHistoryIndex({ dir, files: fs, maxBytes: 2000 });
    for (let i = 0; i < 40; i++) await h.append([rec(String(i))]);
    const main = (await Deno.stat(`${dir}/history.jsonl`)).size;
    const rotated = (await Deno.stat(`${dir}/history.1.jsonl`)).size;
    assert_(main <= 2000 + 300 && rotated <= 2000 + 300, `${main} ${rotated}`);
    const { records } = await h.read();
    // The oldest lines are dropped; the newest are all there, in order.
    assert_(records.length < 40 && records.length > 5);
    assertEquals(records[records.length - 1].job, "39");
    const jobs = records.map((r) => Number(r.job));
    assertEquals(jobs, [...jobs].sort((a, b) => a - b));
    assert_(!(await fs.exists(`${dir}/history.lock`)));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("history index: another process's lock defers rotation; a stale one is taken over", async () => {
  const dir = await Deno.makeTempDir();
  try {
    let now = Date.now();
    const h = new FileHistoryIndex({ dir, files: fs, maxBytes: 100, now: () => now });
    await Deno.writeTextFile(`${dir}/history.lock`, "1\n");
    await h.append([rec("1")]);
    assert_(!(await fs.exists(`${dir}/history.1.jsonl`)), "rotated under another's lock");
    now += 120_000;
    await h.append([rec("2")]);
    assert_(await fs.exists(`${dir}/history.1.jsonl`), "stale lock not taken over");
    assertEquals((await h.read()).records.map((r) => r.job), ["1", "2"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("history index: a write that fails is warned about once, never thrown", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/file`, "");
    const warnings: string[] = [];
    const h = new FileHistoryIndex({
      dir: `${dir}/file/sub`,
      files: fs,
      warn: (t) => warnings.push(t),
    });
    await h.append([rec("1")]);
    await h.append([rec("2")]);
    assertEquals(warnings.length, 1);
    assert_(warnings[0].includes("history.jsonl"), warnings[0]);
    assertEquals(await h.read(), { records: [], damaged: 0 });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("userDir and userHistory: XDG variables, HOME, off", () => {
  assertEquals(userDir({ HOME: "/home/ada" }, "data"), "/home/ada/.local/share/autoexp");
  assertEquals(userDir({ HOME: "/home/ada" }, "config"), "/home/ada/.config/autoexp");
  assertEquals(userDir({ HOME: "/h", XDG_DATA_HOME: "/x/" }, "data"), "/x/autoexp");
  assertEquals(userDir({ HOME: "/h", XDG_CONFIG_HOME: "rel" }, "config"), "/h/.config/autoexp");
  assertEquals(userDir({}, "data"), null);
  assertEquals(userHistory({ HOME: "/h" }, fs)?.file, "/h/.local/share/autoexp/history.jsonl");
  assertEquals(userHistory({ HOME: "/h", AUTOEXP_HISTORY: "0" }, fs), null);
  assertEquals(parseRecord('{"at":"t","event":"nope","job":"1"}'), null);
  assertEquals(parseRecord("[1]"), null);
});
