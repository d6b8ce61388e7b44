/**
 * Unit tests of the Azure retry rules: `Retry-After` parsing and back-off.
 * The retry loop itself is tested through the transport in `_http_test.ts`.
 *
 * @module
 */

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { retryAfterMs, retryDelay, sleep } from "./_retry.ts";

function headers(values: Record<string, string>): Headers {
  return new Headers(values);
}

describe("azure retry rules", () => {
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

  test("sleep rejects at once with the signal's reason", async () => {
    const controller = new AbortController();
    const reason = new Error("stop");
    const waiting = sleep(60_000, controller.signal);
    controller.abort(reason);
    await assert.rejects(waiting, (error) => error === reason);
    await assert.rejects(sleep(10, controller.signal), (error) => error === reason);
  });
});
