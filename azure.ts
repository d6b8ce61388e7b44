/**
 * The Azure backend: Azure Blob Storage (and ADLS Gen2 accounts) behind the
 * same `Store` API as every other backend. Reads are resumable pull-based
 * streams; writes stage blocks with bounded memory and commit atomically;
 * create-only writes, copies and moves are race-free.
 *
 * In a Registry config use `{ type: "azure", options: { container, ... } }`
 * and give the Registry {@link azureBackendType} (`new Registry(config, {
 * backendTypes: [azureBackendType] })`, or `registerBackendType(azureBackendType)`
 * once). Import {@link AzureBackend} to use the backend directly or to reach
 * the native SDK clients with `unwrap()`.
 *
 * @example Connect with a connection string
 * ```ts ignore
 * import { AzureBackend } from "@remote-store/remote-store/azure";
 * import { Store } from "@remote-store/remote-store";
 * import { ContainerClient } from "@azure/storage-blob";
 *
 * const backend = new AzureBackend({
 *   container: "data",
 *   connectionString: Deno.env.get("AZURE_STORAGE_CONNECTION_STRING")!,
 * });
 * const store = new Store(backend, { rootPath: "example" });
 * await store.write("hello.txt", "Hello, Azure!");
 * const response = new Response(await store.read("hello.txt"));
 * console.log(await response.text());
 * const container = backend.unwrap(ContainerClient); // escape hatch
 * console.log(container.containerName);
 * await backend.close();
 * ```
 *
 * @module
 */

export { azureBackendType } from "./src/backends/azure/azure_type.ts";
export { AzureBackend } from "./src/backends/azure/azure_backend.ts";
export type {
  AzureBackendOptions,
  AzureRetryOptions,
  TokenCredentialLike,
} from "./src/backends/azure/_options.ts";
// The contract types AzureBackend's methods refer to (also exported by the core entrypoint).
export type * from "./src/backend.ts";
export type { Capabilities, Capability } from "./src/capabilities.ts";
export type { ByteRange } from "./src/types.ts";
