/**
 * The `local` backend type, for a {@link Registry} config.
 *
 * @module
 */

import type { BackendType } from "../../backend_type.ts";
import { LocalBackend } from "./local_backend.ts";
import { type LocalBackendOptions, parseLocalOptions } from "./_options.ts";

/**
 * The `local` backend type: pass it to a Registry (or register it) so that a
 * config can say `{ type: "local", options: { root } }`.
 *
 * @example A Registry with a local store
 * ```ts
 * import { Registry } from "@remote-store/remote-store";
 * import { localBackendType } from "@remote-store/remote-store/local";
 * const root = await Deno.makeTempDir();
 * await using registry = new Registry(
 *   { backends: { disk: { type: "local", options: { root } } }, stores: { files: { backend: "disk" } } },
 *   { backendTypes: [localBackendType] },
 * );
 * await registry.getStore("files").write("a.txt", "hello");
 * ```
 */
export const localBackendType: BackendType<LocalBackendOptions> = Object.freeze({
  type: "local",
  parseOptions: parseLocalOptions,
  create: (options: LocalBackendOptions) => new LocalBackend(options),
});
