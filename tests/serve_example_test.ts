// The serving examples, each on the runtime that runs this test:
// examples/servers/deno.ts (Deno.serve), bun.ts (Bun.serve) or node.ts
// (node:http through srvx), picked by examples/serve.ts. Real HTTP on
// loopback, bytes compared end to end. (examples/servers/workers.ts runs in
// workerd: tests/packaging/edge_test.ts.)
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { MemoryBackend, Store } from "../mod.ts";
import { serve, type Served } from "../examples/serve.ts";
import { patternBytes } from "../src/conformance/_helpers.ts";

describe("examples/servers (the runtime's own server)", () => {
  const store = new Store(new MemoryBackend(), { rootPath: "site" });
  const big = patternBytes(5 * 1024 * 1024 + 3, 42);
  let served: Served;

  before(async () => {
    await store.write("big.bin", big);
    await store.write("dir/hello world.txt", "hello\n");
    served = await serve(store);
  });
  after(() => served.close());

  test("serves a 5 MiB file whose bytes and hash match", async () => {
    const response = await fetch(`${served.url}big.bin`);
    assert.equal(response.status, 200);
    // Bun.serve sends a streamed body chunked and drops Content-Length (Bun 1.4).
    if (served.runtime !== "bun") {
      assert.equal(response.headers.get("content-length"), String(big.byteLength));
    }
    const body = new Uint8Array(await response.arrayBuffer());
    const digest = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
    assert.equal(digest(body), digest(big));
  });

  test("serves text with its content type and answers 404 for a missing file", async () => {
    const ok = await fetch(`${served.url}dir/hello%20world.txt`);
    assert.equal(await ok.text(), "hello\n");
    assert.match(ok.headers.get("content-type") ?? "", /^text\/plain/);
    const missing = await fetch(`${served.url}nope.txt`);
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
  });

  test("answers Range and revalidation requests (through serveFile)", async () => {
    const part = await fetch(`${served.url}big.bin`, { headers: { range: "bytes=100-199" } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get("content-range"), `bytes 100-199/${big.byteLength}`);
    assert.deepEqual(new Uint8Array(await part.arrayBuffer()), big.subarray(100, 200));
    const etag = part.headers.get("etag") ?? "";
    const cached = await fetch(`${served.url}big.bin`, { headers: { "if-none-match": etag } });
    assert.equal(cached.status, 304);
    await cached.body?.cancel();
    const bad = await fetch(`${served.url}%E0%A4%A`);
    assert.equal(bad.status, 400);
    await bad.body?.cancel();
  });

  test("answers a Range request on a URL-encoded path with a space", async () => {
    const part = await fetch(`${served.url}dir/hello%20world.txt`, {
      headers: { range: "bytes=1-3" },
    });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get("content-range"), "bytes 1-3/6");
    assert.equal(await part.text(), "ell");
  });

  test("uses the runtime's own server", () => {
    const g = globalThis as Record<string, unknown>;
    assert.equal(served.runtime, g.Deno ? "deno" : g.Bun ? "bun" : "node");
  });
});

describe("examples/servers run as a user runs them", () => {
  // PORT=0: the example picks a free port and prints its URL.
  test("the runtime's example serves its sample file, ranges included", async () => {
    const g = globalThis as { Deno?: { execPath(): string }; Bun?: unknown };
    const [command, args] = g.Deno
      ? [g.Deno.execPath(), ["run", "-A", "examples/servers/deno.ts"]]
      : [process.execPath, [g.Bun ? "examples/servers/bun.ts" : "examples/servers/node.ts"]];
    const child = spawn(command, args, {
      cwd: fileURLToPath(new URL("..", import.meta.url)),
      env: { ...process.env, PORT: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    try {
      let output = "";
      const url = await new Promise<string>((resolve, reject) => {
        const onData = (chunk: Buffer) => {
          output += chunk.toString("utf8");
          const match = /(http:\/\/127\.0\.0\.1:\d+\/\S+)/.exec(output);
          if (match) resolve(match[1]!);
        };
        child.stdout.on("data", onData);
        child.stderr.on("data", onData);
        child.once("exit", (code) => reject(new Error(`the example exited (${code}): ${output}`)));
      });
      assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/hello%20world\.txt$/);
      const part = await fetch(url, { headers: { range: "bytes=6-9" } });
      assert.equal(part.status, 206);
      assert.equal(await part.text(), "from");
    } finally {
      if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, "SIGTERM");
      await exited;
    }
  });
});
