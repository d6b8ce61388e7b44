/**
 * Types and plumbing of the Store's batch operations (`deleteMany`,
 * `copyMany`): one result per path, bounded concurrency.
 *
 * @module
 */

import type { SignalOptions } from "./backend.ts";

/**
 * How one path of a batch ended: `"done"`; `"not_found"` (the file, or the
 * copy's source, did not exist); `"error"` (see `error`).
 */
export type BatchStatus = "done" | "not_found" | "error";

/** The result of one path of {@link Store.deleteMany}. */
export interface DeleteManyResult {
  /** Store-relative path, as normalised. */
  path: string;
  /** How it ended. */
  status: BatchStatus;
  /** The failure (a `RemoteStoreError` with path and backend), when `status` is `"error"`. */
  error?: unknown;
}

/** The result of one pair of {@link Store.copyMany}. */
export interface CopyManyResult {
  /** Store-relative source path, as normalised. */
  path: string;
  /** Store-relative destination path, as normalised. */
  target: string;
  /** How it ended (`"not_found"`: no source file). */
  status: BatchStatus;
  /** The failure, when `status` is `"error"` (`AlreadyExistsError` without `overwrite`, ...). */
  error?: unknown;
}

/** Options for {@link Store.deleteMany}. */
export interface DeleteManyOptions extends SignalOptions {
  /** Requests in flight at once (default 16; a backend may send up to 256 deletes per request). */
  concurrency?: number;
}

/** Options for {@link Store.copyMany}. */
export interface CopyManyOptions extends SignalOptions {
  /** Copies in flight at once (default 8). */
  concurrency?: number;
  /** Replace existing destinations (default `false`). */
  overwrite?: boolean;
}

/** A copy of {@link Store.copyMany}: `[src, dst]` or `{ src, dst }`. */
export type CopyPair = readonly [src: string, dst: string] | { src: string; dst: string };

/** Default deletes (or delete requests) in flight. */
export const DEFAULT_DELETE_CONCURRENCY = 16;
/** Default copies in flight. */
export const DEFAULT_COPY_CONCURRENCY = 8;

/**
 * Checks a concurrency option.
 *
 * @throws {RangeError} Unless a positive safe integer.
 */
export function checkConcurrency(value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`Concurrency must be a positive integer, got ${String(value)}`);
  }
  return value;
}

/**
 * Runs `task(item, index)` for every item with at most `limit` in flight and
 * returns the results in input order. A task must not reject for a per-item
 * failure (it returns the failure as its result); a rejection, or `signal`
 * aborting, stops starting new tasks and rejects once the running ones ended.
 */
export async function mapPool<T, R>(
  items: readonly T[],
  limit: number,
  signal: AbortSignal | undefined,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined && next < items.length) {
      if (signal?.aborted) {
        failure ??= { error: signal.reason };
        return;
      }
      const index = next++;
      try {
        results[index] = await task(items[index]!, index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  const workers = Math.max(1, Math.min(limit, items.length));
  await Promise.all(Array.from({ length: workers }, worker));
  if (failure !== undefined) throw failure.error;
  signal?.throwIfAborted();
  return results;
}
