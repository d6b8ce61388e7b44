import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  BackendUnavailableError,
  InvalidConfigError,
  MemoryBackend,
  Registry,
  type RegistryConfig,
} from "../mod.ts";

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
      assert.throws(() => new Registry(input as RegistryConfig), (e: unknown) => {
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
    });
    for (
      const printed of [String(registry), JSON.stringify(registry), String(registry.getStore("s"))]
    ) {
      assert.ok(!printed.includes(secret), printed);
    }
    assert.match(String(registry), /Registry\(stores: s\)/);
  });
});
