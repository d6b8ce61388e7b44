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
  AlreadyExistsError,
  BackendUnavailableError,
  InvalidConfigError,
  InvalidPathError,
  NotFoundError,
  PermissionDeniedError,
  PreconditionFailedError,
  type RemoteStoreError,
  Store,
} from "../../mod.ts";
import { AzureBackend } from "../../azure.ts";
import { mapAzureError } from "../../src/backends/azure/_errors.ts";
import { freePort } from "../_azurite.ts";
import { type AzureEnv, chunkedStream, HOOK, patternBytes, setupAzure } from "./_setup.ts";

const WRONG_KEY = btoa("definitely not the account key of devstoreaccount1");

/** Every way an object can be printed. */
function renderings(value: unknown): string[] {
  const out = [
    String(value),
    JSON.stringify(value) ?? "",
    inspect(value),
    inspect(value, { depth: 20, showHidden: true }),
  ];
  const deno = (globalThis as { Deno?: { inspect(v: unknown, o?: unknown): string } }).Deno;
  if (deno) out.push(deno.inspect(value), deno.inspect(value, { depth: 20, showHidden: true }));
  if (value instanceof Error) {
    out.push(value.message, value.stack ?? "");
    const cause = (value as { cause?: unknown }).cause;
    if (cause !== undefined) out.push(...renderings(cause));
  }
  return out;
}

function assertNoSecrets(value: unknown, secrets: string[]): void {
  for (const text of renderings(value)) {
    for (const secret of secrets) {
      assert.ok(!text.includes(secret), `a secret leaked into: ${text.slice(0, 2000)}`);
      const encoded = encodeURIComponent(secret);
      assert.ok(!text.includes(encoded), `an encoded secret leaked into: ${text.slice(0, 2000)}`);
    }
  }
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail("expected a rejection");
}

describe("azure error mapping", () => {
  let env: AzureEnv;
  let store: Store;

  before(async () => {
    env = await setupAzure();
    store = new Store(env.backend());
    await store.write("dir/inner.txt", "inner");
    await store.write("file.txt", "v1");
  }, HOOK);

  after(async () => {
    await env?.close();
  }, HOOK);

  test("404 -> NotFoundError with the SDK error as cause", async () => {
    const error = await caught(store.read("missing.txt"));
    assert.ok(error instanceof NotFoundError);
    assert.equal((error.cause as { statusCode?: number }).statusCode, 404);
    assert.equal(error.backend, "azure");
    assert.equal(error.path, "missing.txt");
    await assert.rejects(store.getFileInfo("missing.txt"), NotFoundError);
    await assert.rejects(store.delete("missing.txt"), NotFoundError);
    await assert.rejects(store.copy("missing.txt", "x.txt"), NotFoundError);
    await assert.rejects(store.move("missing.txt", "x.txt"), NotFoundError);
    await assert.rejects(store.deleteFolder("missing"), NotFoundError);
  });

  test("a file method on a folder -> InvalidPathError; deleteFolder on a file too", async () => {
    await assert.rejects(store.read("dir"), InvalidPathError);
    await assert.rejects(store.getFileInfo("dir"), InvalidPathError);
    await assert.rejects(store.delete("dir"), InvalidPathError);
    await assert.rejects(store.copy("dir", "x.txt"), InvalidPathError);
    await assert.rejects(store.deleteFolder("file.txt"), InvalidPathError);
    await assert.rejects(store.deleteFolder("file.txt", { recursive: true }), InvalidPathError);
    assert.equal(await store.readText("dir/inner.txt"), "inner");
    // A lone surrogate cannot be UTF-8 encoded into a blob URL.
    await assert.rejects(store.write("bad\ud800.txt", "x"), InvalidPathError);
    await assert.rejects(store.read("bad\udc00"), InvalidPathError);
    await assert.rejects(store.copy("file.txt", "x\ud800"), InvalidPathError);
  });

  test("409 / create-only -> AlreadyExistsError (write, copy, move)", async () => {
    await assert.rejects(store.write("file.txt", "v2"), AlreadyExistsError);
    await assert.rejects(
      store.write("file.txt", chunkedStream(patternBytes(3 * 1024 * 1024))),
      AlreadyExistsError,
    );
    await store.write("other.txt", "other");
    await assert.rejects(store.copy("other.txt", "file.txt"), AlreadyExistsError);
    await assert.rejects(store.move("other.txt", "file.txt"), AlreadyExistsError);
    assert.equal(await store.readText("other.txt"), "other", "a refused move keeps the source");
    assert.equal(await store.readText("file.txt"), "v1");
  });

  test("412 -> PreconditionFailedError for a stale ifMatch; a current one succeeds", async () => {
    const { etag } = await store.getFileInfo("file.txt");
    await assert.rejects(
      store.write("file.txt", "v2", { overwrite: true, ifMatch: '"0x0000000000000000"' }),
      PreconditionFailedError,
    );
    const result = await store.write("file.txt", "v2", { overwrite: true, ifMatch: etag });
    assert.notEqual(result.etag, etag);
    assert.equal(await store.readText("file.txt"), "v2");
  });

  test("403 with a wrong key -> PermissionDeniedError", async () => {
    const wrong = new Store(env.backend({
      accountName: env.az.accountName,
      accountKey: WRONG_KEY,
      accountUrl: env.az.url,
      hns: false,
    }));
    const error = await caught(wrong.read("file.txt"));
    assert.ok(error instanceof PermissionDeniedError);
    assert.equal((error.cause as { statusCode?: number }).statusCode, 403);
  });

  test("a closed port -> BackendUnavailableError (and the HNS probe does not fall back)", async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/devstoreaccount1`;
    const probing = new Store(env.backend({
      accountName: env.az.accountName,
      accountKey: env.az.accountKey,
      accountUrl: url,
      retry: { maxTries: 1 },
    }));
    await assert.rejects(probing.readText("file.txt"), BackendUnavailableError);
    await assert.rejects(probing.readText("file.txt"), BackendUnavailableError, "not cached");
    const flat = new Store(env.backend({
      accountName: env.az.accountName,
      accountKey: env.az.accountKey,
      accountUrl: url,
      hns: false,
      retry: { maxTries: 1 },
    }));
    await assert.rejects(flat.write("x.txt", "x"), BackendUnavailableError);
    await assert.rejects(flat.isFolder("dir"), BackendUnavailableError);
  });

  test("the mapper: status codes, Azure codes, network failures, abort", () => {
    const rest = (statusCode: number | undefined, code?: string, name = "RestError") =>
      Object.assign(new Error("x"), { name, statusCode, code, details: { errorCode: code } });
    const cases: [unknown, new (...args: never[]) => RemoteStoreError][] = [
      [rest(404, "BlobNotFound"), NotFoundError],
      [rest(404, "ContainerNotFound"), NotFoundError],
      [rest(409, "BlobAlreadyExists"), AlreadyExistsError],
      [rest(409, "ContainerAlreadyExists"), AlreadyExistsError],
      [rest(409, "PathAlreadyExists"), AlreadyExistsError],
      [rest(409, "ContainerBeingDeleted"), BackendUnavailableError],
      [rest(409, "LeaseIdMissing"), PreconditionFailedError],
      [rest(412, "ConditionNotMet"), PreconditionFailedError],
      [rest(304), PreconditionFailedError],
      [rest(401), PermissionDeniedError],
      [rest(403, "AuthorizationFailure"), PermissionDeniedError],
      [rest(429), BackendUnavailableError],
      [rest(500, "InternalError"), BackendUnavailableError],
      [rest(503, "ServerBusy"), BackendUnavailableError],
      [rest(400, "InvalidResourceName"), InvalidPathError],
      [rest(undefined, "ECONNRESET"), BackendUnavailableError],
      [rest(undefined, "REQUEST_SEND_ERROR"), BackendUnavailableError],
      [Object.assign(new Error("refused"), { code: "ECONNREFUSED" }), BackendUnavailableError],
      [rest(undefined, undefined, "CredentialUnavailableError"), PermissionDeniedError],
      [rest(undefined, undefined, "AbortError"), BackendUnavailableError],
    ];
    for (const [native, expected] of cases) {
      const mapped = mapAzureError(native, { key: "k" });
      assert.ok(mapped instanceof expected, `${inspect(native)} -> ${inspect(mapped)}`);
      assert.equal((mapped as RemoteStoreError).cause, native);
      assert.equal((mapped as RemoteStoreError).backend, "azure");
      assert.equal((mapped as RemoteStoreError).path, "k");
    }
    assert.ok(
      mapAzureError(rest(412, "ConditionNotMet"), { createOnly: true }) instanceof
        AlreadyExistsError,
    );
    // A caller's invalid value, refused by the service or by the HTTP client:
    // the client-side error classes, never the retryable BackendUnavailableError.
    const invalid: [unknown, new (...args: never[]) => Error][] = [
      [rest(400, "InvalidHeaderValue"), TypeError],
      [rest(400, "InvalidMetadata"), TypeError],
      [rest(400, "OutOfRangeInput"), RangeError],
      [rest(400, "MetadataTooLarge"), RangeError],
      [rest(undefined, "ERR_INVALID_CHAR", "TypeError"), TypeError],
    ];
    for (const [native, expected] of invalid) {
      const mapped = mapAzureError(native, { key: "k" }) as Error;
      assert.ok(mapped instanceof expected, `${inspect(native)} -> ${inspect(mapped)}`);
      assert.ok(!(mapped instanceof BackendUnavailableError));
      assert.equal(mapped.cause, native);
      assert.match(mapped.message, /"k" \(backend "azure"\)$/);
    }
    assert.ok(
      mapAzureError(rest(409, "SomethingElse"), { createOnly: true }) instanceof
        AlreadyExistsError,
    );
    const reason = new Error("stop");
    assert.equal(mapAzureError(rest(undefined), { signal: AbortSignal.abort(reason) }), reason);
  });

  test("abort: rejects with the signal's reason and commits nothing", async () => {
    const controller = new AbortController();
    const reason = new Error("user abort");
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(c) {
        sent++;
        if (sent === 20) controller.abort(reason);
        c.enqueue(patternBytes(256 * 1024, sent));
      },
    });
    const backend = env.backend({ blockSize: 1024 * 1024 });
    await assert.rejects(
      new Store(backend).write("aborted.bin", body, { signal: controller.signal }),
      (error) => error === reason,
    );
    assert.equal(await store.exists("aborted.bin"), false);
    await assert.rejects(
      store.getFileInfo("file.txt", { signal: AbortSignal.abort(reason) }),
      (error) => error === reason,
    );
  });
});

describe("azure secrets never leak", () => {
  let env: AzureEnv;

  before(async () => {
    env = await setupAzure();
  }, HOOK);

  after(async () => {
    await env?.close();
  }, HOOK);

  test("backend: String, JSON, util.inspect, Deno.inspect (key, connection string, SAS)", () => {
    const sasToken = generateBlobSASQueryParameters({
      containerName: env.container,
      expiresOn: new Date(Date.now() + 3600_000),
      permissions: ContainerSASPermissions.parse("racwdl"),
      protocol: SASProtocol.HttpsAndHttp,
    }, new StorageSharedKeyCredential(env.az.accountName, env.az.accountKey)).toString();
    const sig = new URLSearchParams(sasToken).get("sig")!;
    const secrets = [env.az.accountKey, env.az.connectionString, sasToken, sig];
    for (
      const backend of [
        env.backend({ connectionString: env.az.connectionString }),
        env.backend({
          accountName: "devstoreaccount1",
          accountKey: env.az.accountKey,
          accountUrl: env.az.url,
        }),
        env.backend({ accountUrl: env.az.url, sasToken }),
      ]
    ) {
      assertNoSecrets(backend, secrets);
      assertNoSecrets(new Store(backend), secrets);
      assert.match(String(backend), /^AzureBackend\(container=/);
    }
  });

  test("errors of a key-authenticated backend (403, 404, network) carry no secrets", async () => {
    const secrets = [env.az.accountKey, WRONG_KEY];
    const wrong = new Store(env.backend({
      accountName: env.az.accountName,
      accountKey: WRONG_KEY,
      accountUrl: env.az.url,
      hns: false,
    }));
    assertNoSecrets(await caught(wrong.read("x.txt")), secrets);
    const right = new Store(env.backend({ connectionString: env.az.connectionString }));
    assertNoSecrets(await caught(right.read("x.txt")), secrets);
    const port = await freePort();
    const closed = new Store(env.backend({
      connectionString: env.az.connectionString.replace(`:${env.az.port}/`, `:${port}/`),
      retry: { maxTries: 1 },
    }));
    assertNoSecrets(await caught(closed.read("x.txt")), [...secrets, env.az.connectionString]);
  });

  test("errors of a SAS-authenticated backend (404, 409 copy, 403, network) carry no SAS", async () => {
    const make = (permissions: string) =>
      generateBlobSASQueryParameters({
        containerName: env.container,
        expiresOn: new Date(Date.now() + 3600_000),
        permissions: ContainerSASPermissions.parse(permissions),
        protocol: SASProtocol.HttpsAndHttp,
      }, new StorageSharedKeyCredential(env.az.accountName, env.az.accountKey)).toString();
    const sasToken = make("racwdl");
    const readOnly = make("rl");
    const secrets = [
      sasToken,
      new URLSearchParams(sasToken).get("sig")!,
      readOnly,
      new URLSearchParams(readOnly).get("sig")!,
    ];
    const store = new Store(env.backend({ accountUrl: env.az.url, sasToken }));
    await store.write("a.txt", "a");
    await store.write("b.txt", "b");
    assertNoSecrets(await caught(store.read("missing.txt")), secrets);
    assertNoSecrets(await caught(store.copy("a.txt", "b.txt")), secrets);
    assertNoSecrets(await caught(store.write("a.txt", "again")), secrets);
    const ro = new Store(env.backend({ accountUrl: env.az.url, sasToken: readOnly, hns: false }));
    assertNoSecrets(await caught(ro.write("c.txt", "c")), secrets);
    const port = await freePort();
    const closed = new Store(env.backend({
      accountUrl: `http://127.0.0.1:${port}/devstoreaccount1`,
      sasToken,
      retry: { maxTries: 1 },
    }));
    assertNoSecrets(await caught(closed.read("x.txt")), secrets);
  });

  test("options errors name the option, never its value", () => {
    const secret = "AccountKey=c2VjcmV0LXZhbHVlLXRoYXQtbXVzdC1ub3QtbGVhaw==";
    const attempts: [Record<string, unknown>, string][] = [
      [{ connectionString: secret }, "container"],
      [{ container: "c1c", connectionString: "nonsense-secret-value" }, "connectionString"],
      [{ container: "c1c", connectionString: secret, accountKey: "k" }, "connectionString"],
      [
        { container: "c1c", accountName: "a", accountKey: "k", sasToken: "sig=secretsig" },
        "accountKey",
      ],
      [{ container: "c1c", accountUrl: "http://h/a?sig=secretsig" }, "accountUrl"],
    ];
    for (const [options, named] of attempts) {
      const error = (() => {
        try {
          new AzureBackend(options as never);
        } catch (e) {
          return e;
        }
        assert.fail(`no error for ${named}`);
      })();
      assert.ok(error instanceof InvalidConfigError, String(error));
      assert.match(error.message, new RegExp(named));
      assertNoSecrets(error, [
        "c2VjcmV0LXZhbHVlLXRoYXQtbXVzdC1ub3QtbGVhaw==",
        "nonsense-secret-value",
        "secretsig",
      ]);
    }
  });
});
