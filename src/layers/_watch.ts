/**
 * Watching a stream or a listing until it ends, without buffering. Private module.
 *
 * @module
 */

/** How a stream or a listing ended. */
export type EndKind = "ok" | "error" | "cancelled";

/** What to do around a watched stream. */
export interface StreamWatcher {
  /** Wraps each read of the inner stream (default: the read itself). */
  read?<T>(next: () => Promise<T>): Promise<T>;
  /** Called with the size of each chunk passed on. */
  chunk?(bytes: number): void;
  /** Called once when the stream closed, errored or was cancelled. */
  end(kind: EndKind, error?: unknown): void;
}

/**
 * A stream that passes on the chunks of `stream` one read at a time
 * (highWaterMark 0: nothing is read ahead, backpressure is kept) and reports
 * how it ended.
 */
export function watchStream(
  stream: ReadableStream<Uint8Array>,
  watcher: StreamWatcher,
): ReadableStream<Uint8Array> {
  const reader = stream.getReader();
  let ended = false;
  const end = (kind: EndKind, error?: unknown): void => {
    if (ended) return;
    ended = true;
    watcher.end(kind, error);
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await (watcher.read ? watcher.read(() => reader.read()) : reader.read());
      } catch (error) {
        end("error", error);
        // The inner stream may still be open (a watcher gave up on it): release it.
        reader.cancel(error).catch(() => {});
        controller.error(error);
        return;
      }
      if (result.done) {
        end("ok");
        controller.close();
        return;
      }
      watcher.chunk?.(result.value.byteLength);
      controller.enqueue(result.value);
    },
    cancel(reason) {
      end("cancelled", reason);
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

/** What to do around a watched listing. */
export interface IterableWatcher {
  /** Wraps each step of the inner iterator (default: the step itself). */
  next?<T>(step: () => Promise<T>): Promise<T>;
  /** Called once when the listing finished, failed or was left early. */
  end(kind: EndKind, error?: unknown): void;
}

/** A listing that yields the entries of `iterable` and reports how it ended. */
export async function* watchIterable<T>(
  iterable: AsyncIterable<T>,
  watcher: IterableWatcher,
): AsyncGenerator<T, void, undefined> {
  let kind: EndKind = "cancelled";
  let failure: unknown;
  const iterator = iterable[Symbol.asyncIterator]();
  try {
    while (true) {
      const result = await (watcher.next ? watcher.next(() => iterator.next()) : iterator.next());
      if (result.done) {
        kind = "ok";
        return;
      }
      yield result.value;
    }
  } catch (error) {
    kind = "error";
    failure = error;
    throw error;
  } finally {
    try {
      if (kind === "cancelled") await iterator.return?.();
    } finally {
      watcher.end(kind, failure);
    }
  }
}
