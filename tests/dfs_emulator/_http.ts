/**
 * Request context, response writers (Blob XML errors, DFS JSON errors) and
 * the conditional-header and range helpers both APIs share.
 *
 * @module
 */

import type { IncomingMessage, ServerResponse } from "node:http";
import { createHash, randomUUID } from "node:crypto";
import { Buffer } from "node:buffer";
import type { Container, PathNode } from "./_namespace.ts";

/** Which REST surface a request belongs to; decides error format and codes. */
export type Api = "blob" | "dfs";

/** One parsed request. */
export interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  api: Api;
  method: string;
  /** path as sent, percent-encoded, including the account segment */
  rawPath: string;
  rawQuery: string;
  /** query parameters, keys lowercased, values decoded */
  query: Map<string, string>;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  account: string;
  /** decoded container name ("" at account level) */
  container: string;
  /** decoded path inside the container ("" at container level) */
  path: string;
  requestId: string;
  /** emulator base URL, e.g. http://127.0.0.1:1234/devstoreaccount1 */
  baseUrl: string;
}

export function headerValue(ctx: Ctx, name: string): string | undefined {
  const v = ctx.headers[name];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v.join(",") : v;
}

/** `x-ms-meta-*` headers with their original name case. */
export function metadataFromHeaders(ctx: Ctx): Record<string, string> {
  const out: Record<string, string> = {};
  const raw = ctx.req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.toLowerCase().startsWith("x-ms-meta-")) {
      out[name.slice("x-ms-meta-".length)] = raw[i + 1]!;
    }
  }
  return out;
}

/** Parses the DFS `x-ms-properties` header (`k=base64,k2=base64`). */
export function parseDfsProperties(value: string | undefined): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const part of value.split(",")) {
    if (part.trim() === "") continue;
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    out[part.slice(0, eq).trim()] = Buffer.from(part.slice(eq + 1).trim(), "base64").toString(
      "utf8",
    );
  }
  return out;
}

export function formatDfsProperties(metadata: Record<string, string>): string {
  return Object.entries(metadata)
    .map(([k, v]) => `${k}=${Buffer.from(v, "utf8").toString("base64")}`)
    .join(",");
}

export function parseQuery(rawQuery: string): Map<string, string> {
  const out = new Map<string, string>();
  if (rawQuery === "") return out;
  for (const part of rawQuery.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const k = eq >= 0 ? part.slice(0, eq) : part;
    const v = eq >= 0 ? part.slice(eq + 1) : "";
    out.set(safeDecode(k).toLowerCase(), safeDecode(v));
  }
  return out;
}

export function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function baseHeaders(ctx: Ctx): Record<string, string> {
  const h: Record<string, string> = {
    "x-ms-request-id": ctx.requestId,
    "x-ms-version": headerValue(ctx, "x-ms-version") ?? "2026-02-06",
    "Date": new Date().toUTCString(),
    "Server": ctx.api === "dfs"
      ? "Windows-Azure-HDFS/1.0 Microsoft-HTTPAPI/2.0"
      : "Windows-Azure-Blob/1.0 Microsoft-HTTPAPI/2.0",
  };
  const clientId = headerValue(ctx, "x-ms-client-request-id");
  if (clientId !== undefined) h["x-ms-client-request-id"] = clientId;
  return h;
}

/**
 * Sends a response. `body` is omitted for HEAD; `Content-Length` defaults to
 * the body length (HEAD responses may pass the resource size explicitly).
 */
export function send(
  ctx: Ctx,
  status: number,
  headers: Record<string, string | number | undefined> = {},
  body?: Uint8Array | string,
): void {
  const out: Record<string, string> = baseHeaders(ctx);
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k] = String(v);
  const bytes = body === undefined
    ? Buffer.alloc(0)
    : typeof body === "string"
    ? Buffer.from(body, "utf8")
    : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (!Object.keys(out).some((k) => k.toLowerCase() === "content-length")) {
    out["Content-Length"] = String(bytes.length);
  }
  ctx.res.writeHead(status, out);
  if (ctx.method === "HEAD" || status === 304) ctx.res.end();
  else ctx.res.end(bytes);
}

const reasonMessages: Record<string, string> = {
  AuthenticationFailed:
    "Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.",
  ContainerNotFound: "The specified container does not exist.",
  ContainerAlreadyExists: "The specified container already exists.",
  FilesystemNotFound: "The specified filesystem does not exist.",
  FilesystemAlreadyExists: "The specified filesystem already exists.",
  BlobNotFound: "The specified blob does not exist.",
  BlobAlreadyExists: "The specified blob already exists.",
  PathNotFound: "The specified path does not exist.",
  PathAlreadyExists: "The specified path already exists.",
  PathConflict:
    "The specified path, or an element of the path, exists and its resource type is invalid for this operation.",
  ConditionNotMet: "The condition specified using HTTP conditional header(s) is not met.",
  SourceConditionNotMet:
    "The source condition specified using HTTP conditional header(s) is not met.",
  DirectoryNotEmpty:
    "The recursive query parameter value must be true to delete a non-empty directory.",
  DirectoryIsNotEmpty: "This operation is not permitted on a non-empty directory.",
  SourcePathNotFound: "The source path for a rename operation does not exist.",
  RenameDestinationParentPathNotFound:
    "The parent directory of the destination path does not exist.",
  InvalidRenameSourcePath:
    "The source directory cannot be the same as the destination directory, nor can the destination be a subdirectory of the source directory.",
  InvalidSourceOrDestinationResourceType:
    "The source and destination resource type must be identical.",
  InvalidFlushPosition:
    "The uploaded data is not contiguous or the position query parameter value is not equal to the length of the file after appending the uploaded data.",
  InvalidRange: "The range specified is invalid for the current size of the resource.",
  InvalidBlockList: "The specified block list is invalid.",
  Md5Mismatch:
    "The MD5 value specified in the request did not match with the MD5 value calculated by the server.",
  InvalidQueryParameterValue:
    "Value for one of the query parameters specified in the request URI is invalid.",
  MissingRequiredQueryParameter:
    "A query parameter that's mandatory for this request is not specified.",
  MissingRequiredHeader: "An HTTP header that's mandatory for this request is not specified.",
  CannotVerifyCopySource: "The specified blob does not exist.",
  ResourceTypeMismatch:
    "The resource type specified in the request does not match the type of the resource.",
  UnsupportedOperation: "This operation is not implemented by the DFS emulator.",
  InvalidUri: "The request URI is invalid.",
  InvalidInput: "One of the request inputs is not valid.",
};

/** Sends a service error in the format of the request's API. */
export function sendError(ctx: Ctx, status: number, code: string, message?: string): void {
  const text = `${message ?? reasonMessages[code] ?? code}\nRequestId:${ctx.requestId}\nTime:${
    new Date().toISOString()
  }`;
  if (ctx.api === "dfs") {
    send(
      ctx,
      status,
      { "x-ms-error-code": code, "Content-Type": "application/json;charset=utf-8" },
      JSON.stringify({ error: { code, message: text } }),
    );
  } else {
    send(
      ctx,
      status,
      { "x-ms-error-code": code, "Content-Type": "application/xml" },
      `<?xml version="1.0" encoding="utf-8"?><Error><Code>${xmlEscape(code)}</Code><Message>${
        xmlEscape(text)
      }</Message></Error>`,
    );
  }
}

export function xmlEscape(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) =>
      c === "&"
        ? "&amp;"
        : c === "<"
        ? "&lt;"
        : c === ">"
        ? "&gt;"
        : c === '"'
        ? "&quot;"
        : "&apos;",
  );
}

/** True when a transactional `Content-MD5` header does not match the body. */
export function md5Mismatch(ctx: Ctx): boolean {
  const given = headerValue(ctx, "content-md5");
  if (given === undefined || given === "") return false;
  return createHash("md5").update(ctx.body).digest("base64") !== given;
}

export function newRequestId(): string {
  return randomUUID();
}

// ---------------------------------------------------------------------------
// Conditional headers

/** Conditions of one side of a request (destination or, with a prefix, source). */
export interface Conditions {
  ifMatch?: string;
  ifNoneMatch?: string;
  ifModifiedSince?: Date;
  ifUnmodifiedSince?: Date;
}

function parseDate(v: string | undefined): Date | undefined {
  if (v === undefined) return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** Reads `if-*` headers, or `x-ms-source-if-*` with `prefix = "x-ms-source-"`. */
export function readConditions(ctx: Ctx, prefix = ""): Conditions {
  return {
    ifMatch: headerValue(ctx, `${prefix}if-match`),
    ifNoneMatch: headerValue(ctx, `${prefix}if-none-match`),
    ifModifiedSince: parseDate(headerValue(ctx, `${prefix}if-modified-since`)),
    ifUnmodifiedSince: parseDate(headerValue(ctx, `${prefix}if-unmodified-since`)),
  };
}

function etagList(v: string): string[] {
  return v.split(",").map((s) => s.trim().replace(/^W\//, "").replace(/^"(.*)"$/, "$1"));
}

function etagMatches(header: string, etag: string): boolean {
  const bare = etag.replace(/^"(.*)"$/, "$1");
  return etagList(header).some((e) => e === "*" || e === bare);
}

function seconds(d: Date): number {
  return Math.floor(d.getTime() / 1000);
}

/**
 * Outcome of evaluating conditions against the current node (or its absence).
 * - `ok`: proceed
 * - `exists`: `If-None-Match: *` and the target exists
 * - `failed`: any other condition failed (412 for writes)
 * - `notModified`: for reads, If-None-Match matched or not modified since (304)
 */
export type ConditionOutcome = "ok" | "exists" | "failed" | "notModified";

export function hasConditions(c: Conditions): boolean {
  return c.ifMatch !== undefined || c.ifNoneMatch !== undefined ||
    c.ifModifiedSince !== undefined ||
    c.ifUnmodifiedSince !== undefined;
}

/** Evaluates conditions for a write (or delete) against `node` (undefined: absent). */
export function checkWrite(
  node: { etag: string; lastModified: Date } | undefined,
  c: Conditions,
): ConditionOutcome {
  if (c.ifMatch !== undefined) {
    if (node === undefined || !etagMatches(c.ifMatch, node.etag)) return "failed";
  }
  if (c.ifNoneMatch !== undefined && node !== undefined) {
    if (c.ifNoneMatch.trim() === "*") return "exists";
    if (etagMatches(c.ifNoneMatch, node.etag)) return "failed";
  }
  if (node !== undefined) {
    if (
      c.ifModifiedSince !== undefined && seconds(node.lastModified) <= seconds(c.ifModifiedSince)
    ) {
      return "failed";
    }
    if (
      c.ifUnmodifiedSince !== undefined && seconds(node.lastModified) > seconds(c.ifUnmodifiedSince)
    ) {
      return "failed";
    }
  }
  return "ok";
}

/** Evaluates conditions for a read (GET/HEAD) of an existing node. */
export function checkRead(
  node: { etag: string; lastModified: Date },
  c: Conditions,
): ConditionOutcome {
  if (c.ifMatch !== undefined && !etagMatches(c.ifMatch, node.etag)) return "failed";
  if (
    c.ifUnmodifiedSince !== undefined && seconds(node.lastModified) > seconds(c.ifUnmodifiedSince)
  ) {
    return "failed";
  }
  if (c.ifNoneMatch !== undefined && etagMatches(c.ifNoneMatch, node.etag)) return "notModified";
  if (c.ifModifiedSince !== undefined && seconds(node.lastModified) <= seconds(c.ifModifiedSince)) {
    return "notModified";
  }
  return "ok";
}

// ---------------------------------------------------------------------------
// Ranges

/** A parsed `bytes=a-b` / `bytes=a-` range (end inclusive, may exceed the size). */
export interface ByteRange {
  start: number;
  end?: number;
}

/** Reads `x-ms-range` (preferred) or `Range`; undefined when absent or unparsable. */
export function readRange(ctx: Ctx): ByteRange | undefined {
  const v = headerValue(ctx, "x-ms-range") ?? headerValue(ctx, "range");
  if (v === undefined) return undefined;
  const m = /^\s*bytes=(\d+)-(\d*)\s*$/.exec(v);
  if (m === null) return undefined;
  const start = Number(m[1]);
  const end = m[2] === "" ? undefined : Number(m[2]);
  if (end !== undefined && end < start) return undefined;
  return { start, end };
}

// ---------------------------------------------------------------------------
// Common property headers

export const OWNER = "$superuser";

export function permissionsOf(node: PathNode): string {
  return node.kind === "directory" ? "rwxr-x---" : "rw-r-----";
}

/** Container-level headers shared by Get Container Properties and filesystem HEAD. */
export function containerHeaders(container: Container): Record<string, string> {
  const h: Record<string, string> = {
    "ETag": container.etag,
    "Last-Modified": container.lastModified.toUTCString(),
  };
  for (const [k, v] of Object.entries(container.metadata)) h[`x-ms-meta-${k}`] = v;
  return h;
}
