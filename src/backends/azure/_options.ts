/**
 * Options of the Azure backend and their validation. Imports no SDK, so the
 * Registry can validate config eagerly without loading `@azure/*`. Private module.
 *
 * @module
 */

import { OptionReader } from "../../_options.ts";
import { resolveAccount } from "./_endpoints.ts";
import { hasDefaultCredential, NO_DEFAULT } from "./_credential.ts";

/** Anything with `getToken`, such as an `@azure/identity` credential. */
export interface TokenCredentialLike {
  /** Gets an access token for the given scopes. */
  getToken(scopes: string | string[], options?: unknown): Promise<unknown>;
}

/**
 * Retry settings for requests and for resumed downloads. A request is
 * retried on 408, 429, 500, 502, 503 and 504 and on network errors (never
 * after the caller's abort, and only when its body can be sent again),
 * waiting as long as the service asks (`Retry-After`, `x-ms-retry-after-ms`)
 * or else with exponential back-off.
 */
export interface AzureRetryOptions {
  /** Attempts per request, including the first (default 4). */
  maxTries?: number;
  /**
   * Base delay between attempts in milliseconds when the service names no
   * delay (default 800; doubles with each attempt, ±20 % jitter).
   */
  retryDelayMs?: number;
  /** Upper bound of any delay, also of a service's `Retry-After`, in milliseconds (default 30000). */
  maxRetryDelayMs?: number;
  /** Server-side timeout of one attempt in milliseconds, sent as whole seconds (default: none). */
  tryTimeoutMs?: number;
  /** How often a dropped download may resume before the read errors (default 5). */
  maxResumes?: number;
}

/** Options of `AzureBackend`. */
export interface AzureBackendOptions {
  /** Container (file system) name. Required. */
  container: string;
  /** A full connection string (secret). */
  connectionString?: string;
  /** Storage account name; the endpoint is `https://<name>.blob.core.windows.net`. */
  accountName?: string;
  /** Blob endpoint URL, for example `http://127.0.0.1:10000/devstoreaccount1`. */
  accountUrl?: string;
  /** DFS endpoint URL (default: derived from the blob endpoint). */
  dfsUrl?: string;
  /** Account key (secret). */
  accountKey?: string;
  /** SAS token, with or without the leading `?` (secret). */
  sasToken?: string;
  /**
   * A token credential. With no key, SAS, connection string or credential,
   * the default credential set by `useDefaultAzureCredential()` (from
   * `./azure/identity`) is used; without one such a config is refused.
   */
  credential?: TokenCredentialLike;
  /** Hierarchical namespace: `"auto"` (probe the account once), `true` or `false`. */
  hns?: "auto" | boolean;
  /**
   * The `fetch` every request goes through (default: the runtime's own
   * `fetch`): a proxy, a custom CA, instrumentation, or a faster transport
   * such as `createNodeFetch()` from the `./node` entrypoint on Node.
   */
  fetch?: (input: string, init: RequestInit) => Promise<Response>;
  /**
   * Options for the SDK clients that `unwrap` builds (`@azure/storage-blob`
   * and `@azure/storage-file-datalake` client options). The backend's own
   * requests do not use them.
   */
  clientOptions?: Record<string, unknown>;
  /** Block size for staged uploads and ranged downloads in bytes (default 8 MiB). */
  blockSize?: number;
  /** Blocks in flight per upload (default 4). */
  concurrency?: number;
  /** Retry settings. */
  retry?: AzureRetryOptions;
  /**
   * Milliseconds a read may receive nothing (no response, or no body bytes
   * while the reader wants some) before it is treated as a dropped connection
   * and resumed, pinned to the ETag, within `retry.maxResumes` (default
   * 30000; 0 waits forever).
   */
  readIdleTimeoutMs?: number;
  /**
   * Flat namespace only: refuse a write, copy or move whose destination is
   * below a file or is a folder, so that a path is a file or a folder, never
   * both, as on every backend (default `true`). The check costs one HEAD
   * request per parent folder and a one-result listing before each write,
   * and is a check before the write, not atomic with it: a concurrent writer
   * can still create the other kind in between. `false` skips it (Azure then
   * allows `a` and `a/b` side by side). On ADLS Gen2 the service enforces
   * the rule and this option has no effect.
   */
  strictPaths?: boolean;
}

const MAX_BLOCK_SIZE = 4000 * 1024 * 1024;
const CONTAINER_NAME = /^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/;

/**
 * Validates Azure backend options; the result is a fresh object.
 *
 * @throws {InvalidConfigError} Naming `keyPath.<option>`; never quoting a secret.
 */
export function parseAzureOptions(options: unknown, keyPath = "options"): AzureBackendOptions {
  const reader = new OptionReader(options, keyPath, [
    "container",
    "connectionString",
    "accountName",
    "accountUrl",
    "dfsUrl",
    "accountKey",
    "sasToken",
    "credential",
    "hns",
    "clientOptions",
    "blockSize",
    "concurrency",
    "retry",
    "readIdleTimeoutMs",
    "strictPaths",
    "fetch",
  ]);
  const container = reader.string("container");
  if (container === undefined) throw reader.error("container", "is required");
  if (!CONTAINER_NAME.test(container) && container !== "$root") {
    throw reader.error(
      "container",
      `must be 3 to 63 lowercase letters, digits and single hyphens, got "${container}"`,
    );
  }
  const out: AzureBackendOptions = { container };
  const connectionString = reader.string("connectionString");
  const accountName = reader.string("accountName");
  const accountUrl = reader.string("accountUrl");
  const dfsUrl = reader.string("dfsUrl");
  const accountKey = reader.string("accountKey");
  const sasToken = reader.string("sasToken");
  const credential = reader.raw("credential");

  for (const [key, value] of [["accountUrl", accountUrl], ["dfsUrl", dfsUrl]] as const) {
    if (value === undefined) continue;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw reader.error(key, "must be an absolute http(s) URL");
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw reader.error(key, "must be an absolute http(s) URL");
    }
  }
  if (credential !== undefined) {
    if (
      typeof credential !== "object" || credential === null ||
      typeof (credential as TokenCredentialLike).getToken !== "function"
    ) {
      throw reader.error("credential", "must be a TokenCredential (an object with getToken)");
    }
    out.credential = credential as TokenCredentialLike;
  }
  const authForms = [accountKey, sasToken, credential].filter((v) => v !== undefined).length;
  if (connectionString !== undefined) {
    if (accountName || accountUrl || authForms > 0) {
      throw reader.error(
        "connectionString",
        "cannot be combined with accountName, accountUrl, accountKey, sasToken or credential",
      );
    }
    if (!/AccountName=|SharedAccessSignature=|UseDevelopmentStorage=true/i.test(connectionString)) {
      throw reader.error("connectionString", "is not an Azure Storage connection string");
    }
    out.connectionString = connectionString;
  } else {
    if (accountName === undefined && accountUrl === undefined) {
      throw reader.error(
        "connectionString",
        "is required unless accountName or accountUrl is given",
      );
    }
    if (authForms > 1) {
      throw reader.error("accountKey", "accountKey, sasToken and credential are exclusive");
    }
    if (accountKey !== undefined && accountName === undefined) {
      throw reader.error("accountName", "is required with accountKey");
    }
    if (accountName !== undefined) out.accountName = accountName;
    if (accountUrl !== undefined) out.accountUrl = accountUrl;
    if (accountKey !== undefined) out.accountKey = accountKey;
    if (sasToken !== undefined) out.sasToken = sasToken.replace(/^\?/, "");
  }
  if (dfsUrl !== undefined) out.dfsUrl = dfsUrl;

  const hns = reader.raw("hns");
  if (hns !== undefined) {
    if (hns !== "auto" && hns !== true && hns !== false) {
      throw reader.error("hns", `must be "auto", true or false`);
    }
    out.hns = hns;
  }
  const fetchOption = reader.raw("fetch");
  if (fetchOption !== undefined) {
    if (typeof fetchOption !== "function") {
      throw reader.error("fetch", "must be a function with the signature of fetch");
    }
    out.fetch = fetchOption as AzureBackendOptions["fetch"];
  }
  const clientOptions = reader.record("clientOptions");
  if (clientOptions !== undefined) out.clientOptions = clientOptions;
  const blockSize = reader.positiveInteger("blockSize", MAX_BLOCK_SIZE);
  if (blockSize !== undefined) out.blockSize = blockSize;
  const concurrency = reader.positiveInteger("concurrency", 64);
  if (concurrency !== undefined) out.concurrency = concurrency;
  const strictPaths = reader.boolean("strictPaths");
  if (strictPaths !== undefined) out.strictPaths = strictPaths;
  const readIdleTimeoutMs = reader.nonNegativeInteger("readIdleTimeoutMs");
  if (readIdleTimeoutMs !== undefined) out.readIdleTimeoutMs = readIdleTimeoutMs;
  const retry = reader.record("retry");
  if (retry !== undefined) {
    const retryReader = new OptionReader(retry, `${keyPath}.retry`, [
      "maxTries",
      "retryDelayMs",
      "maxRetryDelayMs",
      "tryTimeoutMs",
      "maxResumes",
    ]);
    const parsed: AzureRetryOptions = {};
    const maxTries = retryReader.positiveInteger("maxTries", 100);
    if (maxTries !== undefined) parsed.maxTries = maxTries;
    const retryDelayMs = retryReader.nonNegativeInteger("retryDelayMs");
    if (retryDelayMs !== undefined) parsed.retryDelayMs = retryDelayMs;
    const maxRetryDelayMs = retryReader.nonNegativeInteger("maxRetryDelayMs");
    if (maxRetryDelayMs !== undefined) parsed.maxRetryDelayMs = maxRetryDelayMs;
    const tryTimeoutMs = retryReader.positiveInteger("tryTimeoutMs");
    if (tryTimeoutMs !== undefined) parsed.tryTimeoutMs = tryTimeoutMs;
    const maxResumes = retryReader.nonNegativeInteger("maxResumes");
    if (maxResumes !== undefined) parsed.maxResumes = maxResumes;
    out.retry = parsed;
  }
  // Endpoint and connection-string contents are checked now, not at first use.
  const { auth } = resolveAccount(out, keyPath);
  if (auth.kind === "default" && !hasDefaultCredential()) {
    throw reader.error("credential", `is required: ${NO_DEFAULT}`);
  }
  return out;
}
