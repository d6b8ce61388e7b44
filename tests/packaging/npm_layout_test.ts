// The package as Node and Bun users receive it through JSR's npm layer: the
// published files transpiled to .js with rewritten specifiers, installed in an
// application's node_modules, and a program (tests/packaging/app/
// registry_program.mjs) that uses a Registry with the memory, local and Azure
// (Azurite) backend types, run on Node 24 and on Bun.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ContainerClient } from "@azure/storage-blob";
import { type Azurite, randomContainerName, startAzurite } from "../_azurite.ts";
import { installNpmLayout, type NpmManifest } from "./_npm_layout.ts";
import { describeOnDeno, packagingTools, run } from "./_tools.ts";

interface ProgramOutput {
  runtime: string;
  results: Record<string, {
    text: string;
    listed: string[];
    status: number;
    contentRange: string | null;
    body: string;
  }>;
}

describeOnDeno("the JSR npm layout on Node 24 and Bun", "Node 24 and Bun", () => {
  let temp: string;
  let app: string;
  let manifest: NpmManifest;
  let azurite: Azurite;

  before(async () => {
    temp = mkdtempSync(join(tmpdir(), "rs-npm-layout-"));
    app = join(temp, "app");
    const tools = await packagingTools();
    manifest = await installNpmLayout(tools.esbuild, app);
    copyFileSync(
      fileURLToPath(new URL("./app/registry_program.mjs", import.meta.url)),
      join(app, "program.mjs"),
    );
    azurite = await startAzurite();
  });

  after(async () => {
    await azurite?.stop();
    if (temp) rmSync(temp, { recursive: true, force: true });
  });

  test("package.json mirrors deno.json exports and takes its dependencies from the import map", () => {
    assert.equal(manifest.name, "@remote-store/remote-store");
    assert.deepEqual(manifest.exports, {
      ".": "./mod.js",
      "./memory": "./memory.js",
      "./local": "./local.js",
      "./azure": "./azure.js",
      "./azure/identity": "./azure_identity.js",
      "./conformance": "./conformance.js",
      "./cli": "./cli.js",
      "./node": "./node.js",
    });
    assert.ok(
      manifest.dependencies["@azure/identity"],
      "@azure/identity is a dependency (of ./azure/identity)",
    );
    assert.ok(
      !("@azure/storage-blob" in manifest.dependencies) &&
        !("@azure/storage-file-datalake" in manifest.dependencies),
      "the Azure SDK is not a dependency: the backend speaks fetch, unwrap uses the caller's SDK",
    );
    assert.ok(
      !("azurite" in manifest.dependencies),
      "test-only packages are not dependencies",
    );
  });

  for (
    const [runtime, command] of [["Node 24", "node@24"], [
      "Bun",
      "bun@1",
    ]] as const
  ) {
    test(`a Registry with memory, local and azure works on ${runtime}`, async () => {
      const root = join(temp, `root-${command}`);
      const container = randomContainerName("npm");
      await new ContainerClient(azurite.connectionString, container).create();
      const { stdout } = await run("npx", [
        "--yes",
        command,
        "program.mjs",
        root,
        azurite.connectionString,
        container,
      ], { cwd: app });
      const output = JSON.parse(
        stdout.trim().split("\n").at(-1)!,
      ) as ProgramOutput;
      assert.match(
        output.runtime,
        runtime === "Bun" ? /^bun 1\./ : /^node v24\./,
      );
      for (const name of ["mem", "disk", "blob"]) {
        const text = `hello from ${name}\n`;
        assert.deepEqual(output.results[name], {
          text,
          listed: ["dir/hello world.txt"],
          status: 206,
          contentRange: `bytes 6-9/${text.length}`,
          body: text.slice(6, 10),
        }, name);
      }
    });
  }
});
