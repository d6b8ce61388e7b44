/**
 * Backend types: how a {@link Registry} turns a config entry
 * (`{ type: "local", options: { root } }`) into a backend. A Registry knows
 * the built-in `memory` type, the types registered with
 * {@link registerBackendType}, and the types given to it in
 * `new Registry(config, { backendTypes })`. Nothing is imported by name at
 * run time: an application imports the backend modules it uses and hands
 * their types over, so bundlers, edge runtimes and JSR's npm layer see every
 * module statically.
 *
 * @module
 */

import type { Backend } from "./backend.ts";
import { InvalidConfigError } from "./errors.ts";
import { MemoryBackend } from "./backends/memory/memory_backend.ts";

/**
 * One kind of backend that a config can name in `backends.<name>.type`.
 * Write one for your own backend (S3, R2, ...) and pass it to the Registry
 * or register it; it then works from config files and the CLI exactly like a
 * built-in type.
 *
 * @typeParam O The parsed options the backend's constructor takes.
 *
 * @example A custom backend type
 * ```ts
 * import { type BackendType, MemoryBackend, Registry } from "@remote-store/remote-store";
 *
 * // A stand-in for your own backend class (an S3 or R2 backend, say).
 * class MyBackend extends MemoryBackend {}
 * const myType: BackendType<{ bucket: string }> = {
 *   type: "mine",
 *   parseOptions(options, keyPath) {
 *     if (typeof options.bucket !== "string") {
 *       throw new TypeError(`"${keyPath}.bucket" must be a string`);
 *     }
 *     return { bucket: options.bucket };
 *   },
 *   create: () => new MyBackend(),
 * };
 * await using registry = new Registry(
 *   { backends: { b: { type: "mine", options: { bucket: "x" } } }, stores: { s: { backend: "b" } } },
 *   { backendTypes: [myType] },
 * );
 * await registry.getStore("s").write("a.txt", "hello");
 * ```
 */
export interface BackendType<O = unknown> {
  /** The name a config uses in `backends.<name>.type`. */
  readonly type: string;
  /**
   * Validates a config entry's `options` (an object; `{}` when the config has
   * none) and returns what {@link BackendType.create} takes. Called when the
   * Registry is built, before any I/O.
   *
   * @param options The config's options object.
   * @param keyPath Where the options are in the config, for error messages
   *   (for example `backends.files.options`).
   * @returns The parsed options.
   * @throws {InvalidConfigError} Naming `keyPath.<option>` (a `TypeError` or
   *   `RangeError` is wrapped into one by the Registry).
   */
  parseOptions(options: Record<string, unknown>, keyPath: string): O;
  /**
   * Creates the backend. Called once per backend name, on first use; must
   * not do I/O (connect lazily).
   *
   * @param options What {@link BackendType.parseOptions} returned.
   * @returns The backend.
   */
  create(options: O): Backend;
}

/**
 * The built-in `memory` backend type (no options).
 *
 * @example Name it in a config
 * ```ts
 * import { Registry } from "@remote-store/remote-store";
 * await using registry = new Registry({ backends: { m: { type: "memory" } }, stores: { s: { backend: "m" } } });
 * ```
 */
export const memoryBackendType: BackendType<Record<string, never>> = Object.freeze({
  type: "memory",
  parseOptions(options: Record<string, unknown>, keyPath: string) {
    for (const key of Object.keys(options)) {
      throw new InvalidConfigError(`"${keyPath}.${key}" is not an option of the memory backend`);
    }
    return {};
  },
  create: () => new MemoryBackend(),
});

const registered = new Map<string, BackendType>([["memory", memoryBackendType]]);

function checkType(type: BackendType): void {
  if (
    typeof type !== "object" || type === null || typeof type.type !== "string" ||
    type.type === "" || typeof type.parseOptions !== "function" ||
    typeof type.create !== "function"
  ) {
    throw new TypeError(
      "A backend type must be an object with a non-empty string `type` and the functions `parseOptions` and `create`",
    );
  }
}

/**
 * Makes a backend type known to every {@link Registry} created afterwards
 * (and to {@link parseConfig} and the CLI), like the Python library's
 * `register_backend`. Registering the same object again does nothing.
 *
 * @param type The backend type, for example `localBackendType` from
 *   `@remote-store/remote-store/local`.
 * @throws {TypeError} When `type` is not a backend type.
 * @throws {InvalidConfigError} When another type is registered under the same name.
 *
 * @example Register the local backend once at start-up
 * ```ts
 * import { registerBackendType } from "@remote-store/remote-store";
 * import { localBackendType } from "@remote-store/remote-store/local";
 * registerBackendType(localBackendType);
 * ```
 */
export function registerBackendType(type: BackendType): void {
  checkType(type);
  const existing = registered.get(type.type);
  if (existing === type) return;
  if (existing !== undefined) {
    throw new InvalidConfigError(
      `A different backend type named "${type.type}" is already registered`,
    );
  }
  registered.set(type.type, type);
}

/**
 * The types a Registry knows: the registered ones, then the given ones (a
 * given type replaces a registered one of the same name). Private to the
 * library.
 */
export function knownBackendTypes(
  given: readonly BackendType[] = [],
): ReadonlyMap<string, BackendType> {
  if (!Array.isArray(given)) throw new TypeError("`backendTypes` must be an array");
  const types = new Map(registered);
  for (const type of given) {
    checkType(type);
    types.set(type.type, type);
  }
  return types;
}
