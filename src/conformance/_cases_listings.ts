/**
 * Conformance cases of the listings: `maxDepth` as the Python library
 * defines it, `listFolders` with `pattern` and `maxDepth`, `iterChildren`,
 * `getFolderInfo` with `maxDepth`, whole-segment `**` in globs, and paged
 * listings (`startAfter`, `limit`) in code point order. Private module.
 *
 * @module
 */

import assert from "node:assert/strict";
import { InvalidPathError, NotFoundError } from "../errors.ts";
import type { Store } from "../store.ts";
import { compareKeys } from "../_order.ts";
import type { ConformanceCase } from "./cases.ts";
import { collect, paths, writeTree } from "./_helpers.ts";

/**
 * Names whose code point order differs from a depth-first walk (`x-y.txt`
 * and `x.txt` sort before `x/z.txt`) and from UTF-16 order nowhere (no
 * character above U+D7FF), so every service sorts them alike.
 */
const PAGED = [
  "0.txt",
  "a b.txt",
  "x-y.txt",
  "x.txt",
  "x/z.txt",
  "x/a/1.txt",
  "x/a/2.csv",
  "x/a/b/3.txt",
  "x0.txt",
  "y/1.txt",
  "y/2.txt",
  "y/z/9.txt",
  "z.csv",
  "\u00e9t\u00e9.txt",
  "\u00e9t\u00e9/\u00e0.txt",
];

/** The listing's paths in the order given (not sorted). */
async function inOrder(iterable: AsyncIterable<{ path: string }>): Promise<string[]> {
  return (await collect(iterable)).map((entry) => entry.path);
}

/**
 * Pages through a listing with `limit` and `startAfter`: checks the pages'
 * sizes, that resuming from every page's last path gives the next page, and
 * returns every path in page order.
 */
async function pageThrough(
  list: (startAfter: string | undefined, limit: number) => AsyncIterable<{ path: string }>,
  limit: number,
): Promise<string[]> {
  const all: string[] = [];
  const cursors: (string | undefined)[] = [];
  let cursor: string | undefined;
  while (true) {
    const page = await inOrder(list(cursor, limit));
    assert.ok(page.length <= limit, `a page holds at most ${limit} files, got ${page.length}`);
    cursors.push(cursor);
    all.push(...page);
    if (page.length < limit) break;
    cursor = page.at(-1);
  }
  // Resuming from any cursor gives exactly the rest.
  for (const [index, start] of cursors.entries()) {
    const skipped = index * limit;
    assert.deepEqual(
      await inOrder(list(start, Number.MAX_SAFE_INTEGER)),
      all.slice(skipped),
      `the rest after ${JSON.stringify(start)}`,
    );
  }
  return all;
}

/** Every listing case. */
export const LISTINGS_CASES: ConformanceCase[] = [
  {
    id: "list-files-max-depth",
    name:
      "listFiles maxDepth: 0 is the folder's own files, N adds N levels, with or without recursive",
    requires: ["write", "list"],
    async run({ store }) {
      await writeTree(store);
      const list = (path: string, options: Parameters<Store["listFiles"]>[1]) =>
        paths(store.listFiles(path, options));
      assert.deepEqual(await list("", { maxDepth: 0 }), ["a.txt", "b.csv"]);
      assert.deepEqual(await list("", { maxDepth: 0, recursive: true }), ["a.txt", "b.csv"]);
      const one = ["a.txt", "b.csv", "docs/c.txt", "docs/d.md", "img/g.png"];
      assert.deepEqual(await list("", { maxDepth: 1 }), one);
      assert.deepEqual(await list("", { maxDepth: 1, recursive: false }), one);
      assert.deepEqual(await list("", { maxDepth: 2 }), [...one, "docs/deep/e.txt"].sort());
      assert.deepEqual(await list("", { maxDepth: 3 }), await list("", { recursive: true }));
      assert.deepEqual(await list("", { maxDepth: 99 }), await list("", { recursive: true }));
      assert.deepEqual(await list("docs", { maxDepth: 1 }), [
        "docs/c.txt",
        "docs/d.md",
        "docs/deep/e.txt",
      ]);
      assert.deepEqual(await list("", { maxDepth: 1, pattern: "*.txt" }), ["a.txt", "docs/c.txt"]);
      assert.deepEqual(await list("", {}), ["a.txt", "b.csv"], "default: the folder's own files");
      for (const bad of [-1, 1.5, Number.NaN, Infinity]) {
        await assert.rejects(collect(store.listFiles("", { maxDepth: bad })), RangeError);
      }
    },
  },
  {
    id: "list-folders-depth-pattern",
    name:
      "listFolders honours maxDepth (levels below the immediate ones) and pattern (on the name)",
    requires: ["write", "list"],
    async run({ store }) {
      await writeTree(store);
      assert.deepEqual(await paths(store.listFolders("", { maxDepth: 0 })), ["docs", "img"]);
      assert.deepEqual(await paths(store.listFolders("", { maxDepth: 1 })), [
        "docs",
        "docs/deep",
        "img",
      ]);
      assert.deepEqual(await paths(store.listFolders("", { maxDepth: 5 })), [
        "docs",
        "docs/deep",
        "docs/deep/er",
        "img",
      ]);
      assert.deepEqual(await paths(store.listFolders("", { pattern: "i*" })), ["img"]);
      assert.deepEqual(
        await collect(store.listFolders("", { pattern: "e?", maxDepth: 2 })),
        [{ path: "docs/deep/er", name: "er" }],
        "folders that do not match are descended into",
      );
      assert.deepEqual(await paths(store.listFolders("missing", { maxDepth: 2 })), []);
      await assert.rejects(collect(store.listFolders("", { maxDepth: -1 })), RangeError);
    },
  },
  {
    id: "iter-children",
    name: "iterChildren yields a folder's files and subfolders in one pass, told apart by kind",
    requires: ["write", "list"],
    async run({ store }) {
      await writeTree(store);
      const children = await collect(store.iterChildren("docs"));
      const byPath = (a: { path: string }, b: { path: string }) => compareKeys(a.path, b.path);
      children.sort(byPath);
      assert.deepEqual(
        children.map((c) => [c.kind, c.path, c.name]),
        [
          ["file", "docs/c.txt", "c.txt"],
          ["file", "docs/d.md", "d.md"],
          ["folder", "docs/deep", "deep"],
        ],
      );
      const file = children.find((c) => c.kind === "file" && c.name === "d.md");
      assert.ok(file?.kind === "file");
      assert.equal(file.size, 4);
      assert.ok(file.modifiedAt instanceof Date);
      assert.equal(await store.readText(file.path), "dddd", "listed paths are usable as input");
      assert.deepEqual(await paths(store.iterChildren("")), ["a.txt", "b.csv", "docs", "img"]);
      assert.deepEqual(await paths(store.iterChildren("missing")), []);
      assert.deepEqual(await paths(store.iterChildren("a.txt")), [], "a file is not a folder");
    },
  },
  {
    id: "folder-info-depth",
    name: "getFolderInfo maxDepth totals only files that many levels down",
    requires: ["write", "list"],
    async run({ store }) {
      await writeTree(store);
      const own = await store.getFolderInfo("docs", { maxDepth: 0 });
      assert.deepEqual([own.path, own.fileCount, own.totalSize], ["docs", 2, 3 + 4]);
      assert.ok(own.modifiedAt instanceof Date);
      const one = await store.getFolderInfo("docs", { maxDepth: 1 });
      assert.deepEqual([one.fileCount, one.totalSize], [3, 3 + 4 + 5]);
      const all = await store.getFolderInfo("docs");
      assert.deepEqual([all.fileCount, all.totalSize], [4, 3 + 4 + 5 + 6]);
      const root = await store.getFolderInfo("", { maxDepth: 0 });
      assert.deepEqual([root.fileCount, root.totalSize], [2, 1 + 2]);
      await assert.rejects(store.getFolderInfo("docs", { maxDepth: -1 }), RangeError);
      await assert.rejects(store.getFolderInfo("nope", { maxDepth: 0 }), NotFoundError);
    },
  },
  {
    id: "glob-double-star-segment",
    name: "a glob ** that is not a whole segment is an InvalidPathError, not an empty result",
    requires: ["write", "list"],
    async run({ store }) {
      await writeTree(store);
      for (const pattern of ["docs/**e.txt", "**.txt", "docs**/c.txt", "a/b**c/*", "***"]) {
        await assert.rejects(collect(store.glob(pattern)), InvalidPathError, pattern);
      }
      assert.deepEqual(await paths(store.glob("docs/**")), [
        "docs/c.txt",
        "docs/d.md",
        "docs/deep/e.txt",
        "docs/deep/er/f.txt",
      ]);
      assert.deepEqual(await paths(store.glob("**/e.txt")), ["docs/deep/e.txt"]);
    },
  },
  {
    id: "list-files-paged",
    name:
      "listFiles pages with startAfter and limit in code point order; every cursor resumes exactly",
    requires: ["write", "list"],
    async run({ store }) {
      await Promise.all(PAGED.map((path) => store.write(path, path)));
      const sorted = [...PAGED].sort(compareKeys);
      assert.deepEqual(
        await inOrder(store.listFiles("", { recursive: true })),
        sorted,
        "a recursive listing comes in code point order",
      );
      for (const limit of [1, 4, 15, 100]) {
        const all = await pageThrough(
          (startAfter, limit) => store.listFiles("", { recursive: true, startAfter, limit }),
          limit,
        );
        assert.deepEqual(all, sorted, `pages of ${limit}`);
      }
      const own = sorted.filter((path) => !path.includes("/"));
      assert.deepEqual(
        await pageThrough((startAfter, limit) => store.listFiles("", { startAfter, limit }), 2),
        own,
        "one level, paged",
      );
      const depthOne = sorted.filter((path) => path.split("/").length <= 2);
      assert.deepEqual(
        await pageThrough(
          (startAfter, limit) => store.listFiles("", { maxDepth: 1, startAfter, limit }),
          3,
        ),
        depthOne,
        "maxDepth, paged",
      );
      const txt = sorted.filter((path) => path.startsWith("x/") && path.endsWith(".txt"));
      assert.deepEqual(
        await pageThrough(
          (startAfter, limit) =>
            store.listFiles("x", { recursive: true, pattern: "*.txt", startAfter, limit }),
          1,
        ),
        txt,
        "a subfolder with a pattern, paged",
      );
      // A startAfter that names no file starts where it would sort.
      assert.deepEqual(
        await inOrder(store.listFiles("", { recursive: true, startAfter: "x/" })),
        sorted.filter((path) => compareKeys(path, "x/") > 0),
      );
      assert.deepEqual(
        await inOrder(store.listFiles("", { recursive: true, startAfter: "" })),
        sorted,
        "an empty startAfter starts at the beginning",
      );
      assert.deepEqual(await inOrder(store.listFiles("", { startAfter: "\u00ff" })), []);
      await assert.rejects(collect(store.listFiles("", { limit: 0 })), RangeError);
      await assert.rejects(collect(store.listFiles("", { limit: 1.5 })), RangeError);
      await assert.rejects(
        collect(store.listFiles("", { startAfter: 5 as unknown as string })),
        TypeError,
      );
    },
  },
  {
    id: "glob-paged",
    name: "glob pages with startAfter and limit in code point order",
    requires: ["write", "list"],
    async run({ store }) {
      await Promise.all(PAGED.map((path) => store.write(path, path)));
      const sorted = [...PAGED].sort(compareKeys);
      const txt = sorted.filter((path) => path.endsWith(".txt"));
      assert.deepEqual(
        await pageThrough((startAfter, limit) => store.glob("**/*.txt", { startAfter, limit }), 2),
        txt,
      );
      assert.deepEqual(
        await pageThrough((startAfter, limit) => store.glob("x/*/*", { startAfter, limit }), 1),
        ["x/a/1.txt", "x/a/2.csv"],
      );
      assert.deepEqual(
        await inOrder(store.glob("*.txt", { startAfter: "x.txt" })),
        ["x0.txt", "\u00e9t\u00e9.txt"],
      );
      await assert.rejects(collect(store.glob("*.txt", { limit: -1 })), RangeError);
    },
  },
];
