/**
 * The timeout layer: a default time limit per backend operation.
 *
 * @module
 */

import type {
  Backend,
  BackendDeleteFolderOptions,
  BackendDeleteManyOptions,
  BackendDeleteManyResult,
  BackendEntry,
  BackendFileInfo,
  BackendListOptions,
  BackendReadOptions,
  BackendSignedUploadOptions,
  BackendSignedUrlOptions,
  BackendTransferOptions,
  BackendWriteOptions,
  BackendWriteResult,
  SignalOptions,
  SignedUpload,
} from "../backend.ts";
import { BackendUnavailableError } from "../errors.ts";
import { ForwardingBackend, type Layer } from "../layer.ts";
import { watchIterable, watchStream } from "./_watch.ts";
import { anySignal } from "../_signals.ts";

/** Options of {@link timeoutLayer}. */
export interface TimeoutOptions {
  /** The longest wait, in milliseconds, for one step of an operation (a positive number). */
  ms: number;
}

/**
 * One operation's clock: a signal that aborts (with the timeout error) when
 * the clock runs out, combined with the caller's signal.
 */
class Deadline {
  readonly signal: AbortSignal;
  readonly #controller = new AbortController();
  readonly #ms: number;
  readonly #operation: string;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(operation: string, ms: number, caller: AbortSignal | undefined) {
    this.#operation = operation;
    this.#ms = ms;
    this.signal = caller === undefined
      ? this.#controller.signal
      : anySignal([caller, this.#controller.signal]);
  }

  /** (Re)starts the clock. */
  arm(): void {
    this.disarm();
    if (this.#closed || this.signal.aborted) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#controller.abort(
        new BackendUnavailableError(
          `Operation "${this.#operation}" timed out after ${this.#ms} ms`,
          { cause: new DOMException("The operation timed out", "TimeoutError") },
        ),
      );
    }, this.#ms);
  }

  /** Stops the clock (while the layer waits for the caller, not the backend). */
  disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Stops the clock for good: the operation has ended. */
  close(): void {
    this.#closed = true;
    this.disarm();
  }

  /**
   * Runs one step with the clock running: settles as the step does, or
   * rejects with the signal's reason (the timeout error, or the caller's
   * reason) as soon as the signal aborts, even when the backend never answers.
   */
  step<T>(run: () => Promise<T>): Promise<T> {
    const signal = this.signal;
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      this.arm();
      const settle = () => {
        this.disarm();
        signal.removeEventListener("abort", onAbort);
      };
      let promise: Promise<T>;
      try {
        promise = run();
      } catch (error) {
        settle();
        reject(error);
        return;
      }
      promise.then((value) => {
        settle();
        resolve(value);
      }, (error) => {
        settle();
        reject(signal.aborted ? signal.reason : error);
      });
    });
  }
}

/** A backend whose every operation step has a time limit. */
class TimeoutBackend extends ForwardingBackend {
  readonly #ms: number;

  constructor(inner: Backend, ms: number) {
    super(inner);
    this.#ms = ms;
  }

  #call<T>(
    operation: string,
    signal: AbortSignal | undefined,
    call: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const deadline = new Deadline(operation, this.#ms, signal);
    return deadline.step(() => call(deadline.signal));
  }

  override async read(
    key: string,
    options: BackendReadOptions,
  ): Promise<ReadableStream<Uint8Array>> {
    const deadline = new Deadline("read", this.#ms, options.signal);
    let opened: Promise<ReadableStream<Uint8Array>> | undefined;
    const stream = await deadline.step(() =>
      opened = super.read(key, { ...options, signal: deadline.signal })
    ).catch((error) => {
      // A backend that answers after the limit: release the stream nobody will read.
      opened?.then((late) => late.cancel(error), () => {}).catch(() => {});
      throw error;
    });
    return watchStream(stream, {
      read: (next) => deadline.step(next),
      end: () => deadline.close(),
    });
  }

  override readBytes(key: string, options: BackendReadOptions): Promise<Uint8Array> {
    return this.#call(
      "readBytes",
      options.signal,
      (signal) => super.readBytes(key, { ...options, signal }),
    );
  }

  override write(
    key: string,
    body: ReadableStream<Uint8Array>,
    options: BackendWriteOptions,
  ): Promise<BackendWriteResult> {
    const deadline = new Deadline("write", this.#ms, options.signal);
    // The time the caller's content takes to arrive is not the backend's: the
    // clock stops while the backend waits for the next chunk, and restarts
    // when the chunk is handed over.
    const watched = watchStream(body, {
      read: (next) => {
        deadline.disarm();
        return next().finally(() => {
          if (!deadline.signal.aborted) deadline.arm();
        });
      },
      end: () => {},
    });
    return deadline.step(() => super.write(key, watched, { ...options, signal: deadline.signal }))
      .then((result) => {
        deadline.close();
        return result;
      }, async (error) => {
        deadline.close();
        // The Store cannot release the caller's content through this wrapper: do it here.
        if (!watched.locked) await watched.cancel(error).catch(() => {});
        throw error;
      });
  }

  override writeBytes(
    key: string,
    bytes: Uint8Array,
    options: BackendWriteOptions,
  ): Promise<BackendWriteResult> {
    return this.#call(
      "writeBytes",
      options.signal,
      (signal) => super.writeBytes(key, bytes, { ...options, signal }),
    );
  }

  override delete(key: string, options: SignalOptions): Promise<void> {
    return this.#call("delete", options.signal, (signal) => super.delete(key, { signal }));
  }

  override deleteMany(
    keys: readonly string[],
    options: BackendDeleteManyOptions,
  ): Promise<BackendDeleteManyResult[]> {
    return this.#call(
      "deleteMany",
      options.signal,
      (signal) => super.deleteMany(keys, { ...options, signal }),
    );
  }

  override deleteFolder(key: string, options: BackendDeleteFolderOptions): Promise<void> {
    return this.#call(
      "deleteFolder",
      options.signal,
      (signal) => super.deleteFolder(key, { ...options, signal }),
    );
  }

  override getFileInfo(key: string, options: SignalOptions): Promise<BackendFileInfo> {
    return this.#call(
      "getFileInfo",
      options.signal,
      (signal) => super.getFileInfo(key, { signal }),
    );
  }

  override isFolder(key: string, options: SignalOptions): Promise<boolean> {
    return this.#call("isFolder", options.signal, (signal) => super.isFolder(key, { signal }));
  }

  override list(key: string, options: BackendListOptions): AsyncIterable<BackendEntry> {
    const deadline = new Deadline("list", this.#ms, options.signal);
    return watchIterable(super.list(key, { ...options, signal: deadline.signal }), {
      next: (step) => deadline.step(step),
      end: () => deadline.close(),
    });
  }

  override copy(src: string, dst: string, options: BackendTransferOptions): Promise<void> {
    return this.#call(
      "copy",
      options.signal,
      (signal) => super.copy(src, dst, { ...options, signal }),
    );
  }

  override move(src: string, dst: string, options: BackendTransferOptions): Promise<void> {
    return this.#call(
      "move",
      options.signal,
      (signal) => super.move(src, dst, { ...options, signal }),
    );
  }

  override signedUrl(key: string, options: BackendSignedUrlOptions): Promise<string> {
    return this.#call(
      "signedUrl",
      options.signal,
      (signal) => super.signedUrl(key, { ...options, signal }),
    );
  }

  override ping(options: SignalOptions): Promise<void> {
    return this.#call("ping", options.signal, (signal) => super.ping({ signal }));
  }

  override createFolder(key: string, options: SignalOptions): Promise<void> {
    return this.#call(
      "createFolder",
      options.signal,
      (signal) => super.createFolder(key, { signal }),
    );
  }

  override signedUpload(key: string, options: BackendSignedUploadOptions): Promise<SignedUpload> {
    return this.#call(
      "signedUpload",
      options.signal,
      (signal) => super.signedUpload(key, { ...options, signal }),
    );
  }
}

/**
 * A layer that gives every backend operation a time limit, combined with the
 * caller's `signal` (`AbortSignal.any`): whichever comes first aborts the
 * backend call.
 *
 * The clock measures the backend, never the caller: it runs while a call's
 * promise is pending, while a read stream fetches the next chunk the caller
 * asked for, while a listing fetches its next entry, and while a write is
 * being stored (it stops while the backend waits for the caller's content).
 * Each step restarts it, so a large file streams for as long as it keeps
 * moving, and a caller that reads slowly is never timed out.
 *
 * When the clock runs out the operation rejects (or its stream errors) with a
 * {@link BackendUnavailableError} ("Operation "read" timed out after 5000
 * ms"), whose `cause` is a `DOMException` named `"TimeoutError"`: like any
 * `BackendUnavailableError` it means "the service did not answer, try
 * later". An abort by the caller's own signal still rejects with the
 * signal's reason. The layer rejects at the limit even when a backend ignores
 * the abort.
 *
 * @param options `ms`: the limit per step.
 * @returns The layer.
 * @throws {RangeError} When `ms` is not a positive finite number.
 *
 * @example Thirty seconds per step
 * ```ts
 * import { MemoryBackend, Store, timeoutLayer, withLayers } from "@remote-store/remote-store";
 * const store = new Store(withLayers(new MemoryBackend(), [timeoutLayer({ ms: 30_000 })]));
 * await store.write("a.txt", "hello");
 * ```
 */
export function timeoutLayer(options: TimeoutOptions): Layer {
  const ms = options?.ms;
  if (typeof ms !== "number" || !Number.isFinite(ms) || ms <= 0) {
    throw new RangeError(
      `Timeout "ms" must be a positive number, got ${typeof ms === "number" ? ms : typeof ms}`,
    );
  }
  return { name: "timeout", wrap: (backend: Backend) => new TimeoutBackend(backend, ms) };
}
