/**
 * Reliability: create-only races. N concurrent `write`, `writeAtomic`,
 * `copy` and `move` calls with `overwrite: false` onto one path, with random
 * delays injected by the proxy: exactly one wins, the others reject with
 * `AlreadyExistsError`, and the content is the winner's.
 *
 * @module
 */

import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { AlreadyExistsError, Store } from "../../mod.ts";
import { type FaultEnv, type Flavor, HOOK, patternBytes, setupFaultEnv, sha256 } from "./_env.ts";

const RACERS = 8;

/** The index of the single fulfilled result; asserts the rest are `AlreadyExistsError`. */
function singleWinner(results: PromiseSettledResult<unknown>[]): number {
  const winners = results.flatMap((r, i) => (r.status === "fulfilled" ? [i] : []));
  assert.equal(winners.length, 1, `winners: ${JSON.stringify(winners)}`);
  for (const r of results) {
    if (r.status === "rejected") {
      assert.ok(r.reason instanceof AlreadyExistsError, `loser got ${r.reason}`);
    }
  }
  return winners[0]!;
}

for (const flavor of ["flat", "hns"] as Flavor[]) {
  describe(`reliability: create-only races (${flavor})`, () => {
    let env: FaultEnv;
    let stores: Store[];
    let round = 0;
    before(async () => {
      env = await setupFaultEnv(flavor);
      // Separate backends (separate connection pools), as separate processes would be.
      stores = Array.from(
        { length: RACERS },
        () =>
          new Store(env.backend({ retry: { maxTries: 4, retryDelayMs: 5, maxRetryDelayMs: 50 } }), {
            rootPath: "race",
          }),
      );
    }, HOOK);
    after(() => env?.close(), HOOK);
    beforeEach(() => {
      round++;
      env.proxy.clear();
      env.proxy.add({
        times: Infinity,
        action: { kind: "delay", ms: () => Math.floor(Math.random() * 30) },
      });
    });

    for (const size of [100, 200 * 1024]) {
      const kind = size > 64 * 1024 ? "staged blocks + Put Block List" : "one Put Blob";
      test(`${RACERS} create-only writes (${kind}): one winner`, async () => {
        const key = `write-${round}.bin`;
        const contents = stores.map((_, i) => patternBytes(size + i, round * 100 + i));
        const results = await Promise.allSettled(stores.map((s, i) => s.write(key, contents[i]!)));
        const winner = singleWinner(results);
        env.proxy.clear();
        assert.equal(sha256(await stores[0]!.readBytes(key)), sha256(contents[winner]!));
      });
    }

    test(`${RACERS} create-only writeAtomic calls: one winner, no temporary files left`, async () => {
      const key = `atomic-${round}.bin`;
      const contents = stores.map((_, i) => patternBytes(100 * 1024 + i, round * 100 + i));
      const results = await Promise.allSettled(
        stores.map((s, i) => s.writeAtomic(key, contents[i]!)),
      );
      const winner = singleWinner(results);
      env.proxy.clear();
      assert.equal(sha256(await stores[0]!.readBytes(key)), sha256(contents[winner]!));
      const names: string[] = [];
      for await (const f of stores[0]!.listFiles("", { recursive: true })) names.push(f.path);
      assert.ok(names.every((n) => !n.includes(".~tmp")), names.join(", "));
    });

    test(`${RACERS} create-only copies onto one destination: one winner`, async () => {
      const dst = `copy-${round}.bin`;
      const contents = stores.map((_, i) => patternBytes(5000 + i, round * 100 + i));
      await Promise.all(stores.map((s, i) => s.write(`src-${round}-${i}.bin`, contents[i]!)));
      const results = await Promise.allSettled(
        stores.map((s, i) => s.copy(`src-${round}-${i}.bin`, dst)),
      );
      const winner = singleWinner(results);
      env.proxy.clear();
      assert.equal(sha256(await stores[0]!.readBytes(dst)), sha256(contents[winner]!));
    });

    test(`${RACERS} create-only moves onto one destination: one winner, losers keep their source`, async () => {
      const dst = `move-${round}.bin`;
      const contents = stores.map((_, i) => patternBytes(5000 + i, round * 100 + i));
      await Promise.all(stores.map((s, i) => s.write(`msrc-${round}-${i}.bin`, contents[i]!)));
      const results = await Promise.allSettled(
        stores.map((s, i) => s.move(`msrc-${round}-${i}.bin`, dst)),
      );
      const winner = singleWinner(results);
      env.proxy.clear();
      const store = stores[0]!;
      assert.equal(sha256(await store.readBytes(dst)), sha256(contents[winner]!));
      for (let i = 0; i < RACERS; i++) {
        const src = `msrc-${round}-${i}.bin`;
        if (i === winner) {
          assert.equal(await store.exists(src), false, "the winner's source is gone");
        } else {
          assert.equal(sha256(await store.readBytes(src)), sha256(contents[i]!), `${src} kept`);
        }
      }
    });
  });
}
