/**
 * Listing local folders: depth-first, each folder opened inside the one
 * above it (never by a path the kernel resolves again), names sorted so
 * that keys come out in code point order (`src/_order.ts`). Private module.
 *
 * @module
 */

import * as fs from "node:fs/promises";
import type { BigIntStats, Dirent } from "node:fs";
import type { BackendEntry } from "../../backend.ts";
import { hasCode } from "./_errors.ts";
import { Dir, isAddressable, lstatOrNothing, resolve, type Root } from "./_paths.ts";
import { fileInfo } from "./_version.ts";
import { compareKeys, fileNeeded, folderPassed } from "../../_order.ts";

/** Folders of the current descent held open at most; the ones above are opened again when needed. */
const MAX_HELD = 64;
const operation = "list the folder";

/** A directory entry collected for sorting before it is yielded. */
interface ListedEntry {
  name: string;
  /** Sort key: folders sort as `name/`, so output follows the order of full keys. */
  sortKey: string;
  /**
   * The entry (a link followed); `undefined` until needed for a plain file
   * or folder, whose kind the directory entry told (read when yielded, so a
   * page of a large folder does not `lstat` the whole folder).
   */
  stats?: BigIntStats;
  /** For a folder: its real location, as names from the root. */
  folder?: string[];
  /** Whether the folder was reached through a symbolic link (opened from the root). */
  linked?: boolean;
}

/** One folder of the descent. */
interface Frame {
  /** The folder, while held open. */
  dir: Dir | undefined;
  location: string[];
  key: string;
  /** `dev:ino`, for cycle detection. */
  id: string;
  entries: ListedEntry[];
  next: number;
}

/** What a listing needs from the backend. */
export interface ListContext {
  /** Opens the root for the listing (`undefined`: the root does not exist). */
  openRoot(): Promise<Root | undefined>;
  /** Throws once the backend is closed or the listing aborted. */
  alive(): void;
}

/** Opens the folder at `location` (real names from the root), or `undefined` when it is not one. */
async function openFolder(root: Root, location: string[], key: string): Promise<Dir | undefined> {
  const at = await resolve(root, location, { follow: false, key, operation });
  try {
    if (at.name === "") return root.dir;
    if (!at.stats?.isDirectory()) return undefined;
    return await Dir.open(at.dir.at(at.name), root.anchored);
  } catch (error) {
    if (hasCode(error, "ENOENT", "ENOTDIR", "ELOOP", "EMLINK")) return undefined;
    throw error;
  } finally {
    await root.release(at.dir);
  }
}

/**
 * Reads the open folder `dir`: files and folders, symbolic links followed
 * while they stay inside the root; temp files, special files, unaddressable
 * names and links leading outside are skipped, and so are names that a
 * listing after `startAfter` needs neither as a file nor as a folder (before
 * any `lstat`).
 */
async function readFrame(
  root: Root,
  dir: Dir,
  location: string[],
  key: string,
  startAfter: string | undefined,
): Promise<Frame> {
  const own = await fs.stat(dir.path, { bigint: true });
  const entries: ListedEntry[] = [];
  let dirents: Dirent[] = [];
  try {
    dirents = await fs.readdir(dir.path, { withFileTypes: true });
  } catch (error) {
    if (!hasCode(error, "ENOENT", "ENOTDIR")) throw error; // Vanished meanwhile: empty.
  }
  for (const dirent of dirents) {
    const name = dirent.name;
    if (!isAddressable(name)) continue;
    const childKey = key === "" ? name : `${key}/${name}`;
    if (!fileNeeded(childKey, startAfter) && folderPassed(childKey, startAfter)) continue;
    if (dirent.isDirectory()) {
      entries.push({ name, sortKey: `${name}/`, folder: [...location, name] });
      continue;
    }
    if (dirent.isFile()) {
      entries.push({ name, sortKey: name });
      continue;
    }
    let stats = await lstatOrNothing(dir.at(name));
    let folder = [...location, name];
    let linked = false;
    if (stats?.isSymbolicLink()) {
      try {
        const target = await resolve(root, folder, { follow: true, key, operation });
        await root.release(target.dir);
        stats = target.stats;
        folder = target.name === "" ? [] : [...target.trail, target.name];
        linked = true;
      } catch {
        continue; // Leads outside, dangling below a missing folder, or a loop: skip.
      }
    }
    if (stats?.isDirectory()) entries.push({ name, sortKey: `${name}/`, stats, folder, linked });
    else if (stats?.isFile()) entries.push({ name, sortKey: name, stats });
  }
  entries.sort((a, b) => compareKeys(a.sortKey, b.sortKey));
  return { dir, location, key, id: `${own.dev}:${own.ino}`, entries, next: 0 };
}

/**
 * Lists the folder at `location` (real names from the root). Non-recursive:
 * files and folders; recursive: files at every depth, depth-first, links to
 * folders not followed into a cycle. Files at or before `startAfter` are
 * skipped, and so are folders holding nothing after it (not opened).
 *
 * @param context Root opener and liveness check.
 * @param location The folder's real location from the root.
 * @param key The folder's key (the prefix of every yielded key).
 * @param recursive Descend into folders.
 * @param startAfter Skip keys that sort at or before this one.
 */
export async function* listFolder(
  context: ListContext,
  location: string[],
  key: string,
  recursive: boolean,
  startAfter?: string,
): AsyncGenerator<BackendEntry> {
  const root = await context.openRoot();
  if (root === undefined) return;
  const frames: Frame[] = [];
  let held = 0;
  const push = async (dir: Dir, where: string[], frameKey: string) => {
    try {
      frames.push(await readFrame(root, dir, where, frameKey, startAfter));
    } catch (error) {
      await root.release(dir);
      throw error;
    }
    if (++held <= MAX_HELD) return;
    const oldest = frames.find((f) => f.dir !== undefined)!;
    await root.release(oldest.dir!);
    oldest.dir = undefined;
    held--;
  };
  try {
    const top = await openFolder(root, location, key);
    if (top === undefined) return;
    await push(top, location, key);
    while (frames.length > 0) {
      const frame = frames[frames.length - 1]!;
      if (frame.next >= frame.entries.length) {
        if (frame.dir !== undefined) {
          await root.release(frame.dir);
          held--;
        }
        frames.pop();
        continue;
      }
      const entry = frame.entries[frame.next++]!;
      context.alive();
      const childKey = frame.key === "" ? entry.name : `${frame.key}/${entry.name}`;
      const needed = entry.folder === undefined
        ? fileNeeded(childKey, startAfter)
        : !folderPassed(childKey, startAfter);
      if (!needed || (entry.folder !== undefined && !recursive)) {
        if (needed) yield { kind: "folder", key: childKey };
        continue;
      }
      /** The frame's folder, opened again if it was released. */
      const frameDir = async () => {
        if (frame.dir === undefined) {
          frame.dir = await openFolder(root, frame.location, frame.key);
          if (frame.dir !== undefined) held++;
        }
        return frame.dir;
      };
      let stats = entry.stats;
      if (stats === undefined) {
        const dir = await frameDir();
        stats = dir === undefined ? undefined : await lstatOrNothing(dir.at(entry.name));
        // Gone, or replaced by another kind since the folder was read: skip.
        if (!(entry.folder === undefined ? stats?.isFile() : stats?.isDirectory())) continue;
      }
      if (entry.folder === undefined) {
        yield { kind: "file", info: fileInfo(childKey, stats!) };
        continue;
      }
      if (frames.some((f) => f.id === `${stats!.dev}:${stats!.ino}`)) continue; // A cycle.
      let child: Dir | undefined;
      if (entry.linked) {
        child = await openFolder(root, entry.folder, childKey);
      } else {
        const dir = await frameDir();
        if (dir === undefined) continue;
        child = await Dir.open(dir.at(entry.name), root.anchored).catch((error) => {
          if (hasCode(error, "ENOENT", "ENOTDIR", "ELOOP", "EMLINK")) return undefined;
          throw error;
        });
      }
      if (child !== undefined) await push(child, entry.folder, childKey);
    }
  } finally {
    for (const frame of frames) if (frame.dir !== undefined) await root.release(frame.dir);
    await root.close();
  }
}
