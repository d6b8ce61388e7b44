/**
 * The Data Lake Storage Gen2 (DFS) REST API subset: Filesystem Create /
 * Delete / Get Properties, Path List, Path Create (file, directory, rename),
 * Path Update (append, flush, setProperties, setAccessControl), Path Get
 * Properties (getStatus, getAccessControl) and Path Delete. Path Read is
 * served by the Blob API's Get Blob (the same operation on the same data).
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { getBlob } from "./_blob_api.ts";
import {
  checkRead,
  checkWrite,
  containerHeaders,
  type Ctx,
  formatDfsProperties,
  headerValue,
  md5Mismatch,
  OWNER,
  parseDfsProperties,
  permissionsOf,
  readConditions,
  safeDecode,
  send,
  sendError,
} from "./_http.ts";
import {
  type Container,
  type FileNode,
  type Namespace,
  newDir,
  newFile,
  type PathNode,
  segmentsOf,
  touch,
  walk,
  type WalkEntry,
  windowsFileTime,
} from "./_namespace.ts";

function unsupported(ctx: Ctx): void {
  sendError(
    ctx,
    400,
    "UnsupportedOperation",
    `The DFS emulator does not implement ${ctx.method} ${ctx.rawPath}?${ctx.rawQuery} on the DFS API.`,
  );
}

/** Entry point for requests classified as DFS API. */
export function handleDfs(ctx: Ctx, ns: Namespace): void {
  if (ctx.container === "") return unsupported(ctx);
  const resource = ctx.query.get("resource");
  if (ctx.path === "") {
    if (resource !== "filesystem") return unsupported(ctx);
    if (ctx.method === "PUT") {
      const created = ns.createContainer(
        ctx.container,
        parseDfsProperties(headerValue(ctx, "x-ms-properties")) ?? {},
      );
      if (created === undefined) return sendError(ctx, 409, "FilesystemAlreadyExists");
      return send(ctx, 201, {
        "ETag": created.etag,
        "Last-Modified": created.lastModified.toUTCString(),
        "x-ms-namespace-enabled": "true",
      });
    }
    const container = ns.containers.get(ctx.container);
    if (container === undefined) return sendError(ctx, 404, "FilesystemNotFound");
    if (ctx.method === "DELETE") {
      ns.containers.delete(ctx.container);
      return send(ctx, 202);
    }
    if (ctx.method === "HEAD") {
      return send(ctx, 200, {
        ...containerHeaders(container),
        "x-ms-properties": formatDfsProperties(container.metadata),
        "x-ms-namespace-enabled": "true",
      });
    }
    if (ctx.method === "GET") return listPaths(ctx, ns, container);
    return unsupported(ctx);
  }
  const container = ns.containers.get(ctx.container);
  if (container === undefined) return sendError(ctx, 404, "FilesystemNotFound");
  const segs = segmentsOf(ctx.path);
  switch (ctx.method) {
    case "PUT":
      if (headerValue(ctx, "x-ms-rename-source") !== undefined) {
        return rename(ctx, ns, container, segs);
      }
      if (resource === "file" || resource === "directory") {
        return createPath(ctx, ns, container, segs, resource);
      }
      return sendError(ctx, 400, "MissingRequiredQueryParameter");
    case "PATCH":
      return updatePath(ctx, ns, container, segs);
    case "HEAD":
      return getPathProperties(ctx, ns, container, segs);
    case "GET":
      return getBlob(ctx, ns, container, segs);
    case "DELETE":
      return deletePath(ctx, ns, container, segs);
    default:
      return unsupported(ctx);
  }
}

/** Content headers a DFS request sets with `x-ms-content-*` / `x-ms-cache-control`. */
function applyDfsContentHeaders(ctx: Ctx, file: FileNode): void {
  const type = headerValue(ctx, "x-ms-content-type");
  if (type !== undefined) file.contentType = type;
  const enc = headerValue(ctx, "x-ms-content-encoding");
  if (enc !== undefined) file.contentEncoding = enc;
  const lang = headerValue(ctx, "x-ms-content-language");
  if (lang !== undefined) file.contentLanguage = lang;
  const disp = headerValue(ctx, "x-ms-content-disposition");
  if (disp !== undefined) file.contentDisposition = disp;
  const cache = headerValue(ctx, "x-ms-cache-control");
  if (cache !== undefined) file.cacheControl = cache;
  const md5 = headerValue(ctx, "x-ms-content-md5");
  if (md5 !== undefined) file.contentMD5 = md5;
}

function createdHeaders(node: PathNode): Record<string, string | number> {
  return {
    "ETag": node.etag,
    "Last-Modified": node.lastModified.toUTCString(),
    "x-ms-request-server-encrypted": "true",
    "Content-Length": 0,
  };
}

function createPath(
  ctx: Ctx,
  ns: Namespace,
  container: Container,
  segs: string[],
  resource: "file" | "directory",
): void {
  const existing = ns.lookup(container, segs);
  const outcome = checkWrite(existing, readConditions(ctx));
  if (outcome === "exists") return sendError(ctx, 409, "PathAlreadyExists");
  if (outcome === "failed") return sendError(ctx, 412, "ConditionNotMet");
  const parent = ns.findParent(container, segs);
  if (parent.kind === "fileInTheWay") return sendError(ctx, 409, "PathConflict");
  if (existing !== undefined && existing.kind !== resource) {
    return sendError(ctx, 409, "PathConflict");
  }
  const metadata = parseDfsProperties(headerValue(ctx, "x-ms-properties"));
  if (resource === "directory") {
    if (existing !== undefined && existing.kind === "directory") {
      if (metadata !== undefined) existing.metadata = metadata;
      touch(existing);
      return send(ctx, 201, createdHeaders(existing));
    }
    const dir = newDir(metadata ?? {});
    ns.materializeParent(parent).children.set(segs[segs.length - 1]!, dir);
    return send(ctx, 201, createdHeaders(dir));
  }
  const file = newFile();
  file.contentType = "application/octet-stream";
  applyDfsContentHeaders(ctx, file);
  file.metadata = metadata ?? {};
  ns.materializeParent(parent).children.set(segs[segs.length - 1]!, file);
  container.stagedBlocks.delete(segs.join("/"));
  send(ctx, 201, createdHeaders(file));
}

/** Parses `x-ms-rename-source` (`/fs/path[?sas]`, maybe with the account in front). */
function parseRenameSource(
  ctx: Ctx,
  value: string,
): { container: string; segs: string[] } | undefined {
  const q = value.indexOf("?");
  const pathPart = q >= 0 ? value.slice(0, q) : value;
  const parts = pathPart.split("/").filter((p) => p !== "");
  if (parts.length >= 3 && safeDecode(parts[0]!) === ctx.account) parts.shift();
  if (parts.length < 2) return undefined;
  return {
    container: safeDecode(parts[0]!),
    segs: segmentsOf(parts.slice(1).map(safeDecode).join("/")),
  };
}

function rename(ctx: Ctx, ns: Namespace, container: Container, segs: string[]): void {
  const src = parseRenameSource(ctx, headerValue(ctx, "x-ms-rename-source")!);
  if (src === undefined) {
    return sendError(ctx, 400, "InvalidSourceUri", "The source URI is invalid.");
  }
  const srcContainer = ns.containers.get(src.container);
  if (srcContainer === undefined) return sendError(ctx, 404, "FilesystemNotFound");
  const node = ns.lookup(srcContainer, src.segs);
  if (node === undefined || src.segs.length === 0) return sendError(ctx, 404, "SourcePathNotFound");
  if (checkWrite(node, readConditions(ctx, "x-ms-source-")) !== "ok") {
    return sendError(ctx, 412, "SourceConditionNotMet");
  }
  const dest = ns.lookup(container, segs);
  const outcome = checkWrite(dest, readConditions(ctx));
  if (outcome === "exists") return sendError(ctx, 409, "PathAlreadyExists");
  if (outcome === "failed") return sendError(ctx, 412, "ConditionNotMet");

  const samePath = srcContainer === container && src.segs.length === segs.length &&
    src.segs.every((s, i) => s === segs[i]);
  const intoItself = srcContainer === container && node.kind === "directory" &&
    segs.length > src.segs.length && src.segs.every((s, i) => s === segs[i]);
  if (intoItself || (samePath && node.kind === "directory")) {
    return sendError(ctx, 409, "InvalidRenameSourcePath");
  }
  if (samePath) return send(ctx, 201, createdHeaders(node));

  const parent = ns.findParent(container, segs);
  if (parent.kind === "fileInTheWay") return sendError(ctx, 409, "PathConflict");
  if (parent.missing.length > 0) return sendError(ctx, 404, "RenameDestinationParentPathNotFound");
  if (dest !== undefined) {
    if (dest.kind !== node.kind) {
      return sendError(ctx, 409, "InvalidSourceOrDestinationResourceType");
    }
    if (dest.kind === "directory" && dest.children.size > 0) {
      return sendError(ctx, 409, "PathAlreadyExists");
    }
  }
  // One synchronous step: no request can observe a half-moved subtree.
  ns.detach(srcContainer, src.segs);
  parent.parent.children.set(segs[segs.length - 1]!, node);
  srcContainer.stagedBlocks.delete(src.segs.join("/"));
  send(ctx, 201, createdHeaders(node));
}

function updatePath(ctx: Ctx, ns: Namespace, container: Container, segs: string[]): void {
  const action = ctx.query.get("action");
  const node = ns.lookup(container, segs);
  if (node === undefined || segs.length === 0) return sendError(ctx, 404, "PathNotFound");
  if (action === "append") return append(ctx, node);
  if (action === "flush") {
    if (node.kind !== "file") return sendError(ctx, 409, "ResourceTypeMismatch");
    const outcome = checkWrite(node, readConditions(ctx));
    if (outcome !== "ok") return sendError(ctx, 412, "ConditionNotMet");
    return flush(ctx, node);
  }
  if (action === "setProperties" || action === "setAccessControl") {
    const outcome = checkWrite(node, readConditions(ctx));
    if (outcome !== "ok") return sendError(ctx, 412, "ConditionNotMet");
    if (action === "setProperties") {
      const metadata = parseDfsProperties(headerValue(ctx, "x-ms-properties"));
      if (metadata !== undefined) node.metadata = metadata;
      if (node.kind === "file") applyDfsContentHeaders(ctx, node);
    }
    touch(node);
    return send(ctx, 200, { "ETag": node.etag, "Last-Modified": node.lastModified.toUTCString() });
  }
  return unsupported(ctx);
}

function readPosition(ctx: Ctx): number | undefined {
  const raw = ctx.query.get("position");
  if (raw === undefined || !/^\d+$/.test(raw)) return undefined;
  return Number(raw);
}

function append(ctx: Ctx, node: PathNode): void {
  if (md5Mismatch(ctx)) return sendError(ctx, 400, "Md5Mismatch");
  if (node.kind !== "file") return sendError(ctx, 409, "ResourceTypeMismatch");
  const position = readPosition(ctx);
  if (position === undefined) return sendError(ctx, 400, "InvalidQueryParameterValue");
  if (headerValue(ctx, "x-ms-structured-body") !== undefined) {
    return sendError(
      ctx,
      400,
      "UnsupportedOperation",
      "Structured message bodies are not emulated.",
    );
  }
  if (position < node.content.length) return sendError(ctx, 400, "InvalidFlushPosition");
  node.appends.push({ position, data: new Uint8Array(ctx.body) });
  if (ctx.query.get("flush") === "true") {
    return flush(ctx, node, position + ctx.body.length, 202);
  }
  send(ctx, 202, { "x-ms-request-server-encrypted": "true" });
}

/** Commits the appended data that is contiguous from the end of the file up to `position`. */
function flush(ctx: Ctx, file: FileNode, forced?: number, status = 200): void {
  const position = forced ?? readPosition(ctx);
  if (position === undefined) return sendError(ctx, 400, "InvalidQueryParameterValue");
  const committed = file.content.length;
  if (position < committed) return sendError(ctx, 400, "InvalidFlushPosition");
  const chunks = file.appends.slice().sort((a, b) => a.position - b.position);
  const parts: Uint8Array[] = [];
  let at = committed;
  for (const c of chunks) {
    if (at >= position) break;
    if (c.position > at) break;
    const end = c.position + c.data.length;
    if (end <= at) continue;
    parts.push(c.data.subarray(at - c.position, Math.min(end, position) - c.position));
    at = Math.min(end, position);
  }
  if (at !== position) return sendError(ctx, 400, "InvalidFlushPosition");
  const content = new Uint8Array(position);
  content.set(file.content, 0);
  let offset = committed;
  for (const p of parts) {
    content.set(p, offset);
    offset += p.length;
  }
  file.content = content;
  file.committedBlocks = [];
  if (ctx.query.get("retainuncommitteddata") === "true") {
    file.appends = file.appends.filter((a) => a.position >= position);
  } else {
    file.appends = [];
  }
  applyDfsContentHeaders(ctx, file);
  if (headerValue(ctx, "x-ms-content-md5") === undefined) file.contentMD5 = undefined;
  touch(file);
  send(ctx, status, { ...createdHeaders(file), "Content-Length": 0 });
}

function getPathProperties(ctx: Ctx, ns: Namespace, container: Container, segs: string[]): void {
  const node = ns.lookup(container, segs);
  if (node === undefined) return sendError(ctx, 404, "PathNotFound");
  const action = ctx.query.get("action");
  const outcome = checkRead(node, readConditions(ctx));
  if (outcome === "failed") return sendError(ctx, 412, "ConditionNotMet");
  if (outcome === "notModified") {
    return send(ctx, 304, { "ETag": node.etag, "Last-Modified": node.lastModified.toUTCString() });
  }
  const size = node.kind === "file" ? node.content.length : 0;
  const headers: Record<string, string | number | undefined> = {
    "ETag": node.etag,
    "Last-Modified": node.lastModified.toUTCString(),
    "x-ms-creation-time": node.createdAt.toUTCString(),
    "x-ms-resource-type": node.kind,
    "x-ms-owner": OWNER,
    "x-ms-group": OWNER,
    "x-ms-permissions": permissionsOf(node),
    "Content-Length": size,
    "x-ms-server-encrypted": "true",
  };
  if (action === "getAccessControl") {
    headers["x-ms-acl"] = node.kind === "directory"
      ? "user::rwx,group::r-x,other::---"
      : "user::rw-,group::r--,other::---";
  } else {
    headers["x-ms-properties"] = formatDfsProperties(node.metadata);
    headers["Accept-Ranges"] = "bytes";
    if (node.kind === "file") {
      headers["Content-Type"] = node.contentType ?? "application/octet-stream";
      headers["Content-Encoding"] = node.contentEncoding;
      headers["Content-Language"] = node.contentLanguage;
      headers["Content-Disposition"] = node.contentDisposition;
      headers["Cache-Control"] = node.cacheControl;
      headers["Content-MD5"] = node.contentMD5;
    }
  }
  send(ctx, 200, headers);
}

function deletePath(ctx: Ctx, ns: Namespace, container: Container, segs: string[]): void {
  if (segs.length === 0) return sendError(ctx, 400, "InvalidUri");
  const node = ns.lookup(container, segs);
  if (node === undefined) return sendError(ctx, 404, "PathNotFound");
  if (checkWrite(node, readConditions(ctx)) !== "ok") return sendError(ctx, 412, "ConditionNotMet");
  const recursive = ctx.query.get("recursive") === "true";
  if (node.kind === "directory" && node.children.size > 0 && !recursive) {
    return sendError(ctx, 409, "DirectoryNotEmpty");
  }
  ns.detach(container, segs);
  const prefix = segs.join("/");
  for (const key of [...container.stagedBlocks.keys()]) {
    if (key === prefix || key.startsWith(prefix + "/")) container.stagedBlocks.delete(key);
  }
  send(ctx, 200, { "x-ms-delete-type-permanent": "true" });
}

function encodeToken(path: string): string {
  return Buffer.from(`path:${path}`, "utf8").toString("base64");
}

function decodeToken(token: string): string | undefined {
  const text = Buffer.from(token, "base64").toString("utf8");
  return text.startsWith("path:") ? text.slice(5) : undefined;
}

function listPaths(ctx: Ctx, ns: Namespace, container: Container): void {
  const q = ctx.query;
  const recursiveRaw = q.get("recursive");
  if (recursiveRaw === undefined) return sendError(ctx, 400, "MissingRequiredQueryParameter");
  const recursive = recursiveRaw === "true";
  const maxRaw = q.get("maxresults");
  const max = maxRaw === undefined ? 5000 : Number(maxRaw);
  if (!Number.isInteger(max) || max < 1) return sendError(ctx, 400, "InvalidQueryParameterValue");
  const directory = q.get("directory") ?? "";
  const dirSegs = segmentsOf(directory);
  const start = ns.lookup(container, dirSegs);
  if (start === undefined || start.kind !== "directory") return sendError(ctx, 404, "PathNotFound");
  const entries: WalkEntry[] = [];
  walk(start, dirSegs.join("/"), recursive, entries);
  let from = 0;
  const token = q.get("continuation");
  if (token !== undefined && token !== "") {
    const resume = decodeToken(token);
    if (resume === undefined) return sendError(ctx, 400, "InvalidQueryParameterValue");
    from = entries.findIndex((e) => e.path === resume);
    if (from < 0) {
      // the entry was deleted meanwhile: resume at the first entry after it in walk order
      from = entries.findIndex((e) => e.path > resume);
      if (from < 0) from = entries.length;
    }
  }
  const page = entries.slice(from, from + max);
  const next = entries[from + max];
  const paths = page.map(({ path, node }) => {
    const item: Record<string, string> = { name: path };
    if (node.kind === "directory") item.isDirectory = "true";
    item.contentLength = String(node.kind === "file" ? node.content.length : 0);
    item.lastModified = node.lastModified.toUTCString();
    item.etag = node.etag.replace(/^"(.*)"$/, "$1");
    item.owner = OWNER;
    item.group = OWNER;
    item.permissions = permissionsOf(node);
    item.creationTime = windowsFileTime(node.createdAt);
    return item;
  });
  send(
    ctx,
    200,
    {
      "Content-Type": "application/json;charset=utf-8",
      "ETag": container.etag,
      "Last-Modified": container.lastModified.toUTCString(),
      "x-ms-continuation": next === undefined ? undefined : encodeToken(next.path),
    },
    JSON.stringify({ paths }),
  );
}
