/**
 * The Azure backend's HTTP transport: `fetch` (the runtime's, or the one
 * given in the options), Shared Key signing with Web Crypto, SAS tokens,
 * bearer tokens from any `TokenCredential`, and the retry policy. Secrets stay
 * in `#private` fields here; the rest of the backend sees requests, responses
 * and a `redact` function. Imports no `node:` module and no Azure SDK, so the
 * backend runs on edge runtimes. Private module.
 *
 * @module
 */

import { BackendUnavailableError } from "../../errors.ts";
import type { AzureBackendOptions, TokenCredentialLike } from "./_options.ts";
import { type Auth, type Endpoints, resolveAccount } from "./_endpoints.ts";
import { SharedKeySigner } from "./_shared_key.ts";
import { parseStorageError } from "./_xml.ts";
import { BACKEND, scrub } from "./_errors.ts";
import {
  RETRYABLE_STATUSES,
  retryAfterMs,
  retryDelay,
  type RetrySettings,
  sleep,
} from "./_retry.ts";
import { type ClosableCredential, defaultCredential } from "./_credential.ts";
import { anySignal } from "../../_signals.ts";
import { ACCEPT_STORED, keepContentEncoding, STORED_BYTES_INIT } from "./_stored_bytes.ts";

/** The service version every request asks for. */
export const API_VERSION = "2025-01-05";

/** The scope of a storage access token. */
const STORAGE_SCOPE = "https://storage.azure.com/.default";
/** A token is renewed this long before it expires. */
const TOKEN_MARGIN_MS = 2 * 60 * 1000;
/** Error bodies are read up to this many characters. */
const MAX_ERROR_BODY = 64 * 1024;

/** Default retry settings (documented on `AzureRetryOptions`). */
export const RETRY_DEFAULTS = {
  maxTries: 4,
  retryDelayMs: 800,
  maxRetryDelayMs: 30_000,
  maxResumes: 5,
} as const;

/** Which endpoint of the account a request goes to. */
export type Endpoint = "blob" | "dfs";

/** A fetch-compatible function. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** One request to the service. */
export interface AzureRequest {
  /** HTTP method. */
  method: "GET" | "HEAD" | "PUT" | "POST" | "DELETE" | "PATCH";
  /**
   * `undefined`: the account (service root); `""`: the container; otherwise
   * a blob or DFS path key, unencoded (each segment is percent-encoded here).
   */
  key?: string;
  /** The endpoint (default `"blob"`). */
  endpoint?: Endpoint;
  /** Query parameters; `undefined` values are left out. */
  query?: Record<string, string | number | boolean | undefined>;
  /** Request headers; `undefined` values are left out. */
  headers?: Record<string, string | undefined>;
  /** The body: bytes or text, so that an attempt can be sent again. */
  body?: Uint8Array | string;
  /** The caller's signal. */
  signal?: AbortSignal;
}

/** A non-2xx answer of the service (after retries). */
export class AzureHttpError extends Error {
  /** The HTTP status. */
  readonly statusCode: number;
  /** `x-ms-error-code`, or the code in the error body. */
  readonly code?: string;
  /** The response headers. */
  readonly headers: Headers;

  /**
   * @param status The HTTP status.
   * @param code The service's error code.
   * @param message What the service said.
   * @param headers The response headers.
   */
  constructor(status: number, code: string | undefined, message: string, headers: Headers) {
    super(message);
    this.name = "AzureHttpError";
    this.statusCode = status;
    if (code !== undefined) this.code = code;
    this.headers = headers;
  }
}

/** A request that never got an answer (refused, reset, cut off, DNS, TLS). */
export class AzureNetworkError extends Error {
  /** The runtime's error code, when it gave one (`ECONNRESET`, `UND_ERR_SOCKET`, ...). */
  readonly code?: string;

  /**
   * @param cause What `fetch` threw.
   * @param redact Removes secrets from the text.
   */
  constructor(cause: unknown, redact: (text: string) => string) {
    scrub(cause, redact); // the runtime's message names the URL, SAS included
    const inner = (cause as { cause?: unknown } | null)?.cause;
    const text = [cause, inner].filter((e) => e instanceof Error)
      .map((e) => (e as Error).message).join(": ");
    super(redact(`Request failed: ${text || String(cause)}`), { cause });
    this.name = "AzureNetworkError";
    const code = [inner, cause]
      .map((e) => (e as { code?: unknown } | null)?.code)
      .find((c): c is string => typeof c === "string" && c !== "");
    if (code !== undefined) this.code = code;
  }
}

/** A header name or value that cannot be sent: the caller's mistake, never retried. */
class InvalidRequestError extends TypeError {
  readonly code = "ERR_INVALID_HEADER";
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function encodeKey(key: string): string {
  return key.split("/").map(encodeURIComponent).join("/");
}

function closedError(cause?: unknown): BackendUnavailableError {
  return new BackendUnavailableError("Backend is closed", { backend: BACKEND, cause });
}

/** Byte bodies from this size are handed to Node's fetch as a stream. */
const STREAMED_BODY = 64 * 1024;

/**
 * Node's `fetch` (undici) copies a byte body, and the copies of an upload's
 * blocks wait for the garbage collector (100 MiB over the bound while
 * uploading 1 GiB); a one-chunk stream is sent without a copy. The
 * `Content-Length` header stays, so the request is not chunked.
 */
function streamedBody(init: RequestInit): RequestInit {
  const body = init.body;
  if (!(body instanceof Uint8Array) || body.byteLength < STREAMED_BODY) return init;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(body);
      controller.close();
    },
  });
  return { ...init, body: stream, duplex: "half" } as RequestInit;
}

/** The code and message of an error body: XML (Blob) or JSON (DFS). */
function parseErrorBody(text: string): { code?: string; message?: string; detail?: string } {
  const trimmed = text.trimStart();
  if (trimmed.startsWith("<")) return parseStorageError(trimmed);
  if (trimmed.startsWith("{")) {
    try {
      const error = (JSON.parse(trimmed) as { error?: { code?: unknown; message?: unknown } })
        .error;
      const out: { code?: string; message?: string } = {};
      if (typeof error?.code === "string") out.code = error.code;
      if (typeof error?.message === "string") out.message = error.message;
      return out;
    } catch {
      return {};
    }
  }
  return {};
}

/**
 * Sends signed requests to one storage account and container. Creating it
 * does no I/O; `DefaultAzureCredential` is loaded on first use.
 */
export class AzureHttp {
  readonly #auth: Auth;
  readonly #endpoints: Endpoints;
  readonly #container: string;
  readonly #fetch: FetchLike;
  readonly #retry: RetrySettings & { maxTries: number };
  readonly #timeoutSeconds: string | undefined;
  readonly #closing = new AbortController();
  readonly #secretPatterns: RegExp[];
  readonly #signer: SharedKeySigner | undefined;
  readonly #credential: TokenCredentialLike | undefined;
  readonly #ownCredential: ClosableCredential | undefined;
  #token: Promise<{ token: string; expiresOnTimestamp: number }> | undefined;
  /** Closes the HTTP client of {@link #ownFetch}, when there is one. */
  #releaseClient: (() => void) | undefined;

  /**
   * @param options Parsed backend options.
   * @throws {InvalidConfigError} For an endpoint or connection string that cannot be used.
   */
  constructor(options: AzureBackendOptions) {
    const { auth, endpoints } = resolveAccount(options);
    this.#auth = auth;
    this.#endpoints = endpoints;
    this.#container = options.container;
    this.#fetch = options.fetch ?? this.#ownFetch();
    const retry = options.retry ?? {};
    this.#retry = {
      maxTries: Math.max(1, retry.maxTries ?? RETRY_DEFAULTS.maxTries),
      retryDelayMs: retry.retryDelayMs ?? RETRY_DEFAULTS.retryDelayMs,
      maxRetryDelayMs: retry.maxRetryDelayMs ?? RETRY_DEFAULTS.maxRetryDelayMs,
    };
    this.#timeoutSeconds = retry.tryTimeoutMs === undefined
      ? undefined
      : String(Math.max(1, Math.ceil(retry.tryTimeoutMs / 1000)));
    if (auth.kind === "key") {
      this.#signer = new SharedKeySigner(auth.accountName!, auth.accountKey!);
    }
    if (auth.kind === "token") this.#credential = auth.credential;
    if (auth.kind === "default") this.#credential = this.#ownCredential = defaultCredential();

    const secrets = [options.connectionString, auth.accountKey, auth.sasToken]
      .filter((s): s is string => typeof s === "string" && s.length >= 8);
    const sig = auth.sasToken ? new URLSearchParams(auth.sasToken).get("sig") : null;
    if (sig) secrets.push(sig);
    const variants = new Set<string>();
    for (const secret of secrets) {
      variants.add(secret);
      variants.add(encodeURIComponent(secret));
    }
    this.#secretPatterns = [...variants].sort((a, b) => b.length - a.length)
      .map((s) => new RegExp(escapeRegExp(s), "g"));
  }

  /**
   * The runtime's `fetch`; on Deno through an HTTP client of this backend's
   * own, so that `close()` also closes its idle keep-alive connections
   * (elsewhere the runtime's connection pool keeps and ends them).
   */
  #ownFetch(): FetchLike {
    const deno = (globalThis as {
      Deno?: { createHttpClient?(options: Record<string, never>): { close(): void } };
    }).Deno;
    if (typeof deno?.createHttpClient !== "function") {
      // Node itself (workerd and others report a Node version in `process` too).
      const agent = (globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent;
      if (agent?.startsWith("Node.js/")) {
        return keepContentEncoding((input, init) => fetch(input, streamedBody(init)));
      }
      return (input, init) => fetch(input, init);
    }
    let client: { close(): void } | undefined;
    this.#releaseClient = () => client?.close();
    return (input, init) => {
      client ??= deno.createHttpClient!({});
      return fetch(input, { ...init, client } as RequestInit);
    };
  }

  /** The container name. */
  get container(): string {
    return this.#container;
  }

  /** The blob endpoint (no secrets). */
  get blobUrl(): string {
    return this.#endpoints.blobUrl;
  }

  /** The DFS endpoint (no secrets). */
  get dfsUrl(): string {
    return this.#endpoints.dfsUrl;
  }

  /** How requests are authenticated: `key`, `sas`, `token`, `default` or `anonymous`. */
  get authKind(): Auth["kind"] {
    return this.#auth.kind;
  }

  /** The account name, when the options or the connection string name it. */
  get accountName(): string | undefined {
    return this.#auth.accountName;
  }

  /**
   * The token credential requests use: the caller's, or the lazy
   * `DefaultAzureCredential` when the options name none; `undefined` with a
   * key, a SAS or anonymous access.
   */
  get tokenCredential(): TokenCredentialLike | undefined {
    return this.#credential;
  }

  /** Aborted by {@link close}. */
  get closeSignal(): AbortSignal {
    return this.#closing.signal;
  }

  /**
   * The URL of the account (`key` undefined), the container (`""`) or a key; never with a SAS.
   *
   * @param key As {@link AzureRequest.key}.
   * @param endpoint `"blob"` (default) or `"dfs"`.
   * @returns The URL.
   */
  url(key: string | undefined, endpoint: Endpoint = "blob"): string {
    const base = endpoint === "dfs" ? this.#endpoints.dfsUrl : this.#endpoints.blobUrl;
    if (key === undefined) return `${base}/`;
    if (key === "") return `${base}/${this.#container}`;
    return `${base}/${this.#container}/${encodeKey(key)}`;
  }

  /**
   * The URL a Copy Blob names as its source: with the SAS when requests are
   * authenticated by SAS (the service authorizes the source by it).
   *
   * @param key The source key.
   * @returns The URL (a secret when it carries a SAS).
   */
  sourceUrl(key: string): string {
    const url = this.url(key);
    return this.#auth.kind === "sas" && this.#auth.sasToken ? `${url}?${this.#auth.sasToken}` : url;
  }

  /** The full URL of a request, with its query (and the SAS). */
  #requestUrl(request: AzureRequest): string {
    const parts: string[] = [];
    for (const [name, value] of Object.entries(request.query ?? {})) {
      if (value === undefined) continue;
      parts.push(`${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`);
    }
    if (this.#timeoutSeconds !== undefined && request.query?.timeout === undefined) {
      parts.push(`timeout=${this.#timeoutSeconds}`);
    }
    if (this.#auth.kind === "sas" && this.#auth.sasToken) parts.push(this.#auth.sasToken);
    const url = this.url(request.key, request.endpoint);
    return parts.length === 0 ? url : `${url}?${parts.join("&")}`;
  }

  /** A bearer token, renewed shortly before it expires. */
  async #bearer(signal: AbortSignal | undefined): Promise<string> {
    const credential = this.#credential!;
    let current = this.#token;
    if (current !== undefined) {
      const token = await current.catch(() => undefined);
      if (token === undefined || token.expiresOnTimestamp - TOKEN_MARGIN_MS <= Date.now()) {
        if (this.#token === current) this.#token = undefined;
      }
    }
    current = this.#token;
    if (current === undefined) {
      current = this.#token = (async () => {
        const token = await credential.getToken(STORAGE_SCOPE, { abortSignal: signal }) as {
          token?: unknown;
          expiresOnTimestamp?: unknown;
        } | null;
        if (token === null || typeof token?.token !== "string") {
          const error = new Error("The credential returned no access token");
          error.name = "CredentialUnavailableError";
          throw error;
        }
        const expires = typeof token.expiresOnTimestamp === "number"
          ? token.expiresOnTimestamp
          : Date.now() + TOKEN_MARGIN_MS;
        return { token: token.token, expiresOnTimestamp: expires };
      })();
      current.catch(() => {
        if (this.#token === current) this.#token = undefined;
      });
    }
    return (await current).token;
  }

  /** Headers of one attempt, signed. */
  async #headers(
    request: AzureRequest,
    url: string,
    body: Uint8Array | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Headers> {
    const headers = new Headers();
    try {
      for (const [name, value] of Object.entries(request.headers ?? {})) {
        if (value !== undefined) headers.set(name, value);
      }
    } catch (error) {
      throw new InvalidRequestError(
        `The request could not be sent: a header name or value is invalid (${
          error instanceof Error ? error.message : String(error)
        })`,
        { cause: error },
      );
    }
    headers.set("x-ms-version", API_VERSION);
    headers.set("x-ms-date", new Date().toUTCString());
    headers.set(...ACCEPT_STORED);
    if (body !== undefined) headers.set("content-length", String(body.byteLength));
    if (this.#signer) {
      headers.set(
        "authorization",
        await this.#signer.authorization({ method: request.method, url, headers }),
      );
    } else if (this.#credential) {
      headers.set("authorization", `Bearer ${await this.#bearer(signal)}`);
    }
    return headers;
  }

  /**
   * Sends a request: signed afresh for each attempt, retried on 408, 429,
   * 5xx and network failures (honouring `Retry-After`), never after the
   * caller's abort or `close()`.
   *
   * @param request The request.
   * @returns A 2xx response; the caller consumes or cancels its body.
   * @throws {AzureHttpError} For any other status (after retries).
   * @throws {AzureNetworkError} When no answer came (after retries).
   * @throws {BackendUnavailableError} After {@link close}.
   * @throws {TypeError} For a header that cannot be sent.
   * @throws The signal's reason when the caller aborts.
   */
  async send(request: AzureRequest): Promise<Response> {
    const { signal } = request;
    const closing = this.#closing.signal;
    const body = typeof request.body === "string"
      ? new TextEncoder().encode(request.body)
      : request.body;
    const url = this.#requestUrl(request);
    const attemptSignal = signal ? anySignal([signal, closing]) : closing;
    const wait = async (ms: number) => {
      try {
        await sleep(ms, attemptSignal);
      } catch (error) {
        if (closing.aborted) throw closedError();
        throw error;
      }
    };
    for (let attempt = 1;; attempt++) {
      if (closing.aborted) throw closedError();
      signal?.throwIfAborted();
      const last = attempt >= this.#retry.maxTries;
      const headers = await this.#headers(request, url, body, signal);
      let response: Response;
      try {
        response = await this.#fetch(url, {
          method: request.method,
          headers,
          body: body as BodyInit | undefined,
          signal: attemptSignal,
          ...STORED_BYTES_INIT,
        } as RequestInit);
      } catch (error) {
        if (closing.aborted) throw closedError(error);
        if (signal?.aborted) throw signal.reason;
        const failure = new AzureNetworkError(error, this.redact);
        if (last) throw failure;
        await wait(retryDelay(attempt, this.#retry));
        continue;
      }
      if (response.ok) return response;
      if (!last && RETRYABLE_STATUSES.has(response.status) && !closing.aborted) {
        const serverDelay = retryAfterMs(response.headers);
        await response.body?.cancel().catch(() => {});
        await wait(retryDelay(attempt, this.#retry, serverDelay));
        continue;
      }
      throw await this.#failure(response);
    }
  }

  /** The error for a non-2xx response (its body is read and released). */
  async #failure(response: Response): Promise<AzureHttpError> {
    let text = "";
    try {
      text = response.body ? (await response.text()).slice(0, MAX_ERROR_BODY) : "";
    } catch {
      text = "";
    }
    const parsed = parseErrorBody(text);
    const code = response.headers.get("x-ms-error-code") ?? parsed.code;
    const said = [parsed.message, parsed.detail]
      .map((text) => (text ?? "").split("\n")[0]!.trim())
      .filter((text) => text !== "").join(" ");
    const message = `Azure answered ${response.status}${code ? ` ${code}` : ""}${
      said ? `: ${said}` : ""
    }`;
    return new AzureHttpError(response.status, code, this.redact(message), response.headers);
  }

  /**
   * {@link send} for a request whose answer is its status and headers: the body is released.
   *
   * @param request The request.
   * @returns The status and headers of the 2xx response.
   * @throws As {@link send}.
   */
  async call(request: AzureRequest): Promise<{ status: number; headers: Headers }> {
    const response = await this.send(request);
    await response.body?.cancel().catch(() => {});
    return { status: response.status, headers: response.headers };
  }

  /**
   * Authorizes a Blob Batch sub-request on its own headers: a bearer token
   * with a token credential; nothing otherwise (Shared Key sub-requests are
   * signed with {@link hmacBase64}, SAS ones carry the SAS in their URL).
   *
   * @param request The sub-request's method, URL and headers.
   * @param signal The caller's signal (for a token request).
   */
  async authorizeSubRequest(
    request: { method: string; url: URL; headers: Headers },
    signal?: AbortSignal,
  ): Promise<void> {
    if (this.#credential) {
      request.headers.set("authorization", `Bearer ${await this.#bearer(signal)}`);
    }
  }

  /**
   * The base64 HMAC-SHA256 of `stringToSign` with the account key (for a service SAS).
   *
   * @param stringToSign The string to sign.
   * @returns The signature.
   * @throws {TypeError} When the backend has no account key.
   */
  async hmacBase64(stringToSign: string): Promise<string> {
    if (!this.#signer) throw new TypeError("Signing needs the account key");
    return await this.#signer.hmac(stringToSign);
  }

  /**
   * Replaces every secret this backend holds, and any `sig=` value, with `REDACTED`.
   *
   * @param text Any text.
   * @returns The text without secrets.
   */
  redact = (text: string): string => {
    let out = text;
    for (const pattern of this.#secretPatterns) out = out.replace(pattern, "REDACTED");
    return out.replace(/([?&;]sig=)[^&\s"'<>;]+/gi, "$1REDACTED")
      .replace(/(AccountKey=)[^;\s"']+/gi, "$1REDACTED")
      .replace(/(SharedAccessSignature=)[^;\s"']+/gi, "$1REDACTED");
  };

  /** Aborts in-flight requests (no new ones start) and closes a credential this object created. */
  close(): void {
    this.#closing.abort(closedError());
    this.#ownCredential?.close();
    try {
      this.#releaseClient?.();
    } catch {
      // already closed
    }
  }
}
