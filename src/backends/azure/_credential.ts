/**
 * The credential used when the options name none: `DefaultAzureCredential`
 * from `@azure/identity`, loaded on first use (a string-literal dynamic
 * import, so that nothing an edge bundle must load imports it), on the
 * runtimes that can run it. Private module.
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

/**
 * Whether this is Deno, Bun or Node (which can run `@azure/identity`), not
 * an edge runtime such as workerd (`navigator.userAgent` is
 * `Cloudflare-Workers`, even with `nodejs_compat`'s `process`) or Vercel's
 * edge-runtime (`globalThis.EdgeRuntime`).
 *
 * @returns `true` on Deno, Bun and Node.
 */
export function isServerRuntime(): boolean {
  const g = globalThis as {
    Deno?: unknown;
    Bun?: unknown;
    EdgeRuntime?: unknown;
    process?: { versions?: { node?: string } };
    navigator?: { userAgent?: string };
  };
  if (g.EdgeRuntime !== undefined) return false;
  if (g.navigator?.userAgent === "Cloudflare-Workers") return false;
  return g.Deno !== undefined || g.Bun !== undefined || g.process?.versions?.node !== undefined;
}

/** The message when `@azure/identity` cannot be loaded. */
const IDENTITY_MISSING =
  'The default credential needs the package "@azure/identity"; install it, or pass accountKey, ' +
  "sasToken, a connectionString or a TokenCredential";

/**
 * A `DefaultAzureCredential` created on the first `getToken` (or `load`),
 * once: every later call uses the same instance. Creating this object does
 * nothing else.
 *
 * @returns The lazy credential.
 */
export function defaultCredential(): ClosableCredential {
  type Loaded = TokenCredentialLike & { close?(): unknown };
  let credential: Promise<Loaded> | undefined;
  let closed = false;
  const load = (): Promise<Loaded> => {
    credential ??= import("@azure/identity").then(
      ({ DefaultAzureCredential }) => new DefaultAzureCredential() as Loaded,
      (cause) => {
        credential = undefined; // a later call tries again
        throw new Error(IDENTITY_MISSING, { cause });
      },
    );
    return credential;
  };
  return {
    async getToken(scopes, options) {
      return await (await load()).getToken(scopes, options);
    },
    load,
    close() {
      if (closed || credential === undefined) return;
      closed = true;
      credential.then((c) => c.close?.(), () => {}).catch(() => {});
    },
  };
}
