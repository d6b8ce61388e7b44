/**
 * The one order of keys in listings: ascending by Unicode code point, which
 * is the order of the keys' UTF-8 bytes (the order Azure Blob Storage lists
 * blob names in). It differs from JavaScript's `<` on strings (UTF-16 code
 * units) only between characters above U+FFFF and those from U+E000 to
 * U+FFFF. Private module.
 *
 * @module
 */

/**
 * Compares two keys by code point.
 *
 * @param a A key.
 * @param b Another key.
 * @returns A negative number when `a` sorts first, 0 when equal, positive otherwise.
 */
export function compareKeys(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // A surrogate (U+D800..U+DFFF) stands for a code point above U+FFFF: it sorts after the
    // units from U+E000 up, which UTF-16 order puts after it.
    if (x >= 0xd800 && y >= 0xd800) {
      const xs = x <= 0xdfff;
      const ys = y <= 0xdfff;
      if (xs !== ys) return xs ? 1 : -1;
    }
    return x - y;
  }
  return a.length - b.length;
}

/**
 * Whether a listing that needs only keys after `startAfter` can leave out the
 * folder `key`: every key below it (`key/...`) sorts at or before `startAfter`.
 *
 * @param key The folder's key.
 * @param startAfter The listing's `startAfter`, if any.
 * @returns `true` when nothing below the folder is needed.
 */
export function folderPassed(key: string, startAfter: string | undefined): boolean {
  if (startAfter === undefined) return false;
  const prefix = key === "" ? "" : `${key}/`;
  return compareKeys(startAfter, prefix) > 0 && !startAfter.startsWith(prefix);
}

/**
 * Whether a listing that needs only keys after `startAfter` keeps the file `key`.
 *
 * @param key The file's key.
 * @param startAfter The listing's `startAfter`, if any.
 * @returns `true` when the file sorts after `startAfter` (or there is none).
 */
export function fileNeeded(key: string, startAfter: string | undefined): boolean {
  return startAfter === undefined || compareKeys(key, startAfter) > 0;
}
