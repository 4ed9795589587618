/**
 * Every shipped preset of the groups users pick from (slurm, compute, monitoring, restart,
 * backend, container) composes, validates and renders job scripts for the demo sweep, and its
 * monitoring spec is valid (placeholders included) - so a preset cannot rot unnoticed.
 */
import { assert_, assertEquals } from "../_assert.ts";
import { ROOT } from "../_helpers.ts";
import { loadConfigFiles } from "../../lib/config/load.ts";
import { writePlan } from "../../lib/plan/mod.ts";
import { DenoFileSystem } from "../../lib/runtime/fs.ts";
import type { Host } from "../../lib/runtime/mod.ts";

const fs = new DenoFileSystem();

function host(out: string): Host {
  return {
    env: { AUTOEXP_OUTPUT_DIR: out, SLURM_ACCOUNT: "project_123", HOME: "/home/u", USER: "u" },
    hostname: () => "laptop",
    cwd: () => out,
    now: () => new Date("2026-11-22T10:00:00Z"),
    color: false,
    pid: () => 1,
    selfCommand: () => ["/usr/local/bin/autoexp"],
  } as unknown as Host;
}

const files = await loadConfigFiles(fs, `${ROOT}/examples/demo`);

for (const group of ["slurm", "compute", "monitoring", "restart", "backend", "container"]) {
  const options = files.options(group).filter((o) => !(group === "monitoring" && o === "demo"));
  Deno.test(`presets: every ${group} preset plans and renders the demo sweep (${options.length})`, async () => {
    assert_(options.length > 0, `no ${group} presets`);
    const out = await Deno.makeTempDir({ prefix: "autoexp-presets-" });
    try {
      for (const option of options) {
        const overrides = [`${group}=${option}`, `project.name=p_${option.replaceAll("/", "_")}`];
        // The demo's own backend settings and monitoring are Megatron's; other backends get
        // their defaults and no Megatron monitoring.
        if (group === "backend" && !option.startsWith("megatron")) {
          overrides.push("~backend.args", "~backend.python", "~backend.megatron_path");
          overrides.push("~backend.script", "~backend.extra_args", "monitoring=none");
        }
        if (group === "container" && option !== "none") {
          overrides.push("container.image=/img/t.sif");
        }
        const outcome = await writePlan(
          { configDir: `${ROOT}/examples/demo`, overrides },
          { fs, host: host(out) },
        ).catch((e) => {
          throw new Error(`${group}=${option}: ${(e as Error).message}`);
        });
        assertEquals(outcome.plan.runs.length, 3, `${group}=${option}`);
        const scripts = [...Deno.readDirSync(`${outcome.plan.sweep.dir}/scripts`)];
        assert_(scripts.length > 0, `${group}=${option} rendered no script`);
        assertEquals(Object.keys(outcome.monitor.runs).length, 3, `${group}=${option}`);
      }
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  });
}
