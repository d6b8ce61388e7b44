/**
 * The operations that differ between a flat Blob namespace and an ADLS Gen2
 * hierarchical namespace (HNS). `_flat.ts` implements them on the Blob API;
 * an HNS implementation plugs in behind the same interface. Private module.
 *
 * @module
 */

import type { BackendEntry } from "../../backend.ts";
import type { ErrorScope } from "./_errors.ts";
import type { AzureHttp } from "./_http.ts";
import { compareKeys, fileNeeded, folderPassed } from "../../_order.ts";

/** What a namespace implementation needs from the backend. */
export interface AzureContext {
  /** The transport: signed requests to the container's Blob and DFS endpoints. */
  readonly http: AzureHttp;
  /** Maps a transport error for this backend (adds redaction). */
  mapError(error: unknown, scope: ErrorScope): unknown;
  /** Page size for listings. */
  readonly pageSize: number;
  /** Deletes in flight when a batch is not available. */
  readonly deleteConcurrency: number;
  /** Set once the service refused a Blob Batch: deletes go one by one from then on. */
  readonly batch: { refused: boolean };
  /** Set once the service refused List Blobs' `startFrom`: listings skip on the client from then on. */
  readonly startFrom: { refused: boolean };
}

/** Options of {@link Namespace.list}. */
export interface NamespaceListOptions {
  /** Every file below, or one level (files and folders). */
  recursive: boolean;
  /** The caller's signal. */
  signal?: AbortSignal;
  /** Leave out entries at or before this key. */
  startAfter?: string;
  /** Entries per service request (the backend's page size, or less for a paged listing). */
  pageSize: number;
}

/** Which kind of namespace an implementation serves. */
export type NamespaceKind = "flat" | "hns";

/** Folder-shaped operations; keys are clean backend keys, `""` is the container root. */
export interface Namespace {
  /** `"flat"` or `"hns"` (for the capabilities; the backend branches on the members below). */
  readonly kind: NamespaceKind;
  /**
   * Whether directories are blobs too (ADLS Gen2 shows a directory as a
   * zero-length blob with `hdi_isfolder=true`), so that a blob answer must
   * be checked for being a directory.
   */
  readonly directoryBlobs: boolean;
  /**
   * Whether the service itself refuses a file below a file or at a folder
   * (then the backend only explains a refusal); otherwise the backend checks
   * before writing (`strictPaths`).
   */
  readonly refusesPathConflicts: boolean;
  /** Deletes the file at `key` (never a directory); rejects with the service's error. */
  deleteFile(key: string, signal: AbortSignal | undefined): Promise<void>;
  /**
   * Renames a file in one atomic step, where the namespace can (ADLS Gen2):
   * `writeAtomic` uploads beside the target and renames onto it.
   */
  rename?(
    src: string,
    dst: string,
    conditions: { overwrite: boolean; ifMatch?: string; sourceEtag?: string },
    signal: AbortSignal | undefined,
  ): Promise<void>;
  /** Whether a folder exists at `key`. */
  isFolder(key: string, signal: AbortSignal | undefined): Promise<boolean>;
  /**
   * Lists one level (files and folders) or every file below `key`, page by
   * page, files in code point order; entries at or before `startAfter` are
   * left out (on the server where it can).
   */
  list(key: string, options: NamespaceListOptions): AsyncGenerator<BackendEntry>;
  /** Deletes a folder (`NotFoundError`, `DirectoryNotEmptyError` when not recursive). */
  deleteFolder(key: string, recursive: boolean, signal: AbortSignal | undefined): Promise<void>;
  /**
   * Creates a directory and its missing parents where directories are real
   * (ADLS Gen2); an existing directory resolves, a file at the path or above
   * it is an `InvalidPathError`. Absent on a flat namespace.
   */
  createFolder?(key: string, signal: AbortSignal | undefined): Promise<void>;
  /** Moves a file (`src !== dst`); `copy` is the backend's server-side copy returning the source ETag. */
  move(
    src: string,
    dst: string,
    overwrite: boolean,
    signal: AbortSignal | undefined,
    copy: () => Promise<string | undefined>,
  ): Promise<void>;
}

/** Sorts one listing page by key, files and folders together (non-recursive listings). */
export function sortByKey(entries: BackendEntry[]): void {
  const keyOf = (entry: BackendEntry) => (entry.kind === "file" ? entry.info.key : entry.key);
  entries.sort((a, b) => compareKeys(keyOf(a), keyOf(b)));
}

/** Azure's longest blob name, in characters. */
const MAX_BLOB_NAME = 1024;

/**
 * The `startFrom` of a List Blobs request by `prefix` that needs only names
 * after `startAfter`: `startAfter` itself when it lies within the prefix's
 * range and, for one level (`delimiter`), names an entry of that level (the
 * service takes no other); otherwise none, and the caller skips on the client.
 */
export function startFromFor(
  prefix: string,
  startAfter: string | undefined,
  oneLevel: boolean,
): string | undefined {
  if (startAfter === undefined || !startAfter.startsWith(prefix)) return undefined;
  // No blob name is longer: a longer cursor is skipped on the client, never sent (and refused).
  if (startAfter.length > MAX_BLOB_NAME) return undefined;
  if (oneLevel && startAfter.includes("/", prefix.length)) return undefined;
  return startAfter;
}

/** Whether a listing with `startAfter` keeps the entry (see `src/_order.ts`). */
export function entryNeeded(entry: BackendEntry, startAfter: string | undefined): boolean {
  return entry.kind === "file"
    ? fileNeeded(entry.info.key, startAfter)
    : !folderPassed(entry.key, startAfter);
}
