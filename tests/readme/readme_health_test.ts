// The README's health check and empty-folder blocks, exactly as printed (only the package
// specifiers point at this checkout, as an import map would), run against memory, a local
// folder and Azurite: every answer the health check can give, and createFolder where folders
// are real and where they are not.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import process from "node:process";
import { ContainerClient } from "@azure/storage-blob";
import { InvalidPathError, MemoryBackend, Store } from "../../mod.ts";
import { LocalBackend } from "../../local.ts";
import { AzureBackend } from "../../azure.ts";
import { type Azurite, freePort, randomContainerName, startAzurite } from "../_azurite.ts";
import { localized, readmeBlocks, ROOT } from "./_blocks.ts";

/** Imports a named README block as printed. */
async function importBlock<T>(dir: string, name: string): Promise<T> {
  const block = readmeBlocks().find((b) => b.name === name);
  assert.ok(block, `README.md has a block named ${name}`);
  const file = join(dir, `${name}.ts`);
  writeFileSync(file, localized(block.code, 1));
  return await import(pathToFileURL(file).href) as T;
}

describe("README health check and empty folders", { timeout: 300_000 }, () => {
  const dir = join(ROOT, `.readme_run_health_${process.pid}`);
  const tmp = mkdtempSync(join(tmpdir(), "remote-store-readme-health-"));
  let azurite: Azurite;
  const backends: { close(): Promise<void> }[] = [];
  /** A store on Azurite (one try per request: a health check should not wait long). */
  const azure = (options: Partial<ConstructorParameters<typeof AzureBackend>[0]>) => {
    const backend = new AzureBackend(
      {
        container: randomContainerName(),
        retry: { maxTries: 1 },
        ...options,
      } as ConstructorParameters<typeof AzureBackend>[0],
    );
    backends.push(backend);
    return { backend, store: new Store(backend) };
  };

  before(async () => {
    mkdirSync(dir, { recursive: true });
    azurite = await startAzurite();
  });

  after(async () => {
    for (const backend of backends) await backend.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(tmp, { recursive: true, force: true });
    await azurite?.stop();
  });

  test("health answers ok, missing, refused and unreachable", async () => {
    const { health } = await importBlock<{ health(store: Store): Promise<string> }>(
      dir,
      "health",
    );
    const memory = new MemoryBackend();
    assert.equal(await health(new Store(memory)), "ok");
    await memory.close();
    assert.equal(await health(new Store(memory)), "unreachable");

    const local = new Store(new LocalBackend({ root: join(tmp, "not-yet") }));
    assert.equal(await health(local), "missing");
    await local.createFolder("");
    assert.equal(await health(local), "ok");

    const container = randomContainerName();
    const { backend, store } = azure({ container, connectionString: azurite.connectionString });
    assert.equal(await health(store), "missing");
    await backend.unwrap(ContainerClient).create();
    assert.equal(await health(store), "ok");
    const wrongKey = azure({
      container,
      accountName: azurite.accountName,
      accountKey: btoa("not the key of devstoreaccount1"),
      accountUrl: azurite.url,
    });
    assert.equal(await health(wrongKey.store), "refused");
    const port = await freePort();
    const closed = azure({
      connectionString: azurite.connectionString.replace(`:${azurite.port}/`, `:${port}/`),
    });
    assert.equal(await health(closed.store), "unreachable");
  });

  test("ensureInbox creates the folder where folders are real and reports false elsewhere", async () => {
    const { ensureInbox } = await importBlock<{ ensureInbox(store: Store): Promise<boolean> }>(
      dir,
      "create-folder",
    );
    const local = new Store(new LocalBackend({ root: join(tmp, "inbox-root") }));
    assert.equal(await ensureInbox(local), true);
    assert.equal(await local.isFolder("inbox/incoming"), true);
    assert.equal(await ensureInbox(local), true, "again: already there");

    const memory = new Store(new MemoryBackend());
    assert.equal(await ensureInbox(memory), false);
    assert.equal(await memory.isFolder("inbox"), false);

    const blocked = new Store(new LocalBackend({ root: join(tmp, "blocked") }));
    await blocked.write("inbox", "a file in the way");
    await assert.rejects(ensureInbox(blocked), InvalidPathError);
  });
});
