import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import {
  BlobServiceClient,
  type ContainerClient,
  StorageSharedKeyCredential,
} from "@azure/storage-blob";
import {
  type DataLakeFileClient,
  type DataLakeFileSystemClient,
  DataLakeServiceClient,
  StorageSharedKeyCredential as DataLakeSharedKeyCredential,
} from "@azure/storage-file-datalake";
import { type DfsEmulator, startDfsEmulator } from "./dfs_emulator.ts";

const FS = "fs1";

let emu: DfsEmulator;
let blobService: BlobServiceClient;
let lakeService: DataLakeServiceClient;
let container: ContainerClient;
let fs: DataLakeFileSystemClient;

async function streamText(stream: NodeJS.ReadableStream | undefined): Promise<string> {
  assert.ok(stream, "response has a body stream");
  const chunks: Buffer[] = [];
  for await (const c of stream) {
    chunks.push(typeof c === "string" ? Buffer.from(c) : Buffer.from(c));
  }
  return Buffer.concat(chunks).toString("utf8");
}

async function readFile(
  file: DataLakeFileClient,
  offset?: number,
  count?: number,
): Promise<string> {
  const r = await file.read(offset, count);
  return await streamText(r.readableStreamBody);
}

async function readBlob(name: string, offset?: number, count?: number): Promise<string> {
  const r = await container.getBlobClient(name).download(offset, count);
  return await streamText(r.readableStreamBody);
}

/** Asserts that `p` rejects with a RestError of this status and service error code. */
async function rejectsWith(p: Promise<unknown>, status: number, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    const err = e as { statusCode?: number; code?: string; details?: { errorCode?: string } };
    assert.equal(err.statusCode, status, `status of ${String(e)}`);
    assert.equal(err.details?.errorCode ?? err.code, code, `error code of ${String(e)}`);
    return true;
  });
}

async function listNames(
  dir: string | undefined,
  recursive: boolean,
): Promise<string[]> {
  const names: string[] = [];
  for await (const p of fs.listPaths({ path: dir, recursive })) names.push(p.name!);
  return names;
}

async function upload(name: string, text: string): Promise<void> {
  await container.getBlockBlobClient(name).upload(text, Buffer.byteLength(text));
}

describe("DFS emulator with the real Azure SDKs", () => {
  before(async () => {
    emu = await startDfsEmulator();
    blobService = new BlobServiceClient(
      emu.url,
      new StorageSharedKeyCredential(emu.accountName, emu.accountKey),
    );
    lakeService = new DataLakeServiceClient(
      emu.url,
      new DataLakeSharedKeyCredential(emu.accountName, emu.accountKey),
    );
    fs = lakeService.getFileSystemClient(FS);
    await fs.create();
    container = blobService.getContainerClient(FS);
  });

  after(async () => {
    await emu.close();
  });

  test("a wrong account key fails authentication on both APIs", async () => {
    const badBlob = new BlobServiceClient(
      emu.url,
      new StorageSharedKeyCredential(emu.accountName, Buffer.from("wrong key").toString("base64")),
    );
    await rejectsWith(badBlob.getAccountInfo(), 403, "AuthenticationFailed");
    const badLake = new DataLakeServiceClient(
      emu.url,
      new DataLakeSharedKeyCredential(emu.accountName, Buffer.from("wrong").toString("base64")),
    );
    await rejectsWith(
      badLake.getFileSystemClient(FS).getFileClient("x.txt").create(),
      403,
      "AuthenticationFailed",
    );
    assert.equal(await fs.getFileClient("x.txt").exists(), false);
  });

  test("requests without Authorization are refused", async () => {
    const res = await fetch(`${emu.url}/${FS}?restype=container`);
    await res.arrayBuffer();
    assert.equal(res.status, 403);
    assert.equal(res.headers.get("x-ms-error-code"), "AuthenticationFailed");
  });

  test("account information reports a hierarchical namespace", async () => {
    const info = await blobService.getAccountInfo();
    assert.equal(info.isHierarchicalNamespaceEnabled, true);
    assert.equal(info.accountKind, "StorageV2");
    assert.equal(info.skuName, "Standard_LRS");
    const atContainer = await container.getAccountInfo();
    assert.equal(atContainer.isHierarchicalNamespaceEnabled, true);
  });

  test("containers and filesystems: create, conflict, delete, missing", async () => {
    const c = blobService.getContainerClient("other");
    await c.create();
    await rejectsWith(c.create(), 409, "ContainerAlreadyExists");
    assert.equal(await lakeService.getFileSystemClient("other").exists(), true);
    await c.delete();
    assert.equal(await c.exists(), false);
    await rejectsWith(
      blobService.getContainerClient("nope").getBlockBlobClient("a").upload("x", 1),
      404,
      "ContainerNotFound",
    );
    await rejectsWith(
      lakeService.getFileSystemClient("nope").getFileClient("a").create(),
      404,
      "FilesystemNotFound",
    );
    const names: string[] = [];
    for await (const f of lakeService.listFileSystems()) names.push(f.name);
    assert.deepEqual(names, [FS]);
  });

  test("file create, append, flush and ranged reads", async () => {
    const file = fs.getFileClient("rw/hello.txt");
    await file.create();
    await file.append("hello ", 0, 6);
    await file.append("world", 6, 5);
    assert.equal(
      (await file.getProperties()).contentLength,
      0,
      "appends are invisible before flush",
    );
    await rejectsWith(file.flush(12), 400, "InvalidFlushPosition");
    await file.flush(11, { pathHttpHeaders: { contentType: "text/plain" } });
    assert.equal(await readFile(file), "hello world");
    assert.equal(await readFile(file, 6, 5), "world");
    assert.equal(await readFile(file, 6), "world");
    assert.equal(await readBlob("rw/hello.txt", 2, 3), "llo");
    const props = await file.getProperties();
    assert.equal(props.contentLength, 11);
    assert.equal(props.contentType, "text/plain");
    assert.match(props.etag!, /^"0x[0-9A-F]+"$/);
    await rejectsWith(readFile(file, 11), 416, "InvalidRange");
    const r = await container.getBlobClient("rw/hello.txt").download(0, 5);
    assert.equal(r._response.status, 206);
    assert.equal(r.contentRange, "bytes 0-4/11");
    await streamText(r.readableStreamBody);
    // DataLakeFileClient.upload = create + append + flush
    const up = fs.getFileClient("rw/up.bin");
    await up.upload(Buffer.from("uploaded via dfs"));
    assert.equal(await readBlob("rw/up.bin"), "uploaded via dfs");
  });

  test("blobs written with the Blob API are read through DFS and vice versa", async () => {
    await upload("mix/put.txt", "put blob");
    assert.equal(await readFile(fs.getFileClient("mix/put.txt")), "put blob");

    const staged = container.getBlockBlobClient("mix/blocks.txt");
    const id1 = Buffer.from("block-1").toString("base64");
    const id2 = Buffer.from("block-2").toString("base64");
    await staged.stageBlock(id1, "first,", 6);
    await staged.stageBlock(id2, "second", 6);
    assert.equal(
      await fs.getFileClient("mix/blocks.txt").exists(),
      false,
      "staged blocks are not a file",
    );
    await staged.commitBlockList([id1, id2], { blobHTTPHeaders: { blobContentType: "text/csv" } });
    assert.equal(await readFile(fs.getFileClient("mix/blocks.txt")), "first,second");
    assert.equal(
      (await fs.getFileClient("mix/blocks.txt").getProperties()).contentType,
      "text/csv",
    );
    const list = await staged.getBlockList("committed");
    assert.deepEqual(list.committedBlocks?.map((b) => b.name), [id1, id2]);

    const dfsFile = fs.getFileClient("mix/dfs.txt");
    await dfsFile.create();
    await dfsFile.append("from dfs", 0, 8, { flush: true });
    assert.equal(await readBlob("mix/dfs.txt"), "from dfs");
    await rejectsWith(
      container.getBlockBlobClient("mix/md5.txt").upload("abc", 3, {
        transactionalContentMD5: new Uint8Array(16),
      }),
      400,
      "Md5Mismatch",
    );
    const buf = await container.getBlockBlobClient("mix/dfs.txt").downloadToBuffer();
    assert.equal(buf.toString(), "from dfs");
  });

  test("writes create parent directories implicitly", async () => {
    await upload("deep/a/b/c.txt", "c");
    assert.deepEqual(await listNames("deep", true), ["deep/a", "deep/a/b", "deep/a/b/c.txt"]);
    const dir = await fs.getDirectoryClient("deep/a").getProperties();
    assert.equal(dir.metadata?.hdi_isfolder, "true");
    await fs.getFileClient("deep2/x/y.txt").create();
    assert.deepEqual(await listNames("deep2", true), ["deep2/x", "deep2/x/y.txt"]);
  });

  test("an empty directory persists and is listed", async () => {
    await fs.getDirectoryClient("empty/inner").create();
    assert.deepEqual(await listNames("empty", false), ["empty/inner"]);
    const paths = [];
    for await (const p of fs.listPaths({ path: "empty" })) paths.push(p);
    assert.equal(paths[0]!.isDirectory, true);
    assert.equal(paths[0]!.contentLength, 0);
    const flat = [];
    for await (const b of container.listBlobsFlat({ prefix: "empty/", includeMetadata: true })) {
      flat.push(b);
    }
    assert.deepEqual(flat.map((b) => b.name), ["empty/inner"]);
    assert.equal(flat[0]!.metadata?.hdi_isfolder, "true");
    const hier = [];
    for await (const item of container.listBlobsByHierarchy("/", { prefix: "empty/" })) {
      hier.push(item);
    }
    assert.deepEqual(hier.map((i) => [i.kind, i.name]), [["blob", "empty/inner"]]);
    // creating an existing directory again succeeds; createIfNotExists reports it
    await fs.getDirectoryClient("empty/inner").create();
    const again = await fs.getDirectoryClient("empty/inner").createIfNotExists();
    assert.equal(again.succeeded, false);
  });

  test("getProperties tells files from directories", async () => {
    const file = fs.getFileClient("props/f.txt");
    await file.create({ metadata: { color: "blue" } });
    const fp = await file.getProperties();
    assert.equal(fp.metadata?.hdi_isfolder, undefined);
    assert.equal(fp.metadata?.color, "blue");
    const dp = await fs.getDirectoryClient("props").getProperties();
    assert.equal(dp.metadata?.hdi_isfolder, "true");
    assert.equal(dp.contentLength, 0);
    const acl = await fs.getDirectoryClient("props").getAccessControl();
    assert.equal(acl.owner, "$superuser");
    assert.equal(acl.permissions?.owner.execute, true);
    const facl = await file.getAccessControl();
    assert.equal(facl.permissions?.owner.execute, false);
  });

  test("rename moves a file in one request", async () => {
    const file = fs.getFileClient("mv/a.txt");
    await file.upload(Buffer.from("A"));
    emu.resetLog();
    const before = emu.requestCount();
    await file.move("mv/b.txt");
    assert.equal(emu.requestCount() - before, 1);
    assert.equal(emu.requests.length, 1);
    assert.equal(emu.requests[0]!.method, "PUT");
    assert.equal(await file.exists(), false);
    assert.equal(await readFile(fs.getFileClient("mv/b.txt")), "A");
  });

  test("rename moves a whole directory subtree atomically", async () => {
    await upload("tree/a.txt", "a");
    await upload("tree/sub/b.txt", "b");
    await fs.getDirectoryClient("tree/sub/empty").create();
    emu.resetLog();
    await fs.getDirectoryClient("tree").move("moved");
    assert.equal(emu.requests.length, 1, "a directory rename is one request");
    assert.deepEqual(await listNames("moved", true), [
      "moved/a.txt",
      "moved/sub",
      "moved/sub/b.txt",
      "moved/sub/empty",
    ]);
    assert.equal(await fs.getDirectoryClient("tree").exists(), false);
    assert.equal(await readBlob("moved/sub/b.txt"), "b");
  });

  test("rename conditions and errors", async () => {
    await upload("rc/src.txt", "src");
    await upload("rc/dst.txt", "dst");
    const src = fs.getFileClient("rc/src.txt");
    await rejectsWith(
      src.move("rc/dst.txt", { destinationConditions: { ifNoneMatch: "*" } }),
      409,
      "PathAlreadyExists",
    );
    await rejectsWith(
      src.move("rc/other.txt", { conditions: { ifMatch: '"0x1"' } }),
      412,
      "SourceConditionNotMet",
    );
    await rejectsWith(
      src.move("rc/other.txt", { destinationConditions: { ifMatch: '"0x1"' } }),
      412,
      "ConditionNotMet",
    );
    await rejectsWith(
      fs.getFileClient("rc/missing.txt").move("rc/x.txt"),
      404,
      "SourcePathNotFound",
    );
    await rejectsWith(src.move("rc/no/such/dir/x.txt"), 404, "RenameDestinationParentPathNotFound");
    await rejectsWith(
      fs.getDirectoryClient("rc").move("rc/inside"),
      409,
      "InvalidRenameSourcePath",
    );
    assert.equal(
      await readFile(fs.getFileClient("rc/dst.txt")),
      "dst",
      "failed renames change nothing",
    );
    // matching source condition; destination overwritten
    const etag = (await src.getProperties()).etag!;
    await src.move("rc/dst.txt", { conditions: { ifMatch: etag } });
    assert.equal(await readFile(fs.getFileClient("rc/dst.txt")), "src");
    assert.equal(await src.exists(), false);
  });

  test("delete: non-recursive on a non-empty directory fails, recursive works", async () => {
    await upload("del/x/y.txt", "y");
    await rejectsWith(fs.getDirectoryClient("del").delete(false), 409, "DirectoryNotEmpty");
    await rejectsWith(container.getBlobClient("del").delete(), 409, "DirectoryIsNotEmpty");
    await fs.getDirectoryClient("del").delete(true);
    assert.equal(await fs.getDirectoryClient("del").exists(), false);
    assert.equal(await container.getBlobClient("del/x/y.txt").exists(), false);
    await fs.getDirectoryClient("del2").create();
    await container.getBlobClient("del2").delete();
    assert.equal(await fs.getDirectoryClient("del2").exists(), false);
    await rejectsWith(fs.getFileClient("del/none.txt").delete(), 404, "PathNotFound");
    await upload("del3.txt", "z");
    await rejectsWith(
      fs.getFileClient("del3.txt").delete(false, { conditions: { ifMatch: '"0x1"' } }),
      412,
      "ConditionNotMet",
    );
    await fs.getFileClient("del3.txt").delete();
    assert.equal(await container.getBlobClient("del3.txt").exists(), false);
  });

  test("list paths recursive and non-recursive with continuation", async () => {
    for (const n of ["lp/1.txt", "lp/2.txt", "lp/d/3.txt", "lp/d/4.txt", "lp/e/5.txt"]) {
      await upload(n, n);
    }
    const pages: string[][] = [];
    const tokens: (string | undefined)[] = [];
    for await (
      const page of fs.listPaths({ path: "lp", recursive: true }).byPage({ maxPageSize: 2 })
    ) {
      pages.push((page.pathItems ?? []).map((p) => p.name!));
      tokens.push(page.continuation);
    }
    assert.deepEqual(pages, [
      ["lp/1.txt", "lp/2.txt"],
      ["lp/d", "lp/d/3.txt"],
      ["lp/d/4.txt", "lp/e"],
      ["lp/e/5.txt"],
    ]);
    assert.ok(tokens.slice(0, 3).every((t) => typeof t === "string" && t.length > 0));
    assert.equal(tokens[3], undefined);
    const top: string[] = [];
    for await (const page of fs.listPaths({ path: "lp" }).byPage({ maxPageSize: 3 })) {
      top.push(...(page.pathItems ?? []).map((p) => `${p.name}${p.isDirectory ? "/" : ""}`));
    }
    assert.deepEqual(top, ["lp/1.txt", "lp/2.txt", "lp/d/", "lp/e/"]);
    const item = (await fs.listPaths({ path: "lp" }).next()).value!;
    assert.equal(item.contentLength, "lp/1.txt".length);
    assert.ok(item.lastModified instanceof Date);
    assert.ok(item.createdOn instanceof Date);
    // Path - List reports the etag without quotes (getProperties quotes it)
    assert.match(String(item.etag), /^0x[0-9A-F]+$/);
    await rejectsWith(fs.listPaths({ path: "no-such-dir" }).next(), 404, "PathNotFound");
  });

  test("blob flat and hierarchical listings with continuation", async () => {
    for (const n of ["bl/a.txt", "bl/b.txt", "bl/c/d.txt", "bl/c/e.txt", "bl/f.txt"]) {
      await upload(n, n);
    }
    const flat: string[][] = [];
    for await (
      const page of container.listBlobsFlat({ prefix: "bl/" }).byPage({ maxPageSize: 2 })
    ) {
      flat.push(page.segment.blobItems.map((b) => b.name));
    }
    assert.deepEqual(flat, [["bl/a.txt", "bl/b.txt"], ["bl/c", "bl/c/d.txt"], [
      "bl/c/e.txt",
      "bl/f.txt",
    ]]);
    const hier: string[][] = [];
    for await (
      const page of container.listBlobsByHierarchy("/", { prefix: "bl/" }).byPage({
        maxPageSize: 2,
      })
    ) {
      hier.push([
        ...page.segment.blobItems.map((b) => b.name),
        ...page.segment.blobPrefixes!.map((p) => `prefix:${p.name}`),
      ]);
    }
    // "bl/c" is the directory blob, "bl/c/" the prefix rolling up its children
    assert.deepEqual(hier, [["bl/a.txt", "bl/b.txt"], ["bl/c", "prefix:bl/c/"], ["bl/f.txt"]]);
    const withMeta = [];
    for await (const b of container.listBlobsFlat({ prefix: "bl/c", includeMetadata: true })) {
      withMeta.push(b);
    }
    assert.equal(withMeta[0]!.metadata?.hdi_isfolder, "true");
    assert.equal(withMeta[1]!.properties.contentLength, "bl/c/d.txt".length);
    assert.equal(withMeta[1]!.properties.blobType, "BlockBlob");
  });

  test("copy blob completes synchronously", async () => {
    await upload("cp/src.txt", "copy me");
    const dst = container.getBlobClient("cp/sub/dst.txt");
    const poller = await dst.beginCopyFromURL(container.getBlobClient("cp/src.txt").url);
    const result = await poller.pollUntilDone();
    assert.equal(result.copyStatus, "success");
    const props = await dst.getProperties();
    assert.equal(props.copyStatus, "success");
    assert.equal(await readBlob("cp/sub/dst.txt"), "copy me");
    assert.deepEqual(await listNames("cp", true), ["cp/src.txt", "cp/sub", "cp/sub/dst.txt"]);
    await rejectsWith(
      (async () => {
        const p = await dst.beginCopyFromURL(container.getBlobClient("cp/src.txt").url, {
          conditions: { ifNoneMatch: "*" },
        });
        return await p.pollUntilDone();
      })(),
      409,
      "BlobAlreadyExists",
    );
  });

  test("odd keys round-trip through both APIs", async () => {
    const names = [
      "odd/with space.txt",
      "odd/ünïcødé/ファイル.txt",
      "odd/100%.txt",
      "odd/hash#tag.txt",
      "odd/what?.txt",
      "odd/a+b.txt",
      "odd/%20literal.txt",
    ];
    for (const n of names) await upload(n, `content of ${n}`);
    for (const n of names) {
      assert.equal(await readFile(fs.getFileClient(n)), `content of ${n}`);
    }
    const listed = (await listNames("odd", true)).filter((n) => n !== "odd/ünïcødé");
    assert.deepEqual(listed.sort(), [...names].sort());
    const blobs: string[] = [];
    for await (const b of container.listBlobsFlat({ prefix: "odd/" })) blobs.push(b.name);
    const spaced: string[] = [];
    for await (const b of container.listBlobsFlat({ prefix: "odd/with sp" })) spaced.push(b.name);
    assert.deepEqual(spaced, ["odd/with space.txt"], "a prefix with a space is signed and matched");
    assert.deepEqual(blobs.filter((n) => n !== "odd/ünïcødé").sort(), [...names].sort());
    // move() puts the destination into the URL path as given: plain names work...
    await fs.getFileClient("odd/a+b.txt").move("odd/c+d #.txt");
    assert.equal(await readBlob("odd/c+d #.txt"), "content of odd/a+b.txt");
    // ...but "%" and "?" must be percent-encoded by the caller (SDK behaviour, not the service's)
    const encoded = "odd/50%25 off?.txt".split("/").map((s) => s.replace(/\?/g, "%3F")).join("/");
    await fs.getFileClient("odd/what?.txt").move(encoded);
    assert.equal(await readBlob("odd/50% off?.txt"), "content of odd/what?.txt");
    assert.equal(await fs.getFileClient("odd/what?.txt").exists(), false);
  });

  test("metadata round-trips between the APIs", async () => {
    await container.getBlockBlobClient("meta/b.txt").upload("x", 1, {
      metadata: { Owner: "alice" },
    });
    const p1 = await fs.getFileClient("meta/b.txt").getProperties();
    assert.equal(p1.metadata?.owner, "alice");
    await fs.getFileClient("meta/d.txt").create({ metadata: { project: "remote-store" } });
    const p2 = await container.getBlobClient("meta/d.txt").getProperties();
    assert.equal(p2.metadata?.project, "remote-store");
    await container.getBlobClient("meta/d.txt").setMetadata({ stage: "two" });
    const p3 = await fs.getFileClient("meta/d.txt").getProperties();
    assert.deepEqual(p3.metadata, { stage: "two" });
    const listed = [];
    for await (const b of container.listBlobsFlat({ prefix: "meta/b", includeMetadata: true })) {
      listed.push(b);
    }
    assert.deepEqual(listed[0]!.metadata, { Owner: "alice" });
  });

  test("conditional writes", async () => {
    const blob = container.getBlockBlobClient("cond/a.txt");
    await blob.upload("v1", 2);
    await rejectsWith(
      blob.upload("v2", 2, { conditions: { ifNoneMatch: "*" } }),
      409,
      "BlobAlreadyExists",
    );
    const id = Buffer.from("b1").toString("base64");
    await blob.stageBlock(id, "v3", 2);
    await rejectsWith(
      blob.commitBlockList([id], { conditions: { ifNoneMatch: "*" } }),
      409,
      "BlobAlreadyExists",
    );
    await rejectsWith(
      blob.upload("v2", 2, { conditions: { ifMatch: '"0x1"' } }),
      412,
      "ConditionNotMet",
    );
    const etag = (await blob.getProperties()).etag!;
    await blob.upload("v4", 2, { conditions: { ifMatch: etag } });
    assert.equal(await readBlob("cond/a.txt"), "v4");
    await rejectsWith(
      fs.getFileClient("cond/a.txt").create({ conditions: { ifNoneMatch: "*" } }),
      409,
      "PathAlreadyExists",
    );
    const created = await fs.getFileClient("cond/new.txt").createIfNotExists();
    assert.equal(created.succeeded, true);
    // a read with a stale If-Match fails
    await rejectsWith(
      blob.download(0, undefined, { conditions: { ifMatch: etag } }),
      412,
      "ConditionNotMet",
    );
  });

  test("path conflicts between files and directories", async () => {
    await fs.getDirectoryClient("pc/dir").create();
    await upload("pc/file.txt", "f");
    await rejectsWith(upload("pc/dir", "x"), 409, "PathConflict");
    await rejectsWith(
      container.getBlockBlobClient("pc/dir").upload("x", 1, { conditions: { ifNoneMatch: "*" } }),
      409,
      "BlobAlreadyExists",
    );
    await rejectsWith(fs.getFileClient("pc/dir").create(), 409, "PathConflict");
    await rejectsWith(fs.getFileClient("pc/file.txt/child").create(), 409, "PathConflict");
    await rejectsWith(upload("pc/file.txt/child", "x"), 409, "PathConflict");
    await rejectsWith(fs.getDirectoryClient("pc/file.txt").create(), 409, "PathConflict");
  });

  test("not-found error codes", async () => {
    await rejectsWith(readBlob("nf/missing.txt"), 404, "BlobNotFound");
    await rejectsWith(
      container.getBlobClient("nf/missing.txt").getProperties(),
      404,
      "BlobNotFound",
    );
    await rejectsWith(fs.getFileClient("nf/missing.txt").getAccessControl(), 404, "PathNotFound");
    await rejectsWith(fs.getDirectoryClient("nf").delete(true), 404, "PathNotFound");
    await rejectsWith(
      blobService.getContainerClient("nope").getBlobClient("x").getProperties(),
      404,
      "ContainerNotFound",
    );
    await rejectsWith(
      lakeService.getFileSystemClient("nope").listPaths().next(),
      404,
      "FilesystemNotFound",
    );
    assert.equal(await fs.getFileClient("nf/missing.txt").exists(), false);
  });

  test("multi-request transfers: parallel appends, staged blocks, ranged parallel downloads", async () => {
    const size = 3 * 1024 * 1024 + 123;
    const data = Buffer.alloc(size);
    for (let i = 0; i < size; i++) data[i] = (i * 31 + 7) & 0xff;
    const file = fs.getFileClient("big/dfs.bin");
    emu.resetLog();
    await file.upload(data, {
      chunkSize: 512 * 1024,
      maxConcurrency: 4,
      singleUploadThreshold: 256 * 1024,
    });
    const appends = emu.requests.filter((r) => r.query.includes("action=append")).length;
    assert.ok(appends >= 6, `expected several appends, saw ${appends}`);
    const viaBlob = await container.getBlockBlobClient("big/dfs.bin").downloadToBuffer(
      0,
      undefined,
      {
        blockSize: 1024 * 1024,
        concurrency: 3,
      },
    );
    assert.ok(viaBlob.equals(data), "DFS upload reads back byte for byte");

    const blob = container.getBlockBlobClient("big/blob.bin");
    emu.resetLog();
    await blob.uploadData(data, {
      blockSize: 1024 * 1024,
      concurrency: 3,
      maxSingleShotSize: 1024 * 1024,
    });
    assert.ok(emu.requests.filter((r) => /(^|&)comp=block(&|$)/.test(r.query)).length >= 3);
    const viaLake = await fs.getFileClient("big/blob.bin").readToBuffer();
    assert.ok(viaLake.equals(data), "staged-block upload reads back byte for byte");
    assert.equal(
      await readFile(fs.getFileClient("big/blob.bin"), size - 3),
      data.subarray(size - 3).toString(),
    );
  });

  test("connection string works for both clients", async () => {
    const b = BlobServiceClient.fromConnectionString(emu.connectionString);
    const info = await b.getAccountInfo();
    assert.equal(info.isHierarchicalNamespaceEnabled, true);
    const l = DataLakeServiceClient.fromConnectionString(emu.connectionString);
    await l.getFileSystemClient(FS).getFileClient("cs/x.txt").upload(Buffer.from("cs"));
    assert.equal(await readBlob("cs/x.txt"), "cs");
  });
});
