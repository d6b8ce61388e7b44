/**
 * The local disk backend (`type: "local"`), on `node:fs/promises` so that it
 * runs on Deno, Bun and Node. This file holds the class and its argument
 * checks; containment and path resolution live in `_paths.ts`, reads in
 * `_read.ts`, writes, moves and deletes in `_write.ts`, listings in
 * `_list.ts`, ETags in `_version.ts`.
 *
 * @module
 */

import * as fs from "node:fs/promises";
import { type BigIntStats, constants as fsConstants } from "node:fs";
import * as path from "node:path";
import { Buffer } from "node:buffer";
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
  BackendUnavailableError,
  CapabilityNotSupportedError,
  DirectoryNotEmptyError,
  InvalidPathError,
} from "../../errors.ts";
import { checkReadConditions } from "../../_conditions.ts";
import { httpAttributesOf } from "../../_validate.ts";
import { type LocalBackendOptions, parseLocalOptions } from "./_options.ts";
import { BACKEND, hasCode, mapFsError } from "./_errors.ts";
import { fsError, lstatOrNothing, resolve, type Resolved, Root, TEMP_PREFIX } from "./_paths.ts";
import { fileStream, openFile, requireFile } from "./_read.ts";
import {
  BodyFailure,
  type CommitOptions,
  type Entry,
  moveFile,
  precheck,
  removeContents,
  removeTree,
  writeFile,
} from "./_write.ts";
import { listFolder } from "./_list.ts";
import { fileInfo } from "./_version.ts";

/**
 * Everything but `metadata` and `http_attributes` (a plain file system has no
 * place for user metadata or stored HTTP headers) and `signed_url`.
 */
const CAPABILITIES = new Capabilities(ALL_CAPABILITIES).without(
  "metadata",
  "signed_url",
  "http_attributes",
);
/** The error for a key that uses a name reserved for temporary files. */
function reservedName(key: string, operation: string): InvalidPathError {
  return new InvalidPathError(
    `Cannot ${operation} because names starting with "${TEMP_PREFIX}" are reserved for temporary files`,
    { path: key, backend: BACKEND },
  );
}

/** Bytes in the longest native path (Linux `PATH_MAX`, counting the terminating NUL). */
const PATH_MAX = 4096;
/** Times a read resolves again when its file is swapped for a link between check and open. */
const OPEN_ATTEMPTS = 8;

/** An opened file and the version it holds. */
type Opened = NonNullable<Awaited<ReturnType<typeof openFile>>>;

/**
 * Stores files in a folder on the local disk, through `node:fs/promises`
 * (Deno 2, Bun 1, Node 24).
 *
 * - Keys map to paths below `root`; no key, `..` or symbolic link can reach
 *   outside it. Paths are walked one folder at a time from the root; a
 *   symbolic link inside the root is followed (by reading it, never by the
 *   kernel) only while it leads inside the root; otherwise the operation is
 *   refused with `PermissionDeniedError` and listings skip the link. On Linux
 *   every folder is held open while it is used (`/proc/self/fd`), so
 *   re-pointing a link or swapping a folder for a link during an operation
 *   cannot make it read, create, change or delete anything outside the root;
 *   where `/proc/self/fd` is missing (macOS, Windows) each folder is checked,
 *   then used by path, and such a swap between the check and the use can win.
 * - Writes stream into a temporary file `.~tmp\\<name>.<hex>` next to the target
 *   and then `rename` it into place (`overwrite: true`) or hard-`link` it
 *   (`overwrite: false`, race-free: of concurrent create-only writers exactly
 *   one wins). A failed or aborted write removes the temporary file and leaves
 *   the old content. Temporary files never appear in listings; their names
 *   hold a `\\`, which no key can, so every key is a user's to use (on
 *   Windows, where `\\` separates folders, names starting with `.~tmp.` are
 *   reserved).
 * - ETags are `"<inode>-<size>-<mtime ms>"`. A write gives its new version a
 *   modification time later than the version it replaces and than any
 *   version this process wrote at that path, so a path's ETag never
 *   comes back for a later version written through the library (on a file
 *   system that keeps milliseconds). `ifMatch` compares before and after
 *   streaming, then renames: check-then-rename, not atomic against a
 *   concurrent writer.
 * - Listings skip names no key can address (`\`, control characters,
 *   unpaired surrogates); recursive `deleteFolder` removes them with their
 *   folder.
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
  /** Every capability except `metadata`, `http_attributes` and `signed_url`. */
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

  /** The names of a key, checking that it is a clean relative key. */
  #names(key: string, operation: string): string[] {
    if (key === "") return [];
    const names = key.split("/");
    for (const segment of names) {
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
    // Folders are walked one at a time, so the OS would not stop a path longer
    // than Linux's PATH_MAX: refuse it, as for paths other programs cannot use.
    if (Buffer.byteLength(path.join(this.#root, key)) >= PATH_MAX) {
      throw fsError("ENAMETOOLONG", "The path is longer than the file system allows");
    }
    return names;
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
      throw reservedName(key, operation);
    }
  }

  /**
   * Runs `use` with the root held open, closing it afterwards.
   *
   * @param create Create the root folder when missing (writes).
   * @throws A native `ENOENT` when the root is missing and `create` is false.
   */
  async #withRoot<T>(create: boolean, use: (root: Root) => Promise<T>): Promise<T> {
    const root = await Root.open(this.#root, create);
    this.#realRoot ??= root.real;
    try {
      return await use(root);
    } finally {
      await root.close();
    }
  }

  /** The entry a resolved key leads to, a final link followed (inside the root). */
  async #followed(root: Root, at: Resolved, key: string, operation: string) {
    const stats = await lstatOrNothing(at.dir.at(at.name));
    if (!stats?.isSymbolicLink()) return stats;
    const target = await resolve(root, [...at.trail, at.name], { follow: true, key, operation });
    await root.release(target.dir);
    return target.stats;
  }

  /**
   * Resolves the entry a mutation acts on: the last name itself (a link is
   * not followed, but must lead inside the root). With `create`, missing
   * parents are created after `beforeCreate` accepted the missing entry.
   */
  async #entry(
    root: Root,
    key: string,
    operation: string,
    create?: (missing: undefined) => void,
  ): Promise<Entry & { at: Resolved }> {
    const names = this.#names(key, operation);
    let at: Resolved;
    try {
      at = await resolve(root, names, { follow: false, key, operation });
    } catch (error) {
      if (create === undefined || !hasCode(error, "ENOENT")) throw error;
      create(undefined);
      at = await resolve(root, names, { follow: false, create: true, key, operation });
    }
    const entry = {
      at,
      dir: at.dir,
      name: at.name,
      key,
      operation,
      where: path.join(this.#root, ...names),
      current: () => this.#followed(root, at, key, operation),
    };
    if (at.stats?.isSymbolicLink()) {
      try {
        await entry.current();
      } catch (error) {
        await root.release(at.dir);
        throw error;
      }
    }
    return entry;
  }

  /**
   * Opens the file a key leads to and checks the read conditions against the
   * version actually opened. The caller owns the handle.
   */
  async #openKey(
    root: Root,
    key: string,
    operation: string,
    options: BackendReadOptions,
  ): Promise<Opened> {
    const names = this.#names(key, operation);
    for (let attempt = 0; attempt < OPEN_ATTEMPTS; attempt++) {
      const at = await resolve(root, names, { follow: true, key, operation });
      let opened: Opened | undefined;
      try {
        if (at.stats === undefined) throw fsError("ENOENT", "No such file");
        // Checked first: opening a FIFO could block, opening a folder may succeed.
        requireFile(at.stats, key, operation);
        opened = await openFile(at.dir, at.name, key, operation);
      } finally {
        await root.release(at.dir);
      }
      if (opened === undefined) continue; // Became a link meanwhile: resolve again.
      try {
        checkReadConditions(fileInfo(key, opened.stats), options, key);
        this.#check(options.signal);
        return opened;
      } catch (error) {
        await opened.handle.close().catch(() => {});
        throw error;
      }
    }
    throw fsError("ELOOP", "The file kept changing into a symbolic link");
  }

  // ---- the Backend contract ---------------------------------------------------

  /**
   * Opens a file for reading. The file is opened before this resolves, so a
   * missing file, a folder or a failed condition rejects here, before any
   * byte. Conditions are checked against the version that was opened, so the
   * bytes are of the version they describe.
   *
   * @param key Backend key.
   * @param options `range` (bytes past the end are simply absent), `ifMatch`,
   *   `ifNoneMatch`, `ifModifiedSince`, `ifUnmodifiedSince`, `signal`.
   * @returns A pull-based stream of 64 KiB chunks; cancel it to release the file.
   * @throws {NotFoundError} When the file does not exist.
   * @throws {PreconditionFailedError} When a condition does not hold.
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
      const { handle } = await this.#withRoot(
        false,
        (root) => this.#openKey(root, key, operation, options),
      );
      return fileStream(handle, key, options, this.#readers);
    } catch (error) {
      throw this.#fail(error, key, operation, options.signal);
    }
  }

  /**
   * Writes a file by streaming into a temporary file and renaming (or, when
   * create-only, hard-linking) it into place. Parent folders are created.
   * Every write is atomic; `contentType` is not stored (it is guessed from the
   * extension when read back); user metadata and the HTTP attributes
   * (`cacheControl`, ...) cannot be stored and are refused with
   * `CapabilityNotSupportedError`, so `getFileInfo` reports none and
   * `serveFile` sends none.
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
    let started = false;
    try {
      this.#check(options.signal);
      if (options.metadata !== undefined) {
        // The Store checks capabilities first; this guards direct use.
        throw new CapabilityNotSupportedError("metadata", { path: key, backend: BACKEND });
      }
      if (Object.keys(httpAttributesOf(options)).length > 0) {
        throw new CapabilityNotSupportedError("http_attributes", { path: key, backend: BACKEND });
      }
      this.#checkFileKey(key, operation);
      return await this.#withRoot(
        true,
        (root) => this.#writeIn(root, key, body, options, operation, () => (started = true)),
      );
    } catch (error) {
      if (!started) await body.cancel(error).catch(() => {});
      throw this.#fail(error, key, operation, options.signal);
    }
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
      await this.#withRoot(false, async (root) => {
        const target = await this.#entry(root, key, operation);
        try {
          const stats = await target.current();
          if (target.at.stats === undefined) throw fsError("ENOENT", "No such file");
          if (stats?.isDirectory()) {
            throw new InvalidPathError(
              `Cannot ${operation} because the path is a folder, not a file`,
              { path: key, backend: BACKEND },
            );
          }
          this.#check(options.signal);
          await fs.unlink(target.dir.at(target.name));
        } finally {
          await root.release(target.dir);
        }
      });
    } catch (error) {
      throw this.#fail(error, key, operation, options.signal);
    }
  }

  /**
   * Deletes a folder. Non-recursive removes only an empty folder (entries no
   * key can address count as entries). Recursive removes everything below
   * it, also entries listings skip, walking through opened folders (links
   * are removed as links, never followed). For the root (`""`) the contents
   * are removed and the root folder itself is kept; a missing root is treated
   * as empty. A symbolic link to a folder is removed as a link (its target is
   * left alone).
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
    const alive = () => this.#check(signal);
    const notEmpty = (cause?: unknown) =>
      new DirectoryNotEmptyError(`Cannot ${operation} because it is not empty`, {
        path: key,
        backend: BACKEND,
        cause,
      });
    try {
      alive();
      const names = this.#names(key, operation);
      if (names.length === 0) {
        let root: Root;
        try {
          root = await Root.open(this.#root, false);
        } catch (error) {
          if (hasCode(error, "ENOENT")) return;
          throw error;
        }
        try {
          if (options.recursive) await removeContents(root.dir, root.anchored, alive);
          else if ((await fs.readdir(root.dir.path)).length > 0) throw notEmpty();
        } finally {
          await root.close();
        }
        return;
      }
      await this.#withRoot(false, async (root) => {
        const target = await this.#entry(root, key, operation);
        try {
          const stats = await target.current();
          if (target.at.stats === undefined) throw fsError("ENOENT", "No such folder");
          if (!stats?.isDirectory()) {
            throw new InvalidPathError(
              `Cannot ${operation} because the path is a file, not a folder`,
              { path: key, backend: BACKEND },
            );
          }
          alive();
          const at = target.dir.at(target.name);
          if (target.at.stats.isSymbolicLink()) await fs.unlink(at);
          else if (options.recursive) {
            await removeTree(target.dir, target.name, root.anchored, alive);
          } else {
            await fs.rmdir(at).catch((error) => {
              throw hasCode(error, "ENOTEMPTY", "EEXIST") ? notEmpty(error) : error;
            });
          }
        } finally {
          await root.release(target.dir);
        }
      });
    } catch (error) {
      throw this.#fail(error, key, operation, signal);
    }
  }

  /**
   * File metadata from `lstat` of the file a key leads to: size, modification
   * time, ETag (`"<inode>-<size>-<mtime ms>"`) and a content type guessed from
   * the extension.
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
      const names = this.#names(key, operation);
      const stats = await this.#withRoot(false, async (root) => {
        const at = await resolve(root, names, { follow: true, key, operation });
        await root.release(at.dir);
        return at.stats;
      });
      if (stats === undefined) throw fsError("ENOENT", "No such file");
      requireFile(stats, key, operation);
      return fileInfo(key, stats);
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
      const names = this.#names(key, operation);
      if (names.length === 0) return true;
      return await this.#withRoot(false, async (root) => {
        const at = await resolve(root, names, { follow: true, key, operation });
        await root.release(at.dir);
        return at.stats?.isDirectory() ?? false;
      });
    } catch (error) {
      if (hasCode(error, "ENOENT", "ENOTDIR")) return false;
      throw this.#fail(error, key, operation, options.signal);
    }
  }

  /**
   * Checks that the root folder exists, is a folder (a symbolic link to one
   * counts) and may be read and searched by this process. Write permission is
   * not checked: a read-only root is a valid store. A root that does not
   * exist yet is reported (`NotFoundError`) although the first write would
   * create it: `createFolder("")` creates it.
   *
   * @param options `signal`.
   * @returns Resolves when the root folder can be used.
   * @throws {NotFoundError} When the root folder does not exist.
   * @throws {InvalidPathError} When the root is a file, not a folder.
   * @throws {PermissionDeniedError} When the process may not read the root folder.
   * @throws {BackendUnavailableError} When the backend is closed.
   */
  async ping(options: SignalOptions): Promise<void> {
    const operation = `reach the root folder "${this.#root}"`;
    try {
      this.#check(options.signal);
      const stats = await fs.stat(this.#root);
      if (!stats.isDirectory()) {
        throw new InvalidPathError(`Cannot ${operation} because it is a file, not a folder`, {
          path: "",
          backend: BACKEND,
        });
      }
      await fs.access(this.#root, fsConstants.R_OK | fsConstants.X_OK);
      this.#check(options.signal);
    } catch (error) {
      throw this.#fail(error, "", operation, options.signal);
    }
  }

  /**
   * Creates a folder and its missing parents (`mkdir -p`, one folder at a
   * time from the root, so no link can lead it outside the root). An
   * existing folder, or a symbolic link to one inside the root, resolves;
   * `""` creates the root folder itself when it is missing.
   *
   * @param key Folder key (`""` for the root).
   * @param options `signal`.
   * @returns Resolves when the folder exists.
   * @throws {InvalidPathError} When a file is at the key or at one of its parents.
   * @throws {PermissionDeniedError} When a symbolic link leads outside the root, or
   *   the file system denies access.
   * @throws {BackendUnavailableError} When the backend is closed.
   */
  async createFolder(key: string, options: SignalOptions): Promise<void> {
    const operation = "create the folder";
    const { signal } = options;
    try {
      this.#check(signal);
      const names = this.#names(key, operation);
      if (names.some((name) => name.startsWith(TEMP_PREFIX))) throw reservedName(key, operation);
      await this.#withRoot(true, async (root) => {
        if (names.length === 0) return;
        // Another process may create something at the path between the check and
        // the mkdir: look again, a few times.
        for (let attempt = 1;; attempt++) {
          const at = await resolve(root, names, { follow: true, create: true, key, operation });
          try {
            if (at.stats?.isDirectory()) return;
            if (at.stats !== undefined) {
              throw new InvalidPathError(
                `Cannot ${operation} because the path is a file, not a folder`,
                { path: key, backend: BACKEND },
              );
            }
            this.#check(signal);
            try {
              await fs.mkdir(at.dir.at(at.name));
              return;
            } catch (error) {
              if (!hasCode(error, "EEXIST")) throw error;
              if (attempt >= OPEN_ATTEMPTS) {
                throw new BackendUnavailableError(
                  `Cannot ${operation} because the path kept changing while it was created`,
                  { path: key, backend: BACKEND, cause: error },
                );
              }
            }
          } finally {
            await root.release(at.dir);
          }
        }
      });
    } catch (error) {
      if (!signal?.aborted && hasCode(error, "EEXIST")) {
        // The root's own mkdir found a file there (the loop above retries its own).
        throw new InvalidPathError(
          `Cannot ${operation} because the root folder "${this.#root}" is a file, not a folder`,
          { path: key, backend: BACKEND, cause: error },
        );
      }
      throw this.#fail(error, key, operation, signal);
    }
  }

  /**
   * Lists a folder one directory at a time, entries sorted so that keys come
   * out in code point order; with `startAfter`, folders that hold nothing
   * after it are not opened. Non-recursive listings yield files and
   * folders; recursive ones yield files at every depth (depth-first).
   * Temporary files, special files, names no key can address (see the class)
   * and symbolic links leading outside the root are skipped; links to folders
   * are not followed into a cycle.
   *
   * @param key Folder key (`""` for the root); a missing folder or a file yields nothing.
   * @param options `recursive`, `startAfter`, `signal`.
   * @returns The entries.
   * @throws {PermissionDeniedError} When the folder itself leads outside the root,
   *   or the file system denies access.
   * @throws {BackendUnavailableError} When the backend is closed.
   */
  async *list(key: string, options: BackendListOptions): AsyncGenerator<BackendEntry> {
    const operation = "list the folder";
    const { signal } = options;
    let location: string[] | undefined;
    try {
      this.#check(signal);
      const names = this.#names(key, operation);
      location = await this.#withRoot(false, async (root) => {
        const at = await resolve(root, names, { follow: true, key, operation });
        await root.release(at.dir);
        if (!at.stats?.isDirectory()) return undefined;
        return at.name === "" ? [] : [...at.trail, at.name];
      });
    } catch (error) {
      if (hasCode(error, "ENOENT", "ENOTDIR")) return;
      throw this.#fail(error, key, operation, signal);
    }
    if (location === undefined) return;
    const context = {
      openRoot: () =>
        Root.open(this.#root, false).catch((error) => {
          if (hasCode(error, "ENOENT")) return undefined;
          throw error;
        }),
      alive: () => this.#check(signal),
    };
    try {
      yield* listFolder(context, location, key, options.recursive, options.startAfter);
    } catch (error) {
      throw this.#fail(error, key, operation, signal);
    }
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
    let errorKey = src;
    try {
      this.#check(options.signal);
      this.#checkFileKey(src, operation);
      this.#checkFileKey(dst, operation);
      this.#names(dst, operation);
      await this.#withRoot(false, (root) =>
        this.#copyIn(root, src, dst, options, (key) => {
          errorKey = key;
        }));
    } catch (error) {
      throw this.#fail(error, errorKey, operation, options.signal);
    }
  }

  /**
   * Streams `body` into the file at `key` inside an open root, after checking
   * the target; `handOver` runs once the body belongs to the write (which then
   * cancels it on failure).
   */
  async #writeIn(
    root: Root,
    key: string,
    body: ReadableStream<Uint8Array>,
    options: CommitOptions,
    operation: string,
    handOver: () => void,
  ): Promise<BackendWriteResult> {
    const target = await this.#entry(
      root,
      key,
      operation,
      (missing) => precheck(missing, key, operation, options),
    );
    try {
      handOver();
      return await writeFile(target, body, options, (signal) => this.#check(signal));
    } finally {
      await root.release(target.dir);
    }
  }

  /** Copies `src` to `dst` inside an open root; `blame` names the key errors are about. */
  async #copyIn(
    root: Root,
    src: string,
    dst: string,
    options: CommitOptions,
    blame: (key: string) => void,
  ): Promise<void> {
    const operation = "copy the file";
    const { handle } = await this.#openKey(root, src, operation, { signal: options.signal });
    const body = fileStream(handle, src, { signal: options.signal }, this.#readers);
    let started = false;
    try {
      blame(dst);
      await this.#writeIn(root, dst, body, options, operation, () => (started = true));
    } finally {
      if (!started) await body.cancel().catch(() => {});
    }
  }

  /**
   * Moves a file: one atomic `rename` (`overwrite: true`), or a hard link then
   * removal of the source (`overwrite: false`). Of concurrent create-only
   * moves onto one destination exactly one succeeds and the others keep
   * their source (`AlreadyExistsError`); of concurrent create-only moves of
   * one source exactly one succeeds and the others reject with
   * `NotFoundError`, leaving no file behind. Destination parents are
   * created. Folders cannot be moved.
   *
   * @param src Source key.
   * @param dst Destination key.
   * @param options `overwrite`, `signal`.
   * @returns Resolves when moved.
   * @throws {NotFoundError} When the source does not exist (or another move took it).
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
      this.#names(dst, operation);
      await this.#withRoot(false, async (root) => {
        const source = await this.#entry(root, src, operation);
        try {
          const stats = await source.current();
          if (source.at.stats === undefined || stats === undefined) {
            throw fsError("ENOENT", "No such file");
          }
          requireFile(stats, src, operation);
          errorKey = dst;
          const check = (found: BigIntStats | undefined) =>
            precheck(found, dst, operation, { overwrite: options.overwrite });
          const target = await this.#entry(root, dst, operation, check);
          try {
            check(await target.current());
            this.#check(signal);
            errorKey = src;
            await moveFile(
              source,
              target,
              options,
              () =>
                this.#copyIn(root, src, dst, { overwrite: false, signal }, (key) => {
                  errorKey = key;
                }),
            );
          } finally {
            await root.release(target.dir);
          }
        } finally {
          await root.release(source.dir);
        }
      });
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
