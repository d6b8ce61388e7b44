// The CLI against Azurite through a real config file: the connection string
// comes from the environment (${VAR}), never from the file.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type AzureEnv, setupAzure } from "../azure/_setup.ts";
import { cli, randomBytes, tempDir } from "./_helpers.ts";

describe("remote-store CLI against Azurite", { timeout: 300_000 }, () => {
  const dir = tempDir("cli-azure");
  let azure: AzureEnv;
  let env: Record<string, string>;

  before(async () => {
    azure = await setupAzure();
    const config = {
      backends: {
        az: {
          type: "azure",
          options: { container: azure.container, connection_string: "${AZ_CONN}", hns: false },
        },
        nowhere: {
          type: "azure",
          options: { container: "no-such-container", connection_string: "${AZ_CONN}", hns: false },
        },
        disk: { type: "local", options: { root: "files" } },
      },
      stores: {
        cloud: { backend: "az", root_path: "cli" },
        missing: { backend: "nowhere" },
        local: { backend: "disk" },
      },
    };
    writeFileSync(join(dir.path, "remote-store.json"), JSON.stringify(config));
    env = { AZ_CONN: azure.az.connectionString };
  });
  after(async () => {
    await azure.close();
    dir.cleanup();
  });

  test("ping: the container answers; a missing one exits 3 naming it", async () => {
    const run = (...argv: string[]) => cli(argv, { cwd: dir.path, env });
    const ok = await run("ping", "cloud");
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, "cloud: ok\n");
    const missing = await run("ping", "cloud", "missing");
    assert.equal(missing.code, 3, missing.stderr);
    assert.match(missing.stdout, /^cloud: ok\nmissing: .*"no-such-container"/);
    assert.doesNotMatch(
      missing.stdout + missing.stderr,
      new RegExp(azure.az.accountKey.slice(0, 20)),
    );
  });

  test("cp local -> azure -> local, ls, stat, cat, url, rm", async () => {
    const bytes = randomBytes(3 * 1024 * 1024 + 11, 3);
    writeFileSync(join(dir.path, "data.bin"), bytes);
    const run = (...argv: string[]) => cli(argv, { cwd: dir.path, env });

    assert.equal((await run("cp", "./data.bin", "cloud:in/data.bin")).code, 0);
    const again = await run("cp", "./data.bin", "cloud:in/data.bin");
    assert.equal(again.code, 4, "already exists");
    assert.match(again.stderr, /--overwrite/);
    assert.doesNotMatch(again.stderr, new RegExp(azure.az.accountKey.slice(0, 20)));

    assert.equal((await run("cp", "cloud:in/data.bin", "local:back.bin")).code, 0);
    const cat = await run("cat", "local:back.bin");
    assert.deepEqual(cat.out.bytes(), bytes);

    const ls = await run("ls", "cloud:in", "--json");
    assert.equal(ls.code, 0);
    const listed = JSON.parse(ls.stdout) as { path: string; size: number }[];
    assert.deepEqual(listed.map((f) => [f.path, f.size]), [["in/data.bin", bytes.byteLength]]);

    const stat = await run("stat", "cloud:in/data.bin", "--json");
    assert.equal(JSON.parse(stat.stdout).size, bytes.byteLength);

    const url = await run("url", "cloud:in/data.bin", "--expires", "10m");
    assert.equal(url.code, 0, url.stderr);
    const response = await fetch(url.stdout.trim());
    assert.equal(response.status, 200);
    assert.equal((await response.arrayBuffer()).byteLength, bytes.byteLength);

    assert.equal((await run("rm", "cloud:in", "-r")).code, 0);
    assert.equal((await run("stat", "cloud:in/data.bin")).code, 3, "not found");
  });
});
