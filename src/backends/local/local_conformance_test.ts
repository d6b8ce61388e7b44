import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { runConformanceSuite } from "../../../conformance.ts";
import { LocalBackend } from "./local_backend.ts";

const root = mkdtempSync(join(tmpdir(), "remote-store-conformance-"));
after(() => rmSync(root, { recursive: true, force: true }));

runConformanceSuite("local", { backend: new LocalBackend({ root }) });
