/**
 * Reliability: 200 concurrent mixed operations (write, read, copy, move,
 * delete, list, getFileInfo) across 8 stores of one Registry (Azure through
 * the fault proxy with random delays and some 503s, plus memory and local
 * disk) lose or corrupt nothing: afterwards every expected file exists with
 * the expected SHA-256 and nothing else exists.
 *
 * @module
 */

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { NotFoundError, Registry, type Store } from "../../mod.ts";
import { azureBackendType } from "../../azure.ts";
import { localBackendType } from "../../local.ts";
import {
  type FaultEnv,
  type Flavor,
  HOOK,
  listDirect,
  patternBytes,
  setupFaultEnv,
  sha256,
} from "./_env.ts";
import { Prng } from "../_prng.ts";

const STORES = 8;
const FILES = 8;

for (const flavor of ["flat", "hns"] as Flavor[]) {
  describe(`reliability: 200 concurrent operations across 8 stores (${flavor})`, () => {
    let env: FaultEnv;
    let dir: string;
    let registry: Registry;
    before(async () => {
      env = await setupFaultEnv(flavor);
      dir = await mkdtemp(join(tmpdir(), "rs-rel-"));
      const azure = () => ({
        type: "azure" as const,
        options: {
          container: env.container,
          connectionString: env.connectionString,
          hns: flavor === "hns",
          blockSize: 64 * 1024,
          concurrency: 2,
          retry: { maxTries: 5, retryDelayMs: 10, maxRetryDelayMs: 100, maxResumes: 5 },
        },
      });
      const az1 = azure();
      const az2 = azure();
      registry = new Registry({
        backends: {
          az1,
          az2,
          mem: { type: "memory" },
          disk: { type: "local", options: { root: dir } },
        },
        stores: {
          s0: { backend: "az1", rootPath: "mix/s0" },
          s1: { backend: "az1", rootPath: "mix/s1" },
          s2: { backend: "az1", rootPath: "mix/s2" },
          s3: { backend: "az2", rootPath: "mix/s3" },
          s4: { backend: "az2", rootPath: "mix/s4" },
          s5: { backend: "az2", rootPath: "mix/s5/deeper" },
          s6: { backend: "mem", rootPath: "mix/s6" },
          s7: { backend: "disk", rootPath: "mix/s7" },
        },
      }, { backendTypes: [azureBackendType, localBackendType] });
    }, HOOK);
    after(async () => {
      await registry?.close();
      await env?.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    }, HOOK);

    test("nothing is lost or corrupted; nothing unexpected exists", async () => {
      const rnd = new Prng(flavor === "flat" ? 42 : 43);
      // Random delays on every proxied request, and a few 503s on the way: fewer of each
      // than the 5 tries, so even one request that meets them all in a row succeeds.
      env.proxy.add({
        method: "PUT",
        times: 4,
        action: { kind: "status", status: 503, retryAfter: 0 },
      });
      env.proxy.add({ method: "GET", times: 4, action: { kind: "status", status: 500 } });
      env.proxy.add({
        times: Infinity,
        action: { kind: "delay", ms: () => Math.floor(Math.random() * 25) },
      });

      const stores: Store[] = [];
      for (let s = 0; s < STORES; s++) stores.push(registry.getStore(`s${s}`));
      const content = (s: number, f: number, version: number) =>
        patternBytes(Math.floor(rnd.next() * 150_000), s * 1000 + f * 10 + version);
      const v1 = stores.map((_, s) => Array.from({ length: FILES }, (_, f) => content(s, f, 1)));
      const v2 = stores.map((_, s) => Array.from({ length: FILES }, (_, f) => content(s, f, 2)));
      const ops: Promise<unknown>[] = [];
      const counts: Record<string, number> = {};
      const run = (kind: string, promise: Promise<unknown>) => {
        counts[kind] = (counts[kind] ?? 0) + 1;
        ops.push(promise);
      };

      for (let s = 0; s < STORES; s++) {
        const store = stores[s]!;
        const written = v1[s]!.map((bytes, f) => {
          const p = store.write(`w/${f}.bin`, bytes);
          run("write", p);
          return p;
        });
        // files 0,1: copy sources (also read and getFileInfo); 2,3: moved; 4,5: deleted; 6,7: overwritten
        for (const f of [0, 1]) {
          run("copy", written[f]!.then(() => store.copy(`w/${f}.bin`, `c/${f}.bin`)));
          run(
            "getFileInfo",
            written[f]!.then(async () => {
              const info = await store.getFileInfo(`w/${f}.bin`);
              assert.equal(info.size, v1[s]![f]!.byteLength);
            }),
          );
        }
        for (const f of [2, 3]) {
          run(
            "move",
            written[f]!.then(() => store.move(`w/${f}.bin`, `m/${f}.bin`)),
          );
        }
        for (const f of [4, 5]) run("delete", written[f]!.then(() => store.delete(`w/${f}.bin`)));
        for (const f of [6, 7]) {
          run(
            "overwrite",
            written[f]!.then(() => store.write(`w/${f}.bin`, v2[s]![f]!, { overwrite: true })),
          );
        }
        for (const f of [0, 1, 0, 6, 7]) {
          run(
            "read",
            written[f]!.then(async () => {
              const hash = sha256(await store.readBytes(`w/${f}.bin`));
              const allowed = [sha256(v1[s]![f]!), sha256(v2[s]![f]!)];
              assert.ok(allowed.includes(hash), `s${s}/w/${f}.bin read a corrupt or partial body`);
            }),
          );
        }
        for (let i = 0; i < 2; i++) {
          run(
            "list",
            (async () => {
              const seen = new Set<string>();
              for await (const entry of store.listFiles("", { recursive: true })) {
                assert.ok(!seen.has(entry.path), `"${entry.path}" listed twice`);
                seen.add(entry.path);
                assert.match(entry.path, /^(w|c|m)\/\d\.bin$/, `unexpected "${entry.path}"`);
              }
            })(),
          );
        }
      }
      const total = Object.values(counts).reduce((a, b) => a + b, 0);
      assert.equal(total, 200, JSON.stringify(counts));
      const results = await Promise.allSettled(ops);
      const failures = results.filter((r) => r.status === "rejected");
      assert.deepEqual(failures.map((f) => String((f as PromiseRejectedResult).reason)), []);
      env.proxy.clear();

      for (let s = 0; s < STORES; s++) {
        const store = stores[s]!;
        const expected = new Map<string, Uint8Array>([
          ["c/0.bin", v1[s]![0]!],
          ["c/1.bin", v1[s]![1]!],
          ["m/2.bin", v1[s]![2]!],
          ["m/3.bin", v1[s]![3]!],
          ["w/0.bin", v1[s]![0]!],
          ["w/1.bin", v1[s]![1]!],
          ["w/6.bin", v2[s]![6]!],
          ["w/7.bin", v2[s]![7]!],
        ]);
        const listed: string[] = [];
        for await (const entry of store.listFiles("", { recursive: true })) {
          listed.push(entry.path);
          assert.equal(
            entry.size,
            expected.get(entry.path)?.byteLength,
            `s${s}/${entry.path} size`,
          );
        }
        assert.deepEqual(listed.sort(), [...expected.keys()].sort(), `files of s${s}`);
        for (const [path, bytes] of expected) {
          assert.equal(sha256(await store.readBytes(path)), sha256(bytes), `s${s}/${path}`);
        }
        for (const gone of ["w/2.bin", "w/3.bin", "w/4.bin", "w/5.bin"]) {
          await assert.rejects(store.getFileInfo(gone), NotFoundError);
        }
      }
      if (flavor === "flat") {
        // Nothing outside the stores' folders, and no stray objects inside them.
        const names = await listDirect(env.admin);
        assert.equal(names.length, 6 * 8, names.join(", "));
        for (const name of names) assert.match(name, /^mix\/s\d(\/deeper)?\/(w|c|m)\/\d\.bin$/);
      }
    });
  });
}
