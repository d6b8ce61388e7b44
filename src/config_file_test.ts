// Loading config text and files: JSON and TOML, a table inside the document,
// syntax errors that say where without quoting, and the Python library's
// config files (tests/fixtures/python_configs) parsing into the same configs
// as hand-written TypeScript ones.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  InvalidConfigError,
  loadConfigText,
  parseConfig,
  Registry,
  type RegistryConfig,
} from "../mod.ts";
import { loadConfigFile } from "../cli.ts";
import { localBackendType } from "../local.ts";
import { azureBackendType } from "../azure.ts";

const backendTypes = [localBackendType, azureBackendType];
const fixture = (name: string) =>
  new URL(`../tests/fixtures/python_configs/${name}`, import.meta.url);

const KEY = "a2V5LW9uZQ==";
const CONN = `DefaultEndpointsProtocol=https;AccountName=acct1;AccountKey=${KEY};` +
  "EndpointSuffix=core.windows.net";
const env = {
  RS_AZURE_CONTAINER: "data",
  RS_AZURE_CONN: CONN,
  RS_AZURE_ACCOUNT: "acct1",
  RS_AZURE_KEY: KEY,
  RS_AZURE_SAS: "sv=2024-01-01&sig=abc",
  DATA_DIR: "/tmp/remote-store-fixture-data",
};

/** Rejects with an InvalidConfigError whose message contains every part; returns it. */
async function rejectsConfig(
  promise: Promise<unknown>,
  ...parts: string[]
): Promise<InvalidConfigError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof InvalidConfigError, `expected InvalidConfigError, got ${caught}`);
  for (const part of parts) {
    assert.ok(caught.message.includes(part), `${JSON.stringify(caught.message)} lacks ${part}`);
  }
  return caught;
}

describe("loadConfigText", () => {
  const json = JSON.stringify({
    backends: { m: { type: "memory" } },
    stores: { s: { backend: "m", root_path: "${ROOT:-a}" } },
  });
  const toml = `
[backends.m]
type = "memory"

[stores.s]
backend = "m"
root_path = "\${ROOT:-a}"
`;

  test("JSON and TOML give the same config, with env expansion", async () => {
    const expected = {
      backends: { m: { type: "memory" } },
      stores: { s: { backend: "m", rootPath: "b" } },
    };
    assert.deepEqual(await loadConfigText(json, "json", { env: { ROOT: "b" } }), expected);
    assert.deepEqual(await loadConfigText(toml, "toml", { env: { ROOT: "b" } }), expected);
    assert.deepEqual(
      (await loadConfigText(toml, "toml")).stores.s,
      { backend: "m", rootPath: "a" },
      "no env: the default",
    );
    assert.deepEqual(
      await loadConfigText(`\uFEFF${json}`, "json"),
      await loadConfigText(json, "json"),
      "a byte order mark is skipped",
    );
  });

  test("a table inside the document; errors name key paths from the top", async () => {
    const doc = `
[project]
name = "x"

[tool.remote-store.backends.m]
type = "memory"

[tool.remote-store.stores.s]
backend = "m"
`;
    const config = await loadConfigText(doc, "toml", { table: ["tool", "remote-store"] });
    assert.deepEqual(config, {
      backends: { m: { type: "memory" } },
      stores: { s: { backend: "m" } },
    });
    await rejectsConfig(
      loadConfigText(doc.replace("backend = ", "backnd = "), "toml", {
        table: ["tool", "remote-store"],
      }),
      `"tool.remote-store.stores.s.backnd" is not a known key (did you mean "backend"?)`,
    );
    await rejectsConfig(
      loadConfigText(doc.replace('type = "memory"', 'type = "nope"'), "toml", {
        table: ["tool", "remote-store"],
      }),
      `"tool.remote-store.backends.m.type" must be one of`,
    );
    await rejectsConfig(
      loadConfigText(doc, "toml", { table: ["tool", "remote_store"] }),
      `The config has no table "tool.remote_store"`,
    );
    await rejectsConfig(
      loadConfigText(doc, "toml", { table: ["project", "name"] }),
      `The config: "project.name" must be a table (an object), got a string`,
    );
    await rejectsConfig(loadConfigText(doc, "toml"), `"project" is not a known key`);
  });

  test("syntax errors say where and never quote the text", async () => {
    const json = await rejectsConfig(
      loadConfigText('{"backends": {"a": "sk-SECRET-1234" x}}', "json"),
      "The config is not valid JSON",
    );
    assert.doesNotMatch(json.message, /SECRET/);
    const toml = await rejectsConfig(
      loadConfigText('key = "sk-SECRET-1234"\n= nope', "toml", { source: 'The file "a.toml"' }),
      'The file "a.toml" is not valid TOML at line 2, column',
    );
    assert.doesNotMatch(toml.message, /SECRET/);
  });

  test("bad arguments are InvalidConfigErrors", async () => {
    await rejectsConfig(
      loadConfigText("{}", "yaml" as "json"),
      `the format must be "json" or "toml", got "yaml"`,
    );
    await rejectsConfig(
      loadConfigText(42 as unknown as string, "json"),
      "the text must be a string",
    );
    await rejectsConfig(
      loadConfigText("{}", "json", { table: "tool" as unknown as string[] }),
      `"table" must be an array of strings`,
    );
  });
});

describe("loadConfigFile", () => {
  const dir = mkdtempSync(join(tmpdir(), "remote-store-config-file-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("by extension, from a path or a file: URL; relative roots kept as written", async () => {
    const file = join(dir, "stores.toml");
    writeFileSync(file, '[backends.d]\ntype = "local"\noptions = { root = "data" }\n[stores]\n');
    const expected = { backends: { d: { type: "local", options: { root: "data" } } }, stores: {} };
    assert.deepEqual(await loadConfigFile(file, { backendTypes }), expected);
    assert.deepEqual(
      await loadConfigFile(new URL(`file://${file}`), { backendTypes }),
      expected,
    );
    const other = join(dir, "stores.conf");
    writeFileSync(other, '{"backends": {}, "stores": {}}');
    assert.deepEqual(await loadConfigFile(other, { format: "json" }), { backends: {}, stores: {} });
  });

  test("missing, unknown format, a folder, broken: InvalidConfigError naming the file", async () => {
    await rejectsConfig(
      loadConfigFile(join(dir, "none.json")),
      `"${join(dir, "none.json")}" does not exist`,
    );
    const conf = join(dir, "x.conf");
    writeFileSync(conf, "{}");
    await rejectsConfig(loadConfigFile(conf), "Cannot tell the format", "*.json or *.toml");
    await rejectsConfig(
      loadConfigFile(dir, { format: "json" }),
      `Cannot read the config file "${dir}": it is a folder`,
    );
    const broken = join(dir, "broken.json");
    writeFileSync(broken, '{"a": "sk-SECRET-1" ]');
    const error = await rejectsConfig(
      loadConfigFile(broken),
      `The config file "${broken}" is not valid JSON`,
    );
    assert.doesNotMatch(error.message, /SECRET/);
  });
});

describe("the Python library's config files (tests/fixtures/python_configs)", () => {
  /** Hand-written TypeScript configs, one per fixture. */
  const seed: RegistryConfig = {
    backends: { azure: { type: "azure", options: { container: "data", connectionString: CONN } } },
    stores: {
      data: { backend: "azure", rootPath: "example/data" },
      archive: { backend: "azure", rootPath: "example/archive" },
    },
  };
  const expected: [string, string[] | undefined, RegistryConfig][] = [
    ["azure_seed.json", undefined, seed],
    ["azure_seed.toml", undefined, seed],
    ["retry_policy.toml", undefined, {
      backends: {
        production: {
          type: "azure",
          options: {
            container: "reports",
            accountName: "acct1",
            accountKey: KEY,
            concurrency: 4,
            retry: {
              maxTries: 5,
              retryDelayMs: 2000,
              maxRetryDelayMs: 30000,
              tryTimeoutMs: 120000,
            },
          },
        },
        scratch: { type: "memory" },
      },
      stores: {
        reports: { backend: "production", rootPath: "reports/2024" },
        tmp: { backend: "scratch" },
      },
    }],
    ["azure_options.json", undefined, {
      backends: {
        lake: {
          type: "azure",
          options: {
            container: "lake",
            accountUrl: "https://acct1.blob.core.windows.net",
            sasToken: env.RS_AZURE_SAS,
            hns: true,
            clientOptions: { max_single_put_size: 4194304, connection_timeout: 20 },
            concurrency: 8,
            strictPaths: true,
            retry: { maxTries: 3, retryDelayMs: 500, maxRetryDelayMs: 10000 },
          },
        },
        flat: {
          type: "azure",
          options: {
            container: "flat",
            accountName: "acct1",
            accountKey: KEY,
            hns: false,
            strictPaths: false,
          },
        },
      },
      stores: {
        raw: { backend: "lake", rootPath: "raw" },
        curated: { backend: "lake", rootPath: "curated/v2" },
        uploads: { backend: "flat" },
      },
    }],
    ["pyproject.toml", ["tool", "remote-store"], {
      backends: {
        azure: {
          type: "azure",
          options: {
            container: "pipeline",
            connectionString: CONN,
            retry: { maxTries: 4, retryDelayMs: 1500 },
          },
        },
        local: { type: "local", options: { root: env.DATA_DIR } },
      },
      stores: {
        inbox: { backend: "azure", rootPath: "inbox" },
        work: { backend: "local", rootPath: "work" },
      },
    }],
    ["local_memory.toml", undefined, {
      backends: {
        disk: { type: "local", options: { root: env.DATA_DIR } },
        mem: { type: "memory" },
      },
      stores: {
        raw: { backend: "disk", rootPath: "raw" },
        cache: { backend: "mem", rootPath: "cache" },
      },
    }],
  ];

  for (const [name, table, config] of expected) {
    test(`${name} parses into the hand-written config`, async () => {
      const loaded = await loadConfigFile(fixture(name), { env, backendTypes, table });
      assert.deepEqual(loaded, config);
      // The hand-written config is valid as it is, and both give the same registry.
      assert.deepEqual(parseConfig(config, { backendTypes }), config);
      await using fromFile = new Registry(loaded, { backendTypes });
      await using fromCode = new Registry(config, { backendTypes });
      assert.deepEqual(fromFile.storeNames, fromCode.storeNames);
    });
  }

  test("the JSON and TOML forms of the seed config are the same config", async () => {
    assert.deepEqual(
      await loadConfigFile(fixture("azure_seed.json"), { env, backendTypes }),
      await loadConfigFile(fixture("azure_seed.toml"), { env, backendTypes }),
    );
  });

  test("a memory store from a Python config works", async () => {
    const config = await loadConfigFile(fixture("local_memory.toml"), { backendTypes });
    assert.equal(config.backends.disk!.options!.root, "/srv/data", "the default applies");
    await using registry = new Registry(
      { backends: { mem: config.backends.mem! }, stores: { cache: config.stores.cache! } },
    );
    const cache = registry.getStore("cache");
    await cache.write("a.txt", "hello");
    assert.equal(await cache.readText("a.txt"), "hello");
  });

  test("pyproject.toml without its table is not a config", async () => {
    await rejectsConfig(
      loadConfigFile(fixture("pyproject.toml"), { env, backendTypes }),
      `"build-system" is not a known key`,
    );
  });

  test("an account_name that disagrees with the connection string is an error", async () => {
    await rejectsConfig(
      loadConfigFile(fixture("mismatched_account.json"), { env, backendTypes }),
      `"backends.azure.options.account_name" and "backends.azure.options.connection_string" name different storage accounts`,
    );
  });
});
