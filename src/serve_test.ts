// serveFile unit tests: `new Request(...)` in, `Response` out, against memory
// stores (some wrapped in a Proxy that records or replaces backend calls).
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  type Backend,
  BackendUnavailableError,
  CapabilityNotSupportedError,
  MemoryBackend,
  PermissionDeniedError,
  Store,
} from "../mod.ts";
import { serveFile } from "./serve.ts";
import { patternBytes } from "./conformance/_helpers.ts";

const URL_BASE = "http://localhost/";

function req(headers: Record<string, string> = {}, method = "GET", signal?: AbortSignal) {
  return new Request(URL_BASE, { method, headers, signal });
}

async function bytesOf(response: Response): Promise<Uint8Array> {
  return new Uint8Array(await response.arrayBuffer());
}

interface Call {
  method: string;
  args: unknown[];
}

/**
 * A backend wrapped in a Proxy that records every call, with optional
 * replacements for some methods (called with the real backend).
 */
function recorded(
  overrides: Record<string, (inner: MemoryBackend, ...args: never[]) => unknown> = {},
  capabilities?: Backend["capabilities"],
) {
  const inner = new MemoryBackend();
  const calls: Call[] = [];
  const backend = new Proxy(inner, {
    get(target, property, receiver) {
      if (property === "capabilities" && capabilities) return capabilities;
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        calls.push({ method: String(property), args });
        const override = overrides[String(property)];
        if (override) return override(inner, ...(args as never[]));
        return value.apply(target, args);
      };
    },
  }) as Backend;
  const store = new Store(backend);
  const reads = () => calls.filter((c) => c.method === "read");
  return { inner, store, calls, reads };
}

const DATA = patternBytes(1000, 7);

/** A getFileInfo override for a backend that has no ETags. */
const withoutEtag = (inner: MemoryBackend, key: string, options: never) =>
  inner.getFileInfo(key, options).then((info) => ({ ...info, etag: undefined }));

async function fixture() {
  const rec = recorded();
  await rec.store.write("file.bin", DATA);
  await rec.store.write("hello.txt", "hello world\n");
  await rec.store.write("noext", "raw");
  await rec.store.write("empty.bin", new Uint8Array(0));
  await rec.store.write("dir/inner.txt", "x");
  rec.calls.length = 0;
  return rec;
}

describe("serveFile: GET and HEAD", () => {
  test("GET streams the file with its headers", async () => {
    const { store } = await fixture();
    const info = await store.getFileInfo("file.bin");
    const response = await serveFile(store, "file.bin", req(), {
      cacheControl: "public, max-age=60",
      contentDisposition: 'attachment; filename="file.bin"',
      headers: { "x-extra": "1", "access-control-allow-origin": "*" },
    });
    assert.equal(response.status, 200);
    const h = response.headers;
    assert.equal(h.get("content-length"), "1000");
    assert.equal(h.get("content-type"), "application/octet-stream");
    assert.equal(h.get("etag"), info.etag);
    assert.equal(h.get("last-modified"), info.modifiedAt.toUTCString());
    assert.equal(h.get("accept-ranges"), "bytes");
    assert.equal(h.get("cache-control"), "public, max-age=60");
    assert.equal(h.get("content-disposition"), 'attachment; filename="file.bin"');
    assert.equal(h.get("x-extra"), "1");
    assert.equal(h.get("access-control-allow-origin"), "*");
    assert.equal(h.get("content-range"), null);
    assert.deepEqual(await bytesOf(response), DATA);
  });

  test("Content-Type: stored type, else the option, else application/octet-stream", async () => {
    const { store } = await fixture();
    const text = await serveFile(store, "hello.txt", req(), { contentType: "text/x-other" });
    assert.equal(text.headers.get("content-type"), "text/plain; charset=utf-8");
    assert.equal(await text.text(), "hello world\n");
    // "noext" has only the application/octet-stream guess: the option fills in.
    const fallback = await serveFile(store, "noext", req(), { contentType: "text/x-raw" });
    assert.equal(fallback.headers.get("content-type"), "text/x-raw");
    await fallback.body?.cancel();
    const plain = await serveFile(store, "noext", req());
    assert.equal(plain.headers.get("content-type"), "application/octet-stream");
    await plain.body?.cancel();
  });

  test("a file without a stored type or ETag, and an unquoted ETag gets quoted", async () => {
    const { store } = recorded({
      getFileInfo: (inner, key: string, options: never) =>
        inner.getFileInfo(key, options).then((info) => ({
          ...info,
          contentType: undefined,
          etag: key === "a" ? "0x8DC" : undefined,
        })),
      // The faked ETag is not the memory backend's: the read is not pinned to it here.
      read: (inner, key: string, options: object) =>
        inner.read(key, { ...options, ifMatch: undefined }),
    });
    await store.write("a", "aaa");
    await store.write("b", "bbb");
    const a = await serveFile(store, "a", req());
    assert.equal(a.headers.get("etag"), '"0x8DC"');
    assert.equal(a.headers.get("content-type"), "application/octet-stream");
    assert.equal(await a.text(), "aaa");
    const b = await serveFile(store, "b", req(), { contentType: "text/plain" });
    assert.equal(b.headers.get("etag"), null);
    assert.equal(b.headers.get("content-type"), "text/plain");
    assert.equal(await b.text(), "bbb");
  });

  test("HEAD has the GET headers, no body, and reads no content", async () => {
    const { store, reads, calls } = await fixture();
    const get = await serveFile(store, "file.bin", req());
    await get.body?.cancel();
    calls.length = 0;
    const head = await serveFile(store, "file.bin", req({}, "HEAD"));
    assert.equal(head.status, 200);
    assert.equal(head.body, null);
    assert.deepEqual([...head.headers], [...get.headers]);
    assert.equal(reads().length, 0, "HEAD must not read the content");
    assert.deepEqual(calls.map((c) => c.method), ["getFileInfo"]);
  });

  test("HEAD ignores Range (RFC 9110 §14.2: range handling is defined for GET only)", async () => {
    const { store, reads } = await fixture();
    const head = await serveFile(store, "file.bin", req({ range: "bytes=0-9" }, "HEAD"));
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("content-length"), "1000");
    assert.equal(head.body, null);
    assert.equal(reads().length, 0);
  });

  test("other methods get 405 with Allow, before any backend call", async () => {
    const { store, calls } = await fixture();
    for (const method of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
      const response = await serveFile(store, "file.bin", req({}, method));
      assert.equal(response.status, 405, method);
      assert.equal(response.headers.get("allow"), "GET, HEAD");
      await response.body?.cancel();
    }
    assert.equal(calls.length, 0);
  });

  test("an empty file is served with Content-Length 0", async () => {
    const { store } = await fixture();
    const response = await serveFile(store, "empty.bin", req());
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-length"), "0");
    assert.equal((await bytesOf(response)).byteLength, 0);
  });
});

describe("serveFile: errors are responses", () => {
  test("404 for a missing file, a folder and invalid paths", async () => {
    const { store } = await fixture();
    for (const path of ["missing.bin", "dir", "", "../etc/passwd", "a\0b"]) {
      const response = await serveFile(store, path, req());
      assert.equal(response.status, 404, JSON.stringify(path));
      assert.equal(await response.text(), "Not Found\n");
    }
    const head = await serveFile(store, "missing.bin", req({}, "HEAD"));
    assert.equal(head.status, 404);
    assert.equal(head.body, null);
  });

  test("403, 503 and 500 with a short body that leaks no cause", async () => {
    const secret = "AccountKey=c2VjcmV0";
    const cases: [Error, number, RegExp][] = [
      [new PermissionDeniedError("Access denied", { cause: new Error(secret) }), 403, /^Forbidden/],
      [
        new BackendUnavailableError("Service returned 503", { cause: new Error(secret) }),
        503,
        /^Service Unavailable \(BACKEND_UNAVAILABLE\)\n$/,
      ],
      [
        new CapabilityNotSupportedError("read", { cause: new Error(secret) }),
        500,
        /^Internal Server Error \(CAPABILITY_NOT_SUPPORTED\)\n$/,
      ],
    ];
    for (const [error, status, body] of cases) {
      const { store } = recorded({ getFileInfo: () => Promise.reject(error) });
      const response = await serveFile(store, "a.txt", req());
      assert.equal(response.status, status);
      const text = await response.text();
      assert.match(text, body);
      assert.ok(!text.includes(secret), "the native cause is not in the body");
    }
  });

  test("a non-store error from the backend becomes 503 (the Store wraps it)", async () => {
    const { store } = recorded({ getFileInfo: () => Promise.reject(new Error("socket hang up")) });
    const response = await serveFile(store, "a.txt", req());
    assert.equal(response.status, 503);
    assert.ok(!(await response.text()).includes("socket"));
  });

  test("a file deleted between getFileInfo and read is a 404", async () => {
    const { store } = recorded({
      read: (inner, key: string, options: never) =>
        inner.delete(key, {}).then(() => inner.read(key, options)),
    });
    await store.write("a.txt", "x");
    const response = await serveFile(store, "a.txt", req());
    assert.equal(response.status, 404);
    await response.body?.cancel();
  });

  test("a request aborted before the response is ready rejects with its reason", async () => {
    const { store } = await fixture();
    const controller = new AbortController();
    const reason = new Error("client gone");
    controller.abort(reason);
    await assert.rejects(serveFile(store, "file.bin", req({}, "GET", controller.signal)), reason);
  });
});

describe("serveFile: Range", () => {
  const cases: [string, number, number][] = [
    ["bytes=0-99", 0, 99],
    ["bytes=100-", 100, 999],
    ["bytes=-10", 990, 999],
    ["bytes=999-999", 999, 999], // the last byte
    ["bytes=-1", 999, 999],
    ["bytes=0-0", 0, 0],
    ["bytes=500-100000", 500, 999], // past the end: truncated to the size
    ["bytes=0-99999999999999999999", 0, 999],
    ["bytes=-5000", 0, 999], // a suffix longer than the file: all of it
    ["Bytes = 10-19", 10, 19], // the unit is case-insensitive
    ["bytes=10-19,", 10, 19], // empty list elements are allowed
  ];
  for (const [header, start, end] of cases) {
    test(`${header} -> 206 bytes ${start}-${end}/1000`, async () => {
      const { store, reads } = await fixture();
      const response = await serveFile(store, "file.bin", req({ range: header }));
      assert.equal(response.status, 206);
      assert.equal(response.headers.get("content-range"), `bytes ${start}-${end}/1000`);
      assert.equal(response.headers.get("content-length"), String(end - start + 1));
      assert.equal(response.headers.get("accept-ranges"), "bytes");
      assert.deepEqual(await bytesOf(response), DATA.subarray(start, end + 1));
      // Never read and discard: the range went to the backend.
      assert.equal(reads().length, 1);
      const options = reads()[0]!.args[1] as { range?: unknown };
      assert.deepEqual(options.range, { offset: start, length: end - start + 1 });
    });
  }

  const unsatisfiable: [string, string, string][] = [
    ["file.bin", "bytes=1000-", "bytes */1000"], // start == size
    ["file.bin", "bytes=1000-2000", "bytes */1000"],
    ["file.bin", "bytes=5000-", "bytes */1000"], // start beyond size
    ["file.bin", "bytes=-0", "bytes */1000"], // zero-length suffix
    ["empty.bin", "bytes=0-", "bytes */0"],
  ];
  for (const [path, header, contentRange] of unsatisfiable) {
    test(`${path} ${header} -> 416 ${contentRange}`, async () => {
      const { store, reads } = await fixture();
      const response = await serveFile(store, path, req({ range: header }));
      assert.equal(response.status, 416);
      assert.equal(response.headers.get("content-range"), contentRange);
      assert.equal((await bytesOf(response)).byteLength, 0);
      assert.equal(reads().length, 0);
    });
  }

  const ignored = [
    "bytes=0-1,5-6", // several ranges: multipart/byteranges is not supported
    "bytes=-5,0-1",
    "bytes=abc",
    "bytes=5-2", // last < first: an invalid range-spec
    "bytes=",
    "bytes=1-2-3",
    "bytes=-",
    "bytes=0x10-",
    "bytes=+1-2",
    "items=0-1", // another unit
    "0-1",
    "",
  ];
  for (const header of ignored) {
    test(`Range ${JSON.stringify(header)} is ignored -> 200 with the whole file`, async () => {
      const { store, reads } = await fixture();
      const response = await serveFile(store, "file.bin", req({ range: header }));
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("content-range"), null);
      assert.equal(response.headers.get("content-length"), "1000");
      assert.deepEqual(await bytesOf(response), DATA);
      assert.equal((reads()[0]!.args[1] as { range?: unknown }).range, undefined);
    });
  }

  test("a suffix range on an empty file sends the (empty) file whole", async () => {
    const { store } = await fixture();
    const response = await serveFile(store, "empty.bin", req({ range: "bytes=-5" }));
    assert.equal(response.status, 200);
    assert.equal((await bytesOf(response)).byteLength, 0);
  });

  test("a backend without range_read ignores Range and says Accept-Ranges: none", async () => {
    const caps = new MemoryBackend().capabilities.without("range_read");
    const { store, reads } = recorded({}, caps);
    await store.write("a.bin", DATA);
    const response = await serveFile(store, "a.bin", req({ range: "bytes=0-9" }));
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("accept-ranges"), "none");
    assert.deepEqual(await bytesOf(response), DATA);
    assert.equal((reads()[0]!.args[1] as { range?: unknown }).range, undefined);
  });
});

describe("serveFile: conditional requests", () => {
  async function validators() {
    const rec = await fixture();
    const info = await rec.store.getFileInfo("file.bin");
    rec.calls.length = 0;
    return {
      ...rec,
      etag: info.etag!,
      lastModified: info.modifiedAt.toUTCString(),
      modifiedAt: info.modifiedAt,
    };
  }

  test("If-None-Match: matching (weak comparison, lists, *) -> 304 without a read", async () => {
    const { store, etag, lastModified, reads } = await validators();
    for (
      const value of [etag, `W/${etag}`, `"other", ${etag}`, `"a",W/"b" , ${etag}`, "*", ` * `]
    ) {
      for (const method of ["GET", "HEAD"]) {
        const response = await serveFile(
          store,
          "file.bin",
          req({ "if-none-match": value }, method),
          {
            cacheControl: "no-cache",
            headers: { vary: "accept-encoding" },
          },
        );
        assert.equal(response.status, 304, `${method} ${value}`);
        assert.equal(response.body, null);
        assert.equal(response.headers.get("etag"), etag);
        assert.equal(response.headers.get("last-modified"), lastModified);
        assert.equal(response.headers.get("cache-control"), "no-cache");
        assert.equal(response.headers.get("vary"), "accept-encoding");
        assert.equal(response.headers.get("content-length"), null);
      }
    }
    assert.equal(reads().length, 0);
  });

  test("If-None-Match: no match -> 200, and If-Modified-Since is then not consulted", async () => {
    const { store, lastModified } = await validators();
    const response = await serveFile(
      store,
      "file.bin",
      req({ "if-none-match": '"nope", W/"nope2"', "if-modified-since": lastModified }),
    );
    assert.equal(response.status, 200);
    assert.deepEqual(await bytesOf(response), DATA);
  });

  test("If-Modified-Since: second precision, HTTP date formats, invalid dates ignored", async () => {
    const { store, modifiedAt, lastModified } = await validators();
    const s = Math.floor(modifiedAt.getTime() / 1000) * 1000;
    const d = (ms: number) => new Date(ms);
    const rfc850 = (date: Date) => {
      const [wd, day, mon, year, time] = date.toUTCString().replace(",", "").split(" ");
      const weekday = { Sun: "Sunday", Mon: "Monday", Tue: "Tuesday", Wed: "Wednesday" }[wd!] ??
        { Thu: "Thursday", Fri: "Friday", Sat: "Saturday" }[wd!];
      return `${weekday}, ${day}-${mon}-${year!.slice(2)} ${time} GMT`;
    };
    const asctime = (date: Date) => {
      const [wd, day, mon, year, time] = date.toUTCString().replace(",", "").split(" ");
      return `${wd} ${mon} ${day!.replace(/^0/, " ")} ${time} ${year}`;
    };
    const expectations: [string, number][] = [
      [lastModified, 304],
      [d(s + 500).toUTCString(), 304], // sub-second: same second
      [d(s + 60_000).toUTCString(), 304],
      [d(s - 1000).toUTCString(), 200],
      [rfc850(d(s)), 304],
      [rfc850(d(s - 1000)), 200],
      [asctime(d(s)), 304],
      [asctime(d(s - 1000)), 200],
      ["not a date", 200],
      ["2024-01-01T00:00:00Z", 200], // ISO 8601 is not an HTTP-date
    ];
    for (const [value, status] of expectations) {
      const response = await serveFile(store, "file.bin", req({ "if-modified-since": value }));
      assert.equal(response.status, status, value);
      await response.body?.cancel();
    }
  });

  test("If-Range with the current strong ETag or exact date -> 206", async () => {
    const { store, etag, lastModified } = await validators();
    for (const value of [etag, lastModified]) {
      const response = await serveFile(
        store,
        "file.bin",
        req({ range: "bytes=10-19", "if-range": value }),
      );
      assert.equal(response.status, 206, value);
      assert.deepEqual(await bytesOf(response), DATA.subarray(10, 20));
    }
  });

  test("If-Range that does not match (other ETag, weak ETag, other date) -> 200 full", async () => {
    const { store, etag, modifiedAt, reads } = await validators();
    const values = [
      '"stale"',
      `W/${etag}`, // weak tags never match strongly
      new Date(modifiedAt.getTime() - 2000).toUTCString(),
      new Date(modifiedAt.getTime() + 2000).toUTCString(),
      "garbage",
    ];
    for (const value of values) {
      const response = await serveFile(
        store,
        "file.bin",
        req({ range: "bytes=10-19", "if-range": value }),
      );
      assert.equal(response.status, 200, value);
      assert.equal(response.headers.get("content-range"), null);
      assert.deepEqual(await bytesOf(response), DATA);
    }
    assert.ok(reads().every((c) => (c.args[1] as { range?: unknown }).range === undefined));
  });

  test("If-Range that does not match also skips a 416", async () => {
    const { store } = await validators();
    const response = await serveFile(
      store,
      "file.bin",
      req({ range: "bytes=5000-", "if-range": '"stale"' }),
    );
    assert.equal(response.status, 200);
    await response.body?.cancel();
  });

  test("If-Match: strong match or * -> 200; otherwise 412", async () => {
    const { store, etag } = await validators();
    for (const [value, status] of [[etag, 200], ["*", 200], [`"x", ${etag}`, 200]] as const) {
      const response = await serveFile(store, "file.bin", req({ "if-match": value }));
      assert.equal(response.status, status, value);
      await response.body?.cancel();
    }
    for (const value of ['"x"', `W/${etag}`]) {
      const response = await serveFile(store, "file.bin", req({ "if-match": value }), {
        headers: { "x-extra": "1" },
      });
      assert.equal(response.status, 412, value);
      assert.equal(response.headers.get("x-extra"), "1");
      assert.equal((await bytesOf(response)).byteLength, 0);
    }
  });

  test("If-Unmodified-Since: modified later -> 412; else served; ignored with If-Match", async () => {
    const { store, modifiedAt, etag } = await validators();
    const before = new Date(modifiedAt.getTime() - 5000).toUTCString();
    const after = new Date(modifiedAt.getTime() + 5000).toUTCString();
    const stale = await serveFile(store, "file.bin", req({ "if-unmodified-since": before }));
    assert.equal(stale.status, 412);
    const fresh = await serveFile(store, "file.bin", req({ "if-unmodified-since": after }));
    assert.equal(fresh.status, 200);
    await fresh.body?.cancel();
    const withMatch = await serveFile(
      store,
      "file.bin",
      req({ "if-match": etag, "if-unmodified-since": before }),
    );
    assert.equal(withMatch.status, 200);
    await withMatch.body?.cancel();
  });

  test("If-Match is evaluated before If-None-Match", async () => {
    const { store, etag } = await validators();
    const response = await serveFile(
      store,
      "file.bin",
      req({ "if-match": '"x"', "if-none-match": etag }),
    );
    assert.equal(response.status, 412);
  });
});

describe("serveFile: streams", () => {
  /** A store whose reads return a slow endless-ish stream that records cancel. */
  function slowStore() {
    const state = { cancelled: false, pulls: 0, reason: undefined as unknown };
    const { store } = recorded({
      read: () =>
        Promise.resolve(
          new ReadableStream<Uint8Array>({
            async pull(controller) {
              state.pulls++;
              await new Promise((resolve) => setTimeout(resolve, 5));
              controller.enqueue(new Uint8Array(10));
            },
            cancel(reason) {
              state.cancelled = true;
              state.reason = reason;
            },
          }, { highWaterMark: 0 }),
        ),
    });
    return { store, state };
  }

  test("aborting the request cancels the backend read", async () => {
    const { store, state } = slowStore();
    await store.write("a.bin", new Uint8Array(1_000_000));
    const controller = new AbortController();
    const response = await serveFile(store, "a.bin", req({}, "GET", controller.signal));
    const reader = response.body!.getReader();
    await reader.read();
    const reason = new Error("client went away");
    controller.abort(reason);
    await assert.rejects(reader.read(), reason);
    assert.equal(state.cancelled, true);
  });

  test("aborting while a chunk is being read errors the body after the read", async () => {
    const { store, state } = slowStore();
    await store.write("a.bin", new Uint8Array(1_000_000));
    const controller = new AbortController();
    const response = await serveFile(store, "a.bin", req({}, "GET", controller.signal));
    const reader = response.body!.getReader();
    const pending = reader.read(); // the backend is in the middle of a pull
    const reason = new Error("client went away");
    controller.abort(reason);
    await assert.rejects(pending, reason);
    assert.equal(state.cancelled, true);
  });

  test("a consumer that cancels right after the abort sees no error", async () => {
    const { store, state } = slowStore();
    await store.write("a.bin", new Uint8Array(1_000_000));
    const controller = new AbortController();
    const response = await serveFile(store, "a.bin", req({}, "GET", controller.signal));
    const reader = response.body!.getReader();
    await reader.read();
    const pending = reader.read();
    controller.abort(new Error("client went away"));
    // What a server does when its client disconnects: cancel the body.
    await reader.cancel("connection closed");
    assert.deepEqual(await pending, { done: true, value: undefined });
    assert.equal(state.cancelled, true);
  });

  test("cancelling the response body cancels the backend read", async () => {
    const { store, state } = slowStore();
    await store.write("a.bin", new Uint8Array(1_000_000));
    const response = await serveFile(store, "a.bin", req());
    const reader = response.body!.getReader();
    await reader.read();
    await reader.cancel("done");
    assert.equal(state.cancelled, true);
  });

  test("a body shorter than Content-Length errors instead of ending normally", async () => {
    // The file is replaced by a shorter one between getFileInfo and read, on a
    // backend without ETags (the read cannot be pinned; the length check guards).
    const { store } = recorded({
      getFileInfo: withoutEtag,
      read: (inner, key: string, options: never) =>
        inner.write(key, new Blob(["short"]).stream(), { overwrite: true, atomic: false })
          .then(() => inner.read(key, options)),
    });
    await store.write("a.txt", "a much longer original content");
    const response = await serveFile(store, "a.txt", req());
    assert.equal(response.headers.get("content-length"), "30");
    await assert.rejects(response.arrayBuffer(), (error: unknown) => {
      assert.match(String((error as Error).message), /changed while it was being served/);
      return true;
    });
  });

  test("a body longer than Content-Length errors before the excess is sent", async () => {
    const { store } = recorded({
      getFileInfo: withoutEtag,
      read: (inner, key: string, options: never) =>
        inner.write(key, new Blob(["0123456789abcdef"]).stream(), {
          overwrite: true,
          atomic: false,
        }).then(() => inner.read(key, options)),
    });
    await store.write("a.txt", "0123456789");
    const response = await serveFile(store, "a.txt", req());
    const reader = response.body!.getReader();
    await assert.rejects(async () => {
      while (!(await reader.read()).done);
    }, /changed while it was being served/);
  });

  test("a ranged read that comes back short errors too", async () => {
    const { store } = recorded({
      getFileInfo: withoutEtag,
      read: (inner, key: string, options: never) =>
        inner.write(key, new Blob(["0123"]).stream(), { overwrite: true, atomic: false })
          .then(() => inner.read(key, options)),
    });
    await store.write("a.txt", "0123456789");
    const response = await serveFile(store, "a.txt", req({ range: "bytes=2-7" }));
    assert.equal(response.status, 206);
    await assert.rejects(response.arrayBuffer(), /changed while it was being served/);
  });
});

describe("serveFile: one version per answer", () => {
  test("an overwrite between the info and the read never gives old headers with new bytes", async () => {
    let overwrites = 1;
    const { store, inner, calls } = recorded({
      getFileInfo: async (inner, key: string, options: never) => {
        const info = await inner.getFileInfo(key, options);
        if (overwrites > 0) {
          overwrites--;
          await inner.writeBytes!(key, new TextEncoder().encode("NEW!"), {
            overwrite: true,
            atomic: false,
          });
        }
        return info;
      },
    });
    await store.write("a.txt", "old");
    calls.length = 0;
    const cases: Record<string, string>[] = [
      {},
      { range: "bytes=1-" },
      { "if-range": "x", range: "bytes=0-0" },
    ];
    for (const headers of cases) {
      overwrites = 1;
      const response = await serveFile(store, "a.txt", req(headers));
      const current = await inner.getFileInfo("a.txt", {});
      const body = await response.text();
      assert.equal(response.headers.get("etag"), current.etag, JSON.stringify(headers));
      assert.equal(body, headers.range === "bytes=1-" ? "EW!" : "NEW!");
      assert.equal(response.headers.get("content-length"), String(body.length));
    }
    assert.equal(
      calls.filter((c) => c.method === "getFileInfo").length,
      6,
      "each answer started again once",
    );
  });

  test("a file that changes under every attempt is a 503, never a mixed answer", async () => {
    let version = 0;
    const { store } = recorded({
      getFileInfo: async (inner, key: string, options: never) => {
        const info = await inner.getFileInfo(key, options);
        await inner.writeBytes!(key, new TextEncoder().encode(`v${++version}`), {
          overwrite: true,
          atomic: false,
        });
        return info;
      },
    });
    await store.write("a.txt", "v0");
    const response = await serveFile(store, "a.txt", req());
    assert.equal(response.status, 503);
    assert.equal(await response.text(), "Service Unavailable (PRECONDITION_FAILED)\n");
    assert.equal(version, 3, "three attempts");
  });
});

describe("serveFile: active content", () => {
  test("every response says nosniff", async () => {
    const { store } = await fixture();
    const requests: [string, Record<string, string>, string][] = [
      ["hello.txt", {}, "GET"],
      ["hello.txt", {}, "HEAD"],
      ["hello.txt", { range: "bytes=0-1" }, "GET"],
      ["hello.txt", { range: "bytes=99-" }, "GET"],
      ["hello.txt", { "if-none-match": "*" }, "GET"],
      ["hello.txt", { "if-match": '"nope"' }, "GET"],
      ["missing.txt", {}, "GET"],
      ["hello.txt", {}, "POST"],
    ];
    for (const [path, headers, method] of requests) {
      const response = await serveFile(store, path, req(headers, method));
      await response.body?.cancel();
      assert.equal(
        response.headers.get("x-content-type-options"),
        "nosniff",
        `${method} ${path} ${JSON.stringify(headers)} -> ${response.status}`,
      );
    }
  });

  test("HTML, SVG and XML are attachments in a sandbox unless the caller allows them", async () => {
    const { store } = recorded();
    const files: [string, string | undefined][] = [
      ["page.html", undefined],
      ["page.htm", undefined],
      ["pic.svg", undefined],
      ["feed.xml", undefined],
      ["upload.bin", "text/html"],
      ["upload2.bin", "application/xhtml+xml; charset=utf-8"],
      ["upload3.bin", "Text/XML"],
      ["upload4.bin", "application/rss+xml"],
    ];
    for (const [path, contentType] of files) {
      await store.write(path, "<script>alert(1)</script>", { contentType });
      const response = await serveFile(store, path, req());
      await response.body?.cancel();
      assert.equal(response.headers.get("content-disposition"), "attachment", path);
      assert.equal(response.headers.get("content-security-policy"), "sandbox", path);
      const named = await serveFile(store, path, req(), {
        contentDisposition: 'attachment; filename="x.html"',
      });
      await named.body?.cancel();
      assert.equal(named.headers.get("content-disposition"), 'attachment; filename="x.html"');
      const inline = await serveFile(store, path, req(), { contentDisposition: "inline" });
      await inline.body?.cancel();
      assert.equal(
        inline.headers.get("content-disposition"),
        "attachment",
        "inline needs the opt-in",
      );
      const allowed = await serveFile(store, path, req(), { allowActiveContent: true });
      assert.equal(allowed.headers.get("content-disposition"), null, path);
      assert.equal(allowed.headers.get("content-security-policy"), null, path);
      assert.equal(allowed.headers.get("x-content-type-options"), "nosniff");
      assert.equal(await allowed.text(), "<script>alert(1)</script>");
    }
    for (
      const [path, contentType] of [["a.txt", undefined], ["b.png", undefined], [
        "c.json",
        undefined,
      ], ["d.bin", "text/plain"]]
    ) {
      await store.write(path!, "x", { contentType });
      const response = await serveFile(store, path!, req());
      await response.body?.cancel();
      assert.equal(response.headers.get("content-disposition"), null, path);
      assert.equal(response.headers.get("content-security-policy"), null, path);
    }
  });

  test("a stored content type that is not a valid header value is ignored, not thrown", async () => {
    const { store, inner } = recorded();
    for (
      const [key, contentType] of [["a", "text/html\r\nX-Evil: 1"], ["b", "text/plain\0"], [
        "c",
        "tëxt/plain",
      ]]
    ) {
      // Written through the backend (as another program could), past the Store's checks.
      await inner.writeBytes!(key!, new TextEncoder().encode("x"), {
        overwrite: false,
        atomic: false,
        contentType,
      });
      const response = await serveFile(store, key!, req(), { contentType: "text/plain" });
      assert.equal(response.status, 200, key);
      assert.equal(response.headers.get("content-type"), "text/plain");
      assert.equal(response.headers.get("x-evil"), null);
      assert.equal(await response.text(), "x");
    }
  });
});

describe("serveFile: stored HTTP attributes", () => {
  const ATTRIBUTES = {
    cacheControl: "public, max-age=60",
    contentDisposition: 'inline; filename="app.js"',
    contentLanguage: "en",
  };

  async function gzipFixture() {
    const rec = recorded();
    const packed = new Uint8Array(
      await new Response(
        new Blob(["console.log(1);\n".repeat(500)]).stream().pipeThrough(
          new CompressionStream("gzip"),
        ),
      ).arrayBuffer(),
    );
    await rec.store.write("app.js", packed, {
      ...ATTRIBUTES,
      contentEncoding: "gzip",
      contentType: "text/javascript",
    });
    return { ...rec, packed };
  }

  test("200 and HEAD send the stored attributes and the stored (gzip) bytes", async () => {
    const { store, packed } = await gzipFixture();
    for (const method of ["GET", "HEAD"]) {
      const response = await serveFile(store, "app.js", req({ "accept-encoding": "br" }, method));
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("content-encoding"), "gzip", "sent whatever was accepted");
      assert.equal(response.headers.get("cache-control"), ATTRIBUTES.cacheControl);
      assert.equal(response.headers.get("content-disposition"), ATTRIBUTES.contentDisposition);
      assert.equal(response.headers.get("content-language"), "en");
      assert.equal(response.headers.get("content-length"), String(packed.byteLength));
      if (method === "GET") assert.deepEqual(await bytesOf(response), packed);
    }
  });

  test("a range of a gzip file is a range of the stored bytes", async () => {
    const { store, packed } = await gzipFixture();
    const response = await serveFile(store, "app.js", req({ range: "bytes=0-9" }));
    assert.equal(response.status, 206);
    assert.equal(response.headers.get("content-encoding"), "gzip");
    assert.equal(response.headers.get("content-range"), `bytes 0-9/${packed.byteLength}`);
    assert.deepEqual(await bytesOf(response), packed.subarray(0, 10));
  });

  test("304 keeps the stored Cache-Control and sends no Content-Encoding", async () => {
    const { store } = await gzipFixture();
    const etag = (await store.getFileInfo("app.js")).etag!;
    const response = await serveFile(store, "app.js", req({ "if-none-match": etag }));
    assert.equal(response.status, 304);
    assert.equal(response.headers.get("cache-control"), ATTRIBUTES.cacheControl);
    assert.equal(response.headers.get("content-encoding"), null);
  });

  test("the options' cacheControl and contentDisposition win over the stored ones", async () => {
    const { store } = await gzipFixture();
    const response = await serveFile(store, "app.js", req(), {
      cacheControl: "no-store",
      contentDisposition: "attachment",
    });
    await response.body?.cancel();
    assert.equal(response.headers.get("cache-control"), "no-store");
    assert.equal(response.headers.get("content-disposition"), "attachment");
  });

  test("a stored inline disposition does not make active content inline", async () => {
    const { store } = recorded();
    await store.write("page.html", "<script></script>", { contentDisposition: "inline" });
    const response = await serveFile(store, "page.html", req());
    await response.body?.cancel();
    assert.equal(response.headers.get("content-disposition"), "attachment");
    assert.equal(response.headers.get("content-security-policy"), "sandbox");
  });

  test("a file without attributes gets none; stored values that are not header values are ignored", async () => {
    const { store, inner } = recorded();
    await store.write("plain.txt", "x");
    const plain = await serveFile(store, "plain.txt", req());
    await plain.body?.cancel();
    for (const name of ["cache-control", "content-encoding", "content-language"]) {
      assert.equal(plain.headers.get(name), null, name);
    }
    // Written through the backend (as another program could), past the Store's checks.
    await inner.writeBytes!("bad.txt", new TextEncoder().encode("x"), {
      overwrite: false,
      atomic: false,
      cacheControl: "a\r\nX-Evil: 1",
      contentEncoding: "gzip\0",
      contentLanguage: "ën",
    });
    const bad = await serveFile(store, "bad.txt", req());
    assert.equal(bad.status, 200);
    for (const name of ["cache-control", "content-encoding", "content-language", "x-evil"]) {
      assert.equal(bad.headers.get(name), null, name);
    }
    assert.equal(await bad.text(), "x");
  });
});
