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
}

/** Which kind of namespace an implementation serves. */
export type NamespaceKind = "flat" | "hns";

/** Folder-shaped operations; keys are clean backend keys, `""` is the container root. */
export interface Namespace {
  /** `"flat"` or `"hns"`. */
  readonly kind: NamespaceKind;
  /** Whether a folder exists at `key`. */
  isFolder(key: string, signal: AbortSignal | undefined): Promise<boolean>;
  /** Lists one level (files and folders) or every file below `key`, page by page. */
  list(key: string, recursive: boolean, signal: AbortSignal | undefined): AsyncGenerator<
    BackendEntry
  >;
  /** Deletes a folder (`NotFoundError`, `DirectoryNotEmptyError` when not recursive). */
  deleteFolder(key: string, recursive: boolean, signal: AbortSignal | undefined): Promise<void>;
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
  entries.sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
}
