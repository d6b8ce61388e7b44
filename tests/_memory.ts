/**
 * Test harness: RSS growth of a transfer, counting the memory it keeps alive
 * rather than garbage the collector has not reached yet (the method of
 * `tests/azure/azure_large_test.ts`): `checkpoint()` samples, and a sample
 * above 32 MiB is retaken right after a full collection. `raw` is the
 * largest sample without collecting.
 *
 * @module
 */

import process from "node:process";
import v8 from "node:v8";
import vm from "node:vm";

const MiB = 1024 * 1024;
const GC_THRESHOLD = 32 * MiB;

/** A full garbage collection, where the runtime offers one. */
export const collectGarbage: () => void = (() => {
  const bun = (globalThis as { Bun?: { gc(force: boolean): void } }).Bun;
  if (bun) return () => bun.gc(true);
  try {
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc") as () => void;
    return () => gc();
  } catch {
    return () => {};
  }
})();

/** What a meter measured, in bytes over its baseline. */
export interface MemoryGrowth {
  /** Largest growth kept alive (after collecting when a sample was high). */
  held: number;
  /** Largest growth seen, garbage included. */
  raw: number;
}

/** Starts measuring RSS growth from now (after a collection). */
export function memoryMeter(): { checkpoint(): void; stop(): MemoryGrowth } {
  collectGarbage();
  const baseline = process.memoryUsage().rss;
  let raw = 0;
  let held = 0;
  let sinceCheck = 0;
  const timer = setInterval(() => {
    raw = Math.max(raw, process.memoryUsage().rss - baseline);
  }, 20);
  const checkpoint = () => {
    let now = process.memoryUsage().rss - baseline;
    raw = Math.max(raw, now);
    if (now > GC_THRESHOLD) {
      collectGarbage();
      now = process.memoryUsage().rss - baseline;
    }
    held = Math.max(held, now);
  };
  return {
    /** Samples; collects (at most every 8 calls) when the sample is high. */
    checkpoint() {
      if (++sinceCheck % 8 === 0) checkpoint();
    },
    stop() {
      clearInterval(timer);
      checkpoint();
      return { held, raw };
    },
  };
}

/** Bytes as MiB with one decimal. */
export const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;
