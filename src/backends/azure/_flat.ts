/**
 * Folder operations on a flat Blob namespace: folders are virtual, they exist
 * while blobs exist below their prefix; no marker blobs are written.
 * Private module.
 *
 * @module
 */

import type { BlobItem, ContainerClient } from "@azure/storage-blob";
import type { BackendEntry, BackendFileInfo } from "../../backend.ts";
import { DirectoryNotEmptyError, InvalidPathError, NotFoundError } from "../../errors.ts";
import { BACKEND, statusOf } from "./_errors.ts";
import { quoteEtag } from "./_etag.ts";
import { userMetadata } from "./_upload.ts";
import type { AzureContext, Namespace } from "./_namespace.ts";
import { sortByKey } from "./_namespace.ts";
import { runPool } from "./_pool.ts";

/** Most sub-requests in one Blob Batch request (service limit). */
const BATCH_LIMIT = 256;

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
export function itemInfo(item: BlobItem): BackendFileInfo {
  const p = item.properties;
  const info: BackendFileInfo = {
    key: item.name,
    size: p.contentLength ?? 0,
    modifiedAt: p.lastModified,
  };
  const etag = quoteEtag(p.etag);
  if (etag !== undefined) info.etag = etag;
  if (p.contentType !== undefined) info.contentType = p.contentType;
  info.metadata = userMetadata(item.metadata);
  return info;
}

/** The flat-namespace implementation of {@link Namespace}. */
export class FlatNamespace implements Namespace {
  readonly kind = "flat" as const;
  readonly #ctx: AzureContext;
  #batchUnavailable = false;

  constructor(context: AzureContext) {
    this.#ctx = context;
  }

  get #container(): ContainerClient {
    return this.#ctx.container;
  }

  async isFolder(key: string, signal: AbortSignal | undefined): Promise<boolean> {
    if (key === "") return true;
    try {
      const pages = this.#container
        .listBlobsFlat({ prefix: prefixOf(key), abortSignal: signal })
        .byPage({ maxPageSize: 1 });
      for await (const page of pages) {
        if (page.segment.blobItems.length > 0) return true;
      }
      return false;
    } catch (error) {
      throw this.#ctx.mapError(error, { key, signal });
    }
  }

  async *list(
    key: string,
    recursive: boolean,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<BackendEntry> {
    const prefix = prefixOf(key);
    const maxPageSize = this.#ctx.pageSize;
    let pages: AsyncIterableIterator<
      { segment: { blobItems: BlobItem[]; blobPrefixes?: { name: string }[] } }
    >;
    if (recursive) {
      pages = this.#container
        .listBlobsFlat({ prefix, includeMetadata: true, abortSignal: signal })
        .byPage({ maxPageSize });
    } else {
      pages = this.#container
        .listBlobsByHierarchy("/", { prefix, includeMetadata: true, abortSignal: signal })
        .byPage({ maxPageSize });
    }
    while (true) {
      let result: IteratorResult<
        { segment: { blobItems: BlobItem[]; blobPrefixes?: { name: string }[] } }
      >;
      try {
        result = await pages.next();
      } catch (error) {
        throw this.#ctx.mapError(error, { key, signal });
      }
      if (result.done) return;
      const entries: BackendEntry[] = [];
      for (const item of result.value.segment.blobItems) {
        if (isCleanKey(item.name)) entries.push({ kind: "file", info: itemInfo(item) });
      }
      for (const folder of result.value.segment.blobPrefixes ?? []) {
        const folderKey = folder.name.replace(/\/$/, "");
        if (isCleanKey(folderKey)) entries.push({ kind: "folder", key: folderKey });
      }
      if (!recursive) sortByKey(entries);
      yield* entries;
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
      if (key === "" && !(await this.#hasAny(signal))) return;
      throw new DirectoryNotEmptyError("Folder is not empty", { path: key, backend: BACKEND });
    }
    let found = false;
    try {
      const pages = this.#container
        .listBlobsFlat({ prefix: prefixOf(key), abortSignal: signal })
        .byPage({ maxPageSize: this.#ctx.pageSize });
      for await (const page of pages) {
        const names = page.segment.blobItems.map((item) => item.name);
        if (names.length > 0) found = true;
        for (let i = 0; i < names.length; i += BATCH_LIMIT) {
          await this.#deleteMany(names.slice(i, i + BATCH_LIMIT), signal);
        }
      }
    } catch (error) {
      throw this.#ctx.mapError(error, { key, signal });
    }
    if (!found && key !== "") throw await this.#noFolder(key, signal);
  }

  /** `InvalidPathError` when a blob is at `key` (a file, not a folder), else `NotFoundError`. */
  async #noFolder(key: string, signal: AbortSignal | undefined): Promise<Error> {
    let isFile: boolean;
    try {
      isFile = await this.#container.getBlobClient(key).exists({ abortSignal: signal });
    } catch (error) {
      return this.#ctx.mapError(error, { key, signal }) as Error;
    }
    return isFile
      ? new InvalidPathError("Path is a file, not a folder", { path: key, backend: BACKEND })
      : new NotFoundError("Folder not found", { path: key, backend: BACKEND });
  }

  async #hasAny(signal: AbortSignal | undefined): Promise<boolean> {
    try {
      const pages = this.#container.listBlobsFlat({ abortSignal: signal }).byPage({
        maxPageSize: 1,
      });
      for await (const page of pages) {
        if (page.segment.blobItems.length > 0) return true;
      }
      return false;
    } catch (error) {
      throw this.#ctx.mapError(error, { key: "", signal });
    }
  }

  /** Deletes up to 256 blobs: one Blob Batch request, or single deletes where batch is refused. */
  async #deleteMany(names: string[], signal: AbortSignal | undefined): Promise<void> {
    if (names.length === 0) return;
    if (!this.#batchUnavailable && names.length > 1) {
      const clients = names.map((name) => this.#container.getBlobClient(name));
      let response;
      try {
        response = await this.#container.getBlobBatchClient().deleteBlobs(clients, {
          abortSignal: signal,
          deleteSnapshots: "include",
        });
      } catch (error) {
        const status = statusOf(error);
        if (signal?.aborted || status === undefined || status === 429 || status >= 500) {
          throw error;
        }
        // The service (or the credential's scope) does not allow batches: delete one by one.
        this.#batchUnavailable = true;
      }
      if (response) {
        for (const [index, sub] of response.subResponses.entries()) {
          if (sub.status >= 200 && sub.status < 300) continue;
          if (sub.status === 404) continue;
          const failure = Object.assign(new Error(`Batch delete failed (${sub.status})`), {
            statusCode: sub.status,
            code: sub.errorCode,
          });
          throw this.#ctx.mapError(failure, { key: names[index], signal });
        }
        return;
      }
    }
    await runPool(names, this.#ctx.deleteConcurrency, signal, async (name) => {
      try {
        await this.#container.getBlobClient(name).delete({
          abortSignal: signal,
          deleteSnapshots: "include",
        });
      } catch (error) {
        if (statusOf(error) !== 404) throw this.#ctx.mapError(error, { key: name, signal });
      }
    });
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
      await this.#container.getBlobClient(src).delete({
        abortSignal: signal,
        deleteSnapshots: "include",
        conditions: etag === undefined ? undefined : { ifMatch: etag },
      });
    } catch (error) {
      if (statusOf(error) === 404) return; // already gone: the move's effect holds
      throw this.#ctx.mapError(error, { key: src, signal });
    }
  }
}
