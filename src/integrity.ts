/**
 * Integrity helpers: the digest of a stored file, read streaming (memory
 * stays bounded whatever the file's size), and its comparison with an
 * expected digest. `write(path, content, { checksum })` gives the digest of
 * what was written; these helpers check it later.
 *
 * @module
 */

import type { SignalOptions } from "./backend.ts";
import {
  checkAlgorithm,
  type Checksum,
  type ChecksumAlgorithm,
  checksumOf,
  createHasher,
  expectedHex,
} from "./_checksum.ts";
import type { Store } from "./store.ts";

export type { Checksum, ChecksumAlgorithm };

/** The outcome of {@link verifyChecksum}. */
export interface VerifyResult {
  /** Whether the stored bytes have the expected digest. */
  ok: boolean;
  /** The digest of the stored bytes. */
  actual: Checksum;
  /** The expected digest as lowercase hex. */
  expected: string;
}

/**
 * Computes a file's digest by reading it as a stream (one chunk in memory at a time).
 *
 * @param store The store that holds the file.
 * @param path File path.
 * @param algorithm `"sha256"`, `"md5"` or `"crc32c"`.
 * @param options `signal`.
 * @returns The digest (hex and base64).
 * @throws {NotFoundError} When the file does not exist.
 * @throws {TypeError} For an unknown algorithm (before any I/O).
 *
 * @example SHA-256 of a stored file
 * ```ts
 * import { computeChecksum, MemoryBackend, Store } from "@remote-store/remote-store";
 * const store = new Store(new MemoryBackend());
 * await store.write("a.txt", "abc");
 * console.log((await computeChecksum(store, "a.txt", "sha256")).hex);
 * // ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
 * ```
 */
export async function computeChecksum(
  store: Store,
  path: string,
  algorithm: ChecksumAlgorithm,
  options: SignalOptions = {},
): Promise<Checksum> {
  checkAlgorithm(algorithm, "checksum");
  const hasher = createHasher(algorithm);
  const reader = (await store.read(path, { signal: options.signal })).getReader();
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      hasher.update(value);
    }
  } catch (error) {
    await reader.cancel(error).catch(() => {});
    throw error;
  } finally {
    reader.releaseLock();
  }
  return checksumOf(algorithm, hasher.digest());
}

/**
 * Reads a file as a stream and compares its digest with an expected one
 * (for example `result.checksum` of the `write` that stored it, or a digest
 * published beside a download).
 *
 * @param store The store that holds the file.
 * @param path File path.
 * @param expected The expected digest: hex (any case), base64, or the digest's bytes.
 * @param algorithm `"sha256"`, `"md5"` or `"crc32c"`.
 * @param options `signal`.
 * @returns `ok`, the actual digest and the expected one (hex).
 * @throws {NotFoundError} When the file does not exist.
 * @throws {TypeError} For an unknown algorithm, or an `expected` value that is
 *   not a digest of this algorithm (before any I/O).
 *
 * @example Check a file against the digest its write returned
 * ```ts
 * import { MemoryBackend, Store, verifyChecksum } from "@remote-store/remote-store";
 * const store = new Store(new MemoryBackend());
 * const { checksum } = await store.write("a.bin", new Uint8Array([1, 2, 3]), { checksum: "sha256" });
 * const result = await verifyChecksum(store, "a.bin", checksum!.hex, "sha256");
 * console.log(result.ok); // true
 * ```
 */
export async function verifyChecksum(
  store: Store,
  path: string,
  expected: string | Uint8Array,
  algorithm: ChecksumAlgorithm,
  options: SignalOptions = {},
): Promise<VerifyResult> {
  const hex = expectedHex(checkAlgorithm(algorithm, "checksum"), expected);
  const actual = await computeChecksum(store, path, algorithm, options);
  return { ok: actual.hex === hex, actual, expected: hex };
}
