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
import { bytesStream, collectBytes } from "../../_streams.ts";
import { guessContentType } from "../../_content_type.ts";

interface Entry {
  data: Uint8Array;
  modifiedAt: Date;
  etag: string;
  contentType: string;
  metadata: Record<string, string>;
}

const CAPABILITIES = new Capabilities(ALL_CAPABILITIES).without("directories", "signed_url");

/**
 * Keeps files in a `Map` in this process. Folders are virtual (they exist while
 * files exist below them), as on a flat object store. Every write is atomic and
 * create-only writes are race-free.
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
    const prefix = key === "" ? "" : `${key}/`;
    for (const existing of this.#files.keys()) {
      if (existing.startsWith(prefix)) return true;
    }
    return false;
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
      modifiedAt: entry.modifiedAt,
      etag: entry.etag,
      contentType: entry.contentType,
      metadata: { ...entry.metadata },
    };
  }

  #commit(key: string, data: Uint8Array, template: Omit<Entry, "data" | "etag" | "modifiedAt">) {
    const entry: Entry = {
      ...template,
      data,
      modifiedAt: new Date(),
      etag: `"m${++this.#version}"`,
    };
    this.#files.set(key, entry);
    return entry;
  }

  /**
   * Opens a file as a stream of one copy-free view of its bytes.
   *
   * @param key Backend key.
   * @param options `range`, `signal`.
   * @returns The bytes as a stream.
   * @throws {NotFoundError} When missing.
   */
  read(key: string, options: BackendReadOptions): Promise<ReadableStream<Uint8Array>> {
    return Promise.resolve().then(() => bytesStream(this.#slice(key, options)));
  }

  /** The stored bytes of `key` within `options.range`, as a view. */
  #slice(key: string, options: BackendReadOptions): Uint8Array {
    this.#check(options.signal);
    const { data } = this.#entry(key);
    const start = Math.min(options.range?.offset ?? 0, data.byteLength);
    const length = options.range?.length;
    const end = length === undefined ? data.byteLength : Math.min(data.byteLength, start + length);
    return data.subarray(start, end);
  }

  /**
   * Reads a file (or a range) into a new array, without a stream.
   *
   * @param key Backend key.
   * @param options `range`, `signal`.
   * @returns A copy of the bytes.
   * @throws {NotFoundError} When missing.
   * @throws {InvalidPathError} When `key` is a folder.
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
   */
  async write(
    key: string,
    body: ReadableStream<Uint8Array>,
    options: BackendWriteOptions,
  ): Promise<BackendWriteResult> {
    this.#check(options.signal);
    const data = (await collectBytes(body, options.signal)).slice();
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
    });
    return { size: data.byteLength, etag: entry.etag };
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
      this.#files.delete(key);
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
        if (existing.startsWith(prefix)) this.#files.delete(existing);
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
   * Lists below a folder, sorted by key.
   *
   * @param key Folder key.
   * @param options `recursive`, `signal`.
   * @returns The entries.
   */
  async *list(key: string, options: BackendListOptions): AsyncGenerator<BackendEntry> {
    this.#check(options.signal);
    const prefix = key === "" ? "" : `${key}/`;
    const folders = new Set<string>();
    const keys = [...this.#files.keys()].filter((k) => k.startsWith(prefix)).sort();
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

  #transfer(src: string, dst: string, options: BackendTransferOptions): Promise<Entry> {
    return Promise.resolve().then(() => {
      this.#check(options.signal);
      const entry = this.#entry(src);
      if (!options.overwrite && this.#files.has(dst)) {
        throw new AlreadyExistsError("File already exists", { path: dst, backend: this.name });
      }
      return entry;
    });
  }

  /**
   * Copies a file.
   *
   * @param src Source key.
   * @param dst Destination key.
   * @param options `overwrite`, `signal`.
   * @throws {NotFoundError} When the source is missing.
   * @throws {AlreadyExistsError} When create-only and the destination exists.
   */
  async copy(src: string, dst: string, options: BackendTransferOptions): Promise<void> {
    const entry = await this.#transfer(src, dst, options);
    this.#commit(dst, entry.data, entry);
  }

  /**
   * Moves a file in one synchronous step (atomic).
   *
   * @param src Source key.
   * @param dst Destination key.
   * @param options `overwrite`, `signal`.
   * @throws {NotFoundError} When the source is missing.
   * @throws {AlreadyExistsError} When create-only and the destination exists.
   */
  async move(src: string, dst: string, options: BackendTransferOptions): Promise<void> {
    const entry = await this.#transfer(src, dst, options);
    this.#files.set(dst, entry);
    this.#files.delete(src);
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
    return Promise.resolve();
  }
}
