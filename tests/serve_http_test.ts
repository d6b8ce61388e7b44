// serveFile over real HTTP on loopback, with the runtime's own server
// (Deno.serve, Bun.serve, or node:http through the adapter in
// examples/serve.ts), against a memory store and a local-disk store.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { type Backend, type BackendReadOptions, MemoryBackend, Store } from "../mod.ts";
import { LocalBackend } from "../local.ts";
import { type AzureEnv, setupAzure } from "./azure/_setup.ts";
import { serve, type Served } from "../examples/serve.ts";
import { patternBytes, sameBytes } from "../src/conformance/_helpers.ts";

const MiB = 1024 * 1024;
const CHUNK = 64 * 1024;
const PACED_AFTER = 8 * 1024 * 1024;

/** What the tracked backend saw: each read's options and what became of its stream. */
interface ReadRecord {
  key: string;
  range?: BackendReadOptions["range"];
  pulledBytes: number;
  cancelled: boolean;
  finished: boolean;
}

/**
 * Wraps a backend so that every stream `read` returns is re-chunked to at most
 * 64 KiB (memory hands out one view of the whole file; this makes it stream
 * like a real backend), paces reads past 8 MiB, and records its range, the
 * bytes pulled from it and whether it was cancelled.
 */
function tracked(inner: Backend): { backend: Backend; reads: ReadRecord[] } {
  const reads: ReadRecord[] = [];
  const backend = new Proxy(inner, {
    get(target, property) {
      // The target as receiver: getters may read the backend's private fields.
      const value = Reflect.get(target, property);
      if (property !== "read") return typeof value === "function" ? value.bind(target) : value;
      return async (key: string, options: BackendReadOptions) => {
        const record: ReadRecord = {
          key,
          range: options.range,
          pulledBytes: 0,
          cancelled: false,
          finished: false,
        };
        reads.push(record);
        const reader = (await target.read(key, options)).getReader();
        let pending: Uint8Array | undefined;
        return new ReadableStream<Uint8Array>({
          async pull(controller) {
            if (!pending || pending.byteLength === 0) {
              const { done, value } = await reader.read();
              if (record.cancelled) return; // a read pending at cancel resolves done
              if (done) {
                record.finished = true;
                controller.close();
                return;
              }
              pending = value;
            }
            // Past 8 MiB a read is paced (about 30 MiB/s), so a fast disk cannot finish
            // a large file before the client's abort reaches the server.
            if (record.pulledBytes >= PACED_AFTER) await new Promise((r) => setTimeout(r, 2));
            const chunk = pending.subarray(0, CHUNK);
            pending = pending.subarray(chunk.byteLength);
            record.pulledBytes += chunk.byteLength;
            controller.enqueue(chunk);
          },
          async cancel(reason) {
            record.cancelled = true;
            await reader.cancel(reason);
          },
        }, { highWaterMark: 0 });
      };
    },
  }) as Backend;
  return { backend, reads };
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

async function until(condition: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Reads a response body up to `limit` bytes, then cancels the rest. */
async function readSome(response: Response, limit: number): Promise<Uint8Array> {
  const reader = response.body!.getReader();
  const out = new Uint8Array(limit);
  let filled = 0;
  while (filled < limit) {
    const { done, value } = await reader.read();
    if (done) break;
    const take = Math.min(value.byteLength, limit - filled);
    out.set(value.subarray(0, take), filled);
    filled += take;
  }
  await reader.cancel();
  return out.subarray(0, filled);
}

const kinds = ["memory", "local", "azure"] as const;

for (const kind of kinds) {
  describe(`serveFile over HTTP (${kind})`, () => {
    const video = patternBytes(3 * MiB + 17, 99);
    const size = video.byteLength;
    let tmp: string | undefined;
    let reads: ReadRecord[];
    let store: Store;
    let served: Served;
    // Bun.serve sends a streamed body chunked and drops Content-Length (Bun 1.4),
    // so Content-Length of streamed bodies is only checked on Deno and Node.
    const streamedLength = (response: Response, expected: number) => {
      if (served.runtime === "bun") return;
      assert.equal(response.headers.get("content-length"), String(expected));
    };

    let azure: AzureEnv | undefined;

    before(async () => {
      let inner: Backend;
      if (kind === "memory") {
        inner = new MemoryBackend();
      } else if (kind === "local") {
        tmp = await fs.mkdtemp(path.join(os.tmpdir(), "rs-serve-"));
        inner = new LocalBackend({ root: tmp });
      } else {
        azure = await setupAzure();
        inner = azure.backend({ hns: false });
      }
      const t = tracked(inner);
      reads = t.reads;
      store = new Store(t.backend, { rootPath: "site" });
      await store.write("media/video.mp4", video);
      await store.write("big.bin", new Uint8Array(48 * MiB));
      await store.write("hello world.txt", "hello\n");
      served = await serve(store);
    });

    after(async () => {
      await served.close();
      if (tmp) await fs.rm(tmp, { recursive: true, force: true });
      await azure?.close();
    });

    test("a video player's Range requests get 206 with the right bytes", async () => {
      const url = `${served.url}media/video.mp4`;
      reads.length = 0;

      // The player opens with bytes=0-, reads a little and drops the connection.
      const first = await fetch(url, { headers: { range: "bytes=0-" } });
      assert.equal(first.status, 206);
      assert.equal(first.headers.get("content-range"), `bytes 0-${size - 1}/${size}`);
      assert.equal(first.headers.get("accept-ranges"), "bytes");
      assert.equal(first.headers.get("content-type"), "video/mp4");
      streamedLength(first, size);
      assert.deepEqual(await readSome(first, 100_000), video.subarray(0, 100_000));

      // Then it seeks with explicit windows, some not aligned to anything.
      const windows: [number, number][] = [
        [0, 65_535],
        [65_536, MiB - 1],
        [MiB + 12_345, 2 * MiB + 999],
        [2 * MiB + 1_000, 3 * MiB - 1],
        [3 * MiB, size - 1],
        [size - 1, size - 1],
        [size - 100, size + 10_000], // past the end: truncated
      ];
      for (const [start, end] of windows) {
        const response = await fetch(url, { headers: { range: `bytes=${start}-${end}` } });
        const last = Math.min(end, size - 1);
        assert.equal(response.status, 206, `${start}-${end}`);
        assert.equal(response.headers.get("content-range"), `bytes ${start}-${last}/${size}`);
        streamedLength(response, last - start + 1);
        const body = new Uint8Array(await response.arrayBuffer());
        assert.equal(body.byteLength, last - start + 1);
        assert.ok(sameBytes(body, video.subarray(start, last + 1)), `${start}-${end}`);
      }

      // And the index at the end of the file, with a suffix range.
      const tail = await fetch(url, { headers: { range: "bytes=-4096" } });
      assert.equal(tail.status, 206);
      assert.equal(tail.headers.get("content-range"), `bytes ${size - 4096}-${size - 1}/${size}`);
      assert.deepEqual(new Uint8Array(await tail.arrayBuffer()), video.subarray(size - 4096));

      // Every request was a ranged backend read of exactly the requested bytes.
      const expected = [
        { offset: 0, length: size },
        ...windows.map(([s, e]) => ({ offset: s, length: Math.min(e, size - 1) - s + 1 })),
        { offset: size - 4096, length: 4096 },
      ];
      assert.deepEqual(reads.map((r) => r.range), expected);
    });

    test("a full download: 200, validators, and bytes whose sha-256 matches", async () => {
      const response = await fetch(`${served.url}media/video.mp4`);
      assert.equal(response.status, 200);
      streamedLength(response, size);
      assert.equal(response.headers.get("accept-ranges"), "bytes");
      assert.equal(response.headers.get("cache-control"), "no-cache");
      const etag = response.headers.get("etag");
      assert.ok(etag && /^"[^"]+"$/.test(etag), `strong ETag, got ${etag}`);
      const info = await store.getFileInfo("media/video.mp4");
      assert.equal(etag, info.etag);
      assert.equal(
        response.headers.get("last-modified"),
        new Date(Math.floor(info.modifiedAt.getTime() / 1000) * 1000).toUTCString(),
      );
      const body = new Uint8Array(await response.arrayBuffer());
      assert.equal(body.byteLength, size);
      assert.equal(sha256(body), sha256(video));
    });

    test("HEAD sends the headers without a body and without reading content", async () => {
      reads.length = 0;
      const response = await fetch(`${served.url}media/video.mp4`, { method: "HEAD" });
      assert.equal(response.status, 200);
      // No body is streamed for HEAD, so every server keeps Content-Length here.
      assert.equal(response.headers.get("content-length"), String(size));
      assert.equal(response.headers.get("content-type"), "video/mp4");
      assert.equal((await response.arrayBuffer()).byteLength, 0);
      assert.equal(reads.length, 0);
    });

    test("revalidation: If-None-Match -> 304, stale If-Range -> 200 full", async () => {
      const url = `${served.url}hello%20world.txt`;
      const first = await fetch(url);
      assert.equal(await first.text(), "hello\n");
      assert.match(first.headers.get("content-type") ?? "", /^text\/plain/);
      const etag = first.headers.get("etag")!;
      const lastModified = first.headers.get("last-modified")!;

      const cached = await fetch(url, { headers: { "if-none-match": etag } });
      assert.equal(cached.status, 304);
      assert.equal(cached.headers.get("etag"), etag);
      assert.equal((await cached.arrayBuffer()).byteLength, 0);

      const since = await fetch(url, { headers: { "if-modified-since": lastModified } });
      assert.equal(since.status, 304);
      await since.body?.cancel();

      const resumed = await fetch(url, { headers: { range: "bytes=2-", "if-range": etag } });
      assert.equal(resumed.status, 206);
      assert.equal(await resumed.text(), "llo\n");

      const stale = await fetch(url, { headers: { range: "bytes=2-", "if-range": '"old"' } });
      assert.equal(stale.status, 200);
      assert.equal(await stale.text(), "hello\n");

      const unsatisfiable = await fetch(url, { headers: { range: "bytes=100-" } });
      assert.equal(unsatisfiable.status, 416);
      assert.equal(unsatisfiable.headers.get("content-range"), "bytes */6");
      await unsatisfiable.body?.cancel();

      const multi = await fetch(url, { headers: { range: "bytes=0-1,3-4" } });
      assert.equal(multi.status, 200);
      assert.equal(await multi.text(), "hello\n");
    });

    test("404 for missing files and folders, 405 for other methods", async () => {
      for (const name of ["nope.txt", "media", "media/"]) {
        const missing = await fetch(`${served.url}${name}`);
        assert.equal(missing.status, 404, name);
        assert.equal(await missing.text(), "Not Found\n");
      }
      const post = await fetch(`${served.url}media/video.mp4`, { method: "POST", body: "x" });
      assert.equal(post.status, 405);
      assert.equal(post.headers.get("allow"), "GET, HEAD");
      await post.body?.cancel();
    });

    test("aborting a download mid-body cancels the backend read", async () => {
      reads.length = 0;
      const controller = new AbortController();
      const response = await fetch(`${served.url}big.bin`, { signal: controller.signal });
      assert.equal(response.status, 200);
      const reader = response.body!.getReader();
      let received = 0;
      while (received < MiB) {
        const { done, value } = await reader.read();
        if (done) break;
        received += value.byteLength;
      }
      controller.abort();
      await reader.read().catch(() => {});
      assert.equal(reads.length, 1);
      const record = reads[0]!;
      await until(() => record.cancelled, "the backend stream to be cancelled");
      assert.equal(record.finished, false, JSON.stringify({ ...record, received }));
      assert.ok(
        record.pulledBytes < 48 * MiB,
        `only part of the file was read (${record.pulledBytes} bytes)`,
      );
    });
  });
}
