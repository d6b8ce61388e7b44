/**
 * `Store.ping` and `Store.createFolder` beyond the conformance cases: the
 * Store's own rules (fallback, refusal before I/O), the memory backend, and
 * the layers (forwarded exactly when present, observed, timed out, limited).
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  type Backend,
  type BackendEntry,
  type BackendListOptions,
  BackendUnavailableError,
  CapabilityNotSupportedError,
  concurrencyLimitLayer,
  ForwardingBackend,
  InvalidPathError,
  MemoryBackend,
  observeLayer,
  type OperationEvent,
  PermissionDeniedError,
  type SignalOptions,
  Store,
  timeoutLayer,
  withLayers,
} from "../mod.ts";
import { LocalBackend } from "../local.ts";

const tmp = mkdtempSync(join(tmpdir(), "remote-store-health-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

const never = new Promise<never>(() => {});

/** A memory backend without the optional `ping` (a third-party backend), counting list calls. */
class NoPing extends ForwardingBackend {
  lists: string[] = [];
  failWith: unknown;
  constructor() {
    super(new MemoryBackend());
    Object.defineProperty(this, "ping", { value: undefined });
  }
  override list(key: string, options: BackendListOptions): AsyncIterable<BackendEntry> {
    this.lists.push(key);
    const failure = this.failWith;
    if (failure !== undefined) {
      return {
        [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(failure) }),
      };
    }
    return super.list(key, options);
  }
}

/** A backend double whose ping and createFolder never answer (what no server does on demand). */
class Silent extends ForwardingBackend {
  signals: (AbortSignal | undefined)[] = [];
  override ping(options: SignalOptions): Promise<void> {
    this.signals.push(options.signal);
    return never;
  }
  override createFolder(_key: string, options: SignalOptions): Promise<void> {
    this.signals.push(options.signal);
    return never;
  }
}

/** A backend double whose pings wait until the test opens their gate. */
class Gated extends ForwardingBackend {
  started = 0;
  readonly gates: (() => void)[] = [];
  override ping(_options: SignalOptions): Promise<void> {
    this.started++;
    return new Promise((resolve) => this.gates.push(resolve));
  }
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("Store.ping", () => {
  test("memory: resolves while open, BackendUnavailableError after close", async () => {
    const backend = new MemoryBackend();
    const store = new Store(backend, { rootPath: "not/written" });
    assert.equal(await store.ping(), undefined);
    await backend.close();
    await assert.rejects(store.ping(), (error: unknown) => {
      assert.ok(error instanceof BackendUnavailableError);
      assert.equal(error.backend, "memory");
      return true;
    });
  });

  test("a backend without ping: the Store lists the root, and its errors reach the caller", async () => {
    const backend = new NoPing();
    assert.equal(backend.ping, undefined);
    const store = new Store(backend, { rootPath: "scoped" });
    await store.write("a.txt", "x");
    assert.equal(await store.ping(), undefined);
    assert.deepEqual(backend.lists, [""], "the backend root, not the store's");
    backend.failWith = new PermissionDeniedError("No access");
    await assert.rejects(store.ping(), PermissionDeniedError);
  });
});

describe("Store.createFolder", () => {
  test("memory: refused with CapabilityNotSupportedError before any backend call", async () => {
    let calls = 0;
    const inner = new MemoryBackend();
    const counting = new Proxy(inner, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          calls++;
          return value.apply(target, args);
        };
      },
    }) as Backend;
    const store = new Store(counting);
    await assert.rejects(store.createFolder("a/b"), (error: unknown) => {
      assert.ok(error instanceof CapabilityNotSupportedError);
      assert.equal(error.capability, "directories");
      assert.equal(error.path, "a/b");
      assert.match(error.message, /exist only while files are below them/);
      return true;
    });
    assert.equal(calls, 0);
  });

  test("a path that is not valid is InvalidPathError, also where folders are virtual", async () => {
    const store = new Store(new MemoryBackend());
    await assert.rejects(store.createFolder("a/../../b"), InvalidPathError);
  });

  test("a backend with directories but no createFolder: CapabilityNotSupportedError", async () => {
    const inner = new MemoryBackend();
    const backend = new Proxy(inner, {
      get(target, property, receiver) {
        if (property === "capabilities") return inner.capabilities.with("directories");
        const value = Reflect.get(target, property, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      },
    }) as Backend;
    await assert.rejects(
      new Store(backend).createFolder("d"),
      (e: unknown) => e instanceof CapabilityNotSupportedError && e.capability === "directories",
    );
  });
});

describe("layers: ping and createFolder", () => {
  test("forwarded exactly when the inner backend has them", async () => {
    const layers = [
      observeLayer({ sink: () => {} }),
      timeoutLayer({ ms: 60_000 }),
      concurrencyLimitLayer({ limit: 2 }),
    ];
    const memory = withLayers(new MemoryBackend(), layers);
    assert.equal(typeof memory.ping, "function");
    assert.equal(memory.createFolder, undefined);
    await assert.rejects(new Store(memory).createFolder("d"), CapabilityNotSupportedError);
    const local = withLayers(new LocalBackend({ root: mkdtempSync(join(tmp, "l-")) }), layers);
    assert.equal(typeof local.createFolder, "function");
    const store = new Store(local);
    await store.createFolder("x/y");
    assert.equal(await store.isFolder("x/y"), true);
    assert.equal(await store.ping(), undefined);
    assert.equal(withLayers(new NoPing(), layers).ping, undefined);
  });

  test("observe: one event each; ping is about the backend root", async () => {
    const events: OperationEvent[] = [];
    const backend = withLayers(new LocalBackend({ root: mkdtempSync(join(tmp, "o-")) }), [
      observeLayer({ sink: (event) => events.push(event) }),
    ]);
    const store = new Store(backend, { rootPath: "root" });
    await store.ping();
    await store.child("sub").createFolder("new");
    await store.write("f.txt", "x");
    await assert.rejects(store.createFolder("f.txt"), InvalidPathError);
    await assert.rejects(store.child("sub").createFolder("../../../x"), InvalidPathError);
    const shape = events.map(({ operation, path, outcome, errorCode }) => ({
      operation,
      path,
      outcome,
      ...(errorCode === undefined ? {} : { errorCode }),
    }));
    assert.deepEqual(
      shape.filter((e) => e.operation === "ping" || e.operation === "createFolder"),
      [
        { operation: "ping", path: "", outcome: "ok" },
        { operation: "createFolder", path: "root/sub/new", outcome: "ok" },
        {
          operation: "createFolder",
          path: "root/f.txt",
          outcome: "error",
          errorCode: "INVALID_PATH",
        },
      ],
    );
  });

  test("timeout: a ping or createFolder that never answers is BackendUnavailableError", async () => {
    const silent = new Silent(new LocalBackend({ root: mkdtempSync(join(tmp, "t-")) }));
    const store = new Store(withLayers(silent, [timeoutLayer({ ms: 20 })]));
    for (
      const [operation, call] of [["ping", () => store.ping()], [
        "createFolder",
        () => store.createFolder("d"),
      ]] as const
    ) {
      await assert.rejects(call(), (error: unknown) => {
        assert.ok(error instanceof BackendUnavailableError);
        assert.match(error.message, new RegExp(`^Operation "${operation}" timed out after 20 ms`));
        return true;
      });
    }
    assert.equal(silent.signals.length, 2);
    assert.ok(silent.signals.every((signal) => signal?.aborted));
  });

  test("concurrency limit: a ping holds a slot until it answers", async () => {
    const gated = new Gated(new MemoryBackend());
    const store = new Store(withLayers(gated, [concurrencyLimitLayer({ limit: 1 })]));
    const first = store.ping();
    const second = store.ping();
    await settle();
    assert.equal(gated.started, 1);
    gated.gates[0]!();
    await first;
    await settle();
    assert.equal(gated.started, 2);
    gated.gates[1]!();
    await second;
  });
});
