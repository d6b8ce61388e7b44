/**
 * Test harness: an application bundled with esbuild the way each edge
 * platform's tooling does it, and run in the real runtime on a free loopback
 * port: workerd (Cloudflare Workers, conditions `workerd`, `worker`,
 * `browser`, as wrangler resolves) and Vercel's edge-runtime (conditions
 * `edge-light`, `worker`, `browser`, as Next.js resolves).
 *
 * The application is an ES module in the Workers module form: its default
 * export has `fetch(request: Request, env: Record<string, string>)`. `env`
 * carries the bindings (text bindings on workerd; inlined on edge-runtime,
 * which has none). An application that imports the package by its name
 * (`@remote-store/remote-store`) lives in a folder made by
 * `installNpmLayout`, so its bundle is built from the files users receive.
 * Beside the bundle, `meta.json` is esbuild's metafile (which inputs it holds).
 *
 * Outbound requests to loopback are allowed (workerd's network service with
 * `local` addresses), so an app can talk to Azurite: {@link startEdgeAzure}
 * starts it behind the fault proxy with a fresh container.
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { ContainerClient, StorageSharedKeyCredential } from "@azure/storage-blob";
import {
  type Azurite,
  canConnect,
  freePort,
  randomContainerName,
  startAzurite,
} from "../_azurite.ts";
import { type FaultProxy, startFaultProxy } from "../_fault_proxy.ts";
import type { PackagingTools } from "./_tools.ts";

/** The edge runtimes the harness runs. */
export type EdgeRuntimeName = "workerd" | "edge-runtime";

/** A running edge application. */
export interface EdgeApp {
  /** Base URL, `http://127.0.0.1:PORT/`. */
  url: string;
  /** Stops the runtime's process (by its pid) and waits for it to exit. */
  close(): Promise<void>;
}

/** What to run. */
export interface EdgeAppOptions {
  /** The application module (absolute path; default export `{ fetch(request, env) }`). */
  entry: string;
  /** A folder for the bundle and the runtime's config. */
  outDir: string;
  /** Text bindings, given to `fetch` as `env`. */
  bindings: Record<string, string>;
}

const conditions: Record<EdgeRuntimeName, string[]> = {
  workerd: ["workerd", "worker", "browser"],
  "edge-runtime": ["edge-light", "worker", "browser"],
};

/** The runtime's own entry form around the application's default export. */
function wrapper(
  runtime: EdgeRuntimeName,
  entry: string,
  bindings: Record<string, string>,
): string {
  const load = `import app from ${JSON.stringify(entry)};\n`;
  if (runtime === "workerd") return `${load}export default app;\n`;
  return `${load}const env = ${JSON.stringify(bindings)};\n` +
    `addEventListener("fetch", (event) => event.respondWith(app.fetch(event.request, env)));\n`;
}

/** A workerd config serving `worker.js` on the port, with the bindings and outbound network. */
function workerdConfig(
  port: number,
  date: string,
  bindings: Record<string, string>,
): string {
  const text = Object.entries(bindings)
    .map(([name, value]) => `(name = ${JSON.stringify(name)}, text = ${JSON.stringify(value)})`)
    .join(", ");
  return `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "network", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);

const worker :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "worker.js")],
  compatibilityDate = ${JSON.stringify(date)},
  bindings = [${text}],
  globalOutbound = "network",
);
`;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve();
  }
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** Stops a child by its pid: SIGTERM, then SIGKILL after 5 s. */
async function stop(child: ChildProcess): Promise<void> {
  if (
    child.pid !== undefined && child.exitCode === null &&
    child.signalCode === null
  ) {
    try {
      process.kill(child.pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
  const timer = setTimeout(() => {
    if (child.pid !== undefined && child.exitCode === null) {
      try {
        process.kill(child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
  }, 5000);
  await exited(child);
  clearTimeout(timer);
}

/** Collects a child's output (bounded) for error messages. */
function collect(child: ChildProcess): () => string {
  let output = "";
  const add = (chunk: Buffer) => {
    if (output.length < 8192) output += chunk.toString("utf8");
  };
  child.stdout?.on("data", add);
  child.stderr?.on("data", add);
  return () => output;
}

/**
 * Bundles the application for the runtime with esbuild.
 *
 * @param tools The pinned tools.
 * @param runtime Which runtime to bundle for (its resolve conditions and entry form).
 * @param options The application module, the output folder and the bindings.
 * @returns The path of the bundle.
 * @throws {Error} When esbuild reports an error.
 */
export async function bundleEdgeApp(
  tools: PackagingTools,
  runtime: EdgeRuntimeName,
  options: EdgeAppOptions,
): Promise<string> {
  mkdirSync(options.outDir, { recursive: true });
  const entry = join(options.outDir, `entry-${runtime}.mjs`);
  writeFileSync(entry, wrapper(runtime, options.entry, options.bindings));
  const outfile = join(options.outDir, `dist-${runtime}`, "worker.js");
  const result = await tools.esbuild.build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    // edge-runtime evaluates a script; workerd loads an ES module.
    format: runtime === "workerd" ? "esm" : "iife",
    platform: "browser",
    conditions: conditions[runtime],
    target: "es2022",
    logLevel: "silent",
    metafile: true,
  });
  if (result.errors.length > 0) {
    throw new Error(`esbuild failed: ${JSON.stringify(result.errors)}`);
  }
  writeFileSync(
    join(outfile, "..", "meta.json"),
    JSON.stringify((result as { metafile?: unknown }).metafile),
  );
  return outfile;
}

/**
 * Bundles the application and starts it in the runtime on a free loopback port.
 *
 * @param tools The pinned tools.
 * @param runtime `workerd` or `edge-runtime`.
 * @param options The application module, the output folder and the bindings.
 * @returns The URL and `close()`.
 * @throws {Error} When the bundle fails or the runtime does not start (with its output).
 */
export async function startEdgeApp(
  tools: PackagingTools,
  runtime: EdgeRuntimeName,
  options: EdgeAppOptions,
): Promise<EdgeApp> {
  const bundle = await bundleEdgeApp(tools, runtime, options);
  if (runtime === "edge-runtime") {
    const server = fileURLToPath(
      new URL("./_edge_runtime_server.mjs", import.meta.url),
    );
    const child = spawn("node", [server, bundle, tools.edgeRuntime], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const output = collect(child);
    const url = await new Promise<string | undefined>((resolve) => {
      child.stdout?.on("data", () => {
        const line = /^(http:\/\/127\.0\.0\.1:\d+)\/?$/m.exec(output());
        if (line) resolve(`${line[1]}/`);
      });
      child.once("exit", () => resolve(undefined));
    });
    if (!url) {
      await stop(child);
      throw new Error(`edge-runtime did not start: ${output()}`);
    }
    return { url, close: () => stop(child) };
  }
  const dir = join(bundle, "..");
  for (let attempt = 0;; attempt++) {
    const port = await freePort();
    writeFileSync(
      join(dir, "config.capnp"),
      workerdConfig(port, tools.workerdCompatibilityDate, options.bindings),
    );
    const child = spawn(tools.workerd, ["serve", join(dir, "config.capnp")], {
      cwd: dir,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const output = collect(child);
    const deadline = Date.now() + 30_000;
    while (
      Date.now() < deadline && child.exitCode === null &&
      !(await canConnect(port))
    ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (child.exitCode === null && await canConnect(port)) {
      return { url: `http://127.0.0.1:${port}/`, close: () => stop(child) };
    }
    await stop(child);
    // Another process may have taken the port between freePort() and bind.
    if (attempt === 2) {
      throw new Error(`workerd did not start on port ${port}: ${output()}`);
    }
  }
}

/** Azurite on loopback with the fault proxy in front, and a fresh container, for an edge app. */
export interface EdgeAzure {
  /** The running Azurite. */
  az: Azurite;
  /** The proxy between the edge app and Azurite. */
  proxy: FaultProxy;
  /** The container made for the run. */
  container: string;
  /** A connection string whose blob endpoint is the proxy. */
  connectionString: string;
  /** The blob endpoint through the proxy, `http://127.0.0.1:PORT/devstoreaccount1`. */
  accountUrl: string;
  /** Stops the proxy and Azurite. */
  close(): Promise<void>;
}

/**
 * Starts Azurite, the fault proxy in front of it, and creates a container
 * (with the SDK, directly, so the setup does not depend on the backend under test).
 *
 * @returns The environment; the app's traffic goes through `proxy`.
 */
export async function startEdgeAzure(): Promise<EdgeAzure> {
  const az = await startAzurite();
  let proxy: FaultProxy | undefined;
  try {
    proxy = await startFaultProxy(az.port);
    const container = randomContainerName("edge");
    await new ContainerClient(
      `${az.url}/${container}`,
      new StorageSharedKeyCredential(az.accountName, az.accountKey),
    ).create();
    const accountUrl = az.url.replace(`:${az.port}/`, `:${proxy.port}/`);
    const running = proxy;
    return {
      az,
      proxy,
      container,
      connectionString: az.connectionString.replaceAll(`:${az.port}/`, `:${proxy.port}/`),
      accountUrl,
      async close() {
        await running.stop();
        await az.stop();
      },
    };
  } catch (error) {
    await proxy?.stop();
    await az.stop();
    throw error;
  }
}
