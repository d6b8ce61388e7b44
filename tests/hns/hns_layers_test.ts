// The layers on ADLS Gen2 (the DFS emulator): the whole contract through observe,
// timeout and concurrencyLimit, with every event well formed.
import { after, describe } from "node:test";
import assert from "node:assert/strict";
import { runConformanceSuite } from "../../conformance.ts";
import {
  concurrencyLimitLayer,
  observeLayer,
  type OperationEvent,
  timeoutLayer,
  withLayers,
} from "../../mod.ts";
import { setupHns } from "./_setup.ts";

const env = await setupHns();

describe("azure (ADLS Gen2 emulator, hns: true) through layers", () => {
  const events: OperationEvent[] = [];
  after(() => {
    assert.ok(events.length > 100);
    for (const event of events) {
      assert.equal(event.outcome === "error", event.errorCode !== undefined);
    }
    // Cancelled streaming reads were reported as such, once each.
    assert.ok(events.some((e) => e.operation === "read" && e.outcome === "cancelled"));
  });
  after(() => env.close(), { timeout: 120_000 });
  runConformanceSuite("azure-hns through observe, timeout and concurrencyLimit layers", {
    backend: withLayers(env.backend({ blockSize: 1024 * 1024, concurrency: 3 }), [
      observeLayer({ sink: (event) => events.push(event) }),
      timeoutLayer({ ms: 120_000 }),
      concurrencyLimitLayer({ limit: 8 }),
    ]),
    skip: {
      "signed-upload-round-trip":
        "the DFS emulator checks Shared Key only, not SAS (signed uploads run against Azurite)",
    },
  });
});
