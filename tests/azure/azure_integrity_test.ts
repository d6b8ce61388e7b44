/**
 * Integrity on Azure (Azurite): the MD5 digests a checksummed write sends
 * (`Content-MD5` on Put Blob and on each Put Block, the whole content's MD5
 * on Put Block List), a corrupted upload refused by the service, and the
 * memory bound of a 256 MiB streamed write with a checksum plus a streamed
 * verify.
 *
 * The corruption is made by a `fetch` wrapper that flips one byte of a
 * request body after it was signed (what a faulty network path or a bad
 * buffer does): the fault proxy (`tests/_fault_proxy.ts`) can drop, cut,
 * stall and answer with a status, but has no body-rewriting fault.
 *
 * @module
 */

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { type Azurite, randomContainerName, startAzurite } from "../_azurite.ts";
import { AzureBackend, type AzureBackendOptions } from "../../azure.ts";
import { BackendUnavailableError, Store, verifyChecksum } from "../../mod.ts";
import { AzureHttp, AzureHttpError } from "../../src/backends/azure/_http.ts";
import { getBlobProperties } from "../../src/backends/azure/_blob_api.ts";
import { md5Base64, putBlob, uploadStream } from "../../src/backends/azure/_upload.ts";
import { createHasher, digestBytes, toHex } from "../../src/_checksum.ts";
import { memoryMeter, mib } from "../_memory.ts";

const FAST = { maxTries: 2, retryDelayMs: 5, maxRetryDelayMs: 20 };
const MiB = 1024 * 1024;

type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/**
 * A fetch that flips one byte in the body of the first `times` PUT requests
 * whose URL matches `pattern` (after signing: the request stays authorised).
 */
function corrupting(pattern: RegExp, times = 1) {
  // The Content-MD5 sent, by request URL (a retried request counts once; concurrent
  // blocks may be sent in any order).
  const state = {
    corrupted: 0,
    md5Headers: [] as (string | null)[],
    md5ByUrl: new Map<string, string | null>(),
  };
  const fetchImpl: FetchLike = (input, init) => {
    const body = init.body as unknown;
    if (
      init.method === "PUT" && pattern.test(input) && body instanceof Uint8Array &&
      body.byteLength > 0
    ) {
      const md5 = new Headers(init.headers).get("content-md5");
      state.md5Headers.push(md5);
      state.md5ByUrl.set(input, md5);
      if (state.corrupted < times) {
        state.corrupted++;
        const copy = new Uint8Array(body);
        copy[copy.byteLength >> 1] = copy[copy.byteLength >> 1]! ^ 0x01;
        return fetch(input, { ...init, body: copy as BodyInit });
      }
    }
    return fetch(input, init);
  };
  return { fetch: fetchImpl, state };
}

function pattern(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

function streamOf(bytes: Uint8Array, chunk: number): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.byteLength) return controller.close();
      controller.enqueue(bytes.slice(offset, offset += chunk));
    },
  });
}

async function refusedMd5(promise: Promise<unknown>) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof AzureHttpError, String(error));
    assert.equal(error.statusCode, 400);
    assert.equal(error.code, "Md5Mismatch");
    return true;
  });
}

describe("Azure integrity (Azurite)", () => {
  let az: Azurite;
  let container: string;
  let http: AzureHttp;
  const opened: { close(): unknown }[] = [];
  const httpWith = (fetchImpl: FetchLike) => {
    const made = new AzureHttp({
      container,
      connectionString: az.connectionString,
      retry: FAST,
      fetch: fetchImpl,
    });
    opened.push(made);
    return made;
  };
  const backend = (own: Partial<AzureBackendOptions> = {}) => {
    const made = new AzureBackend({
      container,
      connectionString: az.connectionString,
      retry: FAST,
      ...own,
    });
    opened.push(made);
    return made;
  };

  before(async () => {
    az = await startAzurite();
    container = randomContainerName("integrity");
    http = new AzureHttp({ container, connectionString: az.connectionString, retry: FAST });
    opened.push(http);
    await http.call({ method: "PUT", key: "", query: { restype: "container" } });
  });
  after(async () => {
    for (const item of opened) await item.close();
    await az?.stop();
  });

  test("Put Blob with Content-MD5: a corrupted body is refused; without it, it is stored", async () => {
    const bytes = pattern(100_000, 1);
    const bad = corrupting(/\/i\/put\.bin/, 2);
    const via = httpWith(bad.fetch);
    const options = { contentType: "application/octet-stream", overwrite: true };
    await refusedMd5(putBlob(via, "i/put.bin", bytes, { ...options, contentMd5: true }));
    assert.equal(bad.state.md5Headers[0], md5Base64(bytes), "the MD5 of the bytes sent");
    await assert.rejects(getBlobProperties(http, "i/put.bin", {}), { statusCode: 404 });
    // The control: the same corruption without Content-MD5 is stored as sent.
    await putBlob(via, "i/put.bin", bytes, options);
    assert.equal(bad.state.corrupted, 2);
    const stored = await (await via.send({ method: "GET", key: "i/put.bin" })).bytes();
    assert.notEqual(md5Base64(stored), md5Base64(bytes), "the damage reached the service");
  });

  test("staged upload: a corrupted Put Block is refused and nothing is committed", async () => {
    const bytes = pattern(5 * 64 * 1024 + 17, 2);
    const bad = corrupting(/comp=block(&|$)/, 1);
    const via = httpWith(bad.fetch);
    const upload = {
      key: "i/staged.bin",
      blockSize: 64 * 1024,
      concurrency: 2,
      contentType: "application/octet-stream",
      overwrite: false,
      contentMd5: true,
    };
    await refusedMd5(uploadStream(via, "i/staged.bin", streamOf(bytes, 10_000), upload));
    assert.equal(bad.state.corrupted, 1);
    await assert.rejects(getBlobProperties(http, "i/staged.bin", {}), { statusCode: 404 });
    // Clean: every block carries its MD5 and the blob stores the whole content's.
    const clean = corrupting(/comp=block(&|$)/, 0);
    const result = await uploadStream(
      httpWith(clean.fetch),
      "i/staged.bin",
      streamOf(bytes, 10_000),
      upload,
    );
    assert.equal(result.size, bytes.byteLength);
    assert.equal(clean.state.md5ByUrl.size, 6, "six blocks, each with Content-MD5");
    const first = [...clean.state.md5ByUrl].find(([url]) =>
      atob(decodeURIComponent(new URL(url).searchParams.get("blockid")!)).endsWith("-000000")
    );
    assert.equal(first?.[1], md5Base64(bytes.subarray(0, 64 * 1024)), "block 0's MD5");
    const { headers } = await http.call({ method: "HEAD", key: "i/staged.bin" });
    assert.equal(headers.get("content-md5"), md5Base64(bytes), "the blob's stored MD5");
  });

  test("store.write with checksum: the digest is returned, the service stores the MD5", async () => {
    const store = new Store(backend({ blockSize: 64 * 1024, concurrency: 2 }));
    const bytes = pattern(300_000, 3);
    for (const algorithm of ["md5", "sha256", "crc32c"] as const) {
      const result = await store.write(`w/${algorithm}.bin`, streamOf(bytes, 7_000), {
        checksum: algorithm,
      });
      assert.deepEqual(result.checksum, digestBytes(algorithm, bytes));
      const { headers } = await http.call({ method: "HEAD", key: `w/${algorithm}.bin` });
      assert.equal(headers.get("content-md5"), md5Base64(bytes), `${algorithm}: blob MD5`);
      assert.equal(
        (await verifyChecksum(store, `w/${algorithm}.bin`, result.checksum!.hex, algorithm)).ok,
        true,
      );
    }
    const small = await store.write("w/small.txt", "hello", { checksum: "md5" });
    assert.equal(small.checksum?.base64, "XUFAKrxLKna5cZ2REBfFkg==");
  });

  test("store.write with checksum through a corrupting network fails and keeps the old content", async () => {
    const store = new Store(backend());
    await store.write("k/a.bin", "old");
    const bad = corrupting(/\/k\/a\.bin/, 1);
    const damaged = new Store(backend({ fetch: bad.fetch }));
    await assert.rejects(
      damaged.write("k/a.bin", pattern(50_000, 4), { overwrite: true, checksum: "sha256" }),
      (error: unknown) => error instanceof BackendUnavailableError || error instanceof TypeError,
    );
    assert.equal(bad.state.corrupted, 1);
    assert.equal(await store.readText("k/a.bin"), "old");
  });

  test("a 256 MiB streamed write with md5 then a streamed verify stays bounded", async () => {
    const blockSize = 4 * MiB;
    const concurrency = 4;
    const store = new Store(backend({ blockSize, concurrency }));
    const count = 256;
    let i = 0;
    const source = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (i === count) return controller.close();
        controller.enqueue(new Uint8Array(MiB).fill(i++ & 0xff));
      },
    });
    const writing = memoryMeter();
    const result = await store.write("big/256.bin", source, {
      checksum: "md5",
      onProgress: writing.checkpoint,
    });
    const write = writing.stop();
    const verifying = memoryMeter();
    const verified = await verifyChecksum(store, "big/256.bin", result.checksum!.base64, "md5");
    const verify = verifying.stop();
    console.log(
      `azure: 256 MiB write+md5 RSS growth held ${mib(write.held)} (raw ${mib(write.raw)}), ` +
        `verify held ${mib(verify.held)} (raw ${mib(verify.raw)})`,
    );
    assert.equal(result.size, count * MiB);
    assert.equal(verified.ok, true);
    const hasher = createHasher("md5");
    for (let n = 0; n < count; n++) hasher.update(new Uint8Array(MiB).fill(n & 0xff));
    assert.equal(result.checksum!.hex, toHex(hasher.digest()));
    const { headers } = await http.call({ method: "HEAD", key: "big/256.bin" });
    assert.equal(
      headers.get("content-md5"),
      result.checksum!.base64,
      "service stored the same MD5",
    );
    // The staged blocks plus the runtime's own buffers (Node's fetch keeps more of them than
    // Deno's); a buffered upload would need the whole 256 MiB.
    const bound = blockSize * (concurrency + 1) + 96 * MiB;
    assert.ok(write.held < bound, `write held ${mib(write.held)}, bound ${mib(bound)}`);
    assert.ok(verify.held < 64 * MiB, `verify held ${mib(verify.held)}`);
  });
});
