/**
 * Conformance cases of the stored HTTP attributes (`cacheControl`,
 * `contentEncoding`, `contentDisposition`, `contentLanguage`) and of what a
 * write reports about the version it made (`modifiedAt`, `digest`).
 *
 * @module
 */

import assert from "node:assert/strict";
import { digestBytes } from "../_checksum.ts";
import type { HttpAttributes } from "../types.ts";
import type { ConformanceCase } from "./cases.ts";
import { chunkedStream, patternBytes, sameBytes } from "./_helpers.ts";

/** Every attribute, with values that use the characters a real header would. */
const ATTRIBUTES: Required<HttpAttributes> = {
  cacheControl: "public, max-age=31536000, immutable",
  contentEncoding: "gzip",
  contentDisposition: 'attachment; filename="report 2024.csv"',
  contentLanguage: "en-GB",
};

/** Gzip of `bytes` (CompressionStream: Deno, Bun, Node and edge runtimes have it). */
async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Only the attributes of an info or result (absent ones left out). */
function attributesOf(info: HttpAttributes): HttpAttributes {
  const out: HttpAttributes = {};
  for (const name of Object.keys(ATTRIBUTES) as (keyof HttpAttributes)[]) {
    if (info[name] !== undefined) out[name] = info[name];
  }
  return out;
}

/** The conformance cases of the stored HTTP attributes and the write result. */
export const ATTRIBUTES_CASES: ConformanceCase[] = [
  {
    id: "http-attributes-roundtrip",
    name: "the HTTP attributes round-trip through getFileInfo (write, streamed write, " +
      "writeAtomic), follow a copy, and an overwrite without them leaves none",
    requires: ["write", "http_attributes"],
    async run({ store }) {
      await store.write("a.csv", "x", { ...ATTRIBUTES, contentType: "text/csv" });
      const info = await store.getFileInfo("a.csv");
      assert.deepEqual(attributesOf(info), ATTRIBUTES);
      assert.match(info.contentType ?? "", /^text\/csv/);
      // A streamed write stores them the same way.
      await store.write("s.csv", chunkedStream(patternBytes(1000), 100), {
        cacheControl: "no-store",
      });
      assert.deepEqual(attributesOf(await store.getFileInfo("s.csv")), {
        cacheControl: "no-store",
      });
      if (store.supports("atomic_write")) {
        await store.writeAtomic("atomic.csv", "z", ATTRIBUTES);
        assert.deepEqual(attributesOf(await store.getFileInfo("atomic.csv")), ATTRIBUTES);
      }
      if (store.supports("copy")) {
        await store.copy("a.csv", "b.csv");
        assert.deepEqual(attributesOf(await store.getFileInfo("b.csv")), ATTRIBUTES);
      }
      await store.write("a.csv", "y", { overwrite: true });
      assert.deepEqual(attributesOf(await store.getFileInfo("a.csv")), {});
    },
  },
  {
    id: "http-attributes-stored-bytes",
    name: "a file stored with contentEncoding gzip reads back as the stored gzip bytes " +
      "(whole, streamed and ranged), never decoded",
    requires: ["read", "write", "http_attributes"],
    async run({ store }) {
      const plain = new TextEncoder().encode("hello gzip ".repeat(5000));
      const packed = await gzip(plain);
      const result = await store.write("app.js.gz", packed, {
        contentEncoding: "gzip",
        contentType: "text/javascript",
      });
      assert.equal(result.size, packed.byteLength);
      const info = await store.getFileInfo("app.js.gz");
      assert.equal(info.size, packed.byteLength, "size is that of the stored bytes");
      assert.equal(info.contentEncoding, "gzip");
      assert.ok(sameBytes(await store.readBytes("app.js.gz"), packed), "readBytes: stored bytes");
      const streamed = new Uint8Array(
        await new Response(await store.read("app.js.gz")).arrayBuffer(),
      );
      assert.ok(sameBytes(streamed, packed), "read: stored bytes");
      if (store.supports("range_read")) {
        const range = { offset: 10, length: 100 };
        const slice = packed.subarray(10, 110);
        assert.ok(
          sameBytes(await store.readBytes("app.js.gz", { range }), slice),
          "ranged readBytes: the stored bytes of the range",
        );
        const ranged = new Uint8Array(
          await new Response(await store.read("app.js.gz", { range })).arrayBuffer(),
        );
        assert.ok(sameBytes(ranged, slice), "ranged read: the stored bytes of the range");
      }
    },
  },
  {
    id: "http-attributes-invalid",
    name: "an HTTP attribute that is not a header value is a TypeError before any I/O",
    requires: ["write", "http_attributes"],
    async run({ store }) {
      const bad: HttpAttributes[] = [
        { cacheControl: "no-cache\r\nX-Injected: 1" },
        { contentEncoding: "" },
        { contentDisposition: 'attachment; filename="ré.txt"' },
        { contentLanguage: " en" },
        { cacheControl: 42 as unknown as string },
      ];
      for (const options of bad) {
        await assert.rejects(
          store.write("bad.txt", "x", options),
          TypeError,
          `refused: ${JSON.stringify(options)}`,
        );
      }
      assert.equal(await store.isFile("bad.txt"), false, "nothing was written");
    },
  },
  {
    id: "write-result-version",
    name: "a write's (and writeAtomic's) modifiedAt and digest, where reported, describe " +
      "the version written",
    requires: ["write"],
    async run({ store }) {
      const bytes = patternBytes(3000, 7);
      const before = Date.now();
      const result = await store.write("v.bin", bytes);
      const info = await store.getFileInfo("v.bin");
      if (result.modifiedAt !== undefined) {
        assert.equal(result.modifiedAt.getTime(), info.modifiedAt.getTime(), "modifiedAt");
        assert.ok(result.modifiedAt.getTime() >= before - 5000, "modifiedAt is recent");
      }
      const md5 = digestBytes("md5", bytes);
      if (result.digest !== undefined) assert.deepEqual(result.digest, md5, "write digest");
      if (info.digest !== undefined) assert.deepEqual(info.digest, md5, "stored digest");
      if (result.versionId !== undefined) assert.equal(info.versionId, result.versionId);
      if (store.supports("atomic_write")) {
        const atomic = await store.writeAtomic("v.bin", bytes, { overwrite: true });
        const after = await store.getFileInfo("v.bin");
        if (atomic.modifiedAt !== undefined) {
          assert.equal(atomic.modifiedAt.getTime(), after.modifiedAt.getTime(), "writeAtomic");
        }
        if (atomic.digest !== undefined) assert.deepEqual(atomic.digest, md5, "writeAtomic digest");
      }
    },
  },
];
