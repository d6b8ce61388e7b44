import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ContainerClient } from "@azure/storage-blob";
import { DataLakeFileSystemClient } from "@azure/storage-file-datalake";
import {
  AlreadyExistsError,
  DirectoryNotEmptyError,
  InvalidPathError,
  NotFoundError,
  Store,
} from "../../mod.ts";
import { AzureBackend } from "../../azure.ts";
import { randomContainerName, startAzurite } from "../_azurite.ts";
import { hashStream, patternBytes, sha256 } from "../azure/_setup.ts";
import { FAST_RETRY, setupHns } from "./_setup.ts";
import { setupFaultEnv } from "../reliability/_env.ts";
import { tempKeyFor } from "../../src/backends/azure/_hns.ts";

const env = await setupHns();
const backend = env.backend();
const store = new Store(backend);
const fs = backend.unwrap(DataLakeFileSystemClient);
const admin = backend.unwrap(ContainerClient);

/** Every blob name in the container, as the Blob API lists it (directories included). */
async function rawNames(prefix: string): Promise<string[]> {
  const names: string[] = [];
  for await (const item of admin.listBlobsFlat({ prefix })) names.push(item.name);
  return names;
}

async function fileExists(path: string): Promise<boolean> {
  try {
    await store.getFileInfo(path);
    return true;
  } catch (error) {
    if (error instanceof NotFoundError) return false;
    throw error;
  }
}

describe("azure on ADLS Gen2 (DFS emulator): HNS-only behaviour", () => {
  after(() => env.close(), { timeout: 120_000 });

  test("hns: true has atomic_move and directories from the start", () => {
    assert.equal(store.supports("atomic_move"), true);
    assert.equal(store.supports("directories"), true);
  });

  test("an empty directory is a folder, is listed and is removed non-recursively", async () => {
    await fs.getDirectoryClient("empty/d").create();
    assert.equal(await store.isFolder("empty/d"), true);
    const folders = [];
    for await (const f of store.listFolders("empty")) folders.push(f.path);
    assert.deepEqual(folders, ["empty/d"]);
    assert.deepEqual(await Array.fromAsync(store.listFiles("empty", { recursive: true })), []);
    await store.deleteFolder("empty/d");
    assert.equal(await store.isFolder("empty/d"), false);
    await assert.rejects(store.deleteFolder("empty/d"), NotFoundError);
  });

  test("non-recursive deleteFolder on a non-empty directory: DirectoryNotEmptyError", async () => {
    await store.write("full/a.txt", "a");
    await assert.rejects(store.deleteFolder("full"), DirectoryNotEmptyError);
    assert.equal(await store.readText("full/a.txt"), "a");
    await assert.rejects(store.deleteFolder("full/a.txt", { recursive: true }), InvalidPathError);
    assert.equal(await store.readText("full/a.txt"), "a");
  });

  test("recursive deleteFolder is one DELETE request", async () => {
    for (let i = 0; i < 12; i++) await store.write(`tree/d${i % 3}/sub/f${i}.txt`, `${i}`);
    env.emulator.resetLog();
    await store.deleteFolder("tree", { recursive: true });
    const deletes = env.emulator.requests.filter((r) => r.method === "DELETE");
    assert.equal(deletes.length, 1, JSON.stringify(env.emulator.requests));
    assert.equal(await store.isFolder("tree"), false);
    assert.deepEqual(await rawNames("tree"), []);
  });

  test("read, getFileInfo and delete on a directory: InvalidPathError, directory kept", async () => {
    await fs.getDirectoryClient("typed/dir").create();
    await store.write("typed/full/x.txt", "x");
    for (const dir of ["typed/dir", "typed/full"]) {
      await assert.rejects(store.read(dir), InvalidPathError);
      await assert.rejects(store.readBytes(dir), InvalidPathError);
      await assert.rejects(store.read(dir, { range: { offset: 5 } }), InvalidPathError);
      await assert.rejects(store.getFileInfo(dir), InvalidPathError);
      await assert.rejects(store.delete(dir), InvalidPathError);
      await assert.rejects(store.delete(dir, { missingOk: true }), InvalidPathError);
      await assert.rejects(store.move(dir, "typed/elsewhere"), InvalidPathError);
      assert.equal(await store.isFolder(dir), true);
      assert.equal(await store.isFile(dir), false);
    }
    assert.equal(await store.readText("typed/full/x.txt"), "x");
  });

  test("a conditional read of a directory is InvalidPathError, as without conditions", async () => {
    await fs.getDirectoryClient("condir/d").create();
    for (const conditions of [{ ifMatch: '"stale"' }, { ifNoneMatch: "*" }, {}]) {
      await assert.rejects(backend.read("condir/d", conditions), InvalidPathError);
      await assert.rejects(backend.readBytes("condir/d", conditions), InvalidPathError);
    }
  });

  test("writes onto a directory or below a file: InvalidPathError, nothing changed", async () => {
    await store.write("wdir/d/x.txt", "x");
    await store.write("wdir/f", "f");
    await assert.rejects(store.write("wdir/d", "new", { overwrite: true }), InvalidPathError);
    await assert.rejects(
      store.writeAtomic("wdir/d", "new", { overwrite: true }),
      InvalidPathError,
    );
    await assert.rejects(store.write("wdir/f/below.txt", "new"), InvalidPathError);
    await assert.rejects(store.writeAtomic("wdir/f/below.txt", "new"), InvalidPathError);
    await assert.rejects(store.copy("wdir/f", "wdir/d", { overwrite: true }), InvalidPathError);
    await assert.rejects(store.move("wdir/f", "wdir/d", { overwrite: true }), InvalidPathError);
    assert.equal(await store.readText("wdir/d/x.txt"), "x");
    assert.equal(await store.readText("wdir/f"), "f");
    assert.deepEqual((await rawNames("wdir/")).sort(), ["wdir/d", "wdir/d/x.txt", "wdir/f"]);
  });

  test("move creates the destination's parent directories", async () => {
    await store.write("mkp/src.txt", "payload");
    await store.move("mkp/src.txt", "mkp/new/deep/dst.txt");
    assert.equal(await store.readText("mkp/new/deep/dst.txt"), "payload");
    assert.equal(await fileExists("mkp/src.txt"), false);
    await store.write("mkp/file", "f");
    await store.write("mkp/two.txt", "2");
    await assert.rejects(store.move("mkp/two.txt", "mkp/file/below.txt"), InvalidPathError);
    assert.equal(await store.readText("mkp/two.txt"), "2");
  });

  test("move with awkward names (% # ? space + unicode) lands on exactly that name", async () => {
    const names = ["a %25 b.txt", "q?x#y.txt", "plus+and space ü 字.txt", "100%.txt", "%2F.txt"];
    for (const [i, name] of names.entries()) {
      await store.write(`enc/src${i}.txt`, name);
      await store.move(`enc/src${i}.txt`, `enc/out ?%#/${name}`);
      assert.equal(await store.readText(`enc/out ?%#/${name}`), name);
    }
    const listed = [];
    for await (const f of store.listFiles("enc/out ?%#")) listed.push(f.name);
    assert.deepEqual(listed.sort(), [...names].sort());
    assert.deepEqual(
      (await rawNames("enc/")).sort(),
      ["enc/out ?%#", ...names.map((n) => `enc/out ?%#/${n}`)].sort(),
    );
  });

  test("move: create-only vs overwrite, missing source", async () => {
    await store.write("ow/a.txt", "A");
    await store.write("ow/b.txt", "B");
    await assert.rejects(store.move("ow/a.txt", "ow/b.txt"), AlreadyExistsError);
    assert.equal(await store.readText("ow/a.txt"), "A");
    assert.equal(await store.readText("ow/b.txt"), "B");
    await store.move("ow/a.txt", "ow/b.txt", { overwrite: true });
    assert.equal(await store.readText("ow/b.txt"), "A");
    await assert.rejects(store.move("ow/a.txt", "ow/c.txt"), NotFoundError);
  });

  test("a concurrent reader sees a move as one step", async () => {
    for (let round = 0; round < 3; round++) {
      const from = `race${round}/from/file.txt`;
      const to = `race${round}/to/file.txt`;
      await store.write(from, "moving");
      let done = false;
      const seen: string[] = [];
      // Probing `to` then `from`: an atomic move can never show both.
      const neverBoth = async () => {
        while (!done) {
          const atTo = await fileExists(to);
          const atFrom = await fileExists(from);
          if (atTo && atFrom) seen.push("both");
        }
      };
      // Probing `from` then `to`: an atomic move can never show neither.
      const neverNeither = async () => {
        while (!done) {
          const atFrom = await fileExists(from);
          const atTo = await fileExists(to);
          if (!atTo && !atFrom) seen.push("neither");
        }
      };
      const probes = Promise.all([neverBoth(), neverNeither(), neverBoth(), neverNeither()]);
      await new Promise((r) => setTimeout(r, 20));
      await store.move(from, to);
      await new Promise((r) => setTimeout(r, 20));
      done = true;
      await probes;
      assert.deepEqual(seen, []);
      assert.equal(await store.readText(to), "moving");
    }
  });

  test("moving a 100 MiB file is one rename request and moves no data", async () => {
    const size = 100 * 1024 * 1024;
    const bytes = patternBytes(size, 7);
    const digest = sha256(bytes);
    await store.write("big/src.bin", bytes);
    env.emulator.resetLog();
    await store.move("big/src.bin", "big/moved/dst.bin");
    const log = [...env.emulator.requests];
    const renames = log.filter((r) => r.method === "PUT" && /(^|&)mode=/.test(r.query));
    assert.equal(renames.length, 1, JSON.stringify(log));
    assert.equal(renames[0]!.path, `/${env.container}/big/moved/dst.bin`);
    for (const r of log) {
      const allowed = r.method === "HEAD" || renames.includes(r) ||
        (r.method === "PUT" && /(^|&)resource=directory/.test(r.query) &&
          r.path === `/${env.container}/big/moved`);
      assert.ok(allowed, `unexpected request ${JSON.stringify(r)}`);
    }
    assert.ok(log.length <= 3, JSON.stringify(log));
    const info = await store.getFileInfo("big/moved/dst.bin");
    assert.equal(info.size, size);
    assert.deepEqual(await hashStream(await store.read("big/moved/dst.bin")), {
      size,
      sha256: digest,
    });
    assert.equal(await fileExists("big/src.bin"), false);
    await store.deleteFolder("big", { recursive: true });
  });

  test("writeAtomic renames a temporary file into place and leaves none behind", async () => {
    await store.writeAtomic("atomic/config.json", '{"v":1}');
    await store.writeAtomic("atomic/config.json", '{"v":2}', { overwrite: true });
    assert.equal(await store.readText("atomic/config.json"), '{"v":2}');
    env.emulator.resetLog();
    await store.writeAtomic("atomic/config.json", '{"v":3}', { overwrite: true });
    assert.ok(
      env.emulator.requests.some((r) => r.method === "PUT" && /(^|&)mode=/.test(r.query)),
      "writeAtomic renames",
    );
    assert.deepEqual(await rawNames("atomic/"), ["atomic/config.json"]);
    // Create-only onto an existing file fails and cleans up its temporary file.
    await assert.rejects(store.writeAtomic("atomic/config.json", "nope"), AlreadyExistsError);
    assert.equal(await store.readText("atomic/config.json"), '{"v":3}');
    assert.deepEqual(await rawNames("atomic/"), ["atomic/config.json"]);
    // ifMatch guards the destination.
    const etag = (await store.getFileInfo("atomic/config.json")).etag!;
    await assert.rejects(
      store.writeAtomic("atomic/config.json", "stale", { overwrite: true, ifMatch: '"0x1"' }),
    );
    assert.deepEqual(await rawNames("atomic/"), ["atomic/config.json"]);
    await store.writeAtomic("atomic/config.json", '{"v":4}', { overwrite: true, ifMatch: etag });
    assert.equal(await store.readText("atomic/config.json"), '{"v":4}');
    // Into a folder that does not exist yet.
    await store.writeAtomic("atomic/new/dir/file.txt", "deep");
    assert.equal(await store.readText("atomic/new/dir/file.txt"), "deep");
    assert.ok(!(await rawNames("atomic/")).some((n) => n.includes(".~tmp.")));
  });

  test("user files named .~tmp.* are listed, read and deleted like any other", async () => {
    const names = [".~tmp.x.txt.0011223344556677", ".~tmp.y", ".~tmp.z.0011223344556677.00000000"];
    for (const name of names) await store.write(`tmpl/${name}`, name);
    await store.write("tmpl/x.txt", "x");
    const flat = [];
    for await (const f of store.listFiles("tmpl")) flat.push(f.name);
    assert.deepEqual(flat, [...names, "x.txt"].sort());
    const deep = [];
    for await (const f of store.listFiles("tmpl", { recursive: true })) deep.push(f.name);
    assert.deepEqual(deep.sort(), [...names, "x.txt"].sort());
    for (const name of names) assert.equal(await store.readText(`tmpl/${name}`), name);
    // A folder holding only such a file lists it, so it is not empty; once deleted, it is.
    await store.write("tmpd/.~tmp.only", "t");
    assert.deepEqual(
      await Array.fromAsync(store.listFiles("tmpd"), (f) => f.name),
      [".~tmp.only"],
    );
    await assert.rejects(store.deleteFolder("tmpd"), DirectoryNotEmptyError);
    await store.delete("tmpd/.~tmp.only");
    await store.deleteFolder("tmpd");
    await store.deleteFolder("tmpl", { recursive: true });
    assert.deepEqual(await rawNames("tmpl"), []);
  });

  test("a temporary file left by a crashed writeAtomic is not listed, but the folder is not empty", async () => {
    const orphan = tempKeyFor("crash/f.txt", "0123456789abcdef");
    await backend.write(orphan, new Blob(["partial"]).stream(), {
      overwrite: false,
      atomic: false,
    });
    assert.deepEqual(await Array.fromAsync(store.listFiles("crash"), (f) => f.name), []);
    await assert.rejects(store.deleteFolder("crash"), DirectoryNotEmptyError);
    await store.deleteFolder("crash", { recursive: true });
    assert.deepEqual(await rawNames("crash"), []);
  });

  test("writeAtomic's own temporary file is never listed, even while it waits for the rename", async () => {
    const faults = await setupFaultEnv("hns");
    try {
      const writer = new Store(faults.backend());
      const reader = new Store(faults.backend());
      // Hold the rename onto the target (a PUT without comp=) in the proxy.
      faults.proxy.add({
        method: "PUT",
        path: /\/held\/f\.txt(\?(?!.*comp=)|$)/,
        action: { kind: "stall" },
      });
      const writing = writer.writeAtomic("held/f.txt", "content");
      const started = Date.now();
      while (!faults.proxy.requests.some((r) => r.fault === "stall")) {
        assert.ok(Date.now() - started < 60_000, "the rename never came");
        await new Promise((r) => setTimeout(r, 10));
      }
      const raw: string[] = [];
      for await (const item of faults.admin.listBlobsFlat({ prefix: "held/" })) raw.push(item.name);
      assert.ok(raw.some((n) => n.startsWith("held/.~tmp.f.txt.")), raw.join(","));
      assert.deepEqual(await Array.fromAsync(reader.listFiles("held"), (f) => f.name), []);
      assert.deepEqual(
        await Array.fromAsync(reader.listFiles("", { recursive: true }), (f) => f.path),
        [],
      );
      faults.proxy.release();
      await writing;
      assert.deepEqual(await Array.fromAsync(reader.listFiles("held"), (f) => f.name), ["f.txt"]);
    } finally {
      faults.proxy.release();
      await faults.close();
    }
  });

  test('hns: "auto" picks HNS on the emulator after the first operation', async () => {
    const auto = env.backend({ hns: "auto" });
    assert.equal(auto.capabilities.supports("atomic_move"), false);
    await new Store(auto).exists("anything");
    assert.equal(auto.capabilities.supports("atomic_move"), true);
    assert.equal(auto.capabilities.supports("directories"), true);
    const flat = env.backend({ hns: false });
    await new Store(flat).exists("anything");
    assert.equal(flat.capabilities.supports("atomic_move"), false);
  });

  test('hns: "auto" picks flat on Azurite', { timeout: 120_000 }, async () => {
    const az = await startAzurite();
    const auto = new AzureBackend({
      container: randomContainerName(),
      connectionString: az.connectionString,
      hns: "auto",
      retry: FAST_RETRY,
    });
    try {
      await auto.unwrap(ContainerClient).create();
      await new Store(auto).write("x.txt", "x");
      assert.equal(auto.capabilities.supports("atomic_move"), false);
      assert.equal(auto.capabilities.supports("directories"), false);
      await new Store(auto).move("x.txt", "y.txt");
      assert.equal(await new Store(auto).readText("y.txt"), "x");
    } finally {
      await auto.close();
      await az.stop();
    }
  });
});
