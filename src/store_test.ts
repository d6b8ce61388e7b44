import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  type Backend,
  BackendUnavailableError,
  type Capabilities,
  CapabilityNotSupportedError,
  InvalidPathError,
  MemoryBackend,
  NotFoundError,
  Store,
} from "../mod.ts";

/** A memory backend with fewer capabilities that counts backend calls. */
function limitedBackend(without: Parameters<Capabilities["without"]>) {
  const inner = new MemoryBackend();
  let calls = 0;
  const backend = new Proxy(inner, {
    get(target, property, receiver) {
      if (property === "capabilities") return inner.capabilities.without(...without);
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        calls++;
        return value.apply(target, args);
      };
    },
  }) as Backend;
  return { backend, calls: () => calls };
}

describe("Store", () => {
  test("capabilities are checked before any I/O", async () => {
    const { backend, calls } = limitedBackend(["atomic_write", "move", "metadata", "range_read"]);
    const store = new Store(backend);
    assert.equal(store.supports("move"), false);
    assert.equal(store.supports("copy"), true);
    await assert.rejects(store.writeAtomic("a", "x"), (e: unknown) => {
      assert.ok(e instanceof CapabilityNotSupportedError);
      assert.equal(e.capability, "atomic_write");
      assert.equal(e.path, "a");
      return true;
    });
    await assert.rejects(store.move("a", "b"), CapabilityNotSupportedError);
    await assert.rejects(
      store.write("a", "x", { metadata: { k: "v" } }),
      CapabilityNotSupportedError,
    );
    await assert.rejects(store.read("a", { range: { offset: 1 } }), CapabilityNotSupportedError);
    assert.equal(calls(), 0, "no backend method was called");
  });

  test("signedUrl needs the capability and checks its options", async () => {
    const store = new Store(new MemoryBackend());
    assert.equal(store.supports("signed_url"), false);
    await assert.rejects(store.signedUrl("a.txt"), CapabilityNotSupportedError);
    const signing = new Proxy(new MemoryBackend(), {
      get(target, property) {
        if (property === "capabilities") return target.capabilities.with("signed_url");
        if (property === "signedUrl") {
          return (key: string, o: { expiresIn: number; permissions: string[] }) =>
            Promise.resolve(`https://signed/${key}?se=${o.expiresIn}&sp=${o.permissions}`);
        }
        const value = Reflect.get(target, property);
        return typeof value === "function" ? value.bind(target) : value;
      },
    }) as Backend;
    const signed = new Store(signing, { rootPath: "r" });
    assert.equal(await signed.signedUrl("a.txt"), "https://signed/r/a.txt?se=3600&sp=read");
    await assert.rejects(signed.signedUrl("a.txt", { expiresIn: 0 }), RangeError);
    await assert.rejects(signed.signedUrl("a.txt", { expiresIn: 8 * 86400 }), RangeError);
    await assert.rejects(
      signed.signedUrl("a.txt", { permissions: ["admin" as "read"] }),
      RangeError,
    );
    await assert.rejects(signed.signedUrl("../a.txt"), InvalidPathError);
  });

  test("errors carry the store-relative path and the backend name", async () => {
    const store = new Store(new MemoryBackend(), { rootPath: "root/dir", backendName: "mem" });
    const error = await store.readText("sub/missing.txt").catch((e) => e);
    assert.ok(error instanceof NotFoundError);
    assert.equal(error.path, "sub/missing.txt");
    assert.equal(error.backend, "mem");
    assert.equal(error.message, 'File not found: "sub/missing.txt" (backend "mem")');
    const invalid = await store.read("../x").catch((e) => e);
    assert.ok(invalid instanceof InvalidPathError);
    assert.equal(invalid.backend, "mem");
  });

  test("an unexpected backend failure becomes BackendUnavailableError with the cause", async () => {
    const inner = new MemoryBackend();
    const boom = new Error("socket exploded");
    const backend = new Proxy(inner, {
      get(target, property, receiver) {
        if (property === "getFileInfo") return () => Promise.reject(boom);
        return Reflect.get(target, property, receiver);
      },
    }) as Backend;
    const error = await new Store(backend).getFileInfo("a").catch((e) => e);
    assert.ok(error instanceof BackendUnavailableError);
    assert.equal(error.cause, boom);
  });

  test("child, toKey and rootPath", () => {
    const store = new Store(new MemoryBackend(), { rootPath: "/data//x/" });
    assert.equal(store.rootPath, "data/x");
    assert.equal(store.child("a/b").rootPath, "data/x/a/b");
    assert.equal(store.toKey("data/x/a/b.txt"), "a/b.txt");
    assert.throws(() => store.toKey("other/a.txt"), InvalidPathError);
    assert.throws(() => store.child(""), InvalidPathError);
    assert.equal(String(store), 'Store(memory:"data/x")');
    assert.deepEqual(JSON.parse(JSON.stringify(store)), { backend: "memory", rootPath: "data/x" });
  });

  test("unwrap returns the backend itself for its own class and refuses others", () => {
    const backend = new MemoryBackend();
    const store = new Store(backend);
    assert.equal(store.unwrap(MemoryBackend), backend);
    assert.throws(() => store.unwrap(Map), CapabilityNotSupportedError);
  });

  test("whole content and whole reads use the backend's fast paths when it has them", async () => {
    const inner = new MemoryBackend();
    const used: string[] = [];
    const backend = new Proxy(inner, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== "function" || typeof property !== "string") return value;
        return (...args: unknown[]) => {
          used.push(property);
          return value.apply(target, args);
        };
      },
    }) as Backend;
    const store = new Store(backend, { rootPath: "d" });
    const progress: [number, number | undefined][] = [];
    await store.write("a.txt", "abc", { onProgress: (n, total) => progress.push([n, total]) });
    assert.deepEqual(progress, [[0, 3], [3, 3]]);
    await store.write("b.bin", new Uint8Array([1, 2]).buffer);
    assert.deepEqual(await store.readBytes("b.bin"), new Uint8Array([1, 2]));
    assert.equal(await store.readText("a.txt", { range: { offset: 1 } }), "bc");
    assert.deepEqual(used, ["writeBytes", "writeBytes", "readBytes", "readBytes"]);
    const error = await store.readBytes("missing.txt").catch((e) => e);
    assert.ok(error instanceof NotFoundError);
    assert.equal(error.path, "missing.txt");
    assert.equal(error.backend, "memory");
    used.length = 0;
    await store.write("c.txt", new Blob(["x"]).stream());
    assert.equal(await store.readText("c.txt", { onProgress: () => {} }), "x");
    assert.ok(used.includes("write") && used.includes("read"), used.join());
    assert.ok(!used.includes("writeBytes") && !used.includes("readBytes"), used.join());
  });

  test("reads stream lazily and errors raised mid-stream get context", async () => {
    const inner = new MemoryBackend();
    const backend = new Proxy(inner, {
      get(target, property, receiver) {
        if (property === "readBytes") return undefined; // the stream path, as a backend without it
        if (property === "read") {
          return () =>
            Promise.resolve(
              new ReadableStream<Uint8Array>({
                pull(controller) {
                  controller.error(new NotFoundError("Blob vanished", { path: "d/gone.txt" }));
                },
              }),
            );
        }
        return Reflect.get(target, property, receiver);
      },
    }) as Backend;
    const store = new Store(backend, { rootPath: "d" });
    const error = await store.readBytes("gone.txt").catch((e) => e);
    assert.ok(error instanceof NotFoundError);
    assert.equal(error.path, "gone.txt");
  });
});
