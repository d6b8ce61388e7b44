/**
 * Serve stored files over HTTP with `new Response(await store.read(path))`,
 * on whichever runtime runs this file: `Deno.serve`, `Bun.serve`, or
 * `node:http` through a small adapter. The body is pulled from the backend
 * as the client reads it (backpressure), so any file size streams in
 * bounded memory.
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
import { NotFoundError, Registry, type Store } from "../mod.ts";

/** Answers `GET /<path>` with the stored file, 404 when it does not exist. */
export async function handle(store: Store, request: Request): Promise<Response> {
  const path = decodeURIComponent(new URL(request.url).pathname).slice(1);
  try {
    const info = await store.getFileInfo(path, { signal: request.signal });
    const body = await store.read(path, { signal: request.signal });
    return new Response(body, {
      headers: {
        "content-type": info.contentType ?? "application/octet-stream",
        "content-length": String(info.size),
      },
    });
  } catch (error) {
    if (error instanceof NotFoundError) return new Response("Not found\n", { status: 404 });
    return new Response(`${(error as Error).message}\n`, { status: 500 });
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
  res.once("close", () => void reader.cancel().catch(() => {}));
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) await new Promise((resolve) => res.once("drain", resolve));
    }
    res.end();
  } catch {
    res.destroy();
  }
}

function toWebRequest(req: IncomingMessage): Request {
  const controller = new AbortController();
  req.once("close", () => controller.abort());
  return new Request(`http://127.0.0.1${req.url ?? "/"}`, {
    method: req.method,
    signal: controller.signal,
  });
}

/**
 * Serves a store on 127.0.0.1 with the runtime's own server API.
 *
 * @param store The store to serve.
 * @param port Port (0 picks a free one).
 * @returns The URL and a `close()`.
 */
export async function serve(store: Store, port = 0): Promise<Served> {
  const g = globalThis as Record<string, unknown>;
  if (g.Deno) {
    const server = Deno.serve(
      { hostname: "127.0.0.1", port, onListen: () => {} },
      (request) => handle(store, request),
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
      fetch: (request: Request) => handle(store, request),
    });
    return {
      url: `http://127.0.0.1:${server.port}/`,
      runtime: "bun",
      close: async () => await server.stop(true),
    };
  }
  const server = createServer((req, res) => {
    void handle(store, toWebRequest(req)).then((response) => sendToNode(response, res));
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
