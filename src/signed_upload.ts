/**
 * `putSignedUpload`: uploads a `Blob` (a browser `File`) or bytes with plain
 * `fetch`, using only what `Store.signedUpload` returned. Edge- and
 * browser-safe: no `node:` module, no SDK, no credentials.
 *
 * @module
 */

import type { SignedUpload } from "./backend.ts";
import {
  AlreadyExistsError,
  BackendUnavailableError,
  NotFoundError,
  PermissionDeniedError,
} from "./errors.ts";
import { scrub, signedUploadFailure } from "./backends/azure/_errors.ts";
import {
  RETRYABLE_STATUSES,
  retryAfterMs,
  retryDelay,
  type RetrySettings,
  sleep,
} from "./backends/azure/_retry.ts";

/** Options for {@link putSignedUpload}. */
export interface PutSignedUploadOptions {
  /**
   * Bytes per block when the upload allows blocks (default 8 MiB). A body of
   * at most this size goes in one request; a larger one in blocks (grown when
   * the file would need more blocks than the service allows).
   */
  blockSize?: number;
  /** Blocks in flight at once (default 4). */
  concurrency?: number;
  /** Called with `(loaded, total)` after each request that carried bytes. */
  onProgress?: (loaded: number, total: number) => void;
  /** Aborts the upload; it rejects with the signal's reason. */
  signal?: AbortSignal;
  /** The `fetch` to use (default: the global one). */
  fetch?: typeof fetch;
  /**
   * Attempts per request, including the first (default 3). A block, the
   * commit and a one-request upload that may overwrite are sent again after
   * 408, 429, 5xx or a network failure, with back-off (honouring
   * `Retry-After`); a create-only one-request upload is sent once (a retry
   * after a lost answer would find its own upload and report it as existing).
   */
  maxTries?: number;
}

/** What {@link putSignedUpload} did. */
export interface PutSignedUploadResult {
  /** Bytes uploaded. */
  size: number;
  /** Blocks staged and committed (0: one request). */
  blocks: number;
}

/** The parts of a {@link SignedUpload} the upload uses (a JSON copy will do). */
export type SignedUploadTarget = Pick<SignedUpload, "url" | "method" | "headers" | "blocks">;

const DEFAULT_BLOCK_SIZE = 8 * 1024 * 1024;
const DEFAULT_CONCURRENCY = 4;
/** Back-off between attempts of one request (`maxTries` from the options). */
const RETRY: Omit<RetrySettings, "maxTries"> = { retryDelayMs: 500, maxRetryDelayMs: 10_000 };

/**
 * Uploads `body` with the signed upload `upload`, with nothing but `fetch`:
 * one request when the body fits in one block or the upload allows no blocks
 * (create-only), else blocks staged with the same URL and committed at the end
 * (nothing is visible before the commit). Each request is retried on a
 * transient failure (see `maxTries`); an upload that failed can be repeated
 * with the same signed upload while it is valid.
 *
 * @param upload What `Store.signedUpload` returned (or its JSON copy).
 * @param body The bytes: a `Blob` (a browser `File`), an `ArrayBuffer` or a `Uint8Array`.
 * @param options `blockSize`, `concurrency`, `onProgress`, `signal`, `fetch`, `maxTries`.
 * @returns The size and the number of blocks.
 * @throws {TypeError} When `upload` is not a signed upload or `body` is not a `Blob` or bytes;
 *   when the service refuses the request as invalid.
 * @throws {RangeError} When `blockSize`, `concurrency` or `maxTries` is not a positive integer, or the body
 *   is larger than the service accepts.
 * @throws {AlreadyExistsError} When a create-only upload meets an existing file.
 * @throws {PermissionDeniedError} When the URL is refused (expired, or lacks the permission).
 * @throws {NotFoundError} When the container does not exist.
 * @throws {BackendUnavailableError} When the service cannot be reached or fails.
 *
 * @example Upload a file picked in a browser
 * ```ts ignore
 * import { putSignedUpload } from "@remote-store/remote-store";
 * const upload = await (await fetch("/api/upload-url?name=photo.jpg")).json();
 * const input = document.querySelector("input[type=file]") as HTMLInputElement;
 * await putSignedUpload(upload, input.files![0]!, {
 *   onProgress: (loaded, total) => console.log(`${Math.round((100 * loaded) / total)}%`),
 * });
 * ```
 */
export async function putSignedUpload(
  upload: SignedUploadTarget,
  body: Blob | ArrayBuffer | Uint8Array,
  options: PutSignedUploadOptions = {},
): Promise<PutSignedUploadResult> {
  checkTarget(upload);
  const blob = toBlob(body);
  let blockSize = positiveInteger("blockSize", options.blockSize ?? DEFAULT_BLOCK_SIZE);
  const concurrency = positiveInteger("concurrency", options.concurrency ?? DEFAULT_CONCURRENCY);
  const maxTries = positiveInteger("maxTries", options.maxTries ?? 3);
  const fetchOnce = options.fetch ?? globalThis.fetch;
  const send = (
    url: string,
    method: string,
    headers: Record<string, string>,
    body: Blob | string,
    createOnly: boolean,
  ) => request(fetchOnce, url, method, headers, body, options.signal, createOnly, maxTries);
  const { signal, onProgress } = options;
  signal?.throwIfAborted();
  const total = blob.size;
  const createOnly = upload.headers["if-none-match"] === "*";

  if (upload.blocks === undefined || total <= blockSize) {
    await send(upload.url, upload.method, upload.headers, blob, createOnly);
    onProgress?.(total, total);
    return { size: total, blocks: 0 };
  }

  const { maxBlocks, maxBlockSize } = upload.blocks;
  blockSize = Math.max(blockSize, Math.ceil(total / maxBlocks));
  if (blockSize > maxBlockSize) {
    throw new RangeError(
      `A signed upload takes at most ${maxBlocks} blocks of ${maxBlockSize} bytes, got ${total} bytes`,
    );
  }
  const count = Math.ceil(total / blockSize);
  // One random prefix per upload: two uploads to the same file never commit each other's blocks.
  const prefix = Array.from(
    crypto.getRandomValues(new Uint8Array(8)),
    (b) => b.toString(16).padStart(2, "0"),
  )
    .join("");
  const ids = Array.from(
    { length: count },
    (_, i) => btoa(`${prefix}-${String(i).padStart(6, "0")}`),
  );
  let loaded = 0;
  let next = 0;
  let failed = false; // after one failure, no worker starts another block
  const worker = async () => {
    while (next < count && !failed) {
      const i = next++;
      const part = blob.slice(i * blockSize, Math.min(total, (i + 1) * blockSize));
      const url = `${upload.url}&comp=block&blockid=${encodeURIComponent(ids[i]!)}`;
      try {
        await send(url, "PUT", {}, part, false);
      } catch (error) {
        failed = true;
        throw error;
      }
      loaded += part.size;
      onProgress?.(loaded, total);
    }
  };
  const workers = Array.from({ length: Math.min(concurrency, count) }, worker);
  const results = await Promise.allSettled(workers);
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (rejected) throw rejected.reason;

  const xml = `<?xml version="1.0" encoding="utf-8"?><BlockList>${
    ids.map((id) => `<Latest>${id}</Latest>`).join("")
  }</BlockList>`;
  const headers: Record<string, string> = { "content-type": "application/xml; charset=utf-8" };
  const contentType = upload.headers["content-type"];
  if (contentType !== undefined) headers["x-ms-blob-content-type"] = contentType;
  await send(`${upload.url}&comp=blocklist`, "PUT", headers, xml, false);
  return { size: total, blocks: count };
}

function checkTarget(upload: SignedUploadTarget): void {
  if (
    typeof upload !== "object" || upload === null || typeof upload.url !== "string" ||
    upload.method !== "PUT" || typeof upload.headers !== "object" || upload.headers === null
  ) {
    throw new TypeError(
      "upload must be what Store.signedUpload returned: { url, method, headers }",
    );
  }
  if (upload.blocks !== undefined && upload.blocks.protocol !== "azure-blocks") {
    throw new TypeError(`Unknown block protocol "${String(upload.blocks.protocol)}"`);
  }
}

function toBlob(body: unknown): Blob {
  if (body instanceof Blob) return body;
  if (body instanceof ArrayBuffer) return new Blob([body]);
  if (body instanceof Uint8Array) return new Blob([body as Uint8Array<ArrayBuffer>]);
  throw new TypeError("body must be a Blob, an ArrayBuffer or a Uint8Array");
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
  return value;
}

/**
 * One request, sent again on a transient failure (never a create-only one);
 * any other status but 2xx becomes the library's error (the URL, SAS
 * included, is never in it).
 */
async function request(
  send: typeof fetch,
  url: string,
  method: string,
  headers: Record<string, string>,
  body: Blob | string,
  signal: AbortSignal | undefined,
  createOnly: boolean,
  maxTries: number,
): Promise<void> {
  const settings = { ...RETRY, maxTries };
  let response: Response;
  for (let attempt = 1;; attempt++) {
    const last = createOnly || attempt >= maxTries;
    try {
      response = await send(url, { method, headers, body, signal });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (!last) {
        await sleep(retryDelay(attempt, settings), signal);
        continue;
      }
      // The runtime's error may carry the URL: its signature goes.
      scrub(error, (text) => text.replace(/([?&]sig=)[^&\s"']*/g, "$1REDACTED"));
      throw new BackendUnavailableError(
        `The signed upload could not reach the service (${(error as Error)?.name ?? "error"})`,
        { backend: "azure", cause: error },
      );
    }
    if (response.ok || last || !RETRYABLE_STATUSES.has(response.status)) break;
    await response.body?.cancel().catch(() => {});
    await sleep(retryDelay(attempt, settings, retryAfterMs(response.headers)), signal);
  }
  if (response.ok) {
    await response.body?.cancel();
    return;
  }
  const text = await response.text().catch(() => "");
  const code = response.headers.get("x-ms-error-code") ?? /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
  const status = response.status;
  const cause = { status, code };
  const what = `status ${status}${code ? ` (${code})` : ""}`;
  const context = { backend: "azure", cause };
  switch (signedUploadFailure(status, code, createOnly)) {
    case "exists":
      throw new AlreadyExistsError(
        `The file already exists and the upload is create-only: ${what}`,
        context,
      );
    case "denied":
      throw new PermissionDeniedError(
        `The service refused the signed upload (expired, or not permitted): ${what}`,
        context,
      );
    case "missing":
      throw new NotFoundError(
        `The service found no container for the signed upload: ${what}`,
        context,
      );
    case "lostBlocks":
      throw new BackendUnavailableError(
        `A concurrent upload to the same file discarded this upload's blocks; upload again: ${what}`,
        context,
      );
    case "tooLarge":
      throw new RangeError(`The service refused the upload as too large: ${what}`, { cause });
    case "invalid":
      throw new TypeError(`The service refused the upload as invalid: ${what}`, { cause });
    default:
      throw new BackendUnavailableError(`The signed upload failed: ${what}`, context);
  }
}
