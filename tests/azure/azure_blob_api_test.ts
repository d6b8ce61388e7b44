/**
 * The Blob operations of `src/backends/azure/_blob_api.ts` and the uploads of
 * `src/backends/azure/_upload.ts` against Azurite, over the fetch transport
 * (`_http.ts`): headers, conditions, block lists, listing, copy, Blob Batch
 * (Shared Key and SAS sub-requests), the account probe; and the upload
 * recoveries when an answer is lost; the download streams of
 * `src/backends/azure/_read_stream.ts` cut and stalled at exact bytes by the
 * fault proxy.
 *
 * @module
 */

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ContainerClient, ContainerSASPermissions } from "@azure/storage-blob";
import { type Azurite, randomContainerName, startAzurite } from "../_azurite.ts";
import { type FaultProxy, startFaultProxy } from "../_fault_proxy.ts";
import { TestTokenCredential, trustingFetch } from "./_oauth.ts";
import type { AzureBackendOptions } from "../../src/backends/azure/_options.ts";
import { AzureHttp, AzureHttpError } from "../../src/backends/azure/_http.ts";
import {
  batchDelete,
  deleteBlob,
  downloadBlob,
  getAccountInfo,
  getBlobProperties,
  getCommittedBlocks,
  listBlobs,
  putBlob,
  putBlock,
  putBlockList,
  startCopy,
} from "../../src/backends/azure/_blob_api.ts";
import {
  blockId,
  putBlob as uploadBytes,
  UPLOAD_MARKER,
  uploadStream,
} from "../../src/backends/azure/_upload.ts";
import {
  type BlobReadOptions,
  openBlobReadStream,
  readBlobBytes,
} from "../../src/backends/azure/_read_stream.ts";
import { AlreadyExistsError, InvalidPathError, PreconditionFailedError } from "../../src/errors.ts";

const FAST = { maxTries: 3, retryDelayMs: 5, maxRetryDelayMs: 20 };
type FetchLike = (input: string, init: RequestInit) => Promise<Response>;
const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array | ArrayBuffer) => new TextDecoder().decode(data);

/** Rejects with an `AzureHttpError` of `status` (and `code` when given). */
async function rejectsWith(promise: Promise<unknown>, status: number, code?: string) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof AzureHttpError, String(error));
    assert.equal(error.statusCode, status, error.message);
    if (code !== undefined) assert.equal(error.code, code);
    return true;
  });
}

/** A stream of `count` chunks of `size` bytes, chunk `i` filled with `i`. */
function chunks(count: number, size: number): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (i === count) return controller.close();
      controller.enqueue(new Uint8Array(size).fill(i++));
    },
  });
}

describe("Blob operations over fetch (Azurite)", () => {
  let az: Azurite;
  let http: AzureHttp;
  let admin: ContainerClient;
  let container: string;

  before(async () => {
    az = await startAzurite();
    container = randomContainerName("api");
    admin = new ContainerClient(az.connectionString, container);
    await admin.create();
    http = new AzureHttp({ container, connectionString: az.connectionString, retry: FAST });
  });
  after(async () => {
    http?.close();
    await az?.stop();
  });

  test("Put Blob stores content type and metadata; Get Blob Properties reads them", async () => {
    const { etag } = await putBlob(http, "p/a.txt", bytes("hello"), {
      contentType: "text/plain; charset=utf-8",
      metadata: { Color: "blue", n: "1" },
    });
    assert.match(etag!, /^"/);
    const p = await getBlobProperties(http, "p/a.txt", {});
    assert.equal(p.size, 5);
    assert.equal(p.etag, etag);
    assert.equal(p.contentType, "text/plain; charset=utf-8");
    assert.deepEqual(p.metadata, { color: "blue", n: "1" });
    assert.ok(p.lastModified instanceof Date && !Number.isNaN(p.lastModified.getTime()));
  });

  test("write conditions: If-None-Match: * refuses an existing blob, If-Match a stale ETag", async () => {
    const { etag } = await putBlob(http, "p/c.txt", bytes("1"), {});
    await rejectsWith(
      putBlob(http, "p/c.txt", bytes("2"), { conditions: { ifNoneMatch: "*" } }),
      409,
      "BlobAlreadyExists",
    );
    await rejectsWith(
      putBlob(http, "p/c.txt", bytes("2"), { conditions: { ifMatch: '"0x1"' } }),
      412,
    );
    const next = await putBlob(http, "p/c.txt", bytes("22"), { conditions: { ifMatch: etag } });
    assert.notEqual(next.etag, etag);
    assert.equal((await getBlobProperties(http, "p/c.txt", {})).size, 2);
  });

  test("read conditions: dates as HTTP dates, ETags", async () => {
    const { etag } = await putBlob(http, "p/d.txt", bytes("abc"), {});
    const future = new Date(Date.now() + 3_600_000);
    const past = new Date(Date.now() - 3_600_000);
    await rejectsWith(
      getBlobProperties(http, "p/d.txt", { conditions: { ifUnmodifiedSince: past } }),
      412,
    );
    await rejectsWith(
      getBlobProperties(http, "p/d.txt", { conditions: { ifModifiedSince: future } }),
      304,
    );
    await rejectsWith(
      getBlobProperties(http, "p/d.txt", { conditions: { ifNoneMatch: etag } }),
      304,
    );
    const p = await getBlobProperties(http, "p/d.txt", {
      conditions: { ifMatch: etag, ifModifiedSince: past, ifUnmodifiedSince: future },
    });
    assert.equal(p.etag, etag);
    await rejectsWith(getBlobProperties(http, "p/missing", {}), 404);
  });

  test("Get Blob: whole, a range, from an offset; the size of the whole blob from Content-Range", async () => {
    await putBlob(http, "p/r.bin", bytes("0123456789"), {});
    const whole = await downloadBlob(http, "p/r.bin", { offset: 0 });
    assert.equal(text(await whole.arrayBuffer()), "0123456789");
    const range = await downloadBlob(http, "p/r.bin", { offset: 2, count: 3 });
    assert.equal(range.status, 206);
    assert.equal(range.headers.get("content-range"), "bytes 2-4/10");
    assert.equal(text(await range.arrayBuffer()), "234");
    const tail = await downloadBlob(http, "p/r.bin", { offset: 7 });
    assert.equal(text(await tail.arrayBuffer()), "789");
    // Past the end (Azurite answers an offset at the end with an empty 206).
    await rejectsWith(downloadBlob(http, "p/r.bin", { offset: 11 }), 416);
    await rejectsWith(
      downloadBlob(http, "p/r.bin", { offset: 0, conditions: { ifMatch: '"0x1"' } }),
      412,
    );
  });

  test("Put Block, Put Block List (content type, metadata, conditions), Get Block List", async () => {
    const ids = [blockId("abcd", 0), blockId("abcd", 1)];
    // Ids with `+`, `/` and `=` must survive the query string.
    const odd = [btoa("\xfb\xff\xbf-0"), btoa("\xfb\xff\xbf-1")];
    assert.ok(odd.every((id) => /[+/]/.test(id) && id.endsWith("=")), odd.join());
    for (const [i, id] of odd.entries()) {
      await putBlock(http, "p/blocks.bin", id, bytes(`part${i};`));
    }
    const { etag } = await putBlockList(http, "p/blocks.bin", odd, {
      contentType: "application/x-test",
      metadata: { k: "v" },
      conditions: { ifNoneMatch: "*" },
    });
    const committed = await getCommittedBlocks(http, "p/blocks.bin");
    assert.deepEqual(committed.ids, odd);
    assert.equal(committed.etag, etag);
    const p = await getBlobProperties(http, "p/blocks.bin", {});
    assert.equal(p.contentType, "application/x-test");
    assert.deepEqual(p.metadata, { k: "v" });
    const body = await downloadBlob(http, "p/blocks.bin", { offset: 0 });
    assert.equal(text(await body.arrayBuffer()), "part0;part1;");
    await rejectsWith(
      putBlockList(http, "p/blocks.bin", ids, { conditions: { ifNoneMatch: "*" } }),
      409,
    );
    await rejectsWith(putBlockList(http, "p/blocks.bin", ids, {}), 400, "InvalidBlockList");
    // A blob written with Put Blob has no committed blocks.
    await putBlob(http, "p/single.bin", bytes("x"), {});
    assert.deepEqual((await getCommittedBlocks(http, "p/single.bin")).ids, []);
  });

  test("Delete Blob: If-Match, with snapshots, 404 when gone", async () => {
    const { etag } = await putBlob(http, "p/del.txt", bytes("x"), {});
    await admin.getBlobClient("p/del.txt").createSnapshot();
    await rejectsWith(deleteBlob(http, "p/del.txt", { ifMatch: '"0x1"' }), 412);
    // A blob with snapshots cannot be deleted alone.
    await rejectsWith(deleteBlob(http, "p/del.txt", {}), 409);
    await deleteBlob(http, "p/del.txt", { ifMatch: etag, includeSnapshots: true });
    await rejectsWith(deleteBlob(http, "p/del.txt", {}), 404, "BlobNotFound");
  });

  test("List Blobs: prefix, delimiter, pages by marker, metadata", async () => {
    for (const name of ["l/a.txt", "l/b.txt", "l/sub/c.txt", "l/sub/d.txt", "l/z & ü.txt"]) {
      await putBlob(http, name, bytes(name), { metadata: { name: "x" } });
    }
    const flat = await listBlobs(http, { prefix: "l/", delimiter: "/", includeMetadata: true });
    assert.deepEqual(flat.blobs.map((b) => b.name), ["l/a.txt", "l/b.txt", "l/z & ü.txt"]);
    assert.deepEqual(flat.prefixes, ["l/sub/"]);
    assert.deepEqual(flat.blobs[0]!.metadata, { name: "x" });
    assert.equal(flat.nextMarker, undefined);
    const names: string[] = [];
    let marker: string | undefined;
    let pages = 0;
    do {
      const page = await listBlobs(http, { prefix: "l/", maxResults: 2, marker });
      names.push(...page.blobs.map((b) => b.name));
      assert.deepEqual(page.blobs[0]!.metadata, {}); // not asked for
      marker = page.nextMarker;
      pages++;
    } while (marker !== undefined);
    assert.equal(pages, 3);
    assert.deepEqual(names, ["l/a.txt", "l/b.txt", "l/sub/c.txt", "l/sub/d.txt", "l/z & ü.txt"]);
  });

  test("Copy Blob: source If-Match, destination If-None-Match", async () => {
    const { etag } = await putBlob(http, "c/src.txt", bytes("copy me"), {});
    const started = await startCopy(http, "c/dst.txt", http.sourceUrl("c/src.txt"), {
      ifNoneMatch: "*",
      sourceIfMatch: etag,
    });
    assert.equal(started.copyStatus, "success");
    assert.ok(started.copyId);
    const p = await getBlobProperties(http, "c/dst.txt", {});
    assert.equal(p.copyStatus, "success");
    assert.equal(p.size, 7);
    await rejectsWith(
      startCopy(http, "c/dst.txt", http.sourceUrl("c/src.txt"), { ifNoneMatch: "*" }),
      409,
    );
    await rejectsWith(
      startCopy(http, "c/dst2.txt", http.sourceUrl("c/src.txt"), { sourceIfMatch: '"0x1"' }),
      412,
    );
  });

  test("Blob Batch with Shared Key sub-requests: deleted, not found, in order", async () => {
    const keys = ["b/1.txt", "b/missing.txt", "b/2 ü+&.txt", "b/3.txt"];
    for (const key of [keys[0]!, keys[2]!, keys[3]!]) await putBlob(http, key, bytes("x"), {});
    await admin.getBlobClient("b/3.txt").createSnapshot();
    const results = await batchDelete(http, keys);
    assert.deepEqual(results.map((r) => r.status), [202, 404, 202, 202]);
    assert.equal(results[1]!.code, "BlobNotFound");
    const left = await listBlobs(http, { prefix: "b/" });
    assert.deepEqual(left.blobs, []);
  });

  test("Blob Batch with a SAS: the SAS goes into each sub-request", async () => {
    const sasUrl = await admin.generateSasUrl({
      permissions: ContainerSASPermissions.parse("racwdl"),
      expiresOn: new Date(Date.now() + 3_600_000),
    });
    const sasToken = new URL(sasUrl).search.slice(1);
    const viaSas = new AzureHttp({
      container,
      accountUrl: az.url,
      sasToken,
      retry: FAST,
    });
    try {
      await putBlob(viaSas, "s/1.txt", bytes("x"), {});
      await putBlob(viaSas, "s/2.txt", bytes("x"), {});
      const results = await batchDelete(viaSas, ["s/1.txt", "s/nope", "s/2.txt"]);
      assert.deepEqual(results.map((r) => r.status), [202, 404, 202]);
      assert.deepEqual((await listBlobs(http, { prefix: "s/" })).blobs, []);
    } finally {
      viaSas.close();
    }
  });

  test("Blob Batch refuses more than 256 keys and none", async () => {
    await assert.rejects(batchDelete(http, []), RangeError);
    await assert.rejects(
      batchDelete(http, Array.from({ length: 257 }, (_, i) => `k${i}`)),
      RangeError,
    );
  });

  test("Get Account Information: Azurite has no hierarchical namespace", async () => {
    assert.deepEqual(await getAccountInfo(http), { isHnsEnabled: false });
  });
});

describe("uploads over fetch (Azurite, fault proxy)", () => {
  let az: Azurite;
  let proxy: FaultProxy;
  let http: AzureHttp;
  let direct: AzureHttp;
  let container: string;

  before(async () => {
    az = await startAzurite();
    proxy = await startFaultProxy(az.port);
    container = randomContainerName("up");
    await new ContainerClient(az.connectionString, container).create();
    direct = new AzureHttp({ container, connectionString: az.connectionString, retry: FAST });
    http = new AzureHttp({
      container,
      connectionString: az.connectionString.replace(`:${az.port}/`, `:${proxy.port}/`),
      retry: FAST,
    });
  });
  after(async () => {
    http?.close();
    direct?.close();
    await proxy?.stop();
    await az?.stop();
  });

  const options = (key: string, extra: Partial<Parameters<typeof uploadStream>[3]> = {}) => ({
    key,
    blockSize: 64 * 1024,
    concurrency: 3,
    contentType: "application/octet-stream",
    overwrite: true,
    ...extra,
  });

  test("a stream larger than a block is staged and committed in order", async () => {
    const result = await uploadStream(http, "u/big.bin", chunks(10, 30_000), options("u/big.bin"));
    assert.equal(result.size, 300_000);
    const body = new Uint8Array(
      await (await downloadBlob(direct, "u/big.bin", { offset: 0 })).arrayBuffer(),
    );
    assert.equal(body.byteLength, 300_000);
    for (let i = 0; i < 10; i++) assert.equal(body[i * 30_000 + 29_999], i);
    const blocks = await getCommittedBlocks(direct, "u/big.bin");
    assert.equal(blocks.ids.length, 5);
    assert.equal(blocks.etag, result.etag);
  });

  test("content that fits one block is one Put Blob, create-only with its marker", async () => {
    const from = proxy.requests.length;
    const result = await uploadStream(
      http,
      "u/small.txt",
      chunks(2, 100),
      options("u/small.txt", { overwrite: false, metadata: { a: "b" } }),
    );
    assert.equal(result.size, 200);
    const seen = proxy.requests.slice(from);
    assert.deepEqual(seen.map((r) => r.method), ["PUT"]);
    assert.doesNotMatch(seen[0]!.target, /comp=/);
    const p = await getBlobProperties(direct, "u/small.txt", {});
    assert.equal(p.metadata.a, "b");
    assert.match(p.metadata[UPLOAD_MARKER]!, /^[0-9a-f]{32}$/);
    await assert.rejects(
      uploadStream(
        http,
        "u/small.txt",
        chunks(1, 10),
        options("u/small.txt", { overwrite: false }),
      ),
      (error: unknown) => error instanceof AzureHttpError && error.statusCode === 409,
    );
  });

  test("a create-only Put Blob whose answer was lost succeeds on the retry's 409 (own marker)", async () => {
    proxy.add({
      method: "PUT",
      path: /\/u\/lost-put\.txt$/,
      action: { kind: "reset", afterBytes: 0 },
    });
    const result = await uploadBytes(http, "u/lost-put.txt", bytes("mine"), {
      contentType: "text/plain",
      overwrite: false,
    });
    proxy.clear();
    const p = await getBlobProperties(direct, "u/lost-put.txt", {});
    assert.equal(result.etag, p.etag);
    const puts = proxy.requests.filter((r) => /lost-put/.test(r.target) && r.method === "PUT");
    assert.equal(puts.length, 2, "the first answer was lost and the request sent again");
  });

  test("a create-only commit whose answer was lost succeeds on the retry (own blocks)", async () => {
    proxy.add({
      method: "PUT",
      path: /\/u\/lost-commit\.bin\?.*comp=blocklist/,
      action: { kind: "reset", afterBytes: 0 },
    });
    const result = await uploadStream(
      http,
      "u/lost-commit.bin",
      chunks(3, 64 * 1024),
      options("u/lost-commit.bin", { overwrite: false }),
    );
    proxy.clear();
    assert.equal(result.size, 3 * 64 * 1024);
    assert.equal(result.etag, (await getBlobProperties(direct, "u/lost-commit.bin", {})).etag);
  });

  test("a create-only upload that another writer beat to the commit fails; the other content stays", async () => {
    let staged = 0;
    const source = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (staged === 3) {
          // The last chunk is read: another writer commits the blob before this upload does.
          await putBlob(direct, "u/raced.bin", bytes("other"), {});
          return controller.close();
        }
        staged++;
        controller.enqueue(new Uint8Array(64 * 1024).fill(staged));
      },
    });
    await assert.rejects(
      uploadStream(http, "u/raced.bin", source, options("u/raced.bin", { overwrite: false })),
      (error: unknown) =>
        error instanceof AlreadyExistsError ||
        (error instanceof AzureHttpError && error.statusCode === 409),
    );
    assert.equal(
      text(await (await downloadBlob(direct, "u/raced.bin", { offset: 0 })).arrayBuffer()),
      "other",
    );
  });

  test("an aborted upload commits nothing", async () => {
    const controller = new AbortController();
    let n = 0;
    const source = new ReadableStream<Uint8Array>({
      pull(c) {
        if (++n === 4) controller.abort(new Error("stop"));
        c.enqueue(new Uint8Array(64 * 1024));
      },
    });
    await assert.rejects(
      uploadStream(
        http,
        "u/aborted.bin",
        source,
        options("u/aborted.bin", {
          signal: controller.signal,
        }),
      ),
    );
    await assert.rejects(
      getBlobProperties(direct, "u/aborted.bin", {}),
      (error: unknown) => error instanceof AzureHttpError && error.statusCode === 404,
    );
  });
});

describe("reads over fetch (Azurite, fault proxy)", () => {
  let az: Azurite;
  let proxy: FaultProxy;
  let http: AzureHttp;
  let direct: AzureHttp;
  let container: string;
  const SIZE = 300 * 1024 + 7;
  const CONTENT = new Uint8Array(SIZE).map((_, i) => (i * 31 + 7) & 0xff);
  let headerBytes = 0;

  before(async () => {
    az = await startAzurite();
    proxy = await startFaultProxy(az.port);
    container = randomContainerName("rd");
    await new ContainerClient(az.connectionString, container).create();
    direct = new AzureHttp({ container, connectionString: az.connectionString, retry: FAST });
    http = new AzureHttp({
      container,
      connectionString: az.connectionString.replace(`:${az.port}/`, `:${proxy.port}/`),
      retry: { ...FAST, maxTries: 1 },
    });
    await putBlob(direct, "r/big.bin", CONTENT, {});
    await putBlob(direct, "r/folder", new Uint8Array(0), { metadata: { hdi_isfolder: "true" } });
    const from = proxy.requests.length;
    await (await downloadBlob(http, "r/big.bin", { offset: 0 })).arrayBuffer();
    headerBytes = proxy.requests[from]!.responseBytes - SIZE;
    assert.ok(headerBytes > 0 && headerBytes < 2000, `${headerBytes} header bytes`);
  });
  after(async () => {
    http?.close();
    direct?.close();
    await proxy?.stop();
    await az?.stop();
  });

  const read = (extra: Partial<BlobReadOptions> = {}): BlobReadOptions => ({
    key: "r/big.bin",
    offset: 0,
    maxResumes: 3,
    resumeDelayMs: () => 0,
    idleTimeoutMs: 0,
    mapError: (error) => error,
    ...extra,
  });
  const GET_BIG = { method: "GET", path: /\/r\/big\.bin/ } as const;
  const collect = async (stream: ReadableStream<Uint8Array>) =>
    new Uint8Array(await new Response(stream).arrayBuffer());

  test("a whole blob and a range, as a stream and as bytes", async () => {
    assert.deepEqual(await collect(await openBlobReadStream(http, read())), CONTENT);
    assert.deepEqual(await readBlobBytes(http, read()), CONTENT);
    const range = { offset: 1000, length: 50_000 };
    const expected = CONTENT.subarray(1000, 51_000);
    assert.deepEqual(await collect(await openBlobReadStream(http, read(range))), expected);
    assert.deepEqual(await readBlobBytes(http, read(range)), expected);
  });

  test("an offset at or past the end and an empty range read nothing; failed conditions reject first", async () => {
    for (const extra of [{ offset: SIZE }, { offset: SIZE + 10 }, { offset: 5, length: 0 }]) {
      assert.equal((await collect(await openBlobReadStream(http, read(extra)))).byteLength, 0);
      assert.equal((await readBlobBytes(http, read(extra))).byteLength, 0);
    }
    const stale = { conditions: { ifMatch: '"0x1"' } };
    await rejectsWith(openBlobReadStream(http, read(stale)), 412);
    await rejectsWith(readBlobBytes(http, read(stale)), 412);
    await rejectsWith(openBlobReadStream(http, read({ ...stale, offset: SIZE + 1 })), 412);
    await rejectsWith(openBlobReadStream(http, read({ key: "r/none" })), 404);
  });

  test("a directory marker is refused when asked (HNS), read otherwise", async () => {
    const folder = read({ key: "r/folder", rejectFolder: true });
    await assert.rejects(openBlobReadStream(http, folder), InvalidPathError);
    await assert.rejects(readBlobBytes(http, folder), InvalidPathError);
    await assert.rejects(openBlobReadStream(http, { ...folder, length: 0 }), InvalidPathError);
    assert.equal((await readBlobBytes(http, read({ key: "r/folder" }))).byteLength, 0);
  });

  test("a connection cut at exact bytes resumes there: the whole blob, pinned to its ETag", async () => {
    const { etag } = await getBlobProperties(direct, "r/big.bin", {});
    for (const cut of [headerBytes + 1, headerBytes + 65_536, headerBytes + SIZE - 1]) {
      for (const method of ["stream", "bytes"] as const) {
        const from = proxy.requests.length;
        proxy.add({ ...GET_BIG, action: { kind: "reset", afterBytes: cut } });
        // The resume must carry If-Match with the first response's ETag.
        const bytes = method === "stream"
          ? await collect(await openBlobReadStream(http, read()))
          : await readBlobBytes(http, read());
        proxy.clear();
        assert.deepEqual(bytes, CONTENT, `${method}, cut at ${cut}`);
        const gets = proxy.requests.slice(from).filter((r) => r.method === "GET");
        assert.equal(gets.length, 2, `${method}, cut at ${cut}`);
        assert.ok(gets[0]!.cut);
      }
    }
    // The pin: a resume whose If-Match names the ETag gets 412 here, and the read fails so.
    proxy.add({ ...GET_BIG, action: { kind: "reset", afterBytes: headerBytes + 1000 } });
    proxy.add({
      ...GET_BIG,
      head: new RegExp(`if-match: ${etag!.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`, "i"),
      action: { kind: "status", status: 412, code: "ConditionNotMet" },
    });
    await assert.rejects(collect(await openBlobReadStream(http, read())), PreconditionFailedError);
    proxy.clear();
  });

  test("a blob replaced while its download stalled: PreconditionFailedError, not mixed bytes", async () => {
    await putBlob(direct, "r/changing.bin", CONTENT, {});
    proxy.add({
      method: "GET",
      path: /\/r\/changing\.bin/,
      action: { kind: "stallAfter", afterBytes: headerBytes + 10_000 },
    });
    const stream = await openBlobReadStream(
      http,
      read({ key: "r/changing.bin", idleTimeoutMs: 300 }),
    );
    const reader = stream.getReader();
    await reader.read();
    await putBlob(direct, "r/changing.bin", new Uint8Array(SIZE).fill(9), {});
    await assert.rejects(
      (async () => {
        while (!(await reader.read()).done);
      })(),
      PreconditionFailedError,
    );
    proxy.clear();
    proxy.release();
  });

  test("abort errors a stream with the signal's reason; cancel ends it; the backend stays usable", async () => {
    const controller = new AbortController();
    const stream = await openBlobReadStream(http, read({ signal: controller.signal }));
    const reader = stream.getReader();
    await reader.read();
    const reason = new Error("enough");
    controller.abort(reason);
    await assert.rejects(reader.read(), (error) => error === reason);
    const cancelled = await openBlobReadStream(http, read());
    await cancelled.getReader().cancel();
    assert.deepEqual(await readBlobBytes(http, read()), CONTENT);
  });
});

describe("Blob Batch with a bearer token (Azurite --oauth basic)", () => {
  let az: Azurite;
  let transport: { fetch: FetchLike; close(): void };
  let http: AzureHttp;
  let options: AzureBackendOptions;

  before(async () => {
    az = await startAzurite({ oauth: true });
    transport = trustingFetch(az.ca!);
    options = {
      container: randomContainerName("tok"),
      accountUrl: az.url,
      credential: new TestTokenCredential(),
      fetch: transport.fetch,
      retry: FAST,
    };
    http = new AzureHttp(options);
    await http.call({ method: "PUT", key: "", query: { restype: "container" } });
  });
  after(async () => {
    http?.close();
    transport?.close();
    await az?.stop();
  });

  test("each sub-request carries the bearer token (or the batch is refused up front)", async () => {
    await putBlob(http, "t/1.txt", bytes("x"), {});
    await putBlob(http, "t/2.txt", bytes("x"), {});
    const keys = ["t/1.txt", "t/none", "t/2.txt"];
    if (typeof (http as { authorizeSubRequest?: unknown }).authorizeSubRequest !== "function") {
      // Without a way to put the token into sub-requests: a refusal the caller falls back on,
      // never a 403 per blob.
      await rejectsWith(batchDelete(http, keys), 403, "AuthorizationFailure");
      return;
    }
    const results = await batchDelete(http, keys);
    assert.deepEqual(results.map((r) => r.status), [202, 404, 202]);
    assert.deepEqual((await listBlobs(http, { prefix: "t/" })).blobs, []);
  });

  test("sub-requests with Bearer authorization are accepted by the service", async () => {
    // The transport authorizes each sub-request with its credential's token.
    const credential = new TestTokenCredential();
    const authorizing = new AzureHttp({ ...options, credential });
    await putBlob(http, "v/1.txt", bytes("x"), {});
    await putBlob(http, "v/2.txt", bytes("x"), {});
    const results = await batchDelete(authorizing, ["v/1.txt", "v/none", "v/2.txt"]);
    assert.deepEqual(results.map((r) => r.status), [202, 404, 202]);
    assert.deepEqual((await listBlobs(http, { prefix: "v/" })).blobs, []);
  });
});
