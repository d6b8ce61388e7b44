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

/**
 * Root imports the benchmark never reaches: test servers, the TOML parser (loaded only for TOML
 * configs), the examples' Node server, OpenTelemetry (the example and its test).
 */
const notForBench = [
  "azurite",
  "smol-toml",
  "srvx",
  "@opentelemetry/api",
  "@opentelemetry/sdk-trace-base",
];

test("bench/deno.json maps every package the library needs as deno.json does, and its own peers", () => {
  for (const [name, target] of Object.entries(root.imports)) {
    if (notForBench.includes(name)) continue;
    assert.equal(
      bench.imports[name],
      target,
      `"${name}" is mapped by deno.json; map it the same way in bench/deno.json ` +
        `(or add it to notForBench here if the benchmark never reaches it)`,
    );
  }
  const benchOnly = Object.keys(bench.imports).filter((name) => !(name in root.imports));
  assert.ok(benchOnly.includes("unstorage"), "the peers are bench-only");
});

test("bench/deno.json type-checks and formats with the root's options", () => {
  assert.deepEqual(bench.compilerOptions, root.compilerOptions);
  assert.equal(bench.fmt.lineWidth, root.fmt.lineWidth);
});
