/**
 * Test helpers: run the real CLI as a subprocess, temporary directories, golden files.
 *
 * Golden files live in tests/testdata/golden/; run the tests with UPDATE_GOLDEN=1 to rewrite
 * them after an intended change, and review the diff.
 */
import { assertEquals } from "./_assert.ts";
import { parseJsonWithFloats } from "../lib/config/whole_float.ts";

export const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/**
 * True when `argv` runs and exits 0. Never throws: a missing program is false (spawning one
 * throws synchronously in Deno, so a bare `.output().catch()` does not catch it).
 */
export async function commandSucceeds(argv: readonly string[]): Promise<boolean> {
  try {
    const out = await new Deno.Command(argv[0], {
      args: argv.slice(1),
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).output();
    return out.success;
  } catch {
    return false;
  }
}

/**
 * The real-SLURM tests: AUTOEXP_SLURM_TESTS=1 (tools/dev test when it started the test cluster,
 * CI) means they must run and fail when the cluster does not answer; =0 (tools/dev test when it
 * could not start one) skips them; unset, they run when `sinfo` answers.
 */
export const slurmWanted = Deno.env.get("AUTOEXP_SLURM_TESTS") === "1";
/** Whether a SLURM controller answers here (false when AUTOEXP_SLURM_TESTS=0). */
export const slurmHere: boolean = Deno.env.get("AUTOEXP_SLURM_TESTS") === "0"
  ? false
  : await commandSucceeds(["sinfo", "-h"]);

/** The result of running autoexp. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `deno run -A main.ts ...args` with a clean environment plus `env`. */
export async function runAutoexp(
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string; stdin?: string } = {},
): Promise<RunResult> {
  const env: Record<string, string> = {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: Deno.env.get("HOME") ?? "/tmp",
    NO_COLOR: "1",
    DENO_DIR: Deno.env.get("DENO_DIR") ?? "",
    // Not the user's: no user-wide config layer, no history index (unless a test gives them).
    XDG_CONFIG_HOME: "/nonexistent/autoexp-tests/config",
    AUTOEXP_HISTORY: "0",
    ...opts.env,
  };
  if (!env.DENO_DIR) delete env.DENO_DIR;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", `${ROOT}/main.ts`, ...args],
    cwd: opts.cwd ?? ROOT,
    env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

/** Creates a temporary directory holding `files` (relative path -> text); returns its path. */
export async function makeTree(files: Record<string, string>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "autoexp-test-" });
  for (const [rel, text] of Object.entries(files)) {
    const p = `${dir}/${rel}`;
    await Deno.mkdir(p.replace(/\/[^/]*$/, ""), { recursive: true });
    await Deno.writeTextFile(p, text);
  }
  return dir;
}

/** Removes a temporary tree. */
export async function removeTree(dir: string): Promise<void> {
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}

/** Compares `actual` with a golden file; UPDATE_GOLDEN=1 rewrites the file instead. */
export async function assertGolden(name: string, actual: string): Promise<void> {
  const path = `${ROOT}/tests/testdata/golden/${name}`;
  if (Deno.env.get("UPDATE_GOLDEN") === "1") {
    await Deno.mkdir(path.replace(/\/[^/]*$/, ""), { recursive: true });
    await Deno.writeTextFile(path, actual);
    return;
  }
  let expected: string;
  try {
    expected = await Deno.readTextFile(path);
  } catch {
    throw new Error(
      `golden file ${name} is missing: run the tests with UPDATE_GOLDEN=1 to create it`,
    );
  }
  assertEquals(
    actual,
    expected,
    `output differs from golden file ${name} (UPDATE_GOLDEN=1 rewrites it)`,
  );
}

/**
 * `JSON.parse` for JSON written by Python (`json.dumps`): a float with an integral value (`1.0`)
 * becomes a `WholeFloat`, as autoexp's config trees hold it.
 */
export const parsePythonJson: <T>(text: string) => T = parseJsonWithFloats;
