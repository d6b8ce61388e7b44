/**
 * Test harness: the one environment builder of the tests that talk the Azure
 * protocol. It starts a server (Azurite for the flat namespace, the DFS
 * emulator for ADLS Gen2), optionally the fault proxy in front of it, creates
 * a fresh container, hands out backends on it, and closes all of it at the
 * end. `tests/azure/_setup.ts`, `tests/hns/_setup.ts` and
 * `tests/reliability/_env.ts` are thin views of it.
 *
 * @module
 */

import { ContainerClient } from "@azure/storage-blob";
import { type Azurite, randomContainerName, startAzurite } from "./_azurite.ts";
import { type DfsEmulator, startDfsEmulator } from "./dfs_emulator/dfs_emulator.ts";
import { type FaultProxy, startFaultProxy } from "./_fault_proxy.ts";
import { AzureBackend, type AzureBackendOptions } from "../azure.ts";

/** Which server: Azurite (flat Blob) or the DFS emulator (ADLS Gen2 HNS). */
export type Flavor = "flat" | "hns";

/** Fast test retry settings: no long SDK back-off. */
export const FAST_RETRY = { maxTries: 2, retryDelayMs: 10, maxRetryDelayMs: 50 } as const;

/** Options of {@link setupEnv}. */
export interface EnvOptions {
  /** Put a fault proxy in front of the server; backends then go through it. */
  proxy?: boolean;
  /** Options every backend gets (after the container, connection and `FAST_RETRY`). */
  defaults?: Partial<AzureBackendOptions>;
}

/** One test file's environment. */
export interface TestEnv {
  /** `flat` or `hns`. */
  flavor: Flavor;
  /** The running Azurite (flat only). */
  az?: Azurite;
  /** The running DFS emulator (hns only). */
  emulator?: DfsEmulator;
  /** The proxy in front of the server (with `proxy: true` only). */
  proxy?: FaultProxy;
  /** The fresh container of this run. */
  container: string;
  /** The connection string backends use (the proxy's endpoint when there is one). */
  connectionString: string;
  /**
   * A backend on the container, closed by `close()`. It connects with
   * `connectionString` unless the options bring an `accountName` or
   * `accountUrl` of their own.
   */
  backend(options?: Partial<AzureBackendOptions>): AzureBackend;
  /** A container client that bypasses the proxy, for arranging and checking data. */
  admin: ContainerClient;
  /** Deletes the container, closes every backend, the proxy and the server. */
  close(): Promise<void>;
}

/**
 * Starts a server (and a proxy in front of it) and creates a fresh container.
 *
 * @param flavor `flat` (Azurite) or `hns` (DFS emulator).
 * @param options Proxy and backend defaults.
 * @returns The environment.
 */
export async function setupEnv(flavor: Flavor, options: EnvOptions = {}): Promise<TestEnv> {
  let az: Azurite | undefined;
  let emulator: DfsEmulator | undefined;
  let server: { port: number; connectionString: string };
  if (flavor === "flat") {
    server = az = await startAzurite();
  } else {
    emulator = await startDfsEmulator();
    server = {
      port: Number(new URL(emulator.url).port),
      connectionString: emulator.connectionString,
    };
  }
  const stopServer = () => az ? az.stop() : emulator!.close();
  let proxy: FaultProxy | undefined;
  try {
    if (options.proxy) proxy = await startFaultProxy(server.port);
  } catch (error) {
    await stopServer();
    throw error;
  }
  const direct = server.connectionString;
  const connectionString = proxy
    ? direct.replaceAll(`:${server.port}/`, `:${proxy.port}/`)
    : direct;
  const container = randomContainerName();
  const backends: AzureBackend[] = [];
  const make = (via: string, own: Partial<AzureBackendOptions>) => {
    const base: AzureBackendOptions = own.accountName || own.accountUrl
      ? { container }
      : { container, connectionString: via };
    const created = new AzureBackend({ retry: FAST_RETRY, ...base, ...options.defaults, ...own });
    backends.push(created);
    return created;
  };
  const admin = make(direct, { hns: flavor === "hns" }).unwrap(ContainerClient);
  await admin.create();
  return {
    flavor,
    az,
    emulator,
    proxy,
    container,
    connectionString,
    backend: (own = {}) => make(connectionString, own),
    admin,
    async close() {
      try {
        await admin.deleteIfExists();
      } finally {
        for (const b of backends) await b.close();
        await proxy?.stop();
        await stopServer();
      }
    },
  };
}
