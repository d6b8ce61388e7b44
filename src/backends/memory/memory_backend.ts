/**
 * The in-memory backend: the embedded default, edge-safe (no `node:` imports).
 *
 * @module
 */

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
  PreconditionFailedError,
} from "../../errors.ts";
import { concatBytes } from "../../_streams.ts";
import { guessContentType } from "../../_content_type.ts";
import { httpAttributesOf } from "../../_validate.ts";
import type { HttpAttributes } from "../../types.ts";
import { checkReadConditions } from "../../_conditions.ts";
import { compareKeys, fileNeeded } from "../../_order.ts";

/**
 * One stored version. Its arrays and objects are never changed in place and
 * never handed to a caller (reads copy), so a copy of the file may share them.
 */
interface Entry {
  readonly data: Uint8Array;
  readonly modifiedAt: Date;
  readonly etag: string;
  readonly contentType: string;
  readonly metadata: Readonly<Record<string, string>>;
  /** The HTTP attributes given to the write (only those that were set). */
  readonly attributes: Readonly<HttpAttributes>;
}

/** Bytes per chunk of a read stream. */
const READ_CHUNK = 256 * 1024;

/** The folders above a key, nearest last: `"a/b/c"` gives `"a"`, `"a/b"`. */
function ancestors(key: string): string[] {
  const out: string[] = [];
  for (let slash = key.indexOf("/"); slash >= 0; slash = key.indexOf("/", slash + 1)) {
    out.push(key.slice(0, slash));
  }
  return out;
}

/** A pull-based stream of fresh copies of `data`, one chunk at a time. */
function copyingStream(data: Uint8Array): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const end = Math.min(offset + READ_CHUNK, data.byteLength);
      if (end > offset) controller.enqueue(data.slice(offset, end));
      offset = end;
      if (offset >= data.byteLength) controller.close();
    },
  }, { highWaterMark: 0 });
}

const CAPABILITIES = new Capabilities(ALL_CAPABILITIES).without("directories", "signed_url");

/**
 * Keeps files in a `Map` in this process. Folders are virtual (they exist while
 * files exist below them), as on a flat object store, but a path is a file or a
 * folder, never both, as on a disk. Every write, copy and move checks and
 * commits in one synchronous step, so each is atomic and create-only ones are
 * race-free. Stored bytes are never shared with a caller: what is written is
 * copied in, what is read is copied out.
 *
 * @example Use directly through a Store
 * ```ts
 * import { MemoryBackend, Store } from "@remote-store/remote-store";
 * const store = new Store(new MemoryBackend());
 * await store.write("a.txt", "hello");
 * ```
 */
export class MemoryBackend implements Backend {
  /** Backend type name. */
  readonly name = "memory";
  /** Every capability except real (empty) directories. */
  readonly capabilities: Capabilities = CAPABILITIES;
  readonly #files = new Map<string, Entry>();
  /** How many files are below each folder (absent: none, so not a folder). */
  readonly #below = new Map<string, number>();
  #version = 0;
  #closed = false;

  /**
   * Creates an empty memory backend.
   *
   * @param _options Accepted for config symmetry; the memory backend has no options.
   */
  constructor(_options: Record<string, never> = {}) {}

  #check(signal?: AbortSignal): void {
    if (this.#closed) {
      throw new BackendUnavailableError("Backend is closed", { backend: this.name });
    }
    signal?.throwIfAborted();
  }

  #hasChildren(key: string): boolean {
    return key === "" ? this.#files.size > 0 : this.#below.has(key);
  }

  /** Stores `entry` at `key`, counting it in every folder above. */
  #put(key: string, entry: Entry): void {
    if (!this.#files.has(key)) {
      for (const folder of ancestors(key)) {
        this.#below.set(folder, (this.#below.get(folder) ?? 0) + 1);
      }
    }
    this.#files.set(key, entry);
  }

  /** Removes the file at `key`, if any, from the folders above it too. */
  #remove(key: string): void {
    if (!this.#files.delete(key)) return;
    for (const folder of ancestors(key)) {
      const count = this.#below.get(folder)! - 1;
      if (count === 0) this.#below.delete(folder);
      else this.#below.set(folder, count);
    }
  }

  /** Throws unless a file may be created or replaced at `key` (a path is a file or a folder). */
  #checkTarget(key: string, operation: string): void {
    if (ancestors(key).some((folder) => this.#files.has(folder))) {
      throw new InvalidPathError(
        `Cannot ${operation} because a parent of the path is a file, not a folder`,
        { path: key, backend: this.name },
      );
    }
    if (this.#below.has(key)) {
      throw new InvalidPathError(`Cannot ${operation} because the path is a folder, not a file`, {
        path: key,
        backend: this.name,
      });
    }
  }

  #entry(key: string): Entry {
    const entry = this.#files.get(key);
    if (entry) return entry;
    if (this.#hasChildren(key)) {
      throw new InvalidPathError("Path is a folder, not a file", { path: key, backend: this.name });
    }
    throw new NotFoundError("File not found", { path: key, backend: this.name });
  }

  #info(key: string, entry: Entry): BackendFileInfo {
    return {
      key,
      size: entry.data.byteLength,
      modifiedAt: new Date(entry.modifiedAt),
      etag: entry.etag,
      contentType: entry.contentType,
      metadata: { ...entry.metadata },
      ...entry.attributes,
    };
  }

  /** Stores a new version at `key` (a fresh ETag and time). */
  #commit(
    key: string,
    data: Uint8Array,
    template: Pick<Entry, "contentType" | "metadata" | "attributes">,
  ) {
    const entry: Entry = {
      contentType: template.contentType,
      metadata: template.metadata,
      attributes: template.attributes,
      data,
      modifiedAt: new Date(),
      etag: `"m${++this.#version}"`,
    };
    this.#put(key, entry);
    return entry;
  }

  /**
   * Opens a file as a stream of copies of its bytes, pinned to the version
   * opened (a later overwrite does not change what the stream delivers).
   *
   * @param key Backend key.
   * @param options `range`, read conditions, `signal`.
   * @returns The bytes as a stream.
   * @throws {NotFoundError} When missing.
   * @throws {InvalidPathError} When `key` is a folder.
   * @throws {PreconditionFailedError} When a read condition fails.
   */
  read(key: string, options: BackendReadOptions): Promise<ReadableStream<Uint8Array>> {
    return Promise.resolve().then(() => copyingStream(this.#slice(key, options)));
  }

  /**
   * The stored bytes of `key` within `options.range`, as a view that must not
   * leave this class; checks the read conditions against the same version.
   */
  #slice(key: string, options: BackendReadOptions): Uint8Array {
    this.#check(options.signal);
    const entry = this.#entry(key);
    checkReadConditions(entry, options, key);
    const { data } = entry;
    const start = Math.min(options.range?.offset ?? 0, data.byteLength);
    const length = options.range?.length;
    const end = length === undefined ? data.byteLength : Math.min(data.byteLength, start + length);
    return data.subarray(start, end);
  }

  /**
   * Reads a file (or a range) into a new array, without a stream.
   *
   * @param key Backend key.
   * @param options `range`, read conditions, `signal`.
   * @returns A copy of the bytes.
   * @throws {NotFoundError} When missing.
   * @throws {InvalidPathError} When `key` is a folder.
   * @throws {PreconditionFailedError} When a read condition fails.
   */
  readBytes(key: string, options: BackendReadOptions): Promise<Uint8Array> {
    return Promise.resolve().then(() => this.#slice(key, options).slice());
  }

  /**
   * Buffers the stream, then stores it in one step (so every write is atomic).
   *
   * @param key Backend key.
   * @param body The content.
   * @param options Overwrite, conditions and metadata.
   * @returns Size and ETag.
   * @throws {AlreadyExistsError} When create-only and the file exists.
   * @throws {InvalidPathError} When the path is a folder or a parent of it is a file.
   * @throws {PreconditionFailedError} When `ifMatch` does not match.
   */
  async write(
    key: string,
    body: ReadableStream<Uint8Array>,
    options: BackendWriteOptions,
  ): Promise<BackendWriteResult> {
    this.#check(options.signal);
    const data = await collectOwnBytes(body, options.size, options.signal);
    return this.#store(key, data, options);
  }

  /**
   * Stores a copy of bytes already in memory in one step.
   *
   * @param key Backend key.
   * @param bytes The content (copied).
   * @param options Overwrite, conditions and metadata.
   * @returns Size and ETag.
   * @throws {AlreadyExistsError} When create-only and the file exists.
   * @throws {InvalidPathError} When the path is a folder or a parent of it is a file.
   * @throws {PreconditionFailedError} When `ifMatch` does not match.
   */
  writeBytes(
    key: string,
    bytes: Uint8Array,
    options: BackendWriteOptions,
  ): Promise<BackendWriteResult> {
    return Promise.resolve().then(() => this.#store(key, bytes.slice(), options));
  }

  #store(key: string, data: Uint8Array, options: BackendWriteOptions): BackendWriteResult {
    this.#check(options.signal);
    this.#checkTarget(key, "write the file");
    const existing = this.#files.get(key);
    if (existing && !options.overwrite) {
      throw new AlreadyExistsError("File already exists", { path: key, backend: this.name });
    }
    if (options.ifMatch !== undefined && existing?.etag !== options.ifMatch) {
      throw new PreconditionFailedError("ETag does not match", { path: key, backend: this.name });
    }
    const entry = this.#commit(key, data, {
      contentType: options.contentType ?? guessContentType(key),
      metadata: { ...options.metadata },
      attributes: httpAttributesOf(options),
    });
    return { size: data.byteLength, etag: entry.etag, modifiedAt: new Date(entry.modifiedAt) };
  }

  /**
   * Deletes one file.
   *
   * @param key Backend key.
   * @param options `signal`.
   * @throws {NotFoundError} When missing.
   */
  delete(key: string, options: SignalOptions): Promise<void> {
    return Promise.resolve().then(() => {
      this.#check(options.signal);
      this.#entry(key);
      this.#remove(key);
    });
  }

  /**
   * Deletes every file below a folder (recursive), or fails when there is any.
   *
   * @param key Folder key.
   * @param options `recursive`, `signal`.
   * @throws {NotFoundError} When no file is below the key.
   * @throws {DirectoryNotEmptyError} When not recursive.
   */
  deleteFolder(key: string, options: BackendDeleteFolderOptions): Promise<void> {
    return Promise.resolve().then(() => {
      this.#check(options.signal);
      if (!this.#hasChildren(key)) {
        if (key === "") return;
        if (this.#files.has(key)) {
          throw new InvalidPathError("Path is a file, not a folder", {
            path: key,
            backend: this.name,
          });
        }
        throw new NotFoundError("Folder not found", { path: key, backend: this.name });
      }
      if (!options.recursive) {
        throw new DirectoryNotEmptyError("Folder is not empty", { path: key, backend: this.name });
      }
      const prefix = key === "" ? "" : `${key}/`;
      for (const existing of [...this.#files.keys()]) {
        if (existing.startsWith(prefix)) this.#remove(existing);
      }
    });
  }

  /**
   * File metadata.
   *
   * @param key Backend key.
   * @param options `signal`.
   * @returns The info.
   * @throws {NotFoundError} When missing.
   */
  getFileInfo(key: string, options: SignalOptions): Promise<BackendFileInfo> {
    return Promise.resolve().then(() => {
      this.#check(options.signal);
      return this.#info(key, this.#entry(key));
    });
  }

  /**
   * Whether any file is below the key.
   *
   * @param key Folder key.
   * @param options `signal`.
   * @returns `true` when it is a folder.
   */
  isFolder(key: string, options: SignalOptions): Promise<boolean> {
    return Promise.resolve().then(() => {
      this.#check(options.signal);
      return key === "" || this.#hasChildren(key);
    });
  }

  /**
   * Checks that the backend is open (there is nothing else to reach).
   *
   * @param options `signal`.
   * @returns Resolves while the backend is open.
   * @throws {BackendUnavailableError} After `close()`.
   */
  ping(options: SignalOptions): Promise<void> {
    return Promise.resolve().then(() => this.#check(options.signal));
  }

  /**
   * Lists below a folder, sorted by key (code point order).
   *
   * @param key Folder key.
   * @param options `recursive`, `startAfter`, `signal`.
   * @returns The entries.
   */
  async *list(key: string, options: BackendListOptions): AsyncGenerator<BackendEntry> {
    this.#check(options.signal);
    const prefix = key === "" ? "" : `${key}/`;
    const folders = new Set<string>();
    const { startAfter } = options;
    const keys = [...this.#files.keys()]
      .filter((k) => k.startsWith(prefix) && fileNeeded(k, startAfter))
      .sort(compareKeys);
    for (const fileKey of keys) {
      const entry = this.#files.get(fileKey);
      if (!entry) continue;
      const rest = fileKey.slice(prefix.length);
      const slash = rest.indexOf("/");
      if (options.recursive || slash < 0) {
        yield { kind: "file", info: this.#info(fileKey, entry) };
      } else {
        const folder = prefix + rest.slice(0, slash);
        if (!folders.has(folder)) {
          folders.add(folder);
          yield { kind: "folder", key: folder };
        }
      }
      this.#check(options.signal);
    }
  }

  /** Checks and commits a copy or move in one synchronous step (no await in between). */
  #transfer(
    kind: "copy" | "move",
    src: string,
    dst: string,
    options: BackendTransferOptions,
  ): Promise<void> {
    return Promise.resolve().then(() => {
      this.#check(options.signal);
      const operation = `${kind} the file`;
      const entry = this.#entry(src);
      this.#checkTarget(dst, operation);
      if (!options.overwrite && this.#files.has(dst)) {
        throw new AlreadyExistsError(`Cannot ${operation} because the destination already exists`, {
          path: dst,
          backend: this.name,
        });
      }
      if (kind === "copy") {
        this.#commit(dst, entry.data, entry);
      } else {
        this.#remove(src);
        this.#put(dst, entry);
      }
    });
  }

  /**
   * Copies a file in one synchronous step (atomic; create-only is race-free).
   *
   * @param src Source key.
   * @param dst Destination key.
   * @param options `overwrite`, `signal`.
   * @returns Resolves when copied.
   * @throws {NotFoundError} When the source is missing.
   * @throws {AlreadyExistsError} When create-only and the destination exists.
   * @throws {InvalidPathError} When the destination is a folder or a parent of it is a file.
   */
  copy(src: string, dst: string, options: BackendTransferOptions): Promise<void> {
    return this.#transfer("copy", src, dst, options);
  }

  /**
   * Moves a file in one synchronous step (atomic; create-only is race-free).
   *
   * @param src Source key.
   * @param dst Destination key.
   * @param options `overwrite`, `signal`.
   * @returns Resolves when moved.
   * @throws {NotFoundError} When the source is missing (also when a concurrent move took it).
   * @throws {AlreadyExistsError} When create-only and the destination exists.
   * @throws {InvalidPathError} When the destination is a folder or a parent of it is a file.
   */
  move(src: string, dst: string, options: BackendTransferOptions): Promise<void> {
    return this.#transfer("move", src, dst, options);
  }

  /**
   * Memory keys are their own native paths.
   *
   * @param nativePath A key.
   * @returns The same key.
   */
  toKey(nativePath: string): string {
    return nativePath;
  }

  /**
   * The memory backend has no native client.
   *
   * @param type The class asked for.
   * @returns Never.
   * @throws {CapabilityNotSupportedError} Always.
   */
  unwrap<T>(type: abstract new (...args: never[]) => T): T {
    throw new CapabilityNotSupportedError(
      "unwrap",
      { backend: this.name },
      `Memory backend has no native client of type "${type.name}"`,
    );
  }

  /**
   * Drops every file; later calls fail with `BackendUnavailableError`.
   *
   * @returns Resolves when closed.
   */
  close(): Promise<void> {
    this.#closed = true;
    this.#files.clear();
    this.#below.clear();
    return Promise.resolve();
  }
}

/**
 * Reads a stream into one new array the backend owns, holding at most the
 * chunks plus their join (the Store's stream hands over each chunk once):
 * filled in place when the size is known in advance.
 */
async function collectOwnBytes(
  body: ReadableStream<Uint8Array>,
  size: number | undefined,
  signal: AbortSignal | undefined,
): Promise<Uint8Array> {
  const reader = body.getReader();
  const onAbort = () => void reader.cancel(signal?.reason).catch(() => {});
  signal?.addEventListener("abort", onAbort, { once: true });
  let target = size === undefined ? undefined : new Uint8Array(size);
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    while (true) {
      signal?.throwIfAborted();
      const { done, value } = await reader.read();
      if (done) break;
      if (target !== undefined && total + value.byteLength <= target.byteLength) {
        target.set(value, total);
      } else {
        if (target !== undefined) {
          // More bytes than announced: keep what was filled as the first chunk.
          chunks.push(target.subarray(0, total));
          target = undefined;
        }
        chunks.push(value);
      }
      total += value.byteLength;
    }
    signal?.throwIfAborted();
  } finally {
    signal?.removeEventListener("abort", onAbort);
    reader.releaseLock();
  }
  if (target !== undefined) return total === target.byteLength ? target : target.slice(0, total);
  return chunks.length === 1 ? chunks[0]!.slice() : concatBytes(chunks, total);
}
