/**
 * Secrets suite: the account key, a real account SAS (its `sig=` value), the
 * connection string and its `AccountKey=` part must never show in any printed
 * form (`String()`, `message`, `stack`, `JSON.stringify`, `util.inspect` with
 * depth Infinity, `Deno.inspect` on Deno) of configs errors, Registry, Store,
 * AzureBackend (every auth form) or the errors they produce, including every
 * `cause` down the chain.
 */

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { inspect } from "node:util";
import process from "node:process";
import {
  AccountSASPermissions,
  AccountSASResourceTypes,
  AccountSASServices,
  generateAccountSASQueryParameters,
  SASProtocol,
  StorageSharedKeyCredential,
} from "@azure/storage-blob";
import {
  AlreadyExistsError,
  BackendUnavailableError,
  InvalidConfigError,
  NotFoundError,
  parseConfig,
  PermissionDeniedError,
  registerBackendType,
  Registry,
  type RegistryConfig,
  RemoteStoreError,
  Store,
} from "../../mod.ts";
import { AzureBackend, type AzureBackendOptions, azureBackendType } from "../../azure.ts";
import { localBackendType } from "../../local.ts";
import { freePort } from "../_azurite.ts";
import { type FaultProxy, startFaultProxy } from "../_fault_proxy.ts";
import { type AzureEnv, FAST_RETRY, patternBytes, setupAzure } from "../azure/_setup.ts";

// These configs name the local and Azure types: make them known once, as an application can.
registerBackendType(localBackendType);
registerBackendType(azureBackendType);

// ---- printing and searching ------------------------------------------------------------

type DenoLike = { inspect(value: unknown, options?: Record<string, unknown>): string };
const denoInspect = (globalThis as { Deno?: DenoLike }).Deno?.inspect;

/** JSON.stringify that survives cycles, bigints and getters that throw. */
function safeJson(value: unknown): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === "bigint") return `${v}n`;
    if (v !== null && typeof v === "object") {
      if (seen.has(v)) return "[cycle]";
      seen.add(v);
    }
    return v;
  }) ?? "undefined";
}

/** Every printed form of a value, and of every `cause` below it. */
function printedForms(label: string, value: unknown): [string, string][] {
  const out: [string, string][] = [];
  const add = (form: string, print: () => unknown) => {
    try {
      out.push([`${label}: ${form}`, String(print())]);
    } catch (error) {
      let text: string;
      try {
        text = String(error);
      } catch {
        text = "<unprintable>";
      }
      out.push([`${label}: ${form} (threw)`, text]);
    }
  };
  const all = (prefix: string, v: unknown) => {
    add(`${prefix}String()`, () => String(v));
    add(`${prefix}JSON.stringify`, () => JSON.stringify(v));
    add(`${prefix}util.inspect`, () => inspect(v, { depth: Infinity }));
    add(
      `${prefix}util.inspect showHidden`,
      () => inspect(v, { depth: Infinity, showHidden: true }),
    );
    if (denoInspect) {
      add(`${prefix}Deno.inspect`, () => denoInspect(v, { depth: Infinity }));
      add(
        `${prefix}Deno.inspect showHidden`,
        () => denoInspect(v, { depth: Infinity, showHidden: true }),
      );
    }
    if (v instanceof Error) {
      add(`${prefix}message`, () => v.message);
      add(`${prefix}stack`, () => v.stack);
    }
  };
  all("", value);
  let cause = (value as { cause?: unknown } | undefined)?.cause;
  for (let depth = 1; cause !== undefined && depth <= 8; depth++) {
    all(`cause[${depth}] `, cause);
    add(`cause[${depth}] JSON (cycle-safe)`, () => safeJson(cause));
    if (cause instanceof AggregateError) {
      cause.errors.forEach((e, i) => all(`cause[${depth}].errors[${i}] `, e));
    }
    cause = (cause as { cause?: unknown } | undefined)?.cause;
  }
  return out;
}

/** Secrets by name; filled in `before`. */
const needles = new Map<string, string>();

/** Leaks found: `form -> secret name`. */
function findLeaks(label: string, value: unknown): string[] {
  const leaks: string[] = [];
  for (const [form, text] of printedForms(label, value)) {
    for (const [name, secret] of needles) {
      if (text.includes(secret)) leaks.push(`${form} shows ${name}`);
    }
  }
  return leaks;
}

/** Collects leaks over a test and fails once, listing all of them. */
class LeakCheck {
  readonly leaks: string[] = [];
  checked = 0;

  check(label: string, value: unknown): void {
    this.checked++;
    this.leaks.push(...findLeaks(label, value));
  }

  /** Runs `fn`, expects a rejection of `type`, and checks the error. */
  async error(
    label: string,
    type: abstract new (...args: never[]) => RemoteStoreError,
    fn: () => Promise<unknown> | unknown,
  ): Promise<void> {
    let caught: unknown;
    try {
      await fn();
    } catch (error) {
      caught = error;
    }
    assert.ok(caught !== undefined, `${label}: expected a ${type.name}, but it succeeded`);
    assert.ok(
      caught instanceof type,
      `${label}: expected a ${type.name}, got ${(caught as Error)?.constructor?.name}: ${
        (caught as Error)?.message
      }`,
    );
    this.check(label, caught);
    if (process.env.SECURITY_DEBUG) console.log(`${label}: ${(caught as Error).message}`);
  }

  done(): void {
    assert.ok(this.checked > 0);
    assert.deepEqual(this.leaks, [], `secrets leaked:\n  ${this.leaks.join("\n  ")}`);
  }
}

// ---- the environment -----------------------------------------------------------------------

function randomKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(64));
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

function accountSas(accountName: string, accountKey: string): string {
  return generateAccountSASQueryParameters(
    {
      expiresOn: new Date(Date.now() + 60 * 60 * 1000),
      permissions: AccountSASPermissions.parse("rwdlacup"),
      resourceTypes: AccountSASResourceTypes.parse("sco").toString(),
      services: AccountSASServices.parse("b").toString(),
      protocol: SASProtocol.HttpsAndHttp,
    },
    new StorageSharedKeyCredential(accountName, accountKey),
  ).toString();
}

function sigOf(sas: string): string {
  const sig = new URLSearchParams(sas).get("sig");
  assert.ok(sig, "the SAS has no sig");
  return sig;
}

describe("secrets never leak", () => {
  let env: AzureEnv;
  let proxy: FaultProxy;
  let closedPort: number;
  let key: string;
  let url: string;
  let account: string;
  let conn: string;
  let sas: string;
  let wrongKey: string;
  let wrongSas: string;
  /** Every auth form against Azurite, by name. */
  let forms: Record<string, Partial<AzureBackendOptions>>;

  const big = patternBytes(1024 * 1024, 3);

  before(async () => {
    env = await setupAzure();
    proxy = await startFaultProxy(env.az.port);
    closedPort = await freePort();
    key = env.az.accountKey;
    url = env.az.url;
    account = env.az.accountName;
    conn = env.az.connectionString;
    sas = accountSas(account, key);
    wrongKey = randomKey();
    wrongSas = accountSas(account, wrongKey);
    const sig = sigOf(sas);
    const wrongSig = sigOf(wrongSas);
    needles.set("the account key", key);
    needles.set("the account key (URL-encoded)", encodeURIComponent(key));
    needles.set("the start of the account key", key.slice(0, 24));
    needles.set("the connection string", conn);
    needles.set("the connection string's AccountKey part", `AccountKey=${key}`);
    needles.set("the SAS token", sas);
    needles.set("the SAS signature (raw)", sig);
    needles.set("the SAS signature (URL-encoded)", encodeURIComponent(sig));
    needles.set("the wrong account key", wrongKey);
    needles.set("the wrong account key (URL-encoded)", encodeURIComponent(wrongKey));
    needles.set("the wrong SAS signature (raw)", wrongSig);
    needles.set("the wrong SAS signature (URL-encoded)", encodeURIComponent(wrongSig));
    forms = {
      "connection string": { connectionString: conn },
      "connection string with a SAS": {
        connectionString: `BlobEndpoint=${url};SharedAccessSignature=${sas}`,
      },
      "account key": { accountName: account, accountKey: key, accountUrl: url },
      "SAS token": { accountUrl: url, sasToken: sas },
      "SAS token with a leading ?": { accountUrl: url, sasToken: `?${sas}` },
    };
    const seed = new Store(env.backend({ hns: false }), { rootPath: "secrets" });
    await seed.write("exists.txt", "x", { overwrite: true });
    await seed.write("big.bin", big, { overwrite: true });
  });

  after(async () => {
    await proxy?.stop();
    await env?.close();
  });

  test("the detector finds planted secrets (self-check)", () => {
    const sig = sigOf(sas);
    const planted = new Error("outer", {
      cause: Object.assign(new Error(`inner ${encodeURIComponent(sig)}`), {
        request: { url: `${url}/c/b?${sas}` },
      }),
    });
    const hidden = Object.defineProperty({}, "secret", { value: key, enumerable: false });
    assert.ok(findLeaks("planted", { k: key }).length > 0);
    assert.ok(findLeaks("planted", planted).some((l) => l.includes("SAS signature (URL-encoded)")));
    assert.ok(findLeaks("planted", hidden).some((l) => l.includes("showHidden")));
    assert.ok(
      findLeaks("planted", `x;AccountKey=${key};y`).some((l) => l.includes("AccountKey part")),
    );
  });

  test("Registry, Store and AzureBackend (every auth form) print no secret", async () => {
    const leaks = new LeakCheck();
    const tokenSecret = `tok-${randomKey()}`;
    needles.set("the token credential's token", tokenSecret);
    const credential = {
      secret: tokenSecret,
      getToken: () => Promise.resolve({ token: tokenSecret, expiresOnTimestamp: Date.now() + 1e6 }),
    };
    const allForms: Record<string, Partial<AzureBackendOptions>> = {
      ...forms,
      "token credential": { accountUrl: url, credential },
    };
    for (const [name, options] of Object.entries(allForms)) {
      const backend = env.backend({ hns: false, ...options });
      leaks.check(`AzureBackend (${name})`, backend);
      const store = new Store(backend, { rootPath: "secrets" });
      leaks.check(`Store over AzureBackend (${name})`, store);
      if (name !== "token credential") {
        // After use, too: clients and pipelines exist now.
        await store.readText("exists.txt");
        leaks.check(`AzureBackend (${name}) after a read`, backend);
        leaks.check(`Store (${name}) after a read`, store);
      }
      const config: RegistryConfig = {
        backends: { az: { type: "azure", options: { container: env.container, ...options } } },
        stores: { data: { backend: "az", rootPath: "secrets" } },
      };
      const registry = new Registry(config);
      leaks.check(`Registry (${name})`, registry);
      const registryStore = registry.getStore("data");
      leaks.check(`Registry store (${name})`, registryStore);
      if (name !== "token credential") {
        await registryStore.exists("exists.txt");
        leaks.check(`Registry (${name}) after use`, registry);
        leaks.check(`Registry backend (${name})`, await registry.getBackend("az"));
      }
      await registry.close();
    }
    // parseConfig's output is plain data (it has to carry the secret to the
    // Registry); what must not show the secret is what is built from it.
    const parsed = parseConfig({
      backends: {
        az: {
          type: "azure",
          options: { container: env.container, connection_string: "${CONN}" },
        },
      },
      stores: { data: { backend: "az", root_path: "secrets" } },
    }, { env: { CONN: conn } });
    const registry = new Registry(parsed);
    leaks.check("Registry built from parseConfig", registry);
    await registry.getStore("data").exists("exists.txt");
    leaks.check("Registry built from parseConfig, after use", registry);
    leaks.check("its backend", await registry.getBackend("az"));
    await registry.close();
    leaks.done();
  });

  test("invalid-option errors print no secret (parseConfig, Registry, AzureBackend)", async () => {
    const leaks = new LeakCheck();
    const c = env.container;
    const bad: [string, Record<string, unknown>][] = [
      ["bad blockSize next to a connection string", {
        container: c,
        connectionString: conn,
        blockSize: "x",
      }],
      ["bad blockSize next to a key", {
        container: c,
        accountName: account,
        accountKey: key,
        blockSize: -1,
      }],
      ["bad concurrency next to a SAS", {
        container: c,
        accountUrl: url,
        sasToken: sas,
        concurrency: 1e9,
      }],
      // (A key that agrees with the connection string is dropped by parseConfig, as in Python.)
      ["connection string and a different key together", {
        container: c,
        connectionString: conn,
        accountKey: wrongKey,
      }],
      ["key and SAS together", {
        container: c,
        accountName: account,
        accountKey: key,
        sasToken: sas,
      }],
      ["key without account name", { container: c, accountKey: key }],
      ["SAS without an endpoint", { container: c, sasToken: sas }],
      ["misspelt accountKey", { container: c, accountName: account, acountKey: key }],
      ["misspelt sasToken", { container: c, accountUrl: url, sastoken: sas }],
      ["a key as a wrong-typed option", { container: c, connectionString: conn, hns: key }],
      ["an invalid container next to a key", {
        container: "BAD!",
        accountName: account,
        accountKey: key,
      }],
      ["a SAS inside accountUrl", { container: c, accountUrl: `${url}?${sas}` }],
      ["a key inside a broken connection string", {
        container: c,
        connectionString: `AccountName=${account};AccountKey=${key};BlobEndpoint=not a url`,
      }],
      ["a SAS inside a broken connection string", {
        container: c,
        connectionString: `SharedAccessSignature=${sas};BlobEndpoint=ftp://x?${sas}`,
      }],
      ["a connection string without AccountName", {
        container: c,
        connectionString: `AccountKey=${key};EndpointSuffix=core.windows.net`,
      }],
      ["a connection string with a SAS query in BlobEndpoint", {
        container: c,
        connectionString: `AccountName=${account};AccountKey=${key};BlobEndpoint=${url}?${sas}`,
      }],
    ];
    for (const [name, options] of bad) {
      const config = {
        backends: { az: { type: "azure", options } },
        stores: { data: { backend: "az" } },
      } as unknown as RegistryConfig;
      let constructed: AzureBackend | undefined;
      let constructError: unknown;
      try {
        constructed = new AzureBackend(options as unknown as AzureBackendOptions);
      } catch (error) {
        constructError = error;
      }
      assert.ok(
        constructError instanceof InvalidConfigError,
        `new AzureBackend(${name}): expected InvalidConfigError, got ${
          constructed ? "a backend" : String(constructError)
        }`,
      );
      leaks.check(`new AzureBackend error (${name})`, constructError);
      // The Registry validates eagerly; some problems only show when the backend is created.
      let registry: Registry | undefined;
      try {
        registry = new Registry(config);
      } catch (error) {
        assert.ok(error instanceof InvalidConfigError, `new Registry(${name}): ${String(error)}`);
        leaks.check(`new Registry error (${name})`, error);
      }
      if (registry) {
        await leaks.error(
          `first use of a Registry store (${name})`,
          InvalidConfigError,
          () => registry!.getStore("data").exists("x"),
        );
        await registry.close().catch(() => {});
      }
      await leaks.error(`parseConfig error (${name})`, InvalidConfigError, () => {
        const parsed = parseConfig(config);
        new Registry(parsed);
        return new AzureBackend(parsed.backends.az!.options as unknown as AzureBackendOptions);
      });
    }
    // The same through ${VAR} expansion, with the secrets in the environment.
    const envConfigs: [string, Record<string, unknown>][] = [
      ["bad block_size, connection string from env", {
        container: c,
        connection_string: "${CONN}",
        block_size: "x",
      }],
      ["key from env with a SAS", {
        container: c,
        account_name: account,
        account_key: "${KEY}",
        sas_token: "${SAS}",
      }],
      ["a key from env as the container", { container: "${KEY}", connection_string: "${CONN}" }],
      ["a SAS from env as the account URL", { container: c, account_url: "${SAS}" }],
      ["a key from env as the account name", {
        container: c,
        account_name: "${KEY}",
        account_key: "${KEY}",
      }],
    ];
    for (const [name, options] of envConfigs) {
      await leaks.error(`parseConfig error (${name})`, InvalidConfigError, () => {
        const parsed = parseConfig({
          backends: { az: { type: "azure", options } },
          stores: { data: { backend: "az" } },
        }, { env: { CONN: conn, KEY: key, SAS: sas } });
        return new AzureBackend(parsed.backends.az!.options as unknown as AzureBackendOptions);
      });
    }
    leaks.done();
  });

  test("service errors print no secret: wrong key (403), closed port, 404, 409", async () => {
    const leaks = new LeakCheck();
    const fast = { ...FAST_RETRY, maxTries: 1 };
    const storeOf = (options: Partial<AzureBackendOptions>) =>
      new Store(env.backend({ hns: false, retry: fast, ...options }), { rootPath: "secrets" });

    // 403: a wrong key or a SAS signed with a wrong key.
    const wrongForms: Record<string, Partial<AzureBackendOptions>> = {
      "wrong account key": { accountName: account, accountKey: wrongKey, accountUrl: url },
      "connection string with a wrong key": { connectionString: conn.replace(key, wrongKey) },
      "SAS signed with a wrong key": { accountUrl: url, sasToken: wrongSas },
    };
    for (const [name, options] of Object.entries(wrongForms)) {
      const store = storeOf(options);
      await leaks.error(`write (${name})`, PermissionDeniedError, () => store.write("w.txt", "x"));
      await leaks.error(
        `readBytes (${name})`,
        PermissionDeniedError,
        () => store.readBytes("exists.txt"),
      );
      await leaks.error(
        `getFileInfo (${name})`,
        PermissionDeniedError,
        () => store.getFileInfo("exists.txt"),
      );
      await leaks.error(`listFiles (${name})`, PermissionDeniedError, async () => {
        for await (const _ of store.listFiles("", { recursive: true })) { /* drain */ }
      });
      await leaks.error(
        `copy (${name})`,
        PermissionDeniedError,
        () => store.copy("exists.txt", "c.txt"),
      );
    }

    // A closed port: BackendUnavailableError.
    const closed = url.replace(`:${env.az.port}/`, `:${closedPort}/`);
    const closedForms: Record<string, Partial<AzureBackendOptions>> = {
      "account key, closed port": { accountName: account, accountKey: key, accountUrl: closed },
      "SAS, closed port": { accountUrl: closed, sasToken: sas },
      "connection string, closed port": { connectionString: conn.replace(url, closed) },
    };
    for (const [name, options] of Object.entries(closedForms)) {
      const store = storeOf(options);
      await leaks.error(
        `write (${name})`,
        BackendUnavailableError,
        () => store.write("w.txt", "x"),
      );
      await leaks.error(
        `readBytes (${name})`,
        BackendUnavailableError,
        () => store.readBytes("a.txt"),
      );
      await leaks.error(`listFiles (${name})`, BackendUnavailableError, async () => {
        for await (const _ of store.listFiles("")) { /* drain */ }
      });
    }

    // 404 and 409 with every working auth form.
    for (const [name, options] of Object.entries(forms)) {
      const store = storeOf(options);
      await leaks.error(
        `readBytes missing (${name})`,
        NotFoundError,
        () => store.readBytes("missing.txt"),
      );
      await leaks.error(`read missing (${name})`, NotFoundError, () => store.read("missing.txt"));
      await leaks.error(
        `getFileInfo missing (${name})`,
        NotFoundError,
        () => store.getFileInfo("missing.txt"),
      );
      await leaks.error(
        `delete missing (${name})`,
        NotFoundError,
        () => store.delete("missing.txt"),
      );
      await leaks.error(
        `copy missing (${name})`,
        NotFoundError,
        () => store.copy("missing.txt", "c.txt"),
      );
      await leaks.error(
        `create-only write (${name})`,
        AlreadyExistsError,
        () => store.write("exists.txt", "y"),
      );
      await leaks.error(
        `create-only copy (${name})`,
        AlreadyExistsError,
        () => store.copy("big.bin", "exists.txt"),
      );
    }
    leaks.done();
  });

  test("an error raised while a stream is read prints no secret", async () => {
    const leaks = new LeakCheck();
    const viaProxy = url.replace(`:${env.az.port}/`, `:${proxy.port}/`);
    const proxied: Record<string, Partial<AzureBackendOptions>> = {
      "account key": { accountName: account, accountKey: key, accountUrl: viaProxy },
      "SAS token": { accountUrl: viaProxy, sasToken: sas },
      "connection string": { connectionString: conn.replace(url, viaProxy) },
    };
    for (const [name, options] of Object.entries(proxied)) {
      const store = new Store(
        env.backend({
          hns: false,
          ...options,
          retry: { maxTries: 1, retryDelayMs: 1, maxRetryDelayMs: 1, maxResumes: 0 },
        }),
        { rootPath: "secrets" },
      );
      // The proxy cuts the download mid-body.
      proxy.add({ method: "GET", action: { kind: "reset", afterBytes: 128 * 1024 } });
      const cutStream = await store.read("big.bin");
      await leaks.error(`stream read cut mid-body (${name})`, RemoteStoreError, async () => {
        const reader = cutStream.getReader();
        while (!(await reader.read()).done) { /* drain */ }
      });
    }
    leaks.done();
  });
});
