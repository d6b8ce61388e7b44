/**
 * The Data Lake Storage Gen2 (DFS) REST operations the hierarchical
 * namespace uses, one typed function each over {@link AzureHttp}: Path List,
 * Path Create (a directory, or a rename with `x-ms-rename-source`) and Path
 * Delete. They decide nothing about library errors: a non-2xx answer throws
 * the transport's `AzureHttpError` and the caller maps it. Private module.
 *
 * Every request goes to the DFS endpoint with `Accept: application/json`, as
 * the DataLake SDK sends it; DFS error bodies are JSON, which the transport
 * reads.
 *
 * @module
 */

import { quoteEtag } from "./_etag.ts";
import type { AzureHttp } from "./_http.ts";

/** `Accept` of every DFS request (the DataLake SDK sends the same). */
const ACCEPT = { accept: "application/json" } as const;

/** One path of a Path List page. */
export interface DfsPath {
  /** The full path below the file system (never with a leading `/`). */
  name: string;
  /** Whether the path is a directory. */
  isDirectory: boolean;
  /** Size in bytes (`0` for a directory). */
  contentLength: number;
  /** Last modification time, when the service sent a valid one. */
  lastModified?: Date;
  /** ETag in the quoted HTTP form. */
  etag?: string;
}

/** One Path List page. */
export interface DfsPathPage {
  /** The paths of this page (possibly none while a continuation follows). */
  paths: DfsPath[];
  /** The token of the next page (`x-ms-continuation`); `undefined` on the last page. */
  continuation?: string;
}

/** Options of {@link listPaths} and {@link listPathPages}. */
export interface ListPathsOptions {
  /** The directory to list; `undefined` or `""`: the file system root. */
  directory?: string;
  /** Every path below `directory`, or only its direct children. */
  recursive: boolean;
  /** At most this many paths per page (the service's default: 5,000). */
  maxResults?: number;
  /** The caller's signal. */
  signal?: AbortSignal;
}

/** A Path List field the service sends as a string (`"true"`, `"123"`) or, in places, natively. */
type Scalar = string | number | boolean | undefined | null;

function isTrue(value: Scalar): boolean {
  return value === true || (typeof value === "string" && value.toLowerCase() === "true");
}

function parsePath(raw: Record<string, Scalar>): DfsPath | undefined {
  const name = raw.name;
  if (typeof name !== "string" || name === "") return undefined;
  const size = Number(raw.contentLength ?? 0);
  const path: DfsPath = {
    name,
    isDirectory: isTrue(raw.isDirectory),
    contentLength: Number.isFinite(size) ? size : 0,
  };
  if (typeof raw.lastModified === "string") {
    const date = new Date(raw.lastModified);
    if (!Number.isNaN(date.getTime())) path.lastModified = date;
  }
  const etag = quoteEtag(typeof raw.etag === "string" ? raw.etag : undefined);
  if (etag !== undefined) path.etag = etag;
  return path;
}

/**
 * Path List: one page of the paths below a directory
 * (`GET <dfs>/<fs>?resource=filesystem&recursive=&directory=&maxResults=&continuation=`).
 *
 * @param http The transport.
 * @param options The directory, recursion, page size and signal.
 * @param continuation The token of the page to fetch (`undefined`: the first).
 * @returns The page: its paths and the next page's token.
 * @throws {AzureHttpError} For a non-2xx answer (404 `PathNotFound` for a
 *   missing directory or a file, 404 `FilesystemNotFound` for a missing file system).
 */
export async function listPaths(
  http: AzureHttp,
  options: ListPathsOptions,
  continuation?: string,
): Promise<DfsPathPage> {
  const response = await http.send({
    method: "GET",
    key: "",
    endpoint: "dfs",
    query: {
      resource: "filesystem",
      recursive: options.recursive,
      directory: options.directory === "" ? undefined : options.directory,
      maxResults: options.maxResults,
      continuation: continuation === "" ? undefined : continuation,
    },
    headers: ACCEPT,
    signal: options.signal,
  });
  const text = await response.text();
  let body: unknown;
  try {
    body = text.trim() === "" ? {} : JSON.parse(text);
  } catch (error) {
    throw new SyntaxError(`DFS Path List answered with a body that is not JSON: ${error}`, {
      cause: error,
    });
  }
  const rawPaths = (body as { paths?: unknown } | null)?.paths;
  const paths: DfsPath[] = [];
  if (Array.isArray(rawPaths)) {
    for (const raw of rawPaths) {
      if (typeof raw !== "object" || raw === null) continue;
      const path = parsePath(raw as Record<string, Scalar>);
      if (path !== undefined) paths.push(path);
    }
  }
  const next = response.headers.get("x-ms-continuation") ?? "";
  return next === "" ? { paths } : { paths, continuation: next };
}

/**
 * Every Path List page below a directory, following `x-ms-continuation`
 * until the service sends none (pages may be empty while one follows).
 *
 * @param http The transport.
 * @param options The directory, recursion, page size and signal.
 * @returns The pages' paths, one array per page.
 */
export async function* listPathPages(
  http: AzureHttp,
  options: ListPathsOptions,
): AsyncGenerator<DfsPath[]> {
  let continuation: string | undefined;
  do {
    const page = await listPaths(http, options, continuation);
    continuation = page.continuation;
    yield page.paths;
  } while (continuation !== undefined);
}

/**
 * Path Create of a directory (`PUT <dfs>/<fs>/<key>?resource=directory`).
 * With `ifNoneMatch: "*"` it only creates (an existing path answers 409
 * `PathAlreadyExists`), which is what the SDK's `createIfNotExists` sends.
 *
 * @param http The transport.
 * @param key The directory's path.
 * @param options `ifNoneMatch` and the signal.
 * @returns The directory's ETag, when the service sent one.
 * @throws {AzureHttpError} For a non-2xx answer (409 `PathConflict` when a file
 *   is at the path or above it).
 */
export async function createDirectory(
  http: AzureHttp,
  key: string,
  options: { ifNoneMatch?: string; signal?: AbortSignal },
): Promise<{ etag?: string }> {
  const { headers } = await http.call({
    method: "PUT",
    key,
    endpoint: "dfs",
    query: { resource: "directory" },
    headers: { ...ACCEPT, "if-none-match": options.ifNoneMatch },
    signal: options.signal,
  });
  const etag = quoteEtag(headers.get("etag") ?? undefined);
  return etag === undefined ? {} : { etag };
}

/** Options of {@link renamePath}. */
export interface RenamePathOptions {
  /** Rename only when the source has this ETag (`x-ms-source-if-match`). */
  sourceIfMatch?: string;
  /** Replace the destination only when it has this ETag (`If-Match`). */
  ifMatch?: string;
  /** `"*"`: rename only when nothing is at the destination (`If-None-Match`). */
  ifNoneMatch?: string;
  /** The caller's signal. */
  signal?: AbortSignal;
}

/**
 * The value of `x-ms-rename-source` for a path of this file system: the path
 * (and, when authenticating by SAS, the query) of its DFS URL, as the SDK's
 * `move()` sends it. On a path-style endpoint (the emulators) the path starts
 * with the account name, which the service accepts too.
 *
 * @param http The transport.
 * @param key The source path.
 * @returns `/<fs>/<percent-encoded key>` (after the account on path-style endpoints).
 */
export function renameSource(http: AzureHttp, key: string): string {
  const path = new URL(http.url(key, "dfs")).pathname;
  if (http.authKind !== "sas") return path;
  return path + new URL(http.sourceUrl(key)).search;
}

/**
 * Path Create with `x-ms-rename-source` (`PUT <dfs>/<fs>/<dst>?mode=legacy`):
 * moves a file or directory in one atomic server call. The service does not
 * create the destination's parent directory.
 *
 * @param http The transport.
 * @param src The source path (of the same file system).
 * @param dst The destination path.
 * @param options Source and destination conditions, and the signal.
 * @throws {AzureHttpError} For a non-2xx answer: 404 `SourcePathNotFound`,
 *   404 `RenameDestinationParentPathNotFound`, 409 `PathAlreadyExists`,
 *   409 `InvalidSourceOrDestinationResourceType`, 409 `PathConflict`,
 *   412 `SourceConditionNotMet` / `ConditionNotMet`, ...
 */
export async function renamePath(
  http: AzureHttp,
  src: string,
  dst: string,
  options: RenamePathOptions,
): Promise<void> {
  await http.call({
    method: "PUT",
    key: dst,
    endpoint: "dfs",
    query: { mode: "legacy" },
    headers: {
      ...ACCEPT,
      "x-ms-rename-source": renameSource(http, src),
      "x-ms-source-if-match": options.sourceIfMatch,
      "if-match": options.ifMatch,
      "if-none-match": options.ifNoneMatch,
    },
    signal: options.signal,
  });
}

/**
 * Path Delete (`DELETE <dfs>/<fs>/<key>?recursive=`), following
 * `x-ms-continuation` until the service reports the delete complete. With a
 * token credential a recursive delete is `paginated`, as the SDK sends it
 * (the service then checks ACLs page by page).
 *
 * @param http The transport.
 * @param key The path (a file, or a directory).
 * @param options `recursive` (required for a non-empty directory) and the signal.
 * @throws {AzureHttpError} For a non-2xx answer (404 `PathNotFound`,
 *   409 `DirectoryNotEmpty`, ...).
 */
export async function deletePath(
  http: AzureHttp,
  key: string,
  options: { recursive: boolean; signal?: AbortSignal },
): Promise<void> {
  const paginated = options.recursive &&
      (http.authKind === "token" || http.authKind === "default")
    ? true
    : undefined;
  let continuation: string | undefined;
  do {
    const { headers } = await http.call({
      method: "DELETE",
      key,
      endpoint: "dfs",
      query: { recursive: options.recursive, paginated, continuation },
      headers: ACCEPT,
      signal: options.signal,
    });
    continuation = headers.get("x-ms-continuation") || undefined;
  } while (continuation !== undefined);
}
