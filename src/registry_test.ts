import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  type Backend,
  type BackendType,
  BackendUnavailableError,
  concurrencyLimitLayer,
  ForwardingBackend,
  InvalidConfigError,
  type Layer,
  loadConfigText,
  MemoryBackend,
  observeLayer,
  type OperationEvent,
  parseConfig,
  registerBackendType,
  Registry,
  type RegistryConfig,
  type SignalOptions,
  Store,
} from "../mod.ts";
import { localBackendType } from "../local.ts";
import { azureBackendType } from "../azure.ts";

const builtIns = { backendTypes: [localBackendType, azureBackendType] };

/** A user's own backend type ("bucket" option required), counting what it creates. */
function customType(name: string) {
  const created: Backend[] = [];
  const type: BackendType<{ bucket: string }> = {
    type: name,
    parseOptions(options, keyPath) {
      if (typeof options.bucket !== "string") {
        throw new TypeError(`"${keyPath}.bucket" must be a string`);
      }
      return { bucket: options.bucket };
    },
    create(options) {
      const backend = new MemoryBackend();
      created.push(backend);
      assert.equal(options.bucket, "b1");
      return backend;
    },
  };
  return { type, created };
}

const config: RegistryConfig = {
  backends: { mem: { type: "memory" }, other: { type: "memory" } },
  stores: {
    data: { backend: "mem", rootPath: "example/data" },
    archive: { backend: "mem", rootPath: "example/archive" },
    whole: { backend: "mem" },
    elsewhere: { backend: "other" },
  },
};

describe("Registry", () => {
  test("stores on one backend share one instance and stay isolated", async () => {
    await using registry = new Registry(config);
    const data = registry.getStore("data");
    const archive = registry.getStore("archive");
    await data.write("a.txt", "data");
    await archive.write("a.txt", "archive");
    assert.equal(await data.readText("a.txt"), "data");
    assert.equal(await archive.readText("a.txt"), "archive");
    assert.equal(await registry.getStore("whole").readText("example/data/a.txt"), "data");
    assert.equal(await registry.getStore("elsewhere").exists("example/data/a.txt"), false);
    assert.equal(await registry.getBackend("mem"), await registry.getBackend("mem"));
    assert.ok((await registry.getBackend("mem")) instanceof MemoryBackend);
  });

  test("an unknown store name lists the known ones", () => {
    const registry = new Registry(config);
    assert.throws(() => registry.getStore("nope"), (e: unknown) => {
      assert.ok(e instanceof InvalidConfigError);
      assert.match(e.message, /"nope".*"data", "archive", "whole", "elsewhere"/);
      return true;
    });
    assert.rejects(registry.getBackend("nope"), InvalidConfigError);
  });

  test("construction validates eagerly and names the key", () => {
    const bad: [unknown, RegExp][] = [
      [null, /"config" must be an object/],
      [{ backends: {}, stores: { s: { backend: "x" } } }, /"stores\.s\.backend" must name/],
      [{ backends: { b: { type: "ftp" } }, stores: {} }, /"backends\.b\.type" must be one of/],
      [
        { backends: { b: { type: "memory", options: { x: 1 } } }, stores: {} },
        /backends\.b\.options\.x/,
      ],
      [
        { backends: { b: { type: "local", options: {} } }, stores: {} },
        /"backends\.b\.options\.root" is required/,
      ],
      [
        { backends: { b: { type: "azure", options: {} } }, stores: {} },
        /"backends\.b\.options\.container" is required/,
      ],
      [
        { backends: { b: { type: "memory" } }, stores: { s: { backend: "b", rootPath: "../x" } } },
        /stores\.s\.rootPath/,
      ],
      [
        { backends: { b: { type: "memory" } }, stores: { s: { backend: "b", rootPath: 3 } } },
        /stores\.s\.rootPath/,
      ],
      [{ backends: [], stores: {} }, /"backends" must be an object/],
    ];
    for (const [input, message] of bad) {
      assert.throws(() => new Registry(input as RegistryConfig, builtIns), (e: unknown) => {
        assert.ok(e instanceof InvalidConfigError, `${JSON.stringify(input)}: ${e}`);
        assert.match(e.message, message);
        return true;
      });
    }
  });

  test("close closes every backend and is terminal", async () => {
    const registry = new Registry(config);
    const store = registry.getStore("data");
    await store.write("a.txt", "x");
    await registry.close();
    await registry.close();
    await assert.rejects(store.readText("a.txt"), BackendUnavailableError);
    assert.throws(() => registry.getStore("data"), BackendUnavailableError);
  });

  test("printing a registry shows names, never options", () => {
    const secret = "czNjcjN0LWFjY291bnQta2V5"; // base64, as account keys are
    const registry = new Registry({
      backends: {
        az: {
          type: "azure",
          options: { container: "cont", accountName: "acct", accountKey: secret },
        },
      },
      stores: { s: { backend: "az" } },
    }, builtIns);
    for (
      const printed of [String(registry), JSON.stringify(registry), String(registry.getStore("s"))]
    ) {
      assert.ok(!printed.includes(secret), printed);
    }
    assert.match(String(registry), /Registry\(stores: s\)/);
  });

  test("an unknown backend type lists the known ones and says how to add one", () => {
    const input = { backends: { b: { type: "s3-unknown" } }, stores: {} };
    assert.throws(() => new Registry(input), (e: unknown) => {
      assert.ok(e instanceof InvalidConfigError);
      assert.match(e.message, /"backends\.b\.type" must be one of "memory".*got "s3-unknown"/);
      assert.match(e.message, /backendTypes/);
      assert.match(e.message, /registerBackendType/);
      return true;
    });
    // The types given to one Registry are known to that Registry only.
    const { type } = customType("s3-given");
    const custom = { backends: { b: { type: "s3-given", options: { bucket: "b1" } } }, stores: {} };
    new Registry(custom, { backendTypes: [type] });
    assert.throws(() => new Registry(custom), /must be one of/);
  });

  test("a custom backend type validates its options at construction and creates once", async () => {
    const { type, created } = customType("s3-custom");
    const config = {
      backends: { b: { type: "s3-custom", options: { bucket: "b1" } } },
      stores: { one: { backend: "b", rootPath: "x" }, two: { backend: "b" } },
    };
    assert.throws(
      () =>
        new Registry(
          { ...config, backends: { b: { type: "s3-custom", options: { bucket: 1 } } } },
          { backendTypes: [type] },
        ),
      (e: unknown) => {
        assert.ok(e instanceof InvalidConfigError);
        assert.match(e.message, /"backends\.b\.options\.bucket" must be a string/);
        assert.ok(e.cause instanceof TypeError);
        return true;
      },
    );
    assert.equal(created.length, 0);
    const registry = new Registry(config, { backendTypes: [type] });
    assert.equal(created.length, 0, "no backend before first use");
    await registry.getStore("one").write("a.txt", "hello");
    assert.equal(await registry.getStore("two").readText("x/a.txt"), "hello");
    assert.equal(created.length, 1, "one instance per backend name");
    const backend = await registry.getBackend("b");
    assert.equal(backend, created[0], "the store talks to the created backend itself");
    // A store from a Registry and `new Store(backend)` are the same thing.
    assert.equal(await new Store(backend, { rootPath: "x" }).readText("a.txt"), "hello");
    await registry.close();
    await assert.rejects(new Store(backend).readText("x/a.txt"), BackendUnavailableError);
  });

  test("a backend type whose create throws gives an InvalidConfigError with the cause", () => {
    const failure = new Error("no such bucket");
    const type: BackendType<unknown> = {
      type: "s3-broken",
      parseOptions: () => ({}),
      create: () => {
        throw failure;
      },
    };
    const registry = new Registry(
      { backends: { b: { type: "s3-broken" } }, stores: { s: { backend: "b" } } },
      { backendTypes: [type] },
    );
    assert.throws(() => registry.getStore("s"), (e: unknown) => {
      assert.ok(e instanceof InvalidConfigError);
      assert.match(e.message, /Creating backend "b" of type "s3-broken" failed: no such bucket/);
      assert.equal(e.cause, failure);
      return true;
    });
  });

  test("registerBackendType makes a type known to later Registries", async () => {
    const { type } = customType("s3-registered");
    const config = {
      backends: { b: { type: "s3-registered", options: { bucket: "b1" } } },
      stores: { s: { backend: "b" } },
    };
    assert.throws(() => new Registry(config), InvalidConfigError);
    registerBackendType(type);
    registerBackendType(type); // the same object again: no-op
    await using registry = new Registry(config);
    await registry.getStore("s").write("a.txt", "x");
    assert.throws(() => registerBackendType(customType("s3-registered").type), (e: unknown) => {
      assert.ok(e instanceof InvalidConfigError);
      assert.match(
        e.message,
        /A different backend type named "s3-registered" is already registered/,
      );
      return true;
    });
    assert.throws(() => registerBackendType({ type: "" } as unknown as BackendType), TypeError);
    assert.throws(
      () => new Registry(config, { backendTypes: [{ type: "x" } as unknown as BackendType] }),
      TypeError,
    );
  });
});

describe("Registry layers", () => {
  /** A layer that records which backend name it wrapped and the deletes it sees. */
  function recorder(log: string[]): Layer {
    return {
      name: "recorder",
      wrap(backend, context) {
        log.push(`wrap ${context.backendName}`);
        return new class extends ForwardingBackend {
          override delete(key: string, options: SignalOptions): Promise<void> {
            log.push(`delete ${context.backendName} ${key}`);
            return super.delete(key, options);
          }
        }(backend);
      },
    };
  }

  test("code layers wrap each named backend once; stores and children go through them", async () => {
    const log: string[] = [];
    await using registry = new Registry(config, { layers: { mem: [recorder(log)] } });
    assert.deepEqual(log, [], "no backend is created before use");
    const data = registry.getStore("data");
    await data.write("a.txt", "x");
    await data.child("sub").write("b.txt", "y");
    await data.delete("a.txt");
    await data.child("sub").delete("b.txt");
    await registry.getStore("archive").write("c.txt", "z");
    await registry.getStore("archive").delete("c.txt");
    await registry.getStore("elsewhere").write("d.txt", "w");
    await registry.getStore("elsewhere").delete("d.txt");
    assert.deepEqual(log, [
      "wrap mem",
      "delete mem example/data/a.txt",
      "delete mem example/data/sub/b.txt",
      "delete mem example/archive/c.txt",
    ]);
    const backend = await registry.getBackend("mem");
    assert.ok(!(backend instanceof MemoryBackend));
    assert.ok(backend.unwrap(MemoryBackend) instanceof MemoryBackend);
    assert.ok(registry.getStore("data").unwrap(MemoryBackend) instanceof MemoryBackend);
  });

  test("config layers are plain JSON; code layers wrap them", async () => {
    const events: OperationEvent[] = [];
    const json: RegistryConfig = JSON.parse(JSON.stringify({
      backends: {
        mem: {
          type: "memory",
          layers: [{ type: "concurrencyLimit", limit: 1 }, { type: "timeout", ms: 60000 }],
        },
      },
      stores: { s: { backend: "mem" } },
    }));
    await using registry = new Registry(json, {
      layers: { mem: [observeLayer({ sink: (e) => events.push(e) })] },
    });
    const store = registry.getStore("s");
    await store.write("f.bin", new Uint8Array(600 * 1024));
    // The config's limit of 1 holds while a read stream is open.
    const stream = await store.read("f.bin");
    let answered = false;
    const info = store.getFileInfo("f.bin").then(() => (answered = true));
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.equal(answered, false);
    await stream.cancel();
    await info;
    assert.deepEqual(events.map((e) => `${e.operation} ${e.outcome}`), [
      "writeBytes ok",
      "read cancelled",
      "getFileInfo ok",
    ]);
  });

  test("a log layer in the config writes to the console", async () => {
    const lines: string[] = [];
    const original = console.info;
    console.info = (message: string) => void lines.push(message);
    try {
      await using registry = new Registry({
        backends: { mem: { type: "memory", layers: [{ type: "log" }] } },
        stores: { s: { backend: "mem" } },
      });
      await registry.getStore("s").write("a.txt", "hi");
    } finally {
      console.info = original;
    }
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /^remote-store writeBytes "a\.txt" \(backend "mem"\): ok, 2 bytes/);
  });

  test("bad layers are rejected at construction, naming the key", () => {
    const stores = { s: { backend: "m" } };
    const bad: [unknown, RegExp][] = [
      ["x", /"backends\.m\.layers" must be an array, got a string/],
      [[1], /"backends\.m\.layers\[0\]" must be an object/],
      [
        [{ type: "retry" }],
        /"backends\.m\.layers\[0\]\.type" must be one of "timeout", "concurrencyLimit", "log", got "retry".*in code/,
      ],
      [
        [{ type: "timeout" }],
        /"backends\.m\.layers\[0\]" is invalid: Timeout "ms" must be a positive number/,
      ],
      [
        [{ type: "timeout", ms: 5, limit: 2 }],
        /"backends\.m\.layers\[0\]\.limit" is not a known key of a "timeout" layer/,
      ],
      [
        [{ type: "concurrencyLimit", limit: 0 }],
        /"backends\.m\.layers\[0\]" is invalid: Concurrency "limit"/,
      ],
      [[{ type: "log", level: "loud" }], /"backends\.m\.layers\[0\]" is invalid/],
    ];
    for (const [layers, message] of bad) {
      assert.throws(
        () =>
          new Registry({ backends: { m: { type: "memory", layers } }, stores } as RegistryConfig),
        (e: unknown) => e instanceof InvalidConfigError && message.test(e.message),
        String(message),
      );
    }
    const config = { backends: { m: { type: "memory" } }, stores };
    assert.throws(
      () => new Registry(config, { layers: { other: [] } }),
      /"layers\.other" must name a configured backend \("m"\)/,
    );
    assert.throws(
      () => new Registry(config, { layers: { m: [{ name: "x" } as unknown as Layer] } }),
      /"layers\.m\[0\]" must be a layer/,
    );
    assert.throws(
      () => new Registry(config, { layers: { m: "x" as unknown as Layer[] } }),
      /"layers\.m" must be an array/,
    );
  });

  test("parseConfig keeps a backend's layers (JSON or TOML input)", async () => {
    const parsed = parseConfig({
      backends: { m: { type: "memory", layers: [{ type: "concurrencyLimit", limit: 2 }] } },
      stores: { s: { backend: "m" } },
    });
    assert.deepEqual(parsed.backends.m?.layers, [{ type: "concurrencyLimit", limit: 2 }]);
    await using registry = new Registry(parsed);
    await registry.getStore("s").write("a", "b");
    const toml = await loadConfigText(
      [
        "[backends.m]",
        'type = "memory"',
        "[[backends.m.layers]]",
        'type = "timeout"',
        "ms = 30_000",
        "[[backends.m.layers]]",
        'type = "concurrencyLimit"',
        "limit = 4",
        "[stores.s]",
        'backend = "m"',
      ].join("\n"),
      "toml",
    );
    assert.deepEqual(toml.backends.m?.layers, [
      { type: "timeout", ms: 30000 },
      { type: "concurrencyLimit", limit: 4 },
    ]);
    assert.throws(
      () =>
        parseConfig({
          backends: { m: { type: "memory", layers: [{ type: "timeout", ms: -1 }] } },
          stores: {},
        }),
      /"backends\.m\.layers\[0\]" is invalid/,
    );
  });

  test("a layer given to several backends wraps each with its own state", async () => {
    const limit = concurrencyLimitLayer({ limit: 1 });
    await using registry = new Registry(config, { layers: { mem: [limit], other: [limit] } });
    const stream = await registry.getStore("data").read("x").catch(() => undefined);
    assert.equal(stream, undefined);
    await registry.getStore("data").write("x", new Uint8Array(10));
    const open = await registry.getStore("data").read("x");
    // The other backend's limit is its own: not blocked by the open stream.
    await registry.getStore("elsewhere").write("y", "z");
    await open.cancel();
  });
});
