/**
 * Unit tests of the SAS signer: the query strings must equal, byte for byte,
 * what `@azure/storage-blob`'s `generateBlobSASQueryParameters` builds for
 * the same values at service version 2025-01-05 (Azurite runs the signed URLs:
 * tests/azure/azure_signed_url_test.ts and azure_oauth_test.ts).
 *
 * @module
 */

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  BlobSASPermissions,
  generateBlobSASQueryParameters,
  SASProtocol,
  StorageSharedKeyCredential,
} from "@azure/storage-blob";
import { API_VERSION, AzureHttp } from "./_http.ts";
import {
  accountNameOf,
  type BlobSasValues,
  sasPermissions,
  serviceSasQuery,
  signBlobUrl,
  type UserDelegationKey,
  userDelegationSasQuery,
} from "./_sas.ts";
import { parseUserDelegationKey } from "./_xml.ts";
import { CapabilityNotSupportedError } from "../../errors.ts";

const ACCOUNT = "devstoreaccount1";
const KEY =
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const URL_ = `http://127.0.0.1:10000/${ACCOUNT}`;

const DELEGATION_KEY: UserDelegationKey = {
  signedObjectId: "11059fcc-5514-4800-b5f8-49808b9cfab6",
  signedTenantId: "72f988bf-86f1-41af-91ab-2d7cd011db47",
  signedStartsOn: new Date("2026-12-01T11:55:00Z"),
  signedExpiresOn: new Date("2026-12-01T13:00:00Z"),
  signedService: "b",
  signedVersion: "2025-01-05",
  value: btoa("a user delegation key of 32 byte"),
};

/** Blob names, permissions, protocols and response headers worth comparing. */
const CASES: Omit<BlobSasValues, "accountName" | "container" | "startsOn" | "expiresOn">[] = [
  { blobName: "report.csv", permissions: "r", protocol: "https,http" },
  { blobName: "dir/sub/file name.txt", permissions: "cw", protocol: "https" },
  { blobName: "ünï cødé/😀 ?#%&=+;,.bin", permissions: "rcwd", protocol: "https" },
  { blobName: "a+b/c%20d", permissions: "d", protocol: "https,http" },
  {
    blobName: "photo.bin",
    permissions: "r",
    protocol: "https",
    contentType: "image/x-test; charset=utf-8",
    contentDisposition: "attachment; filename=\"p & q.bin\"; filename*=UTF-8''%C3%BC.bin",
  },
  { blobName: "x", permissions: "rd", protocol: "https", contentType: "text/plain" },
];

function values(c: (typeof CASES)[number], container = "c-1"): BlobSasValues {
  return {
    ...c,
    accountName: ACCOUNT,
    container,
    startsOn: new Date("2026-12-01T11:55:00.123Z"),
    expiresOn: new Date("2026-12-01T12:10:00.999Z"),
  };
}

/** The SDK's query string for the same values. */
function sdkQuery(v: BlobSasValues, key?: UserDelegationKey): string {
  const sdkValues = {
    containerName: v.container,
    blobName: v.blobName,
    permissions: BlobSASPermissions.parse(v.permissions),
    startsOn: v.startsOn,
    expiresOn: v.expiresOn,
    protocol: v.protocol === "https" ? SASProtocol.Https : SASProtocol.HttpsAndHttp,
    contentType: v.contentType,
    contentDisposition: v.contentDisposition,
    version: API_VERSION,
  };
  return key
    ? generateBlobSASQueryParameters(sdkValues, key, v.accountName).toString()
    : generateBlobSASQueryParameters(sdkValues, new StorageSharedKeyCredential(ACCOUNT, KEY))
      .toString();
}

function keyHttp(): AzureHttp {
  return new AzureHttp({
    container: "c-1",
    accountName: ACCOUNT,
    accountKey: KEY,
    accountUrl: URL_,
  });
}

describe("SAS signing", () => {
  test("the transport's API version is the one the SAS strings follow", () => {
    assert.equal(API_VERSION, "2025-01-05");
  });

  test("a service SAS equals the SDK's, byte for byte", async () => {
    const http = keyHttp();
    try {
      for (const c of CASES) {
        const v = values(c);
        const ours = await serviceSasQuery(v, (text) => http.hmacBase64(text));
        assert.equal(ours, sdkQuery(v), c.blobName);
        assert.match(ours, /(^|&)sr=b(&|$)/);
      }
    } finally {
      http.close();
    }
  });

  test("a user delegation SAS equals the SDK's, byte for byte", async () => {
    for (const c of CASES) {
      const v = values(c);
      const ours = await userDelegationSasQuery(v, DELEGATION_KEY);
      assert.equal(ours, sdkQuery(v, DELEGATION_KEY), c.blobName);
      assert.match(ours, /(^|&)skoid=11059fcc-/);
    }
  });

  test("the signature depends on the key", async () => {
    const v = values(CASES[0]!);
    const other = { ...DELEGATION_KEY, value: btoa("another user delegation key, 32b") };
    assert.notEqual(
      await userDelegationSasQuery(v, DELEGATION_KEY),
      await userDelegationSasQuery(v, other),
    );
  });

  test("permissions map to the service's letters in its order", () => {
    assert.equal(sasPermissions(["read"]), "r");
    assert.equal(sasPermissions(["write"]), "cw");
    assert.equal(sasPermissions(["delete", "write", "read"]), "rcwd");
    assert.equal(sasPermissions(["delete"]), "d");
  });

  test("the account name is read from the endpoint as the SDK reads it", () => {
    assert.equal(accountNameOf("https://acct.blob.core.windows.net"), "acct");
    assert.equal(accountNameOf("https://acct-secondary.blob.core.windows.net"), "acct");
    assert.equal(accountNameOf("http://127.0.0.1:10000/devstoreaccount1"), "devstoreaccount1");
    assert.equal(accountNameOf("https://localhost:4443/acct2"), "acct2");
    assert.equal(accountNameOf("http://[::1]:8080/acct3"), "acct3");
    assert.equal(accountNameOf("http://emulator.test:10000/acct4"), "acct4");
    assert.equal(accountNameOf("https://files.example.com"), "");
  });

  test("a delegation key body is read field by field", () => {
    const key = parseUserDelegationKey(
      `<?xml version="1.0" encoding="utf-8"?><UserDelegationKey><SignedOid>o</SignedOid>` +
        `<SignedTid>t</SignedTid><SignedStart>2026-12-01T11:55:00Z</SignedStart>` +
        `<SignedExpiry>2026-12-01T13:00:00Z</SignedExpiry><SignedService>b</SignedService>` +
        `<SignedVersion>2025-01-05</SignedVersion><Value>a2V5</Value></UserDelegationKey>`,
    );
    assert.deepEqual(key, {
      signedObjectId: "o",
      signedTenantId: "t",
      signedStart: "2026-12-01T11:55:00Z",
      signedExpiry: "2026-12-01T13:00:00Z",
      signedService: "b",
      signedVersion: "2025-01-05",
      value: "a2V5",
    });
    assert.throws(
      () => parseUserDelegationKey("<Error><Code>x</Code></Error>"),
      /UserDelegationKey/,
    );
  });
});

describe("signBlobUrl", () => {
  test("with a token: asks for a delegation key, then signs as the SDK would", async () => {
    const requests: { url: string; method: string; body: string; auth: string | null }[] = [];
    const http = new AzureHttp({
      container: "c-1",
      accountUrl: "https://acct.blob.core.windows.net",
      credential: {
        getToken: () => Promise.resolve({ token: "tkn", expiresOnTimestamp: Date.now() + 3.6e6 }),
      },
      fetch: async (url, init) => {
        requests.push({
          url,
          method: String(init.method),
          body: new TextDecoder().decode(init.body as Uint8Array),
          auth: new Headers(init.headers).get("authorization"),
        });
        const body = `<?xml version="1.0" encoding="utf-8"?><UserDelegationKey>` +
          `<SignedOid>${DELEGATION_KEY.signedObjectId}</SignedOid>` +
          `<SignedTid>${DELEGATION_KEY.signedTenantId}</SignedTid>` +
          `<SignedStart>2026-12-01T11:55:00.0000000Z</SignedStart>` +
          `<SignedExpiry>2026-12-01T13:00:00.0000000Z</SignedExpiry>` +
          `<SignedService>b</SignedService><SignedVersion>2025-01-05</SignedVersion>` +
          `<Value>${DELEGATION_KEY.value}</Value></UserDelegationKey>`;
        return await Promise.resolve(new Response(body, { status: 200 }));
      },
    });
    try {
      const before = Date.now();
      const signed = await signBlobUrl(http, "dir/a b.txt", {
        expiresIn: 600,
        permissions: ["read", "write"],
        contentType: "text/plain",
      });
      assert.equal(requests.length, 1);
      const request = requests[0]!;
      assert.equal(request.method, "POST");
      assert.equal(request.auth, "Bearer tkn");
      const requestUrl = new URL(request.url);
      assert.equal(requestUrl.origin + requestUrl.pathname, "https://acct.blob.core.windows.net/");
      assert.equal(requestUrl.searchParams.get("restype"), "service");
      assert.equal(requestUrl.searchParams.get("comp"), "userdelegationkey");
      const start = /<Start>([^<]+)<\/Start>/.exec(request.body)?.[1];
      const expiry = /<Expiry>([^<]+)<\/Expiry>/.exec(request.body)?.[1];
      assert.match(String(start), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.ok(Math.abs(Date.parse(start!) - (before - 300_000)) < 5_000, "starts 5 min back");
      assert.ok(Math.abs(Date.parse(expiry!) - (before + 600_000)) < 5_000, "key until expiry");

      const url = new URL(signed);
      assert.equal(
        url.origin + url.pathname,
        "https://acct.blob.core.windows.net/c-1/dir/a%20b.txt",
      );
      const q = url.searchParams;
      assert.equal(q.get("st"), start);
      assert.equal(q.get("se"), expiry);
      const expected = sdkQuery({
        accountName: "acct",
        container: "c-1",
        blobName: "dir/a b.txt",
        permissions: "rcw",
        protocol: "https",
        contentType: "text/plain",
        startsOn: new Date(start!),
        expiresOn: new Date(expiry!),
      }, DELEGATION_KEY);
      assert.equal(url.search.slice(1), expected);
    } finally {
      http.close();
    }
  });

  test("with an account key: no request, a service SAS (https,http on http)", async () => {
    const http = keyHttp();
    try {
      const signed = await signBlobUrl(http, "report.csv", {
        expiresIn: 60,
        permissions: ["read"],
      });
      const url = new URL(signed);
      assert.equal(url.origin + url.pathname, `${URL_}/c-1/report.csv`);
      const q = url.searchParams;
      assert.equal(q.get("spr"), "https,http");
      assert.equal(q.get("sr"), "b");
      assert.equal(q.get("sp"), "r");
      assert.equal(q.get("skoid"), null);
      const expected = sdkQuery({
        accountName: ACCOUNT,
        container: "c-1",
        blobName: "report.csv",
        permissions: "r",
        protocol: "https,http",
        startsOn: new Date(q.get("st")!),
        expiresOn: new Date(q.get("se")!),
      });
      assert.equal(url.search.slice(1), expected);
    } finally {
      http.close();
    }
  });

  test("a SAS token or anonymous access cannot sign", async () => {
    for (
      const options of [
        { container: "c-1", accountUrl: URL_, sasToken: "sv=2025-01-05&sig=abc" },
        { container: "c-1", connectionString: `BlobEndpoint=${URL_};` },
      ]
    ) {
      const http = new AzureHttp(options);
      try {
        await assert.rejects(
          signBlobUrl(http, "a", { expiresIn: 60, permissions: ["read"] }),
          CapabilityNotSupportedError,
        );
      } finally {
        http.close();
      }
    }
  });
});
