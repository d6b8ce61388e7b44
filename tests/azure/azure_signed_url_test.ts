// Signed URLs against Azurite: a blob-scoped SAS grants exactly what it says
// on exactly one blob, and stops working when it expires.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { generateAccountSASQueryParameters } from "@azure/storage-blob";
import {
  AccountSASPermissions,
  AccountSASResourceTypes,
  AccountSASServices,
  StorageSharedKeyCredential,
} from "@azure/storage-blob";
import { CapabilityNotSupportedError, Store } from "../../mod.ts";
import { type AzureEnv, setupAzure } from "./_setup.ts";

describe("AzureBackend signed URLs", () => {
  let env: AzureEnv;
  let store: Store;

  before(async () => {
    env = await setupAzure();
    store = new Store(env.backend({ hns: false }), { rootPath: "signed" });
    await store.write("report.csv", "a,b\n1,2\n");
    await store.write("other.txt", "not for you");
  });
  after(() => env.close());

  test("a read URL reads its blob and nothing else", async () => {
    assert.equal(store.supports("signed_url"), true);
    const url = await store.signedUrl("report.csv", { expiresIn: 600 });
    assert.ok(url.includes("sig="), "the URL carries a signature");
    assert.ok(url.includes("sr=b"), "the SAS is blob-scoped, not an account SAS");
    const read = await fetch(url);
    assert.equal(read.status, 200);
    assert.equal(await read.text(), "a,b\n1,2\n");

    const write = await fetch(url, {
      method: "PUT",
      headers: { "x-ms-blob-type": "BlockBlob" },
      body: "overwritten",
    });
    await write.body?.cancel();
    assert.equal(write.status, 403, "cannot write");
    const del = await fetch(url, { method: "DELETE" });
    await del.body?.cancel();
    assert.equal(del.status, 403, "cannot delete");
    const other = await fetch(url.replace("report.csv", "other.txt"));
    await other.body?.cancel();
    assert.equal(other.status, 403, "cannot read another blob");
    assert.equal(await store.readText("report.csv"), "a,b\n1,2\n");
  });

  test("response headers can be set through the URL", async () => {
    const url = await store.signedUrl("report.csv", {
      contentType: "application/x-custom",
      contentDisposition: 'attachment; filename="r.csv"',
    });
    const response = await fetch(url);
    await response.body?.cancel();
    assert.equal(response.headers.get("content-type"), "application/x-custom");
    assert.equal(response.headers.get("content-disposition"), 'attachment; filename="r.csv"');
  });

  test("a write URL uploads with fetch", async () => {
    const url = await store.signedUrl("uploads/new.txt", { permissions: ["write"] });
    const put = await fetch(url, {
      method: "PUT",
      headers: { "x-ms-blob-type": "BlockBlob", "content-type": "text/plain" },
      body: "uploaded by a browser",
    });
    await put.body?.cancel();
    assert.equal(put.status, 201);
    assert.equal(await store.readText("uploads/new.txt"), "uploaded by a browser");
    const read = await fetch(url);
    await read.body?.cancel();
    assert.equal(read.status, 403, "a write URL does not read");
  });

  test("an expired URL fails", async () => {
    const url = await store.signedUrl("report.csv", { expiresIn: 1 });
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const response = await fetch(url);
    await response.body?.cancel();
    assert.equal(response.status, 403);
  });

  test("a backend authenticated by a SAS token cannot sign", async () => {
    const sas = generateAccountSASQueryParameters(
      {
        expiresOn: new Date(Date.now() + 3600_000),
        permissions: AccountSASPermissions.parse("rwdlac"),
        resourceTypes: AccountSASResourceTypes.parse("sco").toString(),
        services: AccountSASServices.parse("b").toString(),
      },
      new StorageSharedKeyCredential(env.az.accountName, env.az.accountKey),
    ).toString();
    const sasStore = new Store(
      env.backend({
        accountName: env.az.accountName,
        accountUrl: env.az.url,
        sasToken: sas,
        hns: false,
      }),
    );
    assert.equal(sasStore.supports("signed_url"), false);
    await assert.rejects(sasStore.signedUrl("signed/report.csv"), CapabilityNotSupportedError);
  });
});
