// The core entrypoint must stay edge-safe: its module graph (as `deno info`
// sees it, dynamic imports included) holds no `node:` builtin and no Azure SDK.
// And no module computes an import path: JSR's npm layer, bundlers and edge
// runtimes follow only static and string-literal specifiers.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

function denoInfo(entry: string): Promise<string> {
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
  const [command, args] = deno
    ? [deno.execPath(), ["info", "--json", entry]]
    : ["npx", ["--yes", "deno@2", "info", "--json", entry]];
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd: root, maxBuffer: 64 * 1024 * 1024 }, (error, stdout) => {
      if (error) reject(error);
      else resolve(stdout);
    });
  });
}

interface GraphModule {
  specifier: string;
  dependencies?: { code?: { specifier: string }; type?: { specifier: string } }[];
}

/** Every module in the graph and every specifier any module imports. */
function specifiers(json: string): string[] {
  const graph = JSON.parse(json) as { modules: GraphModule[] };
  return graph.modules.flatMap((m) => [
    m.specifier,
    ...(m.dependencies ?? []).flatMap((d) => [d.code?.specifier, d.type?.specifier]),
  ]).filter((s): s is string => s !== undefined);
}

test("the core entrypoint loads no node: builtin and no @azure package", async () => {
  const all = specifiers(await denoInfo("mod.ts"));
  assert.ok(all.some((s) => s.endsWith("/src/store.ts")), "the graph was read");
  const forbidden = all.filter((s) => s.startsWith("node:") || s.includes("@azure"));
  assert.deepEqual(forbidden, []);
});

test("the check sees node: builtins where they are (the conformance entrypoint)", async () => {
  const all = specifiers(await denoInfo("conformance.ts"));
  assert.ok(all.includes("node:test"), "node:test is in the conformance graph");
});

test("no module of the package computes an import path at run time", () => {
  const files: string[] = [
    "mod.ts",
    "memory.ts",
    "local.ts",
    "azure.ts",
    "conformance.ts",
    "cli.ts",
  ];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const rel = `${dir}/${entry.name}`;
      if (entry.isDirectory()) walk(rel);
      else if (rel.endsWith(".ts") && !rel.endsWith("_test.ts")) files.push(rel);
    }
  };
  walk("src");
  assert.ok(files.length > 30, "the sources were found");
  const computed: string[] = [];
  for (const file of files) {
    const code = readFileSync(join(root, file), "utf8")
      .replace(/\/\*[\s\S]*?\*\//g, "")
      .replace(/^\s*\/\/.*$/gm, "");
    // Every dynamic import names its module with one string literal.
    for (const match of code.matchAll(/\bimport\s*\(\s*([^)]*)\)/g)) {
      if (!/^(["'])[^"'`$]+\1$/.test(match[1]!.trim())) computed.push(`${file}: ${match[0]}`);
    }
  }
  assert.deepEqual(computed, []);
});
