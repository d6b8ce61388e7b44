#!/usr/bin/env -S deno run -A
/**
 * The `remote-store` command-line tool: list, read, copy, move, delete and
 * share files in any store of a config file, on Deno, Bun and Node 24.
 *
 * ```sh
 * deno run -A jsr:@remote-store/remote-store/cli ls data:reports -l
 * deno run -A jsr:@remote-store/remote-store/cli cp ./q1.csv data:reports/
 * deno run -A jsr:@remote-store/remote-store/cli cat data:reports/q1.csv | head
 * ```
 *
 * Commands: `ls`, `cat`, `cp`, `mv`, `rm`, `stat`, `url`; `--help` on each.
 * The config (JSON or TOML) comes from `--config <file>`, else
 * `$REMOTE_STORE_CONFIG`, else `./remote-store.json`, else
 * `./remote-store.toml`; `${VAR}` references expand from the environment.
 * Exit codes: 0 ok, 1 failure, 2 usage, 3 not found, 4 already exists,
 * 5 permission denied, 6 backend unavailable, 7 invalid config, 130
 * interrupted, 141 stdout closed (see {@link ExitCode}).
 *
 * Imported as a module, this entrypoint exports {@link run}, which runs the
 * CLI in-process with the I/O you give it, and {@link main}, which runs it on
 * the process's arguments: write a three-line program around `main` to add
 * your own backend types (an S3 or R2 backend, say) to the CLI. It also
 * exports {@link loadConfigFile}, which reads a JSON or TOML config file
 * (a `pyproject.toml` table too) the way the CLI does.
 *
 * @example A CLI that also knows your own backend type
 * ```ts ignore
 * import { main } from "@remote-store/remote-store/cli";
 * import { myBackendType } from "./my_backend.ts";
 *
 * await main({ backendTypes: [myBackendType] });
 * ```
 *
 * @example Run the CLI in-process
 * ```ts ignore
 * import { run } from "@remote-store/remote-store/cli";
 * import process from "node:process";
 *
 * const code = await run(["ls", "data:"], {
 *   stdout: process.stdout,
 *   stderr: process.stderr,
 *   stdin: process.stdin,
 *   env: { ...process.env },
 *   cwd: process.cwd(),
 *   isTTY: false,
 * });
 * ```
 *
 * @module
 */

import process from "node:process";
import { pathToFileURL } from "node:url";
import { realpathSync } from "node:fs";
import { ExitCode, OutputClosedError, run } from "./src/cli/commands.ts";
import type { BackendType } from "./src/backend_type.ts";
import { localBackendType } from "./src/backends/local/local_type.ts";
import { azureBackendType } from "./src/backends/azure/azure_type.ts";
import { useDefaultAzureCredential } from "./azure_identity.ts";

export {
  type CliIO,
  type CliOutput,
  ExitCode,
  OutputClosedError,
  run,
} from "./src/cli/commands.ts";
export { loadConfigFile, type LoadConfigFileOptions } from "./src/config_file.ts";

/** Whether this module is the program being run (`import.meta.main`, with a fallback for older Node). */
function isMain(): boolean {
  const main = (import.meta as { main?: boolean }).main;
  if (typeof main === "boolean") return main;
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return pathToFileURL(realpathSync(script)).href === import.meta.url;
  } catch {
    return false;
  }
}

/** Options of {@link main}. */
export interface MainOptions {
  /** Backend types the config may name besides `memory`, `local` and `azure`. */
  backendTypes?: readonly BackendType[];
}

/**
 * Runs the CLI on the process's arguments, streams and environment, then
 * exits the process with the command's exit code. The config may name
 * `memory`, `local`, `azure`, the registered types and `backendTypes`.
 *
 * @param options `backendTypes`: your own backend types.
 * @returns Never resolves normally: the process exits.
 *
 * @example Add a backend type to the CLI
 * ```ts ignore
 * import { main } from "@remote-store/remote-store/cli";
 * import { myBackendType } from "./my_backend.ts";
 * await main({ backendTypes: [myBackendType] });
 * ```
 */
export async function main(options: MainOptions = {}): Promise<void> {
  // An Azure config without key, SAS or credential uses DefaultAzureCredential, as in Python.
  useDefaultAzureCredential();
  const controller = new AbortController();
  let interrupts = 0;
  const onSigint = () => {
    // The first Ctrl-C aborts the operation (cleanly); a second one exits at once.
    if (++interrupts > 1) process.exit(ExitCode.INTERRUPTED);
    controller.abort(new DOMException("Interrupted", "AbortError"));
  };
  const onStdoutError = (error: unknown) => {
    const code = (error as { code?: unknown } | null)?.code;
    controller.abort(code === "EPIPE" ? new OutputClosedError() : error);
  };
  process.on("SIGINT", onSigint);
  process.stdout.on("error", onStdoutError);
  const code = await run(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    // Touch process.stdin only when a command reads it.
    stdin: { [Symbol.asyncIterator]: () => process.stdin[Symbol.asyncIterator]() },
    env: Object.fromEntries(Object.entries(process.env)),
    cwd: process.cwd(),
    isTTY: process.stderr.isTTY === true,
    signal: controller.signal,
    backendTypes: [localBackendType, azureBackendType, ...(options.backendTypes ?? [])],
  });
  process.off("SIGINT", onSigint);
  // Let buffered output reach its reader before exiting.
  if (code !== ExitCode.OUTPUT_CLOSED) {
    await new Promise<void>((resolve) => {
      if (!process.stdout.write("", () => resolve())) process.stdout.once("drain", resolve);
    });
  }
  process.exit(code);
}

if (isMain()) await main();
