// The README's "Stored HTTP attributes" example, exactly as printed (only the
// package specifier points at this checkout), run by the runtime running this
// test; what it prints is what its comments say.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { localized, readmeBlocks, ROOT } from "./_blocks.ts";

test("the README's stored HTTP attributes example prints what its comments say", () => {
  const block = readmeBlocks().find((b) => b.name === "http-attributes");
  assert.ok(block, 'README.md has a block named "http-attributes"');
  const file = join(ROOT, "tests", "readme", `.http_attributes_${process.pid}.ts`);
  writeFileSync(file, localized(block.code, 2));
  try {
    const deno = (globalThis as { Deno?: unknown }).Deno !== undefined;
    const args = deno ? ["run", "-A", file] : [file];
    const out = execFileSync(process.execPath, args, { encoding: "utf8" });
    assert.deepEqual(out.trim().split("\n"), [
      "true",
      "gzip true",
      "gzip",
      "public, max-age=31536000, immutable",
    ]);
  } finally {
    rmSync(file, { force: true });
  }
});
