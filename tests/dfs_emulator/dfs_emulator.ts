/**
 * In-memory ADLS Gen2 (hierarchical namespace) emulator for tests.
 *
 * Serves the Blob REST API subset and the Data Lake (DFS) REST API subset over
 * ONE hierarchical namespace on ONE loopback port, so that the real
 * `@azure/storage-blob` and `@azure/storage-file-datalake` clients can talk to
 * it (Azurite has no DFS endpoint). URLs are path-style:
 * `http://127.0.0.1:PORT/<account>/<container>/<path>`; with such an IP-style
 * URL the DataLake SDK sends its DFS calls to the same host.
 *
 * A request is a DFS request when it carries DFS-only parameters (`resource`,
 * `action`, `mode`, `recursive`, `position`, the `x-ms-rename-source` header,
 * the PATCH verb, or asks for JSON); otherwise it is a Blob request.
 *
 * Runs on Deno 2, Bun 1 and Node 24: only `node:http`, `node:crypto`,
 * `node:buffer` and web APIs.
 *
 * @module
 */

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Buffer } from "node:buffer";
import { handleBlob } from "./_blob_api.ts";
import { handleDfs } from "./_dfs_api.ts";
import { type Api, type Ctx, newRequestId, parseQuery, safeDecode, sendError } from "./_http.ts";
import { Namespace } from "./_namespace.ts";
import { verifySharedKey } from "./_shared_key.ts";

/** The Azurite development account. */
export const DEV_ACCOUNT_NAME = "devstoreaccount1";
/** The Azurite development account key (public, documented). */
export const DEV_ACCOUNT_KEY =
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/** Options of {@link startDfsEmulator}. */
export interface DfsEmulatorOptions {
  accountName?: string;
  accountKey?: string;
  /** 0 (default) picks a free port */
  port?: number;
}

/** One served request, as logged. */
export interface LoggedRequest {
  method: string;
  /** decoded `/container/path` (without the account segment) */
  path: string;
  /** raw query string without `?` */
  query: string;
}

/** A running emulator. */
export interface DfsEmulator {
  /** `http://127.0.0.1:PORT/<account>`: the Blob and the DFS endpoint */
  url: string;
  accountName: string;
  accountKey: string;
  /** `DefaultEndpointsProtocol=http;AccountName=..;AccountKey=..;BlobEndpoint=<url>;DfsEndpoint=<url>;` */
  connectionString: string;
  /** total requests served since start (not reset by resetLog) */
  requestCount(): number;
  /** requests served since start or the last resetLog() */
  readonly requests: readonly LoggedRequest[];
  resetLog(): void;
  close(): Promise<void>;
}

function classify(
  method: string,
  query: Map<string, string>,
  headers: Record<string, string | string[] | undefined>,
): Api {
  if (query.has("restype") || query.has("comp")) return "blob";
  for (const k of ["resource", "action", "mode", "recursive", "position", "paginated"]) {
    if (query.has(k)) return "dfs";
  }
  if (method === "PATCH") return "dfs";
  if (headers["x-ms-rename-source"] !== undefined) return "dfs";
  if (headers["x-ms-copy-source"] !== undefined || headers["x-ms-blob-type"] !== undefined) {
    return "blob";
  }
  const accept = headers["accept"];
  const acceptText = Array.isArray(accept) ? accept.join(",") : accept ?? "";
  if (acceptText.includes("application/json")) return "dfs";
  return "blob";
}

/** Starts an emulator on 127.0.0.1. */
export async function startDfsEmulator(options: DfsEmulatorOptions = {}): Promise<DfsEmulator> {
  const accountName = options.accountName ?? DEV_ACCOUNT_NAME;
  const accountKey = options.accountKey ?? DEV_ACCOUNT_KEY;
  const ns = new Namespace();
  const log: LoggedRequest[] = [];
  let count = 0;
  let baseUrl = "";

  const handle = (req: IncomingMessage, res: ServerResponse, body: Buffer): void => {
    const rawUrl = req.url ?? "/";
    const qIndex = rawUrl.indexOf("?");
    const rawPath = qIndex >= 0 ? rawUrl.slice(0, qIndex) : rawUrl;
    const rawQuery = qIndex >= 0 ? rawUrl.slice(qIndex + 1) : "";
    const query = parseQuery(rawQuery);
    const method = (req.method ?? "GET").toUpperCase();
    const headers = req.headers as Record<string, string | string[] | undefined>;
    const parts = rawPath.split("/").slice(1);
    // Path-style URLs carry the account first. The DataLake SDK's move() builds
    // the destination URL as `/<filesystem>/<path>` even for path-style
    // endpoints, so a path that does not start with the account is taken as
    // `/<container>/<path>` of this account.
    if (parts.length > 0 && safeDecode(parts[0]!) === accountName) parts.shift();
    const account = accountName;
    const container = safeDecode(parts[0] ?? "");
    const path = parts.slice(1).map(safeDecode).join("/");
    count += 1;
    log.push({ method, path: `/${container}${path === "" ? "" : "/" + path}`, query: rawQuery });
    const ctx: Ctx = {
      req,
      res,
      api: classify(method, query, headers),
      method,
      rawPath,
      rawQuery,
      query,
      headers,
      body,
      account,
      container,
      path,
      requestId: newRequestId(),
      baseUrl,
    };
    const authError = verifySharedKey(
      { method, headers, rawPath, rawQuery },
      accountName,
      accountKey,
    );
    if (authError !== undefined) return sendError(ctx, 403, "AuthenticationFailed", undefined);
    if (ctx.api === "dfs") handleDfs(ctx, ns);
    else handleBlob(ctx, ns);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      try {
        handle(req, res, Buffer.concat(chunks));
      } catch (err) {
        if (!res.headersSent) {
          res.writeHead(500, { "x-ms-error-code": "InternalError", "Content-Type": "text/plain" });
        }
        res.end(String(err));
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  baseUrl = `http://127.0.0.1:${port}/${accountName}`;

  return {
    url: baseUrl,
    accountName,
    accountKey,
    connectionString:
      `DefaultEndpointsProtocol=http;AccountName=${accountName};AccountKey=${accountKey};BlobEndpoint=${baseUrl};DfsEndpoint=${baseUrl};`,
    requestCount: () => count,
    requests: log,
    resetLog: () => {
      log.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      }),
  };
}
