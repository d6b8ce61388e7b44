// keepContentEncoding on Node's own fetch, against a loopback server that
// sends a gzip body as Azure does (Content-Encoding whatever was accepted):
// a full and a ranged GET return the bytes as sent, also as the process's
// very first fetch (before Node has a global dispatcher). Node only: Deno and
// Bun are asked not to decode by a header and an option (tests/azure).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import process from "node:process";
import { fileURLToPath } from "node:url";

const NODE = (globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent
  ?.startsWith("Node.js/") === true;
const script = fileURLToPath(
  new URL("../../../tests/azure/_stored_bytes_script.ts", import.meta.url),
);

test("Node's fetch through keepContentEncoding returns gzip bodies as sent", {
  skip: NODE ? false : "Node's fetch only",
}, () => {
  const out = JSON.parse(execFileSync(process.execPath, [script], { encoding: "utf8" }));
  assert.deepEqual(out.plain, { status: 200, decoded: true }, "plain fetch decodes (the risk)");
  assert.deepEqual(out.first, { status: 200, same: true, encoding: "gzip" });
  assert.deepEqual(out.whole, { status: 200, same: true, encoding: "gzip" });
  assert.deepEqual(out.range, { status: 206, same: true, encoding: "gzip" });
  assert.deepEqual(out.head, { status: 200, encoding: "gzip" });
});
