/**
 * Checks for every value that becomes an HTTP header or stored metadata, run
 * by the Store before any I/O so that every backend accepts and refuses the
 * same values (Azure's rules, the strictest). Private module.
 *
 * @module
 */

import type { HttpAttributes } from "./types.ts";

/** The names of {@link HttpAttributes}, in a stable order. */
export const HTTP_ATTRIBUTES: readonly (keyof HttpAttributes)[] = Object.freeze([
  "cacheControl",
  "contentEncoding",
  "contentDisposition",
  "contentLanguage",
]);

/**
 * The HTTP attributes that are set in `options` (copied, in a stable order).
 *
 * @param options A write's options.
 * @returns Only the attributes that are not `undefined`.
 */
export function httpAttributesOf(options: HttpAttributes): HttpAttributes {
  const out: HttpAttributes = {};
  for (const name of HTTP_ATTRIBUTES) {
    if (options[name] !== undefined) out[name] = options[name];
  }
  return out;
}

/** The most bytes of metadata names plus values Azure accepts on one file. */
export const MAX_METADATA_BYTES = 8 * 1024;

/** RFC 9110 `token`. */
const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
/** RFC 9110 `quoted-string` (ASCII only). */
const QUOTED = '"(?:[\\t \\x21\\x23-\\x5b\\x5d-\\x7e]|\\\\[\\t \\x21-\\x7e])*"';
/** `type/subtype *( OWS ";" OWS parameter )` (RFC 9110 §8.3.1), ASCII only. */
const MEDIA_TYPE = new RegExp(
  `^${TOKEN}/${TOKEN}(?:[\\t ]*;[\\t ]*${TOKEN}=(?:${TOKEN}|${QUOTED}))*$`,
);
/** A header value: visible ASCII and inner spaces or tabs, nothing at either edge. */
const HEADER_VALUE = /^(?:[\x21-\x7e](?:[\t \x21-\x7e]*[\x21-\x7e])?)$/;
/** Azure metadata names are C# identifiers, restricted to ASCII. */
const METADATA_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A value quoted for an error message, with control characters escaped. */
function quote(value: string): string {
  const shown = value.length > 60 ? `${value.slice(0, 60)}…` : value;
  return JSON.stringify(shown);
}

/** Why `value` is not a header value, or `undefined` when it is one. */
function headerValueProblem(value: string): string | undefined {
  if (HEADER_VALUE.test(value)) return undefined;
  if (value === "") return "it is empty";
  if (/[\r\n\0]/.test(value)) return "it contains a line break or NUL";
  // deno-lint-ignore no-control-regex -- the whole ASCII range, written out
  if (/[^\x00-\x7f]/.test(value)) return "it contains a non-ASCII character";
  // deno-lint-ignore no-control-regex -- finding control characters is the point
  if (/[\x00-\x1f\x7f]/.test(value)) return "it contains a control character";
  return "it starts or ends with whitespace";
}

/**
 * Whether a string is a valid HTTP header value as this library sends one
 * (visible ASCII with inner spaces, no control character, not empty).
 *
 * @param value The candidate value.
 * @returns `true` when it can be sent as it is.
 */
export function isHeaderValue(value: unknown): value is string {
  return typeof value === "string" && HEADER_VALUE.test(value);
}

/**
 * Checks a value that becomes an HTTP header (for example a signed URL's
 * `contentDisposition`).
 *
 * @param name The option's name, for the message.
 * @param value The value.
 * @throws {TypeError} When it is not a string or not a valid header value.
 */
export function checkHeaderValue(name: string, value: unknown): void {
  if (typeof value !== "string") {
    throw new TypeError(`${name} must be a string, got ${typeof value}`);
  }
  const problem = headerValueProblem(value);
  if (problem !== undefined) {
    throw new TypeError(`${name} ${quote(value)} is not a valid header value: ${problem}`);
  }
}

/**
 * Checks a MIME type: a valid header value of the form `type/subtype` with
 * optional `; name=value` parameters.
 *
 * @param name The option's name, for the message.
 * @param value The value.
 * @throws {TypeError} When it is not such a string.
 */
export function checkContentType(name: string, value: unknown): void {
  checkHeaderValue(name, value);
  if (!MEDIA_TYPE.test(value as string)) {
    throw new TypeError(
      `${name} ${quote(value as string)} is not a MIME type ` +
        `(expected "type/subtype", optionally followed by "; name=value" parameters)`,
    );
  }
}

/**
 * Checks user metadata against Azure's rules, which every backend follows:
 * names are ASCII C# identifiers (`[A-Za-z_][A-Za-z0-9_]*`), unique ignoring
 * case; values are header values (visible ASCII with inner spaces, not empty,
 * no whitespace at either edge, which Azure would drop or trim); names and
 * values together are at most 8 KiB.
 *
 * @param metadata The caller's metadata.
 * @throws {TypeError} When it is not a plain record of strings, or a name or value is invalid.
 * @throws {RangeError} When names and values exceed 8 KiB in all.
 */
export function checkMetadata(metadata: unknown): void {
  if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) {
    throw new TypeError(`metadata must be an object of strings, got ${typeof metadata}`);
  }
  const seen = new Map<string, string>();
  let bytes = 0;
  for (const [name, value] of Object.entries(metadata)) {
    if (!METADATA_NAME.test(name)) {
      throw new TypeError(
        `Metadata name ${quote(name)} is invalid: names start with an ASCII letter or "_" ` +
          `and contain only ASCII letters, digits and "_"`,
      );
    }
    const earlier = seen.get(name.toLowerCase());
    if (earlier !== undefined) {
      throw new TypeError(
        `Metadata names ${quote(earlier)} and ${quote(name)} differ only in case; ` +
          `names are case-insensitive`,
      );
    }
    seen.set(name.toLowerCase(), name);
    if (typeof value !== "string") {
      throw new TypeError(`Metadata value of ${quote(name)} must be a string, got ${typeof value}`);
    }
    const problem = headerValueProblem(value);
    if (problem !== undefined) {
      throw new TypeError(`Metadata value of ${quote(name)} is invalid: ${problem}`);
    }
    bytes += name.length + value.length;
  }
  if (bytes > MAX_METADATA_BYTES) {
    throw new RangeError(
      `Metadata is ${bytes} bytes of names and values; at most ${MAX_METADATA_BYTES} are allowed`,
    );
  }
}

/**
 * Checks the values of a write that become headers or metadata: `contentType`,
 * the HTTP attributes (`cacheControl`, `contentEncoding`, `contentDisposition`,
 * `contentLanguage`: header values) and `metadata` (absent ones pass).
 *
 * @param options The write's options.
 * @throws {TypeError} For an invalid content type, attribute, metadata name or value.
 * @throws {RangeError} For metadata over 8 KiB.
 */
export function checkWriteValues(
  options:
    & { contentType?: unknown; metadata?: unknown }
    & { [K in keyof HttpAttributes]?: unknown },
): void {
  if (options.contentType !== undefined) checkContentType("contentType", options.contentType);
  for (const name of HTTP_ATTRIBUTES) {
    if (options[name] !== undefined) checkHeaderValue(name, options[name]);
  }
  if (options.metadata !== undefined) checkMetadata(options.metadata);
}

/**
 * Checks the values a signed URL makes the service send: `contentType` and
 * `contentDisposition` (absent ones pass).
 *
 * @param options The signed URL's options.
 * @throws {TypeError} For a value that is not a valid header value (or MIME type).
 */
export function checkSignedUrlValues(
  options: { contentType?: unknown; contentDisposition?: unknown },
): void {
  if (options.contentType !== undefined) checkContentType("contentType", options.contentType);
  if (options.contentDisposition !== undefined) {
    checkHeaderValue("contentDisposition", options.contentDisposition);
  }
}

/**
 * Whether a value is a MIME type that can be sent as a `Content-Type` header.
 *
 * @param value The candidate (for example a stored content type).
 * @returns `true` for a valid `type/subtype` with optional parameters.
 */
export function isContentType(value: unknown): value is string {
  return isHeaderValue(value) && MEDIA_TYPE.test(value);
}
