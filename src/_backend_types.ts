/**
 * The built-in backend types the Registry can create from config. Backends
 * that need `node:` or `@azure/*` modules are imported only when a store
 * first uses them, so the core stays edge-safe. Private module.
 *
 * @module
 */

import type { Backend } from "./backend.ts";
import { ALL_CAPABILITIES, Capabilities } from "./capabilities.ts";
import { InvalidConfigError } from "./errors.ts";
import { MemoryBackend } from "./backends/memory/memory_backend.ts";
import { type LocalBackendOptions, parseLocalOptions } from "./backends/local/_options.ts";
import { type AzureBackendOptions, parseAzureOptions } from "./backends/azure/_options.ts";

/** How the Registry validates, describes and creates one backend type. */
export interface BackendType {
  /** Throws `InvalidConfigError` naming `keyPath.<option>` for bad options. */
  validate(options: Record<string, unknown>, keyPath: string): void;
  /** What the backend can do before it is loaded (the most conservative set). */
  capabilities: Capabilities;
  /** Imports the backend module and creates an instance. */
  create(options: Record<string, unknown>): Promise<Backend>;
}

/**
 * Imports a module by a URL computed at run time, so that the module graph of
 * the core entrypoint does not include it.
 */
function importLazily<T>(relativePath: string): Promise<T> {
  return import(new URL(relativePath, import.meta.url).href) as Promise<T>;
}

/** Built-in backend types by `type` name. */
export const BACKEND_TYPES: Record<string, BackendType> = {
  memory: {
    validate(options, keyPath) {
      for (const key of Object.keys(options)) {
        throw new InvalidConfigError(`"${keyPath}.${key}" is not an option of the memory backend`);
      }
    },
    capabilities: new MemoryBackend().capabilities,
    create: () => Promise.resolve(new MemoryBackend()),
  },
  local: {
    validate: (options, keyPath) => void parseLocalOptions(options, keyPath),
    capabilities: new Capabilities(ALL_CAPABILITIES).without("metadata", "signed_url"),
    async create(options) {
      const mod = await importLazily<{
        LocalBackend: new (options: LocalBackendOptions) => Backend;
      }>("./backends/local/local_backend.ts");
      return new mod.LocalBackend(parseLocalOptions(options, "options"));
    },
  },
  azure: {
    validate: (options, keyPath) => void parseAzureOptions(options, keyPath),
    capabilities: new Capabilities(ALL_CAPABILITIES).without(
      "atomic_move",
      "directories",
      "signed_url",
    ),
    async create(options) {
      const mod = await importLazily<{
        AzureBackend: new (options: AzureBackendOptions) => Backend;
      }>("./backends/azure/azure_backend.ts");
      return new mod.AzureBackend(parseAzureOptions(options, "options"));
    },
  },
};
