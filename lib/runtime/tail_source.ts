/**
 * The port of log tailing to the file system ({@link TailSource}, used by `lib/monitor/tail.ts`)
 * and its real implementation: opens through symlinks, stats and reads byte ranges of the same
 * opened file, so a rename between the stat and the read cannot mix two files.
 *
 * @module
 */

/** Size, modification time and identity of an opened log file (symlinks followed). */
export interface TailStat {
  readonly size: number;
  readonly mtimeMs: number;
  /** Stable identity of the file (e.g. `dev:ino`); null when the platform has none. */
  readonly fileId: string | null;
}

/** One opened file. `read` may return fewer bytes than asked for only at end of file. */
export interface TailHandle {
  stat(): Promise<TailStat>;
  read(offset: number, maxBytes: number): Promise<Uint8Array>;
  close(): void;
}

/** Opens log files for tailing; null when the path (or a symlink's target) does not exist. */
export interface TailSource {
  open(path: string): Promise<TailHandle | null>;
}

/** Functions of an opened file that {@link tailSourceFromOpen} needs; `Deno.FsFile` has them. */
export interface OpenFileLike {
  stat(): Promise<{ size: number; mtime: Date | null; ino: number | null; dev: number | null }>;
  seek(offset: number, whence: 0): Promise<number>;
  read(buffer: Uint8Array): Promise<number | null>;
  close(): void;
}

/**
 * A {@link TailSource} built from an `open` function that follows symlinks and a test for "not
 * found" errors ({@link denoTailSource} passes Deno's). The identity is `dev:ino` of the opened
 * file.
 */
export function tailSourceFromOpen(
  open: (path: string) => Promise<OpenFileLike>,
  isNotFound: (error: unknown) => boolean,
): TailSource {
  return {
    async open(path) {
      let file: OpenFileLike;
      try {
        file = await open(path);
      } catch (e) {
        if (isNotFound(e)) return null;
        throw e;
      }
      return {
        async stat() {
          const i = await file.stat();
          return {
            size: i.size,
            mtimeMs: i.mtime?.getTime() ?? 0,
            fileId: i.ino === null ? null : `${i.dev ?? 0}:${i.ino}`,
          };
        },
        async read(offset, maxBytes) {
          await file.seek(offset, 0);
          const out = new Uint8Array(maxBytes);
          let n = 0;
          while (n < maxBytes) {
            const r = await file.read(out.subarray(n));
            if (r === null || r === 0) break;
            n += r;
          }
          return out.subarray(0, n);
        },
        close() {
          file.close();
        },
      };
    },
  };
}

/** Tail source over the real file system. */
export function denoTailSource(): TailSource {
  return tailSourceFromOpen((p) => Deno.open(p), (e) => e instanceof Deno.errors.NotFound);
}
