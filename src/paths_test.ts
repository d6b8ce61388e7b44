import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { baseName, InvalidPathError, joinPath, normalizePath, parentPath } from "../mod.ts";

describe("normalizePath", () => {
  test("normalises separators, dots and edges", () => {
    assert.equal(normalizePath("a/b"), "a/b");
    assert.equal(normalizePath("\\a\\b\\"), "a/b");
    assert.equal(normalizePath("//a///b//"), "a/b");
    assert.equal(normalizePath("./a/./b/."), "a/b");
    assert.equal(normalizePath("", { allowEmpty: true }), "");
    assert.equal(normalizePath("/./", { allowEmpty: true }), "");
  });

  test("keeps odd characters unchanged", () => {
    for (const key of ["a b", "ü/日本", "100%", "#?", "a+b", "...", "..a", "a..", ". x"]) {
      assert.equal(normalizePath(key), key);
    }
  });

  test("rejects .., NUL, empty and non-strings with InvalidPathError", () => {
    for (const bad of ["..", "a/..", "../a", "a/../b", "a\\..\\b", "a\0b", "", "/", "."]) {
      assert.throws(() => normalizePath(bad), InvalidPathError, JSON.stringify(bad));
    }
    assert.throws(() => normalizePath(42 as unknown as string), InvalidPathError);
    assert.throws(() => normalizePath("a\0b"), /NUL byte/);
  });

  test("join, base and parent", () => {
    assert.equal(joinPath("", "a", "", "b"), "a/b");
    assert.equal(baseName("a/b/c.txt"), "c.txt");
    assert.equal(baseName("c.txt"), "c.txt");
    assert.equal(parentPath("a/b/c.txt"), "a/b");
    assert.equal(parentPath("c.txt"), "");
  });
});
