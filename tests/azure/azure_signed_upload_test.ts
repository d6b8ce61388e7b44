// Signed uploads against Azurite: what a browser does with plain fetch, using
// only what Store.signedUpload returned (one PUT, blocks with the same URL),
// and what the service enforces for a create-only upload.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { inspect } from "node:util";
import {
  AlreadyExistsError,
  BackendUnavailableError,
  CapabilityNotSupportedError,
  InvalidPathError,
  PermissionDeniedError,
  putSignedUpload,
  Store,
} from "../../mod.ts";
import { type AzureEnv, HOOK, patternBytes, sha256 } from "./_setup.ts";
import { setupAzure } from "./_setup.ts";
import { handleUploadRequest, uploadFromBrowser } from "../../examples/signed_upload.ts";

describe("AzureBackend signed uploads", () => {
  let env: AzureEnv;
  let store: Store;

  before(async () => {
    env = await setupAzure();
    store = new Store(env.backend({ hns: false }), { rootPath: "uploads" });
  }, HOOK);
  after(() => env.close(), HOOK);

  test("a create-only upload: a blob SAS with sp=c, PUT, the headers a browser sends", async () => {
    const before = Date.now();
    const upload = await store.signedUpload("inbox/photo.jpg", {
      expiresIn: 300,
      contentType: "image/jpeg",
    });
    const url = new URL(upload.url);
    assert.ok(url.pathname.endsWith("/uploads/inbox/photo.jpg"), url.pathname);
    assert.equal(url.searchParams.get("sr"), "b", "blob-scoped, never an account SAS");
    assert.equal(url.searchParams.get("sp"), "c", "create only");
    assert.equal(upload.method, "PUT");
    assert.deepEqual(upload.headers, {
      "x-ms-blob-type": "BlockBlob",
      "content-type": "image/jpeg",
      "if-none-match": "*",
    });
    assert.equal(upload.overwrite, false);
    assert.equal(upload.blocks, undefined);
    assert.equal(upload.expiresAt.getTime(), Date.parse(url.searchParams.get("se")!));
    assert.ok(Math.abs(upload.expiresAt.getTime() - (before + 300_000)) < 5_000);

    // What a browser does: fetch(url, { method, headers, body }).
    const bytes = patternBytes(4096, 3);
    const put = await fetch(upload.url, {
      method: upload.method,
      headers: upload.headers,
      body: new Blob([bytes as Uint8Array<ArrayBuffer>]),
    });
    await put.body?.cancel();
    assert.equal(put.status, 201);
    assert.equal(sha256(await store.readBytes("inbox/photo.jpg")), sha256(bytes));
    assert.equal((await store.getFileInfo("inbox/photo.jpg")).contentType, "image/jpeg");
  });

  test("create-only: the service refuses to overwrite, with or without the headers", async () => {
    await store.write("taken.txt", "original");
    const upload = await store.signedUpload("taken.txt");
    const withHeaders = await fetch(upload.url, {
      method: "PUT",
      headers: upload.headers,
      body: "overwritten",
    });
    await withHeaders.body?.cancel();
    assert.equal(withHeaders.status, 403, "the c permission does not overwrite");
    // A client that drops if-none-match (and even the content type) gets the same answer.
    const dropped = await fetch(upload.url, {
      method: "PUT",
      headers: { "x-ms-blob-type": "BlockBlob" },
      body: "overwritten",
    });
    await dropped.body?.cancel();
    assert.equal(dropped.status, 403);
    // Blocks need the w permission: a create-only URL cannot stage or commit them.
    const block = await fetch(`${upload.url}&comp=block&blockid=${btoa("block-000000")}`, {
      method: "PUT",
      body: "overwritten",
    });
    await block.body?.cancel();
    assert.equal(block.status, 403);
    const commit = await fetch(`${upload.url}&comp=blocklist`, {
      method: "PUT",
      body: `<?xml version="1.0" encoding="utf-8"?><BlockList></BlockList>`,
    });
    await commit.body?.cancel();
    assert.equal(commit.status, 403);
    await assert.rejects(
      putSignedUpload(upload, new TextEncoder().encode("overwritten")),
      AlreadyExistsError,
    );
    assert.equal(await store.readText("taken.txt"), "original");
  });

  test("create-only: of two concurrent uploads sending the headers, one wins", async () => {
    const [a, b] = await Promise.all([
      store.signedUpload("race.txt"),
      store.signedUpload("race.txt"),
    ]);
    const results = await Promise.allSettled([
      putSignedUpload(a!, new TextEncoder().encode("a")),
      putSignedUpload(b!, new TextEncoder().encode("b")),
    ]);
    const won = results.filter((r) => r.status === "fulfilled");
    const lost = results.filter((r) => r.status === "rejected");
    assert.equal(won.length, 1);
    assert.ok(lost[0]!.reason instanceof AlreadyExistsError, String(lost[0]!.reason));
    assert.ok(["a", "b"].includes(await store.readText("race.txt")));
  });

  test("overwrite: sp=cw, and a large file goes in blocks with plain fetch and the same URL", async () => {
    await store.write("big.bin", "old");
    const upload = await store.signedUpload("big.bin", {
      overwrite: true,
      contentType: "application/x-big",
    });
    assert.equal(new URL(upload.url).searchParams.get("sp"), "cw");
    assert.deepEqual(upload.headers, {
      "x-ms-blob-type": "BlockBlob",
      "content-type": "application/x-big",
    });
    assert.deepEqual(upload.blocks, {
      protocol: "azure-blocks",
      maxBlockSize: 4000 * 1024 * 1024,
      maxBlocks: 50_000,
    });
    // The browser gets the upload as JSON; only fetch is used (counted here).
    const received = JSON.parse(JSON.stringify(upload));
    const requests: string[] = [];
    const counting: typeof fetch = (input, init) => {
      const url = String(input);
      assert.ok(url.startsWith(upload.url), "every request uses the signed URL");
      requests.push(`${init?.method} ${url.slice(upload.url.length)}`);
      return fetch(input, init);
    };
    const bytes = patternBytes(5 * 1024 * 1024 + 123, 11);
    const progress: number[] = [];
    const result = await putSignedUpload(received, new Blob([bytes as Uint8Array<ArrayBuffer>]), {
      blockSize: 1024 * 1024,
      concurrency: 3,
      fetch: counting,
      onProgress: (loaded) => progress.push(loaded),
    });
    assert.deepEqual(result, { size: bytes.byteLength, blocks: 6 });
    assert.equal(requests.filter((r) => r.startsWith("PUT &comp=block&blockid=")).length, 6);
    assert.equal(requests.at(-1), "PUT &comp=blocklist", "committed once, at the end");
    assert.equal(progress.at(-1), bytes.byteLength);
    const back = await store.readBytes("big.bin");
    assert.equal(back.byteLength, bytes.byteLength);
    assert.equal(sha256(back), sha256(bytes));
    assert.equal((await store.getFileInfo("big.bin")).contentType, "application/x-big");
  });

  test("the block protocol by hand: Put Block then Put Block List with the same URL", async () => {
    const upload = await store.signedUpload("by-hand.txt", { overwrite: true });
    const ids = [btoa("block-0"), btoa("block-1")];
    for (const [i, text] of ["hello, ", "world"].entries()) {
      const block = await fetch(`${upload.url}&comp=block&blockid=${encodeURIComponent(ids[i]!)}`, {
        method: "PUT",
        body: text,
      });
      await block.body?.cancel();
      assert.equal(block.status, 201);
    }
    assert.equal(await store.isFile("by-hand.txt"), false, "nothing visible before the commit");
    const commit = await fetch(`${upload.url}&comp=blocklist`, {
      method: "PUT",
      headers: { "x-ms-blob-content-type": "text/plain" },
      body: `<?xml version="1.0" encoding="utf-8"?><BlockList>${
        ids.map((id) => `<Latest>${id}</Latest>`).join("")
      }</BlockList>`,
    });
    await commit.body?.cancel();
    assert.equal(commit.status, 201);
    assert.equal(await store.readText("by-hand.txt"), "hello, world");
  });

  test("blocks discarded by a concurrent commit are reported as retryable", async () => {
    // Azure discards a blob's uncommitted blocks when another write commits it;
    // Azurite keeps them, so the commit's answer is Azure's, given by a double.
    const upload = await store.signedUpload("contended.bin", { overwrite: true });
    const azureAnswer: typeof fetch = (input, init) =>
      String(input).endsWith("&comp=blocklist")
        ? Promise.resolve(
          new Response('<?xml version="1.0"?><Error><Code>InvalidBlockList</Code></Error>', {
            status: 400,
          }),
        )
        : fetch(input, init);
    const error = await putSignedUpload(upload, patternBytes(3000), {
      blockSize: 1000,
      fetch: azureAnswer,
    }).then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof BackendUnavailableError, String(error));
    assert.match(error.message, /concurrent upload/);
    assert.equal(await store.isFile("contended.bin"), false);
  });

  test("a transient failure is sent again: a 503 on a block, a dropped connection on the commit", async () => {
    const upload = await store.signedUpload("flaky.bin", { overwrite: true });
    const bytes = patternBytes(5000, 8);
    const sent: string[] = [];
    let failedBlock = false;
    let failedCommit = false;
    const flaky: typeof fetch = (input, init) => {
      const url = String(input);
      const what = url.endsWith("&comp=blocklist") ? "commit" : "block";
      sent.push(what);
      if (what === "block" && !failedBlock) {
        failedBlock = true;
        return Promise.resolve(
          new Response("busy", { status: 503, headers: { "retry-after": "0" } }),
        );
      }
      if (what === "commit" && !failedCommit) {
        failedCommit = true;
        return Promise.reject(new TypeError("the connection was reset"));
      }
      return fetch(input, init);
    };
    const result = await putSignedUpload(upload, bytes, {
      blockSize: 1000,
      concurrency: 1,
      fetch: flaky,
    });
    assert.deepEqual(result, { size: 5000, blocks: 5 });
    assert.deepEqual(sent, [...Array(6).fill("block"), "commit", "commit"]);
    assert.equal(sha256(await store.readBytes("flaky.bin")), sha256(bytes));
  });

  test("a create-only upload is sent once; others give up after maxTries", async () => {
    let requests = 0;
    const busy: typeof fetch = () => {
      requests++;
      return Promise.resolve(
        new Response("busy", { status: 503, headers: { "retry-after": "0" } }),
      );
    };
    const createOnly = await store.signedUpload("busy-once.bin");
    await assert.rejects(
      putSignedUpload(createOnly, new Uint8Array(10), { fetch: busy }),
      BackendUnavailableError,
    );
    assert.equal(requests, 1, "a retry after a lost answer would meet its own upload");
    requests = 0;
    const overwrite = await store.signedUpload("busy-twice.bin", { overwrite: true });
    await assert.rejects(
      putSignedUpload(overwrite, new Uint8Array(10), { fetch: busy, maxTries: 2 }),
      BackendUnavailableError,
    );
    assert.equal(requests, 2);
    await assert.rejects(
      putSignedUpload(overwrite, new Uint8Array(10), { maxTries: 0 }),
      RangeError,
    );
    assert.equal(await store.isFile("busy-twice.bin"), false);
  });

  test("a tampered URL is refused as PermissionDeniedError, without the signature in the error", async () => {
    const upload = await store.signedUpload("tampered.txt", { overwrite: true });
    const url = new URL(upload.url);
    const sig = url.searchParams.get("sig")!;
    url.searchParams.set(
      "sig",
      `A${sig.slice(1)}` === sig ? `B${sig.slice(1)}` : `A${sig.slice(1)}`,
    );
    const error = await putSignedUpload({ ...upload, url: String(url) }, new Uint8Array(3)).then(
      () => assert.fail("a tampered signature must be refused"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof PermissionDeniedError, String(error));
    const text = `${String(error)} ${JSON.stringify(error)} ${(error as Error).stack}`;
    assert.ok(!text.includes(sig) && !text.includes(url.searchParams.get("sig")!), text);
    assert.equal(await store.isFile("tampered.txt"), false);
  });

  test("an abort rejects with the signal's reason and commits nothing", async () => {
    const upload = await store.signedUpload("aborted.bin", { overwrite: true });
    const controller = new AbortController();
    const reason = new Error("the user left the page");
    let requests = 0;
    const abortOnSecond: typeof fetch = (input, init) => {
      if (++requests === 2) controller.abort(reason);
      return fetch(input, init);
    };
    await assert.rejects(
      putSignedUpload(upload, patternBytes(5000), {
        blockSize: 1000,
        concurrency: 1,
        signal: controller.signal,
        fetch: abortOnSecond,
      }),
      (e: unknown) => e === reason,
    );
    assert.equal(requests, 2, "no block starts after the abort, and no commit");
    assert.equal(await store.isFile("aborted.bin"), false);
    await assert.rejects(
      putSignedUpload(upload, new Uint8Array(1), {
        signal: controller.signal,
        fetch: abortOnSecond,
      }),
      (e: unknown) => e === reason,
    );
    assert.equal(requests, 2, "an aborted signal sends nothing");
  });

  test("an unreachable service is BackendUnavailableError, without the signature anywhere", async () => {
    const upload = await store.signedUpload("unreachable.txt");
    const url = new URL(upload.url);
    url.host = "127.0.0.1:1"; // nothing listens on port 1
    const sig = url.searchParams.get("sig")!;
    const error = await putSignedUpload({ ...upload, url: String(url) }, new Uint8Array(3)).then(
      () => assert.fail("port 1 must refuse the connection"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof BackendUnavailableError, String(error));
    assert.ok(error.cause !== undefined, "the native error is kept as cause");
    const text = `${inspect(error, { depth: 8 })} ${JSON.stringify(error)} ${error.stack}`;
    for (const secret of [sig, encodeURIComponent(sig)]) {
      assert.ok(!text.includes(secret), text);
    }
  });

  test("bad input is a typed error before any request", async () => {
    let requests = 0;
    const countingFetch: typeof fetch = (input, init) => {
      requests++;
      return fetch(input, init);
    };
    const counting = new Store(env.backend({ hns: false, fetch: countingFetch }));
    await assert.rejects(counting.signedUpload("a.txt", { expiresIn: 0 }), RangeError);
    await assert.rejects(counting.signedUpload("a.txt", { expiresIn: 8 * 86400 }), RangeError);
    await assert.rejects(counting.signedUpload("a.txt", { expiresIn: 1.5 }), RangeError);
    await assert.rejects(
      counting.signedUpload("a.txt", { overwrite: 1 as unknown as boolean }),
      TypeError,
    );
    await assert.rejects(counting.signedUpload("a.txt", { contentType: "a\nb" }), TypeError);
    await assert.rejects(counting.signedUpload("../a.txt"), InvalidPathError);
    await assert.rejects(counting.signedUpload(""), InvalidPathError);
    const upload = await counting.signedUpload("a.txt", { overwrite: true });
    assert.equal(requests, 0, "signing with the account key needs no request");
    const bad = putSignedUpload(upload, "text" as unknown as Blob);
    await assert.rejects(bad, TypeError);
    await assert.rejects(putSignedUpload(upload, new Uint8Array(1), { blockSize: 0 }), RangeError);
    await assert.rejects(
      putSignedUpload(upload, new Uint8Array(1), { concurrency: 1.5 }),
      RangeError,
    );
    await assert.rejects(
      putSignedUpload({ ...upload, method: "POST" as "PUT" }, new Uint8Array(1)),
      TypeError,
    );
    assert.equal(await store.isFile("a.txt"), false);
  });

  test("examples/signed_upload.ts: the server signs, the browser uploads with fetch", async () => {
    const send: typeof fetch = (input, init) =>
      String(input).startsWith("/api/uploads")
        ? handleUploadRequest(store, new Request(new URL(String(input), "http://app"), init))
        : fetch(input, init);
    const bytes = patternBytes(9 * 1024 * 1024, 5); // two blocks of the default 8 MiB
    const file = new File([bytes as Uint8Array<ArrayBuffer>], "clip.bin", { type: "video/mp4" });
    const log = console.log;
    console.log = () => {};
    const path = await uploadFromBrowser(file, "/api/uploads", send).finally(() => {
      console.log = log;
    });
    assert.match(path, /^inbox\/[0-9a-f-]{36}\/clip\.bin$/);
    assert.equal(sha256(await store.readBytes(path)), sha256(bytes));
    assert.equal((await store.getFileInfo(path)).contentType, "video/mp4");
    for (const query of ["name=../x", "name=a.txt&type=not%20a%20type"]) {
      const response = await send(`/api/uploads?${query}`, { method: "POST" });
      await response.body?.cancel();
      assert.equal(response.status, 400, query);
    }
  });

  test("a backend authenticated by a SAS token cannot sign uploads", async () => {
    const sasStore = new Store(
      env.backend({
        accountName: env.az.accountName,
        accountUrl: env.az.url,
        sasToken: "sv=2025-01-05&ss=b&srt=sco&sp=rwdlac&se=2099-01-01T00:00:00Z&sig=AAAA",
        hns: false,
      }),
    );
    assert.equal(sasStore.supports("signed_url"), false);
    await assert.rejects(
      sasStore.signedUpload("a.txt"),
      (e: unknown) => e instanceof CapabilityNotSupportedError && e.capability === "signed_url",
    );
  });
});
