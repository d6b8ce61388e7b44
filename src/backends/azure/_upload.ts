/**
 * Streamed uploads: one Put Blob for content that fits in a block, otherwise
 * staged blocks (at most `concurrency` blocks of `blockSize` bytes in memory)
 * and one Put Block List. Private module.
 *
 * @module
 */

import { isLostBlockList, lostBlocksError, mayBeOwnWrite } from "./_errors.ts";
import * as api from "./_blob_api.ts";
import type { AzureHttp } from "./_http.ts";
import { createHasher, type Hasher, toBase64 } from "../../_checksum.ts";
import { anySignal } from "../../_signals.ts";
import type { HttpAttributes } from "../../types.ts";

/** How to upload one blob whose content is already in memory. */
export interface PutOptions {
  /** MIME type to store. */
  contentType: string;
  /** HTTP attributes to store (`x-ms-blob-cache-control`, ...). */
  attributes?: HttpAttributes;
  /** User metadata. */
  metadata?: Record<string, string>;
  /** When false, the upload is create-only (`If-None-Match: *`). */
  overwrite: boolean;
  /** Upload only if the blob's ETag matches. */
  ifMatch?: string;
  /** Aborts the upload; nothing is committed. */
  signal?: AbortSignal;
  /**
   * Send the MD5 of the content (`Content-MD5`) so that the service refuses
   * bytes damaged on the way (400 `Md5Mismatch`); the blob stores it.
   */
  contentMd5?: boolean;
}

/** Base64 MD5 of bytes. */
export function md5Base64(bytes: Uint8Array): string {
  const hasher = createHasher("md5");
  hasher.update(bytes);
  return toBase64(hasher.digest());
}

/**
 * The metadata name of the per-upload marker of a conditional Put Blob. It
 * is never reported as user metadata (see {@link userMetadata}), and user
 * metadata may not use it.
 */
export const UPLOAD_MARKER = "remotestoreupload";

/** Hex digits of a marker value. */
const MARKER_DIGITS = 32;
/** Azure's limit on the names and values of one blob's metadata, in bytes. */
const MAX_METADATA_BYTES = 8 * 1024;

/**
 * Whether a write can be one Put Blob: unconditional, or with room for the
 * upload marker in the metadata. Otherwise the staged path (whose retried
 * commit recognises its own blocks) keeps a lost answer from failing the write.
 */
export function markerFits(options: PutOptions): boolean {
  if (options.overwrite && options.ifMatch === undefined) return true;
  let bytes = UPLOAD_MARKER.length + MARKER_DIGITS;
  for (const [name, value] of Object.entries(options.metadata ?? {})) {
    bytes += new TextEncoder().encode(name + value).byteLength;
  }
  return bytes <= MAX_METADATA_BYTES;
}

/**
 * Uploads bytes already in memory with one Put Blob (create-only, `ifMatch`,
 * content type and metadata in the same request). Rejects with the transport's
 * error (the caller maps it).
 *
 * A conditional upload (create-only or `ifMatch`) carries a random marker in
 * its metadata: when its first answer was lost and the retry is refused
 * (409/412) because the first attempt was applied, the blob carries this
 * upload's marker and the upload succeeded.
 */
export async function putBlob(
  http: AzureHttp,
  key: string,
  bytes: Uint8Array,
  options: PutOptions,
): Promise<UploadResult> {
  const conditional = !options.overwrite || options.ifMatch !== undefined;
  const marker = conditional ? randomHex(MARKER_DIGITS / 2) : undefined;
  try {
    const response = await api.putBlob(http, key, bytes, {
      signal: options.signal,
      contentType: options.contentType,
      attributes: options.attributes,
      metadata: marker === undefined
        ? options.metadata
        : { ...options.metadata, [UPLOAD_MARKER]: marker },
      conditions: { ifNoneMatch: options.overwrite ? undefined : "*", ifMatch: options.ifMatch },
      contentMd5: options.contentMd5 ? md5Base64(bytes) : undefined,
    });
    return { size: bytes.byteLength, ...response };
  } catch (error) {
    if (marker !== undefined && mayBeOwnWrite(error, "put")) {
      const own = await ownPut(http, key, marker, options.signal);
      if (own) return { size: bytes.byteLength, etag: own.etag };
    }
    throw error;
  }
}

/** The blob's ETag when it carries `marker` (this upload was applied); `undefined` if not. */
async function ownPut(
  http: AzureHttp,
  key: string,
  marker: string,
  signal: AbortSignal | undefined,
): Promise<{ etag?: string } | undefined> {
  try {
    const properties = await api.getBlobProperties(http, key, { signal });
    const found = Object.entries(properties.metadata)
      .find(([name]) => name.toLowerCase() === UPLOAD_MARKER);
    return found?.[1] === marker ? { etag: properties.etag } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Metadata as the caller sees it: names lowercased (Azure treats them
 * case-insensitively; Get Blob Properties returns them lowercased, List
 * Blobs as stored), without this backend's upload marker.
 */
export function userMetadata(
  metadata: Record<string, string> | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(metadata ?? {})) {
    const lower = name.toLowerCase();
    if (lower !== UPLOAD_MARKER) out[lower] = value;
  }
  return out;
}

/** How to upload one blob. */
export interface UploadOptions {
  /** The backend key, for errors (the blob written is the `key` argument). */
  key: string;
  /** Size in bytes when known in advance. */
  size?: number;
  /** Bytes per staged block. */
  blockSize: number;
  /** Blocks in flight (and in memory) at once. */
  concurrency: number;
  /** MIME type to store. */
  contentType: string;
  /** HTTP attributes to store (`x-ms-blob-cache-control`, ...). */
  attributes?: HttpAttributes;
  /** User metadata. */
  metadata?: Record<string, string>;
  /** When false, the upload is create-only (`If-None-Match: *`). */
  overwrite: boolean;
  /** Upload only if the blob's ETag matches. */
  ifMatch?: string;
  /** Aborts the upload; nothing is committed. */
  signal?: AbortSignal;
  /**
   * Send MD5 digests so that the service refuses damaged bytes: `Content-MD5`
   * on Put Blob and on each Put Block (the service checks each block), and
   * the whole content's MD5 on Put Block List (stored as the blob's
   * `Content-MD5`). Costs one MD5 pass over each byte (two on the staged path).
   */
  contentMd5?: boolean;
}

/**
 * What the upload stored: the size, and what the service reported about the
 * new version (a recovered upload whose answer was lost knows only the ETag).
 */
export interface UploadResult extends api.WriteResponse {
  /** Bytes stored. */
  size: number;
}

/** `bytes` random bytes as lowercase hex. */
export function randomHex(bytes: number): string {
  const random = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(random, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Block ids must all have the same length within a blob; a random prefix per
 * upload keeps concurrent uploads of the same blob from sharing block ids.
 */
export function blockId(prefix: string, index: number): string {
  return btoa(`${prefix}-${index.toString().padStart(6, "0")}`);
}

function checkChunk(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  throw new TypeError("Write content chunks must be Uint8Array");
}

/** Reads a web stream into fixed-size buffers, keeping the unread rest of a chunk. */
class BlockReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  #pending: Uint8Array | undefined;
  #done = false;

  constructor(body: ReadableStream<Uint8Array>) {
    this.#reader = body.getReader();
  }

  /** Fills `buffer` as far as the stream allows; returns the bytes written. */
  async fill(buffer: Uint8Array): Promise<number> {
    let filled = 0;
    while (filled < buffer.byteLength) {
      if (this.#pending === undefined) {
        if (this.#done) break;
        const { done, value } = await this.#reader.read();
        if (done) {
          this.#done = true;
          break;
        }
        const chunk = checkChunk(value);
        if (chunk.byteLength === 0) continue;
        this.#pending = chunk;
      }
      const pending = this.#pending;
      const n = Math.min(pending.byteLength, buffer.byteLength - filled);
      buffer.set(n === pending.byteLength ? pending : pending.subarray(0, n), filled);
      filled += n;
      this.#pending = n < pending.byteLength ? pending.subarray(n) : undefined;
    }
    return filled;
  }

  /** Whether the stream has no more bytes (reads ahead one chunk if needed). */
  async atEnd(): Promise<boolean> {
    while (this.#pending === undefined && !this.#done) {
      const { done, value } = await this.#reader.read();
      if (done) this.#done = true;
      else if (value.byteLength > 0) this.#pending = checkChunk(value);
    }
    return this.#pending === undefined;
  }

  cancel(reason: unknown): void {
    this.#pending = undefined;
    void this.#reader.cancel(reason).catch(() => {});
  }

  release(): void {
    try {
      this.#reader.releaseLock();
    } catch {
      // already released
    }
  }
}

/**
 * Uploads a stream. Rejects with the transport's error (the caller maps it), or with
 * `AlreadyExistsError` / `PreconditionFailedError` / `BackendUnavailableError`
 * when a concurrent commit discarded this upload's staged blocks.
 */
export async function uploadStream(
  http: AzureHttp,
  key: string,
  body: ReadableStream<Uint8Array>,
  options: UploadOptions,
): Promise<UploadResult> {
  const { blockSize, concurrency, signal } = options;
  const conditions = {
    ifNoneMatch: options.overwrite ? undefined : "*",
    ifMatch: options.ifMatch,
  };
  const internal = new AbortController();
  const abortSignal = signal ? anySignal([signal, internal.signal]) : internal.signal;
  const reader = new BlockReader(body);
  try {
    const firstSize = options.size !== undefined && options.size <= blockSize
      ? options.size
      : blockSize;
    const first = new Uint8Array(firstSize);
    const firstFilled = await reader.fill(first);
    if (await reader.atEnd() && markerFits(options)) {
      return await putBlob(http, key, first.subarray(0, firstFilled), {
        ...options,
        signal: abortSignal,
      });
    }

    const prefix = randomHex(8);
    const whole: Hasher | undefined = options.contentMd5 ? createHasher("md5") : undefined;
    const ids: string[] = [];
    const free: Uint8Array[] = [];
    const inflight = new Set<Promise<void>>();
    let failure: { error: unknown } | undefined;
    let total = 0;

    const stage = (buffer: Uint8Array, filled: number) => {
      const id = blockId(prefix, ids.length);
      ids.push(id);
      total += filled;
      const block = buffer.subarray(0, filled);
      // Blocks are staged in content order, so the whole digest follows them.
      whole?.update(block);
      const md5 = options.contentMd5 ? md5Base64(block) : undefined;
      const task = api.putBlock(http, key, id, block, abortSignal, md5)
        .then(() => {
          if (buffer.byteLength === blockSize) free.push(buffer);
        }, (error) => {
          if (failure === undefined) {
            failure = { error };
            internal.abort();
          }
        })
        .finally(() => inflight.delete(task));
      inflight.add(task);
    };

    if (firstFilled > 0) stage(first, firstFilled); // empty content commits an empty list
    while (true) {
      // Keep blocks being filled plus blocks in flight within `concurrency`.
      while (inflight.size >= concurrency && failure === undefined) {
        await Promise.race(inflight);
      }
      if (failure !== undefined) break;
      if (await reader.atEnd()) break;
      const buffer = free.pop() ?? new Uint8Array(blockSize);
      const filled = await reader.fill(buffer);
      if (filled === 0) {
        free.push(buffer);
        break;
      }
      stage(buffer, filled);
    }
    await Promise.all(inflight);
    if (failure !== undefined) throw (failure as { error: unknown }).error;
    abortSignal.throwIfAborted();

    try {
      const response = await api.putBlockList(http, key, ids, {
        signal: abortSignal,
        contentType: options.contentType,
        attributes: options.attributes,
        metadata: options.metadata,
        conditions,
        blobContentMd5: whole && toBase64(whole.digest()),
      });
      return { size: total, ...response };
    } catch (error) {
      if (mayBeOwnWrite(error, "commit")) {
        // A retried commit whose first answer was lost finds its own commit in the way.
        const own = await ownCommit(http, key, ids, abortSignal);
        if (own) return { size: total, etag: own.etag };
      }
      if (isLostBlockList(error)) {
        const etag = await api.getBlobProperties(http, key, { signal: options.signal })
          .then((p) => p.etag, () => undefined);
        throw lostBlocksError(options, etag !== undefined, error);
      }
      throw error;
    }
  } catch (error) {
    reader.cancel(signal?.aborted ? signal.reason : error);
    throw error;
  } finally {
    reader.release();
  }
}

/**
 * Whether the blob's committed blocks are exactly this upload's (their ids
 * carry the upload's random prefix), with the blob's ETag; `undefined` if not.
 */
async function ownCommit(
  http: AzureHttp,
  key: string,
  ids: readonly string[],
  signal: AbortSignal,
): Promise<{ etag?: string } | undefined> {
  try {
    const list = await api.getCommittedBlocks(http, key, signal);
    const names = list.ids;
    const ours = names.length === ids.length && names.every((name, i) => name === ids[i]);
    return ours ? { etag: list.etag } : undefined;
  } catch {
    return undefined;
  }
}
