/**
 * The single executable file (tools/build_single_file.ts) as a user gets it: copied alone into
 * an empty directory and run with a PATH that holds no deno and no node. It prints its version,
 * plans, runs the demo on the local scheduler to its final table, and runs a small sweep on the
 * SLURM test cluster whose jobs call the file's own run-entry. Its start-up script unpacks once,
 * also when many processes start it at the same moment. The aarch64 file runs under qemu-user.
 *
 * `tools/dev test` builds the files and sets AUTOEXP_SINGLE_FILE / AUTOEXP_SINGLE_FILE_AARCH64;
 * then a missing file fails these tests. Without those variables they are skipped (a plain
 * `deno task test` builds nothing).
 */
import { assert_, assertEquals, assertMatch } from "../_assert.ts";
import { removeTree, ROOT, type RunResult, slurmHere, slurmWanted } from "../_helpers.ts";

const FILE = Deno.env.get("AUTOEXP_SINGLE_FILE");
const FILE_ARM = Deno.env.get("AUTOEXP_SINGLE_FILE_AARCH64");
const QEMU = "qemu-aarch64";
const ARM_LIBS = "/usr/aarch64-linux-gnu";

/** A place like a fresh login node: an empty directory, a home, a cache, a PATH without deno. */
interface Place {
  readonly dir: string;
  readonly file: string;
  readonly env: Record<string, string>;
}

/** A directory of links to every program on the usual PATH except deno, node, npm and npx. */
async function pathWithoutDenoOrNode(into: string): Promise<string> {
  const bin = `${into}/bin`;
  await Deno.mkdir(bin, { recursive: true });
  const skip = new Set(["deno", "node", "nodejs", "npm", "npx", "corepack"]);
  for (const d of ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]) {
    let entries: Deno.DirEntry[];
    try {
      entries = [...Deno.readDirSync(d)];
    } catch {
      continue;
    }
    for (const e of entries) {
      if (skip.has(e.name)) continue;
      try {
        Deno.symlinkSync(`${d}/${e.name}`, `${bin}/${e.name}`);
      } catch { /* the first directory on PATH wins */ }
    }
  }
  return bin;
}

async function newPlace(source: string): Promise<Place> {
  const dir = await Deno.makeTempDir({ prefix: "autoexp-single-file-" });
  const name = source.split("/").pop()!;
  await Deno.copyFile(source, `${dir}/${name}`);
  await Deno.chmod(`${dir}/${name}`, 0o755);
  const bin = await pathWithoutDenoOrNode(`${dir}/.sys`);
  await Deno.mkdir(`${dir}/.sys/home`);
  return {
    dir,
    file: `${dir}/${name}`,
    env: {
      PATH: bin,
      HOME: `${dir}/.sys/home`,
      USER: Deno.env.get("USER") ?? "root",
      AUTOEXP_CACHE_DIR: `${dir}/.sys/cache`,
      AUTOEXP_OUTPUT_DIR: `${dir}/outputs`,
      AUTOEXP_LOCAL_DIR: `${dir}/.sys/local-scheduler`,
      NO_COLOR: "1",
    },
  };
}

/** Runs `fn` in a new place for `source` and removes the place afterwards. */
async function withPlace(source: string, fn: (p: Place) => Promise<void>): Promise<void> {
  const p = await newPlace(source);
  try {
    await fn(p);
  } finally {
    await removeTree(p.dir);
  }
}

async function run(
  p: Place,
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 240_000,
): Promise<RunResult> {
  const child = new Deno.Command(p.file, {
    args,
    cwd: p.dir,
    env: { ...p.env, ...env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const out = await child.output();
  clearTimeout(timer);
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

function shown(r: RunResult): string {
  return `exit ${r.code}\n--- stdout\n${r.stdout.slice(-3000)}\n--- stderr\n${
    r.stderr.slice(-3000)
  }`;
}

/** Copies the examples a test runs (their paths are relative to each other). */
async function copyExamples(p: Place, names: string[]): Promise<void> {
  await Deno.mkdir(`${p.dir}/examples`, { recursive: true });
  for (const n of names) {
    const cp = await new Deno.Command("cp", {
      args: ["-r", `${ROOT}/examples/${n}`, `${p.dir}/examples/${n}`],
    }).output();
    assert_(cp.success, `copy examples/${n}`);
  }
}

function requireFile(path: string | undefined, what: string): string {
  assert_(
    path !== undefined,
    `${what}: AUTOEXP_SINGLE_FILE* is not set (tools/dev test builds the files)`,
  );
  assert_(Deno.statSync(path).isFile, `${path} exists (tools/dev compile --target all)`);
  return path;
}

const ignore = FILE === undefined;

Deno.test({
  name: "single file: alone, without deno or node on PATH: --version, self-check, plan",
  ignore,
  fn: async () => {
    await withPlace(requireFile(FILE, "x86_64"), async (p) => {
      assert_(!(await commandIn(p, "deno")) && !(await commandIn(p, "node")), "no deno, no node");
      const v = await run(p, ["--version"]);
      assertEquals(v.code, 0, shown(v));
      assertEquals(
        v.stdout,
        `autoexp ${await version()} (single file ${p.file}; Deno ${Deno.version.deno}, ` +
          "x86_64-unknown-linux-gnu)\n",
      );
      // unpacked once, into the cache, completely
      const unpacked = [...Deno.readDirSync(`${p.env.AUTOEXP_CACHE_DIR}`)].map((e) => e.name);
      assertEquals(unpacked.length, 1, `one directory in the cache: ${unpacked}`);
      assert_(Deno.statSync(`${p.env.AUTOEXP_CACHE_DIR}/${unpacked[0]}/.complete`).isFile);

      const check = await run(p, ["self-check", "--json"], { AUTOEXP_SLURM_TESTS: "" });
      const checks = JSON.parse(check.stdout).checks as { name: string; status: string }[];
      const byName = Object.fromEntries(checks.map((c) => [c.name, c.status]));
      assertEquals(byName["job side"], "ok", shown(check));
      assertEquals(byName["output dir"], "ok", shown(check));

      await copyExamples(p, ["quickstart", "demo", "trainer"]);
      const plan = await run(p, ["plan", "-C", "examples/demo", "--json"]);
      assertEquals(plan.code, 0, shown(plan));
      assertEquals(JSON.parse(plan.stdout).sweep.autoexp, [p.file], "jobs run this same file");
      const script = Deno.readTextFileSync(
        `${p.dir}/outputs/demo/scripts/${
          [...Deno.readDirSync(`${p.dir}/outputs/demo/scripts`)].map((e) => e.name).sort()[0]
        }`,
      );
      assertMatch(script, new RegExp(`exec ${escape(p.file)} run-entry`));
    });
  },
});

Deno.test({
  name: "single file: the demo on the local scheduler runs to its final table",
  ignore,
  fn: async () => {
    await withPlace(requireFile(FILE, "x86_64"), async (p) => {
      await copyExamples(p, ["demo", "trainer"]);
      const r = await run(p, ["submit", "-C", "examples/demo", "--scheduler", "local"]);
      assertEquals(r.code, 0, shown(r));
      for (const run of ["demo_lr0.001", "demo_lr0.0003", "demo_lr0.0001"]) {
        assertMatch(r.stdout, new RegExp(`${escape(run)}\\s+completed`), shown(r));
        assertMatch(r.stdout, new RegExp(`${escape(run)}_cooldown_20\\s+completed`), shown(r));
      }
      assertMatch(r.stdout, /demo_lr0\.0003\s+completed\s+2\s/, "the crashed run resumed");
    });
  },
});

Deno.test({
  name: "single file: 1,000 starts at the same moment unpack it once, completely",
  ignore,
  fn: async () => {
    await withPlace(requireFile(FILE, "x86_64"), async (p) => {
      // AUTOEXP_EMULATOR=true: the start-up script unpacks, then runs `true` instead of the
      // runtime, so 1,000 concurrent starts test the unpacking alone.
      const script = `for i in $(seq 1000); do "$1" --version & done; wait`;
      const all = await new Deno.Command("sh", {
        args: ["-c", `${script}; echo done`, "sh", p.file],
        env: { ...p.env, AUTOEXP_EMULATOR: "true" },
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const err = new TextDecoder().decode(all.stderr);
      assert_(all.success, err);
      assertEquals(
        err.replace(/autoexp: waiting for another process unpacking into \S+\n/g, ""),
        "",
      );
      const cache = p.env.AUTOEXP_CACHE_DIR;
      const names = [...Deno.readDirSync(cache)].map((e) => e.name);
      assertEquals(names.length, 1, `only the unpacked directory is left: ${names}`);
      const dir = `${cache}/${names[0]}`;
      assertEquals(
        [...Deno.readDirSync(dir)].map((e) => e.name).sort(),
        [".complete", "autoexp-job.js", "autoexp.js", "deno"],
      );
      // and what was unpacked runs
      const v = await run(p, ["--version"]);
      assertEquals(v.code, 0, shown(v));
      // 32 real starts at once on the warm cache
      const many = await Promise.all(Array.from({ length: 32 }, () => run(p, ["--version"])));
      assertEquals(many.filter((r) => r.code !== 0 || r.stdout !== v.stdout).length, 0);
    });
  },
});

Deno.test({
  name: "single file: an interrupted unpacking is done again at the next start",
  ignore,
  fn: async () => {
    await withPlace(requireFile(FILE, "x86_64"), async (p) => {
      const first = await run(p, ["--version"]);
      assertEquals(first.code, 0, shown(first));
      const cache = p.env.AUTOEXP_CACHE_DIR;
      const dir = `${cache}/${[...Deno.readDirSync(cache)][0].name}`;
      // as if killed mid-way: a lock of a dead process and a half-written directory
      Deno.removeSync(dir, { recursive: true });
      Deno.mkdirSync(`${dir}.lock`);
      Deno.writeTextFileSync(`${dir}.lock/owner`, `${Deno.hostname()} 999999999\n`);
      Deno.mkdirSync(`${cache}/.unpack-x-${Deno.hostname()}-999999999`);
      const again = await run(p, ["--version"]);
      assertEquals(again.code, 0, shown(again));
      assertEquals(again.stdout, first.stdout);
      assert_(Deno.statSync(`${dir}/.complete`).isFile);
    });
  },
});

if (slurmHere && !ignore) {
  Deno.test("single file: a sweep on the SLURM test cluster whose jobs run the file", async () => {
    await withPlace(requireFile(FILE, "x86_64"), async (p) => {
      await copyExamples(p, ["quickstart"]);
      const r = await run(p, [
        "submit",
        "-C",
        "examples/quickstart",
        "--scheduler",
        "slurm",
        "-m",
        "-o",
        "experiment.train_tokens=1000000,2000000",
      ]);
      assertEquals(r.code, 0, shown(r));
      const sweep = `${p.dir}/outputs/quickstart`;
      const scripts = [...Deno.readDirSync(`${sweep}/scripts`)].map((e) => e.name);
      assert_(scripts.length > 0, "scripts rendered");
      for (const s of scripts) {
        assertMatch(
          Deno.readTextFileSync(`${sweep}/scripts/${s}`),
          new RegExp(`exec ${escape(p.file)} run-entry`),
        );
      }
      const runs = [...Deno.readDirSync(`${sweep}/runs`)].map((e) => e.name);
      assertEquals(runs.length, 2, `two runs: ${runs}`);
      for (const run of runs) {
        assertMatch(r.stdout, new RegExp(`${escape(run)}\\s+completed`), shown(r));
        // run-entry's end marker: the job ran on SLURM (its job id) through the file
        const markers = [...Deno.readDirSync(`${sweep}/runs/${run}/attempts`)];
        assertEquals(markers.length, 1, `one attempt marker in ${run}`);
        const m = JSON.parse(
          Deno.readTextFileSync(`${sweep}/runs/${run}/attempts/${markers[0].name}`),
        );
        assertEquals(m.state, "completed");
        assertMatch(String(m.job_id), /^\d+/);
      }
    });
  });
} else if (slurmWanted && !ignore) {
  Deno.test("single file: the SLURM test cluster is running", () => {
    throw new Error("AUTOEXP_SLURM_TESTS=1 but sinfo does not answer");
  });
}

Deno.test({
  name: "single file for aarch64: --version and plan under qemu-user",
  ignore: FILE_ARM === undefined || Deno.env.get("AUTOEXP_NO_QEMU") === "1",
  fn: async () => {
    await withPlace(requireFile(FILE_ARM, "aarch64"), async (p) => {
      assert_(
        await commandIn(p, QEMU),
        `${QEMU} is installed (Debian qemu-user; tools/dev test installs it)`,
      );
      const emu = { AUTOEXP_EMULATOR: `${QEMU} -L ${ARM_LIBS}` };
      const v = await run(p, ["--version"], emu);
      assertEquals(v.code, 0, shown(v));
      assertEquals(
        v.stdout,
        `autoexp ${await version()} (single file ${p.file}; Deno ${Deno.version.deno}, ` +
          "aarch64-unknown-linux-gnu)\n",
      );
      await copyExamples(p, ["quickstart"]);
      const plan = await run(p, ["plan", "-C", "examples/quickstart", "--json"], emu);
      assertEquals(plan.code, 0, shown(plan));
      assertEquals(JSON.parse(plan.stdout).runs.length, 1, plan.stdout.slice(0, 500));
      // without the emulator, on this x86_64 machine, it says what is wrong
      await withPlace(FILE_ARM!, async (q) => {
        const wrong = await run(q, ["--version"]);
        assertEquals(wrong.code, 2);
        assertMatch(wrong.stderr, /this file is autoexp for Linux aarch64.*this machine is Linux/);
      });
    });
  },
});

async function commandIn(p: Place, name: string): Promise<boolean> {
  try {
    return (await Deno.lstat(`${p.env.PATH}/${name}`)).isSymlink;
  } catch {
    return false;
  }
}

async function version(): Promise<string> {
  return JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`)).version;
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}
