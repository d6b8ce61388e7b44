/**
 * Endpoints, credentials and SDK clients of the Azure backend. Secrets stay
 * in `#private` fields here; the rest of the backend sees only clients and a
 * `redact` function. Private module.
 *
 * @module
 */

import http from "node:http";
import https from "node:https";
import {
  AnonymousCredential,
  BlobServiceClient,
  type ContainerClient,
  newPipeline,
  StorageSharedKeyCredential,
} from "@azure/storage-blob";
import {
  AnonymousCredential as DataLakeAnonymousCredential,
  DataLakeFileSystemClient,
  newPipeline as newDataLakePipeline,
  StorageSharedKeyCredential as DataLakeSharedKeyCredential,
} from "@azure/storage-file-datalake";
import { DefaultAzureCredential } from "@azure/identity";
import type { TokenCredential } from "@azure/core-auth";
import type { AzureBackendOptions } from "./_options.ts";
import { type Auth, type Endpoints, resolveAccount } from "./_endpoints.ts";
import { type RetryPolicy, retryPolicy } from "./_retry.ts";

/** The two methods of the SDK's core pipeline (`@azure/core-rest-pipeline`) that we use. */
interface CorePipeline {
  addPolicy(policy: RetryPolicy, options: { phase: "Retry" }): void;
  removePolicy(options: { phase: "Retry" }): unknown;
}

/** Default retry settings (documented on `AzureRetryOptions`). */
export const RETRY_DEFAULTS = {
  maxTries: 4,
  retryDelayMs: 800,
  maxRetryDelayMs: 30_000,
  maxResumes: 5,
} as const;

function withSas(url: string, sas: string | undefined): string {
  return sas ? `${url}?${sas}` : url;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Holds the secrets, the HTTP agent and the SDK clients. Creating it does no
 * network I/O; `DefaultAzureCredential` is created when first needed.
 */
export class AzureClients {
  readonly #auth: Auth;
  readonly #endpoints: Endpoints;
  readonly #container: string;
  readonly #pipelineOptions: Record<string, unknown>;
  readonly #retryPolicy: RetryPolicy;
  readonly #closing = new AbortController();
  readonly #agent: http.Agent | undefined;
  readonly #secretPatterns: RegExp[];
  #defaultCredential: DefaultAzureCredential | undefined;
  #service: BlobServiceClient | undefined;
  #containerClient: ContainerClient | undefined;
  #fileSystem: DataLakeFileSystemClient | undefined;

  /**
   * @param options Parsed backend options.
   * @throws {InvalidConfigError} For an endpoint or connection string that cannot be used.
   */
  constructor(options: AzureBackendOptions) {
    const { auth, endpoints } = resolveAccount(options);
    this.#auth = auth;
    this.#endpoints = endpoints;
    this.#container = options.container;
    const clientOptions = { ...options.clientOptions };
    const retry = options.retry ?? {};
    const retryOptions: Record<string, unknown> = {
      maxTries: RETRY_DEFAULTS.maxTries,
      retryDelayInMs: RETRY_DEFAULTS.retryDelayMs,
      maxRetryDelayInMs: RETRY_DEFAULTS.maxRetryDelayMs,
      ...(clientOptions.retryOptions as Record<string, unknown> | undefined),
    };
    if (retry.maxTries !== undefined) retryOptions.maxTries = retry.maxTries;
    if (retry.retryDelayMs !== undefined) retryOptions.retryDelayInMs = retry.retryDelayMs;
    if (retry.maxRetryDelayMs !== undefined) {
      retryOptions.maxRetryDelayInMs = retry.maxRetryDelayMs;
    }
    if (retry.tryTimeoutMs !== undefined) retryOptions.tryTimeoutInMs = retry.tryTimeoutMs;
    // Our policy (./_retry.ts) takes the place of the SDK's in the Retry phase.
    this.#retryPolicy = retryPolicy({
      maxTries: Number(retryOptions.maxTries),
      retryDelayMs: Number(retryOptions.retryDelayInMs),
      maxRetryDelayMs: Number(retryOptions.maxRetryDelayInMs),
      tryTimeoutMs: retry.tryTimeoutMs,
      closeSignal: this.#closing.signal,
    });
    if (clientOptions.agent === undefined && clientOptions.httpClient === undefined) {
      // An agent of our own, so that close() can destroy its keep-alive sockets.
      const insecure = new URL(endpoints.blobUrl).protocol === "http:";
      this.#agent = insecure
        ? new http.Agent({ keepAlive: true })
        : new https.Agent({ keepAlive: true });
      clientOptions.agent = this.#agent;
    }
    this.#pipelineOptions = { ...clientOptions, retryOptions };
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

  /** How the backend authenticates: `key`, `sas`, `token`, `default` or `anonymous`. */
  get authKind(): Auth["kind"] {
    return this.#auth.kind;
  }

  #tokenCredential(): TokenCredential | undefined {
    if (this.#auth.kind === "token") return this.#auth.credential as TokenCredential;
    if (this.#auth.kind === "default") {
      this.#defaultCredential ??= new DefaultAzureCredential();
      return this.#defaultCredential;
    }
    return undefined;
  }

  /**
   * Creates a client over a fresh storage pipeline, then puts our retry
   * policy in the place of the SDK's in the Retry phase of the core pipeline
   * that the client built (and that every client derived from it shares). The
   * Retry phase runs before the Sign phase, so each attempt is signed afresh.
   * Should a future SDK not keep its core pipeline there, its own retry
   * policy stays in charge.
   */
  #withRetry<P extends object, C>(pipeline: P, create: (pipeline: P) => C): C {
    const client = create(pipeline);
    const core = (pipeline as { _corePipeline?: CorePipeline })._corePipeline;
    if (core && typeof core.addPolicy === "function") {
      core.removePolicy({ phase: "Retry" });
      core.addPolicy(this.#retryPolicy, { phase: "Retry" });
    }
    return client;
  }

  /** The account-level blob client (created on first use). */
  get service(): BlobServiceClient {
    if (this.#service === undefined) {
      const auth = this.#auth;
      const url = this.#endpoints.blobUrl;
      const [target, credential] = auth.kind === "key"
        ? [url, new StorageSharedKeyCredential(auth.accountName!, auth.accountKey!)]
        : auth.kind === "sas" || auth.kind === "anonymous"
        ? [withSas(url, auth.sasToken), new AnonymousCredential()]
        : [url, this.#tokenCredential()];
      this.#service = this.#withRetry(
        newPipeline(credential, this.#pipelineOptions),
        (pipeline) => new BlobServiceClient(target, pipeline),
      );
    }
    return this.#service;
  }

  /** The container client (created on first use). */
  get containerClient(): ContainerClient {
    this.#containerClient ??= this.service.getContainerClient(this.#container);
    return this.#containerClient;
  }

  /** The ADLS Gen2 file system client on the DFS endpoint (created on first use). */
  get fileSystem(): DataLakeFileSystemClient {
    if (this.#fileSystem === undefined) {
      const auth = this.#auth;
      const url = `${this.#endpoints.dfsUrl}/${encodeURIComponent(this.#container)}`;
      const [target, credential] = auth.kind === "key"
        ? [url, new DataLakeSharedKeyCredential(auth.accountName!, auth.accountKey!)]
        : auth.kind === "sas" || auth.kind === "anonymous"
        ? [withSas(url, auth.sasToken), new DataLakeAnonymousCredential()]
        : [url, this.#tokenCredential()];
      this.#fileSystem = this.#withRetry(
        newDataLakePipeline(credential, this.#pipelineOptions),
        (pipeline) => new DataLakeFileSystemClient(target, pipeline),
      );
    }
    return this.#fileSystem;
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

  /** Destroys the keep-alive sockets and closes a credential this object created. */
  close(): void {
    this.#closing.abort(); // ends in-flight attempts; no new ones (see ./_retry.ts)
    if (this.#agent) {
      // A socket freed later (Deno's node:http re-sends an aborted request on a
      // fresh connection) is then destroyed instead of kept alive.
      (this.#agent as { keepAlive?: boolean }).keepAlive = false;
      this.#agent.destroy();
    }
    const credential = this.#defaultCredential as unknown as { close?: () => unknown } | undefined;
    try {
      credential?.close?.();
    } catch {
      // nothing to release
    }
  }
}
