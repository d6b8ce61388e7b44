/**
 * Registry configuration types and their validation.
 *
 * @module
 */

import { InvalidConfigError, RemoteStoreError } from "./errors.ts";
import { normalizePath } from "./paths.ts";
import { BACKEND_TYPES } from "./_backend_types.ts";
import { describe } from "./_options.ts";

/** One backend: its type and the options that type takes. */
export interface BackendConfig {
  /** Backend type: `"memory"`, `"local"` or `"azure"`. */
  type: string;
  /** Options of that type (for example `{ root }` for local, `{ container, ... }` for azure). */
  options?: Record<string, unknown>;
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

/**
 * Validates a configuration object: every backend has a known type and valid
 * options, every store names a defined backend and has a valid root path.
 *
 * @param config The configuration to check.
 * @throws {InvalidConfigError} Naming the key path of the first problem.
 *
 * @example Validate before use
 * ```ts
 * import { validateConfig } from "@remote-store/remote-store";
 * validateConfig({ backends: { mem: { type: "memory" } }, stores: { s: { backend: "mem" } } });
 * ```
 */
export function validateConfig(config: RegistryConfig): void {
  const root = requireRecord(config, "config");
  const backends = requireRecord(root.backends, "backends");
  const stores = requireRecord(root.stores, "stores");
  for (const [name, value] of Object.entries(backends)) {
    const backend = requireRecord(value, `backends.${name}`);
    const type = backend.type;
    if (typeof type !== "string" || !Object.hasOwn(BACKEND_TYPES, type)) {
      const known = Object.keys(BACKEND_TYPES).map((t) => `"${t}"`).join(", ");
      throw new InvalidConfigError(
        `"backends.${name}.type" must be one of ${known}, got ${
          typeof type === "string" ? `"${type}"` : describe(type)
        }`,
      );
    }
    const optionsKey = `backends.${name}.options`;
    const options = backend.options === undefined ? {} : requireRecord(backend.options, optionsKey);
    BACKEND_TYPES[type]!.validate(options, optionsKey);
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
}
