// Token-credential auth and the user delegation SAS, against Azurite over
// HTTPS with `--oauth basic` (see tests/azure/_oauth.ts for what Azurite
// checks). The CA of Azurite's throw-away certificate is trusted through the
// backend's `fetch` option (per runtime: a Deno HTTP client, Bun's `tls.ca`,
// `createNodeFetch({ ca })` on Node), through an https.Agent given to the SDK
// clients of `unwrap` (`clientOptions.agent`), and through node:https for the
// plain, credential-less requests; TLS verification stays on.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import https from "node:https";
import { ContainerClient } from "@azure/storage-blob";
import { NotFoundError, PermissionDeniedError, Store } from "../../mod.ts";
import { AzureBackend, type AzureBackendOptions } from "../../azure.ts";
import { type Azurite, randomContainerName, startAzurite } from "../_azurite.ts";
import { FAST_RETRY, HOOK } from "./_setup.ts";
import {
  type FetchLike,
  TEST_OBJECT_ID,
  TEST_TENANT_ID,
  type TestClaims,
  TestTokenCredential,
  trustingFetch,
} from "./_oauth.ts";

/** A plain HTTPS request (no credentials) trusting only the given CA. */
function request(
  url: string,
  ca: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; body: Uint8Array }> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, {
      method: init.method ?? "GET",
      headers: init.headers,
      ca,
      agent: false,
    }, (res) => {
      const chunks: Uint8Array[] = [];
      res.on("data", (chunk: Uint8Array) => chunks.push(chunk));
      res.on("error", reject);
      res.on("end", () => {
        const body = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
        let offset = 0;
        for (const chunk of chunks) {
          body.set(chunk, offset);
          offset += chunk.byteLength;
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on("error", reject);
    req.end(init.body);
  });
}

/**
 * Bodies of the 403 answers the backends received, in order: Azurite's
 * `<AuthenticationErrorDetail>` says why a token was refused.
 */
const deniedBodies: string[] = [];

/** Wraps a `fetch` to record the body of every 403 answer in {@link deniedBodies}. */
function recording(inner: FetchLike): FetchLike {
  return async (input, init) => {
    const response = await inner(input, init);
    if (response.status === 403 && response.body) {
      deniedBodies.push(await response.clone().text());
    }
    return response;
  };
}

/**
 * Asserts a PermissionDeniedError. With `reason`, a 403 answer to the
 * operation must carry Azurite's AuthenticationErrorDetail matching it, so
 * that a test fails if the token is refused for another reason than the one
 * it is about. (Only responses with an error body have it: not HEAD, nor a
 * download.)
 */
async function assertDenied(promise: Promise<unknown>, reason?: RegExp): Promise<void> {
  // No answer can have arrived yet: fetch resolves asynchronously.
  const from = deniedBodies.length;
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof PermissionDeniedError, `PermissionDeniedError, got ${error}`);
    return true;
  });
  if (reason) {
    const details = deniedBodies.slice(from)
      .map((body) => /<AuthenticationErrorDetail>([^<]*)</.exec(body)?.[1] ?? "");
    assert.ok(
      details.some((detail) => reason.test(detail)),
      `AuthenticationErrorDetail matching ${reason}, got ${JSON.stringify(details)}`,
    );
  }
}

/** Every byte value, twice, so that a text decoding anywhere would show. */
const BINARY = new Uint8Array(512).map((_, i) => i % 256);

describe("AzureBackend with a token credential (Azurite, HTTPS, --oauth basic)", () => {
  let az: Azurite;
  let ca: string;
  const container = randomContainerName("oauth");
  const backends: AzureBackend[] = [];
  const agents: https.Agent[] = [];
  let trusting: { fetch: FetchLike; close(): void } | undefined;

  /**
   * A backend on the HTTPS endpoint; token credential unless overridden. Its
   * requests go through a `fetch` trusting the test CA; the SDK clients of
   * `unwrap` through an https.Agent trusting it.
   */
  function backend(options: Partial<AzureBackendOptions> = {}): AzureBackend {
    const agent = new https.Agent({ ca, keepAlive: true });
    agents.push(agent);
    const created = new AzureBackend({
      container,
      accountUrl: az.url,
      hns: false,
      retry: FAST_RETRY,
      fetch: recording(trusting!.fetch),
      clientOptions: { agent },
      ...(options.accountKey ? {} : { credential: new TestTokenCredential() }),
      ...options,
    });
    backends.push(created);
    return created;
  }

  /** A store whose token has the given claims. */
  function storeWith(claims: TestClaims): Store {
    return new Store(backend({ credential: new TestTokenCredential(claims) }), {
      rootPath: "claims",
    });
  }

  before(async () => {
    az = await startAzurite({ oauth: true });
    assert.ok(az.url.startsWith("https://127.0.0.1:"), az.url);
    ca = az.ca!;
    trusting = trustingFetch(ca);
    // The container is created with a bearer token too.
    await backend().unwrap(ContainerClient).create();
  }, HOOK);

  after(async () => {
    try {
      await backends[0]?.unwrap(ContainerClient).deleteIfExists();
    } finally {
      for (const b of backends) await b.close();
      for (const a of agents) a.destroy();
      trusting?.close();
      await az?.stop();
    }
  }, HOOK);

  test("TLS is verified: without the test CA the endpoint is not trusted", async () => {
    await assert.rejects(
      new Promise((resolve, reject) => {
        https.get(az.url + "?comp=list", { agent: false }, resolve).on("error", reject);
      }),
      (error: NodeJS.ErrnoException) => /SELF_SIGNED|CERT/.test(String(error.code)),
    );
  });

  test("TLS is verified: the backend's default fetch does not trust the endpoint", async () => {
    const store = new Store(backend({ fetch: undefined }), { rootPath: "untrusted" });
    await assert.rejects(store.write("x.txt", "x"), (error: unknown) => {
      assert.ok(!(error instanceof PermissionDeniedError), `not an answer, got ${error}`);
      return true;
    });
  });

  test('hns: "auto" probes the account with a bearer token', async () => {
    const store = new Store(backend({ hns: "auto" }), { rootPath: "probe" });
    await store.write("p.txt", "probed");
    assert.equal(await store.readText("p.txt"), "probed");
    await store.delete("p.txt");
  });

  test("write, read, list and delete with a bearer token", async () => {
    const credential = new TestTokenCredential();
    const store = new Store(backend({ credential }), { rootPath: "token" });
    await store.write("a.txt", "alpha");
    await store.write("dir/b.bin", BINARY);
    assert.equal(await store.readText("a.txt"), "alpha");
    assert.deepEqual(await store.readBytes("dir/b.bin"), BINARY);
    assert.equal((await store.getFileInfo("dir/b.bin")).size, BINARY.byteLength);
    const listed: string[] = [];
    for await (const f of store.listFiles("", { recursive: true })) listed.push(f.path);
    assert.deepEqual(listed.sort(), ["a.txt", "dir/b.bin"]);
    await store.delete("a.txt");
    await assert.rejects(store.read("a.txt"), NotFoundError);
    await store.deleteFolder("", { recursive: true });
    assert.equal(await store.exists("dir/b.bin"), false);
    assert.ok(credential.requestedScopes.length > 0, "the credential was asked for a token");
    for (const scopes of credential.requestedScopes) {
      assert.deepEqual(scopes, ["https://storage.azure.com/.default"]);
    }
  });

  test("a token for another audience is PermissionDeniedError", async () => {
    const store = storeWith({ aud: "https://vault.azure.net" });
    await assertDenied(store.write("x.txt", "x"), /Invalid token audience/);
    await assertDenied(store.readText("x.txt"));
    await assertDenied(store.exists("x.txt"));
  });

  test("an expired token is PermissionDeniedError", async () => {
    const past = Math.floor(Date.now() / 1000) - 7200;
    const store = storeWith({ iat: past, nbf: past, exp: past + 3600 });
    await assertDenied(store.write("x.txt", "x"), /token is expired/);
    await assertDenied(store.readBytes("x.txt"));
  });

  test("a token from an unknown issuer is PermissionDeniedError", async () => {
    const store = storeWith({ iss: "https://login.example.com/tenant/" });
    await assertDenied(store.write("x.txt", "x"), /Invalid token issuer/);
  });

  test("the error does not leak the bearer token", async () => {
    const credential = new TestTokenCredential({ aud: "https://vault.azure.net" });
    const store = new Store(backend({ credential }), { rootPath: "claims" });
    const error = await store.write("x.txt", "x").then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof PermissionDeniedError);
    const text = `${String(error)} ${error.stack ?? ""} ${JSON.stringify(error)}`;
    assert.doesNotMatch(text, /eyJ[\w-]{8,}/, "no JWT in the error");
  });

  describe("signed URLs (user delegation SAS)", () => {
    let store: Store;

    before(async () => {
      store = new Store(backend(), { rootPath: "signed" });
      await store.write("photo.bin", BINARY);
      await store.write("other.txt", "not for you");
    });

    test('supports("signed_url") is true with a token credential', () => {
      assert.equal(store.supports("signed_url"), true);
    });

    test("the URL is a blob-scoped user delegation SAS, not a key-signed one", async () => {
      const url = new URL(await store.signedUrl("photo.bin", { expiresIn: 600 }));
      assert.equal(url.origin, new URL(az.url).origin);
      assert.equal(url.pathname, `/${az.accountName}/${container}/signed/photo.bin`);
      const q = url.searchParams;
      assert.equal(q.get("sr"), "b", "blob-scoped");
      assert.equal(q.get("sp"), "r", "read only");
      assert.equal(q.get("spr"), "https", "HTTPS only on an HTTPS endpoint");
      assert.equal(q.get("skoid"), TEST_OBJECT_ID, "signed object id from the token's oid");
      assert.equal(q.get("sktid"), TEST_TENANT_ID, "signed tenant id from the token's tid");
      assert.equal(q.get("sks"), "b", "key for the blob service");
      for (const name of ["sv", "st", "se", "skt", "ske", "skv", "sig"]) {
        assert.ok(q.get(name), `has ${name}`);
      }
      assert.equal(q.get("ss"), null, "not an account SAS");
      assert.equal(q.get("srt"), null, "not an account SAS");
      assert.equal(q.get("si"), null, "no stored access policy");
      const lifetime = Date.parse(q.get("se")!) - Date.now();
      assert.ok(lifetime > 500_000 && lifetime <= 600_000, `expires in ~600 s, got ${lifetime}`);
      assert.ok(Date.parse(q.get("ske")!) >= Date.parse(q.get("se")!) - 1000, "key outlives URL");
    });

    test("a plain HTTPS GET with no credentials reads the exact bytes", async () => {
      const url = await store.signedUrl("photo.bin", { expiresIn: 600 });
      const response = await request(url, ca);
      assert.equal(response.status, 200);
      assert.deepEqual(response.body, BINARY);
    });

    test("response headers can be set through the URL", async () => {
      const url = await store.signedUrl("photo.bin", {
        contentType: "image/x-test",
        contentDisposition: 'attachment; filename="p.bin"',
      });
      const response = await new Promise<{ type?: string; disposition?: string }>(
        (resolve, reject) => {
          https.get(url, { ca, agent: false }, (res) => {
            res.resume();
            res.on("end", () =>
              resolve({
                type: res.headers["content-type"],
                disposition: res.headers["content-disposition"],
              }));
          }).on("error", reject);
        },
      );
      assert.equal(response.type, "image/x-test");
      assert.equal(response.disposition, 'attachment; filename="p.bin"');
    });

    test("the URL reads nothing else and does nothing else", async () => {
      const url = await store.signedUrl("photo.bin", { expiresIn: 600 });
      const other = await request(url.replace("photo.bin", "other.txt"), ca);
      assert.equal(other.status, 403, "another blob");
      const put = await request(url, ca, {
        method: "PUT",
        headers: { "x-ms-blob-type": "BlockBlob" },
        body: "overwritten",
      });
      assert.equal(put.status, 403, "cannot write");
      const del = await request(url, ca, { method: "DELETE" });
      assert.equal(del.status, 403, "cannot delete");
      const forged = await request(url.replace(TEST_OBJECT_ID, crypto.randomUUID()), ca);
      assert.equal(forged.status, 403, "the signature binds the delegation key's object id");
      // Without the sk* parameters Azurite checks the signature against the
      // account key instead: it must not match, the URL is not key-signed.
      const asServiceSas = new URL(url);
      for (const name of ["skoid", "sktid", "skt", "ske", "sks", "skv"]) {
        asServiceSas.searchParams.delete(name);
      }
      assert.equal((await request(asServiceSas.href, ca)).status, 403, "not an account-key SAS");
      assert.deepEqual(await store.readBytes("photo.bin"), BINARY);
    });

    test("a write URL uploads without credentials", async () => {
      const url = await store.signedUrl("uploads/new.txt", { permissions: ["write"] });
      assert.equal(new URL(url).searchParams.get("sp"), "cw");
      const put = await request(url, ca, {
        method: "PUT",
        headers: { "x-ms-blob-type": "BlockBlob", "content-type": "text/plain" },
        body: "uploaded with a delegation SAS",
      });
      assert.equal(put.status, 201);
      assert.equal(await store.readText("uploads/new.txt"), "uploaded with a delegation SAS");
      const read = await request(url, ca);
      assert.equal(read.status, 403, "a write URL does not read");
    });

    test("a create-only signed upload: sp=c in a delegation SAS, refused on the second upload", async () => {
      const upload = await store.signedUpload("uploads/once.txt", { contentType: "text/plain" });
      const q = new URL(upload.url).searchParams;
      assert.equal(q.get("sp"), "c");
      assert.equal(q.get("skoid"), TEST_OBJECT_ID, "a user delegation SAS");
      const first = await request(upload.url, ca, {
        method: upload.method,
        headers: upload.headers,
        body: "first",
      });
      assert.equal(first.status, 201);
      const second = await request(upload.url, ca, {
        method: upload.method,
        headers: { "x-ms-blob-type": "BlockBlob" },
        body: "second",
      });
      assert.equal(second.status, 403, "c does not overwrite, without if-none-match too");
      assert.equal(await store.readText("uploads/once.txt"), "first");
      assert.equal((await store.getFileInfo("uploads/once.txt")).contentType, "text/plain");
    });

    test("an expired URL fails", async () => {
      const url = await store.signedUrl("photo.bin", { expiresIn: 1 });
      assert.equal((await request(url, ca)).status, 200, "works before expiry");
      await new Promise((resolve) => setTimeout(resolve, 2100));
      assert.equal((await request(url, ca)).status, 403, "fails after expiry");
    });

    test("an account-key backend on the same endpoint signs a service SAS instead", async () => {
      const keyStore = new Store(
        backend({ accountName: az.accountName, accountKey: az.accountKey }),
        { rootPath: "signed" },
      );
      const url = await keyStore.signedUrl("photo.bin", { expiresIn: 600 });
      const q = new URL(url).searchParams;
      assert.equal(q.get("skoid"), null, "no delegation key");
      assert.equal(q.get("sr"), "b");
      const response = await request(url, ca);
      assert.equal(response.status, 200);
      assert.deepEqual(response.body, BINARY);
    });

    test("signing with a rejected token is PermissionDeniedError", async () => {
      const past = Math.floor(Date.now() / 1000) - 7200;
      const expired = storeWith({ iat: past, nbf: past, exp: past + 3600 });
      assert.equal(expired.supports("signed_url"), true);
      await assertDenied(expired.signedUrl("photo.bin"), /token is expired/);
    });
  });
});
