/**
 * Local ETags never come back for a later, different version of a path:
 * rapid same-size overwrites reuse inodes (the temp-file renames alternate
 * them) and land within one millisecond, so the ETag cannot rest on inode,
 * size and the clock alone. Runs on Deno, Bun and Node (`node:test`).
 * Knob: `ETAG_WRITES` (overwrites; default 10,000).
 */

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { LocalBackend } from "./local_backend.ts";
import { Store } from "../../store.ts";
import { PreconditionFailedError } from "../../errors.ts";

const WRITES = Number(process.env.ETAG_WRITES ?? 10_000);

/** Same-size, distinct contents: `v0000001`, `v0000002`, ... */
function content(i: number): string {
  return `v${String(i).padStart(7, "0")}`;
}

/** Records ETag → content and reports every ETag that named two contents. */
class EtagBook {
  readonly #seen = new Map<string, string>();
  readonly clashes: string[] = [];
  record(etag: string | undefined, text: string): void {
    assert.ok(etag !== undefined && /^"[^"]+"$/.test(etag), `a quoted ETag, got ${etag}`);
    const earlier = this.#seen.get(etag);
    if (earlier !== undefined && earlier !== text) {
      this.clashes.push(`${etag} named ${earlier} and then ${text}`);
    }
    this.#seen.set(etag, text);
  }
}

describe("LocalBackend ETags", () => {
  let base: string;
  let counter = 0;
  const fresh = () => {
    const root = path.join(base, `case-${++counter}`);
    return { root, store: new Store(new LocalBackend({ root })) };
  };
  before(async () => {
    base = await fs.mkdtemp(path.join(os.tmpdir(), "remote-store-etag-"));
  });
  after(async () => {
    await fs.rm(base, { recursive: true, force: true });
  });

  test(`${WRITES} rapid same-size overwrites never repeat an ETag for other content`, async () => {
    const { store } = fresh();
    const book = new EtagBook();
    for (let i = 0; i < WRITES; i++) {
      const text = content(i);
      const { etag } = await store.write("hot.txt", text, { overwrite: true });
      book.record(etag, text);
      if (i % 500 === 0) {
        // What the write reported is what getFileInfo and a listing report.
        assert.equal((await store.getFileInfo("hot.txt")).etag, etag);
        for await (const info of store.listFiles("")) assert.equal(info.etag, etag);
      }
    }
    assert.deepEqual(book.clashes, []);
  });

  test("a file deleted and written again never gets an earlier version's ETag", async () => {
    const { store } = fresh();
    const book = new EtagBook();
    for (let i = 0; i < 1000; i++) {
      const text = content(i);
      book.record((await store.write("again.txt", text)).etag, text);
      await store.delete("again.txt");
    }
    assert.deepEqual(book.clashes, []);
  });

  test("a stale ifMatch never overwrites a newer same-size version", async () => {
    const { store } = fresh();
    let stale = (await store.write("doc.txt", content(0))).etag!;
    for (let i = 1; i <= 500; i++) {
      const { etag } = await store.write("doc.txt", content(i), { overwrite: true });
      await assert.rejects(
        store.write("doc.txt", "lost upd", { overwrite: true, ifMatch: stale }),
        PreconditionFailedError,
      );
      stale = etag!;
    }
    assert.equal(await store.readText("doc.txt"), content(500));
  });

  test("each new version is later than the one it replaces", async () => {
    const { store } = fresh();
    let previous = 0;
    for (let i = 0; i < 200; i++) {
      await store.write("t.txt", content(i), { overwrite: true });
      const at = (await store.getFileInfo("t.txt")).modifiedAt.getTime();
      assert.ok(at > previous, `version ${i}: ${at} is after ${previous}`);
      previous = at;
    }
  });
});
