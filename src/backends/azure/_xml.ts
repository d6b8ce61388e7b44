/**
 * The Blob service's XML, read with fast-xml-parser (pure JavaScript, runs on
 * every runtime) and written for the one document the backend sends (the
 * block list). Private module.
 *
 * fast-xml-parser refuses or renames element names that are JavaScript
 * property names (`constructor`, `__proto__`, `toString`, ...), and such
 * names are valid metadata names, which List Blobs returns as elements. So
 * every element name is read with a leading space, which no XML name can
 * hold: a metadata name is data, never a property of the parser's objects.
 *
 * @module
 */

import { XMLParser } from "fast-xml-parser";
import type { HttpAttributes } from "../../types.ts";

/** Prefix of every element name in the parsed tree (see the module doc). */
const P = " ";

/** Paths of the elements that repeat, as the parser names them. */
const REPEATED = new Set([
  `${P}EnumerationResults.${P}Blobs.${P}Blob`,
  `${P}EnumerationResults.${P}Blobs.${P}BlobPrefix`,
]);

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: "@",
  parseTagValue: false,
  parseAttributeValue: false,
  // Names may start or end with spaces.
  trimValues: false,
  // Numeric character references (`&#xD;`) as well as the five XML entities.
  htmlEntities: true,
  // The parser may pass a name through twice (self-closing elements): prefix once.
  transformTagName: (name) => (name.startsWith(P) ? name : P + name),
  isArray: (_name, jpath) => REPEATED.has(String(jpath)),
});

type Node = Record<string, unknown>;

function isNode(value: unknown): value is Node {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function child(node: unknown, name: string): unknown {
  return isNode(node) ? node[P + name] : undefined;
}

/** The text of an element: a string, or `#text` beside attributes; "" when empty. */
function text(node: unknown): string {
  if (typeof node === "string") return node;
  const inner = isNode(node) ? node["#text"] : undefined;
  return typeof inner === "string" ? inner : "";
}

/** A `<Name>`; `Encoded="true"` marks a percent-encoded name (characters XML cannot carry). */
function nameOf(node: unknown): string {
  const value = text(node);
  return isNode(node) && node["@Encoded"] === "true" ? decodeURIComponent(value) : value;
}

function list(node: unknown): unknown[] {
  return Array.isArray(node) ? node : [];
}

/** The `Properties` element of each HTTP attribute in a List Blobs page. */
const LISTED_ATTRIBUTES: readonly (readonly [keyof HttpAttributes, string])[] = [
  ["cacheControl", "Cache-Control"],
  ["contentEncoding", "Content-Encoding"],
  ["contentDisposition", "Content-Disposition"],
  ["contentLanguage", "Content-Language"],
];

/** One blob of a List Blobs page. */
export interface ListedBlob {
  /** Full blob name. */
  name: string;
  /** `Content-Length`, bytes. */
  contentLength: number;
  /** `Etag` exactly as the service sent it. */
  etag: string;
  /** `Last-Modified`. */
  lastModified: Date;
  /** `Content-Type`, when set. */
  contentType?: string;
  /** The stored HTTP attributes that are set. */
  attributes: HttpAttributes;
  /** The stored `Content-MD5` (base64), when set. */
  contentMd5?: string;
  /** `x-ms-meta-*` values by name (with `include=metadata`; otherwise empty). */
  metadata: Record<string, string>;
}

/** One page of List Blobs. */
export interface BlobListPage {
  blobs: ListedBlob[];
  /** `BlobPrefix` names (with a delimiter), e.g. `dir/`. */
  prefixes: string[];
  /** The marker of the next page; undefined on the last page. */
  nextMarker?: string;
}

/**
 * Reads one List Blobs response body.
 *
 * @param xml The response body.
 * @returns The blobs, the prefixes and the next marker.
 * @throws {Error} When the body is not an `EnumerationResults` document.
 */
export function parseBlobList(xml: string): BlobListPage {
  const root = child(parser.parse(xml), "EnumerationResults");
  if (!isNode(root)) {
    throw new Error("The List Blobs response is not an EnumerationResults document");
  }
  const blobs = child(root, "Blobs");
  const page: BlobListPage = {
    blobs: list(child(blobs, "Blob")).map((blob) => {
      const properties = child(blob, "Properties");
      const property = (name: string) => text(child(properties, name));
      const metadata = child(blob, "Metadata");
      const entry: ListedBlob = {
        name: nameOf(child(blob, "Name")),
        contentLength: Number(property("Content-Length")),
        etag: property("Etag"),
        lastModified: new Date(property("Last-Modified")),
        attributes: {},
        metadata: Object.fromEntries(
          isNode(metadata)
            ? Object.entries(metadata).filter(([k]) => k.startsWith(P)).map((
              [k, v],
            ) => [k.slice(P.length), text(v)])
            : [],
        ),
      };
      const contentType = property("Content-Type");
      if (contentType !== "") entry.contentType = contentType;
      for (const [name, element] of LISTED_ATTRIBUTES) {
        const value = property(element);
        if (value !== "") entry.attributes[name] = value;
      }
      const md5 = property("Content-MD5");
      if (md5 !== "") entry.contentMd5 = md5;
      return entry;
    }),
    prefixes: list(child(blobs, "BlobPrefix")).map((prefix) => nameOf(child(prefix, "Name"))),
  };
  const marker = text(child(root, "NextMarker"));
  if (marker !== "") page.nextMarker = marker;
  return page;
}

/**
 * Reads the `<Error><Code/><Message/></Error>` body of a failed Blob request.
 *
 * @param xml The response body (may be empty or not XML at all).
 * @returns The code, the message and an authentication failure's detail, each when present;
 *   never throws.
 */
export function parseStorageError(
  xml: string,
): { code?: string; message?: string; detail?: string } {
  let error: unknown;
  try {
    error = child(parser.parse(xml), "Error");
  } catch {
    return {};
  }
  const out: { code?: string; message?: string; detail?: string } = {};
  const code = text(child(error, "Code"));
  const message = text(child(error, "Message"));
  const detail = text(child(error, "AuthenticationErrorDetail"));
  if (code !== "") out.code = code;
  if (message !== "") out.message = message;
  if (detail !== "") out.detail = detail;
  return out;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * The Put Block List body committing `blockIds` in order (each the latest
 * version of that block).
 *
 * @param blockIds Base64 block ids, as staged with Put Block.
 * @returns The XML document.
 * @throws {TypeError} When an id is not base64 (so it could not be staged either).
 */
export function blockListXml(blockIds: readonly string[]): string {
  for (const id of blockIds) {
    if (!BASE64.test(id)) throw new TypeError(`The block id "${id}" is not base64`);
  }
  return `<?xml version="1.0" encoding="utf-8"?><BlockList>${
    blockIds.map((id) => `<Latest>${id}</Latest>`).join("")
  }</BlockList>`;
}

/**
 * The Get User Delegation Key request body.
 *
 * @param start `<Start>`, ISO 8601 UTC without fractions (`2026-12-01T12:00:00Z`).
 * @param expiry `<Expiry>`, in the same form.
 * @returns The XML document.
 */
export function userDelegationKeyRequestXml(start: string, expiry: string): string {
  return `<?xml version="1.0" encoding="utf-8"?><KeyInfo><Start>${start}</Start><Expiry>${expiry}</Expiry></KeyInfo>`;
}

/** A user delegation key, as Get User Delegation Key returns it (every field as sent). */
export interface UserDelegationKeyXml {
  /** `SignedOid`: the object id of the principal the key belongs to. */
  signedObjectId: string;
  /** `SignedTid`: its tenant. */
  signedTenantId: string;
  /** `SignedStart`, ISO 8601. */
  signedStart: string;
  /** `SignedExpiry`, ISO 8601. */
  signedExpiry: string;
  /** `SignedService`, `b`. */
  signedService: string;
  /** `SignedVersion`: the service version that issued the key. */
  signedVersion: string;
  /** `Value`: the base64 key. */
  value: string;
}

/**
 * Reads a Get User Delegation Key response body.
 *
 * @param xml The response body.
 * @returns The key's fields.
 * @throws {Error} When the body is not a `UserDelegationKey` document with a `Value`.
 */
export function parseUserDelegationKey(xml: string): UserDelegationKeyXml {
  const root = child(parser.parse(xml), "UserDelegationKey");
  const field = (name: string) => text(child(root, name)).trim();
  if (!isNode(root) || field("Value") === "") {
    throw new Error("The Get User Delegation Key response is not a UserDelegationKey document");
  }
  return {
    signedObjectId: field("SignedOid"),
    signedTenantId: field("SignedTid"),
    signedStart: field("SignedStart"),
    signedExpiry: field("SignedExpiry"),
    signedService: field("SignedService"),
    signedVersion: field("SignedVersion"),
    value: field("Value"),
  };
}

/** An element that may occur once or more: the parser gives one node, an array, or nothing. */
function many(node: unknown): unknown[] {
  if (node === undefined) return [];
  return Array.isArray(node) ? node : [node];
}

/** The block ids of a Get Block List answer. */
export interface BlockListIds {
  /** Ids of the committed blocks, in content order. */
  committed: string[];
  /** Ids of the staged, uncommitted blocks. */
  uncommitted: string[];
}

/**
 * Reads one Get Block List response body.
 *
 * @param xml The response body.
 * @returns The committed and the uncommitted block ids (base64, as staged), in order.
 * @throws {Error} When the body is not a `BlockList` document.
 */
export function parseBlockList(xml: string): BlockListIds {
  const root = child(parser.parse(xml), "BlockList");
  if (root === undefined || typeof root === "string" && root.trim() !== "") {
    throw new Error("The Get Block List response is not a BlockList document");
  }
  const ids = (name: string) =>
    many(child(child(root, name), "Block")).map((block) => text(child(block, "Name")));
  return { committed: ids("CommittedBlocks"), uncommitted: ids("UncommittedBlocks") };
}
