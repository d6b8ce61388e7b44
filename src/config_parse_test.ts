import { describe, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import { inspect } from "node:util";
import { InvalidConfigError, parseConfig, registerBackendType, Registry } from "../mod.ts";
import { localBackendType } from "../local.ts";
import { azureBackendType } from "../azure.ts";
import { Prng } from "../tests/_prng.ts";

// These configs name the local and Azure types: make them known once, as an application can.
registerBackendType(localBackendType);
registerBackendType(azureBackendType);

const CONN = "UseDevelopmentStorage=true";
const SECRET = "s3cr3t-Value/XYZ+abc==";

/** Asserts that `fn` throws an InvalidConfigError whose message matches every pattern. */
function throwsConfig(fn: () => unknown, ...patterns: (RegExp | string)[]): InvalidConfigError {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof InvalidConfigError, `expected InvalidConfigError, got ${caught}`);
  for (const pattern of patterns) {
    if (typeof pattern === "string") {
      assert.ok(
        caught.message.includes(pattern),
        `${JSON.stringify(caught.message)} lacks ${pattern}`,
      );
    } else {
      assert.match(caught.message, pattern);
    }
  }
  return caught;
}

/** Every way an error can be shown: message, String(), JSON, inspect (with causes). */
function assertHidden(error: unknown, secret: string): void {
  const shown = [
    (error as Error).message,
    String(error),
    JSON.stringify(error),
    inspect(error, { depth: 10 }),
  ];
  for (const text of shown) assert.ok(!text.includes(secret), `secret shown in ${text}`);
}

function azure(options: Record<string, unknown>, store: Record<string, unknown> = {}) {
  return {
    backends: { az: { type: "azure", options: { container: "data", ...options } } },
    stores: { s: { backend: "az", ...store } },
  };
}

describe("parseConfig: valid configs", () => {
  test("round trip into a Registry with a memory store", async () => {
    const input = JSON.parse(`{
      "backends": { "mem": { "type": "memory" }, "mem2": { "type": "memory", "options": {} } },
      "stores": {
        "data": { "backend": "mem", "rootPath": "example/data" },
        "archive": { "backend": "mem", "root_path": "example/archive" },
        "root": { "backend": "mem2" }
      }
    }`);
    const config = parseConfig(input);
    assert.deepEqual(config, {
      backends: { mem: { type: "memory" }, mem2: { type: "memory", options: {} } },
      stores: {
        data: { backend: "mem", rootPath: "example/data" },
        archive: { backend: "mem", rootPath: "example/archive" },
        root: { backend: "mem2" },
      },
    });
    await using registry = new Registry(config);
    const data = registry.getStore("data");
    await data.write("a.txt", "hello");
    assert.equal(await data.readText("a.txt"), "hello");
    assert.equal(await registry.getStore("archive").exists("a.txt"), false);
    assert.equal(await registry.getStore("root").exists("a.txt"), false);
  });

  test("snake_case aliases become camelCase", () => {
    const config = parseConfig({
      backends: {
        az: {
          type: "azure",
          options: {
            container: "data",
            account_name: "acct",
            account_key: "a2V5",
            account_url: "https://acct.blob.core.windows.net",
            dfs_url: "https://acct.dfs.core.windows.net",
            block_size: 4194304,
            concurrency: 2,
            hns: "auto",
            client_options: { user_agent_options: { user_agent_prefix: "x" }, retry_options: [1] },
            retry: { max_tries: 3, retry_delay_ms: 10, max_retry_delay_ms: 100, maxResumes: 2 },
          },
        },
        sas: {
          type: "azure",
          options: { container: "data", account_url: "http://127.0.0.1:1/a", sas_token: "?sv=1" },
        },
        cs: { type: "azure", options: { container: "data", connection_string: CONN } },
        disk: { type: "local", options: { root: "/tmp/x" } },
      },
      stores: { s: { backend: "az", root_path: "a/b" } },
    });
    assert.deepEqual(config.backends.az!.options, {
      container: "data",
      accountName: "acct",
      accountKey: "a2V5",
      accountUrl: "https://acct.blob.core.windows.net",
      dfsUrl: "https://acct.dfs.core.windows.net",
      blockSize: 4194304,
      concurrency: 2,
      hns: "auto",
      clientOptions: { user_agent_options: { user_agent_prefix: "x" }, retry_options: [1] },
      retry: { maxTries: 3, retryDelayMs: 10, maxRetryDelayMs: 100, maxResumes: 2 },
    });
    assert.deepEqual(config.backends.sas!.options, {
      container: "data",
      accountUrl: "http://127.0.0.1:1/a",
      sasToken: "?sv=1",
    });
    assert.deepEqual(config.backends.cs!.options, { container: "data", connectionString: CONN });
    assert.deepEqual(config.stores.s, { backend: "az", rootPath: "a/b" });
    new Registry(config);
  });

  test("a Python store options table is accepted, whatever it holds, and dropped", () => {
    for (const options of [{}, { cache: true, note: "${UNSET_BUT_UNUSED}", deep: { a: [1] } }]) {
      const config = parseConfig({
        backends: { m: { type: "memory" } },
        stores: { s: { backend: "m", options } },
      });
      assert.deepEqual(config.stores.s, { backend: "m" });
    }
    throwsConfig(
      () =>
        parseConfig({
          backends: { m: { type: "memory" } },
          stores: { s: { backend: "m", options: "cache" } },
        }),
      `"stores.s.options" must be an object (a table), got a string`,
    );
  });

  test("undefined values count as absent; bigints in the safe range become numbers", () => {
    const config = parseConfig({
      backends: {
        az: {
          type: "azure",
          options: { container: "data", connection_string: CONN, block_size: 1024n },
        },
      },
      stores: { s: { backend: "az", rootPath: undefined } },
      extra: undefined,
    });
    assert.deepEqual(config.backends.az!.options, {
      container: "data",
      connectionString: CONN,
      blockSize: 1024,
    });
    assert.deepEqual(config.stores.s, { backend: "az" });
    throwsConfig(
      () => parseConfig(azure({ connection_string: CONN, block_size: 2n ** 80n })),
      `"backends.az.options.block_size" is an integer too large`,
    );
  });

  test("names like constructor and toString are ordinary names", () => {
    const config = parseConfig(
      JSON.parse(
        `{"backends":{"constructor":{"type":"memory"}},"stores":{"toString":{"backend":"constructor"}}}`,
      ),
    );
    assert.equal(config.stores["toString"]!.backend, "constructor");
    new Registry(config).getStore("toString");
  });
});

describe("parseConfig: duplicate spellings", () => {
  test("rootPath and root_path", () => {
    throwsConfig(
      () => parseConfig(azure({ connection_string: CONN }, { rootPath: "a", root_path: "b" })),
      `"stores.s.rootPath" and "stores.s.root_path"`,
      "same key",
    );
  });
  test("connection_string and connectionString", () => {
    throwsConfig(
      () => parseConfig(azure({ connectionString: CONN, connection_string: CONN })),
      `"backends.az.options.connectionString" and "backends.az.options.connection_string"`,
    );
  });
  test("inside retry", () => {
    throwsConfig(
      () => parseConfig(azure({ connection_string: CONN, retry: { max_tries: 1, maxTries: 2 } })),
      `"backends.az.options.retry.max_tries" and "backends.az.options.retry.maxTries"`,
    );
  });
});

describe("parseConfig: unknown keys name the key path", () => {
  test("top level", () => {
    throwsConfig(
      () => parseConfig({ backend: {}, stores: {} }),
      `"backend" is not a known key (did you mean "backends"?)`,
    );
    throwsConfig(
      () => parseConfig({ backends: {}, stores: {}, zzz: 1 }),
      `"zzz" is not a known key (known keys: backends, stores)`,
    );
  });
  test("backend level", () => {
    throwsConfig(
      () => parseConfig({ backends: { m: { typ: "memory" } }, stores: {} }),
      `"backends.m.typ" is not a known key (did you mean "type"?)`,
    );
    throwsConfig(
      () => parseConfig({ backends: { m: { type: "memory", Options: {} } }, stores: {} }),
      `"backends.m.Options" is not a known key (did you mean "options"?)`,
    );
  });
  test("store level", () => {
    throwsConfig(
      () => parseConfig(azure({ connection_string: CONN }, { rootpath: "x" })),
      `"stores.s.rootpath" is not a known key (did you mean "rootPath"?)`,
    );
    throwsConfig(
      () => parseConfig(azure({ connection_string: CONN }, { rot_path: "x" })),
      `"stores.s.rot_path" is not a known key (did you mean "rootPath"?)`,
    );
  });
  test("backend options, as written", () => {
    throwsConfig(
      () => parseConfig(azure({ connection_string: CONN, block_sise: 1 })),
      `"backends.az.options.block_sise" is not a known option (did you mean "block_size"?)`,
    );
    throwsConfig(
      () => parseConfig(azure({ connection_string: CONN, blocksize: 1 })),
      `"backends.az.options.blocksize" is not a known option (did you mean "blockSize"?)`,
    );
    throwsConfig(
      () => parseConfig(azure({ connection_string: CONN, frobnicate: 1 })),
      `"backends.az.options.frobnicate" is not a known option (known: container,`,
    );
    throwsConfig(
      () => parseConfig({ backends: { m: { type: "memory", options: { x: 1 } } }, stores: {} }),
      `"backends.m.options.x" is not an option of the memory backend`,
    );
  });
  test("nested retry options, as written", () => {
    throwsConfig(
      () => parseConfig(azure({ connection_string: CONN, retry: { max_trys: 2 } })),
      `"backends.az.options.retry.max_trys" is not a known option (did you mean "max_tries"?)`,
    );
  });
  test("__proto__ keys are rejected at every level", () => {
    const texts = [
      `{"__proto__":{"x":1},"backends":{},"stores":{}}`,
      `{"backends":{"__proto__":{"type":"memory"}},"stores":{}}`,
      `{"backends":{"m":{"type":"memory","__proto__":{}}},"stores":{}}`,
      `{"backends":{"m":{"type":"memory","options":{"__proto__":{"polluted":1}}}},"stores":{}}`,
      `{"backends":{"a":{"type":"azure","options":{"container":"ccc","connection_string":"${CONN}","client_options":{"__proto__":{"polluted":1}}}}},"stores":{}}`,
      `{"backends":{"m":{"type":"memory"}},"stores":{"s":{"backend":"m","__proto__":{}}}}`,
    ];
    for (const text of texts) {
      throwsConfig(() => parseConfig(JSON.parse(text)), "__proto__", "is not allowed as a key");
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});

describe("parseConfig: wrong types name the key path", () => {
  test("the input itself", () => {
    for (const input of [null, undefined, 5, "x", [], true, new Map(), () => 1]) {
      throwsConfig(() => parseConfig(input), "Configuration must be an object");
    }
  });
  test("top level sections", () => {
    throwsConfig(() => parseConfig({ stores: {} }), `"backends" is required`);
    throwsConfig(() => parseConfig({ backends: {} }), `"stores" is required`);
    throwsConfig(
      () => parseConfig({ backends: [], stores: {} }),
      `"backends" must be an object`,
      "an array",
    );
    throwsConfig(
      () => parseConfig({ backends: {}, stores: null }),
      `"stores" must be an object`,
      "null",
    );
  });
  test("backend level", () => {
    throwsConfig(
      () => parseConfig({ backends: { m: "memory" }, stores: {} }),
      `"backends.m" must be an object`,
    );
    throwsConfig(
      () => parseConfig({ backends: { m: {} }, stores: {} }),
      `"backends.m.type" is required`,
    );
    throwsConfig(
      () => parseConfig({ backends: { m: { type: 1 } }, stores: {} }),
      `"backends.m.type" must be a string, got a number`,
    );
    // Other test files in the same process may register more types: match the ones this file has.
    throwsConfig(
      () => parseConfig({ backends: { m: { type: "s3" } }, stores: {} }),
      /"backends\.m\.type" must be one of "memory", (".*", )?"local", "azure"(, ".*")?, got "s3"/,
    );
    throwsConfig(
      () => parseConfig({ backends: { m: { type: "memory", options: "x" } }, stores: {} }),
      `"backends.m.options" must be an object`,
    );
    throwsConfig(
      () => parseConfig({ backends: { m: { type: "memory", options: null } }, stores: {} }),
      `"backends.m.options" must be an object`,
    );
  });
  test("store level", () => {
    const backends = { m: { type: "memory" } };
    throwsConfig(
      () => parseConfig({ backends, stores: { s: [] } }),
      `"stores.s" must be an object`,
    );
    throwsConfig(
      () => parseConfig({ backends, stores: { s: {} } }),
      `"stores.s.backend" is required`,
    );
    throwsConfig(
      () => parseConfig({ backends, stores: { s: { backend: 1 } } }),
      `"stores.s.backend" must be a string, got a number`,
    );
    throwsConfig(
      () => parseConfig({ backends, stores: { s: { backend: "x" } } }),
      `"stores.s.backend" must name a configured backend`,
    );
    throwsConfig(
      () => parseConfig({ backends, stores: { s: { backend: "m", root_path: 5 } } }),
      `"stores.s.root_path" must be a string, got a number`,
    );
    throwsConfig(
      () => parseConfig({ backends, stores: { s: { backend: "m", root_path: "a/../b" } } }),
      `"stores.s.root_path" is invalid`,
    );
    throwsConfig(
      () => parseConfig({ backends, stores: { s: { backend: "m", options: [] } } }),
      `"stores.s.options" must be an object`,
    );
  });
  test("backend options", () => {
    throwsConfig(
      () => parseConfig(azure({ connection_string: CONN, block_size: "8388608" })),
      `"backends.az.options.block_size" must be an integer`,
    );
    throwsConfig(
      () => parseConfig(azure({ connection_string: CONN, blockSize: 1.5 })),
      `"backends.az.options.blockSize" must be an integer`,
    );
    throwsConfig(
      () => parseConfig(azure({ connection_string: CONN, retry: { max_tries: "3" } })),
      `"backends.az.options.retry.max_tries" must be an integer`,
    );
    throwsConfig(
      () => parseConfig(azure({ connection_string: CONN, retry: 3 })),
      `"backends.az.options.retry" must be an object`,
    );
    throwsConfig(
      () => parseConfig(azure({ connection_string: 5 })),
      `"backends.az.options.connection_string" must be a string`,
    );
    throwsConfig(
      () => parseConfig({ backends: { d: { type: "local", options: {} } }, stores: {} }),
      `"backends.d.options.root" is required`,
    );
    throwsConfig(
      () => parseConfig(azure({})),
      `"backends.az.options.connectionString" is required`,
    );
  });
  test("values that are not JSON or TOML data", () => {
    class Thing {}
    for (const value of [new Thing(), new Date(0), new Map(), () => 1, Symbol("x"), [undefined]]) {
      throwsConfig(
        () => parseConfig(azure({ connection_string: CONN, client_options: { x: value } })),
        `"backends.az.options.client_options.x`,
        "must be JSON or TOML data",
      );
    }
  });
});

describe("parseConfig: environment variables", () => {
  const env = { CONN, ROOT: "from/env", EMPTY: "", C: "cont" };

  test("expands ${VAR} and ${VAR:-default} in every string value", () => {
    const config = parseConfig(
      {
        backends: {
          az: {
            type: "${TYPE:-azure}",
            options: {
              container: "${C}ainer",
              connection_string: "${CONN}",
              client_options: { user_agent_options: { user_agent_prefix: "app/${VERSION:-dev}" } },
            },
          },
        },
        stores: {
          a: { backend: "az", root_path: "${ROOT}" },
          b: { backend: "az", rootPath: "${UNSET:-fallback}/x" },
          c: { backend: "az", rootPath: "${EMPTY:-empty-default}" },
          d: { backend: "az", rootPath: "${EMPTY}" },
          e: { backend: "az", rootPath: "pre-${ROOT}-${C}-post" },
        },
      },
      { env },
    );
    assert.equal(config.backends.az!.type, "azure");
    assert.deepEqual(config.backends.az!.options, {
      container: "container",
      connectionString: CONN,
      clientOptions: { user_agent_options: { user_agent_prefix: "app/dev" } },
    });
    assert.equal(config.stores.a!.rootPath, "from/env");
    assert.equal(config.stores.b!.rootPath, "fallback/x");
    assert.equal(config.stores.c!.rootPath, "empty-default");
    assert.equal(config.stores.d!.rootPath, "");
    assert.equal(config.stores.e!.rootPath, "pre-from/env-cont-post");
  });

  test("keys are not expanded", () => {
    throwsConfig(
      () =>
        parseConfig({ backends: { m: { type: "memory" } }, stores: { "${C}": { backend: "x" } } }, {
          env,
        }),
      `"stores.\${C}.backend"`,
    );
  });

  test("a missing variable names the key path and the variable, not other values", () => {
    const error = throwsConfig(
      () => parseConfig(azure({ account_name: "${CONN}", account_key: "${AZURE_KEY}" }), { env }),
      `"backends.az.options.account_key"`,
      "AZURE_KEY",
      "not set",
    );
    assert.ok(!error.message.includes(CONN));
    throwsConfig(
      () =>
        parseConfig({
          backends: { m: { type: "memory" } },
          stores: { s: { backend: "m", root_path: "${NOPE}" } },
        }),
      `"stores.s.root_path" uses \${NOPE}`,
    );
  });

  test("the process environment is not read implicitly", () => {
    assert.equal(typeof process.env.PATH, "string");
    const input = {
      backends: { m: { type: "memory" } },
      stores: { s: { backend: "m", rootPath: "${PATH}" } },
    };
    throwsConfig(() => parseConfig(input), "PATH");
    throwsConfig(() => parseConfig(input, {}), "PATH");
    const config = parseConfig(input, { env: { PATH: "p" } });
    assert.equal(config.stores.s!.rootPath, "p");
  });

  test("names on Object.prototype are not variables", () => {
    for (const name of ["toString", "constructor", "__proto__", "hasOwnProperty"]) {
      throwsConfig(
        () =>
          parseConfig(
            {
              backends: { m: { type: "memory" } },
              stores: { s: { backend: "m", rootPath: `\${${name}}` } },
            },
            { env: {} },
          ),
        `uses \${${name}}`,
      );
    }
  });

  test("$${ is a literal ${; a lone $ is literal", () => {
    const config = parseConfig(
      {
        backends: { m: { type: "memory" } },
        stores: {
          a: { backend: "m", rootPath: "$${C}" },
          b: { backend: "m", rootPath: "a$b$" },
          c: { backend: "m", rootPath: "x$${C}-${C}" },
          d: { backend: "m", rootPath: "$${" },
        },
      },
      { env },
    );
    assert.equal(config.stores.a!.rootPath, "${C}");
    assert.equal(config.stores.b!.rootPath, "a$b$");
    assert.equal(config.stores.c!.rootPath, "x${C}-cont");
    assert.equal(config.stores.d!.rootPath, "${");
  });

  test("malformed references are errors naming the key path", () => {
    for (const value of ["${", "${C", "${}", "${1X}", "${A B}", "${C:default}", "${C-x}"]) {
      throwsConfig(
        () =>
          parseConfig(
            {
              backends: { m: { type: "memory" } },
              stores: { s: { backend: "m", rootPath: value } },
            },
            { env },
          ),
        `"stores.s.rootPath"`,
      );
    }
  });

  test("values are not coerced after expansion", () => {
    throwsConfig(
      () =>
        parseConfig(azure({ connection_string: CONN, block_size: "${BS}" }), {
          env: { BS: "8388608" },
        }),
      `"backends.az.options.block_size" must be an integer`,
    );
  });

  test("an invalid env option is an InvalidConfigError", () => {
    throwsConfig(
      () =>
        parseConfig({ backends: {}, stores: {} }, {
          env: "x" as unknown as Record<string, string>,
        }),
      "env",
    );
  });
});

describe("parseConfig: values from the environment never appear in errors", () => {
  const env = { SECRET, CONN };
  const cases: [string, () => unknown, string][] = [
    [
      "sibling of a wrong type",
      () =>
        parseConfig(azure({ account_name: "acct", account_key: "${SECRET}", block_size: "x" }), {
          env,
        }),
      `"backends.az.options.block_size"`,
    ],
    [
      "a secret in an integer option",
      () => parseConfig(azure({ connection_string: CONN, block_size: "${SECRET}" }), { env }),
      `"backends.az.options.block_size" must be an integer`,
    ],
    [
      "a secret inside a nested table",
      () =>
        parseConfig(azure({ connection_string: CONN, retry: { max_tries: ["${SECRET}"] } }), {
          env,
        }),
      `"backends.az.options.retry.max_tries"`,
    ],
    [
      "a secret as the container",
      () => parseConfig(azure({ connection_string: CONN, container: "${SECRET}" }), { env }),
      `"backends.az.options.container" must be 3 to 63`,
    ],
    [
      "a secret inside a longer value",
      () => parseConfig(azure({ connection_string: CONN, container: "x-${SECRET}-y" }), { env }),
      `"backends.az.options.container"`,
    ],
    [
      "a secret as the type",
      () => parseConfig({ backends: { m: { type: "${SECRET}" } }, stores: {} }, { env }),
      `"backends.m.type" must be one of`,
    ],
    [
      "a secret as the store backend",
      () =>
        parseConfig({
          backends: { m: { type: "memory" } },
          stores: { s: { backend: "${SECRET}" } },
        }, { env }),
      `"stores.s.backend" must name`,
    ],
    [
      "a secret in an invalid root path",
      () =>
        parseConfig(
          {
            backends: { m: { type: "memory" } },
            stores: { s: { backend: "m", root_path: "../${SECRET}" } },
          },
          { env },
        ),
      `"stores.s.root_path" is invalid`,
    ],
    [
      "a secret in an hns option",
      () => parseConfig(azure({ connection_string: CONN, hns: "${SECRET}" }), { env }),
      `"backends.az.options.hns"`,
    ],
    [
      "a secret as a malformed connection string",
      () => parseConfig(azure({ connection_string: "${SECRET}" }), { env }),
      `"backends.az.options.connection_string"`,
    ],
    [
      "a missing variable next to a secret",
      () => parseConfig(azure({ account_name: "${SECRET}", account_key: "${MISSING}" }), { env }),
      "MISSING",
    ],
  ];
  for (const [name, fn, expected] of cases) {
    test(name, () => {
      const error = throwsConfig(fn, expected);
      assertHidden(error, SECRET);
    });
  }
});

describe("parseConfig: input handling", () => {
  test("the input is not mutated and the output shares nothing with it", () => {
    const input = {
      backends: {
        az: {
          type: "azure",
          options: {
            container: "data",
            connection_string: "${CONN}",
            client_options: { nested: { list: [1, { a: "b" }] } },
            retry: { max_tries: 2 },
          },
        },
        m: { type: "memory" },
      },
      stores: { s: { backend: "az", root_path: "x" }, t: { backend: "m" } },
    };
    const snapshot = structuredClone(input);
    const deepFreeze = (value: unknown): void => {
      if (typeof value === "object" && value !== null) {
        Object.freeze(value);
        for (const child of Object.values(value)) deepFreeze(child);
      }
    };
    deepFreeze(input);
    const config = parseConfig(input, { env: { CONN } });
    assert.deepEqual(input, snapshot);
    const options = config.backends.az!.options as Record<string, Record<string, unknown>>;
    assert.notEqual(options.clientOptions, input.backends.az.options.client_options);
    assert.notEqual(options.clientOptions!.nested, input.backends.az.options.client_options.nested);
    (options.clientOptions!.nested as { list: unknown[] }).list.push(3);
    config.stores.s!.rootPath = "changed";
    assert.deepEqual(input, snapshot);
  });

  test("deep nesting and cycles are InvalidConfigErrors", () => {
    let deep: Record<string, unknown> = {};
    const top = deep;
    for (let i = 0; i < 10_000; i++) deep = deep.x = {} as Record<string, unknown>;
    throwsConfig(
      () => parseConfig(azure({ connection_string: CONN, client_options: top })),
      "nested more than",
    );
    let list: unknown[] = [];
    const topList = list;
    for (let i = 0; i < 10_000; i++) list = (list[0] = []) as unknown[];
    throwsConfig(
      () => parseConfig(azure({ connection_string: CONN, client_options: { l: topList } })),
      "nested",
    );
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    throwsConfig(
      () => parseConfig(azure({ connection_string: CONN, client_options: cycle })),
      "nested",
    );
  });

  test("getters and proxies that throw become InvalidConfigErrors", () => {
    const getter = {
      backends: {},
      get stores(): never {
        throw new TypeError("boom");
      },
    };
    throwsConfig(() => parseConfig(getter), "could not be read");
    const proxy = new Proxy({}, {
      ownKeys() {
        throw new RangeError("nope");
      },
    });
    throwsConfig(() => parseConfig({ backends: proxy, stores: {} }), "could not be read");
  });
});

describe("parseConfig: random malformed configs", () => {
  const rng = new Prng(20240601);
  const random = () => rng.next();
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const keys = [
    "backends",
    "stores",
    "type",
    "options",
    "backend",
    "rootPath",
    "root_path",
    "container",
    "connection_string",
    "connectionString",
    "account_name",
    "account_key",
    "accountUrl",
    "sas_token",
    "block_size",
    "blockSize",
    "retry",
    "max_tries",
    "maxTries",
    "max_attempts",
    "backoff_base",
    "jitter",
    "timeout",
    "max_concurrency",
    "reject_write_under_file_ancestor",
    "client_options",
    "hns",
    "root",
    "__proto__",
    "constructor",
    "toString",
    "x",
    "",
  ];
  const strings = [
    "",
    " ",
    "memory",
    "azure",
    "local",
    "az",
    "m",
    "data",
    "a/../b",
    "${SECRET}",
    "${MISSING}",
    "${SECRET:-d}",
    "$${SECRET}",
    "${",
    "x${SECRET}y",
    CONN,
    "http://127.0.0.1:1/a",
    "auto",
    "\0",
  ];
  const garbage = (depth: number): unknown => {
    const kind = Math.floor(random() * (depth > 3 ? 6 : 9));
    switch (kind) {
      case 0:
        return pick(strings);
      case 1:
        return pick([0, -1, 1, 1.5, 8388608, NaN, Infinity, 2 ** 60]);
      case 2:
        return pick([true, false]);
      case 3:
        return null;
      case 4:
        return undefined;
      case 5:
        return pick([Symbol("s"), () => 1, new Date(0), 5n]);
      case 6:
        return Array.from({ length: Math.floor(random() * 3) }, () => garbage(depth + 1));
      default: {
        const out: Record<string, unknown> = {};
        for (let i = Math.floor(random() * 4); i > 0; i--) {
          Object.defineProperty(out, pick(keys), {
            value: garbage(depth + 1),
            enumerable: true,
            configurable: true,
            writable: true,
          });
        }
        return out;
      }
    }
  };
  const base = () => ({
    backends: {
      az: {
        type: "azure",
        options: {
          container: "data",
          connection_string: "${CONN}",
          block_size: 1024,
          retry: { max_tries: 2 },
          client_options: { a: { b: "${SECRET}" } },
          account_name: "devstoreaccount1",
          max_concurrency: 2,
        },
        retry: { backoff_base: 0.5, timeout: 30, jitter: 1 },
      },
      m: { type: "memory", options: {} },
      d: { type: "local", options: { root: "/tmp/remote-store-never-created" } },
    },
    stores: { s: { backend: "az", root_path: "x/${SECRET:-y}" }, t: { backend: "m" } },
  });
  /** Replaces, adds or deletes something at a random depth. */
  const mutate = (value: Record<string, unknown>): void => {
    const entries = Object.keys(value);
    const action = random();
    if (entries.length > 0 && action < 0.45) {
      const key = pick(entries);
      const child = value[key];
      if (typeof child === "object" && child !== null && !Array.isArray(child) && random() < 0.6) {
        mutate(child as Record<string, unknown>);
      } else {
        value[key] = garbage(0);
      }
    } else if (action < 0.8) {
      Object.defineProperty(value, pick(keys), {
        value: garbage(0),
        enumerable: true,
        configurable: true,
        writable: true,
      });
    } else if (entries.length > 0) {
      delete value[pick(entries)];
    }
  };

  test("400 mutated configs throw InvalidConfigError or give a config the Registry accepts", () => {
    const env = { SECRET, CONN };
    let thrown = 0;
    let accepted = 0;
    for (let i = 0; i < 400; i++) {
      const input = base() as Record<string, unknown>;
      for (let n = 1 + Math.floor(random() * 3); n > 0; n--) mutate(input);
      const useTop = random() < 0.05;
      const subject = useTop ? garbage(0) : input;
      let config;
      try {
        config = parseConfig(subject, { env });
      } catch (error) {
        assert.ok(error instanceof InvalidConfigError, `case ${i}: ${inspect(error)}`);
        assert.ok(
          !error.message.startsWith("Configuration could not be read"),
          `case ${i}: ${error.message}`,
        );
        assertHidden(error, SECRET);
        thrown++;
        continue;
      }
      const registry = new Registry(config);
      for (const name of registry.storeNames) registry.getStore(name);
      accepted++;
    }
    assert.equal(thrown + accepted, 400);
    assert.ok(thrown > 100, `only ${thrown} thrown`);
    assert.ok(accepted > 10, `only ${accepted} accepted`);
  });
});

describe("parseConfig: the Python library's keys", () => {
  /** An Azure backend with a backend-level `retry` table. */
  const withRetry = (retry: unknown, options: Record<string, unknown> = {}) => ({
    backends: {
      az: {
        type: "azure",
        options: { container: "data", connection_string: CONN, ...options },
        retry,
      },
    },
    stores: { s: { backend: "az" } },
  });
  const retryOf = (config: ReturnType<typeof parseConfig>) =>
    (config.backends.az!.options as { retry?: unknown }).retry;

  test("a backend's retry table maps onto options.retry (seconds to milliseconds)", () => {
    const config = parseConfig(withRetry({
      max_attempts: 5,
      backoff_base: 2.0,
      backoff_max: 30,
      jitter: 0.5,
      timeout: 12.5,
    }));
    assert.deepEqual(retryOf(config), {
      maxTries: 5,
      retryDelayMs: 2000,
      maxRetryDelayMs: 30000,
      tryTimeoutMs: 12500,
    });
    new Registry(config);
    // Fractions round to whole milliseconds; a timeout never rounds to 0.
    assert.deepEqual(
      retryOf(parseConfig(withRetry({ backoff_base: 0.0004, backoff_max: 0.2506, timeout: 1e-6 }))),
      { retryDelayMs: 0, maxRetryDelayMs: 251, tryTimeoutMs: 1 },
    );
    // Bigints (as some TOML parsers return) are numbers; JSON's null timeout is "none".
    assert.deepEqual(retryOf(parseConfig(withRetry({ max_attempts: 3n, timeout: null }))), {
      maxTries: 3,
    });
  });

  test("jitter is checked and has no effect", () => {
    for (const jitter of [0, 0.5, 3, true, false]) {
      assert.equal(retryOf(parseConfig(withRetry({ jitter }))), undefined, `jitter ${jitter}`);
      assert.deepEqual(retryOf(parseConfig(withRetry({ jitter, max_attempts: 2 }))), {
        maxTries: 2,
      });
    }
    throwsConfig(
      () => parseConfig(withRetry({ jitter: -1 })),
      `"backends.az.retry.jitter" must be a number of seconds of at least 0, got -1`,
    );
    throwsConfig(
      () => parseConfig(withRetry({ jitter: "0.5" })),
      `"backends.az.retry.jitter" must be a number of seconds of at least 0, got a string`,
    );
  });

  test("an empty retry table changes nothing, on any backend type", () => {
    const config = parseConfig({
      backends: { m: { type: "memory", retry: {} } },
      stores: { s: { backend: "m" } },
    });
    assert.deepEqual(config.backends.m, { type: "memory" });
    assert.equal(retryOf(parseConfig(withRetry({}))), undefined);
  });

  test("wrong retry values name the key as written", () => {
    const cases: [unknown, string][] = [
      [
        { max_attempts: 0 },
        `"backends.az.retry.max_attempts" must be an integer of at least 1, got 0`,
      ],
      [{ max_attempts: 2.5 }, `"backends.az.retry.max_attempts" must be an integer of at least 1`],
      [
        { max_attempts: "5" },
        `"backends.az.retry.max_attempts" must be an integer of at least 1, got a string`,
      ],
      [
        { max_attempts: 500 },
        `"backends.az.retry.max_attempts" must be an integer from 1 to 100, got 500`,
      ],
      [
        { backoff_base: -1 },
        `"backends.az.retry.backoff_base" must be a number of seconds of at least 0`,
      ],
      [{ backoff_max: Infinity }, `"backends.az.retry.backoff_max" must be a number of seconds`],
      [
        { timeout: 0 },
        `"backends.az.retry.timeout" must be a number of seconds greater than 0, got 0`,
      ],
      [
        { maxAttempts: 3 },
        `"backends.az.retry.maxAttempts" is not a known key (did you mean "max_attempts"?)`,
      ],
      [{ max_tries: 3 }, `"backends.az.retry.max_tries" is not a known key`],
      [[3], `"backends.az.retry" must be an object (a table), got an array`],
    ];
    for (const [retry, message] of cases) {
      throwsConfig(() => parseConfig(withRetry(retry)), message);
    }
  });

  test("a variable in a retry value expands, then fails the type check without showing it", () => {
    const error = throwsConfig(
      () => parseConfig(withRetry({ max_attempts: "${TRIES}" }), { env: { TRIES: SECRET } }),
      `"backends.az.retry.max_attempts" must be an integer of at least 1, got a string`,
    );
    assertHidden(error, SECRET);
  });

  test("the retry table merges with options.retry; one option set twice is an error", () => {
    const config = parseConfig(withRetry({ max_attempts: 6 }, { retry: { max_resumes: 2 } }));
    assert.deepEqual(retryOf(config), { maxResumes: 2, maxTries: 6 });
    throwsConfig(
      () => parseConfig(withRetry({ backoff_base: 1 }, { retry: { retry_delay_ms: 5 } })),
      `"backends.az.retry.backoff_base" and "backends.az.options.retry.retry_delay_ms" set the same retry option`,
    );
  });

  test("a type without a retry option rejects a non-empty retry table, naming it", () => {
    throwsConfig(
      () =>
        parseConfig({
          backends: { m: { type: "memory", retry: { max_attempts: 2 } } },
          stores: {},
        }),
      `"backends.m.retry" is not an option of the memory backend`,
    );
    throwsConfig(
      () =>
        parseConfig({
          backends: {
            d: { type: "local", options: { root: "/tmp/x" }, retry: { max_attempts: 2 } },
          },
          stores: {},
        }),
      `"backends.d.retry" is not a known option`,
    );
  });

  test("max_concurrency and reject_write_under_file_ancestor (Azure)", () => {
    const config = parseConfig(azure({
      connection_string: CONN,
      max_concurrency: 8,
      reject_write_under_file_ancestor: false,
    }));
    assert.deepEqual(config.backends.az!.options, {
      container: "data",
      connectionString: CONN,
      concurrency: 8,
      strictPaths: false,
    });
    const on = parseConfig(
      azure({ connection_string: CONN, reject_write_under_file_ancestor: true }),
    );
    assert.equal(on.backends.az!.options!.strictPaths, true);
    throwsConfig(
      () => parseConfig(azure({ connection_string: CONN, max_concurrency: 2, concurrency: 3 })),
      `"backends.az.options.max_concurrency" and "backends.az.options.concurrency" set the same option`,
    );
    throwsConfig(
      () => parseConfig(azure({ connection_string: CONN, max_concurrency: 0 })),
      `"backends.az.options.max_concurrency" must be an integer from 1 to 64, got 0`,
    );
    throwsConfig(
      () =>
        parseConfig(azure({ connection_string: CONN, reject_write_under_file_ancestor: "yes" })),
      `"backends.az.options.reject_write_under_file_ancestor" must be`,
    );
    // Only Azure has these aliases.
    throwsConfig(
      () =>
        parseConfig({
          backends: { d: { type: "local", options: { root: "/tmp/x", max_concurrency: 2 } } },
          stores: {},
        }),
      `"backends.d.options.max_concurrency" is not a known option`,
    );
  });

  const KEY = "a2V5LW9uZQ==";
  const ACCOUNT_CONN = `DefaultEndpointsProtocol=https;AccountName=acct1;AccountKey=${KEY};` +
    "EndpointSuffix=core.windows.net";

  test("connection_string with an agreeing account_name / account_key: the connection string wins", () => {
    for (
      const extra of [
        { account_name: "acct1" },
        { account_name: "ACCT1" },
        { account_key: KEY },
        { account_name: "acct1", account_key: KEY },
      ]
    ) {
      const config = parseConfig(azure({ connection_string: ACCOUNT_CONN, ...extra }));
      assert.deepEqual(
        config.backends.az!.options,
        { container: "data", connectionString: ACCOUNT_CONN },
        JSON.stringify(extra),
      );
      new Registry(config);
    }
    const dev = parseConfig(azure({
      connection_string: "UseDevelopmentStorage=true",
      account_name: "devstoreaccount1",
    }));
    assert.deepEqual(dev.backends.az!.options, {
      container: "data",
      connectionString: "UseDevelopmentStorage=true",
    });
  });

  test("a disagreeing account_name or account_key is an error naming both keys, not the values", () => {
    const env = { CONN_STRING: ACCOUNT_CONN.replace(KEY, SECRET), ACCOUNT: "secretacct9" };
    const name = throwsConfig(
      () =>
        parseConfig(azure({ connection_string: "${CONN_STRING}", account_name: "${ACCOUNT}" }), {
          env,
        }),
      `"backends.az.options.account_name" and "backends.az.options.connection_string" name different storage accounts`,
    );
    assertHidden(name, "secretacct9");
    assertHidden(name, SECRET);
    const key = throwsConfig(
      () =>
        parseConfig(
          azure({ connectionString: "${CONN_STRING}", accountName: "acct1", accountKey: KEY }),
          { env },
        ),
      `"backends.az.options.accountKey" and "backends.az.options.connectionString" hold different account keys`,
    );
    assertHidden(key, SECRET);
    assertHidden(key, KEY);
  });

  test("account_name with a connection string that names no account is an error", () => {
    const sasOnly = "BlobEndpoint=https://acct1.blob.core.windows.net;SharedAccessSignature=sv=1";
    throwsConfig(
      () => parseConfig(azure({ connection_string: sasOnly, account_name: "acct1" })),
      `"backends.az.options.account_name" cannot be checked against "backends.az.options.connection_string", which has no AccountName`,
    );
    throwsConfig(
      () => parseConfig(azure({ connection_string: sasOnly, account_key: KEY })),
      "which has no AccountKey",
    );
    // Other combinations stay refused by the Azure options.
    throwsConfig(
      () => parseConfig(azure({ connection_string: ACCOUNT_CONN, sas_token: "sv=1" })),
      "cannot be combined",
    );
  });
});
