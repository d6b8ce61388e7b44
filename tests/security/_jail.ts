/**
 * The bad-path runner shared by every backend: drives each generated path
 * through every Store operation of a store on `jail/inner`, checks each
 * outcome against the `normalizePath` oracle, and after every chunk
 * enumerates the whole backend to prove nothing escaped the store root.
 * Private test module.
 *
 * @module
 */

import { type Backend, InvalidPathError, RemoteStoreError, Store } from "../../mod.ts";
import {
  type Category,
  cleanPath,
  describeError,
  Failures,
  type GeneratedPath,
  isWrappedCrash,
  show,
  Tally,
} from "./_gen.ts";

/** Root paths of the jailed store and its sibling. */
export const INNER_ROOT = "jail/inner";
/** Root of the sibling store that holds the sentinel. */
export const OTHER_ROOT = "jail/other";
/** The sentinel's path in the sibling store. */
export const SENTINEL_NAME = "sentinel.txt";
/** The sentinel's full backend key. */
export const SENTINEL_KEY = `${OTHER_ROOT}/${SENTINEL_NAME}`;
/** The sentinel's content. */
export const SENTINEL_TEXT = "sibling sentinel: must never change";

/** What the runner needs from one backend. */
export interface JailEnv {
  /** Backend label for messages. */
  label: string;
  /** The backend under test (the runner builds the stores on it). */
  backend: Backend;
  /** Root of the jailed store (default `jail/inner`; the self-check widens it to test the checks). */
  innerRoot?: string;
  /** Every file key in the whole backend, read natively (not through a Store). */
  enumerate(): Promise<string[]>;
  /** Backend-specific checks after a chunk (outside files, temp files); record failures. */
  extraChecks?(failures: Failures): Promise<void>;
  /** Empties `jail/inner` completely (including empty folders). */
  resetInner(): Promise<void>;
}

const KEY_METHODS: Record<string, number> = {
  read: 1,
  write: 1,
  delete: 1,
  deleteFolder: 1,
  getFileInfo: 1,
  isFolder: 1,
  list: 1,
  copy: 2,
  move: 2,
  signedUrl: 1,
};

/**
 * The backend seen through a spy: every key the Store hands it must be the
 * store root or below it. This catches an escape even when the same path's
 * later `delete` removes the evidence before the backend is enumerated.
 */
function spyBackend(
  backend: Backend,
  root: string,
  onEscape: (method: string, key: unknown) => void,
): Backend {
  return new Proxy(backend, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      const keys = typeof prop === "string" && Object.hasOwn(KEY_METHODS, prop)
        ? KEY_METHODS[prop]!
        : 0;
      return (...args: unknown[]) => {
        for (let i = 0; i < keys; i++) {
          const key = args[i];
          if (typeof key !== "string" || (key !== root && !key.startsWith(`${root}/`))) {
            onEscape(String(prop), key);
          }
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

/** Categories whose outcome classes the summary lists (the overlong ones). */
const REPORTED: ReadonlySet<Category> = new Set(["over1024", "over4096", "longSegment", "deep"]);

const encoder = new TextEncoder();

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The outcome of one operation. */
type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * The first segment of a clean key (the lane a path runs in depends on it),
 * with lone surrogates replaced by U+FFFD as file systems do, so that keys
 * that alias each other on disk share a lane.
 */
function firstSegment(key: string): string {
  const slash = key.indexOf("/");
  const segment = slash < 0 ? key : key.slice(0, slash);
  return segment.replace(
    /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
    "\ufffd",
  );
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

/**
 * Runs the paths; returns the failures and a tally of outcomes.
 *
 * Paths run in `lanes` concurrent lanes. Two paths whose clean keys share a
 * first segment always run in the same lane, each lane has its own seed and
 * copy/move targets, and paths that name the store root itself run alone
 * after the lanes, so that lanes cannot disturb each other's checks.
 */
export async function runJail(
  env: JailEnv,
  paths: GeneratedPath[],
  options: { chunkSize: number; lanes: number },
): Promise<{ failures: Failures; summary: string }> {
  const { chunkSize, lanes } = options;
  const failures = new Failures();
  const tally = new Tally();
  const overall = new Tally();
  const seed = encoder.encode("seed content");
  const seedName = (lane: number) => `zz-seed-${lane}.txt`;
  let current = "(setup)";
  const innerRoot = env.innerRoot ?? INNER_ROOT;
  const inner = new Store(
    spyBackend(env.backend, INNER_ROOT, (method, key) => {
      failures.add(
        "the store handed the backend a key outside its root",
        `${current}: ${method}(${typeof key === "string" ? show(key) : String(key)})`,
      );
    }),
    { rootPath: innerRoot },
  );
  const other = new Store(env.backend, { rootPath: OTHER_ROOT });

  const reseed = async (lane: number) => {
    await inner.write(seedName(lane), seed, { overwrite: true });
  };
  const reseedAll = async () => {
    for (let lane = 0; lane < lanes; lane++) await reseed(lane);
  };

  const verifyBackend = async (after: string) => {
    let keys: string[];
    try {
      keys = await env.enumerate();
    } catch (error) {
      failures.add("enumerating the backend failed", `${after}: ${describeError(error)}`);
      return;
    }
    for (const key of keys) {
      if (key === SENTINEL_KEY) continue;
      if (!key.startsWith(`${INNER_ROOT}/`)) {
        failures.add("a key outside the store root appeared", `${show(key)} after ${after}`);
      }
    }
    if (!keys.includes(SENTINEL_KEY)) {
      failures.add("the sibling sentinel disappeared", `after ${after}`);
    }
    try {
      const text = await other.readText(SENTINEL_NAME);
      if (text !== SENTINEL_TEXT) failures.add("the sibling sentinel changed", `after ${after}`);
    } catch (error) {
      failures.add("the sibling sentinel is unreadable", `after ${after}: ${describeError(error)}`);
    }
    await env.extraChecks?.(failures);
  };

  const runPath = async ({ index, category, path }: GeneratedPath, lane: number) => {
    const file = cleanPath(path, false);
    const folder = cleanPath(path, true);
    const where = `#${index} ${category} ${show(path)}`;
    current = where;
    const seedFile = seedName(lane);
    const copyTarget = `zz-cp-${lane}/dst.bin`;
    const moveTarget = `zz-mv-${lane}/dst.bin`;

    const attempt = async <T>(
      op: string,
      valid: boolean,
      fn: () => Promise<T>,
    ): Promise<Outcome<T>> => {
      let outcome: Outcome<T>;
      try {
        outcome = { ok: true, value: await fn() };
      } catch (error) {
        outcome = { ok: false, error };
      }
      const label = outcome.ok ? "ok" : (outcome.error as Error)?.constructor?.name ?? "?";
      overall.add(`${op} (${valid ? "valid" : "invalid"} path)`, label);
      if (REPORTED.has(category) && valid) tally.add(`${category} ${op}`, label);
      if (outcome.ok) {
        if (!valid) failures.add(`${op}: an invalid path was accepted`, where);
        return outcome;
      }
      const error = outcome.error;
      if (!(error instanceof RemoteStoreError)) {
        failures.add(
          `${op}: raw (non-RemoteStoreError) rejection`,
          `${where}: ${describeError(error)}`,
        );
      } else if (!valid && !(error instanceof InvalidPathError)) {
        failures.add(
          `${op}: an invalid path was rejected with ${error.constructor.name}, not InvalidPathError`,
          `${where}: ${describeError(error)}`,
        );
      } else if (isWrappedCrash(error)) {
        failures.add(
          `${op}: a library crash wrapped as ${error.constructor.name}`,
          `${where}: ${describeError(error)}`,
        );
      }
      return outcome;
    };

    const data = encoder.encode(`content of path #${index}`);
    const wrote = await attempt(
      "write",
      file !== undefined,
      () => inner.write(path, data, { overwrite: true }),
    );
    const read = await attempt("read", file !== undefined, () => inner.readBytes(path));
    const info = await attempt(
      "getFileInfo",
      file !== undefined,
      () => inner.getFileInfo(path),
    );
    if (wrote.ok) {
      if (!read.ok) {
        failures.add(
          "read failed right after a successful write",
          `${where}: ${describeError(read.error)}`,
        );
      } else if (!sameBytes(read.value, data)) {
        failures.add("read returned other bytes than written", where);
      }
      if (!info.ok) {
        failures.add(
          "getFileInfo failed right after a successful write",
          `${where}: ${describeError(info.error)}`,
        );
      } else if (info.value.path !== file || info.value.size !== data.byteLength) {
        failures.add(
          "getFileInfo reported another path or size",
          `${where}: got ${show(info.value.path)} size ${info.value.size}`,
        );
      }
    }
    await attempt(
      "copy (as source)",
      file !== undefined,
      () => inner.copy(path, copyTarget, { overwrite: true }),
    );
    await attempt(
      "copy (as destination)",
      file !== undefined,
      () => inner.copy(seedFile, path, { overwrite: true }),
    );
    const moved = await attempt(
      "move (as source)",
      file !== undefined,
      () => inner.move(path, moveTarget, { overwrite: true }),
    );
    let fileExists: boolean;
    if (moved.ok) {
      const back = await attempt(
        "move (as destination)",
        file !== undefined,
        () => inner.move(moveTarget, path, { overwrite: true }),
      );
      fileExists = back.ok;
    } else {
      const back = await attempt(
        "move (as destination)",
        file !== undefined,
        () => inner.move(seedFile, path, { overwrite: true }),
      );
      if (back.ok) await reseed(lane).catch(() => {});
      fileExists = back.ok;
    }
    const listed = await attempt("listFiles", folder !== undefined, async () => {
      const out: string[] = [];
      for await (const f of inner.listFiles(path, { recursive: true })) out.push(f.path);
      return out;
    });
    if (listed.ok) {
      for (const p of listed.value) {
        const below = folder === "" || p.startsWith(`${folder}/`);
        if (cleanPath(p, false) !== p || !below) {
          failures.add(
            "listFiles yielded a path that is not a clean path below the folder",
            `${where}: ${show(p)}`,
          );
        }
      }
    }
    const globbed = await attempt("glob", file !== undefined, async () => {
      const out: string[] = [];
      for await (const f of inner.glob(path)) out.push(f.path);
      return out;
    });
    if (globbed.ok) {
      for (const p of globbed.value) {
        if (cleanPath(p, false) !== p) {
          failures.add("glob yielded a path that is not clean", `${where}: ${show(p)}`);
        }
      }
      // A literal pattern lists the parent folder and matches the name: the
      // file just moved back into place must come back under its own key.
      if (
        fileExists && file !== undefined && !/[*?[]/.test(file) && !globbed.value.includes(file)
      ) {
        failures.add(
          "an existing file is missing from a listing of its folder (its key does not round-trip)",
          `${where}: glob found ${globbed.value.map(show).join(", ") || "nothing"}`,
        );
      }
    }
    await attempt("delete", file !== undefined, () => inner.delete(path, { missingOk: true }));
    await attempt(
      "deleteFolder",
      folder !== undefined,
      () => inner.deleteFolder(path, { recursive: true, missingOk: true }),
    );
    if (folder === "") await reseedAll().catch(() => {});
    else if (file === seedFile) await reseed(lane).catch(() => {});
  };

  await other.write(SENTINEL_NAME, SENTINEL_TEXT, { overwrite: true });
  await env.resetInner();
  await reseedAll();

  for (let start = 0; start < paths.length; start += chunkSize) {
    const chunk = paths.slice(start, start + chunkSize);
    const queues: GeneratedPath[][] = Array.from({ length: lanes }, () => []);
    const alone: GeneratedPath[] = [];
    for (const item of chunk) {
      const folder = cleanPath(item.path, true);
      if (folder === "") alone.push(item);
      else {
        const lane = folder === undefined ? item.index : hash(firstSegment(folder));
        queues[Math.abs(lane) % lanes]!.push(item);
      }
    }
    await Promise.all(queues.map(async (queue, lane) => {
      for (const item of queue) await runPath(item, lane);
    }));
    for (const item of alone) await runPath(item, 0);
    const last = chunk[chunk.length - 1]!;
    await verifyBackend(`paths #${chunk[0]!.index}-#${last.index}`);
    await env.resetInner();
    await reseedAll();
  }
  await verifyBackend("the last chunk");
  const summary = `${env.label}: outcomes per operation\n${overall.report()}\n` +
    `${env.label}: outcomes of well-formed overlong/deep paths\n${tally.report()}`;
  return { failures, summary };
}
