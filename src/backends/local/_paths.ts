/**
 * Containment and path resolution of the local backend: every operation
 * reaches its file through folders opened one at a time below the root,
 * never through a path the kernel resolves again later. Private module.
 *
 * Where `/proc/self/fd` works (Linux), a folder is addressed as
 * `/proc/self/fd/<fd>/`: the kernel looks the next name up in exactly the
 * folder that descriptor holds, so re-pointing a symbolic link or swapping a
 * folder for a link after the check changes nothing. Elsewhere folders are
 * addressed by their path: each component is checked with `lstat` and then
 * used (a swap between the check and the use can win).
 *
 * Symbolic links inside the root are resolved here, one hop at a time, from
 * the link's text: a link is followed only while it leads to a place inside
 * the root, never by the kernel.
 *
 * @module
 */

import * as fs from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { type BigIntStats, constants } from "node:fs";
import * as path from "node:path";
import process from "node:process";
import { normalizePath } from "../../paths.ts";
import { PermissionDeniedError } from "../../errors.ts";
import { BACKEND, hasCode } from "./_errors.ts";
import { localFs } from "./_fs.ts";

/**
 * Name prefix of the temporary files writes stream into; never listed. Where
 * `\` is an ordinary character in file names (everywhere but Windows) the
 * prefix holds one: no key can (the Store turns `\` into `/`), so no user
 * name is reserved and a user's `.~tmp.x` is a file like any other. On
 * Windows, where `\` separates folders, names starting with `.~tmp.` are
 * reserved.
 */
export const TEMP_PREFIX = process.platform === "win32" ? ".~tmp." : ".~tmp\\";
/** Symbolic links followed (or swaps retried) while resolving one path before giving up. */
const MAX_HOPS = 40;
/** Opens a folder without following a link in its last component. */
const DIR_FLAGS = constants.O_RDONLY | (constants.O_DIRECTORY ?? 0) | (constants.O_NOFOLLOW ?? 0);

/** A native-style error with a Node error code, for {@link mapFsError}. */
export function fsError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/** `lstat` (bigint), or `undefined` when nothing is there. */
export async function lstatOrNothing(at: string): Promise<BigIntStats | undefined> {
  try {
    return await fs.lstat(at, { bigint: true });
  } catch (error) {
    if (hasCode(error, "ENOENT")) return undefined;
    throw error;
  }
}

let anchoring: Promise<boolean> | undefined;

/**
 * Whether folders can be addressed through `/proc/self/fd/<fd>` (checked
 * once: the path must reach the very folder the descriptor holds).
 */
function canAnchor(): Promise<boolean> {
  if (localFs.anchored === false) return Promise.resolve(false);
  return anchoring ??= (async () => {
    if (process.platform !== "linux") return false;
    let handle: FileHandle | undefined;
    try {
      handle = await fs.open("/", DIR_FLAGS);
      const [held, seen] = await Promise.all([
        handle.stat({ bigint: true }),
        fs.stat(`/proc/self/fd/${handle.fd}`, { bigint: true }),
      ]);
      return held.dev === seen.dev && held.ino === seen.ino;
    } catch {
      return false;
    } finally {
      await handle?.close().catch(() => {});
    }
  })();
}

/** A folder inside the root, and the prefix that addresses entries in exactly that folder. */
export class Dir {
  /** `/proc/self/fd/<fd>` while the folder is held open, otherwise its path. */
  readonly path: string;
  readonly #handle: FileHandle | undefined;

  constructor(where: string, handle?: FileHandle) {
    this.path = handle === undefined ? where : `/proc/self/fd/${handle.fd}`;
    this.#handle = handle;
  }

  /** Opens a folder (the last component is not followed). */
  static async open(where: string, anchored: boolean): Promise<Dir> {
    if (!anchored) return new Dir(where);
    return new Dir(where, await fs.open(where, DIR_FLAGS));
  }

  /** The path of the entry `name` in this folder (`""`: the folder itself). */
  at(name: string): string {
    return name === "" ? this.path : path.join(this.path, name);
  }

  /** Releases the folder; its `path` must not be used afterwards (the descriptor is reused). */
  async close(): Promise<void> {
    await this.#handle?.close().catch(() => {});
  }
}

/** The root folder, held for one operation. */
export class Root {
  /** The root folder. */
  readonly dir: Dir;
  /** The root's real path. */
  readonly real: string;
  /** The root as configured and as a real path: absolute link targets must lie below one of them. */
  readonly #bases: string[];
  /** Whether folders are held open (race-free) or addressed by path. */
  readonly anchored: boolean;

  private constructor(dir: Dir, bases: string[], anchored: boolean) {
    this.dir = dir;
    this.real = bases[1]!;
    this.#bases = bases;
    this.anchored = anchored;
  }

  /**
   * Opens the root folder. The configured root may itself be (or lie below)
   * a symbolic link: it is trusted configuration.
   *
   * @throws A native `ENOENT` when the root does not exist and `create` is false.
   */
  static async open(root: string, create: boolean): Promise<Root> {
    if (create) await fs.mkdir(root, { recursive: true });
    const anchored = await canAnchor();
    const real = await fs.realpath(root);
    const dir = await Dir.open(real, anchored);
    return new Root(dir, [root, real], anchored);
  }

  /**
   * The entry a symbolic link's text leads to, as names from the root, or
   * `undefined` when it leads outside the root.
   *
   * @param trail The real folders from the root to the folder that holds the link.
   * @param text The link's text.
   */
  linkTarget(trail: readonly string[], text: string): string[] | undefined {
    let names: string[] = [...trail];
    let rest = text;
    if (path.isAbsolute(text)) {
      const below = this.#bases.map((base) => path.relative(base, text)).find((relative) =>
        relative !== ".." && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative)
      );
      if (below === undefined) return undefined;
      names = [];
      rest = below;
    }
    for (const part of rest.split(path.sep === "\\" ? /[\\/]/ : "/")) {
      if (part === "" || part === ".") continue;
      if (part === "..") {
        if (names.length === 0) return undefined;
        names.pop();
      } else names.push(part);
    }
    return names;
  }

  /** Closes a folder that {@link resolve} handed out (the root itself stays open). */
  async release(dir: Dir): Promise<void> {
    if (dir !== this.dir) await dir.close();
  }

  /** Closes the root. */
  async close(): Promise<void> {
    await this.dir.close();
  }
}

/** Where a key led: the folder that holds the entry, its name there, and what it is. */
export interface Resolved {
  /** The folder holding the entry; give it back with {@link Root.release}. */
  dir: Dir;
  /** The entry's name in `dir`; `""` when the key led to the root itself. */
  name: string;
  /** The entry itself (`lstat`: a link is not followed); `undefined` when missing. */
  stats: BigIntStats | undefined;
  /** The real folders from the root to `dir`. */
  trail: string[];
}

/** How to resolve a key. */
export interface ResolveOptions {
  /** Follow a symbolic link in the last component too (reads); otherwise it is the entry. */
  follow: boolean;
  /** Create missing parent folders (writes). */
  create?: boolean;
  /** The key and the operation, for errors. */
  key: string;
  operation: string;
}

/**
 * Walks `names` from the root, one folder at a time, following symbolic
 * links only while they lead inside the root.
 *
 * @throws {PermissionDeniedError} When a link leads outside the root.
 * @throws A native `ENOENT` when a parent is missing, `ENOTDIR` when a parent is a
 *   file, `ELOOP` after too many links.
 */
export async function resolve(
  root: Root,
  names: readonly string[],
  options: ResolveOptions,
): Promise<Resolved> {
  let dir = root.dir;
  let trail: string[] = [];
  let pending = [...names];
  let hops = 0;
  const hop = () => {
    if (++hops > MAX_HOPS) throw fsError("ELOOP", "Too many levels of symbolic links");
  };
  try {
    while (pending.length > 0) {
      const name = pending.shift()!;
      const last = pending.length === 0;
      const at = dir.at(name);
      const stats = await lstatOrNothing(at);
      if (stats?.isSymbolicLink() && (!last || options.follow)) {
        hop();
        let text: string;
        try {
          text = await fs.readlink(at);
        } catch (error) {
          // No longer a link (EINVAL) or gone: look again.
          if (!hasCode(error, "EINVAL", "ENOENT")) throw error;
          pending.unshift(name);
          continue;
        }
        const target = root.linkTarget(trail, text);
        if (target === undefined) {
          throw new PermissionDeniedError(
            `Cannot ${options.operation} because the path leads outside the backend root through a symbolic link`,
            { path: options.key, backend: BACKEND },
          );
        }
        await root.release(dir);
        dir = root.dir;
        trail = [];
        pending = [...target, ...pending];
        continue;
      }
      if (last) return { dir, name, stats, trail };
      if (stats === undefined) {
        if (!options.create) throw fsError("ENOENT", "A parent folder does not exist");
        await fs.mkdir(at).catch((error) => {
          if (!hasCode(error, "EEXIST")) throw error;
        });
      } else if (!stats.isDirectory()) {
        throw fsError("ENOTDIR", "A parent of the path is a file, not a folder");
      }
      let child: Dir;
      try {
        child = await Dir.open(at, root.anchored);
      } catch (error) {
        // Changed since the lstat (swapped for a link, removed, replaced): look again.
        if (!hasCode(error, "ELOOP", "ENOTDIR", "ENOENT", "EMLINK")) throw error;
        hop();
        pending.unshift(name);
        continue;
      }
      await root.release(dir);
      dir = child;
      trail.push(name);
    }
    // The key is the root, or a link led to it.
    await root.release(dir);
    return {
      dir: root.dir,
      name: "",
      stats: await fs.stat(root.dir.path, { bigint: true }),
      trail: [],
    };
  } catch (error) {
    await root.release(dir);
    throw error;
  }
}

/**
 * Whether a name read from a folder can be addressed by a key: listing a
 * name that does not come back to the same entry would make reads and
 * deletes act on another file. Temp files, names with `\` (a separator in
 * keys), control characters, noncharacters and lone surrogates are skipped.
 *
 * @param name A directory entry's name.
 * @returns `true` when a key segment with this name addresses this entry.
 */
export function isAddressable(name: string): boolean {
  if (name.startsWith(TEMP_PREFIX) || name.includes("\\")) return false;
  try {
    return normalizePath(name) === name;
  } catch {
    return false;
  }
}
