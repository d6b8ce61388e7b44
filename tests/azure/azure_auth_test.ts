import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  AccountSASPermissions,
  AccountSASResourceTypes,
  AccountSASServices,
  BlobServiceClient,
  ContainerClient,
  ContainerSASPermissions,
  generateAccountSASQueryParameters,
  generateBlobSASQueryParameters,
  SASProtocol,
  StorageSharedKeyCredential,
} from "@azure/storage-blob";
import { DataLakeFileSystemClient } from "@azure/storage-file-datalake";
import { NotFoundError, PermissionDeniedError, Store } from "../../mod.ts";
import type { AzureBackend } from "../../azure.ts";
import { type AzureEnv, HOOK, setupAzure } from "./_setup.ts";
import { useDefaultAzureCredential } from "../../azure_identity.ts";
import { setDefaultCredentialFactory } from "../../src/backends/azure/_credential.ts";

const WRONG_KEY = btoa("not the key, not the key, not the key!!");

/** A full round trip: write, read, list, copy, move, batch delete, delete. */
async function exercise(backend: AzureBackend, root: string): Promise<void> {
  const store = new Store(backend, { rootPath: root });
  await store.write("a.txt", "alpha");
  await store.write("dir/b.txt", "beta", { metadata: { owner: "test" } });
  assert.equal(await store.readText("a.txt"), "alpha");
  assert.equal((await store.getFileInfo("dir/b.txt")).metadata?.owner, "test");
  const listed: string[] = [];
  for await (const f of store.listFiles("", { recursive: true })) listed.push(f.path);
  assert.deepEqual(listed.sort(), ["a.txt", "dir/b.txt"]);
  await store.copy("a.txt", "copy/a.txt");
  assert.equal(await store.readText("copy/a.txt"), "alpha");
  await store.move("dir/b.txt", "moved/b.txt");
  assert.equal(await store.readText("moved/b.txt"), "beta");
  assert.equal(await store.exists("dir/b.txt"), false);
  await store.deleteFolder("copy", { recursive: true });
  assert.equal(await store.isFolder("copy"), false);
  await store.delete("a.txt");
  await assert.rejects(store.read("a.txt"), NotFoundError);
  await store.deleteFolder("", { recursive: true });
  assert.equal(await store.isFolder("moved"), false);
}

describe("azure authentication", () => {
  let env: AzureEnv;
  let sharedKey: StorageSharedKeyCredential;
  const expiresOn = new Date(Date.now() + 3600_000);

  before(async () => {
    env = await setupAzure();
    sharedKey = new StorageSharedKeyCredential(env.az.accountName, env.az.accountKey);
  }, HOOK);

  after(async () => {
    await env?.close();
  }, HOOK);

  test("connection string", async () => {
    await exercise(env.backend({ connectionString: env.az.connectionString }), "cs");
  });

  test("accountName + accountKey with accountUrl", async () => {
    const backend = env.backend({
      accountName: env.az.accountName,
      accountKey: env.az.accountKey,
      accountUrl: env.az.url,
    });
    assert.equal(backend.toJSON().auth, "key");
    await exercise(backend, "key");
  });

  test("account SAS (generateAccountSASQueryParameters)", async () => {
    const sasToken = generateAccountSASQueryParameters({
      expiresOn,
      permissions: AccountSASPermissions.parse("rwdlacu"),
      resourceTypes: AccountSASResourceTypes.parse("sco").toString(),
      services: AccountSASServices.parse("b").toString(),
      protocol: SASProtocol.HttpsAndHttp,
    }, sharedKey).toString();
    const backend = env.backend({ accountUrl: env.az.url, sasToken: `?${sasToken}` });
    assert.equal(backend.toJSON().auth, "sas");
    await exercise(backend, "account-sas");
  });

  test("container SAS (generateBlobSASQueryParameters)", async () => {
    const sasToken = generateBlobSASQueryParameters({
      containerName: env.container,
      expiresOn,
      permissions: ContainerSASPermissions.parse("racwdl"),
      protocol: SASProtocol.HttpsAndHttp,
    }, sharedKey).toString();
    await exercise(env.backend({ accountUrl: env.az.url, sasToken }), "container-sas");
  });

  test("SAS connection string (BlobEndpoint + SharedAccessSignature)", async () => {
    const sasToken = generateBlobSASQueryParameters({
      containerName: env.container,
      expiresOn,
      permissions: ContainerSASPermissions.parse("racwdl"),
      protocol: SASProtocol.HttpsAndHttp,
    }, sharedKey).toString();
    const connectionString = `BlobEndpoint=${env.az.url};SharedAccessSignature=${sasToken}`;
    await exercise(env.backend({ connectionString }), "sas-cs");
  });

  test("a read-only SAS cannot write: PermissionDeniedError", async () => {
    const sasToken = generateBlobSASQueryParameters({
      containerName: env.container,
      expiresOn,
      permissions: ContainerSASPermissions.parse("rl"),
      protocol: SASProtocol.HttpsAndHttp,
    }, sharedKey).toString();
    const store = new Store(env.backend({ accountUrl: env.az.url, sasToken, hns: false }));
    await assert.rejects(store.write("ro/x.txt", "x"), PermissionDeniedError);
  });

  test("a wrong account key: PermissionDeniedError (probe and plain calls)", async () => {
    const probing = new Store(env.backend({
      accountName: env.az.accountName,
      accountKey: WRONG_KEY,
      accountUrl: env.az.url,
    }));
    await assert.rejects(probing.readText("a.txt"), PermissionDeniedError);
    const flat = new Store(env.backend({
      accountName: env.az.accountName,
      accountKey: WRONG_KEY,
      accountUrl: env.az.url,
      hns: false,
    }));
    await assert.rejects(flat.readText("a.txt"), PermissionDeniedError);
    await assert.rejects(flat.write("a.txt", "x"), PermissionDeniedError);
    await assert.rejects(flat.isFolder("dir"), PermissionDeniedError);
  });

  test("a TokenCredential is used as given and not called before a request", () => {
    let calls = 0;
    const credential = {
      getToken() {
        calls++;
        return Promise.resolve({ token: "t", expiresOnTimestamp: Date.now() + 60_000 });
      },
    };
    const backend = env.backend({ accountName: "someaccount", credential });
    assert.equal(backend.toJSON().auth, "token");
    const service = backend.unwrap(BlobServiceClient);
    assert.equal(typeof (service.credential as { getToken?: unknown }).getToken, "function");
    assert.equal(calls, 0);
  });

  test("no credential: DefaultAzureCredential after useDefaultAzureCredential(), created without I/O", async () => {
    useDefaultAzureCredential();
    const backend = env.backend({ accountName: "someaccount" });
    setDefaultCredentialFactory(undefined);
    assert.equal(backend.toJSON().auth, "default");
    const container = backend.unwrap(ContainerClient);
    const fileSystem = backend.unwrap(DataLakeFileSystemClient);
    assert.equal(fileSystem.url, `https://someaccount.dfs.core.windows.net/${env.container}`);
    assert.equal(container.url, `https://someaccount.blob.core.windows.net/${env.container}`);
    // The SDK clients share the backend's credential, which creates its
    // DefaultAzureCredential on first use (src/backends/azure/_credential.ts):
    // loading it, without asking for a token, gives one.
    const credential = container.credential as {
      getToken?: unknown;
      load?: () => Promise<object>;
    };
    assert.equal(typeof credential.getToken, "function");
    assert.equal(fileSystem.credential, container.credential);
    assert.equal((await credential.load!()).constructor.name, "DefaultAzureCredential");
  });
});
