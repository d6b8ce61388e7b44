import { test } from "node:test";
import assert from "node:assert/strict";
import {
  checkAlgorithm,
  createHasher,
  digestBytes,
  expectedHex,
  toBase64,
  toHex,
} from "./_checksum.ts";

const text = (s: string) => new TextEncoder().encode(s);

test("digests match published vectors", () => {
  assert.equal(
    digestBytes("sha256", text("abc")).hex,
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  assert.equal(digestBytes("md5", text("abc")).hex, "900150983cd24fb0d6963f7d28e17f72");
  assert.equal(digestBytes("md5", text("")).base64, "1B2M2Y8AsgTpgAmY7PhCfg==");
  // CRC-32C check value and the RFC 3720 (B.4) vectors.
  assert.equal(digestBytes("crc32c", text("123456789")).hex, "e3069283");
  assert.equal(digestBytes("crc32c", new Uint8Array(32)).hex, "8a9136aa");
  assert.equal(digestBytes("crc32c", new Uint8Array(32).fill(0xff)).hex, "62a8ab43");
  assert.equal(
    digestBytes("crc32c", Uint8Array.from({ length: 32 }, (_, i) => i)).hex,
    "46dd794e",
  );
  assert.equal(digestBytes("crc32c", new Uint8Array(0)).hex, "00000000");
});

test("incremental digests do not depend on how the content is split", () => {
  const bytes = Uint8Array.from({ length: 100_003 }, (_, i) => (i * 7919) & 0xff);
  for (const algorithm of ["sha256", "md5", "crc32c"] as const) {
    const whole = digestBytes(algorithm, bytes);
    for (const size of [1, 3, 8, 9, 4096, 65_537]) {
      const hasher = createHasher(algorithm);
      for (let i = 0; i < bytes.length; i += size) hasher.update(bytes.subarray(i, i + size));
      assert.equal(toHex(hasher.digest()), whole.hex, `${algorithm} in chunks of ${size}`);
    }
  }
});

test("expected digests are read as hex, base64 or bytes; other values are a TypeError", () => {
  const sum = digestBytes("md5", text("abc"));
  assert.equal(expectedHex("md5", sum.hex.toUpperCase()), sum.hex);
  assert.equal(expectedHex("md5", sum.base64), sum.hex);
  assert.equal(
    expectedHex("md5", Uint8Array.from(atob(sum.base64), (c) => c.charCodeAt(0))),
    sum.hex,
  );
  assert.equal(expectedHex("crc32c", "AAAAAA=="), "00000000");
  assert.throws(() => expectedHex("sha256", sum.hex), TypeError);
  assert.throws(() => expectedHex("md5", "not a digest"), TypeError);
  assert.throws(() => checkAlgorithm("sha1"), /Unknown checksum algorithm "sha1"/);
  assert.equal(toBase64(new Uint8Array([0xfb, 0xff])), "+/8=");
});
