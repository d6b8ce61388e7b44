/**
 * Options of the local backend and their validation (no `node:` imports, so
 * the Registry can validate config eagerly). Private module.
 *
 * @module
 */

import { OptionReader } from "../../_options.ts";

/** Options of {@link LocalBackend}. */
export interface LocalBackendOptions {
  /** The folder on disk that holds the files; created when missing. */
  root: string;
}

/**
 * Validates local backend options.
 *
 * @throws {InvalidConfigError} Naming `keyPath.<option>`.
 */
export function parseLocalOptions(options: unknown, keyPath = "options"): LocalBackendOptions {
  const reader = new OptionReader(options, keyPath, ["root"]);
  const root = reader.string("root");
  if (root === undefined) throw reader.error("root", "is required");
  return { root };
}
