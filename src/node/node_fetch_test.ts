import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import * as net from "node:net";
import type { AddressInfo } from "node:net";
import { createNodeFetch, type NodeFetch } from "./_node_fetch.ts";
import { makeCertificate } from "../../tests/_azurite.ts";

const KiB = 1024;
const MiB = 1024 * KiB;

/** Byte `i` of the generated test data. */
function byteAt(i: number): number {
  return (i * 31 + (i >>> 16)) & 0xff;
}

/** `size` bytes of test data from `offset` on. */
function dataAt(offset: number, size: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = byteAt(offset + i);
  return out;
}

/** A chunk of 64 KiB test data; `i` picks which. */
const CHUNK = 64 * KiB;
const chunks = Array.from({ length: 4 }, (_, i) => dataAt(i * CHUNK, CHUNK));

/** The digest of `count` chunks as the generators below produce them. */
function generatedDigest(count: number): string {
  const hash = createHash("sha256");
  for (let i = 0; i < count; i++) hash.update(chunks[i % chunks.length]!);
  return hash.digest("hex");
}

/** Resolves once `read()` gives the same value three polls (50 ms apart) in a row. */
async function settled(read: () => number, limitMs = 5_000): Promise<number> {
  let last = -1;
  let same = 0;
  const deadline = Date.now() + limitMs;
  while (same < 3 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    const now = read();
    same = now === last ? same + 1 : 0;
    last = now;
  }
  return last;
}

async function readAll(body: ReadableStream<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const chunk of body) out.push(chunk);
  return out;
}

/** Shared state of the test server, reset by the tests that use it. */
const state = {
  /** Bytes the /big handler has written. */
  sent: 0,
  /** Resolves the upload handler's wait before it reads the body. */
  releaseUpload: undefined as (() => void) | undefined,
  uploadStarted: undefined as (() => void) | undefined,
  /** Lets the /two-part handler send the rest of its body. */
  releaseRest: undefined as (() => void) | undefined,
  /** Remote ports of the requests to /port, in order. */
  ports: [] as number[],
};

function handler(req: http.IncomingMessage, res: http.ServerResponse) {
  const url = new URL(req.url ?? "/", "http://x");
  switch (url.pathname) {
    case "/hello": {
      res.statusCode = 201;
      res.statusMessage = "Made It";
      res.setHeader("content-type", "text/plain");
      res.setHeader("x-multi", ["a", "b"]);
      res.end(req.method === "HEAD" ? undefined : "hello");
      return;
    }
    case "/echo": {
      const parts: Buffer[] = [];
      req.on("data", (c: Buffer) => parts.push(c));
      req.on("end", () => {
        res.setHeader("x-method", req.method ?? "");
        res.setHeader("x-content-length", req.headers["content-length"] ?? "none");
        res.setHeader("x-transfer-encoding", req.headers["transfer-encoding"] ?? "none");
        res.setHeader("x-content-type", req.headers["content-type"] ?? "none");
        res.setHeader("x-custom", req.headers["x-custom"] ?? "none");
        res.end(Buffer.concat(parts));
      });
      return;
    }
    case "/upload": {
      // Reads nothing until the test releases it, then answers the digest of what came.
      state.uploadStarted?.();
      new Promise<void>((r) => (state.releaseUpload = r)).then(() => {
        const hash = createHash("sha256");
        let size = 0;
        req.on("data", (c: Buffer) => {
          size += c.byteLength;
          hash.update(c);
        });
        req.on("end", () => res.end(JSON.stringify({ size, digest: hash.digest("hex") })));
      });
      return;
    }
    case "/big": {
      // `count` chunks of 64 KiB, written only as fast as the socket takes them.
      const count = Number(url.searchParams.get("chunks"));
      state.ports.push(req.socket.remotePort ?? -1);
      res.setHeader("content-length", String(count * CHUNK));
      state.sent = 0;
      let i = 0;
      const write = () => {
        while (i < count) {
          const chunk = chunks[i % chunks.length]!;
          i++;
          state.sent += chunk.byteLength;
          if (!res.write(chunk)) return void res.once("drain", write);
        }
        res.end();
      };
      write();
      return;
    }
    case "/stall": {
      // Headers and 64 KiB of a 1 MiB body, then nothing.
      res.setHeader("content-length", String(MiB));
      res.write(chunks[0]);
      return;
    }
    case "/two-part": {
      // 1 KiB of a 2 KiB body, the rest when the test releases it.
      state.ports.push(req.socket.remotePort ?? -1);
      res.setHeader("content-length", String(2 * KiB));
      res.write(chunks[0]!.subarray(0, KiB));
      new Promise<void>((r) => (state.releaseRest = r)).then(() =>
        res.end(chunks[0]!.subarray(KiB, 2 * KiB))
      );
      return;
    }
    case "/silent":
      // Never answers.
      return;
    case "/cut": {
      // 64 KiB of a 1 MiB body, then the connection is closed.
      res.setHeader("content-length", String(MiB));
      res.write(chunks[0], () => setTimeout(() => req.socket.destroy(), 20));
      return;
    }
    case "/cut-chunked": {
      // A chunked body whose last chunk never comes: the connection is closed.
      res.write(chunks[0], () => setTimeout(() => req.socket.destroy(), 20));
      return;
    }
    case "/status": {
      res.statusCode = Number(url.searchParams.get("code"));
      res.end();
      return;
    }
    case "/port": {
      state.ports.push(req.socket.remotePort ?? -1);
      res.end("ok");
      return;
    }
    default:
      res.statusCode = 404;
      res.end("not found");
  }
}

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
  });
}

function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections?.();
  return new Promise((resolve) => server.close(() => resolve()));
}

describe("createNodeFetch over a local node:http server", () => {
  const server = http.createServer(handler);
  let base = "";
  let fetch: NodeFetch;

  before(async () => {
    base = `http://127.0.0.1:${await listen(server)}`;
    fetch = createNodeFetch();
  });
  after(async () => {
    fetch.close();
    await closeServer(server);
  });

  test("status, status text, headers (repeated ones joined), body and url", async () => {
    const response = await fetch(`${base}/hello`);
    assert.equal(response.status, 201);
    assert.equal(response.statusText, "Made It");
    assert.equal(response.ok, true);
    assert.equal(response.headers.get("content-type"), "text/plain");
    assert.equal(response.headers.get("x-multi"), "a, b");
    assert.equal(response.headers.get("content-length"), "5");
    assert.equal(response.url, `${base}/hello`);
    assert.equal(await response.text(), "hello");
  });

  test("a 404 is an answer, not a failure", async () => {
    const response = await fetch(new URL("/nothing", base));
    assert.equal(response.status, 404);
    assert.equal(response.ok, false);
    assert.equal(await response.text(), "not found");
  });

  test("HEAD, 204 and 304 answers have a null body", async () => {
    const head = await fetch(`${base}/hello`, { method: "HEAD" });
    assert.equal(head.status, 201);
    assert.equal(head.body, null);
    for (const code of [204, 304]) {
      const response = await fetch(`${base}/status?code=${code}`);
      assert.equal(response.status, code);
      assert.equal(response.body, null, `status ${code}`);
    }
    // The connection is still good for the next request.
    assert.equal(await (await fetch(`${base}/hello`)).text(), "hello");
  });

  test("bytes and string bodies go with a Content-Length; strings get a text content type", async () => {
    const bytes = dataAt(0, 100 * KiB);
    const put = await fetch(`${base}/echo`, {
      method: "put",
      body: bytes,
      headers: { "x-custom": "yes" },
    });
    assert.equal(put.headers.get("x-method"), "PUT");
    assert.equal(put.headers.get("x-content-length"), String(bytes.byteLength));
    assert.equal(put.headers.get("x-transfer-encoding"), "none");
    assert.equal(put.headers.get("x-custom"), "yes");
    assert.deepEqual(new Uint8Array(await put.arrayBuffer()), bytes);

    const post = await fetch(`${base}/echo`, { method: "POST", body: "héllo" });
    assert.equal(post.headers.get("x-content-length"), "6");
    assert.equal(post.headers.get("x-content-type"), "text/plain;charset=UTF-8");
    assert.equal(await post.text(), "héllo");

    const empty = await fetch(`${base}/echo`, { method: "PUT" });
    assert.equal(empty.headers.get("x-content-length"), "0");
    assert.equal(await empty.text(), "");
  });

  test("Blob and URLSearchParams bodies are serialized as fetch does", async () => {
    const blob = new Blob(["blob body"], { type: "application/x-test" });
    const fromBlob = await fetch(`${base}/echo`, { method: "PUT", body: blob });
    assert.equal(fromBlob.headers.get("x-content-length"), "9");
    assert.equal(fromBlob.headers.get("x-content-type"), "application/x-test");
    assert.equal(await fromBlob.text(), "blob body");

    const form = await fetch(`${base}/echo`, {
      method: "POST",
      body: new URLSearchParams({ a: "1", b: "two words" }),
    });
    assert.match(form.headers.get("x-content-type")!, /^application\/x-www-form-urlencoded/);
    assert.equal(await form.text(), "a=1&b=two+words");
  });

  test("a Request is sent with its method, headers and body", async () => {
    const request = new Request(`${base}/echo`, {
      method: "POST",
      headers: { "x-custom": "from-request" },
      body: "from a Request",
    });
    const response = await fetch(request);
    assert.equal(response.headers.get("x-method"), "POST");
    assert.equal(response.headers.get("x-custom"), "from-request");
    assert.equal(await response.text(), "from a Request");
  });

  test("a GET with a body and a non-http URL are TypeErrors", async () => {
    await assert.rejects(fetch(`${base}/echo`, { method: "GET", body: "x" }), TypeError);
    await assert.rejects(fetch("ftp://127.0.0.1/x"), TypeError);
    await assert.rejects(fetch("not a url"), TypeError);
  });

  test("a ReadableStream body is streamed with backpressure (chunked)", async () => {
    const count = 1024; // 64 MiB
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled === count) return controller.close();
        controller.enqueue(chunks[pulled % chunks.length]!);
        pulled++;
      },
    }, { highWaterMark: 0 });
    const started = new Promise<void>((r) => (state.uploadStarted = r));
    const answer = fetch(`${base}/upload`, { method: "PUT", body });
    await started;
    // The server reads nothing yet: the source must stop once the socket buffers are full.
    const stalledAt = await settled(() => pulled);
    assert.ok(stalledAt < count / 2, `pulled ${stalledAt} of ${count} chunks with no reader`);
    state.releaseUpload!();
    const response = await answer;
    const result = await response.json() as { size: number; digest: string };
    assert.equal(result.size, count * CHUNK);
    assert.equal(result.digest, generatedDigest(count));
  });

  test("a response body is a byte stream the socket waits for", async () => {
    const count = 2048; // 128 MiB
    const response = await fetch(`${base}/big?chunks=${count}`);
    assert.equal(response.headers.get("content-length"), String(count * CHUNK));
    // Nothing reads the body: the server must stop once the queue and socket buffers are full.
    const stalledAt = await settled(() => state.sent);
    assert.ok(stalledAt < (count * CHUNK) / 2, `sent ${stalledAt} bytes with no reader`);
    const reader = response.body!.getReader({ mode: "byob" });
    const hash = createHash("sha256");
    let size = 0;
    let buffer = new ArrayBuffer(256 * KiB);
    for (;;) {
      const { done, value } = await reader.read(new Uint8Array(buffer));
      if (done) break;
      size += value.byteLength;
      hash.update(value);
      buffer = value.buffer as ArrayBuffer;
    }
    assert.equal(size, count * CHUNK);
    assert.equal(hash.digest("hex"), generatedDigest(count));
  });

  test("aborting mid-body errors the body with the signal's reason", async () => {
    const controller = new AbortController();
    const response = await fetch(`${base}/stall`, { signal: controller.signal });
    const reader = response.body!.getReader();
    const first = await reader.read();
    assert.ok(first.value && first.value.byteLength > 0);
    let got = first.value.byteLength;
    while (got < CHUNK) got += (await reader.read()).value!.byteLength;
    const reason = new Error("stop reading");
    controller.abort(reason);
    await assert.rejects(reader.read(), (error) => error === reason);
  });

  test("aborting before the answer rejects with the signal's reason; so does a pre-aborted signal", async () => {
    const controller = new AbortController();
    const pending = fetch(`${base}/silent`, { signal: controller.signal });
    const reason = new Error("too slow");
    setTimeout(() => controller.abort(reason), 20);
    await assert.rejects(pending, (error) => error === reason);

    const already = AbortSignal.abort(new Error("never started"));
    await assert.rejects(
      fetch(`${base}/hello`, { signal: already }),
      (error) => error === already.reason,
    );
  });

  for (const path of ["/cut", "/cut-chunked"]) {
    test(`a connection cut mid-body (${path}) errors the body with a network TypeError`, async () => {
      const response = await fetch(`${base}${path}`);
      assert.equal(response.status, 200);
      await assert.rejects(readAll(response.body!), (error) => {
        assert.ok(error instanceof TypeError, `${error}`);
        assert.equal((error.cause as { code?: string }).code, "ECONNRESET");
        return true;
      });
    });
  }

  test("a refused connection rejects with a TypeError whose cause has the code", async () => {
    const closed = http.createServer();
    const port = await listen(closed);
    await closeServer(closed);
    await assert.rejects(fetch(`http://127.0.0.1:${port}/`), (error) => {
      assert.ok(error instanceof TypeError, `${error}`);
      assert.equal((error.cause as { code?: string }).code, "ECONNREFUSED");
      return true;
    });
  });

  test("close() fails the requests in flight; the function stays usable", async () => {
    const own = createNodeFetch();
    const pending = own(`${base}/silent`);
    await new Promise((r) => setTimeout(r, 50));
    own.close();
    await assert.rejects(pending, TypeError);
    assert.equal(await (await own(`${base}/hello`)).text(), "hello");
    own.close();
  });
});

describe("createNodeFetch keep-alive", () => {
  const server = http.createServer(handler);
  let base = "";
  before(async () => {
    base = `http://127.0.0.1:${await listen(server)}`;
  });
  after(() => closeServer(server));

  test("sequential requests reuse one connection; keepAlive: false opens one each", async () => {
    const kept = createNodeFetch();
    const fresh = createNodeFetch({ keepAlive: false });
    try {
      state.ports = [];
      for (let i = 0; i < 3; i++) await (await kept(`${base}/port`)).text();
      assert.equal(new Set(state.ports).size, 1, `ports ${state.ports}`);
      state.ports = [];
      for (let i = 0; i < 3; i++) await (await fresh(`${base}/port`)).text();
      assert.equal(new Set(state.ports).size, 3, `ports ${state.ports}`);
    } finally {
      kept.close();
      fresh.close();
    }
  });
});

describe("createNodeFetch body cancel", () => {
  const server = http.createServer(handler);
  let base = "";
  before(async () => {
    base = `http://127.0.0.1:${await listen(server)}`;
  });
  after(() => closeServer(server));

  test("cancelling a short body keeps the connection; a long one is closed", async () => {
    // One socket: the second request waits for the first's connection, or opens a new one when
    // it was destroyed.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const fetch = createNodeFetch({ agent });
    try {
      state.ports = [];
      const short = await fetch(`${base}/two-part`);
      const first = short.body!.getReader();
      await first.read();
      await first.cancel();
      state.releaseRest!();
      await (await fetch(`${base}/port`)).text();
      assert.equal(state.ports.length, 2);
      assert.equal(state.ports[0], state.ports[1], "the connection was reused");

      // 64 MiB: more than the queue and the socket buffers hold, so the body is not complete.
      state.ports = [];
      const big = await fetch(`${base}/big?chunks=1024`);
      const reader = big.body!.getReader();
      await reader.read();
      await reader.cancel();
      await (await fetch(`${base}/port`)).text();
      assert.equal(state.ports.length, 2);
      assert.notEqual(state.ports[0], state.ports[1], "the connection was closed");
    } finally {
      fetch.close();
    }
  });
});

describe("createNodeFetch and a HEAD answer without a length", () => {
  // Azurite answers a HEAD 404 with neither Content-Length nor Transfer-Encoding.
  let connections = 0;
  const requests: number[] = [];
  const server = net.createServer((socket) => {
    const id = ++connections;
    let buffered = "";
    socket.setEncoding("latin1");
    socket.on("data", (data: string) => {
      buffered += data;
      let end: number;
      while ((end = buffered.indexOf("\r\n\r\n")) >= 0) {
        buffered = buffered.slice(end + 4);
        requests.push(id);
        socket.write("HTTP/1.1 404 Not Found\r\nx-ms-error-code: BlobNotFound\r\n\r\n");
      }
    });
  });
  let base = "";
  before(async () => {
    base = `http://127.0.0.1:${await listen(server as unknown as http.Server)}`;
  });
  after(() => closeServer(server as unknown as http.Server));

  test("the connection is kept for the next request", async () => {
    const fetch = createNodeFetch({ agent: new http.Agent({ keepAlive: true, maxSockets: 1 }) });
    try {
      for (let i = 0; i < 3; i++) {
        const response = await fetch(`${base}/blob`, { method: "HEAD" });
        assert.equal(response.status, 404);
        assert.equal(response.headers.get("x-ms-error-code"), "BlobNotFound");
        assert.equal(response.body, null);
      }
      assert.equal(requests.length, 3);
      assert.deepEqual(requests, [requests[0], requests[0], requests[0]], "one connection");
    } finally {
      fetch.close();
    }
  });
});

describe("createNodeFetch over HTTPS with a throwaway CA", () => {
  const certificate = makeCertificate();
  const server = https.createServer({
    cert: certificate.pem,
    key: readFileSync(certificate.keyPath, "utf8"),
  }, handler);
  let base = "";
  before(async () => {
    base = `https://127.0.0.1:${await listen(server)}`;
  });
  after(async () => {
    await closeServer(server);
    rmSync(certificate.dir, { recursive: true, force: true });
  });

  test("trusting the CA, requests and uploads go through", async () => {
    const fetch = createNodeFetch({ ca: certificate.pem });
    try {
      const response = await fetch(`${base}/hello`);
      assert.equal(response.status, 201);
      assert.equal(await response.text(), "hello");
      const bytes = dataAt(0, 300 * KiB);
      const echo = await fetch(`${base}/echo`, { method: "PUT", body: bytes });
      assert.deepEqual(new Uint8Array(await echo.arrayBuffer()), bytes);
    } finally {
      fetch.close();
    }
  });

  test("without the CA the certificate is refused with a TypeError", async () => {
    const fetch = createNodeFetch();
    try {
      await assert.rejects(fetch(`${base}/hello`), TypeError);
    } finally {
      fetch.close();
    }
  });
});
