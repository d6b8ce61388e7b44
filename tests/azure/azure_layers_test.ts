// The layers on Azure (Azurite): the whole contract through observe, timeout and
// concurrencyLimit, and one event per operation on a store and its children.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { runConformanceSuite } from "../../conformance.ts";
import {
  concurrencyLimitLayer,
  observeLayer,
  type OperationEvent,
  Store,
  timeoutLayer,
  withLayers,
} from "../../mod.ts";
import { HOOK, setupAzure } from "./_setup.ts";

const env = await setupAzure();

describe("azure (Azurite) through layers", () => {
  after(() => env.close(), HOOK);
  const events: OperationEvent[] = [];
  runConformanceSuite("azure through observe, timeout and concurrencyLimit layers", {
    backend: withLayers(env.backend({ blockSize: 1024 * 1024, concurrency: 3 }), [
      observeLayer({ sink: (event) => events.push(event) }),
      timeoutLayer({ ms: 120_000 }),
      concurrencyLimitLayer({ limit: 8 }),
    ]),
  });

  test("an observed store and its children emit one event per operation", async () => {
    const seen: OperationEvent[] = [];
    const store = new Store(
      withLayers(env.backend(), [observeLayer({ sink: (event) => seen.push(event) })], {
        backendName: "az",
      }),
      { rootPath: `layers-${Date.now().toString(36)}` },
    );
    const root = store.rootPath;
    const child = store.child("sub");
    const big = new Uint8Array(3 * 1024 * 1024).fill(1);
    await child.write("big.bin", big);
    await store.write("a.txt", "hello");
    const reader = (await child.read("big.bin")).getReader();
    await reader.read();
    await reader.cancel();
    await assert.rejects(child.readText("missing.txt"), { name: "NotFoundError" });
    await store.deleteFolder("", { recursive: true });
    const shape = seen.map((e) => [e.operation, e.path, e.outcome, e.errorCode]);
    const write = seen[0]!.operation;
    assert.deepEqual(shape.slice(0, 3), [
      [write, `${root}/sub/big.bin`, "ok", undefined],
      [seen[1]!.operation, `${root}/a.txt`, "ok", undefined],
      ["read", `${root}/sub/big.bin`, "cancelled", undefined],
    ]);
    assert.equal(seen[0]!.bytes, big.length);
    assert.ok(seen[2]!.bytes! > 0 && seen[2]!.bytes! < big.length);
    assert.deepEqual(shape[3]!.slice(1), [`${root}/sub/missing.txt`, "error", "NOT_FOUND"]);
    assert.deepEqual(shape[4], ["deleteFolder", root, "ok", undefined]);
    assert.equal(seen.length, 5);
    assert.ok(seen.every((e) => e.backend === "az"));
  });
});
