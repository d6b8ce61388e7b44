/**
 * Local-specific behaviour of {@link LocalBackend}; the generic contract is
 * covered by the conformance suite. Runs on Deno, Bun and Node (`node:test`).
 */

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { LocalBackend } from "./local_backend.ts";
import { localFs } from "./_fs.ts";
import { mapFsError } from "./_errors.ts";
import { Store } from "../../store.ts";
import { Registry } from "../../registry.ts";
import { localBackendType } from "./local_type.ts";
import {
  AlreadyExistsError,
  BackendUnavailableError,
  CapabilityNotSupportedError,
  DirectoryNotEmptyError,
  InvalidConfigError,
  InvalidPathError,
  NotFoundError,
  PermissionDeniedError,
  PreconditionFailedError,
  type RemoteStoreError,
} from "../../errors.ts";
import type { BackendEntry } from "../../backend.ts";

const encoder = new TextEncoder();
const isRoot = (process as { getuid?: () => number }).getuid?.() === 0;

let base: string;
let counter = 0;

/** A fresh root folder (not created) and a backend plus store on it. */
function fresh(): { root: string; backend: LocalBackend; store: Store } {
  const root = path.join(base, `case-${++counter}`, "root");
  const backend = new LocalBackend({ root });
  return { root, backend, store: new Store(backend) };
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

function keys(entries: BackendEntry[]): string[] {
  return entries.map((e) => (e.kind === "file" ? e.info.key : `${e.key}/`));
}

/** A stream that yields `chunks`, then fails. */
function failingStream(chunks: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent++ < chunks) controller.enqueue(new Uint8Array(1024).fill(7));
      else controller.error(new Error("source broke"));
    },
  });
}

/** A stream that yields one chunk, then never ends. */
function hangingStream(): ReadableStream<Uint8Array> {
  let sent = false;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (!sent) {
        sent = true;
        controller.enqueue(encoder.encode("partial"));
        return;
      }
      return new Promise(() => {});
    },
  });
}

async function dirNames(dir: string): Promise<string[]> {
  return (await fs.readdir(dir)).sort();
}

describe("LocalBackend", () => {
  before(async () => {
    base = await fs.mkdtemp(path.join(os.tmpdir(), "remote-store-local-"));
  });
  after(async () => {
    await fs.chmod(base, 0o700).catch(() => {});
    await fs.rm(base, { recursive: true, force: true });
  });

  describe("construction", () => {
    test("does no I/O: the root is created by the first write", async () => {
      const { root, backend, store } = fresh();
      await assert.rejects(fs.stat(root));
      assert.equal(backend.root, root);
      assert.equal(await store.isFolder(""), true);
      assert.deepEqual(await collect(backend.list("", { recursive: true })), []);
      await store.write("a/b.txt", "x");
      assert.equal((await fs.stat(root)).isDirectory(), true);
    });

    test("resolves a relative root to an absolute path", () => {
      const backend = new LocalBackend({ root: "some/relative" });
      assert.equal(backend.root, path.resolve("some/relative"));
    });

    test("re-validates options", () => {
      assert.throws(
        () => new LocalBackend({} as unknown as { root: string }),
        InvalidConfigError,
      );
    });

    test("declares every capability except metadata and HTTP attributes, and refuses them", async () => {
      const { backend, store } = fresh();
      assert.equal(backend.name, "local");
      assert.equal(backend.capabilities.supports("directories"), true);
      assert.equal(backend.capabilities.supports("atomic_move"), true);
      assert.equal(backend.capabilities.supports("metadata"), false);
      await assert.rejects(
        store.write("a.txt", "x", { metadata: { a: "1" } }),
        CapabilityNotSupportedError,
      );
      await assert.rejects(
        backend.write("a.txt", new Blob(["x"]).stream(), {
          overwrite: false,
          atomic: false,
          metadata: { a: "1" },
        }),
        CapabilityNotSupportedError,
      );
      assert.equal(backend.capabilities.supports("http_attributes"), false);
      await assert.rejects(
        store.write("a.txt", "x", { cacheControl: "no-store" }),
        (e: unknown) =>
          e instanceof CapabilityNotSupportedError && e.capability === "http_attributes",
      );
      await assert.rejects(
        backend.write("a.txt", new Blob(["x"]).stream(), {
          overwrite: false,
          atomic: false,
          contentEncoding: "gzip",
        }),
        CapabilityNotSupportedError,
      );
      assert.equal(await store.exists("a.txt"), false);
    });

    test('works through a Registry with type "local"', async () => {
      const root = path.join(base, `registry-${++counter}`);
      const registry = new Registry({
        backends: { disk: { type: "local", options: { root } } },
        stores: { data: { backend: "disk", rootPath: "data" } },
      }, { backendTypes: [localBackendType] });
      try {
        const store = registry.getStore("data");
        await assert.rejects(
          store.write("m.txt", "x", { metadata: { a: "1" } }),
          CapabilityNotSupportedError,
        );
        await store.write("a/b.txt", "hello");
        assert.equal(await fs.readFile(path.join(root, "data", "a", "b.txt"), "utf8"), "hello");
        assert.equal(store.toKey(path.join(root, "data", "a", "b.txt")), "a/b.txt");
      } finally {
        await registry.close();
      }
    });
  });

  describe("root containment", () => {
    test("a symbolic link leading outside the root is refused", async () => {
      const { root, store, backend } = fresh();
      const outside = path.join(base, `outside-${counter}`);
      await fs.mkdir(outside, { recursive: true });
      await fs.writeFile(path.join(outside, "secret.txt"), "secret");
      await store.write("inside.txt", "ok");
      await fs.symlink(outside, path.join(root, "escape"));
      await fs.symlink(path.join(outside, "secret.txt"), path.join(root, "secret-link.txt"));

      await assert.rejects(store.readText("escape/secret.txt"), PermissionDeniedError);
      await assert.rejects(store.readText("secret-link.txt"), PermissionDeniedError);
      await assert.rejects(store.getFileInfo("secret-link.txt"), PermissionDeniedError);
      await assert.rejects(store.write("escape/new.txt", "x"), PermissionDeniedError);
      await assert.rejects(
        store.write("secret-link.txt", "x", { overwrite: true }),
        PermissionDeniedError,
      );
      await assert.rejects(store.delete("escape/secret.txt"), PermissionDeniedError);
      await assert.rejects(store.copy("secret-link.txt", "copy.txt"), PermissionDeniedError);
      await assert.rejects(store.move("inside.txt", "escape/moved.txt"), PermissionDeniedError);
      await assert.rejects(
        store.deleteFolder("escape", { recursive: true }),
        PermissionDeniedError,
      );
      await assert.rejects(store.isFolder("escape"), PermissionDeniedError);
      await assert.rejects(collect(store.listFiles("escape")), PermissionDeniedError);

      // Listings skip links leading outside; nothing outside was touched.
      assert.deepEqual(keys(await collect(backend.list("", { recursive: false }))), [
        "inside.txt",
      ]);
      assert.deepEqual(keys(await collect(backend.list("", { recursive: true }))), [
        "inside.txt",
      ]);
      assert.deepEqual(await dirNames(outside), ["secret.txt"]);
      assert.equal(await fs.readFile(path.join(outside, "secret.txt"), "utf8"), "secret");
      assert.equal(await store.readText("inside.txt"), "ok");
    });

    test("a dangling symbolic link pointing outside is refused too", async () => {
      const { root, store } = fresh();
      await store.write("x.txt", "x");
      const target = path.join(base, `nowhere-${counter}`, "file.txt");
      await fs.symlink(target, path.join(root, "dangling.txt"));
      await assert.rejects(
        store.write("dangling.txt", "x", { overwrite: true }),
        PermissionDeniedError,
      );
      await assert.rejects(fs.stat(target));
    });

    test("symbolic links inside the root are followed", async () => {
      const { root, store, backend } = fresh();
      await store.write("real/a.txt", "A");
      await fs.symlink(path.join(root, "real"), path.join(root, "alias"));
      await fs.symlink("real/a.txt", path.join(root, "a-link.txt"));
      assert.equal(await store.readText("alias/a.txt"), "A");
      assert.equal(await store.readText("a-link.txt"), "A");
      assert.equal(await store.isFolder("alias"), true);
      assert.deepEqual(keys(await collect(backend.list("", { recursive: true }))), [
        "a-link.txt",
        "alias/a.txt",
        "real/a.txt",
      ]);
    });

    test("a link cycle does not loop a recursive listing", async () => {
      const { root, store, backend } = fresh();
      await store.write("d/a.txt", "A");
      await fs.symlink(path.join(root, "d"), path.join(root, "d", "loop"));
      assert.deepEqual(keys(await collect(backend.list("", { recursive: true }))), ["d/a.txt"]);
    });

    test("unclean keys are refused by the backend itself", async () => {
      const { backend } = fresh();
      for (const key of ["../x", "a/../../x", "a//b", "./a", "a\0b"]) {
        await assert.rejects(backend.getFileInfo(key, {}), InvalidPathError, key);
      }
    });
  });

  describe("writes", () => {
    test("temp files are never listed and are removed after a failing body", async () => {
      const { root, store, backend } = fresh();
      await store.write("keep.txt", "old");
      // The body's own error passes through the backend unchanged ...
      await assert.rejects(
        backend.write("keep.txt", failingStream(3), { overwrite: true, atomic: false }),
        /source broke/,
      );
      // ... and the Store hands the caller back their own error, unchanged.
      await assert.rejects(store.write("new.txt", failingStream(2)), /source broke/);
      assert.deepEqual(await dirNames(root), ["keep.txt"]);
      assert.equal(await store.readText("keep.txt"), "old");
      assert.equal(await store.exists("new.txt"), false);
      assert.deepEqual(keys(await collect(backend.list("", { recursive: false }))), [
        "keep.txt",
      ]);
    });

    test("an in-flight temp file is not listed", async () => {
      const { root, store, backend } = fresh();
      await store.write("d/keep.txt", "old");
      const controller = new AbortController();
      const writing = store.write("d/big.bin", hangingStream(), { signal: controller.signal });
      let temp: string[] = [];
      for (let i = 0; i < 200 && temp.length === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        temp = (await fs.readdir(path.join(root, "d"))).filter((n) => n.startsWith(".~tmp"));
      }
      assert.equal(temp.length, 1);
      assert.match(temp[0]!, /^\.~tmp\\big\.bin\.[0-9a-f]{16}$/);
      assert.deepEqual(keys(await collect(backend.list("", { recursive: true }))), [
        "d/keep.txt",
      ]);
      assert.deepEqual(keys(await collect(backend.list("d", { recursive: false }))), [
        "d/keep.txt",
      ]);
      controller.abort(new Error("stop"));
      await assert.rejects(writing, /stop/);
      assert.deepEqual(await dirNames(path.join(root, "d")), ["keep.txt"]);
    });

    test("abort removes the temp file, keeps old content and rejects with the reason", async () => {
      const { root, store } = fresh();
      await store.write("f.txt", "old");
      const controller = new AbortController();
      const reason = new Error("user abort");
      const writing = store.write("f.txt", hangingStream(), {
        overwrite: true,
        signal: controller.signal,
      });
      setTimeout(() => controller.abort(reason), 30);
      await assert.rejects(writing, (error) => error === reason);
      assert.deepEqual(await dirNames(root), ["f.txt"]);
      assert.equal(await store.readText("f.txt"), "old");
    });

    test("names starting with .~tmp. are a user's like any other (temp names hold a backslash)", async () => {
      const { root, store } = fresh();
      await store.write(".~tmp.x", "x");
      await store.write("a/.~tmp.y", "y");
      assert.equal(await store.readText("a/.~tmp.y"), "y");
      const listed = [];
      for await (const f of store.listFiles("", { recursive: true })) listed.push(f.path);
      assert.deepEqual(listed.sort(), [".~tmp.x", "a/.~tmp.y"]);
      await store.delete("a/.~tmp.y");
      await store.deleteFolder("a");
      assert.deepEqual(await dirNames(root), [".~tmp.x"]);
    });

    test("of 20 concurrent create-only writers exactly one wins", async () => {
      const { root, store } = fresh();
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => store.write("race/target.txt", `writer ${i}`)),
      );
      const won = results.filter((r) => r.status === "fulfilled");
      const lost = results.filter((r) => r.status === "rejected");
      assert.equal(won.length, 1);
      assert.equal(lost.length, 19);
      for (const r of lost) {
        assert.ok((r as PromiseRejectedResult).reason instanceof AlreadyExistsError);
      }
      const index = results.findIndex((r) => r.status === "fulfilled");
      assert.equal(await store.readText("race/target.txt"), `writer ${index}`);
      assert.deepEqual(await dirNames(path.join(root, "race")), ["target.txt"]);
    });

    test("create-only falls back to exclusive create where hard links are unsupported", async () => {
      const { root, store } = fresh();
      const original = localFs.link;
      localFs.link = () =>
        Promise.reject(Object.assign(new Error("not supported"), { code: "EPERM" }));
      try {
        await store.write("a.txt", "first");
        await assert.rejects(store.write("a.txt", "second"), AlreadyExistsError);
        assert.equal(await store.readText("a.txt"), "first");
        await store.write("b.txt", "b");
        await store.move("b.txt", "c.txt");
        assert.equal(await store.readText("c.txt"), "b");
        assert.deepEqual(await dirNames(root), ["a.txt", "c.txt"]);
      } finally {
        localFs.link = original;
      }
    });

    test("writing below a file is an InvalidPathError", async () => {
      const { store } = fresh();
      await store.write("file.txt", "x");
      await assert.rejects(store.write("file.txt/child.txt", "y"), InvalidPathError);
      await assert.rejects(
        store.write("file.txt/deeper/child.txt", "y", { overwrite: true }),
        InvalidPathError,
      );
      await assert.rejects(store.readText("file.txt/child.txt"), InvalidPathError);
      assert.equal(await store.readText("file.txt"), "x");
    });

    test("writing onto a folder is an InvalidPathError", async () => {
      const { store } = fresh();
      await store.write("dir/a.txt", "x");
      await assert.rejects(store.write("dir", "y"), InvalidPathError);
      await assert.rejects(store.write("dir", "y", { overwrite: true }), InvalidPathError);
      assert.equal(await store.isFolder("dir"), true);
    });

    test("ifMatch compares with the inode-size-mtime ETag", async () => {
      const { store } = fresh();
      const first = await store.write("e.txt", "one");
      assert.match(first.etag!, /^"\d+-3-\d+"$/);
      assert.equal((await store.getFileInfo("e.txt")).etag, first.etag);
      const second = await store.write("e.txt", "two!", { overwrite: true, ifMatch: first.etag });
      assert.notEqual(second.etag, first.etag);
      await assert.rejects(
        store.write("e.txt", "three", { overwrite: true, ifMatch: first.etag }),
        PreconditionFailedError,
      );
      await assert.rejects(
        store.write("missing.txt", "x", { overwrite: true, ifMatch: first.etag }),
        PreconditionFailedError,
      );
      assert.equal(await store.readText("e.txt"), "two!");
    });

    test("content type is guessed from the extension", async () => {
      const { store } = fresh();
      await store.write("a.csv", "a,b\n", { contentType: "text/plain" });
      assert.equal((await store.getFileInfo("a.csv")).contentType, "text/csv; charset=utf-8");
    });
  });

  describe("reads", () => {
    test("streams large files in chunks and honours ranges past the end", async () => {
      const { store } = fresh();
      const data = new Uint8Array(200_000).map((_, i) => i % 251);
      await store.write("big.bin", data);
      assert.deepEqual(await store.readBytes("big.bin"), data);
      assert.deepEqual(
        await store.readBytes("big.bin", { range: { offset: 70_000, length: 70_000 } }),
        data.subarray(70_000, 140_000),
      );
      assert.deepEqual(
        await store.readBytes("big.bin", { range: { offset: 199_990, length: 100 } }),
        data.subarray(199_990),
      );
      assert.equal(
        (await store.readBytes("big.bin", { range: { offset: 500_000 } })).byteLength,
        0,
      );
    });

    test("rejects a folder before returning a stream; cancel releases the file", async () => {
      const { store } = fresh();
      await store.write("d/a.txt", "x".repeat(200_000));
      await assert.rejects(store.read("d"), InvalidPathError);
      await assert.rejects(store.read("nope.txt"), NotFoundError);
      const stream = await store.read("d/a.txt");
      const reader = stream.getReader();
      const { value } = await reader.read();
      assert.equal(value!.byteLength, 64 * 1024);
      await reader.cancel();
      await store.delete("d/a.txt");
    });

    test("an abort during reading errors the stream with the reason", async () => {
      const { store } = fresh();
      await store.write("a.bin", new Uint8Array(300_000));
      const controller = new AbortController();
      const reader = (await store.read("a.bin", { signal: controller.signal })).getReader();
      await reader.read();
      const reason = new Error("enough");
      controller.abort(reason);
      await assert.rejects(reader.read(), (error) => error === reason);
    });
  });

  describe("deletes and folders", () => {
    test("delete of a folder is an InvalidPathError and removes nothing", async () => {
      const { store } = fresh();
      await store.write("d/a.txt", "x");
      await assert.rejects(store.delete("d"), InvalidPathError);
      assert.equal(await store.readText("d/a.txt"), "x");
    });

    test("an empty directory is a folder, listed and deletable", async () => {
      const { root, store, backend } = fresh();
      await fs.mkdir(path.join(root, "empty", "nested"), { recursive: true });
      assert.equal(await store.isFolder("empty"), true);
      assert.equal(await store.isFolder("empty/nested"), true);
      assert.equal(await store.isFile("empty"), false);
      assert.deepEqual(keys(await collect(backend.list("", { recursive: false }))), ["empty/"]);
      assert.deepEqual(await collect(backend.list("", { recursive: true })), []);
      await assert.rejects(store.deleteFolder("empty"), DirectoryNotEmptyError);
      await store.deleteFolder("empty/nested");
      assert.equal(await store.isFolder("empty/nested"), false);
      await store.deleteFolder("empty");
      await assert.rejects(store.deleteFolder("empty"), NotFoundError);
    });

    test("below a file: isFolder is false, a listing is empty, a write is an InvalidPathError", async () => {
      const { store } = fresh();
      await store.write("a.txt", "x");
      assert.equal(await store.isFolder("a.txt/b"), false);
      assert.deepEqual(await collect(store.listFiles("a.txt/b")), []);
      await assert.rejects(store.write("a.txt/b/c.txt", "x"), InvalidPathError);
      await assert.rejects(store.readText("a.txt/b"), InvalidPathError);
    });

    test("deleteFolder on a file is an InvalidPathError", async () => {
      const { store } = fresh();
      await store.write("a.txt", "x");
      await assert.rejects(store.deleteFolder("a.txt", { recursive: true }), InvalidPathError);
      assert.equal(await store.readText("a.txt"), "x");
    });

    test("deleting the root recursively keeps the root folder", async () => {
      const { root, store } = fresh();
      await store.deleteFolder("");
      await store.deleteFolder("", { recursive: true });
      await store.write("a/b.txt", "x");
      await store.write("c.txt", "x");
      await assert.rejects(store.deleteFolder(""), DirectoryNotEmptyError);
      await store.deleteFolder("", { recursive: true });
      assert.deepEqual(await dirNames(root), []);
      await store.deleteFolder("");
    });

    test("listings come out in key order", async () => {
      const { store, backend } = fresh();
      for (const key of ["b.txt", "a/z.txt", "a.txt", "a/b/c.txt", "a-b.txt"]) {
        await store.write(key, "x");
      }
      assert.deepEqual(keys(await collect(backend.list("", { recursive: true }))), [
        "a-b.txt",
        "a.txt",
        "a/b/c.txt",
        "a/z.txt",
        "b.txt",
      ]);
      assert.deepEqual(keys(await collect(backend.list("", { recursive: false }))), [
        "a-b.txt",
        "a.txt",
        "a/",
        "b.txt",
      ]);
      assert.deepEqual(await collect(backend.list("b.txt", { recursive: false })), []);
      assert.deepEqual(await collect(backend.list("missing", { recursive: true })), []);
    });
  });

  describe("names no key can address", () => {
    // Made by another program: `x\\y` would be read back as `x/y`, a bell
    // character is refused by every path check. Windows cannot create them.
    const strange = ["x\\y", "bell\x07.txt"];

    test("are never listed, globbed or counted; listed keys address their own files", {
      skip: process.platform === "win32" && "Windows refuses these names",
    }, async () => {
      const { root, store } = fresh();
      await store.write("x/y", "the real x/y");
      await store.write("d/ok.txt", "ok");
      for (const name of strange) {
        await fs.writeFile(path.join(root, name), "made by another program");
        await fs.writeFile(path.join(root, "d", name), "made by another program");
      }
      const listed: string[] = [];
      for await (const info of store.listFiles("", { recursive: true })) listed.push(info.path);
      assert.deepEqual(listed.sort(), ["d/ok.txt", "x/y"]);
      const shallow: string[] = [];
      for await (const info of store.listFiles("d")) shallow.push(info.path);
      assert.deepEqual(shallow, ["d/ok.txt"]);
      const globbed: string[] = [];
      for await (const info of store.glob("**/*")) globbed.push(info.path);
      assert.deepEqual(globbed.sort(), ["d/ok.txt", "x/y"]);
      const totals = await store.getFolderInfo("");
      assert.equal(totals.fileCount, 2);
      assert.equal(totals.totalSize, "the real x/y".length + 2);
      for (const key of listed) {
        assert.equal((await store.getFileInfo(key)).path, key);
      }
      assert.equal(await store.readText("x/y"), "the real x/y");
      await store.delete("x/y");
      for (const name of strange) {
        assert.equal(await fs.readFile(path.join(root, name), "utf8"), "made by another program");
      }
    });

    test("a folder holding only such names is not empty; a recursive delete removes it", {
      skip: process.platform === "win32" && "Windows refuses these names",
    }, async () => {
      const { root, store } = fresh();
      await fs.mkdir(path.join(root, "d"), { recursive: true });
      for (const name of strange) await fs.writeFile(path.join(root, "d", name), "x");
      assert.equal(await store.isFolder("d"), true);
      assert.deepEqual(await collect(store.listFiles("d")), []);
      await assert.rejects(store.deleteFolder("d"), DirectoryNotEmptyError);
      assert.deepEqual(await dirNames(path.join(root, "d")), [...strange].sort());
      await store.deleteFolder("d", { recursive: true });
      assert.deepEqual(await dirNames(root), []);
    });
  });

  describe("conditional reads", () => {
    test("conditions are checked against the version that is opened", async () => {
      const { store } = fresh();
      const first = await store.write("c.txt", "first");
      const second = await store.write("c.txt", "other", { overwrite: true });
      await assert.rejects(
        store.readText("c.txt", { ifMatch: first.etag }),
        PreconditionFailedError,
      );
      assert.equal(await store.readText("c.txt", { ifMatch: second.etag }), "other");
      await assert.rejects(
        store.readBytes("c.txt", { ifNoneMatch: second.etag }),
        PreconditionFailedError,
      );
      // The stream that was opened keeps the version it checked, even when the file is replaced.
      const stream = await store.read("c.txt", { ifMatch: second.etag });
      await store.write("c.txt", "third", { overwrite: true });
      assert.equal(await new Response(stream).text(), "other");
    });
  });

  describe("move", () => {
    test("moves a file into new parent folders; create-only refuses an existing target", async () => {
      const { store } = fresh();
      await store.write("a.txt", "A");
      await store.write("b.txt", "B");
      await assert.rejects(store.move("a.txt", "b.txt"), AlreadyExistsError);
      await store.move("a.txt", "x/y/a.txt");
      assert.equal(await store.readText("x/y/a.txt"), "A");
      assert.equal(await store.exists("a.txt"), false);
      await store.move("x/y/a.txt", "b.txt", { overwrite: true });
      assert.equal(await store.readText("b.txt"), "A");
      await assert.rejects(store.move("x", "z"), InvalidPathError);
    });
  });

  describe("toKey", () => {
    test("converts absolute paths inside the root; relative paths are keys", () => {
      const { root, backend, store } = fresh();
      assert.equal(backend.toKey(path.join(root, "a", "b.txt")), "a/b.txt");
      assert.equal(backend.toKey(root), "");
      assert.equal(backend.toKey("a/b.txt"), "a/b.txt");
      assert.throws(() => backend.toKey(path.join(root, "..", "x")), InvalidPathError);
      assert.throws(() => backend.toKey(path.dirname(root)), InvalidPathError);
      assert.throws(() => backend.toKey(`${root}-sibling`), InvalidPathError);
      assert.equal(store.toKey(path.join(root, "dir", "f.txt")), "dir/f.txt");
    });
  });

  describe("close", () => {
    test("later calls fail with BackendUnavailableError; open streams error", async () => {
      const { backend, store } = fresh();
      await store.write("a.bin", new Uint8Array(300_000));
      const reader = (await store.read("a.bin")).getReader();
      await reader.read();
      await backend.close();
      await backend.close();
      await assert.rejects(reader.read(), BackendUnavailableError);
      await assert.rejects(store.readText("a.bin"), BackendUnavailableError);
      await assert.rejects(store.write("b.txt", "x"), BackendUnavailableError);
      await assert.rejects(store.getFileInfo("a.bin"), BackendUnavailableError);
      await assert.rejects(store.isFolder(""), BackendUnavailableError);
      await assert.rejects(collect(store.listFiles("")), BackendUnavailableError);
      await assert.rejects(store.delete("a.bin"), BackendUnavailableError);
      await assert.rejects(store.deleteFolder("", { recursive: true }), BackendUnavailableError);
      await assert.rejects(store.copy("a.bin", "c.bin"), BackendUnavailableError);
      await assert.rejects(store.move("a.bin", "c.bin"), BackendUnavailableError);
    });

    test("unwrap has no native client", () => {
      const { backend } = fresh();
      assert.throws(() => backend.unwrap(Object), CapabilityNotSupportedError);
    });
  });

  describe("error mapping", () => {
    test("native codes and Deno error names map to library errors, keeping the cause", () => {
      const cases: [unknown, new (...args: never[]) => RemoteStoreError][] = [
        [Object.assign(new Error("x"), { code: "ENOENT" }), NotFoundError],
        [Object.assign(new Error("x"), { code: "EEXIST" }), AlreadyExistsError],
        [Object.assign(new Error("x"), { code: "EACCES" }), PermissionDeniedError],
        [Object.assign(new Error("x"), { code: "EPERM" }), PermissionDeniedError],
        [Object.assign(new Error("x"), { code: "ENOTEMPTY" }), DirectoryNotEmptyError],
        [Object.assign(new Error("x"), { code: "ENOTDIR" }), InvalidPathError],
        [Object.assign(new Error("x"), { code: "EISDIR" }), InvalidPathError],
        [Object.assign(new Error("x"), { code: "ELOOP" }), InvalidPathError],
        [Object.assign(new Error("x"), { code: "EMFILE" }), BackendUnavailableError],
        [Object.assign(new Error("x"), { code: "ENOSPC" }), BackendUnavailableError],
        [Object.assign(new Error("x"), { code: "EIO" }), BackendUnavailableError],
        [Object.assign(new Error("x"), { code: "EWHATEVER" }), BackendUnavailableError],
        [Object.assign(new Error("x"), { name: "NotFound" }), NotFoundError],
        [Object.assign(new Error("x"), { name: "PermissionDenied" }), PermissionDeniedError],
        ["not even an error", BackendUnavailableError],
      ];
      for (const [native, expected] of cases) {
        const mapped = mapFsError(native, "a/b.txt", "read the file");
        assert.ok(mapped instanceof expected, `${String(native)} -> ${mapped.name}`);
        assert.equal(mapped.cause, native);
        assert.equal(mapped.path, "a/b.txt");
        assert.equal(mapped.backend, "local");
        assert.match(mapped.message, /^Cannot read the file because /);
      }
    });

    test(
      "EACCES on a folder maps to PermissionDeniedError",
      {
        skip: isRoot ? "running as root: chmod 000 does not deny access to the superuser" : false,
      },
      async () => {
        const { root, store } = fresh();
        await store.write("locked/a.txt", "x");
        await fs.chmod(path.join(root, "locked"), 0o000);
        try {
          await assert.rejects(store.readText("locked/a.txt"), PermissionDeniedError);
          await assert.rejects(store.write("locked/b.txt", "x"), PermissionDeniedError);
          await assert.rejects(collect(store.listFiles("locked")), PermissionDeniedError);
        } finally {
          await fs.chmod(path.join(root, "locked"), 0o700);
        }
      },
    );
  });

  describe("ping and createFolder", () => {
    test('ping: a missing root is NotFoundError naming the root; createFolder("") creates it', async () => {
      const { root, store } = fresh();
      const error = await store.ping().then(() => assert.fail("resolved"), (e) => e);
      assert.ok(error instanceof NotFoundError, String(error));
      assert.ok(error.message.includes(`"${root}"`), error.message);
      assert.equal(error.path, "");
      await store.createFolder("");
      assert.equal((await fs.stat(root)).isDirectory(), true);
      assert.equal(await store.ping(), undefined);
      assert.deepEqual(await collect(store.listFiles("", { recursive: true })), []);
    });

    test("ping: a root that is a file is InvalidPathError; a link to a folder is fine", async () => {
      const { root } = fresh();
      await fs.mkdir(path.dirname(root), { recursive: true });
      await fs.writeFile(root, "not a folder");
      await assert.rejects(new Store(new LocalBackend({ root })).ping(), InvalidPathError);
      await assert.rejects(
        new Store(new LocalBackend({ root })).createFolder("a"),
        InvalidPathError,
      );
      const real = path.join(path.dirname(root), "real");
      await fs.mkdir(real);
      const linked = path.join(path.dirname(root), "linked");
      await fs.symlink(real, linked);
      assert.equal(await new Store(new LocalBackend({ root: linked })).ping(), undefined);
    });

    test("ping and createFolder after close: BackendUnavailableError", async () => {
      const { backend, store } = fresh();
      await store.createFolder("");
      await backend.close();
      await assert.rejects(store.ping(), BackendUnavailableError);
      await assert.rejects(store.createFolder("a"), BackendUnavailableError);
    });

    test(
      "ping on a root the process may not read: PermissionDeniedError",
      {
        skip: isRoot ? "running as root: chmod 000 does not deny access to the superuser" : false,
      },
      async () => {
        const { root, store } = fresh();
        await store.createFolder("");
        await fs.chmod(root, 0o000);
        try {
          await assert.rejects(store.ping(), PermissionDeniedError);
        } finally {
          await fs.chmod(root, 0o700);
        }
      },
    );

    test("createFolder makes real, empty directories (parents too)", async () => {
      const { root, store } = fresh();
      await store.createFolder("a/b/c");
      assert.equal((await fs.stat(path.join(root, "a", "b", "c"))).isDirectory(), true);
      assert.deepEqual(await fs.readdir(path.join(root, "a", "b", "c")), []);
    });

    test("createFolder through a link: inside the root it is a folder, outside refused", async () => {
      const { root, store } = fresh();
      await store.createFolder("real");
      await fs.symlink(path.join(root, "real"), path.join(root, "alias"));
      await store.createFolder("alias");
      await store.createFolder("alias/new");
      assert.equal((await fs.stat(path.join(root, "real", "new"))).isDirectory(), true);
      const outside = path.join(base, `outside-${counter}`);
      await fs.mkdir(outside, { recursive: true });
      await fs.symlink(outside, path.join(root, "escape"));
      await assert.rejects(store.createFolder("escape/new"), PermissionDeniedError);
      await assert.rejects(store.createFolder("escape"), PermissionDeniedError);
      assert.deepEqual(await fs.readdir(outside), []);
    });

    test("20 concurrent createFolder calls of one path all resolve", async () => {
      const { root, store } = fresh();
      await Promise.all(Array.from({ length: 20 }, () => store.createFolder("x/y/z")));
      assert.equal((await fs.stat(path.join(root, "x", "y", "z"))).isDirectory(), true);
    });

    test("createFolder refuses temporary-file names when the backend is used directly", async () => {
      const { backend } = fresh();
      const temp = process.platform === "win32" ? ".~tmp.x" : ".~tmp\\x";
      await assert.rejects(backend.createFolder(`d/${temp}`, {}), InvalidPathError);
    });
  });
});
