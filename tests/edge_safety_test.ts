// The core and Azure entrypoints must stay edge-safe: their module graphs (as
// `deno info` sees them, dynamic imports included) hold no `node:` builtin;
// the core one no Azure package, the Azure one no Azure package loaded at run
// time (`@azure/identity` is imported by `./azure/identity` only: its
// workerd build needs Node built-ins, so a dynamic import of it would break
// a Workers bundle of `./azure`).
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
  /** `esm` (a source module), `node` (a builtin) or `npm` (a package, not expanded). */
  kind?: string;
  specifier: string;
  dependencies?: {
    specifier: string;
    code?: { specifier: string };
    type?: { specifier: string };
    isDynamic?: boolean;
  }[];
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

/** One import in the graph: who imports what, and how. */
interface GraphImport {
  from: string;
  to: string;
  how: "static" | "dynamic" | "type";
}

/** Every import of every module in the graph (the resolved specifier; `how` as deno sees it). */
function imports(json: string): { modules: GraphModule[]; imports: GraphImport[] } {
  const graph = JSON.parse(json) as { modules: GraphModule[] };
  const all = graph.modules.flatMap((m) =>
    (m.dependencies ?? []).flatMap((d): GraphImport[] => {
      const from = m.specifier.replace(/^file:\/\/.*?\/(?=(src\/|[a-z_]+\.ts$))/, "");
      const out: GraphImport[] = [];
      if (d.code) {
        out.push({ from, to: d.code.specifier, how: d.isDynamic ? "dynamic" : "static" });
      }
      if (d.type) out.push({ from, to: d.type.specifier, how: "type" });
      return out;
    })
  );
  return { modules: graph.modules, imports: all };
}

test("the azure entrypoint loads no node: builtin and no Azure package", async () => {
  const graph = imports(await denoInfo("azure.ts"));
  assert.ok(
    graph.modules.some((m) => m.specifier.endsWith("/src/backends/azure/azure_backend.ts")),
    "the graph was read",
  );
  // No builtin anywhere: not as a module, not imported (statically, dynamically or for types).
  assert.deepEqual(
    graph.modules.filter((m) => m.kind === "node" || m.specifier.startsWith("node:"))
      .map((m) => m.specifier),
    [],
  );
  assert.deepEqual(graph.imports.filter((i) => i.to.startsWith("node:")), []);
  // Azure packages: type-only imports are erased; none may load at run time.
  const azure = graph.imports.filter((i) => /^npm:\/?@azure\//.test(i.to) && i.how !== "type");
  assert.deepEqual(azure, []);
  // The check sees Azure packages where they are: ./azure/identity imports @azure/identity.
  const identity = imports(await denoInfo("azure_identity.ts")).imports
    .filter((i) => /^npm:\/?@azure\/identity@/.test(i.to) && i.how === "static");
  assert.ok(identity.length > 0, "the check sees @azure/identity in ./azure/identity");
});

test("no module of the package computes an import path at run time", () => {
  const files: string[] = [
    "mod.ts",
    "memory.ts",
    "local.ts",
    "azure.ts",
    "conformance.ts",
    "cli.ts",
    "azure_identity.ts",
    "node.ts",
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
