/**
 * Test harness: starts an in-memory Azurite blob service on a free loopback
 * port, as a child `node` process, and stops it again.
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import { connect, createServer } from "node:net";
import { fileURLToPath } from "node:url";
import process from "node:process";

/** The well-known Azurite development account. */
export const AZURITE_ACCOUNT_NAME = "devstoreaccount1";
/** The well-known (public) Azurite development key. */
export const AZURITE_ACCOUNT_KEY =
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/** A running Azurite. */
export interface Azurite {
  /** Blob endpoint, `http://127.0.0.1:PORT/devstoreaccount1`. */
  url: string;
  /** The loopback port. */
  port: number;
  /** Account name. */
  accountName: string;
  /** Account key. */
  accountKey: string;
  /** A connection string for the blob endpoint. */
  connectionString: string;
  /** Kills the child by its pid and waits for it to exit. */
  stop(): Promise<void>;
}

/** Picks a free loopback port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** Sends a signal to the child by its pid; a child that is already gone is fine. */
function signalChild(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(child.pid, signal);
  } catch {
    // already exited (ESRCH)
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/**
 * Starts Azurite (blob service only, in-memory, no telemetry).
 *
 * @returns The endpoint, the dev credentials and `stop()`.
 */
export async function startAzurite(): Promise<Azurite> {
  const main = fileURLToPath(
    new URL("../node_modules/azurite/dist/src/blob/main.js", import.meta.url),
  );
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = spawn("node", [
      main,
      "--blobHost",
      "127.0.0.1",
      "--blobPort",
      String(port),
      "--inMemoryPersistence",
      "--disableTelemetry",
      "--skipApiVersionCheck",
      "--loose",
      "--silent",
    ], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      if (stderr.length < 4096) stderr += chunk;
    });
    const deadline = Date.now() + 20_000;
    let up = false;
    while (Date.now() < deadline && child.exitCode === null) {
      if (await canConnect(port)) {
        up = true;
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    if (!up) {
      signalChild(child, "SIGKILL");
      await exited(child);
      if (attempt === 2) throw new Error(`Azurite did not start on port ${port}: ${stderr}`);
      continue;
    }
    child.stderr?.removeAllListeners("data");
    child.stderr?.resume();
    const url = `http://127.0.0.1:${port}/${AZURITE_ACCOUNT_NAME}`;
    return {
      url,
      port,
      accountName: AZURITE_ACCOUNT_NAME,
      accountKey: AZURITE_ACCOUNT_KEY,
      connectionString: `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT_NAME};` +
        `AccountKey=${AZURITE_ACCOUNT_KEY};BlobEndpoint=${url};`,
      async stop() {
        signalChild(child, "SIGTERM");
        const timer = setTimeout(() => signalChild(child, "SIGKILL"), 5000);
        await exited(child);
        clearTimeout(timer);
      },
    };
  }
  throw new Error("unreachable");
}

/** A random container name, valid for Azure. */
export function randomContainerName(prefix = "t"): string {
  return `${prefix}-${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`;
}
