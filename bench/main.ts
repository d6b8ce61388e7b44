/**
 * Benchmarks remote-store's Azure backend against the raw Azure SDK (and
 * peers) on one in-memory Azurite. Runs on Deno, Node 24 and Bun:
 *
 * ```sh
 * deno run -A bench/main.ts [--quick] [--large] [--peers=none|all] [--reps=N]
 * npx --yes node@24 bench/main.ts --quick
 * npx --yes bun@1 bench/main.ts --quick
 * ```
 *
 * Every comparison is measured in the same run, the contenders interleaved
 * repetition by repetition with the order rotated each time; medians are
 * reported. Results are printed as tables and merged into bench/results.json.
 *
 * @module
 */

import process from "node:process";
import os from "node:os";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Buffer } from "node:buffer";
import type { ContainerClient } from "@azure/storage-blob";
import { type Azurite, randomContainerName, startAzurite } from "../tests/_azurite.ts";
import {
  type BenchEnv,
  ours,
  oursNodeFetch,
  ourStore,
  ourStoreNodeFetch,
  packageVersions,
  peers,
  rawContainer,
  rawSdk,
  type StreamContender,
  type Unavailable,
} from "./_impls.ts";
import { FetchBlobClient, fetchSharedKey } from "./_fetch.ts";
import { compare, type Contender, type Measurement, type Sample } from "./_compare.ts";
import {
  cpuMs,
  formatBytes,
  formatNumber,
  GiB,
  KiB,
  median,
  MiB,
  pool,
  round,
  RssSampler,
  type RuntimeInfo,
  runtimeInfo,
  table,
} from "./_lib.ts";

// ---- options --------------------------------------------------------------------

interface Options {
  quick: boolean;
  large: boolean;
  peers: "none" | "all";
  reps: number;
  streamSize: number;
  largeSize: number;
  listCount: number;
  smallOps: number;
  smallSize: number;
  smallConcurrency: number;
  chunkSize: number;
  blockSize: number;
  concurrency: number;
  out: string;
  /** Cases to run (`upload`, `download`, `list`, `small`); all when empty. */
  only: Set<string>;
}

const USAGE =
  `Usage: deno task bench [--quick] [--large] [--peers=none|all] [--reps=N] [--chunk=KiB] [--out=FILE]
  --quick        smoke run: 32 MiB streams, 1,000 blobs listed, 200 small operations, 3 repetitions
  --large        only the memory comparison: peak RSS growth while streaming 1 GiB up and down
  --peers=none   skip opendal, unstorage and Flystorage (default: all)
  --reps=N       repetitions per comparison (default and minimum 3)
  --chunk=KiB    size of the generated upload chunks, 64 to 1024 (default 256)
  --out=FILE     results file (default bench/results.json; runs are merged by runtime and mode)
  --only=LIST    comma-separated cases to run: upload, download, list, small (default: all)`;

function parseOptions(argv: string[]): Options {
  const flags = new Map<string, string>();
  for (const arg of argv) {
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!match) throw new Error(`Unknown argument "${arg}"\n${USAGE}`);
    flags.set(match[1]!, match[2] ?? "true");
  }
  for (const name of flags.keys()) {
    if (!["quick", "large", "peers", "reps", "chunk", "out", "only", "help"].includes(name)) {
      throw new Error(`Unknown flag --${name}\n${USAGE}`);
    }
  }
  if (flags.has("help")) {
    console.log(USAGE);
    process.exit(0);
  }
  const quick = flags.has("quick");
  const peersFlag = flags.get("peers") ?? "all";
  if (peersFlag !== "none" && peersFlag !== "all") throw new Error(`--peers must be none or all`);
  const reps = flags.has("reps") ? Number(flags.get("reps")) : 0;
  if (flags.has("reps") && (!Number.isInteger(reps) || reps < 3)) {
    throw new Error("--reps must be an integer of at least 3");
  }
  const chunkKiB = Number(flags.get("chunk") ?? 256);
  if (!Number.isInteger(chunkKiB) || chunkKiB < 64 || chunkKiB > 1024) {
    throw new Error("--chunk must be 64 to 1024 (KiB)");
  }
  const only = new Set((flags.get("only") ?? "").split(",").filter((x) => x !== ""));
  for (const name of only) {
    if (!["upload", "download", "list", "small"].includes(name)) {
      throw new Error(`--only takes upload, download, list and small, not "${name}"`);
    }
  }
  return {
    quick,
    only,
    large: flags.has("large"),
    peers: peersFlag,
    reps,
    streamSize: quick ? 32 * MiB : 256 * MiB,
    largeSize: quick ? 256 * MiB : GiB,
    listCount: quick ? 1_000 : 10_000,
    smallOps: quick ? 200 : 2_000,
    smallSize: KiB,
    smallConcurrency: 16,
    chunkSize: chunkKiB * KiB,
    blockSize: 8 * MiB,
    concurrency: 4,
    out: flags.get("out") ?? fileURLToPath(new URL("./results.json", import.meta.url)),
  };
}

/** Whether `--only` selects the case (no `--only` runs them all). */
function runs(opts: Options, name: string): boolean {
  return opts.only.size === 0 || opts.only.has(name);
}

// ---- measurements ---------------------------------------------------------------

/** Times `body`, sampling RSS and CPU. */
async function timed(
  bytesOrOps: number,
  perSecond: (n: number, s: number) => number,
  body: () => Promise<unknown>,
): Promise<Sample> {
  const sampler = new RssSampler(20);
  const cpu0 = cpuMs();
  const t0 = performance.now();
  await body();
  const seconds = (performance.now() - t0) / 1000;
  const cpu1 = cpuMs();
  const rssGrowth = sampler.stop();
  return {
    value: perSecond(bytesOrOps, seconds),
    seconds,
    cpuMs: cpu0 !== undefined && cpu1 !== undefined ? cpu1 - cpu0 : undefined,
    rssGrowth,
  };
}

const mibPerSecond = (bytes: number, seconds: number) => bytes / MiB / seconds;
const perSecond = (n: number, seconds: number) => n / seconds;

// ---- cases ----------------------------------------------------------------------

async function deleteQuietly(container: ContainerClient, key: string): Promise<void> {
  await container.getBlobClient(key).deleteIfExists().catch(() => {});
}

async function streamCases(
  env: BenchEnv,
  opts: Options,
  admin: ContainerClient,
  contenders: StreamContender[],
): Promise<Measurement[]> {
  const size = opts.streamSize;
  const reps = opts.reps || 3;
  const out: Measurement[] = [];

  // Warm-up: connections, JIT, lazy module loading; not timed.
  for (const c of contenders) {
    await c.upload(`warm-${c.id}.bin`, 2 * env.blockSize + MiB);
    await c.download(`warm-${c.id}.bin`);
    await deleteQuietly(admin, `warm-${c.id}.bin`);
  }

  if (runs(opts, "upload")) {
    console.log(`(a) streamed upload of ${formatBytes(size)}, ${reps} repetitions`);
    out.push(
      ...(await compare(
        "upload",
        "MiB/s",
        contenders.map((c) => ({
          id: c.id,
          label: c.label,
          notes: c.notes,
          run: (rep) => timed(size, mibPerSecond, () => c.upload(`up-${c.id}-${rep}.bin`, size)),
          after: (rep) => deleteQuietly(admin, `up-${c.id}-${rep}.bin`),
        })),
        reps,
      )),
    );
  }
  if (!runs(opts, "download")) return out;

  console.log(
    `(b) streamed download of ${formatBytes(size)} into a null sink, ${reps} repetitions`,
  );
  // Flat keys: unstorage maps "/" in keys to ":".
  const source = "down-source.bin";
  await rawSdk(env).upload(source, size);
  out.push(
    ...(await compare(
      "download",
      "MiB/s",
      contenders.map((c) => ({
        id: c.id,
        label: c.label,
        notes: c.notes,
        run: async () => {
          let read = 0;
          const sample = await timed(size, mibPerSecond, async () => {
            read = await c.download(source);
          });
          if (read !== size) throw new Error(`read ${read} of ${size} bytes`);
          return sample;
        },
      })),
      reps,
    )),
  );
  await deleteQuietly(admin, source);
  return out;
}

async function listCase(
  env: BenchEnv,
  opts: Options,
  admin: ContainerClient,
  withNodeFetch: boolean,
): Promise<Measurement[]> {
  const count = opts.listCount;
  const reps = opts.reps || 3;
  console.log(`(c) recursive listing of ${count} blobs, ${reps} repetitions`);
  const body = Buffer.from("0123456789abcdef");
  const t0 = performance.now();
  await pool(count, 64, async (i) => {
    await admin.getBlockBlobClient(`list/d${i % 100}/f${i}.txt`).upload(body, body.length);
  });
  console.log(`  created ${count} blobs in ${round((performance.now() - t0) / 1000, 1)} s`);

  const { store, backend } = ourStore(env, "list");
  const raw = rawContainer(env);
  const viaFetch = new FetchBlobClient(env);
  const listOurs = async () => {
    let n = 0;
    for await (const _ of store.listFiles("", { recursive: true })) n++;
    if (n !== count) throw new Error(`listed ${n} of ${count}`);
  };
  const listRaw = async () => {
    let n = 0;
    for await (const _ of raw.listBlobsFlat({ prefix: "list/" })) n++;
    if (n !== count) throw new Error(`listed ${n} of ${count}`);
  };
  const listFetch = async () => {
    let n = 0;
    for await (const _ of viaFetch.list("list/")) n++;
    if (n !== count) throw new Error(`listed ${n} of ${count}`);
  };
  const viaNodeFetch = withNodeFetch ? ourStoreNodeFetch(env, "list") : undefined;
  const listNodeFetch = async () => {
    let n = 0;
    for await (const _ of viaNodeFetch!.store.listFiles("", { recursive: true })) n++;
    if (n !== count) throw new Error(`listed ${n} of ${count}`);
  };
  await listOurs();
  await listRaw();
  await listFetch();
  if (viaNodeFetch) await listNodeFetch();
  try {
    return await compare("list", "items/s", [
      {
        id: "remote-store",
        label: "store.listFiles(recursive)",
        notes: ["lists with includeMetadata (FileInfo.metadata), maxPageSize 5000"],
        run: () => timed(count, perSecond, listOurs),
      },
      {
        id: "raw-sdk",
        label: "containerClient.listBlobsFlat()",
        run: () => timed(count, perSecond, listRaw),
      },
      {
        id: "fetch-sharedkey",
        label: "fetch List Blobs + fast-xml-parser",
        notes: ["pages of 5000 read by src/backends/azure/_xml.ts (name, size, ETag, dates)"],
        run: () => timed(count, perSecond, listFetch),
      },
      ...(viaNodeFetch
        ? [{
          id: "store-node-fetch",
          label: "store.listFiles(recursive), node fetch",
          notes: ["AzureBackend({ fetch: createNodeFetch() })"],
          run: () => timed(count, perSecond, listNodeFetch),
        }]
        : []),
    ], reps);
  } finally {
    await backend.close();
    await viaNodeFetch?.close();
  }
}

async function smallCase(
  env: BenchEnv,
  opts: Options,
  withNodeFetch: boolean,
): Promise<Measurement[]> {
  const count = opts.smallOps;
  const limit = opts.smallConcurrency;
  const reps = opts.reps || 3;
  console.log(
    `(d) ${count} x ${
      formatBytes(opts.smallSize)
    } write, then read, at concurrency ${limit}, ${reps} repetitions`,
  );
  const payload = new Uint8Array(opts.smallSize);
  crypto.getRandomValues(payload);
  const payloadBuffer = Buffer.from(payload);
  const { store, backend } = ourStore(env, "small/ours");
  const raw = rawContainer(env);
  const viaFetch = new FetchBlobClient(env);

  const phases = new Map<string, { write: number[]; read: number[] }>();
  const record = (id: string, write: number, read: number) => {
    const entry = phases.get(id) ?? { write: [], read: [] };
    entry.write.push(write);
    entry.read.push(read);
    phases.set(id, entry);
  };

  interface SmallOps {
    write(rep: number, i: number): Promise<unknown>;
    read(rep: number, i: number): Promise<void>;
  }
  const oursOps: SmallOps = {
    write: (rep: number, i: number) => store.write(`${rep}/${i}.bin`, payload, { overwrite: true }),
    read: async (rep: number, i: number) => {
      const bytes = await store.readBytes(`${rep}/${i}.bin`);
      if (bytes.byteLength !== payload.byteLength) throw new Error("short read");
    },
  };
  const rawOps: SmallOps = {
    write: (rep: number, i: number) =>
      raw.getBlockBlobClient(`small/raw/${rep}/${i}.bin`).upload(
        payloadBuffer,
        payloadBuffer.length,
      ),
    read: async (rep: number, i: number) => {
      const response = await raw.getBlobClient(`small/raw/${rep}/${i}.bin`).download();
      const chunks: Buffer[] = [];
      for await (const chunk of response.readableStreamBody!) chunks.push(chunk as Buffer);
      if (Buffer.concat(chunks).length !== payload.byteLength) throw new Error("short read");
    },
  };
  const viaNodeFetch = withNodeFetch ? ourStoreNodeFetch(env, "small/node-fetch") : undefined;
  const nodeFetchOps: SmallOps | undefined = viaNodeFetch && {
    write: (rep: number, i: number) =>
      viaNodeFetch.store.write(`${rep}/${i}.bin`, payload, { overwrite: true }),
    read: async (rep: number, i: number) => {
      const bytes = await viaNodeFetch.store.readBytes(`${rep}/${i}.bin`);
      if (bytes.byteLength !== payload.byteLength) throw new Error("short read");
    },
  };
  const fetchOps: SmallOps = {
    write: (rep: number, i: number) => viaFetch.putBlob(`small/fetch/${rep}/${i}.bin`, payload),
    read: async (rep: number, i: number) => {
      const bytes = await viaFetch.getBytes(`small/fetch/${rep}/${i}.bin`);
      if (bytes.byteLength !== payload.byteLength) throw new Error("short read");
    },
  };
  const contender = (id: string, label: string, ops: SmallOps): Contender => ({
    id,
    label,
    async run(rep) {
      const cpu0 = cpuMs();
      const t0 = performance.now();
      await pool(count, limit, (i) => ops.write(rep, i).then(() => {}));
      const t1 = performance.now();
      await pool(count, limit, (i) => ops.read(rep, i));
      const t2 = performance.now();
      const cpu1 = cpuMs();
      record(id, count / ((t1 - t0) / 1000), count / ((t2 - t1) / 1000));
      const seconds = (t2 - t0) / 1000;
      return {
        value: (2 * count) / seconds,
        seconds,
        cpuMs: cpu0 !== undefined && cpu1 !== undefined ? cpu1 - cpu0 : undefined,
      };
    },
  });

  // Warm-up: fill the keep-alive pools.
  await pool(limit * 2, limit, (i) => oursOps.write(-1, i).then(() => oursOps.read(-1, i)));
  await pool(limit * 2, limit, (i) => rawOps.write(-1, i).then(() => rawOps.read(-1, i)));
  await pool(limit * 2, limit, (i) => fetchOps.write(-1, i).then(() => fetchOps.read(-1, i)));
  if (nodeFetchOps) {
    await pool(
      limit * 2,
      limit,
      (i) => nodeFetchOps.write(-1, i).then(() => nodeFetchOps.read(-1, i)),
    );
  }

  try {
    const combined = await compare("small", "ops/s", [
      contender("remote-store", "store.write + store.readBytes", oursOps),
      contender("raw-sdk", "upload + download (drained)", rawOps),
      contender("fetch-sharedkey", "fetch Put Blob + Get Blob (arrayBuffer)", fetchOps),
      ...(nodeFetchOps
        ? [contender("store-node-fetch", "store.write + store.readBytes, node fetch", nodeFetchOps)]
        : []),
    ], reps);
    const out: Measurement[] = [...combined];
    const rawCombined = combined.find((m) => m.impl === "raw-sdk");
    for (const phase of ["write", "read"] as const) {
      const rawMedian = rawCombined && !rawCombined.error && phases.get("raw-sdk")
        ? median(phases.get("raw-sdk")![phase])
        : NaN;
      for (const m of combined) {
        if (m.error) continue; // failed: not ranked in the phases either
        const values = (phases.get(m.impl)?.[phase] ?? []).map((v) => round(v, 1));
        if (values.length === 0) continue;
        const med = round(median(values), 1);
        out.push({
          case: `small-${phase}`,
          impl: m.impl,
          label: m.label,
          unit: "ops/s",
          values,
          median: med,
          seconds: [],
          ratioToRaw: Number.isNaN(rawMedian) ? undefined : round(med / rawMedian, 3),
        });
      }
    }
    return out;
  } finally {
    await backend.close();
    await viaNodeFetch?.close();
  }
}

// ---- memory (child processes) ----------------------------------------------------

interface ChildResult {
  peakGrowth: number;
  baseline: number;
  seconds: number;
  gc: boolean;
}

/** The command that runs a TypeScript file on the current runtime. */
function runtimeCommand(runtime: RuntimeInfo, file: string): { cmd: string; args: string[] } {
  if (runtime.name === "deno") {
    const deno = (globalThis as unknown as { Deno: { execPath(): string } }).Deno;
    return { cmd: deno.execPath(), args: ["run", "-A", "--v8-flags=--expose-gc", file] };
  }
  if (runtime.name === "node") return { cmd: process.execPath, args: ["--expose-gc", file] };
  return { cmd: process.execPath, args: [file] };
}

function runChild(runtime: RuntimeInfo, config: Record<string, unknown>): Promise<ChildResult> {
  const file = fileURLToPath(new URL("./_memory_child.ts", import.meta.url));
  const { cmd, args } = runtimeCommand(runtime, file);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: fileURLToPath(new URL("../", import.meta.url)),
      env: { ...process.env, BENCH_CHILD: JSON.stringify(config) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8");
    child.stderr!.setEncoding("utf8");
    child.stdout!.on("data", (chunk: string) => (stdout += chunk));
    child.stderr!.on("data", (chunk: string) => (stderr += chunk));
    child.once("error", reject);
    child.once("exit", (code) => {
      const line = stdout.split("\n").find((l) => l.startsWith("RESULT "));
      if (code === 0 && line) resolve(JSON.parse(line.slice(7)) as ChildResult);
      else reject(new Error(`child exited with ${code}: ${(stderr || stdout).trim().slice(-500)}`));
    });
  });
}

async function memoryCase(
  env: BenchEnv,
  opts: Options,
  runtime: RuntimeInfo,
  admin: ContainerClient,
): Promise<Measurement[]> {
  const size = opts.largeSize;
  const reps = opts.reps || 3;
  console.log(
    `(e) peak RSS growth streaming ${
      formatBytes(size)
    } (fresh ${runtime.name} process per repetition), ${reps} repetitions`,
  );
  const impls = [
    { id: "remote-store", label: "remote-store Store" },
    { id: "raw-sdk", label: "raw @azure/storage-blob" },
    { id: "fetch-sharedkey", label: "plain fetch + Shared Key" },
  ];
  const child = (op: string, impl: string, key: string) => ({ env, op, impl, key, size });
  const memoryContender = (op: "upload" | "download", impl: { id: string; label: string }) => ({
    id: impl.id,
    label: impl.label,
    async run(rep: number): Promise<Sample> {
      const key = op === "upload" ? `mem/${impl.id}/${rep}.bin` : "mem/source.bin";
      const result = await runChild(runtime, child(op, impl.id, key));
      return {
        value: result.peakGrowth / MiB,
        seconds: result.seconds,
        rssGrowth: undefined,
      };
    },
    after: op === "upload"
      ? (rep: number) => deleteQuietly(admin, `mem/${impl.id}/${rep}.bin`)
      : undefined,
  });
  const out: Measurement[] = [];
  for (const op of ["upload", "download"] as const) {
    if (!runs(opts, op)) continue;
    if (op === "download") await rawSdk(env).upload("mem/source.bin", size);
    out.push(
      ...(await compare(
        `memory-${op}`,
        "MiB",
        impls.map((i) => memoryContender(op, i)),
        reps,
      )),
    );
  }
  await deleteQuietly(admin, "mem/source.bin");
  for (const m of out) {
    m.throughputMiBs = m.seconds.map((s) => round(size / MiB / s, 1));
    m.size = size;
  }
  return out;
}

// ---- report -----------------------------------------------------------------------

interface Target {
  name: string;
  case: string;
  /**
   * "ratio": ours / raw >= bound; "max": ours median <= bound (MiB); "peer":
   * ours median above the peer's wherever the peer is ahead of the raw SDK.
   */
  kind: "ratio" | "max" | "peer";
  bound: number;
  /** The peer of a "peer" target. */
  peer?: string;
}

function targets(opts: Options): Target[] {
  const memoryBudget = (opts.blockSize * (opts.concurrency + 1) + 32 * MiB) / MiB;
  return [
    // The targets of issue 12.
    { name: "upload >= 1.0x raw SDK", case: "upload", kind: "ratio", bound: 1.0 },
    { name: "download >= 1.0x raw SDK", case: "download", kind: "ratio", bound: 1.0 },
    {
      name: "download ahead of OpenDAL where OpenDAL is ahead of the raw SDK",
      case: "download",
      kind: "peer",
      bound: 1.0,
      peer: "opendal",
    },
    { name: "listing >= 1.0x raw SDK", case: "list", kind: "ratio", bound: 1.0 },
    { name: "small operations >= 1.0x raw SDK", case: "small", kind: "ratio", bound: 1.0 },
    {
      name: `memory growth, upload <= ${memoryBudget} MiB`,
      case: "memory-upload",
      kind: "max",
      bound: memoryBudget,
    },
    {
      name: `memory growth, download <= ${memoryBudget} MiB`,
      case: "memory-download",
      kind: "max",
      bound: memoryBudget,
    },
  ];
}

interface Verdict {
  target: string;
  status: "PASS" | "MISS" | "n/a";
  detail: string;
}

function verdicts(opts: Options, measurements: Measurement[]): Verdict[] {
  const out: Verdict[] = [];
  for (const t of targets(opts)) {
    const ourM = measurements.find((m) => m.case === t.case && m.impl === "remote-store");
    const rawM = measurements.find((m) => m.case === t.case && m.impl === "raw-sdk");
    if (!ourM) continue;
    if (ourM.error) {
      out.push({ target: t.name, status: "MISS", detail: `remote-store failed: ${ourM.error}` });
      continue;
    }
    if (ourM.values.length === 0) continue;
    if (t.kind === "peer") {
      const peerM = measurements.find((m) => m.case === t.case && m.impl === t.peer);
      if (!peerM || peerM.error || peerM.ratioToRaw === undefined) {
        out.push({ target: t.name, status: "n/a", detail: `${t.peer} not measured or failed` });
      } else if (peerM.ratioToRaw <= t.bound) {
        out.push({
          target: t.name,
          status: "n/a",
          detail: `${t.peer} is not ahead of the raw SDK (${peerM.ratioToRaw.toFixed(3)}x)`,
        });
      } else {
        const pass = ourM.median > peerM.median;
        out.push({
          target: t.name,
          status: pass ? "PASS" : "MISS",
          detail: `${formatNumber(ourM.median)} vs ${t.peer} ${
            formatNumber(peerM.median)
          } ${ourM.unit} (${t.peer} ${peerM.ratioToRaw.toFixed(3)}x the raw SDK)`,
        });
      }
      continue;
    }
    if (t.kind === "ratio") {
      if (!rawM || rawM.error || rawM.values.length === 0 || ourM.ratioToRaw === undefined) {
        out.push({ target: t.name, status: "n/a", detail: "raw SDK failed" });
        continue;
      }
      const ratio = ourM.ratioToRaw;
      const pass = ratio >= t.bound;
      const gap = t.bound * rawM.median - ourM.median;
      out.push({
        target: t.name,
        status: pass ? "PASS" : "MISS",
        detail:
          `${ratio.toFixed(3)}x (${formatNumber(ourM.median)} vs ${
            formatNumber(rawM.median)
          } ${ourM.unit})` +
          (pass
            ? ""
            : `; short by ${formatNumber(gap)} ${ourM.unit} (${
              formatNumber((t.bound - ratio) * 100)
            } points)`),
      });
    } else {
      const pass = ourM.median <= t.bound;
      const rawText = rawM && !rawM.error && rawM.values.length > 0
        ? `; raw SDK ${formatNumber(rawM.median)} MiB`
        : "";
      out.push({
        target: t.name,
        status: pass ? "PASS" : "MISS",
        detail:
          `median ${formatNumber(ourM.median)} MiB (max ${
            formatNumber(Math.max(...ourM.values))
          })${rawText}` +
          (pass ? "" : `; over by ${formatNumber(ourM.median - t.bound)} MiB`),
      });
    }
  }
  return out;
}

const CASE_TITLES: Record<string, string> = {
  upload: "(a) upload",
  download: "(b) download",
  list: "(c) list",
  small: "(d) small w+r",
  "small-write": "(d) small write",
  "small-read": "(d) small read",
  "memory-upload": "(e) RSS upload",
  "memory-download": "(e) RSS download",
};

function report(measurements: Measurement[]): string {
  const rows = measurements.map((m) => {
    const mem = m.rssGrowthMiB && m.rssGrowthMiB.length > 0
      ? `${formatNumber(median(m.rssGrowthMiB))} MiB`
      : m.throughputMiBs
      ? `${formatNumber(median(m.throughputMiBs as number[]))} MiB/s`
      : "";
    const cpu = m.cpuMs && m.cpuMs.length > 0 ? `${Math.round(median(m.cpuMs))} ms` : "";
    return [
      CASE_TITLES[m.case] ?? m.case,
      m.impl,
      m.error ? "FAILED" : `${formatNumber(m.median)} ${m.unit}`,
      m.ratioToRaw === undefined ? "" : `${m.ratioToRaw.toFixed(2)}x`,
      m.values.length > 0
        ? `${formatNumber(Math.min(...m.values))}..${formatNumber(Math.max(...m.values))}`
        : "",
      cpu,
      mem,
    ];
  });
  return table(
    ["case", "implementation", "median", "vs raw", "range", "cpu (median)", "rss growth / speed"],
    rows,
  );
}

function machine(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? "unknown",
    cores: cpus.length,
    totalMemoryGiB: round(os.totalmem() / GiB, 1),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
  };
}

function writeResults(path: string, key: string, run: Record<string, unknown>): void {
  let file: { schema: number; runs: Record<string, unknown> } = { schema: 1, runs: {} };
  if (existsSync(path)) {
    try {
      const parsed = JSON.parse(readFileSync(path, "utf8"));
      if (parsed && parsed.schema === 1 && typeof parsed.runs === "object") file = parsed;
    } catch {
      // start over
    }
  }
  file.runs[key] = run;
  writeFileSync(path, JSON.stringify(file, null, 2) + "\n");
}

/** The Node that runs Azurite, and how it was found. */
interface AzuriteNode {
  path: string;
  version: string;
  how: string;
}

/**
 * Azurite always runs on Node 24 (through `npx --yes node@24`), whichever
 * runtime runs the bench, so that absolute figures compare across runtimes
 * (Azurite on Node 24 did small operations 1.2x faster than on Node 20).
 * When npx cannot provide it, the system `node`, said so in the output.
 */
function azuriteNode(): AzuriteNode {
  const npx = process.platform === "win32" ? "npx.cmd" : "npx";
  const pinned = spawnSync(
    npx,
    ["--yes", "node@24", "-p", "process.execPath + '\\n' + process.version"],
    { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
  );
  const lines = (pinned.stdout ?? "").trim().split("\n");
  if (pinned.status === 0 && lines.length === 2 && lines[1]!.startsWith("v24.")) {
    return { path: lines[0]!, version: lines[1]!, how: "npx --yes node@24" };
  }
  const system = spawnSync("node", ["-p", "process.version"], { encoding: "utf8" });
  const why = (pinned.stderr || pinned.error?.message || "no output").trim().split("\n").at(-1);
  return {
    path: "node",
    version: (system.stdout ?? "").trim() || "unknown",
    how: `system node from PATH (npx --yes node@24 failed: ${why})`,
  };
}

// ---- main -------------------------------------------------------------------------

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const runtime = runtimeInfo();
  const base = opts.large ? (opts.quick ? "large-quick" : "large") : opts.quick ? "quick" : "full";
  // Partial runs get their own results entry, so they never replace a full one.
  const mode = opts.only.size > 0 ? `${base}-only-${[...opts.only].join("+")}` : base;
  console.log(
    `--runtime ${runtime.name} ${runtime.version}${runtime.v8 ? ` (V8 ${runtime.v8})` : ""}; ` +
      `mode ${mode}; peers ${opts.peers}; chunk ${formatBytes(opts.chunkSize)}; ` +
      `blockSize ${formatBytes(opts.blockSize)}; concurrency ${opts.concurrency}`,
  );
  const m = machine();
  const loadBefore = os.loadavg().map((x) => round(x, 2));
  console.log(
    `machine: ${m.cpu}, ${m.cores} cores, ${m.totalMemoryGiB} GiB, ${m.platform}; ` +
      `load average ${loadBefore.join(" ")}`,
  );
  if (loadBefore[0]! > Number(m.cores) * 0.5) {
    console.log(
      "warning: the machine is busy; Azurite shares the CPU with this process, expect noisy numbers",
    );
  }

  const started = Date.now();
  let az: Azurite | undefined;
  const measurements: Measurement[] = [];
  let unavailable: Unavailable[] = [];
  const contenders: StreamContender[] = [];
  let admin: ContainerClient | undefined;
  const serverNode = azuriteNode();
  console.log(`azurite runs on Node ${serverNode.version} (${serverNode.how}): ${serverNode.path}`);
  try {
    az = await startAzurite({ node: serverNode.path });
    const env: BenchEnv = {
      url: az.url,
      accountName: az.accountName,
      accountKey: az.accountKey,
      connectionString: az.connectionString,
      container: randomContainerName("bench"),
      blockSize: opts.blockSize,
      concurrency: opts.concurrency,
      chunkSize: opts.chunkSize,
    };
    admin = rawContainer(env);
    await admin.create();
    console.log(`azurite ${az.url}, container ${env.container}\n`);

    if (opts.large) {
      measurements.push(...(await memoryCase(env, opts, runtime, admin)));
    } else {
      contenders.push(ours(env), rawSdk(env), fetchSharedKey(env));
      // The ./node transport is for Node (Deno and Bun do better with their own fetch).
      if (runtime.name === "node") contenders.push(oursNodeFetch(env));
      if (opts.peers === "all") {
        const loaded = await peers(env);
        contenders.push(...loaded.contenders);
        unavailable = loaded.unavailable;
        for (const u of unavailable) console.log(`peer ${u.id} unavailable: ${u.reason}`);
      }
      if (runs(opts, "upload") || runs(opts, "download")) {
        measurements.push(...(await streamCases(env, opts, admin, contenders)));
      }
      const withNodeFetch = runtime.name === "node";
      if (runs(opts, "list")) {
        measurements.push(...(await listCase(env, opts, admin, withNodeFetch)));
      }
      if (runs(opts, "small")) measurements.push(...(await smallCase(env, opts, withNodeFetch)));
    }
  } finally {
    for (const c of contenders) await c.close().catch(() => {});
    if (admin) await admin.deleteIfExists().catch(() => {});
    await az?.stop();
  }

  const verdictList = verdicts(opts, measurements);
  console.log(`\nResults (${runtime.name} ${runtime.version}, ${mode}, medians):\n`);
  console.log(report(measurements));
  const notes = new Map<string, Set<string>>();
  for (const x of measurements) {
    for (const n of x.notes ?? []) notes.set(x.impl, (notes.get(x.impl) ?? new Set()).add(n));
  }
  if (notes.size > 0 || unavailable.length > 0) console.log("\nNotes:");
  for (const [impl, list] of notes) for (const n of list) console.log(`  ${impl}: ${n}`);
  for (const u of unavailable) {
    console.log(`  ${u.id}: unavailable on ${runtime.name}: ${u.reason}`);
  }
  for (const x of measurements) {
    if (x.error) console.log(`  ${x.impl} failed in ${x.case}: ${x.error}`);
  }
  console.log("\nTargets:");
  for (const v of verdictList) console.log(`  ${v.status.padEnd(4)}  ${v.target}: ${v.detail}`);

  const seconds = round((Date.now() - started) / 1000, 1);
  writeResults(opts.out, `${runtime.name}/${mode}`, {
    runtime,
    mode,
    date: new Date().toISOString(),
    durationSeconds: seconds,
    versions: packageVersions(),
    azuriteRuntime: { node: serverNode.version, how: serverNode.how },
    machine: {
      ...m,
      loadAverageBefore: loadBefore,
      loadAverageAfter: os.loadavg().map((x) => round(x, 2)),
    },
    settings: {
      streamSize: opts.streamSize,
      largeSize: opts.largeSize,
      listCount: opts.listCount,
      smallOps: opts.smallOps,
      smallSize: opts.smallSize,
      smallConcurrency: opts.smallConcurrency,
      chunkSize: opts.chunkSize,
      blockSize: opts.blockSize,
      concurrency: opts.concurrency,
      peers: opts.peers,
      order: "interleaved; order rotated by one each repetition",
    },
    unavailable,
    measurements,
    targets: verdictList,
  });
  console.log(`\n${seconds} s; results merged into ${opts.out} as "${runtime.name}/${mode}"`);
}

await main().catch((error) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
// Peers' keep-alive sockets and native thread pools would keep the process alive.
process.exit(process.exitCode ?? 0);
