/**
 * Unit tests of the default credential and the runtime check that guards it.
 *
 * @module
 */

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { defaultCredential, isServerRuntime } from "./_credential.ts";
import { parseAzureOptions } from "./_options.ts";
import { InvalidConfigError } from "../../errors.ts";

/** Runs `fn` with a global replaced, then puts the original back. */
function withGlobal(name: string, value: unknown, fn: () => void): void {
  const original = Object.getOwnPropertyDescriptor(globalThis, name);
  Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
  try {
    fn();
  } finally {
    if (original) Object.defineProperty(globalThis, name, original);
    else delete (globalThis as Record<string, unknown>)[name];
  }
}

describe("isServerRuntime", () => {
  test("true on Deno, Bun and Node", () => {
    assert.equal(isServerRuntime(), true);
  });

  test("false on Vercel's edge-runtime and on workerd", () => {
    withGlobal("EdgeRuntime", "edge-runtime", () => assert.equal(isServerRuntime(), false));
    withGlobal(
      "navigator",
      { userAgent: "Cloudflare-Workers" },
      () => assert.equal(isServerRuntime(), false),
    );
    assert.equal(isServerRuntime(), true, "restored");
  });

  test("on an edge runtime, options without key, SAS or credential are refused", () => {
    withGlobal("EdgeRuntime", "edge-runtime", () => {
      assert.throws(
        () => parseAzureOptions({ container: "c-1", accountName: "acct" }),
        (error: unknown) => {
          assert.ok(error instanceof InvalidConfigError);
          assert.match(error.message, /"options\.credential" is required on this runtime/);
          assert.match(
            error.message,
            /accountKey, sasToken, a connectionString or a TokenCredential/,
          );
          return true;
        },
      );
      const credential = { getToken: () => Promise.resolve(null) };
      const parsed = parseAzureOptions({ container: "c-1", accountName: "acct", credential });
      assert.equal(typeof parsed.credential?.getToken, "function");
      parseAzureOptions({ container: "c-1", accountName: "acct", accountKey: btoa("k") });
      parseAzureOptions({ container: "c-1", connectionString: "UseDevelopmentStorage=true" });
    });
    assert.equal(parseAzureOptions({ container: "c-1", accountName: "acct" }).accountName, "acct");
  });
});

describe("defaultCredential", () => {
  test("loads one DefaultAzureCredential on first use, without asking for a token", async () => {
    const credential = defaultCredential();
    credential.close(); // nothing loaded yet: nothing to close, and no load
    const again = defaultCredential();
    const [first, second] = await Promise.all([again.load(), again.load()]);
    assert.equal(first.constructor.name, "DefaultAzureCredential");
    assert.equal(first, second, "one instance");
    assert.equal(await again.load(), first);
    again.close();
    again.close();
  });
});
