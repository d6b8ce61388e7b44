/**
 * The Azure backend's own retry policy. The SDK's storage retry policy
 * retries 500 and 503 only and ignores `Retry-After`; this one also retries
 * 408, 429, 502, 504 and network errors, honours `Retry-After` (seconds or an
 * HTTP date) and `x-ms-retry-after-ms` / `retry-after-ms`, and waits
 * abortably. It takes the place of the SDK's policy in the Retry phase of the
 * core pipeline, before the Sign phase, so every attempt is signed afresh.
 * Private module.
 *
 * @module
 */

import { BackendUnavailableError } from "../../errors.ts";
import { BACKEND, isInvalidRequest } from "./_errors.ts";

/** Settings of {@link retryPolicy}. */
export interface RetrySettings {
  /**
   * Aborted when the backend is closed: in-flight attempts are aborted with
   * it and fail with `BackendUnavailableError("Backend is closed")`; no
   * attempt is started or retried after that.
   */
  closeSignal?: AbortSignal;
  /** Attempts per request, including the first. */
  maxTries: number;
  /** Base of the exponential back-off in milliseconds. */
  retryDelayMs: number;
  /** Upper bound of any delay (also of a server's `Retry-After`) in milliseconds. */
  maxRetryDelayMs: number;
  /** Server-side timeout of one attempt (the `timeout` query parameter, whole seconds). */
  tryTimeoutMs?: number;
}

/** The parts of a core pipeline request the policy reads and sets. */
export interface RetryRequest {
  url: string;
  body?: unknown;
  /** A DOM `AbortSignal`, or the SDK's `AbortSignalLike`. */
  abortSignal?: { readonly aborted: boolean };
}

/** The parts of a core pipeline response the policy reads. */
export interface RetryResponse {
  status: number;
  headers: HeaderGetter;
  readableStreamBody?: unknown;
}

/** A core pipeline policy (`@azure/core-rest-pipeline` `PipelinePolicy`). */
export interface RetryPolicy {
  /** The policy's name in the pipeline. */
  name: string;
  /** Sends the request through `next`, again when it is worth it. */
  sendRequest<Res extends RetryResponse>(
    request: RetryRequest,
    next: (request: RetryRequest) => Promise<Res>,
  ): Promise<Res>;
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

/** Whether a request body can be sent again (streams cannot; factories and buffers can). */
export function isResendable(body: unknown): boolean {
  if (body === undefined || body === null) return true;
  if (typeof body === "string" || typeof body === "function") return true;
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return true;
  if (typeof Blob !== "undefined" && body instanceof Blob) return true;
  if (typeof FormData !== "undefined" && body instanceof FormData) return true;
  return false;
}

function isAbort(error: unknown, signal: AbortSignal | undefined): boolean {
  if (signal?.aborted) return true;
  const name = (error as { name?: unknown } | null)?.name;
  return name === "AbortError";
}

interface FailureLike {
  statusCode?: number;
  code?: string;
  response?: { status?: number; headers?: HeaderGetter };
}

/** Whether a thrown error deserves another attempt, and the delay it asks for. */
function classifyError(error: unknown): { retry: boolean; serverDelayMs?: number } {
  if (error === null || typeof error !== "object") return { retry: false };
  const failure = error as FailureLike;
  const status = failure.statusCode ?? failure.response?.status;
  if (status !== undefined && status !== 0) {
    return RETRYABLE_STATUSES.has(status)
      ? { retry: true, serverDelayMs: retryAfterMs(failure.response?.headers) }
      : { retry: false };
  }
  // No HTTP status: retry network-level failures (reset, refused, timeout, a cut body),
  // never a request the HTTP client refused to build (an invalid header value).
  if (isInvalidRequest(error)) return { retry: false };
  const code = failure.code;
  if (typeof code === "string") return { retry: NETWORK_CODE.test(code) };
  const message = String((error as { message?: unknown }).message ?? "");
  return { retry: NETWORK_MESSAGE.test(message) };
}

/** Error codes of network failures (Node/Deno/Bun socket codes, the SDK's own, undici's). */
const NETWORK_CODE = /^(E[A-Z0-9_]+|REQUEST_SEND_ERROR|PARSE_ERROR|UND_ERR_[A-Z_]+)$/;
/** Messages of network failures that carry no code. */
const NETWORK_MESSAGE = /socket hang up|network|connection|terminated|timed? ?out/i;

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

function closedError(cause?: unknown): BackendUnavailableError {
  return new BackendUnavailableError("Backend is closed", { backend: BACKEND, cause });
}

function abortError(): Error {
  const error = new Error("The operation was aborted");
  error.name = "AbortError";
  return error;
}

/** Releases the body of a response that is dropped for a retry. */
function discard(response: RetryResponse): void {
  const body = (response as { readableStreamBody?: { destroy?(): void } }).readableStreamBody;
  try {
    body?.destroy?.();
  } catch {
    // nothing to release
  }
}

/**
 * The retry policy, for the Retry phase of the SDK's core pipeline (in place
 * of the SDK's own).
 *
 * @param settings Attempts, back-off and the close signal.
 * @returns The policy.
 */
export function retryPolicy(settings: RetrySettings): RetryPolicy {
  const maxTries = Math.max(1, Math.floor(settings.maxTries));
  const closeSignal = settings.closeSignal;
  const timeoutSeconds = settings.tryTimeoutMs === undefined
    ? undefined
    : String(Math.max(1, Math.ceil(settings.tryTimeoutMs / 1000)));
  return {
    name: "remoteStoreRetryPolicy",
    async sendRequest(request, next) {
      const signal = request.abortSignal as AbortSignal | undefined;
      // Attempts also end when the backend is closed. (A caller's signal of
      // another kind is kept; then close() only stops the retries.)
      if (closeSignal && signal === undefined) {
        request.abortSignal = closeSignal;
      } else if (closeSignal && signal instanceof AbortSignal) {
        request.abortSignal = AbortSignal.any([signal, closeSignal]);
      }
      if (timeoutSeconds !== undefined) {
        const url = new URL(request.url);
        url.searchParams.set("timeout", timeoutSeconds);
        request.url = url.toString();
      }
      const resendable = isResendable(request.body);
      /** Waits before the next attempt; the caller's abort and close() cut it short. */
      const wait = async (ms: number) => {
        try {
          await sleep(ms, request.abortSignal as AbortSignal | undefined);
        } catch (error) {
          if (closeSignal?.aborted) throw closedError();
          throw error;
        }
      };
      for (let attempt = 1;; attempt++) {
        if (closeSignal?.aborted) throw closedError();
        const last = attempt >= maxTries || !resendable;
        let response;
        try {
          response = await next(request);
        } catch (error) {
          // close() aborts the attempt: report that, not the abort or reset it caused.
          if (closeSignal?.aborted) throw closedError(error);
          if (last || isAbort(error, signal)) throw error;
          const { retry, serverDelayMs } = classifyError(error);
          if (!retry) throw error;
          await wait(retryDelay(attempt, settings, serverDelayMs));
          continue;
        }
        if (last || !RETRYABLE_STATUSES.has(response.status) || closeSignal?.aborted) {
          return response;
        }
        const serverDelayMs = retryAfterMs(response.headers);
        discard(response);
        await wait(retryDelay(attempt, settings, serverDelayMs));
      }
    },
  };
}
