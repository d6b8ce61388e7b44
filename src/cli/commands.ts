/**
 * The commands of the `remote-store` CLI, one function each, driven by
 * {@link run}. All process I/O comes in through {@link CliIO}, so the whole
 * CLI runs in-process in tests and can be embedded.
 *
 * @module
 */

import { realpath, stat as fsStat } from "node:fs/promises";
import * as nodePath from "node:path";
import {
  AlreadyExistsError,
  BackendUnavailableError,
  CapabilityNotSupportedError,
  DirectoryNotEmptyError,
  InvalidConfigError,
  InvalidPathError,
  NotFoundError,
  PermissionDeniedError,
  RemoteStoreError,
} from "../errors.ts";
import type { SignedUrlPermission } from "../backend.ts";
import { normalizePath } from "../paths.ts";
import { Registry } from "../registry.ts";
import type { BackendType } from "../backend_type.ts";
import { Store } from "../store.ts";
import { transfer } from "../transfer.ts";
import type { FileInfo, FolderEntry } from "../types.ts";
import { LocalBackend } from "../backends/local/local_backend.ts";
import { type FlagSpec, parseArgs, UsageError } from "./_args.ts";
import { loadConfig } from "./_config.ts";
import { COMMAND_HELP, COMMON_OPTIONS, MAIN_HELP } from "./_help.ts";
import { formatBytes, Progress } from "./_progress.ts";

/**
 * Exit codes of the CLI (also listed by `remote-store --help`).
 *
 * @example Act on an exit code
 * ```ts
 * import { ExitCode } from "@remote-store/remote-store/cli";
 * console.log(ExitCode.NOT_FOUND); // 3
 * ```
 */
export const ExitCode = {
  /** Success. */
  OK: 0,
  /** Any other failure. */
  FAILURE: 1,
  /** Bad options or arguments, an unknown store name, an invalid path. */
  USAGE: 2,
  /** The file or folder does not exist. */
  NOT_FOUND: 3,
  /** The destination exists (pass `--overwrite`). */
  ALREADY_EXISTS: 4,
  /** The credentials lack a permission. */
  PERMISSION_DENIED: 5,
  /** The backend is unreachable, throttling or failing. */
  UNAVAILABLE: 6,
  /** No config file, or it is unreadable or invalid. */
  INVALID_CONFIG: 7,
  /** Interrupted by Ctrl-C (SIGINT). */
  INTERRUPTED: 130,
  /** Stdout was closed by its reader (as after SIGPIPE). */
  OUTPUT_CLOSED: 141,
} as const;

/** Where the CLI writes: stdout or stderr (a Node `Writable` such as `process.stdout` fits). */
export interface CliOutput {
  /** Writes a chunk; returns `false` when the caller should wait for `"drain"`. */
  write(chunk: Uint8Array | string): boolean;
  /** Registers a one-time listener; only `"drain"` is used. */
  once(event: "drain", listener: () => void): unknown;
}

/** The stores the commands work on (tests): a {@link Registry} fits. */
export interface StoreSource {
  /** The configured store names. */
  readonly storeNames: string[];
  /** A store by name (only names from `storeNames` are asked for). */
  getStore(name: string): Store;
}

/** Everything the CLI takes from its process; tests pass their own. */
export interface CliIO {
  /** Command output (file bytes, listings). */
  stdout: CliOutput;
  /** Messages and the progress bar. */
  stderr: CliOutput;
  /** Input for `cp - <dst>`; read only when used. */
  stdin: AsyncIterable<Uint8Array>;
  /** Environment variables (`REMOTE_STORE_CONFIG`, `${VAR}` expansion in the config). */
  env: Record<string, string | undefined>;
  /** Working directory that relative local paths and config paths are resolved against. */
  cwd: string;
  /** Whether stderr is a terminal (the progress bar is drawn only then). */
  isTTY: boolean;
  /** Aborts the running command (Ctrl-C). */
  signal?: AbortSignal;
  /**
   * Backend types the config file may name besides `memory` and the
   * registered ones (the `remote-store` program passes `local` and `azure`).
   */
  backendTypes?: readonly BackendType[];
}

/** {@link CliIO} plus stores to use instead of loading the config file (tests). */
export interface CliTestIO extends CliIO {
  /** The stores the commands work on; no config file is read. */
  stores?: StoreSource;
}

/** Thrown when writing to stdout fails because its reader went away (EPIPE). */
export class OutputClosedError extends Error {
  /** Creates the error. */
  constructor() {
    super("output closed");
    this.name = "OutputClosedError";
  }
}

/** A failure with a message for the user and an explicit exit code. */
class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** What a command gets: parsed arguments, the I/O, and store lookup. */
interface Context {
  io: CliTestIO;
  flags: Record<string, string | boolean>;
  positionals: string[];
  signal: AbortSignal | undefined;
  /** The configured stores; loads the config on first use. */
  stores(): Promise<StoreSource>;
  /** A store by name (a usage error listing the known names for an unknown one). */
  store(name: string): Promise<Store>;
  /** Registers cleanup to run when the command ends. */
  defer(cleanup: () => Promise<void>): void;
}

type Command = (ctx: Context) => Promise<void>;

// ---- output helpers --------------------------------------------------------

function writeRaw(out: CliOutput, chunk: Uint8Array | string): boolean {
  try {
    return out.write(chunk);
  } catch (error) {
    if (isBrokenPipe(error)) throw new OutputClosedError();
    throw error;
  }
}

function isBrokenPipe(error: unknown): boolean {
  const e = error as { code?: unknown; name?: unknown } | null;
  return e?.code === "EPIPE" || e?.name === "BrokenPipe";
}

/** Writes a chunk and waits for `"drain"` when the output's buffer is full (backpressure). */
async function writeOut(
  out: CliOutput,
  chunk: Uint8Array | string,
  signal: AbortSignal | undefined,
): Promise<void> {
  if (writeRaw(out, chunk)) return;
  signal?.throwIfAborted();
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(signal!.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    out.once("drain", () => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    });
  });
}

/** Pipes a byte stream to an output, pulling the next chunk only once the output took the last. */
async function pipeOut(
  stream: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
  out: CliOutput,
  signal: AbortSignal | undefined,
): Promise<void> {
  if (stream instanceof ReadableStream) {
    const reader = stream.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        await writeOut(out, value, signal);
      }
    } catch (error) {
      await reader.cancel(error).catch(() => {});
      throw error;
    }
  }
  for await (const chunk of stream) {
    signal?.throwIfAborted();
    await writeOut(out, chunk, signal);
  }
}

function line(io: CliIO, text: string): Promise<void> {
  return writeOut(io.stdout, `${text}\n`, io.signal);
}

/**
 * Characters a terminal may act on: C0 controls, DEL, C1 controls, and the
 * Unicode line separators and bidirectional overrides that can make a name
 * look like another.
 */
// deno-lint-ignore no-control-regex -- finding control characters is the point
const UNSAFE = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const UNSAFE_ABOVE_C0 = /[\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const NAMED_ESCAPES: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/**
 * A name as it is printed in text output: every {@link UNSAFE} character
 * escaped (`\n`, `\r`, `\t`, `\xHH` up to U+00FF, `\u{HHHH}` above), and a
 * backslash doubled, so the printed text is unambiguous and inert.
 */
function escapeName(name: string): string {
  return name.replace(/\\/g, "\\\\").replace(UNSAFE, (char) => {
    const named = NAMED_ESCAPES[char];
    if (named !== undefined) return named;
    const code = char.codePointAt(0)!;
    const hex = code.toString(16).toUpperCase();
    return code <= 0xff ? `\\x${hex.padStart(2, "0")}` : `\\u{${hex}}`;
  });
}

/** JSON whose strings also escape DEL, C1 controls and bidi overrides (`\uHHHH`); still valid JSON. */
function safeJson(value: unknown, indent?: number): string {
  // JSON.stringify already escapes C0 controls inside strings (and the indent is made of them).
  return JSON.stringify(value, null, indent).replace(
    UNSAFE_ABOVE_C0,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** A time without milliseconds: `2024-05-01T12:00:00Z`. */
function isoSeconds(date: Date | undefined): string {
  return date === undefined ? "-" : date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

// ---- paths -----------------------------------------------------------------

/** A parsed `<store>:<path>`. */
interface StorePath {
  name: string;
  path: string;
}

/** Whether a `cp` argument is a local path: no colon, or starts with `./`, `../`, `/`. */
function isLocalPath(arg: string): boolean {
  return !arg.includes(":") || /^\.{0,2}[\\/]/.test(arg) || arg === "." || arg === "..";
}

function parseStorePath(arg: string, command: string): StorePath {
  if (arg === "-" || /^\.{0,2}[\\/]/.test(arg)) {
    throw new UsageError(
      `${command} works on store paths (<store>:<path>), got the local path "${arg}"`,
    );
  }
  const colon = arg.indexOf(":");
  if (colon < 0) return { name: arg, path: "" };
  if (colon === 0) throw new UsageError(`a store path needs a store name before ":", got "${arg}"`);
  return { name: arg.slice(0, colon), path: arg.slice(colon + 1) };
}

/** Whether a store path names the store root (`""`, `/`, `.`, ...); invalid paths are not. */
function isRoot(path: string): boolean {
  try {
    return normalizePath(path, { allowEmpty: true }) === "";
  } catch {
    return false;
  }
}

function baseNameOf(path: string): string {
  const trimmed = path.replace(/[\\/]+$/, "");
  return trimmed.slice(Math.max(trimmed.lastIndexOf("/"), trimmed.lastIndexOf("\\")) + 1);
}

// ---- cp / mv endpoints -----------------------------------------------------

/** One side of a copy: a store file, a local file (through a LocalBackend), or stdio. */
type Endpoint =
  | { kind: "stdio"; display: string }
  | { kind: "store"; store: Store; name: string; path: string; display: string }
  | { kind: "local"; store: Store; path: string; display: string; tag: string };

async function realpathOr(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch {
    return path;
  }
}

async function isLocalDir(path: string): Promise<boolean> {
  try {
    return (await fsStat(path)).isDirectory();
  } catch {
    return false;
  }
}

/** A store over a local file's folder; the backend is closed when the command ends. */
function localEndpoint(ctx: Context, file: string, display: string, tag: string): Endpoint {
  const backend = new LocalBackend({ root: nodePath.dirname(file) });
  ctx.defer(() => backend.close());
  const store = new Store(backend, { backendName: tag });
  return { kind: "local", store, path: nodePath.basename(file), display, tag };
}

async function sourceEndpoint(ctx: Context, arg: string, local: boolean): Promise<Endpoint> {
  if (arg === "-") return { kind: "stdio", display: "stdin" };
  if (local) {
    const file = await realpathOr(nodePath.resolve(ctx.io.cwd, arg));
    return localEndpoint(ctx, file, arg, "local source");
  }
  const { name, path } = parseStorePath(arg, "cp");
  return { kind: "store", store: await ctx.store(name), name, path, display: arg };
}

/** A destination that is a folder gets the source's file name appended. */
function intoFolder(arg: string, isFolder: boolean, sourceName: string | undefined): string {
  if (!isFolder) return arg;
  if (sourceName === undefined || sourceName === "") {
    throw new UsageError(`give a file name for the destination: "${arg}" is a folder`);
  }
  return arg.replace(/[\\/]*$/, "/") + sourceName;
}

type StoreEndpoint = Extract<Endpoint, { kind: "store" }>;

async function storeDestination(
  ctx: Context,
  arg: string,
  command: string,
  sourceName: string | undefined,
): Promise<StoreEndpoint> {
  const { name, path } = parseStorePath(arg, command);
  const store = await ctx.store(name);
  const folder = isRoot(path) || /[\\/]$/.test(path) ||
    await store.isFolder(path, { signal: ctx.signal });
  const display = intoFolder(arg, folder, sourceName);
  return { kind: "store", store, name, path: display.slice(name.length + 1), display };
}

async function destinationEndpoint(
  ctx: Context,
  arg: string,
  local: boolean,
  sourceName: string | undefined,
): Promise<Endpoint> {
  if (arg === "-") return { kind: "stdio", display: "stdout" };
  if (!local) return await storeDestination(ctx, arg, "cp", sourceName);
  const absolute = nodePath.resolve(ctx.io.cwd, arg);
  const folder = /[\\/]$/.test(arg) || await isLocalDir(absolute);
  const display = intoFolder(arg, folder, sourceName);
  const file = folder ? nodePath.join(absolute, sourceName!) : absolute;
  const dir = await realpathOr(nodePath.dirname(file));
  return localEndpoint(
    ctx,
    nodePath.join(dir, nodePath.basename(file)),
    display,
    "local destination",
  );
}

/** An endpoint that is a file in a store (a configured store, or a local file's folder). */
type FileEndpoint = Exclude<Endpoint, { kind: "stdio" }>;

/** The absolute file path of a store path on a local backend, or `undefined` for other backends. */
async function localFile(endpoint: FileEndpoint): Promise<string | undefined> {
  let backend: LocalBackend;
  try {
    backend = endpoint.store.unwrap(LocalBackend);
  } catch {
    return undefined;
  }
  const file = nodePath.join(backend.root, endpoint.store.rootPath, normalizePath(endpoint.path));
  return nodePath.join(await realpathOr(nodePath.dirname(file)), nodePath.basename(file));
}

/**
 * Whether two store paths reach the same file: one backend and key (whatever
 * the store names and roots), or, for local backends, one file on disk.
 */
async function sameFile(a: FileEndpoint, b: FileEndpoint): Promise<boolean> {
  if (a.store.sameFile(a.path, b.store, b.path)) return true;
  const fileA = await localFile(a);
  return fileA !== undefined && fileA === await localFile(b);
}

/** Gives errors from a local endpoint the path the user typed. */
function relabel(error: unknown, endpoints: Endpoint[]): unknown {
  if (!(error instanceof RemoteStoreError)) return error;
  for (const endpoint of endpoints) {
    if (endpoint.kind === "local" && error.backend === endpoint.tag) {
      return error.withContext({ path: endpoint.display, backend: "local" }, true);
    }
  }
  return error;
}

// ---- commands --------------------------------------------------------------

const LS_FLAGS: FlagSpec = {
  booleans: ["recursive", "long", "json"],
  short: { r: "recursive", l: "long" },
};

/**
 * `ls [<store>:<path>] [-r] [-l] [--json]`: lists a folder (or one file);
 * without an argument, the store names.
 */
async function ls(ctx: Context): Promise<void> {
  const { io, flags, positionals, signal } = ctx;
  if (positionals.length > 1) throw new UsageError("ls takes one <store>:<path>");
  const json = flags.json === true;
  let first = true;
  const emit = (text: string, value: unknown): Promise<void> => {
    if (!json) return line(io, text);
    const out = `${first ? "[\n" : ",\n"}${safeJson(value)}`;
    first = false;
    return writeOut(io.stdout, out, signal);
  };
  const finish = () => json ? writeOut(io.stdout, first ? "[]\n" : "\n]\n", signal) : undefined;
  if (positionals.length === 0) {
    const source = await ctx.stores();
    for (const name of source.storeNames) await emit(escapeName(name), { type: "store", name });
    return await finish();
  }
  const { name, path } = parseStorePath(positionals[0]!, "ls");
  const store = await ctx.store(name);
  const long = flags.long === true;
  const fileLine = (f: FileInfo) =>
    long
      ? `${String(f.size).padStart(12)}  ${isoSeconds(f.modifiedAt)}  ${escapeName(f.path)}`
      : escapeName(f.path);
  const folderLine = (f: FolderEntry) =>
    long
      ? `${"-".padStart(12)}  ${"-".padEnd(20)}  ${escapeName(f.path)}/`
      : `${escapeName(f.path)}/`;
  const fileJson = (f: FileInfo) => ({ type: "file", ...f });
  const folderJson = (f: FolderEntry) => ({ type: "folder", ...f });

  if (!isRoot(path) && !(await store.isFolder(path, { signal }))) {
    const info = await store.getFileInfo(path, { signal }).catch((error) => {
      if (error instanceof InvalidPathError) {
        throw new NotFoundError("No such file or folder", { path, backend: store.backendName });
      }
      throw error;
    });
    await emit(fileLine(info), fileJson(info));
    return await finish();
  }
  const recursive = flags.recursive === true;
  if (!recursive) {
    for await (const folder of store.listFolders(path, { signal })) {
      await emit(folderLine(folder), folderJson(folder));
    }
  }
  for await (const file of store.listFiles(path, { recursive, signal })) {
    await emit(fileLine(file), fileJson(file));
  }
  await finish();
}

/** `cat <store>:<path>...`: streams files to stdout. */
async function cat(ctx: Context): Promise<void> {
  if (ctx.positionals.length === 0) throw new UsageError("cat needs a <store>:<path>");
  for (const arg of ctx.positionals) {
    const { name, path } = parseStorePath(arg, "cat");
    const store = await ctx.store(name);
    await pipeOut(await store.read(path, { signal: ctx.signal }), ctx.io.stdout, ctx.signal);
  }
}

/** `cp <src> <dst> [--overwrite]`: copies between stores, local files and stdio. */
async function cp(ctx: Context): Promise<void> {
  const { flags, positionals } = ctx;
  if (positionals.length !== 2) throw new UsageError("cp takes a source and a destination");
  const [srcArg, dstArg] = positionals as [string, string];
  const endpoints: Endpoint[] = [];
  try {
    const from = await sourceEndpoint(ctx, srcArg, isLocalPath(srcArg));
    endpoints.push(from);
    const sourceName = from.kind === "stdio" ? undefined : baseNameOf(from.path);
    const to = await destinationEndpoint(ctx, dstArg, isLocalPath(dstArg), sourceName);
    endpoints.push(to);
    if (from.kind !== "stdio" && to.kind !== "stdio" && await sameFile(from, to)) {
      // Copying a file onto itself is a no-op (the source must still exist).
      await from.store.getFileInfo(from.path, { signal: ctx.signal });
      return;
    }
    await copyBetween(ctx, from, to, flags.overwrite === true, "copied");
  } catch (error) {
    throw relabel(error, endpoints);
  }
}

async function copyBetween(
  ctx: Context,
  from: Endpoint,
  to: Endpoint,
  overwrite: boolean,
  verb: string,
): Promise<void> {
  const { io, signal } = ctx;
  if (from.kind === "stdio") {
    if (to.kind === "stdio") return await pipeOut(io.stdin, io.stdout, signal);
    await to.store.write(to.path, io.stdin, { overwrite, signal });
    return;
  }
  if (to.kind === "stdio") {
    return await pipeOut(await from.store.read(from.path, { signal }), io.stdout, signal);
  }
  const progress = new Progress(io.stderr, { enabled: io.isTTY });
  const onProgress = (loaded: number, total?: number) => progress.update(loaded, total);
  try {
    if (from.kind === "store" && to.kind === "store" && from.name === to.name) {
      await from.store.copy(from.path, to.path, { overwrite, signal, onProgress });
    } else {
      await transfer(from.store, from.path, to.store, to.path, { overwrite, signal, onProgress });
    }
  } catch (error) {
    progress.clear();
    throw error;
  }
  progress.finish(verb);
}

/** `mv <store>:<src> <store>:<dst> [--overwrite]`: moves within or across stores. */
async function mv(ctx: Context): Promise<void> {
  const { io, flags, positionals, signal } = ctx;
  if (positionals.length !== 2) throw new UsageError("mv takes a source and a destination");
  const [srcArg, dstArg] = positionals as [string, string];
  for (const arg of [srcArg, dstArg]) {
    if (isLocalPath(arg) || arg === "-") {
      throw new UsageError(`mv works on store paths (<store>:<path>); use cp for "${arg}"`);
    }
  }
  const src = parseStorePath(srcArg, "mv");
  const from: StoreEndpoint = {
    kind: "store",
    store: await ctx.store(src.name),
    name: src.name,
    path: src.path,
    display: srcArg,
  };
  const to = await storeDestination(ctx, dstArg, "mv", baseNameOf(src.path));
  const overwrite = flags.overwrite === true;
  if (await sameFile(from, to)) {
    // Moving a file onto itself is a no-op (a copy then a delete would lose it).
    await from.store.getFileInfo(from.path, { signal });
    return;
  }
  if (from.name !== to.name) {
    await copyBetween(ctx, from, to, overwrite, "moved");
    await from.store.delete(from.path, { signal });
    return;
  }
  const progress = new Progress(io.stderr, { enabled: io.isTTY });
  try {
    await from.store.move(from.path, to.path, {
      overwrite,
      signal,
      onProgress: (loaded, total) => progress.update(loaded, total),
    });
  } catch (error) {
    progress.clear();
    throw error;
  }
  progress.finish("moved");
}

/** `rm <store>:<path>... [-r] [--missing-ok]`: deletes files, and folders with `-r`. */
async function rm(ctx: Context): Promise<void> {
  const { flags, positionals, signal } = ctx;
  if (positionals.length === 0) throw new UsageError("rm needs a <store>:<path>");
  const recursive = flags.recursive === true;
  const missingOk = flags["missing-ok"] === true;
  for (const arg of positionals) {
    const { name, path } = parseStorePath(arg, "rm");
    if (isRoot(path)) {
      throw new UsageError(`refusing to delete the root of store "${name}"; name a path inside it`);
    }
    const store = await ctx.store(name);
    if (recursive) {
      if (await store.isFile(path, { signal })) await store.delete(path, { signal });
      else await store.deleteFolder(path, { recursive: true, missingOk, signal });
      continue;
    }
    try {
      await store.delete(path, { signal });
    } catch (error) {
      const maybeFolder = error instanceof NotFoundError || error instanceof InvalidPathError;
      if (maybeFolder && await store.isFolder(path, { signal })) {
        throw new UsageError(
          `"${arg}" is a folder; use rm -r to delete it and everything below it`,
        );
      }
      if (!(missingOk && error instanceof NotFoundError)) throw error;
    }
  }
}

/** `stat <store>:<path> [--json]`: file or folder information. */
async function stat(ctx: Context): Promise<void> {
  const { io, flags, positionals, signal } = ctx;
  if (positionals.length !== 1) throw new UsageError("stat takes one <store>:<path>");
  const { name, path } = parseStorePath(positionals[0]!, "stat");
  const store = await ctx.store(name);
  let fields: [string, string][];
  let value: Record<string, unknown>;
  try {
    const info = await store.getFileInfo(path, { signal });
    value = { type: "file", ...info };
    fields = [
      ["path", info.path],
      ["type", "file"],
      ["size", `${info.size} (${formatBytes(info.size)})`],
      ["modified", isoSeconds(info.modifiedAt)],
    ];
    if (info.etag !== undefined) fields.push(["etag", info.etag]);
    if (info.contentType !== undefined) fields.push(["content-type", info.contentType]);
    for (const [key, v] of Object.entries(info.metadata ?? {})) fields.push([`metadata.${key}`, v]);
  } catch (error) {
    if (!(error instanceof NotFoundError || error instanceof InvalidPathError)) throw error;
    const folder = await store.getFolderInfo(path, { signal }).catch((e) => {
      if (e instanceof NotFoundError) {
        throw new NotFoundError("No such file or folder", { path, backend: store.backendName });
      }
      throw e;
    });
    value = { type: "folder", ...folder };
    fields = [
      ["path", folder.path === "" ? "(store root)" : folder.path],
      ["type", "folder"],
      ["files", String(folder.fileCount)],
      ["size", `${folder.totalSize} (${formatBytes(folder.totalSize)})`],
      ["modified", isoSeconds(folder.modifiedAt)],
    ];
  }
  if (flags.json === true) return await line(io, safeJson(value, 2));
  const width = Math.max(...fields.map(([k]) => k.length)) + 1;
  for (const [key, v] of fields) {
    await line(io, `${`${escapeName(`${key}:`).padEnd(width)}`} ${escapeName(v)}`);
  }
}

/** `1h`, `30m`, `45s`, `7d` or plain seconds -> seconds. */
function parseDuration(text: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(text.trim());
  const unit = { "": 1, s: 1, m: 60, h: 3600, d: 86400 }[match?.[2] ?? ""] ?? 1;
  const seconds = match ? Number(match[1]) * unit : NaN;
  if (!Number.isSafeInteger(seconds) || seconds < 1 || seconds > 7 * 86400) {
    throw new UsageError(
      `--expires must be seconds or a number with s, m, h or d, from 1s to 7d; got "${text}"`,
    );
  }
  return seconds;
}

/** `url <store>:<path> [--expires 1h] [--read] [--write] [--delete]`: prints a signed URL. */
async function url(ctx: Context): Promise<void> {
  const { io, flags, positionals, signal } = ctx;
  if (positionals.length !== 1) throw new UsageError("url takes one <store>:<path>");
  const expiresIn = parseDuration(typeof flags.expires === "string" ? flags.expires : "1h");
  const permissions = (["read", "write", "delete"] as const).filter((p) => flags[p] === true);
  const { name, path } = parseStorePath(positionals[0]!, "url");
  const store = await ctx.store(name);
  try {
    const signed = await store.signedUrl(path, {
      expiresIn,
      permissions: permissions.length > 0 ? permissions : ["read"] as SignedUrlPermission[],
      signal,
    });
    await line(io, signed);
  } catch (error) {
    if (error instanceof CapabilityNotSupportedError) {
      throw new CliError(
        `store "${name}" cannot sign URLs: its backend "${store.backendName}" has no signed URL support (Azure backends have it)`,
        ExitCode.FAILURE,
      );
    }
    throw error;
  }
}

/**
 * `ping [<store>...]`: checks that each store's backend can be used (all
 * stores when none is named), one line per store; the exit code is the
 * first failure's.
 */
async function ping(ctx: Context): Promise<void> {
  const { io, positionals, signal } = ctx;
  const names = positionals.length > 0
    ? positionals.map((arg) => arg.endsWith(":") ? arg.slice(0, -1) : arg)
    : (await ctx.stores()).storeNames;
  let failure: { error: unknown } | undefined;
  for (const name of names) {
    const store = await ctx.store(name);
    try {
      await store.ping({ signal });
      await line(io, `${escapeName(name)}: ok`);
    } catch (error) {
      if (signal?.aborted) throw error;
      failure ??= { error };
      await line(io, `${escapeName(name)}: ${escapeName(describeError(error, signal)[1])}`);
    }
  }
  if (failure !== undefined) throw failure.error;
}

const COMMANDS: Record<string, { run: Command; flags: FlagSpec }> = {
  ls: { run: ls, flags: LS_FLAGS },
  cat: { run: cat, flags: {} },
  cp: { run: cp, flags: { booleans: ["overwrite"] } },
  mv: { run: mv, flags: { booleans: ["overwrite"] } },
  rm: {
    run: rm,
    flags: { booleans: ["recursive", "missing-ok"], short: { r: "recursive" } },
  },
  stat: { run: stat, flags: { booleans: ["json"] } },
  url: { run: url, flags: { booleans: ["read", "write", "delete"], strings: ["expires"] } },
  ping: { run: ping, flags: {} },
};

/** The flags every command accepts. */
function withCommon(spec: FlagSpec): FlagSpec {
  return {
    booleans: [...(spec.booleans ?? []), "help"],
    strings: [...(spec.strings ?? []), "config"],
    short: { ...spec.short, h: "help" },
  };
}

// ---- errors ----------------------------------------------------------------

/** The exit code and message for an error. */
function describeError(error: unknown, signal: AbortSignal | undefined): [number, string] {
  if (error instanceof OutputClosedError || signal?.reason instanceof OutputClosedError) {
    return [ExitCode.OUTPUT_CLOSED, ""];
  }
  if (signal?.aborted) return [ExitCode.INTERRUPTED, "interrupted"];
  if (error instanceof UsageError) return [ExitCode.USAGE, error.message];
  if (error instanceof CliError) return [error.exitCode, error.message];
  if (error instanceof RemoteStoreError) {
    const message = error.message;
    if (error instanceof NotFoundError) return [ExitCode.NOT_FOUND, message];
    if (error instanceof AlreadyExistsError) {
      return [ExitCode.ALREADY_EXISTS, `${message}; pass --overwrite to replace it`];
    }
    if (error instanceof PermissionDeniedError) return [ExitCode.PERMISSION_DENIED, message];
    if (error instanceof BackendUnavailableError) return [ExitCode.UNAVAILABLE, message];
    if (error instanceof InvalidConfigError) return [ExitCode.INVALID_CONFIG, message];
    if (error instanceof InvalidPathError) return [ExitCode.USAGE, message];
    if (error instanceof DirectoryNotEmptyError) return [ExitCode.FAILURE, `${message} (use -r)`];
    return [ExitCode.FAILURE, message];
  }
  if (error instanceof RangeError || error instanceof TypeError) {
    return [ExitCode.USAGE, error.message];
  }
  const name = error instanceof Error ? error.name : typeof error;
  const text = error instanceof Error ? `: ${error.message}` : "";
  return [ExitCode.FAILURE, `unexpected error (${name})${text}`];
}

// ---- entry point -----------------------------------------------------------

/**
 * Runs the CLI with the given arguments and process I/O and returns the exit
 * code. Never throws: failures are reported on `io.stderr` as
 * `remote-store: <message>` (no stack trace, no secret) and mapped to
 * {@link ExitCode}.
 *
 * @param argv The arguments after the program name (for example `["ls", "data:reports", "-l"]`).
 * @param io Streams, environment, working directory, terminal flag and abort signal.
 * @returns The exit code.
 *
 * @example Run a command in-process
 * ```ts
 * import { run } from "@remote-store/remote-store/cli";
 *
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/hello.txt`, "Hello!\n");
 * await Deno.writeTextFile(
 *   `${dir}/remote-store.json`,
 *   JSON.stringify({ backends: { disk: { type: "local", options: { root: "." } } }, stores: { here: { backend: "disk" } } }),
 * );
 * const write = (chunk: Uint8Array | string) => {
 *   console.log(typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk));
 *   return true;
 * };
 * const code = await run(["cat", "here:hello.txt"], {
 *   stdout: { write, once: () => {} },
 *   stderr: { write, once: () => {} },
 *   stdin: (async function* () {})(),
 *   env: {},
 *   cwd: dir,
 *   isTTY: false,
 * });
 * console.log(code); // 0
 * ```
 */
export function run(argv: readonly string[], io: CliIO): Promise<number> {
  return runCli(argv, io);
}

/**
 * {@link run} with optional stores that replace the config file (for tests).
 *
 * @param argv The arguments after the program name.
 * @param io The I/O, and `stores` to use instead of loading the config.
 * @returns The exit code.
 */
export async function runCli(argv: readonly string[], io: CliTestIO): Promise<number> {
  const cleanups: (() => Promise<void>)[] = [];
  let registry: Registry | undefined;
  try {
    const [command, ...rest] = argv;
    if (command === undefined) {
      writeRaw(io.stderr, MAIN_HELP);
      return ExitCode.USAGE;
    }
    if (command === "--help" || command === "-h" || command === "help") {
      const topic = command === "help" ? rest[0] : undefined;
      const help = topic !== undefined && Object.hasOwn(COMMANDS, topic)
        ? COMMAND_HELP[topic]! + COMMON_OPTIONS
        : MAIN_HELP;
      await writeOut(io.stdout, help, io.signal);
      return ExitCode.OK;
    }
    // `--config <file>` may also come before the command.
    let head = [...argv];
    const globals: string[] = [];
    while (head[0]?.startsWith("--config")) {
      const n = head[0] === "--config" ? 2 : 1;
      globals.push(...head.slice(0, n));
      head = head.slice(n);
    }
    const [name, ...args] = head;
    const entry = name !== undefined && Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
    if (entry === undefined) {
      const known = Object.keys(COMMANDS).join(", ");
      throw new UsageError(
        name === undefined
          ? `missing command (commands: ${known})`
          : `unknown command "${name}" (commands: ${known}; see remote-store --help)`,
      );
    }
    const { flags, positionals } = parseArgs([...globals, ...args], withCommon(entry.flags));
    if (flags.help === true) {
      await writeOut(io.stdout, COMMAND_HELP[name!]! + COMMON_OPTIONS, io.signal);
      return ExitCode.OK;
    }
    let source: StoreSource | undefined = io.stores;
    const stores = async (): Promise<StoreSource> => {
      if (source === undefined) {
        const configFlag = typeof flags.config === "string" ? flags.config : undefined;
        const { backendTypes } = io;
        const { config } = await loadConfig(configFlag, io.env, io.cwd, backendTypes);
        registry = new Registry(config, { backendTypes });
        source = registry;
      }
      return source;
    };
    const ctx: Context = {
      io,
      flags,
      positionals,
      signal: io.signal,
      defer: (cleanup) => void cleanups.push(cleanup),
      stores,
      store: async (storeName) => {
        const source = await stores();
        if (!source.storeNames.includes(storeName)) {
          const known = source.storeNames.map((n) => `"${n}"`).join(", ") || "none";
          throw new UsageError(`unknown store "${storeName}" (known stores: ${known})`);
        }
        return source.getStore(storeName);
      },
    };
    io.signal?.throwIfAborted();
    await entry.run(ctx);
    return ExitCode.OK;
  } catch (error) {
    const [code, message] = describeError(error, io.signal);
    if (message !== "") {
      try {
        writeRaw(io.stderr, `remote-store: ${message}\n`);
      } catch {
        // Nowhere left to report.
      }
    }
    return code;
  } finally {
    for (const cleanup of cleanups) await cleanup().catch(() => {});
    await registry?.close().catch(() => {});
  }
}
