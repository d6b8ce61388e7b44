import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import process from "node:process";
import { Store } from "../../mod.ts";
import { type AzureEnv, HOOK, patternBytes, setupAzure } from "./_setup.ts";
import { collectGarbage } from "../_memory.ts";

const MiB = 1024 * 1024;
const TOTAL = 1024 * MiB;
const CHUNK = MiB;
const BLOCK_SIZE = 4 * MiB;
const CONCURRENCY = 4;
const BOUND = BLOCK_SIZE * (CONCURRENCY + 1) + 64 * MiB;
/** Bytes between two checkpoints. */
const CHECKPOINT_EVERY = 16 * MiB;
/** Above this growth a checkpoint collects garbage before it samples. */
const GC_THRESHOLD = 32 * MiB;

/**
 * Measures RSS growth over a baseline two ways:
 * - `raw`: sampled every 50 ms while the transfer runs, garbage included;
 * - `held`: sampled at checkpoints (every 16 MiB transferred); a sample above
 *   `GC_THRESHOLD` is retaken right after a full collection, so it counts the
 *   memory the transfer keeps alive, not garbage the collector has not reached.
 *
 * A collector can let already released buffers (request copies, socket reads)
 * pile up before it runs, so only `held` is a fair bound.
 */
function memoryMeter() {
  collectGarbage();
  const baseline = process.memoryUsage().rss;
  let raw = 0;
  let held = 0;
  let collections = 0;
  const timer = setInterval(() => {
    raw = Math.max(raw, process.memoryUsage().rss - baseline);
  }, 50);
  return {
    checkpoint() {
      let now = process.memoryUsage().rss - baseline;
      raw = Math.max(raw, now);
      if (now > GC_THRESHOLD) {
        collectGarbage();
        collections++;
        now = process.memoryUsage().rss - baseline;
      }
      held = Math.max(held, now);
    },
    stop(): { raw: number; held: number; collections: number } {
      clearInterval(timer);
      return { raw, held, collections };
    },
  };
}

/** 1 GiB generated on demand: a fixed random MiB whose first 8 bytes carry the chunk index. */
function generated(
  hash: ReturnType<typeof createHash>,
  checkpoint: () => void,
): ReadableStream<Uint8Array> {
  const chunk = patternBytes(CHUNK, 42);
  const view = new DataView(chunk.buffer);
  let index = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (index * CHUNK >= TOTAL) {
        controller.close();
        return;
      }
      if (index > 0 && (index * CHUNK) % CHECKPOINT_EVERY === 0) checkpoint();
      view.setFloat64(0, index++);
      hash.update(chunk);
      controller.enqueue(chunk);
    },
  }, { highWaterMark: 0 });
}

async function consume(
  stream: ReadableStream<Uint8Array>,
  checkpoint: () => void,
): Promise<{ size: number; sha256: string }> {
  const hash = createHash("sha256");
  const reader = stream.getReader();
  let size = 0;
  let next = CHECKPOINT_EVERY;
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    hash.update(value);
    size += value.byteLength;
    if (size >= next) {
      checkpoint();
      next += CHECKPOINT_EVERY;
    }
  }
  return { size, sha256: hash.digest("hex") };
}

const mb = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;

describe("azure 1 GiB transfers", () => {
  let env: AzureEnv;

  before(async () => {
    env = await setupAzure();
  }, HOOK);

  after(async () => {
    await env?.close();
  }, HOOK);

  test("1 GiB streamed upload and download hold at most blockSize x (concurrency + 1) + 64 MiB", {
    timeout: 170_000,
  }, async () => {
    const store = new Store(
      env.backend({ hns: false, blockSize: BLOCK_SIZE, concurrency: CONCURRENCY }),
    );
    const upHash = createHash("sha256");
    let meter = memoryMeter();
    let started = Date.now();
    const written = await store.write("large/1gib.bin", generated(upHash, meter.checkpoint));
    const up = meter.stop();
    const upSeconds = (Date.now() - started) / 1000;
    assert.equal(written.size, TOTAL);

    meter = memoryMeter();
    started = Date.now();
    const result = await consume(await store.read("large/1gib.bin"), meter.checkpoint);
    const down = meter.stop();
    const downSeconds = (Date.now() - started) / 1000;

    console.log(
      `1 GiB upload: ${upSeconds.toFixed(1)} s, RSS growth held ${mb(up.held)}, ` +
        `raw ${mb(up.raw)} (${up.collections} GCs); download: ${downSeconds.toFixed(1)} s, ` +
        `RSS growth held ${mb(down.held)}, raw ${mb(down.raw)} (${down.collections} GCs); ` +
        `bound ${mb(BOUND)}`,
    );
    assert.equal(result.size, TOTAL);
    assert.equal(result.sha256, upHash.digest("hex"));
    assert.ok(up.held <= BOUND, `upload RSS grew ${mb(up.held)} > ${mb(BOUND)}`);
    assert.ok(down.held <= BOUND, `download RSS grew ${mb(down.held)} > ${mb(BOUND)}`);
    await store.delete("large/1gib.bin");
  });
});
