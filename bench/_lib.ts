/**
 * Benchmark helpers: runtime detection, the data generator, timing, RSS
 * sampling, a small async pool and statistics. Runs unchanged on Deno, Node
 * and Bun.
 *
 * @module
 */

import process from "node:process";
import { Buffer } from "node:buffer";
import { Readable } from "node:stream";

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

/** Which runtime runs this file. */
export interface RuntimeInfo {
  name: "deno" | "node" | "bun";
  version: string;
  v8?: string;
}

/** Detects the runtime. */
export function runtimeInfo(): RuntimeInfo {
  const g = globalThis as unknown as {
    Deno?: { version: { deno: string; v8: string } };
    Bun?: { version: string };
  };
  if (g.Deno) return { name: "deno", version: g.Deno.version.deno, v8: g.Deno.version.v8 };
  if (g.Bun) return { name: "bun", version: g.Bun.version };
  return { name: "node", version: process.versions.node, v8: process.versions.v8 };
}

/** Runs a full garbage collection where the runtime exposes one (Bun always; Deno and Node with --expose-gc). */
export function collectGarbage(): boolean {
  const g = globalThis as unknown as {
    gc?: () => void;
    Bun?: { gc(force: boolean): void };
  };
  if (g.Bun) {
    g.Bun.gc(true);
    return true;
  }
  if (typeof g.gc === "function") {
    g.gc();
    return true;
  }
  return false;
}

/** Current resident set size in bytes. */
export function rss(): number {
  return process.memoryUsage().rss;
}

/** CPU time (user + system) of this process in milliseconds, if the runtime reports it. */
export function cpuMs(): number | undefined {
  try {
    const { user, system } = process.cpuUsage();
    return (user + system) / 1000;
  } catch {
    return undefined;
  }
}

/** Samples RSS every `intervalMs` until stopped; reports the peak. */
export class RssSampler {
  readonly baseline: number;
  #peak: number;
  #timer: ReturnType<typeof setInterval>;

  constructor(intervalMs = 20) {
    this.baseline = rss();
    this.#peak = this.baseline;
    this.#timer = setInterval(() => this.sample(), intervalMs);
  }

  sample(): void {
    const now = rss();
    if (now > this.#peak) this.#peak = now;
  }

  /** Stops sampling; returns the peak minus the baseline in bytes (never negative). */
  stop(): number {
    this.sample();
    clearInterval(this.#timer);
    return Math.max(0, this.#peak - this.baseline);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

let pattern: Uint8Array | undefined;

/** 1 MiB of pseudo-random bytes (xorshift), made once. */
function patternBytes(): Uint8Array {
  if (pattern) return pattern;
  const out = new Uint8Array(MiB);
  const view = new DataView(out.buffer);
  let x = 0x9e3779b9;
  for (let i = 0; i < out.byteLength; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    view.setUint32(i, x >>> 0);
  }
  pattern = out;
  return out;
}

/**
 * Yields `size` bytes as fresh chunks of `chunkSize` bytes, made on the fly
 * (a copy of a 1 MiB pattern stamped with the chunk index): never more than
 * one chunk is allocated per step, never the whole content.
 */
export async function* generate(size: number, chunkSize: number): AsyncGenerator<Uint8Array> {
  const source = patternBytes();
  let sent = 0;
  let index = 0;
  while (sent < size) {
    const n = Math.min(chunkSize, size - sent);
    const chunk = new Uint8Array(n);
    const offset = (index * 4099) % (source.byteLength - n + 1);
    chunk.set(source.subarray(offset, offset + n));
    new DataView(chunk.buffer).setUint32(0, index);
    sent += n;
    index++;
    yield chunk;
  }
}

/** The generator as a pull-based WHATWG stream (what `fetch` bodies and file streams look like). */
export function generatedWebStream(size: number, chunkSize: number): ReadableStream<Uint8Array> {
  const iterator = generate(size, chunkSize);
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await iterator.next();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    async cancel() {
      await iterator.return(undefined);
    },
  });
}

/** The same generator as a Node `Readable` of Buffers (no copies). */
export function generatedNodeStream(size: number, chunkSize: number): Readable {
  async function* buffers() {
    for await (const chunk of generate(size, chunkSize)) {
      yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    }
  }
  return Readable.from(buffers(), { objectMode: false, highWaterMark: chunkSize });
}

/** Collects the generator into one Buffer (for APIs that cannot stream). */
export async function generatedBuffer(size: number, chunkSize: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of generate(size, chunkSize)) {
    chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }
  return Buffer.concat(chunks, size);
}

/** Reads a web stream to the end, dropping the chunks; returns the byte count. */
export async function drainWeb(stream: ReadableStream<Uint8Array>): Promise<number> {
  const reader = stream.getReader();
  let total = 0;
  while (true) {
    const { done, value } = await reader.read();
    if (done) return total;
    total += value.byteLength;
  }
}

/** Reads a Node stream to the end in flowing mode, dropping the chunks. */
export function drainNode(stream: NodeReadableLike): Promise<number> {
  return new Promise((resolve, reject) => {
    let total = 0;
    stream.on("data", (chunk: { length: number }) => {
      total += chunk.length;
    });
    stream.once("end", () => resolve(total));
    stream.once("error", reject);
  });
}

/** Runs `task(i)` for i in [0, count) with at most `limit` in flight. */
export async function pool(
  count: number,
  limit: number,
  task: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const index = next++;
      await task(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/**
 * A measured number for printing: one decimal below 100, none from 100 up
 * (`59.099999999999994` prints as `59.1`, `12345.67` as `12346`).
 */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(1);
}

export function formatBytes(bytes: number): string {
  if (bytes >= GiB) return `${round(bytes / GiB, 2)} GiB`;
  if (bytes >= MiB) return `${round(bytes / MiB, 1)} MiB`;
  if (bytes >= KiB) return `${round(bytes / KiB, 1)} KiB`;
  return `${bytes} B`;
}

/** Renders rows as a plain-text table with a header rule. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ")
      .trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

/**
 * The order of the implementations in repetition `rep`: rotated by one each
 * repetition (A B, B A, A B ... for two), so that no implementation always
 * runs first or always after a particular other.
 */
export function rotation<T>(items: readonly T[], rep: number): T[] {
  const k = rep % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

/** The part of a Node readable stream that `drainNode` needs. */
export interface NodeReadableLike {
  on(event: "data", listener: (chunk: { length: number }) => void): unknown;
  once(event: "end", listener: () => void): unknown;
  once(event: "error", listener: (error: unknown) => void): unknown;
}
