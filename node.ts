/**
 * A faster `fetch` for Node: {@link createNodeFetch} sends over `node:http` / `node:https` with a
 * keep-alive agent and answers with a WHATWG `Response` whose body is a byte stream with
 * backpressure. Node's built-in `fetch` (undici) costs more CPU per request and per uploaded byte;
 * pass this one to the Azure backend's `fetch` option on Node. Deno and Bun do better with their
 * own `fetch` (this one runs there too, over their `node:http`). This entrypoint imports `node:`
 * builtins, so keep it out of edge bundles: `./azure` does not load it.
 *
 * @example Use it for the Azure backend on Node
 * ```ts ignore
 * import { nodeFetch } from "@remote-store/remote-store/node";
 * import { AzureBackend } from "@remote-store/remote-store/azure";
 * import { Store } from "@remote-store/remote-store";
 *
 * const backend = new AzureBackend({
 *   container: "data",
 *   connectionString: process.env.AZURE_STORAGE_CONNECTION_STRING!,
 *   fetch: nodeFetch,
 * });
 * const store = new Store(backend);
 * await store.write("hello.txt", "Hello, Azure!");
 * await backend.close();
 * nodeFetch.close(); // releases the idle keep-alive connections
 * ```
 *
 * @module
 */

export { createNodeFetch, type NodeFetch, nodeFetch } from "./src/node/_node_fetch.ts";
export type { NodeFetchOptions } from "./src/node/_node_fetch.ts";
