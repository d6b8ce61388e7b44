// The README's listings example, exactly as printed (only the package specifiers point at this
// checkout), prints what its comments say.
import assert from "node:assert/strict";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { test } from "node:test";
import { localized, readmeBlocks, ROOT } from "./_blocks.ts";

test("README listings example prints what its comments say", async () => {
  const block = readmeBlocks().find((b) => b.name === "listings");
  assert.ok(block, "README.md has a block named listings");
  const dir = join(ROOT, `.readme_listings_${process.pid}`);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "listings.ts");
  writeFileSync(file, localized(block.code, 1));
  const printed: string[] = [];
  const log = console.log;
  console.log = (...values: unknown[]) => printed.push(values.join(" "));
  try {
    await import(pathToFileURL(file).href);
  } finally {
    console.log = log;
    rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual(printed, [
    "a.txt docs/b.txt docs/c.md e.txt",
    "docs docs/old",
    "file b.txt",
    "file c.md",
    "folder old",
    "2",
    "a.txt docs/b.txt",
    "docs/c.md docs/old/d.txt",
    "e.txt",
  ]);
});
