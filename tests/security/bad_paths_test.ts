/**
 * Bad-path suite: thousands of generated hostile paths through every Store
 * operation on memory, local disk and Azurite. The oracle is `normalizePath`:
 * a path it rejects must be rejected with `InvalidPathError` by every
 * operation; a path it accepts may succeed or fail with any
 * `RemoteStoreError`, but nothing may ever land outside the store root, and
 * no raw error (or library crash dressed as one) may reach the caller. A
 * written file must read back, report its own path, and show up under its
 * own key when its folder is listed.
 *
 * Memory runs all 10,000 generated paths; local disk and Azurite run the
 * first few hundred (round-robin over every category) to stay within the
 * time budget. Knobs: `SECURITY_SEED` (another seed), `SECURITY_COUNT`
 * (paths generated), `SECURITY_FULL=1` (all of them on every backend, minutes),
 * `SECURITY_LANES` (concurrent lanes on local and Azurite).
 */

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { createServer, type Server } from "node:http";
import { InvalidPathError, MemoryBackend, RemoteStoreError, Store } from "../../mod.ts";
import { LocalBackend } from "../../local.ts";
import { AzureBackend } from "../../azure.ts";
import { type AzureEnv, setupAzure } from "../azure/_setup.ts";
import {
  describeError,
  FIXED_PATHS,
  type GeneratedPath,
  generatePaths,
  hexSeed,
  isWrappedCrash,
} from "./_gen.ts";
import { INNER_ROOT, type JailEnv, OTHER_ROOT, runJail } from "./_jail.ts";

const SEED = Number(process.env.SECURITY_SEED ?? 0x5ec0_2e11) >>> 0;
const COUNT = Number(process.env.SECURITY_COUNT ?? 10_000);
/** `SECURITY_FULL=1` runs every generated path on local disk and Azurite too (minutes). */
const FULL = process.env.SECURITY_FULL === "1";
/** Local disk costs ~1-3 ms per operation: by default the first 400 generated paths (every category). */
const LOCAL_GENERATED = FULL ? COUNT : Math.min(COUNT, 400);
/** Azurite costs ~5-10 ms per operation: by default the first 120 generated paths. */
const AZURE_GENERATED = FULL ? COUNT : Math.min(COUNT, 120);
/** Concurrent lanes of paths (see runJail). */
const LANES = Number(process.env.SECURITY_LANES ?? 4);
/** Azurite is latency-bound: more lanes. */
const AZURE_LANES = Number(process.env.SECURITY_LANES ?? 8);

const fixed: GeneratedPath[] = FIXED_PATHS.map((p, i) => ({
  index: -FIXED_PATHS.length + i,
  category: "soup",
  path: p,
}));
const generated = generatePaths(SEED, COUNT);
const ALL = [...fixed, ...generated];
const LOCAL_SUBSET = [...fixed, ...generated.slice(0, LOCAL_GENERATED)];
const AZURE_SUBSET = [...fixed, ...generated.slice(0, AZURE_GENERATED)];

/** How a subset is named in a test title. */
function subsetName(generatedCount: number): string {
  return generatedCount === COUNT
    ? `${fixed.length} fixed + all ${COUNT} generated`
    : `a subset for time: ${fixed.length} fixed + the first ${generatedCount} of the ${COUNT} generated, every category; SECURITY_FULL=1 runs all`;
}

/** Fails with the collected failures (and logs the outcome summary either way). */
function conclude(result: Awaited<ReturnType<typeof runJail>>): void {
  console.log(result.summary);
  assert.equal(
    result.failures.size,
    0,
    `${result.failures.size} failure(s) (seed ${hexSeed(SEED)}):\n${result.failures.report()}`,
  );
}

// ---- memory -----------------------------------------------------------------------

describe("bad paths: memory", () => {
  test(`memory: ${ALL.length} paths (${fixed.length} fixed + ${COUNT} generated, seed ${hexSeed(SEED)})`, async () => {
    const backend = new MemoryBackend();
    const env: JailEnv = {
      label: "memory",
      backend,
      async enumerate() {
        const keys: string[] = [];
        for await (const entry of backend.list("", { recursive: true })) {
          if (entry.kind === "file") keys.push(entry.info.key);
        }
        return keys;
      },
      async resetInner() {
        await new Store(backend, { rootPath: INNER_ROOT }).deleteFolder("", {
          recursive: true,
          missingOk: true,
        });
      },
    };
    // One lane: memory is CPU-bound, and one lane keeps the outcome counts deterministic.
    conclude(await runJail(env, ALL, { chunkSize: 500, lanes: 1 }));
  });
});

describe("bad paths: the checks themselves", () => {
  test("self-check: a store that is not confined to jail/inner is caught", async () => {
    const backend = new MemoryBackend();
    const env: JailEnv = {
      label: "self-check",
      backend,
      innerRoot: "jail", // one level too wide: its files land next to jail/other
      async enumerate() {
        const keys: string[] = [];
        for await (const entry of backend.list("", { recursive: true })) {
          if (entry.kind === "file") keys.push(entry.info.key);
        }
        return keys;
      },
      async resetInner() {},
    };
    const paths: GeneratedPath[] = [
      { index: 0, category: "soup", path: "a.txt" },
      { index: 1, category: "soup", path: "other/sentinel.txt" },
    ];
    const { failures } = await runJail(env, paths, { chunkSize: 10, lanes: 1 });
    const report = failures.report();
    assert.match(report, /the store handed the backend a key outside its root/);
    assert.match(report, /a key outside the store root appeared/);
    assert.match(report, /the sibling sentinel (changed|disappeared|is unreadable)/);
  });
});

// ---- local ------------------------------------------------------------------------

/** Every entry below `dir` (not following links): relative `/` paths and their kinds. */
async function walk(dir: string, prefix = ""): Promise<Map<string, "file" | "dir" | "link">> {
  const out = new Map<string, "file" | "dir" | "link">();
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const entry of entries) {
    const rel = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isSymbolicLink()) out.set(rel, "link");
    else if (entry.isDirectory()) {
      out.set(rel, "dir");
      for (const [k, v] of await walk(path.join(dir, entry.name), rel)) out.set(k, v);
    } else out.set(rel, "file");
  }
  return out;
}

const OUTSIDE_TEXT = "outside the backend root: must never change";

describe("bad paths: local", () => {
  let base: string;
  let root: string;
  let outsideBefore: Map<string, "file" | "dir" | "link">;

  before(async () => {
    base = await fs.mkdtemp(path.join(os.tmpdir(), "rs-security-paths-"));
    // base/outer/sentinel.txt, base/outer/mid/sentinel.txt, base/outer/mid/root = backend root
    const mid = path.join(base, "outer", "mid");
    root = path.join(mid, "root");
    await fs.mkdir(root, { recursive: true });
    await fs.writeFile(path.join(base, "outer", "sentinel.txt"), OUTSIDE_TEXT);
    await fs.writeFile(path.join(mid, "sentinel.txt"), OUTSIDE_TEXT);
    outsideBefore = await walk(base);
  });

  after(async () => {
    if (base) await fs.rm(base, { recursive: true, force: true });
  });

  test(`local: ${LOCAL_SUBSET.length} paths (${subsetName(LOCAL_GENERATED)}; seed ${hexSeed(SEED)})`, async () => {
    const backend = new LocalBackend({ root });
    const rootRel = path.relative(base, root).split(path.sep).join("/");
    const env: JailEnv = {
      label: "local",
      backend,
      async enumerate() {
        const keys: string[] = [];
        for (const [key, kind] of await walk(root)) if (kind !== "dir") keys.push(key);
        return keys;
      },
      async extraChecks(failures) {
        const now = await walk(base);
        for (const [key, kind] of now) {
          if (key === rootRel) continue;
          if (key.startsWith(`${rootRel}/`)) {
            const inside = key.slice(rootRel.length + 1);
            if (kind === "dir") {
              const allowed = inside === "jail" || inside === OTHER_ROOT ||
                inside === INNER_ROOT || inside.startsWith(`${INNER_ROOT}/`);
              if (!allowed) failures.add("a folder outside the store root appeared", inside);
            }
            if (path.basename(inside).startsWith(".~tmp.")) {
              failures.add("a temporary file was left behind", inside);
            }
          } else if (!outsideBefore.has(key)) {
            failures.add("an entry appeared OUTSIDE the backend root", key);
          }
        }
        for (const key of outsideBefore.keys()) {
          if (!now.has(key)) failures.add("an entry outside the backend root vanished", key);
        }
        for (const file of ["outer/sentinel.txt", "outer/mid/sentinel.txt"]) {
          const text = await fs.readFile(path.join(base, file), "utf8").catch(() => "<missing>");
          if (text !== OUTSIDE_TEXT) failures.add("a file outside the backend root changed", file);
        }
      },
      async resetInner() {
        await fs.rm(path.join(root, INNER_ROOT), { recursive: true, force: true });
      },
    };
    try {
      conclude(await runJail(env, LOCAL_SUBSET, { chunkSize: 300, lanes: LANES }));
    } finally {
      await backend.close();
    }
  });

  test("local: symbolic links that lead outside the root are refused", async () => {
    const symBase = path.join(base, "symlinks");
    const outside = path.join(symBase, "outside");
    const outsideFile = path.join(outside, "secret.txt");
    const symRoot = path.join(symBase, "root");
    const inner = path.join(symRoot, ...INNER_ROOT.split("/"));
    await fs.mkdir(outside, { recursive: true });
    await fs.mkdir(inner, { recursive: true });
    await fs.writeFile(outsideFile, OUTSIDE_TEXT);
    await fs.writeFile(path.join(inner, "ok.txt"), "inside");
    await fs.symlink(outside, path.join(inner, "link-dir"));
    await fs.symlink(outsideFile, path.join(inner, "link-file"));
    await fs.symlink(path.relative(inner, outside), path.join(inner, "rel-dir"));
    await fs.symlink(path.join(outside, "not-yet.txt"), path.join(inner, "dangling"));
    await fs.symlink(path.join(outside, "not-yet-dir", "f.txt"), path.join(inner, "dangling-deep"));
    await fs.symlink(path.join(inner, "loop"), path.join(inner, "loop"));
    await fs.symlink(path.join(inner, "link-dir"), path.join(inner, "chain"));
    await fs.symlink(path.join(inner, "ok.txt"), path.join(inner, "good-link"));
    const outsideBeforeOps = await walk(outside);

    const backend = new LocalBackend({ root: symRoot });
    const store = new Store(backend, { rootPath: INNER_ROOT });
    const problems: string[] = [];
    const outcomes: string[] = [];

    /** The operation must reject with a RemoteStoreError. */
    const mustFail = async (label: string, fn: () => Promise<unknown>) => {
      try {
        await fn();
        problems.push(`${label}: succeeded, expected a RemoteStoreError`);
      } catch (error) {
        outcomes.push(`${label}: ${(error as Error).constructor.name}`);
        if (!(error instanceof RemoteStoreError) || isWrappedCrash(error)) {
          problems.push(`${label}: ${describeError(error)}`);
        }
      }
    };
    /** The operation may succeed (acting on the link itself) or reject with a RemoteStoreError. */
    const mayFail = async (label: string, fn: () => Promise<unknown>) => {
      try {
        await fn();
        outcomes.push(`${label}: ok`);
      } catch (error) {
        outcomes.push(`${label}: ${(error as Error).constructor.name}`);
        if (!(error instanceof RemoteStoreError) || isWrappedCrash(error)) {
          problems.push(`${label}: ${describeError(error)}`);
        }
      }
    };
    const list = async (folder: string) => {
      const out: string[] = [];
      for await (const f of store.listFiles(folder, { recursive: true })) out.push(f.path);
      return out;
    };
    const glob = async (pattern: string) => {
      const out: string[] = [];
      for await (const f of store.glob(pattern)) out.push(f.path);
      return out;
    };

    try {
      // A link inside the root that stays inside works.
      assert.equal(await store.readText("good-link"), "inside");

      for (
        const name of ["link-file", "chain/secret.txt", "link-dir/secret.txt", "rel-dir/secret.txt"]
      ) {
        await mustFail(`readBytes ${name}`, () => store.readBytes(name));
        await mustFail(`read range ${name}`, () => store.read(name, { range: { offset: 1 } }));
        await mustFail(`getFileInfo ${name}`, () => store.getFileInfo(name));
        await mustFail(
          `write overwrite ${name}`,
          () => store.write(name, "pwned", { overwrite: true }),
        );
        await mustFail(`write create-only ${name}`, () => store.write(name, "pwned"));
        await mustFail(
          `writeAtomic ${name}`,
          () => store.writeAtomic(name, "pwned", { overwrite: true }),
        );
        await mustFail(
          `copy from ${name}`,
          () => store.copy(name, "stolen.txt", { overwrite: true }),
        );
        await mustFail(`copy onto ${name}`, () => store.copy("ok.txt", name, { overwrite: true }));
        await mustFail(
          `move onto ${name}`,
          () =>
            store.write("tmp.txt", "pwned", { overwrite: true })
              .then(() => store.move("tmp.txt", name, { overwrite: true })),
        );
      }
      for (
        const name of [
          "link-dir/new.txt",
          "link-dir/sub/new.txt",
          "rel-dir/new.txt",
          "chain/new.txt",
        ]
      ) {
        await mustFail(`write ${name}`, () => store.write(name, "pwned", { overwrite: true }));
        await mustFail(`copy onto ${name}`, () => store.copy("ok.txt", name));
      }
      for (const name of ["dangling", "dangling-deep"]) {
        await mustFail(
          `write overwrite through ${name}`,
          () => store.write(name, "pwned", { overwrite: true }),
        );
        await mustFail(`write create-only through ${name}`, () => store.write(name, "pwned"));
        await mustFail(`copy onto ${name}`, () => store.copy("ok.txt", name, { overwrite: true }));
      }
      await mustFail("readBytes loop", () => store.readBytes("loop"));
      await mustFail("write loop", () => store.write("loop", "x", { overwrite: true }));
      for (const name of ["link-dir", "rel-dir", "chain"]) {
        await mustFail(`listFiles ${name}`, () => list(name));
        await mustFail(`getFolderInfo ${name}`, () => store.getFolderInfo(name));
        await mayFail(`glob ${name}/*`, async () => {
          const found = await glob(`${name}/*`);
          if (found.length > 0) {
            problems.push(`glob ${name}/* listed outside files: ${found.join(", ")}`);
          }
        });
      }
      const everything = await list("");
      const globbed = await glob("**");
      for (const p of [...everything, ...globbed]) {
        if (/^(link-|rel-dir|chain|dangling|loop)/.test(p)) {
          problems.push(`a listing of the root showed ${p}, which leads outside`);
        }
      }
      await mayFail("delete link-file", () => store.delete("link-file"));
      await mayFail(
        "move link-dir/secret.txt away",
        () => store.move("link-dir/secret.txt", "got.txt"),
      );
      await mayFail(
        "deleteFolder link-dir",
        () => store.deleteFolder("link-dir", { recursive: true }),
      );
      await mayFail(
        "deleteFolder rel-dir",
        () => store.deleteFolder("rel-dir", { recursive: true }),
      );
      await mayFail("deleteFolder root", () => store.deleteFolder("", { recursive: true }));

      const outsideAfter = await walk(outside);
      assert.deepEqual(
        [...outsideAfter].sort(),
        [...outsideBeforeOps].sort(),
        "the outside folder changed",
      );
      assert.equal(
        await fs.readFile(outsideFile, "utf8"),
        OUTSIDE_TEXT,
        "the outside file changed",
      );
      console.log(`local symlink outcomes:\n  ${outcomes.join("\n  ")}`);
      assert.deepEqual(problems, []);
    } finally {
      await backend.close();
    }
  });
});

// ---- azure (Azurite) ----------------------------------------------------------------

describe("bad paths: azure", () => {
  let env: AzureEnv;

  before(async () => {
    env = await setupAzure();
  });

  after(async () => {
    await env?.close();
  });

  test(
    `azure (Azurite, flat namespace): ${AZURE_SUBSET.length} paths (${
      subsetName(AZURE_GENERATED)
    }; seed ${hexSeed(SEED)})`,
    async () => {
      const backend = env.backend({ hns: false });
      const admin = env.admin;
      const jail: JailEnv = {
        label: "azure",
        backend,
        async enumerate() {
          const keys: string[] = [];
          for await (const blob of admin.listBlobsFlat()) keys.push(blob.name);
          return keys;
        },
        async resetInner() {
          const names: string[] = [];
          for await (const blob of admin.listBlobsFlat({ prefix: `${INNER_ROOT}/` })) {
            names.push(blob.name);
          }
          for (const name of names) await admin.getBlobClient(name).deleteIfExists();
        },
      };
      conclude(await runJail(jail, AZURE_SUBSET, { chunkSize: 100, lanes: AZURE_LANES }));
    },
  );

  test("azure: names over Azure's limits (stub answering 400 OutOfRangeInput, as Azure does) come back as InvalidPathError", async () => {
    // Azurite does not enforce the 1024-character name limit (Azure/Azurite#398);
    // real Azure answers 400 OutOfRangeInput. A stub plays that part.
    const requests: string[] = [];
    // Like Azure, the stub refuses only names over the limits (1024 characters, 254 segments)
    // and answers every other request as for an empty container (the parent-folder checks
    // of a write ask about short names).
    const overlong = (name: string) => name.length > 1024 || name.split("/").length > 254;
    const server: Server = createServer((req, res) => {
      requests.push(`${req.method} ${req.url?.slice(0, 80)}`);
      req.resume();
      req.on("end", () => {
        const url = new URL(req.url ?? "/", "http://stub");
        const name = decodeURIComponent(url.pathname.split("/").slice(3).join("/"));
        const listing = url.searchParams.get("comp") === "list";
        if (overlong(listing ? url.searchParams.get("prefix") ?? "" : name)) {
          const body = '<?xml version="1.0" encoding="utf-8"?><Error><Code>OutOfRangeInput</Code>' +
            "<Message>The specified resource name length is not within the permissible limits.</Message></Error>";
          res.writeHead(400, {
            "content-type": "application/xml",
            "x-ms-error-code": "OutOfRangeInput",
            "x-ms-request-id": "stub",
          });
          res.end(body);
        } else if (listing) {
          res.writeHead(200, { "content-type": "application/xml", "x-ms-request-id": "stub" });
          res.end(
            '<?xml version="1.0" encoding="utf-8"?><EnumerationResults ContainerName="stub">' +
              "<Blobs /><NextMarker /></EnumerationResults>",
          );
        } else {
          res.writeHead(404, { "x-ms-error-code": "BlobNotFound", "x-ms-request-id": "stub" });
          res.end();
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    const backend = new AzureBackend({
      container: "stub",
      accountName: env.az.accountName,
      accountKey: env.az.accountKey,
      accountUrl: `http://127.0.0.1:${port}/${env.az.accountName}`,
      hns: false,
      retry: { maxTries: 1, retryDelayMs: 1, maxRetryDelayMs: 1 },
    });
    const store = new Store(backend, { rootPath: INNER_ROOT });
    const classes: string[] = [];
    const problems: string[] = [];
    try {
      for (const key of ["n".repeat(1025), "d/".repeat(300) + "f"]) {
        const ops: [string, () => Promise<unknown>][] = [
          ["write", () => store.write(key, "x", { overwrite: true })],
          ["readBytes", () => store.readBytes(key)],
          ["getFileInfo", () => store.getFileInfo(key)],
          ["delete", () => store.delete(key)],
          ["copy", () => store.copy(key, "dst")],
        ];
        for (const [op, fn] of ops) {
          try {
            await fn();
            problems.push(`${op}: succeeded against a 400`);
          } catch (error) {
            classes.push(`${op}: ${(error as Error).constructor.name}`);
            if (!(error instanceof InvalidPathError) || isWrappedCrash(error)) {
              problems.push(`${op}: ${describeError(error)}`);
            }
          }
        }
      }
      console.log(`azure overlong-name (400 OutOfRangeInput) classes: ${classes.join(", ")}`);
      assert.ok(requests.length > 0, "the stub was not called");
      assert.deepEqual(problems, []);
    } finally {
      await backend.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
