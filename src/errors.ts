/**
 * Typed errors. Every failure a caller can see is a {@link RemoteStoreError}
 * subclass with a stable `code`; the native error (SDK, Node or Deno) is kept
 * as `cause` and never thrown directly.
 *
 * @module
 */

/** Stable machine-readable error codes, one per error class. */
export type ErrorCode =
  | "NOT_FOUND"
  | "ALREADY_EXISTS"
  | "PERMISSION_DENIED"
  | "INVALID_PATH"
  | "CAPABILITY_NOT_SUPPORTED"
  | "BACKEND_UNAVAILABLE"
  | "DIRECTORY_NOT_EMPTY"
  | "PRECONDITION_FAILED"
  | "INVALID_CONFIG";

/** Context attached to an error: the path involved, the backend and the native cause. */
export interface ErrorContext {
  /** The path the operation was about, as the caller gave it (store-relative). */
  path?: string;
  /** The backend name (registry backend name, or the backend type). */
  backend?: string;
  /** The native error this one was mapped from. */
  cause?: unknown;
}

function formatMessage(reason: string, path?: string, backend?: string): string {
  let message = reason;
  if (path !== undefined) message += `: "${path}"`;
  if (backend !== undefined) message += ` (backend "${backend}")`;
  return message;
}

/**
 * Base class of every error this library throws.
 *
 * The message is `reason`, followed by the quoted path and backend when known.
 *
 * @example Catch any library error
 * ```ts
 * import { MemoryBackend, RemoteStoreError, Store } from "@remote-store/remote-store";
 * const store = new Store(new MemoryBackend());
 * try {
 *   await store.readText("missing.txt");
 * } catch (err) {
 *   if (err instanceof RemoteStoreError) console.log(err.code, err.path);
 * }
 * ```
 */
export class RemoteStoreError extends Error {
  /** Stable machine-readable code. */
  readonly code: ErrorCode;
  /** The sentence that says what failed and why, without path or backend. */
  readonly reason: string;
  /** The path the failed operation was about, when known. */
  path?: string;
  /** The backend that failed, when known. */
  backend?: string;

  /**
   * Creates an error.
   *
   * @param code The stable error code.
   * @param reason A sentence saying what failed and why.
   * @param context Path, backend and native cause.
   */
  constructor(code: ErrorCode, reason: string, context: ErrorContext = {}) {
    super(
      formatMessage(reason, context.path, context.backend),
      context.cause === undefined ? undefined : { cause: context.cause },
    );
    this.name = new.target.name;
    this.code = code;
    this.reason = reason;
    if (context.path !== undefined) this.path = context.path;
    if (context.backend !== undefined) this.backend = context.backend;
  }

  /**
   * Sets the path and backend (keeping values already set unless `override`)
   * and rebuilds the message. Used by the Store to add context once.
   *
   * @param context The path and backend to record.
   * @param override Replace a path that is already set.
   * @returns This error.
   */
  withContext(context: { path?: string; backend?: string }, override = false): this {
    if (context.path !== undefined && (override || this.path === undefined)) {
      this.path = context.path;
    }
    if (context.backend !== undefined && (override || this.backend === undefined)) {
      this.backend = context.backend;
    }
    this.message = formatMessage(this.reason, this.path, this.backend);
    return this;
  }
}

/**
 * The file or folder does not exist.
 *
 * @example Treat a missing file as empty
 * ```ts
 * import { MemoryBackend, NotFoundError, Store } from "@remote-store/remote-store";
 * const store = new Store(new MemoryBackend());
 * const text = await store.readText("a.txt").catch((e) => {
 *   if (e instanceof NotFoundError) return "";
 *   throw e;
 * });
 * ```
 */
export class NotFoundError extends RemoteStoreError {
  /**
   * Creates the error.
   *
   * @param reason What was not found.
   * @param context Path, backend and native cause.
   */
  constructor(reason = "Not found", context: ErrorContext = {}) {
    super("NOT_FOUND", reason, context);
  }
}

/**
 * The target already exists and the operation was create-only (`overwrite: false`).
 *
 * @example Create-only write
 * ```ts
 * import { AlreadyExistsError, MemoryBackend, Store } from "@remote-store/remote-store";
 * const store = new Store(new MemoryBackend());
 * await store.write("a.txt", "1");
 * await store.write("a.txt", "2").catch((e) => console.log(e instanceof AlreadyExistsError));
 * ```
 */
export class AlreadyExistsError extends RemoteStoreError {
  /**
   * Creates the error.
   *
   * @param reason What already exists.
   * @param context Path, backend and native cause.
   */
  constructor(reason = "Already exists", context: ErrorContext = {}) {
    super("ALREADY_EXISTS", reason, context);
  }
}

/**
 * The credentials were refused or lack the permission for the operation.
 *
 * @example Check for a permission problem
 * ```ts
 * import { PermissionDeniedError } from "@remote-store/remote-store";
 * const err = new PermissionDeniedError("Access denied", { path: "a.txt" });
 * console.log(err.message);
 * ```
 */
export class PermissionDeniedError extends RemoteStoreError {
  /**
   * Creates the error.
   *
   * @param reason What was denied.
   * @param context Path, backend and native cause.
   */
  constructor(reason = "Permission denied", context: ErrorContext = {}) {
    super("PERMISSION_DENIED", reason, context);
  }
}

/**
 * The path is malformed (`..`, NUL, empty) or names the wrong kind of entry
 * (a folder where a file is required).
 *
 * @example A path that escapes the root
 * ```ts
 * import { InvalidPathError, MemoryBackend, Store } from "@remote-store/remote-store";
 * const store = new Store(new MemoryBackend());
 * await store.readText("../x").catch((e) => console.log(e instanceof InvalidPathError));
 * ```
 */
export class InvalidPathError extends RemoteStoreError {
  /**
   * Creates the error.
   *
   * @param reason Why the path is invalid.
   * @param context Path, backend and native cause.
   */
  constructor(reason = "Invalid path", context: ErrorContext = {}) {
    super("INVALID_PATH", reason, context);
  }
}

/**
 * The backend does not support the requested capability.
 *
 * @example Inspect the missing capability
 * ```ts
 * import { CapabilityNotSupportedError } from "@remote-store/remote-store";
 * const err = new CapabilityNotSupportedError("atomic_move", { backend: "azure" });
 * console.log(err.capability);
 * ```
 */
export class CapabilityNotSupportedError extends RemoteStoreError {
  /** The capability that is missing. */
  readonly capability: string;

  /**
   * Creates the error.
   *
   * @param capability The capability that is missing.
   * @param context Path, backend and native cause.
   * @param reason Optional override of the sentence.
   */
  constructor(capability: string, context: ErrorContext = {}, reason?: string) {
    super(
      "CAPABILITY_NOT_SUPPORTED",
      reason ?? `Capability "${capability}" is not supported by this backend`,
      context,
    );
    this.capability = capability;
  }
}

/**
 * The backend could not be reached, throttled the request, failed on the
 * server side, or has been closed.
 *
 * @example Retry on an unavailable backend
 * ```ts
 * import { BackendUnavailableError } from "@remote-store/remote-store";
 * const err = new BackendUnavailableError("Service returned 503");
 * console.log(err.code);
 * ```
 */
export class BackendUnavailableError extends RemoteStoreError {
  /**
   * Creates the error.
   *
   * @param reason What failed.
   * @param context Path, backend and native cause.
   */
  constructor(reason = "Backend unavailable", context: ErrorContext = {}) {
    super("BACKEND_UNAVAILABLE", reason, context);
  }
}

/**
 * A non-recursive folder delete found the folder not empty.
 *
 * @example Delete a folder that has files
 * ```ts
 * import { DirectoryNotEmptyError, MemoryBackend, Store } from "@remote-store/remote-store";
 * const store = new Store(new MemoryBackend());
 * await store.write("d/a.txt", "x");
 * await store.deleteFolder("d").catch((e) => console.log(e instanceof DirectoryNotEmptyError));
 * ```
 */
export class DirectoryNotEmptyError extends RemoteStoreError {
  /**
   * Creates the error.
   *
   * @param reason What is not empty.
   * @param context Path, backend and native cause.
   */
  constructor(reason = "Folder is not empty", context: ErrorContext = {}) {
    super("DIRECTORY_NOT_EMPTY", reason, context);
  }
}

/**
 * A condition (`ifMatch`, or the ETag a resumed read is pinned to) did not hold.
 *
 * @example Optimistic concurrency
 * ```ts
 * import { MemoryBackend, PreconditionFailedError, Store } from "@remote-store/remote-store";
 * const store = new Store(new MemoryBackend());
 * await store.write("a.txt", "1");
 * await store.write("a.txt", "2", { overwrite: true, ifMatch: '"stale"' })
 *   .catch((e) => console.log(e instanceof PreconditionFailedError));
 * ```
 */
export class PreconditionFailedError extends RemoteStoreError {
  /**
   * Creates the error.
   *
   * @param reason Which condition failed.
   * @param context Path, backend and native cause.
   */
  constructor(reason = "Precondition failed", context: ErrorContext = {}) {
    super("PRECONDITION_FAILED", reason, context);
  }
}

/**
 * The configuration or backend options are invalid. The message names the
 * key path (for example `backends.azure.options.container`).
 *
 * @example Unknown backend in a store profile
 * ```ts
 * import { InvalidConfigError, Registry } from "@remote-store/remote-store";
 * try {
 *   new Registry({ backends: {}, stores: { s: { backend: "nope" } } });
 * } catch (e) {
 *   console.log(e instanceof InvalidConfigError);
 * }
 * ```
 */
export class InvalidConfigError extends RemoteStoreError {
  /**
   * Creates the error.
   *
   * @param reason What is wrong, naming the key.
   * @param context Native cause.
   */
  constructor(reason = "Invalid configuration", context: ErrorContext = {}) {
    super("INVALID_CONFIG", reason, context);
  }
}
