/**
 * Reliability: a download cut at any offset never ends normally with fewer
 * bytes. With resumes disabled the stream errors with a typed error; with
 * resumes allowed the bytes hash-match the stored file.
 *
 * @module
 */

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { BackendUnavailableError, RemoteStoreError, Store } from "../../mod.ts";
import {
  type FaultEnv,
  type Flavor,
  hashStream,
  HOOK,
  patternBytes,
  setupFaultEnv,
  sha256,
} from "./_env.ts";

const SIZE = 200 * 1024 + 17;
const CONTENT = patternBytes(SIZE, 7);
const HASH = sha256(CONTENT);

/** Reads a whole stream; returns the hash, or the error the stream (or the open) failed with. */
async function attempt(
  open: () => Promise<ReadableStream<Uint8Array>>,
): Promise<{ size: number; sha256: string } | { error: unknown }> {
  try {
    return await hashStream(await open());
  } catch (error) {
    return { error };
  }
}

/** Reads `big.bin` through `read` (hashing the stream) or `readBytes`; an error is a result. */
function readBig(
  store: Store,
  method: "read" | "readBytes",
): Promise<{ size: number; sha256: string } | { error: unknown }> {
  return method === "read" ? attempt(() => store.read("big.bin")) : store.readBytes("big.bin").then(
    (bytes) => ({ size: bytes.byteLength, sha256: sha256(bytes) }),
    (error) => ({ error }),
  );
}

for (const flavor of ["flat", "hns"] as Flavor[]) {
  describe(`reliability: truncated reads (${flavor})`, () => {
    let env: FaultEnv;
    let strict: Store;
    let resuming: Store;
    let responseSize = 0;
    before(async () => {
      env = await setupFaultEnv(flavor);
      // No retry and no resume: every cut must surface as an error.
      strict = new Store(env.backend({ retry: { maxTries: 1, maxResumes: 0 } }), {
        rootPath: "read",
      });
      resuming = new Store(
        env.backend({
          retry: { maxTries: 4, retryDelayMs: 5, maxRetryDelayMs: 50, maxResumes: 8 },
        }),
        { rootPath: "read" },
      );
      await resuming.write("big.bin", CONTENT);
      const from = env.proxy.requests.length;
      assert.equal((await hashStream(await strict.read("big.bin"))).sha256, HASH);
      const get = env.proxy.requests.slice(from).find((r) => r.method === "GET");
      responseSize = get!.responseBytes;
      assert.ok(responseSize > SIZE, `response of ${responseSize} bytes`);
    }, HOOK);
    after(() => env?.close(), HOOK);

    /** Backends that give up on a download receiving nothing for 200 ms. */
    const idle = (retry: { maxTries: number; maxResumes: number }) =>
      new Store(
        env.backend({
          readIdleTimeoutMs: 200,
          retry: { retryDelayMs: 5, maxRetryDelayMs: 50, ...retry },
        }),
        { rootPath: "read" },
      );
    const GET_BIG = { method: "GET", path: /\/read\/big\.bin/ } as const;

    /** Cut offsets: inside the headers, at body boundaries and one byte before the end. */
    const offsets = () => {
      const headers = responseSize - SIZE;
      return [
        1,
        Math.floor(headers / 2),
        headers,
        headers + 1,
        headers + 1000,
        headers + 64 * 1024,
        headers + 65 * 1024 + 3,
        headers + 128 * 1024,
        headers + SIZE - 4096,
        responseSize - 1,
      ];
    };

    test("with resumes disabled, a cut errors with a typed error (never a short success)", async () => {
      const headers = responseSize - SIZE;
      let errors = 0;
      for (const afterBytes of offsets()) {
        env.proxy.add({
          method: "GET",
          path: /\/read\/big\.bin/,
          action: { kind: "reset", afterBytes },
        });
        const result = await attempt(() => strict.read("big.bin"));
        env.proxy.clear();
        if ("error" in result) {
          errors++;
          assert.ok(
            result.error instanceof RemoteStoreError,
            `cut at ${afterBytes}: ${result.error}`,
          );
          continue;
        }
        // A cut inside the response headers may be retried by the HTTP client
        // itself; then the whole file must have arrived.
        assert.ok(afterBytes < headers, `cut at ${afterBytes} (in the body) ended normally`);
        assert.equal(result.size, SIZE, `cut at ${afterBytes} ended normally with fewer bytes`);
        assert.equal(result.sha256, HASH);
      }
      assert.ok(errors >= 8, `${errors} cuts errored`);
    });

    test("with resumes allowed, every cut yields the whole file (hash-verified)", async () => {
      for (const afterBytes of offsets()) {
        const from = env.proxy.requests.length;
        env.proxy.add({
          method: "GET",
          path: /\/read\/big\.bin/,
          action: { kind: "reset", afterBytes },
        });
        const result = await attempt(() => resuming.read("big.bin"));
        env.proxy.clear();
        assert.ok(
          !("error" in result),
          `cut at ${afterBytes}: ${"error" in result && result.error}`,
        );
        assert.equal(result.size, SIZE);
        assert.equal(result.sha256, HASH);
        const gets = env.proxy.requests.slice(from).filter((r) => r.method === "GET");
        assert.ok(gets.length >= 2, `cut at ${afterBytes}: the GET was sent again`);
      }
    });

    test("repeated cuts on every resume exhaust maxResumes and error", async () => {
      const headers = responseSize - SIZE;
      env.proxy.add({
        method: "GET",
        path: /\/read\/big\.bin/,
        times: 50,
        action: { kind: "reset", afterBytes: headers + 10_000 },
      });
      const started = Date.now();
      const result = await attempt(() => resuming.read("big.bin"));
      env.proxy.clear();
      assert.ok("error" in result, "must not end normally");
      assert.ok(result.error instanceof RemoteStoreError, String(result.error));
      assert.ok(Date.now() - started < 10_000);
    });

    test("a cut ranged read resumes within the range", async () => {
      const range = { offset: 1000, length: 100_000 };
      env.proxy.add({
        method: "GET",
        path: /\/read\/big\.bin/,
        action: { kind: "reset", afterBytes: 40_000 },
      });
      const result = await attempt(() => resuming.read("big.bin", { range }));
      env.proxy.clear();
      assert.ok(!("error" in result), String("error" in result && result.error));
      assert.equal(result.sha256, sha256(CONTENT.subarray(1000, 101_000)));
      env.proxy.add({
        method: "GET",
        path: /\/read\/big\.bin/,
        action: { kind: "reset", afterBytes: 40_000 },
      });
      const strictResult = await attempt(() => strict.read("big.bin", { range }));
      env.proxy.clear();
      assert.ok("error" in strictResult, "a cut ranged read without resumes must error");
    });

    test("a stalled response (no answer at all) is resumed after the idle timeout: the whole file", async () => {
      const store = idle({ maxTries: 4, maxResumes: 8 });
      for (const method of ["read", "readBytes"] as const) {
        const from = env.proxy.requests.length;
        env.proxy.add({ ...GET_BIG, action: { kind: "stall" } });
        const result = await readBig(store, method);
        env.proxy.clear();
        assert.ok(!("error" in result), `${method}: ${"error" in result && result.error}`);
        assert.equal(result.size, SIZE, method);
        assert.equal(result.sha256, HASH, method);
        const gets = env.proxy.requests.slice(from).filter((r) => r.method === "GET");
        assert.equal(gets[0]?.fault, "stall", method);
        assert.ok(gets.length >= 2, `${method}: the GET was sent again`);
      }
    });

    test("a stalled resume is given up too: the whole file", async () => {
      const store = idle({ maxTries: 4, maxResumes: 8 });
      const headers = responseSize - SIZE;
      for (const method of ["read", "readBytes"] as const) {
        env.proxy.add({ ...GET_BIG, action: { kind: "reset", afterBytes: headers + 70_000 } });
        env.proxy.add({ ...GET_BIG, action: { kind: "stall" } });
        const result = await readBig(store, method);
        env.proxy.clear();
        assert.ok(!("error" in result), `${method}: ${"error" in result && result.error}`);
        assert.equal(result.size, SIZE, method);
        assert.equal(result.sha256, HASH, method);
      }
    });

    test("a download that stalls mid-body (open, sending nothing) is resumed after the idle timeout: the whole file", async () => {
      const store = idle({ maxTries: 4, maxResumes: 8 });
      const headers = responseSize - SIZE;
      for (const method of ["read", "readBytes"] as const) {
        const from = env.proxy.requests.length;
        env.proxy.add({ ...GET_BIG, action: { kind: "stallAfter", afterBytes: headers + 70_000 } });
        const result = await readBig(store, method);
        env.proxy.clear();
        env.proxy.release();
        assert.ok(!("error" in result), `${method}: ${"error" in result && result.error}`);
        assert.equal(result.size, SIZE, method);
        assert.equal(result.sha256, HASH, method);
        const gets = env.proxy.requests.slice(from).filter((r) => r.method === "GET");
        assert.equal(gets[0]?.fault, "stallAfter", method);
        assert.ok(gets.length >= 2, `${method}: the rest was requested again`);
      }
    });

    test("with resumes disabled, a download stalled mid-body errors with a typed error", async () => {
      const store = idle({ maxTries: 1, maxResumes: 0 });
      const headers = responseSize - SIZE;
      for (const method of ["read", "readBytes"] as const) {
        env.proxy.add({ ...GET_BIG, action: { kind: "stallAfter", afterBytes: headers + 70_000 } });
        const result = await readBig(store, method);
        env.proxy.clear();
        env.proxy.release();
        assert.ok("error" in result, `${method} must not end normally`);
        assert.ok(result.error instanceof BackendUnavailableError, `${method}: ${result.error}`);
      }
    });

    test("with resumes disabled, a stalled response errors with a typed error", async () => {
      const store = idle({ maxTries: 1, maxResumes: 0 });
      env.proxy.add({ ...GET_BIG, action: { kind: "stall" } });
      const result = await attempt(() => store.read("big.bin"));
      env.proxy.clear();
      assert.ok("error" in result, "must not end normally");
      assert.ok(result.error instanceof BackendUnavailableError, String(result.error));
      env.proxy.add({ ...GET_BIG, action: { kind: "stall" } });
      await assert.rejects(store.readBytes("big.bin"), BackendUnavailableError);
      env.proxy.clear();
    });

    test("readBytes and readText never return a short result", async () => {
      env.proxy.add({
        method: "GET",
        path: /\/read\/big\.bin/,
        action: { kind: "reset", afterBytes: responseSize - 100 },
      });
      await assert.rejects(strict.readBytes("big.bin"), RemoteStoreError);
      env.proxy.clear();
      assert.equal(sha256(await strict.readBytes("big.bin")), HASH);
    });
  });
}
