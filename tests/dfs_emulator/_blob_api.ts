/**
 * The Blob REST API subset, served over the hierarchical namespace: account
 * information, containers, block blobs (Put Blob, Put Block, Put Block List,
 * Get Block List), Get Blob, Get Blob Properties, Set Blob Metadata, Set Blob
 * Properties, Delete Blob, Copy Blob (synchronous) and List Blobs.
 *
 * HNS specifics: directories are listed as zero-length blobs with metadata
 * `hdi_isfolder=true`; writing `a/b/c` creates `a` and `a/b`; deleting a
 * non-empty directory fails.
 *
 * @module
 */

import { createHash, randomUUID } from "node:crypto";
import { Buffer } from "node:buffer";
import {
  checkRead,
  checkWrite,
  type Conditions,
  containerHeaders,
  type Ctx,
  headerValue,
  md5Mismatch,
  metadataFromHeaders,
  OWNER,
  permissionsOf,
  readConditions,
  readRange,
  safeDecode,
  send,
  sendError,
  xmlEscape,
} from "./_http.ts";
import {
  type Container,
  type FileNode,
  flatSorted,
  type Namespace,
  newDir,
  newFile,
  type PathNode,
  segmentsOf,
  touch,
} from "./_namespace.ts";

/** Account properties reported by Get Account Information. */
export function accountInfo(ctx: Ctx): void {
  send(ctx, 200, {
    "x-ms-sku-name": "Standard_LRS",
    "x-ms-account-kind": "StorageV2",
    "x-ms-is-hns-enabled": "true",
  });
}

function md5(data: Uint8Array): string {
  return createHash("md5").update(data).digest("base64");
}

function unsupported(ctx: Ctx): void {
  sendError(
    ctx,
    400,
    "UnsupportedOperation",
    `The DFS emulator does not implement ${ctx.method} ${ctx.rawPath}?${ctx.rawQuery} on the Blob API.`,
  );
}

/** Entry point for requests classified as Blob API. */
export function handleBlob(ctx: Ctx, ns: Namespace): void {
  const q = ctx.query;
  const restype = q.get("restype");
  const comp = q.get("comp");
  if (
    restype === "account" && comp === "properties" &&
    (ctx.method === "GET" || ctx.method === "HEAD")
  ) {
    return accountInfo(ctx);
  }
  if (ctx.container === "") {
    if (ctx.method === "GET" && comp === "list") return listContainers(ctx, ns);
    return unsupported(ctx);
  }
  if (ctx.path === "") {
    if (restype !== "container") return unsupported(ctx);
    if (ctx.method === "PUT" && comp === undefined) return createContainer(ctx, ns);
    const container = ns.containers.get(ctx.container);
    if (container === undefined) return sendError(ctx, 404, "ContainerNotFound");
    if (ctx.method === "DELETE" && comp === undefined) {
      ns.containers.delete(ctx.container);
      return send(ctx, 202);
    }
    if ((ctx.method === "GET" || ctx.method === "HEAD") && comp === undefined) {
      return send(ctx, 200, {
        ...containerHeaders(container),
        "x-ms-lease-status": "unlocked",
        "x-ms-lease-state": "available",
        "x-ms-has-immutability-policy": "false",
        "x-ms-has-legal-hold": "false",
        "x-ms-default-encryption-scope": "$account-encryption-key",
        "x-ms-deny-encryption-scope-override": "false",
      });
    }
    if (ctx.method === "PUT" && comp === "metadata") {
      container.metadata = metadataFromHeaders(ctx);
      touch(container);
      return send(ctx, 200, {
        "ETag": container.etag,
        "Last-Modified": container.lastModified.toUTCString(),
      });
    }
    if (ctx.method === "GET" && comp === "list") return listBlobs(ctx, container);
    return unsupported(ctx);
  }
  const container = ns.containers.get(ctx.container);
  if (container === undefined) return sendError(ctx, 404, "ContainerNotFound");
  const segs = segmentsOf(ctx.path);
  switch (ctx.method) {
    case "PUT":
      if (comp === "block") return putBlock(ctx, container, segs);
      if (comp === "blocklist") return putBlockList(ctx, ns, container, segs);
      if (comp === "metadata") return setMetadata(ctx, ns, container, segs);
      if (comp === "properties") return setHttpHeaders(ctx, ns, container, segs);
      if (comp === undefined && headerValue(ctx, "x-ms-copy-source") !== undefined) {
        return copyBlob(ctx, ns, container, segs);
      }
      if (comp === undefined) return putBlob(ctx, ns, container, segs);
      return unsupported(ctx);
    case "GET":
    case "HEAD":
      if (comp === "blocklist" && ctx.method === "GET") {
        return getBlockList(ctx, ns, container, segs);
      }
      if (comp === undefined) return getBlob(ctx, ns, container, segs);
      return unsupported(ctx);
    case "DELETE":
      if (comp === undefined) return deleteBlob(ctx, ns, container, segs);
      return unsupported(ctx);
    default:
      return unsupported(ctx);
  }
}

function createContainer(ctx: Ctx, ns: Namespace): void {
  const created = ns.createContainer(ctx.container, metadataFromHeaders(ctx));
  if (created === undefined) return sendError(ctx, 409, "ContainerAlreadyExists");
  send(ctx, 201, { "ETag": created.etag, "Last-Modified": created.lastModified.toUTCString() });
}

function listContainers(ctx: Ctx, ns: Namespace): void {
  const prefix = ctx.query.get("prefix") ?? "";
  const max = Number(ctx.query.get("maxresults") ?? "5000") || 5000;
  const marker = ctx.query.get("marker") ?? "";
  const include = (ctx.query.get("include") ?? "").split(",");
  const names = [...ns.containers.keys()].filter((n) => n.startsWith(prefix) && n >= marker).sort();
  const page = names.slice(0, max);
  const next = names[max];
  let xml = `<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint="${
    xmlEscape(ctx.baseUrl + "/")
  }"><Prefix>${xmlEscape(prefix)}</Prefix><Marker>${
    xmlEscape(marker)
  }</Marker><MaxResults>${max}</MaxResults><Containers>`;
  for (const name of page) {
    const c = ns.containers.get(name)!;
    xml += `<Container><Name>${
      xmlEscape(name)
    }</Name><Properties><Last-Modified>${c.lastModified.toUTCString()}</Last-Modified><Etag>${
      xmlEscape(c.etag)
    }</Etag><LeaseStatus>unlocked</LeaseStatus><LeaseState>available</LeaseState><HasImmutabilityPolicy>false</HasImmutabilityPolicy><HasLegalHold>false</HasLegalHold></Properties>`;
    if (include.includes("metadata")) xml += metadataXml(c.metadata);
    xml += `</Container>`;
  }
  xml += `</Containers><NextMarker>${
    next === undefined ? "" : xmlEscape(next)
  }</NextMarker></EnumerationResults>`;
  send(ctx, 200, { "Content-Type": "application/xml" }, xml);
}

function metadataXml(metadata: Record<string, string>): string {
  let xml = "<Metadata>";
  for (const [k, v] of Object.entries(metadata)) xml += `<${k}>${xmlEscape(v)}</${k}>`;
  return xml + "</Metadata>";
}

/** Metadata as the Blob API shows it: directories carry `hdi_isfolder=true`. */
function blobMetadata(node: PathNode): Record<string, string> {
  return node.kind === "directory" ? { hdi_isfolder: "true", ...node.metadata } : node.metadata;
}

function contentOf(node: PathNode): Uint8Array {
  return node.kind === "file" ? node.content : new Uint8Array(0);
}

/** Headers describing a blob in Get Blob / Get Blob Properties. */
function blobHeaders(node: PathNode): Record<string, string | undefined> {
  const h: Record<string, string | undefined> = {
    "ETag": node.etag,
    "Last-Modified": node.lastModified.toUTCString(),
    "x-ms-creation-time": node.createdAt.toUTCString(),
    "x-ms-blob-type": "BlockBlob",
    "x-ms-lease-state": "available",
    "x-ms-lease-status": "unlocked",
    "x-ms-server-encrypted": "true",
    "x-ms-access-tier": "Hot",
    "x-ms-access-tier-inferred": "true",
    "x-ms-owner": OWNER,
    "x-ms-group": OWNER,
    "x-ms-permissions": permissionsOf(node),
    "Accept-Ranges": "bytes",
    "Content-Type": node.kind === "file"
      ? node.contentType ?? "application/octet-stream"
      : "application/octet-stream",
  };
  if (node.kind === "file") {
    h["Content-Encoding"] = node.contentEncoding;
    h["Content-Language"] = node.contentLanguage;
    h["Content-Disposition"] = node.contentDisposition;
    h["Cache-Control"] = node.cacheControl;
    if (node.copy !== undefined) {
      h["x-ms-copy-id"] = node.copy.id;
      h["x-ms-copy-source"] = node.copy.source;
      h["x-ms-copy-status"] = node.copy.status;
      h["x-ms-copy-progress"] = node.copy.progress;
      h["x-ms-copy-completion-time"] = node.copy.completedOn.toUTCString();
    }
  }
  for (const [k, v] of Object.entries(blobMetadata(node))) h[`x-ms-meta-${k}`] = v;
  return h;
}

/** Get Blob / Get Blob Properties (also serves DFS Path Read). */
export function getBlob(ctx: Ctx, ns: Namespace, container: Container, segs: string[]): void {
  const node = ns.lookup(container, segs);
  if (node === undefined || segs.length === 0) return sendError(ctx, 404, notFoundCode(ctx));
  const outcome = checkRead(node, readConditions(ctx));
  if (outcome === "failed") return sendError(ctx, 412, "ConditionNotMet");
  if (outcome === "notModified") {
    return send(ctx, 304, { "ETag": node.etag, "Last-Modified": node.lastModified.toUTCString() });
  }
  const content = contentOf(node);
  const headers = blobHeaders(node);
  const md5Value = node.kind === "file" ? node.contentMD5 : undefined;
  const size = content.length;
  const range = readRange(ctx);
  if (ctx.method === "HEAD") {
    return send(ctx, 200, { ...headers, "Content-Length": size, "Content-MD5": md5Value });
  }
  if (range !== undefined && size > 0) {
    if (range.start >= size) {
      return sendError(ctx, 416, "InvalidRange", undefined);
    }
    const end = Math.min(range.end ?? size - 1, size - 1);
    const slice = content.subarray(range.start, end + 1);
    return send(
      ctx,
      206,
      {
        ...headers,
        "Content-Range": `bytes ${range.start}-${end}/${size}`,
        "x-ms-blob-content-md5": md5Value,
      },
      slice,
    );
  }
  send(ctx, 200, { ...headers, "Content-MD5": md5Value }, content);
}

function notFoundCode(ctx: Ctx): string {
  return ctx.api === "dfs" ? "PathNotFound" : "BlobNotFound";
}

/** Content properties given with `x-ms-blob-*` headers (Put Blob also reads Content-Type). */
function contentProps(ctx: Ctx, fallbackContentType: string | undefined): Partial<FileNode> {
  return {
    contentType: headerValue(ctx, "x-ms-blob-content-type") ?? fallbackContentType ??
      "application/octet-stream",
    contentEncoding: headerValue(ctx, "x-ms-blob-content-encoding"),
    contentLanguage: headerValue(ctx, "x-ms-blob-content-language"),
    contentDisposition: headerValue(ctx, "x-ms-blob-content-disposition"),
    cacheControl: headerValue(ctx, "x-ms-blob-cache-control"),
  };
}

/**
 * Shared write path of Put Blob, Put Block List and Copy Blob: evaluates the
 * destination conditions, refuses to replace a directory or to write below a
 * file, creates missing parent directories, then stores `file`.
 * Returns false when an error response was sent.
 */
function writeBlob(
  ctx: Ctx,
  ns: Namespace,
  container: Container,
  segs: string[],
  conditions: Conditions,
  file: FileNode,
): boolean {
  const existing = ns.lookup(container, segs);
  const outcome = checkWrite(existing, conditions);
  if (outcome === "exists") {
    sendError(ctx, 409, "BlobAlreadyExists");
    return false;
  }
  if (outcome === "failed") {
    sendError(ctx, 412, "ConditionNotMet");
    return false;
  }
  if (existing !== undefined && existing.kind === "directory") {
    // AzCopy users report this code for a file upload onto an existing directory.
    sendError(ctx, 409, "PathConflict");
    return false;
  }
  const parent = ns.findParent(container, segs);
  if (parent.kind === "fileInTheWay") {
    sendError(ctx, 409, "PathConflict");
    return false;
  }
  if (existing !== undefined) file.createdAt = existing.createdAt;
  const dir = ns.materializeParent(parent);
  dir.children.set(segs[segs.length - 1]!, file);
  return true;
}

function putBlob(ctx: Ctx, ns: Namespace, container: Container, segs: string[]): void {
  if (md5Mismatch(ctx)) return sendError(ctx, 400, "Md5Mismatch");
  const blobType = headerValue(ctx, "x-ms-blob-type");
  if (blobType === undefined) return sendError(ctx, 400, "MissingRequiredHeader");
  if (blobType !== "BlockBlob") {
    return sendError(ctx, 400, "UnsupportedOperation", `Blob type ${blobType} is not emulated.`);
  }
  if (headerValue(ctx, "x-ms-structured-body") !== undefined) {
    return sendError(
      ctx,
      400,
      "UnsupportedOperation",
      "Structured message bodies are not emulated.",
    );
  }
  const metadata = metadataFromHeaders(ctx);
  const conditions = readConditions(ctx);
  // A zero-length blob with hdi_isfolder=true creates a directory, as on a real HNS account.
  const folderKey = Object.keys(metadata).find((k) => k.toLowerCase() === "hdi_isfolder");
  if (folderKey !== undefined && metadata[folderKey] === "true" && ctx.body.length === 0) {
    return putFolderBlob(ctx, ns, container, segs, conditions, metadata, folderKey);
  }
  const file = newFile(new Uint8Array(ctx.body));
  Object.assign(file, contentProps(ctx, headerValue(ctx, "content-type")));
  file.metadata = metadata;
  file.contentMD5 = headerValue(ctx, "x-ms-blob-content-md5") ?? md5(file.content);
  file.committedBlocks = [];
  if (!writeBlob(ctx, ns, container, segs, conditions, file)) return;
  container.stagedBlocks.delete(segs.join("/"));
  send(ctx, 201, {
    "ETag": file.etag,
    "Last-Modified": file.lastModified.toUTCString(),
    "Content-MD5": file.contentMD5,
    "x-ms-request-server-encrypted": "true",
  });
}

function putFolderBlob(
  ctx: Ctx,
  ns: Namespace,
  container: Container,
  segs: string[],
  conditions: Conditions,
  metadata: Record<string, string>,
  folderKey: string,
): void {
  const existing = ns.lookup(container, segs);
  const outcome = checkWrite(existing, conditions);
  if (outcome === "exists") return sendError(ctx, 409, "BlobAlreadyExists");
  if (outcome === "failed") return sendError(ctx, 412, "ConditionNotMet");
  if (existing !== undefined && existing.kind === "file") {
    return sendError(ctx, 409, "PathConflict");
  }
  const parent = ns.findParent(container, segs);
  if (parent.kind === "fileInTheWay") return sendError(ctx, 409, "PathConflict");
  const userMeta = { ...metadata };
  delete userMeta[folderKey];
  let dir = existing;
  if (dir === undefined) {
    dir = newDir(userMeta);
    ns.materializeParent(parent).children.set(segs[segs.length - 1]!, dir);
  } else {
    dir.metadata = userMeta;
    touch(dir);
  }
  send(ctx, 201, {
    "ETag": dir.etag,
    "Last-Modified": dir.lastModified.toUTCString(),
    "x-ms-request-server-encrypted": "true",
  });
}

function putBlock(ctx: Ctx, container: Container, segs: string[]): void {
  if (md5Mismatch(ctx)) return sendError(ctx, 400, "Md5Mismatch");
  const blockId = ctx.query.get("blockid");
  if (blockId === undefined || blockId === "") {
    return sendError(ctx, 400, "MissingRequiredQueryParameter");
  }
  if (headerValue(ctx, "x-ms-structured-body") !== undefined) {
    return sendError(
      ctx,
      400,
      "UnsupportedOperation",
      "Structured message bodies are not emulated.",
    );
  }
  const key = segs.join("/");
  let staged = container.stagedBlocks.get(key);
  if (staged === undefined) {
    staged = new Map();
    container.stagedBlocks.set(key, staged);
  }
  const data = new Uint8Array(ctx.body);
  staged.set(blockId, data);
  send(ctx, 201, { "Content-MD5": md5(data), "x-ms-request-server-encrypted": "true" });
}

function putBlockList(ctx: Ctx, ns: Namespace, container: Container, segs: string[]): void {
  if (md5Mismatch(ctx)) return sendError(ctx, 400, "Md5Mismatch");
  const xml = ctx.body.toString("utf8");
  const key = segs.join("/");
  const staged = container.stagedBlocks.get(key) ?? new Map<string, Uint8Array>();
  const existing = ns.lookup(container, segs);
  const committed = existing !== undefined && existing.kind === "file"
    ? existing.committedBlocks
    : [];
  const blocks: { id: string; data: Uint8Array }[] = [];
  const re = /<(Latest|Committed|Uncommitted)>([^<]*)<\/\1>/g;
  for (const m of xml.matchAll(re)) {
    const kind = m[1]!;
    const id = m[2]!.trim();
    let data: Uint8Array | undefined;
    if (kind !== "Committed") data = staged.get(id);
    if (data === undefined && kind !== "Uncommitted") {
      data = committed.find((b) => b.id === id)?.data;
    }
    if (data === undefined) return sendError(ctx, 400, "InvalidBlockList");
    blocks.push({ id, data });
  }
  const total = blocks.reduce((n, b) => n + b.data.length, 0);
  const content = new Uint8Array(total);
  let offset = 0;
  for (const b of blocks) {
    content.set(b.data, offset);
    offset += b.data.length;
  }
  const file = newFile(content);
  Object.assign(file, contentProps(ctx, undefined));
  file.contentMD5 = headerValue(ctx, "x-ms-blob-content-md5");
  file.metadata = metadataFromHeaders(ctx);
  file.committedBlocks = blocks;
  if (!writeBlob(ctx, ns, container, segs, readConditions(ctx), file)) return;
  container.stagedBlocks.delete(key);
  send(ctx, 201, {
    "ETag": file.etag,
    "Last-Modified": file.lastModified.toUTCString(),
    "x-ms-request-server-encrypted": "true",
  });
}

function getBlockList(ctx: Ctx, ns: Namespace, container: Container, segs: string[]): void {
  const type = ctx.query.get("blocklisttype") ?? "committed";
  const node = ns.lookup(container, segs);
  const staged = container.stagedBlocks.get(segs.join("/"));
  if ((node === undefined || node.kind !== "file") && staged === undefined) {
    return sendError(ctx, 404, "BlobNotFound");
  }
  let xml = `<?xml version="1.0" encoding="utf-8"?><BlockList>`;
  if (type === "committed" || type === "all") {
    xml += "<CommittedBlocks>";
    if (node !== undefined && node.kind === "file") {
      for (const b of node.committedBlocks) {
        xml += `<Block><Name>${xmlEscape(b.id)}</Name><Size>${b.data.length}</Size></Block>`;
      }
    }
    xml += "</CommittedBlocks>";
  }
  if (type === "uncommitted" || type === "all") {
    xml += "<UncommittedBlocks>";
    for (const [id, data] of staged ?? []) {
      xml += `<Block><Name>${xmlEscape(id)}</Name><Size>${data.length}</Size></Block>`;
    }
    xml += "</UncommittedBlocks>";
  }
  xml += "</BlockList>";
  const headers: Record<string, string> = { "Content-Type": "application/xml" };
  if (node !== undefined) {
    headers["ETag"] = node.etag;
    headers["Last-Modified"] = node.lastModified.toUTCString();
  }
  send(ctx, 200, headers, xml);
}

function setMetadata(ctx: Ctx, ns: Namespace, container: Container, segs: string[]): void {
  const node = ns.lookup(container, segs);
  if (node === undefined) return sendError(ctx, 404, "BlobNotFound");
  const outcome = checkWrite(node, readConditions(ctx));
  if (outcome !== "ok") return sendError(ctx, 412, "ConditionNotMet");
  const metadata = metadataFromHeaders(ctx);
  if (node.kind === "directory") {
    for (const k of Object.keys(metadata)) {
      if (k.toLowerCase() === "hdi_isfolder") delete metadata[k];
    }
  }
  node.metadata = metadata;
  touch(node);
  send(ctx, 200, {
    "ETag": node.etag,
    "Last-Modified": node.lastModified.toUTCString(),
    "x-ms-request-server-encrypted": "true",
  });
}

function setHttpHeaders(ctx: Ctx, ns: Namespace, container: Container, segs: string[]): void {
  const node = ns.lookup(container, segs);
  if (node === undefined) return sendError(ctx, 404, "BlobNotFound");
  const outcome = checkWrite(node, readConditions(ctx));
  if (outcome !== "ok") return sendError(ctx, 412, "ConditionNotMet");
  if (node.kind === "file") {
    Object.assign(node, contentProps(ctx, undefined));
    node.contentMD5 = headerValue(ctx, "x-ms-blob-content-md5");
  }
  touch(node);
  send(ctx, 200, { "ETag": node.etag, "Last-Modified": node.lastModified.toUTCString() });
}

function deleteBlob(ctx: Ctx, ns: Namespace, container: Container, segs: string[]): void {
  const node = ns.lookup(container, segs);
  if (node === undefined || segs.length === 0) return sendError(ctx, 404, notFoundCode(ctx));
  const outcome = checkWrite(node, readConditions(ctx));
  if (outcome !== "ok") return sendError(ctx, 412, "ConditionNotMet");
  if (node.kind === "directory" && node.children.size > 0) {
    return sendError(ctx, 409, "DirectoryIsNotEmpty");
  }
  ns.detach(container, segs);
  container.stagedBlocks.delete(segs.join("/"));
  send(ctx, 202, { "x-ms-delete-type-permanent": "true" });
}

/** Resolves a copy source URL on this emulator to container + path segments. */
function parseCopySource(
  ctx: Ctx,
  source: string,
): { container: string; segs: string[] } | undefined {
  let url: URL;
  try {
    url = new URL(source);
  } catch {
    return undefined;
  }
  const parts = url.pathname.split("/").slice(1);
  if (parts[0] !== undefined && safeDecode(parts[0]) === ctx.account) parts.shift();
  if (parts.length < 2) return undefined;
  const container = safeDecode(parts[0]!);
  const path = parts.slice(1).map(safeDecode).join("/");
  return { container, segs: segmentsOf(path) };
}

function copyBlob(ctx: Ctx, ns: Namespace, container: Container, segs: string[]): void {
  const source = headerValue(ctx, "x-ms-copy-source")!;
  const parsed = parseCopySource(ctx, source);
  if (parsed === undefined) {
    return sendError(ctx, 400, "InvalidInput", "The copy source URL is invalid.");
  }
  const srcContainer = ns.containers.get(parsed.container);
  const src = srcContainer === undefined ? undefined : ns.lookup(srcContainer, parsed.segs);
  if (src === undefined || parsed.segs.length === 0) {
    return sendError(ctx, 404, "CannotVerifyCopySource");
  }
  const srcOutcome = checkWrite(src, readConditions(ctx, "x-ms-source-"));
  if (srcOutcome !== "ok") return sendError(ctx, 412, "SourceConditionNotMet");
  if (src.kind === "directory") {
    return sendError(ctx, 409, "InvalidSourceBlobType", "The source is a directory.");
  }
  const file = newFile(src.content);
  file.contentType = src.contentType;
  file.contentEncoding = src.contentEncoding;
  file.contentLanguage = src.contentLanguage;
  file.contentDisposition = src.contentDisposition;
  file.cacheControl = src.cacheControl;
  file.contentMD5 = src.contentMD5;
  file.committedBlocks = src.committedBlocks.slice();
  const metadata = metadataFromHeaders(ctx);
  file.metadata = Object.keys(metadata).length > 0 ? metadata : { ...src.metadata };
  const copyId = randomUUID();
  file.copy = {
    id: copyId,
    source,
    status: "success",
    progress: `${src.content.length}/${src.content.length}`,
    completedOn: new Date(),
  };
  if (!writeBlob(ctx, ns, container, segs, readConditions(ctx), file)) return;
  send(ctx, 202, {
    "ETag": file.etag,
    "Last-Modified": file.lastModified.toUTCString(),
    "x-ms-copy-id": copyId,
    "x-ms-copy-status": "success",
  });
}

// ---------------------------------------------------------------------------
// List Blobs

function encodeMarker(key: string): string {
  return "2!" + Buffer.from(key, "utf8").toString("base64url");
}

function decodeMarker(marker: string): string | undefined {
  if (!marker.startsWith("2!")) return undefined;
  return Buffer.from(marker.slice(2), "base64url").toString("utf8");
}

function listBlobs(ctx: Ctx, container: Container): void {
  const q = ctx.query;
  const prefix = q.get("prefix") ?? "";
  const delimiter = q.get("delimiter") ?? "";
  const maxRaw = q.get("maxresults");
  const max = maxRaw === undefined ? 5000 : Number(maxRaw);
  if (!Number.isInteger(max) || max < 1) return sendError(ctx, 400, "InvalidQueryParameterValue");
  const markerRaw = q.get("marker") ?? "";
  let resumeFrom: string | undefined;
  if (markerRaw !== "") {
    resumeFrom = decodeMarker(markerRaw);
    if (resumeFrom === undefined) {
      return sendError(ctx, 400, "OutOfRangeInput", "The specified marker is invalid.");
    }
  }
  const include = (q.get("include") ?? "").split(",").map((s) => s.trim().toLowerCase());
  const withMetadata = include.includes("metadata");

  type Item = { key: string; kind: "blob"; node: PathNode } | { key: string; kind: "prefix" };
  const items: Item[] = [];
  let lastPrefix: string | undefined;
  for (const entry of flatSorted(container)) {
    if (!entry.path.startsWith(prefix)) continue;
    if (delimiter !== "") {
      const rest = entry.path.slice(prefix.length);
      const idx = rest.indexOf(delimiter);
      if (idx >= 0) {
        const p = prefix + rest.slice(0, idx + delimiter.length);
        if (p !== lastPrefix) {
          items.push({ key: p, kind: "prefix" });
          lastPrefix = p;
        }
        continue;
      }
    }
    items.push({ key: entry.path, kind: "blob", node: entry.node });
  }
  const start = resumeFrom === undefined ? 0 : items.findIndex((i) => i.key >= resumeFrom!);
  const from = start < 0 ? items.length : start;
  const page = items.slice(from, from + max);
  const next = items[from + max];

  let xml = `<?xml version="1.0" encoding="utf-8"?><EnumerationResults ServiceEndpoint="${
    xmlEscape(ctx.baseUrl + "/")
  }" ContainerName="${xmlEscape(container.name)}">`;
  if (q.has("prefix")) xml += `<Prefix>${xmlEscape(prefix)}</Prefix>`;
  if (markerRaw !== "") xml += `<Marker>${xmlEscape(markerRaw)}</Marker>`;
  if (maxRaw !== undefined) xml += `<MaxResults>${max}</MaxResults>`;
  if (delimiter !== "") xml += `<Delimiter>${xmlEscape(delimiter)}</Delimiter>`;
  xml += "<Blobs>";
  for (const item of page) {
    if (item.kind === "prefix") {
      xml += `<BlobPrefix><Name>${xmlEscape(item.key)}</Name></BlobPrefix>`;
      continue;
    }
    const node = item.node;
    const size = node.kind === "file" ? node.content.length : 0;
    const contentType = node.kind === "file"
      ? node.contentType ?? "application/octet-stream"
      : "application/octet-stream";
    xml += `<Blob><Name>${xmlEscape(item.key)}</Name><Properties>` +
      `<Creation-Time>${node.createdAt.toUTCString()}</Creation-Time>` +
      `<Last-Modified>${node.lastModified.toUTCString()}</Last-Modified>` +
      `<Etag>${xmlEscape(node.etag.replace(/^"(.*)"$/, "$1"))}</Etag>` +
      `<ResourceType>${node.kind}</ResourceType>` +
      `<Content-Length>${size}</Content-Length>` +
      `<Content-Type>${xmlEscape(contentType)}</Content-Type>`;
    if (node.kind === "file") {
      xml += `<Content-Encoding>${xmlEscape(node.contentEncoding ?? "")}</Content-Encoding>` +
        `<Content-Language>${xmlEscape(node.contentLanguage ?? "")}</Content-Language>` +
        `<Content-CRC64 />` +
        `<Content-MD5>${xmlEscape(node.contentMD5 ?? "")}</Content-MD5>` +
        `<Cache-Control>${xmlEscape(node.cacheControl ?? "")}</Cache-Control>` +
        `<Content-Disposition>${xmlEscape(node.contentDisposition ?? "")}</Content-Disposition>`;
    }
    xml +=
      `<BlobType>BlockBlob</BlobType><AccessTier>Hot</AccessTier><AccessTierInferred>true</AccessTierInferred>` +
      `<LeaseStatus>unlocked</LeaseStatus><LeaseState>available</LeaseState><ServerEncrypted>true</ServerEncrypted>`;
    if (node.kind === "file" && node.copy !== undefined) {
      xml +=
        `<CopyId>${node.copy.id}</CopyId><CopySource>${xmlEscape(node.copy.source)}</CopySource>` +
        `<CopyStatus>${node.copy.status}</CopyStatus><CopyProgress>${node.copy.progress}</CopyProgress>` +
        `<CopyCompletionTime>${node.copy.completedOn.toUTCString()}</CopyCompletionTime>`;
    }
    xml += `</Properties>`;
    if (withMetadata) xml += metadataXml(blobMetadata(node));
    xml += `</Blob>`;
  }
  xml += `</Blobs><NextMarker>${
    next === undefined ? "" : encodeMarker(next.key)
  }</NextMarker></EnumerationResults>`;
  send(ctx, 200, { "Content-Type": "application/xml" }, xml);
}
