/**
 * Unit tests of the Azure transport through its `fetch` injection: signing,
 * URLs, retries (which statuses, `Retry-After`, network failures), error
 * bodies, aborts and close. Behaviour against a real server is covered by
 * the Azurite and DFS emulator suites.
 *
 * @module
 */

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { BackendUnavailableError } from "../../errors.ts";
import {
  API_VERSION,
  AzureHttp,
  AzureHttpError,
  AzureNetworkError,
  type FetchLike,
} from "./_http.ts";
import { parseAzureOptions } from "./_options.ts";
import { mapAzureError } from "./_errors.ts";

const KEY =
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

interface Seen {
  url: string;
  method: string;
  headers: Headers;
  body?: Uint8Array;
}

type Step = Response | Error | (() => Response | Promise<Response>);

/** A fetch answering from a script; records every request. */
function scripted(script: Step[]): { fetch: FetchLike; seen: Seen[] } {
  const seen: Seen[] = [];
  const fetch: FetchLike = (url, init) => {
    seen.push({
      url,
      method: String(init.method),
      headers: new Headers(init.headers),
      body: init.body as Uint8Array | undefined,
    });
    const step = script.shift();
    if (step === undefined) return Promise.reject(new Error("script ended"));
    if (step instanceof Error) return Promise.reject(step);
    return Promise.resolve(typeof step === "function" ? step() : step);
  };
  return { fetch, seen };
}

function http(fetch: FetchLike, extra: Record<string, unknown> = {}): AzureHttp {
  return new AzureHttp(parseAzureOptions({
    container: "box",
    accountName: "acct",
    accountKey: KEY,
    accountUrl: "http://127.0.0.1:1/acct",
    retry: { maxTries: 3, retryDelayMs: 1, maxRetryDelayMs: 20 },
    fetch,
    ...extra,
  }));
}

describe("azure transport", () => {
  test("signs each attempt with Shared Key, a fresh date and the service version", async () => {
    const { fetch, seen } = scripted([new Response(null, { status: 503 }), new Response("ok")]);
    const response = await http(fetch).send({ method: "PUT", key: "a b/ü?#", body: "xyz" });
    assert.equal(await response.text(), "ok");
    assert.equal(seen.length, 2);
    for (const request of seen) {
      assert.equal(request.headers.get("x-ms-version"), API_VERSION);
      assert.match(request.headers.get("authorization") ?? "", /^SharedKey acct:[A-Za-z0-9+/]+=*$/);
      assert.ok(request.headers.get("x-ms-date"));
      assert.equal(request.headers.get("content-length"), "3");
    }
    assert.equal(seen[0]!.url, "http://127.0.0.1:1/acct/box/a%20b/%C3%BC%3F%23");
  });

  test("a SAS token goes into every URL and no Authorization header is sent", async () => {
    const { fetch, seen } = scripted([new Response("")]);
    const sas = http(fetch, { accountKey: undefined, sasToken: "?sv=2025-01-05&sig=abc%2Bdef" });
    await sas.call({ method: "GET", key: "", query: { restype: "container", comp: "list" } });
    assert.equal(
      seen[0]!.url,
      "http://127.0.0.1:1/acct/box?restype=container&comp=list&sv=2025-01-05&sig=abc%2Bdef",
    );
    assert.equal(seen[0]!.headers.get("authorization"), null);
    assert.equal(sas.sourceUrl("k"), "http://127.0.0.1:1/acct/box/k?sv=2025-01-05&sig=abc%2Bdef");
  });

  test("a token credential sends a bearer token, fetched once while it is valid", async () => {
    let calls = 0;
    const credential = {
      getToken: () => {
        calls++;
        return Promise.resolve({ token: `t${calls}`, expiresOnTimestamp: Date.now() + 3_600_000 });
      },
    };
    const { fetch, seen } = scripted([new Response(""), new Response("")]);
    const t = http(fetch, { accountKey: undefined, credential });
    await t.call({ method: "HEAD", key: "x" });
    await t.call({ method: "HEAD", key: "y" });
    assert.equal(calls, 1);
    assert.deepEqual(seen.map((s) => s.headers.get("authorization")), ["Bearer t1", "Bearer t1"]);
  });

  test("a token about to expire is renewed", async () => {
    let calls = 0;
    const credential = {
      getToken: () => {
        calls++;
        return Promise.resolve({ token: `t${calls}`, expiresOnTimestamp: Date.now() + 1000 });
      },
    };
    const { fetch, seen } = scripted([new Response(""), new Response("")]);
    const t = http(fetch, { accountKey: undefined, credential });
    await t.call({ method: "HEAD", key: "x" });
    await t.call({ method: "HEAD", key: "x" });
    assert.deepEqual(seen.map((s) => s.headers.get("authorization")), ["Bearer t1", "Bearer t2"]);
  });

  test("429 with Retry-After and network failures are retried", async () => {
    const { fetch, seen } = scripted([
      new Response(null, { status: 429, headers: { "retry-after-ms": "5" } }),
      Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNRESET" } }),
      new Response("done"),
    ]);
    const response = await http(fetch).send({ method: "GET", key: "k" });
    assert.equal(await response.text(), "done");
    assert.equal(seen.length, 3);
  });

  test("404 and 412 are not retried; the code comes from the header, XML or JSON body", async () => {
    const xml =
      '<?xml version="1.0"?><Error><Code>BlobNotFound</Code><Message>nope\nmore</Message></Error>';
    const cases: [Response, number, string][] = [
      [new Response(xml, { status: 404 }), 404, "BlobNotFound"],
      [
        new Response(JSON.stringify({ error: { code: "PathNotFound", message: "gone" } }), {
          status: 404,
        }),
        404,
        "PathNotFound",
      ],
      [
        new Response(null, { status: 412, headers: { "x-ms-error-code": "ConditionNotMet" } }),
        412,
        "ConditionNotMet",
      ],
    ];
    for (const [answer, status, code] of cases) {
      const { fetch, seen } = scripted([answer]);
      const error = await http(fetch).send({ method: "GET", key: "k" }).then(
        () => assert.fail("no error"),
        (e) => e,
      );
      assert.ok(error instanceof AzureHttpError);
      assert.equal(error.statusCode, status);
      assert.equal(error.code, code);
      assert.equal(seen.length, 1);
    }
  });

  test("gives up after maxTries with the last answer", async () => {
    const { fetch, seen } = scripted([
      new Response(null, { status: 500 }),
      new Response(null, { status: 502 }),
      new Response(null, { status: 503, headers: { "x-ms-error-code": "ServerBusy" } }),
    ]);
    const error = await http(fetch).send({ method: "GET", key: "k" }).catch((e) => e);
    assert.equal(seen.length, 3);
    assert.equal(error.statusCode, 503);
    assert.ok(mapAzureError(error) instanceof BackendUnavailableError);
  });

  test("a network failure after every attempt is an AzureNetworkError, mapped as unavailable", async () => {
    const refused = () =>
      Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNREFUSED" } });
    const { fetch } = scripted([refused(), refused(), refused()]);
    const error = await http(fetch).send({ method: "GET", key: "k" }).catch((e) => e);
    assert.ok(error instanceof AzureNetworkError);
    assert.equal(error.code, "ECONNREFUSED");
    const mapped = mapAzureError(error);
    assert.ok(mapped instanceof BackendUnavailableError);
    assert.match((mapped as Error).message, /ECONNREFUSED/);
  });

  test("a header value that cannot be sent is a TypeError, before any request", async () => {
    const { fetch, seen } = scripted([]);
    const error = await http(fetch).send({
      method: "PUT",
      key: "k",
      headers: { "x-ms-meta-a": "line\nbreak" },
    }).catch((e) => e);
    assert.ok(error instanceof TypeError);
    assert.equal(seen.length, 0);
    assert.ok(mapAzureError(error) instanceof TypeError);
  });

  test("tryTimeoutMs becomes the server-side timeout parameter, in whole seconds", async () => {
    const { fetch, seen } = scripted([new Response("")]);
    await http(fetch, { retry: { tryTimeoutMs: 1500 } }).call({ method: "HEAD", key: "k" });
    assert.equal(new URL(seen[0]!.url).searchParams.get("timeout"), "2");
  });

  test("an abort during the back-off rejects at once with the reason, without another attempt", async () => {
    const controller = new AbortController();
    const reason = new Error("caller gave up");
    const { fetch, seen } = scripted([
      () => {
        setTimeout(() => controller.abort(reason), 5);
        return new Response(null, { status: 503, headers: { "retry-after": "60" } });
      },
    ]);
    const t = http(fetch, { retry: { maxTries: 3, maxRetryDelayMs: 60_000 } });
    const error = await t.send({ method: "GET", key: "k", signal: controller.signal })
      .catch((e) => e);
    assert.equal(error, reason);
    assert.equal(seen.length, 1);
  });

  test("after close, requests fail with BackendUnavailableError and waits end", async () => {
    const { fetch, seen } = scripted([
      new Response(null, { status: 503, headers: { "retry-after": "60" } }),
    ]);
    const t = http(fetch, { retry: { maxTries: 3, maxRetryDelayMs: 60_000 } });
    const pending = t.send({ method: "GET", key: "k" }).catch((e) => e);
    await new Promise((r) => setTimeout(r, 10));
    t.close();
    const error = await pending;
    assert.ok(error instanceof BackendUnavailableError);
    assert.match(error.message, /closed/);
    await assert.rejects(t.send({ method: "GET", key: "k" }), BackendUnavailableError);
    assert.equal(seen.length, 1);
  });

  test("secrets never appear in error messages", async () => {
    const { fetch } = scripted([
      new Response(
        `<Error><Code>AuthenticationFailed</Code><Message>key ${KEY}</Message></Error>`,
        {
          status: 403,
        },
      ),
    ]);
    const error = await http(fetch).send({ method: "GET", key: "k" }).catch((e) => e);
    assert.equal(error.statusCode, 403);
    assert.ok(!String(error.message).includes(KEY));
    assert.match(error.message, /REDACTED/);
  });
});
