/**
 * The file system as autoexp uses it, behind a small interface so the rest of the program can
 * be tested against an in-memory tree. `DenoFileSystem` is the real one.
 *
 * @module
 */

/** One entry of a recursive directory listing. */
export interface FileEntry {
  /** Path relative to the listed directory, with `/` separators. */
  readonly relPath: string;
  readonly absPath: string;
}

/** File operations autoexp needs. Paths are absolute or relative to the process cwd. */
export interface FileSystem {
  readTextFile(path: string): Promise<string>;
  /** Writes atomically: a temporary file in the same folder, then rename. */
  writeTextFile(path: string, text: string, durable?: boolean): Promise<void>;
  /**
   * Writes a file from pieces, atomically (temporary file, then rename), without holding the
   * whole content in memory; strings are written as UTF-8.
   */
  writeChunks(path: string, chunks: Iterable<string | Uint8Array>): Promise<void>;
  /**
   * Appends one line to a file (created if missing) and, with `sync`, waits until it is on
   * disk (fsync): the journal's durability point.
   */
  appendLine(path: string, line: string, sync?: boolean): Promise<void>;
  /**
   * Creates a file only if it does not exist yet (O_EXCL); false when it already exists.
   * Used for locks.
   */
  createExclusive(path: string, text: string): Promise<boolean>;
  /** Modification time (ms since epoch) and size, or null when missing. */
  stat(path: string): Promise<{ mtimeMs: number; size: number; isSymlink: boolean } | null>;
  /** Writes bytes atomically (temporary file, then rename). */
  writeFile(path: string, data: Uint8Array, durable?: boolean): Promise<void>;
  readFile(path: string): Promise<Uint8Array>;
  /** The last `bytes` bytes of a file (all of it when shorter); empty when missing. */
  readTail(path: string, bytes: number): Promise<Uint8Array>;
  /** Renames atomically; false when the source does not exist. */
  rename(from: string, to: string): Promise<boolean>;
  /** Removes a file or an empty directory; no error when it does not exist. */
  remove(path: string): Promise<void>;
  exists(path: string): Promise<boolean>;
  isDirectory(path: string): Promise<boolean>;
  /** Creates a directory and its parents; `mode` (before the umask) for those it creates. */
  mkdirp(path: string, mode?: number): Promise<void>;
  /** Every regular file under `dir`, sorted by relative path. */
  listFiles(dir: string): Promise<FileEntry[]>;
  /** Makes the renames done in a directory durable (fsync of the directory; best effort). */
  syncDir?(dir: string): Promise<void>;
  /** The names of a directory's subdirectories (not recursive), sorted; [] when it is missing. */
  listDirs(dir: string): Promise<string[]>;
  /**
   * The names of everything in a directory (not recursive, unsorted), or null when the
   * directory does not exist: one read of a folder tells which of its files exist.
   */
  listNames(dir: string): Promise<string[] | null>;
  realPath(path: string): Promise<string>;
  /** Bytes free for this user on the file system holding `path` (null when unknown). */
  freeBytes(path: string): Promise<number | null>;
}

/** The real file system. */
export class DenoFileSystem implements FileSystem {
  /**
   * Makes renames in `dir` durable (a power loss after them keeps the new names): fsync of the
   * directory. Best effort where a file system refuses to sync a directory.
   */
  async syncDir(dir: string): Promise<void> {
    try {
      const d = await Deno.open(dir, { read: true });
      try {
        await d.sync();
      } finally {
        d.close();
      }
    } catch { /* not supported here: the renames are as durable as the file system makes them */ }
  }

  readTextFile(path: string): Promise<string> {
    return Deno.readTextFile(path);
  }

  writeTextFile(path: string, text: string, durable = true): Promise<void> {
    return this.writeFile(path, new TextEncoder().encode(text), durable);
  }

  async writeFile(path: string, data: Uint8Array, durable = true): Promise<void> {
    const dir = path.replace(/\/[^/]*$/, "") || ".";
    const base = path.slice(dir.length + 1);
    const tmp = `${dir}/.${base}.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`;
    // Written and synced before the rename: a crash leaves the old file or the new one whole.
    const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
    try {
      for (let w = 0; w < data.length;) w += await file.write(data.subarray(w));
      if (durable) await file.sync();
    } catch (e) {
      file.close();
      await Deno.remove(tmp).catch(() => {});
      throw naming(e, "write", path);
    }
    file.close();
    try {
      await Deno.rename(tmp, path);
    } catch (e) {
      await Deno.remove(tmp).catch(() => {});
      throw naming(e, "write", path);
    }
  }

  readFile(path: string): Promise<Uint8Array> {
    return Deno.readFile(path);
  }

  async readTail(path: string, bytes: number): Promise<Uint8Array> {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { read: true });
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return new Uint8Array();
      throw e;
    }
    try {
      const size = (await file.stat()).size;
      const start = Math.max(0, size - bytes);
      await file.seek(start, Deno.SeekMode.Start);
      const buf = new Uint8Array(size - start);
      let off = 0;
      while (off < buf.length) {
        const n = await file.read(buf.subarray(off));
        if (n === null) break;
        off += n;
      }
      return buf.subarray(0, off);
    } finally {
      file.close();
    }
  }

  async appendLine(path: string, line: string, sync = false): Promise<void> {
    const file = await Deno.open(path, { append: true, create: true });
    try {
      const data = new TextEncoder().encode(line.endsWith("\n") ? line : `${line}\n`);
      for (let w = 0; w < data.length;) w += await file.write(data.subarray(w));
      if (sync) await file.sync();
    } catch (e) {
      // A line cut short by a full disk is repaired by the next reader (a torn last line).
      throw naming(e, "write", path);
    } finally {
      file.close();
    }
  }

  async createExclusive(path: string, text: string): Promise<boolean> {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { write: true, createNew: true });
    } catch (e) {
      if (e instanceof Deno.errors.AlreadyExists) return false;
      throw e;
    }
    try {
      await file.write(new TextEncoder().encode(text));
      await file.sync();
    } finally {
      file.close();
    }
    return true;
  }

  async stat(path: string): Promise<{ mtimeMs: number; size: number; isSymlink: boolean } | null> {
    try {
      const l = await Deno.lstat(path);
      const s = l.isSymlink ? await Deno.stat(path) : l;
      return { mtimeMs: s.mtime?.getTime() ?? 0, size: s.size, isSymlink: l.isSymlink };
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return null;
      throw e;
    }
  }

  async writeChunks(path: string, chunks: Iterable<string | Uint8Array>): Promise<void> {
    const dir = path.replace(/\/[^/]*$/, "") || ".";
    const base = path.slice(dir.length + 1);
    const tmp = `${dir}/.${base}.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`;
    const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
    const enc = new TextEncoder();
    try {
      let pending: Uint8Array[] = [];
      let size = 0;
      const flush = async () => {
        const buf = new Uint8Array(size);
        let off = 0;
        for (const p of pending) {
          buf.set(p, off);
          off += p.length;
        }
        for (let w = 0; w < buf.length;) w += await file.write(buf.subarray(w));
        pending = [];
        size = 0;
      };
      for (const c of chunks) {
        const bytes = typeof c === "string" ? enc.encode(c) : c;
        pending.push(bytes);
        size += bytes.length;
        if (size >= 1 << 20) await flush();
      }
      await flush();
      await file.sync();
    } catch (e) {
      file.close();
      await Deno.remove(tmp).catch(() => {});
      throw naming(e, "write", path);
    }
    file.close();
    try {
      await Deno.rename(tmp, path);
    } catch (e) {
      await Deno.remove(tmp).catch(() => {});
      throw naming(e, "rename", path);
    }
  }

  async rename(from: string, to: string): Promise<boolean> {
    try {
      await Deno.rename(from, to);
      return true;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return false;
      throw e;
    }
  }

  async remove(path: string): Promise<void> {
    try {
      await Deno.remove(path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }

  async exists(path: string): Promise<boolean> {
    try {
      await Deno.stat(path);
      return true;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return false;
      throw e;
    }
  }

  async isDirectory(path: string): Promise<boolean> {
    try {
      return (await Deno.stat(path)).isDirectory;
    } catch {
      return false;
    }
  }

  async mkdirp(path: string, mode?: number): Promise<void> {
    await Deno.mkdir(path, { recursive: true, ...(mode === undefined ? {} : { mode }) });
  }

  async listFiles(dir: string): Promise<FileEntry[]> {
    const out: FileEntry[] = [];
    const walk = async (abs: string, rel: string) => {
      for await (const e of Deno.readDir(abs)) {
        const a = `${abs}/${e.name}`;
        const r = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory) await walk(a, r);
        else if (e.isFile || e.isSymlink) out.push({ relPath: r, absPath: a });
      }
    };
    await walk(dir.replace(/\/+$/, ""), "");
    return out.sort((a, b) => a.relPath.localeCompare(b.relPath));
  }

  async listDirs(dir: string): Promise<string[]> {
    const out: string[] = [];
    try {
      for await (const e of Deno.readDir(dir)) {
        if (e.isDirectory) out.push(e.name);
        else if (e.isSymlink && (await this.isDirectory(`${dir}/${e.name}`))) out.push(e.name);
      }
    } catch (e) {
      if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return [];
      throw e;
    }
    return out.sort();
  }

  async listNames(dir: string): Promise<string[] | null> {
    const out: string[] = [];
    try {
      for await (const e of Deno.readDir(dir)) out.push(e.name);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.NotADirectory) return null;
      throw e;
    }
    return out;
  }

  realPath(path: string): Promise<string> {
    return Deno.realPath(path);
  }

  async freeBytes(path: string): Promise<number | null> {
    try {
      const { statfs } = await import("node:fs/promises");
      const s = await statfs(path);
      return Number(s.bavail) * Number(s.bsize);
    } catch {
      return null;
    }
  }
}

/**
 * Deno's read and write errors do not name their file (`No space left on device (os error
 * 28)`): the same error, naming it as Deno's path errors do (`...: write '/path'`), so the
 * user is told which file (lib/errors.ts fileSystemProblem).
 */
function naming(e: unknown, op: string, path: string): unknown {
  if (!(e instanceof Error) || /: \w+ '[^']*'$/.test(e.message)) return e;
  const Kind = e.constructor as new (message: string, options?: ErrorOptions) => Error;
  return new Kind(`${e.message}: ${op} '${path}'`, { cause: e });
}
