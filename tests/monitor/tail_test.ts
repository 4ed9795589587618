/** LogTail against real files in temporary directories. */
import { assert_, assertEquals } from "../_assert.ts";
import {
  ANCHOR_BYTES,
  CUT_MARKER,
  DEFAULT_MAX_BYTES_PER_POLL,
  DEFAULT_MAX_LINE_BYTES,
  LogTail,
  newTailState,
  pollTail,
  type TailState,
} from "../../lib/monitor/tail.ts";
import { type TailSource, tailSourceFromOpen } from "../../lib/runtime/tail_source.ts";

const source: TailSource = tailSourceFromOpen(
  (p) => Deno.open(p),
  (e) => e instanceof Deno.errors.NotFound,
);
const enc = new TextEncoder();

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "autoexp_tail_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function append(path: string, data: string | Uint8Array): Promise<void> {
  await Deno.writeFile(path, typeof data === "string" ? enc.encode(data) : data, {
    append: true,
    create: true,
  });
}

Deno.test("LogTail.poll keeps a partial last line until its newline arrives", async () => {
  await withDir(async (dir) => {
    const log = `${dir}/train.out`;
    await append(log, "first\nsec");
    const tail = new LogTail(source, log);
    const r1 = await tail.poll();
    assertEquals(r1.lines, ["first"]);
    assertEquals(r1.grew, true);
    assertEquals(tail.state.offset, 6);
    assertEquals(tail.state.pending, 3);
    assertEquals((await tail.poll()).lines, []);
    await append(log, "ond\nthird\n");
    assertEquals((await tail.poll()).lines, ["second", "third"]);
    assertEquals(tail.state.lines, 3);
  });
});

Deno.test("LogTail.poll reports grew only when the file has new bytes", async () => {
  await withDir(async (dir) => {
    const log = `${dir}/train.out`;
    await append(log, "a\n");
    const tail = new LogTail(source, log);
    assertEquals((await tail.poll()).grew, true);
    const idle = await tail.poll();
    assertEquals([idle.grew, idle.lines, idle.truncated, idle.replaced], [false, [], false, false]);
    await append(log, "par");
    const partial = await tail.poll();
    assertEquals([partial.grew, partial.lines], [true, []]);
  });
});

Deno.test("LogTail.poll decodes a multi-byte character split across two polls", async () => {
  await withDir(async (dir) => {
    const log = `${dir}/train.out`;
    const text = enc.encode("ok\nloss ≈ 3.2 € 😀 done\n");
    // Split inside "😀" (4 bytes), then inside "€" of a second line.
    const emoji = text.indexOf(0xf0);
    await append(log, text.subarray(0, emoji + 2));
    const tail = new LogTail(source, log);
    assertEquals((await tail.poll()).lines, ["ok"]);
    await append(log, text.subarray(emoji + 2));
    assertEquals((await tail.poll()).lines, ["loss ≈ 3.2 € 😀 done"]);
    await append(log, new Uint8Array([0x61, 0xe2, 0x82]));
    assertEquals((await tail.poll()).lines, []);
    await append(log, new Uint8Array([0xac, 0x0a]));
    assertEquals((await tail.poll()).lines, ["a€"]);
  });
});

Deno.test("LogTail.poll turns invalid UTF-8 into replacement characters without throwing", async () => {
  await withDir(async (dir) => {
    const log = `${dir}/train.out`;
    // Lone continuation bytes, an invalid lead byte, a truncated sequence before a newline.
    await append(log, new Uint8Array([0x61, 0xff, 0xfe, 0x62, 0x0a, 0xc3, 0x0a, 0x80, 0x63, 0x0a]));
    const tail = new LogTail(source, log);
    assertEquals((await tail.poll()).lines, ["a\uFFFD\uFFFDb", "\uFFFD", "\uFFFDc"]);
  });
});

Deno.test("LogTail.poll strips CR of CRLF line ends, also when CR and LF arrive apart", async () => {
  await withDir(async (dir) => {
    const log = `${dir}/train.out`;
    await append(log, "a\r\nb\r\nc\r");
    const tail = new LogTail(source, log);
    assertEquals((await tail.poll()).lines, ["a", "b"]);
    await append(log, "\n");
    assertEquals((await tail.poll()).lines, ["c"]);
  });
});

Deno.test("LogTail.poll cuts a 1 MiB line without newline and keeps memory bounded", async () => {
  await withDir(async (dir) => {
    const log = `${dir}/train.out`;
    await append(log, "before\n");
    await append(log, new Uint8Array(1 << 20).fill(0x78));
    const tail = new LogTail(source, log);
    const r1 = await tail.poll();
    assertEquals(r1.lines.length, 2);
    assertEquals(r1.lines[0], "before");
    assertEquals(r1.lines[1], "x".repeat(DEFAULT_MAX_LINE_BYTES) + CUT_MARKER);
    assertEquals(tail.state.skipping, true);
    assertEquals(tail.state.offset, 7 + (1 << 20));
    assert_(JSON.stringify(tail.state).length < 512, "the state holds no line text");
    // More of the same line, still no newline: skipped, nothing emitted.
    await append(log, new Uint8Array(1 << 20).fill(0x78));
    assertEquals((await tail.poll()).lines, []);
    await append(log, "tail of the long line\nnext\n");
    assertEquals((await tail.poll()).lines, ["next"]);
    assertEquals(tail.state.skipping, false);
  });
});

Deno.test("LogTail.poll cuts a complete over-long line, not splitting a character", async () => {
  await withDir(async (dir) => {
    const log = `${dir}/train.out`;
    const long = "é".repeat(100_000); // 200 kB
    await append(log, `${long}\nshort\n`);
    const tail = new LogTail(source, log, { maxLineBytes: 1001 });
    const { lines } = await tail.poll();
    assertEquals(lines, ["é".repeat(1001) + CUT_MARKER, "short"]);
  });
});

Deno.test("LogTail.poll cuts a partial over-long line on a character boundary", async () => {
  await withDir(async (dir) => {
    const log = `${dir}/train.out`;
    await append(log, "é".repeat(3000)); // 6000 bytes, no newline
    const tail = new LogTail(source, log, { maxLineBytes: 1001 });
    assertEquals((await tail.poll()).lines, ["é".repeat(500) + CUT_MARKER]);
  });
});

Deno.test("LogTail.poll restarts at 0 when the file is truncated", async () => {
  await withDir(async (dir) => {
    const log = `${dir}/train.out`;
    await append(log, "one\ntwo\nthree\n");
    const tail = new LogTail(source, log);
    assertEquals((await tail.poll()).lines, ["one", "two", "three"]);
    await Deno.writeTextFile(log, "new\n"); // same inode, shorter
    const r = await tail.poll();
    assertEquals([r.truncated, r.replaced, r.lines], [true, false, ["new"]]);
    assertEquals(tail.state.lines, 1);
  });
});

Deno.test("LogTail.poll notices a file rewritten in place that is already longer again", async () => {
  await withDir(async (dir) => {
    const log = `${dir}/train.out`;
    await append(log, "attempt 1 line 1\nattempt 1 line 2\n");
    const tail = new LogTail(source, log);
    assertEquals((await tail.poll()).lines.length, 2);
    // SLURM reopening --output with O_TRUNC for a new attempt, written past the old offset
    // before the next poll: sizes alone cannot tell, the anchor bytes can.
    await Deno.writeTextFile(log, "attempt 2 started, a longer first line\nattempt 2 line 2\n");
    const r = await tail.poll();
    assertEquals(r.truncated, true);
    assertEquals(r.lines, ["attempt 2 started, a longer first line", "attempt 2 line 2"]);
  });
});

Deno.test("LogTail.poll restarts at 0 when another file is renamed over the path", async () => {
  await withDir(async (dir) => {
    const log = `${dir}/train.out`;
    await append(log, "old 1\nold 2\nold 3\n");
    const tail = new LogTail(source, log);
    assertEquals((await tail.poll()).lines.length, 3);
    await Deno.writeTextFile(`${dir}/next.out`, "new 1\nnew 2\nnew 3 is longer\n");
    await Deno.rename(`${dir}/next.out`, log);
    const r = await tail.poll();
    assertEquals([r.replaced, r.truncated, r.grew], [true, false, true]);
    assertEquals(r.lines, ["new 1", "new 2", "new 3 is longer"]);
  });
});

Deno.test("LogTail.poll waits for a missing file without error", async () => {
  await withDir(async (dir) => {
    const log = `${dir}/not_yet.out`;
    const tail = new LogTail(source, log);
    const r = await tail.poll();
    assertEquals([r.exists, r.lines, r.grew], [false, [], false]);
    assertEquals(tail.state, newTailState(log));
    await append(log, "hello\n");
    const r2 = await tail.poll();
    assertEquals([r2.exists, r2.lines, r2.grew, r2.replaced], [true, ["hello"], true, false]);
  });
});

Deno.test("LogTail.poll follows a symlink and notices when it is retargeted", async () => {
  await withDir(async (dir) => {
    await append(`${dir}/train_101_0.out`, "task 0 a\n");
    await Deno.symlink(`${dir}/train_101_0.out`, `${dir}/current.out`);
    const tail = new LogTail(source, `${dir}/current.out`);
    assertEquals((await tail.poll()).lines, ["task 0 a"]);
    await append(`${dir}/train_101_0.out`, "task 0 b\n");
    assertEquals((await tail.poll()).lines, ["task 0 b"]);
    await append(`${dir}/train_102_0.out`, "attempt 2 a\n");
    await Deno.remove(`${dir}/current.out`);
    await Deno.symlink(`${dir}/train_102_0.out`, `${dir}/current.out`);
    const r = await tail.poll();
    assertEquals([r.replaced, r.lines], [true, ["attempt 2 a"]]);
    // A dangling link is "missing", not an error.
    await Deno.remove(`${dir}/train_102_0.out`);
    assertEquals((await tail.poll()).exists, false);
  });
});

Deno.test("LogTail state round-trips through JSON; a resumed tail repeats no line", async () => {
  await withDir(async (dir) => {
    const log = `${dir}/train.out`;
    await append(log, "l1\nl2\npart");
    const first = new LogTail(source, log);
    assertEquals((await first.poll()).lines, ["l1", "l2"]);
    const saved = JSON.stringify(first);
    await append(log, "ial\nl4\n");
    const resumed = LogTail.fromState(source, JSON.parse(saved) as TailState);
    assertEquals((await resumed.poll()).lines, ["partial", "l4"]);
    assertEquals(resumed.state.lines, 4);
    assertEquals((await resumed.poll()).lines, []);
    // The pure function form gives the same.
    const again = await pollTail(source, JSON.parse(saved) as TailState);
    assertEquals(again.lines, ["partial", "l4"]);
    assertEquals(again.state, resumed.state);
  });
});

Deno.test("LogTail.poll consumes a 20 MB burst over several bounded polls", async () => {
  await withDir(async (dir) => {
    const log = `${dir}/train.out`;
    const n = 210_000;
    const pad = "x".repeat(90);
    const text = Array.from({ length: n }, (_, i) => `${String(i).padStart(7, "0")} ${pad}\n`).join(
      "",
    );
    await Deno.writeTextFile(log, text);
    assert_(text.length >= 20_000_000);
    const tail = new LogTail(source, log);
    let polls = 0;
    let seen = 0;
    for (;;) {
      const r = await tail.poll();
      if (r.lines.length === 0) break;
      polls++;
      for (const line of r.lines) {
        assertEquals(line.slice(0, 7), String(seen).padStart(7, "0"));
        seen++;
      }
      assert_(r.lines.length * 99 <= DEFAULT_MAX_BYTES_PER_POLL);
    }
    assertEquals(seen, n);
    assertEquals(polls, Math.ceil(text.length / DEFAULT_MAX_BYTES_PER_POLL));
    assertEquals(tail.state.offset, text.length);
  });
});

Deno.test("LogTail.poll with flush emits a final line that has no newline", async () => {
  await withDir(async (dir) => {
    const log = `${dir}/train.out`;
    await append(log, "a\nlast words\r");
    const tail = new LogTail(source, log);
    assertEquals((await tail.poll()).lines, ["a"]);
    assertEquals((await tail.poll({ flush: true })).lines, ["last words"]);
    assertEquals((await tail.poll({ flush: true })).lines, []);
  });
});

Deno.test("pollTail without file identities still detects a rewrite by the anchor bytes", async () => {
  // A source that reports no file id (as on platforms without inodes), over an in-memory file.
  let content = enc.encode("a".repeat(ANCHOR_BYTES) + "\n" + "b\n");
  let mtime = 1;
  const mem: TailSource = {
    open: () =>
      Promise.resolve({
        stat: () => Promise.resolve({ size: content.length, mtimeMs: mtime, fileId: null }),
        read: (o: number, n: number) => Promise.resolve(content.slice(o, o + n)),
        close: () => {},
      }),
  };
  let r = await pollTail(mem, newTailState("mem"));
  assertEquals(r.lines, ["a".repeat(ANCHOR_BYTES), "b"]);
  content = enc.encode("c".repeat(ANCHOR_BYTES + 10) + "\n");
  mtime = 2;
  r = await pollTail(mem, r.state);
  assertEquals([r.truncated, r.replaced, r.lines], [true, false, ["c".repeat(ANCHOR_BYTES + 10)]]);
});
