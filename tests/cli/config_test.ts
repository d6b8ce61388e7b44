// The CLI's config file: JSON and TOML, ${VAR} expansion from the process
// environment, the lookup order, relative local roots, and exit code 7.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cli, tempDir } from "./_helpers.ts";

describe("remote-store CLI config", () => {
  const dir = tempDir("config");
  after(() => dir.cleanup());
  const data = join(dir.path, "data");
  mkdirSync(join(data, "reports"), { recursive: true });
  writeFileSync(join(data, "reports", "q1.csv"), "a,b\n1,2\n");

  const json = JSON.stringify({
    backends: { disk: { type: "local", options: { root: "${DATA_DIR}" } } },
    stores: { data: { backend: "disk", root_path: "${DATA_ROOT:-reports}" } },
  });
  const toml = `
[backends.disk]
type = "local"
options = { root = "\${DATA_DIR}" }

[stores.data]
backend = "disk"
root_path = "\${DATA_ROOT:-reports}"
`;
  const env = { DATA_DIR: data };

  test("a JSON file from --config, with ${VAR} and ${VAR:-default} from the environment", async () => {
    const file = join(dir.path, "stores.json");
    writeFileSync(file, json);
    const r = await cli(["ls", "data:", "--config", file], { env, cwd: dir.path });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "q1.csv\n");
    const before = await cli(["--config", file, "cat", "data:q1.csv"], { env, cwd: dir.path });
    assert.equal(before.stdout, "a,b\n1,2\n", "--config may come before the command");
    const root = await cli(["ls", `--config=${file}`, "data:"], {
      env: { ...env, DATA_ROOT: "." },
      cwd: dir.path,
    });
    assert.equal(root.stdout, "reports/\n", "a set variable wins over the default");
    const empty = await cli(["ls", "data:", "--config", file], {
      env: { ...env, DATA_ROOT: "" },
      cwd: dir.path,
    });
    assert.equal(empty.stdout, "q1.csv\n", "an empty variable takes the default");
  });

  test("a TOML file (by its extension), named by $REMOTE_STORE_CONFIG", async () => {
    const file = join(dir.path, "stores.toml");
    writeFileSync(file, toml);
    const r = await cli(["cat", "data:q1.csv"], {
      env: { ...env, REMOTE_STORE_CONFIG: file },
      cwd: dir.path,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "a,b\n1,2\n");
    const other = await cli(["ls", "data:"], {
      env: { ...env, REMOTE_STORE_CONFIG: file, DATA_ROOT: "nowhere" },
      cwd: dir.path,
    });
    assert.equal(other.stdout, "");
  });

  test("./remote-store.json, else ./remote-store.toml in the working directory", async () => {
    const cwd = join(dir.path, "cwd-json");
    mkdirSync(cwd);
    writeFileSync(join(cwd, "remote-store.json"), json);
    writeFileSync(join(cwd, "remote-store.toml"), "not toml at all [");
    assert.equal((await cli(["ls", "data:"], { env, cwd })).stdout, "q1.csv\n");
    const cwdToml = join(dir.path, "cwd-toml");
    mkdirSync(cwdToml);
    writeFileSync(join(cwdToml, "remote-store.toml"), toml);
    const r = await cli(["ls", "data:"], { env, cwd: cwdToml });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "q1.csv\n");
  });

  test("a relative local root is relative to the config file", async () => {
    const conf = join(dir.path, "conf");
    mkdirSync(conf);
    writeFileSync(
      join(conf, "rel.json"),
      JSON.stringify({
        backends: { disk: { type: "local", options: { root: "../data" } } },
        stores: { data: { backend: "disk", rootPath: "reports" } },
      }),
    );
    const r = await cli(["ls", "--config", "conf/rel.json", "data:"], { cwd: dir.path });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "q1.csv\n");
  });

  // A Python project file: the config is its [tool.remote-store] table, in the
  // Python library's spelling (backend-level retry, store options, Azure
  // max_concurrency and a connection string with account_name).
  const pyproject = `
[project]
name = "reports"
dependencies = ["remote-store>=0.33"]

[tool.remote-store.backends.disk]
type = "local"
options = { root = "\${DATA_DIR}" }

[tool.remote-store.backends.azure]
type = "azure"
retry = { max_attempts = 5, backoff_base = 2.0, backoff_max = 30.0, jitter = 0.5 }

[tool.remote-store.backends.azure.options]
container = "data"
connection_string = "UseDevelopmentStorage=true"
account_name = "devstoreaccount1"
max_concurrency = 4
reject_write_under_file_ancestor = true

[tool.remote-store.stores.data]
backend = "disk"
root_path = "reports"
options = { description = "quarterly" }
`;

  test("--config pyproject.toml reads its [tool.remote-store] table, Python keys and all", async () => {
    const cwd = join(dir.path, "py-project");
    mkdirSync(cwd);
    writeFileSync(join(cwd, "pyproject.toml"), pyproject);
    const r = await cli(["ls", "data:", "--config", "pyproject.toml"], { env, cwd });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "q1.csv\n");
    const viaEnv = await cli(["cat", "data:q1.csv"], {
      env: { ...env, REMOTE_STORE_CONFIG: join(cwd, "pyproject.toml") },
      cwd: dir.path,
    });
    assert.equal(viaEnv.stdout, "a,b\n1,2\n");
  });

  test("an error in pyproject.toml names the key path from the file's top", async () => {
    const cwd = join(dir.path, "py-project-typo");
    mkdirSync(cwd);
    writeFileSync(
      join(cwd, "pyproject.toml"),
      pyproject.replace('account_name = "devstoreaccount1"', 'account_name = "someone"'),
    );
    const r = await cli(["ls", "data:", "--config", "pyproject.toml"], { env, cwd });
    assert.equal(r.code, 7, r.stderr);
    assert.match(
      r.stderr,
      /"tool\.remote-store\.backends\.azure\.options\.account_name" and "tool\.remote-store\.backends\.azure\.options\.connection_string" name different storage accounts/,
    );
    const none = join(dir.path, "py-project-none");
    mkdirSync(none);
    writeFileSync(join(none, "pyproject.toml"), '[project]\nname = "x"\n');
    const missing = await cli(["ls", "data:", "--config", "pyproject.toml"], { env, cwd: none });
    assert.equal(missing.code, 7, missing.stderr);
    assert.match(missing.stderr, /The config file "pyproject\.toml" has no table "tool"/);
  });

  test("a Python-style TOML file with store options tables", async () => {
    const file = join(dir.path, "python.toml");
    writeFileSync(
      file,
      toml.replace("[stores.data]", '[backends.mem]\ntype = "memory"\n\n[stores.data]') +
        'options = { cache = true }\n\n[stores.scratch]\nbackend = "mem"\noptions = {}\n',
    );
    const r = await cli(["ls", "data:", "--config", file], { env, cwd: dir.path });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "q1.csv\n");
  });

  const invalid: [string, string | undefined, string, RegExp][] = [
    [
      "no config file",
      undefined,
      "",
      /No config file: pass --config <file>, set \$REMOTE_STORE_CONFIG/,
    ],
    [
      "a missing --config file",
      "missing.json",
      "",
      /"missing\.json" \(from --config\) does not exist/,
    ],
    [
      "a JSON syntax error",
      "broken.json",
      '{"backends": {"a": "sk-SECRET-1234" x}}',
      /not valid JSON/,
    ],
    [
      "a TOML syntax error",
      "broken.toml",
      'key = "sk-SECRET-1234"\n= nope',
      /not valid TOML at line 2, column \d+/,
    ],
    [
      "an unset variable",
      "unset.json",
      JSON.stringify({
        backends: { m: { type: "local", options: { root: "${NOPE_DIR}" } } },
        stores: {},
      }),
      /NOPE_DIR is not set/,
    ],
    [
      "an unknown key",
      "typo.json",
      JSON.stringify({
        backends: { m: { type: "memory" } },
        stores: { s: { backend: "m", rootpath: "x" } },
      }),
      /"stores\.s\.rootpath" is not a known key \(did you mean "rootPath"\?\)/,
    ],
  ];
  for (const [what, name, content, message] of invalid) {
    test(`${what} exits 7 without showing secrets`, async () => {
      const cwd = join(dir.path, `invalid-${what.replaceAll(" ", "-")}`);
      mkdirSync(cwd);
      if (name !== undefined && content !== "") writeFileSync(join(cwd, name), content);
      const args = name === undefined ? ["ls", "x:"] : ["ls", "x:", "--config", name];
      const r = await cli(args, { cwd, env: {} });
      assert.equal(r.code, 7, r.stderr);
      assert.match(r.stderr, /^remote-store: [^\n]+\n$/);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /SECRET/);
    });
  }

  test("a value from the environment never appears in an error", async () => {
    const file = join(dir.path, "secret.json");
    writeFileSync(
      file,
      JSON.stringify({
        backends: { a: { type: "azure", options: { container: "${SECRET_CONTAINER}" } } },
        stores: { s: { backend: "a" } },
      }),
    );
    const r = await cli(["ls", "s:", "--config", file], {
      env: { SECRET_CONTAINER: "Not A Valid Container Name sk-SECRET" },
      cwd: dir.path,
    });
    assert.equal(r.code, 7, r.stderr);
    assert.doesNotMatch(r.stderr, /SECRET/);
  });
});
