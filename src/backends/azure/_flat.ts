/**
 * Folder operations on a flat Blob namespace: folders are virtual, they exist
 * while blobs exist below their prefix; no marker blobs are written.
 * Private module.
 *
 * @module
 */

import type { BackendEntry, BackendFileInfo } from "../../backend.ts";
import { DirectoryNotEmptyError, InvalidPathError, NotFoundError } from "../../errors.ts";
import { deleteBlob, getBlobProperties, listBlobs, storedVersion } from "./_blob_api.ts";
import { BACKEND, isGone, refusesStartFrom } from "./_errors.ts";
import { deleteManyBlobs } from "./_batch.ts";
import { quoteEtag } from "./_etag.ts";
import type { BlobListPage, ListedBlob } from "./_xml.ts";
import { userMetadata } from "./_upload.ts";
import type { AzureContext, Namespace, NamespaceListOptions } from "./_namespace.ts";
import { entryNeeded, sortByKey, startFromFor } from "./_namespace.ts";

function prefixOf(key: string): string {
  return key === "" ? "" : `${key}/`;
}

/** Blob names that cannot be addressed as clean keys (`a//b`, `dir/`, `./x`) are skipped. */
export function isCleanKey(name: string): boolean {
  if (name === "") return false;
  for (const segment of name.split("/")) {
    if (segment === "" || segment === "." || segment === "..") return false;
  }
  return true;
}

/** A listing item as backend file info. */
export function itemInfo(item: ListedBlob): BackendFileInfo {
  const info: BackendFileInfo = {
    key: item.name,
    size: item.contentLength,
    modifiedAt: item.lastModified,
  };
  const etag = quoteEtag(item.etag);
  if (etag !== undefined) info.etag = etag;
  if (item.contentType !== undefined) info.contentType = item.contentType;
  Object.assign(info, storedVersion(item));
  info.metadata = userMetadata(item.metadata);
  return info;
}

/** What one List Blobs walk asks for (the marker is advanced by {@link blobPages}). */
export interface ListQuery {
  prefix: string;
  delimiter?: string;
  maxResults: number;
  includeMetadata?: boolean;
  /** List from this name on (inclusive); a service without `startFrom` lists from the start. */
  startFrom?: string;
}

/**
 * The pages of one List Blobs walk, one request each, following the marker;
 * a failed request rejects with the mapped error. A `startFrom` the service
 * refuses (see {@link refusesStartFrom}) is dropped and the page asked again;
 * once that answer comes, the backend sends it no more.
 */
export async function* blobPages(
  ctx: AzureContext,
  query: ListQuery,
  key: string,
  signal: AbortSignal | undefined,
): AsyncGenerator<BlobListPage> {
  let marker: string | undefined;
  let startFrom = ctx.startFrom.refused ? undefined : query.startFrom;
  let dropped = false;
  while (true) {
    let page: BlobListPage;
    try {
      page = await listBlobs(ctx.http, { ...query, startFrom, marker, signal });
    } catch (error) {
      if (startFrom !== undefined && !signal?.aborted && refusesStartFrom(error)) {
        // Asked again without it; the caller skips what comes before `startFrom`.
        startFrom = undefined;
        dropped = true;
        continue;
      }
      throw ctx.mapError(error, { key, signal });
    }
    // Refused for `startFrom` indeed (the same request without it was answered).
    if (dropped) ctx.startFrom.refused = true;
    yield page;
    marker = page.nextMarker;
    if (marker === undefined) return;
  }
}

/** The flat-namespace implementation of {@link Namespace}. */
export class FlatNamespace implements Namespace {
  readonly kind = "flat" as const;
  readonly directoryBlobs = false;
  readonly refusesPathConflicts = false;
  readonly #ctx: AzureContext;

  constructor(context: AzureContext) {
    this.#ctx = context;
  }

  #pages(
    query: ListQuery,
    key: string,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<BlobListPage> {
    return blobPages(this.#ctx, query, key, signal);
  }

  /** Whether any blob has the prefix (one-result pages until one holds a blob). */
  async #anyBelow(prefix: string, key: string, signal: AbortSignal | undefined) {
    for await (const page of this.#pages({ prefix, maxResults: 1 }, key, signal)) {
      if (page.blobs.length > 0) return true;
    }
    return false;
  }

  async isFolder(key: string, signal: AbortSignal | undefined): Promise<boolean> {
    if (key === "") return true;
    return await this.#anyBelow(prefixOf(key), key, signal);
  }

  /**
   * List Blobs by prefix (and delimiter for one level). `startAfter` goes to
   * the service as `startFrom` where the service takes it (see
   * {@link startFromFor}; inclusive; a service that ignores it lists from
   * the start) and is applied again to every entry.
   */
  async *list(key: string, options: NamespaceListOptions): AsyncGenerator<BackendEntry> {
    const { recursive, signal, startAfter } = options;
    const query: ListQuery = {
      prefix: prefixOf(key),
      delimiter: recursive ? undefined : "/",
      maxResults: options.pageSize,
      includeMetadata: true,
      startFrom: startFromFor(prefixOf(key), startAfter, !recursive),
    };
    for await (const page of this.#pages(query, key, signal)) {
      const entries: BackendEntry[] = [];
      for (const item of page.blobs) {
        if (isCleanKey(item.name)) entries.push({ kind: "file", info: itemInfo(item) });
      }
      for (const folder of page.prefixes) {
        const folderKey = folder.replace(/\/$/, "");
        if (isCleanKey(folderKey)) entries.push({ kind: "folder", key: folderKey });
      }
      if (!recursive) sortByKey(entries);
      for (const entry of entries) if (entryNeeded(entry, startAfter)) yield entry;
    }
  }

  async deleteFolder(
    key: string,
    recursive: boolean,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    if (!recursive) {
      if (key !== "" && !(await this.isFolder(key, signal))) {
        throw await this.#noFolder(key, signal);
      }
      if (key === "" && !(await this.#anyBelow("", "", signal))) return;
      throw new DirectoryNotEmptyError("Folder is not empty", { path: key, backend: BACKEND });
    }
    let found = false;
    const query = { prefix: prefixOf(key), maxResults: this.#ctx.pageSize };
    for await (const page of this.#pages(query, key, signal)) {
      const names = page.blobs.map((item) => item.name);
      if (names.length > 0) found = true;
      await this.#deleteAll(names, signal);
    }
    if (!found && key !== "") throw await this.#noFolder(key, signal);
  }

  /** `InvalidPathError` when a blob is at `key` (a file, not a folder), else `NotFoundError`. */
  async #noFolder(key: string, signal: AbortSignal | undefined): Promise<Error> {
    try {
      await getBlobProperties(this.#ctx.http, key, { signal });
    } catch (error) {
      if (isGone(error)) {
        return new NotFoundError("Folder not found", { path: key, backend: BACKEND });
      }
      return this.#ctx.mapError(error, { key, signal }) as Error;
    }
    return new InvalidPathError("Path is a file, not a folder", { path: key, backend: BACKEND });
  }

  /**
   * Deletes blobs (each with its snapshots): Blob Batch requests where the
   * service takes them (`_batch.ts`), otherwise one by one; a blob already
   * gone is fine, the first other failure is thrown.
   */
  async #deleteAll(names: readonly string[], signal: AbortSignal | undefined): Promise<void> {
    const http = this.#ctx.http;
    const results = await deleteManyBlobs(
      {
        http,
        useBatch: true,
        batch: this.#ctx.batch,
        mapError: (error, key, signal) => this.#ctx.mapError(error, { key, signal }),
        deleteOne: (key, signal) =>
          deleteBlob(http, key, { signal, includeSnapshots: true }).catch((error) => {
            throw this.#ctx.mapError(error, { key, signal });
          }),
      },
      names,
      { concurrency: this.#ctx.deleteConcurrency, signal },
    );
    const failed = results.find((result) => result.status === "error");
    if (failed) throw failed.error;
  }

  /** Delete Blob, snapshots included. */
  async deleteFile(key: string, signal: AbortSignal | undefined): Promise<void> {
    await deleteBlob(this.#ctx.http, key, { signal, includeSnapshots: true });
  }

  async move(
    src: string,
    _dst: string,
    _overwrite: boolean,
    signal: AbortSignal | undefined,
    copy: () => Promise<string | undefined>,
  ): Promise<void> {
    const etag = await copy();
    try {
      await deleteBlob(this.#ctx.http, src, { signal, includeSnapshots: true, ifMatch: etag });
    } catch (error) {
      if (isGone(error)) return; // already gone: the move's effect holds
      throw this.#ctx.mapError(error, { key: src, signal });
    }
  }
}
