import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  type Backend,
  BackendUnavailableError,
  ForwardingBackend,
  logSink,
  MemoryBackend,
  observeLayer,
  type OperationEvent,
  Registry,
  Store,
  withLayers,
} from "../../mod.ts";
import { LocalBackend, localBackendType } from "../../local.ts";

const tmp = mkdtempSync(join(tmpdir(), "remote-store-observe-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** The parts of an event that do not depend on time. */
function shape(event: OperationEvent): Omit<OperationEvent, "startTime" | "durationMs"> {
  const { startTime, durationMs, ...rest } = event;
  assert.equal(typeof startTime, "number");
  assert.ok(durationMs >= 0);
  return rest;
}

const variants: [string, () => Backend, boolean][] = [
  ["memory", () => new MemoryBackend(), true],
  ["local", () => new LocalBackend({ root: mkdtempSync(join(tmp, "b-")) }), false],
];

for (const [name, make, fastPaths] of variants) {
  describe(`observeLayer on ${name}`, () => {
    test("a store and its children emit exactly one event per backend operation", async () => {
      const events: OperationEvent[] = [];
      const backend = make();
      const store = new Store(
        withLayers(backend, [observeLayer({ sink: (e) => events.push(e) })]),
        {
          rootPath: "root",
        },
      );
      const child = store.child("sub");
      const grandchild = child.child("deep");
      /** Runs one store call and returns the events it caused. */
      async function step(call: () => Promise<unknown>) {
        const before = events.length;
        await call();
        return events.slice(before).map(shape);
      }
      const write = fastPaths ? "writeBytes" : "write";
      const readAll = fastPaths ? "readBytes" : "read";
      const big = new Uint8Array(600 * 1024).fill(7);
      const at = { backend: name };

      assert.deepEqual(await step(() => store.write("a.txt", "hello")), [
        { ...at, operation: write, path: "root/a.txt", outcome: "ok", bytes: 5 },
      ]);
      assert.deepEqual(await step(() => child.write("b.bin", new Blob([big]).stream())), [
        { ...at, operation: "write", path: "root/sub/b.bin", outcome: "ok", bytes: big.length },
      ]);
      assert.deepEqual(await step(() => grandchild.write("c.txt", "x", { overwrite: true })), [
        { ...at, operation: write, path: "root/sub/deep/c.txt", outcome: "ok", bytes: 1 },
      ]);
      assert.deepEqual(await step(() => child.readBytes("b.bin")), [
        { ...at, operation: readAll, path: "root/sub/b.bin", outcome: "ok", bytes: big.length },
      ]);
      // A streaming read ends when its stream does: read to the end...
      assert.deepEqual(
        await step(async () => {
          const before = events.length;
          const stream = await child.read("b.bin");
          assert.equal(events.length, before, "no event before the stream ends");
          await new Response(stream).arrayBuffer();
        }),
        [{ ...at, operation: "read", path: "root/sub/b.bin", outcome: "ok", bytes: big.length }],
      );
      // ...or cancelled after one chunk.
      const cancelled = await step(async () => {
        const reader = (await child.read("b.bin")).getReader();
        const first = await reader.read();
        assert.ok(!first.done && first.value.length < big.length);
        await reader.cancel();
      });
      assert.equal(cancelled.length, 1);
      assert.deepEqual({ ...cancelled[0], bytes: undefined }, {
        ...at,
        operation: "read",
        path: "root/sub/b.bin",
        outcome: "cancelled",
        bytes: undefined,
      });
      assert.ok(cancelled[0]!.bytes! > 0 && cancelled[0]!.bytes! < big.length);
      // A failure: the error's code, never its message.
      assert.deepEqual(
        await step(() => assert.rejects(child.readText("missing.txt"), { name: "NotFoundError" })),
        [{
          ...at,
          operation: readAll,
          path: "root/sub/missing.txt",
          outcome: "error",
          errorCode: "NOT_FOUND",
        }],
      );
      assert.deepEqual(await step(() => grandchild.getFileInfo("c.txt")), [
        { ...at, operation: "getFileInfo", path: "root/sub/deep/c.txt", outcome: "ok" },
      ]);
      assert.deepEqual(
        await step(async () => {
          const names = [];
          for await (const file of child.listFiles("", { recursive: true })) names.push(file.path);
          assert.deepEqual(names.sort(), ["b.bin", "deep/c.txt"]);
        }),
        [{ ...at, operation: "list", path: "root/sub", outcome: "ok" }],
      );
      assert.deepEqual(
        await step(async () => {
          for await (const _ of store.listFiles("", { recursive: true })) break;
        }),
        [{ ...at, operation: "list", path: "root", outcome: "cancelled" }],
      );
      assert.deepEqual(await step(() => child.copy("b.bin", "copy.bin")), [
        {
          ...at,
          operation: "copy",
          path: "root/sub/b.bin",
          target: "root/sub/copy.bin",
          outcome: "ok",
        },
      ]);
      assert.deepEqual(await step(() => child.move("copy.bin", "deep/moved.bin")), [
        {
          ...at,
          operation: "move",
          path: "root/sub/copy.bin",
          target: "root/sub/deep/moved.bin",
          outcome: "ok",
        },
      ]);
      assert.deepEqual(await step(() => store.delete("a.txt")), [
        { ...at, operation: "delete", path: "root/a.txt", outcome: "ok" },
      ]);
      assert.deepEqual(await step(() => store.deleteFolder("sub", { recursive: true })), [
        { ...at, operation: "deleteFolder", path: "root/sub", outcome: "ok" },
      ]);
      // A call the Store refuses before any I/O reaches no backend: no event.
      assert.deepEqual(await step(() => assert.rejects(child.readText("../x"))), []);
      await backend.close();
    });

    test("an aborted operation is cancelled, not an error", async () => {
      const events: OperationEvent[] = [];
      const backend = make();
      const store = new Store(withLayers(backend, [observeLayer({ sink: (e) => events.push(e) })]));
      await store.write("f.bin", new Uint8Array(600 * 1024));
      events.length = 0;
      const controller = new AbortController();
      const reason = new Error("stop");
      const stream = await store.read("f.bin", { signal: controller.signal });
      const reader = stream.getReader();
      await reader.read();
      controller.abort(reason);
      // The Store errors or cancels the stream once the signal aborted; either way the
      // read ends as "cancelled", exactly once.
      await reader.read().then(() => reader.cancel(), () => {});
      await new Promise((resolve) => setTimeout(resolve, 0));
      assert.deepEqual(events.map((e) => [e.operation, e.outcome]), [["read", "cancelled"]]);
      await backend.close();
    });
  });
}

describe("observeLayer", () => {
  test("a Registry store and its children report the registry's backend name", async () => {
    const events: OperationEvent[] = [];
    await using registry = new Registry({
      backends: { disk: { type: "local", options: { root: mkdtempSync(join(tmp, "r-")) } } },
      stores: { data: { backend: "disk", rootPath: "data" } },
    }, {
      backendTypes: [localBackendType],
      layers: { disk: [observeLayer({ sink: (e) => events.push(e) })] },
    });
    const data = registry.getStore("data");
    await data.child("2026").write("a.txt", "abc");
    assert.equal(await registry.getStore("data").readText("2026/a.txt"), "abc");
    assert.deepEqual(events.map(shape), [
      { operation: "write", path: "data/2026/a.txt", backend: "disk", outcome: "ok", bytes: 3 },
      { operation: "read", path: "data/2026/a.txt", backend: "disk", outcome: "ok", bytes: 3 },
    ]);
    assert.ok((await registry.getBackend("disk")).unwrap(LocalBackend) instanceof LocalBackend);
  });

  test("a sink that throws never fails the operation", async () => {
    let calls = 0;
    const store = new Store(withLayers(new MemoryBackend(), [observeLayer({
      sink: () => {
        calls++;
        throw new Error("sink broke");
      },
    })]));
    await store.write("a", "b");
    assert.equal(await store.readText("a"), "b");
    assert.equal(calls, 2);
  });

  test("needs a sink function", () => {
    assert.throws(() => observeLayer({} as never), TypeError);
  });
});

describe("logSink", () => {
  /** A backend whose errors carry a secret in their message. */
  class Leaky extends ForwardingBackend {
    override delete(): Promise<void> {
      return Promise.reject(
        new BackendUnavailableError(
          "Request to https://x/?sig=SECRET-SIG failed (AccountKey=SECRET)",
        ),
      );
    }
  }

  test("one line per operation: paths, outcome, code, bytes, duration; no messages", async () => {
    const lines: [string, string][] = [];
    const logger = {
      info: (m: string) => lines.push(["info", m]),
      warn: (m: string) => lines.push(["warn", m]),
      debug: (m: string) => lines.push(["debug", m]),
    };
    const store = new Store(
      withLayers(new Leaky(new MemoryBackend()), [observeLayer({ sink: logSink(logger) })], {
        backendName: "mem",
      }),
    );
    await store.write("dir/a b.txt", "hello", {
      metadata: { token: "SECRET-META" },
      contentType: "text/plain",
    });
    await assert.rejects(store.delete("dir/a b.txt"), BackendUnavailableError);
    await store.copy("dir/a b.txt", "c.txt");
    assert.equal(lines.length, 3);
    assert.match(
      lines[0]![1],
      /^remote-store writeBytes "dir\/a b\.txt" \(backend "mem"\): ok, 5 bytes, \d+\.\d ms$/,
    );
    assert.equal(lines[0]![0], "info");
    assert.equal(lines[1]![0], "warn");
    assert.match(
      lines[1]![1],
      /^remote-store delete "dir\/a b\.txt" \(backend "mem"\): error BACKEND_UNAVAILABLE, \d+\.\d ms$/,
    );
    assert.match(
      lines[2]![1],
      /^remote-store copy "dir\/a b\.txt" -> "c\.txt" \(backend "mem"\): ok,/,
    );
    assert.ok(lines.every(([, m]) => !m.includes("SECRET")));
  });

  test("level debug sends what did not fail to debug", () => {
    const got: string[] = [];
    const sink = logSink({
      info: () => got.push("info"),
      warn: () => got.push("warn"),
      debug: () => got.push("debug"),
    }, { level: "debug" });
    const base = {
      operation: "read",
      path: "a",
      backend: "m",
      startTime: 0,
      durationMs: 1,
    } as const;
    sink({ ...base, outcome: "ok" });
    sink({ ...base, outcome: "cancelled" });
    sink({ ...base, outcome: "error", errorCode: "NOT_FOUND" });
    assert.deepEqual(got, ["debug", "debug", "warn"]);
    assert.throws(() => logSink(console, { level: "trace" as never }), TypeError);
  });
});
