/**
 * Azure Storage Shared Key request signing with Web Crypto only (no `node:`
 * module, no SDK), for the Blob and the Data Lake (DFS) endpoints, which share
 * the algorithm. Private module.
 *
 * The string to sign follows the rules for version 2015-02-21 and later
 * (https://learn.microsoft.com/rest/api/storageservices/authenticate-with-shared-key):
 *
 * ```text
 * VERB \n Content-Encoding \n Content-Language \n Content-Length (empty when 0) \n
 * Content-MD5 \n Content-Type \n Date \n If-Modified-Since \n If-Match \n
 * If-None-Match \n If-Unmodified-Since \n Range \n
 * CanonicalizedHeaders CanonicalizedResource
 * ```
 *
 * Choices where the documentation, the `@azure/storage-blob` SDK and Azurite
 * differ (each is a test in `_shared_key_test.ts` or `tests/azure/shared_key_test.ts`):
 *
 * - Content-Encoding comes before Content-Language, as documented and as
 *   Azurite checks; the SDK signs them the other way round (it never sends
 *   either header, so it never notices).
 * - `x-ms-` headers are sorted the way the service's .NET culture-aware
 *   comparison sorts them (`-` and `'` ignored at first), exactly as the SDK's
 *   `SharedKeyComparator` does. Header values are taken as `Headers` holds
 *   them (leading and trailing HTTP whitespace already removed) with any
 *   other leading whitespace trimmed; whitespace inside a value is kept, as
 *   the SDK and Azurite do.
 * - Query parameters are decoded as the server parses them (`+` is a space),
 *   names lowercased, sorted by code unit; a parameter with an empty value is
 *   kept (`prefix:`), and repeated names get their sorted values joined with
 *   commas, as documented. The SDK drops parameters with an empty value; it
 *   never sends any.
 * - The path is the URL's `pathname`: what `fetch` sends, percent-encoded.
 *
 * @module
 */

/** What the signer reads from a request: its method, its URL as it will be sent, and its headers. */
export interface SignableRequest {
  /** HTTP method, e.g. `GET`. */
  readonly method: string;
  /** The full URL the request goes to (path-style or host-style). */
  readonly url: string | URL;
  /** The headers as they will be sent, `Content-Length` included when there is a body. */
  readonly headers: Headers;
}

/** The standard headers of the string to sign, in their documented order. */
const STANDARD_HEADERS = [
  "content-encoding",
  "content-language",
  "content-length",
  "content-md5",
  "content-type",
  "date",
  "if-modified-since",
  "if-match",
  "if-none-match",
  "if-unmodified-since",
  "range",
] as const;

/**
 * Level-0 weights of the characters a header name can hold (lowercase token
 * characters), in ascending order: the en-US culture sort of the service,
 * as tabulated by the SDK's `SharedKeyComparator`. Characters not listed
 * (`-`, `'`) are ignored at this level.
 */
const LEVEL0_ORDER = "!#$%&*.^_`|~+0123456789abcdefghijklmnopqrstuvwxyz";

/** Weight at level 0: 0 for an ignored character, 1 past the end, the rank + 2 otherwise. */
function level0(name: string, i: number): number {
  if (i >= name.length) return 1;
  const rank = LEVEL0_ORDER.indexOf(name[i]!);
  return rank < 0 ? 0 : rank + 2;
}

/** Weight at the last level: only `'` and `-` weigh (`'` before `-`); 1 past the end. */
function level4(name: string, i: number): number {
  if (i >= name.length) return 1;
  return name[i] === "'" ? 2 : name[i] === "-" ? 3 : 0;
}

/**
 * Whether lowercase header name `a` sorts before `b` in the service's
 * culture-aware order. The same walk as the SDK's `SharedKeyComparator`
 * (level 2 tells only letter case apart, and names here are lowercase).
 */
function headerNameLess(a: string, b: string): boolean {
  const levels = [level0, level4];
  for (let level = 0; level < levels.length; level++) {
    const weight = levels[level]!;
    const last = level === levels.length - 1;
    let i = 0;
    let j = 0;
    while (true) {
      if (last && i !== j) return i > j;
      const wa = weight(a, i);
      const wb = weight(b, j);
      if (wa === 1 && wb === 1) break;
      if (wa === wb) {
        i++;
        j++;
      } else if (wa === 0) i++;
      else if (wb === 0) j++;
      else return wa < wb;
    }
  }
  return false;
}

/** The canonicalized `x-ms-` headers, one `name:value\n` each, in the service's order. */
function canonicalizedHeaders(headers: Headers): string {
  const names: string[] = [];
  // Headers iterates lowercase names, each once (repeated values joined with ", ").
  for (const [name] of headers) if (name.startsWith("x-ms-")) names.push(name);
  names.sort((a, b) => (headerNameLess(a, b) ? -1 : headerNameLess(b, a) ? 1 : 0));
  let out = "";
  for (const name of names) out += `${name}:${headers.get(name)!.trimStart()}\n`;
  return out;
}

/** The canonicalized resource: `/account/path` and a `\nname:values` line per query parameter. */
function canonicalizedResource(url: URL, accountName: string): string {
  let out = `/${accountName}${url.pathname || "/"}`;
  const params = new Map<string, string[]>();
  // URLSearchParams decodes as the server does: `+` is a space, then percent-decoding.
  for (const [name, value] of new URLSearchParams(url.search)) {
    const key = name.toLowerCase();
    const values = params.get(key);
    if (values) values.push(value);
    else params.set(key, [value]);
  }
  const names = [...params.keys()].sort();
  for (const name of names) out += `\n${name}:${params.get(name)!.sort().join(",")}`;
  return out;
}

/**
 * The Shared Key string to sign for a Blob or DFS request.
 *
 * @param request The request as it will be sent (method, full URL, headers).
 * @param accountName The storage account name.
 * @returns The string whose HMAC-SHA256 is the signature.
 */
export function stringToSign(request: SignableRequest, accountName: string): string {
  const url = typeof request.url === "string" ? new URL(request.url) : request.url;
  let out = request.method.toUpperCase();
  for (const name of STANDARD_HEADERS) {
    const value = request.headers.get(name) ?? "";
    out += "\n" + (name === "content-length" && value === "0" ? "" : value);
  }
  return out + "\n" + canonicalizedHeaders(request.headers) +
    canonicalizedResource(url, accountName);
}

/** Decodes a base64 account key, or says why it is not one. */
function decodeKey(accountKey: string): Uint8Array<ArrayBuffer> {
  let binary: string;
  try {
    binary = atob(accountKey);
  } catch (error) {
    throw new TypeError("The account key is not valid base64", { cause: error });
  }
  if (binary.length === 0) throw new TypeError("The account key is empty");
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/**
 * Signs requests for one storage account with its Shared Key (HMAC-SHA256,
 * Web Crypto). The key is imported once, as a non-extractable `CryptoKey`;
 * the signer keeps no other copy of it, so no printed form shows it.
 */
export class SharedKeySigner {
  /** The storage account name the signatures are for. */
  readonly accountName: string;
  readonly #key: Promise<CryptoKey>;

  /**
   * @param accountName The storage account name.
   * @param accountKey The account key, base64 as the portal shows it.
   * @throws {TypeError} When the account name is empty or the key is not base64.
   */
  constructor(accountName: string, accountKey: string) {
    if (accountName === "") throw new TypeError("The account name is empty");
    this.accountName = accountName;
    this.#key = crypto.subtle.importKey(
      "raw",
      decodeKey(accountKey),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    // A failed import surfaces on first use; never as an unhandled rejection.
    this.#key.catch(() => {});
  }

  /**
   * The base64 HMAC-SHA256 of `text` (UTF-8) with the account key: the
   * signature of a string to sign (requests, and service SAS tokens).
   *
   * @param text The string to sign.
   * @returns The signature, base64.
   */
  async hmac(text: string): Promise<string> {
    const mac = await crypto.subtle.sign("HMAC", await this.#key, new TextEncoder().encode(text));
    let binary = "";
    for (const byte of new Uint8Array(mac)) binary += String.fromCharCode(byte);
    return btoa(binary);
  }

  /**
   * The `Authorization` header value for `request`, as its headers are now.
   *
   * @param request The request as it will be sent (it must carry `x-ms-date` or `Date`).
   * @returns `SharedKey <account>:<signature>`.
   */
  async authorization(request: SignableRequest): Promise<string> {
    return `SharedKey ${this.accountName}:${await this.hmac(
      stringToSign(request, this.accountName),
    )}`;
  }

  /**
   * Stamps `x-ms-date` with `now` and sets `Authorization` on the request's
   * headers. Sign again (a fresh date) before each retry.
   *
   * @param request The request as it will be sent.
   * @param now The request time (default: the current time).
   */
  async sign(request: SignableRequest, now: Date = new Date()): Promise<void> {
    request.headers.set("x-ms-date", now.toUTCString());
    request.headers.set("authorization", await this.authorization(request));
  }
}
