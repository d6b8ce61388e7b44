import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { runConformanceSuite } from "../../../conformance.ts";
import { InvalidPathError } from "../../errors.ts";
import { Store } from "../../store.ts";
import { MemoryBackend } from "./memory_backend.ts";

runConformanceSuite("memory", { backend: new MemoryBackend() });

describe("memory backend", () => {
  test("a folder ends with its last file (deleted or moved away), and its path can then be a file", async () => {
    const store = new Store(new MemoryBackend());
    await store.write("a/b/one.txt", "1");
    await store.write("a/b/two.txt", "2");
    await store.write("a/three.txt", "3");
    await assert.rejects(store.write("a/b", "x"), InvalidPathError);
    await store.delete("a/b/one.txt");
    await assert.rejects(store.write("a/b", "x"), InvalidPathError, "one file is still below");
    await store.move("a/b/two.txt", "elsewhere.txt");
    assert.equal(await store.isFolder("a/b"), false);
    await store.write("a/b", "now a file");
    assert.equal(await store.readText("a/b"), "now a file");
    await assert.rejects(store.write("a", "x"), InvalidPathError, "a still holds files");
    await store.deleteFolder("a", { recursive: true });
    await store.write("a", "a file at last");
    assert.deepEqual(
      (await Array.fromAsync(store.listFiles("", { recursive: true }))).map((f) => f.path).sort(),
      ["a", "elsewhere.txt"],
    );
  });

  test("a read stream delivers the version it opened, whatever happens to the file", async () => {
    const store = new Store(new MemoryBackend());
    const old = new Uint8Array(1024 * 1024).fill(1);
    await store.write("f.bin", old);
    const stream = await store.read("f.bin");
    await store.write("f.bin", new Uint8Array(10).fill(2), { overwrite: true });
    assert.deepEqual(new Uint8Array(await new Response(stream).arrayBuffer()), old);
    const again = await store.read("f.bin");
    await store.delete("f.bin");
    assert.deepEqual(
      new Uint8Array(await new Response(again).arrayBuffer()),
      new Uint8Array(10).fill(2),
    );
  });
});
