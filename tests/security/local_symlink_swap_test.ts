/**
 * Local root containment under a swapping attacker: a separate process
 * re-points a link inside the root between a folder inside and one outside,
 * and turns a real folder into a link to outside and back, in a tight loop,
 * while every Store operation runs through those names a bounded number of
 * times. Nothing outside the root may be read, created, changed or deleted:
 * no read returns outside bytes, no info or listing describes an outside
 * file, and the outside folder is byte-for-byte the same afterwards.
 *
 * The guarantee holds where folders are held open through `/proc/self/fd`
 * (Linux); elsewhere the backend checks, then uses, and this test is skipped.
 * Knob: `SWAP_ROUNDS` (rounds of every operation; default 150).
 */

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs/promises";
import { existsSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import process from "node:process";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { BackendUnavailableError, RemoteStoreError, Store } from "../../mod.ts";
import { LocalBackend } from "../../local.ts";

const ROUNDS = Number(process.env.SWAP_ROUNDS ?? 150);
const SECRET = "OUTSIDE SECRET, never to be read through the store";
const INSIDE = "inside";
const anchored = process.platform === "linux" && existsSync("/proc/self/fd");

/** Every entry below `dir` with a hash of its content (files) or its kind. */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const entry of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    const full = path.join(entry.parentPath, entry.name);
    const rel = path.relative(dir, full);
    if (entry.isFile()) {
      const bytes = await fs.readFile(full);
      out.set(rel, createHash("sha256").update(bytes).digest("hex"));
    } else out.set(rel, entry.isDirectory() ? "folder" : "other");
  }
  return out;
}

/** Starts the attacker; `stop()` ends it and returns how many swaps it made. */
function startSwapper(root: string, outside: string, stopFile: string) {
  const script = fileURLToPath(new URL("./_symlink_swapper.ts", import.meta.url));
  const isDeno = "Deno" in globalThis;
  const args = isDeno ? ["run", "-A", script] : [script];
  const child = spawn(process.execPath, [...args, root, outside, stopFile], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let output = "";
  child.stdout!.setEncoding("utf8");
  child.stdout!.on("data", (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", () => output.startsWith("ready\n") && resolve());
    child.on("exit", () => reject(new Error("The swapper exited before it started")));
  });
  return {
    ready,
    async stop(): Promise<number> {
      await fs.writeFile(stopFile, "stop");
      const code = await exited;
      assert.equal(code, 0, "the swapper exits cleanly");
      return Number(output.slice("ready\n".length).trim());
    },
  };
}

describe("local backend under a symlink-swapping attacker", {
  skip: !anchored &&
    "needs /proc/self/fd (Linux): elsewhere the local backend checks, then uses, and says so",
}, () => {
  let base: string;
  let root: string;
  let outside: string;

  before(async () => {
    base = await fs.mkdtemp(path.join(os.tmpdir(), "remote-store-swap-"));
    root = path.join(base, "root");
    outside = path.join(base, "outside");
    for (const dir of [path.join(root, "in", "sub"), path.join(root, "swap", "sub")]) {
      await fs.mkdir(dir, { recursive: true });
      await fs.writeFile(path.join(dir, "..", "f.txt"), INSIDE);
      await fs.writeFile(path.join(dir, "..", "d.txt"), "delete me");
      await fs.writeFile(path.join(dir, "x.txt"), "x");
    }
    await fs.symlink("in", path.join(root, "flip"));
    await fs.mkdir(path.join(outside, "sub"), { recursive: true });
    await fs.writeFile(path.join(outside, "f.txt"), SECRET);
    await fs.writeFile(path.join(outside, "d.txt"), "outside file: must survive");
    await fs.writeFile(path.join(outside, "outside-only.txt"), "only outside");
    await fs.mkdir(path.join(outside, "outside-dir"));
    await fs.writeFile(path.join(outside, "sub", "x.txt"), "outside folder: must survive");
  });

  after(async () => {
    await fs.rm(base, { recursive: true, force: true });
  });

  test(`${ROUNDS} rounds of every operation through swapped names touch nothing outside`, async () => {
    const before = await snapshot(outside);
    const store = new Store(new LocalBackend({ root }));
    const problems: string[] = [];
    const outcomes = new Map<string, number>();
    const note = (what: string) => outcomes.set(what, (outcomes.get(what) ?? 0) + 1);
    /** Runs one operation: success is checked by `check`; a failure must be a RemoteStoreError. */
    const attempt = async <T>(label: string, run: () => Promise<T>, check?: (value: T) => void) => {
      try {
        const value = await run();
        note(`${label}: ok`);
        check?.(value);
      } catch (error) {
        note(`${label}: ${(error as Error)?.constructor?.name}`);
        if (!(error instanceof RemoteStoreError)) {
          problems.push(`${label}: raw error ${String(error)}`);
        } else if (error instanceof BackendUnavailableError) {
          // The retryable class: a swap is no outage.
          problems.push(`${label}: ${error.message}`);
        }
      }
    };
    const notSecret = (label: string) => (text: string | Uint8Array) => {
      const value = typeof text === "string" ? text : new TextDecoder().decode(text);
      if (value === SECRET) problems.push(`${label} returned the outside file's bytes`);
    };

    const swapper = startSwapper(root, outside, path.join(base, "stop"));
    let swaps: number;
    try {
      await swapper.ready;
      for (let round = 0; round < ROUNDS; round++) {
        for (const link of ["flip", "swap"]) {
          await attempt(
            `readText ${link}`,
            () => store.readText(`${link}/f.txt`),
            notSecret("readText"),
          );
          await attempt(
            `readBytes ${link}`,
            () => store.readBytes(`${link}/f.txt`),
            notSecret("readBytes"),
          );
          await attempt(`read ${link}`, async () => {
            const chunks: Uint8Array[] = [];
            for await (const chunk of await store.read(`${link}/f.txt`)) chunks.push(chunk);
            return Buffer.concat(chunks);
          }, notSecret("read"));
          await attempt(`isFolder ${link}`, () => store.isFolder(`${link}/outside-dir`), (yes) => {
            if (yes) problems.push("isFolder saw an outside folder");
          });
          await attempt(`getFileInfo ${link}`, () => store.getFileInfo(`${link}/f.txt`), (info) => {
            if (info.size === SECRET.length) {
              problems.push("getFileInfo described the outside file");
            }
          });
          await attempt(`listFiles ${link}`, async () => {
            const names: string[] = [];
            for await (const info of store.listFiles(link, { recursive: true })) {
              names.push(info.name);
            }
            return names;
          }, (names) => {
            if (names.includes("outside-only.txt")) {
              problems.push("a listing showed an outside file");
            }
          });
          await attempt(
            `write ${link}`,
            () => store.write(`${link}/w.txt`, "written", { overwrite: true }),
          );
          await attempt(
            `write create-only ${link}`,
            () => store.write(`${link}/w-${round}.txt`, "written"),
          );
          await attempt(
            `writeAtomic ${link}`,
            () => store.writeAtomic(`${link}/wa.txt`, "written", { overwrite: true }),
          );
          await attempt(`delete ${link}`, () => store.delete(`${link}/d.txt`));
          await attempt(
            `deleteFolder ${link}`,
            () => store.deleteFolder(`${link}/sub`, { recursive: true }),
          );
          await attempt(
            `copy from ${link}`,
            () => store.copy(`${link}/f.txt`, "copied.txt", { overwrite: true }),
          );
          await attempt(
            `copy to ${link}`,
            () => store.copy("copied.txt", `${link}/c.txt`, { overwrite: true }),
          );
          await attempt(`move to ${link}`, async () => {
            await store.write("m.txt", "moved", { overwrite: true });
            await store.move("m.txt", `${link}/m.txt`, { overwrite: true });
          });
          await attempt(`move create-only to ${link}`, async () => {
            await store.write("n.txt", "moved", { overwrite: true });
            await store.move("n.txt", `${link}/n-${round}.txt`);
          });
          await attempt(
            `move from ${link}`,
            () => store.move(`${link}/m.txt`, "m-back.txt", { overwrite: true }),
          );
        }
        await attempt("read copied", () => store.readText("copied.txt"), notSecret("copy"));
        await attempt("read moved back", () => store.readText("m-back.txt"), notSecret("move"));
      }
    } finally {
      swaps = await swapper.stop();
    }
    const after = await snapshot(outside);
    console.log(
      `${swaps} swaps; outcomes:\n${
        [...outcomes].sort().map(([k, v]) => `  ${k}: ${v}`).join("\n")
      }`,
    );
    assert.ok(swaps > 0, "the attacker swapped");
    assert.deepEqual(problems, [], "nothing outside was read or described");
    assert.deepEqual(
      [...after].sort(),
      [...before].sort(),
      "nothing outside was created, changed or deleted",
    );
  });
});
