// Small apps bundled with esbuild from the JSR npm layout (the runtime's own
// resolve conditions, no aliases, no Node platform) and run inside workerd and
// inside Vercel's edge-runtime: a Registry with the memory backend type, and
// one with the Azure backend against Azurite on loopback (through the fault
// proxy): real HTTP requests answered with streamed, ranged bodies.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type EdgeApp,
  type EdgeAzure,
  type EdgeRuntimeName,
  startEdgeApp,
  startEdgeAzure,
} from "./_edge.ts";
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

/**
 * Bytes from a seeded xorshift32 (words little-endian, the last `size % 4`
 * bytes `(i * 131 + seed) & 255`): the same on every run, with no short
 * period. The Azure app's `/generate` route streams the same bytes.
 */
function randomBytes(size: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  const words = size >>> 2;
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    view.setUint32(i * 4, x >>> 0, true);
  }
  for (let i = words * 4; i < size; i++) bytes[i] = (i * 131 + seed) & 255;
  return bytes;
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Reads a response body whole, hashing it as it arrives. */
async function hashBody(response: Response): Promise<{ size: number; sha256: string }> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of response.body!) {
    hash.update(chunk);
    size += chunk.byteLength;
  }
  return { size, sha256: hash.digest("hex") };
}

/** An error the Azure app answered with (see `describeError` in app/edge_azure_app.mjs). */
interface AppError {
  name?: string;
  message?: string;
  stack?: string;
  cause?: AppError;
}

/**
 * The response when it succeeded; else an error saying what the app answered:
 * for an error the app caught, each error of its cause chain and the stack of
 * the innermost one (where it failed inside the runtime).
 */
async function ok(response: Response, what: string): Promise<Response> {
  if (response.ok) return response;
  const text = await response.text();
  let detail = text;
  try {
    let error = JSON.parse(text) as AppError;
    const chain = [`${error.name}: ${error.message}`];
    while (error.cause) {
      error = error.cause;
      chain.push(`caused by ${error.name}: ${error.message}`);
    }
    detail = `${chain.join("\n  ")}\n${error.stack}`;
  } catch {
    // not JSON: print it as it is
  }
  throw new Error(`${what}: ${response.status} ${detail}`);
}

const azureApp = fileURLToPath(new URL("./app/edge_azure_app.mjs", import.meta.url));
const SEED = 12;
/**
 * 64 MiB + 5 bytes, more than blockSize × concurrency with the default options
 * (8 MiB × 4). Made in the first Azure suite's `before`, not at import (Bun
 * and Node skip these suites).
 */
let LARGE: Uint8Array;
let LARGE_SHA256: string;
const LARGE_PATH = "dir/big file.bin";
/** The stored blob's request target at the proxy (any encoding of the space). */
const LARGE_TARGET = /\/edge\/dir\/big(%20|\+| )file\.bin(\?|$)/;

for (const runtime of ["workerd", "edge-runtime"] as EdgeRuntimeName[]) {
  describeOnDeno(`the Azure backend bundled in ${runtime}, against Azurite`, runtime, () => {
    let temp: string;
    let azure: EdgeAzure | undefined;
    let server: EdgeApp | undefined;
    const url = (route: string, path = LARGE_PATH) =>
      `${server!.url}${route}/${path.split("/").map(encodeURIComponent).join("/")}`;

    before(async () => {
      LARGE ??= randomBytes(64 * 1024 * 1024 + 5, SEED);
      LARGE_SHA256 ??= sha256(LARGE);
      temp = mkdtempSync(join(tmpdir(), `rs-edge-azure-${runtime}-`));
      const tools = await packagingTools();
      await installNpmLayout(tools.esbuild, temp);
      const entry = join(temp, "app.mjs");
      copyFileSync(azureApp, entry);
      azure = await startEdgeAzure();
      server = await startEdgeApp(tools, runtime, {
        entry,
        outDir: temp,
        bindings: {
          AZURE_CONNECTION_STRING: azure.connectionString,
          AZURE_CONTAINER: azure.container,
          AZURE_ACCOUNT_URL: azure.accountUrl,
        },
      });
    }, { timeout: 300_000 });

    after(async () => {
      await server?.close();
      await azure?.close();
      if (temp) rmSync(temp, { recursive: true, force: true });
    });

    test("the bundle holds no Azure Storage SDK", () => {
      const meta = JSON.parse(
        readFileSync(join(temp, `dist-${runtime}`, "meta.json"), "utf8"),
      ) as { inputs: Record<string, unknown> };
      const inputs = Object.keys(meta.inputs);
      assert.ok(
        inputs.some((i) => i.includes("src/backends/azure/azure_backend.js")),
        "the backend is bundled",
      );
      assert.deepEqual(inputs.filter((i) => /@azure[/+]storage-/.test(i)), []);
    });

    test("runs as an edge runtime (no Deno, Bun or Node detected)", async () => {
      const seen = await (await ok(await fetch(`${server!.url}runtime`), "runtime")).json();
      if (runtime === "workerd") assert.equal(seen.userAgent, "Cloudflare-Workers");
      else assert.equal(typeof seen.edgeRuntime, "string");
      assert.equal(seen.hasDeno, "undefined");
    });

    test("writes a streamed 64 MiB file in staged blocks", async () => {
      const from = azure!.proxy.requests.length;
      const response = await ok(
        await fetch(`${url("generate")}?size=${LARGE.byteLength}&seed=${SEED}`, {
          method: "PUT",
        }),
        "write",
      );
      const result = await response.json();
      assert.equal(result.path, LARGE_PATH);
      assert.equal(result.size, LARGE.byteLength);
      const seen = azure!.proxy.requests.slice(from);
      const blocks = seen.filter((r) => r.method === "PUT" && /[?&]comp=block(&|$)/.test(r.target));
      const commits = seen.filter((r) => r.method === "PUT" && /[?&]comp=blocklist/.test(r.target));
      assert.ok(blocks.length >= 2, `${blocks.length} blocks staged`);
      assert.equal(commits.length, 1);
    });

    test("writes a request body as it streams in", async () => {
      const small = LARGE.slice(0, 1024 * 1024 + 3);
      let offset = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (offset >= small.byteLength) return controller.close();
          controller.enqueue(small.slice(offset, offset + 64 * 1024));
          offset += 64 * 1024;
        },
      });
      const written = await ok(
        await fetch(url("files", "upload/small.bin"), {
          method: "PUT",
          body,
          duplex: "half",
        } as RequestInit),
        "write a request body",
      );
      assert.equal((await written.json()).size, small.byteLength);
      const served = await ok(await fetch(url("serve", "upload/small.bin")), "serve it");
      assert.deepEqual(new Uint8Array(await served.arrayBuffer()), small);
    });

    test("lists the file and reads its info", async () => {
      const listed = await (await ok(await fetch(url("list", "")), "list")).json();
      assert.deepEqual(listed, [
        { path: LARGE_PATH, size: LARGE.byteLength },
        { path: "upload/small.bin", size: 1024 * 1024 + 3 },
      ]);
      const info = await (await ok(await fetch(url("info")), "info")).json();
      assert.equal(info.path, LARGE_PATH);
      assert.equal(info.name, "big file.bin");
      assert.equal(info.size, LARGE.byteLength);
      assert.match(info.etag, /^"0x[0-9A-F]+"$/);
      assert.ok(Math.abs(Date.parse(info.modifiedAt) - Date.now()) < 10 * 60_000, info.modifiedAt);
    });

    test("signs a URL that downloads the same bytes", async () => {
      const signed = await (await ok(await fetch(url("signed")), "signedUrl")).text();
      const parsed = new URL(signed);
      assert.equal(parsed.origin, new URL(azure!.accountUrl).origin);
      assert.ok(parsed.searchParams.get("sig"), signed);
      assert.equal(parsed.searchParams.get("sp"), "r");
      const download = await ok(await fetch(signed), "signed download");
      assert.deepEqual(await hashBody(download), { size: LARGE.byteLength, sha256: LARGE_SHA256 });
      // The signature is checked: the same URL with another signature is refused.
      const sig = parsed.searchParams.get("sig")!;
      parsed.searchParams.set("sig", (sig[0] === "A" ? "B" : "A") + sig.slice(1));
      const forged = await fetch(parsed);
      await forged.body?.cancel();
      assert.equal(forged.status, 403);
    });

    test("serveFile answers a range across blocks and the whole file", async () => {
      const start = 5 * 1024 * 1024 + 3;
      const end = 17 * 1024 * 1024 + 11; // inclusive; crosses the 8 and 16 MiB boundaries
      const part = await ok(
        await fetch(url("serve"), { headers: { range: `bytes=${start}-${end}` } }),
        "ranged serveFile",
      );
      assert.equal(part.status, 206);
      assert.equal(
        part.headers.get("content-range"),
        `bytes ${start}-${end}/${LARGE.byteLength}`,
      );
      assert.deepEqual(await hashBody(part), {
        size: end - start + 1,
        sha256: sha256(LARGE.subarray(start, end + 1)),
      });
      const whole = await ok(await fetch(url("serve")), "serveFile");
      assert.equal(whole.status, 200);
      assert.ok(whole.headers.get("etag"), "an ETag");
      assert.deepEqual(await hashBody(whole), { size: LARGE.byteLength, sha256: LARGE_SHA256 });
    });

    test("a connection cut mid-read resumes, and the served bytes hash to the original", async () => {
      const proxy = azure!.proxy;
      const from = proxy.requests.length;
      proxy.add({
        method: "GET",
        path: LARGE_TARGET,
        action: { kind: "reset", afterBytes: 3 * 1024 * 1024 + 1234 },
      });
      try {
        const whole = await ok(await fetch(url("serve")), "serveFile with a cut");
        assert.equal(whole.status, 200);
        assert.deepEqual(await hashBody(whole), { size: LARGE.byteLength, sha256: LARGE_SHA256 });
      } finally {
        proxy.clear();
      }
      const gets = proxy.requests.slice(from).filter((r) =>
        r.method === "GET" && LARGE_TARGET.test(r.target)
      );
      assert.equal(gets.filter((r) => r.cut).length, 1, "the proxy cut one download");
      assert.ok(gets.length >= 2, `${gets.length} GETs: the read was resumed`);
    });

    test("reads a blob stored with Content-Encoding: gzip as its stored bytes (edge-runtime: fails loudly)", async () => {
      const gzip = new Uint8Array(
        await new Response(
          new Blob(["edge ".repeat(20_000)]).stream().pipeThrough(new CompressionStream("gzip")),
        ).arrayBuffer(),
      );
      await ok(await fetch(url("gzip", "gz/app.js"), { method: "PUT", body: gzip }), "write");
      if (runtime === "edge-runtime") {
        // Its fetch (undici, inside a VM) decodes and takes no option against it: the read
        // fails, naming the encoding, instead of returning other bytes.
        const failed = await fetch(url("stored", "gz/app.js"));
        assert.equal(failed.status, 500);
        assert.match(await failed.text(), /decoded the blob's stored Content-Encoding \\"gzip\\"/);
        return;
      }
      const read = await (await ok(await fetch(url("stored", "gz/app.js")), "read")).json();
      const expected = { size: gzip.byteLength, sha256: sha256(gzip) };
      assert.deepEqual(read.whole, expected, "readBytes");
      assert.deepEqual(read.streamed, expected, "read");
      const slice = gzip.subarray(10, 110);
      assert.deepEqual(read.range, { size: 100, sha256: sha256(slice) }, "ranged readBytes");
    });

    test("a signed upload is used with putSignedUpload inside the runtime: in blocks, then create-only", async () => {
      const path = "uploads/browser file.bin";
      const size = 3 * 1024 * 1024 + 7;
      const put = async (upload: unknown, query: string) =>
        await (await ok(
          await fetch(`${url("put-signed", path)}?${query}`, {
            method: "POST",
            body: JSON.stringify(upload),
          }),
          "putSignedUpload",
        )).json();
      const overwrite =
        await (await ok(await fetch(`${url("signed-upload", path)}?overwrite=1`), "sign"))
          .json();
      assert.equal(overwrite.blocks?.protocol, "azure-blocks");
      const from = azure!.proxy.requests.length;
      const done = await put(overwrite, `size=${size}&seed=${SEED}&blockSize=${1024 * 1024}`);
      assert.deepEqual(done, { result: { size, blocks: 4 } }, JSON.stringify(done));
      const blockRequests = azure!.proxy.requests.slice(from)
        .filter((r) => r.method === "PUT" && /comp=block(&|$)/.test(r.target));
      assert.equal(blockRequests.length, 4, "four Put Block requests with the one URL");
      const read = await (await ok(await fetch(url("stored", path)), "read")).json();
      assert.deepEqual(read.whole, { size, sha256: sha256(randomBytes(size, SEED)) });

      // Create-only: one request, refused by the signature now that the file exists.
      const createOnly = await (await ok(await fetch(url("signed-upload", path)), "sign")).json();
      assert.equal(createOnly.blocks, undefined);
      const refused = await put(createOnly, `size=10&seed=${SEED}`);
      assert.equal(refused.error?.name, "AlreadyExistsError", JSON.stringify(refused));
      const after = await (await ok(await fetch(url("stored", path)), "read")).json();
      assert.deepEqual(after.whole, read.whole, "the file is unchanged");
    });

    test("a config without key, SAS or credential is an InvalidConfigError saying what to pass", async () => {
      const result = await (await ok(await fetch(`${server!.url}no-credential`), "no-credential"))
        .json();
      assert.ok(result.error, `no error: ${JSON.stringify(result)}`);
      const { name, code, message, isInvalidConfigError } = result.error;
      assert.equal(name, "InvalidConfigError", `${name}: ${message}`);
      assert.equal(code, "INVALID_CONFIG");
      assert.equal(isInvalidConfigError, true);
      for (const option of ["accountKey", "sasToken", "credential"]) {
        assert.ok(message.includes(option), `the message names "${option}": ${message}`);
      }
    });
  });
}
