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

/**
 * The layers of lib/, lowest first. A module may import from its own folder or from a lower
 * layer, never from its own layer's other folders or from above (data flows config -> sweep ->
 * plan -> render; scheduler and store below submit; the monitor above submit; the CLI on top).
 */
const LAYERS: readonly (readonly string[])[] = [
  ["errors.ts", "version.ts", "shell.ts", "assets", "runtime"],
  ["config", "scheduler"],
  ["platform", "sweep", "monitoring"],
  ["plan", "store"],
  ["render", "results"],
  ["submit"],
  ["monitor"],
  ["cli"],
];

/** The top-level entry of lib/ a file belongs to (`config`, `errors.ts`). */
function unitOf(rel: string): string {
  return rel.slice("lib/".length).split("/")[0];
}

function layerOf(unit: string): number {
  const i = LAYERS.findIndex((l) => l.includes(unit));
  if (i < 0) throw new Error(`lib/${unit} is in no layer of tests/arch_test.ts: add it`);
  return i;
}

interface Import {
  readonly from: string;
  readonly to: string;
  readonly typeOnly: boolean;
  readonly line: number;
}

/** Every relative import and re-export of the files under lib/ (static and dynamic). */
async function importsOfLib(): Promise<Import[]> {
  const out: Import[] = [];
  for (const f of await tsFiles(`${ROOT}/lib`)) {
    const rel = f.slice(ROOT.length + 1);
    const text = await Deno.readTextFile(f);
    const dir = rel.slice(0, rel.lastIndexOf("/"));
    const re =
      /(?:^|\n)\s*(import|export)(\s+type)?\s[^;]*?from\s+"(\.[^"]+)"|import\(\s*"(\.[^"]+)"\s*\)/g;
    for (const m of text.matchAll(re)) {
      const spec = m[3] ?? m[4];
      const to = new URL(spec, `file:///${dir}/`).pathname.slice(1);
      out.push({
        from: rel,
        to,
        typeOnly: m[2] !== undefined,
        line: text.slice(0, m.index).split("\n").length + 1,
      });
    }
  }
  return out;
}

Deno.test("imports in lib/ run down the layers, never up or sideways", async () => {
  const bad: string[] = [];
  for (const i of await importsOfLib()) {
    const [a, b] = [unitOf(i.from), unitOf(i.to)];
    if (a === b) continue;
    const [la, lb] = [layerOf(a), layerOf(b)];
    if (lb >= la) bad.push(`${i.from}:${i.line} imports ${i.to} (layer ${la} -> ${lb})`);
  }
  assertEquals(bad, []);
});

Deno.test("no import cycles between files of lib/", async () => {
  const edges = new Map<string, string[]>();
  for (const i of await importsOfLib()) {
    edges.set(i.from, [...(edges.get(i.from) ?? []), i.to]);
  }
  const cycles: string[] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (f: string) => {
    if (state.get(f) === "done") return;
    if (state.get(f) === "open") {
      cycles.push([...stack.slice(stack.indexOf(f)), f].join(" -> "));
      return;
    }
    state.set(f, "open");
    stack.push(f);
    for (const t of edges.get(f) ?? []) visit(t);
    stack.pop();
    state.set(f, "done");
  };
  for (const f of edges.keys()) visit(f);
  assertEquals(cycles, []);
});

Deno.test("lib/runtime is reached through its ports: type-only imports outside the CLI", async () => {
  const bad = (await importsOfLib()).filter((i) =>
    unitOf(i.to) === "runtime" && !["runtime", "cli"].includes(unitOf(i.from)) && !i.typeOnly
  ).map((i) => `${i.from}:${i.line} imports ${i.to} (use \`import type\`; wire it in lib/cli)`);
  assertEquals(bad, []);
});
