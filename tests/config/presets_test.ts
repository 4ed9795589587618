/**
 * Every shipped preset of the groups users pick from (slurm, compute, monitoring, restart,
 * backend, container) composes, validates and renders job scripts for the demo sweep, and its
 * monitoring spec is valid (placeholders included) - so a preset cannot rot unnoticed.
 */
import { assert_, assertEquals } from "../_assert.ts";
import { ROOT } from "../_helpers.ts";
import { loadConfigFiles } from "../../lib/config/load.ts";
import { writePlan } from "../../lib/render/tree.ts";
import { DenoFileSystem } from "../../lib/runtime/fs.ts";
import type { Host } from "../../lib/runtime/mod.ts";
import { compileEvents, matchLine } from "../../lib/monitoring/events.ts";
import type { MonitorSpec } from "../../lib/monitoring/spec_types.ts";

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

/** Megatron's real lines (shared/data/megatron/log_formats.md) that presets' events must match. */
const MEGATRON_LINES = {
  checkpoint_saved:
    "  [2026-08-22 10:15:07.654321] successfully saved checkpoint from iteration     500 to /ckpt/run1 [ t 1/1, gtp_remat 1/1, p 1/1 ]",
  nan_found:
    "Rank 3: found NaN in local grad norm for bucket #0 in backward pass before data-parallel communication collective. Iteration: 1234. Device: 3.",
  cuda_oom_reported:
    "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 79.15 GiB",
};

function checkPatterns(option: string, specs: MonitorSpec[]): void {
  for (const spec of specs) {
    const events = compileEvents(spec.logEvents.map((e) => e.spec));
    for (const e of spec.logEvents) {
      const line = MEGATRON_LINES[e.spec.name as keyof typeof MEGATRON_LINES];
      assert_(line !== undefined, `${option}: event ${e.spec.name} has no real line to test`);
      const m = matchLine(events, line).find((x) => x.event === e.spec.name);
      assert_(m, `${option}: ${e.spec.name} does not match Megatron's line`);
      if (e.spec.name === "checkpoint_saved") {
        assertEquals(m.metadata.checkpoint_iteration, "500", option);
        assertEquals(m.metadata.checkpoint_path, "/ckpt/run1", option);
      }
    }
  }
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
        // `evaluation` is Megatron's too, loading the checkpoint a derived run names.
        if (group === "backend" && option === "evaluation") overrides.push("+checkpoint_path=/ck");
        if (group === "backend" && !option.startsWith("megatron") && option !== "evaluation") {
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
        if (group === "monitoring") checkPatterns(option, Object.values(outcome.monitor.specs));
      }
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  });
}

Deno.test("presets: a root config of one's own adds a group it does not list with +group=option (README)", async () => {
  const out = await Deno.makeTempDir({ prefix: "autoexp-presets-" });
  try {
    const plan = (overrides: string[]) =>
      writePlan(
        { configDir: `${ROOT}/examples/scaling`, overrides: ["slurm=base", ...overrides] },
        { fs, host: host(out) },
      );
    const hint = await plan(["monitoring=megatron_auto_resume"]).then(() => "", (e) => String(e));
    assert_(/not in the defaults list/.test(hint) && /\+monitoring=/.test(hint), hint);
    const outcome = await plan(["+monitoring=megatron_auto_resume", "+restart=resilient"]);
    const spec = Object.values(outcome.monitor.specs)[0];
    assert_(spec.logEvents.some((e) => e.spec.name === "checkpoint_saved"), "monitoring added");
    assert_(spec.restartPolicies.some((p) => p.mode === "timeout"), "restart policies added");
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("presets: seed 001's spelling megatron_multi_cooldown is megatron_cooldown_multi", async () => {
  const out = await Deno.makeTempDir({ prefix: "autoexp-presets-" });
  try {
    const specs = async (option: string) => {
      const outcome = await writePlan(
        { configDir: `${ROOT}/examples/demo`, overrides: [`monitoring=${option}`] },
        { fs, host: host(out) },
      );
      return Object.values(outcome.monitor.specs);
    };
    const seed = await specs("megatron_multi_cooldown");
    assert_(seed[0].logEvents.some((e) => e.actions.some((a) => a.action.kind === "autoexp")));
    assertEquals(seed, await specs("megatron_cooldown_multi"));
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
