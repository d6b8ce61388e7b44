/**
 * The layer seam: one way to wrap a {@link Backend} so that the wrapper sees
 * every operation. A layer takes a backend and returns a backend; a
 * {@link Store} over the result (and every `child()` of it, which shares the
 * backend by construction) goes through the layer.
 *
 * A layer sees backend calls: the `key` of a call is the backend key (the
 * store's root joined with the store-relative path), and one Store method may
 * make more than one backend call (`exists` asks `getFileInfo`, then
 * `isFolder` when there is no file).
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
} from "./backend.ts";
import type { Capabilities } from "./capabilities.ts";

/** What a layer knows about the backend it wraps. */
export interface LayerContext {
  /**
   * The backend's name for events and logs: the Registry's backend name, or
   * the `backendName` given to {@link withLayers} (default: the backend's type name).
   */
  readonly backendName: string;
}

/**
 * A layer: wraps a backend into one that does something around each
 * operation (observe, limit, time out) and otherwise behaves the same.
 * Capabilities, `unwrap`, `toKey`, `close` and errors pass through
 * unchanged; extend {@link ForwardingBackend} to get that by construction.
 *
 * @example A layer that counts deletes
 * ```ts
 * import { type Backend, ForwardingBackend, type Layer, MemoryBackend, Store, type SignalOptions, withLayers } from "@remote-store/remote-store";
 * let deletes = 0;
 * class CountDeletes extends ForwardingBackend {
 *   override delete(key: string, options: SignalOptions): Promise<void> {
 *     deletes++;
 *     return super.delete(key, options);
 *   }
 * }
 * const countDeletes: Layer = { name: "countDeletes", wrap: (backend: Backend) => new CountDeletes(backend) };
 * const store = new Store(withLayers(new MemoryBackend(), [countDeletes]));
 * await store.write("docs/a.txt", "x");
 * await store.child("docs").delete("a.txt");
 * console.log(deletes); // 1
 * ```
 */
export interface Layer {
  /** A short name for messages (`"observe"`, `"timeout"`, ...). */
  readonly name: string;
  /**
   * Wraps a backend. Called once per backend (a Registry calls it when the
   * backend is first used); must not do I/O.
   *
   * @param backend The backend to wrap (possibly already wrapped by inner layers).
   * @param context The backend's name.
   * @returns The wrapping backend.
   */
  wrap(backend: Backend, context: LayerContext): Backend;
}

/** Options of {@link withLayers}. */
export interface WithLayersOptions {
  /** The backend name layers report (default: the backend's type name, `backend.name`). */
  backendName?: string;
}

/**
 * Wraps a backend in layers. The first layer is the outermost: a call goes
 * through the layers in the order given, then reaches the backend, so
 * `[observeLayer(...), timeoutLayer(...)]` observes the timeouts.
 *
 * @param backend The backend to wrap.
 * @param layers Layers, outermost first.
 * @param options `backendName` for the layers' events.
 * @returns The wrapped backend (the backend itself when `layers` is empty).
 *
 * @example Observe and time out every operation
 * ```ts
 * import { MemoryBackend, observeLayer, Store, timeoutLayer, withLayers } from "@remote-store/remote-store";
 * const backend = withLayers(new MemoryBackend(), [
 *   observeLayer({ sink: (event) => console.log(event.operation, event.path, event.outcome) }),
 *   timeoutLayer({ ms: 30_000 }),
 * ]);
 * const store = new Store(backend);
 * await store.write("a.txt", "hello");
 * ```
 */
export function withLayers(
  backend: Backend,
  layers: readonly Layer[],
  options: WithLayersOptions = {},
): Backend {
  const context: LayerContext = Object.freeze({
    backendName: options.backendName ?? backend.name,
  });
  let out = backend;
  for (let i = layers.length - 1; i >= 0; i--) out = layers[i]!.wrap(out, context);
  return out;
}

const OPTIONAL_METHODS = [
  "readBytes",
  "writeBytes",
  "signedUrl",
  "deleteMany",
  "ping",
  "createFolder",
  "signedUpload",
] as const;

/**
 * A backend that forwards every call to another one: the base class of a
 * layer. Override the operations the layer is about and call `super`.
 * `name`, `capabilities` (read on every access, so capabilities that grow
 * after a probe show through), `toKey`, `unwrap` and `close` forward
 * unchanged; the optional methods (`readBytes`, `writeBytes`, `signedUrl`,
 * `deleteMany`, `ping`, `createFolder`, `signedUpload`) exist exactly when
 * the inner backend has them.
 *
 * @example Wrap a backend
 * ```ts
 * import { ForwardingBackend, MemoryBackend, Store } from "@remote-store/remote-store";
 * const store = new Store(new ForwardingBackend(new MemoryBackend()));
 * await store.write("a.txt", "hello");
 * console.log(store.unwrap(MemoryBackend) instanceof MemoryBackend); // true
 * ```
 */
export class ForwardingBackend implements Backend {
  /** The wrapped backend. */
  protected readonly inner: Backend;

  /**
   * Wraps `inner`.
   *
   * @param inner The backend every call goes to.
   */
  constructor(inner: Backend) {
    this.inner = inner;
    for (const method of OPTIONAL_METHODS) {
      if (typeof inner[method] !== "function") {
        Object.defineProperty(this, method, { value: undefined });
      }
    }
  }

  /** The inner backend's type name. */
  get name(): string {
    return this.inner.name;
  }

  /** The inner backend's capabilities. */
  get capabilities(): Capabilities {
    return this.inner.capabilities;
  }

  /**
   * Forwards {@link Backend.read}.
   *
   * @param key Backend key.
   * @param options Read options.
   * @returns The stream.
   */
  read(key: string, options: BackendReadOptions): Promise<ReadableStream<Uint8Array>> {
    return this.inner.read(key, options);
  }

  /**
   * Forwards {@link Backend.write}.
   *
   * @param key Backend key.
   * @param body The content.
   * @param options Write options.
   * @returns Size and ETag.
   */
  write(
    key: string,
    body: ReadableStream<Uint8Array>,
    options: BackendWriteOptions,
  ): Promise<BackendWriteResult> {
    return this.inner.write(key, body, options);
  }

  /**
   * Forwards {@link Backend.readBytes} (absent when the inner backend has none).
   *
   * @param key Backend key.
   * @param options Read options.
   * @returns The bytes.
   */
  readBytes(key: string, options: BackendReadOptions): Promise<Uint8Array> {
    return this.inner.readBytes!(key, options);
  }

  /**
   * Forwards {@link Backend.writeBytes} (absent when the inner backend has none).
   *
   * @param key Backend key.
   * @param bytes The content.
   * @param options Write options.
   * @returns Size and ETag.
   */
  writeBytes(
    key: string,
    bytes: Uint8Array,
    options: BackendWriteOptions,
  ): Promise<BackendWriteResult> {
    return this.inner.writeBytes!(key, bytes, options);
  }

  /**
   * Forwards {@link Backend.delete}.
   *
   * @param key Backend key.
   * @param options `signal`.
   * @returns Resolves when deleted.
   */
  delete(key: string, options: SignalOptions): Promise<void> {
    return this.inner.delete(key, options);
  }

  /**
   * Forwards {@link Backend.deleteMany} (absent when the inner backend has none).
   *
   * @param keys Backend keys.
   * @param options `concurrency`, `signal`.
   * @returns One result per key.
   */
  deleteMany(
    keys: readonly string[],
    options: BackendDeleteManyOptions,
  ): Promise<BackendDeleteManyResult[]> {
    return this.inner.deleteMany!(keys, options);
  }

  /**
   * Forwards {@link Backend.deleteFolder}.
   *
   * @param key Backend key.
   * @param options `recursive`, `signal`.
   * @returns Resolves when deleted.
   */
  deleteFolder(key: string, options: BackendDeleteFolderOptions): Promise<void> {
    return this.inner.deleteFolder(key, options);
  }

  /**
   * Forwards {@link Backend.getFileInfo}.
   *
   * @param key Backend key.
   * @param options `signal`.
   * @returns The file's metadata.
   */
  getFileInfo(key: string, options: SignalOptions): Promise<BackendFileInfo> {
    return this.inner.getFileInfo(key, options);
  }

  /**
   * Forwards {@link Backend.isFolder}.
   *
   * @param key Backend key.
   * @param options `signal`.
   * @returns Whether a folder exists.
   */
  isFolder(key: string, options: SignalOptions): Promise<boolean> {
    return this.inner.isFolder(key, options);
  }

  /**
   * Forwards {@link Backend.list}.
   *
   * @param key Backend key of the folder.
   * @param options `recursive`, `signal`.
   * @returns The entries.
   */
  list(key: string, options: BackendListOptions): AsyncIterable<BackendEntry> {
    return this.inner.list(key, options);
  }

  /**
   * Forwards {@link Backend.copy}.
   *
   * @param src Source key.
   * @param dst Destination key.
   * @param options Transfer options.
   * @returns Resolves when copied.
   */
  copy(src: string, dst: string, options: BackendTransferOptions): Promise<void> {
    return this.inner.copy(src, dst, options);
  }

  /**
   * Forwards {@link Backend.move}.
   *
   * @param src Source key.
   * @param dst Destination key.
   * @param options Transfer options.
   * @returns Resolves when moved.
   */
  move(src: string, dst: string, options: BackendTransferOptions): Promise<void> {
    return this.inner.move(src, dst, options);
  }

  /**
   * Forwards {@link Backend.signedUrl} (absent when the inner backend has none).
   *
   * @param key Backend key.
   * @param options Lifetime and permissions.
   * @returns The URL.
   */
  signedUrl(key: string, options: BackendSignedUrlOptions): Promise<string> {
    return this.inner.signedUrl!(key, options);
  }

  /**
   * Forwards {@link Backend.ping} (absent when the inner backend has none).
   *
   * @param options `signal`.
   * @returns Resolves when the backend answered.
   */
  ping(options: SignalOptions): Promise<void> {
    return this.inner.ping!(options);
  }

  /**
   * Forwards {@link Backend.createFolder} (absent when the inner backend has none).
   *
   * @param key Backend key of the folder.
   * @param options `signal`.
   * @returns Resolves when the folder exists.
   */
  createFolder(key: string, options: SignalOptions): Promise<void> {
    return this.inner.createFolder!(key, options);
  }

  /**
   * Forwards {@link Backend.signedUpload} (absent when the inner backend has none).
   *
   * @param key Backend key.
   * @param options Lifetime, overwrite and content type.
   * @returns The upload description.
   */
  signedUpload(key: string, options: BackendSignedUploadOptions): Promise<SignedUpload> {
    return this.inner.signedUpload!(key, options);
  }

  /**
   * Forwards {@link Backend.toKey}.
   *
   * @param nativePath A native path.
   * @returns The backend key.
   */
  toKey(nativePath: string): string {
    return this.inner.toKey(nativePath);
  }

  /**
   * Returns the inner backend when it is of `type`, else forwards {@link Backend.unwrap}.
   *
   * @param type The class asked for.
   * @returns The native client (or the inner backend).
   */
  unwrap<T>(type: abstract new (...args: never[]) => T): T {
    if (this.inner instanceof type) return this.inner as T;
    return this.inner.unwrap(type);
  }

  /**
   * Forwards {@link Backend.close}.
   *
   * @returns Resolves when closed.
   */
  close(): Promise<void> {
    return this.inner.close();
  }
}
