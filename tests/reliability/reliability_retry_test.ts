/**
 * Reliability: injected 429, 500 and 503 responses (with and without
 * `Retry-After`) are retried honouring the server's delay, within a bounded
 * time; exhausted retries end in a typed error; aborts cut the wait short.
 *
 * @module
 */

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { BackendUnavailableError, PermissionDeniedError, Store } from "../../mod.ts";
import { type FaultEnv, type Flavor, HOOK, setupFaultEnv } from "./_env.ts";

/** Scheduling slack allowed below a `Retry-After` wait. */
const SLACK_MS = 100;

for (const flavor of ["flat", "hns"] as Flavor[]) {
  describe(`reliability: retries (${flavor})`, () => {
    let env: FaultEnv;
    let store: Store;
    before(async () => {
      env = await setupFaultEnv(flavor);
      store = new Store(
        env.backend({ retry: { maxTries: 4, retryDelayMs: 10, maxRetryDelayMs: 5_000 } }),
        {
          rootPath: "retry",
        },
      );
      await store.write("seed.txt", "seed");
    }, HOOK);
    after(() => env?.close(), HOOK);

    /** The requests seen after index `from` whose target matches `path`. */
    const seen = (from: number, method: string, path: RegExp) =>
      env.proxy.requests.slice(from).filter((r) => r.method === method && path.test(r.target));

    test("a write is retried after 429 with Retry-After: 1, waiting at least 1 s", async () => {
      const from = env.proxy.requests.length;
      env.proxy.add({
        method: "PUT",
        path: /\/retry\/a429\.txt/,
        action: { kind: "status", status: 429, retryAfter: 1 },
      });
      const started = Date.now();
      await store.write("a429.txt", "after 429", { overwrite: true });
      const elapsed = Date.now() - started;
      const puts = seen(from, "PUT", /\/retry\/a429\.txt/);
      assert.equal(puts.length, 2, "one injected 429, then one real attempt");
      assert.equal(puts[0]!.status, 429);
      assert.ok(
        puts[1]!.at - puts[0]!.at >= 1000 - SLACK_MS,
        `waited ${puts[1]!.at - puts[0]!.at} ms`,
      );
      assert.ok(elapsed < 5_000, `took ${elapsed} ms`);
      assert.equal(await store.readText("a429.txt"), "after 429");
    });

    test("a read is retried after 503 with Retry-After: 1", async () => {
      const from = env.proxy.requests.length;
      env.proxy.add({
        method: "GET",
        path: /\/retry\/seed\.txt/,
        action: { kind: "status", status: 503, retryAfter: 1 },
      });
      const started = Date.now();
      assert.equal(await store.readText("seed.txt"), "seed");
      const elapsed = Date.now() - started;
      const gets = seen(from, "GET", /\/retry\/seed\.txt/);
      assert.equal(gets[0]!.status, 503);
      assert.equal(gets.length, 2);
      assert.ok(
        gets[1]!.at - gets[0]!.at >= 1000 - SLACK_MS,
        `waited ${gets[1]!.at - gets[0]!.at} ms`,
      );
      assert.ok(elapsed < 5_000, `took ${elapsed} ms`);
    });

    test("getFileInfo is retried after 500 and 503 without Retry-After (exponential back-off)", async () => {
      const from = env.proxy.requests.length;
      env.proxy.add({
        method: "HEAD",
        path: /\/retry\/seed\.txt/,
        times: 2,
        action: { kind: "status", status: 500 },
      });
      const started = Date.now();
      const info = await store.getFileInfo("seed.txt");
      assert.equal(info.size, 4);
      assert.equal(seen(from, "HEAD", /\/retry\/seed\.txt/).length, 3);
      assert.ok(Date.now() - started < 3_000);
    });

    test("a Retry-After above maxRetryDelayMs is capped", async () => {
      const capped = new Store(
        env.backend({ retry: { maxTries: 3, retryDelayMs: 10, maxRetryDelayMs: 200 } }),
        { rootPath: "retry" },
      );
      env.proxy.add({
        method: "GET",
        path: /\/retry\/seed\.txt/,
        action: { kind: "status", status: 429, retryAfter: 30 },
      });
      const started = Date.now();
      assert.equal(await capped.readText("seed.txt"), "seed");
      assert.ok(Date.now() - started < 3_000, `took ${Date.now() - started} ms`);
    });

    test("exhausted retries reject with BackendUnavailableError within a bounded time", async () => {
      const limited = new Store(
        env.backend({ retry: { maxTries: 3, retryDelayMs: 10, maxRetryDelayMs: 1_000 } }),
        { rootPath: "retry" },
      );
      const from = env.proxy.requests.length;
      env.proxy.add({
        method: "PUT",
        path: /\/retry\/busy\.txt/,
        times: 10,
        action: { kind: "status", status: 503, retryAfter: 0 },
      });
      const started = Date.now();
      await assert.rejects(limited.write("busy.txt", "x"), (error) => {
        assert.ok(error instanceof BackendUnavailableError, String(error));
        assert.match(error.message, /503/);
        return true;
      });
      assert.ok(Date.now() - started < 5_000);
      assert.equal(seen(from, "PUT", /\/retry\/busy\.txt/).length, 3, "maxTries attempts");
      env.proxy.clear();
      assert.equal(await store.exists("busy.txt"), false);
    });

    test("429 retries exhausted also reject with BackendUnavailableError", async () => {
      const limited = new Store(
        env.backend({ retry: { maxTries: 2, retryDelayMs: 10, maxRetryDelayMs: 1_000 } }),
        { rootPath: "retry" },
      );
      env.proxy.add({
        method: "HEAD",
        path: /\/retry\/seed\.txt/,
        times: 2,
        action: { kind: "status", status: 429, retryAfter: 0 },
      });
      await assert.rejects(limited.getFileInfo("seed.txt"), BackendUnavailableError);
      env.proxy.clear();
    });

    test("a non-retryable status (403) is not retried", async () => {
      const from = env.proxy.requests.length;
      env.proxy.add({
        method: "HEAD",
        path: /\/retry\/seed\.txt/,
        action: { kind: "status", status: 403, code: "AuthorizationFailure" },
      });
      await assert.rejects(store.getFileInfo("seed.txt"), PermissionDeniedError);
      assert.equal(seen(from, "HEAD", /\/retry\/seed\.txt/).length, 1);
    });

    test("an abort during a Retry-After wait rejects promptly", async () => {
      const from = env.proxy.requests.length;
      env.proxy.add({
        method: "GET",
        path: /\/retry\/seed\.txt/,
        action: { kind: "status", status: 503, retryAfter: 4 },
      });
      const controller = new AbortController();
      const reason = new Error("caller gave up");
      setTimeout(() => controller.abort(reason), 200);
      const started = Date.now();
      await assert.rejects(
        store.readText("seed.txt", { signal: controller.signal }),
        (e) => e === reason,
      );
      assert.ok(Date.now() - started < 2_000, `took ${Date.now() - started} ms`);
      assert.equal(seen(from, "GET", /\/retry\/seed\.txt/).length, 1, "no retry after the abort");
    });
  });
}
