/**
 * Unit tests of the download stream's pull discipline and its resumes, with
 * a transport double whose bodies are cut, stalled or cut short at exact
 * bytes. (Reads against Azurite and the fault proxy: tests/azure/azure_blob_api_test.ts.)
 *
 * @module
 */

import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { BackendUnavailableError, PreconditionFailedError } from "../../errors.ts";
import { type ErrorMappingStream, MAP_ERRORS } from "../../_streams.ts";
import { type AzureHttp, AzureHttpError, type AzureRequest } from "./_http.ts";
import { type BlobReadOptions, openBlobReadStream, readBlobBytes } from "./_read_stream.ts";

const KiB = 1024;
const MiB = 1024 * KiB;

/** A body the test drives: it counts what it produced and whether it was cancelled. */
interface FakeBody {
  stream: ReadableStream<Uint8Array>;
  state: { produced: number; pulls: number; cancelled: boolean };
}

/** A body of `size` bytes, one `chunk`-sized piece per pull (filled with its index). */
function pulledBody(size: number, chunk = 64 * KiB, make = (n: number, i: number) => {
  return new Uint8Array(n).fill(i);
}): FakeBody {
  const state = { produced: 0, pulls: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      state.pulls++;
      if (state.produced >= size) return controller.close();
      const n = Math.min(chunk, size - state.produced);
      controller.enqueue(make(n, state.produced / chunk));
      state.produced += n;
    },
    cancel() {
      state.cancelled = true;
    },
  }, { highWaterMark: 0 });
  return { stream, state };
}

/**
 * A body that sends `bytes` (filled with `fill`), then, per `then`: errors
 * (a cut connection), ends early, or sends nothing more (a stall).
 */
function brokenBody(bytes: number, then: "error" | "end" | "stall", fill = 1): FakeBody {
  const state = { produced: 0, pulls: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>({
    pull(controller): Promise<void> | void {
      state.pulls++;
      if (state.produced === 0) {
        state.produced = bytes;
        controller.enqueue(new Uint8Array(bytes).fill(fill));
        return;
      }
      if (then === "error") controller.error(new TypeError("terminated: socket hang up"));
      else if (then === "end") controller.close();
      else return new Promise<void>(() => {}); // never answers
    },
    cancel() {
      state.cancelled = true;
    },
  }, { highWaterMark: 0 });
  return { stream, state };
}

/** A response of the double: status 200/206 with `Content-Length` and an ETag. */
function answer(body: FakeBody | null, length: number, etag = '"v1"'): Response {
  const headers = new Headers({ "content-length": String(length), etag });
  return { status: 200, headers, body: body?.stream ?? null } as unknown as Response;
}

/** What the double saw of one GET. */
interface Seen {
  range?: string;
  ifMatch?: string;
}

/** An `AzureHttp` stand-in whose `send` answers from `responses` in turn. */
function fakeHttp(responses: Array<(request: AzureRequest) => Response | Promise<Response>>) {
  const calls: Seen[] = [];
  const http = {
    send(request: AzureRequest): Promise<Response> {
      calls.push({
        range: request.headers?.["x-ms-range"],
        ifMatch: request.headers?.["if-match"],
      });
      const next = responses.shift();
      if (!next) return Promise.reject(new Error("no more responses"));
      try {
        return Promise.resolve(next(request));
      } catch (error) {
        return Promise.reject(error);
      }
    },
  };
  return { http: http as unknown as AzureHttp, calls };
}

const options = (extra: Partial<BlobReadOptions> = {}): BlobReadOptions => ({
  key: "k",
  offset: 0,
  maxResumes: 3,
  resumeDelayMs: () => 0,
  idleTimeoutMs: 0,
  mapError: (error) => error,
  ...extra,
});

const tick = (ms = 20) => new Promise((resolve) => setTimeout(resolve, ms));

async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

describe("openBlobReadStream (transport double)", () => {
  test("pulls on demand: nothing is read from the body until the reader asks, one chunk per read", async () => {
    const size = 32 * MiB;
    const body = pulledBody(size);
    const { http } = fakeHttp([() => answer(body, size)]);
    const stream = await openBlobReadStream(http, options());
    await tick(50);
    assert.equal(body.state.produced, 0, "an unread stream reads nothing");
    const reader = stream.getReader();
    const first = await reader.read();
    assert.equal(first.value?.byteLength, 64 * KiB);
    await tick(50);
    assert.ok(body.state.produced <= 2 * 64 * KiB, `produced ${body.state.produced} bytes`);
    let total = first.value!.byteLength;
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
    }
    assert.equal(total, size);
  });

  test("chunks are plain Uint8Arrays, not Buffers", async () => {
    const body = pulledBody(6, 3, (n) => Buffer.alloc(n, 7));
    const { http } = fakeHttp([() => answer(body, 6)]);
    for await (const chunk of await openBlobReadStream(http, options())) {
      assert.equal(Object.getPrototypeOf(chunk), Uint8Array.prototype);
      assert.deepEqual([...chunk], [7, 7, 7]);
    }
  });

  test("a body cut at byte 100 resumes from there, pinned to the ETag; the cut body is let go", async () => {
    const first = brokenBody(100, "error");
    const { http, calls } = fakeHttp([
      () => answer(first, 300),
      () => answer(pulledBody(200, 200, (n) => new Uint8Array(n).fill(2)), 200, '"v1"'),
    ]);
    const bytes = await collect(await openBlobReadStream(http, options()));
    assert.equal(bytes.byteLength, 300);
    assert.ok(bytes.subarray(0, 100).every((b) => b === 1));
    assert.ok(bytes.subarray(100).every((b) => b === 2));
    assert.deepEqual(calls, [{ range: undefined, ifMatch: undefined }, {
      range: "bytes=100-299",
      ifMatch: '"v1"',
    }]);
  });

  test("a ranged read cut short (the body ends early) resumes within the range", async () => {
    const { http, calls } = fakeHttp([
      () => answer(brokenBody(100, "end"), 1000),
      () => answer(pulledBody(900, 900), 900),
    ]);
    const stream = await openBlobReadStream(http, options({ offset: 5000, length: 1000 }));
    assert.equal((await collect(stream)).byteLength, 1000);
    assert.deepEqual(calls.map((c) => c.range), ["bytes=5000-5999", "bytes=5100-5999"]);
  });

  test("a body that stops sending (not closed) is resumed after the idle timeout, pinned to the ETag", async () => {
    const stalled = brokenBody(100, "stall");
    const { http, calls } = fakeHttp([
      () => answer(stalled, 300),
      () => answer(pulledBody(200, 200, (n) => new Uint8Array(n).fill(2)), 200),
    ]);
    const bytes = await collect(await openBlobReadStream(http, options({ idleTimeoutMs: 50 })));
    assert.equal(bytes.byteLength, 300);
    assert.ok(
      bytes.subarray(0, 100).every((b) => b === 1) && bytes.subarray(100).every((b) => b === 2),
    );
    assert.deepEqual(calls[1], { range: "bytes=100-299", ifMatch: '"v1"' });
    assert.ok(stalled.state.cancelled, "the stalled body is cancelled");
  });

  test("with no resumes left, a stalled body errors the stream with BackendUnavailableError", async () => {
    const { http } = fakeHttp([() => answer(brokenBody(100, "stall"), 300)]);
    const stream = await openBlobReadStream(http, options({ idleTimeoutMs: 50, maxResumes: 0 }));
    await assert.rejects(collect(stream), BackendUnavailableError);
  });

  test("a response that never comes is given up after the idle timeout and sent again", async () => {
    const { http, calls } = fakeHttp([
      (request) =>
        new Promise<Response>((_, reject) => {
          request.signal!.addEventListener("abort", () => reject(request.signal!.reason));
        }),
      () => answer(pulledBody(10, 10), 10),
    ]);
    const stream = await openBlobReadStream(http, options({ idleTimeoutMs: 50 }));
    assert.equal((await collect(stream)).byteLength, 10);
    assert.equal(calls.length, 2);
  });

  test("a reader that wants no bytes is not a stall: nothing is resumed while it waits", async () => {
    const size = 4 * MiB;
    const { http, calls } = fakeHttp([() => answer(pulledBody(size), size)]);
    const stream = await openBlobReadStream(http, options({ idleTimeoutMs: 100 }));
    const reader = stream.getReader();
    await reader.read();
    await tick(400);
    let total = 64 * KiB;
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
    }
    assert.equal(total, size);
    assert.equal(calls.length, 1, "no resume");
  });

  test("a 412 on resume errors with PreconditionFailedError, through every error mapper", async () => {
    const { http } = fakeHttp([
      () => answer(brokenBody(100, "error"), 300),
      () => {
        throw new AzureHttpError(412, "ConditionNotMet", "condition not met", new Headers());
      },
    ]);
    const seen: string[] = [];
    const stream = await openBlobReadStream(
      http,
      options({
        mapError: (error) => {
          seen.push("backend");
          return error;
        },
      }),
    ) as ErrorMappingStream;
    assert.equal(typeof stream[MAP_ERRORS], "function");
    stream[MAP_ERRORS]((error) => {
      seen.push("store");
      return error;
    });
    await assert.rejects(collect(stream), PreconditionFailedError);
    assert.deepEqual(seen, ["backend", "store"]);
  });

  test("a refusal that is not transient ends the resumes at once", async () => {
    const { http, calls } = fakeHttp([
      () => answer(brokenBody(100, "error"), 300),
      () => {
        throw new AzureHttpError(403, "AuthorizationFailure", "no", new Headers());
      },
    ]);
    const stream = await openBlobReadStream(http, options({ maxResumes: 5 }));
    await assert.rejects(collect(stream), AzureHttpError);
    assert.equal(calls.length, 2);
  });

  test("transient failures of a resume are tried again while resumes remain", async () => {
    const { http, calls } = fakeHttp([
      () => answer(brokenBody(100, "error"), 300),
      () => {
        throw new AzureHttpError(503, "ServerBusy", "busy", new Headers());
      },
      () => answer(brokenBody(50, "error"), 200),
      () => answer(pulledBody(150, 150), 150),
    ]);
    const stream = await openBlobReadStream(http, options({ maxResumes: 3 }));
    assert.equal((await collect(stream)).byteLength, 300);
    assert.deepEqual(calls.map((c) => c.range), [
      undefined,
      "bytes=100-299",
      "bytes=100-299",
      "bytes=150-299",
    ]);
  });

  test("repeated cuts exhaust maxResumes: BackendUnavailableError", async () => {
    const { http, calls } = fakeHttp([
      () => answer(brokenBody(10, "error"), 300),
      () => answer(brokenBody(10, "error"), 290),
      () => answer(brokenBody(10, "error"), 280),
    ]);
    const stream = await openBlobReadStream(http, options({ maxResumes: 2 }));
    await assert.rejects(collect(stream), BackendUnavailableError);
    assert.equal(calls.length, 3);
  });

  test("cancel cancels the fetch body; abort errors the stream with the signal's reason and cancels it", async () => {
    const a = pulledBody(8 * MiB);
    const b = pulledBody(8 * MiB);
    const { http } = fakeHttp([() => answer(a, 8 * MiB), () => answer(b, 8 * MiB)]);
    const cancelled = await openBlobReadStream(http, options());
    await cancelled.cancel();
    await tick();
    assert.equal(a.state.cancelled, true);

    const controller = new AbortController();
    const aborted = await openBlobReadStream(http, options({ signal: controller.signal }));
    const reader = aborted.getReader();
    await reader.read();
    const reason = new Error("stop");
    controller.abort(reason);
    await assert.rejects(reader.read(), (error) => error === reason);
    await tick();
    assert.equal(b.state.cancelled, true);
  });
});

describe("readBlobBytes (transport double)", () => {
  test("one GET collected whole", async () => {
    const { http, calls } = fakeHttp([() => answer(pulledBody(1000, 300), 1000)]);
    assert.equal((await readBlobBytes(http, options())).byteLength, 1000);
    assert.equal(calls.length, 1);
  });

  test("a body cut at byte 100 is completed by a resume pinned to the ETag", async () => {
    const { http, calls } = fakeHttp([
      () => answer(brokenBody(100, "error"), 300),
      () => answer(pulledBody(200, 200, (n) => new Uint8Array(n).fill(2)), 200),
    ]);
    const bytes = await readBlobBytes(http, options());
    assert.equal(bytes.byteLength, 300);
    assert.ok(bytes.subarray(100).every((b) => b === 2) && bytes[99] === 1);
    assert.deepEqual(calls[1], { range: "bytes=100-299", ifMatch: '"v1"' });
  });

  test("a stalled body is given up after the idle timeout and completed", async () => {
    const stalled = brokenBody(100, "stall");
    const { http } = fakeHttp([
      () => answer(stalled, 300),
      () => answer(pulledBody(200, 200), 200),
    ]);
    assert.equal((await readBlobBytes(http, options({ idleTimeoutMs: 50 }))).byteLength, 300);
    assert.ok(stalled.state.cancelled);
  });

  test("without resumes a short body is BackendUnavailableError, never a short result", async () => {
    const { http } = fakeHttp([() => answer(brokenBody(100, "end"), 300)]);
    await assert.rejects(readBlobBytes(http, options({ maxResumes: 0 })), BackendUnavailableError);
  });

  test("a body longer than its Content-Length is an error", async () => {
    const { http } = fakeHttp([() => answer(pulledBody(200, 100), 150)]);
    await assert.rejects(readBlobBytes(http, options()), BackendUnavailableError);
  });

  test("a blob changed before the resume: PreconditionFailedError", async () => {
    const { http } = fakeHttp([
      () => answer(brokenBody(100, "error"), 300),
      () => {
        throw new AzureHttpError(412, "ConditionNotMet", "condition not met", new Headers());
      },
    ]);
    await assert.rejects(readBlobBytes(http, options()), PreconditionFailedError);
  });
});
