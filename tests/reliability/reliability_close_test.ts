/**
 * Reliability: closing a Registry while reads, writes, listings and
 * metadata calls are in flight (some stalled in the proxy) rejects them
 * cleanly with typed errors (or lets them complete whole), never hangs,
 * raises no unhandled rejection and leaves no request on a connection (on
 * Deno no connection at all: the backend closes its own HTTP client); later
 * operations reject with a clear error.
 *
 * @module
 */

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { BackendUnavailableError, Registry, RemoteStoreError } from "../../mod.ts";
import { azureBackendType } from "../../azure.ts";
import { localBackendType } from "../../local.ts";
import {
  type FaultEnv,
  type Flavor,
  HOOK,
  patternBytes,
  readDirect,
  setupFaultEnv,
  sha256,
  sleep,
} from "./_env.ts";

const BIG = patternBytes(600 * 1024, 3);

/** Settles within `ms` or fails the test (no hang). */
async function settled<T>(
  promise: Promise<T>,
  ms: number,
  what: string,
): Promise<PromiseSettledResult<T>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    const [result] = await Promise.race([Promise.allSettled([promise]), timeout]);
    return result;
  } finally {
    clearTimeout(timer);
  }
}

const isDeno = (process.versions as Record<string, string | undefined>).deno !== undefined;

/** Open TCP handles (Node only; `undefined` elsewhere). */

for (const flavor of ["flat", "hns"] as Flavor[]) {
  describe(`reliability: closing a registry mid-flight (${flavor})`, () => {
    let env: FaultEnv;
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(reason);
    before(async () => {
      env = await setupFaultEnv(flavor);
      process.on("unhandledRejection", onUnhandled);
    }, HOOK);
    after(async () => {
      process.off("unhandledRejection", onUnhandled);
      await env?.close();
    }, HOOK);

    const config = () => ({
      backends: {
        az: {
          type: "azure" as const,
          options: {
            container: env.container,
            connectionString: env.connectionString,
            hns: flavor === "hns",
            blockSize: 64 * 1024,
            concurrency: 2,
            retry: { maxTries: 4, retryDelayMs: 10, maxRetryDelayMs: 100, maxResumes: 3 },
          },
        },
        mem: { type: "memory" as const },
      },
      stores: {
        data: { backend: "az", rootPath: "close/data" },
        other: { backend: "az", rootPath: "close/other" },
        scratch: { backend: "mem" },
      },
    });

    test("in-flight operations settle cleanly, nothing leaks, later calls reject", async () => {
      const acceptedBefore = env.proxy.accepted;
      const registry = new Registry(config(), {
        backendTypes: [azureBackendType, localBackendType],
      });
      const data = registry.getStore("data");
      const other = registry.getStore("other");
      const scratch = registry.getStore("scratch");
      await data.write("big.bin", BIG);
      await other.write("a.txt", "a");
      await scratch.write("m.txt", "m");

      // A read that is streaming (one chunk consumed, the rest pending) ...
      const stream = await data.read("big.bin");
      const reader = stream.getReader();
      const firstChunk = await reader.read();
      assert.equal(firstChunk.done, false);
      const readRest = (async () => {
        let size = firstChunk.value!.byteLength;
        while (true) {
          const { done, value } = await reader.read();
          if (done) return size;
          size += value.byteLength;
          await sleep(5);
        }
      })();
      // ... and requests stalled in the proxy: a Put Block, a HEAD, a listing, a GET.
      env.proxy.add({
        method: "PUT",
        path: /\/close\/data\/up\.bin\?.*comp=block/,
        action: { kind: "stall" },
      });
      env.proxy.add({ method: "HEAD", path: /\/close\/other\/a\.txt/, action: { kind: "stall" } });
      // The listing of `close/data/` only: the flat write's own one-result
      // listing of `close/data/up.bin/` (its strictPaths check) must not take
      // this one-time stall, or the write would stall before any Put Block.
      env.proxy.add({
        method: "GET",
        path: /(comp=list&prefix=close%2Fdata%2F&|resource=filesystem)/,
        action: { kind: "stall" },
      });
      env.proxy.add({ method: "GET", path: /\/close\/other\/a\.txt/, action: { kind: "stall" } });
      const inFlight: Record<string, Promise<unknown>> = {
        write: data.write("up.bin", patternBytes(300 * 1024, 9)),
        getFileInfo: other.getFileInfo("a.txt"),
        list: (async () => {
          const names = [];
          for await (const f of data.listFiles("", { recursive: true })) names.push(f.path);
          return names;
        })(),
        readBytes: other.readBytes("a.txt"),
        read: readRest,
      };
      // Handlers are attached at once: a rejection must never be unhandled.
      const pending = Object.entries(inFlight).map(([name, promise]) =>
        settled(promise, 5_000, name).then((outcome) => [name, outcome] as const)
      );
      const started = Date.now();
      while (env.proxy.requests.filter((r) => r.fault === "stall").length < 4) {
        assert.ok(Date.now() - started < 10_000, "the stalls were not reached");
        await sleep(10);
      }

      const closed = await settled(registry.close(), 5_000, "registry.close()");
      const outcomes = Object.fromEntries(await Promise.all(pending));
      assert.equal(closed.status, "fulfilled", String((closed as PromiseRejectedResult).reason));
      env.proxy.clear();
      env.proxy.release();

      for (const [name, outcome] of Object.entries(outcomes)) {
        if (outcome.status === "rejected") {
          assert.ok(
            outcome.reason instanceof RemoteStoreError,
            `${name} rejected with an untyped error: ${outcome.reason}`,
          );
        } else if (name === "read") {
          assert.equal(outcome.value, BIG.byteLength, "a read that completes is whole");
        }
      }
      // The stalled ones cannot have completed: their requests never reached the server.
      for (const name of ["write", "getFileInfo", "list", "readBytes"]) {
        assert.equal(outcomes[name]!.status, "rejected", `${name} should reject`);
      }

      // No request of the backend is left on a connection: close() ended the
      // stalled ones (the proxy sees their connections closed). On Deno the
      // backend's own HTTP client is closed too, so no connection stays open
      // at all; on Node and Bun idle keep-alive connections belong to the
      // runtime's fetch pool, which ends them itself.
      if (isDeno) {
        await env.proxy.waitIdle(3_000);
      } else {
        const deadline = Date.now() + 3_000;
        const busy = () => env.proxy.lastRequests().filter((last) => last?.fault === "stall");
        while (busy().length > 0 && Date.now() < deadline) await sleep(20);
        assert.deepEqual(busy(), [], "a connection still carries a stalled request");
      }
      assert.ok(env.proxy.accepted > acceptedBefore);

      // Later operations reject clearly; close is idempotent.
      for (const store of [data, other, scratch]) {
        await assert.rejects(store.readBytes("a.txt"), (error) => {
          assert.ok(error instanceof BackendUnavailableError, String(error));
          assert.match(error.message, /closed/i);
          return true;
        });
      }
      await assert.rejects(data.write("late.bin", "x"), BackendUnavailableError);
      assert.throws(() => registry.getStore("data"), BackendUnavailableError);
      await registry.close();
      await sleep(50);
      assert.deepEqual(unhandled.map(String), []);

      // The server kept no partial upload.
      const names: string[] = [];
      for await (const blob of env.admin.listBlobsFlat({ prefix: "close/" })) names.push(blob.name);
      assert.ok(!names.includes("close/data/up.bin"), names.join(", "));
      const big = await readDirect(env.admin, "close/data/big.bin");
      assert.equal(sha256(big!), sha256(BIG), "the file being read is unchanged");
    });

    test("closing before first use and closing twice are clean", async () => {
      const registry = new Registry(config(), {
        backendTypes: [azureBackendType, localBackendType],
      });
      const store = registry.getStore("data");
      await registry.close();
      await registry.close();
      await assert.rejects(store.exists("x"), BackendUnavailableError);
    });
  });
}
