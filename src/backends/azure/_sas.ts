/**
 * Signed URLs for one blob: a blob-scoped service SAS signed with the account
 * key, or a user delegation SAS with a token credential. Never an account SAS.
 * Private module.
 *
 * @module
 */

import {
  BlobSASPermissions,
  generateBlobSASQueryParameters,
  SASProtocol,
} from "@azure/storage-blob";
import type { BackendSignedUrlOptions } from "../../backend.ts";
import { CapabilityNotSupportedError } from "../../errors.ts";
import type { AzureClients } from "./_clients.ts";
import { BACKEND } from "./_errors.ts";

/** Tolerated clock skew between this machine and the service. */
const SKEW_MS = 5 * 60 * 1000;

/** Whether credentials of this kind can sign URLs. */
export function canSign(kind: AzureClients["authKind"]): boolean {
  return kind === "key" || kind === "token" || kind === "default";
}

function permissionsOf(options: BackendSignedUrlOptions): BlobSASPermissions {
  const permissions = new BlobSASPermissions();
  permissions.read = options.permissions.includes("read");
  permissions.create = permissions.write = options.permissions.includes("write");
  permissions.delete = options.permissions.includes("delete");
  return permissions;
}

/**
 * A URL granting `options.permissions` on blob `key` until `expiresIn` seconds from now.
 *
 * @throws {CapabilityNotSupportedError} For SAS-token or anonymous credentials.
 */
export async function signBlobUrl(
  clients: AzureClients,
  key: string,
  options: BackendSignedUrlOptions,
): Promise<string> {
  const blob = clients.containerClient.getBlockBlobClient(key);
  const now = Date.now();
  const values = {
    containerName: clients.container,
    blobName: key,
    permissions: permissionsOf(options),
    startsOn: new Date(now - SKEW_MS),
    expiresOn: new Date(now + options.expiresIn * 1000),
    protocol: blob.url.startsWith("https:") ? SASProtocol.Https : SASProtocol.HttpsAndHttp,
    contentType: options.contentType,
    contentDisposition: options.contentDisposition,
  };
  if (clients.authKind === "key") return await blob.generateSasUrl(values);
  if (!canSign(clients.authKind)) {
    throw new CapabilityNotSupportedError(
      "signed_url",
      { path: key, backend: BACKEND },
      "Signed URLs need an account key or a token credential, not a SAS token",
    );
  }
  const delegationKey = await clients.service.getUserDelegationKey(
    values.startsOn,
    values.expiresOn,
    { abortSignal: options.signal },
  );
  const query = generateBlobSASQueryParameters(values, delegationKey, clients.service.accountName);
  return `${blob.url}?${query.toString()}`;
}
