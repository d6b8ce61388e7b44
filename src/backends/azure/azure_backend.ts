/**
 * The Azure backend: Azure Blob Storage (flat namespace) through the Blob
 * API, streamed both ways. Private module; import it from the `./azure`
 * entrypoint.
 *
 * @module
 */

import type {
  Backend,
  BackendDeleteFolderOptions,
  BackendDeleteManyOptions,
  BackendDeleteManyResult,
  BackendEntry,
  BackendFileInfo,
  BackendListOptions,
  BackendReadOptions,
  BackendSignedUploadOptions,
  BackendSignedUrlOptions,
  BackendTransferOptions,
  BackendWriteOptions,
  BackendWriteResult,
  SignalOptions,
  SignedUpload,
} from "../../backend.ts";
import { ALL_CAPABILITIES, Capabilities } from "../../capabilities.ts";
import {
  AlreadyExistsError,
  BackendUnavailableError,
  CapabilityNotSupportedError,
  InvalidPathError,
} from "../../errors.ts";
import { guessContentType } from "../../_content_type.ts";
import {
  checkHeaderValue,
  checkSignedUrlValues,
  checkWriteValues,
  httpAttributesOf,
} from "../../_validate.ts";
import { bytesStream } from "../../_streams.ts";
import { type AzureBackendOptions, parseAzureOptions } from "./_options.ts";
import { AzureHttp, RETRY_DEFAULTS } from "./_http.ts";
import {
  type BlobConditions,
  deleteBlob,
  getAccountInfo,
  getBlobProperties,
  listBlobs,
  startCopy,
  storedVersion,
} from "./_blob_api.ts";
import {
  BACKEND,
  changedWhile,
  copyFailure,
  type ErrorScope,
  isFailedReadCondition,
  isMissingContainerError,
  isMissingPath,
  mapAzureError,
  missingFile,
  pathConflict,
} from "./_errors.ts";
import { runPool } from "./_pool.ts";
import { sleep } from "./_retry.ts";
import { deleteManyBlobs } from "./_batch.ts";
import { FlatNamespace } from "./_flat.ts";
import { HnsNamespace, isFolderMetadata, tempKeyFor } from "./_hns.ts";
import type { AzureContext, Namespace } from "./_namespace.ts";
import { type BlobReadOptions, openBlobReadStream, readBlobBytes } from "./_read_stream.ts";
import {
  markerFits,
  putBlob,
  randomHex,
  UPLOAD_MARKER,
  type UploadOptions,
  type UploadResult,
  uploadStream,
  userMetadata,
} from "./_upload.ts";
import { canSign, signBlobUpload, signBlobUrl } from "./_sas.ts";
import { sdkClient } from "./_sdk_clients.ts";

export type { AzureBackendOptions, AzureRetryOptions, TokenCredentialLike } from "./_options.ts";

const DEFAULT_BLOCK_SIZE = 8 * 1024 * 1024;
const DEFAULT_CONCURRENCY = 4;
/** The operation named in the errors of `write` and `writeBytes`. */
const WRITE = "write the file";
/** A download that receives nothing this long (while bytes are wanted) is resumed. */
const DEFAULT_READ_IDLE_TIMEOUT_MS = 30_000;
const PAGE_SIZE = 5000;
const DELETE_CONCURRENCY = 16;
const COPY_POLL_MS = 500;

/** What a flat Blob namespace can do: everything but atomic moves and real directories. */
const FLAT_CAPABILITIES = new Capabilities(ALL_CAPABILITIES).without("atomic_move", "directories");

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Blob names are UTF-8 in URLs: a key with a lone surrogate cannot name a blob. */
function checkKey(key: string): void {
  if (LONE_SURROGATE.test(key)) {
    throw new InvalidPathError("Path is not well-formed Unicode (lone surrogate)", {
      path: key,
      backend: BACKEND,
    });
  }
}

/** What an upload reported, as a backend write result. */
function writeResult(upload: UploadResult): BackendWriteResult {
  const result: BackendWriteResult = { size: upload.size, etag: upload.etag };
  if (upload.lastModified !== undefined) result.modifiedAt = upload.lastModified;
  return Object.assign(result, storedVersion(upload));
}

/**
 * Checks every caller value of a write that becomes a header or metadata,
 * before any I/O (the Store checks them too; a backend used directly must
 * not send them): the same rules as the Store, and the upload marker's
 * metadata name is reserved.
 *
 * @throws {TypeError} For an invalid content type, metadata name or value, or `ifMatch`.
 * @throws {RangeError} For metadata over 8 KiB.
 */
function checkAzureWriteValues(options: BackendWriteOptions): void {
  checkWriteValues(options);
  if (options.ifMatch !== undefined) checkHeaderValue("ifMatch", options.ifMatch);
  if (options.metadata === undefined) return;
  for (const name of Object.keys(options.metadata)) {
    if (name.toLowerCase() === UPLOAD_MARKER) {
      throw new TypeError(`Metadata name "${name}" is reserved by the Azure backend`);
    }
  }
}

/**
 * The caller's read conditions as request conditions (`undefined` when
 * there are none), checked before any I/O.
 *
 * @throws {TypeError} For an entity tag that is not a header value, or a date that is not a valid `Date`.
 */
function readConditions(options: BackendReadOptions): BlobConditions | undefined {
  const { ifMatch, ifNoneMatch, ifModifiedSince, ifUnmodifiedSince } = options;
  if (ifMatch !== undefined) checkHeaderValue("ifMatch", ifMatch);
  if (ifNoneMatch !== undefined) checkHeaderValue("ifNoneMatch", ifNoneMatch);
  for (
    const [name, date] of [["ifModifiedSince", ifModifiedSince], [
      "ifUnmodifiedSince",
      ifUnmodifiedSince,
    ]] as const
  ) {
    if (date !== undefined && !(date instanceof Date && Number.isFinite(date.getTime()))) {
      throw new TypeError(`${name} must be a valid Date`);
    }
  }
  if (
    ifMatch === undefined && ifNoneMatch === undefined && ifModifiedSince === undefined &&
    ifUnmodifiedSince === undefined
  ) {
    return undefined;
  }
  return { ifMatch, ifNoneMatch, ifModifiedSince, ifUnmodifiedSince };
}

function raceSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/**
 * Stores files as block blobs in one Azure Storage container.
 *
 * Folders are virtual: they exist while blobs exist below them; a path is a
 * file or a folder, never both (`strictPaths`, checked before each write).
 * Reads are pull-based streams that resume a dropped or stalled connection
 * (`readIdleTimeoutMs`) pinned to the blob's ETag; writes stage blocks with
 * bounded memory (`blockSize` × `concurrency`)
 * and commit them in one step, so readers never see a partial file.
 * Create-only writes, copies and moves are race-free (`If-None-Match: *`).
 * The constructor does no network I/O; with `hns: "auto"` the account is
 * probed once, on first use.
 *
 * On an ADLS Gen2 account (hierarchical namespace: `hns: true`, or `"auto"`
 * once probed) folders are real directories: `move` is one atomic rename,
 * a recursive `deleteFolder` is one request, `writeAtomic` uploads beside
 * the target and renames onto it, and the capabilities gain `atomic_move`
 * and `directories`.
 *
 * Secrets (account key, SAS token, connection string) are kept private and
 * never appear in messages, `String()`, `JSON.stringify` or inspect output.
 *
 * @example Use Azure Blob Storage through a Store
 * ```ts ignore
 * import { AzureBackend } from "@remote-store/remote-store/azure";
 * import { Store } from "@remote-store/remote-store";
 *
 * const backend = new AzureBackend({
 *   container: "reports",
 *   accountName: "myaccount",
 *   accountKey: Deno.env.get("AZURE_STORAGE_KEY")!,
 * });
 * const store = new Store(backend, { rootPath: "2024" });
 * await store.write("q1.csv", "revenue,profit\n100,20\n");
 * console.log(await store.readText("q1.csv"));
 * await backend.close();
 * ```
 */
export class AzureBackend implements Backend {
  /** Backend type name. */
  readonly name = "azure";
  /** Capabilities before the namespace is known (and on a flat namespace). */
  readonly #baseCapabilities: Capabilities;
  #hnsCapabilities: Capabilities | undefined;

  /**
   * What this backend can do. On a flat namespace (and with `hns: "auto"`
   * until the first operation has probed the account) every capability except
   * `atomic_move` and `directories`; on an ADLS Gen2 hierarchical namespace
   * those two as well.
   *
   * @returns The capabilities.
   */
  get capabilities(): Capabilities {
    if (this.#kind !== "hns") return this.#baseCapabilities;
    this.#hnsCapabilities ??= this.#baseCapabilities.with("atomic_move", "directories");
    return this.#hnsCapabilities;
  }

  readonly #http: AzureHttp;
  /** The parsed options, for the SDK clients of `unwrap` (never printed). */
  readonly #options: AzureBackendOptions;
  /** The SDK clients `unwrap` returned, by class. */
  readonly #sdkClients = new Map<unknown, unknown>();
  /** The `DefaultAzureCredential` of the SDK clients (with no credential in the options). */
  readonly #hns: "auto" | boolean;
  readonly #blockSize: number;
  readonly #concurrency: number;
  readonly #maxResumes: number;
  readonly #retryDelayMs: number;
  readonly #maxRetryDelayMs: number;
  readonly #readIdleTimeoutMs: number;
  readonly #strictPaths: boolean;
  readonly #context: AzureContext;
  readonly #flat: FlatNamespace;
  #hnsImpl: HnsNamespace | undefined;
  #namespace: Promise<Namespace> | undefined;
  /** The namespace kind once known (from `hns: true/false`, or after the `"auto"` probe). */
  #kind: "flat" | "hns" | undefined;
  #closed = false;
  /**
   * Creates a backend. Does no network I/O.
   *
   * @param options Container, credentials (`connectionString`; or `accountName` /
   *   `accountUrl` with `accountKey`, `sasToken` or `credential`; none means
   *   `DefaultAzureCredential`), `hns`, `blockSize`, `concurrency`, `retry`, `readIdleTimeoutMs`,
   *   `strictPaths`, `fetch`, `clientOptions`.
   * @throws {InvalidConfigError} When an option is invalid; the message names the option.
   */
  constructor(options: AzureBackendOptions) {
    const parsed = parseAzureOptions(options, "options");
    this.#options = parsed;
    this.#http = new AzureHttp(parsed);
    this.#baseCapabilities = canSign(this.#http.authKind)
      ? FLAT_CAPABILITIES
      : FLAT_CAPABILITIES.without("signed_url");
    this.#hns = parsed.hns ?? "auto";
    this.#kind = this.#hns === "auto" ? undefined : this.#hns ? "hns" : "flat";
    this.#blockSize = parsed.blockSize ?? DEFAULT_BLOCK_SIZE;
    this.#concurrency = parsed.concurrency ?? DEFAULT_CONCURRENCY;
    this.#maxResumes = parsed.retry?.maxResumes ?? RETRY_DEFAULTS.maxResumes;
    this.#retryDelayMs = parsed.retry?.retryDelayMs ?? RETRY_DEFAULTS.retryDelayMs;
    this.#maxRetryDelayMs = parsed.retry?.maxRetryDelayMs ?? RETRY_DEFAULTS.maxRetryDelayMs;
    this.#readIdleTimeoutMs = parsed.readIdleTimeoutMs ?? DEFAULT_READ_IDLE_TIMEOUT_MS;
    this.#strictPaths = parsed.strictPaths ?? true;
    this.#context = {
      http: this.#http,
      mapError: (error, scope) => this.#map(error, scope),
      pageSize: PAGE_SIZE,
      deleteConcurrency: DELETE_CONCURRENCY,
      batch: { refused: false },
      startFrom: { refused: false },
    };
    this.#flat = new FlatNamespace(this.#context);
  }

  // ---- plumbing ---------------------------------------------------------------

  #map(error: unknown, scope: ErrorScope): unknown {
    return mapAzureError(error, {
      ...scope,
      redact: (text) => this.#http.redact(text),
      container: this.#http.container,
    });
  }

  #check(signal?: AbortSignal): void {
    if (this.#closed) throw new BackendUnavailableError("Backend is closed", { backend: BACKEND });
    signal?.throwIfAborted();
  }

  /**
   * Checks the keys, then resolves the namespace implementation. With
   * `hns: "auto"` the first call sends one Get Account Information request,
   * shared by concurrent callers; a success is cached, a failure is reported
   * (never a silent fallback to flat) and the next call probes again.
   */
  #resolveNamespace(signal: AbortSignal | undefined, ...keys: string[]): Promise<Namespace> {
    this.#check(signal);
    for (const key of keys) checkKey(key);
    if (this.#hns === false) return Promise.resolve(this.#flat);
    if (this.#namespace === undefined) {
      const probe = (async (): Promise<Namespace> => {
        if (this.#hns === true) return this.#hnsNamespace();
        try {
          const info = await getAccountInfo(this.#http);
          if (info.isHnsEnabled) return this.#hnsNamespace();
          this.#kind = "flat";
          return this.#flat;
        } catch (error) {
          throw this.#map(error, {});
        }
      })();
      this.#namespace = probe;
      probe.catch(() => {
        if (this.#namespace === probe) this.#namespace = undefined;
      });
    }
    return raceSignal(this.#namespace, signal);
  }

  /** The hierarchical-namespace implementation (DFS API for folders and renames). */
  #hnsNamespace(): Namespace {
    this.#hnsImpl ??= new HnsNamespace(this.#context);
    this.#kind = "hns";
    return this.#hnsImpl;
  }

  /**
   * Whether a blob's metadata marks an HNS directory (`hdi_isfolder=true`);
   * on a flat namespace that metadata is a user's, and no blob is a folder.
   */
  #isDirectory(namespace: Namespace, metadata: Record<string, string>): boolean {
    return namespace.directoryBlobs && isFolderMetadata(metadata);
  }

  /** Maps a file method's error; on a 404, probes whether the key is a folder. */
  async #fileError(
    error: unknown,
    key: string,
    namespace: Namespace,
    signal: AbortSignal | undefined,
    conditionalRead = false,
  ): Promise<unknown> {
    if (signal?.aborted) return signal.reason;
    if (conditionalRead && isFailedReadCondition(error)) {
      // A failed condition (or `If-None-Match: *`, which Azure refuses as such): a
      // missing file or a directory is reported as such first, as on every backend.
      try {
        const properties = await getBlobProperties(this.#http, key, { signal });
        if (this.#isDirectory(namespace, properties.metadata)) return missingFile(key, true);
      } catch (missing) {
        return await this.#fileError(missing, key, namespace, signal);
      }
    }
    if (isMissingPath(error)) {
      this.#map(error, { key, signal }); // removes secrets from the native error's text
      const isFolder = await namespace.isFolder(key, signal);
      return missingFile(key, isFolder, error);
    }
    return this.#map(error, { key, signal, conditionalRead });
  }

  #resumeDelay = (attempt: number): number => {
    if (attempt <= 1) return 0;
    return Math.min(this.#retryDelayMs * 2 ** (attempt - 2), this.#maxRetryDelayMs);
  };

  // ---- files ------------------------------------------------------------------

  /**
   * Opens a blob as a stream pulled from the service on demand. The first GET
   * is sent before this resolves; a dropped connection resumes from the
   * current offset pinned to the ETag.
   *
   * @param key Backend key.
   * @param options `range`, `signal`, and the read conditions (`ifMatch`, `ifNoneMatch`,
   *   `ifModifiedSince`, `ifUnmodifiedSince`), sent with the first GET.
   * @returns The bytes as a stream.
   * @throws {NotFoundError} When there is no blob at `key`.
   * @throws {InvalidPathError} When `key` is a folder.
   * @throws {PreconditionFailedError} When a read condition does not hold (before any
   *   byte); from the stream, when the blob changed while being read.
   * @throws {TypeError} Before any I/O, when a condition is not a valid header value or date.
   * @throws {BackendUnavailableError} From the stream, when resuming failed `retry.maxResumes` times.
   */
  async read(key: string, options: BackendReadOptions): Promise<ReadableStream<Uint8Array>> {
    const { signal } = options;
    const conditions = readConditions(options);
    const namespace = await this.#resolveNamespace(signal, key);
    try {
      return await openBlobReadStream(
        this.#http,
        this.#readOptions(key, options, conditions, namespace),
      );
    } catch (error) {
      throw await this.#fileError(error, key, namespace, signal, conditions !== undefined);
    }
  }

  /**
   * Reads a blob (or a range) into one new array: one GET, its body
   * collected without a web stream. A dropped connection resumes from the
   * current offset pinned to the blob's ETag (at most `retry.maxResumes` times).
   *
   * @param key Backend key.
   * @param options `range`, `signal` and the read conditions, as for {@link read}.
   * @returns The bytes.
   * @throws {NotFoundError} When there is no blob at `key`.
   * @throws {InvalidPathError} When `key` is a folder.
   * @throws {PreconditionFailedError} When a read condition does not hold, or the blob
   *   changed while being read.
   * @throws {TypeError} Before any I/O, when a condition is not a valid header value or date.
   * @throws {BackendUnavailableError} When resuming failed `retry.maxResumes` times.
   */
  async readBytes(key: string, options: BackendReadOptions): Promise<Uint8Array> {
    const { signal } = options;
    const conditions = readConditions(options);
    const namespace = await this.#resolveNamespace(signal, key);
    try {
      return await readBlobBytes(
        this.#http,
        this.#readOptions(key, options, conditions, namespace),
      );
    } catch (error) {
      throw await this.#fileError(error, key, namespace, signal, conditions !== undefined);
    }
  }

  /** How `read` and `readBytes` download `key`. */
  #readOptions(
    key: string,
    options: BackendReadOptions,
    conditions: BlobConditions | undefined,
    namespace: Namespace,
  ): BlobReadOptions {
    const { signal, range } = options;
    return {
      key,
      offset: range?.offset ?? 0,
      length: range?.length,
      signal,
      maxResumes: this.#maxResumes,
      resumeDelayMs: this.#resumeDelay,
      idleTimeoutMs: this.#readIdleTimeoutMs,
      mapError: (error) => this.#map(error, { key, signal }),
      rejectFolder: namespace.directoryBlobs,
      conditions,
    };
  }

  /**
   * Writes a blob from a stream: one Put Blob when the content fits in one
   * block, otherwise staged blocks committed with one Put Block List. Nothing
   * is visible until the commit; a failed or aborted write leaves the old content.
   *
   * @param key Backend key.
   * @param body The content.
   * @param options `overwrite` (false sends `If-None-Match: *`), `ifMatch`, `size`,
   *   `contentType` (default: guessed from the key), `metadata`, `signal`.
   * With `atomic` on a hierarchical namespace, the content is uploaded to a
   * temporary file beside the target (`.~tmp.<name>.<id>.<check>`, never listed;
   * other names starting with `.~tmp.` are ordinary files)
   * and renamed onto it in one step; the temporary file is deleted on failure.
   *
   * @returns Size and ETag.
   * @throws {AlreadyExistsError} When create-only and the blob exists (also when a concurrent writer won).
   * @throws {InvalidPathError} When a parent of `key` is a file or `key` is a folder.
   * @throws {PreconditionFailedError} When `ifMatch` does not match.
   * @throws {TypeError} Before any I/O, when `contentType`, `ifMatch` or a metadata name or
   *   value is invalid (the Store's rules; the name `remotestoreupload` is reserved).
   * @throws {RangeError} Before any I/O, when metadata exceeds 8 KiB.
   */
  async write(
    key: string,
    body: ReadableStream<Uint8Array>,
    options: BackendWriteOptions,
  ): Promise<BackendWriteResult> {
    const { signal } = options;
    let namespace: Namespace;
    try {
      checkAzureWriteValues(options);
      namespace = await this.#resolveNamespace(signal, key);
      await this.#checkDestination(key, WRITE, namespace, signal);
    } catch (error) {
      await body.cancel(error).catch(() => {});
      throw error;
    }
    if (options.atomic && namespace.rename) {
      return await this.#writeViaRename(
        namespace as Namespace & Required<Pick<Namespace, "rename">>,
        key,
        body,
        options,
      );
    }
    try {
      return writeResult(
        await uploadStream(this.#http, key, body, this.#uploadOptions(key, options)),
      );
    } catch (error) {
      const createOnly = !options.overwrite;
      throw await this.#destinationError(error, key, WRITE, namespace, signal, createOnly);
    }
  }

  /**
   * Writes a blob whose content is in memory: one Put Blob (create-only with
   * `If-None-Match: *`, `ifMatch`, content type and metadata in the same
   * request) when it fits in one block, otherwise staged blocks as {@link write}.
   * Nothing is visible until the request completes; an aborted write stores nothing.
   *
   * @param key Backend key.
   * @param bytes The content (not modified, not kept).
   * @param options As for {@link write}.
   * @returns Size and ETag.
   * @throws {AlreadyExistsError} When create-only and the blob exists.
   * @throws {InvalidPathError} When a parent of `key` is a file or `key` is a folder.
   * @throws {PreconditionFailedError} When `ifMatch` does not match.
   * @throws {TypeError} Before any I/O, as for {@link write}.
   * @throws {RangeError} Before any I/O, as for {@link write}.
   */
  async writeBytes(
    key: string,
    bytes: Uint8Array,
    options: BackendWriteOptions,
  ): Promise<BackendWriteResult> {
    const { signal } = options;
    checkAzureWriteValues(options);
    const namespace = await this.#resolveNamespace(signal, key);
    const upload = this.#uploadOptions(key, options);
    if (
      bytes.byteLength > this.#blockSize || (options.atomic && namespace.rename) ||
      !markerFits(upload)
    ) {
      return await this.write(key, bytesStream(bytes), options);
    }
    await this.#checkDestination(key, WRITE, namespace, signal);
    try {
      return writeResult(await putBlob(this.#http, key, bytes, upload));
    } catch (error) {
      const createOnly = !options.overwrite;
      throw await this.#destinationError(error, key, WRITE, namespace, signal, createOnly);
    }
  }

  /**
   * Flat namespace with `strictPaths`: refuses a file at `key` when a parent
   * of `key` is a file or `key` is a folder, before anything is written (one
   * HEAD per parent and a one-result listing, in parallel). A check before
   * the write, not atomic with it. On HNS the service refuses such writes.
   */
  async #checkDestination(
    key: string,
    operation: string,
    namespace: Namespace,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    if (namespace.refusesPathConflicts || !this.#strictPaths) return;
    const conflict = await this.#pathConflict(key, operation, namespace, signal);
    if (conflict !== undefined) throw conflict;
  }

  /**
   * The error for a failed write, copy or move to `key`. On HNS a refusal
   * (a path conflict, or "exists" where a directory is) is reported with the
   * file-or-folder messages every backend uses, after one look at the path.
   */
  async #destinationError(
    error: unknown,
    key: string,
    operation: string,
    namespace: Namespace,
    signal: AbortSignal | undefined,
    createOnly: boolean,
  ): Promise<unknown> {
    const mapped = this.#map(error, { key, signal, createOnly });
    if (!namespace.refusesPathConflicts || signal?.aborted) return mapped;
    if (!(mapped instanceof InvalidPathError || mapped instanceof AlreadyExistsError)) {
      return mapped;
    }
    const conflict = await this.#pathConflict(key, operation, namespace, signal, mapped)
      .catch(() => undefined);
    return conflict ?? mapped;
  }

  /**
   * Whether a file at `key` would make a path both a file and a folder: the
   * `InvalidPathError` saying so, or `undefined`.
   */
  async #pathConflict(
    key: string,
    operation: string,
    namespace: Namespace,
    signal: AbortSignal | undefined,
    cause?: unknown,
  ): Promise<InvalidPathError | undefined> {
    const segments = key.split("/");
    const parents = segments.slice(1).map((_, i) => segments.slice(0, i + 1).join("/"));
    let parentIsFile = false;
    let isFolder = false;
    await runPool([key, ...parents], DELETE_CONCURRENCY, signal, async (path) => {
      if (path === key) isFolder = await namespace.isFolder(key, signal);
      else if (await this.#isFile(path, namespace, signal)) parentIsFile = true;
    });
    if (parentIsFile) return pathConflict("parentIsFile", operation, key, cause);
    if (isFolder) return pathConflict("isFolder", operation, key, cause);
    return undefined;
  }

  /** Whether a file (not an HNS directory) is at `key`: one HEAD. */
  async #isFile(key: string, namespace: Namespace, signal: AbortSignal | undefined) {
    try {
      const properties = await getBlobProperties(this.#http, key, { signal });
      return !this.#isDirectory(namespace, properties.metadata);
    } catch (error) {
      if (isMissingPath(error)) return false;
      throw this.#map(error, { key, signal });
    }
  }

  /** How `write` and `writeBytes` upload `key`. */
  #uploadOptions(key: string, options: BackendWriteOptions): UploadOptions {
    return {
      key,
      size: options.size,
      blockSize: this.#blockSize,
      concurrency: this.#concurrency,
      contentType: options.contentType ?? guessContentType(key),
      attributes: httpAttributesOf(options),
      metadata: options.metadata,
      overwrite: options.overwrite,
      ifMatch: options.ifMatch,
      signal: options.signal,
      contentMd5: options.checksum !== undefined,
    };
  }

  /**
   * `writeAtomic` where the namespace renames atomically (HNS): upload to a
   * temporary file, then one atomic rename onto `key`.
   */
  async #writeViaRename(
    namespace: Namespace & Required<Pick<Namespace, "rename">>,
    key: string,
    body: ReadableStream<Uint8Array>,
    options: BackendWriteOptions,
  ): Promise<BackendWriteResult> {
    const { signal } = options;
    const temp = tempKeyFor(key, randomHex(8));
    const discard = () => deleteBlob(this.#http, temp, {}).then(() => {}, () => {});
    let result: BackendWriteResult;
    try {
      result = writeResult(
        await uploadStream(this.#http, temp, body, {
          key: temp,
          size: options.size,
          blockSize: this.#blockSize,
          concurrency: this.#concurrency,
          contentType: options.contentType ?? guessContentType(key),
          attributes: httpAttributesOf(options),
          metadata: options.metadata,
          overwrite: false,
          signal,
          contentMd5: options.checksum !== undefined,
        }),
      );
    } catch (error) {
      await discard();
      throw await this.#destinationError(error, key, WRITE, namespace, signal, false);
    }
    try {
      await namespace.rename(temp, key, {
        overwrite: options.overwrite,
        ifMatch: options.ifMatch,
      }, signal);
    } catch (error) {
      await discard();
      throw await this.#destinationError(
        error,
        key,
        WRITE,
        namespace,
        signal,
        !options.overwrite,
      );
    }
    // The rename may change the time (the content and its MD5 stay): report no time.
    const { modifiedAt: _, ...renamed } = result;
    return renamed;
  }

  /**
   * Deletes one file: on a flat namespace the blob and its snapshots; on
   * HNS only a file (checked, and pinned to the ETag that was checked).
   *
   * @param key Backend key.
   * @param options `signal`.
   * @throws {NotFoundError} When there is no blob at `key`.
   * @throws {InvalidPathError} When `key` is a folder.
   */
  async delete(key: string, options: SignalOptions): Promise<void> {
    const { signal } = options;
    const namespace = await this.#resolveNamespace(signal, key);
    try {
      await namespace.deleteFile(key, signal);
    } catch (error) {
      throw await this.#fileError(error, key, namespace, signal);
    }
  }

  /**
   * Deletes many files. Flat namespace: Blob Batch requests of up to 256
   * deletes (each with its snapshots), at most `concurrency` in flight, and
   * single deletes once the service refused a batch. ADLS Gen2: one checked
   * {@link delete} per key, so that a directory is never removed.
   *
   * @param keys Backend keys.
   * @param options `concurrency`, `signal`.
   * @returns One result per key, in order.
   */
  async deleteMany(
    keys: readonly string[],
    options: BackendDeleteManyOptions,
  ): Promise<BackendDeleteManyResult[]> {
    const { signal } = options;
    const namespace = await this.#resolveNamespace(signal, ...keys.slice(0, 1));
    const context = {
      http: this.#http,
      // Where directories are blobs (ADLS Gen2) a Delete Blob could remove one: check each key.
      useBatch: !namespace.directoryBlobs,
      batch: this.#context.batch,
      mapError: (error: unknown, key: string, signal: AbortSignal | undefined) =>
        this.#map(error, { key, signal }),
      deleteOne: (key: string, signal: AbortSignal | undefined) => this.delete(key, { signal }),
    };
    return await deleteManyBlobs(context, keys, options);
  }

  /**
   * Deletes a folder: with `recursive`, every blob below it (Blob Batch
   * requests where the service allows them, otherwise 16 deletes in flight).
   *
   * @param key Folder key (`""` for the whole container).
   * @param options `recursive`, `signal`.
   * @throws {NotFoundError} When no blob is below `key`.
   * @throws {DirectoryNotEmptyError} When not recursive and blobs are below `key`.
   */
  async deleteFolder(key: string, options: BackendDeleteFolderOptions): Promise<void> {
    const namespace = await this.#resolveNamespace(options.signal, key);
    await namespace.deleteFolder(key, options.recursive, options.signal);
  }

  /**
   * Blob properties. Metadata names come back lowercased (Azure treats them
   * case-insensitively).
   *
   * @param key Backend key.
   * @param options `signal`.
   * @returns Size, modification time, ETag, content type and metadata.
   * @throws {NotFoundError} When there is no blob at `key`.
   * @throws {InvalidPathError} When `key` is a folder.
   */
  async getFileInfo(key: string, options: SignalOptions): Promise<BackendFileInfo> {
    const { signal } = options;
    const namespace = await this.#resolveNamespace(signal, key);
    try {
      const p = await getBlobProperties(this.#http, key, { signal });
      if (this.#isDirectory(namespace, p.metadata)) throw missingFile(key, true);
      const info: BackendFileInfo = { key, size: p.size, modifiedAt: p.lastModified };
      if (p.etag !== undefined) info.etag = p.etag;
      if (p.contentType !== undefined) info.contentType = p.contentType;
      Object.assign(info, storedVersion(p));
      info.metadata = userMetadata(p.metadata);
      return info;
    } catch (error) {
      throw await this.#fileError(error, key, namespace, signal);
    }
  }

  /**
   * Whether any blob is below `key` (one-result prefix probe); on ADLS Gen2,
   * whether a directory is at `key`. `false` when the container is missing.
   *
   * @param key Folder key (`""` is the container root and always exists).
   * @param options `signal`.
   * @returns `true` for a folder.
   */
  async isFolder(key: string, options: SignalOptions): Promise<boolean> {
    const namespace = await this.#resolveNamespace(options.signal, key);
    try {
      return await namespace.isFolder(key, options.signal);
    } catch (error) {
      if (isMissingContainerError(error)) return false; // no container, no folder in it
      throw error;
    }
  }

  /**
   * Lists below a folder, one service page at a time (never collected first):
   * one level by delimiter, or every blob by prefix with `recursive`.
   *
   * @param key Folder key (`""` for the container root).
   * @param options `recursive`, `signal`.
   * @returns The entries; a missing folder (or container) yields nothing.
   */
  async *list(key: string, options: BackendListOptions): AsyncGenerator<BackendEntry> {
    const namespace = await this.#resolveNamespace(options.signal, key);
    const { recursive, signal, startAfter } = options;
    // A paged listing asks for its page (and the `startAfter` key itself, which `startFrom` returns).
    const wanted = options.pageSize === undefined ? Infinity : options.pageSize + 1;
    const pageSize = Math.max(1, Math.min(this.#context.pageSize, wanted));
    try {
      for await (const entry of namespace.list(key, { recursive, signal, startAfter, pageSize })) {
        this.#check(signal);
        yield entry;
      }
    } catch (error) {
      if (isMissingContainerError(error)) return; // a missing container lists nothing
      throw error;
    }
  }

  /** Server-side copy pinned to the source ETag; returns that ETag. */
  async #copy(
    src: string,
    dst: string,
    overwrite: boolean,
    namespace: Namespace,
    signal: AbortSignal | undefined,
    onProgress: ((loaded: number, total?: number) => void) | undefined,
    operation: string,
  ): Promise<string | undefined> {
    let etag: string | undefined;
    try {
      etag = (await getBlobProperties(this.#http, src, { signal })).etag;
    } catch (error) {
      throw await this.#fileError(error, src, namespace, signal);
    }
    await this.#checkDestination(dst, operation, namespace, signal);
    try {
      let { copyStatus } = await startCopy(this.#http, dst, this.#http.sourceUrl(src), {
        ifNoneMatch: overwrite ? undefined : "*",
        sourceIfMatch: etag,
        signal,
      });
      // A copy the service has not finished at once: poll the destination until it has.
      while (copyStatus === "pending") {
        await sleep(COPY_POLL_MS, signal);
        const state = await getBlobProperties(this.#http, dst, { signal });
        copyStatus = state.copyStatus;
        const match = /^(\d+)\/(\d+)$/.exec(state.copyProgress ?? "");
        if (onProgress && match) onProgress(Number(match[1]), Number(match[2]));
      }
      if (copyStatus !== undefined && copyStatus !== "success") {
        throw new BackendUnavailableError(`Server-side copy ended as "${copyStatus}"`, {
          path: dst,
          backend: BACKEND,
        });
      }
      return etag;
    } catch (error) {
      if (copyFailure(error) === "sourceMissing") {
        throw await this.#fileError(error, src, namespace, signal);
      }
      const changed = changedWhile(error, src, "copy");
      if (changed) throw (this.#map(error, { key: src }), changed);
      throw await this.#destinationError(error, dst, operation, namespace, signal, !overwrite);
    }
  }

  /**
   * Copies a blob server-side (any size), pinned to the source's ETag.
   *
   * @param src Source key.
   * @param dst Destination key.
   * @param options `overwrite` (false sends `If-None-Match: *` for the destination),
   *   `onProgress` (the service's copy progress, for long copies), `signal`.
   * @throws {NotFoundError} When the source does not exist.
   * @throws {AlreadyExistsError} When create-only and the destination exists.
   * @throws {InvalidPathError} When a parent of `dst` is a file or `dst` is a folder.
   * @throws {PreconditionFailedError} When the source changed during the copy.
   */
  async copy(src: string, dst: string, options: BackendTransferOptions): Promise<void> {
    const namespace = await this.#resolveNamespace(options.signal, src, dst);
    await this.#copy(
      src,
      dst,
      options.overwrite,
      namespace,
      options.signal,
      options.onProgress,
      "copy the file",
    );
  }

  /**
   * Moves a blob: server-side copy, then delete of the source conditioned on
   * the ETag that was copied (not atomic on a flat namespace).
   *
   * @param src Source key.
   * @param dst Destination key.
   * @param options `overwrite`, `signal`.
   * @throws {NotFoundError} When the source does not exist.
   * @throws {AlreadyExistsError} When create-only and the destination exists.
   * @throws {InvalidPathError} When a parent of `dst` is a file or `dst` is a folder.
   * @throws {PreconditionFailedError} When the source changed during the move (the copy is kept).
   */
  async move(src: string, dst: string, options: BackendTransferOptions): Promise<void> {
    const { signal, overwrite } = options;
    const namespace = await this.#resolveNamespace(signal, src, dst);
    const operation = "move the file";
    try {
      await namespace.move(
        src,
        dst,
        overwrite,
        signal,
        () => this.#copy(src, dst, overwrite, namespace, signal, options.onProgress, operation),
      );
    } catch (error) {
      throw await this.#destinationError(error, dst, operation, namespace, signal, !overwrite);
    }
  }

  // ---- health and folders -----------------------------------------------------

  /**
   * Checks the account and the container with one List Blobs request of at
   * most one blob (after the namespace probe of `hns: "auto"`, on first use).
   * It works with every kind of credential that may list the container; a
   * container SAS needs the list permission (`l`): Get Container Properties
   * is not allowed with a container SAS at all.
   *
   * @param options `signal`.
   * @returns Resolves when the container answered.
   * @throws {NotFoundError} When the container does not exist (the message names it).
   * @throws {PermissionDeniedError} When the credentials are refused.
   * @throws {BackendUnavailableError} When the service cannot be reached (after the
   *   retries of `retry`), or the backend is closed.
   */
  async ping(options: SignalOptions): Promise<void> {
    const { signal } = options;
    await this.#resolveNamespace(signal);
    try {
      await listBlobs(this.#http, { maxResults: 1, signal });
    } catch (error) {
      throw this.#map(error, { signal });
    }
  }

  /**
   * Creates a directory and its missing parents on ADLS Gen2 (one DFS Path
   * Create, `If-None-Match: *`); an existing directory resolves. `""` (the
   * container root) only checks the container, as {@link ping} does. On a
   * flat namespace, where folders are virtual, it rejects
   * `CapabilityNotSupportedError` before any request (with `hns: "auto"`:
   * after the probe).
   *
   * @param key Folder key (`""` for the container root).
   * @param options `signal`.
   * @returns Resolves when the directory exists.
   * @throws {CapabilityNotSupportedError} On a flat namespace.
   * @throws {InvalidPathError} When a file is at `key` or at one of its parents.
   * @throws {NotFoundError} When the container does not exist.
   */
  async createFolder(key: string, options: SignalOptions): Promise<void> {
    const { signal } = options;
    const refuse = () =>
      new CapabilityNotSupportedError(
        "directories",
        { path: key, backend: BACKEND },
        'Cannot create an empty folder because folders on a flat Blob namespace exist only while blobs are below them (no capability "directories")',
      );
    if (this.#hns === false) throw refuse();
    const namespace = await this.#resolveNamespace(signal, key);
    if (!namespace.createFolder) throw refuse();
    if (key === "") return await this.ping({ signal });
    await namespace.createFolder(key, signal);
  }

  // ---- native ---------------------------------------------------------------

  /**
   * A time-limited URL for one blob: a blob-scoped service SAS signed with the
   * account key, or a user delegation SAS with a token credential (never an
   * account SAS). Not available with SAS-token or anonymous credentials.
   *
   * @param key Blob key.
   * @param options `expiresIn` seconds, `permissions`, `contentType`, `contentDisposition`.
   * @returns The signed URL.
   * @throws {CapabilityNotSupportedError} When the credentials cannot sign.
   */
  async signedUrl(key: string, options: BackendSignedUrlOptions): Promise<string> {
    this.#check(options.signal);
    checkSignedUrlValues(options);
    try {
      return await signBlobUrl(this.#http, key, options);
    } catch (error) {
      throw this.#map(error, { key, signal: options.signal });
    }
  }

  /**
   * What a browser needs to upload one blob with plain `fetch`: a blob-scoped
   * SAS URL (`sp=c` create-only, `sp=cw` with `overwrite`), `PUT`, and the
   * headers `x-ms-blob-type: BlockBlob`, `content-type` (when given; stored,
   * not enforced) and `if-none-match: *` (create-only). With `overwrite`,
   * `blocks` describes Put Block / Put Block List with the same URL.
   *
   * @param key Blob key.
   * @param options `expiresIn` seconds, `overwrite`, `contentType`.
   * @returns The upload description.
   * @throws {CapabilityNotSupportedError} When the credentials cannot sign.
   */
  async signedUpload(key: string, options: BackendSignedUploadOptions): Promise<SignedUpload> {
    this.#check(options.signal);
    checkWriteValues(options);
    try {
      return await signBlobUpload(this.#http, key, options);
    } catch (error) {
      throw this.#map(error, { key, signal: options.signal });
    }
  }

  /**
   * Converts a native path to a key: strips a leading `<container>/`, and
   * accepts a full blob (or DFS) URL of a blob in this container.
   *
   * @param nativePath `container/key`, a blob URL, or a key.
   * @returns The backend key.
   * @throws {InvalidPathError} For a URL outside this container.
   */
  toKey(nativePath: string): string {
    const container = this.#http.container;
    if (/^https?:\/\//i.test(nativePath)) {
      let url: URL;
      try {
        url = new URL(nativePath);
      } catch (cause) {
        throw new InvalidPathError("Not a valid URL", {
          path: nativePath,
          backend: BACKEND,
          cause,
        });
      }
      for (const base of [this.#http.blobUrl, this.#http.dfsUrl]) {
        const baseUrl = new URL(base);
        const root = `${baseUrl.pathname.replace(/\/+$/, "")}/${container}`;
        if (url.origin !== baseUrl.origin) continue;
        if (url.pathname !== root && !url.pathname.startsWith(`${root}/`)) continue;
        try {
          return url.pathname.slice(root.length + 1).split("/").map(decodeURIComponent).join("/");
        } catch (cause) {
          throw new InvalidPathError("URL has a malformed escape", {
            path: nativePath,
            backend: BACKEND,
            cause,
          });
        }
      }
      throw new InvalidPathError(`URL is not in container "${container}"`, {
        path: nativePath,
        backend: BACKEND,
      });
    }
    const path = nativePath.replace(/^\/+/, "");
    if (path === container) return "";
    return path.startsWith(`${container}/`) ? path.slice(container.length + 1) : nativePath;
  }

  /**
   * Returns a native SDK client built from this backend's credentials and
   * `clientOptions`: `BlobServiceClient`, `ContainerClient`, or
   * `DataLakeFileSystemClient` (on the DFS endpoint), created from the class
   * passed on first request (the backend itself loads no SDK) and the same
   * object afterwards.
   *
   * @param type One of those classes.
   * @returns The client.
   * @throws {CapabilityNotSupportedError} For any other type, or when the credentials cannot
   *   be given to that client.
   * @throws {BackendUnavailableError} After `close()`.
   */
  unwrap<T>(type: abstract new (...args: never[]) => T): T {
    this.#check();
    let client = this.#sdkClients.get(type);
    if (client === undefined) {
      client = sdkClient(type, this.#options, this.#http.tokenCredential);
      if (client === undefined) {
        throw new CapabilityNotSupportedError(
          "unwrap",
          { backend: BACKEND },
          `Azure backend has no native client of type "${type?.name ?? String(type)}"`,
        );
      }
      this.#sdkClients.set(type, client);
    }
    return client as T;
  }

  /**
   * Aborts the requests in flight and releases any credential this backend
   * created. Idempotent; later calls fail with `BackendUnavailableError`.
   *
   * @returns Resolves when closed.
   */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#http.close();
    }
    return Promise.resolve();
  }

  /**
   * A description without secrets.
   *
   * @returns For example `AzureBackend(container="c", url="https://acct.blob.core.windows.net")`.
   */
  toString(): string {
    return `AzureBackend(container="${this.#http.container}", url="${this.#http.blobUrl}")`;
  }

  /**
   * The JSON form, without secrets.
   *
   * @returns Type, container, endpoints, authentication kind and HNS mode.
   */
  toJSON(): {
    type: "azure";
    container: string;
    blobUrl: string;
    dfsUrl: string;
    auth: string;
    hns: "auto" | boolean;
  } {
    return {
      type: "azure",
      container: this.#http.container,
      blobUrl: this.#http.blobUrl,
      dfsUrl: this.#http.dfsUrl,
      auth: this.#http.authKind,
      hns: this.#hns,
    };
  }

  /**
   * Inspect output (Node `util.inspect`, Bun): the same as `toString()`.
   *
   * @returns The description.
   */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }

  /**
   * Inspect output (`Deno.inspect`): the same as `toString()`.
   *
   * @returns The description.
   */
  [Symbol.for("Deno.customInspect")](): string {
    return this.toString();
  }
}
