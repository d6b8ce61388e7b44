/**
 * Versions of local files: the entity tag, the file info, and the
 * modification time each new version is given so that a version's ETag never
 * equals an earlier one's. Private module.
 *
 * @module
 */

import type { BigIntStats } from "node:fs";
import type { BackendFileInfo } from "../../backend.ts";
import { guessContentType } from "../../_content_type.ts";

/**
 * The entity tag of a file: inode, size and modification time in whole
 * milliseconds (the resolution every runtime reports), quoted.
 *
 * @param stats The file's stats.
 * @returns `"<inode>-<size>-<mtime ms>"`.
 */
export function etagOf(stats: BigIntStats): string {
  return `"${stats.ino}-${stats.size}-${stats.mtimeMs}"`;
}

/**
 * The file info of `key` from its stats.
 *
 * @param key Backend key.
 * @param stats The file's stats.
 * @returns Size, modification time, ETag and a content type guessed from the extension.
 */
export function fileInfo(key: string, stats: BigIntStats): BackendFileInfo {
  return {
    key,
    size: Number(stats.size),
    modifiedAt: new Date(Number(stats.mtimeMs)),
    etag: etagOf(stats),
    contentType: guessContentType(key),
  };
}

/** The last modification time (ms) this process gave a version, per native path; entries in the past are dropped. */
const stamped = new Map<string, number>();

/**
 * The modification time (whole milliseconds) for a new version of the file
 * at `where` that is about to replace `previous`: now, but later than
 * `previous` and than any version this process wrote at `where` (a file
 * deleted and written again may get its old inode back). Records it.
 *
 * @param where The file's native path (the key of the record).
 * @param previous The version it replaces, if any.
 * @returns Milliseconds since the epoch.
 */
export function nextStamp(where: string, previous: BigIntStats | undefined): number {
  const now = Date.now();
  if (stamped.size > 1000) {
    for (const [id, stamp] of stamped) if (stamp < now) stamped.delete(id);
  }
  const stamp = Math.max(
    now,
    previous === undefined ? 0 : Number(previous.mtimeMs) + 1,
    (stamped.get(where) ?? 0) + 1,
  );
  stamped.set(where, stamp);
  return stamp;
}
