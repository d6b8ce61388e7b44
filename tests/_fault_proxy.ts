/**
 * Test harness: the one loopback fault-injection proxy of the test suites,
 * for HTTP/1.1 in front of a server (Azurite or the DFS emulator). It reads
 * each request on a keep-alive connection whole (by `Content-Length` or
 * chunked encoding), so it sees request boundaries, records it, and applies
 * the first armed fault that matches:
 * reset the connection after N response bytes, drop it before forwarding,
 * delay forwarding, stall until released (before forwarding, or after N
 * response bytes), or answer with a synthetic status
 * (500, 503, 429, ...) plus an optional `Retry-After` and an Azure-style XML
 * error body, without forwarding (so nothing happens on the server). Clients
 * do not pipeline, so every response byte after a forwarded request belongs
 * to that request. Runs on Deno, Bun and Node (`node:net` only).
 *
 * @module
 */

import { createServer, Socket } from "node:net";
import { Buffer } from "node:buffer";

/** What to do with a matching request. */
export type FaultAction =
  /** Forward the request, then end the connection after `afterBytes` response bytes (FIN). */
  | { kind: "reset"; afterBytes: number }
  /** Close the connection without forwarding the request (the server never sees it). */
  | { kind: "drop" }
  /** Forward the request after `ms` milliseconds (a number or a function giving one). */
  | { kind: "delay"; ms: number | (() => number) }
  /** Forward nothing until {@link FaultProxy.release} or until the connection closes. */
  | { kind: "stall" }
  /**
   * Forward the request, pass `afterBytes` response bytes, then hold the rest
   * (the connection stays open) until {@link FaultProxy.release} or until it closes.
   */
  | { kind: "stallAfter"; afterBytes: number }
  /** Answer with this status without forwarding; `retryAfter` in seconds. */
  | { kind: "status"; status: number; retryAfter?: number; code?: string };

/** A programmed fault: which requests it matches and how often it fires. */
export interface FaultRule {
  /** HTTP method to match (any when absent). */
  method?: string;
  /** Tested against the request target (path and query). */
  path?: RegExp;
  /** Tested against the request head (request line and headers, as latin1 text). */
  head?: RegExp;
  /** How many matching requests it applies to (default 1; `Infinity` for all). */
  times?: number;
  /** What to do. */
  action: FaultAction;
}

/** One request the proxy saw. */
export interface SeenRequest {
  /** HTTP method. */
  method: string;
  /** Request target (path and query). */
  target: string;
  /** `Date.now()` when the request was complete at the proxy. */
  at: number;
  /** The applied fault's kind, if any. */
  fault?: FaultAction["kind"];
  /** The synthetic status, for `status` faults. */
  status?: number;
  /** Response bytes passed to the client for this request. */
  responseBytes: number;
  /** Whether a `reset` fault cut the connection within this request's response. */
  cut: boolean;
  /** Which client connection (1-based, in order of acceptance) carried it. */
  connection: number;
}

/** A running proxy. */
export interface FaultProxy {
  /** The loopback port clients connect to. */
  readonly port: number;
  /** Every request seen, in order of arrival. */
  readonly requests: SeenRequest[];
  /** Client connections accepted so far. */
  readonly accepted: number;
  /** Client connections currently open. */
  readonly openConnections: number;
  /** Response bytes passed to clients so far, over every request. */
  readonly responseBytes: number;
  /** Requests stalled now (waiting for {@link FaultProxy.release}). */
  readonly stalled: number;
  /** Resolves once at least `count` (default 1) requests are stalled. */
  waitStalled(count?: number): Promise<void>;
  /** The last request of each open client connection (`undefined` when it sent none). */
  lastRequests(): (SeenRequest | undefined)[];
  /** Arms a fault (appended after the armed ones). */
  add(rule: FaultRule): void;
  /** Disarms every fault (stalled requests stay stalled until released). */
  clear(): void;
  /** Forwards every stalled request. */
  release(): void;
  /** Resolves once no client connection is open, or rejects after `timeoutMs`. */
  waitIdle(timeoutMs: number): Promise<void>;
  /** Closes the listener and every connection. */
  stop(): Promise<void>;
}

const REASONS: Record<number, string> = {
  408: "Request Timeout",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

const DEFAULT_CODES: Record<number, string> = {
  429: "TooManyRequests",
  500: "InternalError",
  503: "ServerBusy",
};

/** One complete request at the front of the buffer. */
interface ParsedRequest {
  /** Its length in bytes, body included. */
  length: number;
  method: string;
  target: string;
  /** Request line and headers. */
  head: string;
}

/** Parses one complete request from the front of `buffer`; returns it or -1. */
function requestLength(buffer: Buffer): ParsedRequest | -1 {
  const headEnd = buffer.indexOf("\r\n\r\n");
  if (headEnd < 0) return -1;
  const head = buffer.subarray(0, headEnd).toString("latin1");
  const [requestLine = "", ...lines] = head.split("\r\n");
  const [method = "", target = ""] = requestLine.split(" ");
  let contentLength = 0;
  let chunked = false;
  for (const line of lines) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === "content-length") contentLength = Number(value);
    if (name === "transfer-encoding" && /chunked/i.test(value)) chunked = true;
  }
  let offset = headEnd + 4;
  if (!chunked) {
    return buffer.length >= offset + contentLength
      ? { length: offset + contentLength, method, target, head }
      : -1;
  }
  while (true) {
    const lineEnd = buffer.indexOf("\r\n", offset);
    if (lineEnd < 0) return -1;
    const size = parseInt(buffer.subarray(offset, lineEnd).toString("latin1"), 16);
    offset = lineEnd + 2;
    if (size === 0) {
      // trailers end with an empty line
      const end = buffer.indexOf("\r\n\r\n", offset - 2);
      return end < 0 ? -1 : { length: end + 4, method, target, head };
    }
    offset += size + 2;
    if (buffer.length < offset) return -1;
  }
}

function syntheticResponse(
  method: string,
  status: number,
  retryAfter: number | undefined,
  code: string,
): Buffer {
  const body = method === "HEAD"
    ? ""
    : `<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}` +
      `</Code><Message>Injected by the fault proxy.\nRequestId:fault\nTime:${
        new Date().toISOString()
      }</Message></Error>`;
  const headers = [
    `HTTP/1.1 ${status} ${REASONS[status] ?? "Injected"}`,
    "Content-Type: application/xml",
    `Content-Length: ${Buffer.byteLength(body)}`,
    `x-ms-error-code: ${code}`,
    `x-ms-request-id: ${crypto.randomUUID()}`,
    "x-ms-version: 2025-01-05",
    `Date: ${new Date().toUTCString()}`,
  ];
  if (retryAfter !== undefined) headers.push(`Retry-After: ${retryAfter}`);
  return Buffer.from(`${headers.join("\r\n")}\r\n\r\n${body}`, "latin1");
}

/**
 * Starts a fault proxy on a free loopback port forwarding to `127.0.0.1:targetPort`.
 *
 * @param targetPort The server's port.
 * @returns The proxy.
 */
export function startFaultProxy(targetPort: number): Promise<FaultProxy> {
  const rules: { rule: FaultRule; left: number }[] = [];
  const requests: SeenRequest[] = [];
  const stalled = new Set<() => void>();
  const clients = new Set<Socket>();
  const lastOf = new Map<Socket, SeenRequest>();
  const upstreams = new Set<Socket>();
  const idleWaiters = new Set<() => void>();
  let stallWaiters: { count: number; resolve: () => void }[] = [];
  const notifyStalled = () => {
    stallWaiters = stallWaiters.filter((waiter) => {
      if (stalled.size < waiter.count) return true;
      waiter.resolve();
      return false;
    });
  };
  let accepted = 0;
  let responseBytes = 0;

  const take = ({ method, target, head }: ParsedRequest): FaultAction | undefined => {
    for (const entry of rules) {
      if (entry.left <= 0) continue;
      if (entry.rule.method !== undefined && entry.rule.method !== method) continue;
      if (entry.rule.path !== undefined && !entry.rule.path.test(target)) continue;
      if (entry.rule.head !== undefined && !entry.rule.head.test(head)) continue;
      entry.left--;
      return entry.rule.action;
    }
    return undefined;
  };

  const server = createServer((client) => {
    const connection = ++accepted;
    clients.add(client);
    let upstream: Socket | undefined;
    let buffer: Buffer = Buffer.alloc(0);
    let busy = false; // a request is being handled (held, forwarded or answered)
    let closed = false;
    /** Response bytes left before the connection is cut (for `reset`). */
    let cutAfter: number | undefined;
    /** Response bytes left before the rest of the response is held (for `stallAfter`). */
    let stallAfter: number | undefined;
    /** The response is held (`stallAfter`): a drained client must not restart it. */
    let holding = false;
    /** The request whose response is streaming back. */
    let current: SeenRequest | undefined;

    const close = () => {
      if (closed) return;
      closed = true;
      client.destroy();
      upstream?.destroy();
      clients.delete(client);
      lastOf.delete(client);
      if (upstream) upstreams.delete(upstream);
      if (clients.size === 0) { for (const wake of [...idleWaiters]) wake(); }
    };
    client.on("error", close);
    client.on("close", close);

    const connectUpstream = (): Socket => {
      if (upstream) return upstream;
      const socket = new Socket();
      upstream = socket;
      upstreams.add(socket);
      socket.on("error", close);
      socket.on("close", close);
      socket.on("data", (chunk: Buffer) => {
        if (closed) return;
        if (cutAfter !== undefined && chunk.length >= cutAfter) {
          const head = chunk.subarray(0, cutAfter);
          responseBytes += head.length;
          if (current) {
            current.responseBytes += head.length;
            current.cut = true;
          }
          closed = true;
          socket.destroy();
          upstreams.delete(socket);
          client.end(head, () => {
            client.destroy();
          });
          return;
        }
        if (cutAfter !== undefined) cutAfter -= chunk.length;
        if (stallAfter !== undefined && chunk.length >= stallAfter) {
          const head = chunk.subarray(0, stallAfter);
          const rest = chunk.subarray(stallAfter);
          stallAfter = undefined;
          responseBytes += head.length;
          if (current) current.responseBytes += head.length;
          client.write(head);
          holding = true;
          socket.pause();
          const seen = current;
          const wake = () => {
            stalled.delete(wake);
            holding = false;
            if (closed) return;
            responseBytes += rest.length;
            if (seen) seen.responseBytes += rest.length;
            client.write(rest);
            socket.resume();
          };
          stalled.add(wake);
          client.once("close", () => stalled.delete(wake));
          notifyStalled();
          return;
        }
        if (stallAfter !== undefined) stallAfter -= chunk.length;
        responseBytes += chunk.length;
        if (current) current.responseBytes += chunk.length;
        if (!client.write(chunk)) socket.pause();
      });
      client.on("drain", () => {
        if (!holding) socket.resume();
      });
      socket.connect(targetPort, "127.0.0.1");
      return socket;
    };

    const next = () => {
      if (busy || closed) return;
      const parsed = requestLength(buffer);
      if (parsed === -1) return;
      const raw = buffer.subarray(0, parsed.length);
      buffer = buffer.subarray(parsed.length);
      const { method, target } = parsed;
      const action = take(parsed);
      const seen: SeenRequest = {
        method,
        target,
        at: Date.now(),
        responseBytes: 0,
        cut: false,
        connection,
      };
      lastOf.set(client, seen);
      if (action) seen.fault = action.kind;
      requests.push(seen);
      const forward = () => {
        if (closed) return;
        current = seen;
        connectUpstream().write(raw);
        busy = false; // the response streams back; the client sends the next request after it
        next();
      };
      busy = true;
      cutAfter = undefined;
      stallAfter = undefined;
      switch (action?.kind) {
        case undefined:
          forward();
          return;
        case "reset":
          // 0: the server handles the request, the client sees no byte of the answer.
          cutAfter = action.afterBytes;
          forward();
          return;
        case "stallAfter":
          stallAfter = action.afterBytes;
          forward();
          return;
        case "drop":
          close();
          return;
        case "delay": {
          const ms = typeof action.ms === "function" ? action.ms() : action.ms;
          setTimeout(forward, ms);
          return;
        }
        case "stall": {
          const wake = () => {
            stalled.delete(wake);
            forward();
          };
          stalled.add(wake);
          client.once("close", () => stalled.delete(wake));
          notifyStalled();
          return;
        }
        case "status": {
          seen.status = action.status;
          const code = action.code ?? DEFAULT_CODES[action.status] ?? "InjectedFault";
          client.write(syntheticResponse(method, action.status, action.retryAfter, code));
          busy = false;
          next();
          return;
        }
      }
    };

    client.on("data", (chunk: Buffer) => {
      buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
      next();
    });
  });

  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      resolve({
        port,
        requests,
        get accepted() {
          return accepted;
        },
        get openConnections() {
          return clients.size;
        },
        get responseBytes() {
          return responseBytes;
        },
        get stalled() {
          return stalled.size;
        },
        waitStalled(count = 1) {
          return new Promise<void>((resolve) => {
            stallWaiters.push({ count, resolve });
            notifyStalled();
          });
        },
        lastRequests() {
          return [...clients].map((client) => lastOf.get(client));
        },
        add(rule: FaultRule) {
          rules.push({ rule, left: rule.times ?? 1 });
        },
        clear() {
          rules.length = 0;
        },
        release() {
          for (const wake of [...stalled]) wake();
        },
        waitIdle(timeoutMs: number) {
          if (clients.size === 0) return Promise.resolve();
          return new Promise<void>((done, fail) => {
            const wake = () => {
              clearTimeout(timer);
              idleWaiters.delete(wake);
              done();
            };
            const timer = setTimeout(() => {
              idleWaiters.delete(wake);
              fail(new Error(`${clients.size} client connection(s) still open`));
            }, timeoutMs);
            idleWaiters.add(wake);
          });
        },
        stop() {
          stalled.clear();
          for (const socket of [...clients, ...upstreams]) socket.destroy();
          clients.clear();
          upstreams.clear();
          return new Promise<void>((done) => server.close(() => done()));
        },
      });
    });
  });
}
