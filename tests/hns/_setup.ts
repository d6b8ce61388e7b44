/**
 * Shared setup of the HNS tests: a DFS emulator, a fresh container, and
 * backends (`hns: true` unless overridden) that are all closed at the end
 * (the environment of `tests/_env.ts`).
 *
 * @module
 */

import type { DfsEmulator } from "../dfs_emulator/dfs_emulator.ts";
import { setupEnv, type TestEnv } from "../_env.ts";

export { FAST_RETRY } from "../_env.ts";

/** One test file's HNS environment: a {@link TestEnv} on the DFS emulator. */
export interface HnsEnv extends TestEnv {
  /** The running emulator. */
  emulator: DfsEmulator;
}

/**
 * Starts the emulator and creates a fresh container.
 *
 * @returns The environment.
 */
export async function setupHns(): Promise<HnsEnv> {
  const env = await setupEnv("hns", { defaults: { hns: true } });
  return { ...env, emulator: env.emulator! };
}
