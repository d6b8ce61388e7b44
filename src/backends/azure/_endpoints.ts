/**
 * The account's endpoints and authentication, worked out from the options
 * without I/O and without the Azure SDK, so that option validation (which the
 * edge-safe core runs) can reject an unusable account early. Private module.
 *
 * @module
 */

import { InvalidConfigError } from "../../errors.ts";
import type { AzureBackendOptions, TokenCredentialLike } from "./_options.ts";

/** How the backend authenticates. */
export interface Auth {
  kind: "key" | "sas" | "token" | "default" | "anonymous";
  accountName?: string;
  accountKey?: string;
  sasToken?: string;
  credential?: TokenCredentialLike;
}

/** The Blob and DFS endpoints of the account. */
export interface Endpoints {
  blobUrl: string;
  dfsUrl: string;
}

function invalid(keyPath: string, reason: string): InvalidConfigError {
  return new InvalidConfigError(`"${keyPath}" ${reason}`);
}

/**
 * Splits a connection string into its `Key=Value` parts (keys lowercased).
 * Values may contain `=` (base64 keys, SAS tokens).
 */
function parseConnectionString(text: string, keyPath: string): Map<string, string> {
  const parts = new Map<string, string>();
  for (const segment of text.split(";")) {
    const trimmed = segment.trim();
    if (trimmed === "") continue;
    const eq = trimmed.indexOf("=");
    if (eq <= 0) throw invalid(keyPath, "is malformed");
    parts.set(trimmed.slice(0, eq).trim().toLowerCase(), trimmed.slice(eq + 1).trim());
  }
  return parts;
}

const DEV_ACCOUNT = "devstoreaccount1";
const DEV_KEY =
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Refuses an account key that is not base64 (the form the portal shows), never quoting it. */
function checkKey(keyPath: string, key: string, reason: string): void {
  if (key === "" || !BASE64.test(key)) throw invalid(keyPath, reason);
}

function trimUrl(url: string): string {
  return url.replace(/\/+$/, "");
}

/** `https://acct.blob.core.windows.net` ↔ `https://acct.dfs.core.windows.net`; IP-style URLs stay. */
export function deriveDfsUrl(blobUrl: string): string {
  const url = new URL(blobUrl);
  const labels = url.hostname.split(".");
  const index = labels.indexOf("blob");
  if (index > 0) {
    labels[index] = "dfs";
    url.hostname = labels.join(".");
  }
  return trimUrl(url.toString());
}

function checkEndpoint(keyPath: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(keyPath, "must be an absolute http(s) URL");
  }
  if (url.search !== "" || url.hash !== "") {
    throw invalid(keyPath, "must not carry a query string; pass a SAS token as sasToken");
  }
  return trimUrl(url.toString());
}

/**
 * Works out the authentication and the endpoints from parsed options, without
 * I/O, so that the Registry can reject an unusable account at construction.
 *
 * @param options Parsed backend options.
 * @param keyPath The options' key path in error messages (`options` or `backends.x.options`).
 * @returns The authentication and the endpoints.
 * @throws {InvalidConfigError} For an endpoint or connection string that cannot be used.
 */
export function resolveAccount(
  options: AzureBackendOptions,
  keyPath = "options",
): { auth: Auth; endpoints: Endpoints } {
  if (options.connectionString !== undefined) {
    const parts = parseConnectionString(options.connectionString, `${keyPath}.connectionString`);
    if (parts.get("usedevelopmentstorage")?.toLowerCase() === "true") {
      const proxy = parts.get("developmentstorageproxyuri");
      const blobUrl = proxy
        ? `${trimUrl(proxy)}:10000/${DEV_ACCOUNT}`
        : `http://127.0.0.1:10000/${DEV_ACCOUNT}`;
      return {
        auth: { kind: "key", accountName: DEV_ACCOUNT, accountKey: DEV_KEY },
        endpoints: { blobUrl, dfsUrl: options.dfsUrl ?? blobUrl },
      };
    }
    const accountName = parts.get("accountname");
    const accountKey = parts.get("accountkey");
    const sas = parts.get("sharedaccesssignature");
    let blobUrl = parts.get("blobendpoint");
    if (blobUrl === undefined) {
      if (accountName === undefined) {
        throw invalid(`${keyPath}.connectionString`, "needs AccountName or BlobEndpoint");
      }
      const protocol = parts.get("defaultendpointsprotocol") ?? "https";
      const suffix = parts.get("endpointsuffix") ?? "core.windows.net";
      blobUrl = `${protocol}://${accountName}.blob.${suffix}`;
    }
    blobUrl = checkEndpoint(`${keyPath}.connectionString`, blobUrl);
    const dfsUrl = options.dfsUrl ?? deriveDfsUrl(blobUrl);
    let auth: Auth;
    if (accountKey !== undefined && accountKey !== "") {
      if (accountName === undefined) {
        throw invalid(`${keyPath}.connectionString`, "needs AccountName with AccountKey");
      }
      checkKey(`${keyPath}.connectionString`, accountKey, "has an AccountKey that is not base64");
      auth = { kind: "key", accountName, accountKey };
    } else if (sas !== undefined && sas !== "") {
      auth = { kind: "sas", sasToken: sas.replace(/^\?/, "") };
    } else {
      auth = { kind: "anonymous" };
    }
    return { auth, endpoints: { blobUrl, dfsUrl } };
  }
  const blobUrl = options.accountUrl !== undefined
    ? checkEndpoint(`${keyPath}.accountUrl`, options.accountUrl)
    : `https://${options.accountName}.blob.core.windows.net`;
  if (options.accountUrl === undefined && !/^[a-z0-9]{3,24}$/.test(options.accountName ?? "")) {
    throw invalid(`${keyPath}.accountName`, "must be 3 to 24 lowercase letters and digits");
  }
  const dfsUrl = options.dfsUrl !== undefined
    ? checkEndpoint(`${keyPath}.dfsUrl`, options.dfsUrl)
    : deriveDfsUrl(blobUrl);
  let auth: Auth;
  if (options.accountKey !== undefined) {
    checkKey(
      `${keyPath}.accountKey`,
      options.accountKey,
      "is not base64 (the form the portal shows)",
    );
    auth = { kind: "key", accountName: options.accountName, accountKey: options.accountKey };
  } else if (options.sasToken !== undefined) {
    auth = { kind: "sas", sasToken: options.sasToken };
  } else if (options.credential !== undefined) {
    auth = { kind: "token", credential: options.credential };
  } else {
    auth = { kind: "default" };
  }
  return { auth, endpoints: { blobUrl, dfsUrl } };
}
