/**
 * `tools/dev compile`: builds autoexp as one executable file per target, needing nothing
 * installed where it runs (no Deno, no Node, no network).
 *
 *   deno run -A tools/build_single_file.ts [--target x86_64|aarch64|all] [--route auto|sfx|deno-compile]
 *
 * Writes dist/autoexp (x86_64) and dist/autoexp-aarch64. Two routes:
 * - `deno-compile`: Deno's own `deno compile` (it downloads Deno's runtime archive `denort` from
 *   Deno's download host; fails where that host cannot be reached).
 * - `sfx` (self-extracting): a POSIX sh start-up script (tools/single_file_header.sh) followed by a
 *   gzip'd tar of the pinned Deno runtime from npm (`@deno/linux-x64-glibc` /
 *   `@deno/linux-arm64-glibc`, the versions and integrity hashes of tools/deno/package-lock.json)
 *   and two bundles: `autoexp.js` (main.ts) and `autoexp-job.js` (lib/cli/job_main.ts, what jobs
 *   run). Works offline once the runtime package is in npm's cache.
 * `auto` (the default) tries `deno compile` and falls back to `sfx`, saying why. docs/single-file.md
 * has the design (cache directory, concurrency, measurements).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const dist = join(root, "dist");
const deno = Deno.execPath();

interface Target {
  /** `uname -m` of the machines it runs on. */
  arch: "x86_64" | "aarch64";
  /** Deno's target triple. */
  triple: string;
  /** The npm package holding Deno's runtime for it. */
  npmPackage: string;
  /** The file written. */
  out: string;
}

const TARGETS: Record<string, Target> = {
  x86_64: {
    arch: "x86_64",
    triple: "x86_64-unknown-linux-gnu",
    npmPackage: "@deno/linux-x64-glibc",
    out: join(dist, "autoexp"),
  },
  aarch64: {
    arch: "aarch64",
    triple: "aarch64-unknown-linux-gnu",
    npmPackage: "@deno/linux-arm64-glibc",
    out: join(dist, "autoexp-aarch64"),
  },
};

function usage(code: number): never {
  console.error(
    "usage: tools/dev compile [--target x86_64|aarch64|all] [--route auto|sfx|deno-compile]",
  );
  Deno.exit(code);
}

function parseArgs(args: string[]): { targets: Target[]; route: string } {
  let target = "x86_64";
  let route = "auto";
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--target") target = args[++i] ?? "";
    else if (a.startsWith("--target=")) target = a.slice(9);
    else if (a === "--route") route = args[++i] ?? "";
    else if (a.startsWith("--route=")) route = a.slice(8);
    else if (a === "-h" || a === "--help") usage(0);
    else usage(2);
  }
  if (!["auto", "sfx", "deno-compile"].includes(route)) usage(2);
  if (target === "all") return { targets: Object.values(TARGETS), route };
  if (!(target in TARGETS)) usage(2);
  return { targets: [TARGETS[target]], route };
}

async function run(argv: string[], opts: { cwd?: string; quiet?: boolean } = {}) {
  const out = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    cwd: opts.cwd ?? root,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success && !opts.quiet) {
    throw new Error(`${argv.join(" ")} failed (exit ${out.code}):\n${text.trim()}`);
  }
  return { ok: out.success, text };
}

function say(msg: string): void {
  console.log(`[compile] ${msg}`);
}

/** The version in deno.json. */
async function version(): Promise<string> {
  return JSON.parse(await readFile(join(root, "deno.json"), "utf8")).version;
}

/** The pinned Deno version and the integrity hash of a runtime package (package-lock.json). */
async function lockEntry(pkg: string): Promise<{ version: string; integrity: string }> {
  const lock = JSON.parse(await readFile(join(root, "tools/deno/package-lock.json"), "utf8"));
  const entry = lock.packages?.[`node_modules/${pkg}`];
  if (!entry?.version || !entry?.integrity) {
    throw new Error(`tools/deno/package-lock.json has no ${pkg} with an integrity hash`);
  }
  return { version: entry.version, integrity: entry.integrity };
}

/**
 * The path of the Deno runtime binary for a target: the installed npm package when it is this
 * machine's, else the package fetched with `npm pack` (npm's cache makes later builds offline),
 * checked against the lockfile's integrity hash and kept in tools/deno/runtimes/.
 */
async function runtimeBinary(t: Target): Promise<{ path: string; version: string }> {
  const { version: v, integrity } = await lockEntry(t.npmPackage);
  const installed = join(root, "tools/deno/node_modules", t.npmPackage, "deno");
  try {
    const pj = JSON.parse(
      await readFile(join(root, "tools/deno/node_modules", t.npmPackage, "package.json"), "utf8"),
    );
    if (pj.version === v) return { path: installed, version: v };
  } catch { /* not this machine's package */ }
  const kept = join(root, "tools/deno/runtimes", `${t.npmPackage.replace("/", "_")}-${v}`);
  const bin = join(kept, "deno");
  try {
    await stat(bin);
    return { path: bin, version: v };
  } catch { /* fetch it */ }
  say(`fetching ${t.npmPackage}@${v} from the npm registry (npm pack)`);
  const tmp = await mkdtemp(join(tmpdir(), "autoexp-runtime-"));
  try {
    const packed = await run([
      "npm",
      "pack",
      `${t.npmPackage}@${v}`,
      "--pack-destination",
      tmp,
      "--silent",
    ], { cwd: tmp });
    const tgz = join(tmp, packed.text.trim().split("\n").pop()!.trim());
    const data = await readFile(tgz);
    const [algo, want] = integrity.split("-", 2);
    const got = createHash(algo).update(data).digest("base64");
    if (got !== want) {
      throw new Error(`${t.npmPackage}@${v}: integrity mismatch (lockfile ${integrity})`);
    }
    await run(["tar", "-xzf", tgz, "-C", tmp]);
    await mkdir(kept, { recursive: true });
    await copyFile(join(tmp, "package/deno"), bin);
    await chmod(bin, 0o755);
    return { path: bin, version: v };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Bundles main.ts and the job entry into dist/. */
async function bundles(): Promise<{ main: string; job: string }> {
  await run([deno, "run", "-A", "tools/gen_presets.ts", "--check"]);
  const main = join(dist, "autoexp.js");
  const job = join(dist, "autoexp-job.js");
  await run([deno, "bundle", "--quiet", "--platform", "deno", "--minify", "-o", main, "main.ts"]);
  await run([
    deno,
    "bundle",
    "--quiet",
    "--platform",
    "deno",
    "--minify",
    "-o",
    job,
    "lib/cli/job_main.ts",
  ]);
  return { main, job };
}

/** Builds the self-extracting file for a target. */
async function buildSfx(t: Target, js: { main: string; job: string }, ver: string) {
  const rt = await runtimeBinary(t);
  const stage = await mkdtemp(join(tmpdir(), "autoexp-sfx-"));
  try {
    await copyFile(rt.path, join(stage, "deno"));
    await chmod(join(stage, "deno"), 0o755);
    await copyFile(js.main, join(stage, "autoexp.js"));
    await copyFile(js.job, join(stage, "autoexp-job.js"));
    // Reproducible: sorted names, fixed times and owners, gzip without a name or time stamp.
    const tarFile = join(stage, "payload.tar.gz");
    await run([
      "sh",
      "-c",
      'tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - deno autoexp.js autoexp-job.js | gzip -9 -n > "$1"',
      "sh",
      tarFile,
    ], { cwd: stage });
    const payload = await readFile(tarFile);
    const id = createHash("sha256").update(payload).digest("hex").slice(0, 16);
    const template = await readFile(join(root, "tools/single_file_header.sh"), "utf8");
    const fill = (offset: number) =>
      template.replaceAll("@VERSION@", ver).replaceAll("@ARCH@", t.arch)
        .replaceAll("@ID@", id).replaceAll("@DENO@", `Deno ${rt.version}`)
        .replaceAll("@OFFSET@", String(offset).padStart(10, "0"));
    const headerLength = new TextEncoder().encode(fill(0)).length;
    const header = new TextEncoder().encode(fill(headerLength + 1));
    if (header.length !== headerLength) throw new Error("header length changed while filling it");
    const file = new Uint8Array(header.length + payload.length);
    file.set(header, 0);
    file.set(payload, header.length);
    await mkdir(dist, { recursive: true });
    const tmpOut = `${t.out}.tmp`;
    await writeFile(tmpOut, file);
    await chmod(tmpOut, 0o755);
    await Deno.rename(tmpOut, t.out);
    say(
      `${t.out.slice(root.length + 1)}: self-extracting, Linux ${t.arch}, Deno ${rt.version}, ` +
        `${(file.length / 1e6).toFixed(1)} MB (id ${id})`,
    );
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}

/** `deno compile` for a target; false (with the reason said) when it cannot be done here. */
async function buildDenoCompile(t: Target): Promise<boolean> {
  await mkdir(dist, { recursive: true });
  const res = await run([
    deno,
    "compile",
    "-A",
    "--quiet",
    "--no-check",
    "--target",
    t.triple,
    "--output",
    `${t.out}.compiled`,
    "main.ts",
  ], { quiet: true });
  if (res.ok) {
    await Deno.rename(`${t.out}.compiled`, t.out);
    say(`${t.out.slice(root.length + 1)}: deno compile, ${t.triple}`);
    return true;
  }
  await rm(`${t.out}.compiled`, { force: true });
  // deno compile's cause chain names the download that failed and why
  const lines = res.text.split("\n").map((l) => l.trim());
  const why = lines.find((l) => /https?:\/\//.test(l))?.replace(/^\d+: /, "") ??
    lines.find((l) => l) ?? "unknown reason";
  say(`deno compile for ${t.triple} is not possible here (${why})`);
  return false;
}

async function main() {
  const { targets, route } = parseArgs(Deno.args);
  const ver = await version();
  const js = await bundles();
  for (const t of targets) {
    if (route !== "sfx" && await buildDenoCompile(t)) continue;
    if (route === "deno-compile") Deno.exit(1);
    if (route === "auto") say("building the self-extracting file instead");
    await buildSfx(t, js, ver);
  }
}

if (import.meta.main) {
  try {
    await main();
  } catch (e) {
    console.error(`[compile] ERROR: ${(e as Error).message}`);
    Deno.exit(1);
  }
}
