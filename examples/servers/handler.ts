/**
 * The request handler every server example shares: `GET /<path>` (and
 * `HEAD`, `Range`, conditional requests) answered with the stored file at
 * the URL-decoded path, through {@link serveFile}. It is a plain web handler
 * (`Request` in, `Response` out), so the same function runs on `Deno.serve`,
 * `Bun.serve`, Node (through srvx) and Workers.
 *
 * @module
 */

import { MemoryBackend, serveFile, Store } from "../../mod.ts";

/** A web request handler. */
export type Handler = (request: Request) => Promise<Response>;

/**
 * Makes a handler that serves the files of a store. The URL path is decoded
 * (`/my%20file.txt` serves `my file.txt`); a path that is not valid
 * percent-encoding answers 400.
 *
 * @param store The store to serve (it must stay open while the server runs).
 * @returns The handler.
 */
export function fileHandler(store: Store): Handler {
  return async (request) => {
    let path: string;
    try {
      path = decodeURIComponent(new URL(request.url).pathname).slice(1);
    } catch {
      return new Response("Bad Request\n", { status: 400 });
    }
    try {
      return await serveFile(store, path, request, { cacheControl: "no-cache" });
    } catch {
      // serveFile answers store errors itself; it only throws when the request
      // was aborted (the client is gone) or on a programming error.
      return new Response(null, { status: 500 });
    }
  };
}

/** A running server, as each example returns it. */
export interface Served {
  /** Base URL, `http://127.0.0.1:PORT/`. */
  url: string;
  /** Which server API serves: `"deno"`, `"bun"` or `"node"`. */
  runtime: string;
  /** Stops the server. */
  close(): Promise<void>;
}

/**
 * The sample store the examples serve when run directly: memory, with
 * `hello world.txt` in it.
 *
 * @returns The store.
 */
export async function sampleStore(): Promise<Store> {
  const store = new Store(new MemoryBackend());
  await store.write("hello world.txt", "Hello from remote-store!\n");
  return store;
}
