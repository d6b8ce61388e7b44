/**
 * Downloads as a pull-based web stream over the fetch body (bytes are read
 * from the connection only when the reader wants them), resuming a dropped
 * or stalled connection from the current offset, pinned to the blob's ETag.
 * Private module.
 *
 * @module
 */

import { BackendUnavailableError, InvalidPathError } from "../../errors.ts";
import { collectBytes, type ErrorMappingStream, MAP_ERRORS } from "../../_streams.ts";
import { type BlobConditions, downloadBlob, getBlobProperties } from "./_blob_api.ts";
import { BACKEND, changedWhile, isRangeNotSatisfiable, isTransient } from "./_errors.ts";
import type { AzureHttp } from "./_http.ts";
import { isFolderMetadata } from "./_hns.ts";
import { sleep } from "./_retry.ts";
import { anySignal } from "../../_signals.ts";

/** How to open and resume one read. */
export interface BlobReadOptions {
  /** The backend key (for errors). */
  key: string;
  /** First byte. */
  offset: number;
  /** Bytes to read; `undefined` for the rest of the blob. */
  length?: number;
  /** Aborts the read; an abort errors the stream with the signal's reason. */
  signal?: AbortSignal;
  /** How often a dropped download may resume before the stream errors. */
  maxResumes: number;
  /** Delay before resume number `attempt` (1-based), in milliseconds. */
  resumeDelayMs(attempt: number): number;
  /** Maps an error raised while the stream is consumed. */
  mapError(error: unknown): unknown;
  /** Reject with `InvalidPathError` when the blob is an HNS directory (`hdi_isfolder=true`). */
  rejectFolder?: boolean;
  /** The caller's conditions, sent with the first request (resumes are pinned to the ETag). */
  conditions?: BlobConditions;
  /**
   * Milliseconds a download may receive nothing (waiting for the response, or
   * for body bytes the reader wants) before it counts as dropped and is
   * resumed; 0 waits forever.
   */
  idleTimeoutMs: number;
}

/** A download that received nothing for `idleTimeoutMs`: handled like a dropped connection. */
class DownloadStalled extends Error {
  constructor(ms: number) {
    super(`Download received nothing for ${ms} ms`);
    this.name = "DownloadStalled";
  }
}

/**
 * Calls `onIdle` once `ms` pass without {@link IdleTimer.arm} being called
 * again. Arming notes the time only (it is called for every chunk); one timer
 * runs and, when it fires early, waits for the rest of the period.
 */
class IdleTimer {
  readonly #ms: number;
  readonly #onIdle: () => void;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #armed = false;
  #last = 0;

  constructor(ms: number, onIdle: () => void) {
    this.#ms = ms;
    this.#onIdle = onIdle;
  }

  /** Starts (or restarts) the wait. */
  arm(): void {
    if (this.#ms <= 0) return;
    this.#last = Date.now();
    this.#armed = true;
    if (this.#timer === undefined) this.#schedule(this.#ms);
  }

  /**
   * Stops counting (the reader wants no bytes now) without clearing the one
   * timer: a wait that resumes soon reuses it, so that a chunk costs no timer.
   */
  pause(): void {
    this.#armed = false;
  }

  /** Stops the wait and clears its timer (at the end). */
  disarm(): void {
    this.#armed = false;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(delay: number): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (!this.#armed) return;
      const idle = Date.now() - this.#last;
      if (idle < this.#ms) return this.#schedule(this.#ms - idle);
      this.#armed = false;
      this.#onIdle();
    }, delay);
  }
}

/** One GET with its own abort controller, so that a stalled attempt can be given up. */
interface Attempt {
  response: Response;
  controller: AbortController;
}

/**
 * Sends one ranged GET; rejects with {@link DownloadStalled} when no
 * response arrives within `idleTimeoutMs` (the request is aborted).
 */
async function startDownload(
  http: AzureHttp,
  offset: number,
  count: number | undefined,
  conditions: BlobConditions | undefined,
  options: BlobReadOptions,
): Promise<Attempt> {
  const { signal, idleTimeoutMs } = options;
  const controller = new AbortController();
  const abortSignal = signal ? anySignal([signal, controller.signal]) : controller.signal;
  const timer = new IdleTimer(idleTimeoutMs, () => {
    controller.abort(new DownloadStalled(idleTimeoutMs));
  });
  timer.arm();
  try {
    const response = await downloadBlob(http, options.key, {
      offset,
      count,
      conditions,
      signal: abortSignal,
    });
    return { response, controller };
  } catch (error) {
    if (controller.signal.aborted && !signal?.aborted) throw controller.signal.reason;
    throw error;
  } finally {
    timer.disarm();
  }
}

/**
 * The error for a body of another length than the service sent while it
 * carries a `Content-Encoding`: the fetch in use decoded it (see
 * `_stored_bytes.ts`), and returning those bytes would be returning another
 * content. Not resumed: a resume would be decoded the same way.
 */
function decodedError(key: string, encoding: string): BackendUnavailableError {
  return new BackendUnavailableError(
    `The fetch in use decoded the blob's stored Content-Encoding "${encoding}", so the bytes ` +
      `read are not the stored ones; pass a fetch that returns bodies as sent ` +
      `(the runtime's own fetch on Deno, Bun, Node and workerd does)`,
    { path: key, backend: BACKEND },
  );
}

/** The response's `Content-Encoding`, unless absent or `identity`. */
function encodingOf(headers: Headers): string | undefined {
  const encoding = headers.get("content-encoding")?.trim();
  return encoding === undefined || encoding === "" || encoding.toLowerCase() === "identity"
    ? undefined
    : encoding;
}

/** Cancels a body nobody will read (its connection is released or closed). */
function discard(body: ReadableStream<Uint8Array> | null | undefined): void {
  if (body && !body.locked) void body.cancel().catch(() => {});
}

/** Whether `hdi_isfolder` metadata (response headers, or properties) says "directory". */
function isFolder(metadata: Record<string, string> | Headers): boolean {
  if (metadata instanceof Headers) {
    return metadata.get("x-ms-meta-hdi_isfolder")?.toLowerCase() === "true";
  }
  return isFolderMetadata(metadata);
}

/** Rejects a directory when the read asks for it (HNS); releases `body` first. */
function checkNotFolder(
  options: BlobReadOptions,
  metadata: Record<string, string> | Headers,
  body?: ReadableStream<Uint8Array> | null,
): void {
  if (!options.rejectFolder || !isFolder(metadata)) return;
  discard(body);
  throw new InvalidPathError("Path is a folder, not a file", {
    path: options.key,
    backend: BACKEND,
  });
}

function emptyStream(): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.close();
    },
  });
}

function parseTotal(contentRange: string | null): number | undefined {
  const match = /\/(\d+)\s*$/.exec(contentRange ?? "");
  return match ? Number(match[1]) : undefined;
}

function contentLength(headers: Headers): number | undefined {
  const value = headers.get("content-length");
  return value === null || !/^\d+$/.test(value.trim()) ? undefined : Number(value);
}

/** A plain Uint8Array view of a body chunk (not a Node `Buffer`), without copying. */
function asBytes(chunk: Uint8Array): Uint8Array {
  if (Object.getPrototypeOf(chunk) === Uint8Array.prototype) return chunk;
  return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/**
 * The state of one streamed download: the fetch body being read, what was
 * received, and the resumes spent. The stream pulls one body chunk per read
 * (no read-ahead of its own: the fetch body has its own backpressure).
 */
class Download {
  readonly #http: AzureHttp;
  readonly #options: BlobReadOptions;
  readonly #expected: number | undefined;
  readonly #etag: string | undefined;
  /** The `Content-Encoding` of the first response, when it has one. */
  readonly #encoding: string | undefined;
  readonly #mappers: Array<(error: unknown) => unknown> = [];
  readonly #idle: IdleTimer;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #attempt: AbortController;
  #body: ReadableStream<Uint8Array> | null;
  #reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  /** Set by the idle timer: the current body counts as dropped, whatever it says next. */
  #stall: DownloadStalled | undefined;
  #received = 0;
  #resumes: number;
  #lastError: unknown;
  #settled = false;
  readonly stream: ErrorMappingStream;

  constructor(
    http: AzureHttp,
    options: BlobReadOptions,
    first: Attempt,
    resumes: number,
    expected: number | undefined,
  ) {
    this.#http = http;
    this.#options = options;
    this.#attempt = first.controller;
    this.#body = first.response.body;
    this.#resumes = resumes;
    this.#expected = expected;
    this.#etag = first.response.headers.get("etag") ?? undefined;
    this.#encoding = encodingOf(first.response.headers);
    this.#idle = new IdleTimer(options.idleTimeoutMs, () => this.#stalled());
    const { signal } = options;
    const stream = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#controller = controller;
        if (signal?.aborted) return this.#settle(signal.reason);
        signal?.addEventListener("abort", this.#onAbort, { once: true });
      },
      pull: (): Promise<void> | void => {
        const reader = this.#reader;
        if (reader === undefined) return this.#pull();
        // The common case without an async frame: one body read for one chunk.
        this.#idle.arm();
        return reader.read().then((result): Promise<void> | void => {
          this.#idle.pause();
          if (this.#settled) return;
          if (
            result.done || this.#stall !== undefined || result.value.byteLength === 0 ||
            this.#overruns(result.value)
          ) {
            return this.#pull({ result });
          }
          this.#received += result.value.byteLength;
          this.#controller.enqueue(asBytes(result.value));
        }, (error: unknown) => {
          this.#idle.pause();
          return this.#pull({ error });
        });
      },
      cancel: () => this.#settle(),
    }, { highWaterMark: 0 }) as ErrorMappingStream;
    stream[MAP_ERRORS] = (mapError) => void this.#mappers.push(mapError);
    this.stream = stream;
  }

  readonly #onAbort = () => this.#settle(this.#options.signal!.reason);

  /** Ends the stream: closes it (`close`), errors it with `error`, or neither (cancel). */
  #settle(error?: unknown, close = false): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#idle.disarm();
    this.#options.signal?.removeEventListener("abort", this.#onAbort);
    if (close) {
      // The body ended: its connection goes back to the pool.
      this.#reader?.releaseLock();
      this.#reader = undefined;
      this.#controller.close();
      return;
    }
    this.#release();
    if (error === undefined) return;
    for (const mapError of this.#mappers) error = mapError(error);
    this.#controller.error(error);
  }

  /** Gives up the current body (cancelled, its request aborted). */
  #release(): void {
    const reader = this.#reader;
    const body = this.#body;
    this.#reader = undefined;
    this.#body = null;
    if (reader) void reader.cancel().catch(() => {});
    else discard(body);
    this.#attempt.abort();
  }

  /** The idle timer fired while a read waited: the body counts as dropped. */
  #stalled(): void {
    const stall = new DownloadStalled(this.#options.idleTimeoutMs);
    this.#stall = stall;
    // Either settles the pending read: the abort errors the body, the cancel ends it.
    this.#attempt.abort(stall);
    void this.#reader?.cancel(stall).catch(() => {});
  }

  /**
   * Enqueues the next chunk, or closes the stream at the end; resumes
   * dropped bodies; errors the stream (mapped) when that fails. `read` is the
   * outcome of a body read the caller already made.
   */
  async #pull(
    read?: { result: ReadableStreamReadResult<Uint8Array> } | { error: unknown },
  ): Promise<void> {
    try {
      await this.#next(read);
    } catch (error) {
      const { signal } = this.#options;
      this.#settle(signal?.aborted ? signal.reason : this.#options.mapError(error));
    }
  }

  async #next(
    read?: { result: ReadableStreamReadResult<Uint8Array> } | { error: unknown },
  ): Promise<void> {
    const { signal } = this.#options;
    while (!this.#settled) {
      let result: ReadableStreamReadResult<Uint8Array>;
      if (read !== undefined) {
        if ("error" in read) {
          const { error } = read;
          read = undefined;
          if (signal?.aborted) throw signal.reason;
          this.#dropped(this.#stall ?? error);
          continue;
        }
        result = read.result;
        read = undefined;
      } else {
        if (this.#reader === undefined) {
          if (this.#body === null) {
            await this.#resume();
            continue;
          }
          this.#reader = this.#body.getReader();
        }
        const reader = this.#reader;
        this.#idle.arm();
        try {
          result = await reader.read();
        } catch (error) {
          this.#idle.pause();
          if (this.#settled) return;
          if (signal?.aborted) throw signal.reason;
          this.#dropped(this.#stall ?? error);
          continue;
        }
        this.#idle.pause();
      }
      if (this.#settled) return;
      if (this.#stall !== undefined) {
        this.#dropped(this.#stall);
        continue;
      }
      if (result.done) {
        const expected = this.#expected;
        if (expected === undefined || this.#received >= expected) {
          return this.#settle(undefined, true);
        }
        // A decoded body ends short without an error; a dropped connection errors.
        if (this.#encoding !== undefined) throw decodedError(this.#options.key, this.#encoding);
        this.#dropped(new Error(`Body ended after ${this.#received} of ${expected} bytes`));
        continue;
      }
      const chunk = result.value;
      if (chunk.byteLength === 0) continue;
      if (this.#overruns(chunk)) {
        throw this.#encoding === undefined
          ? new BackendUnavailableError("Download is longer than its Content-Length", {
            path: this.#options.key,
            backend: BACKEND,
          })
          : decodedError(this.#options.key, this.#encoding);
      }
      this.#received += chunk.byteLength;
      this.#controller.enqueue(asBytes(chunk));
      return;
    }
  }

  /** Whether `chunk` would take the download past the bytes the service sent. */
  #overruns(chunk: Uint8Array): boolean {
    return this.#expected !== undefined && this.#received + chunk.byteLength > this.#expected;
  }

  /** The body failed mid-download: release it; the next pull resumes. */
  #dropped(error: unknown): void {
    this.#idle.disarm();
    this.#lastError = error;
    this.#stall = undefined;
    this.#release();
  }

  /**
   * Sends the ranged GET of the rest, pinned to the first response's ETag,
   * after the resume delay; transient failures are tried again while resumes remain.
   */
  async #resume(): Promise<void> {
    const { key, offset, signal } = this.#options;
    while (true) {
      if (this.#resumes >= this.#options.maxResumes) {
        throw new BackendUnavailableError(
          `Download was cut off and could not be resumed (${this.#resumes} resumes)`,
          { path: key, backend: BACKEND, cause: this.#lastError },
        );
      }
      this.#resumes++;
      await sleep(this.#options.resumeDelayMs(this.#resumes), signal);
      if (this.#settled) return;
      let next: Attempt;
      try {
        const expected = this.#expected;
        const remaining = expected === undefined ? undefined : expected - this.#received;
        const pinned = this.#etag === undefined ? undefined : { ifMatch: this.#etag };
        next = await startDownload(
          this.#http,
          offset + this.#received,
          remaining,
          pinned,
          this.#options,
        );
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        if (error instanceof BackendUnavailableError) throw error; // the backend was closed
        const changed = changedWhile(error, key, "read");
        if (changed) throw changed;
        if (!isTransient(error)) throw error;
        this.#lastError = error; // transient: try again while resumes remain
        continue;
      }
      if (this.#settled) {
        next.controller.abort();
        discard(next.response.body);
        return;
      }
      this.#attempt = next.controller;
      this.#body = next.response.body;
      if (this.#body !== null) return;
      this.#lastError = new Error("Download response has no body");
    }
  }
}

/**
 * Sends the first GET and returns a stream over the rest of the download.
 *
 * Rejects with the transport's error of the first GET (the caller maps it; a
 * 404 is reported before any stream exists). An offset at or past the end
 * yields an empty stream. While the stream is read, a dropped connection, a
 * stalled one or a short body resumes with a ranged GET pinned to the first
 * response's ETag: a changed blob errors the stream with
 * `PreconditionFailedError`, and after `maxResumes` failed resumes it errors
 * with `BackendUnavailableError`. Cancelling the stream (or aborting the
 * signal) cancels the fetch body.
 */
export async function openBlobReadStream(
  http: AzureHttp,
  options: BlobReadOptions,
): Promise<ReadableStream<Uint8Array>> {
  const { key, offset, length, signal, conditions } = options;
  if (length === 0) {
    const properties = await getBlobProperties(http, key, { signal, conditions });
    checkNotFolder(options, properties.metadata);
    return emptyStream();
  }
  let resumes = 0;
  let opened: Attempt;
  try {
    while (true) {
      try {
        opened = await startDownload(http, offset, length, conditions, options);
        break;
      } catch (error) {
        if (!(error instanceof DownloadStalled)) throw error;
        if (resumes >= options.maxResumes) throw stalledError(key, resumes, error);
        resumes++;
        await sleep(options.resumeDelayMs(resumes), signal);
      }
    }
  } catch (error) {
    if (isRangeNotSatisfiable(error)) {
      // Offset at or past the end: nothing to read, but the conditions and the type still hold.
      if (options.rejectFolder || conditions !== undefined) {
        const properties = await getBlobProperties(http, key, { signal, conditions });
        checkNotFolder(options, properties.metadata);
      }
      return emptyStream();
    }
    throw error;
  }
  const { headers, body } = opened.response;
  checkNotFolder(options, headers, body);
  const expected = contentLength(headers) ??
    (offset === 0 ? parseTotal(headers.get("content-range")) : undefined);
  if (expected === 0) {
    discard(body);
    return emptyStream();
  }
  return new Download(http, options, opened, resumes, expected).stream;
}

/** The error for a download that stalled with no resume left. */
function stalledError(key: string, resumes: number, cause: unknown): BackendUnavailableError {
  return new BackendUnavailableError(
    `Download stalled (received nothing for a while) and could not be resumed (${resumes} resumes)`,
    { path: key, backend: BACKEND, cause },
  );
}

/**
 * Reads a blob (or a range) into one new array: one GET whose body is
 * collected into an array of its `Content-Length`. Should that body be cut,
 * stall or end short, the rest is read as a resume of
 * {@link openBlobReadStream}, pinned to the first response's ETag, within the
 * same `maxResumes`. Rejects with the transport's error of the first GET (the
 * caller maps it).
 */
export async function readBlobBytes(
  http: AzureHttp,
  options: BlobReadOptions,
): Promise<Uint8Array> {
  const { key, offset, length, signal, conditions } = options;
  const viaStream = async (o: BlobReadOptions) =>
    await collectBytes(await openBlobReadStream(http, o), signal);
  // An empty range and an offset past the end take the stream path, which handles them.
  if (length === 0) return await viaStream(options);
  let opened: Attempt;
  try {
    opened = await startDownload(http, offset, length, conditions, options);
  } catch (error) {
    if (isRangeNotSatisfiable(error) && !signal?.aborted) return await viaStream(options);
    if (!(error instanceof DownloadStalled)) throw error;
    if (options.maxResumes === 0) throw stalledError(key, 0, error);
    return await viaStream({ ...options, maxResumes: options.maxResumes - 1 });
  }
  const { response, controller } = opened;
  const { body, headers } = response;
  checkNotFolder(options, headers, body);
  const size = contentLength(headers) ?? 0;
  if (body === null) {
    if (size === 0) return new Uint8Array(0);
    return await viaStream(options);
  }
  const reader = body.getReader();
  const out = new Uint8Array(size);
  let received = 0;
  let cut: unknown;
  let stall: DownloadStalled | undefined;
  const idle = new IdleTimer(options.idleTimeoutMs, () => {
    stall = new DownloadStalled(options.idleTimeoutMs);
    controller.abort(stall);
    void reader.cancel(stall).catch(() => {});
  });
  try {
    while (true) {
      idle.arm();
      const { done, value } = await reader.read();
      if (stall !== undefined) throw stall;
      if (done) break;
      if (received + value.byteLength > size) {
        const encoding = encodingOf(headers);
        if (encoding !== undefined) throw decodedError(key, encoding);
        throw new BackendUnavailableError("Download is longer than its Content-Length", {
          path: key,
          backend: BACKEND,
        });
      }
      out.set(value, received);
      received += value.byteLength;
    }
  } catch (error) {
    void reader.cancel().catch(() => {});
    controller.abort();
    if (signal?.aborted) throw signal.reason;
    if (error instanceof BackendUnavailableError) throw error;
    cut = error;
  } finally {
    idle.disarm();
  }
  if (received === size) return out;
  const encoding = encodingOf(headers);
  if (encoding !== undefined && cut === undefined) throw decodedError(key, encoding);
  if (options.maxResumes === 0) {
    throw new BackendUnavailableError(`Download ended after ${received} of ${size} bytes`, {
      path: key,
      backend: BACKEND,
      cause: cut,
    });
  }
  // The rest, pinned to what was opened: a resume of the stream path.
  let rest: Uint8Array;
  try {
    const etag = headers.get("etag") ?? undefined;
    rest = await viaStream({
      ...options,
      offset: offset + received,
      length: size - received,
      conditions: etag === undefined ? undefined : { ifMatch: etag },
      maxResumes: options.maxResumes - 1,
      rejectFolder: false,
    });
  } catch (error) {
    throw changedWhile(error, key, "read") ?? error;
  }
  if (rest.byteLength !== size - received) {
    throw new BackendUnavailableError(
      `Download ended after ${received + rest.byteLength} of ${size} bytes`,
      { path: key, backend: BACKEND },
    );
  }
  out.set(rest, received);
  return out;
}
