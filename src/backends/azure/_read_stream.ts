/**
 * Downloads as a pull-based web stream that resumes a dropped connection from
 * the current offset, pinned to the blob's ETag. Private module.
 *
 * @module
 */

import type { BlobClient, BlobDownloadResponseParsed } from "@azure/storage-blob";
import {
  BackendUnavailableError,
  InvalidPathError,
  PreconditionFailedError,
} from "../../errors.ts";
import { BACKEND, statusOf } from "./_errors.ts";

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

type Body = AsyncIterable<unknown> & { destroy?(error?: Error): void };

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

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
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
  const { key, offset, length, signal } = options;
  if (length === 0) {
    const properties = await blob.getProperties({ abortSignal: signal });
    checkNotFolder(options, properties.metadata);
    return emptyStream();
  }
  let first: BlobDownloadResponseParsed;
  try {
    first = await blob.download(offset, length, { abortSignal: signal, maxRetryRequests: 0 });
  } catch (error) {
    if (statusOf(error) === 416) {
      // offset at or past the end
      if (options.rejectFolder) {
        checkNotFolder(options, (await blob.getProperties({ abortSignal: signal })).metadata);
      }
      return emptyStream();
    }
    throw error;
  }
  checkNotFolder(options, first.metadata, first.readableStreamBody as unknown as Body);
  const expected = first.contentLength ??
    (offset === 0 ? parseTotal(first.contentRange) : undefined);
  const etag = first.etag;
  if (expected === 0) {
    (first.readableStreamBody as unknown as Body | undefined)?.destroy?.();
    return emptyStream();
  }

  let body = first.readableStreamBody as unknown as Body | undefined;
  let iterator: AsyncIterator<unknown> | undefined = body?.[Symbol.asyncIterator]();
  let received = 0;
  let resumes = 0;
  let lastError: unknown;

  /** Drops the current body; destroys it unless it ended normally (keeps the socket). */
  const release = (ended = false) => {
    const current = body;
    body = undefined;
    iterator = undefined;
    if (!ended) current?.destroy?.();
  };

  const resume = async (): Promise<void> => {
    while (true) {
      if (resumes >= options.maxResumes) {
        throw new BackendUnavailableError(
          `Download was cut off and could not be resumed (${resumes} resumes)`,
          { path: key, backend: BACKEND, cause: lastError },
        );
      }
      resumes++;
      await sleep(options.resumeDelayMs(resumes), signal);
      try {
        const remaining = expected === undefined ? undefined : expected - received;
        const next = await blob.download(offset + received, remaining, {
          abortSignal: signal,
          maxRetryRequests: 0,
          conditions: etag === undefined ? undefined : { ifMatch: etag },
        });
        body = next.readableStreamBody as unknown as Body | undefined;
        iterator = body?.[Symbol.asyncIterator]();
        return;
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        const status = statusOf(error);
        if (status === 412 || status === 404) {
          throw new PreconditionFailedError(
            status === 404
              ? "File was deleted while it was being read"
              : "File changed while it was being read",
            { path: key, backend: BACKEND, cause: error },
          );
        }
        if (status !== undefined && status !== 408 && status !== 429 && status < 500) {
          throw options.mapError(error);
        }
        lastError = error; // transient: try again while resumes remain
      }
    }
  };

  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      while (true) {
        try {
          if (iterator === undefined) await resume();
          const result = await iterator!.next();
          if (!result.done) {
            const bytes = asBytes(result.value);
            if (bytes.byteLength === 0) continue;
            received += bytes.byteLength;
            controller.enqueue(bytes);
            return;
          }
          if (expected === undefined || received >= expected) {
            release(true);
            controller.close();
            return;
          }
          // The body ended early: resume from the current offset.
          lastError = new Error(`Body ended after ${received} of ${expected} bytes`);
          release();
        } catch (error) {
          if (signal?.aborted) {
            release();
            controller.error(signal.reason);
            return;
          }
          if (
            error instanceof PreconditionFailedError || error instanceof BackendUnavailableError ||
            iterator === undefined
          ) {
            release();
            controller.error(options.mapError(error));
            return;
          }
          // The connection dropped mid-body: resume.
          lastError = error;
          release();
        }
      }
    },
    cancel() {
      const current = iterator;
      release();
      void current?.return?.().catch(() => {});
    },
  }, { highWaterMark: 0 });
}
