// The README's Quick start and its serving handler, exactly as printed (only the package specifiers
// point at this checkout, as an import map would), runs against Azurite:
// it writes, reads and lists, then serves the store over HTTP while the
// registry stays open, with decoded URL paths and ranged reads.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import process from "node:process";
import { ContainerClient } from "@azure/storage-blob";
import type { Backend } from "../../mod.ts";
import { type Azurite, freePort, startAzurite } from "../_azurite.ts";
import { localized, readmeBlocks, ROOT } from "./_blocks.ts";

const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
const skip = deno ? false : "the Quick start is Deno code (Deno.serve); it runs in the Deno pass";

/** Waits until the child prints (on stderr, as Deno.serve does) a line matching `pattern`. */
function waitForOutput(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    const guard = setTimeout(() => reject(new Error(`Quick start did not start: ${out}`)), 120_000);
    const onData = (chunk: Uint8Array) => {
      out += new TextDecoder().decode(chunk);
      if (pattern.test(out)) {
        clearTimeout(guard);
        child.stderr!.off("data", onData);
        resolve(out);
      }
    };
    child.stderr!.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(guard);
      reject(new Error(`Quick start exited with ${code}: ${out}`));
    });
  });
}

describe("README Quick start", { skip, timeout: 300_000 }, () => {
  let azurite: Azurite;
  let child: ChildProcess | undefined;
  let stderr = "";
  const dir = join(ROOT, `.readme_run_${process.pid}`);
  let port = 0;
  let stdout = "";

  before(async () => {
    azurite = await startAzurite();
    const container = new ContainerClient(azurite.connectionString, "reports");
    await container.create();
    // A file with a space in its name, put there by someone else.
    const text = "a file with a space";
    await container.getBlockBlobClient("example/data/my file.txt").upload(text, text.length);
    const block = readmeBlocks().find((b) => b.name === "quickstart");
    assert.ok(block, "README.md has a block named quickstart");
    mkdirSync(dir, { recursive: true });
    const file = join(dir, "quickstart.ts");
    writeFileSync(file, localized(block.code, 1));
    port = await freePort();
    child = spawn(deno!.execPath(), ["run", "-A", "--config", join(ROOT, "deno.json"), file], {
      cwd: dir,
      env: {
        ...process.env,
        NO_COLOR: "1",
        AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString,
        PORT: String(port),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout!.on("data", (chunk: Uint8Array) => (stdout += new TextDecoder().decode(chunk)));
    child.stderr!.on("data", (chunk: Uint8Array) => (stderr += new TextDecoder().decode(chunk)));
    await waitForOutput(child, /Listening on/);
  });

  after(async () => {
    if (child?.pid !== undefined && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.once("exit", resolve));
      process.kill(child.pid, "SIGTERM");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
    await azurite?.stop();
  });

  test("writes, reads and lists, then serves the store while the registry is open", async () => {
    const base = `http://127.0.0.1:${port}`;
    const report = await fetch(`${base}/report.csv`);
    assert.equal(report.status, 200, stderr);
    assert.equal(await report.text(), "revenue,profit\n100,20\n");
    assert.ok(report.headers.get("etag"));

    const spaced = await fetch(`${base}/my%20file.txt`);
    assert.equal(spaced.status, 200);
    assert.equal(await spaced.text(), "a file with a space");

    const ranged = await fetch(`${base}/report.csv`, { headers: { Range: "bytes=8-13" } });
    assert.equal(ranged.status, 206);
    assert.equal(ranged.headers.get("content-range"), "bytes 8-13/22");
    assert.equal(await ranged.text(), "profit");

    const missing = await fetch(`${base}/nope.csv`);
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
    const bad = await fetch(`${base}/%E0%A4%A`);
    assert.equal(bad.status, 400);
    await bad.body?.cancel();

    // What it printed before serving (stdout is a separate pipe: wait for it to arrive).
    for (let i = 0; i < 300 && !/my file\.txt 19\n/.test(stdout); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.match(stdout, /^revenue,profit\n100,20\n/);
    assert.match(stdout, /report\.csv 22\n/);
    assert.match(stdout, /my file\.txt 19\n/);
  });
});

describe("README serving handler", { timeout: 300_000 }, () => {
  let azurite: Azurite;
  const dir = join(ROOT, `.readme_run_handler_${process.pid}`);

  before(async () => {
    azurite = await startAzurite();
    await new ContainerClient(azurite.connectionString, "site").create();
  });

  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await azurite?.stop();
  });

  test("the handler as printed serves an Azure store: decoded paths, ranges, 400, 404", async () => {
    const block = readmeBlocks().find((b) => b.name === "serve-handler");
    assert.ok(block, "README.md has a block named serve-handler");
    // The block as printed, after the store its prelude declares: an Azure store on Azurite.
    const setup = `import { Store } from "@remote-store/remote-store";
import { AzureBackend } from "@remote-store/remote-store/azure";
const backend = new AzureBackend({
  container: "site",
  connectionString: ${JSON.stringify(azurite.connectionString)},
});
const store = new Store(backend);
await store.write("my file.txt", "served as printed");
`;
    mkdirSync(dir, { recursive: true });
    const file = join(dir, "handler.ts");
    writeFileSync(
      file,
      localized(setup, 1) + localized(block.code, 1) + "export { backend, handler };\n",
    );
    const { handler, backend } = await import(pathToFileURL(file).href) as {
      handler: (request: Request) => Promise<Response>;
      backend: Backend;
    };
    try {
      const whole = await handler(new Request("http://localhost/my%20file.txt"));
      assert.equal(whole.status, 200);
      assert.equal(await whole.text(), "served as printed");
      const ranged = await handler(
        new Request("http://localhost/my%20file.txt", { headers: { Range: "bytes=7-8" } }),
      );
      assert.equal(ranged.status, 206);
      assert.equal(await ranged.text(), "as");
      const bad = await handler(new Request("http://localhost/%E0%A4%A"));
      assert.equal(bad.status, 400);
      await bad.body?.cancel();
      const missing = await handler(new Request("http://localhost/nope.txt"));
      assert.equal(missing.status, 404);
      await missing.body?.cancel();
    } finally {
      await backend.close();
    }
  });
});
