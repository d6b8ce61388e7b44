import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  type BackendFileInfo,
  type BackendReadOptions,
  BackendUnavailableError,
  type BackendWriteOptions,
  type BackendWriteResult,
  ForwardingBackend,
  MemoryBackend,
  type SignalOptions,
  Store,
  timeoutLayer,
  withLayers,
} from "../../mod.ts";

const never = new Promise<never>(() => {});

/**
 * A backend double that never answers (what no server can reproduce on
 * demand): its calls never settle and ignore their signal; its read stream
 * delivers one chunk, then nothing.
 */
class Silent extends ForwardingBackend {
  signals: (AbortSignal | undefined)[] = [];
  override getFileInfo(_key: string, options: SignalOptions): Promise<BackendFileInfo> {
    this.signals.push(options.signal);
    return never;
  }
  override read(_key: string, options: BackendReadOptions): Promise<ReadableStream<Uint8Array>> {
    this.signals.push(options.signal);
    let sent = false;
    return Promise.resolve(
      new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent) return never;
          sent = true;
          controller.enqueue(new Uint8Array([1, 2, 3]));
          return undefined;
        },
      }, { highWaterMark: 0 }),
    );
  }
  override writeBytes(
    _key: string,
    _bytes: Uint8Array,
    options: BackendWriteOptions,
  ): Promise<BackendWriteResult> {
    this.signals.push(options.signal);
    return never;
  }
}

function isTimeout(operation: string) {
  return (e: unknown) => {
    assert.ok(e instanceof BackendUnavailableError);
    assert.match(e.message, new RegExp(`^Operation "${operation}" timed out after 20 ms`));
    assert.equal((e.cause as Error).name, "TimeoutError");
    return true;
  };
}

describe("timeoutLayer", () => {
  test("a call that never answers rejects with the typed timeout error", async () => {
    const silent = new Silent(new MemoryBackend());
    const store = new Store(withLayers(silent, [timeoutLayer({ ms: 20 })]), { rootPath: "r" });
    await assert.rejects(store.getFileInfo("a.txt"), (e: unknown) => {
      isTimeout("getFileInfo")(e);
      assert.equal((e as BackendUnavailableError).path, "a.txt");
      return true;
    });
    await assert.rejects(store.write("a.txt", "x"), isTimeout("writeBytes"));
    // The backend was given a signal that the timeout aborted.
    assert.equal(silent.signals.length, 2);
    assert.ok(silent.signals.every((s) => s?.aborted));
  });

  test("a stream whose next chunk never comes errors with the timeout error", async () => {
    const store = new Store(
      withLayers(new Silent(new MemoryBackend()), [timeoutLayer({ ms: 20 })]),
    );
    const reader = (await store.read("a.bin")).getReader();
    assert.deepEqual((await reader.read()).value, new Uint8Array([1, 2, 3]));
    await assert.rejects(reader.read(), isTimeout("read"));
  });

  test("a stream that arrives after the limit is cancelled, not left open", async () => {
    let answer!: (stream: ReadableStream<Uint8Array>) => void;
    let cancelled: unknown;
    class Late extends ForwardingBackend {
      override read(): Promise<ReadableStream<Uint8Array>> {
        return new Promise((resolve) => (answer = resolve));
      }
    }
    const store = new Store(withLayers(new Late(new MemoryBackend()), [timeoutLayer({ ms: 20 })]));
    await assert.rejects(store.read("a.bin"), isTimeout("read"));
    answer(new ReadableStream({ cancel: (reason) => void (cancelled = reason) }));
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.ok(cancelled instanceof BackendUnavailableError);
  });

  test("the caller's signal still aborts first, with its own reason", async () => {
    const silent = new Silent(new MemoryBackend());
    const store = new Store(withLayers(silent, [timeoutLayer({ ms: 60_000 })]));
    const controller = new AbortController();
    const reason = new Error("caller stopped");
    const pending = store.getFileInfo("a.txt", { signal: controller.signal });
    controller.abort(reason);
    await assert.rejects(pending, (e: unknown) => e === reason);
    assert.equal(silent.signals[0]?.reason, reason);
  });

  // Memory answers within microtasks, so with a correct clock no timer can fire here
  // however slow the machine is; a clock that ran while the caller waits would fire.
  test("the clock measures the backend, not a caller that reads slowly", async () => {
    const store = new Store(withLayers(new MemoryBackend(), [timeoutLayer({ ms: 20 })]));
    const data = new Uint8Array(700 * 1024).fill(3);
    await store.write("big.bin", data);
    const reader = (await store.read("big.bin")).getReader();
    let total = 0;
    for (;;) {
      // Wait longer than the limit between reads: the clock is stopped meanwhile.
      await new Promise((resolve) => setTimeout(resolve, 60));
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
    }
    assert.equal(total, data.length);
    // A slow producer of write content is the caller's time too.
    let chunks = 0;
    const slow = new ReadableStream<Uint8Array>({
      async pull(controller) {
        await new Promise((resolve) => setTimeout(resolve, 60));
        if (chunks++ === 2) controller.close();
        else controller.enqueue(new Uint8Array(10));
      },
    });
    assert.equal((await store.write("slow.bin", slow)).size, 20);
  });

  test("operations that answer in time are unchanged", async () => {
    const store = new Store(withLayers(new MemoryBackend(), [timeoutLayer({ ms: 60_000 })]));
    await store.write("a/b.txt", "hi");
    assert.equal(await store.readText("a/b.txt"), "hi");
    const names = [];
    for await (const f of store.listFiles("", { recursive: true })) names.push(f.path);
    assert.deepEqual(names, ["a/b.txt"]);
    await store.copy("a/b.txt", "c.txt");
    await store.move("c.txt", "d.txt");
    assert.equal(await store.exists("d.txt"), true);
    await store.deleteFolder("a", { recursive: true });
    await assert.rejects(store.readText("a/b.txt"), { name: "NotFoundError" });
  });

  test("ms must be a positive number", () => {
    for (const ms of [0, -1, Number.NaN, Infinity, "5" as unknown as number]) {
      assert.throws(() => timeoutLayer({ ms }), RangeError);
    }
  });
});
