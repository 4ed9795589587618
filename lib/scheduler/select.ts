/**
 * Choosing the scheduler: `slurm`, `local`, or `auto` (SLURM when its controller answers, the
 * embedded local scheduler when there is no SLURM at all). A SLURM installation whose
 * controller does not answer is an error, never a silent switch to running jobs locally.
 *
 * @module
 */
import { SchedulerError, UsageError } from "../errors.ts";
import type { Host, ProcessRunner } from "../runtime/mod.ts";

/** The choice and why. */
export interface SchedulerChoice {
  readonly kind: "slurm" | "local";
  readonly why: string;
}

/** Decides which scheduler to use. */
export async function chooseScheduler(
  wanted: string,
  deps: { readonly proc: ProcessRunner; readonly host: Host },
): Promise<SchedulerChoice> {
  if (wanted === "local") return { kind: "local", why: "--scheduler local" };
  if (wanted !== "auto" && wanted !== "slurm") {
    throw new UsageError(`unknown scheduler "${wanted}" (allowed: auto, slurm, local)`);
  }
  const ping = await deps.proc.run(["scontrol", "ping"], { timeoutMs: 30_000 });
  if (ping.code === 0 && /\bUP\b/.test(ping.stdout)) {
    return {
      kind: "slurm",
      why: `${wanted === "slurm" ? "--scheduler slurm" : "auto"}: the SLURM controller answers`,
    };
  }
  if (ping.code === 127 && wanted === "auto") {
    return {
      kind: "local",
      why: "auto: no SLURM on this machine (scontrol not found), using the local scheduler",
    };
  }
  const detail = (ping.stderr || ping.stdout).trim().split("\n").slice(-2).join(" ");
  throw new SchedulerError(
    ping.code === 127
      ? "SLURM was asked for (--scheduler slurm) but scontrol is not installed here"
      : `SLURM is installed but its controller does not answer (${
        detail || `scontrol ping exit ${ping.code}`
      }); ` +
        "retry later, or run on this machine with --scheduler local",
    {
      argv: ["scontrol", "ping"],
      exitCode: ping.code,
      stderr: ping.stderr,
      transient: ping.code !== 127,
    },
  );
}
