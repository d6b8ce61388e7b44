/**
 * Malformed-config suite: thousands of generated broken configurations, from
 * a seeded PRNG, through `parseConfig(config, { env })`, `new Registry(config)`
 * and the backend constructors. Every one must either be accepted or be
 * rejected with `InvalidConfigError`: never a raw TypeError, RangeError, the
 * error a getter or Proxy trap threw, or a crash later on when an accepted
 * Registry is used.
 *
 * Set `SECURITY_SEED` to run another seed.
 */

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import {
  InvalidConfigError,
  MemoryBackend,
  parseConfig,
  registerBackendType,
  Registry,
} from "../../mod.ts";
import { LocalBackend, localBackendType } from "../../local.ts";
import { AzureBackend, azureBackendType } from "../../azure.ts";
import { describeError, Failures, hexSeed, Prng } from "./_gen.ts";

// These configs name the local and Azure types: make them known once, as an application can.
registerBackendType(localBackendType);
registerBackendType(azureBackendType);

const SEED = Number(process.env.SECURITY_SEED ?? 0xc0ff_1e55) >>> 0;
const COUNT = 1_500;

// ---- building blocks --------------------------------------------------------------

type Json = Record<string, unknown>;

/** A thrown value of any kind (not only Errors). */
function thrownValue(rng: Prng): unknown {
  return rng.pick<() => unknown>([
    () => new Error("boom from a getter"),
    () => new TypeError("type boom"),
    () => new RangeError("range boom"),
    () => "a thrown string",
    () => undefined,
    () => null,
    () => 42,
    () => Symbol("thrown"),
    () => ({
      toString() {
        throw new Error("toString boom");
      },
    }),
  ])();
}

/** An object whose (enumerable) property throws when read. */
function throwingGetter(rng: Prng, key: string, base: Json = {}): Json {
  const value = thrownValue(rng);
  return Object.defineProperty({ ...base }, key, {
    enumerable: true,
    configurable: true,
    get() {
      throw value;
    },
  });
}

/** An object whose property gives a valid value on the first read and a bad one later. */
function flippingGetter(key: string, first: unknown, later: unknown, base: Json = {}): Json {
  let reads = 0;
  return Object.defineProperty({ ...base }, key, {
    enumerable: true,
    configurable: true,
    get() {
      return reads++ === 0 ? first : later;
    },
  });
}

const PROXY_KINDS = [
  "transparent",
  "get throws",
  "ownKeys throws",
  "getOwnPropertyDescriptor throws",
  "getPrototypeOf throws",
  "has throws",
  "ownKeys lies",
  "revoked",
] as const;

/** Wraps an object in a Proxy of a random kind. */
function proxyOf(rng: Prng, target: object): { value: object; kind: string } {
  const kind = rng.pick(PROXY_KINDS);
  const thrown = thrownValue(rng);
  const boom = () => {
    throw thrown;
  };
  switch (kind) {
    case "transparent":
      return { value: new Proxy(target, {}), kind };
    case "get throws":
      return { value: new Proxy(target, { get: boom }), kind };
    case "ownKeys throws":
      return { value: new Proxy(target, { ownKeys: boom }), kind };
    case "getOwnPropertyDescriptor throws":
      return { value: new Proxy(target, { getOwnPropertyDescriptor: boom }), kind };
    case "getPrototypeOf throws":
      return { value: new Proxy(target, { getPrototypeOf: boom }), kind };
    case "has throws":
      return { value: new Proxy(target, { has: boom }), kind };
    case "ownKeys lies":
      // Duplicate keys: the engine itself throws a TypeError.
      return { value: new Proxy(target, { ownKeys: () => ["a", "a"] }), kind };
    case "revoked": {
      const { proxy, revoke } = Proxy.revocable(target, {});
      revoke();
      return { value: proxy, kind };
    }
  }
}

const HUGE = "h".repeat(2_000_000);

/** A JSON-like (or decidedly not JSON-like) value. */
function badValue(rng: Prng, depth = 0): { value: unknown; label: string } {
  const choices: [string, () => unknown][] = [
    ["null", () => null],
    ["undefined", () => undefined],
    ["true", () => true],
    ["false", () => false],
    ["0", () => 0],
    ["-0", () => -0],
    ["-1", () => -1],
    ["1.5", () => 1.5],
    ["NaN", () => NaN],
    ["Infinity", () => Infinity],
    ["-Infinity", () => -Infinity],
    ["2**53", () => 2 ** 53],
    ["1e308", () => 1e308],
    ["Number.MIN_VALUE", () => Number.MIN_VALUE],
    ["10n", () => 10n],
    ["2n**70n", () => 2n ** 70n],
    ['""', () => ""],
    ['" "', () => " "],
    ['"\\0"', () => "\0"],
    ['"x"', () => "x"],
    ["huge string", () => HUGE],
    ["string with ${VAR}", () => "${VAR}"],
    ["string with ${MISSING}", () => "${MISSING}"],
    ["string with unclosed ${", () => "a${b"],
    ["string with $${", () => "$${x}"],
    ["string with ${A:-}", () => "${A:-}"],
    ["string with ${:-x}", () => "${:-x}"],
    ["string with ${A B}", () => "${A B}"],
    ["lone surrogate", () => "\ud800"],
    ["symbol", () => Symbol("s")],
    ["function", () => () => 1],
    ["class", () => class X {}],
    ["[]", () => []],
    ["[1, 2]", () => [1, 2]],
    ["[null]", () => [null]],
    ["sparse array", () => new Array(5)],
    ["{}", () => ({})],
    ["null-prototype object", () => Object.create(null)],
    ["Date", () => new Date(NaN)],
    ["RegExp", () => /re/g],
    ["Map", () => new Map([["type", "memory"]])],
    ["Set", () => new Set([1])],
    ["Uint8Array", () => new Uint8Array(3)],
    ["class instance", () => new (class Options {})()],
    ["Promise", () => Promise.resolve({})],
    ["Error", () => new Error("an error as a value")],
    ["boxed string", () => new String("memory")],
    ["object with __proto__ key", () => JSON.parse('{"__proto__": {"type": "memory"}}')],
    ["object with toString throwing", () => ({
      toString() {
        throw new Error("toString");
      },
    })],
    ["object with Symbol.toPrimitive throwing", () => ({
      [Symbol.toPrimitive]() {
        throw new Error("toPrimitive");
      },
    })],
    ["object with a symbol key", () => ({ [Symbol("k")]: 1 })],
    ["frozen object", () => Object.freeze({ type: "memory" })],
    ["cyclic object", () => {
      const o: Json = { a: 1 };
      o.self = o;
      return o;
    }],
    ["deeply nested object", () => {
      let o: Json = { leaf: 1 };
      for (let i = 0; i < 1000; i++) o = { next: o };
      return o;
    }],
    ["deeply nested array", () => {
      let o: unknown[] = [1];
      for (let i = 0; i < 1000; i++) o = [o];
      return o;
    }],
    ["object with a throwing getter", () => throwingGetter(rng, rng.pick(["type", "a", "root"]))],
    ["proxy", () => proxyOf(rng, { type: "memory" }).value],
  ];
  if (depth < 2) {
    choices.push([
      "random array",
      () => Array.from({ length: rng.int(0, 3) }, () => badValue(rng, depth + 1).value),
    ]);
    choices.push(["random object", () => {
      const o: Json = {};
      for (let i = rng.int(0, 3); i > 0; i--) {
        o[rng.pick(["type", "options", "backend", "rootPath", "x", "0"])] =
          badValue(rng, depth + 1).value;
      }
      return o;
    }]);
  }
  const [label, make] = rng.pick(choices);
  return { value: make(), label };
}

const UNKNOWN_KEYS = [
  "extra",
  "Type",
  "rootpath",
  "root_path",
  "rootPath ",
  "",
  " ",
  "a.b",
  "${X}",
  "constructor",
  "toString",
  "hasOwnProperty",
  "__proto__",
  "prototype",
  "k".repeat(10_000),
] as const;

// ---- valid templates of each backend type ----------------------------------------

function memoryBackend(): Json {
  return { type: "memory" };
}

function localBackend(rng: Prng): Json {
  return {
    type: "local",
    options: { root: rng.pick(["/tmp/rs-never-created", "./data", "C:\\x"]) },
  };
}

function azureBackend(rng: Prng): Json {
  const container = rng.pick(["data", "c1x", "my-container", "$root"]);
  const base: Json = rng.pick<() => Json>([
    () => ({ container, connectionString: "UseDevelopmentStorage=true" }),
    () => ({
      container,
      connectionString:
        "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=a2V5;EndpointSuffix=core.windows.net",
    }),
    () => ({ container, accountName: "acct", accountKey: "a2V5a2V5a2V5" }),
    () => ({
      container,
      accountUrl: "http://127.0.0.1:1/devstoreaccount1",
      sasToken: "sv=1&sig=abc",
    }),
    () => ({ container, accountName: "acct" }),
  ])();
  if (rng.chance(0.3)) base.blockSize = 4 * 1024 * 1024;
  if (rng.chance(0.3)) base.concurrency = 2;
  if (rng.chance(0.3)) base.hns = rng.pick(["auto", true, false]);
  if (rng.chance(0.3)) base.retry = { maxTries: 2, retryDelayMs: 10, maxResumes: 1 };
  if (rng.chance(0.2)) base.clientOptions = { userAgentOptions: { userAgentPrefix: "x" } };
  return { type: "azure", options: base };
}

/** Typed-wrong values for specific options, by backend type. */
const OPTION_ATTACKS: Record<string, [string, unknown][]> = {
  azure: [
    ["blockSize", "8"],
    ["blockSize", NaN],
    ["blockSize", Infinity],
    ["blockSize", 0],
    ["blockSize", -1],
    ["blockSize", 1.5],
    ["blockSize", 2 ** 53],
    ["blockSize", 4000 * 1024 * 1024 + 1],
    ["blockSize", 10n],
    ["concurrency", 65],
    ["concurrency", "4"],
    ["concurrency", -Infinity],
    ["retry", { maxTries: "x" }],
    ["retry", { maxTries: 0 }],
    ["retry", { retryDelayMs: -1 }],
    ["retry", { bogus: 1 }],
    ["retry", []],
    ["retry", "fast"],
    ["hns", "yes"],
    ["hns", 1],
    ["credential", { getToken: 1 }],
    ["credential", () => "token"],
    ["credential", "token"],
    ["accountUrl", "ftp://x"],
    ["accountUrl", "not a url"],
    ["accountUrl", "http://[::1"],
    ["accountUrl", "javascript:alert(1)"],
    ["dfsUrl", "//x"],
    ["container", "UPPER"],
    ["container", "a"],
    ["container", "a".repeat(64)],
    ["container", "-ab"],
    ["container", "a--b"],
    ["container", "a/b"],
    ["container", HUGE],
    ["connectionString", "x"],
    ["connectionString", "AccountName=;"],
    ["connectionString", "=;=;"],
    ["connectionString", ";;;"],
    ["connectionString", `AccountName=a;AccountKey=${HUGE}`],
    ["connectionString", "AccountName=a;BlobEndpoint=not a url;AccountKey=eA=="],
    ["connectionString", "UseDevelopmentStorage=true;DevelopmentStorageProxyUri=x"],
    ["sasToken", "?"],
    ["sasToken", ""],
    ["accountKey", 12345],
    ["clientOptions", "x"],
    ["clientOptions", []],
    ["clientOptions", { retryOptions: "x" }],
    ["clientOptions", { agent: 1 }],
  ],
  local: [
    ["root", ""],
    ["root", " "],
    ["root", 1],
    ["root", ["a"]],
    ["root", "\0"],
    ["root", "a\0b"],
    ["root", HUGE],
    ["root", { toString: () => "/tmp" }],
    ["extra", 1],
  ],
  memory: [
    ["root", "/tmp"],
    ["anything", 1],
  ],
};

// ---- generation --------------------------------------------------------------------

interface Case {
  config: unknown;
  env: unknown;
  recipe: string[];
  /** Plain data with memory backends only (no getters, no proxies): safe to write through. */
  plainMemory: boolean;
  /** The input has getters or Proxies somewhere (as opposed to plain, if odd, data). */
  exotic: boolean;
}

/** Runs `fn`; `fallback` when it throws (the generator must survive its own traps). */
function safe<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch {
    return fallback;
  }
}

/** A data property's value, without running getters or Proxy traps. */
function peek(node: Json, key: string): unknown {
  return safe(() => {
    const descriptor = Object.getOwnPropertyDescriptor(node, key);
    return descriptor && "value" in descriptor ? descriptor.value : undefined;
  }, undefined);
}

function isPlainTarget(value: unknown): value is Json {
  return safe(
    () =>
      value !== null && typeof value === "object" && !Array.isArray(value) &&
      Object.getPrototypeOf(value) === Object.prototype,
    false,
  );
}

/** Every property in the tree with its key path (descending into plain objects only). */
function locations(root: Json): { parent: Json; key: string; path: string }[] {
  const out: { parent: Json; key: string; path: string }[] = [];
  const visit = (node: Json, path: string, depth: number) => {
    if (depth > 6) return;
    for (const key of safe(() => Object.keys(node), [] as string[])) {
      const childPath = path === "" ? key : `${path}.${key}`;
      out.push({ parent: node, key, path: childPath });
      const child = peek(node, key);
      if (isPlainTarget(child)) visit(child, childPath, depth + 1);
    }
  };
  visit(root, "", 0);
  return out;
}

/** Sets a property, ignoring frozen objects, proxies that refuse and accessor properties. */
function put(node: Json, key: string, value: unknown): void {
  safe(() =>
    Object.defineProperty(node, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    }), undefined);
}

function generateCase(rng: Prng): Case {
  const backends: Json = {};
  const names = ["m", "l", "a", "second", "__proto__", "constructor"];
  const count = rng.int(1, 3);
  const types: string[] = [];
  const described: string[] = [];
  for (let i = 0; i < count; i++) {
    const name = rng.chance(0.85) ? names[i]! : rng.pick(names);
    const type = rng.pick(["memory", "local", "azure"]);
    types.push(type);
    described.push(`${name}: ${type}`);
    const backend = type === "memory"
      ? memoryBackend()
      : type === "local"
      ? localBackend(rng)
      : azureBackend(rng);
    // Own "__proto__" keys need defineProperty.
    Object.defineProperty(backends, name, {
      value: backend,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  const backendNames = Object.keys(backends);
  const stores: Json = {};
  for (let i = rng.int(1, 3); i > 0; i--) {
    const store: Json = { backend: rng.pick(backendNames) };
    if (rng.chance(0.5)) store.rootPath = rng.pick(["data", "a/b", "", "x/./y"]);
    stores[`s${i}`] = store;
  }
  const config: Json = { backends, stores };
  const recipe: string[] = [`valid base: backends {${described.join(", ")}}`];
  let plain = true;
  let exotic = false;
  let env: unknown = { VAR: "value", A: "" };

  for (let m = rng.int(1, 3); m > 0; m--) {
    const kind = rng.int(0, 9);
    const spots = locations(config);
    const spot = rng.pick(spots);
    if (kind <= 2) {
      const { value, label } = badValue(rng);
      put(spot.parent, spot.key, value);
      recipe.push(`${spot.path} = ${label}`);
      if (typeof value === "object" || typeof value === "function") plain = false;
    } else if (kind === 3) {
      const key = rng.pick(UNKNOWN_KEYS);
      const target = rng.chance(0.3) ? config : (spot.parent);
      const { value, label } = badValue(rng);
      put(target, key, value);
      recipe.push(
        `unknown key ${JSON.stringify(key.slice(0, 20))} = ${label} next to ${spot.path}`,
      );
      plain = false;
    } else if (kind === 4) {
      safe(() => delete spot.parent[spot.key], true);
      recipe.push(`delete ${spot.path}`);
    } else if (kind === 5) {
      const value = peek(spot.parent, spot.key);
      if (value !== null && typeof value === "object") {
        const { value: proxy, kind: proxyKind } = proxyOf(rng, value);
        put(spot.parent, spot.key, proxy);
        recipe.push(`${spot.path} = Proxy(${proxyKind})`);
      } else {
        const { value: proxy, kind: proxyKind } = proxyOf(rng, config);
        recipe.push(`whole config = Proxy(${proxyKind})`);
        return { config: proxy, env, recipe, plainMemory: false, exotic: true };
      }
      plain = false;
    } else if (kind === 6) {
      const parentCopy: Json = {};
      for (const k of safe(() => Object.keys(spot.parent), [] as string[])) {
        put(parentCopy, k, peek(spot.parent, k));
      }
      const throwing = rng.chance(0.5);
      const getterObject = throwing
        ? throwingGetter(rng, spot.key, parentCopy)
        : flippingGetter(spot.key, peek(spot.parent, spot.key), badValue(rng).value, parentCopy);
      // Replace the parent object in its own parent.
      const grand = spots.find((s) => peek(s.parent, s.key) === spot.parent);
      if (grand) {
        put(grand.parent, grand.key, getterObject);
        recipe.push(`${spot.path} read through a ${throwing ? "throwing" : "flipping"} getter`);
      } else {
        recipe.push(`top-level ${spot.key} read through a throwing or flipping getter`);
        return { config: getterObject, env, recipe, plainMemory: false, exotic: true };
      }
      plain = false;
    } else if (kind === 7) {
      // Option attacks on a backend's options.
      const name = rng.pick(Object.keys(backends).length > 0 ? Object.keys(backends) : ["m"]);
      const backend = peek(backends, name);
      if (isPlainTarget(backend)) {
        const peeked = peek(backend, "type");
        const type = typeof peeked === "string" ? peeked : "azure";
        const [key, value] = rng.pick(OPTION_ATTACKS[type] ?? OPTION_ATTACKS.azure!);
        let options = peek(backend, "options");
        if (!isPlainTarget(options)) {
          options = {};
          put(backend, "options", options);
        }
        put(options as Json, key, value);
        recipe.push(
          `backends.${name}.options.${key} = ${
            typeof value === "string"
              ? JSON.stringify(value.slice(0, 40))
              : String(value).slice(0, 40)
          }`,
        );
      }
    } else if (kind === 8) {
      // Both spellings of one key.
      const store = peek(stores, rng.pick(Object.keys(stores)));
      if (isPlainTarget(store)) {
        put(store, "root_path", "dup");
        put(store, "rootPath", "dup");
      }
      recipe.push("stores.*: root_path and rootPath");
    } else {
      // A malformed env for parseConfig.
      const { value, label } = rng.chance(0.5)
        ? badValue(rng)
        : { value: proxyOf(rng, { VAR: "v" }).value, label: "Proxy env" };
      env = value;
      recipe.push(`env = ${label}`);
      // Reference the env so expansion happens.
      const store = peek(stores, rng.pick(Object.keys(stores)));
      if (isPlainTarget(store)) put(store, "rootPath", "${VAR}");
    }
  }
  exotic ||= recipe.some((r) => /Proxy|getter|proxy/.test(r));
  return {
    config,
    env,
    recipe,
    plainMemory: plain && types.every((t) => t === "memory"),
    exotic,
  };
}

// ---- the checks ----------------------------------------------------------------------

function isExpected(error: unknown): boolean {
  return error instanceof InvalidConfigError;
}

/** Uses an accepted registry synchronously the way applications do. */
async function exercise(registry: Registry, writeThrough: boolean): Promise<void> {
  try {
    void String(registry);
    void JSON.stringify(registry);
    for (const name of registry.storeNames) {
      const store = registry.getStore(name);
      store.supports("read");
      void String(store);
      void store.rootPath;
      if (writeThrough) {
        await store.write("probe.txt", "x", { overwrite: true });
        await store.readText("probe.txt");
      }
    }
  } finally {
    await registry.close();
  }
}

describe("malformed configs", () => {
  test(`${COUNT} generated malformed configs through parseConfig, Registry and the backend constructors (seed ${hexSeed(SEED)})`, async () => {
    const rng = new Prng(SEED);
    const failures = new Failures();
    const outcomes = new Map<string, number>();
    const count = (key: string) => outcomes.set(key, (outcomes.get(key) ?? 0) + 1);

    for (let i = 0; i < COUNT; i++) {
      const c = generateCase(rng);
      const where = `#${i}: ${c.recipe.join("; ")}`;
      const input = c.exotic ? "input with throwing/flipping getters or Proxies" : "plain data";

      // parseConfig, then Registry on its result (which must then be accepted).
      try {
        const parsed = parseConfig(c.config, { env: c.env as Record<string, string> });
        count("parseConfig ok");
        try {
          await exercise(new Registry(parsed), false);
        } catch (error) {
          failures.add(
            `Registry rejected or crashed on a config parseConfig accepted (${input})`,
            `${where}: ${describeError(error)}`,
          );
        }
      } catch (error) {
        count(`parseConfig ${(error as Error)?.constructor?.name ?? typeof error}`);
        if (!isExpected(error)) {
          failures.add(
            `parseConfig: not an InvalidConfigError (${input})`,
            `${where}: ${describeError(error)}`,
          );
        }
      }

      // new Registry on the raw input.
      let registry: Registry | undefined;
      try {
        registry = new Registry(c.config as never);
        count("Registry ok");
      } catch (error) {
        count(`Registry ${(error as Error)?.constructor?.name ?? typeof error}`);
        if (!isExpected(error)) {
          failures.add(
            `new Registry: not an InvalidConfigError (${input})`,
            `${where}: ${describeError(error)}`,
          );
        }
      }
      if (registry) {
        try {
          await exercise(registry, c.plainMemory);
        } catch (error) {
          if (!isExpected(error)) {
            failures.add(
              `an accepted Registry crashed when used (${input})`,
              `${where}: ${describeError(error)}`,
            );
          }
        }
      }

      // The backend constructors, on each backend's options as given.
      let entries: [string, unknown][] = [];
      try {
        const backends = (c.config as Json).backends as Json;
        entries = Object.keys(backends).map((k) => [k, backends[k]]);
      } catch {
        // The input itself cannot be read (that is what the Registry was tested on).
      }
      for (const [name, backend] of entries) {
        let type: unknown;
        let options: unknown;
        try {
          type = (backend as Json).type;
          options = (backend as Json).options;
        } catch {
          continue;
        }
        const ctor = type === "local" ? LocalBackend : type === "azure" ? AzureBackend : undefined;
        if (!ctor) {
          if (type === "memory") void new MemoryBackend(options as never);
          continue;
        }
        try {
          const created = new ctor(options as never);
          count(`new ${ctor.name} ok`);
          await created.close();
        } catch (error) {
          count(`new ${ctor.name} ${(error as Error)?.constructor?.name ?? typeof error}`);
          if (!isExpected(error)) {
            failures.add(
              `new ${ctor.name}: not an InvalidConfigError (${input})`,
              `${where} (backend ${name}): ${describeError(error)}`,
            );
          }
        }
      }
    }
    console.log([...outcomes].map(([k, v]) => `${k}: ${v}`).join("\n"));
    assert.equal(
      failures.size,
      0,
      `${failures.size} failure(s) (seed ${hexSeed(SEED)}):\n${failures.report()}`,
    );
  });

  test("a Registry does not follow later changes to the config object it was given", async () => {
    // The plain-data form of the flipping getter above: validate, then mutate.
    const config = { backends: { m: { type: "memory" } }, stores: { s: { backend: "m" } } };
    const registry = new Registry(config);
    config.stores.s.backend = "gone";
    (config.backends.m as { type: string }).type = "nope";
    try {
      const store = registry.getStore("s");
      store.supports("read");
      await store.write("a.txt", "x");
      assert.equal(await store.readText("a.txt"), "x");
    } catch (error) {
      assert.fail(
        `mutating the config after new Registry() broke the registry: ${describeError(error)}`,
      );
    } finally {
      await registry.close().catch(() => {});
    }
  });
});
