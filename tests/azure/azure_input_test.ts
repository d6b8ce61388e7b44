/**
 * Caller values on Azure used directly (no Store in front): an invalid
 * content type, metadata name or value never reaches the network and is never
 * retried; a 400 the service sends for a caller's value is a `TypeError` or
 * `RangeError`, sent once, never the retryable `BackendUnavailableError`.
 *
 * @module
 */

import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { BackendWriteOptions } from "../../mod.ts";
import type { AzureBackend } from "../../azure.ts";
import { type FaultEnv, HOOK, setupFaultEnv } from "../reliability/_env.ts";

const bytes = new TextEncoder().encode("content");

/** Write options with `extra`. */
const opts = (extra: Partial<BackendWriteOptions>): BackendWriteOptions => ({
  overwrite: true,
  atomic: false,
  ...extra,
});

/** Invalid values, each with the error class it must raise. */
const INVALID: [string, Partial<BackendWriteOptions>, typeof TypeError | typeof RangeError][] = [
  ["a non-Latin-1 content type", { contentType: "text/plain; charset=\u2713" }, TypeError],
  ["a content type with CR/LF", { contentType: "text/plain\r\nx-evil: 1" }, TypeError],
  ["a content type with NUL", { contentType: "text/plain\u0000" }, TypeError],
  ["a content type that is not a MIME type", { contentType: "plain" }, TypeError],
  ["a metadata name with a hyphen", { metadata: { "a-b": "x" } }, TypeError],
  ["a metadata name with a leading digit", { metadata: { "1abc": "x" } }, TypeError],
  ["a non-ASCII metadata name", { metadata: { "\u00e9": "x" } }, TypeError],
  ["an empty metadata name", { metadata: { "": "x" } }, TypeError],
  ["a non-ASCII metadata value", { metadata: { a: "\u00e9" } }, TypeError],
  ["metadata over 8 KiB", { metadata: { a: "x".repeat(8 * 1024) } }, RangeError],
  ["the reserved upload-marker name", { metadata: { RemoteStoreUpload: "x" } }, TypeError],
  ["an ifMatch with CR/LF", { ifMatch: '"x"\r\nx-evil: 1' }, TypeError],
];

describe("azure: caller values (backend used directly)", () => {
  let env: FaultEnv;
  /** Slow retries: a retried caller mistake would show as extra requests, not as time. */
  let backend: AzureBackend;

  before(async () => {
    env = await setupFaultEnv("flat");
    backend = env.backend({ retry: { maxTries: 4, retryDelayMs: 1, maxRetryDelayMs: 5 } });
  }, HOOK);
  after(() => env?.close(), HOOK);
  beforeEach(() => env.proxy.clear());

  test("invalid header and metadata values reject before any request, with a typed error", async () => {
    for (const [what, extra, type] of INVALID) {
      const from = env.proxy.requests.length;
      const error = await backend.writeBytes("v/a.txt", bytes, opts(extra)).then(
        () => assert.fail(`writeBytes accepted ${what}`),
        (e: unknown) => e,
      );
      assert.ok(error instanceof type, `writeBytes, ${what}: ${error}`);
      assert.doesNotMatch(String(error), /unavailable|could not be reached/i);
      let cancelled = false;
      const body = new ReadableStream<Uint8Array>({
        pull: (c) => c.enqueue(bytes),
        cancel: () => void (cancelled = true),
      });
      await assert.rejects(backend.write("v/a.txt", body, opts(extra)), type, `write, ${what}`);
      assert.ok(cancelled, `write, ${what}: the body is cancelled`);
      assert.equal(env.proxy.requests.length, from, `${what}: no request was sent`);
    }
    await assert.rejects(
      backend.signedUrl("v/a.txt", {
        expiresIn: 60,
        permissions: ["read"],
        contentDisposition: "attachment\r\nx-evil: 1",
      }),
      TypeError,
    );
  });

  test("a 400 naming a caller's value is a TypeError, sent once and never retried", async () => {
    env.proxy.add({
      method: "PUT",
      path: /\/v\/b\.txt$/,
      times: 10,
      action: { kind: "status", status: 400, code: "InvalidMetadata" },
    });
    const from = env.proxy.requests.length;
    const error = await backend.writeBytes("v/b.txt", bytes, opts({ metadata: { ok: "1" } }))
      .then(() => assert.fail("the write succeeded"), (e: unknown) => e);
    assert.ok(error instanceof TypeError, String(error));
    assert.match(String(error), /400 InvalidMetadata/);
    assert.equal(env.proxy.requests.slice(from).filter((r) => r.method === "PUT").length, 1);
  });

  test("a 400 naming an out-of-range value is a RangeError, sent once", async () => {
    env.proxy.add({
      method: "HEAD",
      path: /\/v\/c\.txt$/,
      times: 10,
      action: { kind: "status", status: 400, code: "OutOfRangeInput" },
    });
    const from = env.proxy.requests.length;
    await assert.rejects(backend.getFileInfo("v/c.txt", {}), RangeError);
    assert.equal(env.proxy.requests.length - from, 1);
  });

  test("create-only with 8 KiB of metadata succeeds (no room for the upload marker: staged)", async () => {
    const metadata = { big: "x".repeat(8 * 1024 - 3) };
    const from = env.proxy.requests.length;
    const result = await backend.writeBytes("v/d.txt", bytes, opts({ overwrite: false, metadata }));
    assert.equal(result.size, bytes.byteLength);
    const commits = env.proxy.requests.slice(from).filter((r) => /comp=blocklist/.test(r.target));
    assert.equal(commits.length, 1, "the staged path (Put Block List) was taken");
    const info = await backend.getFileInfo("v/d.txt", {});
    assert.deepEqual(info.metadata, metadata);
    assert.equal(info.etag, result.etag);
  });
});
