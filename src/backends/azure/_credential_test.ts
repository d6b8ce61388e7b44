/**
 * Unit tests of the default credential: refused without a factory (on every
 * runtime, edge included), created lazily and once with one.
 *
 * @module
 */

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { InvalidConfigError } from "../../errors.ts";
import { defaultCredential, setDefaultCredentialFactory } from "./_credential.ts";
import { parseAzureOptions } from "./_options.ts";
import { useDefaultAzureCredential } from "../../../azure_identity.ts";

describe("default credential", () => {
  test("without a factory, a config with no key, SAS or credential says what to pass", () => {
    setDefaultCredentialFactory(undefined);
    assert.throws(
      () => parseAzureOptions({ container: "c-1", accountName: "acct" }),
      (error) => {
        assert.ok(error instanceof InvalidConfigError);
        assert.match(error.message, /"options\.credential" is required/);
        for (
          const word of ["accountKey", "sasToken", "TokenCredential", "useDefaultAzureCredential"]
        ) {
          assert.ok(error.message.includes(word), word);
        }
        return true;
      },
    );
    parseAzureOptions({ container: "c-1", accountName: "acct", accountKey: btoa("k") });
    parseAzureOptions({ container: "c-1", connectionString: "UseDevelopmentStorage=true" });
  });

  test("with a factory, one credential per backend, created on first use", async () => {
    let made = 0;
    setDefaultCredentialFactory(() => {
      made++;
      return { getToken: () => Promise.resolve({ token: "t", expiresOnTimestamp: 0 }) };
    });
    try {
      assert.equal(
        parseAzureOptions({ container: "c-1", accountName: "acct" }).accountName,
        "acct",
      );
      const credential = defaultCredential();
      assert.equal(made, 0, "nothing is made before first use");
      const [first, second] = await Promise.all([credential.load(), credential.load()]);
      assert.equal(first, second);
      assert.equal(made, 1);
      credential.close();
      credential.close();
    } finally {
      setDefaultCredentialFactory(undefined);
    }
  });

  test("useDefaultAzureCredential makes a DefaultAzureCredential", async () => {
    useDefaultAzureCredential();
    try {
      const loaded = await defaultCredential().load();
      assert.equal(loaded.constructor.name, "DefaultAzureCredential");
    } finally {
      setDefaultCredentialFactory(undefined);
    }
  });
});
