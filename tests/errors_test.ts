/** Errors the user must fix read as what autoexp tried, on which path, and what to do. */
import { assertEquals, assertMatch } from "./_assert.ts";
import { fileSystemProblem } from "../lib/errors.ts";

Deno.test("fileSystemProblem: a disk or permission error names the path and the way out", () => {
  const cases: [string, RegExp | null][] = [
    [
      "No space left on device (os error 28): write '/scratch/s/.autoexp/journal.jsonl'",
      /^cannot write \/scratch\/s\/\.autoexp\/journal\.jsonl: no space left .* run the same command again/,
    ],
    [
      "Permission denied (os error 13): rename '/o/a.tmp' -> '/o/a'",
      /^cannot rename \/o\/a\.tmp to \/o\/a: permission denied/,
    ],
    [
      "Read-only file system (os error 30): mkdir '/ro/sweep'",
      /^cannot create the directory \/ro\/sweep: the file system is read-only/,
    ],
    [
      "Disk quota exceeded (os error 122): open '/home/u/x'",
      /^cannot open \/home\/u\/x: the disk quota/,
    ],
    // Not the user's to fix, or no path: left to the internal-error report.
    ["Bad file descriptor (os error 9): read '/x'", null],
    ["Cannot read properties of undefined (reading 'x')", null],
  ];
  for (const [message, want] of cases) {
    const got = fileSystemProblem(new Error(message));
    if (want === null) assertEquals(got, null, message);
    else assertMatch(got ?? "", want);
  }
});

Deno.test("fileSystemProblem reads Deno's own errors", async () => {
  const e = await Deno.mkdir("/proc/autoexp-test/x", { recursive: true }).catch((e) => e);
  assertMatch(fileSystemProblem(e) ?? "", /^cannot create the directory \/proc\/autoexp-test/);
});
