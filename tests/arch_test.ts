/** Architecture rules of the house style, checked on the source tree. */
import { assertEquals } from "./_assert.ts";
import { ROOT } from "./_helpers.ts";

async function tsFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...await tsFiles(p));
    else if (e.name.endsWith(".ts")) out.push(p);
  }
  return out;
}

Deno.test("only lib/runtime and the CLI wiring touch Deno.*", async () => {
  const offenders: string[] = [];
  for (const f of await tsFiles(`${ROOT}/lib`)) {
    const rel = f.slice(ROOT.length + 1);
    if (rel.startsWith("lib/runtime/") || rel.startsWith("lib/cli/")) continue;
    const text = await Deno.readTextFile(f);
    text.split("\n").forEach((line, i) => {
      if (/\bDeno\.[a-zA-Z]/.test(line) && !/^\s*(\*|\/\/|\/\*)/.test(line)) {
        offenders.push(`${rel}:${i + 1}: ${line.trim()}`);
      }
    });
  }
  assertEquals(offenders, []);
});

Deno.test("no index.ts files and snake_case file names under lib/", async () => {
  const bad = (await tsFiles(`${ROOT}/lib`))
    .map((f) => f.slice(ROOT.length + 1))
    .filter((f) => /\/index\.ts$/.test(f) || !/^[a-z0-9_./]+$/.test(f));
  assertEquals(bad, []);
});
