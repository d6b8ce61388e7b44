import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  type Backend,
  type Capabilities,
  CapabilityNotSupportedError,
  concurrencyLimitLayer,
  ForwardingBackend,
  type Layer,
  MemoryBackend,
  NotFoundError,
  observeLayer,
  Store,
  timeoutLayer,
  withLayers,
} from "../mod.ts";

/** A layer that records the order in which calls pass through it. */
function tracing(name: string, log: string[]): Layer {
  return {
    name,
    wrap(backend) {
      return new class extends ForwardingBackend {
        override delete(key: string, options: { signal?: AbortSignal }): Promise<void> {
          log.push(`${name} ${key}`);
          return super.delete(key, options);
        }
      }(backend);
    },
  };
}

/** A memory backend whose capabilities grow later (as Azure's do after a probe). */
class GrowingBackend extends MemoryBackend {
  grow(): void {
    (this as { capabilities: Capabilities }).capabilities = this.capabilities.with("list");
  }
  override toKey(nativePath: string): string {
    return nativePath.replace(/^mem:\/\//, "");
  }
}

const allLayers = (): Layer[] => [
  observeLayer({ sink: () => {} }),
  timeoutLayer({ ms: 60_000 }),
  concurrencyLimitLayer({ limit: 4 }),
];

describe("layers: the seam", () => {
  test("the first layer is the outermost", async () => {
    const log: string[] = [];
    const store = new Store(
      withLayers(new MemoryBackend(), [tracing("a", log), tracing("b", log)]),
    );
    await store.write("x", "1");
    await store.delete("x");
    assert.deepEqual(log, ["a x", "b x"]);
    assert.equal(withLayers(new MemoryBackend(), []).constructor, MemoryBackend);
  });

  test("capabilities, name, toKey and unwrap pass through; capabilities stay live", () => {
    const inner = new GrowingBackend();
    (inner as { capabilities: Capabilities }).capabilities = inner.capabilities.without("list");
    const backend = withLayers(inner, allLayers());
    const store = new Store(backend);
    assert.equal(backend.name, "memory");
    assert.equal(store.supports("list"), false);
    inner.grow();
    assert.equal(store.supports("list"), true);
    assert.equal(store.toKey("mem://a/b"), "a/b");
    assert.equal(store.unwrap(MemoryBackend), inner);
    assert.equal(store.child("sub").unwrap(GrowingBackend), inner);
    assert.equal(backend.unwrap(GrowingBackend), inner);
  });

  test("optional fast paths exist exactly when the inner backend has them", async () => {
    const memory = new MemoryBackend();
    const backend = withLayers(memory, allLayers());
    assert.equal(typeof backend.readBytes, "function");
    assert.equal(typeof backend.writeBytes, "function");
    assert.equal(backend.signedUrl, undefined);
    assert.equal(backend.signedUpload, undefined);
    const bare = new Proxy(new MemoryBackend(), {
      get(target, property, receiver) {
        if (property === "readBytes" || property === "writeBytes") return undefined;
        const value = Reflect.get(target, property, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      },
    }) as Backend;
    const wrapped = withLayers(bare, allLayers());
    assert.equal(wrapped.readBytes, undefined);
    assert.equal(wrapped.writeBytes, undefined);
    const store = new Store(wrapped);
    await store.write("a.txt", "hello");
    assert.equal(await store.readText("a.txt"), "hello");
    await assert.rejects(
      new Store(backend).signedUrl("a.txt"),
      (e: unknown) => e instanceof CapabilityNotSupportedError && e.capability === "signed_url",
    );
  });

  test("errors pass through unchanged, with the store's context", async () => {
    const store = new Store(withLayers(new MemoryBackend(), allLayers()), { rootPath: "root" });
    await assert.rejects(store.child("sub").readText("missing.txt"), (e: unknown) => {
      assert.ok(e instanceof NotFoundError);
      assert.equal(e.path, "missing.txt");
      assert.equal(e.backend, "memory");
      return true;
    });
  });

  test("close passes through and is idempotent", async () => {
    const inner = new MemoryBackend();
    const backend = withLayers(inner, allLayers());
    await backend.close();
    await backend.close();
    await assert.rejects(new Store(inner).write("a", "b"), /closed/i);
  });
});
