/**
 * Serve stored files over HTTP with {@link serveFile}, on whichever runtime
 * runs this file: `Deno.serve`, `Bun.serve`, or `node:http` through a small
 * adapter. The body is pulled from the backend as the client reads it
 * (backpressure), so any file size streams in bounded memory; `Range`
 * requests (video players, resumed downloads) are ranged backend reads, and
 * `ETag` / `Last-Modified` make browsers revalidate with `304`s.
 *
 * Run: `deno run -A examples/serve.ts`, `bun examples/serve.ts` or
 * `node examples/serve.ts` (Node 24), then open the printed URL. With
 * RS_AZURE_CONTAINER and RS_AZURE_CONN set it serves from Azure; otherwise
 * from a memory store with one sample file.
 *
 * @module
 */

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import process from "node:process";
import { Registry, serveFile, type Store } from "../mod.ts";

/** Answers `GET /<path>` (and `HEAD`, ranges, conditional requests) with the stored file. */
export async function handle(store: Store, request: Request): Promise<Response> {
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
}

/** A running server. */
export interface Served {
  /** Base URL, `http://127.0.0.1:PORT/`. */
  url: string;
  /** Which server API is used: `"deno"`, `"bun"` or `"node"`. */
  runtime: string;
  /** Stops the server. */
  close(): Promise<void>;
}

/** Pipes a web `Response` into a Node `ServerResponse`, honouring backpressure. */
async function sendToNode(response: Response, res: ServerResponse): Promise<void> {
  res.writeHead(response.status, Object.fromEntries(response.headers));
  if (!response.body) return void res.end();
  const reader = response.body.getReader();
  const closed = new Promise<void>((resolve) => {
    res.once("close", () => {
      void reader.cancel().catch(() => {});
      resolve();
    });
  });
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) {
        await Promise.race([new Promise((resolve) => res.once("drain", resolve)), closed]);
      }
    }
    res.end();
  } catch {
    res.destroy();
  }
}

/** A web `Request` for a Node request; its signal aborts when the client goes away early. */
function toWebRequest(req: IncomingMessage, res: ServerResponse): Request {
  const controller = new AbortController();
  // `req` closes as soon as the request is read; the response closing before
  // it has finished is what means the client went away.
  res.once("close", () => {
    if (!res.writableFinished) controller.abort(new Error("The client closed the connection"));
  });
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
  }
  return new Request(`http://127.0.0.1${req.url ?? "/"}`, {
    method: req.method,
    headers,
    signal: controller.signal,
  });
}

/** A web request handler: `Request` in, `Response` out. */
export type Handler = (request: Request) => Response | Promise<Response>;

/**
 * Runs a web handler on 127.0.0.1 with the runtime's own server API:
 * `Deno.serve`, `Bun.serve`, or `node:http` through an adapter.
 *
 * @param handler The request handler.
 * @param port Port (0 picks a free one).
 * @returns The URL and a `close()`.
 */
export async function listen(handler: Handler, port = 0): Promise<Served> {
  const g = globalThis as Record<string, unknown>;
  if (g.Deno) {
    const server = Deno.serve(
      { hostname: "127.0.0.1", port, onListen: () => {} },
      (request) => handler(request),
    );
    return {
      url: `http://127.0.0.1:${server.addr.port}/`,
      runtime: "deno",
      close: () => server.shutdown(),
    };
  }
  if (g.Bun) {
    const bun = g.Bun as {
      serve(options: unknown): { port: number; stop(force?: boolean): Promise<void> | void };
    };
    const server = bun.serve({
      hostname: "127.0.0.1",
      port,
      fetch: (request: Request) => handler(request),
    });
    return {
      url: `http://127.0.0.1:${server.port}/`,
      runtime: "bun",
      close: async () => await server.stop(true),
    };
  }
  const server = createServer((req, res) => {
    void (async () => {
      let response: Response;
      try {
        response = await handler(toWebRequest(req, res));
      } catch {
        response = new Response(null, { status: 500 });
      }
      await sendToNode(response, res);
    })();
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const address = server.address();
  const actualPort = typeof address === "object" && address ? address.port : port;
  return {
    url: `http://127.0.0.1:${actualPort}/`,
    runtime: "node",
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Serves a store on 127.0.0.1 with the runtime's own server API.
 *
 * @param store The store to serve.
 * @param port Port (0 picks a free one).
 * @returns The URL and a `close()`.
 */
export function serve(store: Store, port = 0): Promise<Served> {
  return listen((request) => handle(store, request), port);
}

if (import.meta.main) {
  const env = process.env;
  const azure = env.RS_AZURE_CONTAINER && env.RS_AZURE_CONN;
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
  });
  const store = registry.getStore("site");
  if (!azure) await store.write("hello.txt", "Hello from remote-store!\n", { overwrite: true });
  const served = await serve(store, Number(env.PORT ?? 8000));
  console.log(`Serving with ${served.runtime} at ${served.url}hello.txt`);
}
