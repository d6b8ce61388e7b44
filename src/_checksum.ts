/**
 * Incremental digests for integrity checks: SHA-256 and MD5 from
 * `@noble/hashes` (audited, pure JavaScript, no `node:` module; Web Crypto has
 * no incremental digest), CRC-32C with a slicing-by-8 table here (no
 * well-kept pure-JavaScript CRC-32C package exists that is edge-safe; the
 * polynomial and check value are those of RFC 3720, tested against its
 * vectors). Private module.
 *
 * @module
 */

import { sha256 } from "@noble/hashes/sha2.js";
import { md5 } from "@noble/hashes/legacy.js";

/** The digests `write` can compute while streaming and `verifyChecksum` can check. */
export type ChecksumAlgorithm = "sha256" | "md5" | "crc32c";

/** The algorithms, for validation and messages. */
export const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = ["sha256", "md5", "crc32c"];

/** A digest of some content. */
export interface Checksum {
  /** The algorithm. */
  algorithm: ChecksumAlgorithm;
  /** The digest as lowercase hex (CRC-32C: the 4 bytes big-endian, as in GCS and RFC 3720). */
  hex: string;
  /** The same bytes in base64 (the form of `Content-MD5` and `x-goog-hash`). */
  base64: string;
}

/** An incremental digest. */
export interface Hasher {
  /** Adds bytes (the hasher does not keep `chunk`). */
  update(chunk: Uint8Array): void;
  /** The digest of everything added; the hasher cannot be used afterwards. */
  digest(): Uint8Array;
}

const CRC32C_POLY = 0x82f63b78;

/** Slicing-by-8 tables for CRC-32C (8 × 256 entries). */
const CRC_TABLES: Uint32Array[] = (() => {
  const tables = Array.from({ length: 8 }, () => new Uint32Array(256));
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ CRC32C_POLY : c >>> 1;
    tables[0]![n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    let c = tables[0]![n]!;
    for (let t = 1; t < 8; t++) {
      c = tables[0]![c & 0xff]! ^ (c >>> 8);
      tables[t]![n] = c >>> 0;
    }
  }
  return tables;
})();

/** CRC-32C (Castagnoli), incremental. */
class Crc32c implements Hasher {
  #crc = 0xffffffff;

  update(chunk: Uint8Array): void {
    const [t0, t1, t2, t3, t4, t5, t6, t7] = CRC_TABLES as [
      Uint32Array,
      Uint32Array,
      Uint32Array,
      Uint32Array,
      Uint32Array,
      Uint32Array,
      Uint32Array,
      Uint32Array,
    ];
    let crc = this.#crc;
    let i = 0;
    const n = chunk.byteLength;
    const end8 = n - (n % 8);
    while (i < end8) {
      const a = (chunk[i]! | (chunk[i + 1]! << 8) | (chunk[i + 2]! << 16) | (chunk[i + 3]! << 24)) ^
        crc;
      crc = t7[a & 0xff]! ^ t6[(a >>> 8) & 0xff]! ^ t5[(a >>> 16) & 0xff]! ^ t4[a >>> 24]! ^
        t3[chunk[i + 4]!]! ^ t2[chunk[i + 5]!]! ^ t1[chunk[i + 6]!]! ^ t0[chunk[i + 7]!]!;
      i += 8;
    }
    while (i < n) crc = t0[(crc ^ chunk[i++]!) & 0xff]! ^ (crc >>> 8);
    this.#crc = crc;
  }

  digest(): Uint8Array {
    const value = (this.#crc ^ 0xffffffff) >>> 0;
    return new Uint8Array([
      value >>> 24,
      (value >>> 16) & 0xff,
      (value >>> 8) & 0xff,
      value & 0xff,
    ]);
  }
}

/**
 * Whether `value` is a checksum algorithm this library knows.
 *
 * @param value Any value.
 * @returns `true` for `"sha256"`, `"md5"` or `"crc32c"`.
 */
export function isChecksumAlgorithm(value: unknown): value is ChecksumAlgorithm {
  return typeof value === "string" && (CHECKSUM_ALGORITHMS as readonly string[]).includes(value);
}

/**
 * Throws a `TypeError` unless `value` is a known algorithm.
 *
 * @param value The caller's value.
 * @param name The option's name, for the message.
 */
export function checkAlgorithm(value: unknown, name = "checksum"): ChecksumAlgorithm {
  if (isChecksumAlgorithm(value)) return value;
  throw new TypeError(
    `Unknown ${name} algorithm "${String(value)}" (expected ${
      CHECKSUM_ALGORITHMS.map((a) => `"${a}"`).join(", ")
    })`,
  );
}

/**
 * A new incremental hasher.
 *
 * @param algorithm The digest.
 * @returns The hasher.
 */
export function createHasher(algorithm: ChecksumAlgorithm): Hasher {
  switch (algorithm) {
    case "sha256":
      return sha256.create();
    case "md5":
      return md5.create();
    case "crc32c":
      return new Crc32c();
  }
}

/** Lowercase hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

/** Base64 of bytes. */
export function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** A digest as a {@link Checksum}. */
export function checksumOf(algorithm: ChecksumAlgorithm, digest: Uint8Array): Checksum {
  return { algorithm, hex: toHex(digest), base64: toBase64(digest) };
}

/**
 * The digest of bytes in memory.
 *
 * @param algorithm The digest.
 * @param bytes The content.
 * @returns The checksum.
 */
export function digestBytes(algorithm: ChecksumAlgorithm, bytes: Uint8Array): Checksum {
  const hasher = createHasher(algorithm);
  hasher.update(bytes);
  return checksumOf(algorithm, hasher.digest());
}

/**
 * The digest an expected value names, as lowercase hex: accepts hex (any case)
 * or base64 of the digest's length.
 *
 * @throws {TypeError} When `expected` is neither for this algorithm.
 */
export function expectedHex(algorithm: ChecksumAlgorithm, expected: string | Uint8Array): string {
  const length = algorithm === "sha256" ? 32 : algorithm === "md5" ? 16 : 4;
  if (expected instanceof Uint8Array) {
    if (expected.byteLength === length) return toHex(expected);
  } else if (typeof expected === "string") {
    if (expected.length === length * 2 && /^[0-9a-f]+$/i.test(expected)) {
      return expected.toLowerCase();
    }
    try {
      const binary = atob(expected);
      if (binary.length === length) return toHex(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
    } catch {
      // not base64: fall through to the error
    }
  }
  throw new TypeError(
    `Expected ${algorithm} digest must be ${length * 2} hex digits, its base64 or ${length} bytes`,
  );
}
