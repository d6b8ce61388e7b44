import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { BlobServiceClient, ContainerClient } from "@azure/storage-blob";
import { DataLakeFileSystemClient } from "@azure/storage-file-datalake";
import {
  BackendUnavailableError,
  CapabilityNotSupportedError,
  InvalidConfigError,
  InvalidPathError,
  Registry,
  Store,
} from "../../mod.ts";
import { AzureBackend, azureBackendType } from "../../azure.ts";
import { type FaultProxy, startFaultProxy } from "../_fault_proxy.ts";
import { type AzureEnv, HOOK, setupAzure } from "./_setup.ts";

function configError(options: unknown): InvalidConfigError {
  try {
    new AzureBackend(options as never);
  } catch (error) {
    assert.ok(error instanceof InvalidConfigError, String(error));
    return error;
  }
  assert.fail("expected InvalidConfigError");
}

describe("azure backend: options, endpoints, unwrap, toKey, close", () => {
  test("invalid options -> InvalidConfigError naming the option", () => {
    const cs = "UseDevelopmentStorage=true";
    const cases: [unknown, RegExp][] = [
      [{}, /options\.container/],
      [{ container: "Bad_Name", connectionString: cs }, /options\.container/],
      [{ container: "ok-name" }, /options\.connectionString/],
      [{ container: "ok-name", connectionString: cs, hns: "yes" }, /options\.hns/],
      [{ container: "ok-name", connectionString: cs, blockSize: 0 }, /options\.blockSize/],
      [{ container: "ok-name", connectionString: cs, concurrency: 1.5 }, /options\.concurrency/],
      [
        { container: "ok-name", connectionString: cs, retry: { maxResumes: -1 } },
        /retry\.maxResumes/,
      ],
      [{ container: "ok-name", connectionString: cs, nope: 1 }, /options\.nope/],
      [{ container: "ok-name", accountUrl: "ftp://x" }, /options\.accountUrl/],
      [{ container: "ok-name", accountUrl: "http://h/acct?sv=1&sig=x" }, /options\.accountUrl/],
      [{ container: "ok-name", accountName: "Bad Name!" }, /options\.accountName/],
      [{ container: "ok-name", accountUrl: "http://h/a", accountKey: "k" }, /options\.accountName/],
      [{ container: "ok-name", accountName: "acct", credential: {} }, /options\.credential/],
      [
        { container: "ok-name", connectionString: "AccountName=a;garbage" },
        /options\.connectionString/,
      ],
    ];
    for (const [options, named] of cases) {
      assert.match(configError(options).message, named, JSON.stringify(options));
    }
  });

  test("endpoints: blob and DFS derived separately; IP-style URLs shared", () => {
    const byName = new AzureBackend({ container: "c-1", accountName: "acct", accountKey: "a2V5" });
    assert.equal(byName.toJSON().blobUrl, "https://acct.blob.core.windows.net");
    assert.equal(byName.toJSON().dfsUrl, "https://acct.dfs.core.windows.net");
    assert.equal(
      byName.unwrap(DataLakeFileSystemClient).url,
      "https://acct.dfs.core.windows.net/c-1",
    );
    const ip = new AzureBackend({
      container: "c-1",
      accountUrl: "http://127.0.0.1:10000/devstoreaccount1/",
      sasToken: "sv=1&sig=abc",
    });
    assert.equal(ip.toJSON().blobUrl, "http://127.0.0.1:10000/devstoreaccount1");
    assert.equal(ip.toJSON().dfsUrl, "http://127.0.0.1:10000/devstoreaccount1");
    const suffix = new AzureBackend({
      container: "c-1",
      connectionString: "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=a2V5;" +
        "EndpointSuffix=core.chinacloudapi.cn",
    });
    assert.equal(suffix.toJSON().blobUrl, "https://acct.blob.core.chinacloudapi.cn");
    assert.equal(suffix.toJSON().dfsUrl, "https://acct.dfs.core.chinacloudapi.cn");
    const explicit = new AzureBackend({
      container: "c-1",
      accountName: "acct",
      accountKey: "a2V5",
      dfsUrl: "https://elsewhere.example/acct",
    });
    assert.equal(explicit.toJSON().dfsUrl, "https://elsewhere.example/acct");
    const dev = new AzureBackend({
      container: "c-1",
      connectionString: "UseDevelopmentStorage=true",
    });
    assert.equal(dev.toJSON().blobUrl, "http://127.0.0.1:10000/devstoreaccount1");
    for (const b of [byName, ip, suffix, explicit, dev]) void b.close();
  });

  test("unwrap: BlobServiceClient, ContainerClient, DataLakeFileSystemClient; others refused", async () => {
    const backend = new AzureBackend({ container: "c-1", accountName: "acct", accountKey: "a2V5" });
    const service = backend.unwrap(BlobServiceClient);
    assert.ok(service instanceof BlobServiceClient);
    assert.equal(backend.unwrap(BlobServiceClient), service);
    const container = backend.unwrap(ContainerClient);
    assert.equal(container.containerName, "c-1");
    const fileSystem = backend.unwrap(DataLakeFileSystemClient);
    assert.equal(fileSystem.name, "c-1");
    assert.equal(backend.unwrap(DataLakeFileSystemClient), fileSystem);
    assert.throws(() => backend.unwrap(Map), CapabilityNotSupportedError);
    const store = new Store(backend);
    assert.equal(store.unwrap(AzureBackend), backend);
    assert.equal(store.unwrap(ContainerClient), container);
    assert.throws(() => store.unwrap(Date), CapabilityNotSupportedError);
    await backend.close();
  });

  test("toKey: container prefix and blob/DFS URLs of this container", async () => {
    const backend = new AzureBackend({
      container: "data",
      accountName: "acct",
      accountKey: "a2V5",
    });
    assert.equal(backend.toKey("data/a/b.txt"), "a/b.txt");
    assert.equal(backend.toKey("/data/a/b.txt"), "a/b.txt");
    assert.equal(backend.toKey("data"), "");
    assert.equal(backend.toKey("a/b.txt"), "a/b.txt");
    assert.equal(backend.toKey("database/x"), "database/x");
    assert.equal(
      backend.toKey("https://acct.blob.core.windows.net/data/a%20b/%C3%A9t%C3%A9%23.txt"),
      "a b/été#.txt",
    );
    assert.equal(backend.toKey("https://acct.dfs.core.windows.net/data/x/y"), "x/y");
    assert.throws(
      () => backend.toKey("https://acct.blob.core.windows.net/other/x"),
      InvalidPathError,
    );
    assert.throws(
      () => backend.toKey("https://other.blob.core.windows.net/data/x"),
      InvalidPathError,
    );
    const store = new Store(backend, { rootPath: "reports" });
    assert.equal(store.toKey("data/reports/2024/q1.csv"), "2024/q1.csv");
    assert.equal(store.toKey("https://acct.blob.core.windows.net/data/reports/q2.csv"), "q2.csv");
    await backend.close();
    const ip = new AzureBackend({
      container: "data",
      accountUrl: "http://127.0.0.1:10000/devstoreaccount1",
      sasToken: "sv=1&sig=abc",
    });
    assert.equal(ip.toKey("http://127.0.0.1:10000/devstoreaccount1/data/k/v.txt"), "k/v.txt");
    await ip.close();
  });

  test("constructing, unwrapping and closing send no request", async () => {
    let connections = 0;
    const { createServer } = await import("node:net");
    const server = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    const backend = new AzureBackend({
      container: "c-1",
      accountUrl: `http://127.0.0.1:${port}/devstoreaccount1`,
      accountName: "devstoreaccount1",
      accountKey: "a2V5",
    });
    backend.unwrap(ContainerClient);
    backend.unwrap(DataLakeFileSystemClient);
    await new Promise((r) => setTimeout(r, 100));
    await backend.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    assert.equal(connections, 0);
  });
});

describe("azure flat namespace: batch fallback", () => {
  test("a refused Blob Batch falls back to single deletes (at most 16 in flight)", async () => {
    const names = Array.from({ length: 40 }, (_, i) => `f/${i}`);
    let batchCalls = 0;
    let inFlight = 0;
    let maxInFlight = 0;
    const deleted: string[] = [];
    // A service that lists 40 blobs, refuses Blob Batch (as a SAS scope or an
    // emulator may) and deletes slowly: no server refuses batches on demand.
    const serve = async (input: string, init: RequestInit): Promise<Response> => {
      const url = new URL(input);
      const comp = url.searchParams.get("comp");
      if (init.method === "GET" && comp === "list") {
        const blobs = names.map((name) =>
          `<Blob><Name>${name}</Name><Properties><Last-Modified>${new Date(0).toUTCString()}` +
          `</Last-Modified><Etag>0x1</Etag><Content-Length>1</Content-Length></Properties></Blob>`
        ).join("");
        return new Response(
          `<?xml version="1.0" encoding="utf-8"?><EnumerationResults><Blobs>${blobs}</Blobs>` +
            `<NextMarker /></EnumerationResults>`,
          { headers: { "content-type": "application/xml" } },
        );
      }
      if (init.method === "POST" && comp === "batch") {
        batchCalls++;
        return new Response(null, {
          status: 400,
          headers: { "x-ms-error-code": "InvalidQueryParameterValue" },
        });
      }
      if (init.method === "DELETE") {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setTimeout(r, 5));
        inFlight--;
        deleted.push(decodeURIComponent(url.pathname.split("/").slice(3).join("/")));
        return new Response(null, { status: 202 });
      }
      return new Response(null, { status: 500 });
    };
    const backend = new AzureBackend({
      container: "c-1",
      accountUrl: "http://127.0.0.1:9/devstoreaccount1",
      accountName: "devstoreaccount1",
      accountKey: "a2V5",
      hns: false,
      fetch: serve,
    });
    await backend.deleteFolder("f", { recursive: true });
    assert.equal(batchCalls, 1);
    assert.deepEqual(deleted.sort(), [...names].sort());
    assert.ok(maxInFlight <= 16 && maxInFlight > 1, `max in flight ${maxInFlight}`);
    deleted.length = 0;
    await backend.deleteFolder("f", { recursive: true });
    assert.equal(batchCalls, 1, "a refused batch is not tried again");
    assert.equal(deleted.length, names.length);
    await backend.close();
  });
});

describe("azure backend: a copy the service finishes later", () => {
  // Azurite finishes every copy in the Copy Blob answer; a real account may
  // answer "pending" and finish later: a service double answers that way.
  const copyService = (states: { status: string; progress: string }[], onCopy = () => {}) => {
    const requests: { method: string; path: string; headers: Headers }[] = [];
    const fetch = (input: string, init: RequestInit): Promise<Response> => {
      const url = new URL(input);
      const headers = new Headers(init.headers);
      requests.push({ method: init.method!, path: url.pathname, headers });
      const blob = (extra: Record<string, string>) =>
        new Response(null, {
          status: init.method === "PUT" ? 202 : 200,
          headers: { etag: '"0x1"', "last-modified": new Date(0).toUTCString(), ...extra },
        });
      if (init.method === "HEAD" && url.pathname.endsWith("/src.bin")) {
        return Promise.resolve(blob({ "content-length": "10" }));
      }
      if (init.method === "PUT" && url.pathname.endsWith("/dst.bin")) {
        onCopy();
        return Promise.resolve(blob({ "x-ms-copy-status": "pending", "x-ms-copy-id": "id-1" }));
      }
      if (init.method === "HEAD" && url.pathname.endsWith("/dst.bin")) {
        const state = states.shift()!;
        return Promise.resolve(
          blob({ "x-ms-copy-status": state.status, "x-ms-copy-progress": state.progress }),
        );
      }
      return Promise.resolve(new Response(null, { status: 500 }));
    };
    const backend = new AzureBackend({
      container: "c-1",
      accountUrl: "http://127.0.0.1:9/devstoreaccount1",
      accountName: "devstoreaccount1",
      accountKey: "a2V5",
      hns: false,
      strictPaths: false,
      retry: { maxTries: 1 },
      fetch,
    });
    return { backend, requests };
  };

  test("polls the destination until done, reporting the service's progress", async () => {
    const { backend, requests } = copyService([
      { status: "pending", progress: "4/10" },
      { status: "success", progress: "10/10" },
    ]);
    const progress: [number, number | undefined][] = [];
    await backend.copy("src.bin", "dst.bin", {
      overwrite: false,
      onProgress: (loaded, total) => progress.push([loaded, total]),
    });
    assert.deepEqual(progress, [[4, 10], [10, 10]]);
    const copy = requests.find((r) => r.method === "PUT")!;
    assert.equal(copy.headers.get("x-ms-source-if-match"), '"0x1"', "pinned to the source ETag");
    assert.equal(copy.headers.get("if-none-match"), "*", "create-only");
    assert.match(copy.headers.get("x-ms-copy-source")!, /\/c-1\/src\.bin$/);
    assert.equal(requests.filter((r) => r.method === "HEAD").length, 3);
    await backend.close();
  });

  test("a copy that ends failed is BackendUnavailableError; an abort stops the polling", async () => {
    const failed = copyService([{ status: "failed", progress: "4/10" }]);
    await assert.rejects(
      failed.backend.copy("src.bin", "dst.bin", { overwrite: true }),
      (error) => error instanceof BackendUnavailableError && /"failed"/.test(error.message),
    );
    await failed.backend.close();
    // Aborted once the service has started the copy: the copy is never polled.
    const controller = new AbortController();
    const reason = new Error("stop");
    const pending = copyService([], () => controller.abort(reason));
    await assert.rejects(
      pending.backend.copy("src.bin", "dst.bin", { overwrite: true, signal: controller.signal }),
      (error) => error === reason,
    );
    assert.equal(pending.requests.filter((r) => r.path.endsWith("/dst.bin")).length, 1);
    await pending.backend.close();
  });
});

describe("azure backend on Azurite", () => {
  let env: AzureEnv;
  let proxy: FaultProxy;

  before(async () => {
    env = await setupAzure();
    proxy = await startFaultProxy(env.az.port);
  }, HOOK);

  after(async () => {
    await proxy?.stop();
    await env?.close();
  }, HOOK);

  test("close is idempotent and terminal", async () => {
    const backend = env.backend();
    const store = new Store(backend);
    await store.write("close/a.txt", "a");
    await backend.close();
    await backend.close();
    await assert.rejects(store.readText("close/a.txt"), BackendUnavailableError);
    await assert.rejects(store.write("close/b.txt", "b"), BackendUnavailableError);
    await assert.rejects(store.isFolder("close"), BackendUnavailableError);
    await assert.rejects(
      (async () => {
        for await (const _ of store.listFiles("close")) { /* nothing */ }
      })(),
      BackendUnavailableError,
    );
    assert.throws(() => backend.unwrap(ContainerClient), BackendUnavailableError);
  });

  test("a Registry creates the backend lazily from config and closes it", async () => {
    const registry = new Registry({
      backends: {
        az: {
          type: "azure",
          options: { container: env.container, connectionString: env.az.connectionString },
        },
      },
      stores: { s: { backend: "az", rootPath: "registry" } },
    }, { backendTypes: [azureBackendType] });
    const store = registry.getStore("s");
    assert.equal(store.supports("atomic_move"), false);
    assert.equal(store.supports("directories"), false);
    assert.equal(store.supports("atomic_write"), true);
    await store.write("x.txt", "via registry");
    assert.equal(await store.readText("x.txt"), "via registry");
    const backend = store.unwrap(AzureBackend);
    await registry.close();
    assert.throws(() => backend.unwrap(ContainerClient), BackendUnavailableError);
  });

  test("listing: one level by delimiter (files and folders), recursive by prefix", async () => {
    const store = new Store(env.backend(), { rootPath: "list" });
    for (const path of ["a.txt", "b/c.txt", "b/d/e.txt", "f/g.txt", "h.txt"]) {
      await store.write(path, path);
    }
    const level: string[] = [];
    for await (const f of store.listFiles("")) level.push(f.path);
    assert.deepEqual(level.sort(), ["a.txt", "h.txt"]);
    const folders: string[] = [];
    for await (const f of store.listFolders("")) folders.push(f.path);
    assert.deepEqual(folders.sort(), ["b", "f"]);
    const all: string[] = [];
    for await (const f of store.listFiles("", { recursive: true })) all.push(f.path);
    assert.deepEqual(all.sort(), ["a.txt", "b/c.txt", "b/d/e.txt", "f/g.txt", "h.txt"]);
    assert.deepEqual(await store.getFolderInfo("b"), {
      path: "b",
      fileCount: 2,
      totalSize: "b/c.txt".length + "b/d/e.txt".length,
      modifiedAt: (await store.getFolderInfo("b")).modifiedAt,
    });
  });

  test("blob names that are not clean keys (markers, empty segments) are skipped", async () => {
    for (const name of ["odd/dir/", "odd//double.txt", "odd/dir//x.txt"]) {
      await env.admin.getBlockBlobClient(name).upload("x", 1);
    }
    await env.admin.getBlockBlobClient("odd/fine.txt").upload("x", 1);
    const store = new Store(env.backend(), { rootPath: "odd" });
    const files: string[] = [];
    for await (const f of store.listFiles("", { recursive: true })) files.push(f.path);
    assert.deepEqual(files, ["fine.txt"]);
    const level: string[] = [];
    for await (const f of store.listFolders("")) level.push(f.path);
    assert.deepEqual(level, ["dir"]);
    await store.deleteFolder("", { recursive: true });
    let left = 0;
    for await (const _ of env.admin.listBlobsFlat({ prefix: "odd/" })) left++;
    assert.equal(left, 0, "a recursive delete removes every blob under the prefix");
  });

  test("recursive deleteFolder removes 600 blobs with Blob Batch requests, sparing siblings", {
    timeout: 60_000,
  }, async () => {
    const names = Array.from({ length: 600 }, (_, i) => `bulk/dir/${i % 7}/${i}.txt`);
    for (let i = 0; i < names.length; i += 100) {
      await Promise.all(
        names.slice(i, i + 100).map((n) => env.admin.getBlockBlobClient(n).upload("x", 1)),
      );
    }
    await env.admin.getBlockBlobClient("bulk/dir2/keep.txt").upload("k", 1);
    await env.admin.getBlockBlobClient("bulk/dir.txt").upload("k", 1);
    const store = new Store(
      env.backend({
        hns: false,
        connectionString: env.az.connectionString.replace(`:${env.az.port}/`, `:${proxy.port}/`),
      }),
      { rootPath: "bulk" },
    );
    const before = proxy.requests.length;
    await store.deleteFolder("dir", { recursive: true });
    const batches = proxy.requests.slice(before).filter((r) => r.target.includes("comp=batch"));
    assert.equal(
      batches.length,
      3,
      `600 blobs take 3 batches of at most 256, got ${batches.length}`,
    );
    assert.equal(await store.isFolder("dir"), false);
    assert.equal(await store.readText("dir2/keep.txt"), "k");
    assert.equal(await store.readText("dir.txt"), "k");
  });

  test("content type (option or guessed) and metadata (names lowercased) round-trip", async () => {
    const store = new Store(env.backend(), { rootPath: "meta" });
    await store.write("a.csv", "x,y\n");
    await store.write("b.bin", "x", {
      contentType: "application/x-custom",
      metadata: { Owner: "me", n: "1" },
    });
    const a = await store.getFileInfo("a.csv");
    assert.equal(a.contentType, "text/csv; charset=utf-8");
    const b = await store.getFileInfo("b.bin");
    assert.equal(b.contentType, "application/x-custom");
    assert.deepEqual(b.metadata, { owner: "me", n: "1" });
    let listed = 0;
    for await (const f of store.listFiles("")) {
      if (f.name !== "b.bin") continue;
      assert.deepEqual(f.metadata, { owner: "me", n: "1" });
      listed++;
    }
    assert.equal(listed, 1);
  });

  test("writeAtomic, overwrite and multi-block content", async () => {
    const store = new Store(env.backend({ blockSize: 64 * 1024, concurrency: 2 }), {
      rootPath: "w",
    });
    const big = new Uint8Array(200 * 1024 + 7).map((_, i) => (i * 13) & 0xff);
    const first = await store.writeAtomic("f.bin", big);
    assert.equal(first.size, big.byteLength);
    assert.deepEqual(await store.readBytes("f.bin"), big);
    const second = await store.write("f.bin", "small", { overwrite: true });
    assert.equal(second.size, 5);
    assert.equal(await store.readText("f.bin"), "small");
    assert.equal((await store.getFileInfo("f.bin")).etag, second.etag);
  });

  test(
    "a script using the backend exits by itself after close()",
    { timeout: 60_000 },
    async () => {
      const script = fileURLToPath(new URL("./_exit_script.ts", import.meta.url));
      const runtime = process.execPath;
      const g = globalThis as { Deno?: unknown; Bun?: unknown };
      const args = g.Deno ? ["run", "-A", script] : [script];
      const child = spawn(runtime, args, {
        env: { ...process.env, AZ_CS: env.az.connectionString, AZ_CONTAINER: env.container },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let output = "";
      child.stdout.on("data", (d) => (output += d));
      child.stderr.on("data", (d) => (output += d));
      const started = Date.now();
      const code = await new Promise<number | null>((resolve) => {
        const timer = setTimeout(() => {
          if (child.pid !== undefined) process.kill(child.pid, "SIGKILL");
        }, 30_000);
        child.once("exit", (c) => {
          clearTimeout(timer);
          resolve(c);
        });
      });
      assert.equal(code, 0, output);
      assert.match(output, /round trip ok/);
      assert.ok(Date.now() - started < 25_000, "the child exited promptly");
    },
  );
});
