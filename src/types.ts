/**
 * Plain data types returned by Store methods.
 *
 * @module
 */

import type { Checksum } from "./_checksum.ts";

/**
 * HTTP attributes stored with a file and sent when it is served (the
 * `Cache-Control`, `Content-Encoding`, `Content-Disposition` and
 * `Content-Language` headers). Each value must be a valid header value
 * (visible ASCII with inner spaces). They describe the stored bytes; the
 * library never encodes or decodes content: a file written with
 * `contentEncoding: "gzip"` must already hold gzip bytes, and reads return
 * those bytes as stored.
 */
export interface HttpAttributes {
  /** `Cache-Control`, for example `"public, max-age=31536000, immutable"`. */
  cacheControl?: string;
  /** `Content-Encoding` of the stored bytes, for example `"gzip"` for a pre-compressed asset. */
  contentEncoding?: string;
  /** `Content-Disposition`, for example `'attachment; filename="report.csv"'`. */
  contentDisposition?: string;
  /** `Content-Language`, for example `"en-GB"`. */
  contentLanguage?: string;
}

/** A digest the service stored or returned for a file's whole content (Azure: `Content-MD5`). */
export type ContentDigest = Checksum;

/**
 * Metadata of one file. `path` is relative to the store that returned it.
 * The {@link HttpAttributes} are present where the backend stores them
 * (capability `http_attributes`) and the file has them.
 */
export interface FileInfo extends HttpAttributes {
  /** Store-relative path, usable as input to other Store methods. */
  path: string;
  /** The last path segment. */
  name: string;
  /** Size in bytes. */
  size: number;
  /** Last modification time. */
  modifiedAt: Date;
  /** Entity tag (opaque version), where the backend has one. */
  etag?: string;
  /** MIME type, where the backend stores one. */
  contentType?: string;
  /** User metadata, where the backend stores it. */
  metadata?: Record<string, string>;
  /** The version's id, where the service keeps versions (Azure with blob versioning on). */
  versionId?: string;
  /**
   * The MD5 of the whole content, where the service stores one (Azure: the
   * blob's `Content-MD5`, set by a single-request upload and by a staged
   * upload written with `checksum`).
   */
  digest?: ContentDigest;
}

/** Aggregate information about a folder (all files below it, recursively). */
export interface FolderInfo {
  /** Store-relative path (`""` for the store root). */
  path: string;
  /** Number of files below the folder, at any depth. */
  fileCount: number;
  /** Sum of their sizes in bytes. */
  totalSize: number;
  /** The newest modification time among them, when there is any file. */
  modifiedAt?: Date;
}

/** A folder found by `listFolders`. */
export interface FolderEntry {
  /** Store-relative path. */
  path: string;
  /** The last path segment. */
  name: string;
}

/**
 * One entry of `iterChildren`: a file (its {@link FileInfo}) or a folder
 * (its {@link FolderEntry}), told apart by `kind`.
 */
export type ChildEntry =
  | ({ kind: "file" } & FileInfo)
  | ({ kind: "folder" } & FolderEntry);

/** What a completed write stored. */
export interface WriteResult {
  /** Store-relative path. */
  path: string;
  /** Bytes written. */
  size: number;
  /** The new entity tag, where the backend has one. */
  etag?: string;
  /** The digest of the bytes written, when `checksum` was asked for. */
  checksum?: Checksum;
  /** The new version's modification time, where the backend reports it with the write. */
  modifiedAt?: Date;
  /** The new version's id, where the service keeps versions (Azure with blob versioning on). */
  versionId?: string;
  /** The content's MD5 as the service computed or stored it (Azure: `Content-MD5`), when returned. */
  digest?: ContentDigest;
}

/** A byte range for `read`: `length` omitted means "to the end". */
export interface ByteRange {
  /** First byte, from 0. */
  offset: number;
  /** Number of bytes; omitted for the rest of the file. */
  length?: number;
}

/**
 * Called as bytes move: `loaded` so far, and `total` when known in advance.
 * The last call of a completed transfer has `loaded === total` (when known).
 */
export type ProgressCallback = (loaded: number, total?: number) => void;

/**
 * Content accepted by `write`: text (UTF-8), bytes, a Blob, a web stream, or
 * any sync or async iterable of byte chunks.
 */
export type WriteContent =
  | string
  | Uint8Array
  | ArrayBuffer
  | Blob
  | ReadableStream<Uint8Array>
  | Iterable<Uint8Array>
  | AsyncIterable<Uint8Array>;
