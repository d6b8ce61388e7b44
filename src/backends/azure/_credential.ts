/**
 * The credential used when the options name none: what
 * `useDefaultAzureCredential()` (the `./azure/identity` entrypoint) set,
 * typically `DefaultAzureCredential`. `./azure` itself never imports
 * `@azure/identity`, so that edge bundles (workerd, Vercel's edge-runtime)
 * build without it. Private module.
 *
 * @module
 */

import type { TokenCredentialLike } from "./_options.ts";

/** A token credential that can release what it holds. */
export interface ClosableCredential extends TokenCredentialLike {
  /**
   * The underlying credential, loaded and created now if it was not yet
   * (no token is requested).
   */
  load(): Promise<TokenCredentialLike>;
  /** Closes the underlying credential, if it was created. */
  close(): void;
}

/** What makes the default credential; set by `useDefaultAzureCredential` (`./azure/identity`). */
let defaultFactory: (() => TokenCredentialLike) | undefined;

/**
 * Sets what makes the credential of a backend whose options name no key,
 * SAS or credential (`undefined` removes it). Process-wide, like
 * `registerBackendType`.
 *
 * @param factory Makes one credential per backend.
 */
export function setDefaultCredentialFactory(
  factory: (() => TokenCredentialLike) | undefined,
): void {
  defaultFactory = factory;
}

/** Whether a default credential factory is set. */
export function hasDefaultCredential(): boolean {
  return defaultFactory !== undefined;
}

/**
 * The default credential of one backend, created on the first `getToken`
 * (or `load`), once: every later call uses the same instance. Creating this
 * object does nothing else.
 *
 * @returns The lazy credential.
 * @throws {Error} From `getToken` and `load`, when no factory is set.
 */
export function defaultCredential(): ClosableCredential {
  type Loaded = TokenCredentialLike & { close?(): unknown };
  const factory = defaultFactory; // the one set when the backend was made
  let credential: Loaded | undefined;
  let closed = false;
  const load = (): Promise<Loaded> => {
    if (credential === undefined) {
      if (factory === undefined) {
        return Promise.reject(new Error(`No default credential: ${NO_DEFAULT}`));
      }
      credential = factory() as Loaded;
    }
    return Promise.resolve(credential);
  };
  return {
    async getToken(scopes, options) {
      return await (await load()).getToken(scopes, options);
    },
    load,
    close() {
      if (closed || credential === undefined) return;
      closed = true;
      try {
        credential.close?.();
      } catch {
        // nothing to release
      }
    },
  };
}

/** Why a backend without key, SAS or credential cannot authenticate. */
export const NO_DEFAULT =
  "pass accountKey, sasToken, a connectionString or a TokenCredential, or call " +
  'useDefaultAzureCredential() from "@remote-store/remote-store/azure/identity" ' +
  "(Deno, Bun and Node) to use DefaultAzureCredential";
