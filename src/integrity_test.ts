/**
 * Integrity helpers on memory and local disk, and the memory bound of a
 * 256 MiB streamed write with a checksum followed by a streamed verify
 * (RSS growth, sampled while the bytes move; not a timing test).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  type Backend,
  computeChecksum,
  MemoryBackend,
  NotFoundError,
  Store,
  verifyChecksum,
} from "../mod.ts";
import { LocalBackend } from "../local.ts";
import { createHasher, toHex } from "./_checksum.ts";
import { memoryMeter, mib } from "../tests/_memory.ts";

const tmp = mkdtempSync(join(tmpdir(), "remote-store-integrity-"));
after(() => rmSync(tmp, { recursive: true, force: true }));

const MiB = 1024 * 1024;
const SIZE = 256 * MiB;

/** `count` fresh 1 MiB chunks (each a new array), generated as they are pulled. */
async function* chunks(count: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < count; i++) {
    const chunk = new Uint8Array(MiB);
    chunk.fill(i & 0xff);
    chunk[i % MiB] = 0x5a;
    yield chunk;
  }
}

/** The expected digest, computed separately over the same bytes. */
async function expectedSha256(count: number): Promise<string> {
  const hasher = createHasher("sha256");
  for await (const chunk of chunks(count)) hasher.update(chunk);
  return toHex(hasher.digest());
}

const variants: [string, () => Backend, number, number][] = [
  // Local first: RSS rarely shrinks, so a run after the memory one would measure less.
  ["local", () => new LocalBackend({ root: mkdtempSync(join(tmp, "b-")) }), 64 * MiB, 64 * MiB],
  // The memory backend holds the content itself: the chunks, then (a stream of unknown size)
  // their join; RSS does not always fall right after the chunks are released. Its reads copy
  // each chunk out, and the copies wait for the collector (72 MiB seen on Node 24 under load):
  // the verify bound is half the file, which a buffered read could not keep.
  ["memory", () => new MemoryBackend(), 2 * SIZE + 64 * MiB, SIZE / 2],
];

for (const [name, make, writeBound, verifyBound] of variants) {
  describe(`integrity on ${name}`, () => {
    test("computeChecksum and verifyChecksum read the stored bytes", async () => {
      const store = new Store(make());
      const written = await store.write("a.txt", "abc", { checksum: "md5" });
      assert.equal(written.checksum?.hex, "900150983cd24fb0d6963f7d28e17f72");
      assert.deepEqual(await computeChecksum(store, "a.txt", "md5"), written.checksum);
      const ok = await verifyChecksum(store, "a.txt", written.checksum!.base64, "md5");
      assert.deepEqual(ok, { ok: true, actual: written.checksum, expected: written.checksum!.hex });
      await store.write("a.txt", "abd", { overwrite: true });
      assert.equal((await verifyChecksum(store, "a.txt", written.checksum!.hex, "md5")).ok, false);
      await assert.rejects(computeChecksum(store, "nope", "md5"), NotFoundError);
      await assert.rejects(verifyChecksum(store, "a.txt", "xyz", "md5"), TypeError);
      await assert.rejects(
        computeChecksum(store, "a.txt", "sha512" as "sha256"),
        /Unknown checksum algorithm "sha512"/,
      );
    });

    test("a 256 MiB streamed write with sha256, then a streamed verify, stays bounded", async () => {
      const store = new Store(make());
      const writing = memoryMeter();
      const result = await store.write("big.bin", chunks(SIZE / MiB), {
        checksum: "sha256",
        onProgress: writing.checkpoint,
      });
      const write = writing.stop();
      assert.equal(result.size, SIZE);
      const verifying = memoryMeter();
      const check = await verifyChecksum(store, "big.bin", result.checksum!.hex, "sha256");
      const verify = verifying.stop();
      assert.equal(check.ok, true);
      console.log(
        `${name}: 256 MiB write+sha256, RSS growth held ${mib(write.held)}`,
        `(raw ${mib(write.raw)}); verify held ${mib(verify.held)} (raw ${mib(verify.raw)})`,
      );
      assert.ok(write.held < writeBound, `write held ${mib(write.held)}`);
      assert.ok(verify.held < verifyBound, `verify held ${mib(verify.held)}`);
      // Computed last, so that its own garbage does not hide the growth measured above.
      assert.equal(
        result.checksum?.hex,
        await expectedSha256(SIZE / MiB),
        "digest of the bytes sent",
      );
    });
  });
}
