/**
 * The few file-system calls and switches of the local backend that tests
 * replace to simulate file systems without some feature (hard links,
 * `/proc/self/fd`).
 * Private module.
 *
 * @module
 */

import * as fs from "node:fs/promises";

/** Replaceable file-system operations (tests swap them; the backend calls them). */
export const localFs: {
  /** Creates a hard link `target` to `existing`; fails with `EEXIST` when `target` exists. */
  link: (existing: string, target: string) => Promise<void>;
  /**
   * `false` addresses folders by path (check, then use), as where
   * `/proc/self/fd` is missing; `undefined` detects.
   */
  anchored?: boolean;
} = {
  link: (existing, target) => fs.link(existing, target),
};
