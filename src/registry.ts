/**
 * The {@link Registry}: a validated configuration that hands out Stores and
 * owns their backends.
 *
 * @module
 */

import type { Backend } from "./backend.ts";
import {
  checkConfig,
  type CheckedBackend,
  type ConfigTypesOptions,
  type RegistryConfig,
} from "./config.ts";
import { BackendUnavailableError, InvalidConfigError, RemoteStoreError } from "./errors.ts";
import { Store } from "./store.ts";
import { describe, snapshot } from "./_options.ts";
import { type Layer, withLayers } from "./layer.ts";

/** Options of the {@link Registry} constructor. */
export interface RegistryOptions extends ConfigTypesOptions {
  /**
   * Layers per backend name, outermost first, for layers that need code (an
   * {@link observeLayer} sink, an {@link openTelemetryLayer} tracer). They
   * wrap the layers of the config's `backends.<name>.layers`, so they see
   * what those do (a timeout, for example). Every store on the backend, and
   * every child of those stores, goes through them.
   */
  layers?: Record<string, readonly Layer[]>;
}

/** Checks `options.layers` against the configured backends; returns a copy. */
function checkLayers(
  layers: Record<string, readonly Layer[]> | undefined,
  backends: Map<string, CheckedBackend>,
): Map<string, Layer[]> {
  const out = new Map<string, Layer[]>();
  if (layers === undefined) return out;
  if (typeof layers !== "object" || layers === null || Array.isArray(layers)) {
    throw new InvalidConfigError(`"layers" must be an object, got ${describe(layers)}`);
  }
  for (const [name, list] of Object.entries(layers)) {
    if (!backends.has(name)) {
      const known = [...backends.keys()].map((b) => `"${b}"`).join(", ") || "none";
      throw new InvalidConfigError(
        `"layers.${name}" must name a configured backend (${known})`,
      );
    }
    if (!Array.isArray(list)) {
      throw new InvalidConfigError(`"layers.${name}" must be an array, got ${describe(list)}`);
    }
    list.forEach((layer: unknown, i) => {
      if (typeof (layer as Partial<Layer> | null)?.wrap !== "function") {
        throw new InvalidConfigError(
          `"layers.${name}[${i}]" must be a layer (an object with a wrap function), got ${
            describe(layer)
          }`,
        );
      }
    });
    out.set(name, [...list]);
  }
  return out;
}

/**
 * Turns a {@link RegistryConfig} into Stores. The config is validated at
 * construction (backend options included); each backend is created on first
 * use (creating one does no I/O), one instance per backend name, and all are
 * closed by {@link Registry.close} (or `await using`).
 *
 * The backend types a Registry knows are `memory`, the registered ones (see
 * {@link registerBackendType}) and the ones passed in `backendTypes`: import
 * `localBackendType` from `@remote-store/remote-store/local` or
 * `azureBackendType` from `@remote-store/remote-store/azure` to use those.
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
 *
 * @example Local and Azure backends from one config
 * ```ts
 * import { Registry } from "@remote-store/remote-store";
 * import { localBackendType } from "@remote-store/remote-store/local";
 * import { azureBackendType } from "@remote-store/remote-store/azure";
 * await using registry = new Registry({
 *   backends: {
 *     disk: { type: "local", options: { root: "./data" } },
 *     cloud: { type: "azure", options: { container: "reports", connectionString: "UseDevelopmentStorage=true" } },
 *   },
 *   stores: { cache: { backend: "disk" }, reports: { backend: "cloud", rootPath: "2026" } },
 * }, { backendTypes: [localBackendType, azureBackendType] });
 * const reports = registry.getStore("reports");
 * ```
 *
 * @example Layers per backend: in the config (JSON) and in code
 * ```ts
 * import { type OperationEvent, observeLayer, Registry } from "@remote-store/remote-store";
 * const events: OperationEvent[] = [];
 * await using registry = new Registry({
 *   backends: {
 *     mem: { type: "memory", layers: [{ type: "timeout", ms: 30000 }, { type: "concurrencyLimit", limit: 8 }] },
 *   },
 *   stores: { data: { backend: "mem", rootPath: "data" } },
 * }, { layers: { mem: [observeLayer({ sink: (event) => events.push(event) })] } });
 * await registry.getStore("data").child("2026").write("a.txt", "hello");
 * console.log(events.map((e) => `${e.backend} ${e.operation} ${e.path}`)); // ["mem writeBytes data/2026/a.txt"]
 * ```
 */
export class Registry implements AsyncDisposable {
  readonly #config: RegistryConfig;
  readonly #checked: Map<string, CheckedBackend>;
  readonly #layers: Map<string, Layer[]>;
  readonly #backends = new Map<string, Backend>();
  #closed = false;

  /**
   * Validates a copy of the configuration (later changes to `config` have no
   * effect) and every backend's options. No backend is created and no I/O
   * happens.
   *
   * @param config Backends and stores by name.
   * @param options `backendTypes`: the backend types the config may name
   *   besides `memory` and the registered ones; `layers`: layers per backend name.
   * @throws {InvalidConfigError} Naming the key path of the first problem; an
   *   unknown backend type lists the known ones and says how to add one.
   */
  constructor(config: RegistryConfig, options: RegistryOptions = {}) {
    config = snapshot(config, "config");
    this.#checked = checkConfig(config, options);
    this.#layers = checkLayers(options.layers, this.#checked);
    this.#config = config;
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
    return new Store(this.#backend(profile.backend), {
      rootPath: profile.rootPath,
      backendName: profile.backend,
    });
  }

  /**
   * Creates (once) and returns a backend by name, for direct use or `unwrap`.
   * A backend with layers is returned wrapped in them (its `unwrap` reaches
   * the backend itself).
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
  getBackend(name: string): Promise<Backend> {
    try {
      this.#open();
      if (!this.#checked.has(name)) {
        const known = this.backendNames.map((n) => `"${n}"`).join(", ") || "none";
        throw new InvalidConfigError(`Unknown backend "${name}" (known backends: ${known})`);
      }
      return Promise.resolve(this.#backend(name));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** The backend of a configured name, created on first use. */
  #backend(name: string): Backend {
    let backend = this.#backends.get(name);
    if (backend === undefined) {
      const { type, options, layers } = this.#checked.get(name)!;
      try {
        backend = withLayers(type.create(options), [...(this.#layers.get(name) ?? []), ...layers], {
          backendName: name,
        });
      } catch (error) {
        if (error instanceof RemoteStoreError) throw error.withContext({ backend: name });
        throw new InvalidConfigError(
          `Creating backend "${name}" of type "${type.type}" failed: ${
            error instanceof Error ? error.message : String(error)
          }`,
          { cause: error },
        );
      }
      this.#backends.set(name, backend);
    }
    return backend;
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
