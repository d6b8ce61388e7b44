/**
 * The `azure` backend type, for a {@link Registry} config.
 *
 * @module
 */

import type { BackendType } from "../../backend_type.ts";
import { AzureBackend } from "./azure_backend.ts";
import { type AzureBackendOptions, parseAzureOptions } from "./_options.ts";

/**
 * The `azure` backend type (flat Blob Storage and ADLS Gen2): pass it to a
 * Registry (or register it) so that a config can say
 * `{ type: "azure", options: { container, connectionString } }`.
 *
 * @example A Registry with an Azure store
 * ```ts
 * import { Registry } from "@remote-store/remote-store";
 * import { azureBackendType } from "@remote-store/remote-store/azure";
 * await using registry = new Registry({
 *   backends: {
 *     cloud: { type: "azure", options: { container: "reports", connectionString: "UseDevelopmentStorage=true" } },
 *   },
 *   stores: { reports: { backend: "cloud", rootPath: "2026" } },
 * }, { backendTypes: [azureBackendType] });
 * const reports = registry.getStore("reports");
 * ```
 */
export const azureBackendType: BackendType<AzureBackendOptions> = Object.freeze({
  type: "azure",
  parseOptions: parseAzureOptions,
  create: (options: AzureBackendOptions) => new AzureBackend(options),
});
