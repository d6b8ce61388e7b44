import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { AzureHttp, AzureHttpError } from "../../src/backends/azure/_http.ts";
import { getBlobProperties, putBlob } from "../../src/backends/azure/_blob_api.ts";
import {
  createDirectory,
  deletePath,
  type DfsPath,
  listPathPages,
  listPaths,
  renamePath,
} from "../../src/backends/azure/_dfs_api.ts";
import { startDfsEmulator } from "../dfs_emulator/dfs_emulator.ts";
import { randomContainerName } from "../_azurite.ts";

// The DFS operations on their own, against the DFS emulator: what the
// service answers to exactly the requests `_dfs_api.ts` sends.
const emulator = await startDfsEmulator();
const http = new AzureHttp({
  container: randomContainerName(),
  connectionString: emulator.connectionString,
  retry: { maxTries: 2, retryDelayMs: 10, maxRetryDelayMs: 50 },
});
await http.call({ method: "PUT", key: "", query: { restype: "container" } });

const bytes = (text: string) => new TextEncoder().encode(text);

async function failure(promise: Promise<unknown>): Promise<AzureHttpError> {
  const error = await promise.then(() => assert.fail("no error"), (e) => e);
  assert.ok(error instanceof AzureHttpError, String(error));
  return error;
}

async function all(directory: string, recursive: boolean, maxResults?: number) {
  const out: DfsPath[] = [];
  for await (const page of listPathPages(http, { directory, recursive, maxResults })) {
    out.push(...page);
  }
  return out;
}

describe("DFS operations against the DFS emulator", () => {
  after(async () => {
    http.close();
    await emulator.close();
  });

  test("Path List: sizes, kinds, ETags and dates of files and directories", async () => {
    const { etag } = await putBlob(http, "ls/a b?#%.txt", bytes("12345"), {});
    await createDirectory(http, "ls/d ü", { ifNoneMatch: "*" });
    await putBlob(http, "ls/d ü/x", bytes("x"), {});
    const shallow = await all("ls", false);
    assert.deepEqual(shallow.map((p) => [p.name, p.isDirectory, p.contentLength]), [
      ["ls/a b?#%.txt", false, 5],
      ["ls/d ü", true, 0],
    ]);
    assert.equal(shallow[0]!.etag, etag);
    assert.ok(shallow[0]!.lastModified instanceof Date);
    assert.ok(Math.abs(shallow[0]!.lastModified.getTime() - Date.now()) < 60_000);
    const deep = await all("ls", true);
    assert.deepEqual(deep.map((p) => p.name), ["ls/a b?#%.txt", "ls/d ü", "ls/d ü/x"]);
    const root = await all("", false);
    assert.deepEqual(root.map((p) => p.name), ["ls"]);
  });

  test("Path List pages follow the continuation", async () => {
    for (let i = 0; i < 7; i++) await putBlob(http, `pages/f${i}`, bytes(`${i}`), {});
    const first = await listPaths(http, { directory: "pages", recursive: true, maxResults: 3 });
    assert.equal(first.paths.length, 3);
    assert.ok(first.continuation !== undefined);
    const names = (await all("pages", true, 3)).map((p) => p.name);
    assert.deepEqual(names, Array.from({ length: 7 }, (_, i) => `pages/f${i}`));
  });

  test("Path List of a missing directory or of a file: 404 PathNotFound", async () => {
    await putBlob(http, "lsfile", bytes("f"), {});
    for (const directory of ["nothing/here", "lsfile"]) {
      const error = await failure(listPaths(http, { directory, recursive: false }));
      assert.equal(error.statusCode, 404);
      assert.equal(error.code, "PathNotFound");
    }
  });

  test("Path Create of a directory: If-None-Match * refuses an existing path", async () => {
    await createDirectory(http, "mk/a/b", { ifNoneMatch: "*" });
    const props = await getBlobProperties(http, "mk/a/b", {});
    assert.equal(props.metadata.hdi_isfolder, "true");
    const again = await failure(createDirectory(http, "mk/a/b", { ifNoneMatch: "*" }));
    assert.deepEqual([again.statusCode, again.code], [409, "PathAlreadyExists"]);
    await putBlob(http, "mk/file", bytes("f"), {});
    const below = await failure(createDirectory(http, "mk/file/sub", { ifNoneMatch: "*" }));
    assert.deepEqual([below.statusCode, below.code], [409, "PathConflict"]);
  });

  test("rename: awkward names, source and destination conditions", async () => {
    const src = "mv/src %25 ?#+ü.txt";
    const { etag } = await putBlob(http, src, bytes("payload"), {});
    await createDirectory(http, "mv/out ?%#", { ifNoneMatch: "*" });
    const dst = "mv/out ?%#/100% & ü.txt";
    const stale = await failure(renamePath(http, src, dst, { sourceIfMatch: '"0xstale"' }));
    assert.deepEqual([stale.statusCode, stale.code], [412, "SourceConditionNotMet"]);
    await renamePath(http, src, dst, { sourceIfMatch: etag, ifNoneMatch: "*" });
    const moved = await getBlobProperties(http, dst, {});
    assert.equal(moved.size, 7);
    assert.equal((await failure(getBlobProperties(http, src, {}))).statusCode, 404);

    await putBlob(http, "mv/other", bytes("o"), {});
    const exists = await failure(renamePath(http, "mv/other", dst, { ifNoneMatch: "*" }));
    assert.deepEqual([exists.statusCode, exists.code], [409, "PathAlreadyExists"]);
    const mismatch = await failure(renamePath(http, "mv/other", dst, { ifMatch: '"0xno"' }));
    assert.deepEqual([mismatch.statusCode, mismatch.code], [412, "ConditionNotMet"]);
    await renamePath(http, "mv/other", dst, { ifMatch: moved.etag });
    assert.equal((await getBlobProperties(http, dst, {})).size, 1);

    const noParent = await failure(renamePath(http, dst, "mv/none/x", {}));
    assert.deepEqual([noParent.statusCode, noParent.code], [
      404,
      "RenameDestinationParentPathNotFound",
    ]);
    const gone = await failure(renamePath(http, "mv/missing", "mv/x", {}));
    assert.deepEqual([gone.statusCode, gone.code], [404, "SourcePathNotFound"]);
  });

  test("Path Delete: a file, a non-empty directory (recursive only), a missing path", async () => {
    await putBlob(http, "del/d/sub/f", bytes("f"), {});
    await putBlob(http, "del/file", bytes("f"), {});
    const notEmpty = await failure(deletePath(http, "del/d", { recursive: false }));
    assert.deepEqual([notEmpty.statusCode, notEmpty.code], [409, "DirectoryNotEmpty"]);
    emulator.resetLog();
    await deletePath(http, "del/d", { recursive: true });
    assert.equal(emulator.requests.length, 1);
    await deletePath(http, "del/file", { recursive: false });
    assert.deepEqual(await all("del", true), []);
    const missing = await failure(deletePath(http, "del/file", { recursive: false }));
    assert.deepEqual([missing.statusCode, missing.code], [404, "PathNotFound"]);
  });
});
