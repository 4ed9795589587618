/**
 * Replays the cases in `tests/testdata/omegaconf_cases.json`, resolved by real OmegaConf 2.2
 * (regenerate with `/usr/bin/python3 tools/omegaconf_cases.py`), against autoexp's engine.
 * Cases marked `deviation` hold autoexp's documented result instead of OmegaConf's. Python
 * floats with an integral value (`1.0` in the JSON) are read as `WholeFloat`s, so a case
 * checks that `1.0` stays a float, as it does in OmegaConf.
 */
import assert from "node:assert/strict";
import type { ConfigProblem } from "../../lib/errors.ts";
import { resolveTree } from "../../lib/config/resolve.ts";
import { standardResolvers } from "../../lib/config/resolvers.ts";
import { cloneTree, type ConfigMap } from "../../lib/config/tree.ts";
import { parsePythonJson } from "../_helpers.ts";

interface CompatCase {
  readonly name: string;
  readonly config: ConfigMap;
  readonly env: Readonly<Record<string, string>>;
  readonly allow_missing: boolean;
  /** The resolved tree, or null when resolving fails. */
  readonly expected: ConfigMap | null;
  /** OmegaConf's exception class when resolving fails. */
  readonly error: string | null;
  /** For failing cases: the key path autoexp reports and substrings of its message. */
  readonly problem?: { readonly path: string; readonly mentions: readonly string[] };
  /** Why autoexp differs from OmegaConf here; `expected`/`error` are then autoexp's. */
  readonly deviation?: string;
}

const cases: CompatCase[] = parsePythonJson(
  await Deno.readTextFile(new URL("../testdata/omegaconf_cases.json", import.meta.url)),
);

function resolveCase(c: CompatCase) {
  const resolvers = standardResolvers({
    env: c.env,
    now: new Date(2024, 0, 2, 3, 4, 5),
    platform: "base",
  });
  return resolveTree(cloneTree(c.config), {
    resolvers,
    allowMissing: c.allow_missing,
  });
}

function describe(problems: readonly ConfigProblem[]): string {
  return problems.map((p) => `${p.path}: ${p.message}`).join("\n");
}

Deno.test("omegaconf cases: the fixture is well formed", () => {
  assert.ok(cases.length >= 50, `only ${cases.length} cases`);
  assert.strictEqual(new Set(cases.map((c) => c.name)).size, cases.length, "duplicate names");
  for (const c of cases) {
    assert.ok((c.expected === null) !== (c.error === null), `${c.name}: expected xor error`);
    if (c.error !== null) assert.ok(c.problem, `${c.name}: error case without a problem`);
  }
});

Deno.test("resolveTree agrees with OmegaConf 2.2", async (t) => {
  for (const c of cases) {
    await t.step(c.deviation ? `${c.name} (deviation)` : c.name, () => {
      const { value, problems } = resolveCase(c);
      if (c.error === null) {
        assert.deepStrictEqual(problems, [], describe(problems));
        assert.deepStrictEqual(value, c.expected);
        return;
      }
      const want = c.problem!;
      assert.ok(problems.length > 0, `expected a problem (OmegaConf raised ${c.error})`);
      const hit = problems.find((p) => p.path === want.path);
      assert.ok(hit, `no problem at "${want.path}"; got:\n${describe(problems)}`);
      for (const s of want.mentions) {
        assert.ok(hit.message.includes(s), `message lacks "${s}": ${hit.message}`);
      }
      // Each failing node is reported once.
      const paths = problems.map((p) => p.path);
      assert.strictEqual(new Set(paths).size, paths.length, describe(problems));
    });
  }
});
