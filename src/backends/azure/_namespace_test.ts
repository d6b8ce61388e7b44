import assert from "node:assert/strict";
import { test } from "node:test";
import { startFromFor } from "./_namespace.ts";

test("startFromFor sends the cursor only within the prefix, and one level deep for a delimited listing", () => {
  assert.equal(startFromFor("d/", undefined, false), undefined);
  assert.equal(startFromFor("d/", "d/a/b", false), "d/a/b");
  assert.equal(startFromFor("d/", "d/a", true), "d/a");
  assert.equal(startFromFor("d/", "d/a/b", true), undefined, "deeper than the level");
  assert.equal(startFromFor("d/", "c", false), undefined, "before the prefix");
  assert.equal(startFromFor("d/", "e", false), undefined, "after the prefix");
  assert.equal(startFromFor("", "x/y", false), "x/y");
  const longest = "d/" + "a".repeat(1022);
  assert.equal(startFromFor("d/", longest, false), longest, "a blob name's length");
  assert.equal(startFromFor("d/", longest + "a", false), undefined, "longer than any blob name");
});
