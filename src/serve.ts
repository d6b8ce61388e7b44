/**
 * Web delivery: answer an HTTP `Request` for a stored file with a `Response`,
 * with byte ranges, validators and conditional requests. Web standards only
 * (no `node:` import, no runtime API), so it runs on Deno, Bun, Node and
 * edge runtimes alike.
 *
 * @module
 */

import type { Store } from "./store.ts";
import {
  BackendUnavailableError,
  InvalidPathError,
  NotFoundError,
  PermissionDeniedError,
  PreconditionFailedError,
  RemoteStoreError,
} from "./errors.ts";
import type { FileInfo } from "./types.ts";
import { isContentType, isHeaderValue } from "./_validate.ts";

/** Options for {@link serveFile}. */
export interface ServeFileOptions {
  /**
   * MIME type used when the store does not know the file's type (no type, or
   * only the `application/octet-stream` guess for an unknown extension).
   * Default: `application/octet-stream`.
   */
  contentType?: string;
  /** `Cache-Control` value for 200, 206 and 304 responses (instead of the stored one). */
  cacheControl?: string;
  /**
   * `Content-Disposition` value for 200 and 206 responses (for example
   * `attachment`), instead of the stored one.
   */
  contentDisposition?: string;
  /**
   * Extra headers for every response about the file (200, 206, 304, 412, 416),
   * for example CORS headers. The helper's own protocol headers win on conflict.
   */
  headers?: HeadersInit;
  /**
   * Serve script-capable types (HTML, XHTML, SVG, XML) inline as they are.
   * Default `false`: such files are sent with `Content-Disposition: attachment`
   * (the caller's `attachment; filename=...` is kept) and
   * `Content-Security-Policy: sandbox`, so an uploaded page cannot run script
   * in the serving origin. Set it only for files the application itself wrote.
   */
  allowActiveContent?: boolean;
}

const DEFAULT_TYPE = "application/octet-stream";
const ALLOW = "GET, HEAD";

// ---- header parsing ----------------------------------------------------------

/** A satisfiable single byte range: `start` to `end`, both inclusive. */
interface Span {
  start: number;
  end: number;
}

/**
 * What a `Range` header asks for: `ignore` (absent, malformed, another unit,
 * several ranges), `unsatisfiable`, or one span clamped to the size.
 */
type RangeRequest = { kind: "ignore" } | { kind: "unsatisfiable" } | { kind: "span"; span: Span };

const IGNORE: RangeRequest = { kind: "ignore" };
const DIGITS = /^\d+$/;

/** Parses a `Range` header against a file size (RFC 9110 §14.1.2, §14.2). */
function parseRange(header: string, size: number): RangeRequest {
  const eq = header.indexOf("=");
  if (eq < 0 || header.slice(0, eq).trim().toLowerCase() !== "bytes") return IGNORE;
  const specs = header.slice(eq + 1).split(",").map((s) => s.trim()).filter((s) => s !== "");
  // Several ranges would need multipart/byteranges, which is not supported: the
  // server may ignore Range (RFC 9110 §14.2), so the whole file is sent.
  if (specs.length !== 1) return IGNORE;
  const spec = specs[0]!;
  const dash = spec.indexOf("-");
  if (dash < 0) return IGNORE;
  const first = spec.slice(0, dash).trim();
  const last = spec.slice(dash + 1).trim();
  if (first === "") {
    // Suffix range: the last `n` bytes.
    if (!DIGITS.test(last)) return IGNORE;
    const length = Number(last);
    if (length === 0) return { kind: "unsatisfiable" };
    // An empty file cannot be expressed in Content-Range: send it whole.
    if (size === 0) return IGNORE;
    return { kind: "span", span: { start: Math.max(0, size - length), end: size - 1 } };
  }
  if (!DIGITS.test(first) || (last !== "" && !DIGITS.test(last))) return IGNORE;
  const start = Number(first);
  const end = last === "" ? Infinity : Number(last);
  if (end < start) return IGNORE; // an invalid range-spec: the header is malformed
  if (start >= size) return { kind: "unsatisfiable" };
  return { kind: "span", span: { start, end: Math.min(end, size - 1) } };
}

const ETAG_LIST = /(W\/)?"[^"]*"/g;

/** The entity tags of an `If-Match` / `If-None-Match` list, or `"*"`. */
function parseEtags(header: string): string[] | "*" {
  if (header.trim() === "*") return "*";
  return header.match(ETAG_LIST) ?? [];
}

function isWeak(etag: string): boolean {
  return etag.startsWith("W/");
}

function opaque(etag: string): string {
  return isWeak(etag) ? etag.slice(2) : etag;
}

/** Strong comparison (RFC 9110 §8.8.3.2): both strong and identical. */
function strongMatch(a: string, b: string): boolean {
  return !isWeak(a) && !isWeak(b) && a === b;
}

/** Weak comparison: the opaque tags are identical. */
function weakMatch(a: string, b: string): boolean {
  return opaque(a) === opaque(b);
}

/** The backend's ETag as a valid HTTP entity tag (quoted when the backend did not quote it). */
function httpEtag(etag: string | undefined): string | undefined {
  if (etag === undefined || etag === "") return undefined;
  const tagged = /^(W\/)?"[^"]*"$/.test(etag) ? etag : `"${etag}"`;
  // etagc = %x21 / %x23-7E / obs-text: no controls, spaces or quotes inside.
  return /^(W\/)?"[\x21\x23-\x7e\x80-\xff]*"$/.test(tagged) ? tagged : undefined;
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const IMF_FIXDATE = /^[A-Za-z]{3}, (\d{2}) ([A-Za-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const RFC_850 = /^[A-Za-z]+, (\d{2})-([A-Za-z]{3})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const ASCTIME = /^[A-Za-z]{3} ([A-Za-z]{3}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/;

/** Parses an HTTP-date (IMF-fixdate, RFC 850 or asctime) to milliseconds, or `undefined`. */
function parseHttpDate(value: string): number | undefined {
  const text = value.trim();
  let parts: { day: string; month: string; year: number; time: string[] };
  let match: RegExpExecArray | null;
  if ((match = IMF_FIXDATE.exec(text))) {
    const [, day, month, year, ...time] = match as unknown as string[];
    parts = { day: day!, month: month!, year: Number(year), time };
  } else if ((match = RFC_850.exec(text))) {
    const [, day, month, yy, ...time] = match as unknown as string[];
    // A two-digit year is the one at most 50 years ahead (RFC 9110 §5.6.7).
    const now = new Date().getUTCFullYear();
    let year = 1900 + Number(yy);
    while (year <= now - 50) year += 100;
    parts = { day: day!, month: month!, year, time };
  } else if ((match = ASCTIME.exec(text))) {
    const [, month, day, h, m, s, year] = match as unknown as string[];
    parts = { day: day!, month: month!, year: Number(year), time: [h!, m!, s!] };
  } else {
    return undefined;
  }
  const month = MONTHS.indexOf(parts.month.toLowerCase());
  if (month < 0) return undefined;
  const [h, m, s] = parts.time.map(Number) as [number, number, number];
  if (h > 23 || m > 59 || s > 60) return undefined;
  const time = Date.UTC(parts.year, month, Number(parts.day.trim()), h, m, s);
  return Number.isNaN(time) ? undefined : time;
}

/** A modification time in whole seconds, as `Last-Modified` carries it. */
function seconds(date: Date): number {
  return Math.floor(date.getTime() / 1000) * 1000;
}

// ---- responses -----------------------------------------------------------------

function textResponse(
  status: number,
  text: string,
  head: boolean,
  extra: Record<string, string> = {},
): Response {
  const body = new TextEncoder().encode(`${text}\n`);
  const headers = {
    "content-type": "text/plain; charset=utf-8",
    "content-length": String(body.byteLength),
    "x-content-type-options": "nosniff",
    ...extra,
  };
  return new Response(head ? null : body, { status, headers });
}

/** Maps a store error to a short response that never includes the native cause. */
function errorResponse(error: RemoteStoreError, head: boolean): Response {
  // A folder or an invalid path is reported like a missing file: nothing to serve here.
  if (error instanceof NotFoundError || error instanceof InvalidPathError) {
    return textResponse(404, "Not Found", head);
  }
  if (error instanceof PermissionDeniedError) return textResponse(403, "Forbidden", head);
  // A file that kept changing under every attempt is a passing condition, like a busy backend.
  const busy = error instanceof BackendUnavailableError || error instanceof PreconditionFailedError;
  // Only the error's code: a reason may quote a native failure (the Store names
  // the cause of an unexpected one), which must not reach the client.
  return busy
    ? textResponse(503, `Service Unavailable (${error.code})`, head)
    : textResponse(500, `Internal Server Error (${error.code})`, head);
}

/**
 * Passes `source` through, erroring (never closing normally) when it yields
 * more or fewer bytes than `expected`, and cancelling it when the request's
 * signal aborts.
 */
function exactLength(
  source: ReadableStream<Uint8Array>,
  expected: number,
  path: string,
  request: Request,
): ReadableStream<Uint8Array> {
  // The closures below use `request.signal` (not a copy of the signal) so that
  // they keep the Request reachable while the body is alive: on Node (undici) a
  // Request's signal follows the caller's signal only while the Request itself
  // is alive; once it is garbage collected an abort would no longer arrive.
  const reader = source.getReader();
  let received = 0;
  let state: "open" | "aborting" | "done" = "open";
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let wake: (() => void) | undefined;
  const changed = () =>
    new PreconditionFailedError(
      `File changed while it was being served (expected ${expected} bytes, got ${received})`,
      { path },
    );
  const end = () => {
    state = "done";
    request.signal.removeEventListener("abort", onAbort);
    wake?.();
  };
  const fail = (error: unknown) => {
    if (state === "done") return;
    end();
    void reader.cancel(error).catch(() => {});
    try {
      controller.error(error);
    } catch {
      // Already closed.
    }
  };
  const onAbort = () => {
    if (state !== "open") return;
    state = "aborting";
    const reason = request.signal.reason;
    // Stop the backend read now. A server whose client went away cancels the
    // body itself; erroring it first would make some (Deno.serve) log the
    // abort as a failed response, so the error waits one task, and is only
    // raised for consumers that keep reading.
    void reader.cancel(reason).catch(() => {});
    setTimeout(() => fail(reason), 0);
  };
  return new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      if (request.signal.aborted) onAbort();
      else request.signal.addEventListener("abort", onAbort, { once: true });
    },
    async pull(c) {
      let chunk: ReadableStreamReadResult<Uint8Array> | undefined;
      let failure: unknown;
      try {
        chunk = await reader.read();
      } catch (error) {
        failure = error;
      }
      if (state === "aborting") {
        // Park until the consumer cancels or the deferred abort error arrives.
        await new Promise<void>((resolve) => (wake = resolve));
        return;
      }
      if (state === "done") return;
      if (chunk === undefined) return fail(failure);
      if (chunk.done) {
        if (received !== expected) return fail(changed());
        end();
        c.close();
        return;
      }
      received += chunk.value.byteLength;
      if (received > expected) return fail(changed());
      c.enqueue(chunk.value);
    },
    async cancel(reason) {
      const wasOpen = state === "open";
      end();
      if (wasOpen) await reader.cancel(reason).catch(() => {});
    },
  }, { highWaterMark: 0 });
}

// ---- the helper -----------------------------------------------------------------

/**
 * Answers an HTTP request for one stored file: the web-standard building
 * block for serving a {@link Store} from `Deno.serve`, `Bun.serve`, a
 * `fetch` handler on an edge runtime, or Node through any `Request`/`Response`
 * adapter.
 *
 * - `GET` streams the file, pulled from the backend as the client reads it;
 *   `HEAD` sends the same headers and only looks up the file's metadata. Other
 *   methods get `405` with `Allow: GET, HEAD`.
 * - Headers: `Content-Length`, `Content-Type` (the stored type, else
 *   `options.contentType`, else `application/octet-stream`), `ETag` (from the
 *   store), `Last-Modified`, `Accept-Ranges: bytes`, the stored HTTP
 *   attributes (`Content-Encoding`, `Content-Language`, and `Cache-Control`
 *   and `Content-Disposition` unless the options give them), and extra headers.
 * - A file stored with a `contentEncoding` (a pre-gzipped asset) is sent as
 *   stored with that `Content-Encoding`, whatever the request's
 *   `Accept-Encoding` says (there is one representation; the helper neither
 *   decodes nor negotiates). `Content-Length`, the ETag and ranges are those
 *   of the stored (encoded) bytes: `bytes=0-99` is the first 100 bytes of the
 *   gzip stream, as RFC 9110 defines ranges of an encoded representation.
 * - `Range` (GET only, as RFC 9110 §14.2 requires): one range `bytes=a-b`,
 *   `bytes=a-` or `bytes=-n` is read from the backend as a ranged read (never
 *   read and discarded) and answered `206` with `Content-Range`; an
 *   unsatisfiable range gets `416` with a `Content-Range` that gives only the
 *   size.
 *   Several ranges (`bytes=0-1,5-6`) are answered with the whole file (`200`):
 *   `multipart/byteranges` is not supported. A malformed header or another
 *   unit is ignored (`200`). A backend without `range_read` ignores `Range`
 *   and answers `Accept-Ranges: none`.
 * - Conditions, in RFC 9110 §13.2.2 order: `If-Match` and
 *   `If-Unmodified-Since` fail with `412`; `If-None-Match` (weak comparison,
 *   `*`) and, without it, `If-Modified-Since` (second precision) answer `304`;
 *   `If-Range` (a strong ETag match, or an HTTP date equal to `Last-Modified`)
 *   that does not match makes a range request a full `200`.
 * - Errors are responses, not throws: a missing file, a folder or an invalid
 *   path is `404`; `PermissionDeniedError` is `403`;
 *   `BackendUnavailableError` (or a file that changed under every attempt)
 *   is `503`; any other store error is `500`. The
 *   short text body names the status and the error's code, never its
 *   reason or its native cause.
 * - Aborting `request.signal` (the client went away) cancels the backend read.
 *
 * - Every response has `X-Content-Type-Options: nosniff`. Script-capable
 *   types (HTML, XHTML, SVG, XML) are sent with `Content-Disposition:
 *   attachment` and `Content-Security-Policy: sandbox` unless
 *   `allowActiveContent` is set, so serving uploads from the application's
 *   origin is not stored XSS. A stored content type that is not a valid
 *   header value is ignored (the fallback type is sent).
 *
 * One answer describes one version: the metadata and the content are two
 * backend calls, and the read is pinned to the ETag the headers carry
 * (`ifMatch`). When the file is replaced in between, the read fails before
 * any byte and the answer starts again from the metadata (three attempts in
 * all; then `503`). On a backend without ETags the read cannot be pinned;
 * there, and as a second guard everywhere, the body is checked against
 * `Content-Length`: a body that ends short or runs long errors the stream
 * (with a `PreconditionFailedError`) instead of completing, so a client never
 * takes a truncated or mixed download for a complete one.
 *
 * @param store The store to serve from.
 * @param path The file's path in the store (already decoded, for example
 *   `decodeURIComponent(new URL(request.url).pathname).slice(1)`).
 * @param request The incoming request: its method, headers and `signal` are used.
 * @param options `contentType` fallback, `cacheControl`, `contentDisposition`, extra
 *   `headers`, `allowActiveContent`.
 * @returns The response to send.
 * @throws {unknown} The abort reason of `request.signal` when the request is
 *   aborted before the response is ready; a `TypeError` or `RangeError` for a
 *   programming error. Store errors are answered, never thrown.
 *
 * @example Serve a file with ranges
 * ```ts
 * import { MemoryBackend, serveFile, Store } from "@remote-store/remote-store";
 *
 * const store = new Store(new MemoryBackend());
 * await store.write("video.mp4", new Uint8Array(1000));
 *
 * const response = await serveFile(
 *   store,
 *   "video.mp4",
 *   new Request("http://localhost/video.mp4", { headers: { range: "bytes=0-99" } }),
 *   { cacheControl: "public, max-age=60" },
 * );
 * console.log(response.status); // 206
 * console.log(response.headers.get("content-range")); // "bytes 0-99/1000"
 * console.log((await response.arrayBuffer()).byteLength); // 100
 * ```
 */
export async function serveFile(
  store: Store,
  path: string,
  request: Request,
  options: ServeFileOptions = {},
): Promise<Response> {
  const method = request.method.toUpperCase();
  const head = method === "HEAD";
  if (method !== "GET" && !head) {
    return textResponse(405, "Method Not Allowed", false, { allow: ALLOW });
  }
  for (let attempt = 1;; attempt++) {
    try {
      const info = await store.getFileInfo(path, { signal: request.signal });
      const answer = answerFor(store, info, request, options, head);
      if (answer instanceof Response) return answer;
      const { code, headers, span, length } = answer;
      // Pinned to the version the headers describe: if it was replaced since,
      // the read fails before any byte and the answer starts again.
      const body = await store.read(path, {
        signal: request.signal,
        range: span ? { offset: span.start, length } : undefined,
        ifMatch: info.etag,
      });
      return new Response(exactLength(body, length, path, request), { status: code, headers });
    } catch (error) {
      if (error instanceof PreconditionFailedError && attempt < MAX_ATTEMPTS) continue;
      if (error instanceof RemoteStoreError) return errorResponse(error, head);
      throw error;
    }
  }
}

/** How many times {@link serveFile} starts again when the file changes between its info and its read. */
const MAX_ATTEMPTS = 3;

/** What to send for one version of the file: a finished response, or the status and headers of its body. */
type Answer = Response | {
  code: 200 | 206;
  headers: Headers;
  span: Span | undefined;
  length: number;
};

/** The caller's extra headers plus `nosniff`, which every answer carries. */
function baseHeaders(options: ServeFileOptions): Headers {
  const headers = new Headers(options.headers);
  headers.set("x-content-type-options", "nosniff");
  return headers;
}

/** Evaluates the request's conditions and range against one version's info. */
function answerFor(
  store: Store,
  info: FileInfo,
  request: Request,
  options: ServeFileOptions,
  head: boolean,
): Answer {
  const size = info.size;
  const etag = httpEtag(info.etag);
  const modified = Number.isNaN(info.modifiedAt.getTime()) ? undefined : seconds(info.modifiedAt);
  const rangesSupported = store.supports("range_read");

  // Validators and caching headers, shared by 200, 206 and 304.
  const headers = baseHeaders(options);
  if (etag !== undefined) headers.set("etag", etag);
  if (modified !== undefined) headers.set("last-modified", new Date(modified).toUTCString());
  const cacheControl = options.cacheControl ?? stored(info.cacheControl);
  if (cacheControl !== undefined) headers.set("cache-control", cacheControl);
  headers.set("accept-ranges", rangesSupported ? "bytes" : "none");

  const get = (name: string) => request.headers.get(name);
  const status = (code: number, extra: Record<string, string> = {}) => {
    const out = baseHeaders(options);
    for (const [name, value] of Object.entries(extra)) out.set(name, value);
    return new Response(null, { status: code, headers: out });
  };

  // 1-2. Preconditions for the request to proceed (412).
  const ifMatch = get("if-match");
  if (ifMatch !== null) {
    const tags = parseEtags(ifMatch);
    const ok = tags === "*" || (etag !== undefined && tags.some((t) => strongMatch(t, etag)));
    if (!ok) return status(412);
  } else {
    const since = get("if-unmodified-since");
    const date = since === null ? undefined : parseHttpDate(since);
    if (date !== undefined && modified !== undefined && modified > date) return status(412);
  }

  // 3-4. Cache validation (304).
  const ifNoneMatch = get("if-none-match");
  let notModified = false;
  if (ifNoneMatch !== null) {
    const tags = parseEtags(ifNoneMatch);
    notModified = tags === "*" || (etag !== undefined && tags.some((t) => weakMatch(t, etag)));
  } else {
    const since = get("if-modified-since");
    const date = since === null ? undefined : parseHttpDate(since);
    notModified = date !== undefined && modified !== undefined && modified <= date;
  }
  if (notModified) {
    headers.delete("accept-ranges");
    return new Response(null, { status: 304, headers });
  }

  // 5. Range, for GET only, unless If-Range says the client's copy is stale.
  let range: RangeRequest = IGNORE;
  const rangeHeader = get("range");
  if (!head && rangesSupported && rangeHeader !== null) {
    const ifRange = get("if-range");
    if (ifRange === null || ifRangeMatches(ifRange.trim(), etag, modified)) {
      range = parseRange(rangeHeader, size);
    }
  }
  if (range.kind === "unsatisfiable") {
    return status(416, { "content-range": `bytes */${size}`, "content-length": "0" });
  }

  // A stored type that is not a valid header value (written by another
  // program) is ignored rather than sent or thrown on.
  const storedType = isContentType(info.contentType) ? info.contentType : undefined;
  const type = storedType !== undefined && storedType !== DEFAULT_TYPE
    ? storedType
    : (options.contentType ?? storedType ?? DEFAULT_TYPE);
  headers.set("content-type", type);
  // The stored bytes go out as stored: their encoding and language describe them.
  const encoding = stored(info.contentEncoding);
  if (encoding !== undefined) headers.set("content-encoding", encoding);
  const language = stored(info.contentLanguage);
  if (language !== undefined) headers.set("content-language", language);
  const contentDisposition = options.contentDisposition ?? stored(info.contentDisposition);
  if (contentDisposition !== undefined) headers.set("content-disposition", contentDisposition);
  if (!options.allowActiveContent && isActiveType(type)) {
    // Script-capable content from uploads must not run in the serving origin.
    const disposition = contentDisposition?.trim() ?? "";
    if (!/^attachment\b/i.test(disposition)) headers.set("content-disposition", "attachment");
    headers.set("content-security-policy", "sandbox");
  }

  const span = range.kind === "span" ? range.span : undefined;
  const length = span ? span.end - span.start + 1 : size;
  headers.set("content-length", String(length));
  if (span) headers.set("content-range", `bytes ${span.start}-${span.end}/${size}`);
  const code = span ? 206 : 200;
  if (head) return new Response(null, { status: code, headers });
  return { code, headers, span, length };
}

/** A stored attribute that can be sent as a header; another program may have stored anything. */
function stored(value: string | undefined): string | undefined {
  return isHeaderValue(value) ? value : undefined;
}

/**
 * Types a browser runs script in, or renders as a document that can: HTML,
 * XHTML, SVG, every XML type (XSLT can produce HTML), and multipart streams
 * that can carry them.
 */
function isActiveType(type: string): boolean {
  const essence = type.split(";", 1)[0]!.trim().toLowerCase();
  return essence === "text/html" || essence === "text/xml" || essence === "application/xml" ||
    essence === "text/xsl" || essence.endsWith("+xml") ||
    essence === "multipart/x-mixed-replace";
}

/** Whether an `If-Range` value still matches the file (strong ETag, or exact date). */
function ifRangeMatches(
  value: string,
  etag: string | undefined,
  modified: number | undefined,
): boolean {
  if (value.startsWith('"') || value.startsWith("W/")) {
    return etag !== undefined && strongMatch(value, etag);
  }
  const date = parseHttpDate(value);
  return date !== undefined && modified !== undefined && date === modified;
}
