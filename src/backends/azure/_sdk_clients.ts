/**
 * SDK clients for `unwrap`, built from the class the caller passes, so that
 * the backend imports no Azure SDK at run time (the caller's program already
 * loaded the SDK it passes a class of). Only the three classes below are
 * recognized, and they are called only through their public constructors.
 * Private module.
 *
 * - `ContainerClient` and `BlobServiceClient`: the connection-string forms
 *   (`new ContainerClient(connectionString, containerName, options)`,
 *   `BlobServiceClient.fromConnectionString(connectionString, options)`) for
 *   an account key or a SAS token; `(url, credential, options)` for a token
 *   credential; `(url, undefined, options)` for anonymous access.
 * - `DataLakeFileSystemClient`: `(url, credential, options)` on the DFS
 *   endpoint. An account key needs the SDK's `StorageSharedKeyCredential`:
 *   it is the public `credential` of a `ContainerClient` built from a
 *   connection string, and the `ContainerClient` class is the one the passed
 *   class itself uses (the `blobContainerClient` of an anonymous instance,
 *   made without I/O), so that both come from the same SDK copy.
 *
 * @module
 */

import { CapabilityNotSupportedError } from "../../errors.ts";
import type { AzureBackendOptions, TokenCredentialLike } from "./_options.ts";
import { resolveAccount } from "./_endpoints.ts";
import { BACKEND } from "./_errors.ts";
import { RETRY_DEFAULTS } from "./_http.ts";

/** Which SDK client a class builds. */
type Kind = "service" | "container" | "fileSystem";

/** A class as this module calls it (its public constructor). */
type AnyClass = new (...args: unknown[]) => unknown;

/** Classes already recognized (or reached through one), by identity. */
const known = new WeakMap<object, Kind>();

const BY_NAME: Record<string, Kind> = {
  BlobServiceClient: "service",
  ContainerClient: "container",
  DataLakeFileSystemClient: "fileSystem",
};

function hasMethods(type: unknown, ...names: string[]): boolean {
  const prototype = (type as { prototype?: Record<string, unknown> } | null)?.prototype;
  return typeof prototype === "object" && prototype !== null &&
    names.every((name) => typeof prototype[name] === "function");
}

/**
 * Which client a class builds: by identity when this module has met the
 * class before, else by name, else (a subclass, or a bundle that renamed
 * classes) by the public methods only that class has.
 */
function kindOf(type: unknown): Kind | undefined {
  if (typeof type !== "function") return undefined;
  const seen = known.get(type);
  if (seen !== undefined) return seen;
  let kind: Kind | undefined = Object.hasOwn(BY_NAME, type.name) ? BY_NAME[type.name] : undefined;
  if (kind === undefined) {
    if (
      typeof (type as { fromConnectionString?: unknown }).fromConnectionString === "function" &&
      hasMethods(type, "getContainerClient", "getUserDelegationKey", "listContainers")
    ) {
      kind = "service";
    } else if (hasMethods(type, "getBlockBlobClient", "listBlobsFlat", "listBlobsByHierarchy")) {
      kind = "container";
    } else if (hasMethods(type, "listPaths", "getDirectoryClient", "getFileClient")) {
      kind = "fileSystem";
    }
  }
  if (kind !== undefined) known.set(type, kind);
  return kind;
}

/**
 * The SDK client options: `clientOptions`, with the backend's retry settings
 * as the SDK's `retryOptions` (the backend's `retry` wins, then
 * `clientOptions.retryOptions`, then the backend's defaults).
 */
function clientOptionsOf(options: AzureBackendOptions): Record<string, unknown> {
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
  if (retry.maxRetryDelayMs !== undefined) retryOptions.maxRetryDelayInMs = retry.maxRetryDelayMs;
  if (retry.tryTimeoutMs !== undefined) retryOptions.tryTimeoutInMs = retry.tryTimeoutMs;
  return { ...clientOptions, retryOptions };
}

function unusable(type: unknown, reason: string): CapabilityNotSupportedError {
  const name = (type as { name?: unknown }).name;
  return new CapabilityNotSupportedError(
    "unwrap",
    { backend: BACKEND },
    `Cannot build a "${typeof name === "string" && name ? name : "anonymous"}" client: ${reason}`,
  );
}

/**
 * The SDK's `StorageSharedKeyCredential` for an account key, from the SDK
 * the `DataLakeFileSystemClient` class belongs to (see the module doc).
 */
function sharedKeyCredential(
  fileSystemClass: AnyClass,
  dfsContainerUrl: string,
  connectionString: string,
  container: string,
): unknown {
  const probe = new fileSystemClass(dfsContainerUrl) as { blobContainerClient?: object };
  const containerClass = probe.blobContainerClient?.constructor as AnyClass | undefined;
  if (typeof containerClass !== "function" || kindOf(containerClass) !== "container") {
    throw unusable(fileSystemClass, "its ContainerClient class is not reachable");
  }
  const credential = (new containerClass(connectionString, container) as { credential?: unknown })
    .credential as { accountName?: unknown; computeHMACSHA256?: unknown } | undefined;
  if (typeof credential?.computeHMACSHA256 !== "function") {
    throw unusable(fileSystemClass, "no StorageSharedKeyCredential for the account key");
  }
  return credential;
}

/**
 * A working SDK client of `type`, built from the backend's options: the
 * account, container, endpoints and credentials they name, and
 * `clientOptions` (with the backend's retry settings).
 *
 * @param type `ContainerClient` or `BlobServiceClient` (`@azure/storage-blob`), or
 *   `DataLakeFileSystemClient` (`@azure/storage-file-datalake`, on the DFS endpoint).
 * @param options Parsed backend options.
 * @param credential The token credential of `token` and `default` authentication
 *   (the backend's, so that both share it); `options.credential` when undefined.
 * @returns The client, or `undefined` for any other class.
 * @throws {CapabilityNotSupportedError} When a token or default authentication
 *   has no credential, or an account key cannot be given to a `DataLakeFileSystemClient`.
 * @throws {InvalidConfigError} For an endpoint or connection string that cannot be used.
 */
export function sdkClient<T>(
  type: abstract new (...args: never[]) => T,
  options: AzureBackendOptions,
  credential: TokenCredentialLike | undefined,
): T | undefined {
  const kind = kindOf(type);
  if (kind === undefined) return undefined;
  const Client = type as unknown as AnyClass & {
    fromConnectionString?(connectionString: string, options?: unknown): unknown;
  };
  const { auth, endpoints } = resolveAccount(options);
  const container = options.container;
  const clientOptions = clientOptionsOf(options);
  const { blobUrl } = endpoints;

  let connectionString: string | undefined;
  if (auth.kind === "key") {
    const protocol = new URL(blobUrl).protocol.slice(0, -1);
    connectionString = `DefaultEndpointsProtocol=${protocol};AccountName=${auth.accountName};` +
      `AccountKey=${auth.accountKey};BlobEndpoint=${blobUrl};`;
  } else if (auth.kind === "sas") {
    connectionString = `BlobEndpoint=${blobUrl};SharedAccessSignature=${auth.sasToken};`;
  }
  let tokenCredential: TokenCredentialLike | undefined;
  if (auth.kind === "token" || auth.kind === "default") {
    tokenCredential = credential ?? auth.credential;
    if (tokenCredential === undefined) throw unusable(type, "no token credential was given");
  }

  if (kind === "fileSystem") {
    const url = `${endpoints.dfsUrl}/${encodeURIComponent(container)}`;
    if (auth.kind === "key") {
      const key = sharedKeyCredential(Client, url, connectionString!, container);
      return new Client(url, key, clientOptions) as T;
    }
    if (auth.kind === "sas") {
      return new Client(`${url}?${auth.sasToken}`, undefined, clientOptions) as T;
    }
    return new Client(url, tokenCredential, clientOptions) as T;
  }
  if (kind === "service") {
    if (connectionString !== undefined) {
      return Client.fromConnectionString!(connectionString, clientOptions) as T;
    }
    return new Client(blobUrl, tokenCredential, clientOptions) as T;
  }
  if (connectionString !== undefined) {
    return new Client(connectionString, container, clientOptions) as T;
  }
  return new Client(
    `${blobUrl}/${encodeURIComponent(container)}`,
    tokenCredential,
    clientOptions,
  ) as T;
}
