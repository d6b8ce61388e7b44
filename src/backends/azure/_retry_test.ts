/**
 * Unit tests of the Azure retry policy: delays, `Retry-After` parsing,
 * which failures are retried, resendable bodies, aborts and close.
 *
 * @module
 */

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { BackendUnavailableError } from "../../errors.ts";
import {
  isResendable,
  retryAfterMs,
  retryDelay,
  type RetryPolicy,
  retryPolicy,
  type RetryRequest,
  type RetryResponse,
} from "./_retry.ts";

/** Just enough of the SDK's headers for the policy (it only calls `get`). */
function headers(values: Record<string, string>): RetryResponse["headers"] {
  return { get: (name: string) => values[name.toLowerCase()] };
}

type Next = (request: RetryRequest) => Promise<RetryResponse>;

/** A fake rest of the pipeline answering from a script; records attempts. */
function scripted(script: (Partial<RetryResponse> | Error)[]): { next: Next; attempts: number[] } {
  const attempts: number[] = [];
  const next: Next = () => {
    attempts.push(Date.now());
    const step = script.shift();
    if (step instanceof Error) return Promise.reject(step);
    return Promise.resolve({ status: 0, headers: headers({}), ...step });
  };
  return { next, attempts };
}

/** The policy with its `next` bound, as the pipeline calls it. */
function bind(policy: RetryPolicy, next: Next) {
  return { sendRequest: (request: RetryRequest) => policy.sendRequest(request, next) };
}

function request(body?: unknown, abortSignal?: AbortSignal): RetryRequest {
  return { url: "http://x/y", body, abortSignal };
}

const SETTINGS = { maxTries: 4, retryDelayMs: 1, maxRetryDelayMs: 2_000 };

function restError(statusCode: number | undefined, extra: Record<string, unknown> = {}): Error {
  const error = new Error("failed") as Error & Record<string, unknown>;
  error.name = "RestError";
  if (statusCode !== undefined) error.statusCode = statusCode;
  Object.assign(error, extra);
  return error;
}

describe("azure retry policy", () => {
  test("retryAfterMs reads seconds, HTTP dates and millisecond headers", () => {
    assert.equal(retryAfterMs(headers({ "retry-after": "2" })), 2000);
    assert.equal(retryAfterMs(headers({ "retry-after-ms": "150" })), 150);
    assert.equal(retryAfterMs(headers({ "x-ms-retry-after-ms": "75", "retry-after": "9" })), 75);
    const now = Date.parse("2025-01-01T00:00:00Z");
    assert.equal(
      retryAfterMs(headers({ "retry-after": "Wed, 01 Jan 2025 00:00:03 GMT" }), now),
      3000,
    );
    assert.equal(retryAfterMs(headers({ "retry-after": "soon" })), undefined);
    assert.equal(retryAfterMs(headers({})), undefined);
    assert.equal(retryAfterMs(undefined), undefined);
  });

  test("retryDelay honours the server, caps it, and backs off exponentially", () => {
    const settings = { maxTries: 5, retryDelayMs: 100, maxRetryDelayMs: 1000 };
    assert.equal(retryDelay(1, settings, 500), 500);
    assert.equal(retryDelay(1, settings, 30_000), 1000);
    const d1 = retryDelay(1, settings);
    const d3 = retryDelay(3, settings);
    assert.ok(d1 >= 80 && d1 <= 120, String(d1));
    assert.ok(d3 >= 320 && d3 <= 480, String(d3));
    assert.equal(retryDelay(10, settings), 1000);
  });

  test("isResendable accepts buffers, strings and factories, not streams", () => {
    assert.ok(isResendable(undefined));
    assert.ok(isResendable("x"));
    assert.ok(isResendable(new Uint8Array(1)));
    assert.ok(isResendable(new ArrayBuffer(1)));
    assert.ok(isResendable(() => new ReadableStream()));
    assert.ok(!isResendable(new ReadableStream()));
    assert.ok(!isResendable({ pipe() {} }));
  });

  test("429 with Retry-After is retried after the delay", async () => {
    const { next, attempts } = scripted([
      { status: 429, headers: headers({ "retry-after-ms": "120" }) },
      { status: 201 },
    ]);
    const policy = bind(retryPolicy(SETTINGS), next);
    const response = await policy.sendRequest(request(new Uint8Array(4)));
    assert.equal(response.status, 201);
    assert.equal(attempts.length, 2);
    assert.ok(attempts[1]! - attempts[0]! >= 110, `waited ${attempts[1]! - attempts[0]!} ms`);
  });

  test("thrown 503 and network errors are retried; 404 and 412 are not", async () => {
    const transient = scripted([restError(503), restError(undefined, { code: "ECONNRESET" }), {
      status: 200,
    }]);
    const policy = bind(retryPolicy(SETTINGS), transient.next);
    assert.equal((await policy.sendRequest(request())).status, 200);
    assert.equal(transient.attempts.length, 3);
    for (const status of [404, 412, 409, 403]) {
      const final = scripted([restError(status), { status: 200 }]);
      const p = bind(retryPolicy(SETTINGS), final.next);
      await assert.rejects(
        p.sendRequest(request()),
        (e) => (e as { statusCode?: number }).statusCode === status,
      );
      assert.equal(final.attempts.length, 1);
    }
  });

  test("a request the HTTP client refuses to build (invalid header value) is not retried", async () => {
    for (
      const code of ["ERR_INVALID_CHAR", "ERR_INVALID_HTTP_TOKEN", "ERR_HTTP_INVALID_HEADER_VALUE"]
    ) {
      const refused = Object.assign(new TypeError("Invalid character in header content"), { code });
      const { next, attempts } = scripted([refused, { status: 200 }]);
      await assert.rejects(bind(retryPolicy(SETTINGS), next).sendRequest(request()), TypeError);
      assert.equal(attempts.length, 1, code);
    }
  });

  test("gives up after maxTries and returns the last failure", async () => {
    const { next, attempts } = scripted([{ status: 500 }, { status: 500 }, { status: 500 }]);
    const policy = bind(retryPolicy({ ...SETTINGS, maxTries: 3 }), next);
    assert.equal((await policy.sendRequest(request())).status, 500);
    assert.equal(attempts.length, 3);
  });

  test("tryTimeoutMs becomes the server-side timeout parameter, in whole seconds", async () => {
    const urls: string[] = [];
    const policy = retryPolicy({ ...SETTINGS, tryTimeoutMs: 1500 });
    await policy.sendRequest({ url: "http://x/c/b?comp=block" }, (request) => {
      urls.push(request.url);
      return Promise.resolve({ status: 201, headers: headers({}) });
    });
    assert.deepEqual(urls, ["http://x/c/b?comp=block&timeout=2"]);
  });

  test("a streamed body is not re-sent", async () => {
    const { next, attempts } = scripted([{ status: 503 }, { status: 201 }]);
    const policy = bind(retryPolicy(SETTINGS), next);
    assert.equal((await policy.sendRequest(request(new ReadableStream()))).status, 503);
    assert.equal(attempts.length, 1);
  });

  test("an abort during the wait rejects at once, without another attempt", async () => {
    const { next, attempts } = scripted([{
      status: 503,
      headers: headers({ "retry-after": "5" }),
    }]);
    const policy = bind(retryPolicy({ ...SETTINGS, maxRetryDelayMs: 10_000 }), next);
    const controller = new AbortController();
    const reason = new Error("stop");
    setTimeout(() => controller.abort(reason), 30);
    const started = Date.now();
    await assert.rejects(
      policy.sendRequest(request(undefined, controller.signal)),
      (e) => e === reason,
    );
    assert.ok(Date.now() - started < 1000);
    assert.equal(attempts.length, 1);
  });

  test("an aborted attempt is not retried", async () => {
    const abort = new Error("aborted");
    abort.name = "AbortError";
    const { next, attempts } = scripted([abort, { status: 200 }]);
    const policy = bind(retryPolicy(SETTINGS), next);
    await assert.rejects(policy.sendRequest(request()), (e) => e === abort);
    assert.equal(attempts.length, 1);
  });

  test("after close, attempts fail with BackendUnavailableError and waits end", async () => {
    const closing = new AbortController();
    const { next, attempts } = scripted([{
      status: 503,
      headers: headers({ "retry-after": "5" }),
    }]);
    const policy = bind(
      retryPolicy({
        ...SETTINGS,
        maxRetryDelayMs: 10_000,
        closeSignal: closing.signal,
      }),
      next,
    );
    setTimeout(() => closing.abort(), 30);
    await assert.rejects(policy.sendRequest(request()), (e) => {
      assert.ok(e instanceof BackendUnavailableError);
      assert.match(e.message, /closed/);
      return true;
    });
    assert.equal(attempts.length, 1);
    await assert.rejects(policy.sendRequest(request()), BackendUnavailableError);
    assert.equal(attempts.length, 1, "no attempt after close");
  });
});
