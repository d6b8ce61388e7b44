/**
 * Reliability: create-only races on every backend. N concurrent `write`,
 * `writeAtomic`, `copy` and `move` calls with `overwrite: false` onto one path
 * (on Azure with random delays injected by the proxy): exactly one wins, the
 * others reject with `AlreadyExistsError`, and the content is the winner's.
 * And one source moved to N destinations at once (the claim-by-move of a work
 * queue), on every backend with `atomic_move`: exactly one move wins, the
 * others reject with `NotFoundError` and leave no file behind.
 *
 * Each racer has its own Store and, where the backend has state of its own
 * (connection pools), its own backend, as separate processes would.
 *
 * @module
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { AlreadyExistsError, MemoryBackend, NotFoundError, Store } from "../../mod.ts";
import { LocalBackend } from "../../local.ts";
import { type FaultEnv, type Flavor, HOOK, patternBytes, setupFaultEnv, sha256 } from "./_env.ts";

/** The racers of one backend and what their race needs around it. */
interface RaceEnv {
  /** One store per racer, all on the same files. */
  stores: Store[];
  /** Called before each race (Azure: random delays on every request). */
  jitter(): void;
  /** Called after each race, before checking the result (Azure: no more delays). */
  calm(): void;
  /** Releases everything. */
  close(): Promise<void>;
}

/** Starts Azurite or the DFS emulator behind the fault proxy; 8 racers. */
async function azureRaceEnv(flavor: Flavor): Promise<RaceEnv> {
  const env: FaultEnv = await setupFaultEnv(flavor);
  // Separate backends (separate connection pools), as separate processes would be.
  const stores = Array.from(
    { length: 8 },
    () =>
      new Store(env.backend({ retry: { maxTries: 4, retryDelayMs: 5, maxRetryDelayMs: 50 } }), {
        rootPath: "race",
      }),
  );
  return {
    stores,
    jitter() {
      env.proxy.clear();
      env.proxy.add({
        times: Infinity,
        action: { kind: "delay", ms: () => Math.floor(Math.random() * 30) },
      });
    },
    calm: () => env.proxy.clear(),
    close: () => env.close(),
  };
}

/** 50 racers on one memory backend (it is one process's state). */
function memoryRaceEnv(): Promise<RaceEnv> {
  const backend = new MemoryBackend();
  const stores = Array.from({ length: 50 }, () => new Store(backend, { rootPath: "race" }));
  return Promise.resolve({ stores, jitter() {}, calm() {}, close: () => backend.close() });
}

/** 50 racers, each with its own local backend on one temporary folder. */
function localRaceEnv(): Promise<RaceEnv> {
  const root = mkdtempSync(join(tmpdir(), "remote-store-race-"));
  const backends = Array.from({ length: 50 }, () => new LocalBackend({ root }));
  return Promise.resolve({
    stores: backends.map((backend) => new Store(backend, { rootPath: "race" })),
    jitter() {},
    calm() {},
    async close() {
      for (const backend of backends) await backend.close();
      rmSync(root, { recursive: true, force: true });
    },
  });
}

/**
 * The index of the single fulfilled result; asserts that every other result
 * rejected with `loserError`.
 */
function singleWinner(
  results: PromiseSettledResult<unknown>[],
  loserError: abstract new (...args: never[]) => Error = AlreadyExistsError,
): number {
  const winners = results.flatMap((r, i) => (r.status === "fulfilled" ? [i] : []));
  assert.equal(winners.length, 1, `winners: ${JSON.stringify(winners)}`);
  for (const r of results) {
    if (r.status === "rejected") {
      assert.ok(r.reason instanceof loserError, `loser got ${r.reason}`);
    }
  }
  return winners[0]!;
}

/** Every file path below `folder`, sorted. */
async function listAll(store: Store, folder: string): Promise<string[]> {
  const names: string[] = [];
  for await (const f of store.listFiles(folder, { recursive: true })) names.push(f.path);
  return names.sort();
}

/** Name, environment, and whether the backend declares `atomic_move`. */
const BACKENDS: [string, () => Promise<RaceEnv>, boolean][] = [
  ["memory", memoryRaceEnv, true],
  ["local", localRaceEnv, true],
  ["flat", () => azureRaceEnv("flat"), false],
  ["hns", () => azureRaceEnv("hns"), true],
];

for (const [name, start, atomicMove] of BACKENDS) {
  describe(`reliability: create-only races (${name})`, () => {
    let env: RaceEnv;
    let stores: Store[];
    let round = 0;
    before(async () => {
      env = await start();
      stores = env.stores;
    }, HOOK);
    after(() => env?.close(), HOOK);
    beforeEach(() => {
      round++;
      env.jitter();
    });

    for (const size of [100, 200 * 1024]) {
      // On Azure the small write is one Put Blob, the large one staged blocks + Put Block List.
      test(`create-only writes of ${size} bytes: one winner`, async () => {
        const key = `write-${round}.bin`;
        const contents = stores.map((_, i) => patternBytes(size + i, round * 100 + i));
        const results = await Promise.allSettled(stores.map((s, i) => s.write(key, contents[i]!)));
        const winner = singleWinner(results);
        env.calm();
        assert.equal(sha256(await stores[0]!.readBytes(key)), sha256(contents[winner]!));
      });
    }

    test("create-only writeAtomic calls: one winner, no temporary files left", async () => {
      const key = `atomic-${round}/file.bin`;
      const contents = stores.map((_, i) => patternBytes(100 * 1024 + i, round * 100 + i));
      const results = await Promise.allSettled(
        stores.map((s, i) => s.writeAtomic(key, contents[i]!)),
      );
      const winner = singleWinner(results);
      env.calm();
      assert.equal(sha256(await stores[0]!.readBytes(key)), sha256(contents[winner]!));
      assert.deepEqual(await listAll(stores[0]!, `atomic-${round}`), [key], "nothing but the file");
    });

    test("create-only copies of different sources onto one destination: one winner", async () => {
      const dst = `copy-${round}.bin`;
      const contents = stores.map((_, i) => patternBytes(5000 + i, round * 100 + i));
      await Promise.all(stores.map((s, i) => s.write(`src-${round}-${i}.bin`, contents[i]!)));
      const results = await Promise.allSettled(
        stores.map((s, i) => s.copy(`src-${round}-${i}.bin`, dst)),
      );
      const winner = singleWinner(results);
      env.calm();
      assert.equal(sha256(await stores[0]!.readBytes(dst)), sha256(contents[winner]!));
    });

    test("create-only moves of different sources onto one destination: one winner, losers keep their source", async () => {
      const dst = `move-${round}.bin`;
      const contents = stores.map((_, i) => patternBytes(5000 + i, round * 100 + i));
      await Promise.all(stores.map((s, i) => s.write(`msrc-${round}-${i}.bin`, contents[i]!)));
      const results = await Promise.allSettled(
        stores.map((s, i) => s.move(`msrc-${round}-${i}.bin`, dst)),
      );
      const winner = singleWinner(results);
      env.calm();
      const store = stores[0]!;
      assert.equal(sha256(await store.readBytes(dst)), sha256(contents[winner]!));
      for (let i = 0; i < stores.length; i++) {
        const src = `msrc-${round}-${i}.bin`;
        if (i === winner) {
          assert.equal(await store.exists(src), false, "the winner's source is gone");
        } else {
          assert.equal(sha256(await store.readBytes(src)), sha256(contents[i]!), `${src} kept`);
        }
      }
    });

    // Without atomic_move a move is a copy then a delete: several copies may land.
    const claimSkip = atomicMove ? false : `backend "${name}" lacks capability "atomic_move"`;
    test("one source moved to many destinations at once: one winner, the others NotFoundError", {
      skip: claimSkip,
    }, async () => {
      const store = stores[0]!;
      assert.equal(store.supports("atomic_move"), true, "the backend declares atomic_move");
      const folder = `claim-${round}`;
      const content = patternBytes(5000, round);
      await store.write(`${folder}/todo.bin`, content);
      const results = await Promise.allSettled(
        stores.map((s, i) => s.move(`${folder}/todo.bin`, `${folder}/done-${i}.bin`)),
      );
      const winner = singleWinner(results, NotFoundError);
      env.calm();
      const claimed = `${folder}/done-${winner}.bin`;
      assert.deepEqual(await listAll(store, folder), [claimed], "the file is in exactly one place");
      assert.equal(sha256(await store.readBytes(claimed)), sha256(content));
    });
  });
}
