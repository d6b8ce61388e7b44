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
  PreconditionFailedError,
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
    await assert.rejects(signed.signedUrl("a.txt", { permissions: [] }), (e: unknown) => {
      assert.ok(e instanceof RangeError);
      assert.match(e.message, /at least one permission/);
      return true;
    });
    for (const bad of [{ contentType: "text/html\r\nX-Evil: 1" }, { contentDisposition: "a\nb" }]) {
      await assert.rejects(signed.signedUrl("a.txt", bad), TypeError, JSON.stringify(bad));
    }
  });

  test("signedUpload needs the capability, checks its options and passes the defaults", async () => {
    const store = new Store(new MemoryBackend());
    await assert.rejects(
      store.signedUpload("a.txt"),
      (e: unknown) => e instanceof CapabilityNotSupportedError && e.capability === "signed_url",
    );
    const seen: unknown[] = [];
    const signing = new Proxy(new MemoryBackend(), {
      get(target, property) {
        if (property === "capabilities") return target.capabilities.with("signed_url");
        if (property === "signedUpload") {
          return (key: string, o: Record<string, unknown>) => {
            seen.push({ key, ...o });
            return Promise.resolve({
              url: `https://signed/${key}`,
              method: "PUT",
              headers: { "x-test": "1" },
              expiresAt: new Date(0),
              overwrite: o.overwrite,
            });
          };
        }
        const value = Reflect.get(target, property);
        return typeof value === "function" ? value.bind(target) : value;
      },
    }) as Backend;
    const signed = new Store(signing, { rootPath: "r" });
    const upload = await signed.signedUpload("a.txt");
    assert.equal(upload.url, "https://signed/r/a.txt");
    assert.deepEqual(seen, [{
      key: "r/a.txt",
      expiresIn: 3600,
      overwrite: false,
      contentType: undefined,
      signal: undefined,
    }]);
    upload.headers["x-test"] = "changed";
    assert.equal((await signed.signedUpload("a.txt")).headers["x-test"], "1", "headers are copied");
    await assert.rejects(signed.signedUpload("a.txt", { expiresIn: 604801 }), RangeError);
    await assert.rejects(signed.signedUpload("a.txt", { overwrite: null as never }), TypeError);
    await assert.rejects(signed.signedUpload("a.txt", { contentType: "x\ny" }), TypeError);
    await assert.rejects(signed.signedUpload("/"), InvalidPathError);
    assert.equal(seen.length, 2, "bad input never reaches the backend");
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

  test("read options reach the backend as a fresh object with the read conditions", async () => {
    const inner = new MemoryBackend();
    const seen: unknown[] = [];
    const backend = new Proxy(inner, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== "function") return value;
        if (property !== "read" && property !== "readBytes") return value.bind(target);
        return (key: string, options: unknown) => {
          seen.push(options);
          return value.call(target, key, options);
        };
      },
    }) as Backend;
    const store = new Store(backend);
    await store.write("a.txt", "abc");
    const since = new Date("2020-01-01T00:00:00Z");
    const options = {
      ifMatch: '"x"',
      ifNoneMatch: '"y"',
      ifModifiedSince: since,
      ifUnmodifiedSince: since,
      range: { offset: 1 },
      extra: "not for the backend",
    };
    await store.readBytes("a.txt", options).catch(() => {});
    await store.read("a.txt", options).catch(() => {});
    assert.equal(seen.length, 2);
    for (const got of seen as Record<string, unknown>[]) {
      assert.notEqual(got, options, "not the caller's object");
      assert.notEqual(got.range, options.range, "nor its range object");
      assert.equal(got.extra, undefined);
      assert.deepEqual(
        { ...got, signal: undefined },
        {
          signal: undefined,
          range: { offset: 1, length: undefined },
          ifMatch: '"x"',
          ifNoneMatch: '"y"',
          ifModifiedSince: since,
          ifUnmodifiedSince: since,
        },
      );
    }
    await assert.rejects(
      store.read("a.txt", { ifModifiedSince: new Date(NaN) }),
      TypeError,
    );
  });

  test("a read whose ifMatch is stale fails before any byte; the current ETag reads", async () => {
    const store = new Store(new MemoryBackend());
    const first = await store.write("a.txt", "one");
    const second = await store.write("a.txt", "two", { overwrite: true });
    assert.notEqual(first.etag, second.etag);
    for (
      const read of [
        () => store.read("a.txt", { ifMatch: first.etag }),
        () => store.readText("a.txt", { ifMatch: first.etag }),
      ]
    ) {
      await assert.rejects(read(), (e: unknown) => {
        assert.ok(e instanceof PreconditionFailedError);
        assert.equal(e.path, "a.txt");
        return true;
      });
    }
    assert.equal(await store.readText("a.txt", { ifMatch: second.etag }), "two");
    await assert.rejects(
      store.readText("a.txt", { ifNoneMatch: second.etag }),
      PreconditionFailedError,
    );
  });

  test("every other backend call gets its own options object, never the caller's", async () => {
    const inner = new MemoryBackend();
    const leaked: string[] = [];
    const options = { signal: new AbortController().signal, missingOk: true };
    const backend = new Proxy(inner, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== "function" || typeof property !== "string") return value;
        return (...args: unknown[]) => {
          if (args.includes(options)) leaked.push(property);
          return value.apply(target, args);
        };
      },
    }) as Backend;
    const store = new Store(backend);
    await store.write("a.txt", "x", options);
    await store.getFileInfo("a.txt", options);
    await store.isFile("a.txt", options);
    await store.isFolder("", options);
    await store.exists("a.txt", options);
    for await (const _ of store.listFolders("", options)) { /* drain */ }
    await store.getFolderInfo("", options);
    await store.copy("a.txt", "b.txt", options);
    await store.move("b.txt", "c.txt", options);
    await store.delete("c.txt", options);
    await store.deleteFolder("nothing", options);
    assert.deepEqual(leaked, []);
  });

  test("an abort rejects with the signal's reason, whatever the backend failed with", async () => {
    const controller = new AbortController();
    const reason = new Error("user gave up");
    const backend = new Proxy(new MemoryBackend(), {
      get(target, property, receiver) {
        if (property === "getFileInfo") {
          return () => {
            controller.abort(reason);
            return Promise.reject(new Error("connection reset after the abort"));
          };
        }
        return Reflect.get(target, property, receiver);
      },
    }) as Backend;
    const error = await new Store(backend).getFileInfo("a", { signal: controller.signal })
      .catch((e) => e);
    assert.equal(error, reason);
  });

  test("content types come from own entries only: .constructor is not the Object function", async () => {
    const store = new Store(new MemoryBackend());
    for (const ext of ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"]) {
      await store.write(`a.${ext}`, "x");
      assert.equal(
        (await store.getFileInfo(`a.${ext}`)).contentType,
        "application/octet-stream",
        ext,
      );
    }
    await store.write("a.HTML", "x");
    assert.equal((await store.getFileInfo("a.HTML")).contentType, "text/html; charset=utf-8");
  });

  test("contentType and metadata are checked before any I/O, with one rule set", async () => {
    const { backend, calls } = limitedBackend([]);
    const store = new Store(backend);
    const badTypes = [
      "text/html\r\nX-Injected: 1",
      "text/plain\0",
      "text/plain; charset=ü",
      "téxt/plain",
      "",
      "text",
      " text/plain",
      "text/plain;",
    ];
    for (const contentType of badTypes) {
      for (const write of [store.write, store.writeAtomic]) {
        await assert.rejects(write.call(store, "a.txt", "x", { contentType }), (e: unknown) => {
          assert.ok(e instanceof TypeError, String(e));
          assert.match(e.message, /^contentType "/);
          return true;
        }, JSON.stringify(contentType));
      }
    }
    const badMetadata: [Record<string, string>, RegExp][] = [
      [{ "": "v" }, /Metadata name "" is invalid/],
      [{ "a-b": "v" }, /Metadata name "a-b" is invalid/],
      [{ "1abc": "v" }, /Metadata name "1abc" is invalid/],
      [{ "naïve": "v" }, /Metadata name "naïve" is invalid/],
      [{ Owner: "a", owner: "b" }, /"Owner" and "owner" differ only in case/],
      [{ k: "line\nbreak" }, /value of "k" is invalid: it contains a line break/],
      [{ k: "ü" }, /value of "k" is invalid: it contains a non-ASCII character/],
      [{ k: "" }, /value of "k" is invalid: it is empty/],
      [{ k: " padded" }, /value of "k" is invalid: it starts or ends with whitespace/],
      [{ k: 42 as unknown as string }, /value of "k" must be a string/],
    ];
    for (const [metadata, message] of badMetadata) {
      await assert.rejects(store.write("a.txt", "x", { metadata }), (e: unknown) => {
        assert.ok(e instanceof TypeError, String(e));
        assert.match(e.message, message);
        return true;
      }, JSON.stringify(metadata));
    }
    const big = { a: "x".repeat(8192) };
    await assert.rejects(store.write("a.txt", "x", { metadata: big }), (e: unknown) => {
      assert.ok(e instanceof RangeError);
      assert.match(e.message, /8193 bytes of names and values; at most 8192/);
      return true;
    });
    assert.equal(calls(), 0, "no backend call for a refused value");
    const good = {
      contentType: 'multipart/mixed; boundary="a b"; charset=utf-8',
      // Exactly 8 KiB of names and values.
      metadata: { _private: "x", Owner_2: "Jane Doe", a: "x".repeat(8192 - 9 - 15 - 1) },
    };
    await store.write("ok.txt", "x", good);
    const info = await store.getFileInfo("ok.txt");
    assert.equal(info.contentType, good.contentType);
    assert.deepEqual(info.metadata, good.metadata);
  });

  test("moving or copying a file onto itself, however spelled, is a no-op", async () => {
    const backend = new MemoryBackend();
    const store = new Store(backend, { rootPath: "d" });
    await store.write("a.txt", "keep");
    for (const overwrite of [false, true]) {
      await store.move("a.txt", "./a.txt", { overwrite });
      await store.copy("a.txt", "/a.txt/", { overwrite });
    }
    assert.equal(await store.readText("a.txt"), "keep");
    await assert.rejects(store.move("missing.txt", "./missing.txt"), NotFoundError);
    const root = new Store(backend);
    assert.equal(store.sameFile("a.txt", root, "d//a.txt"), true);
    assert.equal(store.sameFile("a.txt", root, "a.txt"), false);
    assert.equal(
      store.sameFile("a.txt", new Store(new MemoryBackend(), { rootPath: "d" }), "a.txt"),
      false,
    );
    assert.throws(() => store.sameFile("../a", root, "a"), InvalidPathError);
  });
});
