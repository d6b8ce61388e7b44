// The benchmark has its own config (bench/deno.json), so that its peers are
// installed only for it. Everything it shares with the root config must say
// the same thing there.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

interface Config {
  imports: Record<string, string>;
  compilerOptions: unknown;
  fmt: { lineWidth: number };
}

const read = (path: string): Config =>
  JSON.parse(readFileSync(new URL(`../../${path}`, import.meta.url), "utf8"));
const root = read("deno.json");
const bench = read("bench/deno.json");

test("bench/deno.json maps shared packages as deno.json does, and only bench needs the rest", () => {
  const benchOnly = Object.keys(bench.imports).filter((name) => !(name in root.imports));
  assert.ok(benchOnly.includes("unstorage"), "the peers are bench-only");
  for (const [name, target] of Object.entries(bench.imports)) {
    if (name in root.imports) assert.equal(target, root.imports[name], name);
  }
});

test("bench/deno.json type-checks and formats with the root's options", () => {
  assert.deepEqual(bench.compilerOptions, root.compilerOptions);
  assert.equal(bench.fmt.lineWidth, root.fmt.lineWidth);
});
