import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import type { BackendEntry, BackendListOptions } from "./backend.ts";
import { ForwardingBackend } from "./layer.ts";
import { Store } from "./store.ts";
import { MemoryBackend } from "./backends/memory/memory_backend.ts";
import { LocalBackend } from "./backends/local/local_backend.ts";
import { checkPaging, pagingPaths, seed } from "../tests/_paging.ts";

/** A backend that ignores `startAfter` (as a service without a start-from parameter does). */
class NoStartAfter extends ForwardingBackend {
  calls: BackendListOptions[] = [];
  override list(key: string, options: BackendListOptions): AsyncIterable<BackendEntry> {
    this.calls.push(options);
    const { startAfter: _ignored, ...rest } = options;
    return super.list(key, rest);
  }
}

describe("paged listings of 10,000 files", () => {
  const paths = pagingPaths();

  test("memory", async () => {
    const backend = new MemoryBackend();
    await seed(backend, "pages", paths, 64);
    const started = performance.now();
    assert.equal(await checkPaging(new Store(backend, { rootPath: "pages" }), paths), 21);
    console.log(`memory: paged and resumed in ${Math.round(performance.now() - started)} ms`);
  });

  test("memory, through a backend that ignores startAfter (the Store skips on the client)", async () => {
    const inner = new MemoryBackend();
    await seed(inner, "pages", paths, 64);
    const backend = new NoStartAfter(inner);
    assert.equal(await checkPaging(new Store(backend, { rootPath: "pages" }), paths), 21);
    assert.ok(
      backend.calls.some((options) => options.startAfter !== undefined),
      "the Store passed startAfter on",
    );
  });

  test("local", async () => {
    const root = mkdtempSync(join(tmpdir(), "remote-store-paging-"));
    after(() => rmSync(root, { recursive: true, force: true }));
    const backend = new LocalBackend({ root });
    try {
      let started = performance.now();
      await seed(backend, "pages", paths, 64);
      console.log(`local: 10,000 files written in ${Math.round(performance.now() - started)} ms`);
      started = performance.now();
      assert.equal(await checkPaging(new Store(backend, { rootPath: "pages" }), paths), 21);
      console.log(`local: paged and resumed in ${Math.round(performance.now() - started)} ms`);
    } finally {
      await backend.close();
    }
  });
});
