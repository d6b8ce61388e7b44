/**
 * Small helpers shared by the conformance cases. Private module.
 *
 * @module
 */

import type { Store } from "../store.ts";
import type { FileInfo } from "../types.ts";

/** Deterministic pseudo-random bytes (xorshift32), so failures are reproducible. */
export function patternBytes(size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let x = seed >>> 0 || 1;
  let i = 0;
  for (; i + 4 <= size; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    view.setUint32(i, x >>> 0, true);
  }
  for (; i < size; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

/** A pull-based stream that yields `bytes` in chunks of `chunkSize`. */
export function chunkedStream(
  bytes: Uint8Array,
  chunkSize = 16 * 1024,
): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.byteLength) {
        controller.close();
        return;
      }
      controller.enqueue(bytes.slice(offset, offset + chunkSize));
      offset += chunkSize;
    },
  }, { highWaterMark: 0 });
}

/** Collects an async iterable into an array. */
export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

/** The sorted paths of listed files. */
export async function paths(
  iterable: AsyncIterable<FileInfo | { path: string }>,
): Promise<string[]> {
  return (await collect(iterable)).map((entry) => entry.path).sort();
}

/** Whether two byte arrays are equal (fast path for large arrays). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Writes the small tree the listing cases use: files at 0, 1, 2 and 3
 * folder levels below the root.
 */
export async function writeTree(store: Store): Promise<void> {
  await Promise.all([
    store.write("a.txt", "a"),
    store.write("b.csv", "bb"),
    store.write("docs/c.txt", "ccc"),
    store.write("docs/d.md", "dddd"),
    store.write("docs/deep/e.txt", "eeeee"),
    store.write("docs/deep/er/f.txt", "ffffff"),
    store.write("img/g.png", "g"),
  ]);
}
