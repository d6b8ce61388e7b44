import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import {
  ContainerSASPermissions,
  generateBlobSASQueryParameters,
  StorageSharedKeyCredential,
} from "@azure/storage-blob";
import { Store } from "../../src/store.ts";
import { checkPaging, pagingPaths, seed } from "../_paging.ts";
import { HOOK, setupAzure } from "./_setup.ts";

// 10,000 files on Azurite, paged by 500 and resumed from every cursor: once
// with `startFrom` sent to the service, once through a transport that drops
// it (a service without the parameter), where the backend skips on the client.
const env = await setupAzure();
const az = env.az!;

describe("azure (Azurite): paged listings of 10,000 files", () => {
  after(() => env.close(), HOOK);
  const paths = pagingPaths();
  const root = "pages";
  const listings: URL[] = [];
  /** Records every List Blobs request; `drop` removes `startFrom` from it first. */
  const recording = (drop: boolean) => (input: string, init: RequestInit) => {
    const url = new URL(input);
    if (url.searchParams.get("comp") !== "list" || !url.searchParams.has("restype")) {
      return fetch(input, init);
    }
    if (drop) url.searchParams.delete("startFrom");
    listings.push(url);
    return fetch(drop ? url.href : input, init);
  };

  test("the files are written through the backend, 64 at a time", async () => {
    const started = performance.now();
    await seed(env.backend({ strictPaths: false }), root, paths, 64);
    console.log(`azurite: 10,000 files written in ${Math.round(performance.now() - started)} ms`);
  });

  test("with startFrom on the service", async () => {
    listings.length = 0;
    const backend = env.backend({ fetch: recording(false) });
    const started = performance.now();
    assert.equal(await checkPaging(new Store(backend, { rootPath: root }), paths), 21);
    console.log(`azurite: paged and resumed in ${Math.round(performance.now() - started)} ms`);
    assert.ok(listings.some((url) => url.searchParams.has("startFrom")), "startFrom was sent");
    // Resuming near the end is one request of a few results, not a walk from the start.
    listings.length = 0;
    const last = [...paths].sort().at(-2)!;
    const rest = await Array.fromAsync(
      new Store(backend, { rootPath: root }).listFiles("", { recursive: true, startAfter: last }),
    );
    assert.equal(rest.length, 1);
    assert.equal(listings.length, 1, "one List Blobs request");
  });

  test("a service that refuses startFrom (400) is asked again without it, and then never with it", async () => {
    const sent: URL[] = [];
    // A service version that does not know the parameter (Azurite knows it): refused with 400.
    const refusing = (input: string, init: RequestInit) => {
      const url = new URL(input);
      if (url.searchParams.get("comp") === "list") sent.push(url);
      if (!url.searchParams.has("startFrom")) return fetch(input, init);
      const body = `<?xml version="1.0" encoding="utf-8"?><Error><Code>InvalidQueryParameterValue` +
        `</Code><Message>Value for one of the query parameters specified in the request URI is ` +
        `invalid.</Message></Error>`;
      return Promise.resolve(
        new Response(body, {
          status: 400,
          headers: { "x-ms-error-code": "InvalidQueryParameterValue" },
        }),
      );
    };
    const store = new Store(env.backend({ fetch: refusing }), { rootPath: `${root}/k1` });
    const folder = paths.filter((path) => path.startsWith("k1/")).map((path) => path.slice(3))
      .sort();
    const page = async (startAfter: string) =>
      (await Array.fromAsync(store.listFiles("", { recursive: true, startAfter, limit: 3 })))
        .map((file) => file.path);
    assert.deepEqual(await page(folder[10]!), folder.slice(11, 14));
    // The refused request, then the same without the parameter (and the pages after it).
    assert.deepEqual(
      sent.slice(0, 2).map((url) => url.searchParams.has("startFrom")),
      [true, false],
    );
    assert.ok(sent.slice(1).every((url) => !url.searchParams.has("startFrom")));
    sent.length = 0;
    assert.deepEqual(await page(folder[20]!), folder.slice(21, 24));
    assert.ok(sent.length > 0 && sent.every((url) => !url.searchParams.has("startFrom")));
  });

  test("through a service without startFrom (the backend skips on the client)", async () => {
    listings.length = 0;
    // A SAS signs only its own fields, so the transport may drop a query parameter.
    const sasToken = generateBlobSASQueryParameters({
      containerName: env.container,
      expiresOn: new Date(Date.now() + 3_600_000),
      permissions: ContainerSASPermissions.parse("rl"),
    }, new StorageSharedKeyCredential(az.accountName, az.accountKey)).toString();
    const backend = env.backend({ accountUrl: az.url, sasToken, fetch: recording(true) });
    const started = performance.now();
    // Without startFrom every page lists from the start: one folder's files in pages of 100.
    const folder = paths.filter((path) => path.startsWith("k1/")).map((path) => path.slice(3));
    const store = new Store(backend, { rootPath: `${root}/k1` });
    assert.equal(await checkPaging(store, folder, 100), Math.floor(folder.length / 100) + 1);
    console.log(
      `azurite without startFrom: paged and resumed in ${
        Math.round(performance.now() - started)
      } ms`,
    );
    assert.ok(listings.length > 0);
    assert.ok(listings.every((url) => !url.searchParams.has("startFrom")), "startFrom was dropped");
  });
});
