/**
 * Bounded concurrency for independent requests. Private module.
 *
 * @module
 */

/**
 * Runs `task` for every item with at most `limit` in flight. Stops starting
 * new tasks after the first failure (or abort), waits for the running ones,
 * then throws the first error.
 */
export async function runPool<T>(
  items: Iterable<T>,
  limit: number,
  signal: AbortSignal | undefined,
  task: (item: T) => Promise<void>,
): Promise<void> {
  const iterator = items[Symbol.iterator]();
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (failure === undefined) {
      if (signal?.aborted) {
        failure ??= { error: signal.reason };
        return;
      }
      const next = iterator.next();
      if (next.done) return;
      try {
        await task(next.value);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, limit) }, worker));
  if (failure !== undefined) throw failure.error;
}
