/** Job environment values from the user's environment are planned by name (lib/plan/env_refs.ts). */
import { assertEquals } from "../_assert.ts";
import { envRefsOf, passEnvByName } from "../../lib/plan/env_refs.ts";
import type { ValidConfig } from "../../lib/config/schema/mod.ts";

const raw = {
  slurm: {
    env: {
      HF_TOKEN: "${oc.env:HF_TOKEN}",
      WITH_DEFAULT: "${oc.env:UNSET_VAR,fallback}",
      MIXED: "prefix_${oc.env:HF_TOKEN}",
      LITERAL: "x",
    },
  },
  backend: { name: "command", env: { KEY2: "${oc.env: OTHER , }" } },
};

Deno.test("envRefsOf: whole-value oc.env entries whose variable is set", () => {
  const refs = envRefsOf(raw, { HF_TOKEN: "t", OTHER: "o" });
  assertEquals([...refs].map(([k, v]) => [k, [...v]]), [
    ["slurm.env", [["HF_TOKEN", "HF_TOKEN"]]],
    ["backend.env", [["KEY2", "OTHER"]]],
  ]);
  // The same refs are one object, so runs keep sharing their groups.
  assertEquals(envRefsOf(raw, { HF_TOKEN: "t", OTHER: "o" }) === refs, true);
});

Deno.test("passEnvByName: the value becomes a shell reference; groups stay shared", () => {
  const slurm = { env: { HF_TOKEN: "hf_secret", LITERAL: "x" }, modules: ["cuda"] };
  const backend = { name: "command" as const, env: { KEY2: "o" } };
  const config: ValidConfig = { slurm, backend };
  const refs = envRefsOf(raw, { HF_TOKEN: "t", OTHER: "o" });
  const a = passEnvByName(config, refs);
  assertEquals(a.slurm?.env, { HF_TOKEN: { value: '"${HF_TOKEN}"', shell: true }, LITERAL: "x" });
  assertEquals(a.backend?.env, { KEY2: { value: '"${OTHER}"', shell: true } });
  assertEquals(a.slurm?.modules, ["cuda"]);
  assertEquals(passEnvByName(config, refs).slurm === a.slurm, true);
  assertEquals(passEnvByName(config, envRefsOf(raw, {})), config);
});
