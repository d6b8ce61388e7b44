/**
 * Conformance cases of signed uploads (`Store.signedUpload` and
 * `putSignedUpload`): a browser's upload with plain `fetch`, create-only and
 * in blocks; a refusal on backends that cannot sign. Private module.
 *
 * @module
 */

import assert from "node:assert/strict";
import { AlreadyExistsError, CapabilityNotSupportedError } from "../errors.ts";
import { putSignedUpload } from "../signed_upload.ts";
import type { ConformanceCase } from "./cases.ts";
import { patternBytes, sameBytes } from "./_helpers.ts";

/** The signed upload cases. */
export const UPLOADS_CASES: ConformanceCase[] = [
  {
    id: "signed-upload-options",
    name:
      "signedUpload checks its options before any I/O; without signed_url it rejects CapabilityNotSupportedError",
    async run({ store }) {
      if (!store.supports("signed_url")) {
        await assert.rejects(
          store.signedUpload("up.txt"),
          (e: unknown) => e instanceof CapabilityNotSupportedError && e.capability === "signed_url",
        );
      } else {
        await assert.rejects(store.signedUpload("up.txt", { expiresIn: 0 }), RangeError);
        await assert.rejects(
          store.signedUpload("up.txt", { overwrite: "yes" as unknown as boolean }),
          TypeError,
        );
        await assert.rejects(store.signedUpload("up.txt", { contentType: "text" }), TypeError);
      }
      assert.equal(await store.isFile("up.txt"), false, "nothing was written");
    },
  },
  {
    id: "signed-upload-round-trip",
    name:
      "a signed upload works with plain fetch: create-only refuses an existing file, overwrite uploads in blocks",
    requires: ["signed_url", "write", "read"],
    async run({ store }) {
      const first = await store.signedUpload("in/up.bin", { expiresIn: 600 });
      assert.equal(first.method, "PUT");
      assert.equal(first.overwrite, false);
      assert.ok(first.expiresAt.getTime() > Date.now() + 590_000, "expiresAt in 10 minutes");
      assert.equal(first.blocks, undefined, "a create-only upload is one request");
      const small = patternBytes(1000, 7);
      const put = await fetch(first.url, {
        method: first.method,
        headers: first.headers,
        body: small as Uint8Array<ArrayBuffer>,
      });
      await put.body?.cancel();
      assert.ok(put.ok, `a browser's PUT succeeds (status ${put.status})`);
      assert.ok(sameBytes(await store.readBytes("in/up.bin"), small), "the bytes arrived");

      const again = await store.signedUpload("in/up.bin");
      await assert.rejects(putSignedUpload(again, patternBytes(10)), AlreadyExistsError);
      const dropped = await fetch(again.url, { method: "PUT", headers: {}, body: "overwritten" });
      await dropped.body?.cancel();
      assert.ok(!dropped.ok, "without the headers the service still refuses to overwrite");
      assert.ok(sameBytes(await store.readBytes("in/up.bin"), small), "the file is unchanged");

      const large = patternBytes(300 * 1024 + 5, 9);
      const replace = await store.signedUpload("in/up.bin", {
        overwrite: true,
        contentType: "application/x-test",
      });
      assert.equal(replace.headers["content-type"], "application/x-test");
      const result = await putSignedUpload(replace, new Blob([large as Uint8Array<ArrayBuffer>]), {
        blockSize: 64 * 1024,
        concurrency: 2,
      });
      assert.equal(result.size, large.byteLength);
      if (replace.blocks) assert.equal(result.blocks, 5, "uploaded in blocks");
      assert.ok(
        sameBytes(await store.readBytes("in/up.bin"), large),
        "the blocks arrived in order",
      );
      assert.equal((await store.getFileInfo("in/up.bin")).contentType, "application/x-test");
    },
  },
];
