/**
 * Local create-only moves under races: one source moved to many
 * destinations at once succeeds exactly once and leaves no other file, so
 * claim-by-move (a work queue) hands every item to exactly one worker; many
 * sources moved onto one destination leave exactly one winner and every
 * loser its source. With and without hard links. Counts, never timing.
 * Runs on Deno, Bun and Node (`node:test`).
 */

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { LocalBackend } from "./local_backend.ts";
import { localFs } from "./_fs.ts";
import { Store } from "../../store.ts";
import { AlreadyExistsError, NotFoundError } from "../../errors.ts";

const MOVERS = 50;
const ROUNDS = 20;

async function files(store: Store): Promise<string[]> {
  const out: string[] = [];
  for await (const info of store.listFiles("", { recursive: true })) out.push(info.path);
  return out.sort();
}

/** Every native entry below `dir` (temp files included). */
async function allEntries(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => !e.isDirectory()).map((e) => path.join(e.parentPath, e.name));
}

describe("LocalBackend create-only move races", () => {
  let base: string;
  let counter = 0;
  const fresh = () => {
    const root = path.join(base, `case-${++counter}`);
    return { root, store: new Store(new LocalBackend({ root })) };
  };
  const realLink = localFs.link;
  before(async () => {
    base = await fs.mkdtemp(path.join(os.tmpdir(), "remote-store-move-race-"));
  });
  after(async () => {
    localFs.link = realLink;
    await fs.rm(base, { recursive: true, force: true });
  });

  for (const hardLinks of [true, false]) {
    const where = hardLinks ? "" : " (no hard links: copy, then claim)";

    test(`one source moved to ${MOVERS} destinations: exactly one wins, ${ROUNDS} rounds${where}`, async () => {
      if (!hardLinks) {
        localFs.link = () =>
          Promise.reject(Object.assign(new Error("not supported"), { code: "EPERM" }));
      }
      try {
        const { root, store } = fresh();
        for (let round = 0; round < ROUNDS; round++) {
          await store.write("job.txt", `job ${round}`);
          const results = await Promise.allSettled(
            Array.from({ length: MOVERS }, (_, i) => store.move("job.txt", `to/${round}-${i}.txt`)),
          );
          const won = results.flatMap((r, i) => (r.status === "fulfilled" ? [i] : []));
          assert.equal(won.length, 1, `round ${round}: exactly one move succeeds`);
          for (const r of results) {
            if (r.status === "rejected") {
              assert.ok(r.reason instanceof NotFoundError, String(r.reason));
            }
          }
          assert.deepEqual(await files(store), [`to/${round}-${won[0]}.txt`], `round ${round}`);
          assert.equal(await store.readText(`to/${round}-${won[0]}.txt`), `job ${round}`);
          await store.deleteFolder("to", { recursive: true });
        }
        assert.deepEqual(await allEntries(root), [], "no stray or temp file is left");
      } finally {
        localFs.link = realLink;
      }
    });
  }

  test("claim-by-move: 8 workers take 60 queued jobs, each job exactly once", async () => {
    const { store } = fresh();
    const jobs = Array.from({ length: 60 }, (_, i) => `job-${String(i).padStart(2, "0")}.txt`);
    for (const job of jobs) await store.write(`queue/${job}`, `payload of ${job}`);
    const taken = new Map<string, string[]>();
    await Promise.all(Array.from({ length: 8 }, async (_, w) => {
      const worker = `worker-${w}`;
      taken.set(worker, []);
      while (true) {
        const queued: string[] = [];
        for await (const info of store.listFiles("queue")) queued.push(info.name);
        if (queued.length === 0) return;
        for (const job of queued) {
          try {
            await store.move(`queue/${job}`, `taken/${worker}/${job}`);
            taken.get(worker)!.push(job);
          } catch (error) {
            assert.ok(error instanceof NotFoundError, String(error));
          }
        }
      }
    }));
    const all = [...taken.values()].flat().sort();
    assert.deepEqual(all, jobs, "every job was taken exactly once");
    const stored = await files(store);
    assert.equal(stored.length, jobs.length, "one file per job, nowhere else");
    for (const [worker, mine] of taken) {
      for (const job of mine) {
        assert.equal(await store.readText(`taken/${worker}/${job}`), `payload of ${job}`);
      }
    }
  });

  test(`${MOVERS} sources moved onto one destination: one wins, the others keep their source`, async () => {
    const { store } = fresh();
    for (let i = 0; i < MOVERS; i++) await store.write(`src-${i}.txt`, `source ${i}`);
    const results = await Promise.allSettled(
      Array.from({ length: MOVERS }, (_, i) => store.move(`src-${i}.txt`, "dst.txt")),
    );
    const won = results.flatMap((r, i) => (r.status === "fulfilled" ? [i] : []));
    assert.equal(won.length, 1);
    for (const r of results) {
      if (r.status === "rejected") {
        assert.ok(r.reason instanceof AlreadyExistsError, String(r.reason));
      }
    }
    assert.equal(await store.readText("dst.txt"), `source ${won[0]}`);
    const left = await files(store);
    assert.equal(left.length, MOVERS, "every loser kept its source");
    assert.ok(!left.includes(`src-${won[0]}.txt`));
  });
});
