// A small app (a Registry with the memory backend type, serveFile) bundled
// with esbuild from the JSR npm layout and run inside workerd and inside
// Vercel's edge-runtime: a real HTTP request on loopback answered with a
// streamed, ranged body.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type EdgeApp, type EdgeRuntimeName, startEdgeApp } from "./_edge.ts";
import { installNpmLayout } from "./_npm_layout.ts";
import { describeOnDeno, packagingTools } from "./_tools.ts";

/** The app's `big file.bin` (see app/edge_app.mjs): byte i is (i * 31 + 7) mod 256. */
const big = new Uint8Array(1024 * 1024 + 7).map((_, i) => (i * 31 + 7) & 255);

const app = fileURLToPath(new URL("./app/edge_app.mjs", import.meta.url));

for (const runtime of ["workerd", "edge-runtime"] as EdgeRuntimeName[]) {
  describeOnDeno(`a bundled Registry app in ${runtime}`, runtime, () => {
    let temp: string;
    let server: EdgeApp | undefined;

    before(async () => {
      temp = mkdtempSync(join(tmpdir(), `rs-edge-${runtime}-`));
      const tools = await packagingTools();
      await installNpmLayout(tools.esbuild, temp);
      // In the application's folder, so it imports the package from node_modules.
      const entry = join(temp, "app.mjs");
      copyFileSync(app, entry);
      server = await startEdgeApp(tools, runtime, {
        entry,
        outDir: temp,
        bindings: { MESSAGE: `hello from ${runtime}` },
      });
    });

    after(async () => {
      await server?.close();
      if (temp) rmSync(temp, { recursive: true, force: true });
    });

    test("answers a Range request with 206, Content-Range and the streamed bytes", async () => {
      const response = await fetch(`${server!.url}big%20file.bin`, {
        headers: { range: "bytes=1000-300999" },
      });
      assert.equal(response.status, 206);
      assert.equal(
        response.headers.get("content-range"),
        `bytes 1000-300999/${big.byteLength}`,
      );
      // Both runtimes send a stream body chunked, without Content-Length.
      assert.deepEqual(
        new Uint8Array(await response.arrayBuffer()),
        big.subarray(1000, 301000),
      );
    });

    test("answers the whole file and a missing one", async () => {
      const whole = await fetch(`${server!.url}big%20file.bin`);
      assert.equal(whole.status, 200);
      assert.deepEqual(new Uint8Array(await whole.arrayBuffer()), big);
      const missing = await fetch(`${server!.url}nope.bin`);
      assert.equal(missing.status, 404);
      await missing.body?.cancel();
    });

    test("passes the bindings to the app", async () => {
      const response = await fetch(`${server!.url}binding`);
      assert.equal(await response.text(), `hello from ${runtime}`);
    });
  });
}

describeOnDeno("examples/servers/workers.ts in workerd", "workerd", () => {
  let temp: string;
  let server: EdgeApp | undefined;

  before(async () => {
    temp = mkdtempSync(join(tmpdir(), "rs-edge-example-"));
    server = await startEdgeApp(await packagingTools(), "workerd", {
      entry: fileURLToPath(
        new URL("../../examples/servers/workers.ts", import.meta.url),
      ),
      outDir: temp,
      bindings: {},
    });
  });

  after(async () => {
    await server?.close();
    if (temp) rmSync(temp, { recursive: true, force: true });
  });

  test("answers a Range request on a URL-encoded path with a space", async () => {
    const text = "Hello from a Worker!\n";
    const whole = await fetch(`${server!.url}hello%20world.txt`);
    assert.equal(await whole.text(), text);
    const part = await fetch(`${server!.url}hello%20world.txt`, {
      headers: { range: "bytes=6-9" },
    });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get("content-range"), `bytes 6-9/${text.length}`);
    assert.equal(await part.text(), "from");
  });
});
