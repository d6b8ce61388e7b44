/**
 * The backend contract. A backend receives clean keys (already normalised and
 * joined with the store's root by the Store), speaks `ReadableStream<Uint8Array>`
 * only, declares its capabilities and maps its native errors to
 * {@link RemoteStoreError} subclasses, keeping the native error as `cause`.
 *
 * Obligations, for every method:
 * - Reject with `NotFoundError` when a file method's key has no file, and with
 *   `InvalidPathError` when the key is a folder where a file is required.
 * - Never let a native error escape, including while a returned stream is read.
 * - Honour `signal`: abort rejects with the signal's reason; an aborted or
 *   failed write leaves the previous content (or nothing) in place.
 *
 * @module
 */

import type { ChecksumAlgorithm } from "./_checksum.ts";
import type { Capabilities } from "./capabilities.ts";
import type { ByteRange } from "./types.ts";

/** Options every backend call accepts. */
export interface SignalOptions {
  /** Aborts the operation. */
  signal?: AbortSignal;
}

/**
 * Conditions that pin a read to one version of a file. A condition that
 * fails rejects with `PreconditionFailedError` before any byte is returned;
 * a resumed read stays pinned to the version it started on.
 */
export interface ReadConditions {
  /** Read only if the file's current entity tag equals this one. */
  ifMatch?: string;
  /** Read only if the file's current entity tag differs from this one (`"*"`: never). */
  ifNoneMatch?: string;
  /** Read only if the file changed after this time (whole seconds, as in HTTP). */
  ifModifiedSince?: Date;
  /** Read only if the file did not change after this time (whole seconds, as in HTTP). */
  ifUnmodifiedSince?: Date;
}

/** Options for {@link Backend.read}. */
export interface BackendReadOptions extends SignalOptions, ReadConditions {
  /** Byte range to read; past the end yields only the bytes that exist. */
  range?: ByteRange;
}

/** Options for {@link Backend.write}. */
export interface BackendWriteOptions extends SignalOptions {
  /** Replace an existing file. When false, the create must be race-free. */
  overwrite: boolean;
  /** Readers must see the old content or the new, never a mix (`writeAtomic`). */
  atomic: boolean;
  /** Size in bytes, when the Store knows it in advance. */
  size?: number;
  /** MIME type to store. */
  contentType?: string;
  /** User metadata to store. */
  metadata?: Record<string, string>;
  /** Write only if the current entity tag matches (`PreconditionFailedError` otherwise). */
  ifMatch?: string;
  /**
   * The caller asked for this digest of the content (the Store computes it
   * over the bytes it hands to the backend). A backend whose service can
   * check what it receives sends a digest with each request so that a
   * corrupted upload is refused and the write fails, leaving the previous
   * content (Azure: `Content-MD5` on Put Blob and Put Block, the whole
   * content's MD5 on Put Block List, whatever the algorithm asked for). A
   * backend without such a check ignores it.
   */
  checksum?: ChecksumAlgorithm;
}

/** Options for {@link Backend.deleteMany}. */
export interface BackendDeleteManyOptions extends SignalOptions {
  /** Requests in flight at once (each request may delete many keys). */
  concurrency: number;
}

/** How one key of {@link Backend.deleteMany} ended. */
export interface BackendDeleteManyResult {
  /** `"done"`, `"not_found"` (no file at the key), or `"error"`. */
  status: "done" | "not_found" | "error";
  /** The mapped library error, when `status` is `"error"`. */
  error?: unknown;
}

/** Options for {@link Backend.copy} and {@link Backend.move}. */
export interface BackendTransferOptions extends SignalOptions {
  /** Replace an existing destination. When false, race-free where the service allows. */
  overwrite: boolean;
  /** Optional intermediate progress of a long copy (the Store reports start and end). */
  onProgress?: (loaded: number, total?: number) => void;
}

/** Options for {@link Backend.deleteFolder}. */
export interface BackendDeleteFolderOptions extends SignalOptions {
  /** Delete everything below the folder. */
  recursive: boolean;
}

/**
 * Options for {@link Backend.list}.
 *
 * Order: a recursive listing yields its files in ascending key order, keys
 * compared by Unicode code point (the order of their UTF-8 bytes, as Azure
 * lists blob names); a non-recursive listing yields its files in that order
 * too, and its folders anywhere among them. The Store's paged listings
 * (`startAfter`, `limit`) rely on this order.
 */
export interface BackendListOptions extends SignalOptions {
  /** Yield files at every depth (no folder entries) instead of one level. */
  recursive: boolean;
  /**
   * Only entries whose key sorts after this backend key are needed (code
   * point order; the key itself is not). A backend skips the others where it
   * can, on the server if the service has a start-from parameter (Azure:
   * `startFrom`), and may leave out a folder entry when no key below the
   * folder sorts after it. The Store filters again, so a backend that ignores
   * it stays correct, only slower.
   */
  startAfter?: string;
  /**
   * How many entries the caller expects to take (a paged listing's `limit`):
   * a backend that fetches pages asks for no more than about this many per
   * request. A hint only: iterated further, the listing goes on.
   */
  pageSize?: number;
}

/** Options for {@link Backend.signedUrl}. */
export interface BackendSignedUrlOptions extends SignalOptions {
  /** Lifetime in seconds. */
  expiresIn: number;
  /** What the URL allows. */
  permissions: readonly SignedUrlPermission[];
  /** Content-Type the service sends when the URL is read. */
  contentType?: string;
  /** Content-Disposition the service sends when the URL is read. */
  contentDisposition?: string;
}

/** What a signed URL may do with its one file. */
export type SignedUrlPermission = "read" | "write" | "delete";

/** File metadata as a backend reports it: `key` is the full backend key. */
export interface BackendFileInfo {
  /** Backend key. */
  key: string;
  /** Size in bytes. */
  size: number;
  /** Last modification time. */
  modifiedAt: Date;
  /** Entity tag. */
  etag?: string;
  /** MIME type. */
  contentType?: string;
  /** User metadata. */
  metadata?: Record<string, string>;
}

/** One listing entry: a file, or (non-recursive listings only) a folder. */
export type BackendEntry =
  | { kind: "file"; info: BackendFileInfo }
  | { kind: "folder"; key: string };

/** What a backend write stored. */
export interface BackendWriteResult {
  /** Bytes written. */
  size: number;
  /** New entity tag, where the backend has one. */
  etag?: string;
}

/**
 * A storage backend. Implement this to add a new kind of storage; use it
 * through a {@link Store}.
 */
export interface Backend {
  /** Backend type name, for example `"memory"`, `"local"`, `"azure"`. */
  readonly name: string;
  /** What this backend can do (may grow once an account's features are known). */
  readonly capabilities: Capabilities;

  /** Opens a file for reading; rejects `NotFoundError` before returning a stream. */
  read(key: string, options: BackendReadOptions): Promise<ReadableStream<Uint8Array>>;
  /**
   * Writes a file from a stream. On failure the backend cancels the body (or
   * releases its reader) so the caller's source is not left open.
   */
  write(
    key: string,
    body: ReadableStream<Uint8Array>,
    options: BackendWriteOptions,
  ): Promise<BackendWriteResult>;
  /**
   * Optional fast path: reads a whole file (or a range) into one new byte
   * array, without a stream. The Store's `readBytes` and `readText` use it
   * when present (and no `onProgress` is asked for), otherwise they collect
   * {@link Backend.read}'s stream. Obligations are those of `read`: the same
   * bytes, the same errors, the same range rules, and a dropped connection
   * must resume (pinned to the entity tag) or reject, never return fewer bytes.
   *
   * @param key Backend key of the file.
   * @param options `range` (past the end yields only the bytes that exist) and `signal`.
   * @returns The bytes, in an array the caller owns (never a view of the backend's storage).
   * @throws {NotFoundError} When there is no file at `key`.
   * @throws {InvalidPathError} When `key` is a folder.
   * @throws {PreconditionFailedError} When the file changed while being read.
   *
   * @example Delegate to the stream (what the Store does without this method)
   * ```ts
   * import type { Backend, BackendReadOptions } from "@remote-store/remote-store";
   * async function readAll(backend: Backend, key: string, options: BackendReadOptions) {
   *   return new Uint8Array(await new Response(await backend.read(key, options)).arrayBuffer());
   * }
   * ```
   */
  readBytes?(key: string, options: BackendReadOptions): Promise<Uint8Array>;
  /**
   * Optional fast path: writes a file whose whole content is already in
   * memory (the Store uses it for string, `Uint8Array` and `ArrayBuffer`
   * content, otherwise it streams through {@link Backend.write}). Obligations
   * are those of `write`: create-only without `overwrite` (race-free),
   * `ifMatch`, `atomic`, `contentType` and `metadata`, and a failed or aborted
   * write leaves the previous content (or nothing). The backend must not keep
   * a reference to `bytes` (copy it if it stores it) nor modify it.
   *
   * @param key Backend key of the file.
   * @param bytes The whole content (`options.size` is its length).
   * @param options The same options as for `write`.
   * @returns Size and ETag.
   * @throws {AlreadyExistsError} When `overwrite` is false and the file exists.
   * @throws {PreconditionFailedError} When `ifMatch` does not match.
   *
   * @example Delegate to the stream path (what the Store does without this method)
   * ```ts
   * import type { Backend, BackendWriteOptions } from "@remote-store/remote-store";
   * function writeAll(backend: Backend, key: string, bytes: Uint8Array, options: BackendWriteOptions) {
   *   const body = new ReadableStream<Uint8Array>({
   *     start(controller) {
   *       controller.enqueue(bytes);
   *       controller.close();
   *     },
   *   });
   *   return backend.write(key, body, options);
   * }
   * ```
   */
  writeBytes?(
    key: string,
    bytes: Uint8Array,
    options: BackendWriteOptions,
  ): Promise<BackendWriteResult>;
  /** Deletes one file (`NotFoundError` if missing; never removes a folder). */
  delete(key: string, options: SignalOptions): Promise<void>;
  /**
   * Optional fast path: deletes many files with fewer requests (Azure: Blob
   * Batch, up to 256 deletes per request). The Store's `deleteMany` uses it
   * when present, otherwise it calls {@link Backend.delete} per key.
   * Obligations are those of `delete` per key: a missing file is
   * `"not_found"`, a folder is never removed (its key reports `"not_found"`
   * or an `"error"` with `InvalidPathError`), and a per-key failure is a
   * result, not a rejection. The call rejects only when `signal` aborts (with
   * its reason) or when nothing could be attempted (the backend is closed);
   * keys not attempted before an abort may or may not be deleted.
   *
   * @param keys Backend keys (may repeat; each occurrence gets a result).
   * @param options `concurrency` (requests in flight) and `signal`.
   * @returns One result per key, in the order of `keys`.
   *
   * @example Delete one by one (what the Store does without this method)
   * ```ts
   * import { type Backend, NotFoundError } from "@remote-store/remote-store";
   * async function deleteAll(backend: Backend, keys: string[]) {
   *   const results = [];
   *   for (const key of keys) {
   *     try {
   *       await backend.delete(key, {});
   *       results.push({ status: "done" as const });
   *     } catch (error) {
   *       results.push({ status: error instanceof NotFoundError ? "not_found" as const : "error" as const, error });
   *     }
   *   }
   *   return results;
   * }
   * ```
   */
  deleteMany?(
    keys: readonly string[],
    options: BackendDeleteManyOptions,
  ): Promise<BackendDeleteManyResult[]>;
  /** Deletes a folder (`NotFoundError` if missing, `DirectoryNotEmptyError`). */
  deleteFolder(key: string, options: BackendDeleteFolderOptions): Promise<void>;
  /** File metadata (`NotFoundError`, `InvalidPathError` for a folder). */
  getFileInfo(key: string, options: SignalOptions): Promise<BackendFileInfo>;
  /** Whether a folder exists at `key` (`""` is the backend root and always exists). */
  isFolder(key: string, options: SignalOptions): Promise<boolean>;
  /**
   * Lists below a folder key (`""` for the root); a missing folder yields
   * nothing. Files come in ascending key order (see {@link BackendListOptions}).
   */
  list(key: string, options: BackendListOptions): AsyncIterable<BackendEntry>;
  /** Copies a file (`src !== dst`). */
  copy(src: string, dst: string, options: BackendTransferOptions): Promise<void>;
  /** Moves a file (`src !== dst`). */
  move(src: string, dst: string, options: BackendTransferOptions): Promise<void>;
  /** A time-limited URL for one file (only with the `"signed_url"` capability). */
  signedUrl?(key: string, options: BackendSignedUrlOptions): Promise<string>;
  /** Converts a native path (absolute file path, `container/key`, ...) to a backend key. */
  toKey(nativePath: string): string;
  /** Returns the native client of the given type (escape hatch). */
  unwrap<T>(type: abstract new (...args: never[]) => T): T;
  /** Releases resources; idempotent; later calls fail with `BackendUnavailableError`. */
  close(): Promise<void>;
}
