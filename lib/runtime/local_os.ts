/**
 * The real operating system of the embedded local scheduler ({@link LocalSystem}): files,
 * flocks, sessions, signals and /proc. `lib/scheduler/` reaches the OS only through it.
 *
 * @module
 */
import { DenoFileSystem } from "./fs.ts";
import type { JobProcess, LocalSystem, ProcessInfo } from "./local_sys.ts";

/** Finds an executable on the PATH; undefined when there is none. */
function which(name: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "/usr/bin:/bin").split(":")) {
    try {
      const p = `${dir || "."}/${name}`;
      if (Deno.statSync(p).isFile) return p;
    } catch { /* not here */ }
  }
  return undefined;
}

let sessionCache: string[] | undefined;

/** The command prefix that runs a program in a new session: setsid(1), else perl's setsid. */
function sessionPrefix(): string[] {
  if (sessionCache) return sessionCache;
  const setsid = which("setsid");
  if (setsid) return sessionCache = [setsid];
  const perl = which("perl");
  if (perl) {
    return sessionCache = [
      perl,
      "-MPOSIX",
      "-e",
      'POSIX::setsid(); exec { $ARGV[0] } @ARGV or die "exec: $!"',
    ];
  }
  throw new Error(
    "the local scheduler needs setsid (util-linux) or perl to start jobs in their own session",
  );
}

function bash(): string {
  return which("bash") ?? "/bin/bash";
}

async function processInfoPs(pid: number): Promise<ProcessInfo | null> {
  const out = await new Deno.Command("ps", {
    args: ["-o", "stat=,lstart=", "-p", String(pid)],
    stdout: "piped",
    stderr: "null",
  }).output();
  const line = new TextDecoder().decode(out.stdout).trim();
  if (!out.success || !line) return null;
  const [stat, ...start] = line.split(/\s+/);
  return { startTime: start.join(" "), zombie: stat.startsWith("Z") };
}

/** The real operating system for the local scheduler. */
export function denoLocalSystem(): LocalSystem {
  const files = new DenoFileSystem();
  const hasProc = (() => {
    try {
      return Deno.statSync("/proc/self/stat").isFile;
    } catch {
      return false;
    }
  })();
  return {
    async readText(path) {
      try {
        return await Deno.readTextFile(path);
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) return null;
        throw e;
      }
    },
    writeAtomic(path, text) {
      return files.writeTextFile(path, text);
    },
    async mkdirp(path, mode) {
      await Deno.mkdir(path, { recursive: true, ...(mode === undefined ? {} : { mode }) });
    },
    async listDir(path) {
      const out: string[] = [];
      try {
        for await (const e of Deno.readDir(path)) out.push(e.name);
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) return [];
        throw e;
      }
      return out;
    },
    async remove(path) {
      await Deno.remove(path).catch((e) => {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      });
    },
    async copyFile(from, to) {
      await Deno.copyFile(from, to);
    },
    async isDirectory(path) {
      try {
        return (await Deno.stat(path)).isDirectory;
      } catch {
        return false;
      }
    },
    async prepareOutput(path, truncate) {
      try {
        const f = await Deno.open(path, {
          write: true,
          create: true,
          truncate,
          append: !truncate,
        });
        f.close();
        return null;
      } catch (e) {
        return `cannot open output file "${path}": ${(e as Error).message}`;
      }
    },
    async withLock(path, fn) {
      const f = await Deno.open(path, { read: true, write: true, create: true });
      try {
        await f.lock(true);
        return await fn();
      } finally {
        f.close(); // closing drops the flock
      }
    },
    spawnDetached(argv, opts) {
      const child = new Deno.Command(sessionPrefix()[0], {
        args: [
          ...sessionPrefix().slice(1),
          bash(),
          "-c",
          'log=$1; shift; exec "$@" </dev/null >>"$log" 2>&1',
          "autoexp-local",
          opts.logPath,
          ...argv,
        ],
        cwd: opts.cwd,
        env: opts.env ? { ...opts.env } : undefined,
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
      // Reaped in the background while this process lives; it does not keep it alive.
      child.status.catch(() => {});
      child.unref();
      return Promise.resolve(child.pid);
    },
    spawnJob(opts): JobProcess {
      const redirect = opts.stdout === opts.stderr
        ? 'exec >>"$1" 2>&1 || exit 1; exec "$4" "$3"'
        : 'exec >>"$1" 2>>"$2" || exit 1; exec "$4" "$3"';
      const child = new Deno.Command(sessionPrefix()[0], {
        args: [
          ...sessionPrefix().slice(1),
          bash(),
          "-c",
          redirect,
          "slurm_script",
          opts.stdout,
          opts.stderr,
          opts.script,
          bash(),
        ],
        cwd: opts.cwd,
        env: { ...opts.env },
        clearEnv: true,
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
      return {
        pid: child.pid,
        status: child.status.then((s) => ({
          code: s.code,
          signal: s.signal ?? undefined,
        })),
      };
    },
    kill(pid, signal) {
      try {
        Deno.kill(pid, signal as Deno.Signal);
        return true;
      } catch {
        return false;
      }
    },
    async processInfo(pid) {
      if (!hasProc) return await processInfoPs(pid);
      let text: string;
      try {
        text = await Deno.readTextFile(`/proc/${pid}/stat`);
      } catch {
        return null;
      }
      // pid (comm) state ppid ... : comm may hold spaces and parentheses.
      const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
      return { startTime: fields[19] ?? "", zombie: fields[0] === "Z" || fields[0] === "X" };
    },
    onSignal(signal, handler) {
      Deno.addSignalListener(signal as Deno.Signal, handler);
    },
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    now: () => new Date(),
    pid: () => Deno.pid,
    hostname: () => {
      try {
        return Deno.hostname();
      } catch {
        return "localhost";
      }
    },
    cpus: () => navigator.hardwareConcurrency || 1,
    uid: () => Deno.uid() ?? 0,
    env: () => Deno.env.toObject(),
  };
}
