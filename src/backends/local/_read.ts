/**
 * Reading local files: opening exactly the entry a key resolved to, and a
 * pull-based stream over the open file. Private module.
 *
 * @module
 */

import * as fs from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { type BigIntStats, constants } from "node:fs";
import type { BackendReadOptions } from "../../backend.ts";
import { BackendUnavailableError, InvalidPathError } from "../../errors.ts";
import { BACKEND, mapFsError } from "./_errors.ts";
import type { Dir } from "./_paths.ts";

/** Bytes per read from disk. */
export const CHUNK_SIZE = 64 * 1024;
/**
 * Opens a file without following a link in its last component, and without
 * blocking on a FIFO put there after the check.
 */
const FILE_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) |
  (constants.O_NONBLOCK ?? 0);

/**
 * Throws unless `stats` describe a regular file.
 *
 * @throws {InvalidPathError} For a folder or a special file.
 */
export function requireFile(stats: BigIntStats, key: string, operation: string): void {
  if (stats.isDirectory()) {
    throw new InvalidPathError(`Cannot ${operation} because the path is a folder, not a file`, {
      path: key,
      backend: BACKEND,
    });
  }
  if (!stats.isFile()) {
    throw new InvalidPathError(`Cannot ${operation} because the path is not a regular file`, {
      path: key,
      backend: BACKEND,
    });
  }
}

/**
 * Opens the regular file `name` in `dir`. What is opened is checked, not
 * what was there before: the returned stats are of the open file.
 *
 * @returns The handle and its stats, or `undefined` when the entry became a
 *   symbolic link since it was resolved (resolve again).
 * @throws A native `ENOENT` when it is missing; {@link InvalidPathError} when it is not a file.
 */
export async function openFile(
  dir: Dir,
  name: string,
  key: string,
  operation: string,
): Promise<{ handle: FileHandle; stats: BigIntStats } | undefined> {
  let handle: FileHandle;
  try {
    handle = await fs.open(dir.at(name), FILE_FLAGS);
  } catch (error) {
    if ((error as { code?: string }).code === "ELOOP") return undefined;
    throw error;
  }
  try {
    const stats = await handle.stat({ bigint: true });
    requireFile(stats, key, operation);
    return { handle, stats };
  } catch (error) {
    await handle.close().catch(() => {});
    throw error;
  }
}

/**
 * A pull-based stream over an open file; closes it on end, cancel, error,
 * abort or when the backend closes (`readers` holds the closers of open streams).
 *
 * @param handle The open file (the stream owns it).
 * @param key Backend key, for errors.
 * @param options `range`, `signal`.
 * @param readers The backend's set of open-stream closers.
 * @returns The stream, in chunks of up to 64 KiB.
 */
export function fileStream(
  handle: FileHandle,
  key: string,
  options: BackendReadOptions,
  readers: Set<() => Promise<void>>,
): ReadableStream<Uint8Array> {
  const { signal } = options;
  let position = options.range?.offset ?? 0;
  let remaining = options.range?.length ?? Infinity;
  let released = false;
  let pending: Promise<unknown> = Promise.resolve();
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const release = async () => {
    if (released) return;
    released = true;
    readers.delete(onClose);
    signal?.removeEventListener("abort", onAbort);
    await pending.catch(() => {});
    await handle.close().catch(() => {});
  };
  const fail = (error: unknown) => {
    try {
      controller.error(error);
    } catch {
      // Already closed or errored.
    }
    return release();
  };
  const onAbort = () => void fail(signal?.reason);
  const onClose = () =>
    fail(
      new BackendUnavailableError("Cannot read the file because the backend was closed", {
        path: key,
        backend: BACKEND,
      }),
    );
  return new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      readers.add(onClose);
      signal?.addEventListener("abort", onAbort, { once: true });
    },
    async pull(c) {
      if (released) return;
      if (remaining <= 0) {
        await release();
        c.close();
        return;
      }
      const size = Math.min(CHUNK_SIZE, remaining);
      const buffer = new Uint8Array(size);
      try {
        const read = handle.read(buffer, 0, size, position);
        pending = read;
        const { bytesRead } = await read;
        if (released) return;
        if (bytesRead === 0) {
          await release();
          c.close();
          return;
        }
        position += bytesRead;
        remaining -= bytesRead;
        if (bytesRead === size) c.enqueue(buffer);
        else if (bytesRead * 2 < size) c.enqueue(buffer.slice(0, bytesRead));
        else c.enqueue(buffer.subarray(0, bytesRead));
      } catch (error) {
        if (released) return;
        await fail(mapFsError(error, key, "read the file"));
      }
    },
    cancel: () => release(),
  }, { highWaterMark: 0 });
}
