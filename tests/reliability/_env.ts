/**
 * Shared setup of the reliability tests: a server (Azurite for the flat
 * namespace, the DFS emulator for HNS) behind a {@link FaultProxy}, and
 * backends whose traffic goes through the proxy.
 *
 * @module
 */

import { ContainerClient } from "@azure/storage-blob";
import { randomContainerName, startAzurite } from "../_azurite.ts";
import { startDfsEmulator } from "../dfs_emulator/dfs_emulator.ts";
import { AzureBackend, type AzureBackendOptions } from "../../azure.ts";
import { type FaultProxy, startFaultProxy } from "./_fault_proxy.ts";

export { hashStream, HOOK, patternBytes, sha256 } from "../azure/_setup.ts";

/** Which server: Azurite (flat Blob) or the DFS emulator (ADLS Gen2 HNS). */
export type Flavor = "flat" | "hns";

/** Fast retries for tests: four tries, short back-off. */
export const FAST_RETRY = {
  maxTries: 4,
  retryDelayMs: 10,
  maxRetryDelayMs: 200,
  maxResumes: 5,
} as const;

/** One test file's environment for one flavor. */
export interface FaultEnv {
  /** `flat` or `hns`. */
  flavor: Flavor;
  /** The proxy in front of the server. */
  proxy: FaultProxy;
  /** The fresh container. */
  container: string;
  /** The connection string of the proxy endpoint. */
  connectionString: string;
  /** A backend through the proxy (closed by `close()` unless closed before). */
  backend(options?: Partial<AzureBackendOptions>): AzureBackend;
  /** A container client that bypasses the proxy, for arranging and checking data. */
  admin: ContainerClient;
  /** Deletes the container, closes every backend, the proxy and the server. */
  close(): Promise<void>;
}

/**
 * Starts a server and a proxy in front of it, and creates a fresh container.
 *
 * @param flavor `flat` (Azurite) or `hns` (DFS emulator).
 * @returns The environment.
 */
export async function setupFaultEnv(flavor: Flavor): Promise<FaultEnv> {
  let port: number;
  let account: string;
  let key: string;
  let stopServer: () => Promise<void>;
  if (flavor === "flat") {
    const az = await startAzurite();
    port = az.port;
    account = az.accountName;
    key = az.accountKey;
    stopServer = () => az.stop();
  } else {
    const emulator = await startDfsEmulator();
    port = Number(new URL(emulator.url).port);
    account = emulator.accountName;
    key = emulator.accountKey;
    stopServer = () => emulator.close();
  }
  const proxy = await startFaultProxy(port);
  const direct = `http://127.0.0.1:${port}/${account}`;
  const viaProxy = `http://127.0.0.1:${proxy.port}/${account}`;
  const cs = (url: string) =>
    `DefaultEndpointsProtocol=http;AccountName=${account};AccountKey=${key};BlobEndpoint=${url};`;
  const container = randomContainerName("r");
  const backends: AzureBackend[] = [];
  const make = (connectionString: string, options: Partial<AzureBackendOptions>) => {
    const created = new AzureBackend({
      container,
      connectionString,
      hns: flavor === "hns",
      retry: FAST_RETRY,
      blockSize: 64 * 1024,
      concurrency: 2,
      ...options,
    });
    backends.push(created);
    return created;
  };
  const admin = make(cs(direct), {}).unwrap(ContainerClient);
  await admin.create();
  return {
    flavor,
    proxy,
    container,
    connectionString: cs(viaProxy),
    backend: (options = {}) => make(cs(viaProxy), options),
    admin,
    async close() {
      try {
        await admin.deleteIfExists();
      } finally {
        for (const b of backends) await b.close();
        await proxy.stop();
        await stopServer();
      }
    },
  };
}

/** Reads a blob's bytes directly (bypassing the proxy); `undefined` when absent. */
export async function readDirect(
  admin: ContainerClient,
  key: string,
): Promise<Uint8Array | undefined> {
  try {
    const buffer = await admin.getBlobClient(key).downloadToBuffer();
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return undefined;
    throw error;
  }
}

/** Every blob name in the container (bypassing the proxy), sorted. */
export async function listDirect(admin: ContainerClient): Promise<string[]> {
  const names: string[] = [];
  for await (const blob of admin.listBlobsFlat()) names.push(blob.name);
  return names.sort();
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
