/**
 * The retry rules of the Azure transport (`./_http.ts`): which statuses are
 * worth another attempt (408, 429, 500, 502, 503, 504; network failures are
 * retried too), how long to wait (`Retry-After` in seconds or as an HTTP
 * date, `x-ms-retry-after-ms` / `retry-after-ms`, otherwise exponential
 * back-off with jitter), and an abortable sleep. Private module.
 *
 * @module
 */

/** Settings of the retry loop. */
export interface RetrySettings {
  /** Attempts per request, including the first. */
  maxTries: number;
  /** Base of the exponential back-off in milliseconds. */
  retryDelayMs: number;
  /** Upper bound of any delay (also of a server's `Retry-After`) in milliseconds. */
  maxRetryDelayMs: number;
}

/** HTTP statuses worth another attempt. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);

/** Something with a case-insensitive `get` (core-rest-pipeline or compat headers). */
interface HeaderGetter {
  get(name: string): string | undefined | null;
}

/**
 * The delay a response asks for, from `x-ms-retry-after-ms`, `retry-after-ms`
 * or `Retry-After` (seconds or an HTTP date).
 *
 * @param headers Response headers, if any.
 * @param now The current time in milliseconds (for HTTP dates).
 * @returns Milliseconds, or `undefined` when the response names no delay.
 */
export function retryAfterMs(
  headers: HeaderGetter | undefined,
  now: number = Date.now(),
): number | undefined {
  if (headers === undefined || typeof headers.get !== "function") return undefined;
  for (const name of ["x-ms-retry-after-ms", "retry-after-ms"]) {
    const value = headers.get(name)?.trim();
    if (value && /^\d+(\.\d+)?$/.test(value)) return Number(value);
  }
  const value = headers.get("retry-after")?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * The delay before attempt `attempt + 1`: the server's wish when it named
 * one, otherwise exponential back-off with ±20 % jitter; both capped.
 *
 * @param attempt The attempt that failed (1-based).
 * @param settings Back-off settings.
 * @param serverDelayMs The server's `Retry-After`, if any.
 * @returns Milliseconds to wait.
 */
export function retryDelay(
  attempt: number,
  settings: RetrySettings,
  serverDelayMs?: number,
): number {
  if (serverDelayMs !== undefined) return Math.min(serverDelayMs, settings.maxRetryDelayMs);
  const base = settings.retryDelayMs * 2 ** (attempt - 1);
  const jittered = base * (0.8 + Math.random() * 0.4);
  return Math.min(jittered, settings.maxRetryDelayMs);
}

/** Waits `ms`; rejects at once with the signal's reason when it is (or becomes) aborted. */
export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason ?? abortError());
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason ?? abortError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function abortError(): Error {
  const error = new Error("The operation was aborted");
  error.name = "AbortError";
  return error;
}
