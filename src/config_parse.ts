/**
 * Turns configuration data read from a JSON or TOML file into a validated
 * {@link RegistryConfig}: strict key and type checks that name the key path,
 * the Python library's snake_case spellings as aliases, and `${VAR}`
 * environment-variable expansion from a map the caller passes.
 *
 * @module
 */

import { InvalidConfigError } from "./errors.ts";
import { type ConfigTypesOptions, type RegistryConfig, validateConfig } from "./config.ts";
import { describe } from "./_options.ts";

/** Options of {@link parseConfig}: `env`, and the backend types the config may name. */
export interface ParseConfigOptions extends ConfigTypesOptions {
  /**
   * The variables `${VAR}` references are expanded from. Default: an empty
   * map, so every `${VAR}` without a default is an error. The process
   * environment is never read implicitly: pass `Deno.env.toObject()` on Deno,
   * or `process.env` on Node and Bun, to use it.
   */
  env?: Record<string, string | undefined>;
}

/** Nesting deeper than this is rejected (it also stops cycles in hand-built input). */
const MAX_DEPTH = 32;
/** Replaces a quoted value from the environment in an error message. */
const HIDDEN = "a value from the environment (not shown)";
/** Values substituted from the environment at least this long are also hidden unquoted. */
const MIN_RAW_HIDE = 8;

const TOP_KEYS = ["backends", "stores"] as const;
const BACKEND_KEYS = ["type", "options"] as const;
const STORE_KEYS = ["backend", "rootPath", "options"] as const;
const STORE_ALIASES: Record<string, string> = { root_path: "rootPath" };

type Data = Record<string, unknown>;

function isPlainObject(value: unknown): value is Data {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** `block_size` -> `blockSize`; keys that are not lower snake_case stay as they are. */
function snakeToCamel(key: string): string {
  if (!/^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$/.test(key)) return key;
  return key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function camelToSnake(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** The closest known key to a misspelt one, if any is close enough. */
function suggest(key: string, known: readonly string[]): string | undefined {
  const squash = (s: string) => s.toLowerCase().replace(/[_-]/g, "");
  const exact = known.find((k) => squash(k) === squash(key));
  if (exact !== undefined) return exact;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const distance = editDistance(squash(key), squash(k));
    if (distance < bestDistance) [best, bestDistance] = [k, distance];
  }
  return bestDistance <= Math.min(2, Math.floor(key.length / 2)) ? best : undefined;
}

/** One parse: the env map, the key-path spellings and the values that must not be shown. */
class Parser {
  readonly #env: Record<string, string | undefined>;
  /** Canonical (camelCase) key path -> the key path as written in the input. */
  readonly paths: Map<string, string> = new Map();
  /** Whole string values that took something from the environment. */
  readonly expanded: Set<string> = new Set();
  /** The environment values substituted. */
  readonly substituted: Set<string> = new Set();

  constructor(env: Record<string, string | undefined>) {
    this.#env = env;
  }

  error(path: string, reason: string): InvalidConfigError {
    return new InvalidConfigError(`"${path}" ${reason}`);
  }

  record(canonical: string, written: string): void {
    this.paths.set(canonical, written);
  }

  /** The own keys of a table, rejecting `__proto__`. */
  keys(table: Data, path: string): string[] {
    const keys = Object.keys(table);
    if (keys.includes("__proto__")) {
      throw this.error(path === "" ? "__proto__" : `${path}.__proto__`, "is not allowed as a key");
    }
    return keys;
  }

  table(value: unknown, path: string): Data {
    if (!isPlainObject(value)) {
      throw this.error(path, `must be an object (a table), got ${describe(value)}`);
    }
    return value;
  }

  /**
   * Checks the keys of a table against the known ones (after applying
   * aliases) and returns canonical key -> written key.
   */
  knownKeys(
    table: Data,
    path: string,
    known: readonly string[],
    aliases: Record<string, string> = {},
  ): Map<string, string> {
    const result = new Map<string, string>();
    for (const key of this.keys(table, path)) {
      if (table[key] === undefined) continue;
      const canonical = Object.hasOwn(aliases, key) ? aliases[key]! : key;
      if (!known.includes(canonical)) {
        const spellings = [...known, ...Object.keys(aliases)];
        const guess = suggest(key, spellings);
        const hint = guess === undefined
          ? `(known keys: ${known.join(", ")})`
          : `(did you mean "${guess}"?)`;
        throw this.error(`${path}.${key}`, `is not a known key ${hint}`);
      }
      const other = result.get(canonical);
      if (other !== undefined) throw this.duplicate(path, other, key);
      result.set(canonical, key);
      this.record(`${path}.${canonical}`, `${path}.${key}`);
    }
    return result;
  }

  duplicate(path: string, first: string, second: string): InvalidConfigError {
    return new InvalidConfigError(
      `"${path}.${first}" and "${path}.${second}" are two spellings of the same key; give only one`,
    );
  }

  /** Expands `${VAR}`, `${VAR:-default}` and the escape `$${` in one string value. */
  expand(value: string, path: string): string {
    if (!value.includes("$")) return value;
    let out = "";
    let fromEnv = false;
    let i = 0;
    while (i < value.length) {
      const dollar = value.indexOf("$", i);
      if (dollar < 0) {
        out += value.slice(i);
        break;
      }
      out += value.slice(i, dollar);
      if (value.startsWith("$${", dollar)) {
        out += "${";
        i = dollar + 3;
        continue;
      }
      if (value[dollar + 1] !== "{") {
        out += "$";
        i = dollar + 1;
        continue;
      }
      const end = value.indexOf("}", dollar + 2);
      if (end < 0) {
        throw this.error(path, 'has a "${" without a closing "}" (write "$${" for a literal "${")');
      }
      const match = /^([A-Za-z_][A-Za-z0-9_]*)(?::-([\s\S]*))?$/.exec(value.slice(dollar + 2, end));
      if (!match) {
        throw this.error(
          path,
          'has a malformed variable reference: use ${NAME} or ${NAME:-default} (write "$${" for a literal "${")',
        );
      }
      const name = match[1]!;
      const fallback = match[2];
      const found = Object.hasOwn(this.#env, name) ? this.#env[name] : undefined;
      const set = typeof found === "string";
      if (set && !(found === "" && fallback !== undefined)) {
        out += found;
        fromEnv = true;
        if (found !== "") this.substituted.add(found);
      } else if (fallback !== undefined) {
        out += fallback;
      } else {
        throw this.error(
          path,
          `uses \${${name}}, but the environment variable ${name} is not set and has no default (write \${${name}:-default} to give one)`,
        );
      }
      i = end + 1;
    }
    if (fromEnv && out !== "") this.expanded.add(out);
    return out;
  }

  /** A string value (expanded). */
  string(value: unknown, path: string): string {
    if (typeof value !== "string") {
      throw this.error(path, `must be a string, got ${describe(value)}`);
    }
    return this.expand(value, path);
  }

  /**
   * A deep copy of JSON/TOML data with every string expanded. With
   * `camelKeys`, snake_case keys of tables become camelCase, except inside
   * `clientOptions`, which is copied with its keys as written.
   */
  data(
    value: unknown,
    canonical: string,
    written: string,
    depth: number,
    camelKeys: boolean,
  ): unknown {
    if (depth > MAX_DEPTH) {
      throw this.error(written, `is nested more than ${MAX_DEPTH} levels deep`);
    }
    switch (typeof value) {
      case "string":
        return this.expand(value, written);
      case "number":
      case "boolean":
        return value;
      case "bigint":
        if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
          throw this.error(written, "is an integer too large to represent exactly");
        }
        return Number(value);
    }
    if (value === null) return null;
    if (Array.isArray(value)) {
      const out: unknown[] = [];
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        if (item === undefined) {
          throw this.error(`${written}[${i}]`, "must be JSON or TOML data, got undefined");
        }
        out.push(this.data(item, `${canonical}[${i}]`, `${written}[${i}]`, depth + 1, false));
      }
      return out;
    }
    if (!isPlainObject(value)) {
      const kind = typeof value === "object"
        ? "an object that is not a plain object"
        : describe(value);
      throw this.error(written, `must be JSON or TOML data, got ${kind}`);
    }
    const out: Data = {};
    const seen = new Map<string, string>();
    for (const key of this.keys(value, written)) {
      const item = value[key];
      if (item === undefined) continue;
      const name = camelKeys ? snakeToCamel(key) : key;
      const other = seen.get(name);
      if (other !== undefined) throw this.duplicate(written, other, key);
      seen.set(name, key);
      const childCanonical = `${canonical}.${name}`;
      const childWritten = `${written}.${key}`;
      this.record(childCanonical, childWritten);
      const convert = camelKeys && name !== "clientOptions";
      out[name] = this.data(item, childCanonical, childWritten, depth + 1, convert);
    }
    return out;
  }

  /** Rewrites an error of `validateConfig`: the key path as written, environment values hidden. */
  rewrite(error: InvalidConfigError): InvalidConfigError {
    let head = "";
    let tail = error.reason;
    let best = "";
    for (const canonical of this.paths.keys()) {
      if (canonical.length > best.length && tail.startsWith(`"${canonical}`)) {
        const next = tail[canonical.length + 1];
        if (next === '"' || next === "." || next === "[") best = canonical;
      }
    }
    if (best !== "") {
      const close = tail.indexOf('"', best.length + 1);
      if (close > 0) {
        head = `"${this.paths.get(best)!}${tail.slice(best.length + 1, close)}"`;
        tail = tail.slice(close + 1);
      }
    }
    const known = /^ is not a known option \(known: ([^)]*)\)$/.exec(tail);
    if (known) {
      const key = head.slice(head.lastIndexOf(".") + 1, -1);
      const guess = suggest(snakeToCamel(key), known[1]!.split(", "));
      if (guess !== undefined) {
        tail = ` is not a known option (did you mean "${
          key.includes("_") ? camelToSnake(guess) : guess
        }"?)`;
      }
    }
    const hidden = [...this.expanded].sort((a, b) => b.length - a.length);
    for (const value of hidden) {
      tail = tail.replaceAll(JSON.stringify(value), HIDDEN).replaceAll(`"${value}"`, HIDDEN);
    }
    for (const value of [...this.substituted].sort((a, b) => b.length - a.length)) {
      if (value.length >= MIN_RAW_HIDE) tail = tail.replaceAll(value, "***");
    }
    const keepCause = this.expanded.size === 0 && error.cause !== undefined;
    return new InvalidConfigError(head + tail, keepCause ? { cause: error.cause } : {});
  }
}

function parseBackend(parser: Parser, value: unknown, path: string): Data {
  const table = parser.table(value, path);
  const keys = parser.knownKeys(table, path, BACKEND_KEYS);
  const typeKey = keys.get("type");
  if (typeKey === undefined) throw parser.error(`${path}.type`, "is required");
  const out: Data = { type: parser.string(table[typeKey], `${path}.${typeKey}`) };
  const optionsKey = keys.get("options");
  if (optionsKey !== undefined) {
    const optionsPath = `${path}.options`;
    parser.table(table[optionsKey], optionsPath);
    out.options = parser.data(table[optionsKey], optionsPath, optionsPath, 3, true);
  }
  return out;
}

function parseStore(parser: Parser, value: unknown, path: string): Data {
  const table = parser.table(value, path);
  const keys = parser.knownKeys(table, path, STORE_KEYS, STORE_ALIASES);
  const backendKey = keys.get("backend");
  if (backendKey === undefined) throw parser.error(`${path}.backend`, "is required");
  const out: Data = { backend: parser.string(table[backendKey], `${path}.${backendKey}`) };
  const rootKey = keys.get("rootPath");
  if (rootKey !== undefined) out.rootPath = parser.string(table[rootKey], `${path}.${rootKey}`);
  const optionsKey = keys.get("options");
  if (optionsKey !== undefined) {
    // The Python library has per-store options; none exist here, so only an
    // empty table is accepted (a shared config file may carry `options = {}`).
    const options = parser.table(table[optionsKey], `${path}.options`);
    const first = parser.keys(options, `${path}.options`).find((k) => options[k] !== undefined);
    if (first !== undefined) {
      throw parser.error(`${path}.options.${first}`, "is not a known key (stores take no options)");
    }
  }
  return out;
}

function parse(input: unknown, parser: Parser): RegistryConfig {
  if (!isPlainObject(input)) {
    throw new InvalidConfigError(
      `Configuration must be an object (a JSON object or TOML table), got ${describe(input)}`,
    );
  }
  const keys = new Map<string, string>();
  for (const key of parser.keys(input, "")) {
    if (input[key] === undefined) continue;
    if (!(TOP_KEYS as readonly string[]).includes(key)) {
      const guess = suggest(key, TOP_KEYS);
      const hint = guess === undefined
        ? "(known keys: backends, stores)"
        : `(did you mean "${guess}"?)`;
      throw parser.error(key, `is not a known key ${hint}`);
    }
    keys.set(key, key);
  }
  const sections: Record<string, Record<string, Data>> = {};
  for (const section of TOP_KEYS) {
    if (!keys.has(section)) throw parser.error(section, "is required");
    const table = parser.table(input[section], section);
    const out: Record<string, Data> = {};
    for (const name of parser.keys(table, section)) {
      const path = `${section}.${name}`;
      parser.record(path, path);
      if (table[name] === undefined) continue;
      out[name] = section === "backends"
        ? parseBackend(parser, table[name], path)
        : parseStore(parser, table[name], path);
    }
    sections[section] = out;
  }
  return sections as unknown as RegistryConfig;
}

/**
 * Turns configuration data parsed from a JSON or TOML file into a validated
 * {@link RegistryConfig} for {@link Registry}.
 *
 * - Top level: `backends` and `stores`, both required tables. A backend has
 *   `type` (required string) and `options` (optional table); a store has
 *   `backend` (required string) and `rootPath` (optional string). Unknown keys
 *   and wrong types are errors naming the key path, with a suggestion for a
 *   near miss (`"stores.data.rootpath" is not a known key (did you mean "rootPath"?)`).
 * - The Python library's spellings are aliases, so one file serves both:
 *   `root_path` for `rootPath`, and snake_case keys inside backend `options`
 *   and its nested tables (`connection_string`, `account_key`, `block_size`,
 *   `retry.max_tries`, ...) become camelCase. The contents of `clientOptions`
 *   (`client_options`) are passed with their keys as written. Both spellings
 *   of one key at once are an error. A store's `options` table (Python only)
 *   is accepted when empty.
 * - Every string value, at any depth (including inside `clientOptions`, but
 *   not keys), expands `${NAME}` from `options.env` and `${NAME:-default}`
 *   (the default is used when `NAME` is unset or empty; it cannot contain
 *   `}` and is not expanded itself). `$${` is the escape: it stands for a
 *   literal `${`. A `$` not followed by `{` is literal. The process
 *   environment is never read implicitly: pass `Deno.env.toObject()` or
 *   `process.env` as `env`.
 * - Values are not coerced: after expansion a value is still a string, so an
 *   integer option such as `blockSize` cannot come from `${VAR}`. A bigint (as
 *   some TOML parsers return for integers) within the safe range becomes a
 *   number.
 * - Error messages never show a value taken from the environment; they name
 *   the key path (as written) and, for a missing variable, its name.
 *
 * The input is not mutated; the result is a fresh plain object that shares
 * nothing with it.
 *
 * @param input The parsed file content (for example `JSON.parse(text)`).
 * @param options `env`: the variables `${NAME}` expands from (default: none);
 *   `backendTypes`: the types the config may name besides `memory` and the
 *   registered ones.
 * @returns A validated configuration, ready for `new Registry(config)`.
 * @throws {InvalidConfigError} For anything wrong, naming the key path: an
 * unknown key, a wrong type, a missing variable, invalid backend options.
 *
 * @example Load a JSON config shared with the Python library
 * ```ts
 * import { parseConfig, Registry } from "@remote-store/remote-store";
 * import { azureBackendType } from "@remote-store/remote-store/azure";
 *
 * const text = `{
 *   "backends": {
 *     "mem": { "type": "memory" },
 *     "azure": {
 *       "type": "azure",
 *       "options": { "container": "data", "connection_string": "\${AZURE_STORAGE_CONNECTION_STRING}" }
 *     }
 *   },
 *   "stores": {
 *     "scratch": { "backend": "mem", "root_path": "\${SCRATCH_ROOT:-tmp}" },
 *     "data": { "backend": "azure", "root_path": "example/data" }
 *   }
 * }`;
 * // In an application: parseConfig(JSON.parse(text), { env: Deno.env.toObject() })
 * const backendTypes = [azureBackendType];
 * const config = parseConfig(JSON.parse(text), {
 *   env: { AZURE_STORAGE_CONNECTION_STRING: "UseDevelopmentStorage=true" },
 *   backendTypes,
 * });
 * console.log(config.stores.scratch); // { backend: "mem", rootPath: "tmp" }
 * await using registry = new Registry(config, { backendTypes });
 * await registry.getStore("scratch").write("a.txt", "hello");
 * ```
 *
 * @example Catch a configuration error
 * ```ts
 * import { InvalidConfigError, parseConfig } from "@remote-store/remote-store";
 *
 * try {
 *   parseConfig({ backends: { m: { type: "memory" } }, stores: { s: { backend: "m", rootpath: "x" } } });
 * } catch (error) {
 *   if (error instanceof InvalidConfigError) console.log(error.message);
 *   // "stores.s.rootpath" is not a known key (did you mean "rootPath"?)
 * }
 * ```
 */
export function parseConfig(input: unknown, options: ParseConfigOptions = {}): RegistryConfig {
  let parser: Parser | undefined;
  try {
    const env = (options as ParseConfigOptions | undefined)?.env ?? {};
    if (typeof env !== "object" || env === null || Array.isArray(env)) {
      throw new InvalidConfigError(`parseConfig: "env" must be an object, got ${describe(env)}`);
    }
    parser = new Parser(env);
    const config = parse(input, parser);
    try {
      validateConfig(config, {
        backendTypes: (options as ParseConfigOptions | undefined)?.backendTypes,
      });
    } catch (error) {
      if (error instanceof InvalidConfigError) throw parser.rewrite(error);
      throw error;
    }
    return config;
  } catch (error) {
    if (error instanceof InvalidConfigError) throw error;
    // Not expected for any input; never let a raw error (which might quote a
    // value from the environment) escape.
    const hide = parser !== undefined && parser.expanded.size > 0;
    throw new InvalidConfigError(
      `Configuration could not be read: ${error instanceof Error ? error.name : typeof error}`,
      hide ? {} : { cause: error },
    );
  }
}
