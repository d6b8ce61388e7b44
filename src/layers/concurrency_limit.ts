/**
 * The concurrency-limit layer: at most N operations in flight per backend.
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
} from "../backend.ts";
import { ForwardingBackend, type Layer } from "../layer.ts";
import { watchIterable, watchStream } from "./_watch.ts";

/** Options of {@link concurrencyLimitLayer}. */
export interface ConcurrencyLimitOptions {
  /** Operations in flight at most, per backend (a positive integer). */
  limit: number;
}

interface Waiter {
  resolve(release: () => void): void;
  reject(reason: unknown): void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

/** A FIFO counting semaphore whose waiters leave the queue when their signal aborts. */
class Slots {
  #free: number;
  readonly #queue: Waiter[] = [];

  constructor(limit: number) {
    this.#free = limit;
  }

  /** Resolves with a release function (call it exactly once) when a slot is free. */
  acquire(signal: AbortSignal | undefined): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.#free > 0) {
      this.#free--;
      return Promise.resolve(this.#release());
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const index = this.#queue.indexOf(waiter);
          if (index >= 0) this.#queue.splice(index, 1);
          reject(signal!.reason);
        },
      };
      signal?.addEventListener("abort", waiter.onAbort, { once: true });
      this.#queue.push(waiter);
    });
  }

  #release(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#queue.shift();
      if (next === undefined) {
        this.#free++;
        return;
      }
      next.signal?.removeEventListener("abort", next.onAbort);
      next.resolve(this.#release());
    };
  }
}

/** A backend that runs at most `limit` operations at once. */
class LimitedBackend extends ForwardingBackend {
  readonly #slots: Slots;

  constructor(inner: Backend, limit: number) {
    super(inner);
    this.#slots = new Slots(limit);
  }

  async #hold<T>(signal: AbortSignal | undefined, call: () => Promise<T>): Promise<T> {
    const release = await this.#slots.acquire(signal);
    try {
      return await call();
    } finally {
      release();
    }
  }

  override async read(
    key: string,
    options: BackendReadOptions,
  ): Promise<ReadableStream<Uint8Array>> {
    const release = await this.#slots.acquire(options.signal);
    let stream: ReadableStream<Uint8Array>;
    try {
      stream = await super.read(key, options);
    } catch (error) {
      release();
      throw error;
    }
    // The read holds its slot until its stream ends, errors or is cancelled.
    return watchStream(stream, { end: release });
  }

  override readBytes(key: string, options: BackendReadOptions): Promise<Uint8Array> {
    return this.#hold(options.signal, () => super.readBytes(key, options));
  }

  override write(
    key: string,
    body: ReadableStream<Uint8Array>,
    options: BackendWriteOptions,
  ): Promise<BackendWriteResult> {
    return this.#hold(options.signal, () => super.write(key, body, options));
  }

  override writeBytes(
    key: string,
    bytes: Uint8Array,
    options: BackendWriteOptions,
  ): Promise<BackendWriteResult> {
    return this.#hold(options.signal, () => super.writeBytes(key, bytes, options));
  }

  override delete(key: string, options: SignalOptions): Promise<void> {
    return this.#hold(options.signal, () => super.delete(key, options));
  }

  override deleteMany(
    keys: readonly string[],
    options: BackendDeleteManyOptions,
  ): Promise<BackendDeleteManyResult[]> {
    // One slot for the whole call: its requests are bounded by its own `concurrency`.
    return this.#hold(options.signal, () => super.deleteMany(keys, options));
  }

  override deleteFolder(key: string, options: BackendDeleteFolderOptions): Promise<void> {
    return this.#hold(options.signal, () => super.deleteFolder(key, options));
  }

  override getFileInfo(key: string, options: SignalOptions): Promise<BackendFileInfo> {
    return this.#hold(options.signal, () => super.getFileInfo(key, options));
  }

  override isFolder(key: string, options: SignalOptions): Promise<boolean> {
    return this.#hold(options.signal, () => super.isFolder(key, options));
  }

  override list(key: string, options: BackendListOptions): AsyncIterable<BackendEntry> {
    // A listing holds a slot while it fetches, not while the caller handles an entry,
    // so a walk that lists inside a listing cannot deadlock.
    return watchIterable(super.list(key, options), {
      next: (step) => this.#hold(options.signal, step),
      end: () => {},
    });
  }

  override copy(src: string, dst: string, options: BackendTransferOptions): Promise<void> {
    return this.#hold(options.signal, () => super.copy(src, dst, options));
  }

  override move(src: string, dst: string, options: BackendTransferOptions): Promise<void> {
    return this.#hold(options.signal, () => super.move(src, dst, options));
  }

  override signedUrl(key: string, options: BackendSignedUrlOptions): Promise<string> {
    return this.#hold(options.signal, () => super.signedUrl(key, options));
  }

  override ping(options: SignalOptions): Promise<void> {
    return this.#hold(options.signal, () => super.ping(options));
  }

  override createFolder(key: string, options: SignalOptions): Promise<void> {
    return this.#hold(options.signal, () => super.createFolder(key, options));
  }

  override signedUpload(key: string, options: BackendSignedUploadOptions): Promise<SignedUpload> {
    return this.#hold(options.signal, () => super.signedUpload(key, options));
  }
}

/**
 * A layer that lets at most `limit` operations run at once on the backend it
 * wraps; the others wait in a queue, first come first served. A waiting
 * operation whose `signal` aborts leaves the queue at once and rejects with
 * the signal's reason.
 *
 * An operation holds its slot until it ends: a streaming `read` until its
 * stream ends, errors or is cancelled (so a stream nobody reads nor cancels
 * keeps its slot); a `write` until the backend has stored the content. A
 * `list` holds a slot only while it fetches its next entries. Each backend
 * the layer wraps has its own limit. A caller that keeps a read stream open
 * while it starts another operation on the same backend (`transfer` between
 * two stores of one backend) needs a limit of at least 2.
 *
 * @param options `limit`: operations in flight at most.
 * @returns The layer.
 * @throws {RangeError} When `limit` is not a positive integer.
 *
 * @example At most 8 requests at once
 * ```ts
 * import { concurrencyLimitLayer, MemoryBackend, Store, withLayers } from "@remote-store/remote-store";
 * const store = new Store(withLayers(new MemoryBackend(), [concurrencyLimitLayer({ limit: 8 })]));
 * await Promise.all(Array.from({ length: 100 }, (_, i) => store.write(`f${i}.txt`, "x")));
 * ```
 */
export function concurrencyLimitLayer(options: ConcurrencyLimitOptions): Layer {
  const limit = options?.limit;
  if (typeof limit !== "number" || !Number.isSafeInteger(limit) || limit < 1) {
    throw new RangeError(
      `Concurrency "limit" must be a positive integer, got ${
        typeof limit === "number" ? limit : typeof limit
      }`,
    );
  }
  return {
    name: "concurrencyLimit",
    wrap: (backend: Backend) => new LimitedBackend(backend, limit),
  };
}
