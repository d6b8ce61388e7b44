/**
 * Shared setup of the reliability tests: a server (Azurite for the flat
 * namespace, the DFS emulator for HNS) behind the fault proxy, and backends
 * whose traffic goes through the proxy (the environment of `tests/_env.ts`).
 *
 * @module
 */

import type { ContainerClient } from "@azure/storage-blob";
import type { FaultProxy } from "../_fault_proxy.ts";
import { type Flavor, setupEnv, type TestEnv } from "../_env.ts";

export type { Flavor } from "../_env.ts";
export { hashStream, HOOK, patternBytes, sha256 } from "../azure/_setup.ts";

/** Retries that ride out the injected faults: four tries, short back-off. */
export const FAST_RETRY = {
  maxTries: 4,
  retryDelayMs: 10,
  maxRetryDelayMs: 200,
  maxResumes: 5,
} as const;

/** One test file's environment for one flavor: a {@link TestEnv} that has a proxy. */
export interface FaultEnv extends TestEnv {
  /** The proxy in front of the server. */
  proxy: FaultProxy;
}

/**
 * Starts a server and a proxy in front of it, and creates a fresh container.
 * Backends go through the proxy, with {@link FAST_RETRY}, 64 KiB blocks and
 * two uploads at a time.
 *
 * @param flavor `flat` (Azurite) or `hns` (DFS emulator).
 * @returns The environment.
 */
export async function setupFaultEnv(flavor: Flavor): Promise<FaultEnv> {
  const env = await setupEnv(flavor, {
    proxy: true,
    defaults: { hns: flavor === "hns", retry: FAST_RETRY, blockSize: 64 * 1024, concurrency: 2 },
  });
  return { ...env, proxy: env.proxy! };
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
