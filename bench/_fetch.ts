/**
 * The "plain fetch with Shared Key" contender: the runtime's own `fetch`,
 * requests signed by `src/backends/azure/_shared_key.ts` (Web Crypto), XML
 * read and written by `src/backends/azure/_xml.ts` (fast-xml-parser), and
 * nothing else: no retries, no resume, no
 * error mapping. It is the practical ceiling for a fetch-based transport on
 * each runtime, measured beside the raw SDK and the peers.
 *
 * @module
 */

import { SharedKeySigner } from "../src/backends/azure/_shared_key.ts";
import { blockListXml, type ListedBlob, parseBlobList } from "../src/backends/azure/_xml.ts";
import type { BenchEnv, StreamContender } from "./_impls.ts";
import { generatedWebStream, MiB } from "./_lib.ts";

/** The service version the requests ask for (Azurite runs with --skipApiVersionCheck). */
const VERSION = "2025-01-05";

/** Blob requests over `fetch`, signed with the account key. */
export class FetchBlobClient {
  readonly #env: BenchEnv;
  readonly #signer: SharedKeySigner;

  constructor(env: BenchEnv) {
    this.#env = env;
    this.#signer = new SharedKeySigner(env.accountName, env.accountKey);
  }

  /**
   * Sends one signed request for blob `key` (the container itself when
   * empty); a status outside 2xx/304 throws with the service's error code.
   */
  async send(
    method: string,
    key: string,
    query: Record<string, string> = {},
    headers: Record<string, string> = {},
    body?: Uint8Array<ArrayBuffer>,
  ): Promise<Response> {
    const path = key === "" ? "" : "/" + key.split("/").map(encodeURIComponent).join("/");
    const search = Object.entries(query).map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
      .join("&");
    const url = `${this.#env.url}/${this.#env.container}${path}${search ? "?" + search : ""}`;
    const requestHeaders = new Headers({ "x-ms-version": VERSION, ...headers });
    if (body) requestHeaders.set("content-length", String(body.byteLength));
    await this.#signer.sign({ method, url, headers: requestHeaders });
    const response = await fetch(url, { method, headers: requestHeaders, body });
    if (!response.ok && response.status !== 304) {
      await response.body?.cancel();
      throw new Error(
        `${method} ${key || "(container)"}: HTTP ${response.status} ${
          response.headers.get("x-ms-error-code") ?? ""
        }`,
      );
    }
    return response;
  }

  /** Put Blob: one request with the whole body. */
  async putBlob(key: string, body: Uint8Array<ArrayBuffer>): Promise<void> {
    const response = await this.send("PUT", key, {}, { "x-ms-blob-type": "BlockBlob" }, body);
    await response.body?.cancel();
  }

  /** Get Blob, the whole body in memory. */
  async getBytes(key: string): Promise<Uint8Array> {
    return new Uint8Array(await (await this.send("GET", key)).arrayBuffer());
  }

  /**
   * Uploads `stream` as blocks of `blockSize` bytes with at most
   * `concurrency` Put Block requests in flight, then Put Block List.
   * Memory: the blocks in flight plus the one being filled.
   */
  async uploadStream(key: string, stream: ReadableStream<Uint8Array>): Promise<void> {
    const { blockSize, concurrency } = this.#env;
    const ids: string[] = [];
    const inFlight = new Set<Promise<void>>();
    let failure: unknown;
    const stage = (bytes: Uint8Array<ArrayBuffer>) => {
      const id = btoa(String(ids.length).padStart(6, "0"));
      ids.push(id);
      const put = this.send("PUT", key, { comp: "block", blockid: id }, {}, bytes)
        .then(async (response) => {
          await response.body?.cancel();
        }, (error) => {
          failure ??= error;
        })
        .finally(() => inFlight.delete(put));
      inFlight.add(put);
    };
    let block = new Uint8Array(blockSize);
    let filled = 0;
    const reader = stream.getReader();
    try {
      while (true) {
        const { done, value } = await reader.read();
        if (done) break;
        let offset = 0;
        while (offset < value.byteLength) {
          const n = Math.min(value.byteLength - offset, blockSize - filled);
          block.set(value.subarray(offset, offset + n), filled);
          filled += n;
          offset += n;
          if (filled < blockSize) continue;
          stage(block);
          block = new Uint8Array(blockSize);
          filled = 0;
          while (inFlight.size >= concurrency) await Promise.race(inFlight);
          if (failure !== undefined) throw failure;
        }
      }
    } catch (error) {
      await reader.cancel(error).catch(() => {});
      await Promise.allSettled(inFlight);
      throw error;
    }
    if (filled > 0 || ids.length === 0) stage(block.subarray(0, filled));
    await Promise.all(inFlight);
    if (failure !== undefined) throw failure;
    const response = await this.send(
      "PUT",
      key,
      { comp: "blocklist" },
      { "content-type": "application/xml" },
      new TextEncoder().encode(blockListXml(ids)),
    );
    await response.body?.cancel();
  }

  /** List Blobs (flat) under `prefix`, every page, parsed into entries. */
  async *list(prefix: string): AsyncGenerator<ListedBlob> {
    let marker = "";
    do {
      const query: Record<string, string> = {
        restype: "container",
        comp: "list",
        prefix,
        maxresults: "5000",
      };
      if (marker !== "") query.marker = marker;
      const page = parseBlobList(await (await this.send("GET", "", query)).text());
      yield* page.blobs;
      marker = page.nextMarker ?? "";
    } while (marker !== "");
  }
}

/** Reads a response body to the end into a reused 1 MiB buffer (BYOB where the runtime has it). */
async function drainBody(
  body: ReadableStream<Uint8Array>,
): Promise<{ bytes: number; byob: boolean }> {
  let reader: ReadableStreamBYOBReader;
  try {
    reader = body.getReader({ mode: "byob" });
  } catch {
    const plain = body.getReader();
    let bytes = 0;
    while (true) {
      const { done, value } = await plain.read();
      if (done) return { bytes, byob: false };
      bytes += value.byteLength;
    }
  }
  let buffer = new Uint8Array(MiB);
  let bytes = 0;
  while (true) {
    const { done, value } = await reader.read(buffer);
    if (done) return { bytes, byob: true };
    bytes += value.byteLength;
    buffer = new Uint8Array(value.buffer);
  }
}

/** The contender for the streamed upload and download cases. */
export function fetchSharedKey(env: BenchEnv): StreamContender {
  const client = new FetchBlobClient(env);
  const notes = [
    "fetch + Web Crypto Shared Key, no SDK: Put Block x blockSize with `concurrency` in flight " +
    "then Put Block List; Get Blob body read to the end",
  ];
  let reported = false;
  return {
    id: "fetch-sharedkey",
    label: "plain fetch + Shared Key",
    notes,
    async upload(key, size) {
      await client.uploadStream(key, generatedWebStream(size, env.chunkSize));
    },
    async download(key) {
      const response = await client.send("GET", key);
      const { bytes, byob } = await drainBody(response.body!);
      if (!reported) {
        notes.push(
          byob
            ? "download: BYOB reader into a reused 1 MiB buffer"
            : "download: default reader (this runtime's fetch body is not a byte stream)",
        );
        reported = true;
      }
      return bytes;
    },
    close: () => Promise.resolve(),
  };
}
