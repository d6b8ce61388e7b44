/**
 * Serving a store on Node with `node:http`, through srvx
 * (https://srvx.h3.dev), a small, dependency-free adapter from web
 * `Request`/`Response` handlers to `node:http`: it streams the body with
 * backpressure and aborts `request.signal` when the client goes away, which
 * cancels the backend read. Run: `node examples/servers/node.ts` (Node 24),
 * then open http://127.0.0.1:8000/hello%20world.txt (`PORT` changes the port).
 *
 * @module
 */

import process from "node:process";
import { serve } from "srvx/node";
import type { Store } from "../../mod.ts";
import { fileHandler, sampleStore, type Served } from "./handler.ts";

/**
 * Serves a store on 127.0.0.1 with `node:http` (through srvx).
 *
 * @param store The store to serve.
 * @param port Port (0 picks a free one).
 * @returns The URL and a `close()`.
 */
export async function serveWithNode(store: Store, port = 0): Promise<Served> {
  const server = serve({ hostname: "127.0.0.1", port, silent: true, fetch: fileHandler(store) });
  await server.ready();
  const address = server.node?.server?.address();
  const actualPort = typeof address === "object" && address ? address.port : port;
  return {
    url: `http://127.0.0.1:${actualPort}/`,
    runtime: "node",
    close: () => server.close(true),
  };
}

if (import.meta.main) {
  const served = await serveWithNode(await sampleStore(), Number(process.env.PORT ?? 8000));
  console.log(`Serving with node:http (srvx) at ${served.url}hello%20world.txt`);
}
