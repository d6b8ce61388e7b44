import { test } from "node:test";
import assert from "node:assert/strict";
import {
  AlreadyExistsError,
  InvalidPathError,
  MemoryBackend,
  NotFoundError,
  Registry,
  Store,
} from "../mod.ts";

test("smoke", async () => {
  const store = new Store(new MemoryBackend(), { rootPath: "r" });
  await store.write("a/b.txt", "hello");
  assert.equal(await store.readText("a/b.txt"), "hello");
  await assert.rejects(store.write("a/b.txt", "x"), AlreadyExistsError);
  await assert.rejects(store.read("nope"), NotFoundError);
  await assert.rejects(store.read("a"), InvalidPathError);
  const files = [];
  for await (const f of store.glob("**/*.txt")) files.push(f.path);
  assert.deepEqual(files, ["a/b.txt"]);
  const reg = new Registry({
    backends: { m: { type: "memory" } },
    stores: { s: { backend: "m", rootPath: "x" } },
  });
  await reg.getStore("s").write("q", "1");
  assert.equal(await reg.getStore("s").readText("q"), "1");
  await reg.close();
});
