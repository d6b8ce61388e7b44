/**
 * The {@link Registry}: a validated configuration that hands out Stores and
 * owns their backends.
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
  BackendSignedUrlOptions,
  BackendTransferOptions,
  BackendWriteOptions,
  BackendWriteResult,
  SignalOptions,
} from "./backend.ts";
import type { Capabilities } from "./capabilities.ts";
import { type RegistryConfig, validateConfig } from "./config.ts";
import {
  BackendUnavailableError,
  CapabilityNotSupportedError,
  InvalidConfigError,
  RemoteStoreError,
} from "./errors.ts";
import { Store } from "./store.ts";
import { BACKEND_TYPES } from "./_backend_types.ts";
import { LOAD_BACKEND } from "./_lazy.ts";
import { snapshot } from "./_options.ts";

/**
 * A backend that is created on first use. Async methods wait for it; the sync
 * `toKey` and `unwrap` need it created already (see {@link Registry.getBackend}).
 */
class LazyBackend implements Backend {
  readonly name: string;
  readonly #type: string;
  readonly #create: () => Promise<Backend>;
  #promise: Promise<Backend> | undefined;
  #backend: Backend | undefined;
  #closed = false;

  constructor(name: string, type: string, create: () => Promise<Backend>) {
    this.name = name;
    this.#type = type;
    this.#create = create;
  }

  get capabilities(): Capabilities {
    return this.#backend?.capabilities ?? BACKEND_TYPES[this.#type]!.capabilities;
  }

  [LOAD_BACKEND](): Promise<Backend> {
    return this.load();
  }

  load(): Promise<Backend> {
    if (this.#closed) {
      return Promise.reject(
        new BackendUnavailableError("Registry is closed", { backend: this.name }),
      );
    }
    this.#promise ??= this.#create().then(
      (backend) => (this.#backend = backend),
      (error) => {
        this.#promise = undefined;
        throw error;
      },
    );
    return this.#promise;
  }

  #loaded(): Backend {
    if (this.#backend) return this.#backend;
    throw new BackendUnavailableError(
      "Backend is not created yet; await registry.getBackend() or call an async Store method first",
      { backend: this.name },
    );
  }

  async close(): Promise<void> {
    this.#closed = true;
    const backend = await this.#promise?.catch(() => undefined);
    await backend?.close();
  }

  async read(key: string, options: BackendReadOptions): Promise<ReadableStream<Uint8Array>> {
    return (await this.load()).read(key, options);
  }
  async write(
    key: string,
    body: ReadableStream<Uint8Array>,
    options: BackendWriteOptions,
  ): Promise<BackendWriteResult> {
    return (await this.load()).write(key, body, options);
  }
  async delete(key: string, options: SignalOptions): Promise<void> {
    return (await this.load()).delete(key, options);
  }
  async deleteFolder(key: string, options: BackendDeleteFolderOptions): Promise<void> {
    return (await this.load()).deleteFolder(key, options);
  }
  async getFileInfo(key: string, options: SignalOptions): Promise<BackendFileInfo> {
    return (await this.load()).getFileInfo(key, options);
  }
  async isFolder(key: string, options: SignalOptions): Promise<boolean> {
    return (await this.load()).isFolder(key, options);
  }
  async *list(key: string, options: BackendListOptions): AsyncIterable<BackendEntry> {
    yield* (await this.load()).list(key, options);
  }
  async copy(src: string, dst: string, options: BackendTransferOptions): Promise<void> {
    return (await this.load()).copy(src, dst, options);
  }
  async move(src: string, dst: string, options: BackendTransferOptions): Promise<void> {
    return (await this.load()).move(src, dst, options);
  }
  async signedUrl(key: string, options: BackendSignedUrlOptions): Promise<string> {
    const backend = await this.load();
    if (!backend.signedUrl) {
      throw new CapabilityNotSupportedError("signed_url", { path: key, backend: this.name });
    }
    return backend.signedUrl(key, options);
  }
  toKey(nativePath: string): string {
    return this.#loaded().toKey(nativePath);
  }
  unwrap<T>(type: abstract new (...args: never[]) => T): T {
    const backend = this.#loaded();
    return backend instanceof type ? backend as T : backend.unwrap(type);
  }
}

/**
 * Turns a {@link RegistryConfig} into Stores. The config is validated at
 * construction; backends are created lazily on first use, one instance per
 * backend name, and all closed by {@link Registry.close} (or `await using`).
 *
 * @example Two stores on one backend
 * ```ts
 * import { Registry } from "@remote-store/remote-store";
 * await using registry = new Registry({
 *   backends: { mem: { type: "memory" } },
 *   stores: { data: { backend: "mem", rootPath: "data" }, archive: { backend: "mem", rootPath: "archive" } },
 * });
 * const data = registry.getStore("data");
 * await data.write("a.txt", "hello");
 * console.log(await registry.getStore("archive").exists("a.txt")); // false
 * ```
 */
export class Registry implements AsyncDisposable {
  readonly #config: RegistryConfig;
  readonly #backends = new Map<string, LazyBackend>();
  #closed = false;

  /**
   * Validates a copy of the configuration (later changes to `config` have no
   * effect). No backend is created and no I/O happens.
   *
   * @param config Backends and stores by name.
   * @throws {InvalidConfigError} Naming the key path of the first problem.
   */
  constructor(config: RegistryConfig) {
    config = snapshot(config, "config");
    validateConfig(config);
    this.#config = config;
    for (const [name, backend] of Object.entries(config.backends)) {
      const type = BACKEND_TYPES[backend.type]!;
      const options = backend.options ?? {};
      this.#backends.set(name, new LazyBackend(name, backend.type, () => type.create(options)));
    }
  }

  /** Names of the configured stores. */
  get storeNames(): string[] {
    return Object.keys(this.#config.stores);
  }

  /** Names of the configured backends. */
  get backendNames(): string[] {
    return Object.keys(this.#config.backends);
  }

  #open(): void {
    if (this.#closed) throw new BackendUnavailableError("Registry is closed");
  }

  /**
   * Returns a store by name. Synchronous: the backend is created on first use.
   *
   * @param name A store name from the config.
   * @returns The store.
   * @throws {InvalidConfigError} For an unknown name (the message lists the known ones).
   * @throws {BackendUnavailableError} After {@link Registry.close}.
   *
   * @example Get a store
   * ```ts
   * import { Registry } from "@remote-store/remote-store";
   * const registry = new Registry({ backends: { m: { type: "memory" } }, stores: { s: { backend: "m" } } });
   * const store = registry.getStore("s");
   * ```
   */
  getStore(name: string): Store {
    this.#open();
    const profile = Object.hasOwn(this.#config.stores, name)
      ? this.#config.stores[name]
      : undefined;
    if (!profile) {
      const known = this.storeNames.map((n) => `"${n}"`).join(", ") || "none";
      throw new InvalidConfigError(`Unknown store "${name}" (known stores: ${known})`);
    }
    return new Store(this.#backends.get(profile.backend)!, {
      rootPath: profile.rootPath,
      backendName: profile.backend,
    });
  }

  /**
   * Creates (once) and returns a backend by name, for direct use or `unwrap`.
   *
   * @param name A backend name from the config.
   * @returns The backend instance shared by every store that uses it.
   * @throws {InvalidConfigError} For an unknown name.
   *
   * @example Reach the backend behind a store
   * ```ts
   * import { Registry } from "@remote-store/remote-store";
   * const registry = new Registry({ backends: { m: { type: "memory" } }, stores: { s: { backend: "m" } } });
   * const backend = await registry.getBackend("m");
   * console.log(backend.name); // "memory"
   * ```
   */
  async getBackend(name: string): Promise<Backend> {
    this.#open();
    const lazy = this.#backends.get(name);
    if (!lazy) {
      const known = this.backendNames.map((n) => `"${n}"`).join(", ") || "none";
      throw new InvalidConfigError(`Unknown backend "${name}" (known backends: ${known})`);
    }
    return await lazy.load();
  }

  /**
   * Closes every backend that was created, even when one of them fails.
   * Idempotent. Later `getStore` calls and store operations fail with
   * `BackendUnavailableError`.
   *
   * @returns Resolves when all backends are closed.
   * @throws {BackendUnavailableError} When a backend failed to close (after closing the rest).
   *
   * @example Close explicitly
   * ```ts
   * import { Registry } from "@remote-store/remote-store";
   * const registry = new Registry({ backends: { m: { type: "memory" } }, stores: { s: { backend: "m" } } });
   * await registry.close();
   * ```
   */
  async close(): Promise<void> {
    this.#closed = true;
    const results = await Promise.allSettled([...this.#backends.values()].map((b) => b.close()));
    const errors = results.flatMap((r) => (r.status === "rejected" ? [r.reason] : []));
    if (errors.length === 1 && errors[0] instanceof RemoteStoreError) throw errors[0];
    if (errors.length > 0) {
      throw new BackendUnavailableError(`Closing ${errors.length} backend(s) failed`, {
        cause: new AggregateError(errors),
      });
    }
  }

  /**
   * Closes the registry at the end of an `await using` block.
   *
   * @returns Resolves when closed.
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * A description without options (options may hold secrets).
   *
   * @returns For example `Registry(stores: data, archive)`.
   */
  toString(): string {
    return `Registry(stores: ${this.storeNames.join(", ")})`;
  }

  /**
   * The JSON form: names only, never options.
   *
   * @returns Store and backend names.
   */
  toJSON(): { stores: string[]; backends: string[] } {
    return { stores: this.storeNames, backends: this.backendNames };
  }
}
