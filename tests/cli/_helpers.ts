// Shared helpers of the CLI tests: captured I/O, a memory + local registry,
// fake backends, and spawning the real CLI on the current runtime.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { spawn } from "node:child_process";
import process from "node:process";
import { MemoryBackend, Registry } from "../../mod.ts";
import { localBackendType } from "../../local.ts";
import { azureBackendType } from "../../azure.ts";
import type { Backend } from "../../mod.ts";
import { type CliOutput, runCli, type StoreSource } from "../../src/cli/commands.ts";
import { patternBytes } from "../../src/conformance/_helpers.ts";

/** The repository root. */
export const ROOT: string = fileURLToPath(new URL("../..", import.meta.url));
/** The CLI entrypoint. */
export const CLI: string = join(ROOT, "cli.ts");

/** An output that records everything; optionally reports backpressure on every write. */
export class Capture implements CliOutput {
  readonly chunks: Uint8Array[] = [];
  #drain: (() => void)[] = [];
  /** Writes that returned `false` and whose drain has not been emitted yet. */
  pending = 0;
  /** The most writes seen while a drain was pending (1 means the writer waited every time). */
  maxPending = 0;
  readonly #slow: boolean;

  constructor(options: { slow?: boolean } = {}) {
    this.#slow = options.slow ?? false;
  }

  write(chunk: Uint8Array | string): boolean {
    const bytes = typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk.slice();
    this.chunks.push(bytes);
    if (!this.#slow) return true;
    this.pending++;
    this.maxPending = Math.max(this.maxPending, this.pending);
    setTimeout(() => {
      this.pending = 0;
      for (const listener of this.#drain.splice(0)) listener();
    }, 1);
    return false;
  }

  once(_event: "drain", listener: () => void): this {
    this.#drain.push(listener);
    return this;
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.chunks.reduce((n, c) => n + c.byteLength, 0));
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.byteLength;
    }
    return out;
  }

  text(): string {
    return new TextDecoder().decode(this.bytes());
  }
}

/** The result of one in-process CLI run. */
export interface Result {
  code: number;
  stdout: string;
  stderr: string;
  out: Capture;
  err: Capture;
}

/** Options of {@link cli}. */
export interface RunOptions {
  stores?: StoreSource;
  cwd?: string;
  env?: Record<string, string | undefined>;
  stdin?: AsyncIterable<Uint8Array>;
  isTTY?: boolean;
  signal?: AbortSignal;
  stdout?: Capture;
}

/** Runs the CLI in-process. */
export async function cli(argv: string[], options: RunOptions = {}): Promise<Result> {
  const out = options.stdout ?? new Capture();
  const err = new Capture();
  const code = await runCli(argv, {
    stdout: out,
    stderr: err,
    stdin: options.stdin ?? (async function* () {})(),
    env: options.env ?? {},
    cwd: options.cwd ?? tmpdir(),
    isTTY: options.isTTY ?? false,
    signal: options.signal,
    stores: options.stores,
    // As the `remote-store` program passes them (cli.ts main()).
    backendTypes: [localBackendType, azureBackendType],
  });
  return { code, stdout: out.text(), stderr: err.text(), out, err };
}

/** A temporary folder, removed by `cleanup`. */
export function tempDir(prefix: string): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), `remote-store-cli-${prefix}-`));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** A registry with a memory store `mem` and a local store `disk` on `root`. */
export function fixtureRegistry(root: string): Registry {
  return new Registry({
    backends: { m: { type: "memory" }, local: { type: "local", options: { root } } },
    stores: { mem: { backend: "m" }, disk: { backend: "local", rootPath: "files" } },
  }, { backendTypes: [localBackendType] });
}

/** Bytes `size` long from a fast deterministic generator. */
export function randomBytes(size: number, seed = 7): Uint8Array {
  return patternBytes(size, seed);
}

/** Chunks of `bytes` as an async iterable (stdin stand-in). */
export async function* chunks(bytes: Uint8Array, size = 65536): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.byteLength; i += size) yield bytes.subarray(i, i + size);
}

/**
 * A MemoryBackend whose methods can be replaced: `overrides` win over the
 * backend's own members (for error injection and a signing backend).
 */
export function fakeBackend(overrides: Partial<Record<keyof Backend, unknown>>): Backend {
  const backend = new MemoryBackend();
  return new Proxy(backend, {
    get(target, property, receiver) {
      if (Object.hasOwn(overrides, property)) return overrides[property as keyof Backend];
      const value = Reflect.get(target, property, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  }) as Backend;
}

/** How to start the real CLI on the runtime running the tests. */
export function cliCommand(): [string, string[]] {
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno;
  if (deno) return [deno.execPath(), ["run", "-A", "--config", join(ROOT, "deno.json"), CLI]];
  return [process.execPath, [CLI]];
}

/** The result of a subprocess run. */
export interface ProcessResult {
  code: number | null;
  signal: string | null;
  stdout: Uint8Array;
  stderr: string;
}

/** Runs a command as a subprocess, feeding `input` to stdin (or leaving stdin open until `kill`). */
export function spawnProcess(
  command: string,
  args: string[],
  options: {
    cwd: string;
    env?: Record<string, string | undefined>;
    input?: Uint8Array;
    timeoutMs?: number;
    /** Called once the child has started, with a function that sends it a signal. */
    onStart?: (kill: (signal: string) => void, write: (bytes: Uint8Array) => void) => void;
  },
): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: { ...process.env, NO_COLOR: "1", ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    const out: Uint8Array[] = [];
    let err = "";
    child.stdout!.on("data", (d: Uint8Array) => out.push(d));
    child.stderr!.on("data", (d: Uint8Array) => (err += new TextDecoder().decode(d)));
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, "SIGKILL");
    }, options.timeoutMs ?? 120_000);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      const total = out.reduce((n, c) => n + c.byteLength, 0);
      const stdout = new Uint8Array(total);
      let offset = 0;
      for (const c of out) {
        stdout.set(c, offset);
        offset += c.byteLength;
      }
      resolve({ code, signal, stdout, stderr: err });
    });
    if (options.input !== undefined) child.stdin!.end(options.input);
    else if (!options.onStart) child.stdin!.end();
    options.onStart?.((signal) => {
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, signal);
    }, (bytes) => child.stdin!.write(bytes));
  });
}
