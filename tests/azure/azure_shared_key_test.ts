/**
 * The Web Crypto Shared Key signer against real servers: plain `fetch` calls
 * signed by `src/backends/azure/_shared_key.ts` succeed on Azurite (Blob) and
 * on the DFS emulator (Data Lake), and a wrong key gets 403. Also the choices
 * where the signer follows the documented rules rather than the SDK (a `+`
 * in the query is a space, an empty parameter is signed, Content-Language).
 * And Azurite's XML bodies read by `src/backends/azure/_xml.ts`.
 *
 * @module
 */

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { type Azurite, randomContainerName, startAzurite } from "../_azurite.ts";
import { type DfsEmulator, startDfsEmulator } from "../dfs_emulator/dfs_emulator.ts";
import { SharedKeySigner } from "../../src/backends/azure/_shared_key.ts";
import { blockListXml, parseBlobList, parseStorageError } from "../../src/backends/azure/_xml.ts";

const VERSION = "2025-01-05";

interface Call {
  method: string;
  /** Path below the endpoint, already percent-encoded, with its query. */
  path: string;
  headers?: Record<string, string>;
  body?: Uint8Array<ArrayBuffer>;
}

/** Signs `call` with `signer` and sends it with plain `fetch`. */
async function send(endpoint: string, signer: SharedKeySigner, call: Call): Promise<Response> {
  const headers = new Headers({ "x-ms-version": VERSION, ...call.headers });
  if (call.body) headers.set("content-length", String(call.body.byteLength));
  const request = { method: call.method, url: `${endpoint}${call.path}`, headers };
  await signer.sign(request);
  return await fetch(request.url, { method: call.method, headers, body: call.body });
}

const enc = encodeURIComponent;
const bytes = (text: string) => new TextEncoder().encode(text);

describe("Shared Key signer against Azurite (Blob)", () => {
  let az: Azurite;
  let signer: SharedKeySigner;
  let container: string;
  const call = (c: Call) => send(az.url, signer, c);
  const blobName = "dïr with space/a+b ü.txt";
  const blobPath = () => `/${container}/${blobName.split("/").map(enc).join("/")}`;

  before(async () => {
    az = await startAzurite();
    signer = new SharedKeySigner(az.accountName, az.accountKey);
    container = randomContainerName("sk");
  });
  after(async () => {
    await az?.stop();
  });

  test("create container, Put Blob, ranged Get Blob, List Blobs, Delete Blob", async () => {
    let res = await call({ method: "PUT", path: `/${container}?restype=container` });
    assert.equal(res.status, 201, await res.text());

    res = await call({
      method: "PUT",
      path: blobPath(),
      headers: {
        "content-type": "text/plain; charset=utf-8",
        "x-ms-blob-type": "BlockBlob",
        "x-ms-meta-author": "some  one",
        "x-ms-meta-origin": "shared-key test",
      },
      body: bytes("0123456789"),
    });
    assert.equal(res.status, 201, await res.text());
    const etag = res.headers.get("etag")!;

    res = await call({
      method: "GET",
      path: blobPath(),
      headers: { range: "bytes=2-5", "if-match": etag },
    });
    assert.equal(res.status, 206);
    assert.equal(await res.text(), "2345");
    assert.equal(res.headers.get("x-ms-meta-author"), "some  one");

    res = await call({ method: "GET", path: blobPath(), headers: { "if-none-match": etag } });
    assert.equal(res.status, 304);
    await res.body?.cancel();

    res = await call({
      method: "GET",
      path: `/${container}?restype=container&comp=list&prefix=${enc("dïr with space/a+")}` +
        `&delimiter=${enc("|")}&maxresults=10`,
    });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /<Name>dïr with space\/a\+b ü\.txt<\/Name>/);

    res = await call({ method: "DELETE", path: blobPath() });
    assert.equal(res.status, 202, await res.text());
    res = await call({ method: "GET", path: blobPath() });
    assert.equal(res.status, 404);
    await res.body?.cancel();
  });

  test("Put Block and Put Block List (query parameters with encoded base64)", async () => {
    const blockId = btoa("block-000001+/=");
    let res = await call({
      method: "PUT",
      path: `/${container}/blocks.bin?comp=block&blockid=${enc(blockId)}`,
      body: bytes("hello block"),
    });
    assert.equal(res.status, 201, await res.text());
    const list =
      `<?xml version="1.0" encoding="utf-8"?><BlockList><Latest>${blockId}</Latest></BlockList>`;
    res = await call({
      method: "PUT",
      path: `/${container}/blocks.bin?comp=blocklist`,
      headers: { "content-type": "application/xml", "if-none-match": "*" },
      body: bytes(list),
    });
    assert.equal(res.status, 201, await res.text());
    res = await call({ method: "HEAD", path: `/${container}/blocks.bin` });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-length"), "11");
  });

  test("a + in the query is a space and an empty parameter is signed, as the server parses them", async () => {
    let res = await call({
      method: "PUT",
      path: `/${container}/${enc("plus space/x.txt")}`,
      headers: { "x-ms-blob-type": "BlockBlob" },
      body: bytes("x"),
    });
    assert.equal(res.status, 201, await res.text());
    res = await call({
      method: "GET",
      path: `/${container}?restype=container&comp=list&prefix=plus+space&marker=`,
    });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /<Name>plus space\/x\.txt<\/Name>/);
  });

  test("Content-Language is signed after Content-Encoding, as documented", async () => {
    const res = await call({
      method: "PUT",
      path: `/${container}/lang.txt`,
      headers: { "x-ms-blob-type": "BlockBlob", "content-language": "en" },
      body: bytes("hi"),
    });
    assert.equal(res.status, 201, await res.text());
  });

  test("a wrong key gets 403", async () => {
    const wrong = new SharedKeySigner(az.accountName, btoa("not the account key"));
    const res = await send(az.url, wrong, {
      method: "GET",
      path: `/${container}?restype=container`,
    });
    assert.equal(res.status, 403);
    // Azurite reports the failed signature as AuthorizationFailure, the service as AuthenticationFailed.
    assert.match(
      res.headers.get("x-ms-error-code") ?? "",
      /^(AuthorizationFailure|AuthenticationFailed)$/,
    );
    await res.body?.cancel();
  });
});

describe("Shared Key signer against the DFS emulator (Data Lake)", () => {
  let emu: DfsEmulator;
  let signer: SharedKeySigner;
  const call = (c: Call) => send(emu.url, signer, c);

  before(async () => {
    emu = await startDfsEmulator();
    signer = new SharedKeySigner(emu.accountName, emu.accountKey);
  });
  after(async () => {
    await emu?.close();
  });

  test("create filesystem, create, append and flush a file, list paths, rename, delete", async () => {
    let res = await call({ method: "PUT", path: "/fs1?resource=filesystem" });
    assert.equal(res.status, 201, await res.text());
    const file = `/fs1/${enc("a dir")}/${enc("f+ü.txt")}`;
    res = await call({ method: "PUT", path: `${file}?resource=file` });
    assert.equal(res.status, 201, await res.text());
    res = await call({
      method: "PATCH",
      path: `${file}?action=append&position=0`,
      body: bytes("abc"),
    });
    assert.equal(res.status, 202, await res.text());
    res = await call({ method: "PATCH", path: `${file}?action=flush&position=3` });
    assert.equal(res.status, 200, await res.text());
    res = await call({ method: "GET", path: "/fs1?resource=filesystem&recursive=true" });
    assert.equal(res.status, 200);
    const listed = (await res.json()) as { paths: { name: string }[] };
    assert.deepEqual(listed.paths.map((p) => p.name).sort(), ["a dir", "a dir/f+ü.txt"]);
    res = await call({
      method: "PUT",
      path: `/fs1/${enc("moved.txt")}`,
      headers: { "x-ms-rename-source": file },
    });
    assert.equal(res.status, 201, await res.text());
    res = await call({ method: "DELETE", path: "/fs1/moved.txt?recursive=false" });
    assert.equal(res.status, 200, await res.text());
  });

  test("a wrong key gets 403 AuthenticationFailed", async () => {
    const wrong = new SharedKeySigner(emu.accountName, btoa("not the account key"));
    const res = await send(emu.url, wrong, { method: "GET", path: "/fs1?resource=filesystem" });
    assert.equal(res.status, 403);
    assert.equal(res.headers.get("x-ms-error-code"), "AuthenticationFailed");
    await res.body?.cancel();
  });
});

describe("Blob XML against Azurite", () => {
  let az: Azurite;
  let signer: SharedKeySigner;
  let container: string;
  const call = (c: Call) => send(az.url, signer, c);
  const put = async (name: string, headers: Record<string, string> = {}) => {
    const res = await call({
      method: "PUT",
      path: `/${container}/${name.split("/").map(enc).join("/")}`,
      headers: { "x-ms-blob-type": "BlockBlob", "content-type": "text/plain", ...headers },
      body: bytes(name),
    });
    assert.equal(res.status, 201, await res.text());
  };

  before(async () => {
    az = await startAzurite();
    signer = new SharedKeySigner(az.accountName, az.accountKey);
    container = randomContainerName("xml");
    const res = await call({ method: "PUT", path: `/${container}?restype=container` });
    assert.equal(res.status, 201);
  });
  after(async () => {
    await az?.stop();
  });

  test("List Blobs pages: escaped names, a metadata name the parser reserves, prefixes, markers", async () => {
    const names = [
      "d/ a & b <c> \"q\" 'x' ü 😀 .txt",
      "d/plain.txt",
      "d/sub/deep.txt",
      "d/sub2/x.txt",
      "e.txt",
    ];
    for (const name of names) {
      // `prototype` is one of the names fast-xml-parser refuses as an element name. (Azurite
      // lowercases metadata names and mangles `constructor`, so those are tested in _xml_test.ts.)
      await put(name, { "x-ms-meta-prototype": "p", "x-ms-meta-owner": "a & <b>" });
    }
    const seen: string[] = [];
    const prefixes: string[] = [];
    let marker = "";
    let pages = 0;
    do {
      const res = await call({
        method: "GET",
        path: `/${container}?restype=container&comp=list&prefix=d%2F&delimiter=%2F` +
          `&include=metadata&maxresults=2${marker ? `&marker=${enc(marker)}` : ""}`,
      });
      assert.equal(res.status, 200);
      const page = parseBlobList(await res.text());
      for (const blob of page.blobs) {
        seen.push(blob.name);
        assert.equal(blob.contentLength, new TextEncoder().encode(blob.name).byteLength);
        assert.match(blob.etag, /0x[0-9A-F]+/);
        assert.ok(!Number.isNaN(blob.lastModified.getTime()));
        assert.equal(blob.contentType, "text/plain");
        assert.deepEqual(blob.metadata, { prototype: "p", owner: "a & <b>" });
      }
      prefixes.push(...page.prefixes);
      marker = page.nextMarker ?? "";
      pages++;
    } while (marker !== "");
    assert.ok(pages >= 2, "the listing spans pages");
    assert.deepEqual(seen.sort(), [names[0]!, names[1]!].sort());
    assert.deepEqual(prefixes.sort(), ["d/sub/", "d/sub2/"]);
  });

  test("Put Block List with the written body commits the blocks in order", async () => {
    const ids = [btoa("block-0"), btoa("block-1")];
    for (const [i, id] of ids.entries()) {
      const res = await call({
        method: "PUT",
        path: `/${container}/blocks.txt?comp=block&blockid=${enc(id)}`,
        body: bytes(`part${i};`),
      });
      assert.equal(res.status, 201, await res.text());
    }
    let res = await call({
      method: "PUT",
      path: `/${container}/blocks.txt?comp=blocklist`,
      body: bytes(blockListXml(ids)),
    });
    assert.equal(res.status, 201, await res.text());
    res = await call({ method: "GET", path: `/${container}/blocks.txt` });
    assert.equal(await res.text(), "part0;part1;");
  });

  test("an error body gives the service's code", async () => {
    const res = await call({ method: "GET", path: `/${container}/missing.txt` });
    assert.equal(res.status, 404);
    const error = parseStorageError(await res.text());
    assert.equal(error.code, "BlobNotFound");
    assert.equal(error.code, res.headers.get("x-ms-error-code"));
    assert.ok((error.message ?? "").length > 0);
  });
});
