/**
 * Signed URLs for one blob: a blob-scoped service SAS signed with the account
 * key, or a user delegation SAS with a token credential. Never an account SAS.
 * Web Crypto only (no SDK, no `node:` module). Private module.
 *
 * The strings to sign are those of service version {@link API_VERSION}
 * (2025-01-05), field for field as `@azure/storage-blob` builds them
 * (`generateBlobSASQueryParameters20201206` and
 * `generateBlobSASQueryParametersUDK20201206` in `BlobSASSignatureValues.js`),
 * and the query string has the SDK's parameter order and encoding
 * (`SASQueryParameters.toString`): `_sas_test.ts` compares both byte for byte.
 *
 * @module
 */

import type {
  BackendSignedUploadOptions,
  BackendSignedUrlOptions,
  SignedUpload,
} from "../../backend.ts";
import { CapabilityNotSupportedError } from "../../errors.ts";
import { API_VERSION, type AzureHttp } from "./_http.ts";
import { BACKEND } from "./_errors.ts";
import { parseUserDelegationKey, userDelegationKeyRequestXml } from "./_xml.ts";

/** Tolerated clock skew between this machine and the service. */
const SKEW_MS = 5 * 60 * 1000;

/** Whether credentials of this kind can sign URLs. */
export function canSign(kind: AzureHttp["authKind"]): boolean {
  return kind === "key" || kind === "token" || kind === "default";
}

/** What a blob SAS grants, and on what. */
export interface BlobSasValues {
  /** The storage account name (part of the signed resource). */
  accountName: string;
  /** The container. */
  container: string;
  /** The blob name, unencoded. */
  blobName: string;
  /** `sp`: permission letters in the service's order (`r`, `c`, `w`, `d`). */
  permissions: string;
  /** `st`. */
  startsOn: Date;
  /** `se`. */
  expiresOn: Date;
  /** `spr`. */
  protocol: "https" | "https,http";
  /** `rsct`: Content-Type of the response. */
  contentType?: string;
  /** `rscd`: Content-Disposition of the response. */
  contentDisposition?: string;
}

/** A user delegation key (Get User Delegation Key). */
export interface UserDelegationKey {
  /** `skoid`. */
  signedObjectId: string;
  /** `sktid`. */
  signedTenantId: string;
  /** `skt`. */
  signedStartsOn: Date;
  /** `ske`. */
  signedExpiresOn: Date;
  /** `sks`. */
  signedService: string;
  /** `skv`. */
  signedVersion: string;
  /** The base64 key. */
  value: string;
}

/** ISO 8601 UTC without fractions, as the service and the SDK write SAS times. */
export function sasTime(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

/** `sp` for the requested permissions: `write` is create and write. */
export function sasPermissions(permissions: readonly string[]): string {
  return (permissions.includes("read") ? "r" : "") +
    (permissions.includes("write") ? "cw" : "") +
    (permissions.includes("delete") ? "d" : "");
}

/** The query string from `[name, value]` pairs in order; empty values are left out. */
function query(pairs: [string, string | undefined][]): string {
  return pairs.filter((pair): pair is [string, string] => !!pair[1])
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`)
    .join("&");
}

function base64(bytes: ArrayBuffer): string {
  let binary = "";
  for (const byte of new Uint8Array(bytes)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** HMAC-SHA256 (base64) of `text` with a base64 key. */
async function hmacWithKey(keyBase64: string, text: string): Promise<string> {
  let raw: Uint8Array;
  try {
    raw = Uint8Array.from(atob(keyBase64), (c) => c.charCodeAt(0));
  } catch (cause) {
    throw new TypeError("The user delegation key is not base64", { cause });
  }
  const key = await crypto.subtle.importKey(
    "raw",
    raw as Uint8Array<ArrayBuffer>,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return base64(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(text)));
}

/**
 * The query string of a blob-scoped service SAS (`sr=b`).
 *
 * @param values What the SAS grants.
 * @param hmacBase64 HMAC-SHA256 (base64) with the account key.
 * @returns The SAS query string (no leading `?`).
 */
export async function serviceSasQuery(
  values: BlobSasValues,
  hmacBase64: (stringToSign: string) => Promise<string>,
): Promise<string> {
  const st = sasTime(values.startsOn);
  const se = sasTime(values.expiresOn);
  const stringToSign = [
    values.permissions,
    st,
    se,
    `/blob/${values.accountName}/${values.container}/${values.blobName}`,
    "", // signed identifier (stored access policy)
    "", // signed IP
    values.protocol,
    API_VERSION,
    "b", // signed resource
    "", // snapshot time
    "", // encryption scope
    "", // rscc
    values.contentDisposition ?? "",
    "", // rsce
    "", // rscl
    values.contentType ?? "",
  ].join("\n");
  const sig = await hmacBase64(stringToSign);
  return query([
    ["sv", API_VERSION],
    ["spr", values.protocol],
    ["st", st],
    ["se", se],
    ["sr", "b"],
    ["sp", values.permissions],
    ["rscd", values.contentDisposition],
    ["rsct", values.contentType],
    ["sig", sig],
  ]);
}

/**
 * The query string of a blob-scoped user delegation SAS (`sr=b`).
 *
 * @param values What the SAS grants.
 * @param key The user delegation key that signs it.
 * @returns The SAS query string (no leading `?`).
 */
export async function userDelegationSasQuery(
  values: BlobSasValues,
  key: UserDelegationKey,
): Promise<string> {
  const st = sasTime(values.startsOn);
  const se = sasTime(values.expiresOn);
  const skt = sasTime(key.signedStartsOn);
  const ske = sasTime(key.signedExpiresOn);
  const stringToSign = [
    values.permissions,
    st,
    se,
    `/blob/${values.accountName}/${values.container}/${values.blobName}`,
    key.signedObjectId,
    key.signedTenantId,
    skt,
    ske,
    key.signedService,
    key.signedVersion,
    "", // preauthorized agent object id
    "", // agent object id
    "", // correlation id
    "", // signed IP
    values.protocol,
    API_VERSION,
    "b", // signed resource
    "", // snapshot time
    "", // encryption scope
    "", // rscc
    values.contentDisposition ?? "",
    "", // rsce
    "", // rscl
    values.contentType ?? "",
  ].join("\n");
  const sig = await hmacWithKey(key.value, stringToSign);
  return query([
    ["sv", API_VERSION],
    ["spr", values.protocol],
    ["st", st],
    ["se", se],
    ["skoid", key.signedObjectId],
    ["sktid", key.signedTenantId],
    ["skt", skt],
    ["ske", ske],
    ["sks", key.signedService],
    ["skv", key.signedVersion],
    ["sr", "b"],
    ["sp", values.permissions],
    ["rscd", values.contentDisposition],
    ["rsct", values.contentType],
    ["sig", sig],
  ]);
}

/** Suffixes of secondary and dual-stack host names, as the SDK strips them. */
const ACCOUNT_SUFFIXES = [
  "-secondary-ipv6",
  "-secondary-dualstack",
  "-ipv6",
  "-dualstack",
  "-secondary",
];
/** Ports of path-style (emulator) endpoints, as the SDK lists them. */
const PATH_STYLE_PORTS = /^1[01][01]0[0-4]$/;
const IP_STYLE_HOST =
  /^.*:.*:.*$|^(localhost|host.docker.internal)(:[0-9]+)?$|^(\d|[1-9]\d|1\d\d|2[0-4]\d|25[0-5])(\.(\d|[1-9]\d|1\d\d|2[0-4]\d|25[0-5])){3}(:[0-9]+)?$/;

/**
 * The account name as the SDK reads it from a blob endpoint (`getAccountNameFromUrl`):
 * the first label of `<account>.blob.<suffix>`, else the first path segment of a
 * path-style endpoint (IP address, `localhost`, an emulator port), else "".
 *
 * @param blobUrl The blob endpoint.
 * @returns The account name, or "".
 */
export function accountNameOf(blobUrl: string): string {
  const url = new URL(blobUrl);
  const labels = url.hostname.split(".");
  if (labels[1] === "blob") {
    const label = labels[0]!;
    const suffix = ACCOUNT_SUFFIXES.find((s) => label.endsWith(s));
    return suffix ? label.slice(0, -suffix.length) : label;
  }
  if (IP_STYLE_HOST.test(url.host) || PATH_STYLE_PORTS.test(url.port)) {
    return url.pathname.split("/")[1] ?? "";
  }
  return "";
}

/**
 * Asks the service for a user delegation key (Get User Delegation Key).
 *
 * @param http The transport (token-authenticated).
 * @param startsOn Start of the key's validity.
 * @param expiresOn End of the key's validity.
 * @param signal Aborts the request.
 * @returns The key.
 * @throws {AzureHttpError} When the service refuses.
 */
export async function getUserDelegationKey(
  http: AzureHttp,
  startsOn: Date,
  expiresOn: Date,
  signal?: AbortSignal,
): Promise<UserDelegationKey> {
  const response = await http.send({
    method: "POST",
    query: { restype: "service", comp: "userdelegationkey" },
    headers: { "content-type": "application/xml; charset=utf-8" },
    body: userDelegationKeyRequestXml(sasTime(startsOn), sasTime(expiresOn)),
    signal,
  });
  const key = parseUserDelegationKey(await response.text());
  const date = (text: string, name: string) => {
    const value = new Date(text);
    if (Number.isNaN(value.getTime())) {
      throw new Error(`The user delegation key has an invalid ${name} "${text}"`);
    }
    return value;
  };
  return {
    signedObjectId: key.signedObjectId,
    signedTenantId: key.signedTenantId,
    signedStartsOn: date(key.signedStart, "SignedStart"),
    signedExpiresOn: date(key.signedExpiry, "SignedExpiry"),
    signedService: key.signedService,
    signedVersion: key.signedVersion,
    value: key.value,
  };
}

/**
 * A URL granting `options.permissions` on blob `key` until `expiresIn` seconds from now.
 *
 * @param http The transport of the backend.
 * @param key Blob key.
 * @param options Lifetime, permissions, response headers, signal.
 * @returns The signed URL.
 * @throws {CapabilityNotSupportedError} For SAS-token or anonymous credentials.
 * @throws {AzureHttpError} When the service refuses a user delegation key.
 */
export async function signBlobUrl(
  http: AzureHttp,
  key: string,
  options: BackendSignedUrlOptions,
): Promise<string> {
  const { url } = await signBlob(http, key, sasPermissions(options.permissions), options);
  return url;
}

/** Largest block of Put Block (service version 2019-12-12 and later). */
export const MAX_BLOCK_SIZE = 4000 * 1024 * 1024;
/** Most blocks of one block blob. */
export const MAX_BLOCKS = 50_000;

/**
 * A signed upload of blob `key`: a blob SAS with `c` (create-only: the service
 * refuses to replace an existing blob, and `c` allows Put Blob only) or `cw`
 * (overwrite; Put Block and Put Block List with the same URL), and the headers
 * a Put Blob needs.
 *
 * @param http The transport of the backend.
 * @param key Blob key.
 * @param options Lifetime, overwrite, content type, signal.
 * @returns The upload description.
 * @throws {CapabilityNotSupportedError} For SAS-token or anonymous credentials.
 * @throws {AzureHttpError} When the service refuses a user delegation key.
 */
export async function signBlobUpload(
  http: AzureHttp,
  key: string,
  options: BackendSignedUploadOptions,
): Promise<SignedUpload> {
  const { url, expiresOn } = await signBlob(http, key, options.overwrite ? "cw" : "c", {
    expiresIn: options.expiresIn,
    signal: options.signal,
  });
  const headers: Record<string, string> = { "x-ms-blob-type": "BlockBlob" };
  if (options.contentType !== undefined) headers["content-type"] = options.contentType;
  if (!options.overwrite) headers["if-none-match"] = "*";
  const upload: SignedUpload = {
    url,
    method: "PUT",
    headers,
    expiresAt: expiresOn,
    overwrite: options.overwrite,
  };
  if (options.overwrite) {
    upload.blocks = {
      protocol: "azure-blocks",
      maxBlockSize: MAX_BLOCK_SIZE,
      maxBlocks: MAX_BLOCKS,
    };
  }
  return upload;
}

/** Signs a blob SAS with the `sp` letters given; returns the URL and its expiry. */
async function signBlob(
  http: AzureHttp,
  key: string,
  permissions: string,
  options: Pick<
    BackendSignedUrlOptions,
    "expiresIn" | "contentType" | "contentDisposition" | "signal"
  >,
): Promise<{ url: string; expiresOn: Date }> {
  if (!canSign(http.authKind)) {
    throw new CapabilityNotSupportedError(
      "signed_url",
      { path: key, backend: BACKEND },
      "Signed URLs need an account key or a token credential, not a SAS token",
    );
  }
  const url = http.url(key);
  const now = Date.now();
  const values: BlobSasValues = {
    accountName: http.accountName ?? accountNameOf(http.blobUrl),
    container: http.container,
    blobName: key,
    permissions,
    startsOn: new Date(now - SKEW_MS),
    // Whole seconds: the SAS carries no fractions, so expiresOn is exact.
    expiresOn: new Date(Math.floor(now / 1000) * 1000 + options.expiresIn * 1000),
    protocol: url.startsWith("https:") ? "https" : "https,http",
  };
  if (options.contentType !== undefined) values.contentType = options.contentType;
  if (options.contentDisposition !== undefined) {
    values.contentDisposition = options.contentDisposition;
  }
  const sas = http.authKind === "key"
    ? await serviceSasQuery(values, (text) => http.hmacBase64(text))
    : await userDelegationSasQuery(
      values,
      await getUserDelegationKey(http, values.startsOn, values.expiresOn, options.signal),
    );
  return { url: `${url}?${sas}`, expiresOn: values.expiresOn };
}
