/**
 * Shared setup of the Azure tests: one Azurite per test file, a fresh
 * container per run, and backends that are all closed at the end.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { ContainerClient } from "@azure/storage-blob";
import { type Azurite, randomContainerName, startAzurite } from "../_azurite.ts";
import { AzureBackend, type AzureBackendOptions } from "../../azure.ts";

export { chunkedStream, patternBytes } from "../../src/conformance/_helpers.ts";

/** One test file's Azure environment. */
export interface AzureEnv {
  /** The running Azurite. */
  az: Azurite;
  /** The fresh container of this run. */
  container: string;
  /** A backend on the container (connection string unless overridden); closed by `close()`. */
  backend(options?: Partial<AzureBackendOptions>): AzureBackend;
  /** A container client for arranging test data behind the backend's back. */
  admin: ContainerClient;
  /** Deletes the container, closes every backend and stops Azurite. */
  close(): Promise<void>;
}

/** Fast test retry settings: no long SDK back-off. */
export const FAST_RETRY = { maxTries: 2, retryDelayMs: 10, maxRetryDelayMs: 50 } as const;

/**
 * Starts Azurite and creates a fresh container.
 *
 * @returns The environment.
 */
export async function setupAzure(): Promise<AzureEnv> {
  const az = await startAzurite();
  const container = randomContainerName();
  const backends: AzureBackend[] = [];
  const backend = (options: Partial<AzureBackendOptions> = {}) => {
    const base: AzureBackendOptions = options.accountName || options.accountUrl
      ? { container }
      : { container, connectionString: az.connectionString };
    const created = new AzureBackend({ retry: FAST_RETRY, ...base, ...options });
    backends.push(created);
    return created;
  };
  const adminBackend = backend({ hns: false });
  const admin = adminBackend.unwrap(ContainerClient);
  await admin.create();
  return {
    az,
    container,
    backend,
    admin,
    async close() {
      try {
        await admin.deleteIfExists();
      } finally {
        for (const b of backends) await b.close();
        await az.stop();
      }
    },
  };
}

/** SHA-256 hex of bytes. */
export function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Reads a whole stream, hashing it; returns the byte count and hash. */
export async function hashStream(
  stream: ReadableStream<Uint8Array>,
): Promise<{ size: number; sha256: string }> {
  const hash = createHash("sha256");
  let size = 0;
  const reader = stream.getReader();
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    hash.update(value);
    size += value.byteLength;
  }
  return { size, sha256: hash.digest("hex") };
}

/** Options of the before/after hooks: starting Azurite on a busy machine can take a while. */
export const HOOK = { timeout: 120_000 } as const;
