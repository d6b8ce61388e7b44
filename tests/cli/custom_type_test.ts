// A user's own backend type works from a JSON config through the real CLI
// program, exactly like a built-in: a three-line program around `main` adds
// it, and the config names it by its type.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import process from "node:process";
import { ROOT, spawnProcess, tempDir } from "./_helpers.ts";

/** How this runtime runs a program file (Deno with the project's config). */
function programCommand(file: string): [string, string[]] {
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
  if (deno) return [deno.execPath(), ["run", "-A", "--config", join(ROOT, "deno.json"), file]];
  return [process.execPath, [file]];
}

describe("a custom backend type in the CLI", { timeout: 300_000 }, () => {
  const dir = tempDir("custom-type");
  after(() => dir.cleanup());

  // "folder" is the user's own type: its option is `dir`, and it counts the
  // backends it creates in a marker file so the test sees it was used.
  const typeFile = join(dir.path, "folder_type.ts");
  writeFileSync(
    typeFile,
    `import type { BackendType } from ${JSON.stringify(pathToFileURL(join(ROOT, "mod.ts")).href)};
import { LocalBackend } from ${JSON.stringify(pathToFileURL(join(ROOT, "local.ts")).href)};
import { appendFileSync } from "node:fs";

export const folderType: BackendType<{ dir: string }> = {
  type: "folder",
  parseOptions(options, keyPath) {
    if (typeof options.dir !== "string") throw new TypeError(\`"\${keyPath}.dir" must be a string\`);
    return { dir: options.dir };
  },
  create(options) {
    appendFileSync(${JSON.stringify(join(dir.path, "created.log"))}, "created\\n");
    return new LocalBackend({ root: options.dir });
  },
};
`,
  );
  const program = join(dir.path, "my_cli.ts");
  writeFileSync(
    program,
    `import { main } from ${JSON.stringify(pathToFileURL(join(ROOT, "cli.ts")).href)};
import { folderType } from "./folder_type.ts";
await main({ backendTypes: [folderType] });
`,
  );
  const config = join(dir.path, "remote-store.json");
  writeFileSync(
    config,
    JSON.stringify({
      backends: { mine: { type: "folder", options: { dir: join(dir.path, "data") } } },
      stores: { files: { backend: "mine", root_path: "inbox" } },
    }),
  );
  writeFileSync(join(dir.path, "hello.txt"), "hello from a custom type");

  const run = (args: string[]) => {
    const [command, prefix] = programCommand(program);
    return spawnProcess(command, [...prefix, ...args], { cwd: dir.path, timeoutMs: 120_000 });
  };

  test("cp, ls and cat go through the custom type named in the config", async () => {
    const copied = await run(["cp", join(dir.path, "hello.txt"), "files:greeting.txt"]);
    assert.equal(copied.code, 0, copied.stderr);
    assert.equal(
      readFileSync(join(dir.path, "data", "inbox", "greeting.txt"), "utf8"),
      "hello from a custom type",
    );
    const listed = await run(["ls", "files:"]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(new TextDecoder().decode(listed.stdout), /greeting\.txt/);
    const cat = await run(["cat", "files:greeting.txt"]);
    assert.equal(new TextDecoder().decode(cat.stdout), "hello from a custom type");
    assert.equal(readFileSync(join(dir.path, "created.log"), "utf8"), "created\n".repeat(3));
  });

  test("the plain CLI does not know the type, and says how to add one", async () => {
    const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
    const cli = join(ROOT, "cli.ts");
    const [command, prefix] = deno
      ? [deno.execPath(), ["run", "-A", "--config", join(ROOT, "deno.json"), cli]]
      : [process.execPath, [cli]];
    const result = await spawnProcess(command, [...prefix, "ls", "files:"], {
      cwd: dir.path,
      timeoutMs: 120_000,
    });
    assert.equal(result.code, 7, result.stderr);
    assert.match(result.stderr, /"backends\.mine\.type" must be one of .*"local".*"azure"/);
    assert.match(result.stderr, /got "folder"/);
    assert.match(result.stderr, /backendTypes/);
  });

  test("a bad option of the custom type is an invalid config naming the key", async () => {
    const bad = join(dir.path, "bad.json");
    writeFileSync(
      bad,
      JSON.stringify({ backends: { mine: { type: "folder", options: { dir: 5 } } }, stores: {} }),
    );
    const result = await run(["--config", bad, "ls", "files:"]);
    assert.equal(result.code, 7, result.stderr);
    assert.match(result.stderr, /"backends\.mine\.options\.dir" must be a string/);
  });
});
