import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe } from "node:test";
import { runConformanceSuite } from "../../../conformance.ts";
import { LocalBackend } from "./local_backend.ts";
import { localFs } from "./_fs.ts";

const root = mkdtempSync(join(tmpdir(), "remote-store-conformance-"));
after(() => rmSync(root, { recursive: true, force: true }));

runConformanceSuite("local", { backend: new LocalBackend({ root: join(root, "held") }) });

// The mode used where `/proc/self/fd` is missing (macOS, Windows): folders addressed by path.
describe("folders addressed by path", () => {
  before(() => {
    localFs.anchored = false;
  });
  after(() => {
    localFs.anchored = undefined;
  });
  runConformanceSuite("local, folders by path", {
    backend: new LocalBackend({ root: join(root, "by-path") }),
  });
});
