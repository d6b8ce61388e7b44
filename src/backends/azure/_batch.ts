/**
 * `deleteMany` on a flat Blob namespace: Blob Batch requests of up to 256
 * deletes, at most `concurrency` in flight, one result per key; where the
 * service refuses batches (a SAS or token scope that does not allow them),
 * single deletes instead. Private module.
 *
 * @module
 */

import type { BackendDeleteManyResult } from "../../backend.ts";
import { NotFoundError } from "../../errors.ts";
import { mapPool } from "../../batch.ts";
import { batchDelete, MAX_BATCH } from "./_blob_api.ts";
import { batchFailure, isBatchRefused } from "./_errors.ts";
import type { AzureHttp } from "./_http.ts";

/** What {@link deleteManyBlobs} needs from the backend. */
export interface DeleteManyContext {
  /** The transport. */
  readonly http: AzureHttp;
  /** Maps a transport error about `key` to a library error (the backend's one mapping). */
  mapError(error: unknown, key: string, signal: AbortSignal | undefined): unknown;
  /**
   * Deletes one file with the backend's `delete` (its checks and error
   * mapping): the fallback when batches are refused or not used.
   */
  deleteOne(key: string, signal: AbortSignal | undefined): Promise<void>;
  /** Whether batches are used at all (false: one `deleteOne` per key, e.g. on ADLS Gen2). */
  readonly useBatch: boolean;
  /** The backend's memory that the service refused a batch as a whole: later calls skip batches. */
  readonly batch: { refused: boolean };
}

/** Options of {@link deleteManyBlobs}. */
export interface DeleteManyBlobsOptions {
  /** Requests in flight at once. */
  concurrency: number;
  /** Aborts the call (it rejects with the signal's reason). */
  signal?: AbortSignal;
}

/** A per-key result from a library error. */
function resultOf(error: unknown): BackendDeleteManyResult {
  return error instanceof NotFoundError ? { status: "not_found" } : { status: "error", error };
}

/**
 * Deletes many blobs, one result per key in the order of `keys`.
 *
 * @param context The transport, the error mapping and the single-delete fallback.
 * @param keys Backend keys.
 * @param options `concurrency`, `signal`.
 * @returns One result per key.
 */
export async function deleteManyBlobs(
  context: DeleteManyContext,
  keys: readonly string[],
  options: DeleteManyBlobsOptions,
): Promise<BackendDeleteManyResult[]> {
  const { signal, concurrency } = options;
  const one = async (key: string): Promise<BackendDeleteManyResult> => {
    try {
      await context.deleteOne(key, signal);
      return { status: "done" };
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      return resultOf(error);
    }
  };
  if (!context.useBatch || keys.length === 1) return await mapPool(keys, concurrency, signal, one);

  const chunks: (readonly string[])[] = [];
  for (let i = 0; i < keys.length; i += MAX_BATCH) chunks.push(keys.slice(i, i + MAX_BATCH));
  // Batches first; a chunk whose batch was refused (undefined) is deleted one by one after,
  // all such keys in one pool, so that at most `concurrency` requests are ever in flight.
  const perChunk = await mapPool(chunks, concurrency, signal, async (chunk) => {
    if (context.batch.refused || chunk.length === 1) return undefined;
    try {
      const answers = await batchDelete(context.http, chunk, signal);
      return answers.map((answer, i): BackendDeleteManyResult => {
        if (answer.status >= 200 && answer.status < 300) return { status: "done" };
        if (answer.status === 404) return { status: "not_found" };
        return resultOf(
          context.mapError(batchFailure(answer.status, answer.code), chunk[i]!, signal),
        );
      });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (!isBatchRefused(error)) {
        // The service could not be reached (after the transport's retries): each key failed.
        return chunk.map((key) => resultOf(context.mapError(error, key, signal)));
      }
      // The service (or the credential's scope) does not take batches: delete one by one.
      context.batch.refused = true;
      return undefined;
    }
  });
  const rest = perChunk.flatMap((results, i) => results === undefined ? chunks[i]! : []);
  const singles = await mapPool(rest, concurrency, signal, one);
  let next = 0;
  return perChunk.flatMap((results, i) => results ?? chunks[i]!.map(() => singles[next++]!));
}
