/**
 * Names and paths on flat Azure (Azurite): `.~tmp.` names are ordinary
 * files, and a path is a file or a folder, never both.
 *
 * @module
 */

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { DirectoryNotEmptyError, Store } from "../../mod.ts";
import { type AzureEnv, HOOK, setupAzure } from "./_setup.ts";

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
});
