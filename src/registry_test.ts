import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  type Backend,
  type BackendType,
  BackendUnavailableError,
  InvalidConfigError,
  MemoryBackend,
  registerBackendType,
  Registry,
  type RegistryConfig,
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
    const secret = "s3cr3t-account-key";
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
