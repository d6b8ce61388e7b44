/**
 * Test harness: the pinned packaging tools (esbuild, workerd, Vercel's
 * edge-runtime) from `tests/packaging/tools/package.json` and its lockfile,
 * installed with `npm ci` into `.cache/packaging/<lockfile hash>/` (gitignored)
 * on first use and reused while the lockfile is unchanged. They are not in
 * `deno.json`, so `deno task demo` never installs them.
 *
 * @module
 */

import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { describe, test } from "node:test";

/** The repository root (absolute path, with a trailing separator). */
export const repoRoot: string = fileURLToPath(
  new URL("../../", import.meta.url),
);

const fixture = fileURLToPath(new URL("./tools/", import.meta.url));
const cacheRoot = join(repoRoot, ".cache", "packaging");

/** The subset of esbuild's API the harness uses. */
export interface Esbuild {
  /** esbuild's version. */
  version: string;
  /** Builds (transpiles, bundles) entry points. */
  build(
    options: Record<string, unknown>,
  ): Promise<{ errors: unknown[]; warnings: unknown[] }>;
}

/** The part of an esbuild plugin's `build` object the harness uses. */
export interface EsbuildPluginBuild {
  /** Registers a resolver. */
  onResolve(
    options: { filter: RegExp },
    callback: (
      args: { path: string; importer: string; kind: string },
    ) => { path: string; external: boolean } | undefined,
  ): void;
}

/** The installed tools. */
export interface PackagingTools {
  /** The folder holding `node_modules/`. */
  dir: string;
  /** esbuild's JS API. */
  esbuild: Esbuild;
  /** Absolute path of the workerd binary for this platform. */
  workerd: string;
  /** The newest compatibility date this workerd supports. */
  workerdCompatibilityDate: string;
  /** Absolute path of the edge-runtime package folder. */
  edgeRuntime: string;
}

/** Runs a command; rejects with its output when it fails. */
export function run(
  command: string,
  args: string[],
  options: {
    cwd?: string;
    env?: Record<string, string | undefined>;
    timeout?: number;
  } = {},
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(command, args, {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      timeout: options.timeout ?? 300_000,
      maxBuffer: 64 * 1024 * 1024,
    }, (error, stdout, stderr) => {
      if (error) {
        reject(
          new Error(
            `"${command} ${args.join(" ")}" failed: ${error.message}\n${stdout}\n${stderr}`,
          ),
        );
      } else resolve({ stdout, stderr });
    });
  });
}

let installing: Promise<PackagingTools> | undefined;

/**
 * Installs the pinned tools (once per lockfile) and loads them.
 *
 * @returns esbuild's API and the paths of workerd and edge-runtime.
 */
export function packagingTools(): Promise<PackagingTools> {
  installing ??= install();
  return installing;
}

async function install(): Promise<PackagingTools> {
  const lock = readFileSync(join(fixture, "package-lock.json"));
  const hash = createHash("sha256").update(lock).digest("hex").slice(0, 16);
  const dir = join(cacheRoot, hash);
  if (!existsSync(join(dir, ".complete"))) {
    // Install beside the final folder and rename: a half-finished install is never used.
    const staging = join(cacheRoot, `.staging-${hash}-${process.pid}`);
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    try {
      for (const name of ["package.json", "package-lock.json"]) {
        cpSync(join(fixture, name), join(staging, name));
      }
      await run("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], {
        cwd: staging,
      });
      cpSync(join(fixture, "package-lock.json"), join(staging, ".complete"));
      rmSync(dir, { recursive: true, force: true });
      renameSync(staging, dir);
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
    // Installs for older lockfiles are no longer used.
    for (const entry of readdirSync(cacheRoot)) {
      if (entry !== hash && !entry.startsWith(".staging-")) {
        rmSync(join(cacheRoot, entry), { recursive: true, force: true });
      }
    }
  }
  const require = createRequire(join(dir, "package.json"));
  const workerd = require("workerd") as {
    default: string;
    compatibilityDate: string;
  };
  return {
    dir,
    esbuild: require("esbuild") as Esbuild,
    workerd: workerd.default,
    workerdCompatibilityDate: workerd.compatibilityDate,
    edgeRuntime: join(dir, "node_modules", "edge-runtime"),
  };
}

/**
 * A suite that runs only in the Deno run of the tests, because it starts
 * other runtimes itself (once is enough). On Bun and Node it is one test
 * reported as skipped, with the reason.
 *
 * @param name The suite's name.
 * @param what The runtimes the suite starts, for the skip reason.
 * @param body The suite.
 */
export function describeOnDeno(name: string, what: string, body: () => void): void {
  if ((globalThis as { Deno?: unknown }).Deno) describe(name, body);
  else test(name, { skip: `runs once, from the Deno run (it starts ${what} itself)` }, () => {});
}
