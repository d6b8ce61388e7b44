import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  concurrencyLimitLayer,
  ForwardingBackend,
  MemoryBackend,
  type SignalOptions,
  Store,
  withLayers,
} from "../../mod.ts";

/** Lets every pending callback and timer run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

/** A backend double whose deletes wait until the test opens their gate. */
class Gated extends ForwardingBackend {
  readonly started: string[] = [];
  readonly #gates = new Map<string, () => void>();
  override delete(key: string, _options: SignalOptions): Promise<void> {
    this.started.push(key);
    return new Promise((resolve) => this.#gates.set(key, resolve));
  }
  open(key: string): void {
    const gate = this.#gates.get(key);
    assert.ok(gate, `"${key}" has not started`);
    gate();
  }
}

describe("concurrencyLimitLayer", () => {
  test("at most N operations run; the rest wait and start first come, first served", async () => {
    const gated = new Gated(new MemoryBackend());
    const store = new Store(withLayers(gated, [concurrencyLimitLayer({ limit: 2 })]));
    const done: string[] = [];
    const all = ["a", "b", "c", "d", "e"].map((k) => store.delete(k).then(() => done.push(k)));
    await settle();
    assert.deepEqual(gated.started, ["a", "b"]);
    gated.open("b");
    await settle();
    assert.deepEqual(gated.started, ["a", "b", "c"]);
    gated.open("a");
    await settle();
    assert.deepEqual(gated.started, ["a", "b", "c", "d"]);
    for (const k of ["c", "d"]) gated.open(k);
    await settle();
    gated.open("e");
    await Promise.all(all);
    assert.deepEqual(gated.started, ["a", "b", "c", "d", "e"]);
    assert.deepEqual(done, ["b", "a", "c", "d", "e"]);
  });

  test("a queued operation aborted by its signal leaves the queue at once", async () => {
    const gated = new Gated(new MemoryBackend());
    const store = new Store(withLayers(gated, [concurrencyLimitLayer({ limit: 1 })]));
    const first = store.delete("first");
    const controller = new AbortController();
    const reason = new Error("no longer needed");
    const queued = store.delete("queued", { signal: controller.signal });
    const after = store.delete("after");
    await settle();
    controller.abort(reason);
    // Rejects while "first" still holds the only slot.
    await assert.rejects(queued, (e: unknown) => e === reason);
    assert.deepEqual(gated.started, ["first"]);
    gated.open("first");
    await first;
    await settle();
    // The aborted operation never reached the backend; the next one took the slot.
    assert.deepEqual(gated.started, ["first", "after"]);
    gated.open("after");
    await after;
    // An already aborted signal rejects without queueing.
    await assert.rejects(
      store.delete("x", { signal: AbortSignal.abort(reason) }),
      (e) => e === reason,
    );
  });

  test("a streaming read holds its slot until its stream ends or is cancelled", async () => {
    const memory = new MemoryBackend();
    const store = new Store(withLayers(memory, [concurrencyLimitLayer({ limit: 1 })]));
    await store.write("f.bin", new Uint8Array(600 * 1024));
    for (const finish of ["cancel", "read to the end"] as const) {
      const stream = await store.read("f.bin");
      let answered = false;
      const info = store.getFileInfo("f.bin").then((i) => (answered = true, i));
      await settle();
      assert.equal(answered, false, "waits while the stream is open");
      const reader = stream.getReader();
      await reader.read();
      await settle();
      assert.equal(answered, false, "still waits after one chunk");
      if (finish === "cancel") await reader.cancel();
      else while (!(await reader.read()).done);
      assert.equal((await info).size, 600 * 1024);
    }
  });

  test("a listing holds a slot only while it fetches, so nested walks do not deadlock", async () => {
    const store = new Store(withLayers(new MemoryBackend(), [concurrencyLimitLayer({ limit: 1 })]));
    for (const path of ["a/1.txt", "a/b/2.txt", "a/b/c/3.txt", "d/4.txt"]) {
      await store.write(path, "x");
    }
    // A caller's walk that lists inside a listing, with a limit of 1.
    const found = [];
    for await (const folder of store.listFolders("")) {
      for await (const file of store.listFiles(folder.path, { recursive: true })) {
        found.push(file.path);
      }
    }
    assert.deepEqual(found.sort(), ["a/1.txt", "a/b/2.txt", "a/b/c/3.txt", "d/4.txt"]);
    const globbed = [];
    for await (const file of store.glob("*/b/*.txt")) globbed.push(file.path);
    assert.deepEqual(globbed, ["a/b/2.txt"]);
    const info = await store.getFolderInfo("a");
    assert.equal(info.fileCount, 3);
  });

  test("each backend has its own limit", async () => {
    const layer = concurrencyLimitLayer({ limit: 1 });
    const one = new Gated(new MemoryBackend());
    const two = new Gated(new MemoryBackend());
    const a = new Store(withLayers(one, [layer]));
    const b = new Store(withLayers(two, [layer]));
    const pending = [a.delete("x"), b.delete("y")];
    await settle();
    assert.deepEqual([one.started, two.started], [["x"], ["y"]]);
    one.open("x");
    two.open("y");
    await Promise.all(pending);
  });

  test("limit must be a positive integer", () => {
    for (const limit of [0, -1, 1.5, Number.NaN, "2" as unknown as number]) {
      assert.throws(() => concurrencyLimitLayer({ limit }), RangeError);
    }
  });
});
