/**
 * The local disk backend (`type: "local"`), on `node:fs/promises` so that it
 * runs on Deno, Bun and Node.
 *
 * @module
 */

import * as fs from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import type { Dirent, Stats } from "node:fs";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import type {
  Backend,
  BackendDeleteFolderOptions,
  BackendEntry,
  BackendFileInfo,
  BackendListOptions,
  BackendReadOptions,
  BackendTransferOptions,
  BackendWriteOptions,
  BackendWriteResult,
  SignalOptions,
} from "../../backend.ts";
import { ALL_CAPABILITIES, Capabilities } from "../../capabilities.ts";
import {
  AlreadyExistsError,
  BackendUnavailableError,
  CapabilityNotSupportedError,
  DirectoryNotEmptyError,
  InvalidPathError,
  NotFoundError,
  PermissionDeniedError,
  PreconditionFailedError,
} from "../../errors.ts";
import { guessContentType } from "../../_content_type.ts";
import { type LocalBackendOptions, parseLocalOptions } from "./_options.ts";
import { BACKEND, hasCode, mapFsError } from "./_errors.ts";
import { localFs } from "./_fs.ts";

/** Name prefix of the temporary files writes stream into; never listed. */
const TEMP_PREFIX = ".~tmp.";
/** Bytes per read from disk. */
const CHUNK_SIZE = 64 * 1024;
/** Symbolic links followed while resolving one path before giving up (as Linux does). */
const MAX_SYMLINKS = 40;
/** Everything but `metadata`: a plain file system has no place for user metadata. */
const CAPABILITIES = new Capabilities(ALL_CAPABILITIES).without("metadata", "signed_url");
/** Codes with which `link` fails on file systems without hard links. */
const NO_HARD_LINKS = ["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS"];

/** What a write needs to know besides the body. */
interface CommitOptions extends SignalOptions {
  overwrite: boolean;
  ifMatch?: string;
}

/** A directory entry collected for sorting before it is yielded. */
interface ListedEntry {
  name: string;
  kind: "file" | "folder";
  /** Sort key: folders sort as `name/`, so output follows the order of full keys. */
  sortKey: string;
  stats?: Stats;
}

/** An error raised by the caller's body stream: passed through unchanged. */
class BodyFailure {
  readonly error: unknown;
  constructor(error: unknown) {
    this.error = error;
  }
}

/** The entity tag of a file: inode, size and modification time. */
function etagOf(stats: Stats): string {
  return `"${stats.ino ?? 0}-${stats.size}-${stats.mtimeMs}"`;
}

/** A temp file name next to `name`: `.~tmp.<name, shortened>.<random hex>`. */
function tempName(name: string): string {
  const short = Array.from(name).slice(0, 32).join("");
  return `${TEMP_PREFIX}${short}.${randomBytes(8).toString("hex")}`;
}

/** Whether `child` is `root` or below it (both absolute, real paths). */
function isInside(root: string, child: string): boolean {
  if (child === root) return true;
  const prefix = root.endsWith(path.sep) ? root : root + path.sep;
  return child.startsWith(prefix);
}

/**
 * The real path of `target`, resolving every symbolic link including dangling
 * ones; missing trailing components are appended unresolved.
 */
async function realpathLoose(target: string, depth = 0): Promise<string> {
  try {
    return await fs.realpath(target);
  } catch (error) {
    if (!hasCode(error, "ENOENT", "ENOTDIR")) throw error;
  }
  let link: string | undefined;
  try {
    if ((await fs.lstat(target)).isSymbolicLink()) link = await fs.readlink(target);
  } catch (error) {
    if (!hasCode(error, "ENOENT", "ENOTDIR")) throw error;
  }
  const parent = path.dirname(target);
  if (parent === target) return target;
  const realParent = await realpathLoose(parent, depth);
  if (link === undefined) return path.join(realParent, path.basename(target));
  if (depth >= MAX_SYMLINKS) {
    throw Object.assign(new Error("Too many levels of symbolic links"), { code: "ELOOP" });
  }
  return await realpathLoose(path.resolve(realParent, link), depth + 1);
}

/**
 * Stores files in a folder on the local disk, through `node:fs/promises`
 * (Deno 2, Bun 1, Node 24).
 *
 * - Keys map to paths below `root`; no key, `..` or symbolic link can reach
 *   outside it. Every operation resolves the real path of the deepest existing
 *   ancestor first; a path that leads outside the root through a symbolic link
 *   is refused with `PermissionDeniedError` (listings skip such links).
 * - Writes stream into a temporary file `.~tmp.<name>.<hex>` next to the target
 *   and then `rename` it into place (`overwrite: true`) or hard-`link` it
 *   (`overwrite: false`, race-free: of concurrent create-only writers exactly
 *   one wins). A failed or aborted write removes the temporary file and leaves
 *   the old content. Temporary files never appear in listings, and names
 *   starting with `.~tmp.` are reserved.
 * - `ifMatch` compares with the current ETag (`"<inode>-<size>-<mtimeMs>"`)
 *   before and after streaming, then renames: check-then-rename, not atomic
 *   against a concurrent writer.
 * - Folders are real directories: empty folders exist, `move` is an atomic
 *   `rename`. Content type is guessed from the extension; user metadata is not
 *   supported (no `metadata` capability).
 *
 * @example A store on a local folder
 * ```ts
 * import { LocalBackend } from "@remote-store/remote-store/local";
 * import { Store } from "@remote-store/remote-store";
 *
 * const root = await Deno.makeTempDir();
 * const store = new Store(new LocalBackend({ root }));
 * await store.write("reports/q1.csv", "revenue,profit\n100,20\n");
 * console.log(await store.readText("reports/q1.csv"));
 * ```
 */
export class LocalBackend implements Backend {
  /** Backend type name. */
  readonly name = "local";
  /** Every capability except `metadata`. */
  readonly capabilities: Capabilities = CAPABILITIES;
  readonly #root: string;
  #realRoot: string | undefined;
  #closed = false;
  /** Closers of the read streams that are open. */
  readonly #readers = new Set<() => Promise<void>>();

  /**
   * Creates a backend over a folder. Does no I/O: the folder is created by the
   * first write.
   *
   * @param options `root`: the folder that holds the files (relative paths are
   *   resolved against the current working directory).
   * @throws {InvalidConfigError} When the options are invalid.
   */
  constructor(options: LocalBackendOptions) {
    const parsed = parseLocalOptions(options);
    this.#root = path.resolve(parsed.root);
  }

  /** The absolute path of the root folder. */
  get root(): string {
    return this.#root;
  }

  // ---- helpers --------------------------------------------------------------

  #check(signal?: AbortSignal): void {
    if (this.#closed) {
      throw new BackendUnavailableError("Cannot use the backend because it is closed", {
        backend: BACKEND,
      });
    }
    signal?.throwIfAborted();
  }

  /** The error to throw: the abort reason once aborted, otherwise a mapped error. */
  #fail(error: unknown, key: string, operation: string, signal?: AbortSignal): unknown {
    if (signal?.aborted) return signal.reason;
    if (error instanceof BodyFailure) return error.error;
    return mapFsError(error, key, operation);
  }

  /** Native path of a key, checking that it is a clean relative key. */
  #nativePath(key: string, operation: string): string {
    if (key === "") return this.#root;
    for (const segment of key.split("/")) {
      if (
        segment === "" || segment === "." || segment === ".." || segment.includes("\0") ||
        (path.sep === "\\" && /[\\:]/.test(segment))
      ) {
        throw new InvalidPathError(
          `Cannot ${operation} because the key is not a clean relative path`,
          { path: key, backend: BACKEND },
        );
      }
    }
    return path.join(this.#root, ...key.split("/"));
  }

  /** Rejects keys that cannot name a file: the root and reserved temp names. */
  #checkFileKey(key: string, operation: string): void {
    if (key === "") {
      throw new InvalidPathError(`Cannot ${operation} because the key is empty`, {
        path: key,
        backend: BACKEND,
      });
    }
    if (key.slice(key.lastIndexOf("/") + 1).startsWith(TEMP_PREFIX)) {
      throw new InvalidPathError(
        `Cannot ${operation} because names starting with "${TEMP_PREFIX}" are reserved for temporary files`,
        { path: key, backend: BACKEND },
      );
    }
  }

  async #rootReal(): Promise<string> {
    if (this.#realRoot !== undefined) return this.#realRoot;
    const real = await realpathLoose(this.#root);
    try {
      if ((await fs.stat(this.#root)).isDirectory()) this.#realRoot = real;
    } catch {
      // Not created yet: resolve again next time.
    }
    return real;
  }

  /**
   * The native path of a key after checking that its real path stays inside
   * the root.
   *
   * @throws {PermissionDeniedError} When a symbolic link leads outside the root.
   */
  async #resolve(key: string, operation: string): Promise<string> {
    const target = this.#nativePath(key, operation);
    try {
      const [root, real] = await Promise.all([this.#rootReal(), realpathLoose(target)]);
      if (!isInside(root, real)) {
        throw new PermissionDeniedError(
          `Cannot ${operation} because the path leads outside the backend root through a symbolic link`,
          { path: key, backend: BACKEND },
        );
      }
    } catch (error) {
      throw mapFsError(error, key, operation);
    }
    return target;
  }

  /** `stat`, or `undefined` when nothing is there. */
  async #statOrNothing(target: string): Promise<Stats | undefined> {
    try {
      return await fs.stat(target);
    } catch (error) {
      if (hasCode(error, "ENOENT")) return undefined;
      throw error;
    }
  }

  /** Throws unless `stats` describe a regular file. */
  #requireFile(stats: Stats, key: string, operation: string): void {
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

  #info(key: string, stats: Stats): BackendFileInfo {
    return {
      key,
      size: stats.size,
      modifiedAt: new Date(stats.mtimeMs),
      etag: etagOf(stats),
      contentType: guessContentType(key),
    };
  }

  async #mkdirs(dir: string, key: string, operation: string): Promise<void> {
    try {
      await fs.mkdir(dir, { recursive: true });
    } catch (error) {
      if (hasCode(error, "EEXIST", "ENOTDIR")) {
        throw new InvalidPathError(
          `Cannot ${operation} because a parent of the path is a file, not a folder`,
          { path: key, backend: BACKEND, cause: error },
        );
      }
      throw error;
    }
  }

  /** Maps an error of the final rename/link onto `target`. */
  async #commitError(error: unknown, target: string, key: string, operation: string) {
    if (hasCode(error, "EEXIST", "EISDIR", "ENOTEMPTY", "EPERM", "EACCES")) {
      const stats = await fs.stat(target).catch(() => undefined);
      if (stats?.isDirectory()) {
        return new InvalidPathError(
          `Cannot ${operation} because the path is a folder, not a file`,
          {
            path: key,
            backend: BACKEND,
            cause: error,
          },
        );
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

  /** Checks the target before any byte is written (and `ifMatch` again before commit). */
  async #precheck(
    target: string,
    key: string,
    operation: string,
    options: CommitOptions,
    ifMatchOnly = false,
  ): Promise<void> {
    const stats = await this.#statOrNothing(target);
    if (stats) this.#requireFile(stats, key, operation);
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

  /**
   * Streams `body` into a temp file next to `target`, then renames or links it
   * into place. Removes the temp file on any failure or abort.
   */
  async #writeStream(
    key: string,
    target: string,
    body: ReadableStream<Uint8Array>,
    options: CommitOptions,
    operation: string,
  ): Promise<BackendWriteResult> {
    const { signal } = options;
    const reader = body.getReader();
    const onAbort = () => void reader.cancel(signal?.reason).catch(() => {});
    signal?.addEventListener("abort", onAbort, { once: true });
    let temp: string | undefined;
    let handle: FileHandle | undefined;
    let bodyDone = false;
    try {
      this.#check(signal);
      await this.#precheck(target, key, operation, options);
      const dir = path.dirname(target);
      await this.#mkdirs(dir, key, operation);
      this.#check(signal);
      temp = path.join(dir, tempName(path.basename(target)));
      handle = await fs.open(temp, "wx");
      let size = 0;
      while (true) {
        this.#check(signal);
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader.read();
        } catch (error) {
          bodyDone = true;
          throw new BodyFailure(error);
        }
        this.#check(signal);
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
      const stats = await handle.stat();
      await handle.close();
      handle = undefined;
      if (options.ifMatch !== undefined) {
        await this.#precheck(target, key, operation, options, true);
      }
      this.#check(signal);
      if (options.overwrite) {
        try {
          await fs.rename(temp, target);
        } catch (error) {
          throw await this.#commitError(error, target, key, operation);
        }
        temp = undefined;
      } else {
        await this.#linkExclusive(temp, target, key, operation, signal);
      }
      return { size, etag: etagOf(stats) };
    } catch (error) {
      throw this.#fail(error, key, operation, signal);
    } finally {
      signal?.removeEventListener("abort", onAbort);
      if (!bodyDone) await reader.cancel(signal?.reason).catch(() => {});
      try {
        reader.releaseLock();
      } catch {
        // A read still pending after cancel: nothing to release.
      }
      if (handle) await handle.close().catch(() => {});
      if (temp !== undefined) await fs.unlink(temp).catch(() => {});
    }
  }

  /**
   * Publishes `temp` at `target` only if `target` does not exist: a hard link
   * (race-free), or an exclusive create plus copy on file systems without
   * hard links. The caller removes `temp`.
   */
  async #linkExclusive(
    temp: string,
    target: string,
    key: string,
    operation: string,
    signal?: AbortSignal,
  ): Promise<void> {
    try {
      await localFs.link(temp, target);
      return;
    } catch (error) {
      const stats = await fs.stat(target).catch(() => undefined);
      if (stats || !hasCode(error, ...NO_HARD_LINKS)) {
        throw await this.#commitError(error, target, key, operation);
      }
    }
    // No hard links here: exclusive create (`wx` fails when the file exists), then copy.
    let out: FileHandle;
    try {
      out = await fs.open(target, "wx");
    } catch (error) {
      throw await this.#commitError(error, target, key, operation);
    }
    let source: FileHandle | undefined;
    try {
      source = await fs.open(temp, "r");
      const buffer = new Uint8Array(CHUNK_SIZE);
      let position = 0;
      while (true) {
        this.#check(signal);
        const { bytesRead } = await source.read(buffer, 0, CHUNK_SIZE, position);
        if (bytesRead === 0) break;
        let written = 0;
        while (written < bytesRead) {
          const result = await out.write(buffer, written, bytesRead - written, position + written);
          written += result.bytesWritten;
        }
        position += bytesRead;
      }
      await out.close();
    } catch (error) {
      await out.close().catch(() => {});
      await fs.unlink(target).catch(() => {});
      throw error;
    } finally {
      await source?.close().catch(() => {});
    }
  }

  /** A pull-based stream over an open file handle; closes it on end, cancel, error or abort. */
  #stream(
    handle: FileHandle,
    key: string,
    options: BackendReadOptions,
  ): ReadableStream<Uint8Array> {
    const { signal } = options;
    let position = options.range?.offset ?? 0;
    let remaining = options.range?.length ?? Infinity;
    let released = false;
    let pending: Promise<unknown> = Promise.resolve();
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const readers = this.#readers;
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

  /** Opens a file for a stream, rejecting missing files and folders first. */
  async #open(
    key: string,
    file: string,
    operation: string,
    options: BackendReadOptions,
  ): Promise<ReadableStream<Uint8Array>> {
    let handle: FileHandle | undefined;
    try {
      // stat first: opening a FIFO would block, opening a folder may succeed.
      this.#requireFile(await fs.stat(file), key, operation);
      handle = await fs.open(file, "r");
      this.#requireFile(await handle.stat(), key, operation);
      this.#check(options.signal);
      return this.#stream(handle, key, options);
    } catch (error) {
      await handle?.close().catch(() => {});
      throw this.#fail(error, key, operation, options.signal);
    }
  }

  // ---- the Backend contract ---------------------------------------------------

  /**
   * Opens a file for reading. The file is opened before this resolves, so a
   * missing file or a folder rejects here, before any byte.
   *
   * @param key Backend key.
   * @param options `range` (bytes past the end are simply absent), `signal`.
   * @returns A pull-based stream of 64 KiB chunks; cancel it to release the file.
   * @throws {NotFoundError} When the file does not exist.
   * @throws {InvalidPathError} When the key is a folder or not a regular file.
   * @throws {PermissionDeniedError} When a symbolic link leads outside the root, or
   *   the file system denies access.
   * @throws {BackendUnavailableError} When the backend is closed.
   */
  async read(key: string, options: BackendReadOptions): Promise<ReadableStream<Uint8Array>> {
    const operation = "read the file";
    try {
      this.#check(options.signal);
      this.#checkFileKey(key, operation);
      const file = await this.#resolve(key, operation);
      return await this.#open(key, file, operation, options);
    } catch (error) {
      throw this.#fail(error, key, operation, options.signal);
    }
  }

  /**
   * Writes a file by streaming into a temporary file and renaming (or, when
   * create-only, hard-linking) it into place. Parent folders are created.
   * Every write is atomic; `contentType` is not stored (it is guessed from the
   * extension when read back).
   *
   * @param key Backend key.
   * @param body The content.
   * @param options `overwrite`, `ifMatch` (check-then-rename, not atomic), `signal`.
   * @returns Size and ETag.
   * @throws {AlreadyExistsError} When `overwrite` is false and the file exists.
   * @throws {PreconditionFailedError} When `ifMatch` does not match or the file is missing.
   * @throws {CapabilityNotSupportedError} When `metadata` is given (not supported).
   * @throws {InvalidPathError} When the key is a folder or a parent is a file.
   * @throws {PermissionDeniedError} When a symbolic link leads outside the root, or
   *   the file system denies access.
   * @throws {BackendUnavailableError} When the backend is closed or the disk fails.
   */
  async write(
    key: string,
    body: ReadableStream<Uint8Array>,
    options: BackendWriteOptions,
  ): Promise<BackendWriteResult> {
    const operation = "write the file";
    let target: string;
    try {
      this.#check(options.signal);
      if (options.metadata !== undefined) {
        // The Store checks capabilities first; this guards direct and not-yet-loaded use.
        throw new CapabilityNotSupportedError("metadata", { path: key, backend: BACKEND });
      }
      this.#checkFileKey(key, operation);
      target = await this.#resolve(key, operation);
    } catch (error) {
      await body.cancel(error).catch(() => {});
      throw this.#fail(error, key, operation, options.signal);
    }
    return await this.#writeStream(key, target, body, options, operation);
  }

  /**
   * Deletes one file (or a symbolic link to a file). Never removes a folder.
   *
   * @param key Backend key.
   * @param options `signal`.
   * @returns Resolves when deleted.
   * @throws {NotFoundError} When the file does not exist.
   * @throws {InvalidPathError} When the key is a folder.
   * @throws {BackendUnavailableError} When the backend is closed.
   */
  async delete(key: string, options: SignalOptions): Promise<void> {
    const operation = "delete the file";
    try {
      this.#check(options.signal);
      this.#checkFileKey(key, operation);
      const target = await this.#resolve(key, operation);
      const stats = await fs.lstat(target);
      const followed = stats.isSymbolicLink() ? await this.#statOrNothing(target) : stats;
      if (followed?.isDirectory()) {
        throw new InvalidPathError(
          `Cannot ${operation} because the path is a folder, not a file`,
          { path: key, backend: BACKEND },
        );
      }
      this.#check(options.signal);
      await fs.unlink(target);
    } catch (error) {
      throw this.#fail(error, key, operation, options.signal);
    }
  }

  /**
   * Deletes a folder. Non-recursive removes only an empty folder. For the root
   * (`""`) the contents are removed and the root folder itself is kept; a
   * missing root is treated as empty. A symbolic link to a folder is removed
   * as a link (its target is left alone).
   *
   * @param key Folder key (`""` for the root).
   * @param options `recursive`, `signal`.
   * @returns Resolves when deleted.
   * @throws {NotFoundError} When the folder does not exist.
   * @throws {InvalidPathError} When the key is a file.
   * @throws {DirectoryNotEmptyError} When not recursive and the folder has entries.
   * @throws {BackendUnavailableError} When the backend is closed.
   */
  async deleteFolder(key: string, options: BackendDeleteFolderOptions): Promise<void> {
    const operation = "delete the folder";
    const { signal } = options;
    try {
      this.#check(signal);
      const dir = await this.#resolve(key, operation);
      const stats = await this.#statOrNothing(dir);
      if (!stats) {
        if (key === "") return;
        throw new NotFoundError(`Cannot ${operation} because it does not exist`, {
          path: key,
          backend: BACKEND,
        });
      }
      if (!stats.isDirectory()) {
        throw new InvalidPathError(
          `Cannot ${operation} because the path is a file, not a folder`,
          { path: key, backend: BACKEND },
        );
      }
      const notEmpty = (cause?: unknown) =>
        new DirectoryNotEmptyError(`Cannot ${operation} because it is not empty`, {
          path: key,
          backend: BACKEND,
          cause,
        });
      if (key === "") {
        if (!options.recursive) {
          const handle = await fs.opendir(dir);
          let first: Dirent | null;
          try {
            first = await handle.read();
          } finally {
            await handle.close().catch(() => {});
          }
          if (first !== null) throw notEmpty();
          return;
        }
        for (const name of await fs.readdir(dir)) {
          this.#check(signal);
          await fs.rm(path.join(dir, name), { recursive: true, force: true });
        }
        return;
      }
      this.#check(signal);
      if ((await fs.lstat(dir)).isSymbolicLink()) {
        await fs.unlink(dir);
      } else if (options.recursive) {
        await fs.rm(dir, { recursive: true });
      } else {
        try {
          await fs.rmdir(dir);
        } catch (error) {
          if (hasCode(error, "ENOTEMPTY", "EEXIST")) throw notEmpty(error);
          throw error;
        }
      }
    } catch (error) {
      throw this.#fail(error, key, operation, signal);
    }
  }

  /**
   * File metadata from `stat`: size, modification time, ETag
   * (`"<inode>-<size>-<mtimeMs>"`) and a content type guessed from the extension.
   *
   * @param key Backend key.
   * @param options `signal`.
   * @returns The info.
   * @throws {NotFoundError} When the file does not exist.
   * @throws {InvalidPathError} When the key is a folder.
   * @throws {PermissionDeniedError} When a symbolic link leads outside the root.
   * @throws {BackendUnavailableError} When the backend is closed.
   */
  async getFileInfo(key: string, options: SignalOptions): Promise<BackendFileInfo> {
    const operation = "get the file info";
    try {
      this.#check(options.signal);
      this.#checkFileKey(key, operation);
      const target = await this.#resolve(key, operation);
      const stats = await fs.stat(target);
      this.#requireFile(stats, key, operation);
      return this.#info(key, stats);
    } catch (error) {
      throw this.#fail(error, key, operation, options.signal);
    }
  }

  /**
   * Whether a folder (a directory, possibly empty) exists at `key`. The root
   * (`""`) is always a folder, even before it is created.
   *
   * @param key Folder key.
   * @param options `signal`.
   * @returns `true` for a directory.
   * @throws {PermissionDeniedError} When a symbolic link leads outside the root.
   * @throws {BackendUnavailableError} When the backend is closed.
   */
  async isFolder(key: string, options: SignalOptions): Promise<boolean> {
    const operation = "check the folder";
    try {
      this.#check(options.signal);
      if (key === "") return true;
      const target = await this.#resolve(key, operation);
      try {
        return (await fs.stat(target)).isDirectory();
      } catch (error) {
        if (hasCode(error, "ENOENT", "ENOTDIR")) return false;
        throw error;
      }
    } catch (error) {
      throw this.#fail(error, key, operation, options.signal);
    }
  }

  /**
   * Lists a folder with `opendir`, one directory at a time, entries sorted so
   * that keys come out in lexicographic order. Non-recursive listings yield
   * files and folders; recursive ones yield files at every depth (depth-first).
   * Temporary files, special files and symbolic links leading outside the root
   * are skipped; links to folders are not followed into a cycle.
   *
   * @param key Folder key (`""` for the root); a missing folder or a file yields nothing.
   * @param options `recursive`, `signal`.
   * @returns The entries.
   * @throws {PermissionDeniedError} When the folder itself leads outside the root,
   *   or the file system denies access.
   * @throws {BackendUnavailableError} When the backend is closed.
   */
  async *list(key: string, options: BackendListOptions): AsyncGenerator<BackendEntry> {
    const operation = "list the folder";
    const { signal } = options;
    let dir: string;
    let root: string;
    try {
      this.#check(signal);
      dir = await this.#resolve(key, operation);
      root = await this.#rootReal();
    } catch (error) {
      throw this.#fail(error, key, operation, signal);
    }
    yield* this.#walk(dir, key, options.recursive, root, [], signal);
  }

  async *#walk(
    dir: string,
    key: string,
    recursive: boolean,
    root: string,
    ancestors: string[],
    signal?: AbortSignal,
  ): AsyncGenerator<BackendEntry> {
    const operation = "list the folder";
    let entries: ListedEntry[];
    let id: string | undefined;
    try {
      entries = await this.#readDir(dir, root);
      if (recursive) {
        const stats = await fs.stat(dir);
        id = `${stats.dev}:${stats.ino}`;
      }
    } catch (error) {
      if (hasCode(error, "ENOENT", "ENOTDIR")) return;
      throw this.#fail(error, key, operation, signal);
    }
    const trail = id === undefined ? ancestors : [...ancestors, id];
    for (const entry of entries) {
      this.#check(signal);
      const childKey = key === "" ? entry.name : `${key}/${entry.name}`;
      const child = path.join(dir, entry.name);
      if (entry.kind === "file") {
        let stats = entry.stats;
        try {
          stats ??= await fs.stat(child);
        } catch (error) {
          if (hasCode(error, "ENOENT", "ENOTDIR")) continue; // removed meanwhile
          throw this.#fail(error, childKey, operation, signal);
        }
        if (stats.isFile()) yield { kind: "file", info: this.#info(childKey, stats) };
      } else if (!recursive) {
        yield { kind: "folder", key: childKey };
      } else {
        const stats = entry.stats ?? await fs.stat(child).catch(() => undefined);
        if (stats && trail.includes(`${stats.dev}:${stats.ino}`)) continue; // link cycle
        yield* this.#walk(child, childKey, true, root, trail, signal);
      }
    }
  }

  /** Reads one directory's entries (sorted), resolving symbolic links. */
  async #readDir(dir: string, root: string): Promise<ListedEntry[]> {
    const entries: ListedEntry[] = [];
    const handle = await fs.opendir(dir);
    for await (const dirent of handle) {
      const name = dirent.name;
      if (dirent.isDirectory()) {
        entries.push({ name, kind: "folder", sortKey: `${name}/` });
      } else if (dirent.isFile()) {
        if (!name.startsWith(TEMP_PREFIX)) entries.push({ name, kind: "file", sortKey: name });
      } else if (dirent.isSymbolicLink() || !(dirent.isFIFO() || dirent.isSocket())) {
        // A link, or a file system that does not report entry types: look closer.
        const child = path.join(dir, name);
        try {
          const real = await fs.realpath(child);
          if (!isInside(root, real)) continue;
          const stats = await fs.stat(child);
          if (stats.isDirectory()) {
            entries.push({ name, kind: "folder", sortKey: `${name}/`, stats });
          } else if (stats.isFile() && !name.startsWith(TEMP_PREFIX)) {
            entries.push({ name, kind: "file", sortKey: name, stats });
          }
        } catch {
          // Dangling link or vanished entry: skip.
        }
      }
    }
    entries.sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0));
    return entries;
  }

  /**
   * Copies a file by streaming it through a temporary file next to the
   * destination, then renaming or (create-only) hard-linking it into place.
   *
   * @param src Source key.
   * @param dst Destination key.
   * @param options `overwrite`, `signal`.
   * @returns Resolves when copied.
   * @throws {NotFoundError} When the source does not exist.
   * @throws {AlreadyExistsError} When `overwrite` is false and the destination exists.
   * @throws {InvalidPathError} When the source or destination is a folder.
   * @throws {BackendUnavailableError} When the backend is closed.
   */
  async copy(src: string, dst: string, options: BackendTransferOptions): Promise<void> {
    const operation = "copy the file";
    let body: ReadableStream<Uint8Array>;
    let target: string;
    try {
      this.#check(options.signal);
      this.#checkFileKey(src, operation);
      this.#checkFileKey(dst, operation);
      const source = await this.#resolve(src, operation);
      target = await this.#resolve(dst, operation);
      body = await this.#open(src, source, operation, { signal: options.signal });
    } catch (error) {
      throw this.#fail(error, src, operation, options.signal);
    }
    await this.#writeStream(dst, target, body, options, operation);
  }

  /**
   * Moves a file: one atomic `rename` (`overwrite: true`), or a hard link then
   * unlink of the source (`overwrite: false`, race-free). Destination parents
   * are created. Folders cannot be moved.
   *
   * @param src Source key.
   * @param dst Destination key.
   * @param options `overwrite`, `signal`.
   * @returns Resolves when moved.
   * @throws {NotFoundError} When the source does not exist.
   * @throws {AlreadyExistsError} When `overwrite` is false and the destination exists.
   * @throws {InvalidPathError} When the source or destination is a folder.
   * @throws {BackendUnavailableError} When the backend is closed.
   */
  async move(src: string, dst: string, options: BackendTransferOptions): Promise<void> {
    const operation = "move the file";
    const { signal } = options;
    let errorKey = src;
    try {
      this.#check(signal);
      this.#checkFileKey(src, operation);
      this.#checkFileKey(dst, operation);
      const source = await this.#resolve(src, operation);
      const target = await this.#resolve(dst, operation);
      this.#requireFile(await fs.stat(source), src, operation);
      errorKey = dst;
      await this.#precheck(target, dst, operation, { overwrite: options.overwrite });
      await this.#mkdirs(path.dirname(target), dst, operation);
      this.#check(signal);
      if (options.overwrite) {
        try {
          await fs.rename(source, target);
        } catch (error) {
          if (hasCode(error, "ENOENT")) errorKey = src;
          throw await this.#commitError(error, target, dst, operation);
        }
        return;
      }
      try {
        await localFs.link(source, target);
      } catch (error) {
        const exists = await fs.lstat(target).then(() => true, () => false);
        if (exists || !hasCode(error, ...NO_HARD_LINKS)) {
          if (hasCode(error, "ENOENT")) errorKey = src;
          throw await this.#commitError(error, target, dst, operation);
        }
        // No hard links: copy create-only, then remove the source.
        const body = await this.#open(src, source, operation, { signal });
        await this.#writeStream(dst, target, body, { overwrite: false, signal }, operation);
      }
      errorKey = src;
      try {
        await fs.unlink(source);
      } catch (error) {
        if (hasCode(error, "ENOENT")) return;
        await fs.unlink(target).catch(() => {});
        throw error;
      }
    } catch (error) {
      throw this.#fail(error, errorKey, operation, signal);
    }
  }

  /**
   * Converts a native path to a key: an absolute path inside the root becomes
   * the `/`-separated path relative to it; a relative path is taken as a key.
   *
   * @param nativePath An absolute file path, or a key.
   * @returns The backend key (`""` for the root itself).
   * @throws {InvalidPathError} When an absolute path is outside the root.
   */
  toKey(nativePath: string): string {
    if (typeof nativePath !== "string") {
      throw new InvalidPathError(`Cannot convert the path to a key because it is not a string`, {
        backend: BACKEND,
      });
    }
    if (!path.isAbsolute(nativePath)) {
      return path.sep === "\\" ? nativePath.replaceAll("\\", "/") : nativePath;
    }
    const absolute = path.resolve(nativePath);
    for (const root of [this.#root, this.#realRoot]) {
      if (root === undefined) continue;
      const relative = path.relative(root, absolute);
      if (relative === "") return "";
      if (
        relative !== ".." && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative)
      ) {
        return relative.split(path.sep).join("/");
      }
    }
    throw new InvalidPathError("Cannot convert the path to a key because it is outside the root", {
      path: nativePath,
      backend: BACKEND,
    });
  }

  /**
   * The local backend has no native client.
   *
   * @param type The class asked for.
   * @returns Never.
   * @throws {CapabilityNotSupportedError} Always.
   */
  unwrap<T>(type: abstract new (...args: never[]) => T): T {
    throw new CapabilityNotSupportedError(
      "unwrap",
      { backend: BACKEND },
      `Local backend has no native client of type "${type?.name}"`,
    );
  }

  /**
   * Closes the backend: open read streams error with `BackendUnavailableError`
   * and release their files; later calls fail with `BackendUnavailableError`.
   * Idempotent. Files on disk are kept.
   *
   * @returns Resolves when every open file is released.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#readers].map((closeReader) => closeReader()));
  }
}
