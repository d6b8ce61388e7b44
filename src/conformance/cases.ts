/**
 * The Store contract as data: each case says what it needs and asserts one
 * part of the contract against a store scoped to a fresh, empty folder.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Backend } from "../backend.ts";
import type { Capability } from "../capabilities.ts";
import {
  AlreadyExistsError,
  DirectoryNotEmptyError,
  InvalidPathError,
  NotFoundError,
  PreconditionFailedError,
} from "../errors.ts";
import type { Store } from "../store.ts";
import { type ChecksumAlgorithm, digestBytes } from "../_checksum.ts";
import { verifyChecksum } from "../integrity.ts";
import { chunkedStream, collect, paths, patternBytes, sameBytes, writeTree } from "./_helpers.ts";
import { HEALTH_CASES } from "./_cases_health.ts";
import { UPLOADS_CASES } from "./_cases_uploads.ts";
import { ATTRIBUTES_CASES } from "./_cases_attributes.ts";
import { LISTINGS_CASES } from "./_cases_listings.ts";

/** What a case runs against. */
export interface ConformanceContext {
  /** A store scoped to an empty folder that belongs to this case alone. */
  store: Store;
  /** The backend under test. */
  backend: Backend;
  /** Size of the "large" round trip in bytes. */
  largeSize: number;
}

/** One part of the contract. */
export interface ConformanceCase {
  /** Stable kebab-case identifier, used to skip the case (see `ConformanceOptions.skip`). */
  id: string;
  /** The contract sentence this case checks. */
  name: string;
  /** Capabilities the backend must have; otherwise the case is skipped with a reason. */
  requires?: readonly Capability[];
  /** Runs the checks; throws (an assertion error) when the contract is broken. */
  run(context: ConformanceContext): Promise<void>;
}

const encoder = new TextEncoder();

async function roundTrip(store: Store, path: string, bytes: Uint8Array, content: unknown) {
  const result = await store.write(path, content as Uint8Array);
  assert.equal(result.size, bytes.byteLength, "write result size");
  assert.equal(result.path, path, "write result path");
  const back = await store.readBytes(path);
  assert.ok(sameBytes(back, bytes), `content of "${path}" differs after a round trip`);
  assert.equal((await store.getFileInfo(path)).size, bytes.byteLength, "getFileInfo size");
}

async function assertMissing(store: Store, path: string): Promise<void> {
  assert.equal(await store.isFile(path), false, `"${path}" must not exist`);
}

function aborted(): AbortSignal {
  const controller = new AbortController();
  controller.abort(new Error("aborted by test"));
  return controller.signal;
}

/** Every conformance case, in a stable order. */
export const CONFORMANCE_CASES: readonly ConformanceCase[] = Object.freeze([
  {
    id: "write-read-roundtrip",
    name: "write then read returns the same bytes for 0, 1 and multi-MiB files",
    requires: ["read", "write"],
    async run({ store, largeSize }) {
      for (const size of [0, 1, 1000, largeSize]) {
        const bytes = patternBytes(size, size + 7);
        await roundTrip(store, `size-${size}.bin`, bytes, bytes);
      }
    },
  },
  {
    id: "write-content-kinds",
    name: "write accepts string, Uint8Array, ArrayBuffer, Blob, ReadableStream and iterables",
    requires: ["read", "write"],
    async run({ store }) {
      const text = "héllo, wörld ✓";
      const bytes = encoder.encode(text);
      const chunks = [bytes.slice(0, 3), bytes.slice(3, 8), bytes.slice(8)];
      await roundTrip(store, "string.txt", bytes, text);
      await roundTrip(store, "u8.bin", bytes, bytes);
      await roundTrip(store, "ab.bin", bytes, bytes.slice().buffer);
      await roundTrip(store, "blob.bin", bytes, new Blob(chunks));
      await roundTrip(store, "stream.bin", bytes, chunkedStream(bytes, 2));
      await roundTrip(store, "iter.bin", bytes, chunks);
      await roundTrip(
        store,
        "async-iter.bin",
        bytes,
        (async function* () {
          for (const chunk of chunks) yield chunk;
        })(),
      );
      assert.equal(await store.readText("stream.bin"), text, "UTF-8 split across chunks");
      await assert.rejects(store.write("bad.bin", 42 as unknown as string), TypeError);
      await assertMissing(store, "bad.bin");
    },
  },
  {
    id: "whole-content-owned",
    name: "whole-content writes and reads own their bytes; an aborted one leaves no object",
    requires: ["read", "write"],
    async run({ store, largeSize }) {
      const bytes = patternBytes(1000, 17);
      const source = bytes.slice();
      await store.write("own.bin", source);
      source.fill(0);
      const back = await store.readBytes("own.bin");
      assert.ok(sameBytes(back, bytes), "changing the written array does not change the file");
      back.fill(0);
      assert.ok(sameBytes(await store.readBytes("own.bin"), bytes), "nor does changing a read");
      assert.equal(await store.readText("own.bin", { range: { offset: 1, length: 0 } }), "");

      const large = patternBytes(largeSize + 5, 23);
      const controller = new AbortController();
      const pending = store.write("abort.bin", large, { signal: controller.signal });
      setTimeout(() => controller.abort(new Error("stop whole write")), 0);
      const outcome = await pending.then(() => "written", () => "aborted");
      if (outcome === "aborted") await assertMissing(store, "abort.bin");
      else assert.ok(sameBytes(await store.readBytes("abort.bin"), large), "whole or nothing");
      const reading = new AbortController();
      reading.abort(new Error("stop whole read"));
      await assert.rejects(store.readBytes("own.bin", { signal: reading.signal }));
    },
  },
  {
    id: "large-streamed-write",
    name: "a large streamed write arrives whole",
    requires: ["read", "write"],
    async run({ store, largeSize }) {
      const bytes = patternBytes(largeSize * 2 + 3, 99);
      await roundTrip(store, "streamed.bin", bytes, chunkedStream(bytes, 64 * 1024 + 1));
    },
  },
  {
    id: "range-read",
    name: "read honours byte ranges",
    requires: ["read", "write", "range_read"],
    async run({ store }) {
      const bytes = patternBytes(1000, 3);
      await store.write("r.bin", bytes);
      const cases: [number, number | undefined, number, number][] = [
        [0, 10, 0, 10],
        [10, 5, 10, 15],
        [990, undefined, 990, 1000],
        [995, 100, 995, 1000],
        [1000, undefined, 1000, 1000],
        [5000, 10, 1000, 1000],
        [0, 0, 0, 0],
      ];
      for (const [offset, length, start, end] of cases) {
        const got = await store.readBytes("r.bin", { range: { offset, length } });
        assert.ok(sameBytes(got, bytes.subarray(start, end)), `range ${offset}+${length}`);
      }
      await assert.rejects(store.read("r.bin", { range: { offset: -1 } }), RangeError);
    },
  },
  {
    id: "write-overwrite-rules",
    name: "write is create-only by default; overwrite replaces; ifMatch guards",
    requires: ["read", "write"],
    async run({ store }) {
      const first = await store.write("f.txt", "one");
      await assert.rejects(store.write("f.txt", "two"), AlreadyExistsError);
      assert.equal(await store.readText("f.txt"), "one", "old content kept");
      await store.write("f.txt", "three", { overwrite: true });
      assert.equal(await store.readText("f.txt"), "three");
      if (first.etag !== undefined) {
        await assert.rejects(
          store.write("f.txt", "four", { overwrite: true, ifMatch: first.etag }),
          PreconditionFailedError,
        );
        assert.equal(await store.readText("f.txt"), "three", "stale ifMatch changes nothing");
        const current = (await store.getFileInfo("f.txt")).etag!;
        await store.write("f.txt", "five", { overwrite: true, ifMatch: current });
        assert.equal(await store.readText("f.txt"), "five");
      }
    },
  },
  {
    id: "write-atomic",
    name: "writeAtomic replaces content whole and follows the same overwrite rules",
    requires: ["read", "write", "atomic_write"],
    async run({ store }) {
      await store.writeAtomic("cfg.json", '{"v":1}');
      await assert.rejects(store.writeAtomic("cfg.json", '{"v":2}'), AlreadyExistsError);
      await store.writeAtomic("cfg.json", '{"v":3}', { overwrite: true });
      assert.equal(await store.readText("cfg.json"), '{"v":3}');
      const listed = await paths(store.listFiles("", { recursive: true }));
      assert.deepEqual(listed, ["cfg.json"], "no temporary file is left or listed");
    },
  },
  {
    id: "missing-file-not-found",
    name: "every file method rejects NotFoundError for a missing file",
    requires: ["read", "write", "delete", "copy", "move"],
    async run({ store }) {
      await assert.rejects(store.read("nope.txt"), NotFoundError);
      await assert.rejects(store.readBytes("nope.txt"), NotFoundError);
      await assert.rejects(store.readText("dir/nope.txt"), NotFoundError);
      await assert.rejects(store.getFileInfo("nope.txt"), NotFoundError);
      await assert.rejects(store.delete("nope.txt"), NotFoundError);
      await assert.rejects(store.copy("nope.txt", "x.txt"), NotFoundError);
      await assert.rejects(store.move("nope.txt", "x.txt"), NotFoundError);
      await assert.rejects(store.copy("nope.txt", "nope.txt"), NotFoundError);
      await assert.rejects(store.getFolderInfo("nope"), NotFoundError);
      await assert.rejects(store.deleteFolder("nope"), NotFoundError);
      await store.delete("nope.txt", { missingOk: true });
      await store.deleteFolder("nope", { missingOk: true });
      assert.equal(await store.exists("nope.txt"), false);
      assert.equal(await store.isFile("nope.txt"), false);
      assert.equal(await store.isFolder("nope"), false);
      await assertMissing(store, "x.txt");
      const error = await store.read("nope.txt").catch((e) => e);
      assert.equal(error.path, "nope.txt", "the error names the store-relative path");
      assert.match(error.message, /"nope\.txt"/, "the message quotes the path");
    },
  },
  {
    id: "folder-is-not-file",
    name: "file methods on a folder reject InvalidPathError and never remove it",
    requires: ["read", "write", "delete"],
    async run({ store }) {
      await store.write("dir/inner.txt", "x");
      await assert.rejects(store.read("dir"), InvalidPathError);
      await assert.rejects(store.getFileInfo("dir"), InvalidPathError);
      await assert.rejects(store.delete("dir"), InvalidPathError);
      await assert.rejects(store.deleteFolder("dir/inner.txt"), InvalidPathError);
      assert.equal(await store.isFile("dir"), false);
      assert.equal(await store.isFolder("dir"), true);
      assert.equal(await store.isFolder("dir/inner.txt"), false);
      assert.equal(await store.exists("dir"), true);
      assert.equal(await store.readText("dir/inner.txt"), "x", "the folder content is intact");
    },
  },
  {
    id: "list-files",
    name: "listFiles lists one level, or every level with recursive",
    requires: ["write", "list"],
    async run({ store }) {
      await writeTree(store);
      assert.deepEqual(await paths(store.listFiles("")), ["a.txt", "b.csv"]);
      assert.deepEqual(await paths(store.listFiles("docs")), ["docs/c.txt", "docs/d.md"]);
      assert.deepEqual(await paths(store.listFiles("", { recursive: true })), [
        "a.txt",
        "b.csv",
        "docs/c.txt",
        "docs/d.md",
        "docs/deep/e.txt",
        "docs/deep/er/f.txt",
        "img/g.png",
      ]);
      const files = await collect(store.listFiles("docs", { recursive: true }));
      const deep = files.find((f) => f.path === "docs/deep/er/f.txt");
      assert.ok(deep, "nested file listed");
      assert.equal(deep.name, "f.txt");
      assert.equal(deep.size, 6);
      assert.ok(deep.modifiedAt instanceof Date && !Number.isNaN(deep.modifiedAt.getTime()));
      assert.equal(await store.readText(deep.path), "ffffff", "listed paths are usable as input");
    },
  },
  {
    id: "list-files-depth-pattern",
    name: "listFiles honours maxDepth and pattern; a missing folder lists nothing",
    requires: ["write", "list"],
    async run({ store }) {
      await writeTree(store);
      assert.deepEqual(await paths(store.listFiles("", { recursive: true, maxDepth: 1 })), [
        "a.txt",
        "b.csv",
        "docs/c.txt",
        "docs/d.md",
        "img/g.png",
      ]);
      assert.deepEqual(
        await paths(store.listFiles("docs", { recursive: true, maxDepth: 0 })),
        ["docs/c.txt", "docs/d.md"],
      );
      assert.deepEqual(
        await paths(store.listFiles("", { recursive: true, pattern: "*.txt" })),
        ["a.txt", "docs/c.txt", "docs/deep/e.txt", "docs/deep/er/f.txt"],
      );
      assert.deepEqual(await paths(store.listFiles("missing", { recursive: true })), []);
      assert.deepEqual(await paths(store.listFiles("a.txt")), [], "a file is not a folder");
      await assert.rejects(collect(store.listFiles("", { maxDepth: -1 })), RangeError);
    },
  },
  {
    id: "list-folders",
    name: "listFolders lists immediate subfolders",
    requires: ["write", "list"],
    async run({ store }) {
      await writeTree(store);
      assert.deepEqual(await paths(store.listFolders("")), ["docs", "img"]);
      const nested = await collect(store.listFolders("docs"));
      assert.deepEqual(nested, [{ path: "docs/deep", name: "deep" }]);
      assert.deepEqual(await paths(store.listFolders("img")), []);
      assert.deepEqual(await paths(store.listFolders("missing")), []);
    },
  },
  {
    id: "glob",
    name: "glob matches *, ?, [...], [!...] and **/ relative to the store",
    requires: ["write", "list"],
    async run({ store }) {
      await writeTree(store);
      await store.write("docs/x.txt", "x");
      const glob = (pattern: string) => paths(store.glob(pattern));
      assert.deepEqual(await glob("*.txt"), ["a.txt"]);
      assert.deepEqual(await glob("**/*.txt"), [
        "a.txt",
        "docs/c.txt",
        "docs/deep/e.txt",
        "docs/deep/er/f.txt",
        "docs/x.txt",
      ]);
      assert.deepEqual(await glob("docs/**/*.txt"), [
        "docs/c.txt",
        "docs/deep/e.txt",
        "docs/deep/er/f.txt",
        "docs/x.txt",
      ]);
      assert.deepEqual(await glob("docs/*/e.txt"), ["docs/deep/e.txt"]);
      assert.deepEqual(await glob("docs/?.txt"), ["docs/c.txt", "docs/x.txt"]);
      assert.deepEqual(await glob("docs/[cd].*"), ["docs/c.txt", "docs/d.md"]);
      assert.deepEqual(await glob("docs/[!c].*"), ["docs/d.md", "docs/x.txt"]);
      assert.deepEqual(await glob("docs/deep/**"), ["docs/deep/e.txt", "docs/deep/er/f.txt"]);
      assert.deepEqual(await glob("nothing/**/*.txt"), []);
      await assert.rejects(collect(store.glob("../*.txt")), InvalidPathError);
    },
  },
  {
    id: "folder-info",
    name: "getFolderInfo totals every file below a folder",
    requires: ["write", "list"],
    async run({ store }) {
      await writeTree(store);
      const docs = await store.getFolderInfo("docs");
      assert.equal(docs.path, "docs");
      assert.equal(docs.fileCount, 4);
      assert.equal(docs.totalSize, 3 + 4 + 5 + 6);
      assert.ok(docs.modifiedAt instanceof Date);
      const root = await store.getFolderInfo("");
      assert.equal(root.fileCount, 7);
      assert.equal(root.totalSize, 1 + 2 + 3 + 4 + 5 + 6 + 1);
    },
  },
  {
    id: "copy",
    name: "copy duplicates a file and follows the overwrite rule",
    requires: ["read", "write", "copy"],
    async run({ store }) {
      await store.write("src.txt", "source");
      await store.write("taken.txt", "taken");
      await store.copy("src.txt", "nested/dir/copy.txt");
      assert.equal(await store.readText("nested/dir/copy.txt"), "source");
      assert.equal(await store.readText("src.txt"), "source", "the source stays");
      await assert.rejects(store.copy("src.txt", "taken.txt"), AlreadyExistsError);
      assert.equal(await store.readText("taken.txt"), "taken");
      await store.copy("src.txt", "taken.txt", { overwrite: true });
      assert.equal(await store.readText("taken.txt"), "source");
      await store.copy("src.txt", "./src.txt");
      assert.equal(await store.readText("src.txt"), "source", "copy onto itself is a no-op");
    },
  },
  {
    id: "move",
    name: "move renames a file and follows the overwrite rule",
    requires: ["read", "write", "move"],
    async run({ store }) {
      await store.write("m.txt", "moving");
      await store.write("taken.txt", "taken");
      await store.move("m.txt", "sub/moved.txt");
      assert.equal(await store.readText("sub/moved.txt"), "moving");
      assert.equal(await store.isFile("m.txt"), false, "the source is gone");
      await assert.rejects(store.move("sub/moved.txt", "taken.txt"), AlreadyExistsError);
      assert.equal(await store.readText("taken.txt"), "taken");
      assert.equal(
        await store.readText("sub/moved.txt"),
        "moving",
        "a refused move keeps the source",
      );
      await store.move("sub/moved.txt", "taken.txt", { overwrite: true });
      assert.equal(await store.readText("taken.txt"), "moving");
      assert.equal(await store.isFile("sub/moved.txt"), false);
      await store.move("taken.txt", "taken.txt");
      assert.equal(await store.readText("taken.txt"), "moving", "move onto itself is a no-op");
    },
  },
  {
    id: "delete",
    name: "delete removes one file; deleteFolder needs recursive for a non-empty folder",
    requires: ["write", "delete", "list"],
    async run({ store }) {
      await writeTree(store);
      await store.delete("a.txt");
      assert.equal(await store.isFile("a.txt"), false);
      await assert.rejects(store.deleteFolder("docs"), DirectoryNotEmptyError);
      assert.equal(
        await store.isFile("docs/c.txt"),
        true,
        "a refused deleteFolder deletes nothing",
      );
      await store.deleteFolder("docs", { recursive: true });
      assert.equal(await store.isFolder("docs"), false);
      assert.deepEqual(await paths(store.listFiles("", { recursive: true })), [
        "b.csv",
        "img/g.png",
      ]);
      await store.deleteFolder("", { recursive: true });
      assert.deepEqual(await paths(store.listFiles("", { recursive: true })), []);
    },
  },
  {
    id: "unusual-keys",
    name:
      "keys with spaces, unicode, %, #, ?, +, temp-file-like names and 1,000 characters round-trip",
    requires: ["read", "write", "list"],
    async run({ store }) {
      const segment = "k".repeat(99);
      const long = Array.from({ length: 10 }, (_, i) => `${i}${segment}`).join("/").slice(0, 1000);
      const keys = [
        "with space.txt",
        "ünïcödé/日本語/файл.txt",
        "emoji 🎉.txt",
        "100%.txt",
        "%2e%2e.txt",
        "hash#tag.txt",
        "what?.txt",
        "a+b=c&d.txt",
        "semi;colon,comma'quote.txt",
        // Names that look like a backend's temporary files are a user's like any other.
        ".~tmp.x",
        "tmp/.~tmp.report.csv.0123456789abcdef",
        "tmp/.~tmp.report.csv.0123456789abcdef.01234567",
        long,
      ];
      assert.equal(long.length, 1000);
      for (const [i, key] of keys.entries()) await store.write(key, `content ${i}`);
      for (const [i, key] of keys.entries()) {
        assert.equal(await store.readText(key), `content ${i}`, `read "${key}"`);
        assert.equal((await store.getFileInfo(key)).path, key);
      }
      assert.deepEqual(await paths(store.listFiles("", { recursive: true })), [...keys].sort());
    },
  },
  {
    id: "invalid-paths",
    name: "invalid paths reject InvalidPathError; equivalent spellings name one file",
    requires: ["read", "write"],
    async run({ store }) {
      for (const bad of ["", "/", "..", "../x", "a/../b", "a/..", "x\0y", "./", "\\"]) {
        await assert.rejects(
          store.write(bad, "x"),
          InvalidPathError,
          `write ${JSON.stringify(bad)}`,
        );
        await assert.rejects(store.read(bad), InvalidPathError, `read ${JSON.stringify(bad)}`);
      }
      assert.throws(() => store.child(".."), InvalidPathError);
      await store.write("a/b/c.txt", "c");
      for (const same of ["a//b/c.txt", "/a/b/c.txt/", "./a/./b/c.txt", "a\\b\\c.txt"]) {
        assert.equal(await store.readText(same), "c", `read ${JSON.stringify(same)}`);
      }
      assert.deepEqual(await paths(store.listFiles("", { recursive: true })), ["a/b/c.txt"]);
    },
  },
  {
    id: "abort-write",
    name: "an abort before or during a write leaves no object and keeps old content",
    requires: ["read", "write"],
    async run({ store }) {
      await assert.rejects(store.write("pre.txt", "x", { signal: aborted() }));
      await assertMissing(store, "pre.txt");

      const controller = new AbortController();
      const chunk = patternBytes(64 * 1024, 5);
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(stream) {
          sent++;
          if (sent === 4) controller.abort(new Error("stop mid-write"));
          if (sent > 50) stream.close();
          else stream.enqueue(chunk.slice());
        },
      });
      await assert.rejects(store.write("mid.bin", body, { signal: controller.signal }));
      await assertMissing(store, "mid.bin");

      await store.write("keep.txt", "old");
      const again = new AbortController();
      const failing = new ReadableStream<Uint8Array>({
        pull(stream) {
          stream.enqueue(chunk.slice());
          again.abort(new Error("stop overwrite"));
        },
      });
      await assert.rejects(
        store.write("keep.txt", failing, { overwrite: true, signal: again.signal }),
      );
      assert.equal(await store.readText("keep.txt"), "old", "old content survives an abort");
    },
  },
  {
    id: "failing-body",
    name: "a body stream that errors leaves no object",
    requires: ["read", "write"],
    async run({ store }) {
      let pulls = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(stream) {
          if (++pulls === 3) stream.error(new Error("source failed"));
          else stream.enqueue(patternBytes(32 * 1024, pulls));
        },
      });
      await assert.rejects(store.write("broken.bin", body));
      await assertMissing(store, "broken.bin");
    },
  },
  {
    id: "create-only-write-race",
    name: "of 20 concurrent create-only writers exactly one wins",
    requires: ["read", "write"],
    async run({ store }) {
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => store.write("race.txt", `writer ${i}`)),
      );
      const winners = results.flatMap((r, i) => (r.status === "fulfilled" ? [i] : []));
      assert.equal(winners.length, 1, `winners: ${winners.join(", ")}`);
      for (const result of results) {
        if (result.status === "rejected") assert.ok(result.reason instanceof AlreadyExistsError);
      }
      assert.equal(await store.readText("race.txt"), `writer ${winners[0]}`);
    },
  },
  {
    id: "read-cancel",
    name: "cancelling a read stream releases it",
    requires: ["read", "write", "delete"],
    async run({ store, largeSize }) {
      const bytes = patternBytes(largeSize, 11);
      await store.write("big.bin", bytes);
      const reader = (await store.read("big.bin")).getReader();
      const first = await reader.read();
      assert.equal(first.done, false);
      assert.ok(first.value!.byteLength > 0);
      await reader.cancel();
      await reader.closed;
      await store.write("big.bin", "replaced", { overwrite: true });
      assert.equal(await store.readText("big.bin"), "replaced");
      await store.delete("big.bin");
      assert.equal(await store.isFile("big.bin"), false);
    },
  },
  {
    id: "aborted-signal",
    name: "an aborted signal rejects every operation before any I/O",
    requires: ["read", "write", "list"],
    async run({ store }) {
      await store.write("a.txt", "a");
      const signal = aborted();
      await assert.rejects(store.read("a.txt", { signal }), /aborted by test/);
      await assert.rejects(store.getFileInfo("a.txt", { signal }), /aborted by test/);
      await assert.rejects(store.delete("a.txt", { signal }), /aborted by test/);
      await assert.rejects(collect(store.listFiles("", { signal })), /aborted by test/);
      assert.equal(await store.readText("a.txt"), "a");
    },
  },
  {
    id: "file-info",
    name: "getFileInfo reports name, size, time, ETag and content type",
    requires: ["write"],
    async run({ store }) {
      const before = Date.now();
      const result = await store.write("info/report.csv", "a,b\n1,2\n");
      const info = await store.getFileInfo("info/report.csv");
      assert.equal(info.path, "info/report.csv");
      assert.equal(info.name, "report.csv");
      assert.equal(info.size, 8);
      assert.ok(info.modifiedAt.getTime() >= before - 5000, "modifiedAt is recent");
      assert.ok(info.modifiedAt.getTime() <= Date.now() + 5000, "modifiedAt is not in the future");
      if (result.etag !== undefined) assert.equal(info.etag, result.etag);
      if (info.contentType !== undefined) assert.match(info.contentType, /^text\/csv/);
    },
  },
  {
    id: "metadata",
    name: "content type and user metadata round-trip",
    requires: ["write", "metadata"],
    async run({ store }) {
      await store.write("m.bin", "x", {
        contentType: "application/x-test",
        metadata: { owner: "alice", purpose: "test" },
      });
      const info = await store.getFileInfo("m.bin");
      assert.equal(info.contentType, "application/x-test");
      assert.deepEqual(info.metadata, { owner: "alice", purpose: "test" });
    },
  },
  {
    id: "progress",
    name: "onProgress reports write, read and copy progress ending at the size",
    requires: ["read", "write", "copy"],
    async run({ store, largeSize }) {
      const bytes = patternBytes(largeSize, 21);
      const calls = { write: [] as number[][], read: [] as number[][], copy: [] as number[][] };
      const record = (into: number[][]) => (loaded: number, total?: number) =>
        into.push([loaded, total ?? -1]);
      await store.write("p.bin", chunkedStream(bytes, 256 * 1024), {
        onProgress: record(calls.write),
      });
      await store.readBytes("p.bin", { onProgress: record(calls.read) });
      await store.copy("p.bin", "p2.bin", { onProgress: record(calls.copy) });
      for (const [kind, list] of Object.entries(calls)) {
        assert.ok(list.length >= 2, `${kind}: at least a start and an end`);
        assert.deepEqual(list[0]![0], 0, `${kind}: starts at 0`);
        assert.equal(list.at(-1)![0], bytes.byteLength, `${kind}: ends at the size`);
        for (let i = 1; i < list.length; i++) {
          assert.ok(list[i]![0]! >= list[i - 1]![0]!, `${kind}: never goes backwards`);
        }
      }
      assert.equal(calls.read.at(-1)![1], bytes.byteLength, "read knows the total");
      assert.equal(calls.copy.at(-1)![1], bytes.byteLength, "copy knows the total");
      const ranged: number[][] = [];
      await store.readBytes("p.bin", {
        range: { offset: 10, length: 100 },
        onProgress: record(ranged),
      });
      assert.deepEqual(ranged.at(-1), [100, 100], "a ranged read's total is the range");
    },
  },
  {
    id: "isolated-roots",
    name: "stores on different roots are isolated; a child sees only its subtree",
    requires: ["write", "list"],
    async run({ store }) {
      const left = store.child("left");
      const right = store.child("right");
      await left.write("same.txt", "left");
      await right.write("same.txt", "right");
      assert.equal(await left.readText("same.txt"), "left");
      assert.equal(await right.readText("same.txt"), "right");
      assert.deepEqual(await paths(left.listFiles("", { recursive: true })), ["same.txt"]);
      const grandchild = left.child("deeper");
      await grandchild.write("g.txt", "g");
      assert.deepEqual(await paths(left.listFiles("", { recursive: true })), [
        "deeper/g.txt",
        "same.txt",
      ]);
      assert.equal(await store.readText("left/deeper/g.txt"), "g");
      await assert.rejects(left.read("../right/same.txt"), InvalidPathError);
      await left.deleteFolder("", { recursive: true });
      assert.equal(await right.readText("same.txt"), "right", "deleting one root spares the other");
    },
  },
  {
    id: "returned-bytes-are-copies",
    name: "bytes and infos handed to a caller are its own: changing them never changes a file",
    requires: ["read", "write", "copy"],
    async run({ store, largeSize }) {
      const bytes = patternBytes(largeSize, 41);
      await store.write("original.bin", bytes);
      await store.copy("original.bin", "copy.bin");
      for (const path of ["copy.bin", "original.bin"]) {
        const reader = (await store.read(path)).getReader();
        for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
          chunk.value.fill(0);
        }
        (await store.readBytes(path)).fill(0);
        (await store.readBytes(path, { onProgress: () => {} })).fill(0);
        (await store.readBytes(path, { range: { offset: 1, length: 10 } })).fill(0);
        (await store.getFileInfo(path)).modifiedAt.setTime(0);
      }
      for (const path of ["original.bin", "copy.bin"]) {
        assert.ok(sameBytes(await store.readBytes(path), bytes), `"${path}" is unchanged`);
        assert.notEqual((await store.getFileInfo(path)).modifiedAt.getTime(), 0, "modifiedAt");
      }
    },
  },
  {
    id: "file-folder-exclusive",
    name:
      "a path is a file or a folder, never both: writes, copies and moves that would make both reject InvalidPathError",
    requires: ["read", "write", "list"],
    async run({ store }) {
      await store.write("file", "file");
      await store.write("folder/inner.txt", "inner");
      await store.write("source.txt", "source");
      const writers: [string, (dst: string, overwrite: boolean) => Promise<unknown>][] = [
        ["write", (dst, overwrite) => store.write(dst, "x", { overwrite })],
      ];
      if (store.supports("atomic_write")) {
        writers.push([
          "writeAtomic",
          (dst, overwrite) => store.writeAtomic(dst, "x", { overwrite }),
        ]);
      }
      if (store.supports("copy")) {
        writers.push(["copy", (dst, overwrite) => store.copy("source.txt", dst, { overwrite })]);
      }
      if (store.supports("move")) {
        writers.push(["move", (dst, overwrite) => store.move("source.txt", dst, { overwrite })]);
      }
      for (const [operation, write] of writers) {
        for (const overwrite of [false, true]) {
          for (const under of ["file/x.txt", "file/deeper/x.txt"]) {
            await assert.rejects(
              write(under, overwrite),
              (e) =>
                e instanceof InvalidPathError && /a parent of the path is a file/.test(e.message),
              `${operation} "${under}" (overwrite: ${overwrite})`,
            );
          }
          await assert.rejects(
            write("folder", overwrite),
            (e) => e instanceof InvalidPathError && /the path is a folder/.test(e.message),
            `${operation} "folder" (overwrite: ${overwrite})`,
          );
        }
      }
      assert.equal(await store.readText("file"), "file", "the file is unchanged");
      assert.equal(await store.readText("folder/inner.txt"), "inner", "the folder is unchanged");
      assert.equal(await store.readText("source.txt"), "source", "a refused move keeps its source");
      assert.deepEqual(await paths(store.listFiles("", { recursive: true })), [
        "file",
        "folder/inner.txt",
        "source.txt",
      ]);
      await store.delete("file");
      await store.write("file/now-a-folder.txt", "ok");
      assert.equal(
        await store.readText("file/now-a-folder.txt"),
        "ok",
        "a deleted file frees its path",
      );
    },
  },
  {
    id: "conditional-read",
    name: "reads honour ifMatch, ifNoneMatch, ifModifiedSince and ifUnmodifiedSince",
    requires: ["read", "write"],
    async run({ store }) {
      await store.write("c.txt", "one");
      const old = await store.getFileInfo("c.txt");
      assert.ok(old.etag !== undefined, "the backend reports ETags");
      const etag = old.etag;
      assert.equal(await store.readText("c.txt", { ifMatch: etag }), "one");
      assert.equal(await new Response(await store.read("c.txt", { ifMatch: etag })).text(), "one");
      await store.write("c.txt", "two", { overwrite: true });
      const stale = { ifMatch: etag };
      await assert.rejects(store.read("c.txt", stale), PreconditionFailedError, "read, stale");
      await assert.rejects(store.readBytes("c.txt", stale), PreconditionFailedError, "readBytes");
      await assert.rejects(store.readText("c.txt", stale), PreconditionFailedError, "readText");
      await assert.rejects(
        store.readBytes("c.txt", { ...stale, onProgress: () => {} }),
        PreconditionFailedError,
        "readBytes with onProgress, stale",
      );
      await assert.rejects(
        store.readBytes("c.txt", { ...stale, range: { offset: 1, length: 1 } }),
        PreconditionFailedError,
        "ranged readBytes, stale",
      );
      const info = await store.getFileInfo("c.txt");
      assert.notEqual(info.etag, etag, "an overwrite gets a new ETag");
      assert.equal(await store.readText("c.txt", { ifMatch: info.etag }), "two");
      assert.equal(await store.readText("c.txt", { ifNoneMatch: etag }), "two");
      await assert.rejects(
        store.readText("c.txt", { ifNoneMatch: info.etag }),
        PreconditionFailedError,
        "ifNoneMatch with the current ETag",
      );
      const minute = 60_000;
      const at = info.modifiedAt.getTime();
      const before = new Date(at - minute);
      const later = new Date(at + minute);
      assert.equal(await store.readText("c.txt", { ifModifiedSince: before }), "two");
      await assert.rejects(
        store.readText("c.txt", { ifModifiedSince: info.modifiedAt }),
        PreconditionFailedError,
        "ifModifiedSince the last change",
      );
      assert.equal(await store.readText("c.txt", { ifUnmodifiedSince: later }), "two");
      await assert.rejects(
        store.readText("c.txt", { ifUnmodifiedSince: before }),
        PreconditionFailedError,
        "ifUnmodifiedSince before the last change",
      );
      assert.equal(await store.readText("c.txt"), "two", "a failed condition changes nothing");
    },
  },
  {
    id: "write-checksum",
    name:
      "write with checksum returns the digest of exactly the bytes written (whole and streamed), and verifyChecksum agrees",
    requires: ["write", "read"],
    async run({ store }) {
      const bytes = patternBytes(3 * 1024 * 1024 + 7, 5);
      const algorithms: ChecksumAlgorithm[] = ["sha256", "md5", "crc32c"];
      for (const algorithm of algorithms) {
        const expected = digestBytes(algorithm, bytes);
        const streamed = await store.write(`s-${algorithm}.bin`, chunkedStream(bytes, 65_537), {
          checksum: algorithm,
        });
        assert.deepEqual(streamed.checksum, expected, `${algorithm} of a streamed write`);
        const whole = await store.write(`w-${algorithm}.bin`, bytes, { checksum: algorithm });
        assert.deepEqual(whole.checksum, expected, `${algorithm} of a whole write`);
        const text = await store.write(`t-${algorithm}.txt`, "héllo", { checksum: algorithm });
        assert.deepEqual(text.checksum, digestBytes(algorithm, encoder.encode("héllo")));
        const check = await verifyChecksum(store, `s-${algorithm}.bin`, expected.hex, algorithm);
        assert.equal(check.ok, true, `verifyChecksum ${algorithm} (hex)`);
        const b64 = await verifyChecksum(store, `w-${algorithm}.bin`, expected.base64, algorithm);
        assert.equal(b64.ok, true, `verifyChecksum ${algorithm} (base64)`);
        const wrong = await verifyChecksum(store, `t-${algorithm}.txt`, expected.hex, algorithm);
        assert.equal(wrong.ok, false, `verifyChecksum ${algorithm} of other bytes`);
      }
      const empty = await store.write("empty.bin", new Uint8Array(0), { checksum: "crc32c" });
      assert.equal(empty.checksum?.hex, "00000000");
      assert.equal((await store.write("plain.txt", "x")).checksum, undefined);
      await assert.rejects(
        store.write("bad.txt", "x", { checksum: "sha1" as ChecksumAlgorithm }),
        TypeError,
      );
      await assertMissing(store, "bad.txt");
      await assert.rejects(
        verifyChecksum(store, "missing.bin", "00000000", "crc32c"),
        NotFoundError,
      );
    },
  },
  {
    id: "delete-many",
    name:
      "deleteMany deletes each file, reports each missing path as not_found, never removes a folder, in the order given",
    requires: ["write", "delete", "list"],
    async run({ store }) {
      const present = Array.from({ length: 150 }, (_, i) => `many/f${i}.txt`);
      for (let i = 0; i < present.length; i += 25) {
        await Promise.all(present.slice(i, i + 25).map((path) => store.write(path, "x")));
      }
      await store.write("keep/inner.txt", "k");
      const asked: string[] = [];
      for (const [i, path] of present.entries()) asked.push(path, `many/missing${i}.txt`);
      asked.push("keep", "/many//missing0.txt");
      const results = await store.deleteMany(asked);
      assert.equal(results.length, asked.length, "one result per path");
      for (let i = 0; i < present.length; i++) {
        assert.deepEqual(results[2 * i], { path: present[i], status: "done" }, present[i]);
        assert.deepEqual(results[2 * i + 1], {
          path: `many/missing${i}.txt`,
          status: "not_found",
        });
      }
      assert.notEqual(results.at(-2)!.status, "done", "a folder is not a file to delete");
      assert.equal(results.at(-2)!.path, "keep");
      assert.deepEqual(results.at(-1), { path: "many/missing0.txt", status: "not_found" });
      assert.deepEqual(await paths(store.listFiles("", { recursive: true })), ["keep/inner.txt"]);
      assert.deepEqual(await store.deleteMany([]), []);
      await assert.rejects(store.deleteMany(["ok.txt", "../up.txt"]), InvalidPathError);
      await assert.rejects(store.deleteMany(["x"], { concurrency: 0 }), RangeError);
      await assert.rejects(store.deleteMany(["keep/inner.txt"], { signal: aborted() }), {
        message: "aborted by test",
      });
      assert.equal(await store.isFile("keep/inner.txt"), true, "an aborted call deletes nothing");
    },
  },
  {
    id: "copy-many",
    name:
      "copyMany copies each pair, reports a missing source as not_found and a refused copy as error",
    requires: ["write", "copy"],
    async run({ store }) {
      await store.write("a.txt", "a");
      await store.write("b.txt", "b");
      await store.write("taken.txt", "old");
      const results = await store.copyMany([
        ["a.txt", "out/a.txt"],
        { src: "missing.txt", dst: "out/missing.txt" },
        ["b.txt", "taken.txt"],
      ]);
      assert.deepEqual(results.slice(0, 2), [
        { path: "a.txt", target: "out/a.txt", status: "done" },
        { path: "missing.txt", target: "out/missing.txt", status: "not_found" },
      ]);
      assert.equal(results[2]!.status, "error");
      assert.ok(results[2]!.error instanceof AlreadyExistsError, "create-only by default");
      assert.equal(await store.readText("out/a.txt"), "a");
      assert.equal(await store.readText("taken.txt"), "old");
      await assertMissing(store, "out/missing.txt");
      const again = await store.copyMany([["b.txt", "taken.txt"]], {
        overwrite: true,
        concurrency: 1,
      });
      assert.deepEqual(again, [{ path: "b.txt", target: "taken.txt", status: "done" }]);
      assert.equal(await store.readText("taken.txt"), "b");
    },
  },
  ...HEALTH_CASES,
  ...UPLOADS_CASES,
  ...ATTRIBUTES_CASES,
  ...LISTINGS_CASES,
]);
