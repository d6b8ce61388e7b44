/**
 * Capabilities: what a backend can do. The Store checks them before any I/O.
 *
 * @module
 */

import { CapabilityNotSupportedError } from "./errors.ts";

/**
 * One thing a backend can do.
 *
 * - `read`, `write`, `delete`, `list`, `copy`, `move`: the basic operations.
 * - `range_read`: `read` with a byte `range` served without reading the skipped bytes.
 * - `atomic_write`: `writeAtomic` (readers see the old or the new content, never a mix).
 * - `atomic_move`: `move` is one atomic step (readers see the old path or the new one).
 * - `metadata`: user metadata and content type are stored with a file.
 * - `directories`: empty folders exist on their own (a real hierarchical namespace).
 * - `signed_url`: `signedUrl` makes a time-limited URL for one file; `signedUpload` lets a
 *   browser upload one file with `fetch`.
 * - `http_attributes`: `cacheControl`, `contentEncoding`, `contentDisposition`
 *   and `contentLanguage` are stored with a file, reported by `getFileInfo`
 *   and sent by `serveFile`.
 */
export type Capability =
  | "read"
  | "write"
  | "delete"
  | "list"
  | "copy"
  | "move"
  | "range_read"
  | "atomic_write"
  | "atomic_move"
  | "metadata"
  | "directories"
  | "signed_url"
  | "http_attributes";

/** Every capability name, in a stable order. */
export const ALL_CAPABILITIES: readonly Capability[] = Object.freeze([
  "read",
  "write",
  "delete",
  "list",
  "copy",
  "move",
  "range_read",
  "atomic_write",
  "atomic_move",
  "metadata",
  "directories",
  "signed_url",
  "http_attributes",
]);

/**
 * An immutable set of capabilities.
 *
 * @example Check and require
 * ```ts
 * import { Capabilities } from "@remote-store/remote-store";
 * const caps = new Capabilities(["read", "write"]);
 * console.log(caps.supports("read"));  // true
 * caps.require("read");                // ok
 * ```
 */
export class Capabilities implements Iterable<Capability> {
  readonly #set: ReadonlySet<Capability>;

  /**
   * Creates an immutable set.
   *
   * @param capabilities The capabilities in the set.
   */
  constructor(capabilities: Iterable<Capability>) {
    this.#set = new Set(capabilities);
    Object.freeze(this);
  }

  /**
   * Whether the set holds a capability.
   *
   * @param capability The capability to look for.
   * @returns `true` when supported.
   */
  supports(capability: Capability): boolean {
    return this.#set.has(capability);
  }

  /**
   * Asserts that a capability is supported.
   *
   * @param capability The capability required.
   * @param context Backend and path for the error.
   * @throws {CapabilityNotSupportedError} When it is not.
   */
  require(capability: Capability, context: { backend?: string; path?: string } = {}): void {
    if (!this.#set.has(capability)) throw new CapabilityNotSupportedError(capability, context);
  }

  /**
   * A new set with some capabilities added.
   *
   * @param capabilities Capabilities to add.
   * @returns The union.
   */
  with(...capabilities: Capability[]): Capabilities {
    return new Capabilities([...this.#set, ...capabilities]);
  }

  /**
   * A new set with some capabilities removed.
   *
   * @param capabilities Capabilities to remove.
   * @returns The difference.
   */
  without(...capabilities: Capability[]): Capabilities {
    return new Capabilities([...this.#set].filter((c) => !capabilities.includes(c)));
  }

  /**
   * Iterates the capabilities in a stable order.
   *
   * @returns An iterator of capability names.
   */
  *[Symbol.iterator](): Iterator<Capability> {
    for (const capability of ALL_CAPABILITIES) {
      if (this.#set.has(capability)) yield capability;
    }
  }

  /**
   * The capability names as an array (for `JSON.stringify`).
   *
   * @returns The names.
   */
  toJSON(): Capability[] {
    return [...this];
  }
}
