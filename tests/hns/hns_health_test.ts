/**
 * `ping`, a missing file system and `createFolder` on ADLS Gen2 (the DFS
 * emulator): what the conformance suite cannot show (a second container,
 * the requests sent, the directories as the DataLake SDK sees them).
 */

import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { DataLakeFileSystemClient } from "@azure/storage-file-datalake";
import {
  CapabilityNotSupportedError,
  InvalidPathError,
  NotFoundError,
  PermissionDeniedError,
  Store,
} from "../../mod.ts";
import { randomContainerName } from "../_azurite.ts";
import { setupHns } from "./_setup.ts";

const env = await setupHns();
const backend = env.backend();
const store = new Store(backend);
const fs = backend.unwrap(DataLakeFileSystemClient);

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

describe("azure on ADLS Gen2 (DFS emulator): ping, a missing file system, createFolder", () => {
  after(() => env.close(), { timeout: 120_000 });

  test("ping resolves with one request; hns: auto probes first", async () => {
    env.emulator.resetLog();
    assert.equal(await store.ping(), undefined);
    assert.equal(env.emulator.requests.length, 1, JSON.stringify(env.emulator.requests));
    const auto = new Store(env.backend({ hns: "auto" }));
    env.emulator.resetLog();
    assert.equal(await auto.ping(), undefined);
    assert.equal(env.emulator.requests.length, 2, JSON.stringify(env.emulator.requests));
    assert.equal(auto.supports("directories"), true);
  });

  test("ping on a missing file system: NotFoundError naming it", async () => {
    const missing = randomContainerName();
    await assert.rejects(
      new Store(env.backend({ container: missing })).ping(),
      (error: unknown) => {
        assert.ok(error instanceof NotFoundError, String(error));
        assert.equal(error.reason, `Container "${missing}" does not exist`);
        return true;
      },
    );
  });

  test("ping with a wrong key: PermissionDeniedError", async () => {
    const wrong = new Store(env.backend({
      accountName: env.emulator.accountName,
      accountKey: btoa("not the key of the emulator's account"),
      accountUrl: env.emulator.url,
    }));
    await assert.rejects(wrong.ping(), PermissionDeniedError);
  });

  test("a missing file system: queries answer false or nothing, reads name it", async () => {
    const missing = randomContainerName();
    const gone = new Store(env.backend({ container: missing }));
    assert.deepEqual(await gone.getFolderInfo(""), { path: "", fileCount: 0, totalSize: 0 });
    for (const scoped of [gone, gone.child("some/folder")]) {
      assert.equal(await scoped.exists("a.txt"), false);
      assert.equal(await scoped.isFile("a.txt"), false);
      assert.equal(await scoped.isFolder("d"), false);
      assert.deepEqual(await collect(scoped.listFiles("")), []);
      assert.deepEqual(await collect(scoped.listFiles("", { recursive: true })), []);
      assert.deepEqual(await collect(scoped.listFolders("d")), []);
      assert.deepEqual(await collect(scoped.glob("**/*")), []);
      for (
        const read of [
          () => scoped.readText("a.txt"),
          () => scoped.read("a.txt"),
          () => scoped.getFileInfo("a.txt"),
        ]
      ) {
        await assert.rejects(read(), (error: unknown) => {
          assert.ok(error instanceof NotFoundError, String(error));
          assert.equal(error.reason, `Container "${missing}" does not exist`);
          return true;
        });
      }
    }
    await assert.rejects(gone.createFolder("d"), (error: unknown) => {
      assert.ok(error instanceof NotFoundError, String(error));
      assert.equal(error.reason, `Container "${missing}" does not exist`);
      return true;
    });
  });

  test("createFolder: one Path Create makes the directory and its parents", async () => {
    env.emulator.resetLog();
    await store.createFolder("made/a/b");
    const writes = env.emulator.requests.filter((r) => r.method !== "HEAD" && r.method !== "GET");
    assert.equal(writes.length, 1, JSON.stringify(env.emulator.requests));
    assert.match(writes[0]!.query, /(^|&)resource=directory/);
    for (const dir of ["made", "made/a", "made/a/b"]) {
      const properties = await fs.getDirectoryClient(dir).getProperties();
      assert.equal(properties.metadata?.hdi_isfolder, "true", dir);
    }
    assert.deepEqual(await collect(fs.listPaths({ path: "made/a/b" })), []);
  });

  test("createFolder on an existing directory resolves and leaves its content", async () => {
    await store.write("kept/sub/a.txt", "a");
    await store.createFolder("kept");
    await store.createFolder("kept/sub");
    assert.equal(await store.readText("kept/sub/a.txt"), "a");
  });

  test("createFolder at a file or below one: InvalidPathError, the file kept", async () => {
    await store.write("file.txt", "f");
    await assert.rejects(store.createFolder("file.txt"), (error: unknown) => {
      assert.ok(error instanceof InvalidPathError, String(error));
      assert.match(error.message, /the path is a file, not a folder/);
      return true;
    });
    await assert.rejects(store.createFolder("file.txt/x/y"), (error: unknown) => {
      assert.ok(error instanceof InvalidPathError, String(error));
      assert.match(error.message, /a parent of the path is a file/);
      return true;
    });
    assert.equal(await store.readText("file.txt"), "f");
    assert.equal(await store.isFolder("file.txt"), false);
  });

  test('createFolder("") checks the file system; hns: false refuses before any request', async () => {
    env.emulator.resetLog();
    await store.createFolder("");
    assert.equal(env.emulator.requests.length, 1);
    const flat = new Store(env.backend({ hns: false }));
    env.emulator.resetLog();
    await assert.rejects(flat.createFolder("x"), CapabilityNotSupportedError);
    assert.equal(env.emulator.requests.length, 0);
  });
});
