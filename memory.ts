/**
 * The in-memory backend: the embedded default, edge-safe (no `node:` imports).
 *
 * @example A store on memory
 * ```ts
 * import { MemoryBackend } from "@remote-store/remote-store/memory";
 * import { Store } from "@remote-store/remote-store";
 * const store = new Store(new MemoryBackend());
 * await store.write("a.txt", "hello");
 * ```
 *
 * @module
 */

export { MemoryBackend } from "./src/backends/memory/memory_backend.ts";
