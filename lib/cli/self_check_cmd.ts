/**
 * `autoexp self-check`: on a login node, one screen that says whether this autoexp, its job side,
 * SLURM's commands and the output directory work. Each check is a probe through the runtime
 * ports; `renderSelfCheck` is pure.
 *
 * @module
 */
import type { Command } from "@commander-js/extra-typings";
import { OutcomeError } from "../errors.ts";
import { type ProgramInfo, programInfo } from "../runtime/host.ts";
import type { Runtime } from "../runtime/mod.ts";
import { VERSION } from "../version.ts";
import { renderJson } from "./output.ts";

/** One line of the self-check. `warn` does not fail the check; `fail` does. */
export interface CheckResult {
  readonly name: string;
  readonly status: "ok" | "warn" | "fail" | "skip";
  readonly detail: string;
}

/** `autoexp 0.1.0 (single file /x/autoexp; Deno 2.9.5, x86_64-unknown-linux-gnu)`. */
export function renderVersion(p: ProgramInfo): string {
  const form = p.form === "single-file"
    ? `single file ${p.path}`
    : p.form === "compiled"
    ? `compiled binary ${p.path}`
    : `deno run ${p.path}`;
  return `autoexp ${VERSION} (${form}; Deno ${p.deno}, ${p.target})\n`;
}

/** The checks as an aligned list with a closing verdict. */
export function renderSelfCheck(results: readonly CheckResult[]): string {
  const w = Math.max(...results.map((r) => r.name.length));
  const lines = results.map((r) => `${r.name.padEnd(w)}  ${r.status.padEnd(4)}  ${r.detail}`);
  const failed = results.filter((r) => r.status === "fail").length;
  const warned = results.filter((r) => r.status === "warn").length;
  const verdict = failed
    ? `${failed} problem${failed === 1 ? "" : "s"} to fix before submitting`
    : warned
    ? `usable, ${warned} warning${warned === 1 ? "" : "s"}`
    : "everything works";
  return `${lines.join("\n")}\n\n${verdict}\n`;
}

function tail(text: string): string {
  const t = text.trim().split("\n").filter((l) => l.trim()).slice(-2).join(" / ");
  return t.length > 160 ? `${t.slice(0, 157)}...` : t;
}

function gb(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : `${Math.round(bytes / 1e6)} MB`;
}

/** Runs every probe. `outputDir` is where sweeps are written. */
export async function runSelfCheck(
  rt: Runtime,
  outputDir: string,
): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  const p = programInfo();
  out.push({
    name: "autoexp",
    status: "ok",
    detail: renderVersion(p).trim().replace(/^autoexp /, ""),
  });

  // The job side: what every job script runs on a compute node.
  const t0 = performance.now();
  const job = await rt.proc.run([...rt.host.selfCommand(), "run-entry", "--help"], {
    timeoutMs: 120_000,
  });
  const ms = Math.round(performance.now() - t0);
  out.push(
    job.code === 0 ? { name: "job side", status: "ok", detail: `run-entry starts (${ms} ms)` } : {
      name: "job side",
      status: "fail",
      detail: `\`${rt.host.selfCommand().join(" ")} run-entry --help\` failed (exit ${job.code}` +
        `${job.timedOut ? ", timed out" : ""}): ${tail(job.stderr + job.stdout)}`,
    },
  );

  // SLURM's commands.
  const sbatch = await rt.proc.run(["sbatch", "--version"], { timeoutMs: 30_000 });
  if (sbatch.code === 127) {
    out.push({
      name: "sbatch",
      status: "warn",
      detail: "not found: no SLURM here, so `autoexp submit` runs jobs on this machine " +
        "(the local scheduler); on a cluster, load SLURM's module or use a login node",
    });
    for (const n of ["controller", "squeue", "sacct"]) {
      out.push({ name: n, status: "skip", detail: "no SLURM" });
    }
  } else {
    out.push(
      sbatch.code === 0
        ? { name: "sbatch", status: "ok", detail: sbatch.stdout.trim() }
        : { name: "sbatch", status: "fail", detail: tail(sbatch.stderr + sbatch.stdout) },
    );
    const ping = await rt.proc.run(["scontrol", "ping"], { timeoutMs: 30_000 });
    out.push(
      ping.code === 0 && /\bUP\b/.test(ping.stdout)
        ? { name: "controller", status: "ok", detail: tail(ping.stdout) }
        : {
          name: "controller",
          status: "fail",
          detail: `scontrol ping: ${tail(ping.stderr + ping.stdout) || `exit ${ping.code}`}`,
        },
    );
    const user = rt.host.env.USER ?? rt.host.env.LOGNAME ?? "";
    const sq = await rt.proc.run(
      ["squeue", "--noheader", "--format=%i", ...(user ? ["--user", user] : [])],
      { timeoutMs: 30_000 },
    );
    const jobs = sq.stdout.split("\n").filter((l) => l.trim()).length;
    out.push(
      sq.code === 0
        ? { name: "squeue", status: "ok", detail: `answers (${jobs} job(s) of ${user || "yours"})` }
        : { name: "squeue", status: "fail", detail: tail(sq.stderr + sq.stdout) },
    );
    const sa = await rt.proc.run(
      ["sacct", "--noheader", "-X", "--format=JobID", "--starttime", "now-1days"],
      { timeoutMs: 30_000 },
    );
    const disabled = /accounting storage is disabled/i.test(sa.stderr + sa.stdout);
    out.push(
      sa.code === 0 ? { name: "sacct", status: "ok", detail: "answers" } : disabled
        ? {
          name: "sacct",
          status: "warn",
          detail: "accounting is disabled on this cluster: autoexp follows jobs through squeue " +
            "and the markers jobs write",
        }
        : { name: "sacct", status: "warn", detail: `does not answer: ${tail(sa.stderr)}` },
    );
  }

  // The output directory: created, a file written durably, renamed and removed.
  out.push(await checkOutputDir(rt, outputDir));
  return out;
}

async function checkOutputDir(rt: Runtime, dir: string): Promise<CheckResult> {
  const name = "output dir";
  const probe = `${dir}/.autoexp-self-check-${rt.host.pid}`;
  try {
    await rt.fs.mkdirp(dir);
    await rt.fs.writeTextFile(`${probe}.tmp`, "self-check\n", true);
    await rt.fs.rename(`${probe}.tmp`, probe);
    await rt.fs.remove(probe);
  } catch (e) {
    return { name, status: "fail", detail: `${dir}: ${(e as Error).message}` };
  }
  const free = await rt.fs.freeBytes(dir);
  if (free !== null && free < 1e9) {
    return { name, status: "warn", detail: `${dir} is writable but only ${gb(free)} are free` };
  }
  return {
    name,
    status: "ok",
    detail: `${dir} is writable${free === null ? "" : ` (${gb(free)} free)`}`,
  };
}

/** Registers the command. */
export function registerSelfCheck(program: Command, rt: () => Runtime): void {
  program
    .command("self-check")
    .description(
      "check this autoexp, its job side, sbatch/squeue/sacct and the output directory",
    )
    .option(
      "--output-dir <dir>",
      "where sweeps will be written (default: $AUTOEXP_OUTPUT_DIR, else ./outputs)",
    )
    .option("--json", "print JSON")
    .addHelpText("after", "\nExample:\n  autoexp self-check --output-dir /scratch/$USER/runs")
    .action(async (opts) => {
      const r = rt();
      const dir = opts.outputDir ?? r.host.env.AUTOEXP_OUTPUT_DIR ?? "outputs";
      const abs = dir.startsWith("/") ? dir : `${r.host.cwd()}/${dir}`;
      const results = await runSelfCheck(r, abs);
      r.output.out(opts.json ? renderJson({ checks: results }) : renderSelfCheck(results));
      const failed = results.filter((c) => c.status === "fail").map((c) => c.name);
      if (failed.length) throw new OutcomeError(`self-check: ${failed.join(", ")} failed`);
    });
}
