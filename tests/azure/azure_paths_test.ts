/**
 * Names and paths on flat Azure (Azurite): `.~tmp.` names are ordinary
 * files, and a path is a file or a folder, never both (unless `strictPaths`
 * is turned off).
 *
 * @module
 */

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { DirectoryNotEmptyError, InvalidPathError, Store } from "../../mod.ts";
import { type AzureEnv, HOOK, setupAzure } from "./_setup.ts";
import { setupFaultEnv } from "../reliability/_env.ts";

describe("azure (flat): names and paths", () => {
  let env: AzureEnv;
  let store: Store;

  before(async () => {
    env = await setupAzure();
    store = new Store(env.backend({ hns: false }));
  }, HOOK);
  after(() => env?.close(), HOOK);

  test("user files named .~tmp.* are listed, read and deleted like any other", async () => {
    const names = [".~tmp.x.txt.0011223344556677", ".~tmp.y"];
    for (const name of names) await store.write(`tmpl/${name}`, name);
    assert.deepEqual(await Array.fromAsync(store.listFiles("tmpl"), (f) => f.name), names.sort());
    for (const name of names) assert.equal(await store.readText(`tmpl/${name}`), name);
    await assert.rejects(store.deleteFolder("tmpl"), DirectoryNotEmptyError);
    await store.deleteFolder("tmpl", { recursive: true });
    assert.equal(await store.isFolder("tmpl"), false);
  });

  test("a path is a file or a folder: writes below a file or onto a folder are refused, nothing written", async () => {
    await store.write("fx/file", "file");
    await store.write("fx/folder/inner.txt", "inner");
    for (
      const [path, why] of [
        [
          "fx/file/x.txt",
          /Cannot write the file because a parent of the path is a file, not a folder/,
        ],
        ["fx/file/deeper/x.txt", /a parent of the path is a file/],
        ["fx/folder", /Cannot write the file because the path is a folder, not a file/],
      ] as const
    ) {
      for (const overwrite of [false, true]) {
        await assert.rejects(store.write(path, "x", { overwrite }), (e) => {
          assert.ok(e instanceof InvalidPathError, String(e));
          assert.match(e.message, why);
          return true;
        });
        await assert.rejects(
          store.write(path, new Blob(["x"]).stream(), { overwrite }),
          InvalidPathError,
        );
      }
    }
    await assert.rejects(
      store.copy("fx/file", "fx/folder"),
      /Cannot copy the file because the path is a folder/,
    );
    await assert.rejects(store.move("fx/file", "fx/file/x"), InvalidPathError);
    const names: string[] = [];
    for await (const item of env.admin.listBlobsFlat({ prefix: "fx/" })) names.push(item.name);
    assert.deepEqual(names.sort(), ["fx/file", "fx/folder/inner.txt"]);
  });

  test("strictPaths: false skips the check: a path can then be a file and a folder", async () => {
    const loose = new Store(env.backend({ hns: false, strictPaths: false }));
    await loose.write("lx/a", "file");
    await loose.write("lx/a/b", "below a file");
    assert.equal(await loose.readText("lx/a"), "file");
    assert.equal(await loose.readText("lx/a/b"), "below a file");
  });

  test("the check costs one HEAD per parent and a one-result listing; strictPaths: false costs none", async () => {
    const env2 = await setupFaultEnv("flat");
    try {
      const requestsOf = async (strictPaths: boolean, key: string) => {
        const backend = env2.backend({ strictPaths, hns: false });
        await backend.isFolder("", {}); // resolves the namespace before counting
        const from = env2.proxy.requests.length;
        await backend.writeBytes(key, new Uint8Array([1]), { overwrite: false, atomic: false });
        return env2.proxy.requests.slice(from).map((r) =>
          `${r.method} ${decodeURIComponent(r.target)}`
        );
      };
      const strict = await requestsOf(true, "p/q/r.txt");
      assert.equal(strict.length, 4, strict.join("\n"));
      assert.ok(strict.some((r) => /^HEAD .*\/p$/.test(r)), strict.join("\n"));
      assert.ok(strict.some((r) => /^HEAD .*\/p\/q$/.test(r)), strict.join("\n"));
      assert.ok(
        strict.some((r) => /^GET .*comp=list.*prefix=p\/q\/r\.txt\//.test(r)),
        strict.join("\n"),
      );
      assert.ok(/^PUT .*\/p\/q\/r\.txt$/.test(strict.at(-1)!), strict.join("\n"));
      const loose = await requestsOf(false, "p/q/s.txt");
      assert.equal(loose.length, 1, loose.join("\n"));
    } finally {
      await env2.close();
    }
  });
});
