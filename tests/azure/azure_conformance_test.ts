import { after, describe } from "node:test";
import { runConformanceSuite } from "../../conformance.ts";
import { HOOK, setupAzure } from "./_setup.ts";

// Azurite and a fresh container for this run; the suite's backend uses small
// blocks so that its large round trips exercise staged block uploads.
const env = await setupAzure();

describe("azure (Azurite)", () => {
  after(() => env.close(), HOOK);
  runConformanceSuite("azure", {
    backend: env.backend({ blockSize: 1024 * 1024, concurrency: 3 }),
  });
});
