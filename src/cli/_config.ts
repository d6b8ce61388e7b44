/**
 * Finds, reads and parses the CLI's config file (JSON or TOML). Private module.
 *
 * @module
 */

import * as path from "node:path";
import { InvalidConfigError } from "../errors.ts";
import type { RegistryConfig } from "../config.ts";
import type { BackendType } from "../backend_type.ts";
import { loadConfigText } from "../config_parse.ts";
import { readConfigText } from "../config_file.ts";

/** The environment variable that names the config file. */
export const CONFIG_ENV = "REMOTE_STORE_CONFIG";
/** File names looked for in the working directory, in order. */
export const DEFAULT_CONFIG_FILES = ["remote-store.json", "remote-store.toml"] as const;
/** The table of a `pyproject.toml` that holds the config, as in the Python library. */
export const PYPROJECT_TABLE = ["tool", "remote-store"] as const;

/** A parsed config and the file it came from. */
export interface LoadedConfig {
  /** The validated configuration. */
  config: RegistryConfig;
  /** The absolute path of the file. */
  file: string;
}

/**
 * Loads the config: the file named by `--config`, else by
 * `$REMOTE_STORE_CONFIG`, else `./remote-store.json`, else
 * `./remote-store.toml`. A `*.toml` file is TOML, anything else JSON; a file
 * named `pyproject.toml` holds the config in its `[tool.remote-store]` table,
 * as for the Python library. `${VAR}` references expand from `env`. A relative
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
    text = await readConfigText(file);
    if (text === undefined) {
      const source = flag !== undefined ? "--config" : `$${CONFIG_ENV}`;
      throw new InvalidConfigError(`The config file "${named}" (from ${source}) does not exist`);
    }
  } else {
    for (const name of DEFAULT_CONFIG_FILES) {
      file = path.resolve(cwd, name);
      text = await readConfigText(file);
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
  const shown = named ?? path.basename(file!);
  const pyproject = path.basename(file!).toLowerCase() === "pyproject.toml";
  const config = await loadConfigText(text, /\.toml$/i.test(file!) ? "toml" : "json", {
    env,
    backendTypes,
    table: pyproject ? PYPROJECT_TABLE : [],
    source: `The config file "${shown}"`,
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
