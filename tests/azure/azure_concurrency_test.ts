import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { AlreadyExistsError, Store } from "../../mod.ts";
import { type FaultProxy, startFaultProxy } from "../_fault_proxy.ts";
import { type AzureEnv, chunkedStream, HOOK, patternBytes, setupAzure, sha256 } from "./_setup.ts";

const WRITERS = 20;

async function race(
  store: Store,
  path: string,
  contents: Uint8Array[],
  asStream: boolean,
): Promise<number> {
  const results = await Promise.allSettled(
    contents.map((content) => store.write(path, asStream ? chunkedStream(content) : content)),
  );
  const winners = results.flatMap((r, i) => (r.status === "fulfilled" ? [i] : []));
  for (const r of results) {
    if (r.status === "rejected") {
      assert.ok(r.reason instanceof AlreadyExistsError, `unexpected loser error: ${r.reason}`);
    }
  }
  assert.equal(winners.length, 1, `expected exactly one winner, got ${winners.length}`);
  const stored = await store.readBytes(path);
  assert.equal(sha256(stored), sha256(contents[winners[0]!]!), "stored content is the winner's");
  return winners[0]!;
}

describe("azure concurrent create-only writers", () => {
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

  test("20 small writers (Put Blob with If-None-Match: *): exactly one wins", {
    timeout: 30_000,
  }, async () => {
    const store = new Store(env.backend());
    const contents = Array.from({ length: WRITERS }, (_, i) => patternBytes(1000 + i, i + 1));
    await race(store, "race/small.bin", contents, false);
  });

  test("20 multi-block writers (Put Block List with If-None-Match: *): exactly one wins", {
    timeout: 60_000,
  }, async () => {
    const store = new Store(env.backend({ blockSize: 64 * 1024, concurrency: 4 }));
    const contents = Array.from({ length: WRITERS }, (_, i) => patternBytes(300 * 1024, i + 1));
    await race(store, "race/blocks.bin", contents, true);
  });

  test("hns auto: one Get Account Information, shared by concurrent first calls", async () => {
    const store = new Store(
      env.backend({
        connectionString: env.az.connectionString.replace(`:${env.az.port}/`, `:${proxy.port}/`),
      }),
    );
    const probes = () => proxy.requests.filter((r) => r.target.includes("restype=account")).length;
    const before = probes();
    await Promise.all(Array.from({ length: 10 }, (_, i) => store.exists(`probe/${i}`)));
    assert.equal(probes() - before, 1);
    await store.write("probe/x", "x");
    await store.readText("probe/x");
    assert.equal(probes() - before, 1);
  });

  test("hns false: no probe at all", async () => {
    const store = new Store(
      env.backend({
        hns: false,
        connectionString: env.az.connectionString.replace(`:${env.az.port}/`, `:${proxy.port}/`),
      }),
    );
    const probes = () => proxy.requests.filter((r) => r.target.includes("restype=account")).length;
    const before = probes();
    await store.exists("probe/none");
    assert.equal(probes() - before, 0);
  });
});
