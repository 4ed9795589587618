/**
 * `autoexp completion bash|zsh|fish`: a completion script for the shell, generated from the
 * program's own commands and options (so it cannot drift from `--help`). Directory options
 * (`-C`, `--state`, `--output-dir`) complete directories; other values complete file names.
 *
 * @module
 */
import type { Command } from "@commander-js/extra-typings";
import { UsageError } from "../errors.ts";
import type { Runtime } from "../runtime/mod.ts";

/** A command as completion sees it. */
export interface CompletionCommand {
  readonly name: string;
  readonly description: string;
  /** Long and short flags (`--state`, `-C`). */
  readonly flags: readonly { long?: string; short?: string; description: string; value: boolean }[];
}

const DIR_OPTIONS = new Set(["--config-dir", "--state", "--output-dir"]);
const SHELLS = ["bash", "zsh", "fish"] as const;

/** The visible commands and their options, from the program. */
export function completionModel(program: Command): CompletionCommand[] {
  // deno-lint-ignore no-explicit-any
  const hidden = (c: any) => c._hidden === true;
  return program.commands.filter((c) => !hidden(c) && c.name() !== "help").map((c) => ({
    name: c.name(),
    description: c.description().split(/[;:(]/)[0].trim(),
    flags: c.options.map((o) => ({
      ...(o.long ? { long: o.long } : {}),
      ...(o.short ? { short: o.short } : {}),
      description: o.description,
      value: o.required || o.optional,
    })),
  }));
}

/** The bash script (zsh loads it through bashcompinit). */
export function bashCompletion(cmds: readonly CompletionCommand[]): string {
  const cases = cmds.map((c) => {
    const words = c.flags.flatMap((f) => [f.long, f.short].filter(Boolean)).join(" ");
    const dirs = c.flags.filter((f) => f.long && DIR_OPTIONS.has(f.long))
      .flatMap((f) => [f.long, f.short].filter(Boolean)).join("|");
    return `    ${c.name}) opts="${words} --help"; dirs="${dirs}" ;;`;
  }).join("\n");
  return `# autoexp completion for bash (autoexp completion bash > ~/.local/share/bash-completion/completions/autoexp)
_autoexp() {
  local cur prev opts="" dirs=""
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${cmds.map((c) => c.name).join(" ")} --help --version" -- "$cur"))
    return
  fi
  case "\${COMP_WORDS[1]}" in
${cases}
  esac
  if [ -n "$dirs" ] && [[ "$prev" == @($dirs) ]]; then
    COMPREPLY=($(compgen -d -- "$cur"))
  elif [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
shopt -s extglob 2>/dev/null
complete -o filenames -F _autoexp autoexp
`;
}

/** The zsh script: zsh's bash compatibility runs the bash script. */
export function zshCompletion(cmds: readonly CompletionCommand[]): string {
  return `#compdef autoexp
# autoexp completion for zsh (autoexp completion zsh > "\${fpath[1]}/_autoexp", or eval it)
autoload -U +X bashcompinit && bashcompinit
${bashCompletion(cmds).split("\n").filter((l) => !l.startsWith("#")).join("\n")}`;
}

/** The fish script. */
export function fishCompletion(cmds: readonly CompletionCommand[]): string {
  const q = (s: string) => `'${s.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`;
  const lines = [
    "# autoexp completion for fish (autoexp completion fish > ~/.config/fish/completions/autoexp.fish)",
    "complete -c autoexp -f",
  ];
  for (const c of cmds) {
    lines.push(
      `complete -c autoexp -n __fish_use_subcommand -a ${c.name} -d ${q(c.description)}`,
    );
    for (const f of c.flags) {
      const parts = [`complete -c autoexp -n '__fish_seen_subcommand_from ${c.name}'`];
      if (f.long) parts.push(`-l ${f.long.replace(/^--/, "")}`);
      if (f.short) parts.push(`-s ${f.short.replace(/^-/, "")}`);
      if (f.value) {
        parts.push(
          f.long && DIR_OPTIONS.has(f.long) ? "-r -a '(__fish_complete_directories)'" : "-r -F",
        );
      }
      parts.push(`-d ${q(f.description)}`);
      lines.push(parts.join(" "));
    }
  }
  return `${lines.join("\n")}\n`;
}

/** Registers `completion`. */
export function registerCompletion(program: Command, rt: () => Runtime): void {
  program
    .command("completion")
    .description("print a completion script for bash, zsh or fish")
    .argument("<shell>", SHELLS.join(", "))
    .addHelpText(
      "after",
      `
Examples:
  source <(autoexp completion bash)                       this shell
  autoexp completion bash > ~/.local/share/bash-completion/completions/autoexp
  autoexp completion fish > ~/.config/fish/completions/autoexp.fish`,
    )
    .action((shell: string) => {
      const cmds = completionModel(program);
      const script = shell === "bash"
        ? bashCompletion(cmds)
        : shell === "zsh"
        ? zshCompletion(cmds)
        : shell === "fish"
        ? fishCompletion(cmds)
        : null;
      if (script === null) {
        throw new UsageError(`no completion for "${shell}"; choose ${SHELLS.join(", ")}`);
      }
      rt().output.out(script);
    });
}
