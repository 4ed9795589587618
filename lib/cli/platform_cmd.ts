/**
 * `autoexp platform`: print the detected cluster and the evidence (`--json` for machines).
 *
 * @module
 */
import type { Command } from "@commander-js/extra-typings";
import { loadConfigFiles } from "../config/load.ts";
import { detectHostPlatform } from "../platform/mod.ts";
import type { Runtime } from "../runtime/mod.ts";
import { renderJson } from "./output.ts";

/** Registers the command. */
export function registerPlatform(program: Command, rt: () => Runtime): void {
  program
    .command("platform")
    .description("print the detected cluster and which rule matched")
    .option(
      "-C, --config-dir <dir>",
      "your config directory (its platform/rules.yaml extends the built-in rules)",
    )
    .option("--json", "print JSON")
    .addHelpText(
      "after",
      `
Examples:
  autoexp platform                  which cluster this is, and why
  autoexp platform -C myconfigs     with your own platform/rules.yaml`,
    )
    .action(async (opts) => {
      const r = rt();
      const files = await loadConfigFiles(r.fs, opts.configDir, r.host.userConfigDir);
      const d = await detectHostPlatform(files, r.host, r.fs);
      if (opts.json) {
        r.output.out(renderJson({
          platform: d.platform,
          via: d.via,
          matched: d.matched,
          rule: d.rule
            ? {
              platform: d.rule.platform,
              description: d.rule.description ?? null,
              source: d.rule.source ?? null,
            }
            : null,
          candidates: d.candidates,
          hostname: r.host.hostname(),
        }));
        return;
      }
      const lines = [
        `platform: ${d.platform}`,
        `why:      ${d.matched}`,
      ];
      if (d.rule?.description) {
        lines.push(`rule:     ${d.rule.description}${d.rule.source ? ` (${d.rule.source})` : ""}`);
      }
      if (d.candidates.length > 1) {
        lines.push("also matched:");
        for (const c of d.candidates.slice(1)) {
          lines.push(`  ${c.platform} (priority ${c.priority})`);
        }
      }
      r.output.out(lines.join("\n") + "\n");
    });
}
