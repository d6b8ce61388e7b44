import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { baseName, InvalidPathError, joinPath, normalizePath, parentPath } from "../mod.ts";
import { globToRegExp, segmentToRegExp } from "./_glob.ts";

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

describe("glob patterns", () => {
  const cases: [string, string, boolean][] = [
    ["*.txt", "a.txt", true],
    ["*.txt", "d/a.txt", false],
    ["**/*.txt", "a.txt", true],
    ["**/*.txt", "d/e/a.txt", true],
    ["d/**", "d/e/a.txt", true],
    ["d/**/a.txt", "d/a.txt", true],
    ["?.txt", "ab.txt", false],
    ["[ab].txt", "b.txt", true],
    ["[!ab].txt", "b.txt", false],
    ["[!ab].txt", "c.txt", true],
    ["[a-c].txt", "b.txt", true],
    ["a.(txt)", "a.(txt)", true],
    ["a+b", "a+b", true],
    ["[unclosed", "[unclosed", true],
  ];
  for (const [pattern, path, expected] of cases) {
    test(`${pattern} ${expected ? "matches" : "does not match"} ${path}`, () => {
      assert.equal(globToRegExp(pattern).test(path), expected);
    });
  }

  test("a segment pattern never crosses /", () => {
    assert.equal(segmentToRegExp("*").test("a/b"), false);
    assert.equal(segmentToRegExp("*").test("ab"), true);
  });
});
