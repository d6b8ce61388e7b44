/**
 * Registry configuration types and their validation.
 *
 * @module
 */

import { InvalidConfigError, RemoteStoreError } from "./errors.ts";
import { normalizePath } from "./paths.ts";
import { type BackendType, knownBackendTypes } from "./backend_type.ts";
import { describe } from "./_options.ts";
import type { Layer } from "./layer.ts";
import { type LayerConfig, layersFromConfig } from "./layers/_config.ts";

export type { LayerConfig };

/** One backend: its type and the options that type takes. */
export interface BackendConfig {
  /** Backend type: `"memory"`, or a type given to the Registry (`"local"`, `"azure"`, your own). */
  type: string;
  /** Options of that type (for example `{ root }` for local, `{ container, ... }` for azure). */
  options?: Record<string, unknown>;
  /**
   * Layers around this backend, outermost first, as JSON (see
   * {@link LayerConfig}): `[{ "type": "timeout", "ms": 30000 }]`.
   */
  layers?: LayerConfig[];
}

/** One store: which backend it uses and which folder of it. */
export interface StoreProfile {
  /** Name of a backend in {@link RegistryConfig.backends}. */
  backend: string;
  /** Folder inside the backend the store is scoped to (default: the backend root). */
  rootPath?: string;
}

/** The whole configuration: named backends and named stores on them. */
export interface RegistryConfig {
  /** Backends by name. */
  backends: Record<string, BackendConfig>;
  /** Stores by name. */
  stores: Record<string, StoreProfile>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function requireRecord(value: unknown, key: string): Record<string, unknown> {
  if (!isRecord(value)) {
    throw new InvalidConfigError(`"${key}" must be an object, got ${describe(value)}`);
  }
  return value;
}

/** Options of {@link validateConfig} and the {@link Registry} constructor. */
export interface ConfigTypesOptions {
  /**
   * Backend types the config may name besides `memory` and the registered
   * ones (see {@link registerBackendType}), for example `localBackendType`
   * from `@remote-store/remote-store/local`.
   */
  backendTypes?: readonly BackendType[];
}

/** A configured backend: its type and its parsed options. Private to the library. */
export interface CheckedBackend {
  type: BackendType;
  options: unknown;
  /** The layers of `backends.<name>.layers`, outermost first. */
  layers: Layer[];
}

/**
 * Validates a configuration object: every backend has a known type and valid
 * options, every store names a defined backend and has a valid root path.
 *
 * @param config The configuration to check.
 * @param options The backend types the config may use besides the built-in
 *   and registered ones.
 * @throws {InvalidConfigError} Naming the key path of the first problem; an
 *   unknown type lists the known types and says how to add one.
 *
 * @example Validate before use
 * ```ts
 * import { validateConfig } from "@remote-store/remote-store";
 * validateConfig({ backends: { mem: { type: "memory" } }, stores: { s: { backend: "mem" } } });
 * ```
 */
export function validateConfig(config: RegistryConfig, options: ConfigTypesOptions = {}): void {
  checkConfig(config, options);
}

/**
 * Validates a configuration and parses every backend's options with its
 * type. Private to the library (the Registry keeps the result).
 */
export function checkConfig(
  config: RegistryConfig,
  options: ConfigTypesOptions = {},
): Map<string, CheckedBackend> {
  const types = knownBackendTypes(options.backendTypes);
  const root = requireRecord(config, "config");
  const backends = requireRecord(root.backends, "backends");
  const stores = requireRecord(root.stores, "stores");
  const checked = new Map<string, CheckedBackend>();
  for (const [name, value] of Object.entries(backends)) {
    const backend = requireRecord(value, `backends.${name}`);
    const typeName = backend.type;
    const type = typeof typeName === "string" ? types.get(typeName) : undefined;
    if (type === undefined) {
      const known = [...types.keys()].map((t) => `"${t}"`).join(", ");
      throw new InvalidConfigError(
        `"backends.${name}.type" must be one of ${known}, got ${
          typeof typeName === "string" ? `"${typeName}"` : describe(typeName)
        } (to add a type, import it, for example localBackendType from ` +
          `"@remote-store/remote-store/local", and pass it as ` +
          `new Registry(config, { backendTypes: [localBackendType] }) or call registerBackendType)`,
      );
    }
    const optionsKey = `backends.${name}.options`;
    const given = backend.options === undefined ? {} : requireRecord(backend.options, optionsKey);
    const parsed = parseOptions(type, given, optionsKey);
    const layers = layersFromConfig(backend.layers, `backends.${name}.layers`);
    checked.set(name, { type, options: parsed, layers });
  }
  for (const [name, value] of Object.entries(stores)) {
    const store = requireRecord(value, `stores.${name}`);
    if (typeof store.backend !== "string" || !Object.hasOwn(backends, store.backend)) {
      const known = Object.keys(backends).map((b) => `"${b}"`).join(", ") || "none";
      throw new InvalidConfigError(
        `"stores.${name}.backend" must name a configured backend (${known}), got ${
          typeof store.backend === "string" ? `"${store.backend}"` : describe(store.backend)
        }`,
      );
    }
    if (store.rootPath !== undefined) {
      if (typeof store.rootPath !== "string") {
        throw new InvalidConfigError(
          `"stores.${name}.rootPath" must be a string, got ${describe(store.rootPath)}`,
        );
      }
      try {
        normalizePath(store.rootPath, { allowEmpty: true });
      } catch (error) {
        const reason = error instanceof RemoteStoreError ? error.reason : String(error);
        throw new InvalidConfigError(`"stores.${name}.rootPath" is invalid: ${reason}`, {
          cause: error,
        });
      }
    }
  }
  return checked;
}

/** Runs a type's option parser; a plain `TypeError` or `RangeError` becomes an `InvalidConfigError`. */
function parseOptions(
  type: BackendType,
  options: Record<string, unknown>,
  keyPath: string,
): unknown {
  try {
    return type.parseOptions(options, keyPath);
  } catch (error) {
    if (error instanceof RemoteStoreError) throw error;
    const reason = error instanceof Error ? error.message : describe(error);
    throw new InvalidConfigError(
      `Invalid options at "${keyPath}" for backend type "${type.type}": ${reason}`,
      { cause: error },
    );
  }
}
