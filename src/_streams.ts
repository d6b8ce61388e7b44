/**
 * Stream helpers shared by the Store and the backends. Private module.
 *
 * @module
 */

import type { WriteContent } from "./types.ts";

const encoder = new TextEncoder();

/** A body as a byte stream, with its size when known in advance. */
export interface ContentStream {
  stream: ReadableStream<Uint8Array>;
  size?: number;
}

function asChunk(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) {
    return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  }
  throw new TypeError(
    `Write content chunks must be Uint8Array, got ${value === null ? "null" : typeof value}`,
  );
}

/** A stream that yields the given bytes once. */
export function bytesStream(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      if (bytes.byteLength > 0) controller.enqueue(bytes);
      controller.close();
    },
  });
}

/** A pull-based stream over an (async) iterator; `return()` runs on cancel. */
export function iteratorStream(
  iterator: Iterator<unknown> | AsyncIterator<unknown>,
): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await iterator.next();
      if (done) controller.close();
      else controller.enqueue(asChunk(value));
    },
    async cancel(reason) {
      await iterator.return?.(reason);
    },
  }, { highWaterMark: 0 });
}

/**
 * Converts any accepted write content to a byte stream.
 *
 * @throws {TypeError} For content of an unsupported type.
 */
export function toContentStream(content: WriteContent): ContentStream {
  if (typeof content === "string") {
    const bytes = encoder.encode(content);
    return { stream: bytesStream(bytes), size: bytes.byteLength };
  }
  if (content instanceof Uint8Array || content instanceof ArrayBuffer) {
    const bytes = asChunk(content);
    return { stream: bytesStream(bytes), size: bytes.byteLength };
  }
  if (typeof Blob !== "undefined" && content instanceof Blob) {
    return { stream: content.stream() as ReadableStream<Uint8Array>, size: content.size };
  }
  if (content instanceof ReadableStream) {
    return { stream: iteratorStream(readerIterator(content.getReader())) };
  }
  if (content !== null && typeof content === "object") {
    if (Symbol.asyncIterator in content) {
      return { stream: iteratorStream(content[Symbol.asyncIterator]()) };
    }
    if (Symbol.iterator in content) {
      return { stream: iteratorStream(content[Symbol.iterator]()) };
    }
  }
  throw new TypeError(
    "Write content must be a string, Uint8Array, ArrayBuffer, Blob, ReadableStream " +
      `or (async) iterable of Uint8Array, got ${content === null ? "null" : typeof content}`,
  );
}

function readerIterator(reader: ReadableStreamDefaultReader<unknown>): AsyncIterator<unknown> {
  return {
    next: () => reader.read() as Promise<IteratorResult<unknown>>,
    return: async (reason?: unknown) => {
      await reader.cancel(reason);
      return { done: true, value: undefined };
    },
  };
}

/** Reads a whole stream into one array, aborting on `signal`. */
export async function collectBytes(
  stream: ReadableStream<Uint8Array>,
  signal?: AbortSignal,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = stream.getReader();
  const onAbort = () => void reader.cancel(signal?.reason).catch(() => {});
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    while (true) {
      signal?.throwIfAborted();
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.byteLength;
    }
    signal?.throwIfAborted();
  } finally {
    signal?.removeEventListener("abort", onAbort);
    reader.releaseLock();
  }
  return concatBytes(chunks, total);
}

/** Concatenates byte chunks. */
export function concatBytes(chunks: readonly Uint8Array[], total?: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total ?? chunks.reduce((n, c) => n + c.byteLength, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/**
 * A stream that can map its own errors: calling `[MAP_ERRORS](mapError)` makes
 * every later error of the stream pass through `mapError` (after the mappers
 * installed before it). A source with this hook lets {@link mapErrors} skip a
 * wrapping stream and its per-chunk cost.
 */
export const MAP_ERRORS: unique symbol = Symbol("remote-store.mapErrors");

/** A stream with the {@link MAP_ERRORS} hook. */
export interface ErrorMappingStream extends ReadableStream<Uint8Array> {
  /** Adds an error mapper. */
  [MAP_ERRORS](mapError: (error: unknown) => unknown): void;
}

/**
 * Maps a stream's errors through `mapError` (and passes every chunk to
 * `onChunk`): in place when the stream has the {@link MAP_ERRORS} hook and no
 * `onChunk` is given, otherwise with {@link mapStream}.
 */
export function mapErrors(
  source: ReadableStream<Uint8Array>,
  mapError: (error: unknown) => unknown,
  onChunk?: (chunk: Uint8Array) => void,
): ReadableStream<Uint8Array> {
  const hook = (source as Partial<ErrorMappingStream>)[MAP_ERRORS];
  if (onChunk || typeof hook !== "function" || source.locked) {
    return mapStream(source, mapError, onChunk);
  }
  hook.call(source, mapError);
  return source;
}

/**
 * Wraps a stream so that every error it raises passes through `mapError` and
 * every chunk through `onChunk`; cancel propagates to the source.
 */
export function mapStream(
  source: ReadableStream<Uint8Array>,
  mapError: (error: unknown) => unknown,
  onChunk?: (chunk: Uint8Array) => void,
): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  let cancelled = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await reader.read();
      } catch (error) {
        if (!cancelled) controller.error(mapError(error));
        return;
      }
      if (cancelled) return;
      if (result.done) return controller.close();
      onChunk?.(result.value);
      controller.enqueue(result.value);
    },
    async cancel(reason) {
      cancelled = true;
      await reader.cancel(reason).catch(() => {});
    },
  }, { highWaterMark: 0 });
}
