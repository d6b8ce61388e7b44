/**
 * A backend that reports the start and the end of every operation to a
 * probe: the core of the observe and OpenTelemetry layers. Private module.
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
import { RemoteStoreError } from "../errors.ts";
import { ForwardingBackend } from "../layer.ts";
import { type EndKind, watchIterable, watchStream } from "./_watch.ts";

/** The backend operations a layer sees (the {@link Backend} method names). */
export type OperationName =
  | "read"
  | "readBytes"
  | "write"
  | "writeBytes"
  | "delete"
  | "deleteFolder"
  | "getFileInfo"
  | "isFolder"
  | "list"
  | "copy"
  | "move"
  | "signedUrl"
  | "deleteMany"
  | "ping"
  | "createFolder"
  | "signedUpload";

/**
 * How an operation ended: `"ok"`; `"error"` (it failed; see `errorCode`);
 * `"cancelled"` (the caller's signal aborted it, the caller cancelled the
 * returned stream, or left the listing before its end).
 */
export type OperationOutcome = "ok" | "error" | "cancelled";

/** An operation as it starts. */
export interface OperationStart {
  operation: OperationName;
  path: string;
  target?: string;
  backend: string;
}

/** An operation as it ends. */
export interface OperationEnd {
  outcome: OperationOutcome;
  bytes?: number;
  errorCode?: string;
}

/** One operation in progress, as a probe tracks it. */
export interface ProbeSession {
  /** Runs the start of the backend call (a span can make itself active around it). */
  run<T>(call: () => T): T;
  /** Called exactly once, when the operation ended. */
  end(end: OperationEnd): void;
}

/** Starts a session per operation. */
export type Probe = (start: OperationStart) => ProbeSession;

/**
 * The error code of a failure: `code` of a library error (`"NOT_FOUND"`, ...),
 * else the error's class name (`"TypeError"`, ...). Never a message.
 */
export function errorCodeOf(error: unknown): string {
  if (error instanceof RemoteStoreError) return error.code;
  if (error instanceof Error) return error.name;
  if (typeof DOMException !== "undefined" && error instanceof DOMException) return error.name;
  return "Error";
}

function ending(
  kind: EndKind,
  error: unknown,
  signal: AbortSignal | undefined,
  bytes?: number,
): OperationEnd {
  const outcome: OperationOutcome = kind === "error" && signal?.aborted ? "cancelled" : kind;
  const out: OperationEnd = { outcome };
  if (bytes !== undefined) out.bytes = bytes;
  if (outcome === "error") out.errorCode = errorCodeOf(error);
  return out;
}

/** A backend that tells a probe about every operation. */
export class InstrumentedBackend extends ForwardingBackend {
  readonly #probe: Probe;
  readonly #backendName: string;

  constructor(inner: Backend, probe: Probe, backendName: string) {
    super(inner);
    this.#probe = probe;
    this.#backendName = backendName;
  }

  #session(operation: OperationName, path: string, target?: string): ProbeSession {
    const start: OperationStart = { operation, path, backend: this.#backendName };
    if (target !== undefined) start.target = target;
    return this.#probe(start);
  }

  /** A promise-returning call: ends when it settles. */
  #call<T>(
    operation: OperationName,
    path: string,
    signal: AbortSignal | undefined,
    call: () => Promise<T>,
    bytes?: (value: T) => number | undefined,
    target?: string,
  ): Promise<T> {
    const session = this.#session(operation, path, target);
    let promise: Promise<T>;
    try {
      promise = session.run(call);
    } catch (error) {
      session.end(ending("error", error, signal));
      return Promise.reject(error);
    }
    return promise.then((value) => {
      session.end(ending("ok", undefined, signal, bytes?.(value)));
      return value;
    }, (error) => {
      session.end(ending("error", error, signal));
      throw error;
    });
  }

  override read(key: string, options: BackendReadOptions): Promise<ReadableStream<Uint8Array>> {
    const session = this.#session("read", key);
    const signal = options.signal;
    let promise: Promise<ReadableStream<Uint8Array>>;
    try {
      promise = session.run(() => super.read(key, options));
    } catch (error) {
      session.end(ending("error", error, signal));
      return Promise.reject(error);
    }
    return promise.then((stream) => {
      let bytes = 0;
      return watchStream(stream, {
        chunk(n) {
          bytes += n;
        },
        end(kind, error) {
          session.end(ending(kind, error, signal, bytes));
        },
      });
    }, (error) => {
      session.end(ending("error", error, signal));
      throw error;
    });
  }

  override readBytes(key: string, options: BackendReadOptions): Promise<Uint8Array> {
    return this.#call(
      "readBytes",
      key,
      options.signal,
      () => super.readBytes(key, options),
      (bytes) => bytes.byteLength,
    );
  }

  override write(
    key: string,
    body: ReadableStream<Uint8Array>,
    options: BackendWriteOptions,
  ): Promise<BackendWriteResult> {
    return this.#call(
      "write",
      key,
      options.signal,
      () => super.write(key, body, options),
      (result) => result.size,
    );
  }

  override writeBytes(
    key: string,
    bytes: Uint8Array,
    options: BackendWriteOptions,
  ): Promise<BackendWriteResult> {
    return this.#call(
      "writeBytes",
      key,
      options.signal,
      () => super.writeBytes(key, bytes, options),
      (result) => result.size,
    );
  }

  override delete(key: string, options: SignalOptions): Promise<void> {
    return this.#call("delete", key, options.signal, () => super.delete(key, options));
  }

  override deleteMany(
    keys: readonly string[],
    options: BackendDeleteManyOptions,
  ): Promise<BackendDeleteManyResult[]> {
    // One operation for the call; `path` is its first key (events carry one path).
    return this.#call(
      "deleteMany",
      keys[0] ?? "",
      options.signal,
      () => super.deleteMany(keys, options),
    );
  }

  override deleteFolder(key: string, options: BackendDeleteFolderOptions): Promise<void> {
    return this.#call("deleteFolder", key, options.signal, () => super.deleteFolder(key, options));
  }

  override getFileInfo(key: string, options: SignalOptions): Promise<BackendFileInfo> {
    return this.#call("getFileInfo", key, options.signal, () => super.getFileInfo(key, options));
  }

  override isFolder(key: string, options: SignalOptions): Promise<boolean> {
    return this.#call("isFolder", key, options.signal, () => super.isFolder(key, options));
  }

  override list(key: string, options: BackendListOptions): AsyncIterable<BackendEntry> {
    const session = this.#session("list", key);
    let inner: AsyncIterable<BackendEntry>;
    try {
      inner = session.run(() => super.list(key, options));
    } catch (error) {
      session.end(ending("error", error, options.signal));
      throw error;
    }
    return watchIterable(inner, {
      end(kind, error) {
        session.end(ending(kind, error, options.signal));
      },
    });
  }

  override copy(src: string, dst: string, options: BackendTransferOptions): Promise<void> {
    return this.#call(
      "copy",
      src,
      options.signal,
      () => super.copy(src, dst, options),
      undefined,
      dst,
    );
  }

  override move(src: string, dst: string, options: BackendTransferOptions): Promise<void> {
    return this.#call(
      "move",
      src,
      options.signal,
      () => super.move(src, dst, options),
      undefined,
      dst,
    );
  }

  override signedUrl(key: string, options: BackendSignedUrlOptions): Promise<string> {
    return this.#call("signedUrl", key, options.signal, () => super.signedUrl(key, options));
  }

  override ping(options: SignalOptions): Promise<void> {
    // About the backend, not a key: `path` is the root, "".
    return this.#call("ping", "", options.signal, () => super.ping(options));
  }

  override createFolder(key: string, options: SignalOptions): Promise<void> {
    return this.#call("createFolder", key, options.signal, () => super.createFolder(key, options));
  }

  override signedUpload(key: string, options: BackendSignedUploadOptions): Promise<SignedUpload> {
    return this.#call("signedUpload", key, options.signal, () => super.signedUpload(key, options));
  }
}
