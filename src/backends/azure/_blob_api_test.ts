/**
 * Unit tests of the parts of the Blob operations that need no server: the
 * properties read from response headers, the Blob Batch request body (with
 * its signed sub-requests) and the Blob Batch answer. (Every operation
 * against Azurite: tests/azure/azure_blob_api_test.ts.)
 *
 * @module
 */

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { batchDelete, md5Digest, parseBatchResponse, propertiesFromHeaders } from "./_blob_api.ts";
import type { AzureHttp, AzureRequest } from "./_http.ts";
import { SharedKeySigner, stringToSign } from "./_shared_key.ts";

const BOUNDARY = "batchresponse_66925647-d0cb-4109-b6d3-28efe3e1e5ed";
const CONTENT_TYPE = `multipart/mixed; boundary=${BOUNDARY}`;

/** The documented example answer of a Blob Batch of three deletes, the third of a missing blob. */
const ANSWER = [
  `--${BOUNDARY}`,
  "Content-Type: application/http",
  "Content-ID: 0",
  "",
  "HTTP/1.1 202 Accepted",
  "x-ms-delete-type-permanent: true",
  "x-ms-request-id: 778fdc83-801e-0000-62ff-0334671e284f",
  "x-ms-version: 2018-11-09",
  "",
  `--${BOUNDARY}`,
  "Content-Type: application/http",
  "Content-ID: 2",
  "",
  "HTTP/1.1 404 The specified blob does not exist.",
  "x-ms-error-code: BlobNotFound",
  "x-ms-request-id: 778fdc83-801e-0000-62ff-0334671e2852",
  "Content-Length: 216",
  "Content-Type: application/xml",
  "",
  '<?xml version="1.0" encoding="utf-8"?>',
  "<Error><Code>BlobNotFound</Code><Message>The specified blob does not exist.",
  "x-ms-error-code: NotAHeader</Message></Error>",
  `--${BOUNDARY}`,
  "Content-Type: application/http",
  "Content-ID: 1",
  "",
  "HTTP/1.1 202 Accepted",
  "x-ms-delete-type-permanent: true",
  "",
  `--${BOUNDARY}--`,
  "",
].join("\r\n");

describe("Blob Batch answers", () => {
  test("one result per sub-request, by Content-ID, with the error code of a failure", () => {
    assert.deepEqual(parseBatchResponse(ANSWER, CONTENT_TYPE, 3), [
      { status: 202 },
      { status: 202 },
      { status: 404, code: "BlobNotFound" },
    ]);
    assert.deepEqual(
      parseBatchResponse(ANSWER, `multipart/mixed; boundary="${BOUNDARY}"`, 3).map((r) => r.status),
      [202, 202, 404],
    );
  });

  test("a batch refused as a whole (one answer, no Content-ID) throws its status and code", () => {
    const refused = [
      `--${BOUNDARY}`,
      "Content-Type: application/http",
      "",
      "HTTP/1.1 400 One of the request inputs is not valid.",
      "x-ms-error-code: InvalidInput",
      "",
      `--${BOUNDARY}--`,
    ].join("\r\n");
    assert.throws(
      () => parseBatchResponse(refused, CONTENT_TYPE, 2),
      (error: unknown) => {
        const e = error as { statusCode?: number; code?: string };
        return e.statusCode === 400 && e.code === "InvalidInput";
      },
    );
  });

  test("a missing answer or boundary is an error", () => {
    assert.throws(() => parseBatchResponse(ANSWER, CONTENT_TYPE, 4), /no answer for sub-request 3/);
    assert.throws(() => parseBatchResponse(ANSWER, "multipart/mixed", 3), /no boundary/);
  });
});

describe("Blob Batch requests", () => {
  const KEY =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
  const signer = new SharedKeySigner("acct", KEY);

  /** A transport double with Shared Key (or SAS) auth that keeps the batch request. */
  function fake(authKind: "key" | "sas") {
    const sent: AzureRequest[] = [];
    const base = "https://acct.blob.core.windows.net";
    const http = {
      authKind,
      accountName: "acct",
      url: (key: string) => `${base}/c/${key.split("/").map(encodeURIComponent).join("/")}`,
      sourceUrl: (key: string) =>
        `${base}/c/${key.split("/").map(encodeURIComponent).join("/")}?sv=1&sig=abc%2B`,
      hmacBase64: (text: string) => signer.hmac(text),
      send(request: AzureRequest): Promise<Response> {
        sent.push(request);
        const body =
          [0, 1].map((i) =>
            `--b1\r\nContent-Type: application/http\r\nContent-ID: ${i}\r\n\r\nHTTP/1.1 202 Accepted\r\n\r\n`
          ).join("") + "--b1--\r\n";
        return Promise.resolve(
          new Response(body, {
            status: 202,
            headers: { "content-type": "multipart/mixed; boundary=b1" },
          }),
        );
      },
    };
    return { http: http as unknown as AzureHttp, sent };
  }

  /** The sub-requests of a batch body: request line and headers. */
  function subRequests(request: AzureRequest) {
    const type = request.headers!["content-type"]!;
    const boundary = /boundary=(.+)$/.exec(type)![1]!;
    const body = request.body as string;
    assert.ok(body.endsWith(`--${boundary}--\r\n`));
    return body.split(`--${boundary}--`)[0]!.split(`--${boundary}\r\n`).slice(1).map((part) => {
      const [outer, inner] = part.split("\r\n\r\n");
      const [line, ...headers] = inner!.split("\r\n");
      return {
        outer: outer!.split("\r\n"),
        line,
        headers: new Headers(headers.map((h) => h.split(": ", 2) as [string, string])),
      };
    });
  }

  test("Shared Key: each sub-request is a DELETE signed on its own, without x-ms-version", async () => {
    const { http, sent } = fake("key");
    assert.deepEqual(await batchDelete(http, ["a b/ü.txt", "x+y"]), [
      { status: 202 },
      { status: 202 },
    ]);
    assert.equal(sent.length, 1);
    const [request] = sent;
    assert.equal(request!.method, "POST");
    assert.equal(request!.key, "");
    assert.deepEqual(request!.query, { restype: "container", comp: "batch" });
    const parts = subRequests(request!);
    assert.equal(parts.length, 2);
    for (const [i, part] of parts.entries()) {
      assert.deepEqual(part.outer, [
        "Content-Type: application/http",
        "Content-Transfer-Encoding: binary",
        `Content-ID: ${i}`,
      ]);
      const path = i === 0 ? "/c/a%20b/%C3%BC.txt" : "/c/x%2By";
      assert.equal(part.line, `DELETE ${path} HTTP/1.1`);
      assert.equal(part.headers.get("x-ms-delete-snapshots"), "include");
      assert.equal(part.headers.get("x-ms-version"), null);
      assert.ok(part.headers.get("x-ms-date"));
      const headers = new Headers(part.headers);
      headers.delete("authorization");
      const url = `https://acct.blob.core.windows.net${path}`;
      const expected = await signer.hmac(stringToSign({ method: "DELETE", url, headers }, "acct"));
      assert.equal(part.headers.get("authorization"), `SharedKey acct:${expected}`);
    }
  });

  test("SAS: the token goes into each sub-request's URL, no Authorization", async () => {
    const { http, sent } = fake("sas");
    await batchDelete(http, ["a", "b"]);
    const parts = subRequests(sent[0]!);
    assert.deepEqual(parts.map((p) => p.line), [
      "DELETE /c/a?sv=1&sig=abc%2B HTTP/1.1",
      "DELETE /c/b?sv=1&sig=abc%2B HTTP/1.1",
    ]);
    assert.ok(parts.every((p) => p.headers.get("authorization") === null));
  });
});

describe("properties from response headers", () => {
  test("size, dates, quoted ETag, content type, metadata, copy state", () => {
    const p = propertiesFromHeaders(
      new Headers({
        "content-length": "12",
        "last-modified": "Tue, 01 Dec 2026 12:00:00 GMT",
        etag: "0x8DC",
        "content-type": "text/plain",
        "x-ms-meta-Color": "blue",
        "x-ms-meta-hdi_isfolder": "true",
        "x-ms-copy-status": "pending",
        "x-ms-copy-progress": "10/12",
      }),
    );
    assert.deepEqual(p, {
      size: 12,
      lastModified: new Date("2026-12-01T12:00:00Z"),
      etag: '"0x8DC"',
      contentType: "text/plain",
      attributes: {},
      metadata: { color: "blue", hdi_isfolder: "true" },
      copyStatus: "pending",
      copyProgress: "10/12",
    });
  });

  test("a ranged Get Blob gives the whole blob's size from Content-Range", () => {
    const p = propertiesFromHeaders(
      new Headers({ "content-length": "3", "content-range": "bytes 2-4/10", etag: '"e"' }),
    );
    assert.equal(p.size, 10);
    assert.equal(p.etag, '"e"');
    assert.deepEqual(p.metadata, {});
  });

  test("HTTP attributes, version id and the stored Content-MD5 (a range's is the range's)", () => {
    const md5 = "XrY7u+Ae7tCTyyK7j1rNww==";
    const p = propertiesFromHeaders(
      new Headers({
        "content-length": "1",
        "cache-control": "no-cache",
        "content-encoding": "gzip",
        "content-disposition": "attachment",
        "content-language": "en",
        "content-md5": md5,
        "x-ms-version-id": "2026-12-01T12:00:00.0000000Z",
      }),
    );
    assert.deepEqual(p.attributes, {
      cacheControl: "no-cache",
      contentEncoding: "gzip",
      contentDisposition: "attachment",
      contentLanguage: "en",
    });
    assert.equal(p.versionId, "2026-12-01T12:00:00.0000000Z");
    assert.equal(p.contentMd5, md5);
    assert.deepEqual(md5Digest(md5), {
      algorithm: "md5",
      hex: "5eb63bbbe01eeed093cb22bb8f5acdc3",
      base64: md5,
    });
    assert.equal(md5Digest("bm90IDE2IGJ5dGVz"), undefined, "not 16 bytes");
    assert.equal(md5Digest("%%%"), undefined, "not base64");
    const ranged = propertiesFromHeaders(
      new Headers({ "content-range": "bytes 0-0/10", "content-md5": "cmFuZ2U=" }),
    );
    assert.equal(ranged.contentMd5, undefined);
    const whole = propertiesFromHeaders(
      new Headers({ "content-range": "bytes 0-0/10", "x-ms-blob-content-md5": md5 }),
    );
    assert.equal(whole.contentMd5, md5);
  });
});
