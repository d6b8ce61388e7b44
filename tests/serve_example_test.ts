// The serving example, on whichever runtime runs this test: Deno.serve,
// Bun.serve or node:http. Real HTTP on loopback, bytes compared end to end.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { MemoryBackend, Store } from "../mod.ts";
import { serve, type Served } from "../examples/serve.ts";
import { patternBytes } from "../src/conformance/_helpers.ts";

describe("examples/serve.ts", () => {
  const store = new Store(new MemoryBackend(), { rootPath: "site" });
  const big = patternBytes(5 * 1024 * 1024 + 3, 42);
  let served: Served;

  before(async () => {
    await store.write("big.bin", big);
    await store.write("dir/hello world.txt", "hello\n");
    served = await serve(store);
  });
  after(() => served.close());

  test("serves a 5 MiB file whose bytes and hash match", async () => {
    const response = await fetch(`${served.url}big.bin`);
    assert.equal(response.status, 200);
    // Bun.serve sends a streamed body chunked and drops Content-Length (Bun 1.4).
    if (served.runtime !== "bun") {
      assert.equal(response.headers.get("content-length"), String(big.byteLength));
    }
    const body = new Uint8Array(await response.arrayBuffer());
    const digest = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
    assert.equal(digest(body), digest(big));
  });

  test("serves text with its content type and answers 404 for a missing file", async () => {
    const ok = await fetch(`${served.url}dir/hello%20world.txt`);
    assert.equal(await ok.text(), "hello\n");
    assert.match(ok.headers.get("content-type") ?? "", /^text\/plain/);
    const missing = await fetch(`${served.url}nope.txt`);
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
  });

  test("answers Range and revalidation requests (through serveFile)", async () => {
    const part = await fetch(`${served.url}big.bin`, { headers: { range: "bytes=100-199" } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get("content-range"), `bytes 100-199/${big.byteLength}`);
    assert.deepEqual(new Uint8Array(await part.arrayBuffer()), big.subarray(100, 200));
    const etag = part.headers.get("etag") ?? "";
    const cached = await fetch(`${served.url}big.bin`, { headers: { "if-none-match": etag } });
    assert.equal(cached.status, 304);
    await cached.body?.cancel();
    const bad = await fetch(`${served.url}%E0%A4%A`);
    assert.equal(bad.status, 400);
    await bad.body?.cancel();
  });

  test("uses the runtime's own server", () => {
    const g = globalThis as Record<string, unknown>;
    assert.equal(served.runtime, g.Deno ? "deno" : g.Bun ? "bun" : "node");
  });
});
