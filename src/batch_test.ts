import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  type Backend,
  type BackendDeleteManyOptions,
  type BackendDeleteManyResult,
  type BackendTransferOptions,
  type BackendWriteOptions,
  type BackendWriteResult,
  concurrencyLimitLayer,
  ForwardingBackend,
  MemoryBackend,
  NotFoundError,
  observeLayer,
  type OperationEvent,
  PermissionDeniedError,
  type SignalOptions,
  Store,
  timeoutLayer,
  withLayers,
} from "../mod.ts";

/** A memory backend whose deletes and copies wait for a tick and count how many run at once. */
class Counting extends ForwardingBackend {
  inFlight = 0;
  peak = 0;
  calls: string[] = [];
  async #count<T>(name: string, call: () => Promise<T>): Promise<T> {
    this.calls.push(name);
    this.peak = Math.max(this.peak, ++this.inFlight);
    try {
      await new Promise((resolve) => setTimeout(resolve, 1));
      return await call();
    } finally {
      this.inFlight--;
    }
  }
  override delete(key: string, options: SignalOptions): Promise<void> {
    if (key.endsWith("locked.txt")) {
      return Promise.reject(new PermissionDeniedError("Denied", { path: key, backend: "memory" }));
    }
    return this.#count(`delete ${key}`, () => super.delete(key, options));
  }
  override copy(src: string, dst: string, options: BackendTransferOptions): Promise<void> {
    return this.#count(`copy ${src}`, () => super.copy(src, dst, options));
  }
}

/** A backend with its own deleteMany, as Azure has (deletes each key, records each call). */
class Batching extends MemoryBackend {
  batches: (readonly string[])[] = [];
  seen: BackendDeleteManyOptions[] = [];
  async deleteMany(
    keys: readonly string[],
    options: BackendDeleteManyOptions,
  ): Promise<BackendDeleteManyResult[]> {
    this.batches.push(keys);
    this.seen.push(options);
    const out: BackendDeleteManyResult[] = [];
    for (const key of keys) {
      try {
        await this.delete(key, options);
        out.push({ status: "done" });
      } catch (error) {
        out.push(
          error instanceof NotFoundError ? { status: "not_found" } : { status: "error", error },
        );
      }
    }
    return out;
  }
}

async function seed(store: Store, count: number): Promise<string[]> {
  const paths = Array.from({ length: count }, (_, i) => `d/f${i}.txt`);
  await Promise.all(paths.map((path) => store.write(path, "x")));
  return paths;
}

describe("deleteMany", () => {
  test("without a backend batch, deletes one by one with at most `concurrency` in flight", async () => {
    const backend = new Counting(new MemoryBackend());
    const store = new Store(backend, { rootPath: "root", backendName: "main" });
    const paths = await seed(store, 40);
    const results = await store.deleteMany([...paths, "d/none.txt", "d/locked.txt"], {
      concurrency: 3,
    });
    assert.equal(backend.peak, 3, "exactly the concurrency asked for");
    assert.deepEqual(results.slice(0, 40), paths.map((path) => ({ path, status: "done" })));
    assert.deepEqual(results[40], { path: "d/none.txt", status: "not_found" });
    const locked = results[41]!;
    assert.equal(locked.status, "error");
    assert.ok(locked.error instanceof PermissionDeniedError);
    assert.equal(locked.error.path, "d/locked.txt", "errors carry the store-relative path");
    assert.equal(locked.error.backend, "main", "and the backend name");
    assert.equal(await store.isFolder("d"), false);
  });

  test("the default concurrency is 16", async () => {
    const backend = new Counting(new MemoryBackend());
    const store = new Store(backend);
    await store.deleteMany(await seed(store, 64));
    assert.equal(backend.peak, 16);
  });

  test("an abort while deleting rejects with the signal's reason and starts nothing more", async () => {
    const backend = new Counting(new MemoryBackend());
    const store = new Store(backend);
    const paths = await seed(store, 50);
    const controller = new AbortController();
    const reason = new Error("stop");
    const pending = store.deleteMany(paths, { concurrency: 2, signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort(reason);
    await assert.rejects(pending, (error) => error === reason);
    const started = backend.calls.length;
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(backend.calls.length, started, "no delete starts after the abort");
    assert.ok(started < 50, `only some deletes ran (${started})`);
  });

  test("a backend's deleteMany gets every key in one call, through layers", async () => {
    const inner = new Batching();
    const events: OperationEvent[] = [];
    const layered = withLayers(inner, [
      observeLayer({ sink: (event) => events.push(event) }),
      timeoutLayer({ ms: 60_000 }),
      concurrencyLimitLayer({ limit: 2 }),
    ]);
    assert.equal(typeof layered.deleteMany, "function", "layers keep the fast path");
    const store = new Store(layered).child("sub");
    await store.write("a.txt", "a");
    events.length = 0;
    const results = await store.deleteMany(["a.txt", "b.txt"], { concurrency: 4 });
    assert.deepEqual(results, [
      { path: "a.txt", status: "done" },
      { path: "b.txt", status: "not_found" },
    ]);
    assert.deepEqual(inner.batches, [["sub/a.txt", "sub/b.txt"]]);
    assert.equal(inner.seen[0]!.concurrency, 4);
    assert.ok(inner.seen[0]!.signal, "the timeout layer passes its signal");
    assert.deepEqual(
      events.map((e) => [e.operation, e.path, e.outcome]),
      [["deleteMany", "sub/a.txt", "ok"]],
      "one event for the call",
    );
  });

  test("a layer over a backend without deleteMany has none either", () => {
    const layered = withLayers(new MemoryBackend(), [observeLayer({ sink: () => {} })]);
    assert.equal((layered as Backend).deleteMany, undefined);
  });
});

describe("copyMany", () => {
  test("copies with at most `concurrency` in flight, one result per pair", async () => {
    const backend = new Counting(new MemoryBackend());
    const store = new Store(backend);
    const paths = await seed(store, 20);
    const results = await store.copyMany(paths.map((p) => [p, `copy/${p}`] as const), {
      concurrency: 4,
    });
    assert.equal(backend.peak, 4);
    assert.ok(results.every((r) => r.status === "done"));
    assert.deepEqual(results[3], { path: "d/f3.txt", target: "copy/d/f3.txt", status: "done" });
    assert.equal((await store.getFolderInfo("copy")).fileCount, 20);
  });

  test("a pair onto itself is done when the file exists, not_found otherwise", async () => {
    const store = new Store(new MemoryBackend());
    await store.write("a.txt", "a");
    const results = await store.copyMany([["a.txt", "./a.txt"], ["b.txt", "b.txt"]]);
    assert.deepEqual(results.map((r) => r.status), ["done", "not_found"]);
  });
});

describe("write checksum", () => {
  test("the backend is told which digest was asked for", async () => {
    const seen: (string | undefined)[] = [];
    class Spy extends ForwardingBackend {
      override write(
        key: string,
        body: ReadableStream<Uint8Array>,
        options: BackendWriteOptions,
      ): Promise<BackendWriteResult> {
        seen.push(options.checksum);
        return super.write(key, body, options);
      }
      override writeBytes(
        key: string,
        bytes: Uint8Array,
        options: BackendWriteOptions,
      ): Promise<BackendWriteResult> {
        seen.push(options.checksum);
        return super.writeBytes(key, bytes, options);
      }
    }
    const store = new Store(new Spy(new MemoryBackend()));
    await store.write("a", "x", { checksum: "md5" });
    await store.write("b", new Blob(["x"]).stream(), { checksum: "crc32c" });
    await store.write("c", "x");
    assert.deepEqual(seen, ["md5", "crc32c", undefined]);
  });

  test("progress still reports every byte when a checksum is computed", async () => {
    const store = new Store(new MemoryBackend());
    const loaded: number[] = [];
    const result = await store.write("a", new Blob(["abc", "de"]).stream(), {
      checksum: "sha256",
      onProgress: (n) => loaded.push(n),
    });
    assert.equal(loaded.at(-1), 5);
    assert.equal(result.checksum?.algorithm, "sha256");
  });
});
