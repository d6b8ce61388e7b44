/**
 * Listing local folders: one folder at a time, reached from the root through
 * opened folders, names sorted so that keys come out in lexicographic order.
 * Private module.
 *
 * @module
 */

import * as fs from "node:fs/promises";
import type { BigIntStats } from "node:fs";
import type { BackendEntry } from "../../backend.ts";
import { hasCode } from "./_errors.ts";
import { Dir, isAddressable, lstatOrNothing, resolve, type Root } from "./_paths.ts";
import { fileInfo } from "./_version.ts";

/** A directory entry collected for sorting before it is yielded. */
interface ListedEntry {
  name: string;
  /** Sort key: folders sort as `name/`, so output follows the order of full keys. */
  sortKey: string;
  /** The entry (a link followed). */
  stats: BigIntStats;
  /** For a folder: its real location, as names from the root. */
  folder?: string[];
}

/** What a listing needs from the backend. */
export interface ListContext {
  /** Opens the root for one folder read (`undefined`: the root does not exist). */
  openRoot(): Promise<Root | undefined>;
  /** Throws once the backend is closed or the listing aborted. */
  alive(): void;
}

/**
 * The addressable entries of one folder, given by its real location from the
 * root: files and folders, symbolic links followed while they stay inside the
 * root; temp files, special files, unaddressable names and links leading
 * outside are skipped. A folder that vanished reads as empty.
 */
async function readFolder(
  root: Root,
  location: string[],
  key: string,
  operation: string,
): Promise<{ entries: ListedEntry[]; id?: string }> {
  const here = await resolve(root, location, { follow: false, key, operation });
  let dir: Dir | undefined;
  try {
    if (here.name === "") dir = root.dir;
    else if (here.stats?.isDirectory()) dir = await Dir.open(here.dir.at(here.name), root.anchored);
    else return { entries: [] };
    const entries: ListedEntry[] = [];
    for (const dirent of await fs.readdir(dir.path, { withFileTypes: true })) {
      const name = dirent.name;
      if (!isAddressable(name)) continue;
      let stats = await lstatOrNothing(dir.at(name));
      let folder = [...location, name];
      if (stats?.isSymbolicLink()) {
        try {
          const target = await resolve(root, folder, { follow: true, key, operation });
          await root.release(target.dir);
          stats = target.stats;
          folder = target.name === "" ? [] : [...target.trail, target.name];
        } catch {
          continue; // Leads outside, dangling below a missing folder, or a loop: skip.
        }
      }
      if (stats?.isDirectory()) entries.push({ name, sortKey: `${name}/`, stats, folder });
      else if (stats?.isFile()) entries.push({ name, sortKey: name, stats });
    }
    entries.sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0));
    return { entries, id: here.stats && `${here.stats.dev}:${here.stats.ino}` };
  } catch (error) {
    if (hasCode(error, "ENOENT", "ENOTDIR", "ELOOP")) return { entries: [] }; // Changed meanwhile.
    throw error;
  } finally {
    if (dir !== undefined && dir !== root.dir) await dir.close();
    await root.release(here.dir);
  }
}

/**
 * Lists the folder at `location` (real names from the root). Non-recursive:
 * files and folders; recursive: files at every depth, depth-first, links to
 * folders not followed into a cycle.
 *
 * @param context Root opener and liveness check.
 * @param location The folder's real location from the root.
 * @param key The folder's key (the prefix of every yielded key).
 * @param recursive Descend into folders.
 * @param ancestors `dev:ino` of the folders above (cycle detection).
 */
export async function* listFolder(
  context: ListContext,
  location: string[],
  key: string,
  recursive: boolean,
  ancestors: string[] = [],
): AsyncGenerator<BackendEntry> {
  const operation = "list the folder";
  const root = await context.openRoot();
  if (root === undefined) return;
  let folder: Awaited<ReturnType<typeof readFolder>>;
  try {
    folder = await readFolder(root, location, key, operation);
  } finally {
    await root.close();
  }
  const { entries, id } = folder;
  const trail = id === undefined || !recursive ? ancestors : [...ancestors, id];
  for (const entry of entries) {
    context.alive();
    const childKey = key === "" ? entry.name : `${key}/${entry.name}`;
    if (entry.folder === undefined) {
      yield { kind: "file", info: fileInfo(childKey, entry.stats) };
    } else if (!recursive) {
      yield { kind: "folder", key: childKey };
    } else if (!trail.includes(`${entry.stats.dev}:${entry.stats.ino}`)) {
      yield* listFolder(context, entry.folder, childKey, true, trail);
    }
  }
}
