/**
 * Versions on Azure, flat (Azurite) and HNS (DFS emulator): one quoted ETag
 * form in listings, file info and write results, usable as `ifMatch`; reads
 * pinned by HTTP conditions.
 *
 * @module
 */

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { NotFoundError, PreconditionFailedError, Store } from "../../mod.ts";
import type { AzureBackend } from "../../azure.ts";
import { HOOK, setupAzure } from "./_setup.ts";
import { setupHns } from "../hns/_setup.ts";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const bytesOf = (value: string) => new TextEncoder().encode(value);

for (const flavor of ["flat", "hns"] as const) {
  describe(`azure versions (${flavor})`, () => {
    let env: { backend(): AzureBackend; close(): Promise<void> };
    let backend: AzureBackend;
    let store: Store;

    before(async () => {
      env = flavor === "flat" ? await setupAzure() : await setupHns();
      backend = env.backend();
      store = new Store(backend);
    }, HOOK);
    after(() => env?.close(), HOOK);

    /** The ETag a one-level and a recursive listing report for `key`. */
    const listedEtags = async (folder: string, key: string) => {
      const out: (string | undefined)[] = [];
      for (const recursive of [false, true]) {
        for await (const entry of backend.list(folder, { recursive })) {
          if (entry.kind === "file" && entry.info.key === key) out.push(entry.info.etag);
        }
      }
      return out;
    };

    test("listings, getFileInfo and write results report the same quoted ETag", async () => {
      const written = await backend.writeBytes("etag/a.txt", bytesOf("one"), {
        overwrite: false,
        atomic: false,
      });
      const streamed = await store.write("etag/b.txt", new Blob(["two"]).stream());
      const info = await backend.getFileInfo("etag/a.txt", {});
      assert.match(info.etag ?? "", /^"[^"]+"$/, `quoted: ${info.etag}`);
      assert.equal(written.etag, info.etag);
      assert.deepEqual(await listedEtags("etag", "etag/a.txt"), [info.etag, info.etag]);
      const infoB = await backend.getFileInfo("etag/b.txt", {});
      assert.equal(streamed.etag, infoB.etag);
      assert.deepEqual(await listedEtags("etag", "etag/b.txt"), [infoB.etag, infoB.etag]);
    });

    test("a listed ETag works as ifMatch; a stale one is refused", async () => {
      await store.write("etag/c.txt", "v1");
      const [listed] = await listedEtags("etag", "etag/c.txt");
      assert.ok(listed !== undefined);
      const updated = await store.write("etag/c.txt", "v2", { overwrite: true, ifMatch: listed });
      assert.notEqual(updated.etag, listed);
      await assert.rejects(
        store.write("etag/c.txt", "v3", { overwrite: true, ifMatch: listed }),
        PreconditionFailedError,
      );
      assert.equal(await store.readText("etag/c.txt"), "v2");
      const [fresh] = await listedEtags("etag", "etag/c.txt");
      assert.equal(fresh, updated.etag);
      const read = await backend.readBytes("etag/c.txt", { ifMatch: fresh });
      assert.equal(text(read), "v2");
    });

    test("read and readBytes honour ifMatch, ifNoneMatch, ifModifiedSince, ifUnmodifiedSince", async () => {
      await store.write("cond/a.txt", "0123456789");
      const { etag, modifiedAt } = await backend.getFileInfo("cond/a.txt", {});
      assert.ok(etag !== undefined);
      const earlier = new Date(modifiedAt.getTime() - 10_000);
      const ok = [
        { ifMatch: etag },
        { ifMatch: "*" },
        { ifNoneMatch: '"other"' },
        { ifModifiedSince: earlier },
        { ifUnmodifiedSince: modifiedAt },
        { ifMatch: etag, ifUnmodifiedSince: modifiedAt },
      ];
      const failing = [
        { ifMatch: '"stale"' },
        { ifNoneMatch: etag },
        { ifNoneMatch: "*" },
        { ifModifiedSince: modifiedAt },
        { ifModifiedSince: new Date(modifiedAt.getTime() + 10_000) },
        { ifUnmodifiedSince: earlier },
      ];
      const ranges = [undefined, { offset: 2, length: 3 }, { offset: 50 }, {
        offset: 0,
        length: 0,
      }];
      const expected = (range?: { offset: number; length?: number }) =>
        range === undefined
          ? "0123456789"
          : "0123456789".slice(range.offset, range.offset + (range.length ?? 10));
      for (const range of ranges) {
        for (const conditions of ok) {
          const what = `${JSON.stringify(conditions)} ${JSON.stringify(range)}`;
          const bytes = await backend.readBytes("cond/a.txt", { ...conditions, range });
          assert.equal(text(bytes), expected(range), `readBytes ${what}`);
          const streamed = await new Response(
            await backend.read("cond/a.txt", { ...conditions, range }),
          ).text();
          assert.equal(streamed, expected(range), `read ${what}`);
        }
        for (const conditions of failing) {
          const what = `${JSON.stringify(conditions)} ${JSON.stringify(range)}`;
          await assert.rejects(
            backend.readBytes("cond/a.txt", { ...conditions, range }),
            PreconditionFailedError,
            `readBytes ${what}`,
          );
          await assert.rejects(
            backend.read("cond/a.txt", { ...conditions, range }),
            PreconditionFailedError,
            `read ${what}`,
          );
        }
      }
      await assert.rejects(backend.read("cond/missing.txt", { ifMatch: etag }), NotFoundError);
      await assert.rejects(backend.read("cond/missing.txt", { ifNoneMatch: "*" }), NotFoundError);
      await assert.rejects(
        backend.readBytes("cond/a.txt", { ifMatch: '"x"\r\nx-evil: 1' }),
        TypeError,
      );
      await assert.rejects(
        backend.read("cond/a.txt", { ifModifiedSince: new Date(Number.NaN) }),
        TypeError,
      );
    });
  });
}
