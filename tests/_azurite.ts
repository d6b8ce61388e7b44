/**
 * Test harness: starts an in-memory Azurite blob service on a free loopback
 * port, as a child `node` process, and stops it again. Optionally over HTTPS
 * with a certificate made for the run, and with OAuth bearer tokens accepted.
 *
 * @module
 */

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import process from "node:process";

/** The well-known Azurite development account. */
export const AZURITE_ACCOUNT_NAME = "devstoreaccount1";
/** The well-known (public) Azurite development key. */
export const AZURITE_ACCOUNT_KEY =
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/** How to start Azurite; the default is plain HTTP with shared-key and SAS auth only. */
export interface AzuriteOptions {
  /**
   * Serve HTTPS with a self-signed certificate for `127.0.0.1` made for this
   * run (in a temp dir that `stop()` removes). It is returned as
   * `Azurite.ca`, for clients to trust explicitly (e.g. `https.Agent({ ca })`).
   */
  https?: boolean;
  /**
   * Also accept OAuth bearer tokens (`--oauth basic`, which implies `https`:
   * Azurite refuses bearer tokens over HTTP). Basic mode decodes the JWT
   * without checking its signature, then checks `iat`/`nbf`/`exp`, the issuer
   * prefix and the storage audience; see `tests/azure/_oauth.ts`.
   */
  oauth?: boolean;
  /** The Node executable that runs Azurite (default: `node` from PATH). */
  node?: string;
}

/** A running Azurite. */
export interface Azurite {
  /** Blob endpoint, `http(s)://127.0.0.1:PORT/devstoreaccount1`. */
  url: string;
  /** The loopback port. */
  port: number;
  /** Account name. */
  accountName: string;
  /** Account key. */
  accountKey: string;
  /** A connection string for the blob endpoint. */
  connectionString: string;
  /** PEM of the self-signed HTTPS certificate, to trust as a CA (only with `https` or `oauth`). */
  ca?: string;
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

/** Whether something accepts connections on a loopback port. */
export function canConnect(port: number): Promise<boolean> {
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

/** A self-signed certificate for the loopback address, in a temp dir. */
export interface TestCertificate {
  dir: string;
  pem: string;
  certPath: string;
  keyPath: string;
}

/**
 * Makes a self-signed P-256 certificate for `127.0.0.1` / `localhost`, valid
 * for two days, with the `openssl` command, in a fresh temp dir. (node:crypto
 * makes keys but not X.509 certificates.)
 */
export function makeCertificate(): TestCertificate {
  const dir = mkdtempSync(join(tmpdir(), "azurite-tls-"));
  const certPath = join(dir, "cert.pem");
  const keyPath = join(dir, "key.pem");
  try {
    execFileSync("openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      keyPath,
      "-out",
      certPath,
      "-days",
      "2",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1,DNS:localhost",
      "-addext",
      "basicConstraints=critical,CA:FALSE",
    ], { stdio: "pipe" });
    return { dir, pem: readFileSync(certPath, "utf8"), certPath, keyPath };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`could not make a test certificate with openssl: ${error}`);
  }
}

/**
 * Starts Azurite (blob service only, in-memory, no telemetry).
 *
 * @param options `https` and/or `oauth`; none means plain HTTP, as before.
 * @returns The endpoint, the dev credentials, the CA with HTTPS, and `stop()`.
 */
export async function startAzurite(options: AzuriteOptions = {}): Promise<Azurite> {
  const main = fileURLToPath(
    new URL("../node_modules/azurite/dist/src/blob/main.js", import.meta.url),
  );
  const secure = options.https === true || options.oauth === true;
  const certificate = secure ? makeCertificate() : undefined;
  const removeCertificate = () => {
    if (certificate) rmSync(certificate.dir, { recursive: true, force: true });
  };
  const extra: string[] = [];
  if (certificate) extra.push("--cert", certificate.certPath, "--key", certificate.keyPath);
  if (options.oauth) extra.push("--oauth", "basic");
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = spawn(options.node ?? "node", [
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
      ...extra,
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
      if (attempt === 2) {
        removeCertificate();
        throw new Error(`Azurite did not start on port ${port}: ${stderr}`);
      }
      continue;
    }
    child.stderr?.removeAllListeners("data");
    child.stderr?.resume();
    const protocol = secure ? "https" : "http";
    const url = `${protocol}://127.0.0.1:${port}/${AZURITE_ACCOUNT_NAME}`;
    const azurite: Azurite = {
      url,
      port,
      accountName: AZURITE_ACCOUNT_NAME,
      accountKey: AZURITE_ACCOUNT_KEY,
      connectionString:
        `DefaultEndpointsProtocol=${protocol};AccountName=${AZURITE_ACCOUNT_NAME};` +
        `AccountKey=${AZURITE_ACCOUNT_KEY};BlobEndpoint=${url};`,
      async stop() {
        signalChild(child, "SIGTERM");
        const timer = setTimeout(() => signalChild(child, "SIGKILL"), 5000);
        await exited(child);
        clearTimeout(timer);
        removeCertificate();
      },
    };
    if (certificate) azurite.ca = certificate.pem;
    return azurite;
  }
  throw new Error("unreachable");
}

/** A random container name, valid for Azure. */
export function randomContainerName(prefix = "t"): string {
  return `${prefix}-${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`;
}
