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
import type { ByteRange, ContentDigest, HttpAttributes } from "./types.ts";

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

/**
 * Options for {@link Backend.write}. The {@link HttpAttributes} (already
 * checked by the Store) are stored by a backend with the `http_attributes`
 * capability; the Store never passes them to one without it.
 */
export interface BackendWriteOptions extends SignalOptions, HttpAttributes {
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

/** Options for {@link Backend.signedUpload}. */
export interface BackendSignedUploadOptions extends SignalOptions {
  /** Lifetime in seconds. */
  expiresIn: number;
  /** Whether the upload may replace an existing file (else create-only). */
  overwrite: boolean;
  /** Content-Type the upload stores; sent as a required header. */
  contentType?: string;
}

/**
 * How a client uploads a large file in blocks with the same URL. Plain data
 * (it survives `JSON.stringify`); `putSignedUpload` speaks it.
 *
 * `"azure-blocks"`: PUT each block to `url + "&comp=block&blockid=" + id`
 * (ids: base64 of equal-length strings), then PUT
 * `url + "&comp=blocklist"` with the body
 * `<?xml version="1.0" encoding="utf-8"?><BlockList><Latest>id</Latest>...</BlockList>`
 * and the content type as `x-ms-blob-content-type`. Nothing is visible
 * until the block list is committed.
 */
export interface SignedUploadBlocks {
  /** The block protocol. */
  protocol: "azure-blocks";
  /** Largest block in bytes. */
  maxBlockSize: number;
  /** Most blocks in one file. */
  maxBlocks: number;
}

/**
 * What a browser (or any HTTP client) needs to upload one file with plain
 * `fetch`: `fetch(url, { method, headers, body })`. Every header in
 * `headers` must be sent as is.
 */
export interface SignedUpload {
  /** The signed URL; it grants writing this one file and nothing else. */
  url: string;
  /** The HTTP method of a one-request upload. */
  method: "PUT";
  /** Headers the request must carry (lower-case names). */
  headers: Record<string, string>;
  /** When the URL stops working. */
  expiresAt: Date;
  /** Whether the URL may replace an existing file (`false`: create-only). */
  overwrite: boolean;
  /** How to upload in blocks with the same URL; absent when the URL cannot. */
  blocks?: SignedUploadBlocks;
}

/**
 * File metadata as a backend reports it: `key` is the full backend key. A
 * backend with `http_attributes` reports the stored {@link HttpAttributes}.
 */
export interface BackendFileInfo extends HttpAttributes {
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
  /** Version id, where the service keeps versions. */
  versionId?: string;
  /** The whole content's MD5 as the service stores it. */
  digest?: ContentDigest;
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
  /** The new version's modification time, when the backend knows it. */
  modifiedAt?: Date;
  /** The new version's id, where the service keeps versions. */
  versionId?: string;
  /** The content's MD5 as the service computed or stored it, when returned. */
  digest?: ContentDigest;
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
  /**
   * Optional: checks that the backend can be used, with one cheap request
   * where there is a service (Azure: one List Blobs of at most one blob; local:
   * the root folder is a folder the process may read). It checks the
   * backend's own place (the container, the root folder), not a folder
   * inside it. Without this method the Store's `ping` lists the root and
   * stops at the first entry.
   *
   * @param options `signal`.
   * @returns Resolves when the backend answered as expected.
   * @throws {NotFoundError} When the container (or local root folder) does not exist.
   * @throws {PermissionDeniedError} When the credentials are refused.
   * @throws {BackendUnavailableError} When the service cannot be reached, or the backend is closed.
   *
   * @example Ping through the list (what the Store does without this method)
   * ```ts
   * import type { Backend } from "@remote-store/remote-store";
   * async function ping(backend: Backend, signal?: AbortSignal): Promise<void> {
   *   for await (const _ of backend.list("", { recursive: false, signal })) break;
   * }
   * ```
   */
  ping?(options: SignalOptions): Promise<void>;
  /**
   * Optional: creates an empty folder and its missing parents, where folders
   * exist on their own (capability `directories`). Idempotent: an existing
   * folder (or `""`, the root) resolves. A backend that has this method but
   * finds that it lacks `directories` (Azure on a flat namespace, once
   * `hns: "auto"` has probed the account) rejects `CapabilityNotSupportedError`
   * without writing anything.
   *
   * @param key Backend key of the folder (`""`: the backend root).
   * @param options `signal`.
   * @returns Resolves when the folder exists.
   * @throws {InvalidPathError} When a file is at `key` or at one of its parents.
   * @throws {CapabilityNotSupportedError} When folders are not real on this backend.
   *
   * @example Create a folder only where folders are real
   * ```ts
   * import type { Backend } from "@remote-store/remote-store";
   * async function mkdir(backend: Backend, key: string): Promise<boolean> {
   *   if (!backend.createFolder || !backend.capabilities.supports("directories")) return false;
   *   await backend.createFolder(key, {});
   *   return true;
   * }
   * ```
   */
  createFolder?(key: string, options: SignalOptions): Promise<void>;
  /**
   * What a client needs to upload one file with plain `fetch` (only with the
   * `"signed_url"` capability). With `overwrite: false` the service refuses
   * to replace an existing file whether or not the client sends the headers.
   */
  signedUpload?(key: string, options: BackendSignedUploadOptions): Promise<SignedUpload>;
  /** Converts a native path (absolute file path, `container/key`, ...) to a backend key. */
  toKey(nativePath: string): string;
  /** Returns the native client of the given type (escape hatch). */
  unwrap<T>(type: abstract new (...args: never[]) => T): T;
  /** Releases resources; idempotent; later calls fail with `BackendUnavailableError`. */
  close(): Promise<void>;
}
