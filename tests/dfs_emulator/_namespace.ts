/**
 * In-memory hierarchical namespace shared by the Blob and the DFS API of the
 * emulator: one tree per container, directories are real nodes.
 *
 * @module
 */

/** Content and system properties of a file (HNS leaf). */
export interface FileNode {
  kind: "file";
  content: Uint8Array;
  contentType?: string;
  contentEncoding?: string;
  contentLanguage?: string;
  contentDisposition?: string;
  cacheControl?: string;
  /** base64 MD5 of the whole content, when the writer supplied or the service computed one */
  contentMD5?: string;
  metadata: Record<string, string>;
  etag: string;
  lastModified: Date;
  createdAt: Date;
  /** committed block list of a block blob (ids and sizes), in order */
  committedBlocks: { id: string; data: Uint8Array }[];
  /** DFS appends not yet flushed */
  appends: { position: number; data: Uint8Array }[];
  copy?: {
    id: string;
    source: string;
    status: "success";
    progress: string;
    completedOn: Date;
  };
}

/** A directory; children are keyed by one path segment. */
export interface DirNode {
  kind: "directory";
  children: Map<string, PathNode>;
  metadata: Record<string, string>;
  etag: string;
  lastModified: Date;
  createdAt: Date;
}

export type PathNode = FileNode | DirNode;

/** A container (blob API) is a filesystem (DFS API). */
export interface Container {
  name: string;
  root: DirNode;
  metadata: Record<string, string>;
  etag: string;
  lastModified: Date;
  /** uncommitted blocks of Put Block, per blob path */
  stagedBlocks: Map<string, Map<string, Uint8Array>>;
}

let etagCounter = 0;
const etagBase = BigInt(Date.now()) * 10000n + 116444736000000000n;

/** A fresh quoted ETag in the service's `"0x8D..."` style. */
export function newEtag(): string {
  etagCounter += 1;
  const value = etagBase + BigInt(etagCounter);
  return `"0x${value.toString(16).toUpperCase()}"`;
}

/** Windows file time (100 ns ticks since 1601) as decimal string, as DFS listings report it. */
export function windowsFileTime(date: Date): string {
  return (BigInt(date.getTime()) * 10000n + 116444736000000000n).toString();
}

export function newDir(metadata: Record<string, string> = {}): DirNode {
  const now = new Date();
  return {
    kind: "directory",
    children: new Map(),
    metadata,
    etag: newEtag(),
    lastModified: now,
    createdAt: now,
  };
}

export function newFile(content: Uint8Array = new Uint8Array(0)): FileNode {
  const now = new Date();
  return {
    kind: "file",
    content,
    metadata: {},
    etag: newEtag(),
    lastModified: now,
    createdAt: now,
    committedBlocks: [],
    appends: [],
  };
}

/** Marks a node as modified now (new ETag, new Last-Modified). */
export function touch(node: PathNode | Container): void {
  node.etag = newEtag();
  node.lastModified = new Date();
}

/** Splits a decoded path into its segments (empty segments dropped). */
export function segmentsOf(path: string): string[] {
  return path.split("/").filter((s) => s !== "");
}

/** Result of walking to the parent of a path. */
export type ParentLookup =
  | { kind: "ok"; parent: DirNode; missing: string[] }
  | { kind: "fileInTheWay"; at: string };

/** The account: a set of containers. */
export class Namespace {
  readonly containers: Map<string, Container> = new Map();

  createContainer(name: string, metadata: Record<string, string> = {}): Container | undefined {
    if (this.containers.has(name)) return undefined;
    const now = new Date();
    const container: Container = {
      name,
      root: newDir(),
      metadata,
      etag: newEtag(),
      lastModified: now,
      stagedBlocks: new Map(),
    };
    this.containers.set(name, container);
    return container;
  }

  /** The node at `segments`, or undefined (also when an ancestor is a file). */
  lookup(container: Container, segments: readonly string[]): PathNode | undefined {
    let node: PathNode = container.root;
    for (const seg of segments) {
      if (node.kind !== "directory") return undefined;
      const next: PathNode | undefined = node.children.get(seg);
      if (next === undefined) return undefined;
      node = next;
    }
    return node;
  }

  /**
   * Walks to the parent directory of `segments` without changing anything.
   * `missing` lists the ancestor segments that do not exist yet (they would be
   * created implicitly by a write).
   */
  findParent(container: Container, segments: readonly string[]): ParentLookup {
    let dir: DirNode = container.root;
    for (let i = 0; i < segments.length - 1; i++) {
      const seg = segments[i]!;
      const next = dir.children.get(seg);
      if (next === undefined) {
        return { kind: "ok", parent: dir, missing: segments.slice(i, segments.length - 1) };
      }
      if (next.kind === "file") {
        return { kind: "fileInTheWay", at: segments.slice(0, i + 1).join("/") };
      }
      dir = next;
    }
    return { kind: "ok", parent: dir, missing: [] };
  }

  /** Creates the missing ancestors found by {@link findParent}; returns the direct parent. */
  materializeParent(lookup: { parent: DirNode; missing: string[] }): DirNode {
    let dir = lookup.parent;
    for (const seg of lookup.missing) {
      const created = newDir();
      dir.children.set(seg, created);
      dir = created;
    }
    return dir;
  }

  /** Detaches the node at `segments` from its parent; returns it. */
  detach(container: Container, segments: readonly string[]): PathNode | undefined {
    if (segments.length === 0) return undefined;
    const parent = this.lookup(container, segments.slice(0, -1));
    if (parent === undefined || parent.kind !== "directory") return undefined;
    const name = segments[segments.length - 1]!;
    const node = parent.children.get(name);
    if (node !== undefined) parent.children.delete(name);
    return node;
  }
}

/** One entry of a walk: full path (no leading slash) and node. */
export interface WalkEntry {
  path: string;
  node: PathNode;
}

/**
 * Depth-first pre-order walk below `dir` (children sorted by name), as the
 * DFS Path - List operation returns them.
 */
export function walk(dir: DirNode, base: string, recursive: boolean, out: WalkEntry[]): void {
  const names = [...dir.children.keys()].sort(compareNames);
  for (const name of names) {
    const node = dir.children.get(name)!;
    const path = base === "" ? name : `${base}/${name}`;
    out.push({ path, node });
    if (recursive && node.kind === "directory") walk(node, path, true, out);
  }
}

/** All paths of a container sorted by full name, as the Blob List Blobs operation returns them. */
export function flatSorted(container: Container): WalkEntry[] {
  const out: WalkEntry[] = [];
  walk(container.root, "", true, out);
  out.sort((a, b) => compareNames(a.path, b.path));
  return out;
}

/** Ordinal comparison of names (UTF-16 code units). */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
