/**
 * Shared setup of the Azure tests: one Azurite per test file, a fresh
 * container per run, and backends that are all closed at the end (the
 * environment of `tests/_env.ts`).
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { Azurite } from "../_azurite.ts";
import { setupEnv, type TestEnv } from "../_env.ts";

export { FAST_RETRY } from "../_env.ts";
export { chunkedStream, patternBytes } from "../../src/conformance/_helpers.ts";

/** One test file's Azure environment: a {@link TestEnv} on Azurite. */
export interface AzureEnv extends TestEnv {
  /** The running Azurite. */
  az: Azurite;
}

/**
 * Starts Azurite and creates a fresh container. Backends detect the
 * namespace (`hns: "auto"`) unless told otherwise.
 *
 * @returns The environment.
 */
export async function setupAzure(): Promise<AzureEnv> {
  const env = await setupEnv("flat");
  return { ...env, az: env.az! };
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
