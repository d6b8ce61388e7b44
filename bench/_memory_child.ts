/**
 * One memory measurement in a fresh process (spawned by bench/main.ts with
 * the same runtime): warm up, collect garbage, take the idle RSS baseline,
 * then stream once while sampling RSS every 20 ms. Prints `RESULT {json}`.
 *
 * @module
 */

import process from "node:process";
import { type BenchEnv, ours, rawSdk } from "./_impls.ts";
import { fetchSharedKey } from "./_fetch.ts";
import { collectGarbage, MiB, RssSampler, sleep } from "./_lib.ts";

interface ChildConfig {
  env: BenchEnv;
  op: "upload" | "download";
  impl: "remote-store" | "raw-sdk" | "fetch-sharedkey";
  key: string;
  size: number;
}

const config = JSON.parse(process.env.BENCH_CHILD ?? "null") as ChildConfig | null;
if (config === null) throw new Error("bench/_memory_child.ts is started by bench/main.ts");

const contender = config.impl === "remote-store"
  ? ours(config.env)
  : config.impl === "raw-sdk"
  ? rawSdk(config.env)
  : fetchSharedKey(config.env);
const warmKey = `mem/warm-${config.impl}-${process.pid}.bin`;
// Warm-up with a multi-block stream: pipeline, sockets, JIT and lazy imports are in place.
await contender.upload(warmKey, 2 * config.env.blockSize + MiB);
await contender.download(warmKey);

let gc = collectGarbage();
await sleep(200);
gc = collectGarbage() || gc;
await sleep(100);

const sampler = new RssSampler(20);
const t0 = performance.now();
if (config.op === "upload") {
  await contender.upload(config.key, config.size);
} else {
  const read = await contender.download(config.key);
  if (read !== config.size) throw new Error(`read ${read} of ${config.size} bytes`);
}
const seconds = (performance.now() - t0) / 1000;
const peakGrowth = sampler.stop();
await contender.close();
console.log(`RESULT ${JSON.stringify({ peakGrowth, baseline: sampler.baseline, seconds, gc })}`);
// Keep-alive sockets of the SDK's default agent would hold the process open for a while.
process.exit(0);
