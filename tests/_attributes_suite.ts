/**
 * The stored HTTP attributes on a real server (Azurite, or the DFS emulator
 * for ADLS Gen2): the conformance cases, the staged-upload path, the digest
 * and modification time of a write, a gzip blob read as its stored bytes and
 * served with its `Content-Encoding` over real HTTP, and a fetch that decodes
 * failing the read instead of returning other bytes.
 *
 * @module
 */

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { runConformanceSuite } from "../conformance.ts";
import { ATTRIBUTES_CASES } from "../src/conformance/_cases_attributes.ts";
import { BackendUnavailableError, serveFile, Store } from "../mod.ts";
import { digestBytes } from "../src/_checksum.ts";
import { collect, patternBytes, sameBytes } from "../src/conformance/_helpers.ts";
import { serve } from "../examples/serve.ts";
import { type Flavor, setupEnv } from "./_env.ts";

/** Gzip of `bytes`. */
async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** A GET over node:http, which never decodes: status, headers and the bytes as sent. */
function rawGet(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: Uint8Array }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers }, (res) => {
      const chunks: Uint8Array[] = [];
      res.on("data", (chunk: Uint8Array) => chunks.push(chunk));
      res.on("end", () => {
        const body = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
        let at = 0;
        for (const chunk of chunks) body.set(chunk, (at += chunk.byteLength) - chunk.byteLength);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

/** Node's own fetch (undici) decodes whatever it is asked when it is used as it is. */
const NODE = (globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent
  ?.startsWith("Node.js/") === true;

/**
 * A fetch that decodes gzip bodies whatever it is asked: Node's own fetch
 * passed as the `fetch` option, elsewhere a test double (Deno's and Bun's
 * fetch decode nothing once asked not to).
 */
const decodingFetch = async (input: string, init: RequestInit): Promise<Response> => {
  const response = await fetch(input, init);
  if (NODE) return response;
  if (response.headers.get("content-encoding") !== "gzip" || response.body === null) {
    return response;
  }
  return new Response(response.body.pipeThrough(new DecompressionStream("gzip")), {
    status: response.status,
    headers: response.headers,
  });
};

/**
 * Registers the tests for one server flavor.
 *
 * @param flavor `flat` (Azurite) or `hns` (DFS emulator).
 */
export async function attributesSuite(flavor: Flavor): Promise<void> {
  const env = await setupEnv(flavor);
  const backend = env.backend({ blockSize: 64 * 1024, concurrency: 2 });
  const store = new Store(backend);
  const plain = new TextEncoder().encode("console.log('pre-compressed');\n".repeat(20_000));
  const packed = await gzip(plain);

  describe(`HTTP attributes (${flavor})`, () => {
    after(() => env.close(), { timeout: 120_000 });

    runConformanceSuite(`azure-${flavor}`, {
      backend: env.backend({ blockSize: 64 * 1024, concurrency: 2 }),
      cases: ATTRIBUTES_CASES,
    });

    test("a staged upload (Put Block List) stores the attributes", async () => {
      const bytes = patternBytes(200 * 1024, 3);
      const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream();
      await store.write("staged.bin", stream, {
        cacheControl: "no-cache",
        contentDisposition: "inline",
        contentLanguage: "de",
      });
      const info = await store.getFileInfo("staged.bin");
      assert.equal(info.size, bytes.byteLength);
      assert.equal(info.cacheControl, "no-cache");
      assert.equal(info.contentDisposition, "inline");
      assert.equal(info.contentLanguage, "de");
      assert.equal(info.contentEncoding, undefined);
      // List Blobs reports them: every listing on flat, the recursive ones on ADLS Gen2
      // (its one-level listings are DFS List Paths, which has no such fields).
      const [listed] = await collect(
        store.listFiles("", { pattern: "staged.bin", recursive: flavor === "hns" }),
      );
      assert.equal(listed?.cacheControl, "no-cache", "List Blobs reports the attributes");
      assert.equal(listed?.contentDisposition, "inline");
      assert.equal(listed?.contentLanguage, "de");
    });

    test("a write reports modifiedAt and the service's Content-MD5 as digest", async () => {
      const bytes = patternBytes(1000, 5);
      const md5 = digestBytes("md5", bytes);
      const one = await store.write("one.bin", bytes);
      const info = await store.getFileInfo("one.bin");
      assert.ok(one.modifiedAt instanceof Date, "Put Blob returns Last-Modified");
      assert.equal(one.modifiedAt.getTime(), info.modifiedAt.getTime());
      assert.deepEqual(one.digest, md5, "Put Blob returns the content's MD5");
      assert.deepEqual(info.digest, md5, "the blob stores it");
      // Staged without a checksum: no whole-content MD5 exists, none is reported.
      const big = patternBytes(200 * 1024, 6);
      const staged = await store.write("big.bin", new Blob([big as Uint8Array<ArrayBuffer>]));
      assert.ok(staged.modifiedAt instanceof Date);
      assert.equal(staged.digest, undefined);
      // Staged with checksum: the commit stores the whole content's MD5.
      const checked = await store.write("big.bin", new Blob([big as Uint8Array<ArrayBuffer>]), {
        overwrite: true,
        checksum: "md5",
      });
      assert.deepEqual(checked.digest, digestBytes("md5", big));
      assert.deepEqual((await store.getFileInfo("big.bin")).digest, digestBytes("md5", big));
      const [listed] = await collect(
        store.listFiles("", { pattern: "one.bin", recursive: flavor === "hns" }),
      );
      assert.deepEqual(listed?.digest, md5, "List Blobs reports the stored Content-MD5");
    });

    test("a gzip blob larger than a block reads back as its stored bytes", async () => {
      await store.write("big.js.gz", new Blob([packed as Uint8Array<ArrayBuffer>]), {
        contentEncoding: "gzip",
        contentType: "text/javascript",
      });
      assert.ok(sameBytes(await store.readBytes("big.js.gz"), packed));
      const streamed = new Uint8Array(
        await new Response(await store.read("big.js.gz")).arrayBuffer(),
      );
      assert.ok(sameBytes(streamed, packed));
      const range = { offset: 1000, length: 5000 };
      const slice = packed.subarray(1000, 6000);
      assert.ok(sameBytes(await store.readBytes("big.js.gz", { range }), slice));
    });

    test("serveFile sends the stored gzip bytes with Content-Encoding: gzip", async () => {
      await store.write("site/app.js", packed, {
        overwrite: true,
        contentEncoding: "gzip",
        contentType: "text/javascript",
        cacheControl: "public, max-age=60",
        contentLanguage: "en",
      });
      const whole = await serveFile(store, "site/app.js", new Request("http://x/site/app.js"));
      assert.equal(whole.status, 200);
      assert.equal(whole.headers.get("content-encoding"), "gzip");
      assert.equal(whole.headers.get("cache-control"), "public, max-age=60");
      assert.equal(whole.headers.get("content-language"), "en");
      assert.equal(whole.headers.get("content-length"), String(packed.byteLength));
      assert.ok(sameBytes(new Uint8Array(await whole.arrayBuffer()), packed));

      // Over real HTTP with the runtime's own server; node:http's client does not decode.
      const served = await serve(new Store(backend, { rootPath: "site" }));
      try {
        const got = await rawGet(`${served.url}app.js`, { "accept-encoding": "gzip" });
        assert.equal(got.status, 200);
        assert.equal(got.headers["content-encoding"], "gzip");
        assert.ok(sameBytes(got.body, packed), "the wire carries the stored bytes");
        const ranged = await rawGet(`${served.url}app.js`, { range: "bytes=10-109" });
        assert.equal(ranged.status, 206);
        assert.equal(ranged.headers["content-encoding"], "gzip");
        assert.equal(ranged.headers["content-range"], `bytes 10-109/${packed.byteLength}`);
        assert.ok(sameBytes(ranged.body, packed.subarray(10, 110)), "a range of the stored bytes");
      } finally {
        await served.close();
      }
    });

    test("a fetch that decodes fails the read instead of returning other bytes", async () => {
      await store.write("d.js.gz", packed, { overwrite: true, contentEncoding: "gzip" });
      const decoding = new Store(env.backend({ fetch: decodingFetch }));
      await assert.rejects(decoding.readBytes("d.js.gz"), (error: unknown) => {
        assert.ok(error instanceof BackendUnavailableError);
        assert.match(error.message, /decoded the blob's stored Content-Encoding "gzip"/);
        return true;
      });
      await assert.rejects(
        new Response(await decoding.read("d.js.gz")).arrayBuffer(),
        /decoded the blob's stored Content-Encoding "gzip"/,
      );
    });
  });
}
