/**
 * The Blob REST operations the backend uses, one typed function each, over
 * {@link AzureHttp} (fetch, signing, retries). No decisions about library
 * errors here: a refused request rejects with the transport's
 * `AzureHttpError` (status and service error code) and the caller maps it.
 * Private module.
 *
 * @module
 */

import { type AzureHttp, AzureHttpError } from "./_http.ts";
import { quoteEtag } from "./_etag.ts";
import { stringToSign } from "./_shared_key.ts";
import { type BlobListPage, blockListXml, parseBlobList, parseBlockList } from "./_xml.ts";
import { type Checksum, checksumOf } from "../../_checksum.ts";
import type { HttpAttributes } from "../../types.ts";

/** The request header that sets each HTTP attribute on Put Blob and Put Block List. */
const ATTRIBUTE_REQUEST_HEADERS: Readonly<Record<keyof HttpAttributes, string>> = {
  cacheControl: "x-ms-blob-cache-control",
  contentEncoding: "x-ms-blob-content-encoding",
  contentDisposition: "x-ms-blob-content-disposition",
  contentLanguage: "x-ms-blob-content-language",
};

/** The response header that reports each HTTP attribute (Get Blob Properties, Get Blob). */
const ATTRIBUTE_RESPONSE_HEADERS: Readonly<Record<keyof HttpAttributes, string>> = {
  cacheControl: "cache-control",
  contentEncoding: "content-encoding",
  contentDisposition: "content-disposition",
  contentLanguage: "content-language",
};

/**
 * A base64 `Content-MD5` as a checksum, or `undefined` when it is absent or
 * not 16 bytes of base64.
 *
 * @param base64 The header or XML value.
 * @returns The MD5 checksum.
 */
export function md5Digest(base64: string | null | undefined): Checksum | undefined {
  if (!base64) return undefined;
  try {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    return bytes.byteLength === 16 ? checksumOf("md5", bytes) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What a blob's description says of the stored version, as backend file
 * info fields: the HTTP attributes, the version id and the stored
 * `Content-MD5` as `digest` (each only when present).
 *
 * @param source Properties, a listed blob, or a write's response.
 * @returns The fields to add to a `BackendFileInfo` or `BackendWriteResult`.
 */
export function storedVersion(
  source: { attributes?: HttpAttributes; versionId?: string; contentMd5?: string },
): HttpAttributes & { versionId?: string; digest?: Checksum } {
  const out: HttpAttributes & { versionId?: string; digest?: Checksum } = {
    ...source.attributes,
  };
  if (source.versionId !== undefined) out.versionId = source.versionId;
  const digest = md5Digest(source.contentMd5);
  if (digest !== undefined) out.digest = digest;
  return out;
}

/** What a Put Blob or Put Block List reports about the new version. */
export interface WriteResponse {
  /** The new ETag (quoted). */
  etag?: string;
  /** `Last-Modified` of the new version. */
  lastModified?: Date;
  /** `x-ms-version-id`, when blob versioning is on. */
  versionId?: string;
  /** The response's `Content-MD5` (Put Blob: the content's, as the service computed it). */
  contentMd5?: string;
}

/** The {@link WriteResponse} of a write's response headers. */
function writeResponse(headers: Headers): WriteResponse {
  const out: WriteResponse = { etag: quoteEtag(headers.get("etag") ?? undefined) };
  const lastModified = headers.get("last-modified");
  if (lastModified !== null) out.lastModified = new Date(lastModified);
  const versionId = headers.get("x-ms-version-id");
  if (versionId !== null) out.versionId = versionId;
  const md5 = headers.get("content-md5");
  if (md5 !== null) out.contentMd5 = md5;
  return out;
}

/** HTTP conditions of a request on one blob. */
export interface BlobConditions {
  /** `If-Match`: an ETag (quoted) or `*`. */
  ifMatch?: string;
  /** `If-None-Match`: an ETag (quoted) or `*`. */
  ifNoneMatch?: string;
  /** `If-Modified-Since`. */
  ifModifiedSince?: Date;
  /** `If-Unmodified-Since`. */
  ifUnmodifiedSince?: Date;
}

/** What Get Blob Properties (or the headers of a Get Blob) say about a blob. */
export interface BlobProperties {
  /** The blob's size in bytes (of the whole blob, also for a ranged Get Blob). */
  size: number;
  /** `Last-Modified`. */
  lastModified: Date;
  /** The ETag in the quoted HTTP form. */
  etag?: string;
  /** `Content-Type`, when the service sent one. */
  contentType?: string;
  /** The stored HTTP attributes the service sent. */
  attributes: HttpAttributes;
  /** `x-ms-version-id`, when blob versioning is on. */
  versionId?: string;
  /** The stored `Content-MD5` of the whole blob (HEAD: `Content-MD5`; a range: `x-ms-blob-content-md5`). */
  contentMd5?: string;
  /** `x-ms-meta-*` values by name as the service sent it (lowercase, as `Headers` holds it). */
  metadata: Record<string, string>;
  /** `x-ms-copy-status` (`pending`, `success`, `aborted`, `failed`), after a Copy Blob. */
  copyStatus?: string;
  /** `x-ms-copy-progress` (`copied/total` bytes), after a Copy Blob. */
  copyProgress?: string;
}

const META = "x-ms-meta-";

/** The request headers of `conditions` (dates in the HTTP form). */
function conditionHeaders(conditions: BlobConditions | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  if (conditions === undefined) return headers;
  if (conditions.ifMatch !== undefined) headers["if-match"] = conditions.ifMatch;
  if (conditions.ifNoneMatch !== undefined) headers["if-none-match"] = conditions.ifNoneMatch;
  if (conditions.ifModifiedSince !== undefined) {
    headers["if-modified-since"] = conditions.ifModifiedSince.toUTCString();
  }
  if (conditions.ifUnmodifiedSince !== undefined) {
    headers["if-unmodified-since"] = conditions.ifUnmodifiedSince.toUTCString();
  }
  return headers;
}

/** `x-ms-meta-<name>` request headers, plus the content type and HTTP attributes, for a write. */
function writeHeaders(options: {
  contentType?: string;
  attributes?: HttpAttributes;
  metadata?: Record<string, string>;
  conditions?: BlobConditions;
}): Record<string, string> {
  const { contentType, attributes, metadata } = options;
  const headers = conditionHeaders(options.conditions);
  if (contentType !== undefined) headers["x-ms-blob-content-type"] = contentType;
  for (const [name, header] of Object.entries(ATTRIBUTE_REQUEST_HEADERS)) {
    const value = attributes?.[name as keyof HttpAttributes];
    if (value !== undefined) headers[header] = value;
  }
  for (const [name, value] of Object.entries(metadata ?? {})) headers[META + name] = value;
  return headers;
}

/**
 * Reads blob properties from response headers: of a Get Blob Properties, or
 * of a Get Blob (then `size` is the whole blob's, from `Content-Range`).
 *
 * @param headers The response headers.
 * @returns The properties.
 */
export function propertiesFromHeaders(headers: Headers): BlobProperties {
  const total = /\/(\d+)\s*$/.exec(headers.get("content-range") ?? "");
  const properties: BlobProperties = {
    size: Number(total ? total[1] : headers.get("content-length") ?? 0),
    lastModified: new Date(headers.get("last-modified") ?? 0),
    attributes: {},
    metadata: {},
  };
  for (const [name, header] of Object.entries(ATTRIBUTE_RESPONSE_HEADERS)) {
    const value = headers.get(header);
    if (value !== null && value !== "") properties.attributes[name as keyof HttpAttributes] = value;
  }
  const versionId = headers.get("x-ms-version-id");
  if (versionId !== null) properties.versionId = versionId;
  const md5 = headers.get("x-ms-blob-content-md5") ??
    (headers.get("content-range") === null ? headers.get("content-md5") : null);
  if (md5 !== null) properties.contentMd5 = md5;
  const etag = quoteEtag(headers.get("etag") ?? undefined);
  if (etag !== undefined) properties.etag = etag;
  const contentType = headers.get("content-type");
  if (contentType !== null) properties.contentType = contentType;
  const copyStatus = headers.get("x-ms-copy-status");
  if (copyStatus !== null) properties.copyStatus = copyStatus;
  const copyProgress = headers.get("x-ms-copy-progress");
  if (copyProgress !== null) properties.copyProgress = copyProgress;
  for (const [name, value] of headers) {
    if (name.startsWith(META)) properties.metadata[name.slice(META.length)] = value;
  }
  return properties;
}

/**
 * Get Blob Properties (`HEAD`).
 *
 * @param http The transport.
 * @param key The blob.
 * @param options `signal`, and `conditions` sent with the request.
 * @returns The blob's properties.
 */
export async function getBlobProperties(
  http: AzureHttp,
  key: string,
  options: { signal?: AbortSignal; conditions?: BlobConditions },
): Promise<BlobProperties> {
  const { headers } = await http.call({
    method: "HEAD",
    key,
    headers: conditionHeaders(options.conditions),
    signal: options.signal,
  });
  return propertiesFromHeaders(headers);
}

/**
 * Get Blob from `offset` (`count` bytes, or to the end), with `x-ms-range`.
 * The caller must consume or cancel the body.
 *
 * @param http The transport.
 * @param key The blob.
 * @param options The range, the conditions, and `signal` (which also aborts the body).
 * @returns The 200/206 response.
 */
export async function downloadBlob(
  http: AzureHttp,
  key: string,
  options: { offset: number; count?: number; conditions?: BlobConditions; signal?: AbortSignal },
): Promise<Response> {
  const { offset, count } = options;
  const headers = conditionHeaders(options.conditions);
  if (offset > 0 || count !== undefined) {
    headers["x-ms-range"] = count === undefined
      ? `bytes=${offset}-`
      : `bytes=${offset}-${offset + count - 1}`;
  }
  return await http.send({ method: "GET", key, headers, signal: options.signal });
}

/**
 * Put Blob: a block blob with `bytes` as its content, in one request.
 *
 * @param http The transport.
 * @param key The blob.
 * @param bytes The content.
 * @param options Content type, metadata, conditions, signal.
 * @returns The new ETag (quoted).
 */
export async function putBlob(
  http: AzureHttp,
  key: string,
  bytes: Uint8Array,
  options: {
    contentType?: string;
    attributes?: HttpAttributes;
    metadata?: Record<string, string>;
    conditions?: BlobConditions;
    signal?: AbortSignal;
    /** Base64 MD5 of `bytes` (`Content-MD5`): the service refuses the upload when it differs. */
    contentMd5?: string;
  },
): Promise<WriteResponse> {
  const headers = writeHeaders(options);
  headers["x-ms-blob-type"] = "BlockBlob";
  if (options.contentMd5 !== undefined) headers["content-md5"] = options.contentMd5;
  const response = await http.call({
    method: "PUT",
    key,
    headers,
    body: bytes,
    signal: options.signal,
  });
  return writeResponse(response.headers);
}

/**
 * Put Block: stages one block of a block blob.
 *
 * @param http The transport.
 * @param key The blob.
 * @param blockId The base64 block id (every id of a blob has the same length).
 * @param bytes The block's content.
 * @param signal Aborts the request.
 * @param contentMd5 Base64 MD5 of `bytes` (transactional `Content-MD5`): the
 *   service refuses the block (400 `Md5Mismatch`) when it differs.
 */
export async function putBlock(
  http: AzureHttp,
  key: string,
  blockId: string,
  bytes: Uint8Array,
  signal?: AbortSignal,
  contentMd5?: string,
): Promise<void> {
  await http.call({
    method: "PUT",
    key,
    query: { comp: "block", blockid: blockId },
    headers: contentMd5 === undefined ? undefined : { "content-md5": contentMd5 },
    body: bytes,
    signal,
  });
}

/**
 * Put Block List: commits staged blocks, in order, as the blob's content.
 *
 * @param http The transport.
 * @param key The blob.
 * @param blockIds The ids of the staged blocks, in content order.
 * @param options Content type, metadata, conditions, signal.
 * @returns The new ETag (quoted).
 */
export async function putBlockList(
  http: AzureHttp,
  key: string,
  blockIds: readonly string[],
  options: {
    contentType?: string;
    attributes?: HttpAttributes;
    metadata?: Record<string, string>;
    conditions?: BlobConditions;
    signal?: AbortSignal;
    /** Base64 MD5 of the whole content, stored as the blob's `Content-MD5` property. */
    blobContentMd5?: string;
  },
): Promise<WriteResponse> {
  const headers = writeHeaders(options);
  headers["content-type"] = "application/xml; charset=utf-8";
  if (options.blobContentMd5 !== undefined) {
    headers["x-ms-blob-content-md5"] = options.blobContentMd5;
  }
  const response = await http.call({
    method: "PUT",
    key,
    query: { comp: "blocklist" },
    headers,
    body: blockListXml(blockIds),
    signal: options.signal,
  });
  // Its Content-MD5 is the block list's, not the blob's: only the commit's own digest counts.
  const { contentMd5: _, ...result } = writeResponse(response.headers);
  return options.blobContentMd5 === undefined
    ? result
    : { ...result, contentMd5: options.blobContentMd5 };
}

/**
 * Get Block List (committed blocks only).
 *
 * @param http The transport.
 * @param key The blob.
 * @param signal Aborts the request.
 * @returns The blob's ETag (quoted) and the committed block ids, in order.
 */
export async function getCommittedBlocks(
  http: AzureHttp,
  key: string,
  signal?: AbortSignal,
): Promise<{ etag?: string; ids: string[] }> {
  const response = await http.send({
    method: "GET",
    key,
    query: { comp: "blocklist", blocklisttype: "committed" },
    signal,
  });
  const xml = await response.text();
  return {
    etag: quoteEtag(response.headers.get("etag") ?? undefined),
    ids: parseBlockList(xml).committed,
  };
}

/**
 * Delete Blob.
 *
 * @param http The transport.
 * @param key The blob.
 * @param options `ifMatch` (`If-Match`), `includeSnapshots` (true: the blob's snapshots
 *   too, `x-ms-delete-snapshots: include`; a blob with snapshots is refused without it),
 *   `signal`.
 */
export async function deleteBlob(
  http: AzureHttp,
  key: string,
  options: { signal?: AbortSignal; ifMatch?: string; includeSnapshots?: boolean },
): Promise<void> {
  await http.call({
    method: "DELETE",
    key,
    headers: {
      "if-match": options.ifMatch,
      "x-ms-delete-snapshots": options.includeSnapshots ? "include" : undefined,
    },
    signal: options.signal,
  });
}

/**
 * List Blobs: one page of the container's blobs (and, with a delimiter, prefixes).
 *
 * @param http The transport.
 * @param options `prefix`, `delimiter`, `maxResults`, `marker` (of the previous page),
 *   `startFrom` (list from this blob name on, inclusive; a service or emulator
 *   that does not know the parameter ignores it), `includeMetadata`, `signal`.
 * @returns The page.
 */
export async function listBlobs(
  http: AzureHttp,
  options: {
    prefix?: string;
    delimiter?: string;
    maxResults?: number;
    marker?: string;
    startFrom?: string;
    includeMetadata?: boolean;
    signal?: AbortSignal;
  },
): Promise<BlobListPage> {
  const response = await http.send({
    method: "GET",
    key: "",
    query: {
      restype: "container",
      comp: "list",
      prefix: options.prefix || undefined,
      delimiter: options.delimiter || undefined,
      maxresults: options.maxResults,
      marker: options.marker || undefined,
      startFrom: options.startFrom || undefined,
      include: options.includeMetadata ? "metadata" : undefined,
    },
    signal: options.signal,
  });
  return parseBlobList(await response.text());
}

/**
 * Copy Blob: starts a server-side copy of `sourceUrl` onto `dst`.
 *
 * @param http The transport.
 * @param dst The destination blob.
 * @param sourceUrl The source's URL ({@link AzureHttp.sourceUrl}).
 * @param options `ifNoneMatch` (of the destination, e.g. `*`), `sourceIfMatch`
 *   (`x-ms-source-if-match`), `signal`.
 * @returns `x-ms-copy-status` (`success` or `pending`) and `x-ms-copy-id`.
 */
export async function startCopy(
  http: AzureHttp,
  dst: string,
  sourceUrl: string,
  options: { ifNoneMatch?: string; sourceIfMatch?: string; signal?: AbortSignal },
): Promise<{ copyStatus?: string; copyId?: string }> {
  const { headers } = await http.call({
    method: "PUT",
    key: dst,
    headers: {
      "x-ms-copy-source": sourceUrl,
      "if-none-match": options.ifNoneMatch,
      "x-ms-source-if-match": options.sourceIfMatch,
    },
    signal: options.signal,
  });
  const out: { copyStatus?: string; copyId?: string } = {};
  const copyStatus = headers.get("x-ms-copy-status");
  if (copyStatus !== null) out.copyStatus = copyStatus;
  const copyId = headers.get("x-ms-copy-id");
  if (copyId !== null) out.copyId = copyId;
  return out;
}

/** Most sub-requests in one Blob Batch request (service limit). */
export const MAX_BATCH = 256;

const CRLF = "\r\n";

/**
 * One signed sub-request of a Blob Batch: its request line and headers.
 * Each sub-request is authorized on its own: Shared Key signs it (with its
 * own `x-ms-date`, no `x-ms-version`), a SAS goes into its URL.
 */
async function deleteSubRequest(
  http: AzureHttp,
  key: string,
  date: string,
  signal: AbortSignal | undefined,
): Promise<string> {
  const headers = new Headers({ "x-ms-delete-snapshots": "include" });
  let url: URL;
  if (http.authKind === "sas") {
    url = new URL(http.sourceUrl(key));
  } else {
    url = new URL(http.url(key));
    if (http.authKind === "key") {
      headers.set("x-ms-date", date);
      const signature = await http.hmacBase64(
        stringToSign({ method: "DELETE", url, headers }, http.accountName!),
      );
      headers.set("authorization", `SharedKey ${http.accountName}:${signature}`);
    } else if (http.authKind === "token" || http.authKind === "default") {
      const authorize = (http as Partial<SubRequestAuthorizer>).authorizeSubRequest;
      if (authorize === undefined) {
        // Unauthorized sub-requests would each be refused (403), which reads as "permission
        // denied" for every blob; a refused batch lets the caller delete one by one instead.
        throw new AzureHttpError(
          403,
          "AuthorizationFailure",
          "Blob Batch sub-requests cannot carry a bearer token with this transport",
          new Headers(),
        );
      }
      await authorize.call(http, { method: "DELETE", url, headers }, signal);
    }
  }
  let out = `DELETE ${url.pathname}${url.search} HTTP/1.1${CRLF}`;
  for (const [name, value] of headers) out += `${name}: ${value}${CRLF}`;
  return out + CRLF;
}

/**
 * What a transport with token credentials must offer for Blob Batch: setting
 * a sub-request's `Authorization` (`Bearer <token>`) on its headers. Without
 * it, a token-authenticated batch is refused before it is sent (403), so that
 * the caller deletes one by one.
 */
interface SubRequestAuthorizer {
  authorizeSubRequest(
    request: { method: string; url: URL; headers: Headers },
    signal?: AbortSignal,
  ): Promise<void>;
}

/**
 * Reads a Blob Batch answer: one `application/http` part per sub-request,
 * matched by `Content-ID`.
 *
 * @param body The multipart/mixed body.
 * @param contentType Its `Content-Type` (with the boundary).
 * @param count The number of sub-requests.
 * @returns Status and `x-ms-error-code` per sub-request, in request order.
 * @throws {AzureHttpError} When the service refused the batch as a whole (in its 202 answer).
 */
export function parseBatchResponse(
  body: string,
  contentType: string,
  count: number,
): { status: number; code?: string }[] {
  const boundary = /boundary=("?)([^";]+)\1/i.exec(contentType)?.[2];
  if (boundary === undefined) {
    throw new Error(`The Blob Batch response has no boundary ("${contentType}")`);
  }
  const parts = body.split(`--${boundary}--`)[0]!.split(`--${boundary}`).slice(1);
  const results: { status: number; code?: string }[] = new Array(count);
  let unnumbered: { status: number; code?: string } | undefined;
  for (const part of parts) {
    const lines = part.split(CRLF);
    let id: number | undefined;
    let result: { status: number; code?: string } | undefined;
    for (const line of lines) {
      if (result === undefined) {
        const contentId = /^content-id:\s*(\d+)\s*$/i.exec(line);
        if (contentId) id = Number(contentId[1]);
        const status = /^HTTP\/\d(?:\.\d)?\s+(\d{3})/.exec(line);
        if (status) result = { status: Number(status[1]) };
        continue;
      }
      if (line === "") break; // end of the sub-response's headers
      const code = /^x-ms-error-code:\s*(.*?)\s*$/i.exec(line);
      if (code && code[1] !== "") result.code = code[1];
    }
    if (result === undefined) continue;
    if (id !== undefined && id >= 0 && id < count) results[id] = result;
    else unnumbered = result;
  }
  for (let i = 0; i < count; i++) {
    if (results[i] !== undefined) continue;
    // One answer without a Content-ID: the batch itself was refused (bad request, auth).
    if (unnumbered !== undefined) {
      const { status, code } = unnumbered;
      const message = `Blob Batch was refused: Azure answered ${status}${code ? ` ${code}` : ""}`;
      throw new AzureHttpError(status, code, message, new Headers());
    }
    throw new Error(`The Blob Batch response has no answer for sub-request ${i}`);
  }
  return results;
}

/**
 * Blob Batch: deletes up to {@link MAX_BATCH} blobs (each with its
 * snapshots) in one request.
 *
 * @param http The transport.
 * @param keys The blobs (1 to 256).
 * @param signal Aborts the request.
 * @returns Status and error code per key, in order (202 deleted, 404 not found, ...).
 * @throws {RangeError} For no key or more than 256.
 */
export async function batchDelete(
  http: AzureHttp,
  keys: readonly string[],
  signal?: AbortSignal,
): Promise<{ status: number; code?: string }[]> {
  if (keys.length === 0 || keys.length > MAX_BATCH) {
    throw new RangeError(`A Blob Batch holds 1 to ${MAX_BATCH} deletes, not ${keys.length}`);
  }
  const boundary = `batch_${crypto.randomUUID()}`;
  const date = new Date().toUTCString();
  let body = "";
  for (const [index, key] of keys.entries()) {
    body += `--${boundary}${CRLF}Content-Type: application/http${CRLF}` +
      `Content-Transfer-Encoding: binary${CRLF}Content-ID: ${index}${CRLF}${CRLF}` +
      await deleteSubRequest(http, key, date, signal);
  }
  body += `--${boundary}--${CRLF}`;
  const response = await http.send({
    method: "POST",
    key: "",
    query: { restype: "container", comp: "batch" },
    headers: { "content-type": `multipart/mixed; boundary=${boundary}` },
    body,
    signal,
  });
  const text = await response.text();
  return parseBatchResponse(text, response.headers.get("content-type") ?? "", keys.length);
}

/**
 * Get Account Information: whether the account has a hierarchical namespace.
 *
 * @param http The transport.
 * @param signal Aborts the request.
 * @returns `x-ms-is-hns-enabled`.
 */
export async function getAccountInfo(
  http: AzureHttp,
  signal?: AbortSignal,
): Promise<{ isHnsEnabled: boolean }> {
  // Asked of the container, as the SDK's ContainerClient did: a container SAS may not read the account.
  const { headers } = await http.call({
    method: "GET",
    key: "",
    query: { restype: "account", comp: "properties" },
    signal,
  });
  return { isHnsEnabled: headers.get("x-ms-is-hns-enabled")?.toLowerCase() === "true" };
}
