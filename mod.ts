/**
 * remote-store: one streaming file-storage API for Deno, Bun and Node.
 *
 * The same {@link Store} methods work on memory, a local disk, Azure Blob
 * Storage and Azure Data Lake Storage Gen2; switching is a config change.
 * Reads return WHATWG `ReadableStream`s and writes accept them, so stored
 * files pipe straight into `Response` bodies.
 *
 * This entrypoint is edge-safe: it loads no `node:` module and no Azure SDK.
 * The local and Azure backends live in their own entrypoints
 * (`@remote-store/remote-store/local`, `@remote-store/remote-store/azure`);
 * an application imports the ones it uses and gives their backend types to
 * the {@link Registry}.
 *
 * @example Quick start
 * ```ts
 * import { Registry } from "@remote-store/remote-store";
 *
 * await using registry = new Registry({
 *   backends: { mem: { type: "memory" } },
 *   stores: { data: { backend: "mem", rootPath: "data" } },
 * });
 * const data = registry.getStore("data");
 * await data.write("report.csv", "revenue,profit\n100,20\n");
 * console.log(await data.readText("report.csv"));
 * for await (const file of data.listFiles("", { recursive: true })) console.log(file.path, file.size);
 * ```
 *
 * @module
 */

export * from "./src/errors.ts";
export * from "./src/paths.ts";
export * from "./src/capabilities.ts";
export type * from "./src/types.ts";
export type * from "./src/backend.ts";
export * from "./src/store.ts";
export * from "./src/registry.ts";
export { type BackendType, memoryBackendType, registerBackendType } from "./src/backend_type.ts";
export {
  type BackendConfig,
  type ConfigTypesOptions,
  type LayerConfig,
  type RegistryConfig,
  type StoreProfile,
  validateConfig,
} from "./src/config.ts";
export * from "./src/config_parse.ts";
export * from "./src/transfer.ts";
export * from "./src/signed_upload.ts";
export * from "./src/serve.ts";
export { MemoryBackend } from "./src/backends/memory/memory_backend.ts";
export * from "./src/integrity.ts";
export {
  type BatchStatus,
  type CopyManyOptions,
  type CopyManyResult,
  type CopyPair,
  type DeleteManyOptions,
  type DeleteManyResult,
} from "./src/batch.ts";
export * from "./src/layer.ts";
export * from "./src/layers/observe.ts";
export * from "./src/layers/log.ts";
export * from "./src/layers/otel.ts";
export * from "./src/layers/timeout.ts";
export * from "./src/layers/concurrency_limit.ts";
