import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  BackendUnavailableError,
  NotFoundError,
  PreconditionFailedError,
  Store,
} from "../../mod.ts";
import { startTcpProxy, type TcpProxy } from "../_tcp_proxy.ts";
import { type AzureEnv, hashStream, HOOK, patternBytes, setupAzure, sha256 } from "./_setup.ts";

const MiB = 1024 * 1024;

describe("azure read streams", () => {
  let env: AzureEnv;
  let proxy: TcpProxy;
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

  before(async () => {
    env = await setupAzure();
    proxy = await startTcpProxy(env.az.port);
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
    proxy.cut({ afterBytes: 300 * 1024, connections: 1 });
    const result = await hashStream(await store.read("big.bin"));
    assert.equal(proxy.cuts, 1);
    assert.equal(result.size, data.byteLength);
    assert.equal(result.sha256, dataHash);
    const gets = proxy.requests.slice(before).filter((r) => r.startsWith("GET "));
    assert.equal(gets.length, 2, `expected the first GET and one resume, got ${gets.join(", ")}`);
  });

  test(
    "several drops within maxResumes still deliver every byte",
    { timeout: 30_000 },
    async () => {
      const store = viaProxy(5);
      const cutsBefore = proxy.cuts;
      proxy.cut({ afterBytes: 700 * 1024, connections: 3 });
      const result = await hashStream(await store.read("big.bin"));
      assert.equal(proxy.cuts - cutsBefore, 3);
      assert.equal(result.sha256, dataHash);
    },
  );

  test("a dropped ranged read resumes within the range", { timeout: 30_000 }, async () => {
    const store = viaProxy();
    proxy.cut({ afterBytes: 200 * 1024, connections: 1 });
    const range = { offset: 12345, length: 3 * MiB };
    const result = await hashStream(await store.read("big.bin", { range }));
    assert.equal(result.size, range.length);
    assert.equal(result.sha256, sha256(data.subarray(range.offset, range.offset + range.length)));
  });

  test("after maxResumes failed resumes the stream errors with BackendUnavailableError", {
    timeout: 30_000,
  }, async () => {
    const store = viaProxy(2);
    proxy.cut({ afterBytes: 100 * 1024, connections: 100 });
    try {
      const stream = await store.read("big.bin");
      await assert.rejects(hashStream(stream), BackendUnavailableError);
    } finally {
      proxy.cut({ afterBytes: 0, connections: 0 });
    }
  });

  test("a blob changed before the resume errors the stream with PreconditionFailedError", {
    timeout: 30_000,
  }, async () => {
    await direct.write("changing.bin", data);
    const store = viaProxy();
    proxy.cut({ afterBytes: 256 * 1024, connections: 1 });
    // The resume (the only request with If-Match) waits in the proxy until the blob changed.
    proxy.hold({ match: /\r\nif-match:/i });
    try {
      const stream = await store.read("changing.bin");
      const reading = assert.rejects(hashStream(stream), PreconditionFailedError);
      await proxy.waitForHeld();
      await direct.write("changing.bin", patternBytes(8 * MiB, 99), { overwrite: true });
      proxy.release();
      await reading;
    } finally {
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
