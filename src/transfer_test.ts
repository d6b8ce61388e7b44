import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AlreadyExistsError, MemoryBackend, NotFoundError, Store, transfer } from "../mod.ts";
import { LocalBackend } from "../local.ts";
import { chunkedStream, patternBytes } from "./conformance/_helpers.ts";

describe("transfer", () => {
  const dir = mkdtempSync(join(tmpdir(), "remote-store-transfer-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const memory = new Store(new MemoryBackend(), { rootPath: "m", backendName: "mem" });
  const local = new Store(new LocalBackend({ root: dir }), { backendName: "disk" });

  test("streams memory -> local -> memory with progress and content type", async () => {
    const bytes = patternBytes(3 * 1024 * 1024 + 1, 8);
    await memory.write("in/data.csv", chunkedStream(bytes, 100_000));
    const seen: [number, number | undefined][] = [];
    const result = await transfer(memory, "in/data.csv", local, "copy/data.csv", {
      onProgress: (loaded, total) => seen.push([loaded, total]),
    });
    assert.equal(result.size, bytes.byteLength);
    assert.deepEqual(seen.at(-1), [bytes.byteLength, bytes.byteLength]);
    await transfer(local, "copy/data.csv", memory, "back.csv");
    assert.deepEqual(await memory.readBytes("back.csv"), bytes);
    assert.match((await memory.getFileInfo("back.csv")).contentType ?? "", /^text\/csv/);
  });

  test("follows the overwrite rule and names the failing side", async () => {
    await memory.write("a.txt", "a");
    await local.write("taken.txt", "taken");
    await assert.rejects(transfer(memory, "a.txt", local, "taken.txt"), (e: unknown) => {
      assert.ok(e instanceof AlreadyExistsError);
      assert.equal(e.backend, "disk");
      return true;
    });
    assert.equal(await local.readText("taken.txt"), "taken");
    await transfer(memory, "a.txt", local, "taken.txt", { overwrite: true });
    assert.equal(await local.readText("taken.txt"), "a");
    await assert.rejects(transfer(memory, "missing.txt", local, "x.txt"), (e: unknown) => {
      assert.ok(e instanceof NotFoundError);
      assert.equal(e.backend, "mem");
      return true;
    });
  });

  test("a source that fails mid-stream reports the source error and leaves no object", async () => {
    const backend = new MemoryBackend();
    const failing = new Proxy(backend, {
      get(target, property, receiver) {
        if (property !== "read") {
          const value = Reflect.get(target, property, receiver);
          return typeof value === "function" ? value.bind(target) : value;
        }
        return () =>
          Promise.resolve(
            new ReadableStream<Uint8Array>({
              start(controller) {
                controller.enqueue(new Uint8Array(1000));
                controller.error(new NotFoundError("Blob vanished", { path: "src/x.bin" }));
              },
            }),
          );
      },
    });
    const source = new Store(failing, { rootPath: "src", backendName: "flaky" });
    await source.write("x.bin", "payload");
    await assert.rejects(transfer(source, "x.bin", local, "never.bin"), (e: unknown) => {
      assert.ok(e instanceof NotFoundError);
      assert.equal(e.backend, "flaky", "the error is the source's, not the destination's");
      assert.equal(e.path, "x.bin");
      return true;
    });
    assert.equal(await local.isFile("never.bin"), false);
  });
});
