/**
 * Streaming copies between any two stores.
 *
 * @module
 */

import type { SignalOptions } from "./backend.ts";
import { normalizePath } from "./paths.ts";
import type { Store } from "./store.ts";
import type { ProgressCallback, WriteResult } from "./types.ts";

/** Options for {@link transfer}. */
export interface TransferFileOptions extends SignalOptions {
  /** Replace an existing destination (default `false`). */
  overwrite?: boolean;
  /** Called as bytes arrive at the destination, with the source size as total. */
  onProgress?: ProgressCallback;
}

/**
 * Streams one file from a store to another (local → Azure, Azure → memory,
 * ...). Memory stays bounded: the destination pulls from the source as it
 * writes. Content type and, where both backends keep it, user metadata go
 * along, from the same version as the bytes (the read is pinned to the ETag
 * where the source has one). Copying a file onto itself (the same backend and
 * key, see {@link Store.sameFile}) is a no-op. An error from the source is
 * reported as the source's error.
 *
 * @param from The source store.
 * @param fromPath File path in the source store.
 * @param to The destination store.
 * @param toPath File path in the destination store.
 * @param options `overwrite`, `onProgress`, `signal`.
 * @returns What the destination stored.
 * @throws {NotFoundError} When the source file does not exist.
 * @throws {AlreadyExistsError} When the destination exists and `overwrite` is false.
 * @throws {PreconditionFailedError} When the source changed between its metadata and its read.
 *
 * @example Copy between two stores
 * ```ts
 * import { MemoryBackend, Store, transfer } from "@remote-store/remote-store";
 * const a = new Store(new MemoryBackend());
 * const b = new Store(new MemoryBackend());
 * await a.write("report.csv", "a,b\n1,2\n");
 * await transfer(a, "report.csv", b, "copies/report.csv", {
 *   onProgress: (loaded, total) => console.log(`${loaded}/${total}`),
 * });
 * ```
 */
export async function transfer(
  from: Store,
  fromPath: string,
  to: Store,
  toPath: string,
  options: TransferFileOptions = {},
): Promise<WriteResult> {
  const { signal, onProgress } = options;
  const info = await from.getFileInfo(fromPath, { signal });
  if (from.sameFile(fromPath, to, toPath)) {
    // Copying a file onto itself is a no-op, as within one store.
    const result: WriteResult = { path: normalizePath(toPath), size: info.size };
    if (info.etag !== undefined) result.etag = info.etag;
    return result;
  }
  // Pinned to the version whose content type and metadata go along.
  const stream = await from.read(fromPath, { signal, ifMatch: info.etag });
  return await to.write(toPath, stream, {
    overwrite: options.overwrite,
    signal,
    contentType: info.contentType,
    metadata: info.metadata && Object.keys(info.metadata).length > 0 &&
        to.supports("metadata")
      ? info.metadata
      : undefined,
    onProgress: onProgress && ((loaded) => onProgress(loaded, info.size)),
  });
}
