/**
 * The path model: how user paths become clean, root-relative keys.
 *
 * @module
 */

import { InvalidPathError } from "./errors.ts";

/** C0 control characters, DEL, and the noncharacters U+FFFE and U+FFFF. */
// deno-lint-ignore no-control-regex
const FORBIDDEN = /[\x01-\x1f\x7f\ufffe\uffff]/;

/**
 * Normalises a user path: `\` becomes `/`, leading and trailing `/` are
 * stripped, repeated `/` collapse and `.` segments are dropped.
 *
 * @param path The path as the caller wrote it.
 * @param options `allowEmpty`: accept a path that is empty after normalising
 *   (the root, for folder and query methods).
 * @returns The clean path, `""` for the root.
 * @throws {InvalidPathError} For a `..` segment, a NUL byte or other control
 *   character, a lone surrogate, a non-string, or an empty path when
 *   `allowEmpty` is false.
 *
 * @example Normalise a Windows-style path
 * ```ts
 * import { normalizePath } from "@remote-store/remote-store";
 * console.log(normalizePath("\\reports\\./2024//q1.csv")); // "reports/2024/q1.csv"
 * ```
 */
export function normalizePath(path: string, options: { allowEmpty?: boolean } = {}): string {
  if (typeof path !== "string") {
    throw new InvalidPathError(`Path must be a string, got ${typeof path}`);
  }
  if (path.includes("\0")) {
    throw new InvalidPathError("Path contains a NUL byte", { path: path.replaceAll("\0", "\\0") });
  }
  if (FORBIDDEN.test(path)) {
    throw new InvalidPathError("Path contains a control character or a Unicode noncharacter", {
      path: JSON.stringify(path).slice(1, -1),
    });
  }
  if (!path.isWellFormed()) {
    throw new InvalidPathError("Path is not well-formed Unicode (a lone surrogate)", {
      path: path.toWellFormed(),
    });
  }
  const segments: string[] = [];
  for (const segment of path.replaceAll("\\", "/").split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") {
      throw new InvalidPathError("Path contains a '..' segment", { path });
    }
    segments.push(segment);
  }
  const clean = segments.join("/");
  if (clean === "" && !options.allowEmpty) {
    throw new InvalidPathError("Path is empty after normalising", { path });
  }
  return clean;
}

/**
 * Joins clean path parts with `/`, skipping empty parts.
 *
 * @param parts Clean (already normalised) parts.
 * @returns The joined path.
 *
 * @example Join a root and a relative path
 * ```ts
 * import { joinPath } from "@remote-store/remote-store";
 * console.log(joinPath("data", "", "a.txt")); // "data/a.txt"
 * ```
 */
export function joinPath(...parts: string[]): string {
  return parts.filter((part) => part !== "").join("/");
}

/**
 * The last segment of a clean path.
 *
 * @param path A clean path.
 * @returns The name after the last `/`.
 *
 * @example Name of a nested file
 * ```ts
 * import { baseName } from "@remote-store/remote-store";
 * console.log(baseName("a/b/c.txt")); // "c.txt"
 * ```
 */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/**
 * Everything before the last segment of a clean path (`""` at the top).
 *
 * @param path A clean path.
 * @returns The parent path.
 *
 * @example Parent of a nested file
 * ```ts
 * import { parentPath } from "@remote-store/remote-store";
 * console.log(parentPath("a/b/c.txt")); // "a/b"
 * ```
 */
export function parentPath(path: string): string {
  const index = path.lastIndexOf("/");
  return index < 0 ? "" : path.slice(0, index);
}
