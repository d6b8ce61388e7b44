/**
 * Conformance cases of `ping` and `createFolder`. Private module; the cases
 * are part of {@link CONFORMANCE_CASES}.
 *
 * @module
 */

import assert from "node:assert/strict";
import { CapabilityNotSupportedError, InvalidPathError } from "../errors.ts";
import type { ConformanceCase } from "./cases.ts";
import { collect, paths } from "./_helpers.ts";

function aborted(): AbortSignal {
  const controller = new AbortController();
  controller.abort(new Error("aborted by test"));
  return controller.signal;
}

/** The cases of `ping` and `createFolder`. */
export const HEALTH_CASES: ConformanceCase[] = [
  {
    id: "ping-resolves",
    name: "ping resolves on a reachable store, also on a child store of an empty folder",
    async run({ store }) {
      // A local backend reports a root folder that no write has created yet: write first.
      if (store.supports("write")) await store.write("seen.txt", "x");
      assert.equal(await store.ping(), undefined);
      assert.equal(await store.child("no/such/folder").ping(), undefined);
    },
  },
  {
    id: "ping-aborted",
    name: "ping with an aborted signal rejects with the signal's reason",
    async run({ store }) {
      const signal = aborted();
      await assert.rejects(store.ping({ signal }), (error) => error === signal.reason);
    },
  },
  {
    id: "create-folder-where-real",
    name:
      "createFolder makes an empty folder with its parents where folders are real, and is refused with CapabilityNotSupportedError elsewhere",
    async run({ store }) {
      if (!store.supports("directories")) {
        await assert.rejects(
          store.createFolder("made/inner"),
          (error) =>
            error instanceof CapabilityNotSupportedError && error.capability === "directories",
        );
        assert.equal(await store.isFolder("made"), false, "nothing created");
        assert.deepEqual(await collect(store.listFolders("")), []);
        return;
      }
      assert.equal(await store.createFolder("made/inner"), undefined);
      assert.equal(await store.isFolder("made"), true, "parent created");
      assert.equal(await store.isFolder("made/inner"), true);
      assert.equal(await store.exists("made/inner"), true);
      assert.equal(await store.isFile("made/inner"), false);
      assert.deepEqual(await paths(store.listFolders("made")), ["made/inner"]);
      assert.deepEqual(await collect(store.listFiles("made", { recursive: true })), []);
      const info = await store.getFolderInfo("made/inner");
      assert.equal(info.fileCount, 0);
      assert.equal(info.totalSize, 0);
      await store.deleteFolder("made/inner");
      assert.equal(await store.isFolder("made/inner"), false, "an empty folder is deleted");
    },
  },
  {
    id: "create-folder-idempotent",
    name: "createFolder on an existing folder (or the store root) resolves and keeps its files",
    requires: ["directories", "write", "read"],
    async run({ store }) {
      await store.createFolder("d");
      await store.createFolder("d");
      await store.write("d/sub/a.txt", "a");
      await store.createFolder("d");
      await store.createFolder("d/sub");
      await store.createFolder("");
      await store.createFolder("./d//sub/");
      assert.equal(await store.readText("d/sub/a.txt"), "a");
      assert.deepEqual(await paths(store.listFiles("", { recursive: true })), ["d/sub/a.txt"]);
    },
  },
  {
    id: "create-folder-file-conflict",
    name: "createFolder where a file is at the path or at a parent rejects InvalidPathError",
    requires: ["directories", "write", "read"],
    async run({ store }) {
      await store.write("f.txt", "file");
      await assert.rejects(store.createFolder("f.txt"), InvalidPathError);
      await assert.rejects(store.createFolder("f.txt/below"), InvalidPathError);
      await assert.rejects(store.createFolder("f.txt/below/deeper"), InvalidPathError);
      assert.equal(await store.readText("f.txt"), "file", "the file is kept");
      assert.equal(await store.isFolder("f.txt"), false);
    },
  },
  {
    id: "create-folder-invalid-path",
    name: "createFolder with an invalid path rejects InvalidPathError before any I/O",
    async run({ store }) {
      await assert.rejects(store.createFolder("../outside"), InvalidPathError);
      await assert.rejects(store.createFolder("a/\0/b"), InvalidPathError);
    },
  },
];
