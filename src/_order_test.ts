import assert from "node:assert/strict";
import { test } from "node:test";
import { compareKeys, fileNeeded, folderPassed } from "./_order.ts";

test("compareKeys orders by code point (UTF-8 byte order)", () => {
  const keys = ["b", "a/x", "a-b", "a", "\u{1F600}", "\uFF01", "\u00e9", "a/"];
  const sorted = [...keys].sort(compareKeys);
  assert.deepEqual(sorted, ["a", "a-b", "a/", "a/x", "b", "\u00e9", "\uFF01", "\u{1F600}"]);
  const encoder = new TextEncoder();
  const bytes = (s: string) => [...encoder.encode(s)];
  const byBytes = [...keys].sort((x, y) => {
    const a = bytes(x);
    const b = bytes(y);
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
    return a.length - b.length;
  });
  assert.deepEqual(sorted, byBytes);
  assert.equal(compareKeys("same", "same"), 0);
});

test("folderPassed: a folder is left out only when every key below it sorts at or before the cursor", () => {
  assert.equal(folderPassed("a", undefined), false);
  assert.equal(folderPassed("a", "a/x"), false, "the cursor is inside the folder");
  assert.equal(folderPassed("a", "a-z"), false, "a-z sorts before a/");
  assert.equal(folderPassed("a", "a0"), true, "a0 sorts after every a/...");
  assert.equal(folderPassed("a", "b"), true);
  assert.equal(folderPassed("", "anything"), false, "the root holds every key");
  assert.equal(fileNeeded("a/x", "a/x"), false, "the cursor itself is not repeated");
  assert.equal(fileNeeded("a/y", "a/x"), true);
  assert.equal(fileNeeded("a/x", undefined), true);
});
