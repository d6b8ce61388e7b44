/**
 * The user-facing {@link Store}: immutable, scoped to a root path, the same
 * methods on every backend.
 *
 * @module
 */

import type {
  Backend,
  BackendFileInfo,
  BackendListOptions,
  BackendReadOptions,
  BackendWriteResult,
  ReadConditions,
  SignalOptions,
  SignedUpload,
  SignedUrlPermission,
} from "./backend.ts";
import type { Capability } from "./capabilities.ts";
import {
  BackendUnavailableError,
  CapabilityNotSupportedError,
  InvalidPathError,
  NotFoundError,
  RemoteStoreError,
} from "./errors.ts";
import { checkGlob, compileGlob, compileSegment, hasWildcard } from "./_glob.ts";
import { fileNeeded, folderPassed } from "./_order.ts";
import { baseName, joinPath, normalizePath } from "./paths.ts";
import { collectBytes, mapErrors, mapStream, toContentStream } from "./_streams.ts";
import { checkSignedUrlValues, checkWriteValues, httpAttributesOf } from "./_validate.ts";
import {
  checkAlgorithm,
  type ChecksumAlgorithm,
  checksumOf,
  createHasher,
  digestBytes,
} from "./_checksum.ts";
import {
  checkConcurrency,
  type CopyManyOptions,
  type CopyManyResult,
  type CopyPair,
  DEFAULT_COPY_CONCURRENCY,
  DEFAULT_DELETE_CONCURRENCY,
  type DeleteManyOptions,
  type DeleteManyResult,
  mapPool,
} from "./batch.ts";
import type {
  ByteRange,
  ChildEntry,
  FileInfo,
  FolderEntry,
  FolderInfo,
  HttpAttributes,
  ProgressCallback,
  WriteContent,
  WriteResult,
} from "./types.ts";

/** Options for {@link Store} construction. */
export interface StoreOptions {
  /** Folder inside the backend that this store is scoped to (default: the backend root). */
  rootPath?: string;
  /** Name used in error messages (default: the backend's type name). */
  backendName?: string;
}

/**
 * Options for {@link Store.read}, {@link Store.readBytes} and {@link Store.readText}.
 * The conditions (`ifMatch`, `ifNoneMatch`, `ifModifiedSince`,
 * `ifUnmodifiedSince`) pin the read to one version: when one fails the read
 * rejects with `PreconditionFailedError` before any byte. A backend without
 * ETags (none of the built-in ones) fails every `ifMatch` but `"*"`.
 */
export interface ReadOptions extends SignalOptions, ReadConditions {
  /** Read only these bytes. */
  range?: ByteRange;
  /** Called as the returned stream delivers bytes (costs one metadata request for the total). */
  onProgress?: ProgressCallback;
}

/**
 * Options for {@link Store.write} and {@link Store.writeAtomic}. The
 * {@link HttpAttributes} (`cacheControl`, `contentEncoding`,
 * `contentDisposition`, `contentLanguage`) need the `http_attributes`
 * capability; they are stored as given and never change the bytes.
 */
export interface WriteOptions extends SignalOptions, HttpAttributes {
  /** Replace an existing file (default `false`: create-only, race-free). */
  overwrite?: boolean;
  /** MIME type to store (default: guessed by the backend from the extension). */
  contentType?: string;
  /** User metadata to store with the file. */
  metadata?: Record<string, string>;
  /** Write only if the file's current ETag equals this (optimistic concurrency). */
  ifMatch?: string;
  /** Called as the backend consumes the content. */
  onProgress?: ProgressCallback;
  /**
   * Compute this digest of the content while it streams and return it in
   * the result (`checksum`). Where the service can check what it receives
   * (Azure), the upload also carries MD5 digests so that a corrupted upload
   * is refused.
   */
  checksum?: ChecksumAlgorithm;
}

/** Options for {@link Store.copy} and {@link Store.move}. */
export interface TransferOptions extends SignalOptions {
  /** Replace an existing destination (default `false`). */
  overwrite?: boolean;
  /** Called with `(0, size)` before and `(size, size)` after; backends may report in between. */
  onProgress?: ProgressCallback;
}

/** Options for {@link Store.signedUrl}. */
export interface SignedUrlOptions extends SignalOptions {
  /** Lifetime in seconds (default 3600; at most 7 days). */
  expiresIn?: number;
  /** What the URL allows (default `["read"]`). */
  permissions?: readonly SignedUrlPermission[];
  /** Content-Type the service sends when the URL is read. */
  contentType?: string;
  /** Content-Disposition the service sends when the URL is read (for example `attachment`). */
  contentDisposition?: string;
}

/** Options for {@link Store.signedUpload}. */
export interface SignedUploadOptions extends SignalOptions {
  /** Lifetime in seconds (default 3600; at most 7 days). */
  expiresIn?: number;
  /**
   * Let the upload replace an existing file (default `false`: create-only,
   * refused by the service when the file exists; one request only, no blocks).
   */
  overwrite?: boolean;
  /** Content-Type to store; becomes a required header (not enforced by Azure). */
  contentType?: string;
}

/** Options for {@link Store.delete}. */
export interface DeleteOptions extends SignalOptions {
  /** Succeed quietly when the file does not exist. */
  missingOk?: boolean;
}

/** Options for {@link Store.deleteFolder}. */
export interface DeleteFolderOptions extends DeleteOptions {
  /** Delete everything below the folder (default `false`: only an empty folder). */
  recursive?: boolean;
}

/**
 * Paging of a listing ({@link Store.listFiles}, {@link Store.glob}). A paged
 * listing yields files in ascending order of their path, compared by Unicode
 * code point (the order of the paths' UTF-8 bytes); the next page starts
 * after the last path of the previous one. Files written or deleted between
 * two pages show up or not according to where their path sorts, never twice.
 */
export interface PageOptions {
  /**
   * Yield only files whose path sorts after this store-relative path (it
   * need not exist; it is compared as given, not normalised).
   */
  startAfter?: string;
  /** Stop after this many files (a positive integer). */
  limit?: number;
}

/** Options for {@link Store.listFiles}. */
export interface ListFilesOptions extends SignalOptions, PageOptions {
  /** Include files in subfolders at any depth (default `false`). */
  recursive?: boolean;
  /** Keep only files whose name matches this glob (`*`, `?`, `[...]`). */
  pattern?: string;
  /**
   * Include files at most this many folder levels down: 0 = only the
   * folder's own files, 1 adds those of its subfolders, and so on (as the
   * Python library's `max_depth`). When set, `recursive` is ignored.
   */
  maxDepth?: number;
}

/** Options for {@link Store.listFolders}. */
export interface ListFoldersOptions extends SignalOptions {
  /** Yield only folders whose name matches this glob (`*`, `?`, `[...]`); all are descended into. */
  pattern?: string;
  /** Also list subfolders this many levels further down (default 0: the immediate subfolders). */
  maxDepth?: number;
}

/** Options for {@link Store.getFolderInfo}. */
export interface FolderInfoOptions extends SignalOptions {
  /** Count only files at most this many folder levels down (0 = the folder's own files). */
  maxDepth?: number;
}

/** Options for {@link Store.glob}. */
export interface GlobOptions extends SignalOptions, PageOptions {}

/** Carries an error raised by the caller's own content stream past the Store's error mapping. */
class ContentFailure {
  readonly error: unknown;
  constructor(error: unknown) {
    this.error = error;
  }
}

const encoder = new TextEncoder();

/** Content that is already whole in memory, as bytes (without copying); otherwise `undefined`. */
function wholeBytes(content: WriteContent): Uint8Array | undefined {
  if (typeof content === "string") return encoder.encode(content);
  if (content instanceof Uint8Array) return content;
  if (content instanceof ArrayBuffer) return new Uint8Array(content);
  return undefined;
}

/** The backend's own read options: a fresh object with only the fields it takes. */
function backendReadOptions(options: ReadOptions): BackendReadOptions {
  const { range, signal, ifMatch, ifNoneMatch, ifModifiedSince, ifUnmodifiedSince } = options;
  checkRange(range);
  for (const [name, value] of [["ifMatch", ifMatch], ["ifNoneMatch", ifNoneMatch]] as const) {
    if (value !== undefined && typeof value !== "string") {
      throw new TypeError(`${name} must be a string, got ${typeof value}`);
    }
  }
  for (
    const [name, value] of [
      ["ifModifiedSince", ifModifiedSince],
      ["ifUnmodifiedSince", ifUnmodifiedSince],
    ] as const
  ) {
    if (value !== undefined && !(value instanceof Date && !Number.isNaN(value.getTime()))) {
      throw new TypeError(`${name} must be a valid Date`);
    }
  }
  const out: BackendReadOptions = { signal };
  if (range !== undefined) out.range = { offset: range.offset, length: range.length };
  if (ifMatch !== undefined) out.ifMatch = ifMatch;
  if (ifNoneMatch !== undefined) out.ifNoneMatch = ifNoneMatch;
  if (ifModifiedSince !== undefined) out.ifModifiedSince = new Date(ifModifiedSince);
  if (ifUnmodifiedSince !== undefined) out.ifUnmodifiedSince = new Date(ifUnmodifiedSince);
  return out;
}

/** The first line of an unexpected error, so that a wrapping error says what went wrong. */
function describeCause(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const line = text.split("\n", 1)[0]!;
  return line.length > 200 ? `${line.slice(0, 200)}...` : line;
}

function checkRange(range: ByteRange | undefined): void {
  if (range === undefined) return;
  const { offset, length } = range;
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new RangeError(`Range offset must be a non-negative integer, got ${offset}`);
  }
  if (length !== undefined && (!Number.isSafeInteger(length) || length < 0)) {
    throw new RangeError(`Range length must be a non-negative integer, got ${length}`);
  }
}

/** The lifetime of a signed URL in whole seconds (default one hour, at most seven days). */
function checkExpiresIn(value: number | undefined): number {
  const expiresIn = value ?? 3600;
  if (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > 7 * 24 * 3600) {
    throw new RangeError(`expiresIn must be whole seconds from 1 to 604800, got ${expiresIn}`);
  }
  return expiresIn;
}

/** `maxDepth` checked: `undefined` or a non-negative integer. */
function checkDepth(maxDepth: number | undefined): number | undefined {
  if (maxDepth !== undefined && (!Number.isSafeInteger(maxDepth) || maxDepth < 0)) {
    throw new RangeError(`maxDepth must be a non-negative integer, got ${maxDepth}`);
  }
  return maxDepth;
}

/** Whether paging options ask for a page. */
function checkPage(options: PageOptions): boolean {
  const { startAfter, limit } = options;
  if (startAfter !== undefined && typeof startAfter !== "string") {
    throw new TypeError(`startAfter must be a string, got ${typeof startAfter}`);
  }
  if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1)) {
    throw new RangeError(`limit must be a positive integer, got ${limit}`);
  }
  return startAfter !== undefined || limit !== undefined;
}

/** Folder levels between a listed folder and a file: `key` minus the folder's `prefixLength`. */
function depthBelow(key: string, prefixLength: number): number {
  let depth = 0;
  for (let i = key.indexOf("/", prefixLength); i >= 0; i = key.indexOf("/", i + 1)) depth++;
  return depth;
}

/**
 * A store: file operations scoped to a folder of one backend.
 *
 * Paths are relative to the store's root. They are normalised (`\` to `/`,
 * repeated and edge `/` removed, `.` dropped); `..`, NUL and empty file paths
 * are rejected with `InvalidPathError`. Every error carries the path and the
 * backend name. Stores are immutable; {@link Store.child} makes a narrower one.
 *
 * @example Write and read back
 * ```ts
 * import { MemoryBackend, Store } from "@remote-store/remote-store";
 * const store = new Store(new MemoryBackend(), { rootPath: "data" });
 * await store.write("hello.txt", "Hello!");
 * console.log(await store.readText("hello.txt"));
 * ```
 */
export class Store {
  readonly #backend: Backend;
  readonly #root: string;
  /** `#root` with a trailing `/` (`""` at the backend root). */
  readonly #rootPrefix: string;
  readonly #backendName: string | undefined;

  /**
   * Creates a store over a backend.
   *
   * @param backend The backend that holds the files.
   * @param options `rootPath` to scope the store, `backendName` for error messages.
   * @throws {InvalidPathError} When `rootPath` is invalid.
   */
  constructor(backend: Backend, options: StoreOptions = {}) {
    this.#backend = backend;
    this.#root = normalizePath(options.rootPath ?? "", { allowEmpty: true });
    this.#rootPrefix = this.#root === "" ? "" : `${this.#root}/`;
    this.#backendName = options.backendName;
    Object.freeze(this);
  }

  /** The folder in the backend this store is scoped to (`""` for the backend root). */
  get rootPath(): string {
    return this.#root;
  }

  /** The backend name used in errors. */
  get backendName(): string {
    return this.#backendName ?? this.#backend.name;
  }

  // ---- path and error plumbing -------------------------------------------

  #key(path: string, allowEmpty = false): string {
    try {
      return joinPath(this.#root, normalizePath(path, { allowEmpty }));
    } catch (error) {
      throw this.#withContext(error, typeof path === "string" ? path : String(path));
    }
  }

  #relative(key: string): string {
    const prefix = this.#rootPrefix;
    if (prefix === "") return key;
    if (key.startsWith(prefix)) return key.slice(prefix.length);
    return key === this.#root ? "" : key;
  }

  #withContext(error: unknown, path: string, signal?: AbortSignal): unknown {
    // The one abort rule: once aborted, reject with the signal's reason, whatever failed.
    if (signal?.aborted) return signal.reason;
    if (error instanceof ContentFailure) return error.error;
    if (error instanceof RemoteStoreError) {
      const errorPath = error.path === undefined ? path : this.#relative(error.path);
      return error.withContext({ path: errorPath, backend: this.backendName }, true);
    }
    if (error instanceof TypeError || error instanceof RangeError) return error;
    return new BackendUnavailableError(`Unexpected backend failure (${describeCause(error)})`, {
      path,
      backend: this.backendName,
      cause: error,
    });
  }

  async #run<T>(
    path: string,
    signal: AbortSignal | undefined,
    capabilities: Capability[],
    body: (backend: Backend) => Promise<T>,
  ): Promise<T> {
    try {
      for (const capability of capabilities) this.#require(capability, path);
      signal?.throwIfAborted();
      return await body(this.#backend);
    } catch (error) {
      throw this.#withContext(error, path, signal);
    }
  }

  #require(capability: Capability, path: string): void {
    this.#backend.capabilities.require(capability, { backend: this.backendName, path });
  }

  #fileInfo(info: BackendFileInfo): FileInfo {
    const path = this.#relative(info.key);
    const out: FileInfo = {
      path,
      name: baseName(path),
      size: info.size,
      modifiedAt: info.modifiedAt,
    };
    if (info.etag !== undefined) out.etag = info.etag;
    if (info.contentType !== undefined) out.contentType = info.contentType;
    if (info.metadata !== undefined) out.metadata = info.metadata;
    Object.assign(out, httpAttributesOf(info));
    if (info.versionId !== undefined) out.versionId = info.versionId;
    if (info.digest !== undefined) out.digest = info.digest;
    return out;
  }

  // ---- sync helpers --------------------------------------------------------

  /**
   * Whether the backend has a capability.
   *
   * @param capability The capability to check.
   * @returns `true` when supported.
   *
   * @example Branch on atomic move
   * ```ts
   * import { MemoryBackend, Store } from "@remote-store/remote-store";
   * const store = new Store(new MemoryBackend());
   * console.log(store.supports("atomic_move"));
   * ```
   */
  supports(capability: Capability): boolean {
    return this.#backend.capabilities.supports(capability);
  }

  /**
   * A store scoped to a subfolder of this one.
   *
   * @param subpath Folder relative to this store.
   * @returns A new store; this one is unchanged.
   * @throws {InvalidPathError} When `subpath` is invalid or empty.
   *
   * @example Scope to a subfolder
   * ```ts
   * import { MemoryBackend, Store } from "@remote-store/remote-store";
   * const store = new Store(new MemoryBackend());
   * const reports = store.child("reports/2024");
   * await reports.write("q1.csv", "a,b\n");
   * console.log(await store.exists("reports/2024/q1.csv")); // true
   * ```
   */
  child(subpath: string): Store {
    const key = this.#key(subpath);
    return new Store(this.#backend, { rootPath: key, backendName: this.#backendName });
  }

  /**
   * Converts a backend-native path (an absolute local path, `container/key`,
   * or a backend key) to a path relative to this store.
   *
   * @param nativePath The native path.
   * @returns The store-relative path.
   * @throws {InvalidPathError} When the path is outside this store's root.
   *
   * @example Native path to store path
   * ```ts
   * import { MemoryBackend, Store } from "@remote-store/remote-store";
   * const store = new Store(new MemoryBackend(), { rootPath: "data" });
   * console.log(store.toKey("data/a/b.txt")); // "a/b.txt"
   * ```
   */
  toKey(nativePath: string): string {
    try {
      const key = normalizePath(this.#backend.toKey(nativePath), { allowEmpty: true });
      if (this.#root !== "" && key !== this.#root && !key.startsWith(`${this.#root}/`)) {
        throw new InvalidPathError("Path is outside the store root", { path: nativePath });
      }
      return this.#relative(key);
    } catch (error) {
      throw this.#withContext(error, nativePath);
    }
  }

  /**
   * Returns the backend's native client of the given type (escape hatch).
   *
   * @param type The class of the client wanted.
   * @returns The native client.
   * @throws {CapabilityNotSupportedError} When the backend has no such client.
   *
   * @example Get the backend itself
   * ```ts
   * import { MemoryBackend, Store } from "@remote-store/remote-store";
   * const store = new Store(new MemoryBackend());
   * const backend = store.unwrap(MemoryBackend);
   * ```
   */
  unwrap<T>(type: abstract new (...args: never[]) => T): T {
    if (this.#backend instanceof type) return this.#backend as T;
    try {
      return this.#backend.unwrap(type);
    } catch (error) {
      throw this.#withContext(error, "");
    }
  }

  /**
   * Whether a path of this store and a path of another store address the same
   * file: the same backend object and the same key, however the paths and the
   * stores' roots are spelled. Copying or moving a file onto itself is a no-op,
   * so callers that copy and then delete (a move across stores) check this first.
   *
   * @param path File path in this store.
   * @param other The other store (may be this one).
   * @param otherPath File path in the other store.
   * @returns `true` when both reach one file of one backend.
   * @throws {InvalidPathError} When either path is invalid.
   *
   * @example Two stores over one backend
   * ```ts
   * import { MemoryBackend, Store } from "@remote-store/remote-store";
   * const backend = new MemoryBackend();
   * const data = new Store(backend, { rootPath: "data" });
   * const all = new Store(backend);
   * console.log(data.sameFile("a.txt", all, "data/./a.txt")); // true
   * ```
   */
  sameFile(path: string, other: Store, otherPath: string): boolean {
    const key = this.#key(path);
    const otherKey = other.#key(otherPath);
    return this.#backend === other.#backend && key === otherKey;
  }

  // ---- health and folders -------------------------------------------------

  /**
   * Checks that the store's backend can be used: one cheap request where
   * there is a service (Azure: one List Blobs of at most one blob; local:
   * the root folder exists and may be read; memory: open). It checks the
   * backend's container or root folder, not this store's `rootPath`, which
   * may be an empty folder. Failures are the usual typed errors, so a health
   * check can tell them apart.
   *
   * @param options `signal`.
   * @returns Resolves when the backend is reachable and its container (or root folder) exists.
   * @throws {NotFoundError} When the container (local: the root folder) does not exist.
   * @throws {PermissionDeniedError} When the credentials are refused (Azure: a SAS needs
   *   the list permission).
   * @throws {BackendUnavailableError} When the service cannot be reached (after the
   *   backend's retries), or the backend is closed.
   *
   * @example Health check
   * ```ts
   * import { BackendUnavailableError, MemoryBackend, Store } from "@remote-store/remote-store";
   * const backend = new MemoryBackend();
   * const store = new Store(backend);
   * await store.ping(); // resolves
   * await backend.close();
   * await store.ping().catch((e) => console.log(e instanceof BackendUnavailableError)); // true
   * ```
   */
  ping(options: SignalOptions = {}): Promise<void> {
    const { signal } = options;
    return this.#run("", signal, [], async (backend) => {
      if (backend.ping) return await backend.ping({ signal });
      // A backend without its own check: the first entry of a root listing.
      for await (const _ of backend.list("", { recursive: false, signal })) break;
    });
  }

  /**
   * Creates an empty folder, and its missing parents, where folders exist on
   * their own (capability `directories`: local disk, ADLS Gen2). Idempotent,
   * like `mkdir -p`: an existing folder, or `""` (the store root), resolves.
   * Where folders are virtual (memory, flat Azure Blob) a folder exists only
   * while files are below it, so this rejects `CapabilityNotSupportedError`
   * before any I/O (Azure with `hns: "auto"` first probes the account, once).
   *
   * @param path Folder path (`""` for the store root).
   * @param options `signal`.
   * @returns Resolves when the folder exists.
   * @throws {CapabilityNotSupportedError} When folders are not real on this backend.
   * @throws {InvalidPathError} When the path is invalid, or a file is at the path or at one
   *   of its parents.
   *
   * @example Create an empty folder
   * ```ts
   * import { LocalBackend } from "@remote-store/remote-store/local";
   * import { Store } from "@remote-store/remote-store";
   * const store = new Store(new LocalBackend({ root: await Deno.makeTempDir() }));
   * await store.createFolder("inbox/2024");
   * console.log(await store.isFolder("inbox/2024")); // true
   * ```
   */
  createFolder(path: string, options: SignalOptions = {}): Promise<void> {
    const { signal } = options;
    return this.#run(path, signal, [], async (backend) => {
      const key = this.#key(path, true);
      if (!backend.createFolder) {
        const context = { path, backend: this.backendName };
        throw backend.capabilities.supports("directories")
          ? new CapabilityNotSupportedError("directories", context)
          : new CapabilityNotSupportedError(
            "directories",
            context,
            'Cannot create an empty folder because folders on this backend exist only while files are below them (no capability "directories")',
          );
      }
      await backend.createFolder(key, { signal });
    });
  }

  // ---- reading ------------------------------------------------------------

  /**
   * Opens a file as a byte stream, pulled from the backend on demand.
   *
   * @param path File path.
   * @param options `range` to read part of the file; the conditions `ifMatch`,
   *   `ifNoneMatch`, `ifModifiedSince`, `ifUnmodifiedSince`; `signal` to abort.
   * @returns A stream of the file's bytes; pass it to `new Response(stream)` to serve it.
   * @throws {NotFoundError} Before any byte, when the file does not exist.
   * @throws {InvalidPathError} When the path is invalid or is a folder.
   * @throws {PreconditionFailedError} Before any byte, when a condition fails.
   * @throws {RangeError} When `range` is malformed.
   *
   * @example Stream a file into a Response
   * ```ts
   * import { MemoryBackend, Store } from "@remote-store/remote-store";
   * const store = new Store(new MemoryBackend());
   * await store.write("a.txt", "hello");
   * const response = new Response(await store.read("a.txt"));
   * console.log(await response.text());
   * ```
   */
  read(path: string, options: ReadOptions = {}): Promise<ReadableStream<Uint8Array>> {
    const caps: Capability[] = options.range ? ["read", "range_read"] : ["read"];
    return this.#run(path, options.signal, caps, async () => {
      const readOptions = backendReadOptions(options);
      const key = this.#key(path);
      const { onProgress } = options;
      const { range, signal } = readOptions;
      let total: number | undefined;
      if (onProgress) {
        const { size } = await this.#backend.getFileInfo(key, { signal });
        const start = Math.min(range?.offset ?? 0, size);
        total = Math.min(size - start, range?.length ?? Infinity);
      }
      const stream = await this.#backend.read(key, readOptions);
      let loaded = 0;
      onProgress?.(0, total);
      return mapErrors(
        stream,
        (error) => this.#withContext(error, path, options.signal),
        onProgress && ((chunk) => onProgress(loaded += chunk.byteLength, total)),
      );
    });
  }

  /**
   * Reads a whole file (or a range) into memory.
   *
   * @param path File path.
   * @param options `range`, the read conditions (as for {@link Store.read}) and `signal`.
   * @returns The bytes.
   * @throws {NotFoundError} When the file does not exist.
   * @throws {InvalidPathError} When the path is invalid or is a folder.
   * @throws {PreconditionFailedError} When a condition fails.
   *
   * @example Read bytes
   * ```ts
   * import { MemoryBackend, Store } from "@remote-store/remote-store";
   * const store = new Store(new MemoryBackend());
   * await store.write("a.bin", new Uint8Array([1, 2, 3]));
   * console.log(await store.readBytes("a.bin", { range: { offset: 1 } })); // Uint8Array [2, 3]
   * ```
   */
  readBytes(path: string, options: ReadOptions = {}): Promise<Uint8Array> {
    if (options.onProgress) {
      return this.read(path, options).then((stream) => collectBytes(stream, options.signal));
    }
    const { range, signal } = options;
    const caps: Capability[] = range ? ["read", "range_read"] : ["read"];
    return this.#run(path, signal, caps, async (backend) => {
      const readOptions = backendReadOptions(options);
      const key = this.#key(path);
      if (backend.readBytes) return await backend.readBytes(key, readOptions);
      // Errors raised while collecting are mapped by #run, like those of the first request.
      return await collectBytes(await backend.read(key, readOptions), signal);
    });
  }

  /**
   * Reads a whole file as UTF-8 text.
   *
   * @param path File path.
   * @param options `range` and `signal`.
   * @returns The decoded text (invalid sequences become U+FFFD).
   * @throws {NotFoundError} When the file does not exist.
   * @throws {InvalidPathError} When the path is invalid or is a folder.
   *
   * @example Read text
   * ```ts
   * import { MemoryBackend, Store } from "@remote-store/remote-store";
   * const store = new Store(new MemoryBackend());
   * await store.write("a.txt", "héllo");
   * console.log(await store.readText("a.txt"));
   * ```
   */
  async readText(path: string, options: ReadOptions = {}): Promise<string> {
    return new TextDecoder().decode(await this.readBytes(path, options));
  }

  // ---- writing ------------------------------------------------------------

  /**
   * Writes a file. Create-only unless `overwrite: true`; with `overwrite: false`
   * concurrent writers race safely (exactly one wins). A failed or aborted
   * write leaves the previous content, or nothing.
   *
   * @param path File path.
   * @param content A string (UTF-8), bytes, Blob, ReadableStream or (async) iterable of bytes.
   * @param options `overwrite`, `contentType`, `metadata`, `ifMatch`, `signal`;
   *   the HTTP attributes `cacheControl`, `contentEncoding`, `contentDisposition`,
   *   `contentLanguage` (capability `http_attributes`; stored as given, the bytes
   *   are never encoded: a `contentEncoding: "gzip"` file must hold gzip bytes).
   * @returns The path, size and new ETag; `modifiedAt`, `versionId` and `digest`
   *   where the backend reports them with the write (memory: `modifiedAt`; Azure:
   *   `modifiedAt`, `digest` when the service returned a `Content-MD5`, and
   *   `versionId` when blob versioning is on).
   * @throws {AlreadyExistsError} When the file exists and `overwrite` is false.
   * @throws {PreconditionFailedError} When `ifMatch` does not match.
   * @throws {CapabilityNotSupportedError} When `metadata` or an HTTP attribute is
   *   given and the backend does not store it.
   * @throws {TypeError} When `content` is of an unsupported type, `contentType`
   *   is not a MIME type, an HTTP attribute is not a header value, or a metadata
   *   name or value is invalid (names are ASCII C# identifiers, unique ignoring
   *   case; values visible ASCII).
   * @throws {RangeError} When metadata names and values exceed 8 KiB in all.
   *
   * @example Write a stream
   * ```ts
   * import { MemoryBackend, Store } from "@remote-store/remote-store";
   * const store = new Store(new MemoryBackend());
   * const body = new Blob(["a,b\n", "1,2\n"]).stream();
   * const result = await store.write("data.csv", body, { contentType: "text/csv" });
   * console.log(result.size); // 8
   * ```
   */
  write(path: string, content: WriteContent, options: WriteOptions = {}): Promise<WriteResult> {
    return this.#write(path, content, options, false);
  }

  /**
   * Writes a file so that readers see the old content or the new content,
   * never a partial file (temp file plus rename where the backend needs it).
   *
   * @param path File path.
   * @param content Same as {@link Store.write}.
   * @param options Same as {@link Store.write}.
   * @returns The path, size and new ETag.
   * @throws {CapabilityNotSupportedError} When the backend cannot write atomically.
   * @throws {AlreadyExistsError} When the file exists and `overwrite` is false.
   *
   * @example Replace a config file atomically
   * ```ts
   * import { MemoryBackend, Store } from "@remote-store/remote-store";
   * const store = new Store(new MemoryBackend());
   * await store.writeAtomic("config.json", '{"v":1}', { overwrite: true });
   * ```
   */
  writeAtomic(
    path: string,
    content: WriteContent,
    options: WriteOptions = {},
  ): Promise<WriteResult> {
    return this.#write(path, content, options, true);
  }

  #write(
    path: string,
    content: WriteContent,
    options: WriteOptions,
    atomic: boolean,
  ): Promise<WriteResult> {
    const caps: Capability[] = atomic ? ["write", "atomic_write"] : ["write"];
    if (options.metadata !== undefined) caps.push("metadata");
    const attributes = httpAttributesOf(options);
    if (Object.keys(attributes).length > 0) caps.push("http_attributes");
    return this.#run(path, options.signal, caps, async (backend) => {
      const key = this.#key(path);
      const { onProgress, contentType, metadata } = options;
      checkWriteValues(options);
      const algorithm = options.checksum === undefined
        ? undefined
        : checkAlgorithm(options.checksum);
      const writeOptions = (size: number | undefined) => ({
        overwrite: options.overwrite ?? false,
        atomic,
        size,
        contentType,
        ...attributes,
        metadata: metadata === undefined ? undefined : { ...metadata },
        ifMatch: options.ifMatch,
        signal: options.signal,
        ...(algorithm === undefined ? {} : { checksum: algorithm }),
      });
      const bytes = backend.writeBytes ? wholeBytes(content) : undefined;
      if (bytes !== undefined) {
        // Known-size content goes to the backend in one piece, without a stream.
        const size = bytes.byteLength;
        onProgress?.(0, size);
        const result = await backend.writeBytes!(key, bytes, writeOptions(size));
        onProgress?.(size, size);
        return this.#writeResult(key, result, algorithm && digestBytes(algorithm, bytes));
      }
      const body = toContentStream(content);
      const { size } = body;
      let loaded = 0;
      let contentFailure: ContentFailure | undefined;
      const hasher = algorithm === undefined ? undefined : createHasher(algorithm);
      const onChunk = hasher === undefined
        ? onProgress && ((chunk: Uint8Array) => onProgress(loaded += chunk.byteLength, size))
        : (chunk: Uint8Array) => {
          // Hashed as the backend takes each chunk: the digest of exactly the bytes written.
          hasher.update(chunk);
          onProgress?.(loaded += chunk.byteLength, size);
        };
      onProgress?.(0, size);
      const stream = mapStream(
        body.stream,
        (error) => (contentFailure = new ContentFailure(error)).error,
        onChunk,
      );
      const result = await backend.write(key, stream, writeOptions(size)).catch(async (error) => {
        // Release the caller's content (an HTTP body, a file) if the backend left it unread.
        if (!stream.locked) await stream.cancel(error).catch(() => {});
        throw contentFailure ?? error;
      });
      return this.#writeResult(
        key,
        result,
        hasher && algorithm && checksumOf(algorithm, hasher.digest()),
      );
    });
  }

  #writeResult(
    key: string,
    result: BackendWriteResult,
    checksum?: WriteResult["checksum"],
  ): WriteResult {
    const out: WriteResult = { path: this.#relative(key), size: result.size };
    if (result.etag !== undefined) out.etag = result.etag;
    if (checksum !== undefined) out.checksum = checksum;
    if (result.modifiedAt !== undefined) out.modifiedAt = result.modifiedAt;
    if (result.versionId !== undefined) out.versionId = result.versionId;
    if (result.digest !== undefined) out.digest = result.digest;
    return out;
  }

  // ---- deleting -----------------------------------------------------------

  /**
   * Deletes one file. Never removes a folder.
   *
   * @param path File path.
   * @param options `missingOk` to ignore a missing file; `signal`.
   * @throws {NotFoundError} When the file does not exist and `missingOk` is false.
   * @throws {InvalidPathError} When the path is a folder.
   *
   * @example Delete if present
   * ```ts
   * import { MemoryBackend, Store } from "@remote-store/remote-store";
   * const store = new Store(new MemoryBackend());
   * await store.delete("old.txt", { missingOk: true });
   * ```
   */
  delete(path: string, options: DeleteOptions = {}): Promise<void> {
    return this.#run(path, options.signal, ["delete"], async () => {
      try {
        await this.#backend.delete(this.#key(path), { signal: options.signal });
      } catch (error) {
        if (!(options.missingOk && error instanceof NotFoundError)) throw error;
      }
    });
  }

  /**
   * Deletes a folder: only an empty one unless `recursive`.
   *
   * @param path Folder path (`""` for the store root, which needs `recursive`).
   * @param options `recursive`, `missingOk`, `signal`.
   * @throws {NotFoundError} When the folder does not exist and `missingOk` is false.
   * @throws {DirectoryNotEmptyError} When it has entries and `recursive` is false.
   *
   * @example Delete a folder tree
   * ```ts
   * import { MemoryBackend, Store } from "@remote-store/remote-store";
   * const store = new Store(new MemoryBackend());
   * await store.write("tmp/a.txt", "x");
   * await store.deleteFolder("tmp", { recursive: true });
   * ```
   */
  deleteFolder(path: string, options: DeleteFolderOptions = {}): Promise<void> {
    return this.#run(path, options.signal, ["delete"], async () => {
      try {
        await this.#backend.deleteFolder(this.#key(path, true), {
          recursive: options.recursive ?? false,
          signal: options.signal,
        });
      } catch (error) {
        if (!(options.missingOk && error instanceof NotFoundError)) throw error;
      }
    });
  }

  /**
   * Deletes many files, with at most `concurrency` requests in flight (a
   * backend with a batch call, such as Azure's Blob Batch, deletes up to 256
   * files per request). Never removes a folder. Each path gets a result; a
   * missing file is `"not_found"`, not a failure.
   *
   * @param paths File paths (all are checked before any request).
   * @param options `concurrency` (default 16), `signal`.
   * @returns One result per path, in the order given.
   * @throws {InvalidPathError} When a path is invalid (before any request).
   * @throws {RangeError} When `concurrency` is not a positive integer.
   *
   * @example Delete a list of files
   * ```ts
   * import { MemoryBackend, Store } from "@remote-store/remote-store";
   * const store = new Store(new MemoryBackend());
   * await store.write("a.txt", "x");
   * const results = await store.deleteMany(["a.txt", "b.txt"]);
   * console.log(results.map((r) => r.status)); // ["done", "not_found"]
   * ```
   */
  deleteMany(
    paths: Iterable<string>,
    options: DeleteManyOptions = {},
  ): Promise<DeleteManyResult[]> {
    let list: string[];
    try {
      list = Array.from(paths);
    } catch (error) {
      return Promise.reject(error);
    }
    const { signal } = options;
    return this.#run(list[0] ?? "", signal, ["delete"], async (backend) => {
      const concurrency = checkConcurrency(options.concurrency, DEFAULT_DELETE_CONCURRENCY);
      const keys = list.map((path) => this.#key(path));
      const outcome = (key: string, status: DeleteManyResult["status"], error?: unknown) => {
        const path = this.#relative(key);
        const out: DeleteManyResult = { path, status };
        if (status === "error") out.error = this.#withContext(error, path);
        return out;
      };
      if (keys.length === 0) return [];
      if (backend.deleteMany) {
        const results = await backend.deleteMany(keys, { concurrency, signal });
        signal?.throwIfAborted();
        return keys.map((key, i) => outcome(key, results[i]!.status, results[i]!.error));
      }
      return await mapPool(keys, concurrency, signal, async (key) => {
        try {
          await backend.delete(key, { signal });
          return outcome(key, "done");
        } catch (error) {
          if (signal?.aborted) throw signal.reason;
          return error instanceof NotFoundError
            ? outcome(key, "not_found")
            : outcome(key, "error", error);
        }
      });
    });
  }

  // ---- queries --------------------------------------------------------------

  /**
   * Metadata of one file.
   *
   * @param path File path.
   * @param options `signal`.
   * @returns Path, name, size, modification time, and where known the ETag, content type,
   *   metadata, stored HTTP attributes (`cacheControl`, `contentEncoding`,
   *   `contentDisposition`, `contentLanguage`), `versionId` and `digest` (the stored MD5).
   * @throws {NotFoundError} When the file does not exist.
   * @throws {InvalidPathError} When the path is a folder.
   *
   * @example File size
   * ```ts
   * import { MemoryBackend, Store } from "@remote-store/remote-store";
   * const store = new Store(new MemoryBackend());
   * await store.write("a.txt", "abc");
   * console.log((await store.getFileInfo("a.txt")).size); // 3
   * ```
   */
  getFileInfo(path: string, options: SignalOptions = {}): Promise<FileInfo> {
    return this.#run(path, options.signal, [], async () => {
      return this.#fileInfo(
        await this.#backend.getFileInfo(this.#key(path), { signal: options.signal }),
      );
    });
  }

  /**
   * Whether a file exists at the path.
   *
   * @param path File path.
   * @param options `signal`.
   * @returns `true` for a file, `false` for a folder or nothing.
   * @throws {InvalidPathError} When the path is invalid.
   *
   * @example Check a file
   * ```ts
   * import { MemoryBackend, Store } from "@remote-store/remote-store";
   * const store = new Store(new MemoryBackend());
   * console.log(await store.isFile("a.txt")); // false
   * ```
   */
  isFile(path: string, options: SignalOptions = {}): Promise<boolean> {
    return this.#run(path, options.signal, [], async () => {
      try {
        await this.#backend.getFileInfo(this.#key(path), { signal: options.signal });
        return true;
      } catch (error) {
        if (error instanceof NotFoundError || error instanceof InvalidPathError) return false;
        throw error;
      }
    });
  }

  /**
   * Whether a folder exists at the path (on flat backends: whether any file is below it).
   *
   * @param path Folder path (`""` is the store root, which always exists).
   * @param options `signal`.
   * @returns `true` for a folder.
   *
   * @example Check a folder
   * ```ts
   * import { MemoryBackend, Store } from "@remote-store/remote-store";
   * const store = new Store(new MemoryBackend());
   * await store.write("d/a.txt", "x");
   * console.log(await store.isFolder("d")); // true
   * ```
   */
  isFolder(path: string, options: SignalOptions = {}): Promise<boolean> {
    return this.#run(path, options.signal, [], () => {
      return this.#backend.isFolder(this.#key(path, true), { signal: options.signal });
    });
  }

  /**
   * Whether a file or a folder exists at the path.
   *
   * @param path Path.
   * @param options `signal`.
   * @returns `true` when either exists.
   *
   * @example Exists
   * ```ts
   * import { MemoryBackend, Store } from "@remote-store/remote-store";
   * const store = new Store(new MemoryBackend());
   * console.log(await store.exists("nothing")); // false
   * ```
   */
  async exists(path: string, options: SignalOptions = {}): Promise<boolean> {
    return (await this.isFile(path, options)) || (await this.isFolder(path, options));
  }

  /**
   * Lists the files in a folder, streamed page by page, in ascending order of
   * their path (Unicode code point order). Without options only the folder's
   * own files; `recursive` adds every subfolder level, `maxDepth` a given
   * number of levels (as in the Python library: 0 = the folder's own files,
   * 1 adds its subfolders' files, ...). `startAfter` and `limit` page the
   * listing: pass the last path of one page as `startAfter` of the next.
   *
   * @param path Folder path (`""` for the store root). A missing folder yields nothing.
   * @param options `recursive`, `maxDepth`, `pattern` (glob on the file name),
   *   `startAfter`, `limit`, `signal`.
   * @returns Store-relative file infos.
   * @throws {RangeError} When `maxDepth` is negative or not an integer, or
   *   `limit` is not a positive integer.
   * @throws {TypeError} When `startAfter` is not a string.
   *
   * @example Recursive listing
   * ```ts
   * import { MemoryBackend, Store } from "@remote-store/remote-store";
   * const store = new Store(new MemoryBackend());
   * await store.write("a/b.csv", "1");
   * for await (const f of store.listFiles("", { recursive: true, pattern: "*.csv" })) {
   *   console.log(f.path, f.size);
   * }
   * ```
   *
   * @example One page after another
   * ```ts
   * import { MemoryBackend, Store } from "@remote-store/remote-store";
   * const store = new Store(new MemoryBackend());
   * for (const name of ["a", "b", "c"]) await store.write(`${name}.txt`, name);
   * const page = await Array.fromAsync(store.listFiles("", { limit: 2 }));
   * const next = store.listFiles("", { limit: 2, startAfter: page.at(-1)!.path });
   * console.log((await Array.fromAsync(next)).map((f) => f.path)); // ["c.txt"]
   * ```
   */
  listFiles(path: string, options: ListFilesOptions = {}): AsyncIterable<FileInfo> {
    return this.#iterate(path, options.signal, async function* (self) {
      const { pattern, recursive, startAfter, limit, signal } = options;
      const maxDepth = checkDepth(options.maxDepth);
      checkPage(options);
      const key = self.#key(path, true);
      const nameFilter = pattern === undefined ? undefined : compileSegment(pattern);
      const startKey = self.#startKey(startAfter);
      const depth = maxDepth ?? (recursive ? Infinity : 0);
      let count = 0;
      for await (const info of self.#files(key, depth, startKey, signal, limit)) {
        if (nameFilter && !nameFilter(baseName(info.key))) continue;
        yield self.#fileInfo(info);
        if (++count === limit) return;
      }
    });
  }

  /** The backend key of a `startAfter` path: compared as given (only ever compared, not normalised). */
  #startKey(startAfter: string | undefined): string | undefined {
    return startAfter === undefined ? undefined : this.#rootPrefix + startAfter;
  }

  /**
   * The files below a folder key at most `depth` levels down, in key order,
   * after `startKey` (`pageSize`: the page the caller wants): one backend
   * listing (recursive when `depth > 0`; levels deeper than `depth` are left
   * out, as the Python library does).
   */
  async *#files(
    key: string,
    depth: number,
    startKey: string | undefined,
    signal: AbortSignal | undefined,
    pageSize?: number,
  ): AsyncGenerator<BackendFileInfo> {
    if (folderPassed(key, startKey)) return; // Every key below sorts before the cursor.
    const prefixLength = key === "" ? 0 : key.length + 1;
    const options: BackendListOptions = { recursive: depth > 0, signal };
    if (startKey !== undefined) options.startAfter = startKey;
    if (pageSize !== undefined) options.pageSize = pageSize;
    for await (const entry of this.#backend.list(key, options)) {
      if (entry.kind !== "file" || !fileNeeded(entry.info.key, startKey)) continue;
      if (depth !== Infinity && depthBelow(entry.info.key, prefixLength) > depth) continue;
      yield entry.info;
    }
  }

  /**
   * Lists the subfolders of a folder: the immediate ones, and with
   * `maxDepth` that many levels further down (level by level, as the Python
   * library does).
   *
   * @param path Folder path (`""` for the store root).
   * @param options `pattern` (glob on the folder name; folders that do not
   *   match are still descended into), `maxDepth` (default 0), `signal`.
   * @returns Store-relative folder entries.
   * @throws {RangeError} When `maxDepth` is negative or not an integer.
   *
   * @example Subfolders
   * ```ts
   * import { MemoryBackend, Store } from "@remote-store/remote-store";
   * const store = new Store(new MemoryBackend());
   * await store.write("2024/01/a.txt", "x");
   * for await (const folder of store.listFolders("")) console.log(folder.name); // "2024"
   * for await (const folder of store.listFolders("", { maxDepth: 1 })) console.log(folder.path);
   * // "2024", "2024/01"
   * ```
   */
  listFolders(path: string, options: ListFoldersOptions = {}): AsyncIterable<FolderEntry> {
    return this.#iterate(path, options.signal, async function* (self) {
      const { pattern, signal } = options;
      const maxDepth = checkDepth(options.maxDepth) ?? 0;
      const nameFilter = pattern === undefined ? undefined : compileSegment(pattern);
      let level = [self.#key(path, true)];
      for (let depth = 0; depth <= maxDepth && level.length > 0; depth++) {
        const next: string[] = [];
        for (const folderKey of level) {
          for await (const entry of self.#backend.list(folderKey, { recursive: false, signal })) {
            if (entry.kind !== "folder") continue;
            const folderPath = self.#relative(entry.key);
            const name = baseName(folderPath);
            if (!nameFilter || nameFilter(name)) yield { path: folderPath, name };
            if (depth < maxDepth) next.push(entry.key);
          }
        }
        level = next;
      }
    });
  }

  /**
   * Lists the files and the subfolders of a folder in one pass (one backend
   * listing; the Python library's `iter_children`). Each entry says its
   * `kind`: a file is a {@link FileInfo}, a folder a {@link FolderEntry}.
   * Files come in path order; folders may come anywhere among them.
   *
   * @param path Folder path (`""` for the store root). A missing folder yields nothing.
   * @param options `signal`.
   * @returns Store-relative entries.
   *
   * @example A folder's contents
   * ```ts
   * import { MemoryBackend, Store } from "@remote-store/remote-store";
   * const store = new Store(new MemoryBackend());
   * await store.write("docs/a.txt", "x");
   * await store.write("docs/img/b.png", "y");
   * for await (const child of store.iterChildren("docs")) {
   *   console.log(child.kind, child.path); // "file docs/a.txt", "folder docs/img"
   * }
   * ```
   */
  iterChildren(path: string, options: SignalOptions = {}): AsyncIterable<ChildEntry> {
    return this.#iterate(path, options.signal, async function* (self) {
      const key = self.#key(path, true);
      const { signal } = options;
      for await (const entry of self.#backend.list(key, { recursive: false, signal })) {
        if (entry.kind === "file") {
          yield { kind: "file", ...self.#fileInfo(entry.info) };
        } else {
          const folderPath = self.#relative(entry.key);
          yield { kind: "folder", path: folderPath, name: baseName(folderPath) };
        }
      }
    });
  }

  /**
   * Finds files whose store-relative path matches a glob: `*` and `?` within a
   * segment, `[abc]`, `[!abc]`, and `**` as a whole segment for any number of
   * folders. Only folders that can match are listed. With `startAfter` or
   * `limit` the matches come in path order (code point order, as a paged
   * {@link Store.listFiles}), from one recursive listing below the pattern's
   * literal folders.
   *
   * @param pattern The glob, relative to the store root.
   * @param options `startAfter`, `limit`, `signal`.
   * @returns Matching files.
   * @throws {InvalidPathError} When the pattern contains `..` or NUL, or a
   *   `**` that is not a whole segment (`a/**b`).
   * @throws {RangeError} When `limit` is not a positive integer.
   *
   * @example All CSV files at any depth
   * ```ts
   * import { MemoryBackend, Store } from "@remote-store/remote-store";
   * const store = new Store(new MemoryBackend());
   * await store.write("a/b/c.csv", "1");
   * for await (const f of store.glob("**\/*.csv")) console.log(f.path);
   * ```
   */
  glob(pattern: string, options: GlobOptions = {}): AsyncIterable<FileInfo> {
    return this.#iterate(pattern, options.signal, async function* (self) {
      const { signal, startAfter, limit } = options;
      const paged = checkPage(options);
      const segments = normalizePath(pattern).split("/");
      checkGlob(segments.join("/"));
      const literal: string[] = [];
      while (segments.length > 1 && !hasWildcard(segments[0]!)) literal.push(segments.shift()!);
      const base = self.#key(literal.join("/"), true);
      if (!paged) return yield* self.#globWalk(base, segments, signal);
      const startKey = self.#startKey(startAfter);
      const matcher = compileGlob(segments.join("/"));
      const prefixLength = base === "" ? 0 : base.length + 1;
      let count = 0;
      for await (const info of self.#files(base, Infinity, startKey, signal, limit)) {
        if (!matcher(info.key.slice(prefixLength))) continue;
        yield self.#fileInfo(info);
        if (++count === limit) return;
      }
    });
  }

  async *#globWalk(
    folderKey: string,
    segments: string[],
    signal: AbortSignal | undefined,
  ): AsyncGenerator<FileInfo> {
    const [head, ...rest] = segments;
    if (head === undefined) return;
    if (head.includes("**")) {
      const matcher = compileGlob(segments.join("/"));
      const prefix = folderKey === "" ? 0 : folderKey.length + 1;
      for await (const entry of this.#backend.list(folderKey, { recursive: true, signal })) {
        if (entry.kind === "file" && matcher(entry.info.key.slice(prefix))) {
          yield this.#fileInfo(entry.info);
        }
      }
      return;
    }
    const matcher = compileSegment(head);
    const folders: string[] = [];
    for await (const entry of this.#backend.list(folderKey, { recursive: false, signal })) {
      const key = entry.kind === "file" ? entry.info.key : entry.key;
      if (!matcher(baseName(key))) continue;
      if (entry.kind === "file" && rest.length === 0) yield this.#fileInfo(entry.info);
      if (entry.kind === "folder" && rest.length > 0) folders.push(entry.key);
    }
    for (const folder of folders) yield* this.#globWalk(folder, rest, signal);
  }

  #iterate<T>(
    path: string,
    signal: AbortSignal | undefined,
    body: (self: Store) => AsyncGenerator<T>,
  ): AsyncIterable<T> {
    const run = async function* (self: Store): AsyncGenerator<T> {
      try {
        self.#require("list", path);
        signal?.throwIfAborted();
        yield* body(self);
      } catch (error) {
        throw self.#withContext(error, path, signal);
      }
    };
    return { [Symbol.asyncIterator]: () => run(this) };
  }

  /**
   * Totals for a folder: how many files are below it and their total size;
   * with `maxDepth`, only files at most that many folder levels down (0 =
   * the folder's own files).
   *
   * @param path Folder path (`""` for the store root).
   * @param options `maxDepth`, `signal`.
   * @returns File count, total size and newest modification time.
   * @throws {NotFoundError} When the folder does not exist.
   * @throws {RangeError} When `maxDepth` is negative or not an integer.
   *
   * @example Folder totals
   * ```ts
   * import { MemoryBackend, Store } from "@remote-store/remote-store";
   * const store = new Store(new MemoryBackend());
   * await store.write("notes/a.txt", "abc");
   * console.log(await store.getFolderInfo("notes")); // { path: "notes", fileCount: 1, totalSize: 3, ... }
   * ```
   */
  getFolderInfo(path: string, options: FolderInfoOptions = {}): Promise<FolderInfo> {
    return this.#run(path, options.signal, ["list"], async () => {
      const depth = checkDepth(options.maxDepth) ?? Infinity;
      const key = this.#key(path, true);
      if (key !== "" && !(await this.#backend.isFolder(key, { signal: options.signal }))) {
        throw new NotFoundError("Folder not found", { path });
      }
      const info: FolderInfo = { path: this.#relative(key), fileCount: 0, totalSize: 0 };
      for await (const file of this.#files(key, depth, undefined, options.signal)) {
        info.fileCount++;
        info.totalSize += file.size;
        if (!info.modifiedAt || file.modifiedAt > info.modifiedAt) {
          info.modifiedAt = file.modifiedAt;
        }
      }
      return info;
    });
  }

  // ---- copy and move ------------------------------------------------------

  /**
   * Copies a file, server-side where the backend can. Copying a file onto
   * itself is a no-op.
   *
   * @param src Source file path.
   * @param dst Destination file path.
   * @param options `overwrite` (default `false`), `signal`.
   * @throws {NotFoundError} When the source does not exist.
   * @throws {AlreadyExistsError} When the destination exists and `overwrite` is false.
   *
   * @example Back up a file
   * ```ts
   * import { MemoryBackend, Store } from "@remote-store/remote-store";
   * const store = new Store(new MemoryBackend());
   * await store.write("a.txt", "x");
   * await store.copy("a.txt", "backup/a.txt");
   * ```
   */
  copy(src: string, dst: string, options: TransferOptions = {}): Promise<void> {
    return this.#transfer("copy", src, dst, options);
  }

  /**
   * Moves a file: one atomic rename where the backend supports `atomic_move`
   * (local disk, ADLS Gen2), otherwise copy then delete. Moving a file onto
   * itself is a no-op.
   *
   * @param src Source file path.
   * @param dst Destination file path.
   * @param options `overwrite` (default `false`), `signal`.
   * @throws {NotFoundError} When the source does not exist.
   * @throws {AlreadyExistsError} When the destination exists and `overwrite` is false.
   *
   * @example Rename a file
   * ```ts
   * import { MemoryBackend, Store } from "@remote-store/remote-store";
   * const store = new Store(new MemoryBackend());
   * await store.write("draft.txt", "x");
   * await store.move("draft.txt", "final.txt");
   * ```
   */
  move(src: string, dst: string, options: TransferOptions = {}): Promise<void> {
    return this.#transfer("move", src, dst, options);
  }

  /**
   * Copies many files, with at most `concurrency` copies in flight. Each pair
   * gets a result: `"not_found"` when its source does not exist, `"error"`
   * for any other failure (`AlreadyExistsError` without `overwrite`, ...).
   *
   * @param pairs `[src, dst]` or `{ src, dst }` pairs (all paths are checked before any request).
   * @param options `overwrite` (default `false`), `concurrency` (default 8), `signal`.
   * @returns One result per pair, in the order given.
   * @throws {CapabilityNotSupportedError} When the backend cannot copy.
   * @throws {InvalidPathError} When a path is invalid (before any request).
   * @throws {RangeError} When `concurrency` is not a positive integer.
   *
   * @example Back up two files
   * ```ts
   * import { MemoryBackend, Store } from "@remote-store/remote-store";
   * const store = new Store(new MemoryBackend());
   * await store.write("a.txt", "x");
   * const results = await store.copyMany([["a.txt", "backup/a.txt"], ["b.txt", "backup/b.txt"]]);
   * console.log(results.map((r) => r.status)); // ["done", "not_found"]
   * ```
   */
  copyMany(pairs: Iterable<CopyPair>, options: CopyManyOptions = {}): Promise<CopyManyResult[]> {
    let list: (readonly [string, string])[];
    try {
      list = Array.from(pairs, (pair) => "src" in pair ? [pair.src, pair.dst] as const : pair);
    } catch (error) {
      return Promise.reject(error);
    }
    const { signal } = options;
    return this.#run(list[0]?.[0] ?? "", signal, ["copy"], async (backend) => {
      const concurrency = checkConcurrency(options.concurrency, DEFAULT_COPY_CONCURRENCY);
      const keys = list.map(([src, dst]) => [this.#key(src), this.#key(dst)] as const);
      const overwrite = options.overwrite ?? false;
      return await mapPool(keys, concurrency, signal, async ([srcKey, dstKey]) => {
        const out: CopyManyResult = {
          path: this.#relative(srcKey),
          target: this.#relative(dstKey),
          status: "done",
        };
        try {
          if (srcKey === dstKey) await backend.getFileInfo(srcKey, { signal });
          else await backend.copy(srcKey, dstKey, { overwrite, signal });
        } catch (error) {
          if (signal?.aborted) throw signal.reason;
          if (error instanceof NotFoundError && this.#isPath(error, srcKey)) {
            out.status = "not_found";
          } else {
            out.status = "error";
            out.error = this.#withContext(error, out.path);
          }
        }
        return out;
      });
    });
  }

  /** Whether a library error names `key` (or names no path). */
  #isPath(error: RemoteStoreError, key: string): boolean {
    return error.path === undefined || error.path === key;
  }

  #transfer(
    kind: "copy" | "move",
    src: string,
    dst: string,
    options: TransferOptions,
  ): Promise<void> {
    return this.#run(src, options.signal, [kind], async () => {
      const srcKey = this.#key(src);
      const dstKey = this.#key(dst);
      const { onProgress } = options;
      const size = srcKey === dstKey || onProgress
        ? (await this.#backend.getFileInfo(srcKey, { signal: options.signal })).size
        : undefined;
      if (srcKey === dstKey) return;
      onProgress?.(0, size);
      await this.#backend[kind](srcKey, dstKey, {
        overwrite: options.overwrite ?? false,
        signal: options.signal,
        onProgress,
      });
      onProgress?.(size!, size);
    });
  }

  /**
   * A time-limited URL that grants `permissions` on this one file and nothing
   * else (Azure: a blob-scoped service SAS, or a user delegation SAS with a
   * token credential; never an account SAS).
   *
   * @param path File path (the file need not exist for a `write` URL).
   * @param options `expiresIn` seconds, `permissions`, `contentType`, `contentDisposition`.
   * @returns The URL.
   * @throws {CapabilityNotSupportedError} When the backend cannot sign URLs.
   * @throws {RangeError} When `expiresIn` is not from 1 second to 7 days, or
   *   `permissions` is empty or has an unknown permission.
   * @throws {TypeError} When `contentType` or `contentDisposition` is not a valid header value.
   *
   * @example Share a report for ten minutes
   * ```ts ignore
   * const url = await store.signedUrl("report.csv", { expiresIn: 600 });
   * ```
   */
  signedUrl(path: string, options: SignedUrlOptions = {}): Promise<string> {
    return this.#run(path, options.signal, ["signed_url"], async () => {
      const expiresIn = checkExpiresIn(options.expiresIn);
      const permissions = [...(options.permissions ?? ["read"])];
      if (permissions.length === 0) {
        throw new RangeError("A signed URL needs at least one permission, got none");
      }
      for (const permission of permissions) {
        if (!["read", "write", "delete"].includes(permission)) {
          throw new RangeError(`Unknown signed URL permission "${permission}"`);
        }
      }
      const { contentType, contentDisposition, signal } = options;
      checkSignedUrlValues(options);
      const key = this.#key(path);
      if (!this.#backend.signedUrl) {
        throw new CapabilityNotSupportedError("signed_url", { path, backend: this.backendName });
      }
      return await this.#backend.signedUrl(key, {
        expiresIn,
        permissions,
        contentType,
        contentDisposition,
        signal,
      });
    });
  }

  /**
   * What a browser needs to upload this one file straight to the service with
   * plain `fetch`: `{ url, method: "PUT", headers, expiresAt, overwrite, blocks? }`
   * (plain data: send it to the browser as JSON, then `putSignedUpload` or
   * `fetch(url, { method, headers, body })`). Azure: a blob-scoped SAS
   * (`sp=cw`, or `sp=c` when create-only) and the header
   * `x-ms-blob-type: BlockBlob`.
   *
   * With `overwrite: false` (the default) the URL cannot replace an existing
   * file: the service refuses it even when the client drops the headers
   * (Azure: the `c` permission, which also allows one-request uploads only, so
   * `blocks` is absent). With `overwrite: true`, `blocks` says how to upload
   * a large file in blocks with the same URL.
   *
   * @param path File path (it need not exist).
   * @param options `expiresIn` seconds, `overwrite`, `contentType`.
   * @returns The upload description.
   * @throws {CapabilityNotSupportedError} When the backend cannot sign URLs (`"signed_url"`).
   * @throws {RangeError} When `expiresIn` is not from 1 second to 7 days.
   * @throws {TypeError} When `overwrite` is not a boolean or `contentType` is
   *   not a valid content type.
   * @throws {InvalidPathError} When the path is invalid or the store root.
   *
   * @example Let a browser upload a photo
   * ```ts ignore
   * const upload = await store.signedUpload("inbox/photo.jpg", { contentType: "image/jpeg" });
   * // in the browser: await fetch(upload.url, { method: upload.method, headers: upload.headers, body: file });
   * ```
   */
  signedUpload(path: string, options: SignedUploadOptions = {}): Promise<SignedUpload> {
    return this.#run(path, options.signal, ["signed_url"], async () => {
      const expiresIn = checkExpiresIn(options.expiresIn);
      const overwrite = options.overwrite === undefined ? false : options.overwrite;
      if (typeof overwrite !== "boolean") {
        throw new TypeError(`overwrite must be a boolean, got ${typeof overwrite}`);
      }
      const { contentType, signal } = options;
      checkWriteValues({ contentType });
      const key = this.#key(path);
      if (!this.#backend.signedUpload) {
        throw new CapabilityNotSupportedError("signed_url", { path, backend: this.backendName });
      }
      const upload = await this.#backend.signedUpload(key, {
        expiresIn,
        overwrite,
        contentType,
        signal,
      });
      return { ...upload, headers: { ...upload.headers } };
    });
  }

  /**
   * A short description without secrets.
   *
   * @returns For example `Store(azure:"example/data")`.
   */
  toString(): string {
    return `Store(${this.backendName}:"${this.#root}")`;
  }

  /**
   * The JSON form: backend name and root path only.
   *
   * @returns A plain object without secrets.
   */
  toJSON(): { backend: string; rootPath: string } {
    return { backend: this.backendName, rootPath: this.#root };
  }
}
