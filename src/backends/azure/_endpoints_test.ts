import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { InvalidConfigError, Registry } from "../../../mod.ts";
import { resolveAccount } from "./_endpoints.ts";
import { azureBackendType } from "./azure_type.ts";

/** A Registry with one Azure backend on these options (constructing it validates them). */
function registryWith(options: Record<string, unknown>): Registry {
  return new Registry({
    backends: { az: { type: "azure", options: { container: "data", ...options } } },
    stores: { s: { backend: "az" } },
  }, { backendTypes: [azureBackendType] });
}

describe("Azure account options are checked when the Registry is constructed", () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    [
      "a connection string with neither AccountName nor BlobEndpoint",
      { connectionString: "SharedAccessSignature=sv=2024&sig=abc" },
      /"backends\.az\.options\.connectionString" needs AccountName or BlobEndpoint/,
    ],
    [
      "a malformed connection string",
      { connectionString: "AccountName=acct;garbage" },
      /"backends\.az\.options\.connectionString" is malformed/,
    ],
    [
      "an AccountKey without AccountName",
      {
        connectionString: "BlobEndpoint=http://127.0.0.1:1/acct;AccountKey=a2V5;" +
          "SharedAccessSignature=x",
      },
      /"backends\.az\.options\.connectionString" needs AccountName with AccountKey/,
    ],
    [
      "a SAS inside accountUrl",
      { accountUrl: "https://acct.blob.core.windows.net/?sv=2024&sig=abc" },
      /"backends\.az\.options\.accountUrl" must not carry a query string/,
    ],
    [
      "an account name Azure cannot have",
      { accountName: "Not_An_Account" },
      /"backends\.az\.options\.accountName" must be 3 to 24 lowercase letters and digits/,
    ],
  ];
  for (const [label, options, message] of cases) {
    test(label, () => {
      assert.throws(() => registryWith(options), (error: unknown) => {
        assert.ok(error instanceof InvalidConfigError, String(error));
        assert.match(error.message, message);
        assert.doesNotMatch(error.message, /sig=abc|a2V5/, "a secret was echoed");
        return true;
      });
    });
  }

  test("usable options pass and resolve to the expected endpoints", () => {
    registryWith({ accountName: "acct", accountKey: "a2V5" });
    const { auth, endpoints } = resolveAccount({
      container: "data",
      connectionString: "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=a2V5;" +
        "EndpointSuffix=core.windows.net",
    });
    assert.equal(auth.kind, "key");
    assert.equal(endpoints.blobUrl, "https://acct.blob.core.windows.net");
    assert.equal(endpoints.dfsUrl, "https://acct.dfs.core.windows.net");
  });
});
