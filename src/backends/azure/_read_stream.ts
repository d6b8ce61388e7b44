/**
 * Downloads as a pull-based web stream that resumes a dropped connection from
 * the current offset, pinned to the blob's ETag. Private module.
 *
 * @module
 */

import type {
  BlobClient,
  BlobDownloadResponseParsed,
  BlobRequestConditions,
} from "@azure/storage-blob";
import {
  BackendUnavailableError,
  InvalidPathError,
  PreconditionFailedError,
} from "../../errors.ts";
import { collectBytes, type ErrorMappingStream, MAP_ERRORS } from "../../_streams.ts";
import { BACKEND, statusOf } from "./_errors.ts";
import { sleep } from "./_retry.ts";

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
  conditions?: BlobRequestConditions;
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

  /** Stops the wait (while the reader wants no bytes, and at the end). */
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
  response: BlobDownloadResponseParsed;
  controller: AbortController;
}

/**
 * Sends one ranged GET; rejects with {@link DownloadStalled} when no
 * response arrives within `idleTimeoutMs` (the request is aborted).
 */
async function startDownload(
  blob: BlobClient,
  offset: number,
  count: number | undefined,
  conditions: BlobRequestConditions | undefined,
  options: BlobReadOptions,
): Promise<Attempt> {
  const { signal, idleTimeoutMs } = options;
  const controller = new AbortController();
  const abortSignal = signal ? AbortSignal.any([signal, controller.signal]) : controller.signal;
  const timer = new IdleTimer(idleTimeoutMs, () => {
    controller.abort(new DownloadStalled(idleTimeoutMs));
  });
  timer.arm();
  try {
    const response = await blob.download(offset, count, {
      abortSignal,
      maxRetryRequests: 0,
      conditions,
    });
    return { response, controller };
  } catch (error) {
    if (controller.signal.aborted && !signal?.aborted) throw controller.signal.reason;
    throw error;
  } finally {
    timer.disarm();
  }
}

function checkNotFolder(
  options: BlobReadOptions,
  metadata: Record<string, string> | undefined,
  body?: Body,
): void {
  if (!options.rejectFolder) return;
  for (const [name, value] of Object.entries(metadata ?? {})) {
    if (name.toLowerCase() === "hdi_isfolder" && value.toLowerCase() === "true") {
      body?.destroy?.();
      throw new InvalidPathError("Path is a folder, not a file", {
        path: options.key,
        backend: BACKEND,
      });
    }
  }
}

/** A download body as the SDK returns it on Node, Deno and Bun (a Node `Readable`). */
type DownloadBody = AsyncIterable<Uint8Array> & { destroy?(error?: Error): void };

/** The part of the SDK's Node `Readable` download body that is used. */
interface Body {
  on(event: string, listener: (...args: never[]) => void): Body;
  off(event: string, listener: (...args: never[]) => void): Body;
  pause(): void;
  resume(): void;
  isPaused(): boolean;
  destroy(error?: Error): void;
}

/**
 * Bytes downloaded ahead of the reader. A push source stops the socket once
 * this much is queued and restarts it when the reader catches up, so memory
 * stays bounded and an unread stream stops downloading.
 */
const READ_AHEAD = 1024 * 1024;

function emptyStream(): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.close();
    },
  });
}

function parseTotal(contentRange: string | undefined): number | undefined {
  const match = /\/(\d+)\s*$/.exec(contentRange ?? "");
  return match ? Number(match[1]) : undefined;
}

/**
 * The error for a read whose blob changed (412 on the ETag-pinned request)
 * or was deleted (404) after the first response; `undefined` for others.
 */
export function changedWhileReading(
  error: unknown,
  key: string,
): PreconditionFailedError | undefined {
  const status = statusOf(error);
  if (status !== 412 && status !== 404) return undefined;
  return new PreconditionFailedError(
    status === 404
      ? "File was deleted while it was being read"
      : "File changed while it was being read",
    { path: key, backend: BACKEND, cause: error },
  );
}

function asBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) {
    // A plain Uint8Array view (not a Buffer), without copying.
    return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  }
  if (typeof chunk === "string") return new TextEncoder().encode(chunk);
  throw new TypeError("Unexpected chunk type in a download body");
}

/**
 * Sends the first GET and returns a stream over the rest of the download.
 *
 * Rejects with the SDK error of the first GET (the caller maps it; a 404 is
 * reported before any stream exists). An offset at or past the end yields an
 * empty stream. While the stream is read, a dropped connection or a short
 * body resumes with a ranged GET pinned to the first response's ETag: a
 * changed blob errors the stream with `PreconditionFailedError`, and after
 * `maxResumes` failed resumes it errors with `BackendUnavailableError`.
 */
export async function openBlobReadStream(
  blob: BlobClient,
  options: BlobReadOptions,
): Promise<ReadableStream<Uint8Array>> {
  const { key, offset, length, signal, conditions } = options;
  if (length === 0) {
    const properties = await blob.getProperties({ abortSignal: signal, conditions });
    checkNotFolder(options, properties.metadata);
    return emptyStream();
  }
  let resumes = 0;
  let opened: Attempt;
  try {
    while (true) {
      try {
        opened = await startDownload(blob, offset, length, conditions, options);
        break;
      } catch (error) {
        if (!(error instanceof DownloadStalled)) throw error;
        if (resumes >= options.maxResumes) throw stalledError(key, resumes, error);
        resumes++;
        await sleep(options.resumeDelayMs(resumes), signal);
      }
    }
  } catch (error) {
    if (statusOf(error) === 416) {
      // Offset at or past the end: nothing to read, but the conditions and the type still hold.
      if (options.rejectFolder || conditions !== undefined) {
        const properties = await blob.getProperties({ abortSignal: signal, conditions });
        checkNotFolder(options, properties.metadata);
      }
      return emptyStream();
    }
    throw error;
  }
  const first = opened.response;
  let attempt = opened.controller;
  checkNotFolder(options, first.metadata, first.readableStreamBody as unknown as Body);
  const expected = first.contentLength ??
    (offset === 0 ? parseTotal(first.contentRange) : undefined);
  const etag = first.etag;
  if (expected === 0) {
    (first.readableStreamBody as unknown as Body | undefined)?.destroy?.();
    return emptyStream();
  }

  let body: Body | undefined;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let received = 0;
  let lastError: unknown;
  /** Runs while the reader wants bytes and none arrive; then the body counts as dropped. */
  const idle = new IdleTimer(options.idleTimeoutMs, () => {
    const stalled = new DownloadStalled(options.idleTimeoutMs);
    attempt.abort(stalled);
    failed(stalled);
  });
  let settled = false;
  const mappers: Array<(error: unknown) => unknown> = [];

  const detach = () => {
    const current = body;
    body = undefined;
    current?.off("data", onData);
    current?.off("end", onEnd);
    current?.off("error", onError);
    current?.off("close", onClose);
    return current;
  };

  /** Ends the stream: closes it, or errors it with `error`; releases the body and the signal. */
  const settle = (error?: unknown, closing = false) => {
    if (settled) return;
    settled = true;
    idle.disarm();
    signal?.removeEventListener("abort", onAbort);
    const current = detach();
    current?.on("error", () => {}); // a late error of a released body goes nowhere
    if (closing) {
      controller.close(); // the body ended: its socket goes back to the pool
      return;
    }
    current?.destroy();
    if (error === undefined) return;
    for (const mapError of mappers) error = mapError(error);
    controller.error(error);
  };

  const onAbort = () => settle(signal!.reason);

  function onData(chunk: unknown) {
    const bytes = asBytes(chunk);
    if (bytes.byteLength === 0) return;
    received += bytes.byteLength;
    controller.enqueue(bytes);
    // Bounded read-ahead: stop the socket once the queue is full; pull() resumes it.
    // A paused body is not stalled: the idle timer runs only while bytes are wanted.
    if (controller.desiredSize! <= 0) {
      body?.pause();
      idle.disarm();
    } else {
      idle.arm();
    }
  }

  function onEnd() {
    if (expected === undefined || received >= expected) settle(undefined, true);
    else failed(new Error(`Body ended after ${received} of ${expected} bytes`));
  }

  function onError(error: unknown) {
    failed(error);
  }

  function onClose() {
    failed(new Error(`Connection closed after ${received} bytes`));
  }

  const attach = (next: Body | undefined) => {
    if (next === undefined) return failed(new Error("Download response has no body"));
    body = next;
    next.on("data", onData);
    next.on("end", onEnd);
    next.on("error", onError);
    next.on("close", onClose);
    if (controller.desiredSize! <= 0) next.pause();
    else idle.arm();
  };

  /** The body failed mid-download: resume from the current offset, or error the stream. */
  function failed(error: unknown) {
    if (settled) return;
    idle.disarm();
    const current = detach();
    current?.on("error", () => {});
    current?.destroy();
    if (signal?.aborted) return settle(signal.reason);
    lastError = error;
    resume().then(
      (next) => {
        if (settled) next?.on("error", () => {}).destroy();
        else attach(next);
      },
      (failure) => settle(signal?.aborted ? signal.reason : options.mapError(failure)),
    );
  }

  const resume = async (): Promise<Body | undefined> => {
    while (true) {
      if (resumes >= options.maxResumes) {
        throw new BackendUnavailableError(
          `Download was cut off and could not be resumed (${resumes} resumes)`,
          { path: key, backend: BACKEND, cause: lastError },
        );
      }
      resumes++;
      await sleep(options.resumeDelayMs(resumes), signal);
      if (settled) return undefined;
      try {
        const remaining = expected === undefined ? undefined : expected - received;
        const pinned = etag === undefined ? undefined : { ifMatch: etag };
        const next = await startDownload(blob, offset + received, remaining, pinned, options);
        attempt = next.controller;
        return next.response.readableStreamBody as unknown as Body | undefined;
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        const changed = changedWhileReading(error, key);
        if (changed) throw changed;
        const status = statusOf(error);
        if (status !== undefined && status !== 408 && status !== 429 && status < 500) {
          throw error;
        }
        lastError = error; // transient: try again while resumes remain
      }
    }
  };

  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      if (signal?.aborted) return settle(signal.reason);
      signal?.addEventListener("abort", onAbort, { once: true });
      attach(first.readableStreamBody as unknown as Body | undefined);
    },
    pull() {
      if (body?.isPaused()) {
        body.resume();
        idle.arm();
      }
    },
    cancel() {
      settle();
    },
  }, { highWaterMark: READ_AHEAD, size: (chunk) => chunk.byteLength }) as ErrorMappingStream;
  stream[MAP_ERRORS] = (mapError) => void mappers.push(mapError);
  return stream;
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
 * collected without a web stream. Should that body be cut, stall or end
 * short, the rest is read as a resume of {@link openBlobReadStream}, pinned
 * to the first response's ETag, within the same `maxResumes`. Rejects with
 * the SDK error of the first GET (the caller maps it).
 */
export async function readBlobBytes(
  blob: BlobClient,
  options: BlobReadOptions,
): Promise<Uint8Array> {
  const { key, offset, length, signal, conditions } = options;
  const viaStream = async (o: BlobReadOptions) =>
    await collectBytes(await openBlobReadStream(blob, o), signal);
  // An empty range and an offset past the end take the stream path, which handles them.
  if (length === 0) return await viaStream(options);
  let opened: Attempt;
  try {
    opened = await startDownload(blob, offset, length, conditions, options);
  } catch (error) {
    if (statusOf(error) === 416 && !signal?.aborted) return await viaStream(options);
    if (!(error instanceof DownloadStalled)) throw error;
    if (options.maxResumes === 0) throw stalledError(key, 0, error);
    return await viaStream({ ...options, maxResumes: options.maxResumes - 1 });
  }
  const { response, controller } = opened;
  const body = response.readableStreamBody as unknown as DownloadBody | undefined;
  checkNotFolder(options, response.metadata, body as Body | undefined);
  const size = response.contentLength ?? 0;
  if (body === undefined) {
    if (size === 0) return new Uint8Array(0);
    return await viaStream(options);
  }
  const out = new Uint8Array(size);
  let received = 0;
  let cut: unknown;
  const idle = new IdleTimer(options.idleTimeoutMs, () => {
    const stalled = new DownloadStalled(options.idleTimeoutMs);
    controller.abort(stalled);
    body.destroy?.(stalled);
  });
  try {
    idle.arm();
    for await (const chunk of body) {
      idle.arm();
      if (received + chunk.byteLength > size) {
        throw new BackendUnavailableError("Download is longer than its Content-Length", {
          path: key,
          backend: BACKEND,
        });
      }
      out.set(chunk, received);
      received += chunk.byteLength;
    }
  } catch (error) {
    body.destroy?.();
    if (signal?.aborted) throw signal.reason;
    if (error instanceof BackendUnavailableError) throw error;
    cut = error;
  } finally {
    idle.disarm();
  }
  if (received === size) return out;
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
    rest = await viaStream({
      ...options,
      offset: offset + received,
      length: size - received,
      conditions: response.etag === undefined ? undefined : { ifMatch: response.etag },
      maxResumes: options.maxResumes - 1,
      rejectFolder: false,
    });
  } catch (error) {
    throw changedWhileReading(error, key) ?? error;
  }
  if (rest.byteLength !== size - received) {
    throw new BackendUnavailableError(
      `Download ended after ${received + rest.byteLength} of ${size} bytes`,
      {
        path: key,
        backend: BACKEND,
      },
    );
  }
  out.set(rest, received);
  return out;
}
