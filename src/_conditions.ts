/**
 * Evaluates read conditions ({@link ReadConditions}) against a file's current
 * version, for backends that check them in-process (memory, local). Backends
 * whose service evaluates them (Azure) send them as HTTP headers instead.
 * Private module.
 *
 * @module
 */

import type { ReadConditions } from "./backend.ts";
import { PreconditionFailedError } from "./errors.ts";

/** HTTP dates have whole seconds: compare at that resolution. */
function seconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

/**
 * Throws `PreconditionFailedError` when a condition does not hold for the
 * version described by `etag` and `modifiedAt`.
 *
 * @param version The current version's entity tag and modification time.
 * @param conditions The caller's conditions (absent ones always hold).
 * @param key The backend key, for the error.
 */
export function checkReadConditions(
  version: { etag?: string; modifiedAt: Date },
  conditions: ReadConditions,
  key: string,
): void {
  const { ifMatch, ifNoneMatch, ifModifiedSince, ifUnmodifiedSince } = conditions;
  let failed: string | undefined;
  if (ifMatch !== undefined && ifMatch !== "*" && ifMatch !== version.etag) {
    failed = `The file's ETag is not ${JSON.stringify(ifMatch)}`;
  } else if (ifNoneMatch !== undefined && (ifNoneMatch === "*" || ifNoneMatch === version.etag)) {
    failed = `The file's ETag matches ${JSON.stringify(ifNoneMatch)}`;
  } else if (
    ifModifiedSince !== undefined && seconds(version.modifiedAt) <= seconds(ifModifiedSince)
  ) {
    failed = `The file was not modified since "${ifModifiedSince.toISOString()}"`;
  } else if (
    ifUnmodifiedSince !== undefined && seconds(version.modifiedAt) > seconds(ifUnmodifiedSince)
  ) {
    failed = `The file was modified since "${ifUnmodifiedSince.toISOString()}"`;
  }
  if (failed !== undefined) throw new PreconditionFailedError(failed, { path: key });
}
