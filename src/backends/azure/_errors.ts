/**
 * The one place where the Azure service's answers (status and error code)
 * and network failures become {@link RemoteStoreError}s. Private module.
 *
 * @module
 */

import {
  AlreadyExistsError,
  BackendUnavailableError,
  InvalidPathError,
  NotFoundError,
  PermissionDeniedError,
  PreconditionFailedError,
  RemoteStoreError,
} from "../../errors.ts";

/** The backend name every Azure error carries. */
export const BACKEND = "azure";

/** What the mapper needs to know about the failed call. */
export interface ErrorScope {
  /** The backend key the call was about. */
  key?: string;
  /** The caller's signal: when it is aborted, its reason is returned unmapped. */
  signal?: AbortSignal;
  /** The call was a create-only write: 409/412 mean "already exists". */
  createOnly?: boolean;
  /** The call was a read with the caller's conditions: 412 and 304 mean they failed. */
  conditionalRead?: boolean;
  /** Removes secrets from text (messages and stacks of the native error). */
  redact?: (text: string) => string;
  /** The container's name, for the message of a missing container. */
  container?: string;
}

/** The parts of an SDK `RestError` (or a Node system error) the mapper reads. */
interface NativeError {
  name?: string;
  message?: string;
  stack?: string;
  code?: string;
  statusCode?: number;
  details?: { errorCode?: string };
  response?: { headers?: { get(name: string): string | undefined } };
}

/** The HTTP status of an SDK error, when it has one. */
export function statusOf(error: unknown): number | undefined {
  const status = (error as NativeError | undefined)?.statusCode;
  return typeof status === "number" && status > 0 ? status : undefined;
}

/** The Azure error code (`BlobNotFound`, ...) or Node error code (`ECONNRESET`, ...). */
export function errorCodeOf(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const native = error as NativeError;
  const fromDetails = native.details?.errorCode;
  if (typeof fromDetails === "string" && fromDetails !== "") return fromDetails;
  try {
    const fromHeader = native.response?.headers?.get("x-ms-error-code");
    if (typeof fromHeader === "string" && fromHeader !== "") return fromHeader;
  } catch {
    // headers of an unexpected shape: ignore
  }
  return typeof native.code === "string" && native.code !== "" ? native.code : undefined;
}

const ALREADY_EXISTS_CODES = new Set([
  "BlobAlreadyExists",
  "ContainerAlreadyExists",
  "PathAlreadyExists",
]);

const UNAVAILABLE_409_CODES = new Set([
  "ContainerBeingDeleted",
  "ContainerBeingDisabled",
  "OperationTimedOut",
  "ServerBusy",
]);

const INVALID_PATH_CODES = new Set(["InvalidResourceName", "InvalidUri", "InvalidUriPath"]);

/** 400 codes that name a value the caller gave (a header, metadata, a number). */
const INVALID_VALUE_CODES = new Set([
  "EmptyMetadataKey",
  "InvalidHeaderValue",
  "InvalidInput",
  "InvalidMetadata",
  "InvalidQueryParameterValue",
  "UnsupportedHeader",
]);
/** 400 codes that name a value out of the service's range. */
const OUT_OF_RANGE_CODES = new Set([
  "MetadataTooLarge",
  "OutOfRangeInput",
  "OutOfRangeQueryParameterValue",
]);

/**
 * Whether an error was raised while the HTTP client built the request (a
 * header name or value it cannot send, an argument it refuses): the same
 * request fails the same way every time, so it is never retried.
 *
 * @param error Any error.
 * @returns `true` for Node's `ERR_INVALID_*` / `ERR_HTTP_INVALID_*` errors.
 */
export function isInvalidRequest(error: unknown): boolean {
  const code = (error as NativeError | undefined)?.code;
  return typeof code === "string" && /^ERR_(HTTP_)?INVALID_/.test(code);
}

/** Azure's limits on blob names: longer names are answered with 400 `OutOfRangeInput`. */
const MAX_NAME_LENGTH = 1024;
const MAX_NAME_SEGMENTS = 254;

function isOverlongName(key: string | undefined): boolean {
  return key !== undefined &&
    (key.length > MAX_NAME_LENGTH || key.split("/").length > MAX_NAME_SEGMENTS);
}

const CREDENTIAL_ERROR_NAMES = new Set([
  "CredentialUnavailableError",
  "AuthenticationError",
  "AggregateAuthenticationError",
  "AuthenticationRequiredError",
]);

/**
 * Removes secrets from the native error's text (message, stack and any other
 * string property) and from that of its causes (a `fetch` error names the
 * URL, SAS included), in place, so that printing the mapped error's `cause`
 * never shows them.
 *
 * @param error The native error.
 * @param redact Removes secrets from text.
 */
export function scrub(error: unknown, redact: ((text: string) => string) | undefined): void {
  if (!redact) return;
  let current: unknown = error;
  for (let depth = 0; depth < 8 && typeof current === "object" && current !== null; depth++) {
    const native = current as Record<string, unknown> & { cause?: unknown };
    // The message, the stack, and any other text the runtime put on the error
    // (Bun's fetch errors carry the URL in `path`).
    for (const name of new Set(["message", "stack", ...Object.keys(native)])) {
      try {
        const value = native[name];
        if (typeof value !== "string") continue;
        const clean = redact(value);
        if (clean !== value) native[name] = clean;
      } catch {
        // a frozen or read-only property: leave it
      }
    }
    current = native.cause;
  }
}

function describeStatus(status: number | undefined, code: string | undefined): string {
  if (status === undefined) return code ?? "no response";
  return code === undefined ? String(status) : `${status} ${code}`;
}

/**
 * Maps any error raised by an Azure call to a {@link RemoteStoreError}.
 *
 * - the caller's abort: the signal's reason, unchanged;
 * - a `RemoteStoreError`: unchanged;
 * - 404: `NotFoundError` (a missing container or file system is named as such:
 *   `Container "name" does not exist`); 409 "already exists" codes: `AlreadyExistsError`;
 * - 412: `PreconditionFailedError` (`AlreadyExistsError` for a create-only write);
 *   304 (a read's `ifNoneMatch` / `ifModifiedSince`): `PreconditionFailedError`;
 * - 401/403 and credential failures: `PermissionDeniedError`;
 * - 400 for a bad name (`InvalidResourceName`, ..., or `OutOfRangeInput` for a
 *   name over Azure's length or segment limits): `InvalidPathError`;
 * - a caller's invalid value that reached the service (400 `InvalidMetadata`,
 *   `InvalidHeaderValue`, ...) or that the HTTP client refused to send
 *   (`ERR_INVALID_CHAR`, ...): `TypeError` (`RangeError` for out-of-range
 *   values), as the client-side checks throw; never retryable;
 * - 429, 5xx, network failures and everything else: `BackendUnavailableError`.
 *
 * The native error is kept as `cause`, with secrets removed from its text.
 */
export function mapAzureError(error: unknown, scope: ErrorScope = {}): unknown {
  if (scope.signal?.aborted) return scope.signal.reason;
  if (error instanceof RemoteStoreError) {
    if (error.backend === undefined || (error.path === undefined && scope.key !== undefined)) {
      error.withContext({ path: scope.key, backend: BACKEND });
    }
    scrub(error.cause, scope.redact); // a resumed read keeps the last native error as cause
    return error;
  }
  scrub(error, scope.redact);
  const context = { path: scope.key, backend: BACKEND, cause: error };
  const status = statusOf(error);
  const code = errorCodeOf(error);
  const name = (error as NativeError | undefined)?.name;

  if (status === 404) {
    if (isMissingContainer(code)) {
      // Named as the container, not the file: the whole store is missing, not one path.
      const name = scope.container === undefined ? "" : ` "${scope.container}"`;
      return new NotFoundError(`Container${name} does not exist`, context);
    }
    return new NotFoundError(code === "BlobNotFound" ? "File not found" : "Not found", context);
  }
  if (status === 409) {
    if (code === "PathConflict") {
      // Hierarchical namespace: a directory is at the path, or a file is above it.
      return new InvalidPathError("A folder or a file is in the way of the path", context);
    }
    if (code !== undefined && ALREADY_EXISTS_CODES.has(code)) {
      return new AlreadyExistsError("File already exists", context);
    }
    if (scope.createOnly) return new AlreadyExistsError("File already exists", context);
    if (code !== undefined && UNAVAILABLE_409_CODES.has(code)) {
      return new BackendUnavailableError(
        `Azure is busy (${describeStatus(status, code)})`,
        context,
      );
    }
    return new PreconditionFailedError(
      `Azure reported a conflict (${describeStatus(status, code)})`,
      context,
    );
  }
  if (scope.conditionalRead && status === 400 && code === "UnsatisfiableCondition") {
    // Azure refuses `If-None-Match: *` on a read: it fails for every existing file.
    return new PreconditionFailedError(
      'File was not read: ifNoneMatch "*" does not hold for an existing file',
      context,
    );
  }
  if (status === 304 || (status === 412 && scope.conditionalRead)) {
    return new PreconditionFailedError(
      status === 304
        ? "File was not read: it has not been modified (304 Not Modified)"
        : "File was not read: a read condition does not hold (412)",
      context,
    );
  }
  if (status === 412) {
    if (scope.createOnly) return new AlreadyExistsError("File already exists", context);
    return new PreconditionFailedError("ETag does not match", context);
  }
  if (status === 401 || status === 403) {
    return new PermissionDeniedError(
      `Azure refused the credentials or the permission (${describeStatus(status, code)})`,
      context,
    );
  }
  if (status === 400 && code !== undefined && INVALID_PATH_CODES.has(code)) {
    return new InvalidPathError(`Azure rejected the name (${code})`, context);
  }
  if (status === 400 && code === "OutOfRangeInput" && isOverlongName(scope.key)) {
    return new InvalidPathError(
      `Azure rejected the name (${code}): names are at most ${MAX_NAME_LENGTH} characters ` +
        `in at most ${MAX_NAME_SEGMENTS} segments`,
      context,
    );
  }
  if (status === 400 && code !== undefined && INVALID_VALUE_CODES.has(code)) {
    return invalidValue(TypeError, `Azure rejected a value of the request (400 ${code})`, context);
  }
  if (status === 400 && code !== undefined && OUT_OF_RANGE_CODES.has(code)) {
    return invalidValue(
      RangeError,
      `Azure rejected a value as out of range (400 ${code})`,
      context,
    );
  }
  if (status === undefined && isInvalidRequest(error)) {
    return invalidValue(
      TypeError,
      `The request could not be sent: a header name or value is invalid (${code})`,
      context,
    );
  }
  if (name !== undefined && CREDENTIAL_ERROR_NAMES.has(name)) {
    return new PermissionDeniedError("The credential could not get an access token", context);
  }
  if (status === 429 || (status !== undefined && status >= 500)) {
    return new BackendUnavailableError(
      `Azure is unavailable (${describeStatus(status, code)})`,
      context,
    );
  }
  if (status === undefined) {
    if (name === "AbortError") {
      return new BackendUnavailableError("Azure request timed out or was cut off", context);
    }
    return new BackendUnavailableError(
      `Azure could not be reached (${code ?? name ?? "network error"})`,
      context,
    );
  }
  return new BackendUnavailableError(
    `Azure rejected the request (${describeStatus(status, code)})`,
    context,
  );
}

/**
 * A caller's invalid argument that reached the service (or the HTTP client):
 * the same `TypeError` / `RangeError` the client-side checks throw, never a
 * retryable error, with the native error as `cause`.
 */
function invalidValue(
  type: typeof TypeError | typeof RangeError,
  reason: string,
  context: { path?: string; cause: unknown },
): Error {
  const where = context.path === undefined ? "" : `: "${context.path}"`;
  return new type(`${reason}${where} (backend "${BACKEND}")`, { cause: context.cause });
}

/**
 * The `InvalidPathError` of a write (or copy or move destination) that would
 * make a path both a file and a folder, with the messages of every backend.
 *
 * @param kind `"parentIsFile"`: a parent of `key` is a file; `"isFolder"`: `key` is a
 *   folder; `"isFile"`: `key` is a file (where a folder was to be created).
 * @param operation What could not be done, for example `"write the file"`.
 * @param key The destination key.
 * @param cause The native error, when the service refused.
 * @returns The error.
 */
export function pathConflict(
  kind: "parentIsFile" | "isFolder" | "isFile",
  operation: string,
  key: string,
  cause?: unknown,
): InvalidPathError {
  const why = kind === "parentIsFile"
    ? "a parent of the path is a file, not a folder"
    : kind === "isFile"
    ? "the path is a file, not a folder"
    : "the path is a folder, not a file";
  return new InvalidPathError(`Cannot ${operation} because ${why}`, {
    path: key,
    backend: BACKEND,
    cause,
  });
}

/** A `NotFoundError` or `InvalidPathError` for a key with no blob. */
export function missingFile(key: string, isFolder: boolean, cause?: unknown): RemoteStoreError {
  const context = { path: key, backend: BACKEND, cause };
  return isFolder
    ? new InvalidPathError("Path is a folder, not a file", context)
    : new NotFoundError("File not found", context);
}

// ---- what a status and error code mean for the HNS operations (DFS API) ----

/** Whether the file system itself is missing (as opposed to a path in it). */
export function isMissingContainer(code: string | undefined): boolean {
  return code === "FilesystemNotFound" || code === "ContainerNotFound";
}

/**
 * Whether a mapped error says that the container (file system) is missing:
 * listings then yield nothing and `isFolder` answers false, as for a missing
 * folder, while file methods keep the error.
 *
 * @param error A mapped error.
 * @returns `true` for the `NotFoundError` of a 404 `ContainerNotFound` / `FilesystemNotFound`.
 */
export function isMissingContainerError(error: unknown): boolean {
  return error instanceof NotFoundError && statusOf(error.cause) === 404 &&
    isMissingContainer(errorCodeOf(error.cause));
}

/** A 404 for a path (Get Blob Properties, Path List) whose file system exists. */
export function isMissingPath(error: unknown): boolean {
  return statusOf(error) === 404 && !isMissingContainer(errorCodeOf(error));
}

/** A 404 of a delete: the path is gone already. */
export function isGone(error: unknown): boolean {
  return statusOf(error) === 404;
}

/** Path Create with `If-None-Match: *` found something at the path (409 `PathAlreadyExists`). */
export function isAlreadyThere(error: unknown): boolean {
  return statusOf(error) === 409 && errorCodeOf(error) === "PathAlreadyExists";
}

/** Any other 409 of a directory create: a file is at the path or above it. */
export function isConflict(error: unknown): boolean {
  return statusOf(error) === 409;
}

/** Why a Path Delete of a directory failed, where it is not the generic mapping. */
export function folderDeleteFailure(error: unknown): "notEmpty" | "missing" | undefined {
  const status = statusOf(error);
  const code = errorCodeOf(error);
  if (status === 409 && (code === "DirectoryNotEmpty" || code === "DirectoryIsNotEmpty")) {
    return "notEmpty";
  }
  if (status === 404 && !isMissingContainer(code)) return "missing";
  return undefined;
}

/** Why a rename failed, where it is not the generic mapping (keyed by the destination). */
export function renameFailure(
  error: unknown,
  conditions: { overwrite: boolean; ifMatch?: string },
):
  | "noParent"
  | "sourceMissing"
  | "destinationIsFolder"
  | "fileInTheWay"
  | "destinationExists"
  | "sourceChanged"
  | undefined {
  const status = statusOf(error);
  const code = errorCodeOf(error);
  if (status === 404 && !isMissingContainer(code)) {
    return code === "RenameDestinationParentPathNotFound" ? "noParent" : "sourceMissing";
  }
  if (status === 409 && code === "InvalidSourceOrDestinationResourceType") {
    return "destinationIsFolder";
  }
  if (status === 409 && code === "PathConflict") return "fileInTheWay";
  if (
    (status === 409 && code === "PathAlreadyExists") ||
    (status === 412 && conditions.ifMatch === undefined && !conditions.overwrite &&
      code !== "SourceConditionNotMet")
  ) {
    return "destinationExists";
  }
  if (status === 412 && code === "SourceConditionNotMet") return "sourceChanged";
  return undefined;
}

// ---- what a status and error code mean for the Blob operations ----

/** A read's own conditions failed: 412, 304, or Azure's refusal of `If-None-Match: *` on a read. */
export function isFailedReadCondition(error: unknown): boolean {
  const status = statusOf(error);
  return status === 412 || status === 304 || errorCodeOf(error) === "UnsatisfiableCondition";
}

/** A 412 of a request pinned to an ETag this backend read: the blob changed in between. */
export function isStale(error: unknown): boolean {
  return statusOf(error) === 412;
}

/** A 416: the range starts at or past the end of the blob. */
export function isRangeNotSatisfiable(error: unknown): boolean {
  return statusOf(error) === 416;
}

/** Whether a failed resume of a download may be tried again (no answer, 408, 429 or 5xx). */
export function isTransient(error: unknown): boolean {
  const status = statusOf(error);
  return status === undefined || status === 408 || status === 429 || status >= 500;
}

/**
 * Whether a List Blobs that carried `startFrom` was refused for it: 400. The
 * parameter is newer than this backend's service version, and a service may
 * reject it; the listing is then asked again without it (the backend skips
 * on the client) and the backend stops sending it.
 */
export function refusesStartFrom(error: unknown): boolean {
  return statusOf(error) === 400;
}

/**
 * Whether a Blob Batch request was refused as such (by the service or the
 * credential's scope: a 4xx other than 408 and 429), so that the blobs are
 * deleted one by one; 408, 429, 5xx and network failures are not refusals.
 */
export function isBatchRefused(error: unknown): boolean {
  const status = statusOf(error);
  return status !== undefined && status >= 400 && status < 500 && status !== 408 &&
    status !== 429;
}

/**
 * The native-shaped error of one failed sub-request of a Blob Batch (status
 * and code), for {@link mapAzureError} like any answer of the service.
 *
 * @param status The sub-request's status.
 * @param code Its error code.
 * @returns The error.
 */
export function batchFailure(status: number, code: string | undefined): Error {
  return Object.assign(new Error(`Batch delete failed (${status}${code ? ` ${code}` : ""})`), {
    statusCode: status,
    code,
  });
}

/**
 * Why a server-side copy failed where it is not the generic mapping:
 * `"sourceMissing"` (404) or `"sourceChanged"` (412 `SourceConditionNotMet`).
 */
export function copyFailure(error: unknown): "sourceMissing" | "sourceChanged" | undefined {
  const status = statusOf(error);
  if (status === 404) return "sourceMissing";
  if (status === 412 && errorCodeOf(error) === "SourceConditionNotMet") return "sourceChanged";
  return undefined;
}

/**
 * The error for a file that changed (412 on the ETag-pinned request) or was
 * deleted (404) while it was being read or copied; `undefined` for other errors.
 *
 * @param error The native error.
 * @param key The file's key.
 * @param operation `"read"` or `"copy"`.
 * @returns The `PreconditionFailedError`, or `undefined`.
 */
export function changedWhile(
  error: unknown,
  key: string,
  operation: "read" | "copy",
): PreconditionFailedError | undefined {
  const status = statusOf(error);
  const changed = operation === "copy"
    ? copyFailure(error) === "sourceChanged"
    : status === 412 || status === 404;
  if (!changed) return undefined;
  const message = operation === "copy"
    ? "Source changed during the copy"
    : status === 404
    ? "File was deleted while it was being read"
    : "File changed while it was being read";
  return new PreconditionFailedError(message, { path: key, backend: BACKEND, cause: error });
}

/**
 * Whether a refused conditional write may have been refused because its own
 * first attempt was applied (its answer lost): a Put Blob answered 409 or
 * 412, or a Put Block List answered 409, 412 or 400 (its blocks already
 * committed). The caller then looks for its own marker or block ids.
 *
 * @param error The native error.
 * @param request `"put"` (Put Blob) or `"commit"` (Put Block List).
 * @returns `true` when the upload should check whether it was applied.
 */
export function mayBeOwnWrite(error: unknown, request: "put" | "commit"): boolean {
  const status = statusOf(error);
  return status === 409 || status === 412 || (request === "commit" && status === 400);
}

/** A Put Block List that found its staged blocks gone (400 `InvalidBlockList`). */
export function isLostBlockList(error: unknown): boolean {
  return statusOf(error) === 400 && errorCodeOf(error) === "InvalidBlockList";
}

/**
 * The error for a commit whose blocks were discarded: another writer
 * committed the same blob in between (committing discards every uncommitted
 * block of a blob).
 *
 * @param options Whether the write was create-only (`overwrite`), its `ifMatch`, and its key.
 * @param exists Whether a blob is at the key now.
 * @param cause The native error.
 * @returns `AlreadyExistsError`, `PreconditionFailedError` or `BackendUnavailableError`.
 */
export function lostBlocksError(
  options: { key: string; overwrite: boolean; ifMatch?: string },
  exists: boolean,
  cause: unknown,
): RemoteStoreError {
  const context = { path: options.key, backend: BACKEND, cause };
  if (!options.overwrite && exists) return new AlreadyExistsError("File already exists", context);
  if (options.ifMatch !== undefined) {
    return new PreconditionFailedError("ETag does not match", context);
  }
  return new BackendUnavailableError(
    "A concurrent write to the same file discarded this upload's blocks; retry the write",
    context,
  );
}

/**
 * What a failed request of a signed upload (`putSignedUpload`) means, from its
 * status and Azure error code. A create-only URL (`sp=c`) that meets an
 * existing blob is refused with 403 `UnauthorizedBlobOverwrite` (Azure) or
 * `AuthorizationPermissionMismatch` (Azurite; Put Blob is otherwise allowed by
 * `c`, so the mismatch can only be the overwrite); `If-None-Match: *` gives
 * 409 `BlobAlreadyExists` (or 412). 400 `InvalidBlockList`: a concurrent
 * commit to the same blob discarded the staged blocks (uploading again works).
 *
 * @param status The HTTP status.
 * @param code The `x-ms-error-code` or the XML `Code`, when known.
 * @param createOnly Whether the request was a create-only Put Blob.
 * @returns The kind of failure.
 */
export function signedUploadFailure(
  status: number,
  code: string | undefined,
  createOnly: boolean,
): "exists" | "denied" | "lostBlocks" | "tooLarge" | "invalid" | "missing" | "unavailable" {
  if (createOnly && (status === 409 || status === 412)) return "exists";
  if (
    createOnly && status === 403 &&
    (code === "UnauthorizedBlobOverwrite" || code === "AuthorizationPermissionMismatch")
  ) return "exists";
  if (status === 401 || status === 403) return "denied";
  if (status === 404) return "missing";
  if (status === 408 || status === 429 || status >= 500) return "unavailable";
  if (status === 400 && code === "InvalidBlockList") return "lostBlocks";
  if (status === 413) return "tooLarge";
  if (status >= 400) return "invalid";
  return "unavailable";
}
