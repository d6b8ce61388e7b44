/**
 * A test TokenCredential for Azurite's `--oauth basic` mode.
 *
 * What Azurite 3.x checks (dist/src/blob/authentication/BlobTokenAuthenticator.js,
 * `authenticateBasic`): the request is HTTPS; the `Authorization` header is
 * `Bearer <jwt>`; the JWT decodes (`jsonwebtoken.decode`, no signature check:
 * "Validate signature, skip in basic check"); `iat`, `nbf` and `exp` are
 * present, `nbf <= now <= exp`; `iss` starts with a known STS prefix such as
 * `https://sts.windows.net/`; `aud` is `https://storage.azure.com` (or the
 * storage app id, or `https://<account>.blob.core.windows.net`). Get User
 * Delegation Key (ServiceHandler.getUserDelegationKey) then derives the key
 * from the token's `oid` and `tid`, which come back as the SAS's
 * `skoid`/`sktid`.
 *
 * @module
 */

import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/core-auth";
import { createNodeFetch } from "../../node.ts";

/** The tenant id put into test tokens. */
export const TEST_TENANT_ID = "72f988bf-86f1-41af-91ab-2d7cd011db47";
/** The object id (the "user") put into test tokens. */
export const TEST_OBJECT_ID = "11059fcc-5514-4800-b5f8-49808b9cfab6";

/** Claims of a test token; anything left out gets a value Azurite accepts. */
export interface TestClaims {
  aud?: string;
  iss?: string;
  /** Seconds since the epoch. */
  iat?: number;
  /** Seconds since the epoch. */
  nbf?: number;
  /** Seconds since the epoch. */
  exp?: number;
  oid?: string;
  tid?: string;
  [claim: string]: unknown;
}

function base64url(text: string): string {
  return btoa(String.fromCharCode(...new TextEncoder().encode(text)))
    .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * An unsigned JWT (`alg: none`, empty signature part) with Azure AD-like
 * claims: valid for an hour from now unless overridden.
 *
 * @param claims Claims to override or add.
 * @returns The compact JWT.
 */
export function mintTestJwt(claims: TestClaims = {}): string {
  const now = Math.floor(Date.now() / 1000);
  const payload: TestClaims = {
    aud: "https://storage.azure.com",
    iss: `https://sts.windows.net/${TEST_TENANT_ID}/`,
    iat: now - 60,
    nbf: now - 60,
    exp: now + 3600,
    oid: TEST_OBJECT_ID,
    tid: TEST_TENANT_ID,
    scp: "user_impersonation",
    ver: "1.0",
    ...claims,
  };
  const header = base64url(JSON.stringify({ alg: "none", typ: "JWT" }));
  return `${header}.${base64url(JSON.stringify(payload))}.`;
}

/**
 * A TokenCredential that hands out {@link mintTestJwt} tokens and records
 * the scopes it was asked for. `expiresOnTimestamp` is always an hour ahead,
 * so the SDK caches and sends a token even when its `exp` claim is in the
 * past: whether a token is acceptable is left to the service.
 */
export class TestTokenCredential implements TokenCredential {
  /** Claims of every token this credential mints. */
  readonly claims: TestClaims;
  /** Scopes of each `getToken` call, in order. */
  readonly requestedScopes: string[][] = [];

  /** @param claims Claims to override in each token. */
  constructor(claims: TestClaims = {}) {
    this.claims = claims;
  }

  /**
   * @param scopes Requested scopes (recorded).
   * @param _options Ignored.
   * @returns A fresh token.
   */
  getToken(scopes: string | string[], _options?: GetTokenOptions): Promise<AccessToken> {
    this.requestedScopes.push(typeof scopes === "string" ? [scopes] : [...scopes]);
    return Promise.resolve({
      token: mintTestJwt(this.claims),
      expiresOnTimestamp: Date.now() + 3600_000,
    });
  }
}

/** A fetch-compatible function. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** A `fetch` that trusts only `ca` for HTTPS (TLS verification stays on), per runtime. */
export function trustingFetch(ca: string): { fetch: FetchLike; close(): void } {
  const g = globalThis as {
    Deno?: { createHttpClient(options: { caCerts: string[] }): { close(): void } };
    Bun?: unknown;
  };
  if (g.Deno) {
    const client = g.Deno.createHttpClient({ caCerts: [ca] });
    return {
      fetch: (input, init) => fetch(input, { ...init, client } as RequestInit),
      close: () => client.close(),
    };
  }
  if (g.Bun) {
    return {
      fetch: (input, init) => fetch(input, { ...init, tls: { ca } } as RequestInit),
      close: () => {},
    };
  }
  const nodeFetch = createNodeFetch({ ca });
  return { fetch: nodeFetch, close: () => nodeFetch.close() };
}
