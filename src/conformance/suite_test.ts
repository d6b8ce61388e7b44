import assert from "node:assert/strict";
import { test } from "node:test";
import { CONFORMANCE_CASES, runConformanceSuite } from "../../conformance.ts";
import { MemoryBackend } from "../backends/memory/memory_backend.ts";

test("conformance case ids are unique and kebab-case", () => {
  const ids = CONFORMANCE_CASES.map((c) => c.id);
  assert.equal(new Set(ids).size, ids.length, "no id repeats");
  for (const id of ids) assert.match(id, /^[a-z0-9]+(-[a-z0-9]+)*$/, `id "${id}"`);
});

test("skipping an id that names no case is a TypeError", () => {
  assert.throws(
    () =>
      runConformanceSuite("typo", { backend: new MemoryBackend(), skip: { "no-such-case": "x" } }),
    (e) => e instanceof TypeError && /"no-such-case"/.test(e.message),
  );
});

// A case listed in `skip` never runs: this one would fail every variant if it did.
runConformanceSuite("skip by id", {
  backend: new MemoryBackend(),
  cases: [{
    id: "always-fails",
    name: "a skipped case never runs",
    run: () => Promise.reject(new Error("a case listed in skip ran")),
  }],
  skip: { "always-fails": "the suite's own check that skips by id work" },
});
