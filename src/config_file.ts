/**
 * Reads a config file (JSON or TOML) on Deno, Bun and Node. Uses
 * `node:fs/promises`, so the edge-safe core entrypoint does not import it;
 * the `./cli` entrypoint exports {@link loadConfigFile}. Runtimes without a
 * file system use `loadConfigText` of the core entrypoint.
 *
 * @module
 */

import { readFile } from "node:fs/promises";
import { InvalidConfigError } from "./errors.ts";
import type { RegistryConfig } from "./config.ts";
import { type ConfigFormat, type LoadConfigOptions, loadConfigText } from "./config_parse.ts";
import { describe } from "./_options.ts";

/** Options of {@link loadConfigFile}. */
export interface LoadConfigFileOptions extends LoadConfigOptions {
  /** `"json"` or `"toml"` (default: from the file name's extension, `.json` or `.toml`). */
  format?: ConfigFormat;
}

function errorCode(error: unknown): unknown {
  return typeof error === "object" && error !== null
    ? (error as { code?: unknown }).code
    : undefined;
}

/** The path as text for messages. */
function shownPath(path: string | URL): string {
  return path instanceof URL ? (path.protocol === "file:" ? path.pathname : path.href) : path;
}

/**
 * Reads a text file; `undefined` when it does not exist.
 *
 * @param path The file.
 * @returns The text, or `undefined` when there is no such file.
 * @throws {InvalidConfigError} When the file exists but cannot be read (saying why, by error code).
 */
export async function readConfigText(path: string | URL): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    const code = errorCode(error);
    if (code === "ENOENT") return undefined;
    const why = code === "EACCES" || code === "EPERM"
      ? "permission denied"
      : code === "EISDIR"
      ? "it is a folder"
      : typeof code === "string"
      ? code
      : "read failed";
    throw new InvalidConfigError(`Cannot read the config file "${shownPath(path)}": ${why}`);
  }
}

/**
 * The format a file name implies: `.toml` is TOML, `.json` is JSON.
 *
 * @param path The file.
 * @returns The format, or `undefined` for any other extension.
 */
export function configFormatOf(path: string | URL): ConfigFormat | undefined {
  const name = shownPath(path).toLowerCase();
  if (name.endsWith(".toml")) return "toml";
  if (name.endsWith(".json")) return "json";
  return undefined;
}

/**
 * Reads a config file, JSON or TOML (by its extension, or `format`),
 * optionally from a table inside it, and returns what `parseConfig` returns
 * for it: the same file the Python library reads with
 * `RegistryConfig.from_toml(path, table=...)` or `from_dict(json.load(...))`
 * (its `retry` tables, `max_concurrency`, `reject_write_under_file_ancestor`,
 * store `options`, and a connection string with `account_name`, included).
 * Works on Deno, Bun and Node; on runtimes without a file system, read the
 * text yourself and call `loadConfigText` from the core entrypoint.
 *
 * Relative paths in the config (a `local` backend's `root`) are kept as
 * written, so they are relative to the working directory, as in the Python
 * library. (The CLI resolves them against the config file's folder.)
 *
 * @param path The file (a path or a `file:` URL).
 * @param options `table`: the keys of the table that holds the config
 *   (`["tool", "remote-store"]` for a `pyproject.toml`; default: the whole
 *   file); `env`: the variables `${NAME}` expands from (default: none; pass
 *   `Deno.env.toObject()` or `process.env`); `backendTypes`: the types the
 *   config may name besides `memory` and the registered ones; `format`:
 *   `"json"` or `"toml"` when the extension does not say.
 * @returns A validated configuration, ready for `new Registry(config)`.
 * @throws {InvalidConfigError} When the file is missing or unreadable, its
 * format unknown, its syntax wrong (with line and column, never quoting the
 * file), its table missing, or its content invalid (naming the key path).
 *
 * @example Load the `[tool.remote-store]` table of a `pyproject.toml`
 * ```ts ignore
 * import { Registry } from "@remote-store/remote-store";
 * import { loadConfigFile } from "@remote-store/remote-store/cli";
 * import { localBackendType } from "@remote-store/remote-store/local";
 * import { azureBackendType } from "@remote-store/remote-store/azure";
 * import process from "node:process";
 *
 * const backendTypes = [localBackendType, azureBackendType];
 * const config = await loadConfigFile("pyproject.toml", {
 *   table: ["tool", "remote-store"],
 *   env: process.env,
 *   backendTypes,
 * });
 * await using registry = new Registry(config, { backendTypes });
 * ```
 */
export async function loadConfigFile(
  path: string | URL,
  options: LoadConfigFileOptions = {},
): Promise<RegistryConfig> {
  if (typeof path !== "string" && !(path instanceof URL)) {
    throw new InvalidConfigError(
      `loadConfigFile: the path must be a string or a URL, got ${describe(path)}`,
    );
  }
  const shown = shownPath(path);
  const format = options.format ?? configFormatOf(path);
  if (format === undefined) {
    throw new InvalidConfigError(
      `Cannot tell the format of the config file "${shown}": name it *.json or *.toml, ` +
        `or pass format: "json" or "toml"`,
    );
  }
  const text = await readConfigText(path);
  if (text === undefined) {
    throw new InvalidConfigError(`The config file "${shown}" does not exist`);
  }
  return await loadConfigText(text, format, {
    ...options,
    source: options.source ?? `The config file "${shown}"`,
  });
}
