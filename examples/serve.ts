/**
 * Serve stored files over HTTP with {@link serveFile}, on whichever runtime
 * runs this file, with that runtime's own server: `Deno.serve`
 * (`servers/deno.ts`), `Bun.serve` (`servers/bun.ts`) or `node:http` through
 * srvx (`servers/node.ts`); `servers/workers.ts` is the Workers form. The
 * body is pulled from the backend as the client reads it (backpressure), so
 * any file size streams in bounded memory; `Range` requests (video players,
 * resumed downloads) are ranged backend reads, and `ETag` / `Last-Modified`
 * make browsers revalidate with `304`s.
 *
 * Run: `deno run -A examples/serve.ts`, `bun examples/serve.ts` or
 * `node examples/serve.ts` (Node 24), then open the printed URL. With
 * RS_AZURE_CONTAINER and RS_AZURE_CONN set it serves from Azure; otherwise
 * from a memory store with one sample file.
 *
 * @module
 */

import process from "node:process";
import { Registry, type Store } from "../mod.ts";
import { azureBackendType } from "../azure.ts";
import type { Served } from "./servers/handler.ts";
import { serveWithDeno } from "./servers/deno.ts";
import { serveWithBun } from "./servers/bun.ts";
import { serveWithNode } from "./servers/node.ts";

export type { Served } from "./servers/handler.ts";

/**
 * Serves a store on 127.0.0.1 with the runtime's own server API.
 *
 * @param store The store to serve.
 * @param port Port (0 picks a free one).
 * @returns The URL and a `close()`.
 */
export function serve(store: Store, port = 0): Promise<Served> {
  const g = globalThis as Record<string, unknown>;
  if (g.Deno) return Promise.resolve(serveWithDeno(store, port));
  if (g.Bun) return Promise.resolve(serveWithBun(store, port));
  return serveWithNode(store, port);
}

if (import.meta.main) {
  const env = process.env;
  const azure = env.RS_AZURE_CONTAINER && env.RS_AZURE_CONN;
  // The registry stays open while the server runs (no `await using` here).
  const registry = new Registry({
    backends: {
      files: azure
        ? {
          type: "azure",
          options: { container: env.RS_AZURE_CONTAINER, connectionString: env.RS_AZURE_CONN },
        }
        : { type: "memory" },
    },
    stores: { site: { backend: "files", rootPath: "site" } },
  }, { backendTypes: [azureBackendType] });
  const store = registry.getStore("site");
  if (!azure) {
    await store.write("hello world.txt", "Hello from remote-store!\n", { overwrite: true });
  }
  const served = await serve(store, Number(env.PORT ?? 8000));
  console.log(`Serving with ${served.runtime} at ${served.url}hello%20world.txt`);
}
