/**
 * Maps native file-system errors (Node-style `code`s, and Deno error class
 * names defensively) to {@link RemoteStoreError} subclasses. The only place
 * the local backend turns native errors into library errors. Private module.
 *
 * @module
 */

import {
  AlreadyExistsError,
  BackendUnavailableError,
  DirectoryNotEmptyError,
  InvalidPathError,
  NotFoundError,
  PermissionDeniedError,
  RemoteStoreError,
} from "../../errors.ts";

/** The backend name recorded in every error. */
export const BACKEND = "local";

/** Deno error class names and the Node error codes they correspond to. */
const DENO_NAMES: Record<string, string> = {
  NotFound: "ENOENT",
  AlreadyExists: "EEXIST",
  PermissionDenied: "EACCES",
  NotADirectory: "ENOTDIR",
  IsADirectory: "EISDIR",
  FilesystemLoop: "ELOOP",
  DirectoryNotEmpty: "ENOTEMPTY",
  NotSupported: "ENOTSUP",
  InvalidData: "EINVAL",
  Busy: "EBUSY",
};

/**
 * The Node-style error code of a native error (`"ENOENT"`, ...), from its
 * `code` property or, for Deno errors, its class name.
 *
 * @param error Anything thrown.
 * @returns The code, or `undefined` when it has none.
 */
export function errorCode(error: unknown): string | undefined {
  if (error === null || typeof error !== "object") return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && code !== "") return code;
  const name = (error as { name?: unknown }).name;
  if (typeof name === "string" && name in DENO_NAMES) return DENO_NAMES[name];
  return undefined;
}

/**
 * Whether a native error has one of the given codes.
 *
 * @param error Anything thrown.
 * @param codes Node-style codes.
 * @returns `true` when it matches.
 */
export function hasCode(error: unknown, ...codes: string[]): boolean {
  const code = errorCode(error);
  return code !== undefined && codes.includes(code);
}

/**
 * Converts a native file-system error to a library error.
 *
 * Library errors pass through unchanged. The reason says which operation
 * failed and why; the native error is kept as `cause`.
 *
 * @param error The native error.
 * @param key The backend key the operation was about.
 * @param operation What was attempted, as a verb phrase (`"read the file"`).
 * @returns The library error to throw.
 */
export function mapFsError(error: unknown, key: string, operation: string): RemoteStoreError {
  if (error instanceof RemoteStoreError) return error;
  const context = { path: key, backend: BACKEND, cause: error };
  const code = errorCode(error);
  const cannot = `Cannot ${operation}`;
  switch (code) {
    case "ENOENT":
      return new NotFoundError(`${cannot} because it does not exist`, context);
    case "EEXIST":
      return new AlreadyExistsError(`${cannot} because the target already exists`, context);
    case "EACCES":
    case "EPERM":
      return new PermissionDeniedError(
        `${cannot} because the file system denied permission`,
        context,
      );
    case "EROFS":
      return new PermissionDeniedError(`${cannot} because the file system is read-only`, context);
    case "ENOTEMPTY":
      return new DirectoryNotEmptyError(`${cannot} because the folder is not empty`, context);
    case "ENOTDIR":
      return new InvalidPathError(
        `${cannot} because a parent of the path is a file, not a folder`,
        context,
      );
    case "EISDIR":
      return new InvalidPathError(`${cannot} because the path is a folder, not a file`, context);
    case "ELOOP":
      return new InvalidPathError(
        `${cannot} because the path has too many levels of symbolic links`,
        context,
      );
    case "ENAMETOOLONG":
      return new InvalidPathError(
        `${cannot} because the path or a name in it is too long for the file system`,
        context,
      );
    case "EMFILE":
    case "ENFILE":
      return new BackendUnavailableError(`${cannot} because too many files are open`, context);
    case "ENOSPC":
      return new BackendUnavailableError(
        `${cannot} because no space is left on the device`,
        context,
      );
    case "EDQUOT":
      return new BackendUnavailableError(`${cannot} because the disk quota is exceeded`, context);
    case "EIO":
      return new BackendUnavailableError(`${cannot} because of an input/output error`, context);
    default:
      return new BackendUnavailableError(
        `${cannot} because of an unexpected file system error` +
          (code === undefined ? "" : ` (${code})`),
        context,
      );
  }
}
