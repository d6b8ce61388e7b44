/**
 * The 10,000-file paged listing check shared by the memory, local and Azure
 * tests: files written through the backend concurrently, then listed in pages
 * of 500, then resumed from every cursor.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Backend } from "../src/backend.ts";
import type { Store } from "../src/store.ts";
import { compareKeys } from "../src/_order.ts";
import { mapPool } from "../src/batch.ts";

/** Files in the listing. */
export const FILE_COUNT = 10_000;
/** Files per page. */
export const PAGE_SIZE = 500;

/**
 * The store-relative paths: three depths, names whose order is not the
 * order they are written in (`k-…` sorts before `k/…`).
 *
 * @returns {@link FILE_COUNT} distinct paths.
 */
export function pagingPaths(): string[] {
  const out: string[] = [];
  for (let i = 0; i < FILE_COUNT; i++) {
    const n = String((i * 7919) % FILE_COUNT).padStart(5, "0");
    const folder = `k${i % 7}`;
    out.push(
      i % 5 === 0
        ? `${folder}-${n}.txt`
        : i % 3 === 0
        ? `${folder}/deep/${n}`
        : `${folder}/${n}.csv`,
    );
  }
  return out;
}

/**
 * Writes one byte per path through the backend, `concurrency` writes at a time.
 *
 * @param backend The backend.
 * @param root The store's root key.
 * @param paths Store-relative paths.
 * @param concurrency Writes in flight.
 */
export async function seed(
  backend: Backend,
  root: string,
  paths: readonly string[],
  concurrency: number,
): Promise<void> {
  const body = new Uint8Array([1]);
  const options = { overwrite: true, atomic: false, size: 1 };
  await mapPool(paths, concurrency, undefined, async (path) => {
    const key = `${root}/${path}`;
    if (backend.writeBytes) await backend.writeBytes(key, body, options);
    else await backend.write(key, new Blob([body]).stream(), options);
  });
}

async function listed(iterable: AsyncIterable<{ path: string }>): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of iterable) out.push(entry.path);
  return out;
}

/**
 * Pages through the store's recursive listing (`pageSize` files per page,
 * {@link PAGE_SIZE} by default). Every page is a fresh call that resumes from
 * the previous page's last path (the cursor), so paging on from any cursor is
 * these calls; each page must be exactly the next slice of all paths in code
 * point order, and together they hold every path once. An unpaged listing
 * from the middle, the last-but-one and the last cursor gives exactly the rest.
 *
 * @param store The store the paths were written to.
 * @param paths The paths written.
 * @param pageSize Files per page.
 * @returns The number of cursors (pages, and the empty one after a full last page).
 */
export async function checkPaging(
  store: Store,
  paths: readonly string[],
  pageSize: number = PAGE_SIZE,
): Promise<number> {
  const expected = [...paths].sort(compareKeys);
  const cursors: (string | undefined)[] = [];
  const all: string[] = [];
  let cursor: string | undefined;
  while (true) {
    const from = cursors.length * pageSize;
    cursors.push(cursor);
    const page = await listed(
      store.listFiles("", { recursive: true, limit: pageSize, startAfter: cursor }),
    );
    assert.deepEqual(page, expected.slice(from, from + pageSize), `page after cursor ${cursor}`);
    all.push(...page);
    if (page.length < pageSize) break;
    cursor = page.at(-1);
  }
  assert.equal(new Set(all).size, all.length, "no path twice");
  assert.equal(all.length, expected.length, "every path");
  const last = cursors.length - 1;
  for (const index of new Set([last >> 1, last - 1, last])) {
    const rest = await listed(store.listFiles("", { recursive: true, startAfter: cursors[index] }));
    assert.equal(rest.length, expected.length - index * pageSize, `rest after cursor ${index}`);
    assert.deepEqual(rest, expected.slice(index * pageSize), `rest after cursor ${index}`);
  }
  return cursors.length;
}
