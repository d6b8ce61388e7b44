/**
 * `DefaultAzureCredential` for the Azure backend, on Deno, Bun and Node:
 * after `useDefaultAzureCredential()`, an Azure config that names no account
 * key, SAS, connection string or credential authenticates with
 * `DefaultAzureCredential` from `@azure/identity` (environment variables,
 * workload identity, managed identity, the Azure CLI, ...), as the Python
 * library does by default.
 *
 * It is a separate entrypoint so that `./azure` never imports
 * `@azure/identity`: that package needs Node built-ins, and an edge bundle
 * (workerd, Vercel's edge-runtime) of `./azure` must build without them.
 * Without this call such a config is an `InvalidConfigError` that says what
 * to pass.
 *
 * @example Use DefaultAzureCredential when a config names no credential
 * ```ts ignore
 * import { Registry } from "@remote-store/remote-store";
 * import { azureBackendType } from "@remote-store/remote-store/azure";
 * import { useDefaultAzureCredential } from "@remote-store/remote-store/azure/identity";
 *
 * useDefaultAzureCredential();
 * const registry = new Registry({
 *   backends: { az: { type: "azure", options: { container: "data", accountName: "myaccount" } } },
 *   stores: { data: { backend: "az" } },
 * }, { backendTypes: [azureBackendType] });
 * ```
 *
 * @module
 */

import { DefaultAzureCredential } from "@azure/identity";
import { setDefaultCredentialFactory } from "./src/backends/azure/_credential.ts";

/**
 * Makes `DefaultAzureCredential` the credential of every Azure backend whose
 * options name no account key, SAS, connection string or credential (one
 * credential per backend, created on its first request and closed with the
 * backend). Process-wide; call it before such backends are configured. For
 * `DefaultAzureCredential` options, pass `credential: new
 * DefaultAzureCredential(options)` instead.
 *
 * @example Authenticate with the environment's identity
 * ```ts ignore
 * import { AzureBackend } from "@remote-store/remote-store/azure";
 * import { useDefaultAzureCredential } from "@remote-store/remote-store/azure/identity";
 *
 * useDefaultAzureCredential();
 * const backend = new AzureBackend({ container: "data", accountName: "myaccount" });
 * ```
 */
export function useDefaultAzureCredential(): void {
  setDefaultCredentialFactory(() => new DefaultAzureCredential());
}
