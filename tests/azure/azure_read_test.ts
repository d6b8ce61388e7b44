import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  BackendUnavailableError,
  NotFoundError,
  PreconditionFailedError,
  Store,
} from "../../mod.ts";
import { type FaultProxy, startFaultProxy } from "../_fault_proxy.ts";
import { type AzureEnv, hashStream, HOOK, patternBytes, setupAzure, sha256 } from "./_setup.ts";

const MiB = 1024 * 1024;

describe("azure read streams", () => {
  let env: AzureEnv;
  let proxy: FaultProxy;
  let direct: Store;
  const data = patternBytes(8 * MiB, 7);
  const dataHash = sha256(data);

  /** A store whose traffic goes through the proxy (no HNS probe, fast resumes). */
  const viaProxy = (maxResumes = 5) =>
    new Store(
      env.backend({
        hns: false,
        connectionString: env.az.connectionString.replace(
          `:${env.az.port}/`,
          `:${proxy.port}/`,
        ),
        retry: { maxTries: 1, retryDelayMs: 5, maxRetryDelayMs: 20, maxResumes },
      }),
    );

  /** Cuts the next `times` downloads (GET) after `afterBytes` response bytes. */
  const cutDownloads = (afterBytes: number, times = 1) =>
    proxy.add({ method: "GET", times, action: { kind: "reset", afterBytes } });
  const cuts = () => proxy.requests.filter((r) => r.cut).length;

  before(async () => {
    env = await setupAzure();
    proxy = await startFaultProxy(env.az.port);
    direct = new Store(env.backend());
    await direct.write("big.bin", data);
  }, HOOK);

  after(async () => {
    await proxy?.stop();
    await env?.close();
  }, HOOK);

  test("a dropped download resumes from the current offset, pinned to the ETag", {
    timeout: 30_000,
  }, async () => {
    const store = viaProxy();
    const before = proxy.requests.length;
    const cutsBefore = cuts();
    cutDownloads(300 * 1024);
    const result = await hashStream(await store.read("big.bin"));
    assert.equal(cuts() - cutsBefore, 1);
    assert.equal(result.size, data.byteLength);
    assert.equal(result.sha256, dataHash);
    const gets = proxy.requests.slice(before).filter((r) => r.method === "GET");
    assert.equal(gets.length, 2, `expected the first GET and one resume, got ${gets.length}`);
  });

  test(
    "several drops within maxResumes still deliver every byte",
    { timeout: 30_000 },
    async () => {
      const store = viaProxy(5);
      const cutsBefore = cuts();
      cutDownloads(700 * 1024, 3);
      const result = await hashStream(await store.read("big.bin"));
      assert.equal(cuts() - cutsBefore, 3);
      assert.equal(result.sha256, dataHash);
    },
  );

  test("a dropped ranged read resumes within the range", { timeout: 30_000 }, async () => {
    const store = viaProxy();
    cutDownloads(200 * 1024);
    const range = { offset: 12345, length: 3 * MiB };
    const result = await hashStream(await store.read("big.bin", { range }));
    assert.equal(result.size, range.length);
    assert.equal(result.sha256, sha256(data.subarray(range.offset, range.offset + range.length)));
  });

  test("after maxResumes failed resumes the stream errors with BackendUnavailableError", {
    timeout: 30_000,
  }, async () => {
    const store = viaProxy(2);
    cutDownloads(100 * 1024, 100);
    try {
      const stream = await store.read("big.bin");
      await assert.rejects(hashStream(stream), BackendUnavailableError);
    } finally {
      proxy.clear();
    }
  });

  test("a blob changed before the resume errors the stream with PreconditionFailedError", {
    timeout: 30_000,
  }, async () => {
    await direct.write("changing.bin", data);
    const store = viaProxy();
    cutDownloads(256 * 1024);
    // The resume (the only request with If-Match) waits in the proxy until the blob changed.
    proxy.add({ head: /\r\nif-match:/i, action: { kind: "stall" } });
    try {
      const stream = await store.read("changing.bin");
      const reading = assert.rejects(hashStream(stream), PreconditionFailedError);
      await proxy.waitStalled();
      await direct.write("changing.bin", patternBytes(8 * MiB, 99), { overwrite: true });
      proxy.release();
      await reading;
    } finally {
      proxy.clear();
      proxy.release();
    }
  });

  test("the stream pulls on demand (backpressure): an unread stream stops downloading", {
    timeout: 30_000,
  }, async () => {
    // 48 MiB: more than the socket buffers of both loopback hops can hold.
    const size = 48 * MiB;
    await direct.write("huge.bin", patternBytes(size, 3));
    const store = viaProxy();
    const start = proxy.responseBytes;
    const stream = await store.read("huge.bin");
    const reader = stream.getReader();
    await reader.read();
    await new Promise((r) => setTimeout(r, 400));
    const buffered = proxy.responseBytes - start;
    assert.ok(buffered < size / 3, `downloaded ${buffered} bytes while only one chunk was read`);
    await reader.cancel();
    await direct.delete("huge.bin");
  });

  test("ranges: past the end, zero length, empty blob", { timeout: 30_000 }, async () => {
    await direct.write("small.txt", "0123456789");
    await direct.write("empty.txt", "");
    const text = (offset: number, length?: number) =>
      direct.readText("small.txt", { range: { offset, length } });
    assert.equal(await text(2, 3), "234");
    assert.equal(await text(8), "89");
    assert.equal(await text(8, 100), "89");
    assert.equal(await text(10), "");
    assert.equal(await text(1000), "");
    assert.equal(await text(3, 0), "");
    assert.equal(await direct.readText("empty.txt"), "");
    assert.equal(await direct.readText("empty.txt", { range: { offset: 0, length: 5 } }), "");
    assert.equal(await direct.readText("empty.txt", { range: { offset: 3 } }), "");
    await assert.rejects(direct.read("nothing.txt", { range: { offset: 3 } }), NotFoundError);
    await assert.rejects(
      direct.read("nothing.txt", { range: { offset: 0, length: 0 } }),
      NotFoundError,
    );
  });

  test("read rejects NotFoundError before returning a stream", { timeout: 30_000 }, async () => {
    await assert.rejects(direct.read("missing/file.bin"), NotFoundError);
  });

  test(
    "aborting while the stream is read errors it with the signal's reason",
    { timeout: 30_000 },
    async () => {
      const controller = new AbortController();
      const stream = await direct.read("big.bin", { signal: controller.signal });
      const reader = stream.getReader();
      await reader.read();
      const reason = new Error("stop reading");
      controller.abort(reason);
      await assert.rejects(
        (async () => {
          while (!(await reader.read()).done);
        })(),
        (error) => error === reason,
      );
    },
  );

  test("an aborted signal rejects read with its reason", { timeout: 30_000 }, async () => {
    const reason = new Error("aborted early");
    await assert.rejects(
      direct.read("big.bin", { signal: AbortSignal.abort(reason) }),
      (error) => error === reason,
    );
  });
});
