import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import type { BlobClient } from "@azure/storage-blob";
import { BackendUnavailableError, PreconditionFailedError } from "../../errors.ts";
import { type ErrorMappingStream, MAP_ERRORS } from "../../_streams.ts";
import { type BlobReadOptions, openBlobReadStream } from "./_read_stream.ts";

const KiB = 1024;
const MiB = 1024 * KiB;

/** A body of `size` bytes in 64 KiB chunks that counts what it produced. */
function countingBody(size: number, chunk = 64 * KiB) {
  const state = { produced: 0, destroyed: false };
  const body = new Readable({
    highWaterMark: chunk,
    read() {
      if (state.produced >= size) return void this.push(null);
      const n = Math.min(chunk, size - state.produced);
      state.produced += n;
      this.push(new Uint8Array(n).fill(state.produced / chunk));
    },
    destroy(error, callback) {
      state.destroyed = true;
      callback(error);
    },
  });
  return { body, state };
}

/** A BlobClient stand-in whose download() answers from `responses` in turn. */
function fakeBlob(responses: Array<() => unknown>) {
  const calls: Array<{ offset: number; count?: number; ifMatch?: string }> = [];
  const blob = {
    download(offset: number, count?: number, options?: { conditions?: { ifMatch?: string } }) {
      calls.push({ offset, count, ifMatch: options?.conditions?.ifMatch });
      const next = responses.shift();
      if (!next) return Promise.reject(new Error("no more responses"));
      try {
        return Promise.resolve(next());
      } catch (error) {
        return Promise.reject(error);
      }
    },
  };
  return { blob: blob as unknown as BlobClient, calls };
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

async function drain(stream: ReadableStream<Uint8Array>): Promise<number> {
  let total = 0;
  for await (const chunk of stream) total += chunk.byteLength;
  return total;
}

describe("openBlobReadStream (fake body)", () => {
  test("read-ahead is bounded: an unread stream stops its body after about 1 MiB", async () => {
    const size = 32 * MiB;
    const { body, state } = countingBody(size);
    const { blob } = fakeBlob([() => ({
      readableStreamBody: body,
      contentLength: size,
      etag: '"e"',
    })]);
    const stream = await openBlobReadStream(blob, options());
    await tick(100);
    assert.ok(state.produced <= 2 * MiB, `produced ${state.produced} bytes while unread`);
    const reader = stream.getReader();
    await reader.read();
    await tick(100);
    assert.ok(state.produced <= 2 * MiB + 64 * KiB, `produced ${state.produced} bytes`);
    reader.releaseLock();
    assert.equal(await drain(stream) + 64 * KiB, size);
  });

  test("chunks are plain Uint8Arrays, not Buffers", async () => {
    const body = Readable.from([Buffer.from("abc"), Buffer.from("def")]);
    const { blob } = fakeBlob([() => ({ readableStreamBody: body, contentLength: 6, etag: "e" })]);
    const stream = await openBlobReadStream(blob, options());
    for await (const chunk of stream) {
      assert.equal(Object.getPrototypeOf(chunk), Uint8Array.prototype);
    }
  });

  test("a body cut short resumes from the offset, pinned to the ETag", async () => {
    const first = new Readable({ read() {} });
    first.push(new Uint8Array(100));
    const { blob, calls } = fakeBlob([
      () => ({ readableStreamBody: first, contentLength: 300, etag: '"v1"' }),
      () => ({ readableStreamBody: Readable.from([new Uint8Array(200)]), contentLength: 200 }),
    ]);
    const stream = await openBlobReadStream(blob, options());
    setTimeout(() => first.destroy(new Error("socket hang up")), 10);
    assert.equal(await drain(stream), 300);
    assert.deepEqual(calls[1], { offset: 100, count: 200, ifMatch: '"v1"' });
  });

  test("a body that stops sending (not closed) is resumed after the idle timeout, pinned to the ETag", async () => {
    // A body that sends 100 bytes and then nothing, without ending or erroring.
    const stalled = new Readable({ read() {} });
    stalled.push(new Uint8Array(100).fill(1));
    const { blob, calls } = fakeBlob([
      () => ({ readableStreamBody: stalled, contentLength: 300, etag: '"v1"' }),
      () => ({
        readableStreamBody: Readable.from([new Uint8Array(200).fill(2)]),
        contentLength: 200,
      }),
    ]);
    const stream = await openBlobReadStream(blob, options({ idleTimeoutMs: 50 }));
    const bytes = new Uint8Array(await new Response(stream).arrayBuffer());
    assert.equal(bytes.byteLength, 300);
    assert.ok(
      bytes.subarray(0, 100).every((b) => b === 1) && bytes.subarray(100).every((b) => b === 2),
    );
    assert.deepEqual(calls[1], { offset: 100, count: 200, ifMatch: '"v1"' });
    assert.ok(stalled.destroyed, "the stalled body is released");
  });

  test("with no resumes left, a stalled body errors the stream with BackendUnavailableError", async () => {
    const stalled = new Readable({ read() {} });
    stalled.push(new Uint8Array(100));
    const { blob } = fakeBlob([
      () => ({ readableStreamBody: stalled, contentLength: 300, etag: '"v1"' }),
    ]);
    const stream = await openBlobReadStream(blob, options({ idleTimeoutMs: 50, maxResumes: 0 }));
    await assert.rejects(drain(stream), BackendUnavailableError);
  });

  test("a reader that wants no bytes is not a stall: a paused body is never resumed by the timer", async () => {
    const size = 8 * MiB;
    const { body } = countingBody(size);
    const { blob, calls } = fakeBlob([
      () => ({ readableStreamBody: body, contentLength: size, etag: '"v1"' }),
    ]);
    const stream = await openBlobReadStream(blob, options({ idleTimeoutMs: 500 }));
    const reader = stream.getReader();
    await reader.read();
    // The read-ahead fills and the body pauses; wait far past the idle timeout.
    await tick(1500);
    let total = 64 * KiB;
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
    }
    assert.equal(total, size);
    assert.equal(calls.length, 1, "no resume: a paused download is not stalled");
  });

  test("a 412 on resume errors with PreconditionFailedError, through every error mapper", async () => {
    const first = new Readable({ read() {} });
    first.push(new Uint8Array(100));
    const { blob } = fakeBlob([
      () => ({ readableStreamBody: first, contentLength: 300, etag: '"v1"' }),
      () => {
        throw Object.assign(new Error("condition not met"), { statusCode: 412 });
      },
    ]);
    const seen: string[] = [];
    const stream = await openBlobReadStream(
      blob,
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
    first.destroy(new Error("cut"));
    await assert.rejects(drain(stream), PreconditionFailedError);
    assert.deepEqual(seen, ["backend", "store"]);
  });

  test("cancel destroys the body; abort errors the stream with the signal's reason", async () => {
    const a = countingBody(8 * MiB);
    const b = countingBody(8 * MiB);
    const { blob } = fakeBlob([
      () => ({ readableStreamBody: a.body, contentLength: 8 * MiB, etag: "e" }),
      () => ({ readableStreamBody: b.body, contentLength: 8 * MiB, etag: "e" }),
    ]);
    const cancelled = await openBlobReadStream(blob, options());
    await cancelled.cancel();
    await tick();
    assert.equal(a.state.destroyed, true);

    const controller = new AbortController();
    const aborted = await openBlobReadStream(blob, options({ signal: controller.signal }));
    const reader = aborted.getReader();
    await reader.read();
    const reason = new Error("stop");
    controller.abort(reason);
    await assert.rejects(reader.read(), (error) => error === reason);
    await tick();
    assert.equal(b.state.destroyed, true);
  });
});
