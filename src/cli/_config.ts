/**
 * Finds, reads and parses the CLI's config file (JSON or TOML). Private module.
 *
 * @module
 */

import { readFile } from "node:fs/promises";
import * as path from "node:path";
import { InvalidConfigError } from "../errors.ts";
import type { RegistryConfig } from "../config.ts";
import type { BackendType } from "../backend_type.ts";
import { parseConfig } from "../config_parse.ts";

/** The environment variable that names the config file. */
export const CONFIG_ENV = "REMOTE_STORE_CONFIG";
/** File names looked for in the working directory, in order. */
export const DEFAULT_CONFIG_FILES = ["remote-store.json", "remote-store.toml"] as const;

/** A parsed config and the file it came from. */
export interface LoadedConfig {
  /** The validated configuration. */
  config: RegistryConfig;
  /** The absolute path of the file. */
  file: string;
}

function hasCode(error: unknown, code: string): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === code;
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    if (hasCode(error, "ENOENT")) return undefined;
    throw configReadError(file, error);
  }
}

function configReadError(file: string, error: unknown): InvalidConfigError {
  const code = typeof error === "object" && error !== null
    ? (error as { code?: unknown }).code
    : undefined;
  const why = hasCode(error, "EACCES") || hasCode(error, "EPERM")
    ? "permission denied"
    : hasCode(error, "EISDIR")
    ? "it is a folder"
    : typeof code === "string"
    ? code
    : "read failed";
  return new InvalidConfigError(`Cannot read the config file "${file}": ${why}`);
}

/** Parses file text; syntax errors say where, never quote the text (it may hold secrets). */
async function parseText(text: string, file: string): Promise<unknown> {
  if (/\.toml$/i.test(file)) {
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
      throw new InvalidConfigError(
        `The config file "${file}" is not valid TOML${where}: ${reason}`,
      );
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
    throw new InvalidConfigError(`The config file "${file}" is not valid JSON${where}`);
  }
}

/**
 * Loads the config: the file named by `--config`, else by
 * `$REMOTE_STORE_CONFIG`, else `./remote-store.json`, else
 * `./remote-store.toml`. `${VAR}` references expand from `env`. A relative
 * `root` of a `local` backend is resolved against the config file's folder.
 *
 * @param flag The `--config` value, if given.
 * @param env The environment.
 * @param cwd The working directory relative paths are resolved against.
 * @param backendTypes The backend types the config may name besides `memory` and the registered ones.
 * @returns The validated config and its file.
 * @throws {InvalidConfigError} When there is no file, it cannot be read or parsed, or it is invalid.
 */
export async function loadConfig(
  flag: string | undefined,
  env: Record<string, string | undefined>,
  cwd: string,
  backendTypes?: readonly BackendType[],
): Promise<LoadedConfig> {
  const named = flag ?? (env[CONFIG_ENV] || undefined);
  let file: string | undefined;
  let text: string | undefined;
  if (named !== undefined) {
    file = path.resolve(cwd, named);
    text = await readIfExists(file);
    if (text === undefined) {
      const source = flag !== undefined ? "--config" : `$${CONFIG_ENV}`;
      throw new InvalidConfigError(`The config file "${named}" (from ${source}) does not exist`);
    }
  } else {
    for (const name of DEFAULT_CONFIG_FILES) {
      file = path.resolve(cwd, name);
      text = await readIfExists(file);
      if (text !== undefined) break;
    }
    if (text === undefined) {
      throw new InvalidConfigError(
        `No config file: pass --config <file>, set $${CONFIG_ENV}, or create ./${
          DEFAULT_CONFIG_FILES.join(" or ./")
        } (see remote-store --help)`,
      );
    }
  }
  const config = parseConfig(await parseText(text, named ?? path.basename(file!)), {
    env,
    backendTypes,
  });
  const dir = path.dirname(file!);
  for (const backend of Object.values(config.backends)) {
    const root = backend.options?.root;
    if (backend.type === "local" && typeof root === "string" && !path.isAbsolute(root)) {
      backend.options = { ...backend.options, root: path.resolve(dir, root) };
    }
  }
  return { config, file: file! };
}
