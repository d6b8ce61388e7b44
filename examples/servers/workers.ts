/**
 * Serving a store from a Cloudflare Worker (or any runtime that takes an ES
 * module with a default `{ fetch }` export: workerd, wrangler). The core
 * entrypoint is edge-safe, so the bundle holds no `node:` module. The
 * repository's tests bundle it with esbuild (conditions `workerd`, `worker`,
 * `browser`, as wrangler resolves) and run it in workerd
 * (tests/packaging/edge_test.ts).
 *
 * It serves a memory store with one sample file; a Worker has no I/O at
 * start-up, so the file is written on the first request.
 *
 * @module
 */

import { Registry } from "../../mod.ts";
import { fileHandler } from "./handler.ts";

const registry = new Registry({
  backends: { files: { type: "memory" } },
  stores: { site: { backend: "files", rootPath: "site" } },
});
const store = registry.getStore("site");
const handle = fileHandler(store);
let seeded: Promise<unknown> | undefined;

/** The Worker: `GET /hello%20world.txt` answers the sample file (ranges, revalidation). */
const worker: { fetch(request: Request): Promise<Response> } = {
  async fetch(request) {
    seeded ??= store.write("hello world.txt", "Hello from a Worker!\n");
    await seeded;
    return handle(request);
  },
};
export default worker;
