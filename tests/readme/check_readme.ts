/**
 * Gate step (`deno task check`): type-checks every TypeScript block of
 * README.md, each as its own module, against this checkout. Exits non-zero
 * naming the README line of each block that does not check.
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { localized, readmeBlocks, ROOT } from "./_blocks.ts";

const dir = join(ROOT, ".readme_check");
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir);
const blocks = readmeBlocks();
const files = blocks.map((block) => {
  const file = join(dir, `readme_line_${block.line}.ts`);
  // `export {}` makes each block a module, so blocks do not share top-level names.
  writeFileSync(file, `${block.prelude}${localized(block.code, 1)}export {};\n`);
  return file;
});
const deno = (globalThis as { Deno?: { execPath(): string } }).Deno?.execPath() ?? "deno";
const result = spawnSync(
  deno,
  ["check", "--quiet", "--config", join(ROOT, "deno.json"), ...files],
  {
    cwd: ROOT,
    encoding: "utf8",
  },
);
rmSync(dir, { recursive: true, force: true });
if (result.status !== 0) {
  process.stderr.write(result.stdout + result.stderr);
  process.stderr.write(
    `README.md: a TypeScript block does not type-check (its file is named after its line)\n`,
  );
  process.exit(1);
}
console.log(`README.md: ${blocks.length} TypeScript blocks type-check`);
