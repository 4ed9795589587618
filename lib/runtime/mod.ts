/**
 * The only users of `Deno.*`: files, host facts and output streams. Everything else receives a
 * {@link Runtime} and can be tested with fakes.
 *
 * @module
 */
import { DenoFileSystem, type FileSystem } from "./fs.ts";
import { denoHost, type Host } from "./host.ts";
import { DenoProcessRunner, type ProcessRunner } from "./process.ts";

export type { FileEntry, FileSystem } from "./fs.ts";
export type { Host } from "./host.ts";
export type { CommandResult, ProcessProbe, ProcessRunner, RunOptions } from "./process.ts";

/** Text output streams. */
export interface Output {
  out(text: string): void;
  err(text: string): void;
  /**
   * Asks a question on the terminal and returns the line typed; null when standard input is
   * not a terminal (a script, a batch job): nobody can answer.
   */
  ask?(question: string): Promise<string | null>;
}

/** Everything that touches the world. */
export interface Runtime {
  readonly fs: FileSystem;
  readonly host: Host;
  readonly output: Output;
  readonly proc: ProcessRunner;
}

const encoder = new TextEncoder();

/** The real runtime. */
export function denoRuntime(): Runtime {
  return {
    fs: new DenoFileSystem(),
    proc: new DenoProcessRunner(),
    host: denoHost(),
    output: {
      out: (t) => writeAll(Deno.stdout, t),
      err: (t) => writeAll(Deno.stderr, t),
      ask: (question) =>
        Promise.resolve(Deno.stdin.isTerminal() ? prompt(question.trimEnd()) ?? "" : null),
    },
  };
}

function writeAll(stream: typeof Deno.stdout, text: string): void {
  const data = encoder.encode(text);
  let off = 0;
  while (off < data.length) off += stream.writeSync(data.subarray(off));
}

/** Ends the process with `code` (used only by main.ts). */
export function exitProcess(code: number): never {
  Deno.exit(code);
}

/** The program's command-line arguments. */
export function processArgs(): string[] {
  return [...Deno.args];
}
