/**
 * The local disk backend: files in a folder, through `node:fs/promises`, on
 * Deno 2, Bun 1 and Node 24. Writes stream into a temporary file and are
 * renamed into place (atomic); create-only writes are race-free; symbolic
 * links cannot lead outside the root.
 *
 * In a Registry config use `{ type: "local", options: { root } }` and give
 * the Registry {@link localBackendType} (`new Registry(config, { backendTypes:
 * [localBackendType] })`, or `registerBackendType(localBackendType)` once).
 *
 * @example A store on a local folder
 * ```ts
 * import { LocalBackend } from "@remote-store/remote-store/local";
 * import { Store } from "@remote-store/remote-store";
 *
 * const root = await Deno.makeTempDir();
 * const store = new Store(new LocalBackend({ root }), { rootPath: "data" });
 * await store.write("hello.txt", "Hello, disk!");
 * console.log(await store.readText("hello.txt"));
 * ```
 *
 * @module
 */

export { localBackendType } from "./src/backends/local/local_type.ts";
export { LocalBackend } from "./src/backends/local/local_backend.ts";
export type { LocalBackendOptions } from "./src/backends/local/_options.ts";
// The contract types LocalBackend's methods refer to (also exported by the core entrypoint).
export type * from "./src/backend.ts";
export type { Capabilities, Capability } from "./src/capabilities.ts";
export type { ByteRange } from "./src/types.ts";
