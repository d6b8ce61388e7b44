/**
 * Reliability: a failed or aborted upload (connection reset or dropped
 * around Put Block / Put Block List, an injected 500 on the commit, an abort
 * mid-stream, the caller's source stream erroring) leaves the previous
 * content intact and never exposes a partial object.
 *
 * @module
 */

import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  AlreadyExistsError,
  BackendUnavailableError,
  PreconditionFailedError,
  RemoteStoreError,
  Store,
} from "../../mod.ts";
import {
  type FaultEnv,
  type Flavor,
  HOOK,
  listDirect,
  patternBytes,
  readDirect,
  setupFaultEnv,
  sha256,
} from "./_env.ts";

const BLOCK = 64 * 1024;
const OLD = patternBytes(3 * BLOCK + 100, 1);
const NEW = patternBytes(4 * BLOCK + 333, 2);

/** A stream of `bytes` in 16 KiB chunks; calls `onChunk(index)` before each chunk. */
function slowStream(
  bytes: Uint8Array,
  onChunk: (index: number) => void | Promise<void>,
): ReadableStream<Uint8Array> {
  let index = 0;
  const size = 16 * 1024;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const start = index * size;
      if (start >= bytes.byteLength) {
        controller.close();
        return;
      }
      await onChunk(index);
      controller.enqueue(bytes.slice(start, start + size));
      index++;
    },
  });
}

for (const flavor of ["flat", "hns"] as Flavor[]) {
  describe(`reliability: failed uploads (${flavor})`, () => {
    let env: FaultEnv;
    /** No retries: the first fault fails the write. */
    let store: Store;
    /** Retries on: transient faults are absorbed. */
    let retrying: Store;
    let counter = 0;
    let key = "";

    before(async () => {
      env = await setupFaultEnv(flavor);
      store = new Store(env.backend({ retry: { maxTries: 1 } }), { rootPath: "write" });
      retrying = new Store(
        env.backend({ retry: { maxTries: 4, retryDelayMs: 5, maxRetryDelayMs: 50 } }),
        { rootPath: "write" },
      );
    }, HOOK);
    after(() => env?.close(), HOOK);
    beforeEach(() => {
      env.proxy.clear();
      key = `f${++counter}.bin`;
    });

    /** Stores OLD at `key` directly (not through the proxy). */
    const seedOld = async () => {
      await env.admin.getBlockBlobClient(`write/${key}`).uploadData(OLD);
    };

    /** The file holds exactly `expected` (hash), seen directly and through the store. */
    const assertContent = async (expected: Uint8Array | undefined) => {
      env.proxy.clear();
      const direct = await readDirect(env.admin, `write/${key}`);
      if (expected === undefined) {
        assert.equal(direct, undefined, "no object may be visible");
        assert.equal(await retrying.exists(key), false);
        return;
      }
      assert.ok(direct !== undefined, "the object must exist");
      assert.equal(direct.byteLength, expected.byteLength);
      assert.equal(sha256(direct), sha256(expected));
      assert.equal((await retrying.getFileInfo(key)).size, expected.byteLength);
      assert.equal(sha256(await retrying.readBytes(key)), sha256(expected));
    };

    /** Only the expected files (no temporary or partial ones) are in the folder. */
    const assertOnlyFiles = async () => {
      const listed = [];
      for await (const f of retrying.listFiles("", { recursive: true })) listed.push(f.path);
      const direct = (await listDirect(env.admin)).filter((n) => n.startsWith("write/"));
      for (const name of direct) {
        assert.ok(/^write\/f\d+\.bin$/.test(name), `unexpected object "${name}"`);
      }
      for (const name of listed) assert.ok(/^f\d+\.bin$/.test(name), `unexpected file "${name}"`);
    };

    const blockRule = (path: RegExp = /comp=block(&|$)/) => ({
      method: "PUT",
      path: new RegExp(`/write/${key.replace(".", "\\.")}\\?.*${path.source}`),
    });

    test("an injected 500 on Put Block List keeps the old content", async () => {
      await seedOld();
      env.proxy.add({
        ...blockRule(/comp=blocklist/),
        times: 10,
        action: { kind: "status", status: 500 },
      });
      await assert.rejects(store.write(key, NEW, { overwrite: true }), BackendUnavailableError);
      await assertContent(OLD);
      await assertOnlyFiles();
    });

    test("an injected 500 on Put Block List of a create-only write leaves no object", async () => {
      env.proxy.add({
        ...blockRule(/comp=blocklist/),
        times: 10,
        action: { kind: "status", status: 500 },
      });
      await assert.rejects(store.write(key, NEW), BackendUnavailableError);
      await assertContent(undefined);
    });

    test("exhausted retries on Put Block List (503) keep the old content", async () => {
      await seedOld();
      env.proxy.add({
        ...blockRule(/comp=blocklist/),
        times: 10,
        action: { kind: "status", status: 503, retryAfter: 0 },
      });
      await assert.rejects(retrying.write(key, NEW, { overwrite: true }), BackendUnavailableError);
      await assertContent(OLD);
    });

    test("connections dropped from the second Put Block on keep the old content", async () => {
      await seedOld();
      let blocks = 0;
      env.proxy.add({ ...blockRule(), times: 1, action: { kind: "delay", ms: 0 } });
      // Every later Put Block (also the HTTP client's own resend on a new connection).
      env.proxy.add({ ...blockRule(), times: 20, action: { kind: "drop" } });
      await assert.rejects(store.write(key, NEW, { overwrite: true }), (error) => {
        assert.ok(error instanceof RemoteStoreError, String(error));
        return true;
      });
      blocks = env.proxy.requests.filter((r) => r.target.includes(`/write/${key}?`)).length;
      assert.ok(blocks >= 2);
      await assertContent(OLD);
    });

    test("a reset mid-response of Put Block is retried and the write completes whole", async () => {
      await seedOld();
      env.proxy.add({ ...blockRule(), times: 2, action: { kind: "reset", afterBytes: 20 } });
      await retrying.write(key, NEW, { overwrite: true });
      await assertContent(NEW);
    });

    test("a lost Put Block List response: the content is the whole new file", async () => {
      await seedOld();
      env.proxy.add({
        ...blockRule(/comp=blocklist/),
        times: 1,
        action: { kind: "reset", afterBytes: 0 },
      });
      // The service committed, the answer was lost: the caller may see a
      // typed error, but the stored content is the whole new file.
      try {
        await store.write(key, NEW, { overwrite: true });
      } catch (error) {
        assert.ok(error instanceof RemoteStoreError, String(error));
      }
      await assertContent(NEW);
    });

    test("a create-only write whose Put Block List answer was lost succeeds: the retry finds its own commit", async () => {
      env.proxy.add({
        ...blockRule(/comp=blocklist/),
        times: 1,
        action: { kind: "reset", afterBytes: 0 },
      });
      const result = await retrying.write(key, NEW);
      assert.equal(result.size, NEW.byteLength);
      await assertContent(NEW);
      // Another writer's create-only write still loses.
      await assert.rejects(retrying.write(key, OLD), AlreadyExistsError);
      await assertContent(NEW);
    });

    /** Put Blob of `key` (a single-request write: no `comp=` query). */
    const putBlobRule = () => ({
      method: "PUT",
      path: new RegExp(`/write/${key.replace(".", "\\.")}$`),
    });

    test("a create-only Put Blob whose answer was lost succeeds: the retry finds its own write", async () => {
      const small = patternBytes(1000, 5);
      env.proxy.add({ ...putBlobRule(), times: 1, action: { kind: "reset", afterBytes: 0 } });
      const from = env.proxy.requests.length;
      const result = await retrying.write(key, small, { metadata: { owner: "me" } });
      const puts = env.proxy.requests.slice(from).filter((r) => r.method === "PUT");
      assert.ok(puts.length >= 2, "the Put Blob was sent again");
      assert.equal(result.size, small.byteLength);
      await assertContent(small);
      const info = await retrying.getFileInfo(key);
      assert.equal(result.etag, info.etag);
      // The upload's marker is not user metadata, in file info or in listings
      // (an HNS listing carries no metadata at all).
      assert.deepEqual(info.metadata, { owner: "me" });
      for await (const listed of retrying.listFiles("")) {
        if (listed.path !== key || listed.metadata === undefined) continue;
        assert.deepEqual(listed.metadata, { owner: "me" });
      }
      // Another writer's create-only write still loses.
      await assert.rejects(retrying.write(key, "other"), AlreadyExistsError);
      await assertContent(small);
    });

    test("an ifMatch Put Blob whose answer was lost succeeds: the retry finds its own write", async () => {
      await seedOld();
      const { etag } = await retrying.getFileInfo(key);
      const small = patternBytes(1000, 6);
      env.proxy.add({ ...putBlobRule(), times: 1, action: { kind: "reset", afterBytes: 0 } });
      const result = await retrying.write(key, small, { overwrite: true, ifMatch: etag });
      assert.equal(result.size, small.byteLength);
      await assertContent(small);
      // The old ETag no longer matches.
      await assert.rejects(
        retrying.write(key, "other", { overwrite: true, ifMatch: etag }),
        PreconditionFailedError,
      );
      await assertContent(small);
    });

    test("an abort mid-stream keeps the old content and rejects with the reason", async () => {
      await seedOld();
      const controller = new AbortController();
      const reason = new Error("caller aborted");
      const body = slowStream(NEW, (index) => {
        if (index === 9) controller.abort(reason);
      });
      await assert.rejects(
        retrying.write(key, body, { overwrite: true, signal: controller.signal }),
        (error) => error === reason,
      );
      await assertContent(OLD);
      await assertOnlyFiles();
    });

    test("an abort during the commit rejects with the reason; the content stays whole", async () => {
      await seedOld();
      env.proxy.add({ ...blockRule(/comp=blocklist/), action: { kind: "stall" } });
      const controller = new AbortController();
      const reason = new Error("caller aborted during commit");
      const pending = retrying.write(key, NEW, { overwrite: true, signal: controller.signal });
      const started = Date.now();
      while (!env.proxy.requests.some((r) => r.fault === "stall") && Date.now() - started < 5000) {
        await new Promise((r) => setTimeout(r, 10));
      }
      controller.abort(reason);
      await assert.rejects(pending, (error) => error === reason);
      assert.ok(Date.now() - started < 5000);
      // Once the commit request is on the wire, the service may still apply it
      // (Deno's node:http even re-sends a destroyed request on a fresh
      // connection): old or new, but never a part.
      await new Promise((r) => setTimeout(r, 100));
      env.proxy.clear();
      const direct = await readDirect(env.admin, `write/${key}`);
      assert.ok(direct !== undefined);
      const hash = sha256(direct);
      assert.ok(hash === sha256(OLD) || hash === sha256(NEW), "never a mix or a part");
      await assertOnlyFiles();
    });

    test("the caller's stream erroring keeps the old content", async () => {
      await seedOld();
      const failure = new Error("source failed");
      const body = slowStream(NEW, (index) => {
        if (index === 10) throw failure;
      });
      await assert.rejects(retrying.write(key, body, { overwrite: true }));
      await assertContent(OLD);
    });

    test("the caller's stream erroring in a create-only write leaves no object", async () => {
      const body = slowStream(NEW, (index) => {
        if (index === 5) throw new Error("source failed");
      });
      await assert.rejects(retrying.write(key, body));
      await assertContent(undefined);
      await assertOnlyFiles();
    });

    test("writeAtomic with a failing commit keeps the old content and leaves no temporary file", async () => {
      await seedOld();
      // flat: the Put Block List; hns: the rename onto the key (a PUT without comp=).
      const path = flavor === "flat"
        ? new RegExp(`/write/${key.replace(".", "\\.")}\\?.*comp=blocklist`)
        : new RegExp(`/write/${key.replace(".", "\\.")}(\\?(?!.*comp=)|$)`);
      env.proxy.add({ method: "PUT", path, times: 10, action: { kind: "status", status: 500 } });
      await assert.rejects(
        store.writeAtomic(key, NEW, { overwrite: true }),
        BackendUnavailableError,
      );
      await assertContent(OLD);
      await assertOnlyFiles();
    });

    test("a small single-request write (Put Blob) failing keeps the old content", async () => {
      await seedOld();
      env.proxy.add({
        method: "PUT",
        path: new RegExp(`/write/${key.replace(".", "\\.")}$`),
        times: 10,
        action: { kind: "status", status: 500 },
      });
      await assert.rejects(store.write(key, "small", { overwrite: true }), BackendUnavailableError);
      await assertContent(OLD);
    });
  });
}
