/**
 * Downloads return the stored bytes, also of a blob stored with a
 * `Content-Encoding` (a pre-gzipped asset). The service sends such a blob as
 * stored, with its `Content-Encoding` header, whatever `Accept-Encoding`
 * says, and `fetch` implementations decode gzip, deflate and br bodies on
 * their own. Measured (a gzip body, a full and a ranged GET):
 *
 * - Deno 2 decodes unless the request sets `Accept-Encoding` itself: every
 *   request sends `Accept-Encoding: identity` ({@link ACCEPT_STORED}).
 * - Bun 1 decodes whatever the request says (a range fails with a zlib
 *   error) unless the fetch has its option `decompress: false`
 *   ({@link STORED_BYTES_INIT}).
 * - workerd decodes unless the fetch has its option
 *   `encodeResponseBody: "manual"` ({@link STORED_BYTES_INIT}).
 * - Node 24's fetch (undici) decodes whatever the request says and has no
 *   option; a range of a gzip body decodes to nothing. Its requests go
 *   through a dispatcher that hands undici the response headers with
 *   `Content-Encoding` renamed, so nothing is decoded, and the header is put
 *   back on the response ({@link keepContentEncoding}).
 *
 * - Vercel's edge-runtime (undici inside a VM) decodes and offers no way
 *   out: there, and with a caller's fetch that decodes (the caller's fetch
 *   gets the same header and options), the download's length check fails
 *   the read (`_read_stream.ts`) rather than return other bytes
 *   (`tests/packaging/edge_test.ts`). Private module.
 *
 * @module
 */

/** The request header that asks for the stored bytes (Deno's fetch then decodes nothing). */
export const ACCEPT_STORED: readonly [string, string] = ["accept-encoding", "identity"];

/**
 * The fetch options that turn off decoding: Bun's `decompress: false` and
 * workerd's `encodeResponseBody: "manual"`; other runtimes ignore them.
 */
export const STORED_BYTES_INIT: { decompress: false; encodeResponseBody: "manual" } = {
  decompress: false,
  encodeResponseBody: "manual",
};

/** The name `Content-Encoding` travels under between undici and {@link keepContentEncoding}. */
const HIDDEN = "x-remote-store-content-encoding";

/** Where Node's fetch keeps its global dispatcher (undici's documented global symbol). */
const GLOBAL_DISPATCHER = Symbol.for("undici.globalDispatcher.1");

/** The part of an undici dispatcher this module uses. */
interface Dispatcher {
  dispatch(options: unknown, handler: Record<string | symbol, unknown>): unknown;
}

/** Node's global dispatcher, once its fetch has made one (after its first request). */
function globalDispatcher(): Dispatcher | undefined {
  const value = (globalThis as Record<symbol, unknown>)[GLOBAL_DISPATCHER] as
    | Partial<Dispatcher>
    | undefined;
  return typeof value?.dispatch === "function" ? value as Dispatcher : undefined;
}

/** Raw undici headers (name, value, name, value, ...) with `Content-Encoding` renamed. */
function hideRaw(raw: unknown): unknown {
  if (!Array.isArray(raw)) return raw;
  return raw.map((item, i) =>
    i % 2 === 0 && String(item).toLowerCase() === "content-encoding" ? HIDDEN : item
  );
}

/** Undici's handler, with the response headers it receives renamed (old and new handler API). */
function hidingHandler(
  handler: Record<string | symbol, unknown>,
): Record<string | symbol, unknown> {
  return new Proxy(handler, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (typeof value !== "function") return value;
      if (property === "onHeaders") {
        return (status: unknown, raw: unknown, ...rest: unknown[]) =>
          value.call(target, status, hideRaw(raw), ...rest);
      }
      if (property === "onResponseStart") {
        return (controller: unknown, status: unknown, headers: unknown, ...rest: unknown[]) => {
          let renamed = headers;
          if (headers !== null && typeof headers === "object" && "content-encoding" in headers) {
            const { "content-encoding": encoding, ...others } = headers as Record<string, unknown>;
            renamed = { ...others, [HIDDEN]: encoding };
          }
          return value.call(target, controller, status, renamed, ...rest);
        };
      }
      return value.bind(target);
    },
  });
}

/** A dispatcher over Node's global one that keeps fetch from seeing `Content-Encoding`. */
const hidingDispatcher: Dispatcher = {
  dispatch(options, handler) {
    return globalDispatcher()!.dispatch(options, hidingHandler(handler));
  },
};

/** The response with the renamed `Content-Encoding` put back (the body is not touched). */
function restored(response: Response): Response {
  const encoding = response.headers.get(HIDDEN);
  if (encoding === null) return response;
  const headers = new Headers(response.headers);
  headers.delete(HIDDEN);
  headers.set("content-encoding", encoding);
  return new Response(response.body, {
    status: response.status,
    statusText: response.statusText,
    headers,
  });
}

/**
 * Node's fetch, made to return the bytes as sent for GET requests: through
 * {@link hidingDispatcher} once Node has a global dispatcher. Before that
 * (the process's first fetch), a GET answered with a `Content-Encoding` is
 * sent again through it.
 *
 * @param fetch Node's fetch (or a wrapper that passes `dispatcher` on).
 * @returns The same fetch, for GETs without decoding.
 */
export function keepContentEncoding(
  fetch: (input: string, init: RequestInit) => Promise<Response>,
): (input: string, init: RequestInit) => Promise<Response> {
  return async (input, init) => {
    if (init.method !== "GET") return await fetch(input, init);
    if (globalDispatcher() !== undefined) {
      return restored(await fetch(input, { ...init, dispatcher: hidingDispatcher } as RequestInit));
    }
    const response = await fetch(input, init);
    if (!response.headers.has("content-encoding") || globalDispatcher() === undefined) {
      return response;
    }
    await response.body?.cancel().catch(() => {});
    return restored(await fetch(input, { ...init, dispatcher: hidingDispatcher } as RequestInit));
  };
}
