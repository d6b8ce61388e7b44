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
const BACKEND_KEYS = ["type", "options", "retry", "layers"] as const;
/** The Python library's `RetryPolicy` fields (a backend's `retry` table). */
const RETRY_KEYS = ["max_attempts", "backoff_base", "backoff_max", "jitter", "timeout"] as const;
/** Python `RetryPolicy` field -> this library's `retry` option, and the seconds -> ms factor. */
const RETRY_MAP: Record<string, [string, number]> = {
  max_attempts: ["maxTries", 1],
  backoff_base: ["retryDelayMs", 1000],
  backoff_max: ["maxRetryDelayMs", 1000],
  timeout: ["tryTimeoutMs", 1000],
};
/** The Python library's Azure option names (after snake_case -> camelCase) -> this library's. */
const AZURE_ALIASES: Record<string, string> = {
  maxConcurrency: "concurrency",
  rejectWriteUnderFileAncestor: "strictPaths",
};
/** The storage emulator's account and key (`UseDevelopmentStorage=true`): public values, not secrets. */
const DEV_ACCOUNT = "devstoreaccount1";
const DEV_KEY =
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
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

  /** Written before every key path in messages: the table the config came from (`tool.remote-store.`). */
  readonly prefix: string;

  constructor(env: Record<string, string | undefined>, prefix = "") {
    this.#env = env;
    this.prefix = prefix;
  }

  error(path: string, reason: string): InvalidConfigError {
    return new InvalidConfigError(`"${this.prefix}${path}" ${reason}`);
  }

  record(canonical: string, written: string): void {
    this.paths.set(canonical, this.prefix + written);
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
    const at = this.prefix + path;
    return new InvalidConfigError(
      `"${at}.${first}" and "${at}.${second}" are two spellings of the same key; give only one`,
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
  if (out.type === "azure" && isPlainObject(out.options)) {
    azureAliases(parser, out.options, `${path}.options`);
    connectionStringFirst(parser, out.options, `${path}.options`);
  }
  const retryKey = keys.get("retry");
  if (retryKey !== undefined) pythonRetry(parser, table[retryKey], out, path);
  const layersKey = keys.get("layers");
  if (layersKey !== undefined) {
    // Layer tables keep their keys (`type`, `ms`, `limit`, `level`); validateConfig checks them.
    out.layers = parser.data(table[layersKey], `${path}.layers`, `${path}.${layersKey}`, 3, false);
  }
  return out;
}

/** `max_concurrency` -> `concurrency`, `reject_write_under_file_ancestor` -> `strictPaths`. */
function azureAliases(parser: Parser, options: Data, path: string): void {
  for (const [alias, name] of Object.entries(AZURE_ALIASES)) {
    if (!Object.hasOwn(options, alias)) continue;
    const written = parser.paths.get(`${path}.${alias}`)!;
    if (Object.hasOwn(options, name)) {
      const other = parser.paths.get(`${path}.${name}`)!;
      throw new InvalidConfigError(
        `"${written}" and "${other}" set the same option; give only one`,
      );
    }
    options[name] = options[alias];
    delete options[alias];
    parser.paths.set(`${path}.${name}`, written);
  }
}

/** The `Key=Value` parts of a connection string, keys lowercased (values may contain `=`). */
function connectionStringParts(text: string): Map<string, string> {
  const parts = new Map<string, string>();
  for (const segment of text.split(";")) {
    const eq = segment.indexOf("=");
    if (eq > 0) parts.set(segment.slice(0, eq).trim().toLowerCase(), segment.slice(eq + 1).trim());
  }
  return parts;
}

/**
 * A connection string together with `accountName` (and `accountKey`), as the
 * Python library allows (it uses the connection string and ignores the rest):
 * a value that agrees with the connection string is dropped; one that
 * disagrees, or that the connection string cannot confirm, is an error naming
 * both keys (never their values).
 */
function connectionStringFirst(parser: Parser, options: Data, path: string): void {
  const connectionString = options.connectionString;
  if (typeof connectionString !== "string") return;
  const parts = connectionStringParts(connectionString);
  const dev = parts.get("usedevelopmentstorage")?.toLowerCase() === "true";
  const fromString: Record<string, [string | undefined, boolean]> = {
    // [value in the connection string, compared case-insensitively]
    accountName: [dev ? DEV_ACCOUNT : parts.get("accountname"), true],
    accountKey: [dev ? DEV_KEY : parts.get("accountkey") || undefined, false],
  };
  const connWritten = parser.paths.get(`${path}.connectionString`)!;
  for (const [key, [expected, caseless]] of Object.entries(fromString)) {
    const given = options[key];
    if (typeof given !== "string") continue;
    const written = parser.paths.get(`${path}.${key}`)!;
    const label = key === "accountName" ? "AccountName" : "AccountKey";
    if (expected === undefined) {
      throw new InvalidConfigError(
        `"${written}" cannot be checked against "${connWritten}", which has no ${label}; ` +
          `give only one of them`,
      );
    }
    const same = caseless ? given.toLowerCase() === expected.toLowerCase() : given === expected;
    if (!same) {
      throw new InvalidConfigError(
        `"${written}" and "${connWritten}" ${
          key === "accountName" ? "name different storage accounts" : "hold different account keys"
        }; give only one of them (the Python library uses the connection string)`,
      );
    }
    delete options[key];
  }
}

/** A number of a Python `RetryPolicy` field: an integer >= 1, or finite seconds >= 0 (> 0 when `positive`). */
function retryNumber(
  parser: Parser,
  value: unknown,
  path: string,
  what: "integer" | "seconds",
  positive: boolean,
): number {
  const ok = typeof value === "number" && Number.isFinite(value) &&
    (what === "seconds" || Number.isInteger(value)) && (positive ? value > 0 : value >= 0);
  if (!ok) {
    const range = what === "integer"
      ? "an integer of at least 1"
      : positive
      ? "a number of seconds greater than 0"
      : "a number of seconds of at least 0";
    const got = typeof value === "number" ? String(value) : describe(value);
    throw parser.error(path, `must be ${range}, got ${got}`);
  }
  return value as number;
}

/**
 * The Python library's backend-level `retry` table (a `RetryPolicy`), mapped
 * onto this library's `options.retry`: `max_attempts` -> `maxTries`,
 * `backoff_base` / `backoff_max` / `timeout` (seconds) -> `retryDelayMs` /
 * `maxRetryDelayMs` / `tryTimeoutMs` (milliseconds, rounded); `jitter` is
 * checked and has no effect.
 */
function pythonRetry(parser: Parser, value: unknown, backend: Data, path: string): void {
  const retryPath = `${path}.retry`;
  const table = parser.table(value, retryPath);
  const keys = parser.knownKeys(table, retryPath, RETRY_KEYS);
  // Strings expand (and then fail the type check below); bigints become numbers.
  const data = parser.data(table, retryPath, retryPath, 3, false) as Data;
  const mapped: Data = {};
  /** This library's option name -> the key path as written. */
  const origin = new Map<string, string>();
  for (const [field, written] of keys) {
    const item = data[written];
    const itemPath = `${retryPath}.${written}`;
    if (field === "jitter") {
      // Python: up to this many seconds of random delay added (>= 0). Here
      // every delay varies by +-20 %, always; the value is checked and has no effect.
      if (typeof item !== "boolean") retryNumber(parser, item, itemPath, "seconds", false);
      continue;
    }
    if (field === "timeout" && item === null) continue; // Python's None: no timeout
    const [name, factor] = RETRY_MAP[field]!;
    const number = field === "max_attempts"
      ? retryNumber(parser, item, itemPath, "integer", true)
      : retryNumber(parser, item, itemPath, "seconds", field === "timeout");
    mapped[name] = field === "timeout"
      ? Math.max(1, Math.round(number * factor))
      : Math.round(number * factor);
    origin.set(name, itemPath);
  }
  if (origin.size === 0) return; // nothing this library can apply
  const optionsPath = `${path}.options`;
  const options = backend.options === undefined ? {} : backend.options;
  if (!isPlainObject(options)) return; // validation reports "options" itself
  const existing = options.retry;
  if (existing !== undefined && !isPlainObject(existing)) return; // validation reports it
  for (const [name, itemPath] of origin) {
    if (existing !== undefined && Object.hasOwn(existing, name)) {
      const other = parser.paths.get(`${optionsPath}.retry.${name}`) ??
        `${parser.prefix}${optionsPath}.retry.${name}`;
      throw new InvalidConfigError(
        `"${parser.prefix}${itemPath}" and "${other}" set the same retry option; give only one`,
      );
    }
    parser.record(`${optionsPath}.retry.${name}`, itemPath);
  }
  if (existing === undefined) {
    options.retry = mapped;
    parser.record(`${optionsPath}.retry`, retryPath);
  } else {
    Object.assign(existing, mapped);
  }
  backend.options = options;
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
    // The Python library's per-store options: accepted (any table) and not
    // used, as the Python Registry does not use them either. Not expanded,
    // so an unset variable in a value nobody reads is no error.
    parser.table(table[optionsKey], `${path}.options`);
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
 *   of one key at once are an error.
 * - The Python library's other keys (v0.33):
 *   - A backend's `retry` table (a Python `RetryPolicy`) becomes
 *     `options.retry`: `max_attempts` -> `maxTries`; `backoff_base`,
 *     `backoff_max` and `timeout`, in seconds (fractions allowed) ->
 *     `retryDelayMs`, `maxRetryDelayMs` and `tryTimeoutMs` in milliseconds
 *     (`timeout = null` in JSON: none). `jitter` (seconds, or a boolean) is
 *     checked and has no effect: every back-off delay here varies by ±20 %,
 *     and nothing turns that off, so `jitter = 0` or `false` still jitters.
 *     Fields left out keep this library's defaults (4 tries, 800 ms, 30 s),
 *     not Python's (3, 1 s, 60 s). Python's `timeout` bounds the whole
 *     operation; here it bounds each attempt (the server-side timeout, in
 *     whole seconds, rounded up). Setting one field both here and in
 *     `options.retry` is an error. A type without a `retry` option (`memory`,
 *     `local`) rejects the table.
 *   - Azure options: `max_concurrency` -> `concurrency`;
 *     `reject_write_under_file_ancestor` -> `strictPaths` (both refuse a
 *     write below a file; note the defaults differ: Python `false`, here
 *     `true`).
 *   - Azure `connection_string` with `account_name` and/or `account_key`:
 *     Python uses the connection string and ignores the others. Here a value
 *     that agrees with the connection string's `AccountName` (compared
 *     without case) or `AccountKey` is dropped; one that differs, or that the
 *     connection string has no part to compare with, is an error naming both
 *     keys. (`UseDevelopmentStorage=true` stands for the emulator's account
 *     and key.)
 *   - A store's `options` table is accepted with any content and not used,
 *     as the Python Registry does not use it either.
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
  return parseConfigAt(input, options, "");
}

/** {@link parseConfig} of a table inside a document: `prefix` (`tool.remote-store.`) starts every key path shown. */
function parseConfigAt(
  input: unknown,
  options: ParseConfigOptions,
  prefix: string,
): RegistryConfig {
  let parser: Parser | undefined;
  try {
    const env = (options as ParseConfigOptions | undefined)?.env ?? {};
    if (typeof env !== "object" || env === null || Array.isArray(env)) {
      throw new InvalidConfigError(`parseConfig: "env" must be an object, got ${describe(env)}`);
    }
    parser = new Parser(env, prefix);
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

/** The formats {@link loadConfigText} reads. */
export type ConfigFormat = "json" | "toml";

/** Options of {@link loadConfigText} (and of `loadConfigFile` in the `./cli` entrypoint). */
export interface LoadConfigOptions extends ParseConfigOptions {
  /**
   * The table that holds the config, as a list of keys: `["tool", "remote-store"]`
   * for the `[tool.remote-store]` table of a `pyproject.toml`, as the Python
   * library's `RegistryConfig.from_toml(path, table=("tool", "remote-store"))`.
   * Error messages then name key paths from the document's top
   * (`"tool.remote-store.stores.data.backend"`). Default: the whole document.
   */
  table?: readonly string[];
  /**
   * How error messages name the text (default `The config`; `loadConfigFile`
   * passes `The config file "<path>"`).
   */
  source?: string;
}

/** The table at `keys` inside parsed data. */
function selectTable(data: unknown, keys: readonly string[], source: string): unknown {
  let current = data;
  for (let i = 0; i < keys.length; i++) {
    const at = keys.slice(0, i + 1).join(".");
    if (!isPlainObject(current) || !Object.hasOwn(current, keys[i]!)) {
      throw new InvalidConfigError(`${source} has no table "${at}"`);
    }
    current = current[keys[i]!];
    if (!isPlainObject(current)) {
      throw new InvalidConfigError(
        `${source}: "${at}" must be a table (an object), got ${describe(current)}`,
      );
    }
  }
  return current;
}

/** Parses JSON or TOML text; syntax errors say where, never quoting the text (it may hold secrets). */
async function parseText(text: string, format: ConfigFormat, source: string): Promise<unknown> {
  if (text.startsWith("\uFEFF")) text = text.slice(1);
  if (format === "toml") {
    const { parse } = await import("smol-toml");
    try {
      return parse(text);
    } catch (error) {
      const e = error as { message?: unknown; line?: unknown; column?: unknown };
      const reason = String(e.message ?? "").split("\n")[0]!.replace(
        /^Invalid TOML document: /,
        "",
      );
      const where = typeof e.line === "number" ? ` at line ${e.line}, column ${e.column}` : "";
      throw new InvalidConfigError(`${source} is not valid TOML${where}: ${reason}`);
    }
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : "";
    const at = /line (\d+) column (\d+)/.exec(message);
    const position = /position (\d+)/.exec(message);
    let where = "";
    if (at) where = ` at line ${at[1]}, column ${at[2]}`;
    else if (position) {
      const before = text.slice(0, Number(position[1]));
      const line = before.split("\n").length;
      where = ` at line ${line}, column ${before.length - before.lastIndexOf("\n")}`;
    }
    throw new InvalidConfigError(`${source} is not valid JSON${where}`);
  }
}

/**
 * Reads a config from JSON or TOML text (TOML through `smol-toml`, loaded only
 * for TOML), optionally from a table inside it, and returns what
 * {@link parseConfig} returns for that data. It needs no file system, so it
 * runs on edge runtimes and in browsers; `loadConfigFile` of the
 * `@remote-store/remote-store/cli` entrypoint reads a file with it on Deno,
 * Bun and Node.
 *
 * The Python library's config files load as they are: besides the spellings
 * {@link parseConfig} accepts, a backend's `retry` table (`max_attempts`,
 * `backoff_base`, `backoff_max`, `jitter`, `timeout`), the Azure options
 * `max_concurrency` and `reject_write_under_file_ancestor`, a store's
 * `options`, and a `connection_string` given with `account_name` (see
 * {@link parseConfig}).
 *
 * @param text The file's content.
 * @param format `"json"` or `"toml"`.
 * @param options `table`: the keys of the table that holds the config
 *   (`["tool", "remote-store"]` in a `pyproject.toml`; default: the whole
 *   document); `env`: the variables `${NAME}` expands from (default: none);
 *   `backendTypes`: the types the config may name besides `memory` and the
 *   registered ones; `source`: how messages name the text.
 * @returns A validated configuration, ready for `new Registry(config)`.
 * @throws {InvalidConfigError} For a syntax error (with line and column where
 * the parser says, never quoting the text), a missing table, or anything
 * {@link parseConfig} rejects (key paths counted from the document's top).
 *
 * @example The `[tool.remote-store]` table of a `pyproject.toml`
 * ```ts
 * import { loadConfigText, Registry } from "@remote-store/remote-store";
 *
 * const pyproject = `
 * [project]
 * name = "reports"
 *
 * [tool.remote-store.backends.mem]
 * type = "memory"
 *
 * [tool.remote-store.stores.scratch]
 * backend = "mem"
 * root_path = "\${SCRATCH_ROOT:-tmp}"
 * options = {}
 * `;
 * const config = await loadConfigText(pyproject, "toml", {
 *   table: ["tool", "remote-store"],
 *   env: { SCRATCH_ROOT: "scratch" }, // in an application: Deno.env.toObject() or process.env
 * });
 * console.log(config.stores.scratch); // { backend: "mem", rootPath: "scratch" }
 * await using registry = new Registry(config);
 * await registry.getStore("scratch").write("a.txt", "hello");
 * ```
 */
export async function loadConfigText(
  text: string,
  format: ConfigFormat,
  options: LoadConfigOptions = {},
): Promise<RegistryConfig> {
  const source = options.source ?? "The config";
  if (typeof text !== "string") {
    throw new InvalidConfigError(
      `loadConfigText: the text must be a string, got ${describe(text)}`,
    );
  }
  if (format !== "json" && format !== "toml") {
    const got = typeof format === "string" ? `"${format}"` : describe(format);
    throw new InvalidConfigError(`loadConfigText: the format must be "json" or "toml", got ${got}`);
  }
  const table = options.table ?? [];
  if (!Array.isArray(table) || table.some((k) => typeof k !== "string")) {
    throw new InvalidConfigError(
      `loadConfigText: "table" must be an array of strings, got ${describe(table)}`,
    );
  }
  const data = selectTable(await parseText(text, format, source), table, source);
  const prefix = table.length === 0 ? "" : `${table.join(".")}.`;
  return parseConfigAt(data, options, prefix);
}
