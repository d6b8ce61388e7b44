/**
 * `deleteMany` and `copyMany` on Azure: Blob Batch requests of up to 256
 * deletes on a flat namespace (Azurite accepts Blob Batch with Shared Key),
 * counted through the fault proxy; the fallback to single deletes where a
 * batch is refused; per-key deletes on ADLS Gen2 (DFS emulator), where a
 * Delete Blob could remove an empty directory.
 *
 * @module
 */

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { BackendUnavailableError, NotFoundError, PermissionDeniedError, Store } from "../../mod.ts";
import { deleteManyBlobs, type DeleteManyContext } from "../../src/backends/azure/_batch.ts";
import { deleteBlob } from "../../src/backends/azure/_blob_api.ts";
import { mapAzureError, statusOf } from "../../src/backends/azure/_errors.ts";
import { AzureHttp } from "../../src/backends/azure/_http.ts";
import { FAST_RETRY, setupEnv, type TestEnv } from "../_env.ts";

async function upload(env: TestEnv, names: readonly string[]) {
  for (let i = 0; i < names.length; i += 100) {
    await Promise.all(
      names.slice(i, i + 100).map((n) => env.admin.getBlockBlobClient(n).upload("x", 1)),
    );
  }
}

async function countBlobs(env: TestEnv, prefix: string): Promise<number> {
  let n = 0;
  for await (const _ of env.admin.listBlobsFlat({ prefix })) n++;
  return n;
}

describe("azure deleteMany on a flat namespace (Azurite, through the fault proxy)", () => {
  let env: TestEnv;
  let http: AzureHttp;
  before(async () => {
    env = await setupEnv("flat", { proxy: true });
    http = new AzureHttp({
      container: env.container,
      connectionString: env.connectionString,
      retry: FAST_RETRY,
    });
  });
  after(async () => {
    http?.close();
    await env?.close();
  });

  const context = (): DeleteManyContext & { singles: number } => {
    const out = {
      http,
      useBatch: true,
      batch: { refused: false },
      startFrom: { refused: false },
      singles: 0,
      mapError: (error: unknown, key: string, signal?: AbortSignal) =>
        mapAzureError(error, { key, signal }),
      async deleteOne(key: string, signal?: AbortSignal) {
        out.singles++;
        try {
          await deleteBlob(http, key, { signal, includeSnapshots: true });
        } catch (error) {
          throw statusOf(error) === 404
            ? new NotFoundError("File not found", { path: key })
            : mapAzureError(error, { key, signal });
        }
      },
    };
    return out;
  };

  test("deleteMany of 1,000 paths reports each missing path and sends at most 4 batch requests", {
    timeout: 120_000,
  }, async () => {
    const present = Array.from({ length: 500 }, (_, i) => `many/p${i}.txt`);
    await upload(env, present);
    await upload(env, ["many/keep.txt"]);
    const asked: string[] = [];
    for (let i = 0; i < 500; i++) asked.push(present[i]!, `many/missing${i}.txt`);
    const store = new Store(env.backend());
    const before = env.proxy!.requests.length;
    const results = await store.deleteMany(asked);
    const seen = env.proxy!.requests.slice(before);
    const batches = seen.filter((r) => r.method === "POST" && r.target.includes("comp=batch"));
    assert.equal(batches.length, 4, `1,000 deletes take 4 batches, got ${batches.length}`);
    const others = seen.filter((r) =>
      !batches.includes(r) && !r.target.includes("restype=account")
    );
    assert.deepEqual(others, [], "no other request but the namespace probe");
    assert.equal(results.length, 1000);
    for (let i = 0; i < 500; i++) {
      assert.deepEqual(results[2 * i], { path: present[i], status: "done" });
      assert.deepEqual(results[2 * i + 1], { path: `many/missing${i}.txt`, status: "not_found" });
    }
    assert.equal(await countBlobs(env, "many/"), 1, "only the file not asked for is left");
  });

  test("a refused Blob Batch (403 from the proxy) falls back to single deletes once", async () => {
    const names = Array.from({ length: 300 }, (_, i) => `fb/${i}.txt`);
    await upload(env, names);
    env.proxy!.add({
      method: "POST",
      path: /comp=batch/,
      action: { kind: "status", status: 403, code: "AuthorizationPermissionMismatch" },
    });
    const ctx = context();
    const keys = [...names, "fb/none.txt"];
    const results = await deleteManyBlobs(ctx, keys, { concurrency: 4 });
    assert.equal(ctx.batch.refused, true);
    assert.ok(ctx.singles >= 301 - 256 && ctx.singles <= 301, `${ctx.singles} single deletes`);
    assert.deepEqual(results.slice(0, 300), names.map(() => ({ status: "done" })));
    assert.deepEqual(results[300], { status: "not_found" });
    assert.equal(await countBlobs(env, "fb/"), 0);
    // A later call does not try a batch again.
    await upload(env, names.slice(0, 3));
    const before = env.proxy!.requests.length;
    const again = await deleteManyBlobs(ctx, names.slice(0, 3), { concurrency: 4 });
    assert.deepEqual(again.map((r) => r.status), ["done", "done", "done"]);
    assert.ok(!env.proxy!.requests.slice(before).some((r) => r.target.includes("comp=batch")));
    env.proxy!.clear();
  });

  test("a batch that still fails after retries (503) is an error per key, not a fallback", async () => {
    await upload(env, ["busy/a.txt", "busy/b.txt"]);
    env.proxy!.add({
      method: "POST",
      path: /comp=batch/,
      times: FAST_RETRY.maxTries,
      action: { kind: "status", status: 503, code: "ServerBusy" },
    });
    try {
      const ctx = context();
      const results = await deleteManyBlobs(ctx, ["busy/a.txt", "busy/b.txt"], { concurrency: 2 });
      assert.deepEqual(results.map((r) => r.status), ["error", "error"]);
      assert.ok(results[0]!.error instanceof BackendUnavailableError, String(results[0]!.error));
      assert.equal(ctx.batch.refused, false, "a busy service is not a refusal");
      assert.equal(ctx.singles, 0);
      assert.equal(await countBlobs(env, "busy/"), 2, "nothing was deleted");
    } finally {
      env.proxy!.clear();
    }
  });

  test("a sub-request refused inside the batch is an error result for that key only", async () => {
    await upload(env, ["sub/a.txt", "sub/b.txt"]);
    // A lease makes the service refuse that one delete (412 LeaseIdMissing) inside a 202 batch.
    const lease = env.admin.getBlobClient("sub/b.txt").getBlobLeaseClient();
    await lease.acquireLease(-1);
    try {
      const results = await new Store(env.backend()).deleteMany(["sub/a.txt", "sub/b.txt"]);
      assert.deepEqual(results[0], { path: "sub/a.txt", status: "done" });
      assert.equal(results[1]!.status, "error");
      assert.equal(results[1]!.path, "sub/b.txt");
      assert.ok(results[1]!.error instanceof Error, String(results[1]!.error));
      assert.equal(await countBlobs(env, "sub/b.txt"), 1);
    } finally {
      await lease.releaseLease();
    }
  });

  test("copyMany copies each pair with server-side copies", async () => {
    await upload(env, ["cm/a.txt", "cm/b.txt"]);
    const store = new Store(env.backend(), { rootPath: "cm" });
    const results = await store.copyMany([["a.txt", "out/a.txt"], ["nope.txt", "out/n.txt"], [
      "b.txt",
      "a.txt",
    ]]);
    assert.deepEqual(results.map((r) => r.status), ["done", "not_found", "error"]);
    assert.equal(await store.readText("out/a.txt"), "x");
  });

  test("an error result carries the store path and backend name", async () => {
    env.proxy!.add({
      method: "POST",
      path: /comp=batch/,
      action: { kind: "status", status: 403, code: "AuthorizationPermissionMismatch" },
    });
    env.proxy!.add({
      method: "DELETE",
      path: /perm\/x\.txt/,
      times: Infinity,
      action: { kind: "status", status: 403, code: "AuthorizationPermissionMismatch" },
    });
    try {
      await upload(env, ["perm/x.txt", "perm/y.txt"]);
      const store = new Store(env.backend(), { rootPath: "perm", backendName: "files" });
      const results = await store.deleteMany(["x.txt", "y.txt"]);
      assert.equal(results[0]!.status, "error");
      const error = results[0]!.error;
      assert.ok(error instanceof PermissionDeniedError, String(error));
      assert.equal(error.path, "x.txt");
      assert.equal(error.backend, "files");
      assert.deepEqual(results[1], { path: "y.txt", status: "done" });
    } finally {
      env.proxy!.clear();
    }
  });
});

describe("azure deleteMany on ADLS Gen2 (DFS emulator)", () => {
  let env: TestEnv;
  before(async () => {
    env = await setupEnv("hns");
  });
  after(async () => await env?.close());

  test("deletes files one by one and never removes a directory", async () => {
    const store = new Store(env.backend({ hns: true, retry: FAST_RETRY }));
    await store.write("h/a.txt", "a");
    await store.write("h/dir/inner.txt", "i");
    await store.deleteMany(["h/dir/inner.txt"]);
    assert.equal(await store.isFolder("h/dir"), true, "an empty directory stays");
    const results = await store.deleteMany(["h/a.txt", "h/none.txt", "h/dir"]);
    assert.deepEqual(results.slice(0, 2), [
      { path: "h/a.txt", status: "done" },
      { path: "h/none.txt", status: "not_found" },
    ]);
    assert.notEqual(results[2]!.status, "done");
    assert.equal(await store.isFolder("h/dir"), true, "a directory is not a file to delete");
  });
});
