/**
 * Serving a store with `Bun.serve`. Run: `bun examples/servers/bun.ts`, then
 * open http://127.0.0.1:8000/hello%20world.txt (`PORT` changes the port).
 *
 * @module
 */

import process from "node:process";
import type { Store } from "../../mod.ts";
import { fileHandler, sampleStore, type Served } from "./handler.ts";

/** The part of Bun's API this example uses (Bun's own types declare it in a Bun project). */
interface BunServe {
  serve(options: {
    hostname: string;
    port: number;
    fetch(request: Request): Promise<Response>;
  }): { port: number; stop(closeActiveConnections?: boolean): Promise<void> };
}

/**
 * Serves a store on 127.0.0.1 with `Bun.serve`.
 *
 * @param store The store to serve.
 * @param port Port (0 picks a free one).
 * @returns The URL and a `close()`.
 * @throws {TypeError} When not running on Bun.
 */
export function serveWithBun(store: Store, port = 0): Served {
  const bun = (globalThis as { Bun?: BunServe }).Bun;
  if (!bun) throw new TypeError("Bun.serve is only available on Bun");
  const server = bun.serve({ hostname: "127.0.0.1", port, fetch: fileHandler(store) });
  return {
    url: `http://127.0.0.1:${server.port}/`,
    runtime: "bun",
    close: () => server.stop(true),
  };
}

if (import.meta.main) {
  const served = serveWithBun(await sampleStore(), Number(process.env.PORT ?? 8000));
  console.log(`Serving with Bun.serve at ${served.url}hello%20world.txt`);
}
