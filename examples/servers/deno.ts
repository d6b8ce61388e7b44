/**
 * Serving a store with `Deno.serve`. Run: `deno run -A examples/servers/deno.ts`,
 * then open http://127.0.0.1:8000/hello%20world.txt (`PORT` changes the port).
 *
 * @module
 */

import type { Store } from "../../mod.ts";
import { fileHandler, sampleStore, type Served } from "./handler.ts";

/**
 * Serves a store on 127.0.0.1 with `Deno.serve`.
 *
 * @param store The store to serve.
 * @param port Port (0 picks a free one).
 * @returns The URL and a `close()`.
 */
export function serveWithDeno(store: Store, port = 0): Served {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port, onListen: () => {} },
    fileHandler(store),
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}/`,
    runtime: "deno",
    close: () => server.shutdown(),
  };
}

if (import.meta.main) {
  const served = serveWithDeno(await sampleStore(), Number(Deno.env.get("PORT") ?? 8000));
  console.log(`Serving with Deno.serve at ${served.url}hello%20world.txt`);
}
