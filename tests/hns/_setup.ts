/**
 * Shared setup of the HNS tests: a DFS emulator, a fresh container, and
 * backends that are all closed at the end.
 *
 * @module
 */

import { ContainerClient } from "@azure/storage-blob";
import { type DfsEmulator, startDfsEmulator } from "../dfs_emulator/dfs_emulator.ts";
import { randomContainerName } from "../_azurite.ts";
import { AzureBackend, type AzureBackendOptions } from "../../azure.ts";

/** One test file's HNS environment. */
export interface HnsEnv {
  /** The running emulator. */
  emulator: DfsEmulator;
  /** The fresh container of this run. */
  container: string;
  /** A backend on the container (`hns: true` unless overridden); closed by `close()`. */
  backend(options?: Partial<AzureBackendOptions>): AzureBackend;
  /** Deletes the container, closes every backend and stops the emulator. */
  close(): Promise<void>;
}

/** Fast test retry settings: no long SDK back-off. */
export const FAST_RETRY = { maxTries: 2, retryDelayMs: 10, maxRetryDelayMs: 50 } as const;

/**
 * Starts the emulator and creates a fresh container.
 *
 * @returns The environment.
 */
export async function setupHns(): Promise<HnsEnv> {
  const emulator = await startDfsEmulator();
  const container = randomContainerName();
  const backends: AzureBackend[] = [];
  const backend = (options: Partial<AzureBackendOptions> = {}) => {
    const created = new AzureBackend({
      container,
      connectionString: emulator.connectionString,
      hns: true,
      retry: FAST_RETRY,
      ...options,
    });
    backends.push(created);
    return created;
  };
  const admin = backend().unwrap(ContainerClient);
  await admin.create();
  return {
    emulator,
    container,
    backend,
    async close() {
      try {
        await admin.deleteIfExists();
      } finally {
        for (const b of backends) await b.close();
        await emulator.close();
      }
    },
  };
}
