/**
 * The one form of an entity tag the Azure backend reports: the quoted HTTP
 * form (`"0x8D..."`). Response headers carry it quoted; List Blobs and the
 * DFS List Paths return it bare. Private module.
 *
 * @module
 */

/**
 * An ETag in the quoted HTTP form; `undefined` stays `undefined`.
 *
 * @param etag An ETag as the service returned it, quoted (`"…"`, `W/"…"`) or bare.
 * @returns The quoted form.
 */
export function quoteEtag(etag: string | undefined): string | undefined {
  if (etag === undefined || etag === "") return undefined;
  if (etag.startsWith('"') || etag.startsWith('W/"')) return etag;
  return `"${etag}"`;
}
