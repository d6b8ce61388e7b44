import { test } from "node:test";
import assert from "node:assert/strict";
import { BackendUnavailableError, MemoryBackend, Store } from "../mod.ts";

test("an unexpected backend failure keeps its cause visible in the message", async () => {
  const failure = new Error("Cannot find module 'x_backend.ts'\nstack line");
  class Broken extends MemoryBackend {
    override getFileInfo(): never {
      throw failure;
    }
  }
  const store = new Store(new Broken(), { backendName: "broken" });
  await assert.rejects(store.getFileInfo("a.txt"), (e: unknown) => {
    assert.ok(e instanceof BackendUnavailableError);
    assert.equal(e.cause, failure);
    assert.match(
      e.message,
      /^Unexpected backend failure \(Error: Cannot find module 'x_backend\.ts'\): "a\.txt" \(backend "broken"\)$/,
    );
    return true;
  });
});
