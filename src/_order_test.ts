import assert from "node:assert/strict";
import { test } from "node:test";
import { compareKeys } from "./_order.ts";

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
