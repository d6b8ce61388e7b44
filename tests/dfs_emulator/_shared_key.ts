/**
 * Shared Key verification for Blob and DFS requests.
 *
 * The string to sign is the Blob/Queue/File/DFS one (version 2015-02-21+):
 * VERB, Content-Encoding, Content-Language, Content-Length (empty when 0),
 * Content-MD5, Content-Type, Date, If-Modified-Since, If-Match, If-None-Match,
 * If-Unmodified-Since, Range, then the canonicalized `x-ms-` headers and the
 * canonicalized resource `/account/path` + sorted lowercase query parameters.
 *
 * A few harmless variants are accepted so that every client the tests use
 * verifies: the JS SDK swaps Content-Encoding and Content-Language in its
 * signer, drops query parameters with empty values, and sorts headers the way
 * .NET's culture-aware comparison does.
 *
 * @module
 */

import { createHmac, timingSafeEqual } from "node:crypto";
import { Buffer } from "node:buffer";

/** What the verifier needs from a request. */
export interface SignedRequest {
  method: string;
  /** lowercased header names, as node:http gives them */
  headers: Record<string, string | string[] | undefined>;
  /** path exactly as sent (percent-encoded) */
  rawPath: string;
  /** query string exactly as sent, without the leading `?` */
  rawQuery: string;
}

function header(req: SignedRequest, name: string): string {
  const v = req.headers[name];
  if (v === undefined) return "";
  const s = Array.isArray(v) ? v.join(",") : v;
  if (name === "content-length" && s === "0") return "";
  return s;
}

/** Primary sort weight of one character: `-` and `'` are ignorable, symbols < digits < letters. */
function weight(ch: string): number {
  const c = ch.charCodeAt(0);
  if (ch === "-" || ch === "'") return -1;
  if (c >= 0x61 && c <= 0x7a) return 0x300 + (c - 0x61);
  if (c >= 0x41 && c <= 0x5a) return 0x300 + (c - 0x41);
  if (c >= 0x30 && c <= 0x39) return 0x200 + (c - 0x30);
  if (c < 0x80) return 0x100 + c;
  return 0x10000 + c;
}

function cultureKey(name: string): number[] {
  const out: number[] = [];
  for (const ch of name) {
    const w = weight(ch);
    if (w >= 0) out.push(w);
  }
  return out;
}

function cultureCompare(a: string, b: string): number {
  const ka = cultureKey(a);
  const kb = cultureKey(b);
  const n = Math.min(ka.length, kb.length);
  for (let i = 0; i < n; i++) {
    if (ka[i] !== kb[i]) return ka[i]! - kb[i]!;
  }
  if (ka.length !== kb.length) return ka.length - kb.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

function ordinalCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function canonicalHeaders(req: SignedRequest, compare: (a: string, b: string) => number): string {
  const names = Object.keys(req.headers)
    .map((n) => n.toLowerCase())
    .filter((n) => n.startsWith("x-ms-"));
  const unique = [...new Set(names)].sort(compare);
  let out = "";
  for (const name of unique) {
    const v = req.headers[name];
    const s = v === undefined ? "" : Array.isArray(v) ? v.join(",") : v;
    out += `${name.trimEnd()}:${s.trimStart()}\n`;
  }
  return out;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * Canonicalized resource. `sdkStyle` mirrors the JS SDK signer (parameters
 * with an empty value or several `=` are left out; last value wins); the other
 * style follows the documented rules (all parameters, repeated names joined
 * with commas in sorted order).
 */
function canonicalResource(req: SignedRequest, account: string, sdkStyle: boolean): string {
  let out = `/${account}${req.rawPath || "/"}`;
  const params = new Map<string, string[]>();
  if (req.rawQuery !== "") {
    for (const part of req.rawQuery.split("&")) {
      if (part === "") continue;
      const eq = part.indexOf("=");
      if (sdkStyle) {
        if (!(eq > 0 && eq === part.lastIndexOf("=") && eq < part.length - 1)) continue;
      }
      const rawKey = eq >= 0 ? part.slice(0, eq) : part;
      const rawValue = eq >= 0 ? part.slice(eq + 1) : "";
      const key = (sdkStyle ? rawKey : safeDecode(rawKey)).toLowerCase();
      const value = safeDecode(rawValue);
      if (sdkStyle) params.set(key, [value]);
      else params.set(key, [...(params.get(key) ?? []), value]);
    }
  }
  for (const key of [...params.keys()].sort()) {
    const values = params.get(key)!;
    if (!sdkStyle) values.sort();
    out += `\n${key}:${values.join(",")}`;
  }
  return out;
}

/** The documented string to sign (with optional variants, see module doc). */
export function stringToSign(
  req: SignedRequest,
  account: string,
  variant: { swapEncodingLanguage?: boolean; ordinalHeaderSort?: boolean; sdkQuery?: boolean } = {},
): string {
  const enc = header(req, "content-encoding");
  const lang = header(req, "content-language");
  return [
    req.method.toUpperCase(),
    variant.swapEncodingLanguage ? lang : enc,
    variant.swapEncodingLanguage ? enc : lang,
    header(req, "content-length"),
    header(req, "content-md5"),
    header(req, "content-type"),
    header(req, "date"),
    header(req, "if-modified-since"),
    header(req, "if-match"),
    header(req, "if-none-match"),
    header(req, "if-unmodified-since"),
    header(req, "range"),
  ].join("\n") +
    "\n" +
    canonicalHeaders(req, variant.ordinalHeaderSort ? ordinalCompare : cultureCompare) +
    canonicalResource(req, account, variant.sdkQuery ?? false);
}

/** HMAC-SHA256 signature (base64) of `text` with the base64 account key. */
export function sign(text: string, accountKey: string): string {
  return createHmac("sha256", Buffer.from(accountKey, "base64")).update(text, "utf8").digest(
    "base64",
  );
}

/** Why a request failed authentication, or undefined when it passed. */
export function verifySharedKey(
  req: SignedRequest,
  account: string,
  accountKey: string,
): string | undefined {
  const auth = header(req, "authorization");
  if (auth === "") return "The Authorization header is missing (anonymous access is not emulated).";
  const m = /^SharedKey ([^:]+):(.+)$/.exec(auth.trim());
  if (m === null) return "Only the SharedKey authorization scheme is emulated.";
  if (m[1] !== account) return `The account ${m[1]} does not match ${account}.`;
  const given = Buffer.from(m[2]!, "base64");
  const tried = new Set<string>();
  for (const swapEncodingLanguage of [false, true]) {
    for (const ordinalHeaderSort of [false, true]) {
      for (const sdkQuery of [false, true]) {
        const text = stringToSign(req, account, {
          swapEncodingLanguage,
          ordinalHeaderSort,
          sdkQuery,
        });
        if (tried.has(text)) continue;
        tried.add(text);
        const expected = Buffer.from(sign(text, accountKey), "base64");
        if (expected.length === given.length && timingSafeEqual(expected, given)) return undefined;
      }
    }
  }
  return "The MAC signature found in the HTTP request is not the same as any computed signature.";
}
