/**
 * Mutations of the local backend: writes through a temp file, moves, and
 * recursive deletes, each acting on names inside folders that
 * {@link resolve} opened. Private module.
 *
 * @module
 */

import * as fs from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import type { BigIntStats } from "node:fs";
import { randomBytes } from "node:crypto";
import type { BackendWriteResult, SignalOptions } from "../../backend.ts";
import {
  AlreadyExistsError,
  InvalidPathError,
  NotFoundError,
  PreconditionFailedError,
} from "../../errors.ts";
import { BACKEND, hasCode, mapFsError } from "./_errors.ts";
import { localFs } from "./_fs.ts";
import { Dir, fsError, lstatOrNothing, TEMP_PREFIX } from "./_paths.ts";
import { CHUNK_SIZE, requireFile } from "./_read.ts";
import { etagOf, nextStamp } from "./_version.ts";

/** Codes with which `link` fails on file systems without hard links. */
const NO_HARD_LINKS = ["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS"];

/** What a write needs to know besides the body. */
export interface CommitOptions extends SignalOptions {
  overwrite: boolean;
  ifMatch?: string;
}

/** An entry to write, move or delete: a name in a folder opened inside the root. */
export interface Entry {
  dir: Dir;
  name: string;
  /** Backend key and operation, for errors. */
  key: string;
  operation: string;
  /** The native path as configured (root joined with the key): the record of {@link nextStamp}. */
  where: string;
  /** The entry as it is now, a symbolic link followed (inside the root); `undefined` when missing. */
  current(): Promise<BigIntStats | undefined>;
}

/** An error raised by the caller's body stream: passed through unchanged. */
export class BodyFailure {
  /** The body's error. */
  readonly error: unknown;
  constructor(error: unknown) {
    this.error = error;
  }
}

/** A temp file name next to `name`: `<TEMP_PREFIX><name, shortened>.<random hex>`. */
function tempName(name: string): string {
  const short = Array.from(name).slice(0, 32).join("");
  return `${TEMP_PREFIX}${short}.${randomBytes(8).toString("hex")}`;
}

/**
 * Checks the target of a write before any byte is written (and, with
 * `ifMatch`, again before the commit).
 *
 * @param stats The target now (`undefined`: missing).
 * @throws {InvalidPathError} When the target is a folder.
 * @throws {AlreadyExistsError} When it exists and `overwrite` is false (unless `ifMatchOnly`).
 * @throws {PreconditionFailedError} When `ifMatch` does not hold.
 */
export function precheck(
  stats: BigIntStats | undefined,
  key: string,
  operation: string,
  options: CommitOptions,
  ifMatchOnly = false,
): void {
  if (stats) requireFile(stats, key, operation);
  if (!ifMatchOnly && stats && !options.overwrite) {
    throw new AlreadyExistsError(`Cannot ${operation} because the file already exists`, {
      path: key,
      backend: BACKEND,
    });
  }
  if (options.ifMatch === undefined) return;
  if (!stats) {
    throw new PreconditionFailedError(
      `Cannot ${operation} because ifMatch was given and the file does not exist`,
      { path: key, backend: BACKEND },
    );
  }
  if (etagOf(stats) !== options.ifMatch) {
    throw new PreconditionFailedError(
      `Cannot ${operation} because its ETag does not match ifMatch`,
      { path: key, backend: BACKEND },
    );
  }
}

/** Maps an error of the final rename or link onto `target`. */
async function commitError(error: unknown, target: Entry): Promise<unknown> {
  const { key, operation } = target;
  if (hasCode(error, "EEXIST", "EISDIR", "ENOTEMPTY", "EPERM", "EACCES")) {
    const stats = await target.current().catch(() => undefined);
    if (stats?.isDirectory()) {
      return new InvalidPathError(`Cannot ${operation} because the path is a folder, not a file`, {
        path: key,
        backend: BACKEND,
        cause: error,
      });
    }
  }
  if (hasCode(error, "EEXIST")) {
    return new AlreadyExistsError(`Cannot ${operation} because the file already exists`, {
      path: key,
      backend: BACKEND,
      cause: error,
    });
  }
  return mapFsError(error, key, operation);
}

/** Gives an open new version its modification time (see {@link nextStamp}); returns its stats. */
async function stampVersion(
  handle: FileHandle,
  target: Entry,
  previous: BigIntStats | undefined,
): Promise<BigIntStats> {
  const stamp = nextStamp(target.where, previous);
  // Half a millisecond in: seconds as a float must not round below the stamp.
  const seconds = (stamp + 0.5) / 1000;
  await handle.utimes(seconds, seconds);
  return await handle.stat({ bigint: true });
}

/** Copies the open `source` into the open `out` from the start. */
async function copyBytes(
  source: FileHandle,
  out: FileHandle,
  alive: (signal?: AbortSignal) => void,
  signal?: AbortSignal,
): Promise<void> {
  const buffer = new Uint8Array(CHUNK_SIZE);
  let position = 0;
  while (true) {
    alive(signal);
    const { bytesRead } = await source.read(buffer, 0, CHUNK_SIZE, position);
    if (bytesRead === 0) return;
    let written = 0;
    while (written < bytesRead) {
      const result = await out.write(buffer, written, bytesRead - written, position + written);
      written += result.bytesWritten;
    }
    position += bytesRead;
  }
}

/**
 * Publishes `temp` (in the target's folder) at the target only if nothing is
 * there: a hard link (race-free), or an exclusive create plus copy on file
 * systems without hard links. The caller removes `temp`.
 *
 * @returns The stats of the published file.
 */
async function linkExclusive(
  temp: string,
  version: BigIntStats,
  target: Entry,
  alive: (signal?: AbortSignal) => void,
  signal?: AbortSignal,
): Promise<BigIntStats> {
  const at = target.dir.at(target.name);
  try {
    await localFs.link(target.dir.at(temp), at);
    return version;
  } catch (error) {
    const exists = await lstatOrNothing(at).catch(() => undefined);
    if (exists || !hasCode(error, ...NO_HARD_LINKS)) throw await commitError(error, target);
  }
  // No hard links here: exclusive create (`wx` fails when anything is there), then copy.
  let out: FileHandle;
  try {
    out = await fs.open(at, "wx");
  } catch (error) {
    throw await commitError(error, target);
  }
  let source: FileHandle | undefined;
  try {
    source = await fs.open(target.dir.at(temp), "r");
    await copyBytes(source, out, alive, signal);
    const stats = await stampVersion(out, target, undefined);
    await out.close();
    return stats;
  } catch (error) {
    await out.close().catch(() => {});
    await fs.unlink(at).catch(() => {});
    throw error;
  } finally {
    await source?.close().catch(() => {});
  }
}

/**
 * Streams `body` into a temp file next to the target, gives it a new
 * modification time, then renames (`overwrite`) or hard-links (create-only)
 * it into place. Removes the temp file on any failure or abort. Errors are
 * native or library errors, or a {@link BodyFailure}; the caller maps them.
 *
 * @param target The entry to write.
 * @param body The content.
 * @param options `overwrite`, `ifMatch`, `signal`.
 * @param alive Throws once the backend is closed or `signal` aborted.
 * @returns Size and ETag of the new version.
 */
export async function writeFile(
  target: Entry,
  body: ReadableStream<Uint8Array>,
  options: CommitOptions,
  alive: (signal?: AbortSignal) => void,
): Promise<BackendWriteResult> {
  const { signal } = options;
  const { key, operation } = target;
  const reader = body.getReader();
  const onAbort = () => void reader.cancel(signal?.reason).catch(() => {});
  signal?.addEventListener("abort", onAbort, { once: true });
  let temp: string | undefined;
  let handle: FileHandle | undefined;
  let bodyDone = false;
  try {
    alive(signal);
    precheck(await target.current(), key, operation, options);
    alive(signal);
    temp = tempName(target.name);
    handle = await fs.open(target.dir.at(temp), "wx");
    let size = 0;
    while (true) {
      alive(signal);
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (error) {
        bodyDone = true;
        throw new BodyFailure(error);
      }
      alive(signal);
      if (chunk.done) {
        bodyDone = true;
        break;
      }
      const bytes = chunk.value;
      let written = 0;
      while (written < bytes.byteLength) {
        const result = await handle.write(bytes, written, bytes.byteLength - written, size);
        written += result.bytesWritten;
        size += result.bytesWritten;
      }
    }
    const previous = await target.current();
    if (options.ifMatch !== undefined) precheck(previous, key, operation, options, true);
    let version = await stampVersion(handle, target, previous);
    await handle.close();
    handle = undefined;
    alive(signal);
    if (options.overwrite) {
      try {
        await fs.rename(target.dir.at(temp), target.dir.at(target.name));
      } catch (error) {
        throw await commitError(error, target);
      }
      temp = undefined;
    } else {
      version = await linkExclusive(temp, version, target, alive, signal);
    }
    return { size, etag: etagOf(version) };
  } finally {
    signal?.removeEventListener("abort", onAbort);
    if (!bodyDone) await reader.cancel(signal?.reason).catch(() => {});
    try {
      reader.releaseLock();
    } catch {
      // A read still pending after cancel: nothing to release.
    }
    if (handle) await handle.close().catch(() => {});
    if (temp !== undefined) await fs.unlink(target.dir.at(temp)).catch(() => {});
  }
}

/**
 * Moves the file `source` to `target`: one `rename` (`overwrite`), or a hard
 * link, then the source is claimed by removing it (create-only). Of several
 * create-only moves of one source exactly one removes it; the others take
 * their link back and reject with `NotFoundError`. Without hard links: a
 * create-only copy, then the same claim.
 *
 * @param source The source entry (a file, or a link to one).
 * @param target The destination entry (its folder exists).
 * @param options `overwrite`, `signal`.
 * @param copy Copies the source to the target create-only (no hard links).
 * @throws {NotFoundError} When the source is gone (another move took it).
 */
export async function moveFile(
  source: Entry,
  target: Entry,
  options: CommitOptions,
  copy: () => Promise<void>,
): Promise<void> {
  const from = source.dir.at(source.name);
  const to = target.dir.at(target.name);
  if (options.overwrite) {
    try {
      await fs.rename(from, to);
    } catch (error) {
      if (hasCode(error, "ENOENT")) throw mapFsError(error, source.key, source.operation);
      throw await commitError(error, target);
    }
    return;
  }
  // The inode being moved: the one linked, or (without hard links) the one copied.
  let moved = await lstatOrNothing(from);
  try {
    await localFs.link(from, to);
    moved = await lstatOrNothing(to);
  } catch (error) {
    const exists = await lstatOrNothing(to).then(Boolean, () => false);
    if (exists || !hasCode(error, ...NO_HARD_LINKS)) {
      if (hasCode(error, "ENOENT")) throw mapFsError(error, source.key, source.operation);
      throw await commitError(error, target);
    }
    await copy();
  }
  const placed = await lstatOrNothing(to);
  const isPlaced = (stats: BigIntStats | undefined) =>
    stats !== undefined && placed !== undefined && stats.dev === placed.dev &&
    stats.ino === placed.ino;
  const takeBack = async () => {
    if (isPlaced(await lstatOrNothing(to))) await fs.unlink(to).catch(() => {});
  };
  // Claim the source: remove it only while it is the file that was moved.
  const left = await lstatOrNothing(from);
  if (left !== undefined && moved !== undefined && left.ino === moved.ino) {
    try {
      await fs.unlink(from);
      return;
    } catch (error) {
      if (!hasCode(error, "ENOENT")) {
        await takeBack();
        throw error;
      }
    }
  }
  // Another move took the source first: take this one's file back.
  await takeBack();
  throw new NotFoundError(
    `Cannot ${source.operation} because it does not exist (another move took it)`,
    { path: source.key, backend: BACKEND, cause: fsError("ENOENT", "The source is gone") },
  );
}

/**
 * Removes the folder `name` in `parent` and everything below it, one folder
 * at a time through opened folders (nothing is followed: links are removed
 * as links). Entries that vanish meanwhile are fine.
 *
 * @param alive Throws once the backend is closed or aborted.
 */
export async function removeTree(
  parent: Dir,
  name: string,
  anchored: boolean,
  alive: () => void,
): Promise<void> {
  let dir: Dir;
  try {
    dir = await Dir.open(parent.at(name), anchored);
  } catch (error) {
    if (hasCode(error, "ENOENT")) return;
    if (!hasCode(error, "ENOTDIR", "ELOOP", "EMLINK")) throw error;
    // Not a folder (any more): remove the entry itself.
    await fs.unlink(parent.at(name)).catch((e) => {
      if (!hasCode(e, "ENOENT")) throw e;
    });
    return;
  }
  try {
    await removeContents(dir, anchored, alive);
  } finally {
    await dir.close();
  }
  await fs.rmdir(parent.at(name)).catch((error) => {
    if (!hasCode(error, "ENOENT")) throw error;
  });
}

/**
 * Removes everything in the folder `dir` (which stays), including entries
 * no key can address.
 *
 * @param alive Throws once the backend is closed or aborted.
 */
export async function removeContents(
  dir: Dir,
  anchored: boolean,
  alive: () => void,
): Promise<void> {
  for (const entry of await fs.readdir(dir.path, { withFileTypes: true })) {
    alive();
    if (entry.isDirectory()) {
      await removeTree(dir, entry.name, anchored, alive);
      continue;
    }
    try {
      await fs.unlink(dir.at(entry.name));
    } catch (error) {
      if (hasCode(error, "ENOENT")) continue;
      // Became a folder meanwhile (Linux EISDIR, macOS EPERM, Deno ENOTEMPTY).
      if (!hasCode(error, "EISDIR", "EPERM", "ENOTEMPTY")) throw error;
      await removeTree(dir, entry.name, anchored, alive);
    }
  }
}
