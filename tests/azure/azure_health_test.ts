/**
 * `ping`, a missing container and `createFolder` on a flat Blob namespace
 * (Azurite): what the conformance suite cannot show, because it needs a
 * second container, other credentials or a closed port.
 */

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { inspect } from "node:util";
import {
  ContainerSASPermissions,
  generateBlobSASQueryParameters,
  SASProtocol,
  StorageSharedKeyCredential,
} from "@azure/storage-blob";
import {
  BackendUnavailableError,
  CapabilityNotSupportedError,
  NotFoundError,
  PermissionDeniedError,
  Store,
} from "../../mod.ts";
import { freePort, randomContainerName } from "../_azurite.ts";
import { type AzureEnv, HOOK, setupAzure } from "./_setup.ts";

const WRONG_KEY = btoa("definitely not the account key of devstoreaccount1");

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

/** A fetch that counts the requests a backend sends. */
function countingFetch(): { fetch: typeof fetch; count: () => number } {
  let count = 0;
  return {
    fetch: (input, init) => {
      count++;
      return fetch(input, init);
    },
    count: () => count,
  };
}

describe("azure (Azurite): ping, a missing container, createFolder", () => {
  let env: AzureEnv;
  let sas: (permissions: string, container?: string) => string;

  before(async () => {
    env = await setupAzure();
    sas = (permissions, container = env.container) =>
      generateBlobSASQueryParameters({
        containerName: container,
        expiresOn: new Date(Date.now() + 3600_000),
        permissions: ContainerSASPermissions.parse(permissions),
        protocol: SASProtocol.HttpsAndHttp,
      }, new StorageSharedKeyCredential(env.az.accountName, env.az.accountKey)).toString();
  }, HOOK);

  after(async () => {
    await env?.close();
  }, HOOK);

  test("ping resolves with a key, with hns: auto and false, and is one List Blobs", async () => {
    for (const hns of ["auto", false] as const) {
      const counter = countingFetch();
      const store = new Store(env.backend({ hns, fetch: counter.fetch }), { rootPath: "empty" });
      assert.equal(await store.ping(), undefined);
      assert.equal(counter.count(), hns === "auto" ? 2 : 1, "the probe, then one request");
      assert.equal(await store.ping(), undefined);
      assert.equal(counter.count(), hns === "auto" ? 3 : 2);
    }
  });

  test("ping with a container SAS: needs the list permission", async () => {
    const listing = new Store(env.backend({ accountUrl: env.az.url, sasToken: sas("rl") }));
    assert.equal(await listing.ping(), undefined);
    const token = sas("w");
    const writeOnly = new Store(
      env.backend({ accountUrl: env.az.url, sasToken: token, hns: false }),
    );
    const error = await writeOnly.ping().then(() => assert.fail("resolved"), (e) => e);
    assert.ok(error instanceof PermissionDeniedError, String(error));
    const signature = new URLSearchParams(token).get("sig")!;
    for (const text of [String(error), error.stack ?? "", inspect(error, { depth: 20 })]) {
      for (const secret of [signature, encodeURIComponent(signature)]) {
        assert.ok(!text.includes(secret), "the SAS signature leaked into the error");
      }
    }
  });

  test("ping on a missing container: NotFoundError naming the container", async () => {
    const missing = randomContainerName();
    for (const hns of ["auto", false] as const) {
      const store = new Store(env.backend({ container: missing, hns }));
      await assert.rejects(store.ping(), (error: unknown) => {
        assert.ok(error instanceof NotFoundError, String(error));
        assert.equal(error.reason, `Container "${missing}" does not exist`);
        assert.equal(error.path, "");
        assert.equal((error.cause as { statusCode?: number }).statusCode, 404);
        return true;
      });
    }
  });

  test("ping with a wrong key: PermissionDeniedError", async () => {
    for (const hns of ["auto", false] as const) {
      const store = new Store(env.backend({
        accountName: env.az.accountName,
        accountKey: WRONG_KEY,
        accountUrl: env.az.url,
        hns,
      }));
      await assert.rejects(store.ping(), (error: unknown) => {
        assert.ok(error instanceof PermissionDeniedError, String(error));
        assert.equal((error.cause as { statusCode?: number }).statusCode, 403);
        return true;
      });
    }
  });

  test("ping on a closed port: BackendUnavailableError after the configured tries", async () => {
    const port = await freePort();
    for (const hns of ["auto", false] as const) {
      const counter = countingFetch();
      const store = new Store(env.backend({
        accountName: env.az.accountName,
        accountKey: env.az.accountKey,
        accountUrl: `http://127.0.0.1:${port}/devstoreaccount1`,
        hns,
        retry: { maxTries: 2, retryDelayMs: 1, maxRetryDelayMs: 1 },
        fetch: counter.fetch,
      }));
      await assert.rejects(store.ping(), BackendUnavailableError);
      assert.equal(counter.count(), 2, "two tries, then the error");
    }
  });

  test("ping after close: BackendUnavailableError without a request", async () => {
    const counter = countingFetch();
    const backend = env.backend({ hns: false, fetch: counter.fetch });
    await backend.close();
    await assert.rejects(new Store(backend).ping(), BackendUnavailableError);
    assert.equal(counter.count(), 0);
  });

  test("a missing container: queries answer false or nothing, reads name the container", async () => {
    const missing = randomContainerName();
    for (const hns of ["auto", false] as const) {
      const store = new Store(env.backend({ container: missing, hns }));
      // The container root: zero files (a child store's folder is missing, as in any container).
      assert.deepEqual(await store.getFolderInfo(""), { path: "", fileCount: 0, totalSize: 0 });
      await assert.rejects(store.getFolderInfo("d"), NotFoundError);
      for (const scoped of [store, store.child("some/folder")]) {
        assert.equal(await scoped.exists("a.txt"), false);
        assert.equal(await scoped.isFile("a.txt"), false);
        assert.equal(await scoped.isFolder("d"), false);
        assert.equal(await scoped.exists("d"), false);
        assert.deepEqual(await collect(scoped.listFiles("")), []);
        assert.deepEqual(await collect(scoped.listFiles("", { recursive: true })), []);
        assert.deepEqual(
          await collect(scoped.listFiles("d", { recursive: true, maxDepth: 2 })),
          [],
        );
        assert.deepEqual(await collect(scoped.listFolders("")), []);
        assert.deepEqual(await collect(scoped.glob("**/*.txt")), []);
        assert.deepEqual(await collect(scoped.glob("d/*.txt")), []);
        const reads = [
          () => scoped.readText("a.txt"),
          () => scoped.readBytes("a.txt", { range: { offset: 1 } }),
          () => scoped.read("a.txt"),
          () => scoped.getFileInfo("a.txt"),
          () => scoped.readText("a.txt", { ifMatch: '"x"' }),
        ];
        for (const read of reads) {
          await assert.rejects(read(), (error: unknown) => {
            assert.ok(error instanceof NotFoundError, String(error));
            assert.equal(error.reason, `Container "${missing}" does not exist`);
            assert.equal(error.path, "a.txt");
            return true;
          });
        }
      }
    }
  });

  test("createFolder on a flat namespace: CapabilityNotSupportedError, nothing written", async () => {
    const flat = countingFetch();
    const store = new Store(env.backend({ hns: false, fetch: flat.fetch }));
    await assert.rejects(
      store.createFolder("new/folder"),
      (e: unknown) => e instanceof CapabilityNotSupportedError && e.capability === "directories",
    );
    assert.equal(flat.count(), 0, "refused before any request");
    const auto = countingFetch();
    const probing = new Store(env.backend({ fetch: auto.fetch }));
    await assert.rejects(probing.createFolder("new/folder"), CapabilityNotSupportedError);
    assert.equal(auto.count(), 1, "only the namespace probe");
    assert.equal(probing.supports("directories"), false);
    assert.equal(await store.isFolder("new"), false);
  });
});
