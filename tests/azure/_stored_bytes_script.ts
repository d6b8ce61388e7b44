// Run by src/backends/azure/_stored_bytes_test.ts in a fresh Node process (so that its first
// fetch is the process's first): prints what keepContentEncoding returned.
import { createServer } from "node:http";
import { gzipSync } from "node:zlib";
import { keepContentEncoding } from "../../src/backends/azure/_stored_bytes.ts";

const gzip = new Uint8Array(gzipSync(new TextEncoder().encode("stored ".repeat(1000))));
const server = createServer((req, res) => {
  const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? "");
  const headers = { "content-encoding": "gzip", "content-type": "text/plain" };
  if (range) {
    const part = gzip.subarray(Number(range[1]), Number(range[2]) + 1);
    res.writeHead(206, {
      ...headers,
      "content-length": part.byteLength,
      "content-range": `bytes ${range[1]}-${range[2]}/${gzip.byteLength}`,
    });
    res.end(part);
  } else {
    res.writeHead(200, { ...headers, "content-length": gzip.byteLength });
    res.end(req.method === "HEAD" ? undefined : gzip);
  }
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
const kept = keepContentEncoding((input, init) => fetch(input, init));
const same = (a: Uint8Array, b: Uint8Array) =>
  a.byteLength === b.byteLength && a.every((x, i) => x === b[i]);
async function get(init: RequestInit, expected: Uint8Array) {
  const response = await kept(url, init);
  const body = new Uint8Array(await response.arrayBuffer());
  return {
    status: response.status,
    same: same(body, expected),
    encoding: response.headers.get("content-encoding"),
  };
}
const out: Record<string, unknown> = {};
out.first = await get({ method: "GET" }, gzip);
out.whole = await get({ method: "GET" }, gzip);
out.range = await get({ method: "GET", headers: { range: "bytes=5-54" } }, gzip.subarray(5, 55));
const head = await kept(url, { method: "HEAD" });
out.head = { status: head.status, encoding: head.headers.get("content-encoding") };
const plain = await fetch(url);
const plainBody = new Uint8Array(await plain.arrayBuffer());
out.plain = { status: plain.status, decoded: plainBody.byteLength === 7000 };
server.close();
console.log(JSON.stringify(out));
