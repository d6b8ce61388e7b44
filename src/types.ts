/**
 * Plain data types returned by Store methods.
 *
 * @module
 */

import type { Checksum } from "./_checksum.ts";

/** Metadata of one file. `path` is relative to the store that returned it. */
export interface FileInfo {
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
