import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { AzureBackendOptions } from "./_options.ts";
import { AzureHttp, AzureHttpError } from "./_http.ts";
import {
  createDirectory,
  deletePath,
  listPathPages,
  listPaths,
  renamePath,
  renameSource,
} from "./_dfs_api.ts";

/** Azurite's well-known development key (not a secret). */
const KEY =
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTBtr/KBHBeksoGMGw==";

interface Seen {
  method: string;
  url: URL;
  headers: Headers;
}

/** An `AzureHttp` on `acct` whose `fetch` records each request and answers from `replies`. */
function fakeHttp(
  replies: (() => Response)[],
  auth: Partial<AzureBackendOptions> = { accountName: "acct", accountKey: KEY },
): { http: AzureHttp; seen: Seen[] } {
  const seen: Seen[] = [];
  const http = new AzureHttp({
    container: "fs",
    ...auth,
    retry: { maxTries: 1 },
    fetch: (input, init) => {
      seen.push({
        method: init.method ?? "GET",
        url: new URL(input),
        headers: new Headers(init.headers),
      });
      const reply = replies.shift();
      assert.ok(reply !== undefined, `unexpected request ${init.method} ${input}`);
      return Promise.resolve(reply());
    },
  });
  return { http, seen };
}

function json(body: unknown, headers: Record<string, string> = {}, status = 200): () => Response {
  return () =>
    new Response(JSON.stringify(body), {
      status,
      headers: { "content-type": "application/json;charset=utf-8", ...headers },
    });
}

function empty(status: number, headers: Record<string, string> = {}): () => Response {
  return () => new Response(null, { status, headers });
}

/** The query of a recorded request, in order. */
function queryOf(seen: Seen): [string, string][] {
  return [...seen.url.searchParams.entries()];
}

describe("DFS operations (_dfs_api.ts)", () => {
  test("listPaths sends Path List and reads the string-typed JSON fields", async () => {
    const { http, seen } = fakeHttp([json({
      paths: [
        {
          name: "a b?/f.txt",
          contentLength: "12",
          lastModified: "Tue, 01 Dec 2026 10:00:00 GMT",
          etag: "0x8DD1",
        },
        { name: "a b?/d", isDirectory: "true", contentLength: "0", etag: '"0x8DD2"' },
        { contentLength: "3" },
        { name: "a b?/n", isDirectory: false, contentLength: 7, lastModified: "not a date" },
      ],
    }, { "x-ms-continuation": "next+token/=" })]);
    const page = await listPaths(http, { directory: "a b?", recursive: false, maxResults: 2 });
    assert.equal(seen.length, 1);
    const [request] = seen;
    assert.equal(request!.method, "GET");
    assert.equal(
      request!.url.origin + request!.url.pathname,
      "https://acct.dfs.core.windows.net/fs",
    );
    assert.deepEqual(queryOf(request!), [
      ["resource", "filesystem"],
      ["recursive", "false"],
      ["directory", "a b?"],
      ["maxResults", "2"],
    ]);
    assert.equal(request!.headers.get("accept"), "application/json");
    assert.ok(request!.headers.get("authorization")?.startsWith("SharedKey acct:"));
    assert.deepEqual(page, {
      paths: [
        {
          name: "a b?/f.txt",
          isDirectory: false,
          contentLength: 12,
          lastModified: new Date("2026-12-01T10:00:00Z"),
          etag: '"0x8DD1"',
        },
        { name: "a b?/d", isDirectory: true, contentLength: 0, etag: '"0x8DD2"' },
        { name: "a b?/n", isDirectory: false, contentLength: 7 },
      ],
      continuation: "next+token/=",
    });
  });

  test("listPaths of the root sends no directory; an empty body or no paths is an empty page", async () => {
    const { http, seen } = fakeHttp([json({}), () => new Response("", { status: 200 })]);
    assert.deepEqual(await listPaths(http, { directory: "", recursive: true }), { paths: [] });
    assert.deepEqual(await listPaths(http, { recursive: true }), { paths: [] });
    for (const request of seen) {
      assert.deepEqual(queryOf(request), [["resource", "filesystem"], ["recursive", "true"]]);
    }
  });

  test("listPathPages follows x-ms-continuation through empty pages until there is none", async () => {
    const { http, seen } = fakeHttp([
      json({ paths: [{ name: "a", contentLength: "1" }] }, { "x-ms-continuation": "t1" }),
      json({ paths: [] }, { "x-ms-continuation": "t 2" }),
      json({ paths: [{ name: "b", contentLength: "2" }] }),
    ]);
    const pages = await Array.fromAsync(
      listPathPages(http, { directory: "d", recursive: true, maxResults: 1 }),
      (paths) => paths.map((p) => p.name),
    );
    assert.deepEqual(pages, [["a"], [], ["b"]]);
    assert.deepEqual(seen.map((r) => r.url.searchParams.get("continuation")), [null, "t1", "t 2"]);
  });

  test("a DFS error answer throws AzureHttpError with the JSON body's code", async () => {
    const { http } = fakeHttp([
      json(
        { error: { code: "PathNotFound", message: "The specified path does not exist." } },
        {},
        404,
      ),
    ]);
    const error = await listPaths(http, { directory: "gone", recursive: false }).then(
      () => assert.fail("no error"),
      (e) => e,
    );
    assert.ok(error instanceof AzureHttpError);
    assert.equal(error.statusCode, 404);
    assert.equal(error.code, "PathNotFound");
  });

  test("a Path List body that is not JSON is a SyntaxError", async () => {
    const { http } = fakeHttp([() => new Response("<html>proxy</html>", { status: 200 })]);
    await assert.rejects(listPaths(http, { recursive: false }), SyntaxError);
  });

  test("createDirectory sends Path Create with resource=directory and If-None-Match", async () => {
    const { http, seen } = fakeHttp([
      empty(201, { etag: '"0x1"' }),
      empty(201),
    ]);
    assert.deepEqual(
      await createDirectory(http, "new dir/ü", { ifNoneMatch: "*" }),
      { etag: '"0x1"' },
    );
    assert.deepEqual(await createDirectory(http, "plain", {}), {});
    assert.equal(seen[0]!.method, "PUT");
    assert.equal(seen[0]!.url.pathname, "/fs/new%20dir/%C3%BC");
    assert.deepEqual(queryOf(seen[0]!), [["resource", "directory"]]);
    assert.equal(seen[0]!.headers.get("if-none-match"), "*");
    assert.equal(seen[0]!.headers.get("accept"), "application/json");
    assert.equal(seen[1]!.headers.get("if-none-match"), null);
  });

  test("renamePath sends Path Create with mode=legacy, the rename source and both conditions", async () => {
    const { http, seen } = fakeHttp([empty(201), empty(201)]);
    await renamePath(http, "dir/a?b%.txt", "out #/c d.txt", {
      sourceIfMatch: '"0xS"',
      ifNoneMatch: "*",
    });
    await renamePath(http, "x", "y", { ifMatch: '"0xD"' });
    const [first, second] = seen;
    assert.equal(first!.method, "PUT");
    assert.equal(first!.url.pathname, "/fs/out%20%23/c%20d.txt");
    assert.deepEqual(queryOf(first!), [["mode", "legacy"]]);
    assert.equal(first!.headers.get("x-ms-rename-source"), "/fs/dir/a%3Fb%25.txt");
    assert.equal(first!.headers.get("x-ms-source-if-match"), '"0xS"');
    assert.equal(first!.headers.get("if-none-match"), "*");
    assert.equal(first!.headers.get("if-match"), null);
    assert.equal(second!.headers.get("x-ms-rename-source"), "/fs/x");
    assert.equal(second!.headers.get("if-match"), '"0xD"');
    assert.equal(second!.headers.get("if-none-match"), null);
    assert.equal(second!.headers.get("x-ms-source-if-match"), null);
  });

  test("the rename source keeps a path-style account segment and carries the SAS", () => {
    const pathStyle = fakeHttp([], {
      connectionString:
        `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${KEY};` +
        "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;",
    });
    assert.equal(renameSource(pathStyle.http, "a b/c"), "/devstoreaccount1/fs/a%20b/c");
    const sas = fakeHttp([], { accountName: "acct", sasToken: "sv=2025-01-05&sp=rwdl&sig=abc%2B" });
    assert.equal(renameSource(sas.http, "a b"), "/fs/a%20b?sv=2025-01-05&sp=rwdl&sig=abc%2B");
  });

  test("deletePath follows x-ms-continuation until the delete is complete", async () => {
    const { http, seen } = fakeHttp([
      empty(200, { "x-ms-continuation": "c1" }),
      empty(200, { "x-ms-continuation": "c2" }),
      empty(200),
      empty(200),
    ]);
    await deletePath(http, "tree", { recursive: true });
    await deletePath(http, "file.txt", { recursive: false });
    assert.deepEqual(seen.map((r) => [r.method, r.url.pathname, queryOf(r)]), [
      ["DELETE", "/fs/tree", [["recursive", "true"]]],
      ["DELETE", "/fs/tree", [["recursive", "true"], ["continuation", "c1"]]],
      ["DELETE", "/fs/tree", [["recursive", "true"], ["continuation", "c2"]]],
      ["DELETE", "/fs/file.txt", [["recursive", "false"]]],
    ]);
    assert.equal(seen[0]!.headers.get("accept"), "application/json");
  });

  test("with a token credential a recursive delete is paginated, as the SDK sends it", async () => {
    const credential = {
      getToken: () => Promise.resolve({ token: "t", expiresOnTimestamp: Date.now() + 3_600_000 }),
    };
    const { http, seen } = fakeHttp([empty(200), empty(200)], { accountName: "acct", credential });
    await deletePath(http, "tree", { recursive: true });
    await deletePath(http, "f", { recursive: false });
    assert.deepEqual(queryOf(seen[0]!), [["recursive", "true"], ["paginated", "true"]]);
    assert.deepEqual(queryOf(seen[1]!), [["recursive", "false"]]);
    assert.equal(seen[0]!.headers.get("authorization"), "Bearer t");
  });
});
