/**
 * Folder operations on an ADLS Gen2 hierarchical namespace (HNS) through the
 * DFS API: directories are real, a rename is one atomic server call, and a
 * recursive folder delete is one request. Private module.
 *
 * The DFS requests are in `_dfs_api.ts`. Reads and properties go through the
 * Blob API (the DataLake SDK does that too); on an HNS account a directory
 * shows there as a zero-length blob with the metadata `hdi_isfolder=true`.
 *
 * @module
 */

import type { BackendEntry, BackendFileInfo } from "../../backend.ts";
import {
  AlreadyExistsError,
  DirectoryNotEmptyError,
  InvalidPathError,
  NotFoundError,
} from "../../errors.ts";
import {
  BACKEND,
  folderDeleteFailure,
  isAlreadyThere,
  isConflict,
  isGone,
  isMissingPath,
  isStale,
  pathConflict,
  renameFailure,
} from "./_errors.ts";
import { deleteBlob, getBlobProperties } from "./_blob_api.ts";
import {
  createDirectory,
  deletePath,
  type DfsPath,
  listPathPages,
  renamePath,
} from "./_dfs_api.ts";
import { blobPages, isCleanKey, itemInfo } from "./_flat.ts";
import type { AzureContext, Namespace, NamespaceListOptions } from "./_namespace.ts";
import { entryNeeded, sortByKey, startFromFor } from "./_namespace.ts";
import type { BlobListPage } from "./_xml.ts";
import { fileNeeded } from "../../_order.ts";
import { runPool } from "./_pool.ts";

/** The start of every name of a `writeAtomic` temporary file. */
const TEMP_PREFIX = ".~tmp.";
/** `.~tmp.<name>.<16 hex: random id>.<8 hex: check of id and name>` */
const TEMP_NAME = /^\.~tmp\.(.*)\.([0-9a-f]{16})\.([0-9a-f]{8})$/s;

/** Whether blob metadata marks a directory (`hdi_isfolder=true`, name case-insensitive). */
export function isFolderMetadata(metadata: Record<string, string> | undefined): boolean {
  for (const [name, value] of Object.entries(metadata ?? {})) {
    if (name.toLowerCase() === "hdi_isfolder" && value.toLowerCase() === "true") return true;
  }
  return false;
}

/** FNV-1a (32 bits) of `text`'s UTF-16 code units, as 8 hex digits. */
function check(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, "0");
}

/**
 * A fresh name for the temporary file of a `writeAtomic` to `key`, beside
 * it: `.~tmp.<name>.<random id>.<check>`, where the check digits are derived
 * from the id and the name. Only names of exactly this form with matching
 * check digits are temporary files (see {@link isTempKey}); every other name,
 * `.~tmp.` prefix or not, is a user's file like any other.
 *
 * @param key The target key.
 * @param id 16 random hex digits.
 * @returns The temporary file's key.
 */
export function tempKeyFor(key: string, id: string): string {
  const slash = key.lastIndexOf("/");
  const name = key.slice(slash + 1);
  return `${key.slice(0, slash + 1)}${TEMP_PREFIX}${name}.${id}.${check(`${id}/${name}`)}`;
}

/** Whether a key names a temporary file made by {@link tempKeyFor} (never listed). */
export function isTempKey(key: string): boolean {
  const match = TEMP_NAME.exec(key.slice(key.lastIndexOf("/") + 1));
  return match !== null && match[3] === check(`${match[2]}/${match[1]}`);
}

function pathInfo(path: DfsPath): BackendFileInfo {
  const info: BackendFileInfo = {
    key: path.name,
    size: path.contentLength,
    modifiedAt: path.lastModified ?? new Date(0),
  };
  if (path.etag !== undefined) info.etag = path.etag;
  return info;
}

/** Conditions of a rename on its destination. */
export interface RenameConditions {
  /** Replace an existing destination. */
  overwrite: boolean;
  /** Replace only when the destination has this ETag. */
  ifMatch?: string;
  /** Rename only when the source still has this ETag. */
  sourceEtag?: string;
}

/** The hierarchical-namespace implementation of {@link Namespace}. */
export class HnsNamespace implements Namespace {
  readonly kind = "hns" as const;
  readonly directoryBlobs = true;
  readonly refusesPathConflicts = true;
  readonly #ctx: AzureContext;

  /** @param context What the backend shares with namespace implementations. */
  constructor(context: AzureContext) {
    this.#ctx = context;
  }

  /** Blob properties of a path, or `undefined` when nothing is there. */
  async #stat(
    key: string,
    signal: AbortSignal | undefined,
  ): Promise<{ folder: boolean; etag?: string } | undefined> {
    try {
      const p = await getBlobProperties(this.#ctx.http, key, { signal });
      return { folder: isFolderMetadata(p.metadata), etag: p.etag };
    } catch (error) {
      if (isMissingPath(error)) return undefined;
      throw this.#ctx.mapError(error, { key, signal });
    }
  }

  async isFolder(key: string, signal: AbortSignal | undefined): Promise<boolean> {
    if (key === "") return true;
    return (await this.#stat(key, signal))?.folder ?? false;
  }

  /**
   * One level through DFS Path List (children sorted by name: files in key
   * order). Every file below through the Blob API's List Blobs, which sorts
   * by full name (Path List walks depth-first, so `a/x` would come before
   * `a-b`), with `startFrom` where the service has it; directory blobs
   * (`hdi_isfolder`) and temporary files are left out. `startAfter` is
   * applied to every entry again.
   */
  async *list(key: string, options: NamespaceListOptions): AsyncGenerator<BackendEntry> {
    const { recursive, signal, startAfter, pageSize } = options;
    if (recursive) return yield* this.#listBelow(key, signal, startAfter, pageSize);
    const pages = listPathPages(this.#ctx.http, {
      directory: key,
      recursive,
      maxResults: pageSize,
      signal,
    });
    while (true) {
      let result: IteratorResult<DfsPath[]>;
      try {
        result = await pages.next();
      } catch (error) {
        // A missing directory (or a file path) lists nothing.
        if (isMissingPath(error)) return;
        throw this.#ctx.mapError(error, { key, signal });
      }
      if (result.done) return;
      const entries: BackendEntry[] = [];
      for (const path of result.value) {
        const name = path.name;
        if (!isCleanKey(name)) continue;
        if (path.isDirectory) {
          if (!recursive) entries.push({ kind: "folder", key: name });
        } else if (!isTempKey(name)) {
          entries.push({ kind: "file", info: pathInfo(path) });
        }
      }
      if (!recursive) sortByKey(entries);
      for (const entry of entries) if (entryNeeded(entry, startAfter)) yield entry;
    }
  }

  /** Every file below `key`, in key order, through List Blobs. */
  async *#listBelow(
    key: string,
    signal: AbortSignal | undefined,
    startAfter: string | undefined,
    pageSize: number,
  ): AsyncGenerator<BackendEntry> {
    const prefix = key === "" ? "" : `${key}/`;
    const query = {
      prefix,
      maxResults: pageSize,
      includeMetadata: true,
      startFrom: startFromFor(prefix, startAfter, false),
    };
    let first = true;
    const pages = blobPages(this.#ctx, query, key, signal);
    while (true) {
      let result: IteratorResult<BlobListPage>;
      try {
        result = await pages.next();
      } catch (error) {
        // A prefix through a file may be refused by the service: a file lists nothing.
        if (first && key !== "" && !(await this.isFolder(key, signal))) return;
        throw error;
      }
      first = false;
      if (result.done) return;
      for (const item of result.value.blobs) {
        const name = item.name;
        if (!isCleanKey(name) || isTempKey(name) || isFolderMetadata(item.metadata)) continue;
        if (fileNeeded(name, startAfter)) yield { kind: "file", info: itemInfo(item) };
      }
    }
  }

  async deleteFolder(
    key: string,
    recursive: boolean,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    if (key === "") return await this.#deleteRoot(recursive, signal);
    const stat = await this.#stat(key, signal);
    if (stat === undefined) {
      throw new NotFoundError("Folder not found", { path: key, backend: BACKEND });
    }
    if (!stat.folder) {
      throw new InvalidPathError("Path is a file, not a folder", { path: key, backend: BACKEND });
    }
    try {
      await deletePath(this.#ctx.http, key, { recursive, signal });
    } catch (error) {
      throw this.#folderError(error, key, signal);
    }
  }

  #folderError(error: unknown, key: string, signal: AbortSignal | undefined): unknown {
    if (signal?.aborted) return signal.reason;
    const kind = folderDeleteFailure(error);
    if (kind === undefined) return this.#ctx.mapError(error, { key, signal });
    this.#ctx.mapError(error, { key, signal }); // removes secrets from the native error's text
    const context = { path: key, backend: BACKEND, cause: error };
    return kind === "notEmpty"
      ? new DirectoryNotEmptyError("Folder is not empty", context)
      : new NotFoundError("Folder not found", context);
  }

  /** The container root: every top-level path, 16 deletes in flight (recursive only). */
  async #deleteRoot(recursive: boolean, signal: AbortSignal | undefined): Promise<void> {
    const http = this.#ctx.http;
    const pages = listPathPages(http, {
      recursive: false,
      maxResults: recursive ? this.#ctx.pageSize : 1,
      signal,
    });
    try {
      for await (const paths of pages) {
        if (paths.length === 0) continue;
        if (!recursive) {
          throw new DirectoryNotEmptyError("Folder is not empty", { path: "", backend: BACKEND });
        }
        await runPool(paths, this.#ctx.deleteConcurrency, signal, async (path) => {
          try {
            await deletePath(http, path.name, { recursive: path.isDirectory, signal });
          } catch (error) {
            if (!isGone(error)) throw error;
          }
        });
      }
    } catch (error) {
      throw this.#ctx.mapError(error, { key: "", signal });
    }
  }

  /**
   * Deletes a file, never a directory: a Delete Blob would also remove an
   * empty directory, so the type is checked first and the delete is pinned to
   * the ETag that was checked (three tries when the file changes in between).
   */
  async deleteFile(key: string, signal: AbortSignal | undefined): Promise<void> {
    for (let attempt = 1;; attempt++) {
      const properties = await getBlobProperties(this.#ctx.http, key, { signal });
      if (isFolderMetadata(properties.metadata)) {
        throw new InvalidPathError("Path is a folder, not a file", { path: key, backend: BACKEND });
      }
      try {
        await deleteBlob(this.#ctx.http, key, { signal, ifMatch: properties.etag });
        return;
      } catch (error) {
        if (isStale(error) && attempt < 3 && !signal?.aborted) continue;
        throw error;
      }
    }
  }

  async move(
    src: string,
    dst: string,
    overwrite: boolean,
    signal: AbortSignal | undefined,
    _copy: () => Promise<string | undefined>,
  ): Promise<void> {
    const stat = await this.#stat(src, signal);
    if (stat === undefined) {
      throw new NotFoundError("File not found", { path: src, backend: BACKEND });
    }
    if (stat.folder) {
      throw new InvalidPathError("Path is a folder, not a file", { path: src, backend: BACKEND });
    }
    await this.rename(src, dst, { overwrite, sourceEtag: stat.etag }, signal);
  }

  /**
   * One atomic Path Create with `x-ms-rename-source`, after creating the
   * destination's parent directory when it differs from the source's. Should
   * the parent vanish meanwhile (404 `RenameDestinationParentPathNotFound`),
   * creates it again and renames once more.
   *
   * @throws {AlreadyExistsError} When not overwriting and the destination exists.
   * @throws {PreconditionFailedError} When `ifMatch` or the source ETag does not match.
   * @throws {NotFoundError} When the source is gone.
   */
  async rename(
    src: string,
    dst: string,
    conditions: RenameConditions,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const destination = conditions.ifMatch !== undefined
      ? { ifMatch: conditions.ifMatch }
      : conditions.overwrite
      ? {}
      : { ifNoneMatch: "*" };
    const parent = dst.slice(0, Math.max(0, dst.lastIndexOf("/")));
    // The service does not create the destination's parent. Within one
    // directory it exists (the source is in it); otherwise create it first.
    if (parent !== "" && parent !== src.slice(0, Math.max(0, src.lastIndexOf("/")))) {
      await this.#createDirectory(parent, signal);
    }
    for (let attempt = 0;; attempt++) {
      try {
        await renamePath(this.#ctx.http, src, dst, {
          ...destination,
          sourceIfMatch: conditions.sourceEtag,
          signal,
        });
        return;
      } catch (error) {
        if (attempt === 0 && parent !== "" && renameFailure(error, conditions) === "noParent") {
          await this.#createDirectory(parent, signal);
          continue;
        }
        throw this.#renameError(error, src, dst, conditions, signal);
      }
    }
  }

  /** Creates a directory unless one (or anything else) is there already. */
  async #createDirectory(key: string, signal: AbortSignal | undefined): Promise<void> {
    try {
      await createDirectory(this.#ctx.http, key, { ifNoneMatch: "*", signal });
    } catch (error) {
      if (isAlreadyThere(error)) return;
      if (isConflict(error)) {
        throw new InvalidPathError("A file is in the way of the destination folder", {
          path: key,
          backend: BACKEND,
          cause: (this.#ctx.mapError(error, { key, signal }), error),
        });
      }
      throw this.#ctx.mapError(error, { key, signal });
    }
  }

  #renameError(
    error: unknown,
    src: string,
    dst: string,
    conditions: RenameConditions,
    signal: AbortSignal | undefined,
  ): unknown {
    if (signal?.aborted) return signal.reason;
    const scrubbed = (key: string) => (this.#ctx.mapError(error, { key, signal }), error);
    switch (renameFailure(error, conditions)) {
      case "noParent":
        return new InvalidPathError("Destination folder could not be created", {
          path: dst,
          backend: BACKEND,
          cause: scrubbed(dst),
        });
      case "sourceMissing":
        return new NotFoundError("File not found", {
          path: src,
          backend: BACKEND,
          cause: scrubbed(src),
        });
      case "destinationIsFolder":
        return new InvalidPathError("Destination is a folder", {
          path: dst,
          backend: BACKEND,
          cause: scrubbed(dst),
        });
      case "fileInTheWay":
        return new InvalidPathError("A file is in the way of the destination", {
          path: dst,
          backend: BACKEND,
          cause: scrubbed(dst),
        });
      case "destinationExists":
        return new AlreadyExistsError("File already exists", {
          path: dst,
          backend: BACKEND,
          cause: scrubbed(dst),
        });
      case "sourceChanged":
        return this.#ctx.mapError(error, { key: src, signal });
      default:
        return this.#ctx.mapError(error, { key: dst, signal });
    }
  }

  /**
   * Creates a directory with one Path Create (`If-None-Match: *`); the
   * service creates its missing parents. When something is at the path
   * already (409 `PathAlreadyExists`) it resolves for a directory and rejects
   * for a file; should the path vanish in between, it creates again.
   */
  async createFolder(key: string, signal: AbortSignal | undefined): Promise<void> {
    const operation = "create the folder";
    for (let attempt = 1;; attempt++) {
      try {
        await createDirectory(this.#ctx.http, key, { ifNoneMatch: "*", signal });
        return;
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        const scrubbed = () => (this.#ctx.mapError(error, { key, signal }), error);
        if (isAlreadyThere(error)) {
          const stat = await this.#stat(key, signal);
          if (stat?.folder) return;
          if (stat !== undefined) throw pathConflict("isFile", operation, key, scrubbed());
          if (attempt < 3) continue;
        } else if (isConflict(error)) {
          throw pathConflict("parentIsFile", operation, key, scrubbed());
        }
        throw this.#ctx.mapError(error, { key, signal });
      }
    }
  }
}
