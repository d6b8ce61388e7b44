/**
 * The few file-system calls of the local backend that tests replace to
 * simulate file systems without some feature (for example hard links).
 * Private module.
 *
 * @module
 */

import * as fs from "node:fs/promises";

/** Replaceable file-system operations (tests swap them; the backend calls them). */
export const localFs: {
  /** Creates a hard link `target` to `existing`; fails with `EEXIST` when `target` exists. */
  link: (existing: string, target: string) => Promise<void>;
} = {
  link: (existing, target) => fs.link(existing, target),
};
