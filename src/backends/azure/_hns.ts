/**
 * Folder operations on an ADLS Gen2 hierarchical namespace (HNS) through the
 * DFS API: directories are real, a rename is one atomic server call, and a
 * recursive folder delete is one request. Private module.
 *
 * Reads and properties go through the Blob API (the DataLake SDK does that
 * too); on an HNS account a directory shows there as a zero-length blob with
 * the metadata `hdi_isfolder=true`.
 *
 * @module
 */

import type { DataLakeFileSystemClient, Path } from "@azure/storage-file-datalake";
import type { BackendEntry, BackendFileInfo } from "../../backend.ts";
import {
  AlreadyExistsError,
  DirectoryNotEmptyError,
  InvalidPathError,
  NotFoundError,
} from "../../errors.ts";
import { BACKEND, errorCodeOf, statusOf } from "./_errors.ts";
import { quoteEtag } from "./_etag.ts";
import { isCleanKey } from "./_flat.ts";
import type { AzureContext, Namespace } from "./_namespace.ts";
import { sortByKey } from "./_namespace.ts";
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

/**
 * A path as `move()` must receive it: the DataLake SDK puts the destination
 * into the URL without escaping, so every segment is percent-encoded here
 * (`%`, `?`, `#`, spaces, unicode) and the service decodes it back.
 */
export function encodeDestination(key: string): string {
  return key.split("/").map(encodeURIComponent).join("/");
}

function pathInfo(path: Path & { name: string }): BackendFileInfo {
  const info: BackendFileInfo = {
    key: path.name,
    size: Number(path.contentLength ?? 0),
    modifiedAt: path.lastModified ?? new Date(0),
  };
  const etag = quoteEtag(path.etag);
  if (etag !== undefined) info.etag = etag;
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
  readonly #ctx: AzureContext;
  readonly #fileSystem: () => DataLakeFileSystemClient;

  /**
   * @param context What the backend shares with namespace implementations.
   * @param fileSystem The DFS file system client (created on first use).
   */
  constructor(context: AzureContext, fileSystem: () => DataLakeFileSystemClient) {
    this.#ctx = context;
    this.#fileSystem = fileSystem;
  }

  get #fs(): DataLakeFileSystemClient {
    return this.#fileSystem();
  }

  /** Blob properties of a path, or `undefined` when nothing is there. */
  async #stat(
    key: string,
    signal: AbortSignal | undefined,
  ): Promise<{ folder: boolean; etag?: string } | undefined> {
    try {
      const p = await this.#ctx.container.getBlobClient(key).getProperties({ abortSignal: signal });
      return { folder: isFolderMetadata(p.metadata), etag: p.etag };
    } catch (error) {
      if (statusOf(error) === 404 && errorCodeOf(error) !== "ContainerNotFound") return undefined;
      throw this.#ctx.mapError(error, { key, signal });
    }
  }

  async isFolder(key: string, signal: AbortSignal | undefined): Promise<boolean> {
    if (key === "") return true;
    return (await this.#stat(key, signal))?.folder ?? false;
  }

  async *list(
    key: string,
    recursive: boolean,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<BackendEntry> {
    const pages = this.#fs
      .listPaths({ path: key === "" ? undefined : key, recursive, abortSignal: signal })
      .byPage({ maxPageSize: this.#ctx.pageSize });
    while (true) {
      let result: IteratorResult<{ pathItems?: Path[] }>;
      try {
        result = await pages.next();
      } catch (error) {
        // A missing directory (or a file path) lists nothing.
        if (statusOf(error) === 404 && errorCodeOf(error) !== "FilesystemNotFound") return;
        throw this.#ctx.mapError(error, { key, signal });
      }
      if (result.done) return;
      const entries: BackendEntry[] = [];
      for (const path of result.value.pathItems ?? []) {
        const name = path.name;
        if (name === undefined || !isCleanKey(name)) continue;
        if (path.isDirectory) {
          if (!recursive) entries.push({ kind: "folder", key: name });
        } else if (!isTempKey(name)) {
          entries.push({ kind: "file", info: pathInfo({ ...path, name }) });
        }
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
    if (key === "") return await this.#deleteRoot(recursive, signal);
    const stat = await this.#stat(key, signal);
    if (stat === undefined) {
      throw new NotFoundError("Folder not found", { path: key, backend: BACKEND });
    }
    if (!stat.folder) {
      throw new InvalidPathError("Path is a file, not a folder", { path: key, backend: BACKEND });
    }
    try {
      await this.#fs.getDirectoryClient(key).delete(recursive, { abortSignal: signal });
    } catch (error) {
      throw this.#folderError(error, key, signal);
    }
  }

  #folderError(error: unknown, key: string, signal: AbortSignal | undefined): unknown {
    if (signal?.aborted) return signal.reason;
    const code = errorCodeOf(error);
    if (
      statusOf(error) === 409 && (code === "DirectoryNotEmpty" || code === "DirectoryIsNotEmpty")
    ) {
      this.#ctx.mapError(error, { key, signal }); // removes secrets from the native error's text
      return new DirectoryNotEmptyError("Folder is not empty", {
        path: key,
        backend: BACKEND,
        cause: error,
      });
    }
    if (statusOf(error) === 404 && code !== "FilesystemNotFound" && code !== "ContainerNotFound") {
      this.#ctx.mapError(error, { key, signal });
      return new NotFoundError("Folder not found", { path: key, backend: BACKEND, cause: error });
    }
    return this.#ctx.mapError(error, { key, signal });
  }

  /** The container root: every top-level path, 16 deletes in flight (recursive only). */
  async #deleteRoot(recursive: boolean, signal: AbortSignal | undefined): Promise<void> {
    const pages = this.#fs.listPaths({ recursive: false, abortSignal: signal })
      .byPage({ maxPageSize: recursive ? this.#ctx.pageSize : 1 });
    try {
      for await (const page of pages) {
        const paths = (page.pathItems ?? []).filter((p) => p.name !== undefined);
        if (paths.length === 0) continue;
        if (!recursive) {
          throw new DirectoryNotEmptyError("Folder is not empty", { path: "", backend: BACKEND });
        }
        await runPool(paths, this.#ctx.deleteConcurrency, signal, async (path) => {
          try {
            if (path.isDirectory) {
              await this.#fs.getDirectoryClient(path.name!).delete(true, { abortSignal: signal });
            } else {
              await this.#fs.getFileClient(path.name!).delete(false, { abortSignal: signal });
            }
          } catch (error) {
            if (statusOf(error) !== 404) throw error;
          }
        });
      }
    } catch (error) {
      throw this.#ctx.mapError(error, { key: "", signal });
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
    const destinationConditions = conditions.ifMatch !== undefined
      ? { ifMatch: conditions.ifMatch }
      : conditions.overwrite
      ? {}
      : { ifNoneMatch: "*" };
    const file = this.#fs.getFileClient(src);
    const destination = encodeDestination(dst);
    const parent = dst.slice(0, Math.max(0, dst.lastIndexOf("/")));
    // The service does not create the destination's parent. Within one
    // directory it exists (the source is in it); otherwise create it first.
    if (parent !== "" && parent !== src.slice(0, Math.max(0, src.lastIndexOf("/")))) {
      await this.#createDirectory(parent, signal);
    }
    for (let attempt = 0;; attempt++) {
      try {
        await file.move(destination, {
          abortSignal: signal,
          conditions: conditions.sourceEtag === undefined
            ? undefined
            : { ifMatch: conditions.sourceEtag },
          destinationConditions,
        });
        return;
      } catch (error) {
        const code = errorCodeOf(error);
        const slash = dst.lastIndexOf("/");
        if (
          attempt === 0 && statusOf(error) === 404 &&
          code === "RenameDestinationParentPathNotFound" && slash > 0
        ) {
          await this.#createDirectory(dst.slice(0, slash), signal);
          continue;
        }
        throw this.#renameError(error, src, dst, conditions, signal);
      }
    }
  }

  async #createDirectory(key: string, signal: AbortSignal | undefined): Promise<void> {
    try {
      await this.#fs.getDirectoryClient(key).createIfNotExists({ abortSignal: signal });
    } catch (error) {
      if (statusOf(error) === 409) {
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
    const status = statusOf(error);
    const code = errorCodeOf(error);
    const scrubbed = (key: string) => (this.#ctx.mapError(error, { key, signal }), error);
    if (status === 404 && code !== "FilesystemNotFound" && code !== "ContainerNotFound") {
      if (code === "RenameDestinationParentPathNotFound") {
        return new InvalidPathError("Destination folder could not be created", {
          path: dst,
          backend: BACKEND,
          cause: scrubbed(dst),
        });
      }
      return new NotFoundError("File not found", {
        path: src,
        backend: BACKEND,
        cause: scrubbed(src),
      });
    }
    if (status === 409 && code === "InvalidSourceOrDestinationResourceType") {
      return new InvalidPathError("Destination is a folder", {
        path: dst,
        backend: BACKEND,
        cause: scrubbed(dst),
      });
    }
    if (status === 409 && code === "PathConflict") {
      return new InvalidPathError("A file is in the way of the destination", {
        path: dst,
        backend: BACKEND,
        cause: scrubbed(dst),
      });
    }
    if (
      (status === 409 && code === "PathAlreadyExists") ||
      (status === 412 && conditions.ifMatch === undefined && !conditions.overwrite &&
        code !== "SourceConditionNotMet")
    ) {
      return new AlreadyExistsError("File already exists", {
        path: dst,
        backend: BACKEND,
        cause: scrubbed(dst),
      });
    }
    if (status === 412 && code === "SourceConditionNotMet") {
      return this.#ctx.mapError(error, { key: src, signal });
    }
    return this.#ctx.mapError(error, { key: dst, signal });
  }
}
