// `unwrap` hands out working SDK clients, built from the class the caller
// passes (src/backends/azure/_sdk_clients.ts): ContainerClient and
// BlobServiceClient against Azurite with every kind of key or SAS, and
// DataLakeFileSystemClient with an account key against the DFS emulator.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  AccountSASPermissions,
  AccountSASResourceTypes,
  AccountSASServices,
  BlobServiceClient,
  ContainerClient,
  generateAccountSASQueryParameters,
  SASProtocol,
  StorageSharedKeyCredential,
} from "@azure/storage-blob";
import { DataLakeFileSystemClient } from "@azure/storage-file-datalake";
import { CapabilityNotSupportedError, Store } from "../../mod.ts";
import type { AzureBackend } from "../../azure.ts";
import { HOOK } from "./_setup.ts";
import { setupEnv, type TestEnv } from "../_env.ts";

async function names(container: ContainerClient, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const blob of container.listBlobsFlat({ prefix })) out.push(blob.name);
  return out.sort();
}

/**
 * Uploads through the SDK client, lists through it, reads back through the
 * Store. (With a hierarchical namespace, `dir` is listed too.)
 */
async function roundTrip(
  backend: AzureBackend,
  container: ContainerClient,
  root: string,
  hns = false,
) {
  await container.getBlockBlobClient(`${root}/a.txt`).upload("alpha", 5);
  await container.getBlockBlobClient(`${root}/dir/b.txt`).upload("beta", 4);
  assert.deepEqual(
    await names(container, `${root}/`),
    [`${root}/a.txt`, ...(hns ? [`${root}/dir`] : []), `${root}/dir/b.txt`],
  );
  const store = new Store(backend, { rootPath: root });
  assert.equal(await store.readText("a.txt"), "alpha");
  assert.equal(await store.readText("dir/b.txt"), "beta");
}

describe("unwrap: SDK clients on Azurite", () => {
  let env: TestEnv;

  before(async () => {
    env = await setupEnv("flat");
  }, HOOK);
  after(async () => {
    await env?.close();
  }, HOOK);

  test("ContainerClient from a connection string", async () => {
    const backend = env.backend({ hns: false });
    const container = backend.unwrap(ContainerClient);
    assert.ok(container instanceof ContainerClient);
    assert.equal(container.containerName, env.container);
    await roundTrip(backend, container, "cs");
  });

  test("ContainerClient from accountName, accountKey and accountUrl", async () => {
    const backend = env.backend({
      accountName: env.az!.accountName,
      accountKey: env.az!.accountKey,
      accountUrl: env.az!.url,
      hns: false,
    });
    await roundTrip(backend, backend.unwrap(ContainerClient), "key");
  });

  test("ContainerClient and BlobServiceClient with a SAS token", async () => {
    const sasToken = generateAccountSASQueryParameters({
      expiresOn: new Date(Date.now() + 3600_000),
      permissions: AccountSASPermissions.parse("rwdlac"),
      resourceTypes: AccountSASResourceTypes.parse("sco").toString(),
      services: AccountSASServices.parse("b").toString(),
      protocol: SASProtocol.HttpsAndHttp,
    }, new StorageSharedKeyCredential(env.az!.accountName, env.az!.accountKey)).toString();
    const backend = env.backend({ accountUrl: env.az!.url, sasToken, hns: false });
    await roundTrip(backend, backend.unwrap(ContainerClient), "sas");
    const service = backend.unwrap(BlobServiceClient);
    const listed: string[] = [];
    for await (const c of service.listContainers({ prefix: env.container })) listed.push(c.name);
    assert.deepEqual(listed, [env.container]);
  });

  test("BlobServiceClient: list containers, upload through a container client", async () => {
    const backend = env.backend({ hns: false });
    const service = backend.unwrap(BlobServiceClient);
    assert.ok(service instanceof BlobServiceClient);
    const listed: string[] = [];
    for await (const c of service.listContainers({ prefix: env.container })) listed.push(c.name);
    assert.deepEqual(listed, [env.container]);
    await roundTrip(backend, service.getContainerClient(env.container), "service");
  });

  test("another class is CapabilityNotSupportedError", () => {
    const backend = env.backend({ hns: false });
    assert.throws(() => backend.unwrap(Map), CapabilityNotSupportedError);
  });
});

describe("unwrap: DataLakeFileSystemClient on the DFS emulator", () => {
  let env: TestEnv;

  before(async () => {
    env = await setupEnv("hns", { defaults: { hns: true } });
  }, HOOK);
  after(async () => {
    await env?.close();
  }, HOOK);

  test("with the account key: create a directory and a file, list paths", async () => {
    const backend = env.backend();
    const fileSystem = backend.unwrap(DataLakeFileSystemClient);
    assert.ok(fileSystem instanceof DataLakeFileSystemClient);
    assert.equal(fileSystem.name, env.container);
    await fileSystem.getDirectoryClient("lake/sub").create();
    const file = fileSystem.getFileClient("lake/sub/f.txt");
    await file.create();
    await file.append("delta", 0, 5);
    await file.flush(5);
    const paths: string[] = [];
    for await (const p of fileSystem.listPaths({ path: "lake", recursive: true })) {
      paths.push(`${p.name}${p.isDirectory ? "/" : ""}`);
    }
    assert.deepEqual(paths.sort(), ["lake/sub/", "lake/sub/f.txt"]);
    const store = new Store(backend);
    assert.equal(await store.isFolder("lake/sub"), true);
    assert.equal(await store.readText("lake/sub/f.txt"), "delta");
  });

  test("with accountName, accountKey and accountUrl", async () => {
    const backend = env.backend({
      accountName: env.emulator!.accountName,
      accountKey: env.emulator!.accountKey,
      accountUrl: env.emulator!.url,
    });
    const fileSystem = backend.unwrap(DataLakeFileSystemClient);
    await fileSystem.getDirectoryClient("keyed").create();
    const paths: string[] = [];
    for await (const p of fileSystem.listPaths({ path: "keyed" })) paths.push(String(p.name));
    assert.deepEqual(paths, []);
    assert.equal(await new Store(backend).isFolder("keyed"), true);
  });

  test("a ContainerClient works on the same account", async () => {
    const backend = env.backend();
    await roundTrip(backend, backend.unwrap(ContainerClient), "blob-side", true);
  });
});
